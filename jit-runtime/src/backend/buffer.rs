//! Arrays that live on a device: [`DeviceBuffer`], a backend's device memory as the runtime sees it, and
//! [`ArgBuffer`], an input or output of a call wherever it lives.

use std::any::Any;
use std::sync::Arc;

use super::Device;
use crate::array::{DType, Literal, Shape};
use crate::error::{Error, Result};

/// One array's memory on a device (a GPU's global memory), owned by the backend that allocated it.
///
/// The runtime only asks where it lives, what it holds and for a host copy; the backend that made it downcasts
/// through [`as_any`](DeviceBuffer::as_any) to reach the memory. A buffer is immutable while shared: a backend
/// writes into one only when it holds the sole reference (a donated input, see [`Executable::run_arrays`]).
///
/// [`Executable::run_arrays`]: super::Executable::run_arrays
pub trait DeviceBuffer: Send + Sync {
    /// The device holding it.
    fn device(&self) -> Device;

    /// The element type.
    fn dtype(&self) -> DType;

    /// The shape.
    fn shape(&self) -> &Shape;

    /// Identifies the memory (the device address, or an allocation number): two buffers with the same id are
    /// the same memory. Tests use it to see that a donated input's buffer became an output.
    fn id(&self) -> u64;

    /// Copies the contents to the host.
    fn to_host(&self) -> Result<Literal>;

    /// For the owning backend's downcast.
    fn as_any(&self) -> &dyn Any;

    /// For the owning backend's downcast when it holds the only reference.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// An input or output of [`Executable::run_arrays`](super::Executable::run_arrays): a host literal or a device
/// buffer.
#[derive(Clone)]
pub enum ArgBuffer {
    /// On the host.
    Host(Arc<Literal>),
    /// On a device.
    Device(Arc<dyn DeviceBuffer>),
}

impl ArgBuffer {
    /// Where it lives (`cpu:0` for host literals).
    pub fn device(&self) -> Device {
        match self {
            ArgBuffer::Host(_) => Device::CPU,
            ArgBuffer::Device(b) => b.device(),
        }
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            ArgBuffer::Host(l) => l.dtype(),
            ArgBuffer::Device(b) => b.dtype(),
        }
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        match self {
            ArgBuffer::Host(l) => l.shape(),
            ArgBuffer::Device(b) => b.shape(),
        }
    }

    /// The value on the host: the literal itself, or a copy of the device buffer.
    pub fn to_host(&self) -> Result<Arc<Literal>> {
        match self {
            ArgBuffer::Host(l) => Ok(Arc::clone(l)),
            ArgBuffer::Device(b) => b.to_host().map(Arc::new),
        }
    }
}

impl std::fmt::Debug for ArgBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArgBuffer::Host(l) => write!(f, "Host({}{})", l.dtype(), l.shape()),
            ArgBuffer::Device(b) => {
                write!(f, "Device({}{} on {}, buffer {})", b.dtype(), b.shape(), b.device(), b.id())
            }
        }
    }
}

/// Checks call inputs against a program's parameter types: count, dtype and shape (the message every backend
/// gives).
pub fn check_input_types<'a>(
    inputs: impl ExactSizeIterator<Item = (DType, &'a Shape)>,
    params: &[crate::ir::TensorType],
) -> Result<()> {
    if inputs.len() != params.len() {
        return Err(Error::invalid_argument(format!(
            "the compiled program takes {} inputs, got {}",
            params.len(),
            inputs.len()
        )));
    }
    for (i, ((dtype, shape), ty)) in inputs.zip(params).enumerate() {
        if dtype != ty.dtype || shape != &ty.shape {
            return Err(Error::invalid_argument(format!(
                "input {i} is {dtype}{shape} but the program was compiled for {ty}"
            )));
        }
    }
    Ok(())
}
