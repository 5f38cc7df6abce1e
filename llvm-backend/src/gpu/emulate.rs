//! The GPU kernels run on the host CPU: the same entry points with [`IndexSource::Emulated`], compiled by the CPU
//! engine, and a harness that calls every (block, thread) of each launch's grid in turn. It tests what the GPU
//! path adds to the CPU backend (flat indexing, grid-stride loops, the buffer table, launch order and grids)
//! without a GPU; only the PTX code generation and the driver stay untested.
//!
//! Device memory is emulated too: an [`EmulatedBuffer`] is host memory tagged with its emulated device, and every
//! copy between the host and an emulated device is counted ([`transfers`]), so tests can check that arrays put on
//! the device stay there across calls and that donated buffers are reused.

use std::any::Any;
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use inkwell::context::Context;
use jit_runtime::backend::{ArgBuffer, Backend, CompileOptions, Device, DeviceBuffer, Executable, Platform};
use jit_runtime::ir::{Graph, TensorType};
use jit_runtime::{DType, Error, HostData, Literal, Result, Shape};

use super::block_sync::{Team, TeamState};
use super::error::GpuError;
use super::kernels::{BlockReduce, IndexSource, Schedule, launch_grid};
use super::program::{HostPlan, SlotKind, lower};
use crate::cpu::engine;
use crate::cpu::native::Native;
use crate::error::LlvmError;

/// The emulated launch grid: threads per block and the most blocks of a launch, and how reductions are folded by
/// blocks. Small grids make the grid-stride loop take several turns and leave threads idle at the end, as large
/// kernels do on a GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmulatedGrid {
    /// Threads per block (of the launches with a thread per element).
    pub threads: usize,
    /// Blocks per launch at most.
    pub max_blocks: usize,
    /// Reductions folded by blocks of threads, as on a GPU but with the emulation's own warp width and block
    /// size (each thread of such a block is an OS thread); `None`: a thread per output element.
    pub blocks: Option<BlockReduce>,
}

impl EmulatedGrid {
    /// Block reductions in warps of 4 lanes, two warps per block, for every reduction over two elements or more:
    /// small enough to run as OS threads, large enough to exercise the shuffles and the fold across warps.
    pub const SMALL_BLOCKS: BlockReduce =
        BlockReduce { warp: 4, max_threads: 8, min_reduced: 2, max_column_outputs: usize::MAX };
}

impl Default for EmulatedGrid {
    /// 4 threads per block, at most 3 blocks, reductions folded by [`EmulatedGrid::SMALL_BLOCKS`].
    fn default() -> Self {
        EmulatedGrid { threads: 4, max_blocks: 3, blocks: Some(EmulatedGrid::SMALL_BLOCKS) }
    }
}

/// The emulation as a backend, for tests of the whole `jit` path: named `llvm-gpu-emulated`, on platform GPU with
/// the devices `cuda:0` .. `cuda:{devices - 1}` (two by default), priority below the real GPU backend's (so `backend = "gpu"` never picks it); only
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
#[derive(Clone, Copy, Debug)]
pub struct EmulatedGpuBackend {
    /// The grid every launch is emulated on.
    pub grid: EmulatedGrid,
    /// How many emulated devices there are.
    pub devices: usize,
}

impl Default for EmulatedGpuBackend {
    /// The default grid, two devices.
    fn default() -> Self {
        EmulatedGpuBackend { grid: EmulatedGrid::default(), devices: 2 }
    }
}

/// Copies between the host and the emulated devices counted on one thread (see [`transfers`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transfers {
    /// Host to device: `device_put`, and host inputs of a call.
    pub host_to_device: usize,
    /// Device to host: reading an array, and device inputs of a call on another device (which go through the
    /// host) or of a CPU function.
    pub device_to_host: usize,
    /// Device to device: a donated input that someone else still holds, copied so the output can be written.
    pub device_to_device: usize,
}

impl Transfers {
    /// The transfers since `earlier` (an earlier [`transfers`] of the same thread).
    pub fn since(self, earlier: Transfers) -> Transfers {
        Transfers {
            host_to_device: self.host_to_device - earlier.host_to_device,
            device_to_host: self.device_to_host - earlier.device_to_host,
            device_to_device: self.device_to_device - earlier.device_to_device,
        }
    }
}

thread_local! {
    static TRANSFERS: Cell<Transfers> = const {
        Cell::new(Transfers { host_to_device: 0, device_to_host: 0, device_to_device: 0 })
    };
}

/// The copies to, from and between emulated devices that this thread made so far. Counted per thread so that
/// tests running in parallel do not see each other's.
pub fn transfers() -> Transfers {
    TRANSFERS.with(Cell::get)
}

fn count(f: impl FnOnce(&mut Transfers)) {
    TRANSFERS.with(|t| {
        let mut v = t.get();
        f(&mut v);
        t.set(v);
    });
}

/// Emulated device memory: host memory tagged with an emulated device and an allocation number.
pub struct EmulatedBuffer {
    device: Device,
    id: u64,
    data: HostData,
    shape: Shape,
}

impl EmulatedBuffer {
    fn new(device: Device, data: HostData, shape: Shape) -> EmulatedBuffer {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        EmulatedBuffer { device, id: NEXT_ID.fetch_add(1, Ordering::Relaxed), data, shape }
    }

    /// Uploads a host value (counted as a host-to-device copy).
    fn upload(device: Device, literal: &Literal) -> EmulatedBuffer {
        count(|t| t.host_to_device += 1);
        EmulatedBuffer::new(device, literal.data().clone(), literal.shape().clone())
    }
}

impl DeviceBuffer for EmulatedBuffer {
    fn device(&self) -> Device {
        self.device
    }

    fn dtype(&self) -> DType {
        self.data.dtype()
    }

    fn shape(&self) -> &Shape {
        &self.shape
    }

    fn id(&self) -> u64 {
        self.id
    }

    fn to_host(&self) -> Result<Literal> {
        count(|t| t.device_to_host += 1);
        Literal::new(self.data.clone(), self.shape.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
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
        Ok((0..self.devices).map(Device::gpu).collect())
    }

    fn compile(&self, graph: &Graph, options: &CompileOptions) -> Result<Arc<dyn Executable>> {
        graph.verify()?;
        Ok(Arc::new(compile_emulated(graph, options, self.grid)?))
    }

    fn put(&self, literal: &Literal, device: Device) -> Result<Arc<dyn DeviceBuffer>> {
        if device.platform != Platform::Gpu || device.ordinal >= self.devices {
            return Err(Error::UnknownDevice {
                name: device.to_string(),
                available: jit_runtime::backend::available_devices(),
            });
        }
        Ok(Arc::new(EmulatedBuffer::upload(device, literal)))
    }
}

/// `void entry(ptr args, i64 extent, i64 block, i64 thread, i64 nblocks, i64 nthreads, ptr team)`, `args` the
/// buffers of the launch's slots.
type EntryFn = unsafe extern "C" fn(*mut *mut u8, i64, i64, i64, i64, i64, *const Team);

/// The buffers of a launch, handed to the OS threads of an emulated block.
struct Table(*mut *mut u8);

// SAFETY: the array is only read during the launches; the buffers it points to are written by the emulated
// threads at distinct elements (each output element by one thread of one block), as on a GPU, and the harness
// reads them after joining the threads.
unsafe impl Sync for Table {}

/// A program whose GPU kernels run on the host, one emulated thread at a time.
pub struct EmulatedExecutable {
    _native: Native,
    device: Device,
    entries: Vec<(EntryFn, usize, Schedule, Vec<usize>)>,
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
    let (module, plan) = lower(cx, graph, &options.name, IndexSource::Emulated, &options.donated, grid.blocks)?;
    let llvm_ir = module.print_to_string().to_string();
    engine::mark_host_functions(cx, &module);
    let tm = engine::host_target_machine()?;
    engine::optimise(&module, &tm)?;
    let ee = engine::jit(&module)?;
    let mut entries = Vec::with_capacity(plan.launches.len());
    for launch in &plan.launches {
        let addr = ee.get_function_address(&launch.name).map_err(|e| LlvmError::Engine(e.to_string()))?;
        // SAFETY: `addr` is the address of an entry point just compiled with the LLVM signature
        // `void (ptr, i64, i64, i64, i64, i64, ptr)`; it stays valid while `Native` keeps the engine alive.
        let f: EntryFn = unsafe { std::mem::transmute::<usize, EntryFn>(addr) };
        entries.push((f, launch.extent, launch.schedule, launch.slots.clone()));
    }
    drop(module);
    let native = Native::new(ee, context);
    Ok(EmulatedExecutable { _native: native, device: options.device, entries, plan, grid, llvm_ir })
}

impl EmulatedExecutable {
    /// Input `i` as a buffer on this executable's device: as it is when it is there already, otherwise uploaded
    /// (a device value elsewhere goes through the host).
    fn resident(&self, input: ArgBuffer) -> Result<Arc<dyn DeviceBuffer>> {
        match input {
            ArgBuffer::Device(b) if b.device() == self.device && b.as_any().is::<EmulatedBuffer>() => Ok(b),
            other => Ok(Arc::new(EmulatedBuffer::upload(self.device, &*other.to_host()?))),
        }
    }
}

/// The emulated memory of a buffer known to be an [`EmulatedBuffer`].
fn emulated(b: &Arc<dyn DeviceBuffer>) -> Result<&EmulatedBuffer> {
    b.as_any().downcast_ref::<EmulatedBuffer>().ok_or_else(|| Error::Backend {
        backend: EMULATED_BACKEND_NAME.into(),
        message: "internal: a resident input is not emulated memory".into(),
    })
}

impl Executable for EmulatedExecutable {
    fn run(&self, inputs: Vec<Arc<Literal>>) -> Result<Vec<Arc<Literal>>> {
        let outs = self.run_arrays(inputs.iter().cloned().map(ArgBuffer::Host).collect())?;
        self.plan.host_outputs(&inputs, outs)
    }

    fn uses_device_buffers(&self) -> bool {
        true
    }

    fn run_arrays(&self, inputs: Vec<ArgBuffer>) -> Result<Vec<ArgBuffer>> {
        self.plan.check_inputs(&inputs)?;
        let mut resident = inputs.into_iter().map(|b| self.resident(b)).collect::<Result<Vec<_>>>()?;
        let mut table: Vec<*mut u8> = vec![std::ptr::null_mut(); self.plan.slots.len()];
        // A donated input that an output is written into must be this call's alone: otherwise (another array
        // still holds it) the output gets a copy, as the CPU backend does.
        let mut written = vec![false; resident.len()];
        for i in self.plan.aliased_params() {
            written[i] = true;
        }
        for (i, b) in resident.iter_mut().enumerate() {
            if !written[i] {
                continue;
            }
            if Arc::get_mut(b).is_none() {
                let src = emulated(b)?;
                count(|t| t.device_to_device += 1);
                *b = Arc::new(EmulatedBuffer::new(self.device, src.data.clone(), src.shape.clone()));
            }
        }
        let mut owned: Vec<Option<HostData>> = vec![None; self.plan.slots.len()];
        for (slot, kind) in self.plan.slots.iter().enumerate() {
            table[slot] = match kind {
                SlotKind::Param(i) if written[*i] => {
                    let b = resident
                        .get_mut(*i)
                        .and_then(Arc::get_mut)
                        .and_then(|b| b.as_any_mut().downcast_mut::<EmulatedBuffer>());
                    let b = b.ok_or_else(|| Error::Backend {
                        backend: EMULATED_BACKEND_NAME.into(),
                        message: "internal: a donated buffer is shared".into(),
                    })?;
                    b.data.as_mut_ptr()
                }
                // Read only: the kernels never write a parameter's slot unless an output is aliased to it.
                SlotKind::Param(i) => emulated(&resident[*i])?.data.as_ptr() as *mut u8,
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
        for (entry, extent, schedule, slots) in &self.entries {
            let (entry, extent, schedule) = (*entry, *extent, *schedule);
            let mut args: Vec<*mut u8> = slots.iter().map(|&s| table[s]).collect();
            // SAFETY (both calls below): `args` holds, for every slot of the kernel, a live buffer of the dtype and
            // element count it was compiled for (inputs checked above, the others allocated from the plan's
            // types); the only slots written are owned buffers and donated inputs this call holds the sole
            // reference to (`Arc::get_mut` above), and nothing else touches them until the launches end; the
            // indices describe a grid the kernel's grid-stride loop stays within `extent` on; a block-folded
            // kernel gets the team its block's threads share, which outlives them.
            let (nblocks, nthreads) = launch_grid(extent, schedule, self.grid.threads, self.grid.max_blocks);
            match schedule {
                Schedule::Elements => {
                    for block in 0..nblocks {
                        for thread in 0..nthreads {
                            let (b, t, nb, nt) = (block as i64, thread as i64, nblocks as i64, nthreads as i64);
                            // SAFETY: see above; this kernel never uses the team.
                            unsafe { entry(args.as_mut_ptr(), extent as i64, b, t, nb, nt, std::ptr::null()) };
                        }
                    }
                }
                Schedule::Blocks { .. } => {
                    let warp = self.grid.blocks.map_or(2, |b| b.warp);
                    let shared = Table(args.as_mut_ptr());
                    TeamState::run(nthreads, 2 * warp, &|thread, team| {
                        let shared = &shared;
                        for block in 0..nblocks {
                            let (b, t, nb, nt) = (block as i64, thread as i64, nblocks as i64, nthreads as i64);
                            // SAFETY: see above; every thread of the block runs every block in the same order,
                            // so all of them reach the same barriers.
                            unsafe { entry(shared.0, extent as i64, b, t, nb, nt, team) };
                        }
                    });
                }
            }
        }
        let device = self.device;
        self.plan.collect_outputs(
            |i| ArgBuffer::Device(Arc::clone(&resident[i])),
            owned,
            |data: HostData, ty: &TensorType| {
                Ok(ArgBuffer::Device(Arc::new(EmulatedBuffer::new(device, data, ty.shape.clone()))))
            },
        )
    }

    fn artifacts(&self) -> Vec<(String, String)> {
        vec![("fusion".to_string(), self.plan.fused.clone()), ("llvm-ir".to_string(), self.llvm_ir.clone())]
    }
}
