//! [`Native`]: the LLVM context and execution engine that own JIT-compiled code, kept alive by an executable (the
//! CPU backend's, and the GPU backend's CPU emulation) and dropped in the right order.

use std::mem::ManuallyDrop;

use inkwell::context::Context;
use inkwell::execution_engine::ExecutionEngine;

/// The LLVM context and execution engine that own the native code. Only dropped, never used after compilation.
pub(crate) struct Native {
    engine: ManuallyDrop<ExecutionEngine<'static>>,
    context: ManuallyDrop<Box<Context>>,
}

impl Native {
    /// Owns `engine` and the boxed `context` it was built from (borrowed as `'static` while building: see the
    /// callers' SAFETY notes), so that the engine is dropped first.
    pub(crate) fn new(engine: ExecutionEngine<'static>, context: Box<Context>) -> Native {
        Native { engine: ManuallyDrop::new(engine), context: ManuallyDrop::new(context) }
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        // SAFETY: the engine (which owns the module and the code) borrows the context, so it goes first; neither
        // is used again.
        unsafe {
            ManuallyDrop::drop(&mut self.engine);
            ManuallyDrop::drop(&mut self.context);
        }
    }
}

// SAFETY: after compilation the engine and context are never touched again except by `Drop`, which runs once, on
// whichever thread drops the last reference; the native code itself is immutable and reentrant.
unsafe impl Send for Native {}
// SAFETY: as above: shared references never reach the LLVM objects.
unsafe impl Sync for Native {}
