//! The GPU kernels run on the host CPU: the same entry points with [`IndexSource::Emulated`], compiled by the CPU
//! engine, and a harness that calls every (block, thread) of each launch's grid in turn. It tests what the GPU
//! path adds to the CPU backend (flat indexing, grid-stride loops, the buffer table, launch order and grids)
//! without a GPU; only the PTX code generation and the driver stay untested.

use std::mem::ManuallyDrop;
use std::sync::Arc;

use inkwell::context::Context;
use inkwell::execution_engine::ExecutionEngine;
use jit_runtime::backend::{Backend, CompileOptions, Device, Executable, Platform};
use jit_runtime::ir::Graph;
use jit_runtime::{HostData, Literal, Result};

use super::error::GpuError;
use super::kernels::{IndexSource, grid};
use super::program::{HostPlan, SlotKind, lower};
use crate::cpu::engine;
use crate::error::LlvmError;

/// The emulated launch grid: threads per block and the most blocks of a launch. Small grids make the
/// grid-stride loop take several turns and leave threads idle at the end, as large kernels do on a GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmulatedGrid {
    /// Threads per block.
    pub threads: usize,
    /// Blocks per launch at most.
    pub max_blocks: usize,
}

impl Default for EmulatedGrid {
    /// 4 threads per block, at most 3 blocks.
    fn default() -> Self {
        EmulatedGrid { threads: 4, max_blocks: 3 }
    }
}

/// The emulation as a backend, for tests of the whole `jit` path: named `llvm-gpu-emulated`, on platform GPU with
/// one device `cuda:0`, priority below the real GPU backend's (so `backend = "gpu"` never picks it); only
/// `.backend("llvm-gpu-emulated")` does, once it is registered. Not registered by [`crate::register`].
///
/// ```
/// use std::sync::Arc;
/// use jit_runtime::{DType, Tensor};
/// use llvm_backend::gpu::EmulatedGpuBackend;
///
/// jit_runtime::backend::register_backend(Arc::new(EmulatedGpuBackend::default()));
/// let f = jit_runtime::jit::jit(|x: Tensor| (&x * 2.0).tanh()).backend("llvm-gpu-emulated");
/// let y = f.call((Tensor::full(DType::F32, [5], 0.25),))?;
/// assert_eq!(y.to_vec::<f32>()?, vec![0.5f32.tanh(); 5]);
/// # Ok::<(), jit_runtime::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct EmulatedGpuBackend {
    /// The grid every launch is emulated on.
    pub grid: EmulatedGrid,
}

/// The name [`EmulatedGpuBackend`] registers under.
pub const EMULATED_BACKEND_NAME: &str = "llvm-gpu-emulated";

impl Backend for EmulatedGpuBackend {
    fn name(&self) -> &str {
        EMULATED_BACKEND_NAME
    }

    fn platform(&self) -> Platform {
        Platform::Gpu
    }

    fn priority(&self) -> i32 {
        -10
    }

    fn devices(&self) -> Result<Vec<Device>> {
        Ok(vec![Device { platform: Platform::Gpu, ordinal: 0 }])
    }

    fn compile(&self, graph: &Graph, options: &CompileOptions) -> Result<Arc<dyn Executable>> {
        graph.verify()?;
        Ok(Arc::new(compile_emulated(graph, options, self.grid)?))
    }
}

/// The LLVM context and execution engine that own the native code. Only dropped, never used after compilation.
struct Native {
    engine: ManuallyDrop<ExecutionEngine<'static>>,
    context: ManuallyDrop<Box<Context>>,
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

// SAFETY: after compilation the engine and context are never touched again except by `Drop`; the native code is
// immutable and reentrant.
unsafe impl Send for Native {}
// SAFETY: as above: shared references never reach the LLVM objects.
unsafe impl Sync for Native {}

/// `void entry(ptr bufs, i64 extent, i64 block, i64 thread, i64 nblocks, i64 nthreads)`.
type EntryFn = unsafe extern "C" fn(*mut *mut u8, i64, i64, i64, i64, i64);

/// A program whose GPU kernels run on the host, one emulated thread at a time.
pub struct EmulatedExecutable {
    _native: Native,
    entries: Vec<(EntryFn, usize)>,
    plan: HostPlan,
    grid: EmulatedGrid,
    llvm_ir: String,
}

/// Compiles `graph` as GPU kernels for the CPU emulation.
pub fn compile_emulated(
    graph: &Graph,
    options: &CompileOptions,
    grid: EmulatedGrid,
) -> std::result::Result<EmulatedExecutable, GpuError> {
    let context = Box::new(Context::create());
    // SAFETY: the context lives in a Box owned by `Native` together with the engine built from it, and is dropped
    // after the engine (see `Native::drop`), so every `'static` borrow made here ends before it does.
    let cx: &'static Context = unsafe { &*(context.as_ref() as *const Context) };
    let (module, plan) = lower(cx, graph, &options.name, IndexSource::Emulated)?;
    let llvm_ir = module.print_to_string().to_string();
    engine::mark_host_functions(cx, &module);
    let tm = engine::host_target_machine()?;
    engine::optimise(&module, &tm)?;
    let ee = engine::jit(&module)?;
    let mut entries = Vec::with_capacity(plan.launches.len());
    for launch in &plan.launches {
        let addr = ee.get_function_address(&launch.name).map_err(|e| LlvmError::Engine(e.to_string()))?;
        // SAFETY: `addr` is the address of an entry point just compiled with the LLVM signature
        // `void (ptr, i64, i64, i64, i64, i64)`; it stays valid while `Native` keeps the engine alive.
        let f: EntryFn = unsafe { std::mem::transmute::<usize, EntryFn>(addr) };
        entries.push((f, launch.extent));
    }
    drop(module);
    let native = Native { engine: ManuallyDrop::new(ee), context: ManuallyDrop::new(context) };
    Ok(EmulatedExecutable { _native: native, entries, plan, grid, llvm_ir })
}

impl Executable for EmulatedExecutable {
    fn run(&self, inputs: Vec<Arc<Literal>>) -> Result<Vec<Arc<Literal>>> {
        self.plan.check_inputs(&inputs)?;
        let mut owned: Vec<Option<HostData>> = vec![None; self.plan.slots.len()];
        let mut table: Vec<*mut u8> = vec![std::ptr::null_mut(); self.plan.slots.len()];
        for (slot, kind) in self.plan.slots.iter().enumerate() {
            table[slot] = match kind {
                SlotKind::Param(i) => inputs[*i].data().as_ptr() as *mut u8,
                SlotKind::Constant(lit) => lit.data().as_ptr() as *mut u8,
                SlotKind::Owned(ty) => {
                    // Garbage, not zeros, so an element no thread writes shows up: NaN for floats, 77 (`true`)
                    // for integers.
                    let fill = if ty.dtype.is_float() { f64::NAN } else { 77.0 };
                    let mut data = HostData::full(ty.dtype, ty.shape.numel(), fill);
                    let p = data.as_mut_ptr();
                    owned[slot] = Some(data);
                    p
                }
            };
        }
        for &(entry, extent) in &self.entries {
            let (nblocks, nthreads) = grid(extent, self.grid.threads, self.grid.max_blocks);
            for block in 0..nblocks {
                for thread in 0..nthreads {
                    // SAFETY: the table holds, for every slot, a live buffer of the dtype and element count the
                    // kernels were compiled for (inputs checked above, the others allocated from the plan's
                    // types); the indices describe a grid the kernel's grid-stride loop stays within `extent` on.
                    unsafe {
                        entry(
                            table.as_mut_ptr(),
                            extent as i64,
                            block as i64,
                            thread as i64,
                            nblocks as i64,
                            nthreads as i64,
                        )
                    };
                }
            }
        }
        self.plan.collect_outputs(&inputs, owned)
    }

    fn artifacts(&self) -> Vec<(String, String)> {
        vec![("fusion".to_string(), self.plan.fused.clone()), ("llvm-ir".to_string(), self.llvm_ir.clone())]
    }
}
