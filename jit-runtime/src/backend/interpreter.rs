//! The interpreter as a backend: "compiling" keeps the verified graph; running interprets it.

use std::sync::Arc;

use super::{Backend, CompileOptions, Device, Executable, Platform};
use crate::array::Literal;
use crate::error::Result;
use crate::interp;
use crate::ir::Graph;

/// Runs graphs on the reference interpreter. Always available; the lowest-priority CPU backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct InterpreterBackend;

struct InterpreterExecutable {
    graph: Graph,
}

impl Backend for InterpreterBackend {
    fn name(&self) -> &str {
        "interpreter"
    }

    fn platform(&self) -> Platform {
        Platform::Cpu
    }

    fn priority(&self) -> i32 {
        -100
    }

    fn devices(&self) -> Result<Vec<Device>> {
        Ok(vec![Device::CPU])
    }

    fn compile(&self, graph: &Graph, _options: &CompileOptions) -> Result<Arc<dyn Executable>> {
        graph.verify()?;
        Ok(Arc::new(InterpreterExecutable { graph: graph.clone() }))
    }
}

impl Executable for InterpreterExecutable {
    fn run(&self, inputs: Vec<Arc<Literal>>) -> Result<Vec<Arc<Literal>>> {
        interp::run(&self.graph, &inputs)
    }
}
