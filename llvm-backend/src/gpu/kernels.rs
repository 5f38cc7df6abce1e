//! GPU kernel entry points: one per fused kernel, a grid-stride loop over the kernel's outer extent around the
//! CPU backend's kernel body.
//!
//! ```text
//! void k(ptr bufs, i64 extent):            // `ptx_kernel` on NVPTX
//!     p0 = bufs[slot0]; p1 = bufs[slot1]; ...
//!     for i = ctaid * ntid + tid; i < extent; i += nctaid * ntid:
//!         k_body(p0, p1, ..., i, i + 1)     // the CPU backend's body, inlined
//! ```
//!
//! Where the four indices come from is the [`IndexSource`]: the PTX special registers on a GPU, or four more
//! arguments `(block, thread, nblocks, nthreads)` when the same entry points are compiled for the host CPU and a
//! harness calls every (block, thread) in turn (the emulation that tests the indexing without a GPU). Kernels use
//! no barrier and no shared memory, so threads are independent and any order of calls is a valid schedule.

use inkwell::AddressSpace;
use inkwell::builder::BuilderError;
use inkwell::intrinsics::Intrinsic;
use inkwell::values::{BasicMetadataValueEnum, FunctionValue, IntValue};

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

/// One kernel launch of a program, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    /// The entry point's name.
    pub name: String,
    /// Iterations of the grid-stride loop (the kernel's outer extent; 0 means nothing to run).
    pub extent: usize,
    /// For a float `dot_general` whose operands are strided matrices: the product as a BLAS call, which the CUDA
    /// runtime makes through cuBLAS when it is installed (the generated kernel stays the fallback).
    pub gemm: Option<GemmLaunch>,
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

/// The grid-stride indices of the current thread: `(first, stride)`.
fn thread_indices<'ctx>(
    lw: &Lowerer<'_, 'ctx>,
    f: FunctionValue<'ctx>,
    source: IndexSource,
) -> Result<(IntValue<'ctx>, IntValue<'ctx>), GpuError> {
    let i64t = lw.cx.i64_type();
    let [block, thread, nblocks, nthreads] = match source {
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
    };
    let first = lw.b.build_int_nuw_add(lw.b.build_int_nuw_mul(block, nthreads, "base")?, thread, "first")?;
    let stride = lw.b.build_int_nuw_mul(nblocks, nthreads, "stride")?;
    Ok((first, stride))
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

/// Emits the grid-stride entry `name` around `body` (the kernel body over `slots`), for `source`.
fn emit_entry<'ctx>(
    lw: &mut Lowerer<'_, 'ctx>,
    name: &str,
    body: FunctionValue<'ctx>,
    slots: &[usize],
    source: IndexSource,
) -> Result<FunctionValue<'ctx>, GpuError> {
    let cx = lw.cx;
    let ptr_t = cx.ptr_type(AddressSpace::default());
    let i64t = cx.i64_type();
    let mut params: Vec<inkwell::types::BasicMetadataTypeEnum<'ctx>> = vec![ptr_t.into(), i64t.into()];
    if source == IndexSource::Emulated {
        params.extend(std::iter::repeat_n(inkwell::types::BasicMetadataTypeEnum::from(i64t), 4));
    }
    let f = lw.module.add_function(name, cx.void_type().fn_type(&params, false), None);
    let entry = cx.append_basic_block(f, "entry");
    let header = cx.append_basic_block(f, "stride");
    let step = cx.append_basic_block(f, "step");
    let exit = cx.append_basic_block(f, "exit");
    lw.b.position_at_end(entry);
    let bufs = f.get_nth_param(0).ok_or(BuilderError::UnsetPosition)?.into_pointer_value();
    let extent = f.get_nth_param(1).ok_or(BuilderError::UnsetPosition)?.into_int_value();
    let mut call: Vec<BasicMetadataValueEnum<'ctx>> = Vec::with_capacity(slots.len() + 2);
    for &slot in slots {
        // SAFETY: builds IR only; the host passes a table with one pointer per slot of the program.
        let at = unsafe { lw.b.build_in_bounds_gep(ptr_t, bufs, &[i64t.const_int(slot as u64, false)], "slotp")? };
        let p = lw.b.build_load(ptr_t, at, "buf")?.into_pointer_value();
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
    let (first, stride) = thread_indices(lw, f, source)?;
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
    lw.b.build_return(None)?;
    if source == IndexSource::Nvptx {
        annotate_kernel(lw, f)?;
    }
    Ok(f)
}

/// Emits every kernel of the lowerer's plan as a GPU entry point named `{prefix}_k{i}`; returns the launches in
/// order. Every kernel is the CPU backend's body over the flat index of its output elements (`flat_loops`: a
/// thread per element), reductions, arg-reductions and `dot_general` (the generated loop, never the host GEMM)
/// folding their reduced elements serially in that thread; float `rem` is the exact `fmod` (`exact_frem`).
pub fn emit_gpu_program(lw: &mut Lowerer<'_, '_>, prefix: &str, source: IndexSource) -> Result<Vec<Launch>, GpuError> {
    lw.flat_loops = true;
    lw.exact_frem = true;
    let kernels = lw.plan.kernels.clone();
    let mut launches = Vec::with_capacity(kernels.len());
    for (i, k) in kernels.iter().enumerate() {
        let name = format!("{prefix}_k{i}");
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
        launches.push(Launch { name, extent: shape.extent, gemm: gemm_launch(lw, k) });
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
