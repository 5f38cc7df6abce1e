//! Arrays: dtypes, shapes, host buffers and the [`Array`] handle.

mod display;
mod dtype;
mod handle;
mod literal;
mod shape;

pub use dtype::{DType, Element, UnknownDType};
pub use handle::Array;
pub use literal::{HostData, Literal};
pub use shape::Shape;
