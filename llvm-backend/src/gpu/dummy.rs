//! The GPU runtime when the `cuda` feature is off (candle's dummy backend): the crate builds and every request for a
//! GPU is a "built without GPU support" error. PTX emission and the CPU emulation still work.

use std::sync::Arc;

use jit_runtime::backend::{CompileOptions, Executable};
use jit_runtime::ir::Graph;

use super::error::GpuError;

/// No devices: this build has no GPU runtime.
pub(crate) fn devices(available: &dyn Fn() -> String) -> Result<Vec<usize>, GpuError> {
    Err(GpuError::NotCompiled { available: available() })
}

/// Nothing to compile for: this build has no GPU runtime.
pub(crate) fn compile(
    _graph: &Graph,
    _options: &CompileOptions,
    available: &dyn Fn() -> String,
) -> Result<Arc<dyn Executable>, GpuError> {
    Err(GpuError::NotCompiled { available: available() })
}

/// Nowhere to put arrays: this build has no GPU runtime.
pub(crate) fn put(
    _literal: &jit_runtime::Literal,
    _device: jit_runtime::backend::Device,
    available: &dyn Fn() -> String,
) -> Result<Arc<dyn jit_runtime::backend::DeviceBuffer>, GpuError> {
    Err(GpuError::NotCompiled { available: available() })
}
