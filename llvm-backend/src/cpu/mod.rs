//! The CPU backend: target machine and JIT ([`engine`]), the shims generated code calls ([`shims`]), the
//! executable and its call ([`executable`]), and debug dumps ([`dump`]).

pub mod dump;
pub mod engine;
pub mod executable;
pub mod memory;
pub(crate) mod native;
pub mod shims;

use std::sync::Arc;

use jit_runtime::Result;
use jit_runtime::backend::{Backend, CompileOptions, Device, Executable, Platform};
use jit_runtime::ir::Graph;

/// Compiles graphs to native code for the host CPU through LLVM. The default CPU backend once registered.
#[derive(Clone, Copy, Debug, Default)]
pub struct LlvmCpuBackend;

impl Backend for LlvmCpuBackend {
    fn name(&self) -> &str {
        "llvm-cpu"
    }

    fn platform(&self) -> Platform {
        Platform::Cpu
    }

    fn priority(&self) -> i32 {
        10
    }

    fn devices(&self) -> Result<Vec<Device>> {
        Ok(vec![Device::CPU])
    }

    fn compile(&self, graph: &Graph, options: &CompileOptions) -> Result<Arc<dyn Executable>> {
        graph.verify()?;
        Ok(Arc::new(executable::compile(graph, options)?))
    }
}
