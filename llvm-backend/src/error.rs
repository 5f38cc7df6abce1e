//! Errors of the LLVM backend, turned into the runtime's `Error::Backend` at the boundary.

/// What can fail while compiling with LLVM.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LlvmError {
    /// The host target could not be set up.
    #[error("LLVM target: {0}")]
    Target(String),
    /// Building IR failed (a bug in the lowering).
    #[error("building LLVM IR: {0}")]
    Builder(String),
    /// The generated module did not verify (a bug in the lowering).
    #[error("LLVM module verification: {0}")]
    Verify(String),
    /// The optimisation pipeline failed.
    #[error("LLVM passes: {0}")]
    Passes(String),
    /// The execution engine could not be created or lacked a symbol.
    #[error("LLVM execution engine: {0}")]
    Engine(String),
}

impl From<inkwell::builder::BuilderError> for LlvmError {
    fn from(e: inkwell::builder::BuilderError) -> Self {
        LlvmError::Builder(e.to_string())
    }
}

impl From<LlvmError> for jit_runtime::Error {
    fn from(e: LlvmError) -> Self {
        jit_runtime::Error::Backend { backend: "llvm-cpu".to_string(), message: e.to_string() }
    }
}
