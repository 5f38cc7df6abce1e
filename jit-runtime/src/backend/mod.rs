//! Backends: the [`Backend`]/[`Executable`] traits, devices, the registry, and the interpreter backend.

mod device;
mod interpreter;
mod registry;
mod traits;

pub use device::{Device, Platform};
pub use interpreter::InterpreterBackend;
pub use registry::{available_devices, backend_names, register_backend, resolve};
pub use traits::{Backend, CompileOptions, Executable};
