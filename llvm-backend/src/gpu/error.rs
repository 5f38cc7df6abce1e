//! Errors of the GPU backend: what was missing (driver, device, the `cuda` feature) or what the driver said.

use crate::error::LlvmError;

/// The name the GPU backend registers under and reports in errors.
pub const BACKEND_NAME: &str = "llvm-cuda";

/// What can fail when asking for, compiling for, or running on an NVIDIA GPU.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GpuError {
    /// The CUDA driver library could not be loaded.
    #[error("no CUDA driver (libcuda.so) found; devices available: {available}")]
    NoDriver {
        /// The devices of the other backends (`cpu:0`).
        available: String,
    },
    /// The driver loaded but reports no usable device (or not the ordinal asked for).
    #[error("CUDA driver found but {found}; devices available: {available}")]
    NoDevice {
        /// What the driver reported (`0 devices`, `cuInit failed: ...`).
        found: String,
        /// The devices of the other backends (`cpu:0`).
        available: String,
    },
    /// This build has no GPU runtime (the `cuda` feature of `llvm-backend` is off).
    #[error("built without GPU support (the `cuda` feature of llvm-backend is off); devices available: {available}")]
    NotCompiled {
        /// The devices of the other backends (`cpu:0`).
        available: String,
    },
    /// A CUDA driver call failed.
    #[error("CUDA driver: {0}")]
    Driver(String),
    /// Generating the kernels failed.
    #[error(transparent)]
    Llvm(#[from] LlvmError),
    /// The program does not fit what the GPU lowering supports.
    #[error("GPU lowering: {0}")]
    Unsupported(String),
}

impl From<inkwell::builder::BuilderError> for GpuError {
    fn from(e: inkwell::builder::BuilderError) -> Self {
        GpuError::Llvm(LlvmError::from(e))
    }
}

impl From<GpuError> for jit_runtime::Error {
    fn from(e: GpuError) -> Self {
        jit_runtime::Error::Backend { backend: BACKEND_NAME.to_string(), message: e.to_string() }
    }
}
