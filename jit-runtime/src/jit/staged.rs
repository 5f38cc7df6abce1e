//! [`StagedFunction`]: the call path shared by [`jit`](super::jit()) and the `#[lifted_jit]` attribute — cache
//! lookup, tracing and compiling on a miss (once, even when many threads miss together), donation, running.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

use super::key::{CacheKey, KeyPart, explain_difference};
use crate::array::Array;
use crate::backend::{self, Backend, CompileOptions, Device, Executable};
use crate::error::{Error, Result};
use crate::ir::{Graph, TensorType};
use crate::trace::{Tensor, trace_to_graph};

/// A traced and compiled program for one signature.
pub struct Compiled {
    /// The traced program.
    pub graph: Arc<Graph>,
    /// The backend's executable.
    pub executable: Arc<dyn Executable>,
    /// The structure of the results (see [`Output`](super::Output)).
    pub out_tree: Vec<usize>,
    /// What the caller recorded while tracing (the lifted call path keeps its key requests and the layout of
    /// written-back variables here).
    pub meta: Option<Arc<dyn Any + Send + Sync>>,
}

/// What tracing the body produced: the result leaves, their structure and the caller's metadata.
pub struct Traced {
    /// The result leaves.
    pub outputs: Vec<Tensor>,
    /// The structure of the results.
    pub out_tree: Vec<usize>,
    /// Kept in [`Compiled::meta`].
    pub meta: Option<Arc<dyn Any + Send + Sync>>,
}

type Slot = Mutex<Option<Arc<Compiled>>>;

/// The per-function state of a staged function: options, the compile cache and its counters.
pub struct StagedFunction {
    name: String,
    backend_name: Option<String>,
    device: Option<Device>,
    resolved: OnceLock<Result<(Arc<dyn Backend>, Device)>>,
    /// The resolved backend's name, shared by every cache key (cloning it does not allocate).
    backend_key: OnceLock<Arc<str>>,
    /// Keyed with FxHash: keys are hashed on every call and are not attacker-controlled.
    cache: Mutex<HashMap<CacheKey, Arc<Slot>, rustc_hash::FxBuildHasher>>,
    last_key: Mutex<Option<CacheKey>>,
    last_miss: Mutex<Option<String>>,
    traces: AtomicUsize,
    compiles: AtomicUsize,
    warnings: Mutex<Vec<String>>,
}

/// What one call needs beyond the cache key: the argument leaves and how to trace on a miss.
pub struct CallInputs<'a> {
    /// The array leaves of the dynamic arguments, in order.
    pub leaves: &'a [Tensor],
    /// Per leaf: is it donated?
    pub donated: &'a [bool],
    /// Per leaf: the name used in messages about donation (`argument 2 (state)`).
    pub leaf_labels: &'a dyn Fn(usize) -> String,
    /// Per key part: its name in a cache-miss explanation.
    pub part_labels: &'a [String],
}

impl StagedFunction {
    /// A function named `name` for messages, on `backend`/`device` (`None`: the default CPU backend).
    pub fn new(name: impl Into<String>, backend: Option<String>, device: Option<Device>) -> StagedFunction {
        StagedFunction {
            name: name.into(),
            backend_name: backend,
            device,
            resolved: OnceLock::new(),
            backend_key: OnceLock::new(),
            cache: Mutex::new(HashMap::default()),
            last_key: Mutex::new(None),
            last_miss: Mutex::new(None),
            traces: AtomicUsize::new(0),
            compiles: AtomicUsize::new(0),
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The backend and device calls run on.
    pub fn target(&self) -> Result<(Arc<dyn Backend>, Device)> {
        self.resolved.get_or_init(|| backend::resolve(self.backend_name.as_deref(), self.device)).clone()
    }

    /// The cache key of a call with these key `parts`, on the function's backend and device.
    pub fn key(&self, parts: Vec<KeyPart>) -> Result<CacheKey> {
        let (backend, device) =
            match self.resolved.get_or_init(|| backend::resolve(self.backend_name.as_deref(), self.device)) {
                Ok((b, d)) => (b, *d),
                Err(e) => return Err(e.clone()),
            };
        let name = self.backend_key.get_or_init(|| Arc::from(backend.name()));
        Ok(CacheKey { parts, backend: Arc::clone(name), device })
    }

    /// How many times the body was traced.
    pub fn trace_count(&self) -> usize {
        self.traces.load(Ordering::Relaxed)
    }

    /// How many programs were compiled.
    pub fn compile_count(&self) -> usize {
        self.compiles.load(Ordering::Relaxed)
    }

    /// Why the last cache miss happened (which part of the signature changed), if there was one.
    pub fn explain_last_miss(&self) -> Option<String> {
        self.last_miss.lock().clone()
    }

    /// Warnings about donations that could not be used, one per compile that had them.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().clone()
    }

    /// The compiled program for `key`, tracing `body` and compiling on a miss. Threads that miss on the same key
    /// together wait for one compile.
    pub fn compiled(
        &self,
        key: CacheKey,
        leaf_types: &[TensorType],
        inputs: &CallInputs<'_>,
        body: impl FnOnce(Vec<Tensor>) -> Result<Traced>,
    ) -> Result<Arc<Compiled>> {
        let slot = {
            let mut cache = self.cache.lock();
            match cache.get(&key) {
                Some(slot) => Arc::clone(slot),
                None => {
                    let slot = Arc::new(Mutex::new(None));
                    cache.insert(key.clone(), Arc::clone(&slot));
                    slot
                }
            }
        };
        let mut guard = slot.lock();
        if let Some(c) = &*guard {
            return Ok(Arc::clone(c));
        }
        let explanation = match &*self.last_key.lock() {
            None => "first call: nothing compiled yet".to_string(),
            Some(prev) => explain_difference(prev, &key, inputs.part_labels),
        };
        *self.last_miss.lock() = Some(format!("`{}` recompiled: {explanation}", self.name));
        let (backend, device) = self.target()?;
        self.traces.fetch_add(1, Ordering::Relaxed);
        let mut out_tree = Vec::new();
        let mut meta = None;
        let graph = trace_to_graph(&self.name, leaf_types, |params| {
            let traced = body(params)?;
            out_tree = traced.out_tree;
            meta = traced.meta;
            Ok(traced.outputs)
        })?;
        // Parameters added while tracing (keys a lifted method asked for) are never donated.
        let mut donated = inputs.donated.to_vec();
        donated.resize(graph.params().len(), false);
        self.check_donations(&graph, inputs);
        let options = CompileOptions { name: self.name.clone(), donated, device };
        let executable = backend.compile(&graph, &options)?;
        self.compiles.fetch_add(1, Ordering::Relaxed);
        let compiled = Arc::new(Compiled { graph: Arc::new(graph), executable, out_tree, meta });
        *guard = Some(Arc::clone(&compiled));
        *self.last_key.lock() = Some(key);
        Ok(compiled)
    }

    /// Reports, once per compile, donated leaves that no output of equal dtype and shape can reuse.
    fn check_donations(&self, graph: &Graph, inputs: &CallInputs<'_>) {
        let mut free: Vec<TensorType> = graph.output_types();
        let mut unusable = Vec::new();
        for (i, &d) in inputs.donated.iter().enumerate() {
            if !d {
                continue;
            }
            let ty = inputs.leaves[i].ty();
            match free.iter().position(|t| *t == ty) {
                Some(p) => {
                    free.swap_remove(p);
                }
                None => unusable.push(format!("{} ({ty})", (inputs.leaf_labels)(i))),
            }
        }
        if !unusable.is_empty() {
            let warning = format!(
                "`{}`: donated buffers were not usable (no output of the same dtype and shape): {}",
                self.name,
                unusable.join(", ")
            );
            // Reported once per compile, as JAX's warning is; `warnings()` keeps it for tests and tools.
            if std::env::var_os("LIFTED_JIT_QUIET").is_none() {
                eprintln!("warning: {warning}");
            }
            self.warnings.lock().push(warning);
        }
    }

    /// The compiled program for `key` if it is cached: the hot path of every call, which builds nothing.
    pub fn lookup(&self, key: &CacheKey) -> Option<Arc<Compiled>> {
        let slot = Arc::clone(self.cache.lock().get(key)?);
        slot.lock().clone()
    }

    /// The program compiled for the most recent new signature.
    pub fn last_compiled(&self) -> Option<Arc<Compiled>> {
        let key = self.last_key.lock().clone()?;
        self.lookup(&key)
    }

    /// Runs a compiled program on the leaves, donating those marked donated, and returns the result leaves.
    ///
    /// A program that keeps values on a device ([`Executable::uses_device_buffers`]) gets the leaves where they
    /// live and returns results that stay on its device; the others get host values (arrays on a device are
    /// copied to the host, as JAX copies arguments to the device a computation is committed to).
    pub fn run(&self, compiled: &Compiled, leaves: &[Tensor], donated: &[bool]) -> Result<Vec<Tensor>> {
        if compiled.executable.uses_device_buffers() {
            let buffers = self.gather(leaves, donated, Array::buffer, Array::donate_buffer)?;
            let outs = compiled.executable.run_arrays(buffers)?;
            return Ok(outs.into_iter().map(|b| Tensor::from_array(Array::from_buffer(b))).collect());
        }
        let literals = self.gather(leaves, donated, Array::literal, Array::donate)?;
        let outs = compiled.executable.run(literals)?;
        Ok(outs.into_iter().map(|l| Tensor::from_array(Array::from_shared(l))).collect())
    }

    /// The inputs of a call: `keep` of every leaf, or `give` (donation) of the donated ones.
    #[inline]
    fn gather<T>(
        &self,
        leaves: &[Tensor],
        donated: &[bool],
        keep: impl Fn(&Array) -> Result<T>,
        give: impl Fn(&Array, &str) -> Result<T>,
    ) -> Result<Vec<T>> {
        if !donated.iter().any(|&d| d) {
            return leaves.iter().map(|l| keep(&l.to_array()?)).collect();
        }
        let mut inputs: Vec<Option<T>> = leaves.iter().map(|_| None).collect();
        // Read every kept input before donating any, so that passing one array both donated and kept is a clean
        // error rather than a half-consumed call.
        for pass_donated in [false, true] {
            for (i, leaf) in leaves.iter().enumerate() {
                if donated.get(i).copied().unwrap_or(false) != pass_donated {
                    continue;
                }
                let array = leaf.to_array()?;
                inputs[i] = Some(if pass_donated { give(&array, &self.name)? } else { keep(&array)? });
            }
        }
        Ok(inputs.into_iter().flatten().collect())
    }
}

impl std::fmt::Debug for StagedFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedFunction")
            .field("name", &self.name)
            .field("traces", &self.trace_count())
            .field("compiles", &self.compile_count())
            .finish()
    }
}

pub(crate) fn call_error(function: &str, message: impl Into<String>) -> Error {
    Error::Call { function: function.to_string(), message: message.into() }
}
