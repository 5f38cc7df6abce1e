//! The [`Backend`] and [`Executable`] traits: what a code generator implements to run traced programs.

use std::sync::Arc;

use super::{Device, Platform};
use crate::array::Literal;
use crate::error::Result;
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
}

/// A compiled program.
pub trait Executable: Send + Sync {
    /// Runs on inputs matching the graph's parameters (checked: count, dtype and shape) and returns the outputs.
    /// Inputs whose parameter was compiled as donated may be consumed.
    fn run(&self, inputs: Vec<Arc<Literal>>) -> Result<Vec<Arc<Literal>>>;

    /// Text artefacts of the compilation for humans (`("llvm-ir", ...)`, `("asm", ...)`); empty by default.
    fn artifacts(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}
