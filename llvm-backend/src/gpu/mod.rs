//! The GPU backend: the CPU backend's fused kernels lowered for `nvptx64-nvidia-cuda` and run through the CUDA
//! driver.
//!
//! - [`target`]: the NVPTX target machine (`sm_80` unless the device is newer) and PTX text;
//! - [`kernels`]: the entry points, a grid-stride loop per kernel around the CPU backend's kernel body, with the
//!   thread/block indices read from PTX registers or, for the emulation, passed as arguments;
//! - [`program`]: lowering a graph for the GPU and the host's side of a call; [`compile_ptx`] needs no GPU;
//! - [`split`]: large reductions to one element split in two launches (a block per partial result);
//! - `block_sync`: barriers, warp shuffles and shared memory of the block-folded reductions (the lowering is
//!   `lower/block_reduce.rs`), for a GPU and for the emulation;
//! - [`emulate`]: the kernels compiled for the host CPU and run one (block, thread) at a time, to test the GPU
//!   path's logic without a GPU;
//! - `cuda` (feature `cuda`, on by default): devices, buffers, module loading and launches through cudarc, with
//!   libcuda loaded at run time; without the feature a dummy answers "built without GPU support";
//! - [`backend`]: [`LlvmGpuBackend`], registered by [`crate::register`].

pub mod backend;
pub(crate) mod block_sync;
pub mod emulate;
pub mod error;
pub(crate) mod fmod;
pub mod kernels;
pub mod precision;
pub mod program;
pub mod split;
pub mod target;

#[cfg(feature = "cuda")]
mod cublas;
#[cfg(feature = "cuda")]
mod cuda;
#[cfg(not(feature = "cuda"))]
mod dummy;

#[cfg(feature = "cuda")]
use cuda as runtime;
#[cfg(not(feature = "cuda"))]
use dummy as runtime;

pub use backend::LlvmGpuBackend;
#[cfg(feature = "cuda")]
pub use cuda::{CudaBuffer, CudaExecutable};
pub use emulate::{
    EMULATED_BACKEND_NAME, EmulatedBuffer, EmulatedExecutable, EmulatedGpuBackend, EmulatedGrid, Transfers,
    compile_emulated, transfers,
};
pub use error::{BACKEND_NAME, GpuError};
pub use kernels::{BlockReduce, GemmLaunch, IndexSource, Launch, Schedule};
pub use precision::{MATMUL_PRECISION_VAR, MatmulPrecision};
pub use program::{PtxProgram, compile_ptx, compile_ptx_donating};
pub use target::SmVersion;
