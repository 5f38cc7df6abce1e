//! The [`Backend`] and [`Executable`] traits: what a code generator implements to run traced programs.

use std::sync::Arc;

use super::{ArgBuffer, Device, DeviceBuffer, Platform};
use crate::array::Literal;
use crate::error::{Error, Result};
use crate::ir::Graph;

/// What the compile step knows beyond the graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileOptions {
    /// The function's name (for dumps and messages).
    pub name: String,
    /// Per graph parameter: may its buffer be reused for an output?
    pub donated: Vec<bool>,
    /// Where the code will run.
    pub device: Device,
}

/// A code generator: compiles a verified [`Graph`] into an [`Executable`].
pub trait Backend: Send + Sync {
    /// The backend's name (`interpreter`, `llvm-cpu`, ...).
    fn name(&self) -> &str;

    /// The platform it targets.
    fn platform(&self) -> Platform;

    /// Among backends of one platform, the highest priority is the default.
    fn priority(&self) -> i32 {
        0
    }

    /// The devices this backend can run on now; an error says what is missing (no driver, no device).
    fn devices(&self) -> Result<Vec<Device>>;

    /// Compiles a verified graph.
    fn compile(&self, graph: &Graph, options: &CompileOptions) -> Result<Arc<dyn Executable>>;

    /// Copies a host value into a new buffer on `device` (`jax.device_put`). Backends that keep arrays on the
    /// host (the CPU backends) answer with an error, the default.
    fn put(&self, literal: &Literal, device: Device) -> Result<Arc<dyn DeviceBuffer>> {
        let _ = literal;
        Err(Error::Backend {
            backend: self.name().to_string(),
            message: format!("keeps arrays on the host: it cannot place one on {device}"),
        })
    }
}

/// A compiled program.
pub trait Executable: Send + Sync {
    /// Runs on inputs matching the graph's parameters (checked: count, dtype and shape) and returns the outputs.
    /// Inputs whose parameter was compiled as donated may be consumed.
    fn run(&self, inputs: Vec<Arc<Literal>>) -> Result<Vec<Arc<Literal>>>;

    /// True when [`run_arrays`](Executable::run_arrays) keeps values on a device: the jit call path then hands
    /// device-resident inputs over as they are and returns device-resident outputs. False (the default): the call
    /// path uses [`run`](Executable::run) on host literals.
    fn uses_device_buffers(&self) -> bool {
        false
    }

    /// Runs on inputs wherever they live and returns the outputs where the program leaves them. A device
    /// program uses inputs already on its device in place, copies the others there, and leaves its outputs on
    /// the device; a donated input (compiled as donated) that this call holds the only reference to may become an
    /// output's buffer. The default copies device inputs to the host and runs [`run`](Executable::run).
    fn run_arrays(&self, inputs: Vec<ArgBuffer>) -> Result<Vec<ArgBuffer>> {
        let literals = inputs.iter().map(ArgBuffer::to_host).collect::<Result<Vec<_>>>()?;
        Ok(self.run(literals)?.into_iter().map(ArgBuffer::Host).collect())
    }

    /// Text artefacts of the compilation for humans (`("llvm-ir", ...)`, `("asm", ...)`); empty by default.
    fn artifacts(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}
