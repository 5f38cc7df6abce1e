//! A program for the GPU: the kernels' LLVM module, lowered for a real GPU (PTX text) or for the CPU emulation,
//! and the host's side of a call (what each buffer-table slot holds, where each output comes from, the launches).

use std::sync::Arc;

use inkwell::context::Context;
use inkwell::module::Module;
use jit_runtime::backend::{ArgBuffer, check_input_types};
use jit_runtime::ir::{Graph, Op, TensorType};
use jit_runtime::{Error, Literal, Result};

use super::error::{BACKEND_NAME, GpuError};
use super::kernels::{BlockReduce, IndexSource, Launch, emit_gpu_program};
use super::split::split_reductions;
use super::target::{SmVersion, nvptx_target_machine, optimise_nvptx, ptx_text};
use crate::cpu::dump::Dumper;
use crate::cpu::memory::donation_aliases;
use crate::fuse;
use crate::lower::{BufferLayout, Lowerer};

/// What one slot of the buffer table holds during a call.
#[derive(Clone, Debug)]
pub(crate) enum SlotKind {
    /// Graph parameter `i` (an input, copied in).
    Param(usize),
    /// An array constant of the graph.
    Constant(Arc<Literal>),
    /// A value computed by a kernel (an output or a temporary), of this type.
    Owned(TensorType),
}

/// Where one output of a call comes from.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// A graph parameter, returned as is.
    Param(usize),
    /// A constant of the graph.
    Constant(Arc<Literal>),
    /// Computed into a slot.
    Slot(usize),
}

/// The host's side of a GPU program.
#[derive(Clone, Debug)]
pub(crate) struct HostPlan {
    pub(crate) params: Vec<TensorType>,
    pub(crate) slots: Vec<SlotKind>,
    pub(crate) outputs: Vec<Source>,
    pub(crate) launches: Vec<Launch>,
    pub(crate) fused: String,
}

impl HostPlan {
    /// Checks a call's inputs against the parameters: count, dtype and shape.
    pub(crate) fn check_inputs(&self, inputs: &[ArgBuffer]) -> Result<()> {
        check_input_types(inputs.iter().map(|b| (b.dtype(), b.shape())), &self.params)
    }

    /// The parameters whose buffer an output is written into (a donated input, see [`lower`]).
    pub(crate) fn aliased_params(&self) -> impl Iterator<Item = usize> + '_ {
        self.outputs.iter().filter_map(|src| match src {
            Source::Slot(slot) => match self.slots.get(*slot) {
                Some(SlotKind::Param(i)) => Some(*i),
                _ => None,
            },
            _ => None,
        })
    }

    /// The outputs of a host call ([`Executable::run`](jit_runtime::backend::Executable::run)) from those of the
    /// device call: host copies, except that an output which is a parameter is the caller's literal itself.
    pub(crate) fn host_outputs(&self, inputs: &[Arc<Literal>], outs: Vec<ArgBuffer>) -> Result<Vec<Arc<Literal>>> {
        outs.iter()
            .zip(&self.outputs)
            .map(|(b, src)| match src {
                Source::Param(i) => Ok(Arc::clone(&inputs[*i])),
                _ => b.to_host(),
            })
            .collect()
    }

    /// The outputs of a call. `input(i)` gives parameter `i`'s buffer (for outputs that are an input, or were
    /// written into a donated one), `computed[slot]` the buffers of the computed slots, wrapped by `wrap` once
    /// per slot.
    pub(crate) fn collect_outputs<B>(
        &self,
        input: impl Fn(usize) -> ArgBuffer,
        mut computed: Vec<Option<B>>,
        wrap: impl Fn(B, &TensorType) -> Result<ArgBuffer>,
    ) -> Result<Vec<ArgBuffer>> {
        let mut results: Vec<Option<ArgBuffer>> = vec![None; self.slots.len()];
        self.outputs
            .iter()
            .map(|src| match src {
                Source::Param(i) => Ok(input(*i)),
                // Constants stay host arrays: they are not worth a transfer on every call.
                Source::Constant(lit) => Ok(ArgBuffer::Host(Arc::clone(lit))),
                Source::Slot(slot) => {
                    if let Some(b) = results.get(*slot).and_then(Option::as_ref) {
                        return Ok(b.clone());
                    }
                    let b = match self.slots.get(*slot) {
                        Some(SlotKind::Param(i)) => input(*i),
                        Some(SlotKind::Owned(ty)) => {
                            let data =
                                computed.get_mut(*slot).and_then(Option::take).ok_or_else(|| Error::Backend {
                                    backend: BACKEND_NAME.into(),
                                    message: format!("output slot {slot} was not computed"),
                                })?;
                            wrap(data, ty)?
                        }
                        _ => {
                            return Err(Error::Backend {
                                backend: BACKEND_NAME.into(),
                                message: format!("output slot {slot} holds a constant"),
                            });
                        }
                    };
                    results[*slot] = Some(b.clone());
                    Ok(b)
                }
            })
            .collect()
    }
}

/// Lowers `graph` into a new module of `cx`: one entry point per kernel for `source`, no driver function (the
/// host launches the kernels in order), large reductions to one element split in two ([`super::split`]). An
/// output is written into a `donated` parameter's buffer where the CPU backend's rule allows it
/// ([`donation_aliases`]: same type, and every read of the parameter comes before the output's kernel or, in a
/// flat elementwise kernel, at the same element — which one GPU thread does itself): its slot is then the
/// parameter's. Reductions are folded by blocks of threads as `blocks` says (`None`: a thread per output element).
pub(crate) fn lower<'ctx>(
    cx: &'ctx Context,
    graph: &Graph,
    name: &str,
    source: IndexSource,
    donated: &[bool],
    blocks: Option<BlockReduce>,
) -> std::result::Result<(Module<'ctx>, HostPlan), GpuError> {
    graph.verify().map_err(|e| GpuError::Unsupported(e.to_string()))?;
    let split = split_reductions(graph)?;
    let graph = split.as_ref().unwrap_or(graph);
    let plan = fuse::plan(graph);
    let aliases = donation_aliases(graph, &plan, donated);
    let layout = BufferLayout::new(graph, &plan, &aliases);
    let module = cx.create_module(name);
    let builder = cx.create_builder();
    let launches = {
        let mut lowerer = Lowerer::new(cx, &module, &builder, graph, &plan, &layout);
        emit_gpu_program(&mut lowerer, "ljit", source, blocks)?
    };
    let mut slots: Vec<Option<SlotKind>> = vec![None; layout.num_slots];
    for (v, slot) in layout.slot_of.iter().enumerate() {
        let Some(slot) = *slot else { continue };
        let id = jit_runtime::ir::ValueId(v as u32);
        let kind = match &graph.node(graph.value(id).node).op {
            Op::Parameter { index, .. } => SlotKind::Param(*index),
            Op::Constant(lit) => SlotKind::Constant(Arc::clone(lit)),
            _ => SlotKind::Owned(graph.ty(id).clone()),
        };
        // An output written into a donated parameter shares its slot, which stays the parameter's.
        if !matches!(slots[slot], Some(SlotKind::Param(_))) {
            slots[slot] = Some(kind);
        }
    }
    let slots = slots
        .into_iter()
        .enumerate()
        .map(|(i, s)| s.ok_or_else(|| GpuError::Unsupported(format!("buffer slot {i} holds no value"))))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let outputs = graph
        .outputs()
        .iter()
        .map(|&o| match &graph.node(graph.value(o).node).op {
            Op::Parameter { index, .. } => Ok(Source::Param(*index)),
            Op::Constant(lit) => Ok(Source::Constant(Arc::clone(lit))),
            _ => layout.slot_of[o.index()]
                .map(Source::Slot)
                .ok_or_else(|| GpuError::Unsupported(format!("output {o:?} is not materialised"))),
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let plan =
        HostPlan { params: graph.param_types(), slots, outputs, launches, fused: plan.display(graph).to_string() };
    Ok((module, plan))
}

/// How the GPU folds reductions: [`BlockReduce::NVIDIA`], or a thread per output element everywhere when
/// `LIFTED_JIT_GPU_BLOCK_REDUCE=0` (to compare the two).
fn gpu_block_reduce() -> Option<BlockReduce> {
    match std::env::var("LIFTED_JIT_GPU_BLOCK_REDUCE") {
        Ok(v) if v.trim() == "0" => None,
        _ => Some(BlockReduce::NVIDIA),
    }
}

/// A program compiled to PTX for one GPU architecture.
#[derive(Clone, Debug)]
pub struct PtxProgram {
    /// The PTX text (what the driver loads).
    pub ptx: String,
    /// The LLVM IR before optimisation.
    pub llvm_ir: String,
    /// The architecture it targets.
    pub sm: SmVersion,
    pub(crate) plan: HostPlan,
}

impl PtxProgram {
    /// The kernel launches of one call, in order.
    pub fn launches(&self) -> &[Launch] {
        &self.plan.launches
    }

    /// The fusion plan, as text.
    pub fn fusion(&self) -> &str {
        &self.plan.fused
    }
}

/// Compiles a graph to PTX for `sm` (no GPU needed).
///
/// ```
/// use jit_runtime::ir::{Graph, Op, UnaryOp, TensorType};
/// use jit_runtime::DType;
/// use llvm_backend::gpu::{SmVersion, compile_ptx};
///
/// let mut g = Graph::new();
/// let x = g.add_parameter(TensorType::new(DType::F32, [1024]));
/// let y = g.add1(Op::Unary(UnaryOp::Exp), &[x], None)?;
/// g.set_outputs(vec![y]);
/// let program = compile_ptx(&g, "exp", SmVersion::DEFAULT)?;
/// assert!(program.ptx.contains(".entry ljit_k0"));
/// assert_eq!(program.launches()[0].extent, 1024);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// With `LIFTED_JIT_DUMP=<folder>` it writes the traced program, the fusion plan, the LLVM IR before and after
/// optimisation and the PTX there (`<name>-<n>.gpu.ptx`, ...).
pub fn compile_ptx(graph: &Graph, name: &str, sm: SmVersion) -> std::result::Result<PtxProgram, GpuError> {
    compile_ptx_donating(graph, name, sm, &[])
}

/// As [`compile_ptx`], with outputs written into the buffers of `donated` parameters where the kernels allow it.
pub fn compile_ptx_donating(
    graph: &Graph,
    name: &str,
    sm: SmVersion,
    donated: &[bool],
) -> std::result::Result<PtxProgram, GpuError> {
    let dumper = Dumper::from_env(name);
    dumper.write("gpu.traced.txt", &graph.to_string());
    let cx = Context::create();
    let (module, plan) = lower(&cx, graph, name, IndexSource::Nvptx, donated, gpu_block_reduce())?;
    dumper.write("gpu.fused.txt", &plan.fused);
    let llvm_ir = module.print_to_string().to_string();
    dumper.write("gpu.ll", &llvm_ir);
    let tm = nvptx_target_machine(sm)?;
    optimise_nvptx(&module, &tm)?;
    if dumper.enabled() {
        dumper.write("gpu.opt.ll", &module.print_to_string().to_string());
    }
    let ptx = ptx_text(&module, &tm)?;
    dumper.write("gpu.ptx", &ptx);
    Ok(PtxProgram { ptx, llvm_ir, sm, plan })
}
