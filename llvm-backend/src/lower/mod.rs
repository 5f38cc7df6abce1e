//! Lowering of a fused graph to one LLVM module: a function per kernel and a driver that runs them in order.
//!
//! Every kernel has the signature `void kernel(ptr bufs, i64 start, i64 end)`: `bufs` is the table of buffer
//! pointers of one call (parameters, constants, results, temporaries — see [`BufferLayout`]) and `start..end` the
//! range of the kernel's outermost loop it runs, so the driver can split a kernel across threads.

mod block_reduce;
mod driver;
mod elemental;
mod index;
mod kernel;
mod loops;
mod scalar;
mod types;

use std::collections::HashMap;

use inkwell::builder::{Builder, BuilderError};
use inkwell::context::Context;
use inkwell::module::Module;
use inkwell::values::{BasicValueEnum, FunctionValue, IntValue, PointerValue};
use jit_runtime::ir::{Graph, Op, ValueId};

pub use block_reduce::{BlockSync, block_foldable, reduced_elements};
pub use driver::{DRIVER_NAME, GemmView, gemm_view};
pub use index::Idx;

use crate::fuse::FusionPlan;

/// Where each value lives during a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferLayout {
    /// Per value: its slot in the buffer table, if it is held in memory.
    pub slot_of: Vec<Option<usize>>,
    /// Number of slots.
    pub num_slots: usize,
}

impl BufferLayout {
    /// Slots: parameters first (in order), then array constants, then every other materialised value; an output
    /// written over a donated parameter (`aliases[output] = Some(parameter)`) shares the parameter's slot.
    pub fn new(graph: &Graph, plan: &FusionPlan, aliases: &[Option<usize>]) -> BufferLayout {
        let mut slot_of = vec![None; graph.num_values()];
        let mut next = 0;
        for &p in graph.params() {
            slot_of[p.index()] = Some(next);
            next += 1;
        }
        for node in graph.nodes() {
            if matches!(&node.op, Op::Constant(_)) && plan.materialised[node.outputs[0].index()] {
                slot_of[node.outputs[0].index()] = Some(next);
                next += 1;
            }
        }
        for (o, alias) in graph.outputs().iter().zip(aliases) {
            if let Some(p) = alias
                && slot_of[o.index()].is_none()
            {
                slot_of[o.index()] = Some(*p);
            }
        }
        for (v, &m) in plan.materialised.iter().enumerate() {
            if m && slot_of[v].is_none() {
                slot_of[v] = Some(next);
                next += 1;
            }
        }
        BufferLayout { slot_of, num_slots: next }
    }
}

/// Emits LLVM IR for one graph.
pub struct Lowerer<'a, 'ctx> {
    pub(crate) cx: &'ctx Context,
    pub(crate) module: &'a Module<'ctx>,
    pub(crate) b: &'a Builder<'ctx>,
    pub(crate) graph: &'a Graph,
    pub(crate) plan: &'a FusionPlan,
    pub(crate) layout: &'a BufferLayout,
    func: Option<FunctionValue<'ctx>>,
    bufs_arg: Option<PointerValue<'ctx>>,
    buffers: HashMap<usize, PointerValue<'ctx>>,
    memo: HashMap<(ValueId, Vec<IntValue<'ctx>>), Vec<BasicValueEnum<'ctx>>>,
    computing_root: Option<jit_runtime::ir::NodeId>,
    /// In a kernel: the slots it uses (results first, then the materialised values it reads) and the matching
    /// `noalias` pointer parameters of its body. Kernels with the same code share one function whatever their
    /// slots; distinct slots are distinct buffers, which is what lets LLVM vectorise without runtime checks.
    kernel_slots: Option<(Vec<usize>, Vec<PointerValue<'ctx>>)>,
    /// The slots of the kernel about to be emitted.
    pending_slots: Option<Vec<usize>>,
    /// Kernels iterate over their output elements' linear index even when a loop nest would be cheaper on a CPU:
    /// the outer loop's extent is the output's element count, and reductions, arg-reductions and `dot_general`
    /// compute one output element per iteration (the GPU backend's threads each take one element).
    pub(crate) flat_loops: bool,
    /// Float remainders call an exact `fmod` (`gpu::fmod`) instead of LLVM's `frem`, which NVPTX expands
    /// approximately.
    pub(crate) exact_frem: bool,
    /// Flat loop kernels whose result takes at least this many bytes are emitted for streaming stores (see
    /// `kernel.rs`, `emit_streaming_loop`); `None`: never (the default).
    pub(crate) streaming_bytes: Option<usize>,
    /// The kernels (wrapper names) emitted for streaming stores.
    pub(crate) streaming_kernels: Vec<String>,
}

impl<'a, 'ctx> Lowerer<'a, 'ctx> {
    /// A lowerer writing into `module`.
    pub fn new(
        cx: &'ctx Context,
        module: &'a Module<'ctx>,
        b: &'a Builder<'ctx>,
        graph: &'a Graph,
        plan: &'a FusionPlan,
        layout: &'a BufferLayout,
    ) -> Self {
        Lowerer {
            cx,
            module,
            b,
            graph,
            plan,
            layout,
            func: None,
            bufs_arg: None,
            buffers: HashMap::new(),
            memo: HashMap::new(),
            computing_root: None,
            kernel_slots: None,
            pending_slots: None,
            flat_loops: false,
            exact_frem: false,
            streaming_bytes: None,
            streaming_kernels: Vec::new(),
        }
    }

    pub(crate) fn current_fn(&self) -> Result<FunctionValue<'ctx>, BuilderError> {
        self.func.ok_or(BuilderError::UnsetPosition)
    }

    pub(crate) fn i64(&self, v: i64) -> IntValue<'ctx> {
        self.cx.i64_type().const_int(v as u64, true)
    }

    /// Starts a new function body: forget the per-function caches.
    pub(crate) fn enter_function(
        &mut self,
        f: FunctionValue<'ctx>,
        bufs: Option<PointerValue<'ctx>>,
        kernel: Option<(Vec<usize>, Vec<PointerValue<'ctx>>)>,
    ) {
        self.kernel_slots = kernel;
        self.func = Some(f);
        self.bufs_arg = bufs;
        self.buffers.clear();
        self.memo.clear();
        self.computing_root = None;
    }

    /// The base pointer of a slot, loaded from the buffer table (once per function, in the entry block).
    pub(crate) fn buffer(&mut self, slot: usize) -> Result<PointerValue<'ctx>, BuilderError> {
        if let Some((slots, params)) = &self.kernel_slots {
            let i = slots.iter().position(|&s| s == slot).ok_or(BuilderError::UnsetPosition)?;
            return params.get(i).copied().ok_or(BuilderError::UnsetPosition);
        }
        if let Some(p) = self.buffers.get(&slot) {
            return Ok(*p);
        }
        let f = self.current_fn()?;
        let entry = f.get_first_basic_block().ok_or(BuilderError::UnsetPosition)?;
        let here = self.b.get_insert_block().ok_or(BuilderError::UnsetPosition)?;
        match entry.get_terminator() {
            Some(t) => self.b.position_before(&t),
            None => self.b.position_at_end(entry),
        }
        let ptr_t = self.cx.ptr_type(inkwell::AddressSpace::default());
        let bufs = self.bufs_arg.ok_or(BuilderError::UnsetPosition)?;
        // SAFETY: builds IR only; `slot` is below the length of the executable's slot table.
        let at = unsafe { self.b.build_in_bounds_gep(ptr_t, bufs, &[self.i64(slot as i64)], "slotp")? };
        let p = self.b.build_load(ptr_t, at, "buf")?.into_pointer_value();
        self.b.position_at_end(here);
        self.buffers.insert(slot, p);
        Ok(p)
    }

    /// A stack slot in the function's entry block (where LLVM promotes it to a register).
    pub(crate) fn entry_alloca(
        &self,
        ty: inkwell::types::BasicTypeEnum<'ctx>,
        name: &str,
    ) -> Result<PointerValue<'ctx>, BuilderError> {
        let f = self.current_fn()?;
        let entry = f.get_first_basic_block().ok_or(BuilderError::UnsetPosition)?;
        let here = self.b.get_insert_block().ok_or(BuilderError::UnsetPosition)?;
        match entry.get_terminator() {
            Some(t) => self.b.position_before(&t),
            None => self.b.position_at_end(entry),
        }
        let p = self.b.build_alloca(ty, name)?;
        self.b.position_at_end(here);
        Ok(p)
    }

    /// The slots the kernel just emitted uses, in the order of its argument array.
    pub(crate) fn take_local_slots(&mut self) -> Vec<usize> {
        self.kernel_slots.take().map(|(s, _)| s).unwrap_or_default()
    }
}
