//! The GPU backend as the runtime sees it: `backend = "gpu"` (or `"cuda"`, or its name `llvm-cuda`) and
//! `device = "cuda:N"` resolve here.

use std::cell::Cell;
use std::sync::Arc;

use jit_runtime::backend::{Backend, CompileOptions, Device, DeviceBuffer, Executable, Platform, available_devices};
use jit_runtime::ir::Graph;
use jit_runtime::{Literal, Result};

use super::error::BACKEND_NAME;
use super::runtime;

thread_local! {
    /// Set while this thread lists every backend's devices for an error message, which asks this backend too.
    static LISTING: Cell<bool> = const { Cell::new(false) };
}

/// The devices of the other backends, for "devices available: cpu:0" in errors.
fn other_devices() -> String {
    LISTING.with(|l| l.set(true));
    let all = available_devices();
    LISTING.with(|l| l.set(false));
    all
}

/// Compiles graphs to PTX through LLVM's NVPTX target and runs them on an NVIDIA GPU through the CUDA driver.
///
/// Without a driver (or with the `cuda` feature off) it reports no devices, with an error saying what is missing:
///
/// ```
/// use jit_runtime::backend::Backend;
/// let gpu = llvm_backend::gpu::LlvmGpuBackend;
/// match gpu.devices() {
///     Ok(devices) => assert!(!devices.is_empty()),
///     Err(e) => assert!(e.to_string().contains("devices available"), "{e}"),
/// }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct LlvmGpuBackend;

impl Backend for LlvmGpuBackend {
    fn name(&self) -> &str {
        BACKEND_NAME
    }

    fn platform(&self) -> Platform {
        Platform::Gpu
    }

    fn priority(&self) -> i32 {
        10
    }

    fn devices(&self) -> Result<Vec<Device>> {
        if LISTING.with(|l| l.get()) {
            // Asked from inside our own error message's device list: the answer is whatever the probe says,
            // without a message (a failure is left out of the list).
            return Ok(runtime::devices(&String::new)
                .map(|ds| ds.into_iter().map(|ordinal| Device { platform: Platform::Gpu, ordinal }).collect())
                .unwrap_or_default());
        }
        let ordinals = runtime::devices(&other_devices)?;
        Ok(ordinals.into_iter().map(|ordinal| Device { platform: Platform::Gpu, ordinal }).collect())
    }

    fn compile(&self, graph: &Graph, options: &CompileOptions) -> Result<Arc<dyn Executable>> {
        graph.verify()?;
        Ok(runtime::compile(graph, options, &other_devices)?)
    }

    fn put(&self, literal: &Literal, device: Device) -> Result<Arc<dyn DeviceBuffer>> {
        Ok(runtime::put(literal, device, &other_devices)?)
    }
}
