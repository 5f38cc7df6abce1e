//! [`Scope`]: what a module's method uses to reach its variables, its PRNG streams and its child modules (Flax's
//! `Scope`, bound to one module path).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::frame::{Frame, KeyRequest};
use super::initializer::Initializer;
use super::module::Module;
use super::rngs::derive_key;
use crate::array::{DType, Shape};
use crate::error::Error;
use crate::ir::TensorType;
use crate::trace::{Tensor, context};

/// A module's view of the variables and PRNG streams of one `init` or `apply`, at its module path.
///
/// A method of a module takes `cx: &mut Scope` next to `&self`; through it the method creates and reads variables
/// ([`param`](Scope::param), [`variable`](Scope::variable)), draws keys ([`make_rng`](Scope::make_rng)) and calls
/// child modules ([`child`](Scope::child)), which get scopes at `Dense_0`, `Dense_1`, ... as in Flax.
///
/// Errors (a missing parameter, a write to an immutable collection, a hidden collection or stream) do not panic:
/// the call returns a tensor carrying the error, and `init`/`apply` return it as `Err`, naming the module path.
pub struct Scope {
    frame: Rc<RefCell<Frame>>,
    path: Vec<String>,
    /// Automatic child names used so far, per module type.
    pub(crate) auto_names: HashMap<&'static str, usize>,
    /// How many jitted methods are running on this scope (the outermost restarts the automatic names).
    pub(crate) method_depth: usize,
}

impl Scope {
    pub(crate) fn new(frame: Rc<RefCell<Frame>>, path: Vec<String>) -> Scope {
        Scope { frame, path, auto_names: HashMap::new(), method_depth: 0 }
    }

    pub(crate) fn frame(&self) -> &Rc<RefCell<Frame>> {
        &self.frame
    }

    /// The path relative to the frame's root.
    pub(crate) fn relative_path(&self) -> &[String] {
        &self.path
    }

    /// The absolute module path as segments (`["Block_0", "Dense_1"]`).
    pub fn path_segments(&self) -> Vec<String> {
        let f = self.frame.borrow();
        f.root_path.iter().chain(&self.path).cloned().collect()
    }

    /// The module path as Flax prints it: `/Block_0/Dense_1`, `/` at the root.
    pub fn path(&self) -> String {
        format!("/{}", self.path_segments().join("/"))
    }

    /// Whether this is `init` (Flax's `is_initializing()`): layers such as `BatchNorm` skip statistic updates then.
    pub fn is_initializing(&self) -> bool {
        self.frame.borrow().initializing
    }

    /// Whether `collection` may be written here.
    pub fn is_mutable_collection(&self, collection: &str) -> bool {
        let f = self.frame.borrow();
        f.mutable.matches(collection) && f.lifted.as_ref().is_none_or(|l| l.variables.matches(collection))
    }

    /// Whether a PRNG key for `stream` is available here.
    pub fn has_rng(&self, stream: &str) -> bool {
        let f = self.frame.borrow();
        match &f.lifted {
            Some(l) => l.rngs.matches(stream) && l.streams.iter().any(|s| s == stream),
            None => f.rngs.contains_key(stream),
        }
    }

    pub(crate) fn is_lifted(&self) -> bool {
        self.frame.borrow().lifted.is_some()
    }

    fn var_key(&self, name: &str) -> String {
        if self.path.is_empty() { name.to_string() } else { format!("{}/{name}", self.path.join("/")) }
    }

    /// A scope error naming this module, recorded on the frame.
    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        let e = Error::Scope { path: self.path(), message: message.into() };
        self.record(&e);
        e
    }

    /// Records `error` as the scope's first error (reported by `init`/`apply`).
    pub(crate) fn record(&self, error: &Error) {
        self.frame.borrow_mut().record(error);
        context::note_error(error);
    }

    /// A tensor carrying a scope error with `message`, naming this module's path; `init`/`apply` report it. For
    /// modules that check their own inputs (Flax modules raise an exception there).
    ///
    /// ```
    /// # use jit_runtime::lift::{Module, Scope, Variables};
    /// # #[derive(Clone, Debug, PartialEq, Eq, Hash)] struct M;
    /// # impl Module for M { const NAME: &'static str = "M"; }
    /// let err = M.apply(&Variables::new()).call(|_, cx| cx.fail("rank 3 expected")).unwrap_err();
    /// assert_eq!(err.to_string(), "in module `/`: rank 3 expected");
    /// ```
    pub fn fail(&self, message: impl Into<String>) -> Tensor {
        Tensor::from_error(self.error(message))
    }

    /// `Err(message)` when `collection` is hidden by a lifted transform.
    fn check_visible(&self, collection: &str, what: &str) -> Result<(), String> {
        let f = self.frame.borrow();
        match &f.lifted {
            Some(l) if !l.variables.matches(collection) => Err(format!(
                "{what} in collection `{collection}`, which is not lifted into jitted `{}` (variables = {}): add \
                 it to the attribute's `variables` filter",
                l.function, l.variables
            )),
            _ => Ok(()),
        }
    }

    /// The parameter `name` (collection `params`) of dtype `f32`: created with `init` during `init` (drawing a key
    /// from the `params` stream, as Flax), read afterwards. A parameter whose shape differs from `shape` is an error
    /// naming both shapes.
    #[track_caller]
    pub fn param(&mut self, name: &str, init: impl Initializer, shape: impl Into<Shape>) -> Tensor {
        self.param_with_dtype(name, init, shape, DType::F32)
    }

    /// [`param`](Scope::param) with a dtype.
    #[track_caller]
    pub fn param_with_dtype(
        &mut self,
        name: &str,
        init: impl Initializer,
        shape: impl Into<Shape>,
        dtype: DType,
    ) -> Tensor {
        let shape = shape.into();
        if let Err(m) = self.check_visible("params", &format!("parameter `{name}` is")) {
            return self.fail(m);
        }
        let key = self.var_key(name);
        let (existing, mutable, empty) = {
            let f = self.frame.borrow();
            let existing = f.vars.get("params", &key).cloned();
            let empty = f.vars.collection("params").is_none_or(|c| c.is_empty());
            (existing, self.is_mutable_collection("params"), empty)
        };
        if let Some(value) = existing {
            if value.error().is_none() && value.dims() != shape.dims() {
                return self.fail(format!(
                    "parameter `{name}` has shape {} in the variables, but the module asks for {}",
                    value.ty(),
                    TensorType::new(dtype, shape)
                ));
            }
            return value;
        }
        if !mutable {
            return self.fail(if empty {
                format!(
                    "cannot find parameter `{name}`: collection `params` is empty (pass the variables `init` \
                     returned to `apply`)"
                )
            } else {
                format!("cannot find parameter `{name}` (collection `params` is not mutable here)")
            });
        }
        let rng = self.draw_key("params", true);
        let value = init.init(&rng, &shape, dtype);
        if value.error().is_none() && (value.dtype() != dtype || value.dims() != shape.dims()) {
            return self.fail(format!(
                "the initialiser of parameter `{name}` returned {}, expected {}",
                value.ty(),
                TensorType::new(dtype, shape)
            ));
        }
        self.frame.borrow_mut().vars.insert("params", &key, value.clone());
        value
    }

    /// The variable `name` of `collection`, created with `init` when it does not exist and the collection is
    /// mutable (Flax's `self.variable(collection, name, init_fn)`); read with [`get_variable`](Scope::get_variable)
    /// and written with [`put_variable`](Scope::put_variable).
    pub fn variable(&mut self, collection: &str, name: &str, init: impl FnOnce(&mut Scope) -> Tensor) -> Tensor {
        if let Err(m) = self.check_visible(collection, &format!("variable `{name}` is")) {
            return self.fail(m);
        }
        if let Some(v) = self.frame.borrow().vars.get(collection, &self.var_key(name)) {
            return v.clone();
        }
        if !self.is_mutable_collection(collection) {
            return self.fail(format!(
                "cannot find variable `{name}` in collection `{collection}`, which is not mutable here: pass the \
                 variables that `init` returned, or make it mutable"
            ));
        }
        let value = init(self);
        self.frame.borrow_mut().vars.insert(collection, &self.var_key(name), value.clone());
        value
    }

    /// Whether the variable exists (and is visible).
    pub fn has_variable(&self, collection: &str, name: &str) -> bool {
        self.check_visible(collection, "").is_ok()
            && self.frame.borrow().vars.get(collection, &self.var_key(name)).is_some()
    }

    /// The variable's value, `None` when it does not exist. Reading a collection hidden by a lifted transform is an
    /// error (recorded; `None` is returned).
    pub fn get_variable(&self, collection: &str, name: &str) -> Option<Tensor> {
        if let Err(m) = self.check_visible(collection, &format!("variable `{name}` is read")) {
            self.error(m);
            return None;
        }
        self.frame.borrow().vars.get(collection, &self.var_key(name)).cloned()
    }

    /// Sets a variable. Writing a collection that is not mutable (or is hidden) is an error naming the collection
    /// and the variable, reported by `init`/`apply`.
    pub fn put_variable(&mut self, collection: &str, name: &str, value: Tensor) {
        if let Err(m) = self.check_visible(collection, &format!("variable `{name}` is written")) {
            self.error(m);
            return;
        }
        if !self.is_mutable_collection(collection) {
            self.error(format!(
                "cannot update variable `{name}`: collection `{collection}` is immutable (make it mutable, e.g. \
                 `.mutable([\"{collection}\"])` on `apply`)"
            ));
            return;
        }
        if let Some(e) = value.error() {
            self.record(e);
        }
        self.frame.borrow_mut().vars.insert(collection, &self.var_key(name), value);
    }

    /// Appends `value` to the intermediate `name` of `collection` (Flax's `sow`): stored as `name/0`, `name/1`, ...
    /// Returns `false` and stores nothing when the collection is not mutable, as Flax; inside a lifted transform
    /// that hides the collection it is an error (Flax drops the value silently).
    pub fn sow(&mut self, collection: &str, name: &str, value: Tensor) -> bool {
        if let Err(m) = self.check_visible(collection, &format!("value `{name}` is sown")) {
            self.error(m);
            return false;
        }
        if !self.is_mutable_collection(collection) {
            return false;
        }
        let prefix = format!("{}/", self.var_key(name));
        let mut f = self.frame.borrow_mut();
        let n = f
            .vars
            .collection(collection)
            .map_or(0, |c| c.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).count());
        f.vars.insert(collection, &format!("{prefix}{n}"), value);
        true
    }

    /// A new PRNG key from `stream`: the `k`-th call at module path `p` gives `fold_in(root, H(p, k))` with Flax's
    /// hash (see [`rng_fold_data`](super::rng_fold_data)), so a model ported from Flax draws the same numbers.
    /// Counters persist across repeated calls of the same child within one `init`/`apply`.
    pub fn make_rng(&mut self, stream: &str) -> Tensor {
        self.draw_key(stream, false)
    }

    /// `make_rng`; `for_param`: the key initialises a parameter, which may draw from `params` inside a lifted
    /// method whose `rngs` filter leaves the stream out (creating parameters needs it, and the `params` collection
    /// being lifted and mutable is what allows creating them).
    fn draw_key(&mut self, stream: &str, for_param: bool) -> Tensor {
        let k = {
            let mut f = self.frame.borrow_mut();
            let c = f.counters.entry((self.path.clone(), stream.to_string())).or_insert(0);
            *c += 1;
            *c
        };
        let lifted = self
            .frame
            .borrow()
            .lifted
            .as_ref()
            .map(|l| (l.function.clone(), l.rngs.clone(), l.streams.iter().any(|s| s == stream), l.trace_id));
        match lifted {
            None => {
                let root = self.frame.borrow().rngs.get(stream).cloned();
                match root {
                    Some(root) => derive_key(&root, &self.path_segments(), k),
                    None => self.fail(format!(
                        "no PRNG key for stream `{stream}`: pass one to `init`/`apply`, e.g. `.rngs([(\"{stream}\", \
                         random::key(0))])`"
                    )),
                }
            }
            Some((function, filter, present, trace_id)) => {
                if !(filter.matches(stream) || (for_param && stream == "params")) {
                    return self.fail(format!(
                        "PRNG stream `{stream}` is not lifted into jitted `{function}` (rngs = {filter}): add it to \
                         the attribute's `rngs` filter"
                    ));
                }
                if !present {
                    return self.fail(format!(
                        "no PRNG key for stream `{stream}`: pass one to `init`/`apply`, e.g. `.rngs([(\"{stream}\", \
                         random::key(0))])`"
                    ));
                }
                match crate::trace::late_parameter(trace_id, TensorType::new(DType::U32, [2])) {
                    Some(key) => {
                        let request = KeyRequest { path: self.path.clone(), stream: stream.to_string(), offset: k };
                        if let Some(l) = self.frame.borrow_mut().lifted.as_mut() {
                            l.requests.push(request);
                        }
                        key
                    }
                    None => self.fail(format!(
                        "`make_rng(\"{stream}\")` was called inside another `jit` nested in jitted `{function}`: draw \
                         the key outside and pass it in"
                    )),
                }
            }
        }
    }

    /// Calls `f` on `module` in a child scope named after the module's type and a counter (`Dense_0`, `Dense_1`,
    /// one counter per type in this scope), as a Flax submodule in a compact method. As in Flax, the counters restart
    /// when a (jitted) method of the module is called again on this scope, so calling `forward` twice reuses
    /// `Dense_0`; a child scope starts with fresh counters.
    pub fn child<M: Module, R>(&mut self, module: &M, f: impl FnOnce(&M, &mut Scope) -> R) -> R {
        let n = self.auto_names.entry(M::NAME).or_insert(0);
        let name = format!("{}_{n}", M::NAME);
        *n += 1;
        self.child_named(&name, module, f)
    }

    /// Calls `f` on `module` in the child scope `name` (Flax's `Dense(3, name="head")`). Calling the same name
    /// again reuses its variables and continues its PRNG counters.
    pub fn child_named<M, R>(&mut self, name: &str, module: &M, f: impl FnOnce(&M, &mut Scope) -> R) -> R {
        let mut path = self.path.clone();
        path.push(name.to_string());
        let mut child = Scope::new(Rc::clone(&self.frame), path);
        context::with_module_scope(name, || f(module, &mut child))
    }
}

impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").field("path", &self.path()).finish()
    }
}
