//! [`jit`]: staging plain Rust closures, JAX's `jax.jit` for functions.

use std::cell::Cell;
use std::sync::Arc;

use super::args::{Arg, Output};
use super::key::{CacheKey, KeyPart};
use super::staged::{CallInputs, Compiled, StagedFunction, call_error};
use crate::backend::Device;
use crate::error::{Error, Result};
use crate::ir::{Graph, TensorType};
use crate::trace::{Tensor, context, is_tracing};

thread_local! {
    static JIT_DISABLED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with jit disabled on this thread: jitted functions run their bodies eagerly, op by op (as
/// `jax.disable_jit()`), which helps debugging; results are the same.
pub fn disable_jit<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            JIT_DISABLED.with(|d| d.set(self.0));
        }
    }
    let _restore = Restore(JIT_DISABLED.with(|d| d.replace(true)));
    f()
}

/// True inside [`disable_jit`].
pub fn jit_disabled() -> bool {
    JIT_DISABLED.with(Cell::get)
}

/// The argument tuple of a jitted function: `(A,)`, `(A, B)`, ... of [`Arg`]s.
pub trait Args: Clone {
    /// Number of arguments.
    const LEN: usize;
    /// Visits each argument as a `&dyn` view.
    fn each(&self, f: &mut dyn FnMut(usize, &dyn ArgView) -> Result<()>) -> Result<()>;
    /// Rebuilds the tuple with dynamic arguments taken from `leaves` and static ones cloned.
    fn rebuild(&self, is_static: &[bool], leaves: &mut dyn Iterator<Item = Tensor>) -> Self;
}

/// An argument seen through a trait object.
pub trait ArgView {
    /// See [`Arg::flatten`].
    fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<(), String>;
    /// See [`Arg::to_static`].
    fn to_static(&self) -> Result<super::StaticValue, String>;
}

impl<T: Arg> ArgView for T {
    fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<(), String> {
        Arg::flatten(self, leaves, tree)
    }
    fn to_static(&self) -> Result<super::StaticValue, String> {
        Arg::to_static(self)
    }
}

/// A closure that can be jitted with the argument tuple `A`.
pub trait JitFn<A: Args> {
    /// What it returns.
    type Out: Output;
    /// Calls it with the tuple's elements as arguments.
    fn invoke(&self, args: A) -> Self::Out;
}

macro_rules! arity {
    ($n:expr; $($name:ident $idx:tt),+) => {
        impl<$($name: Arg),+> Args for ($($name,)+) {
            const LEN: usize = $n;
            fn each(&self, f: &mut dyn FnMut(usize, &dyn ArgView) -> Result<()>) -> Result<()> {
                $(f($idx, &self.$idx)?;)+
                Ok(())
            }
            fn rebuild(&self, is_static: &[bool], leaves: &mut dyn Iterator<Item = Tensor>) -> Self {
                ($(if is_static.get($idx).copied().unwrap_or(false) { self.$idx.clone() } else { self.$idx.unflatten(leaves) },)+)
            }
        }
        impl<Func, Out: Output, $($name: Arg),+> JitFn<($($name,)+)> for Func
        where
            Func: Fn($($name),+) -> Out,
        {
            type Out = Out;
            fn invoke(&self, args: ($($name,)+)) -> Out {
                (self)($(args.$idx),+)
            }
        }
    };
}
arity!(1; A0 0);
arity!(2; A0 0, A1 1);
arity!(3; A0 0, A1 1, A2 2);
arity!(4; A0 0, A1 1, A2 2, A3 3);
arity!(5; A0 0, A1 1, A2 2, A3 3, A4 4);
arity!(6; A0 0, A1 1, A2 2, A3 3, A4 4, A5 5);

/// A jitted function: `jit(f)` stages `f` on first call per signature and runs the compiled program afterwards.
///
/// Arguments are passed as a tuple. Which are static (`static_argnums`) and donated (`donate_argnums`) is set with
/// the builder methods; indices count from 0.
///
/// ```
/// use jit_runtime::jit::jit;
/// use jit_runtime::{Tensor, DType};
///
/// let f = jit(|x: Tensor, n: usize| x.integer_pow(n as i32) + 1.0).static_argnums([1]);
/// let x = Tensor::full(DType::F32, [8], 2.0);
/// assert_eq!(f.call((x.clone(), 3))?.to_vec::<f32>()?, vec![9.0; 8]);
/// f.call((x.clone(), 3))?;                     // cached: no new trace
/// assert_eq!(f.trace_count(), 1);
/// f.call((x, 2))?;                             // new static value: traced again
/// assert_eq!(f.trace_count(), 2);
/// assert!(f.explain_last_miss().unwrap().contains("static argument 1: 3 became 2"));
/// # Ok::<(), jit_runtime::Error>(())
/// ```
pub struct Jit<F> {
    f: F,
    staged: Arc<StagedFunction>,
    static_argnums: Vec<usize>,
    donate_argnums: Vec<usize>,
    backend: Option<String>,
    device: Option<String>,
    name: String,
}

/// Stages `f`: see [`Jit`].
pub fn jit<F>(f: F) -> Jit<F> {
    let name = function_name(std::any::type_name::<F>());
    Jit {
        f,
        staged: Arc::new(StagedFunction::new(name.clone(), None, None)),
        static_argnums: Vec::new(),
        donate_argnums: Vec::new(),
        backend: None,
        device: None,
        name,
    }
}

/// The name of a function item (`my_crate::model::step` gives `step`) or, for a closure, of the function it is
/// written in (`my_crate::train::{{closure}}` gives `train`), from its type name. Generic arguments are dropped and
/// `::` inside them (`step<alloc::vec::Vec<f32>>`) does not split the path.
fn function_name(type_name: &str) -> String {
    let mut segments = vec![String::new()];
    let mut depth = 0usize;
    let mut chars = type_name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            ':' if depth == 0 && chars.peek() == Some(&':') => {
                chars.next();
                segments.push(String::new());
            }
            _ if depth == 0 => segments.last_mut().map_or((), |s| s.push(c)),
            _ => {}
        }
    }
    segments.into_iter().rev().find(|s| !s.is_empty() && !s.starts_with('{')).unwrap_or_else(|| "jitted".to_string())
}

/// The traced program of one signature, as `jax.jit(f).lower(x)` gives.
#[derive(Clone)]
pub struct Lowered {
    compiled: Arc<Compiled>,
}

impl Lowered {
    pub(crate) fn new(compiled: Arc<Compiled>) -> Lowered {
        Lowered { compiled }
    }

    /// The traced program as jaxpr-like text.
    pub fn as_text(&self) -> String {
        self.compiled.graph.to_string()
    }

    /// The traced program.
    pub fn graph(&self) -> &Graph {
        &self.compiled.graph
    }

    /// The backend's text artefacts (LLVM IR, assembly, PTX), where it produces them.
    pub fn artifacts(&self) -> Vec<(String, String)> {
        self.compiled.executable.artifacts()
    }
}

impl<F> Jit<F> {
    fn rebuild_staged(mut self) -> Self {
        let device = self.device.as_deref().and_then(|d| d.parse::<Device>().ok());
        self.staged = Arc::new(StagedFunction::new(self.name.clone(), self.backend.clone(), device));
        self
    }

    /// Names the function in messages and dumps.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self.rebuild_staged()
    }

    /// Marks arguments static: their values are part of the signature and the body sees them as plain values.
    pub fn static_argnums(mut self, nums: impl IntoIterator<Item = usize>) -> Self {
        self.static_argnums = nums.into_iter().collect();
        self.rebuild_staged()
    }

    /// Donates arguments: their buffers may be reused for outputs, and the arrays are unusable afterwards.
    pub fn donate_argnums(mut self, nums: impl IntoIterator<Item = usize>) -> Self {
        self.donate_argnums = nums.into_iter().collect();
        self.rebuild_staged()
    }

    /// Chooses the backend: `cpu` (default), `gpu`/`cuda`, or a backend's own name (`interpreter`).
    pub fn backend(mut self, name: &str) -> Self {
        self.backend = Some(name.to_string());
        self.rebuild_staged()
    }

    /// Chooses the device (`cpu:0`, `cuda:0`).
    pub fn device(mut self, name: &str) -> Self {
        self.device = Some(name.to_string());
        self.rebuild_staged()
    }

    /// How many times the body was traced.
    pub fn trace_count(&self) -> usize {
        self.staged.trace_count()
    }

    /// How many programs were compiled.
    pub fn compile_count(&self) -> usize {
        self.staged.compile_count()
    }

    /// Which part of the signature changed at the last cache miss.
    pub fn explain_last_miss(&self) -> Option<String> {
        self.staged.explain_last_miss()
    }

    /// Warnings about donated arguments that could not be reused.
    pub fn warnings(&self) -> Vec<String> {
        self.staged.warnings()
    }

    fn validate<A: Args>(&self) -> Result<()> {
        let fail = |m: String| Err(call_error(&self.name, m));
        if let Some(d) = &self.device {
            d.parse::<Device>()?;
            if self.backend.is_some() {
                return fail("give either a backend or a device, not both".into());
            }
        }
        for (what, nums) in [("static_argnums", &self.static_argnums), ("donate_argnums", &self.donate_argnums)] {
            if let Some(&n) = nums.iter().find(|&&n| n >= A::LEN) {
                return fail(format!("{what} {n} is out of range: the function takes {} arguments", A::LEN));
            }
        }
        if let Some(n) = self.static_argnums.iter().find(|n| self.donate_argnums.contains(n)) {
            return fail(format!("argument {n} is both static and donated"));
        }
        Ok(())
    }

    /// Calls the function: runs the compiled program for this signature, tracing and compiling it first on a miss.
    /// Called inside another trace (a jitted function calling this one), the body is inlined into that trace.
    pub fn call<A: Args>(&self, args: A) -> Result<<F::Out as Output>::Value>
    where
        F: JitFn<A>,
    {
        self.validate::<A>()?;
        let prepared = self.prepare(&args)?;
        if prepared.inline {
            if is_tracing() {
                return self.f.invoke(args).into_value();
            }
            // Eager (`disable_jit`): report errors as a trace would, dropped tensors included.
            let (out, first_error) = context::first_error_of(|| self.f.invoke(args));
            return match first_error {
                Some(e) => Err(e),
                None => out.into_value(),
            };
        }
        let mut prepared = prepared;
        let key = self.key(&mut prepared)?;
        let compiled = match self.staged.lookup(&key) {
            Some(c) => c,
            None => self.compile_for(&args, &prepared, key)?,
        };
        let outs = self.staged.run(&compiled, &prepared.leaves, &prepared.donated)?;
        let mut leaves = outs.into_iter();
        let mut tree = compiled.out_tree.iter().copied();
        <F::Out as Output>::unflatten_out(&mut leaves, &mut tree)
    }

    /// Traces (or takes from the cache) the program for these arguments without running it.
    pub fn lower<A: Args>(&self, args: A) -> Result<Lowered>
    where
        F: JitFn<A>,
    {
        self.validate::<A>()?;
        let mut p = self.prepare(&args)?;
        let key = self.key(&mut p)?;
        let compiled = self.compile_for(&args, &p, key)?;
        Ok(Lowered { compiled })
    }

    fn prepare<A: Args>(&self, args: &A) -> Result<Prepared> {
        let mut p = Prepared {
            parts: Vec::with_capacity(A::LEN),
            leaves: Vec::new(),
            donated: Vec::new(),
            leaf_arg: Vec::new(),
            is_static: vec![false; A::LEN],
            inline: jit_disabled() || is_tracing(),
        };
        args.each(&mut |i, arg| {
            if self.static_argnums.contains(&i) {
                p.is_static[i] = true;
                let v = arg.to_static().map_err(|m| call_error(&self.name, format!("static argument {i}: {m}")))?;
                p.parts.push(KeyPart::Static(v));
                return Ok(());
            }
            let start = p.leaves.len();
            let mut tree = Vec::new();
            arg.flatten(&mut p.leaves, &mut tree).map_err(|m| call_error(&self.name, format!("argument {i}: {m}")))?;
            let donated = self.donate_argnums.contains(&i);
            let mut types = Vec::with_capacity(p.leaves.len() - start);
            for leaf in &p.leaves[start..] {
                if let Some(e) = leaf.error().cloned().or_else(|| leaf.leak_error()) {
                    return Err(e);
                }
                p.inline |= leaf.is_traced();
                types.push(leaf.ty());
                p.donated.push(donated);
                p.leaf_arg.push(i);
            }
            p.parts.push(KeyPart::Dynamic { types, tree, donated });
            Ok(())
        })?;
        Ok(p)
    }

    /// The cache key of prepared arguments (takes their key parts).
    fn key(&self, p: &mut Prepared) -> Result<CacheKey> {
        self.staged.key(std::mem::take(&mut p.parts))
    }

    fn compile_for<A: Args>(&self, args: &A, p: &Prepared, key: CacheKey) -> Result<Arc<Compiled>>
    where
        F: JitFn<A>,
    {
        let leaf_types: Vec<TensorType> = p.leaves.iter().map(Tensor::ty).collect();
        let labels: Vec<String> = (0..A::LEN).map(|i| format!("argument {i}")).collect();
        let leaf_arg = p.leaf_arg.clone();
        let leaf_labels = move |l: usize| format!("argument {}", leaf_arg.get(l).copied().unwrap_or(l));
        let inputs =
            CallInputs { leaves: &p.leaves, donated: &p.donated, leaf_labels: &leaf_labels, part_labels: &labels };
        self.staged.compiled(key, &leaf_types, &inputs, |params| {
            let rebuilt = args.rebuild(&p.is_static, &mut params.into_iter());
            let mut leaves = Vec::new();
            let mut tree = Vec::new();
            self.f.invoke(rebuilt).flatten_out(&mut leaves, &mut tree)?;
            Ok(super::staged::Traced { outputs: leaves, out_tree: tree, meta: None })
        })
    }
}

struct Prepared {
    parts: Vec<KeyPart>,
    leaves: Vec<Tensor>,
    donated: Vec<bool>,
    leaf_arg: Vec<usize>,
    is_static: Vec<bool>,
    inline: bool,
}

impl<F> std::fmt::Debug for Jit<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jit").field("name", &self.name).field("staged", &self.staged).finish()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<StagedFunction>();
    is::<Tensor>();
    let _ = Error::Trace(String::new());
}

#[cfg(test)]
mod tests {
    use super::function_name;

    #[test]
    fn names_from_type_names() {
        assert_eq!(function_name("my_crate::model::step"), "step");
        assert_eq!(function_name("my_crate::train::{{closure}}"), "train");
        assert_eq!(function_name("my_crate::train::{{closure}}::{{closure}}"), "train");
        assert_eq!(function_name("my_crate::step<alloc::vec::Vec<f32>>"), "step");
        assert_eq!(function_name("<my_crate::Mlp as my_crate::Module>::forward"), "forward");
        assert_eq!(function_name("{{closure}}"), "jitted");
    }
}
