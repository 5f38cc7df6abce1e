//! The call path of a `#[lifted_jit]` method: the cache key from the module, the arguments and the lifted
//! collections; tracing the body in a lifted scope on a miss; running the compiled program with the variables and
//! PRNG keys as inputs; writing mutated collections back.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use super::args::{DynamicArg, LiftOutput, StaticArg};
use super::filter::Filter;
use super::frame::{Frame, KeyRequest, Lifted};
use super::module::Module;
use super::rngs::derive_key;
use super::scope::Scope;
use super::variables::{self, Variables};
use crate::backend::Device;
use crate::error::{Error, Result};
use crate::ir::TensorType;
use crate::jit::{CallInputs, KeyPart, Lowered, StagedFunction, StaticValue, Traced, jit_disabled};
use crate::trace::{Tensor, current_trace_id, is_tracing};

/// The options of one jitted method, as the attribute gives them.
#[derive(Clone, Debug)]
pub struct LiftSpec {
    /// `Type::method` (or the function's name), for messages and dumps.
    pub name: &'static str,
    /// Which variable collections are lifted (inputs, and outputs where mutable).
    pub variables: Filter,
    /// Which PRNG streams are lifted.
    pub rngs: Filter,
    /// The backend (`cpu`, `gpu`, `cuda`, `interpreter`); `None`: the default.
    pub backend: Option<&'static str>,
    /// The device (`cpu:0`, `cuda:0`); `None`: the backend's default.
    pub device: Option<&'static str>,
}

/// The jit state of one `#[lifted_jit]` method: its compile cache and counters. `Type::method_jit()` returns it.
pub struct LiftedFn {
    spec: LiftSpec,
    staged: StagedFunction,
    device_error: Option<Error>,
}

impl LiftedFn {
    /// The state for `spec` (the attribute's expansion makes one per method, in a `static`).
    pub fn new(spec: LiftSpec) -> LiftedFn {
        let (device, device_error) = match spec.device.map(str::parse::<Device>) {
            None => (None, None),
            Some(Ok(d)) => (Some(d), None),
            Some(Err(e)) => (None, Some(e)),
        };
        let staged = StagedFunction::new(spec.name, spec.backend.map(str::to_string), device);
        LiftedFn { spec, staged, device_error }
    }

    /// The method's name (`Mlp::forward`).
    pub fn name(&self) -> &str {
        self.spec.name
    }

    /// The options it was declared with.
    pub fn spec(&self) -> &LiftSpec {
        &self.spec
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

    /// The program compiled for the most recent new signature: its traced IR (`as_text()`, like
    /// `jax.jit(f).lower(x).as_text()`) and the backend's artefacts (LLVM IR, assembly).
    pub fn last_lowered(&self) -> Option<Lowered> {
        self.staged.last_compiled().map(Lowered::new)
    }
}

impl std::fmt::Debug for LiftedFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiftedFn").field("spec", &self.spec).field("staged", &self.staged).finish()
    }
}

/// What one trace recorded beyond the graph.
struct LiftMeta {
    /// Leaves of the method's result (the rest are written-back variables).
    n_results: usize,
    /// `(collection, path relative to the method's module)` of each written-back variable.
    written: Vec<(String, String)>,
    /// The keys the body drew, each a trace parameter after the declared ones.
    requests: Vec<KeyRequest>,
    /// The automatic child names the body used at its own scope (the caller's scope continues from them, as it
    /// does when the body runs inline).
    auto_names: HashMap<&'static str, usize>,
}

/// One call of a jitted method, as the attribute's expansion builds it: the arguments are added one by one, then
/// [`finish`](LiftedCall::finish) runs the compiled program (or the body, inline, inside traces and `disable_jit`).
pub struct LiftedCall<'a, M> {
    lifted: &'static LiftedFn,
    module: &'a M,
    cx: &'a mut Scope,
    parts: Vec<KeyPart>,
    labels: Vec<Label>,
    leaves: Vec<Tensor>,
    donated: Vec<bool>,
    /// Per leaf, the index of its argument in `labels`.
    leaf_args: Vec<usize>,
    error: Option<Error>,
}

/// A parameter, named in messages only on a cache miss (formatting on every call would cost allocations).
#[derive(Clone, Copy)]
struct Label {
    index: usize,
    name: &'static str,
    is_static: bool,
}

impl Label {
    fn text(&self) -> String {
        let kind = if self.is_static { "static argument" } else { "argument" };
        format!("{kind} {} (`{}`)", self.index, self.name)
    }
}

impl<'a, M: Module> LiftedCall<'a, M> {
    /// A call of `lifted` on `module` in scope `cx`.
    pub fn new(lifted: &'static LiftedFn, module: &'a M, cx: &'a mut Scope) -> Self {
        // Flax restarts a module's automatic child names at each call of its compact method.
        if cx.method_depth == 0 {
            cx.auto_names.clear();
        }
        LiftedCall {
            lifted,
            module,
            cx,
            parts: Vec::new(),
            labels: Vec::new(),
            leaves: Vec::new(),
            donated: Vec::new(),
            leaf_args: Vec::new(),
            error: lifted.device_error.clone(),
        }
    }

    /// Adds the dynamic parameter `name` (position `index` in the signature).
    pub fn dynamic<T: DynamicArg + ?Sized>(&mut self, index: usize, name: &'static str, donated: bool, value: &T) {
        let start = self.leaves.len();
        let mut tree = Vec::new();
        value.flatten(&mut self.leaves, &mut tree);
        let leaves = &self.leaves[start..];
        if self.error.is_none()
            && let Some(e) = leaves.iter().find_map(|l| l.error().cloned().or_else(|| l.leak_error()))
        {
            self.error = Some(e);
        }
        let types = leaves.iter().map(Tensor::ty).collect();
        self.donated.extend(leaves.iter().map(|_| donated));
        let arg = self.labels.len();
        self.leaf_args.extend(leaves.iter().map(|_| arg));
        self.parts.push(KeyPart::Dynamic { types, tree, donated });
        self.labels.push(Label { index, name, is_static: false });
    }

    /// Adds the static parameter `name` (position `index` in the signature).
    pub fn static_arg<T: StaticArg + ?Sized>(&mut self, index: usize, name: &'static str, value: &T) {
        self.parts.push(KeyPart::Static(value.static_value()));
        self.labels.push(Label { index, name, is_static: true });
    }

    /// Runs the call. `body` is the method as written; it gets the module, a scope and the dynamic leaves to
    /// rebuild its arguments from. Inside another trace, under `disable_jit`, or with traced arguments it runs
    /// inline on the caller's scope; otherwise the compiled program for this signature runs (traced and compiled
    /// first on a miss). Errors come back as the result type's error value and are recorded on the scope.
    pub fn finish<Out: LiftOutput>(
        self,
        body: impl FnOnce(&M, &mut Scope, &mut dyn Iterator<Item = Tensor>) -> Out,
    ) -> Out {
        if let Some(e) = &self.error {
            self.cx.record(e);
            return Out::from_error(e.clone());
        }
        let inline = jit_disabled() || is_tracing() || self.cx.is_lifted() || self.leaves.iter().any(Tensor::is_traced);
        if inline {
            let LiftedCall { module, cx, leaves, .. } = self;
            cx.method_depth += 1;
            let out = body(module, cx, &mut leaves.into_iter());
            cx.method_depth -= 1;
            return out;
        }
        let LiftedCall { lifted, module, cx, parts, labels, leaves, donated, leaf_args, .. } = self;
        let args = CallArgs { parts, labels, leaves, donated, leaf_args };
        match run_compiled(lifted, module, cx, args, body) {
            Ok(out) => out,
            Err(e) => {
                cx.record(&e);
                Out::from_error(e)
            }
        }
    }
}

/// The arguments of one call, flattened.
struct CallArgs {
    parts: Vec<KeyPart>,
    labels: Vec<Label>,
    leaves: Vec<Tensor>,
    donated: Vec<bool>,
    leaf_args: Vec<usize>,
}

/// The `/`-terminated path prefix of the scope's variables (empty at the root).
fn var_prefix(cx: &Scope) -> String {
    let rel = cx.relative_path();
    if rel.is_empty() { String::new() } else { format!("{}/", rel.join("/")) }
}

/// The lifted collections of the scope's subtree, with paths relative to it (the template a trace rebuilds).
fn lifted_variables(cx: &Scope, filter: &Filter) -> Variables {
    let frame = cx.frame().borrow();
    let prefix = var_prefix(cx);
    let mut out = Variables::new();
    for (name, vars) in frame.vars.collections() {
        if !filter.matches(name) {
            continue;
        }
        for (path, t) in vars.range(prefix.clone()..).take_while(|(p, _)| p.starts_with(&prefix)) {
            out.insert(name, &path[prefix.len()..], t.clone());
        }
    }
    out
}

/// The hot path's view of [`lifted_variables`]: appends the leaves (in the same order) and their structure (the
/// collection names and relative paths) without building a `Variables`.
fn gather_variables(cx: &Scope, filter: &Filter, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<()> {
    let frame = cx.frame().borrow();
    let prefix = var_prefix(cx);
    for (name, vars) in frame.vars.collections() {
        if !filter.matches(name) {
            continue;
        }
        let mut subtree = vars.range(prefix.clone()..).take_while(|(p, _)| p.starts_with(&prefix)).peekable();
        if subtree.peek().is_none() {
            continue;
        }
        crate::jit::encode_str(name, tree);
        let count_at = tree.len();
        tree.push(0);
        for (path, t) in subtree {
            if let Some(e) = t.error().cloned().or_else(|| t.leak_error()) {
                return Err(e);
            }
            crate::jit::encode_str(&path[prefix.len()..], tree);
            leaves.push(t.clone());
            tree[count_at] += 1;
        }
    }
    Ok(())
}

fn run_compiled<M: Module, Out: LiftOutput>(
    lifted: &'static LiftedFn,
    module: &M,
    cx: &mut Scope,
    args: CallArgs,
    body: impl FnOnce(&M, &mut Scope, &mut dyn Iterator<Item = Tensor>) -> Out,
) -> Result<Out> {
    let spec = &lifted.spec;
    let CallArgs { mut parts, labels, mut leaves, mut donated, leaf_args } = args;
    let n_arg_leaves = leaves.len();

    // The lifted state: collections of this module's subtree, what may change, which streams exist.
    let mut var_tree = Vec::new();
    gather_variables(cx, &spec.variables, &mut leaves, &mut var_tree)?;
    let var_types: Vec<TensorType> = leaves[n_arg_leaves..].iter().map(Tensor::ty).collect();
    donated.resize(leaves.len(), false);
    let (mutable, initializing, streams) = {
        let f = cx.frame().borrow();
        // `params` also when parameters may be created here (see `Scope::param`).
        let creates_params = f.mutable.matches("params") && spec.variables.matches("params");
        let streams: Vec<String> = f
            .rngs
            .keys()
            .filter(|s| spec.rngs.matches(s) || (creates_params && s.as_str() == "params"))
            .cloned()
            .collect();
        (f.mutable.intersect(&spec.variables), f.initializing, streams)
    };
    parts.insert(0, KeyPart::Static(StaticValue::new(module.clone())));
    parts.push(KeyPart::Dynamic { types: var_types, tree: var_tree, donated: false });
    parts.push(KeyPart::Static(StaticValue::new((mutable.clone(), initializing, streams.clone()))));

    let key = lifted.staged.key(parts)?;
    let compiled = match lifted.staged.lookup(&key) {
        Some(c) => c,
        None => {
            let vars = lifted_variables(cx, &spec.variables);
            let leaf_types: Vec<TensorType> = leaves.iter().map(Tensor::ty).collect();
            let part_labels: Vec<String> = std::iter::once("the module's value".to_string())
                .chain(labels.iter().map(Label::text))
                .chain(["the lifted variables".to_string()])
                .chain(["the mutable collections, initialisation and PRNG streams".to_string()])
                .collect();
            let label = |i: usize| match leaf_args.get(i) {
                Some(&a) => labels[a].text(),
                None => vars
                    .iter()
                    .nth(i - n_arg_leaves)
                    .map_or(format!("leaf {i}"), |(c, p, _)| format!("variable {c}/{p}")),
            };
            let inputs =
                CallInputs { leaves: &leaves, donated: &donated, leaf_labels: &label, part_labels: &part_labels };
            let root_path = cx.path_segments();
            lifted.staged.compiled(key, &leaf_types, &inputs, |params| {
                trace_body(spec, module, body, params, n_arg_leaves, &vars, mutable, initializing, streams, root_path)
            })?
        }
    };
    let meta =
        compiled.meta.as_ref().and_then(|m| m.downcast_ref::<LiftMeta>()).ok_or_else(|| {
            Error::Trace(format!("internal: `{}` was compiled without its lifted metadata", spec.name))
        })?;

    // PRNG keys: derived on the host from the root keys, the module paths and the counters now.
    if !meta.requests.is_empty() {
        let rel = cx.relative_path().to_vec();
        let abs = cx.path_segments();
        let mut f = cx.frame().borrow_mut();
        let mut advance: HashMap<(Vec<String>, String), u32> = HashMap::new();
        for r in &meta.requests {
            let counter_path: Vec<String> = rel.iter().chain(&r.path).cloned().collect();
            let base = f.counters.get(&(counter_path.clone(), r.stream.clone())).copied().unwrap_or(0);
            let root = f
                .rngs
                .get(&r.stream)
                .ok_or_else(|| Error::Trace(format!("internal: stream `{}` vanished", r.stream)))?;
            let path: Vec<String> = abs.iter().chain(&r.path).cloned().collect();
            leaves.push(derive_key(root, &path, base + r.offset));
            donated.push(false);
            let a = advance.entry((counter_path, r.stream.clone())).or_insert(0);
            *a = (*a).max(r.offset);
        }
        for (k, n) in advance {
            *f.counters.entry(k).or_insert(0) += n;
        }
    }

    let outs = lifted.staged.run(&compiled, &leaves, &donated)?;
    let mut outs = outs.into_iter();
    let results: Vec<Tensor> = outs.by_ref().take(meta.n_results).collect();
    let out = Out::unflatten(&mut results.into_iter(), &mut compiled.out_tree.iter().copied())?;
    let prefix = var_prefix(cx);
    cx.auto_names.clone_from(&meta.auto_names);
    let mut f = cx.frame().borrow_mut();
    for ((collection, path), value) in meta.written.iter().zip(outs) {
        f.vars.insert(collection, &format!("{prefix}{path}"), value);
    }
    Ok(out)
}

/// Traces the method's body in a lifted scope whose variables and keys are parameters of the trace.
#[allow(clippy::too_many_arguments)]
fn trace_body<M: Module, Out: LiftOutput>(
    spec: &LiftSpec,
    module: &M,
    body: impl FnOnce(&M, &mut Scope, &mut dyn Iterator<Item = Tensor>) -> Out,
    params: Vec<Tensor>,
    n_arg_leaves: usize,
    template: &Variables,
    mutable: Filter,
    initializing: bool,
    streams: Vec<String>,
    root_path: Vec<String>,
) -> Result<Traced> {
    let mut params = params.into_iter();
    let arg_params: Vec<Tensor> = params.by_ref().take(n_arg_leaves).collect();
    let vars = variables::rebuild(template, &mut params);
    let trace_id = current_trace_id().ok_or_else(|| Error::Trace("internal: no active trace".into()))?;
    let lifted = Lifted {
        function: spec.name.to_string(),
        variables: spec.variables.clone(),
        rngs: spec.rngs.clone(),
        trace_id,
        streams,
        requests: Vec::new(),
    };
    let mut frame = Frame::root(vars, Default::default(), mutable.clone(), initializing);
    frame.root_path = root_path;
    frame.lifted = Some(lifted);
    let frame = Rc::new(RefCell::new(frame));
    let mut scope = Scope::new(Rc::clone(&frame), Vec::new());
    scope.method_depth = 1;
    let out = body(module, &mut scope, &mut arg_params.into_iter());
    let auto_names = std::mem::take(&mut scope.auto_names);
    drop(scope);
    let mut f = frame.borrow_mut();
    if let Some(e) = f.error.take() {
        return Err(e);
    }
    let mut outputs = Vec::new();
    let mut out_tree = Vec::new();
    out.flatten(&mut outputs, &mut out_tree)?;
    let n_results = outputs.len();
    let mut written = Vec::new();
    for (collection, path, value) in f.vars.iter() {
        if mutable.matches(collection) {
            written.push((collection.to_string(), path.to_string()));
            outputs.push(value.clone());
        }
    }
    let requests = f.lifted.take().map(|l| l.requests).unwrap_or_default();
    let meta = LiftMeta { n_results, written, requests, auto_names };
    Ok(Traced { outputs, out_tree, meta: Some(Arc::new(meta)) })
}
