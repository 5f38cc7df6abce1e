//! GPU kernel entry points: one per fused kernel, a grid-stride loop over the kernel's outer extent around the
//! CPU backend's kernel body.
//!
//! ```text
//! void k(ptr p0, ptr p1, ..., i64 extent):  // `.entry` on NVPTX; the buffers of the kernel's slots
//!     for i = ctaid * ntid + tid; i < extent; i += nctaid * ntid:
//!         k_body(p0, p1, ..., i, i + 1)     // the CPU backend's body, inlined
//! ```
//!
//! The buffers are the kernel's parameters ([`Launch::slots`] says which), so a call passes device pointers with
//! the launch and uploads nothing. Where the four indices come from is the [`IndexSource`]: the PTX special
//! registers on a GPU, or arguments when the same entry points are compiled for the host CPU and a harness calls
//! every (block, thread) in turn (the emulation that tests the indexing without a GPU):
//! `(ptr args, i64 extent, i64 block, i64 thread, i64 nblocks, i64 nthreads, ptr team)`, the buffers as an array
//! and the [`Team`](super::block_sync::Team) of a block reduction last.
//!
//! Reductions and arg-reductions over many elements are folded by a block of threads per output element
//! ([`Schedule::Blocks`], see `lower/block_reduce.rs`):
//!
//! ```text
//! void k(ptr p0, ..., i64 extent):
//!     k_body(p0, ..., ctaid, nctaid, extent, tid, ntid, null)   // o = ctaid; o < extent; o += nctaid
//! ```
//!
//! Those use barriers and shared memory, so the emulation runs a block's threads together (one OS thread each);
//! the others are independent threads, which it runs one at a time.

use inkwell::AddressSpace;
use inkwell::builder::BuilderError;
use inkwell::intrinsics::Intrinsic;
use inkwell::values::{BasicMetadataValueEnum, FunctionValue, IntValue};

use super::block_sync::{EmulatedSync, NvptxSync};
use super::error::GpuError;
use crate::lower::Lowerer;

/// Where a kernel's thread and block indices come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndexSource {
    /// `llvm.nvvm.read.ptx.sreg.{tid,ntid,ctaid,nctaid}.x`: a real GPU launch.
    Nvptx,
    /// Arguments `(i64 block, i64 thread, i64 nblocks, i64 nthreads)` after `(bufs, extent)`: the CPU emulation.
    Emulated,
}

/// How a launch spreads its work over threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// A thread per element of the extent, in a grid-stride loop.
    Elements,
    /// A block of `threads` threads (whole warps) per element of the extent, in a block-stride loop: the block
    /// folds the reduced elements of one output element together.
    Blocks {
        /// Threads per block.
        threads: usize,
    },
}

/// When and how reductions are folded by blocks of threads ([`Schedule::Blocks`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockReduce {
    /// Lanes of a warp (a power of two, at least 2): 32 on NVIDIA GPUs.
    pub warp: usize,
    /// Threads per block at most (rounded down to whole warps; at most `warp * warp`, so that one warp can fold
    /// the partial results of all the others).
    pub max_threads: usize,
    /// Reductions over fewer elements keep a thread per output element.
    pub min_reduced: usize,
    /// Reductions that keep the input's last axis (`x.sum(0)`) with at least this many output elements keep a
    /// thread per output element: neighbouring threads then read neighbouring elements, and there are enough
    /// of them to fill the GPU.
    pub max_column_outputs: usize,
}

impl BlockReduce {
    /// The GPU's configuration: warps of 32, blocks of up to 256 threads, reductions over 32 elements or more.
    pub const NVIDIA: BlockReduce =
        BlockReduce { warp: 32, max_threads: 256, min_reduced: 32, max_column_outputs: 1 << 16 };

    /// Threads per block for a fold over `reduced` elements: the next power of two, at least a warp, at most
    /// `max_threads`, in whole warps.
    ///
    /// ```
    /// use llvm_backend::gpu::BlockReduce;
    /// assert_eq!(BlockReduce::NVIDIA.threads_for(40), 64);
    /// assert_eq!(BlockReduce::NVIDIA.threads_for(5), 32);
    /// assert_eq!(BlockReduce::NVIDIA.threads_for(100_000), 256);
    /// let small = BlockReduce { warp: 4, max_threads: 10, min_reduced: 2, max_column_outputs: usize::MAX };
    /// assert_eq!(small.threads_for(1000), 8);
    /// ```
    pub fn threads_for(&self, reduced: usize) -> usize {
        let warp = self.warp.max(2);
        let max = (self.max_threads.min(warp * warp) / warp).max(1) * warp;
        (reduced.next_power_of_two().max(warp).min(max) / warp).max(1) * warp
    }

    /// The schedule of kernel `k`: blocks for a reduction or arg-reduction that may be folded in any order over
    /// enough elements, unless it keeps the input's last axis and has many outputs.
    fn schedule(&self, lw: &Lowerer<'_, '_>, k: &crate::fuse::Kernel) -> Schedule {
        let node = lw.graph.node(k.root);
        let Some(&input) = node.inputs.first() else { return Schedule::Elements };
        let in_ty = lw.graph.ty(input);
        let Some(reduced) = crate::lower::reduced_elements(lw.graph, node) else { return Schedule::Elements };
        if !crate::lower::block_foldable(&node.op, in_ty.dtype) || reduced < self.min_reduced.max(1) {
            return Schedule::Elements;
        }
        let last = in_ty.rank().checked_sub(1);
        let keeps_last = match &node.op {
            jit_runtime::ir::Op::Reduce { axes, .. } => last.is_some_and(|l| !axes.contains(&l)),
            jit_runtime::ir::Op::ArgReduce { axis, .. } => last != Some(*axis),
            _ => false,
        };
        let outputs = node.outputs.first().map_or(0, |&o| lw.graph.ty(o).shape.numel());
        if keeps_last && outputs >= self.max_column_outputs {
            return Schedule::Elements;
        }
        Schedule::Blocks { threads: self.threads_for(reduced) }
    }
}

/// One kernel launch of a program, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    /// The entry point's name.
    pub name: String,
    /// Iterations of the grid-stride loop (the kernel's outer extent; 0 means nothing to run).
    pub extent: usize,
    /// A thread or a block per iteration.
    pub schedule: Schedule,
    /// The buffer-table slots whose buffers the kernel takes, in the order of its pointer parameters (or of its
    /// pointer array, see [`Launch::takes_array`]).
    pub slots: Vec<usize>,
    /// For a float `dot_general` whose operands are strided matrices: the product as a BLAS call, which the CUDA
    /// runtime makes through cuBLAS when it is installed (the generated kernel stays the fallback).
    pub gemm: Option<GemmLaunch>,
}

impl Launch {
    /// Whether the kernel takes its buffers as one array in device memory (more than [`MAX_POINTER_PARAMS`]),
    /// rather than one parameter each.
    pub fn takes_array(&self) -> bool {
        self.slots.len() > MAX_POINTER_PARAMS
    }
}

/// A float matrix product that cuBLAS can compute: `batch` products of `m×k` by `k×n` strided matrices, read from
/// and written to buffer-table slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmLaunch {
    /// Sizes and operand strides (the CPU backend's [`GemmView`](crate::lower::GemmView)).
    pub view: crate::lower::GemmView,
    /// `f32` or `f64`.
    pub dtype: jit_runtime::DType,
    /// Slots of the left operand, the right operand and the (row-major, dense) result.
    pub lhs: usize,
    /// See `lhs`.
    pub rhs: usize,
    /// See `lhs`.
    pub out: usize,
}

/// The launch grid of a kernel with `extent` iterations: `(blocks, threads per block)`, at most `max_blocks`
/// blocks of `threads` threads (the grid-stride loop covers the rest). Zero blocks when there is nothing to do.
///
/// ```
/// use llvm_backend::gpu::kernels::grid;
/// assert_eq!(grid(1000, 256, 65535), (4, 256));
/// assert_eq!(grid(1000, 4, 3), (3, 4));
/// assert_eq!(grid(0, 256, 65535), (0, 256));
/// ```
pub fn grid(extent: usize, threads: usize, max_blocks: usize) -> (usize, usize) {
    let threads = threads.max(1);
    (extent.div_ceil(threads).min(max_blocks.max(1)), threads)
}

/// The launch grid `(blocks, threads per block)` of a launch with `extent` iterations on `schedule`: [`grid`] for
/// a thread per element (`threads` per block), a block per element for [`Schedule::Blocks`] (its own thread
/// count); at most `max_blocks` blocks either way (the kernels stride over the rest).
///
/// ```
/// use llvm_backend::gpu::{Schedule, kernels::launch_grid};
/// assert_eq!(launch_grid(1000, Schedule::Elements, 256, 65535), (4, 256));
/// assert_eq!(launch_grid(1000, Schedule::Blocks { threads: 64 }, 256, 65535), (1000, 64));
/// assert_eq!(launch_grid(100_000, Schedule::Blocks { threads: 64 }, 256, 65535), (65535, 64));
/// ```
pub fn launch_grid(extent: usize, schedule: Schedule, threads: usize, max_blocks: usize) -> (usize, usize) {
    match schedule {
        Schedule::Elements => grid(extent, threads, max_blocks),
        Schedule::Blocks { threads } => (extent.min(max_blocks.max(1)), threads),
    }
}

/// The current thread's `[block, thread, blocks, threads per block]`.
fn thread_indices<'ctx>(
    lw: &Lowerer<'_, 'ctx>,
    f: FunctionValue<'ctx>,
    source: IndexSource,
) -> Result<[IntValue<'ctx>; 4], GpuError> {
    let i64t = lw.cx.i64_type();
    Ok(match source {
        IndexSource::Nvptx => {
            let read = |reg: &str| -> Result<IntValue<'ctx>, GpuError> {
                let name = format!("llvm.nvvm.read.ptx.sreg.{reg}.x");
                let decl = Intrinsic::find(&name)
                    .and_then(|i| i.get_declaration(lw.module, &[]))
                    .ok_or_else(|| GpuError::Unsupported(format!("no intrinsic {name}")))?;
                let v =
                    lw.b.build_call(decl, &[], reg)?
                        .try_as_basic_value()
                        .basic()
                        .ok_or_else(|| GpuError::Unsupported(format!("{name} returns nothing")))?;
                Ok(lw.b.build_int_z_extend(v.into_int_value(), i64t, reg)?)
            };
            [read("ctaid")?, read("tid")?, read("nctaid")?, read("ntid")?]
        }
        IndexSource::Emulated => {
            let p = |n: u32| -> Result<IntValue<'ctx>, GpuError> {
                f.get_nth_param(n)
                    .map(|p| p.into_int_value())
                    .ok_or_else(|| GpuError::Unsupported("emulated entry without index arguments".into()))
            };
            [p(2)?, p(3)?, p(4)?, p(5)?]
        }
    })
}

/// Marks `f` as a kernel entry point (`.entry` in PTX) with the `nvvm.annotations` metadata.
fn annotate_kernel<'ctx>(lw: &Lowerer<'_, 'ctx>, f: FunctionValue<'ctx>) -> Result<(), GpuError> {
    let cx = lw.cx;
    let node = cx.metadata_node(&[
        f.as_global_value().as_pointer_value().into(),
        cx.metadata_string("kernel").into(),
        cx.i32_type().const_int(1, false).into(),
    ]);
    lw.module
        .add_global_metadata("nvvm.annotations", &node)
        .map_err(|e| GpuError::Unsupported(format!("nvvm.annotations: {e}")))
}

/// Kernels with more buffers than this take them as one device array (`k(ptr args, i64 extent)`, uploaded with the
/// call) instead of one parameter each: a launch's parameters are limited to 4 KiB.
pub const MAX_POINTER_PARAMS: usize = 480;

/// Declares entry point `name` for `source` and positions the builder in its entry block; returns the entry,
/// `extent`, the buffer pointers of `slots` in order, and the thread's `[block, thread, blocks, threads]`. On a GPU they are the kernel's own parameters,
/// `(p0, ..., extent)` (what a launch passes, nothing to upload), or past [`MAX_POINTER_PARAMS`] an array
/// `(ptr args, extent)`; the emulation always passes an array,
/// `(ptr args, i64 extent, i64 block, i64 thread, i64 nblocks, i64 nthreads, ptr team)`.
#[allow(clippy::type_complexity)]
fn begin_entry<'ctx>(
    lw: &mut Lowerer<'_, 'ctx>,
    name: &str,
    slots: &[usize],
    source: IndexSource,
) -> Result<(FunctionValue<'ctx>, IntValue<'ctx>, Vec<BasicMetadataValueEnum<'ctx>>, [IntValue<'ctx>; 4]), GpuError> {
    let cx = lw.cx;
    let ptr_t = cx.ptr_type(AddressSpace::default());
    let i64t = cx.i64_type();
    let n = slots.len();
    let array = source == IndexSource::Emulated || n > MAX_POINTER_PARAMS;
    let params: Vec<inkwell::types::BasicMetadataTypeEnum<'ctx>> = match source {
        IndexSource::Nvptx if array => vec![ptr_t.into(), i64t.into()],
        IndexSource::Nvptx => std::iter::repeat_n(ptr_t.into(), n).chain([i64t.into()]).collect(),
        IndexSource::Emulated => {
            let mut p = vec![ptr_t.into(), i64t.into()];
            p.extend(std::iter::repeat_n(inkwell::types::BasicMetadataTypeEnum::from(i64t), 4));
            p.push(ptr_t.into());
            p
        }
    };
    let f = lw.module.add_function(name, cx.void_type().fn_type(&params, false), None);
    let entry = cx.append_basic_block(f, "entry");
    lw.b.position_at_end(entry);
    let param = |i: usize| f.get_nth_param(i as u32).ok_or(BuilderError::UnsetPosition);
    let mut call: Vec<BasicMetadataValueEnum<'ctx>> = Vec::with_capacity(n + 2);
    let (pointers, extent) = if array {
        let args = param(0)?.into_pointer_value();
        let mut pointers = Vec::with_capacity(n);
        for i in 0..n {
            // SAFETY: builds IR only; the host passes one pointer per slot of the kernel.
            let at = unsafe { lw.b.build_in_bounds_gep(ptr_t, args, &[i64t.const_int(i as u64, false)], "argp")? };
            pointers.push(lw.b.build_load(ptr_t, at, "buf")?.into_pointer_value());
        }
        (pointers, param(1)?.into_int_value())
    } else {
        let pointers = (0..n).map(|i| param(i).map(|p| p.into_pointer_value())).collect::<Result<Vec<_>, _>>()?;
        (pointers, param(n)?.into_int_value())
    };
    for p in pointers {
        let p = match source {
            // Every buffer is in global memory: saying so (a round trip through `addrspace(1)`) lets LLVM's
            // address-space inference give the kernel's loads and stores `ld.global`/`st.global` instead of
            // generic accesses.
            IndexSource::Nvptx => {
                let global = lw.b.build_address_space_cast(p, cx.ptr_type(AddressSpace::from(1u16)), "global")?;
                lw.b.build_address_space_cast(global, ptr_t, "generic")?
            }
            IndexSource::Emulated => p,
        };
        call.push(p.into());
    }
    let indices = thread_indices(lw, f, source)?;
    Ok((f, extent, call, indices))
}

/// Ends entry `f` where the builder is, and marks it a kernel on NVPTX.
fn finish_entry<'ctx>(
    lw: &mut Lowerer<'_, 'ctx>,
    f: FunctionValue<'ctx>,
    source: IndexSource,
) -> Result<FunctionValue<'ctx>, GpuError> {
    lw.b.build_return(None)?;
    if source == IndexSource::Nvptx {
        annotate_kernel(lw, f)?;
    }
    Ok(f)
}

/// Emits the grid-stride entry `name` around `body` (the kernel body over `slots`), for `source`.
fn emit_entry<'ctx>(
    lw: &mut Lowerer<'_, 'ctx>,
    name: &str,
    body: FunctionValue<'ctx>,
    slots: &[usize],
    source: IndexSource,
) -> Result<FunctionValue<'ctx>, GpuError> {
    let cx = lw.cx;
    let i64t = cx.i64_type();
    let (f, extent, call, [block, thread, nblocks, nthreads]) = begin_entry(lw, name, slots, source)?;
    let entry = lw.b.get_insert_block().ok_or(BuilderError::UnsetPosition)?;
    let header = cx.append_basic_block(f, "stride");
    let step = cx.append_basic_block(f, "step");
    let exit = cx.append_basic_block(f, "exit");
    let first = lw.b.build_int_nuw_add(lw.b.build_int_nuw_mul(block, nthreads, "base")?, thread, "first")?;
    let stride = lw.b.build_int_nuw_mul(nblocks, nthreads, "stride")?;
    lw.b.build_unconditional_branch(header)?;
    lw.b.position_at_end(header);
    let i = lw.b.build_phi(i64t, "i")?;
    i.add_incoming(&[(&first, entry)]);
    let iv = i.as_basic_value().into_int_value();
    let more = lw.b.build_int_compare(inkwell::IntPredicate::SLT, iv, extent, "more")?;
    lw.b.build_conditional_branch(more, step, exit)?;
    lw.b.position_at_end(step);
    let one = i64t.const_int(1, false);
    let end = lw.b.build_int_nsw_add(iv, one, "end")?;
    let mut args = call.clone();
    args.push(iv.into());
    args.push(end.into());
    lw.b.build_call(body, &args, "")?;
    let next = lw.b.build_int_nsw_add(iv, stride, "next")?;
    lw.b.build_unconditional_branch(header)?;
    i.add_incoming(&[(&next, step)]);
    lw.b.position_at_end(exit);
    finish_entry(lw, f, source)
}

/// Emits the entry `name` of a block-folded reduction: calls `body` (see `lower/block_reduce.rs`) with the
/// block's index as its first output element, the number of blocks as the stride, and the thread's index in the
/// block.
fn emit_block_entry<'ctx>(
    lw: &mut Lowerer<'_, 'ctx>,
    name: &str,
    body: FunctionValue<'ctx>,
    slots: &[usize],
    source: IndexSource,
) -> Result<FunctionValue<'ctx>, GpuError> {
    let (f, extent, mut call, [block, thread, nblocks, nthreads]) = begin_entry(lw, name, slots, source)?;
    let team = match source {
        IndexSource::Nvptx => lw.cx.ptr_type(AddressSpace::default()).const_null(),
        IndexSource::Emulated => f.get_last_param().ok_or(BuilderError::UnsetPosition)?.into_pointer_value(),
    };
    let indices: [BasicMetadataValueEnum<'ctx>; 6] =
        [block.into(), nblocks.into(), extent.into(), thread.into(), nthreads.into(), team.into()];
    call.extend(indices);
    lw.b.build_call(body, &call, "")?;
    finish_entry(lw, f, source)
}

/// Emits every kernel of the lowerer's plan as a GPU entry point named `{prefix}_k{i}`; returns the launches in
/// order. Reductions and arg-reductions that `blocks` chooses are folded by a block of threads per output
/// element (with the PTX intrinsics, or the emulation's team of `blocks.warp` lanes); every other kernel is the
/// CPU backend's body over the flat index of its output elements (`flat_loops`: a thread per element), the
/// remaining reductions, arg-reductions and `dot_general` (the generated loop, never the host GEMM) folding
/// their reduced elements serially in that thread. Float `rem` is the exact `fmod` (`exact_frem`).
pub fn emit_gpu_program(
    lw: &mut Lowerer<'_, '_>,
    prefix: &str,
    source: IndexSource,
    blocks: Option<BlockReduce>,
) -> Result<Vec<Launch>, GpuError> {
    lw.flat_loops = true;
    lw.exact_frem = true;
    let kernels = lw.plan.kernels.clone();
    let mut launches = Vec::with_capacity(kernels.len());
    for (i, k) in kernels.iter().enumerate() {
        let name = format!("{prefix}_k{i}");
        let schedule = blocks.map_or(Schedule::Elements, |b| b.schedule(lw, k));
        if let (Schedule::Blocks { .. }, Some(cfg)) = (schedule, blocks) {
            let body = match source {
                IndexSource::Nvptx => lw.emit_block_reduce_kernel(k, &name, &NvptxSync)?,
                IndexSource::Emulated => {
                    let warp = u32::try_from(cfg.warp).map_err(|_| GpuError::Unsupported("warp too wide".into()))?;
                    lw.emit_block_reduce_kernel(k, &name, &EmulatedSync { warp })?
                }
            };
            let slots = lw.take_local_slots();
            emit_block_entry(lw, &name, body, &slots, source)?;
            let extent = lw.graph.node(k.root).outputs.first().map_or(0, |&o| lw.graph.ty(o).shape.numel());
            launches.push(Launch { name, extent, schedule, slots, gemm: None });
            continue;
        }
        let shape = lw.emit_kernel(k, &name)?;
        let slots = lw.take_local_slots();
        let body = lw
            .module
            .get_function(&format!("{name}_body"))
            .ok_or_else(|| GpuError::Unsupported(format!("kernel {name} has no body")))?;
        if let Some(wrapper) = lw.module.get_function(&name) {
            // SAFETY: the CPU wrapper was just created and nothing references it (the GPU entry replaces it).
            unsafe { wrapper.delete() };
        }
        emit_entry(lw, &name, body, &slots, source)?;
        let gemm = gemm_launch(lw, k);
        launches.push(Launch { name, extent: shape.extent, schedule, slots, gemm });
    }
    Ok(launches)
}

/// The BLAS form of kernel `k`, when it is a float `dot_general` with strided-matrix operands (as the CPU backend's
/// GEMM takes them) and nothing empty.
fn gemm_launch(lw: &Lowerer<'_, '_>, k: &crate::fuse::Kernel) -> Option<GemmLaunch> {
    if k.kind != crate::fuse::KernelKind::Dot {
        return None;
    }
    let node = lw.graph.node(k.root);
    let jit_runtime::ir::Op::DotGeneral(dn) = &node.op else { return None };
    let (lt, rt) = (lw.graph.ty(node.inputs[0]), lw.graph.ty(node.inputs[1]));
    if !lt.dtype.is_float() {
        return None;
    }
    let view = crate::lower::gemm_view(dn, lt, rt)?;
    if view.batch == 0 || view.m == 0 || view.n == 0 || view.k == 0 {
        return None;
    }
    let slot = |v: jit_runtime::ir::ValueId| lw.layout.slot_of[v.index()];
    Some(GemmLaunch {
        view,
        dtype: lt.dtype,
        lhs: slot(node.inputs[0])?,
        rhs: slot(node.inputs[1])?,
        out: slot(*node.outputs.first()?)?,
    })
}
