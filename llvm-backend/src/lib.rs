//! The LLVM backends of `lifted-jit`: the IR lowered through inkwell to LLVM, JIT-compiled for the host CPU.
//!
//! - `fuse/`: groups the graph into kernels (elementwise chains fused into their consumer);
//! - `lower/`: per-op lowering of a kernel to an LLVM loop nest;
//! - `math/`: exp, log, tanh, erf... as polynomials in LLVM IR, so they vectorise (and mirror `jit_runtime::math`);
//! - `cpu/`: target machine, execution engine, the driver function, threads and the GEMM shim.

pub mod math;
