//! Arrays: dtypes, shapes, host buffers and the [`Array`] handle.

mod display;
mod dtype;
mod handle;
mod literal;
pub mod memory;
pub mod pool;
mod shape;

pub use dtype::{DType, Element, UnknownDType};
pub use handle::Array;
pub use literal::{HostData, Literal};
pub use pool::{BufferPool, PoolStats};
pub use shape::Shape;
