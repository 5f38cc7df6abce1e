//! The LLVM backends of `lifted-jit` (the CPU backend arrives with its own issue; until then `jit` runs on the
//! reference interpreter).
