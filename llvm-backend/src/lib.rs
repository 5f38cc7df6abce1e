//! The LLVM backends of `lifted-jit`: the IR lowered through inkwell to LLVM, JIT-compiled for the host CPU.
//!
//! - `fuse/`: groups the graph into kernels (elementwise chains fused into their consumer);
//! - `lower/`: per-op lowering of a kernel to an LLVM loop nest, and the driver that runs the kernels;
//! - `math/`: exp, log, tanh, erf... as polynomials in LLVM IR, so they vectorise (mirroring `jit_runtime::math`);
//! - `cpu/`: target machine, execution engine, threads, the GEMM shim, the executable;
//! - `gpu/`: the same kernels for NVIDIA GPUs (PTX through LLVM's NVPTX target, the CUDA driver through cudarc with
//!   the `cuda` feature), and their emulation on the CPU.

pub mod cpu;
pub mod error;
pub mod fuse;
pub mod gpu;
pub mod lower;
pub mod math;

pub use cpu::LlvmCpuBackend;
pub use gpu::LlvmGpuBackend;

/// Registers the LLVM CPU backend as the default CPU backend of `jit`, and the GPU backend (which reports no devices,
/// with the reason, where there is no CUDA driver or GPU).
pub fn register() {
    jit_runtime::backend::register_backend(std::sync::Arc::new(LlvmCpuBackend));
    jit_runtime::backend::register_backend(std::sync::Arc::new(LlvmGpuBackend));
}
