//! The runtime of `lifted-jit`: arrays, the IR, tracing, the reference interpreter, the JAX-compatible PRNG and
//! the `jit` call path with its compile cache and [`Backend`](backend::Backend) trait.
//!
//! A model crate depends on the facade `lifted-jit`, which re-exports this crate.

pub mod array;
pub mod backend;
pub mod error;
pub mod interp;
pub mod ir;
pub mod jit;
pub mod math;
pub mod random;
pub mod trace;

pub use array::{Array, DType, Element, HostData, Literal, Shape};
pub use error::{Error, OpError, Result, SourceLocation};
pub use trace::{Axes, Tensor, where_};
pub mod lift;

pub use jit_macros::{Module, lifted_jit};
pub use lift::{Module, Scope, Variables};

/// What the `#[lifted_jit]` and `#[derive(Module)]` expansions refer to. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::Tensor;
    pub use crate::lift::{DynamicArg, Filter, LiftOutput, LiftSpec, LiftedCall, LiftedFn, Module, Scope, StaticArg};
    pub use core::borrow::Borrow;
    pub use core::hash::{Hash, Hasher};
    pub use std::sync::OnceLock;

    /// The jit state of one method (the facade's version also installs its backends).
    pub fn lifted_fn(spec: LiftSpec) -> LiftedFn {
        LiftedFn::new(spec)
    }
}
pub mod nn;
