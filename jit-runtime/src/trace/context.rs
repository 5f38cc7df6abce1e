//! Trace state: the graph being recorded, the innermost trace of this thread, and the module path.
//!
//! Tracing is "omnistaging", as in JAX: while a trace is active on a thread, every op is recorded into it, even an
//! op whose operands are all concrete (`iota`, constants), so nothing large is baked in as a constant by accident.
//! Concrete arrays captured from outside become constants.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::error::Error;
use crate::ir::{Graph, ValueId};

static NEXT_TRACE_ID: AtomicU64 = AtomicU64::new(1);

/// The mutable state of one trace.
pub(crate) struct TraceState {
    pub graph: Graph,
    /// The first error any op of this trace produced (reported at the boundary even if the failing tensor was
    /// dropped).
    pub first_error: Option<Error>,
    /// Constants already in the graph, by buffer address, so a captured array used twice is one constant. The
    /// addresses stay valid keys because the `Op::Constant` nodes keep the literals alive.
    pub constants: HashMap<usize, ValueId>,
    /// Set when the trace ended: its tensors must not be used any more ("leaked tracer").
    pub finished: bool,
}

/// A trace being recorded; tensors of the trace hold an `Arc` of it.
pub(crate) struct Trace {
    pub id: u64,
    pub name: String,
    pub state: Mutex<TraceState>,
}

impl Trace {
    pub fn new(name: &str) -> Arc<Trace> {
        Arc::new(Trace {
            id: NEXT_TRACE_ID.fetch_add(1, Ordering::Relaxed),
            name: name.to_string(),
            state: Mutex::new(TraceState {
                graph: Graph::new(),
                first_error: None,
                constants: HashMap::new(),
                finished: false,
            }),
        })
    }
}

thread_local! {
    static TRACES: RefCell<Vec<Arc<Trace>>> = const { RefCell::new(Vec::new()) };
    static MODULE_PATH: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static EAGER_ERRORS: RefCell<Vec<Option<Error>>> = const { RefCell::new(Vec::new()) };
}

/// The innermost active trace of this thread.
pub(crate) fn current_trace() -> Option<Arc<Trace>> {
    TRACES.with(|t| t.borrow().last().cloned())
}

/// Records `error` as the first error of the innermost active trace, unless it already has one; outside traces,
/// of the innermost [`first_error_of`] scope. Must not be called while that trace's state is locked.
pub(crate) fn note_error(error: &Error) {
    if let Some(trace) = current_trace() {
        let mut st = trace.state.lock();
        if st.first_error.is_none() && !st.finished {
            st.first_error = Some(error.clone());
        }
    } else {
        EAGER_ERRORS.with(|s| {
            if let Some(first @ None) = s.borrow_mut().last_mut() {
                *first = Some(error.clone());
            }
        });
    }
}

/// Runs `f` eagerly and returns the first error any tensor op produced in it, as a trace would record it: a jitted
/// function run without jit (`disable_jit`) reports the same errors as when it is traced, dropped tensors included.
/// An error of a nested scope counts for the enclosing one too.
pub(crate) fn first_error_of<R>(f: impl FnOnce() -> R) -> (R, Option<Error>) {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            EAGER_ERRORS.with(|s| {
                let mut s = s.borrow_mut();
                if let (Some(Some(e)), Some(parent @ None)) = (s.pop(), s.last_mut()) {
                    *parent = Some(e);
                }
            });
        }
    }
    EAGER_ERRORS.with(|s| s.borrow_mut().push(None));
    let pop = Pop;
    let out = f();
    let first = EAGER_ERRORS.with(|s| s.borrow().last().cloned().flatten());
    drop(pop);
    (out, first)
}

/// True while a trace is being recorded on this thread (so ops are staged, not run).
pub fn is_tracing() -> bool {
    TRACES.with(|t| !t.borrow().is_empty())
}

/// Makes `trace` the innermost trace until the guard drops (also on unwinding).
pub(crate) struct TraceGuard {
    trace: Arc<Trace>,
}

impl TraceGuard {
    pub fn enter(trace: Arc<Trace>) -> TraceGuard {
        TRACES.with(|t| t.borrow_mut().push(Arc::clone(&trace)));
        TraceGuard { trace }
    }
}

impl Drop for TraceGuard {
    fn drop(&mut self) {
        TRACES.with(|t| {
            let mut t = t.borrow_mut();
            if let Some(pos) = t.iter().rposition(|x| Arc::ptr_eq(x, &self.trace)) {
                t.remove(pos);
            }
        });
        self.trace.state.lock().finished = true;
    }
}

/// The module path (`/Dense_0`) of the module whose method is running on this thread, for error messages; empty
/// outside modules.
pub fn current_module_path() -> Option<String> {
    MODULE_PATH.with(|p| {
        let p = p.borrow();
        if p.is_empty() { None } else { Some(format!("/{}", p.join("/"))) }
    })
}

/// Runs `f` with `name` pushed onto the module path (so op errors inside name the module).
pub fn with_module_scope<R>(name: &str, f: impl FnOnce() -> R) -> R {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            MODULE_PATH.with(|p| {
                p.borrow_mut().pop();
            });
        }
    }
    MODULE_PATH.with(|p| p.borrow_mut().push(name.to_string()));
    let _pop = Pop;
    f()
}
