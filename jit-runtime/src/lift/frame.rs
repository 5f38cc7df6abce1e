//! The state shared by every [`Scope`](super::Scope) of one `init`/`apply` (or of one traced lifted method): the
//! variables, which collections may change, the PRNG streams and their counters, and the first scope error.

use std::collections::{BTreeMap, HashMap};

use super::filter::Filter;
use super::variables::Variables;
use crate::error::Error;
use crate::trace::Tensor;

/// What a lifted transform lets its body see (`None` outside lifted transforms: everything).
pub(crate) struct Lifted {
    /// The jitted function, for messages.
    pub function: String,
    /// The attribute's `variables` filter.
    pub variables: Filter,
    /// The attribute's `rngs` filter.
    pub rngs: Filter,
    /// The trace the body is recorded into (keys are parameters of this trace).
    pub trace_id: u64,
    /// Lifted streams that have a root key outside.
    pub streams: Vec<String>,
    /// The keys the body asked for, in order: each is a parameter of the trace after the declared ones.
    pub requests: Vec<KeyRequest>,
}

/// One `make_rng` inside a traced lifted method: the key is computed on the host at each call from the stream's
/// root key, the module path and the stream's counter there, so counters and keys stay runtime inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyRequest {
    /// The module path relative to the jitted method's module.
    pub path: Vec<String>,
    /// The stream.
    pub stream: String,
    /// Which call of `make_rng` on this stream at this path, counting from 1 within one call of the method.
    pub offset: u32,
}

pub(crate) struct Frame {
    /// The variables, with paths relative to `root_path`.
    pub vars: Variables,
    /// Collections that may be written or created.
    pub mutable: Filter,
    /// Whether this is `init` (Flax's `is_initializing`).
    pub initializing: bool,
    /// Root keys of the streams (empty inside lifted transforms, whose keys are trace parameters).
    pub rngs: BTreeMap<String, Tensor>,
    /// `make_rng` calls so far per (path relative to `root_path`, stream).
    pub counters: HashMap<(Vec<String>, String), u32>,
    /// The absolute module path of the frame's root scope.
    pub root_path: Vec<String>,
    /// Set inside lifted transforms.
    pub lifted: Option<Lifted>,
    /// The first error of a scope operation.
    pub error: Option<Error>,
}

impl Frame {
    pub fn root(vars: Variables, rngs: BTreeMap<String, Tensor>, mutable: Filter, initializing: bool) -> Frame {
        Frame {
            vars,
            mutable,
            initializing,
            rngs,
            counters: HashMap::new(),
            root_path: Vec::new(),
            lifted: None,
            error: None,
        }
    }

    /// Records `error` if it is the first.
    pub fn record(&mut self, error: &Error) {
        if self.error.is_none() {
            self.error = Some(error.clone());
        }
    }
}
