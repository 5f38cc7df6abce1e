//! [`Module`]: a model's configuration as a value, with Flax's `init` and `apply`.

use std::cell::RefCell;
use std::fmt;
use std::hash::Hash;
use std::rc::Rc;

use super::filter::Filter;
use super::frame::Frame;
use super::rngs::Rngs;
use super::scope::Scope;
use super::variables::Variables;
use crate::error::{Error, Result};
use crate::trace::context;

/// A module: plain configuration (`Hash + Eq`, so equal modules share compiled code) whose methods take a
/// [`Scope`]. `#[derive(Module)]` implements it, with `Hash`/`Eq` comparing floats by bit pattern.
///
/// ```
/// use jit_runtime::lift::{Module, Scope};
/// use jit_runtime::{random, DType, Shape, Tensor};
///
/// // `#[derive(Module)]` writes this (and `Hash`/`Eq` with floats by bit pattern).
/// #[derive(Clone, Debug, PartialEq, Eq, Hash)]
/// struct Scale { init: i32 }
/// impl Module for Scale { const NAME: &'static str = "Scale"; }
///
/// impl Scale {
///     fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
///         let v = self.init as f64;
///         let s = cx.param("s", move |_: &Tensor, sh: &Shape, dt: DType| Tensor::full(dt, sh.clone(), v), [1]);
///         x * &s
///     }
/// }
///
/// let m = Scale { init: 2 };
/// let x = Tensor::full(DType::F32, [3], 1.5);
/// let vars = m.init(random::key(0), |m, cx| m.forward(cx, &x))?;             // Flax: m.init(key, x)
/// assert_eq!(vars.get("params", "s").unwrap().to_vec::<f32>()?, vec![2.0]);
/// let (y, _) = m.apply(&vars).call(|m, cx| m.forward(cx, &x))?;              // Flax: m.apply(vars, x)
/// assert_eq!(y.to_vec::<f32>()?, vec![3.0; 3]);
/// # Ok::<(), jit_runtime::Error>(())
/// ```
pub trait Module: Clone + fmt::Debug + Hash + Eq + Send + Sync + 'static {
    /// The type's name, used for automatic child names (`Dense_0`).
    const NAME: &'static str;

    /// Runs `f` with every collection mutable and `rngs` as the PRNG streams (a single key is the `params` stream)
    /// and returns the variables it created, as Flax's `module.init(rngs, ...)`.
    fn init<R>(&self, rngs: impl Into<Rngs>, f: impl FnOnce(&Self, &mut Scope) -> R) -> Result<Variables> {
        self.init_with_output(rngs, f).map(|(_, v)| v)
    }

    /// [`init`](Module::init), also returning `f`'s result (Flax's `init_with_output`).
    fn init_with_output<R>(
        &self,
        rngs: impl Into<Rngs>,
        f: impl FnOnce(&Self, &mut Scope) -> R,
    ) -> Result<(R, Variables)> {
        run_root(self, Variables::new(), rngs.into(), Filter::All, true, f)
    }

    /// Starts an `apply` with `variables` (Flax's `module.apply(variables, ...)`): set streams with
    /// [`rngs`](Apply::rngs), writable collections with [`mutable`](Apply::mutable), then [`call`](Apply::call).
    fn apply<'a>(&'a self, variables: &Variables) -> Apply<'a, Self> {
        Apply { module: self, variables: variables.clone(), rngs: Rngs::new(), mutable: Filter::Nothing }
    }
}

/// An `apply` being set up: see [`Module::apply`].
#[must_use = "an apply does nothing until `.call(...)`"]
pub struct Apply<'a, M> {
    module: &'a M,
    variables: Variables,
    rngs: Rngs,
    mutable: Filter,
}

impl<M: Module> Apply<'_, M> {
    /// The PRNG streams (Flax's `rngs={'dropout': key}`).
    pub fn rngs(mut self, rngs: impl Into<Rngs>) -> Self {
        self.rngs = rngs.into();
        self
    }

    /// The collections the call may write (Flax's `mutable=['batch_stats']`; `true` for all).
    pub fn mutable(mut self, mutable: impl Into<Filter>) -> Self {
        self.mutable = mutable.into();
        self
    }

    /// Runs `f` on the module at the root scope and returns its result and the mutable collections after the call
    /// (empty when nothing is mutable), as Flax's `y, updates = module.apply(..., mutable=[...])`.
    pub fn call<R>(self, f: impl FnOnce(&M, &mut Scope) -> R) -> Result<(R, Variables)> {
        run_root(self.module, self.variables, self.rngs, self.mutable, false, f)
    }
}

fn run_root<M, R>(
    module: &M,
    variables: Variables,
    rngs: Rngs,
    mutable: Filter,
    initializing: bool,
    f: impl FnOnce(&M, &mut Scope) -> R,
) -> Result<(R, Variables)> {
    for (name, key) in rngs.names().into_iter().zip(rngs.names().iter().filter_map(|n| rngs.get(n))) {
        if let Some(e) = key.error() {
            return Err(e.clone());
        }
        if key.dtype() != crate::DType::U32 || key.dims() != [2] {
            return Err(Error::invalid_argument(format!(
                "the key of stream `{name}` must be u32[2], got {}",
                key.ty()
            )));
        }
    }
    let frame = Rc::new(RefCell::new(Frame::root(variables, rngs.into_map(), mutable.clone(), initializing)));
    let mut scope = Scope::new(Rc::clone(&frame), Vec::new());
    let (out, first_error) = context::first_error_of(|| f(module, &mut scope));
    drop(scope);
    let frame = frame.borrow();
    if let Some(e) = first_error.or_else(|| frame.error.clone()) {
        return Err(e);
    }
    // Every failed op or scope call inside `f` was noted (`first_error`), so `out` holds no error made here.
    Ok((out, frame.vars.filter(&mutable)))
}
