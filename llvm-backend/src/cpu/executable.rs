//! A compiled program on the CPU: native code, the buffer plan of a call, and `run`.

use std::sync::Arc;

use inkwell::context::Context;
use jit_runtime::array::BufferPool;
use jit_runtime::array::memory::check_host_allocation;
use jit_runtime::array::pool::MIN_POOLED_BYTES;
use jit_runtime::backend::{CompileOptions, Executable};
use jit_runtime::ir::{Graph, Op, TensorType};
use jit_runtime::{Error, HostData, Literal, Result};
use parking_lot::Mutex;

use super::dump::Dumper;
use super::engine;
use super::memory::{self, Temp};
use super::native::Native;
use crate::error::LlvmError;
use crate::fuse;
use crate::lower::{BufferLayout, DRIVER_NAME, Lowerer};

type DriverFn = unsafe extern "C" fn(*mut *mut u8);

/// Where each result comes from.
#[derive(Clone, Debug)]
enum Source {
    /// A graph parameter, returned as is.
    Param(usize),
    /// A constant of the graph.
    Constant(Arc<Literal>),
    /// Computed into a slot.
    Slot(usize, TensorType),
}

/// A program compiled to native code.
pub struct CpuExecutable {
    _native: Native,
    driver: DriverFn,
    params: Vec<TensorType>,
    num_slots: usize,
    constants: Vec<(usize, Arc<Literal>)>,
    outputs: Vec<Source>,
    /// Per output: the donated parameter whose buffer it may be written into.
    aliases: Vec<Option<usize>>,
    temps: Vec<Temp>,
    workspace_words: usize,
    workspaces: Mutex<Vec<Vec<u64>>>,
    /// Bytes a call allocates (results not written over a donated input, and the workspace), and for messages the
    /// program's name.
    call_bytes: usize,
    name: String,
    artifacts: Vec<(String, String)>,
}

/// Code-generation choices of one compile that are not part of the program; [`Tuning::from_env`] gives the
/// defaults (and what the environment variables of the README set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// Results of flat loop kernels of at least this many bytes are written with non-temporal stores (see
    /// [`engine::streaming_bytes`]); `None`: never.
    pub streaming_bytes: Option<usize>,
}

impl Tuning {
    /// The defaults, with `LIFTED_JIT_STREAMING_BYTES` applied.
    pub fn from_env() -> Tuning {
        Tuning { streaming_bytes: engine::streaming_bytes() }
    }
}

/// Compiles a verified graph with the default [`Tuning`].
pub fn compile(graph: &Graph, options: &CompileOptions) -> Result<CpuExecutable> {
    compile_tuned(graph, options, Tuning::from_env())
}

/// Compiles a verified graph with the given code-generation choices.
pub fn compile_tuned(graph: &Graph, options: &CompileOptions, tuning: Tuning) -> Result<CpuExecutable> {
    let plan = fuse::plan(graph);
    let aliases = memory::donation_aliases(graph, &plan, &options.donated);
    let layout = BufferLayout::new(graph, &plan, &aliases);
    let dumper = Dumper::from_env(&options.name);
    dumper.write("traced.txt", &graph.to_string());
    let fused = plan.display(graph).to_string();
    dumper.write("fused.txt", &fused);

    let t_start = std::time::Instant::now();
    let context = Box::new(Context::create());
    // SAFETY: the context lives in a Box owned by `Native` together with the engine built from it, and is dropped
    // after the engine (see `Native::drop`), so every `'static` borrow made here ends before it does.
    let cx: &'static Context = unsafe { &*(context.as_ref() as *const Context) };
    let module = cx.create_module(&options.name);
    let builder = cx.create_builder();
    let mut lowerer = Lowerer::new(cx, &module, &builder, graph, &plan, &layout);
    lowerer.streaming_bytes = tuning.streaming_bytes;
    lowerer.emit_program("ljit").map_err(LlvmError::from)?;
    let streaming = std::mem::take(&mut lowerer.streaming_kernels);
    engine::mark_host_functions(cx, &module);
    let t_lowered = std::time::Instant::now();
    let before = module.print_to_string().to_string();
    dumper.write("ll", &before);
    let t_print1 = std::time::Instant::now();
    let tm = engine::host_target_machine()?;
    let t_tm = std::time::Instant::now();
    engine::optimise(&module, &tm)?;
    engine::stream_stores(cx, &module, &streaming);
    let t_opt = std::time::Instant::now();
    let after = module.print_to_string().to_string();
    dumper.write("opt.ll", &after);
    if dumper.enabled() {
        match tm.write_to_memory_buffer(&module, inkwell::targets::FileType::Assembly) {
            Ok(buf) => dumper.write("s", &String::from_utf8_lossy(buf.as_slice())),
            Err(e) => dumper.write("s", &format!("assembly not available: {e}")),
        }
    }
    let t_print2 = std::time::Instant::now();
    let ee = engine::jit(&module)?;
    let addr = ee.get_function_address(DRIVER_NAME).map_err(|e| LlvmError::Engine(e.to_string()))?;
    // SAFETY: `addr` is the address of the driver just compiled, whose LLVM signature is `void (ptr)`; it stays
    // valid while `Native` keeps the engine alive, and the executable holds `Native`.
    let driver: DriverFn = unsafe { std::mem::transmute::<usize, DriverFn>(addr) };
    let t_code = std::time::Instant::now();
    let timings = format!(
        "lower {:?}, print {:?}, target machine {:?}, optimise {:?}, print {:?}, codegen {:?}",
        t_lowered - t_start,
        t_print1 - t_lowered,
        t_tm - t_print1,
        t_opt - t_tm,
        t_print2 - t_opt,
        t_code - t_print2
    );
    if std::env::var_os("LIFTED_JIT_TIMES").is_some() {
        eprintln!("compile `{}`: {timings}", options.name);
    }
    dumper.write("times.txt", &timings);
    drop(module);
    let native = Native::new(ee, context);

    let mut constants = Vec::new();
    for node in graph.nodes() {
        if let Op::Constant(lit) = &node.op
            && let Some(slot) = layout.slot_of[node.outputs[0].index()]
        {
            constants.push((slot, Arc::clone(lit)));
        }
    }
    let outputs: Vec<Source> = graph
        .outputs()
        .iter()
        .map(|&o| {
            let node = graph.node(graph.value(o).node);
            match &node.op {
                Op::Parameter { index, .. } => Source::Param(*index),
                Op::Constant(lit) => Source::Constant(Arc::clone(lit)),
                _ => Source::Slot(layout.slot_of[o.index()].unwrap_or(usize::MAX), graph.ty(o).clone()),
            }
        })
        .collect();
    let (temps, words) = memory::place_temporaries(graph, &plan, &layout);
    let mut result_slots = Vec::new();
    let mut call_bytes = words.saturating_mul(8);
    for (src, alias) in outputs.iter().zip(&aliases) {
        if let (Source::Slot(slot, ty), None) = (src, alias)
            && !result_slots.contains(slot)
        {
            result_slots.push(*slot);
            call_bytes = call_bytes.saturating_add(ty.shape.numel().saturating_mul(ty.dtype.size_in_bytes()));
        }
    }
    Ok(CpuExecutable {
        _native: native,
        driver,
        params: graph.param_types(),
        num_slots: layout.num_slots,
        constants,
        outputs,
        aliases,
        temps,
        workspace_words: words,
        workspaces: Mutex::new(Vec::new()),
        call_bytes,
        name: options.name.clone(),
        artifacts: vec![
            ("fusion".to_string(), fused),
            ("llvm-ir".to_string(), before),
            ("llvm-ir-opt".to_string(), after),
            ("compile-times".to_string(), timings),
        ],
    })
}

impl Executable for CpuExecutable {
    fn run(&self, mut inputs: Vec<Arc<Literal>>) -> Result<Vec<Arc<Literal>>> {
        if inputs.len() != self.params.len() {
            return Err(Error::invalid_argument(format!(
                "the compiled program takes {} inputs, got {}",
                self.params.len(),
                inputs.len()
            )));
        }
        for (i, (lit, ty)) in inputs.iter().zip(&self.params).enumerate() {
            if lit.dtype() != ty.dtype || lit.shape() != &ty.shape {
                return Err(Error::invalid_argument(format!(
                    "input {i} is {}{} but the program was compiled for {ty}",
                    lit.dtype(),
                    lit.shape()
                )));
            }
        }
        check_host_allocation(self.call_bytes, || format!("the results and temporaries of `{}`", self.name))
            .map_err(Error::OutOfMemory)?;
        let mut table: Vec<*mut u8> = vec![std::ptr::null_mut(); self.num_slots];
        for (i, lit) in inputs.iter().enumerate() {
            table[i] = lit.data().as_ptr() as *mut u8;
        }
        for (slot, lit) in &self.constants {
            table[*slot] = lit.data().as_ptr() as *mut u8;
        }
        let mut results: Vec<(usize, HostData, TensorType)> = Vec::new();
        for (src, alias) in self.outputs.iter().zip(&self.aliases) {
            if let Source::Slot(slot, ty) = src
                && !results.iter().any(|(s, _, _)| s == slot)
            {
                // An output aliased to a donated input shares its slot (the kernels were compiled to read it
                // before, or at the same element as, they write it): the input's buffer becomes the output's,
                // or a copy of it when someone else still holds the input.
                let mut data = match alias {
                    Some(i) => {
                        let lit = std::mem::replace(&mut inputs[*i], Arc::new(Literal::scalar(0u32)));
                        match Arc::try_unwrap(lit) {
                            Ok(l) => l.into_data(),
                            Err(shared) => {
                                let copy = shared.data().pooled_copy();
                                inputs[*i] = shared;
                                copy
                            }
                        }
                    }
                    // The kernels write every element of an output: a recycled buffer saves the page faults of
                    // fresh memory.
                    None => HostData::for_overwrite(ty.dtype, ty.shape.numel()),
                };
                table[*slot] = data.as_mut_ptr();
                results.push((*slot, data, ty.clone()));
            }
        }
        // Temporaries are written before they are read, so stale contents are fine. A large workspace comes from
        // (and goes back to) the global pool, which bounds what idle executables retain; a small one is kept here.
        let pooled = self.workspace_words * 8 >= MIN_POOLED_BYTES;
        let mut workspace = if self.workspace_words == 0 {
            Vec::new()
        } else if pooled {
            BufferPool::global().take_or_zeroed::<u64>(self.workspace_words)
        } else {
            self.workspaces.lock().pop().unwrap_or_else(|| vec![0u64; self.workspace_words])
        };
        for t in &self.temps {
            table[t.slot] = workspace[t.offset..].as_mut_ptr() as *mut u8;
        }
        // SAFETY: the table holds, for every slot the generated code reads or writes, a buffer of the dtype and
        // element count the code was compiled for (inputs checked above; outputs and temporaries allocated from
        // the same types), alive until the call returns.
        unsafe { (self.driver)(table.as_mut_ptr()) };
        if pooled {
            BufferPool::global().give(workspace);
        } else if self.workspace_words > 0 {
            self.workspaces.lock().push(workspace);
        }
        let mut computed: Vec<(usize, Arc<Literal>)> = Vec::new();
        for (slot, data, ty) in results {
            computed.push((slot, Arc::new(Literal::new(data, ty.shape)?)));
        }
        self.outputs
            .iter()
            .map(|src| match src {
                Source::Param(i) => Ok(Arc::clone(&inputs[*i])),
                Source::Constant(lit) => Ok(Arc::clone(lit)),
                Source::Slot(slot, _) => computed
                    .iter()
                    .find(|(s, _)| s == slot)
                    .map(|(_, l)| Arc::clone(l))
                    .ok_or_else(|| Error::Backend { backend: "llvm-cpu".into(), message: "missing output".into() }),
            })
            .collect()
    }

    fn artifacts(&self) -> Vec<(String, String)> {
        self.artifacts.clone()
    }
}
