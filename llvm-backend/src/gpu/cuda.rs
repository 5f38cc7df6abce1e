//! The CUDA driver side (feature `cuda`): finding devices, loading PTX, device buffers, copies and launches, through
//! cudarc with libcuda loaded at run time. Nothing here runs without a driver: [`devices`] checks that libcuda can
//! be loaded before any driver call (cudarc panics on a missing library).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, DevicePtr, LaunchConfig, PushKernelArg};
use cudarc::nvrtc::Ptx;
use jit_runtime::backend::{ArgBuffer, CompileOptions, Device, DeviceBuffer, Executable};
use jit_runtime::ir::{Graph, TensorType};
use jit_runtime::{DType, HostData, Literal, Result, Shape};
use parking_lot::Mutex;

use super::cublas::Blas;
use super::error::GpuError;
use super::kernels::{Launch, launch_grid};
use super::precision::MatmulPrecision;
use super::program::{HostPlan, SlotKind, Source, compile_ptx_donating};
use super::target::SmVersion;

/// Threads per block of every launch.
const THREADS_PER_BLOCK: usize = 256;
/// Blocks per launch at most (the grid-stride loop covers larger kernels).
const MAX_BLOCKS: usize = 65_535;

fn driver_error(e: cudarc::driver::DriverError) -> GpuError {
    GpuError::Driver(e.to_string())
}

/// What probing the driver found once: the number of devices, or why there is none.
#[derive(Clone, Debug)]
enum Probe {
    NoDriver,
    NoDevice(String),
    Devices(usize),
}

fn probe() -> &'static Probe {
    static PROBE: OnceLock<Probe> = OnceLock::new();
    PROBE.get_or_init(|| {
        // SAFETY: only tries to open the library (`dlopen` of libcuda's usual names) and closes it again.
        if !unsafe { cudarc::driver::sys::is_culib_present() } {
            return Probe::NoDriver;
        }
        match CudaContext::device_count() {
            Ok(n) if n > 0 => Probe::Devices(n as usize),
            Ok(_) => Probe::NoDevice("it reports no device".to_string()),
            Err(e) => Probe::NoDevice(format!("cuInit/cuDeviceGetCount failed ({e})")),
        }
    })
}

/// The ordinals of the CUDA devices, or why there are none (`available` lists the other devices for the message).
pub(crate) fn devices(available: &dyn Fn() -> String) -> std::result::Result<Vec<usize>, GpuError> {
    match probe() {
        Probe::NoDriver => Err(GpuError::NoDriver { available: available() }),
        Probe::NoDevice(found) => Err(GpuError::NoDevice { found: found.clone(), available: available() }),
        Probe::Devices(n) => Ok((0..*n).collect()),
    }
}

/// The primary context of device `ordinal`, created once.
fn context(ordinal: usize) -> std::result::Result<Arc<CudaContext>, GpuError> {
    static CONTEXTS: OnceLock<Mutex<HashMap<usize, Arc<CudaContext>>>> = OnceLock::new();
    let mut map = CONTEXTS.get_or_init(|| Mutex::new(HashMap::new())).lock();
    if let Some(c) = map.get(&ordinal) {
        return Ok(Arc::clone(c));
    }
    let c = CudaContext::new(ordinal).map_err(driver_error)?;
    map.insert(ordinal, Arc::clone(&c));
    Ok(c)
}

/// The bytes of host data.
fn bytes(d: &HostData) -> &[u8] {
    let n = d.len() * d.dtype().size_in_bytes();
    // SAFETY: `HostData` is a `Vec` of plain numbers or `bool`s, `n` bytes long, initialised, and borrowed for the
    // returned slice's lifetime.
    unsafe { std::slice::from_raw_parts(d.as_ptr(), n) }
}

/// The bytes of host data, writable.
fn bytes_mut(d: &mut HostData) -> &mut [u8] {
    let n = d.len() * d.dtype().size_in_bytes();
    // SAFETY: as in `bytes`, borrowed mutably; only the device's copy of a buffer of the same dtype is written
    // into it (for `bool`, bytes 0 or 1, which the kernels store).
    unsafe { std::slice::from_raw_parts_mut(d.as_mut_ptr(), n) }
}

/// An array in a GPU's global memory.
pub struct CudaBuffer {
    device: Device,
    dtype: DType,
    shape: Shape,
    slice: CudaSlice<u8>,
    /// The device address, read once where the context is current (reading it records an event on the stream).
    ptr: u64,
}

impl CudaBuffer {
    fn new(device: Device, dtype: DType, shape: Shape, slice: CudaSlice<u8>) -> CudaBuffer {
        let ptr = slice.device_ptr(slice.stream()).0;
        CudaBuffer { device, dtype, shape, slice, ptr }
    }
}

impl DeviceBuffer for CudaBuffer {
    fn device(&self) -> Device {
        self.device
    }

    fn dtype(&self) -> DType {
        self.dtype
    }

    fn shape(&self) -> &Shape {
        &self.shape
    }

    fn id(&self) -> u64 {
        self.ptr
    }

    fn to_host(&self) -> Result<Literal> {
        let stream = self.slice.stream();
        stream.context().bind_to_thread().map_err(driver_error)?;
        let mut data = HostData::for_overwrite(self.dtype, self.shape.numel());
        let dst = bytes_mut(&mut data);
        if !dst.is_empty() {
            let src = self.slice.slice(0..dst.len());
            stream.memcpy_dtoh(&src, dst).map_err(driver_error)?;
        }
        stream.synchronize().map_err(driver_error)?;
        Literal::new(data, self.shape.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// A program loaded on one GPU.
pub struct CudaExecutable {
    device: Device,
    context: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    /// Per launch: the kernel and how to launch it (extent, schedule, buffer slots, BLAS form: run through cuBLAS
    /// when `blas` is loaded).
    functions: Vec<(CudaFunction, Launch)>,
    blas: Option<Blas>,
    /// Per slot: the device copy of a constant, uploaded once.
    constants: Vec<Option<CudaSlice<u8>>>,
    /// Per slot: a temporary (computed, not an output), whose buffer is kept for the next call.
    temporary: Vec<bool>,
    /// Per slot: the result of a cuBLAS product, which accumulates into it (`C = A B + C`): zeroed every call.
    zeroed: Vec<bool>,
    /// The temporaries' buffers of the last finished call (taken by the next one; a concurrent call allocates).
    workspace: Mutex<Option<Vec<Option<CudaSlice<u8>>>>>,
    plan: HostPlan,
    artifacts: Vec<(String, String)>,
}

/// Device memory for `data` (one byte at least: the driver refuses empty allocations).
fn upload(stream: &Arc<CudaStream>, data: &HostData) -> std::result::Result<CudaSlice<u8>, GpuError> {
    let b = bytes(data);
    if b.is_empty() { stream.alloc_zeros::<u8>(1) } else { stream.clone_htod(b) }.map_err(driver_error)
}

/// A host value copied to the device of `stream`, finished when this returns.
fn upload_buffer(
    device: Device,
    stream: &Arc<CudaStream>,
    literal: &Literal,
) -> std::result::Result<CudaBuffer, GpuError> {
    let slice = upload(stream, literal.data())?;
    stream.synchronize().map_err(driver_error)?;
    Ok(CudaBuffer::new(device, literal.dtype(), literal.shape().clone(), slice))
}

/// `device_put` to a GPU: the value copied into a new buffer on `device`.
pub(crate) fn put(
    literal: &Literal,
    device: Device,
    available: &dyn Fn() -> String,
) -> std::result::Result<Arc<dyn DeviceBuffer>, GpuError> {
    let all = devices(available)?;
    if !all.contains(&device.ordinal) {
        return Err(GpuError::NoDevice {
            found: format!("there is no device {device} ({} devices)", all.len()),
            available: available(),
        });
    }
    let context = context(device.ordinal)?;
    context.bind_to_thread().map_err(driver_error)?;
    let stream = context.default_stream();
    Ok(Arc::new(upload_buffer(device, &stream, literal)?))
}

/// Compiles `graph` for the device of `options` and loads it.
pub(crate) fn compile(
    graph: &Graph,
    options: &CompileOptions,
    available: &dyn Fn() -> String,
) -> std::result::Result<Arc<dyn Executable>, GpuError> {
    let ordinal = options.device.ordinal;
    let all = devices(available)?;
    if !all.contains(&ordinal) {
        return Err(GpuError::NoDevice {
            found: format!("there is no device cuda:{ordinal} ({} devices)", all.len()),
            available: available(),
        });
    }
    let context = context(ordinal)?;
    let (major, minor) = context.compute_capability().map_err(driver_error)?;
    let sm = SmVersion::from_compute_capability(major, minor);
    let program = compile_ptx_donating(graph, &options.name, sm, &options.donated)?;
    let module = context.load_module(Ptx::from_src(program.ptx.clone())).map_err(driver_error)?;
    let functions = program
        .launches()
        .iter()
        .map(|l| Ok((module.load_function(&l.name).map_err(driver_error)?, l.clone())))
        .collect::<std::result::Result<Vec<_>, GpuError>>()?;
    let stream = context.new_stream().map_err(driver_error)?;
    let blas = if program.launches().iter().any(|l| l.gemm.is_some()) {
        super::cublas::load(&stream, MatmulPrecision::from_env()?)?
    } else {
        None
    };
    let n_slots = program.plan.slots.len();
    let mut temporary: Vec<bool> = program.plan.slots.iter().map(|s| matches!(s, SlotKind::Owned(_))).collect();
    for src in &program.plan.outputs {
        if let Source::Slot(slot) = src
            && let Some(t) = temporary.get_mut(*slot)
        {
            *t = false;
        }
    }
    let mut zeroed = vec![false; n_slots];
    if blas.is_some() {
        for g in program.launches().iter().filter_map(|l| l.gemm.as_ref()).filter(|g| Blas::accepts(g)) {
            if let Some(z) = zeroed.get_mut(g.out) {
                *z = true;
            }
        }
    }
    let constants = program
        .plan
        .slots
        .iter()
        .map(|s| match s {
            SlotKind::Constant(lit) => upload(&stream, lit.data()).map(Some),
            _ => Ok(None),
        })
        .collect::<std::result::Result<Vec<_>, GpuError>>()?;
    let artifacts = vec![
        ("fusion".to_string(), program.plan.fused.clone()),
        ("llvm-ir".to_string(), program.llvm_ir.clone()),
        ("ptx".to_string(), program.ptx.clone()),
    ];
    Ok(Arc::new(CudaExecutable {
        device: options.device,
        context,
        stream,
        functions,
        blas,
        constants,
        temporary,
        zeroed,
        workspace: Mutex::new(None),
        plan: program.plan,
        artifacts,
    }))
}

/// The GPU memory of a buffer known to be a [`CudaBuffer`].
fn cuda(b: &Arc<dyn DeviceBuffer>) -> std::result::Result<&CudaBuffer, GpuError> {
    b.as_any()
        .downcast_ref::<CudaBuffer>()
        .ok_or_else(|| GpuError::Unsupported("internal: a resident input is not CUDA memory".into()))
}

impl CudaExecutable {
    /// An input as a buffer on this executable's device: as it is when it is there already, otherwise uploaded
    /// (a value on another device goes through the host).
    fn resident(&self, input: ArgBuffer) -> Result<Arc<dyn DeviceBuffer>> {
        match input {
            ArgBuffer::Device(b) if b.device() == self.device && b.as_any().is::<CudaBuffer>() => Ok(b),
            other => Ok(Arc::new(upload_buffer(self.device, &self.stream, &*other.to_host()?)?)),
        }
    }

    fn run_on_device(&self, inputs: Vec<ArgBuffer>) -> Result<Vec<ArgBuffer>> {
        self.plan.check_inputs(&inputs)?;
        self.context.bind_to_thread().map_err(driver_error)?;
        let stream = &self.stream;
        let mut resident = inputs.into_iter().map(|b| self.resident(b)).collect::<Result<Vec<_>>>()?;
        // A donated input that an output is written into must be this call's alone: otherwise (another array
        // still holds it) the output gets a device copy.
        let mut written = vec![false; resident.len()];
        for i in self.plan.aliased_params() {
            written[i] = true;
        }
        for (i, b) in resident.iter_mut().enumerate() {
            if written[i] && Arc::get_mut(b).is_none() {
                let src = cuda(b)?;
                let slice = stream.clone_dtod(&src.slice).map_err(driver_error)?;
                *b = Arc::new(CudaBuffer::new(self.device, src.dtype, src.shape.clone(), slice));
            }
        }
        // Outputs get fresh buffers (they leave with the call); temporaries reuse the last call's. Kernels write
        // every element of what they compute, so only cuBLAS results (which accumulate) are zeroed.
        let mut cached = self.workspace.lock().take();
        let mut owned: Vec<Option<CudaSlice<u8>>> = Vec::with_capacity(self.plan.slots.len());
        for (slot, kind) in self.plan.slots.iter().enumerate() {
            owned.push(match kind {
                SlotKind::Owned(ty) => {
                    let n = (ty.shape.numel() * ty.dtype.size_in_bytes()).max(1);
                    let reused = match (&mut cached, self.temporary[slot]) {
                        (Some(ws), true) => ws.get_mut(slot).and_then(Option::take),
                        _ => None,
                    };
                    let mut buf = match reused {
                        Some(b) => b,
                        // SAFETY: uninitialised device memory, which the kernels write in full before anything
                        // reads it (or which is zeroed just below for a cuBLAS result).
                        None => unsafe { stream.alloc::<u8>(n) }.map_err(driver_error)?,
                    };
                    if self.zeroed[slot] {
                        stream.memset_zeros(&mut buf).map_err(driver_error)?;
                    }
                    Some(buf)
                }
                _ => None,
            });
        }
        // The device address of every slot; each launch passes those of its own slots as its parameters.
        let mut table: Vec<u64> = Vec::with_capacity(owned.len());
        for (slot, kind) in self.plan.slots.iter().enumerate() {
            let buf = match kind {
                SlotKind::Param(i) => &cuda(&resident[*i])?.slice,
                SlotKind::Constant(_) => self
                    .constants
                    .get(slot)
                    .and_then(Option::as_ref)
                    .ok_or_else(|| GpuError::Unsupported(format!("constant slot {slot} has no device memory")))?,
                SlotKind::Owned(_) => owned
                    .get(slot)
                    .and_then(Option::as_ref)
                    .ok_or_else(|| GpuError::Unsupported(format!("buffer slot {slot} has no device memory")))?,
            };
            let (ptr, _sync) = buf.device_ptr(stream);
            table.push(ptr);
        }
        for (function, launch) in &self.functions {
            if let (Some(g), Some(blas)) = (&launch.gemm, &self.blas)
                && Blas::accepts(g)
                && matches!(self.plan.slots.get(g.out), Some(SlotKind::Owned(_)))
            {
                // SAFETY: `table` holds the live device buffer of every slot, of the dtype and size the program
                // was compiled for (the GEMM's operands are materialised values, its result a fresh allocation,
                // zeroed by `alloc_zeros` above, distinct from them); the stream is synchronised below.
                unsafe { blas.gemm(g, &table) }?;
                continue;
            }
            let (nblocks, nthreads) = launch_grid(launch.extent, launch.schedule, THREADS_PER_BLOCK, MAX_BLOCKS);
            if nblocks == 0 {
                continue;
            }
            let cfg = LaunchConfig {
                grid_dim: (nblocks as u32, 1, 1),
                block_dim: (nthreads as u32, 1, 1),
                shared_mem_bytes: 0,
            };
            let extent = launch.extent as i64;
            let pointers =
                launch.slots.iter().map(|&s| table.get(s).copied()).collect::<Option<Vec<u64>>>().ok_or_else(|| {
                    GpuError::Unsupported(format!("kernel {} reads a slot out of range", launch.name))
                })?;
            let mut builder = stream.launch_builder(function);
            let array;
            if launch.takes_array() {
                array = stream.clone_htod(&pointers).map_err(driver_error)?;
                builder.arg(&array);
            } else {
                for p in &pointers {
                    builder.arg(p);
                }
            }
            builder.arg(&extent);
            // SAFETY: the kernel's PTX signature is one `.param .u64` per slot of `launch.slots` (or one for the
            // device array of them when `takes_array`), then `.param .u64 extent`, matching the arguments;
            // `table` holds one live device buffer per slot of the dtype and size the kernels were compiled for;
            // the only slots written are fresh allocations and donated inputs this call holds the sole reference
            // to (`Arc::get_mut` above); every buffer outlives the launches (the stream is synchronised below,
            // and an uploaded array is freed in stream order after its launch).
            unsafe { builder.launch(cfg) }.map_err(driver_error)?;
        }
        stream.synchronize().map_err(driver_error)?;
        let workspace: Vec<Option<CudaSlice<u8>>> =
            owned.iter_mut().enumerate().map(|(slot, b)| if self.temporary[slot] { b.take() } else { None }).collect();
        *self.workspace.lock() = Some(workspace);
        let device = self.device;
        self.plan.collect_outputs(
            |i| ArgBuffer::Device(Arc::clone(&resident[i])),
            owned,
            |slice: CudaSlice<u8>, ty: &TensorType| {
                Ok(ArgBuffer::Device(Arc::new(CudaBuffer::new(device, ty.dtype, ty.shape.clone(), slice))))
            },
        )
    }
}

impl Executable for CudaExecutable {
    fn run(&self, inputs: Vec<Arc<Literal>>) -> Result<Vec<Arc<Literal>>> {
        let outs = self.run_on_device(inputs.iter().cloned().map(ArgBuffer::Host).collect())?;
        self.plan.host_outputs(&inputs, outs)
    }

    fn uses_device_buffers(&self) -> bool {
        true
    }

    fn run_arrays(&self, inputs: Vec<ArgBuffer>) -> Result<Vec<ArgBuffer>> {
        self.run_on_device(inputs)
    }

    fn artifacts(&self) -> Vec<(String, String)> {
        self.artifacts.clone()
    }
}
