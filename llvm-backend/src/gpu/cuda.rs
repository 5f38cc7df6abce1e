//! The CUDA driver side (feature `cuda`): finding devices, loading PTX, device buffers, copies and launches, through
//! cudarc with libcuda loaded at run time. Nothing here runs without a driver: [`devices`] checks that libcuda can
//! be loaded before any driver call (cudarc panics on a missing library).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, DevicePtr, LaunchConfig, PushKernelArg};
use cudarc::nvrtc::Ptx;
use jit_runtime::backend::{CompileOptions, Executable};
use jit_runtime::ir::Graph;
use jit_runtime::{HostData, Literal, Result};
use parking_lot::Mutex;

use super::error::GpuError;
use super::kernels::grid;
use super::program::{HostPlan, SlotKind, Source, compile_ptx};
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

/// A program loaded on one GPU.
pub struct CudaExecutable {
    context: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    functions: Vec<(CudaFunction, usize)>,
    /// Per slot: the device copy of a constant, uploaded once.
    constants: Vec<Option<CudaSlice<u8>>>,
    plan: HostPlan,
    artifacts: Vec<(String, String)>,
}

/// Device memory for `data` (one byte at least: the driver refuses empty allocations).
fn upload(stream: &Arc<CudaStream>, data: &HostData) -> std::result::Result<CudaSlice<u8>, GpuError> {
    let b = bytes(data);
    if b.is_empty() { stream.alloc_zeros::<u8>(1) } else { stream.clone_htod(b) }.map_err(driver_error)
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
    let program = compile_ptx(graph, &options.name, SmVersion::from_compute_capability(major, minor))?;
    let module = context.load_module(Ptx::from_src(program.ptx.clone())).map_err(driver_error)?;
    let functions = program
        .launches()
        .iter()
        .map(|l| Ok((module.load_function(&l.name).map_err(driver_error)?, l.extent)))
        .collect::<std::result::Result<Vec<_>, GpuError>>()?;
    let stream = context.new_stream().map_err(driver_error)?;
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
    Ok(Arc::new(CudaExecutable { context, stream, functions, constants, plan: program.plan, artifacts }))
}

impl CudaExecutable {
    fn run_on_device(&self, inputs: &[Arc<Literal>]) -> std::result::Result<Vec<Option<HostData>>, GpuError> {
        self.context.bind_to_thread().map_err(driver_error)?;
        let stream = &self.stream;
        let mut buffers: Vec<Option<CudaSlice<u8>>> = Vec::with_capacity(self.plan.slots.len());
        for kind in &self.plan.slots {
            buffers.push(match kind {
                SlotKind::Param(i) => Some(upload(stream, inputs[*i].data())?),
                SlotKind::Constant(_) => None,
                SlotKind::Owned(ty) => {
                    let n = (ty.shape.numel() * ty.dtype.size_in_bytes()).max(1);
                    Some(stream.alloc_zeros::<u8>(n).map_err(driver_error)?)
                }
            });
        }
        let mut table: Vec<u64> = Vec::with_capacity(buffers.len());
        for (slot, b) in buffers.iter().enumerate() {
            let buf = b
                .as_ref()
                .or(self.constants.get(slot).and_then(Option::as_ref))
                .ok_or_else(|| GpuError::Unsupported(format!("buffer slot {slot} has no device memory")))?;
            let (ptr, _sync) = buf.device_ptr(stream);
            table.push(ptr);
        }
        let table = stream.clone_htod(&table).map_err(driver_error)?;
        for (function, extent) in &self.functions {
            let (nblocks, nthreads) = grid(*extent, THREADS_PER_BLOCK, MAX_BLOCKS);
            if nblocks == 0 {
                continue;
            }
            let cfg = LaunchConfig {
                grid_dim: (nblocks as u32, 1, 1),
                block_dim: (nthreads as u32, 1, 1),
                shared_mem_bytes: 0,
            };
            let extent = *extent as i64;
            let mut launch = stream.launch_builder(function);
            launch.arg(&table);
            launch.arg(&extent);
            // SAFETY: the kernel's PTX signature is `(.param .u64 bufs, .param .u64 extent)`, matching the two
            // arguments; `table` holds one live device buffer per slot of the dtype and size the kernels were
            // compiled for, and every buffer outlives the launches (the stream is synchronised below).
            unsafe { launch.launch(cfg) }.map_err(driver_error)?;
        }
        let mut out: Vec<Option<HostData>> = vec![None; self.plan.slots.len()];
        for src in &self.plan.outputs {
            let Source::Slot(slot) = src else { continue };
            if out[*slot].is_some() {
                continue;
            }
            let (Some(SlotKind::Owned(ty)), Some(Some(buf))) = (self.plan.slots.get(*slot), buffers.get(*slot)) else {
                return Err(GpuError::Unsupported(format!("output slot {slot} is not computed")));
            };
            let mut data = HostData::for_overwrite(ty.dtype, ty.shape.numel());
            let dst = bytes_mut(&mut data);
            if !dst.is_empty() {
                let src = buf.slice(0..dst.len());
                stream.memcpy_dtoh(&src, dst).map_err(driver_error)?;
            }
            out[*slot] = Some(data);
        }
        stream.synchronize().map_err(driver_error)?;
        Ok(out)
    }
}

impl Executable for CudaExecutable {
    fn run(&self, inputs: Vec<Arc<Literal>>) -> Result<Vec<Arc<Literal>>> {
        self.plan.check_inputs(&inputs)?;
        let computed = self.run_on_device(&inputs)?;
        self.plan.collect_outputs(&inputs, computed)
    }

    fn artifacts(&self) -> Vec<(String, String)> {
        self.artifacts.clone()
    }
}
