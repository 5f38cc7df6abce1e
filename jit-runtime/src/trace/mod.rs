//! Tracing: the [`Tensor`] type of user code, its ops, and the trace context that records them into the IR.
//!
//! # Error model
//! Ops never panic and return no `Result`. A failing op (shapes that do not broadcast, dtypes that differ, an
//! axis out of range) returns a tensor carrying an [`Error`](crate::Error) that names the op, the operand types,
//! the module path and the caller's source line (`#[track_caller]`); ops on that tensor pass the error on. Inside a
//! trace the first error is also recorded on the trace, so the `jit` call reports it even when the failing tensor
//! was dropped. The error comes out as `Err` at a boundary: [`Tensor::to_array`], a `jit` call.

mod axes;
mod composite;
pub(crate) mod context;
mod operators;
mod ops;
mod staging;
mod tensor;

pub use axes::{Axes, normalize_axis};
pub use composite::where_;
pub use context::{current_module_path, is_tracing, with_module_scope};
pub use operators::Scalar;
pub use ops::broadcast_shapes;
pub use staging::trace_to_graph;
pub(crate) use staging::{current_trace_id, late_parameter};
pub use tensor::Tensor;
