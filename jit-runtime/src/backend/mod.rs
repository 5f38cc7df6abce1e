//! Backends: the [`Backend`]/[`Executable`] traits, devices, device buffers and transfers ([`device_put`]), the
//! registry, and the interpreter backend.

mod buffer;
mod device;
mod interpreter;
mod registry;
mod traits;
mod transfer;

pub use buffer::{ArgBuffer, DeviceBuffer, check_input_types};
pub use device::{Device, IntoDevice, Platform};
pub use interpreter::InterpreterBackend;
pub use registry::{available_devices, backend_for_device, backend_names, register_backend, resolve};
pub use traits::{Backend, CompileOptions, Executable};
pub use transfer::{DevicePut, device_put};
