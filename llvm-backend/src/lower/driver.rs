//! The driver: one function that runs every kernel of the program in order, splitting large ones across threads
//! and calling the GEMM for float matrix products. A cached call is one native call of the driver.

use inkwell::builder::BuilderError;
use inkwell::values::{AnyValue, BasicMetadataValueEnum, FunctionValue};
use jit_runtime::DType;
use jit_runtime::ir::{DotDims, Op, TensorType};

use super::Lowerer;
use super::kernel::KernelShape;
use crate::fuse::KernelKind;

/// The name of the driver function: `void ljit_driver(ptr bufs)`.
pub const DRIVER_NAME: &str = "ljit_driver";

/// Kernels with less work than this run on the calling thread.
pub const PARALLEL_THRESHOLD: usize = 1 << 15;

/// A float `dot_general` read by the GEMM as `batch` products of `m×k` and `k×n` strided matrices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmView {
    /// Number of products.
    pub batch: usize,
    /// Rows of the result.
    pub m: usize,
    /// Columns of the result.
    pub n: usize,
    /// Contracted size.
    pub k: usize,
    /// Left operand: row stride, column stride, batch stride (elements).
    pub lhs: (usize, usize, usize),
    /// Right operand: row stride, column stride, batch stride (elements).
    pub rhs: (usize, usize, usize),
}

fn ascending_block(dims: &[usize]) -> bool {
    dims.windows(2).all(|w| w[1] == w[0] + 1)
}

/// The strided-matrix view of a `dot_general`, or `None` when an operand's layout needs a copy (then the naive loop
/// runs instead).
pub fn gemm_view(dn: &DotDims, lt: &TensorType, rt: &TensorType) -> Option<GemmView> {
    let nb = dn.lhs_batch.len();
    if dn.lhs_batch != (0..nb).collect::<Vec<_>>() || dn.rhs_batch != (0..nb).collect::<Vec<_>>() {
        return None;
    }
    if !ascending_block(&dn.lhs_contracting) || !ascending_block(&dn.rhs_contracting) {
        return None;
    }
    let free = |rank: usize, c: &[usize]| -> Vec<usize> { (nb..rank).filter(|i| !c.contains(i)).collect() };
    let lf = free(lt.rank(), &dn.lhs_contracting);
    let rf = free(rt.rank(), &dn.rhs_contracting);
    let prod = |t: &TensorType, ds: &[usize]| ds.iter().map(|&d| t.dims()[d]).product::<usize>();
    let batch = prod(lt, &(0..nb).collect::<Vec<_>>());
    let (m, k, n) = (prod(lt, &lf), prod(lt, &dn.lhs_contracting), prod(rt, &rf));
    // Left: either [free..., contracting...] (row-major m×k) or [contracting..., free...] (its transpose).
    let lhs = if dn.lhs_contracting.first().is_none_or(|&c| lf.last().is_none_or(|&f| f < c)) {
        (k, 1, m * k)
    } else if dn.lhs_contracting.last().is_some_and(|&c| lf.first().is_none_or(|&f| c < f)) {
        (1, m, m * k)
    } else {
        return None;
    };
    // Right: either [contracting..., free...] (row-major k×n) or [free..., contracting...] (its transpose).
    let rhs = if dn.rhs_contracting.last().is_none_or(|&c| rf.first().is_none_or(|&f| c < f)) {
        (n, 1, k * n)
    } else if dn.rhs_contracting.first().is_some_and(|&c| rf.last().is_none_or(|&f| f < c)) {
        (1, k, k * n)
    } else {
        return None;
    };
    Some(GemmView { batch, m, n, k, lhs, rhs })
}

/// What the driver calls for one kernel.
pub enum Step<'ctx> {
    /// A kernel function over `0..extent` of its outer loop, with the slots of its argument array.
    Kernel(FunctionValue<'ctx>, KernelShape, Vec<usize>),
    /// A GEMM call for the kernel rooted at `node`.
    Gemm(jit_runtime::ir::NodeId, GemmView, DType),
}

impl<'a, 'ctx> Lowerer<'a, 'ctx> {
    /// Emits every kernel and the driver; returns the driver.
    pub fn emit_program(&mut self, name_prefix: &str) -> Result<FunctionValue<'ctx>, BuilderError> {
        let mut steps = Vec::new();
        let mut seen: std::collections::HashMap<String, (FunctionValue<'ctx>, KernelShape)> =
            std::collections::HashMap::new();
        for (i, k) in self.plan.kernels.iter().enumerate() {
            if k.kind == KernelKind::Dot {
                let node = self.graph.node(k.root);
                if let Op::DotGeneral(dn) = &node.op {
                    let (lt, rt) = (self.graph.ty(node.inputs[0]), self.graph.ty(node.inputs[1]));
                    if lt.dtype.is_float()
                        && let Some(view) = gemm_view(dn, lt, rt)
                    {
                        steps.push(Step::Gemm(k.root, view, lt.dtype));
                        continue;
                    }
                }
            }
            let fname = format!("{name_prefix}_k{i}");
            let shape = self.emit_kernel(k, &fname)?;
            let slots = self.take_local_slots();
            let f = self.module.get_function(&fname).ok_or(BuilderError::UnsetPosition)?;
            let body = self.module.get_function(&format!("{fname}_body")).ok_or(BuilderError::UnsetPosition)?;
            // Kernels whose IR is identical up to their name are one function (layers of a model often are).
            let text = body.print_to_string().to_string().replacen(&format!("@{fname}_body("), "@k(", 1);
            let f = match seen.get(&text) {
                Some(&(prev, prev_shape)) if prev_shape == shape => {
                    // SAFETY: `f` and `body` were just created; only `f` calls `body` and nothing references `f`.
                    unsafe {
                        f.delete();
                        body.delete();
                    }
                    prev
                }
                _ => {
                    seen.insert(text, (f, shape));
                    f
                }
            };
            steps.push(Step::Kernel(f, shape, slots));
        }
        self.emit_driver(&steps)
    }

    fn declare(&self, name: &str, params: usize, ptr_at: &[usize]) -> FunctionValue<'ctx> {
        if let Some(f) = self.module.get_function(name) {
            return f;
        }
        let ptr_t = self.cx.ptr_type(inkwell::AddressSpace::default());
        let i64t = self.cx.i64_type();
        let ps: Vec<_> = (0..params).map(|i| if ptr_at.contains(&i) { ptr_t.into() } else { i64t.into() }).collect();
        self.module.add_function(name, self.cx.void_type().fn_type(&ps, false), None)
    }

    /// A stack array of the buffers of `slots` (in the driver's entry block), a kernel's argument array.
    fn argument_array(&mut self, slots: &[usize]) -> Result<inkwell::values::PointerValue<'ctx>, BuilderError> {
        let ptr_t = self.cx.ptr_type(inkwell::AddressSpace::default());
        let arr = self.entry_alloca(ptr_t.array_type(slots.len().max(1) as u32).into(), "args")?;
        for (i, &slot) in slots.iter().enumerate() {
            let p = self.buffer(slot)?;
            // SAFETY: builds IR only; `i` is below the array's length (one entry per slot).
            let at = unsafe { self.b.build_in_bounds_gep(ptr_t, arr, &[self.i64(i as i64)], "arg")? };
            self.b.build_store(at, p)?;
        }
        Ok(arr)
    }

    fn emit_driver(&mut self, steps: &[Step<'ctx>]) -> Result<FunctionValue<'ctx>, BuilderError> {
        let ptr_t = self.cx.ptr_type(inkwell::AddressSpace::default());
        let f = self.module.add_function(DRIVER_NAME, self.cx.void_type().fn_type(&[ptr_t.into()], false), None);
        let entry = self.cx.append_basic_block(f, "entry");
        let body = self.cx.append_basic_block(f, "start");
        self.b.position_at_end(entry);
        self.b.build_unconditional_branch(body)?;
        self.b.position_at_end(body);
        let bufs = f.get_nth_param(0).ok_or(BuilderError::UnsetPosition)?.into_pointer_value();
        self.enter_function(f, Some(bufs), None);
        let par = self.declare("ljit_parallel_for", 4, &[0, 1]);
        for step in steps {
            match step {
                Step::Kernel(kf, shape, slots) => {
                    let args = self.argument_array(slots)?;
                    let extent = self.i64(shape.extent as i64);
                    let work = shape.extent.saturating_mul(shape.work_per_iteration);
                    if work >= PARALLEL_THRESHOLD && shape.extent >= 2 {
                        let fp = kf.as_global_value().as_pointer_value();
                        let grain = (PARALLEL_THRESHOLD / shape.work_per_iteration.max(1)).max(1);
                        let args: [BasicMetadataValueEnum<'ctx>; 4] =
                            [fp.into(), args.into(), extent.into(), self.i64(grain as i64).into()];
                        self.b.build_call(par, &args, "")?;
                    } else {
                        let call: [BasicMetadataValueEnum<'ctx>; 3] = [args.into(), self.i64(0).into(), extent.into()];
                        self.b.build_call(*kf, &call, "")?;
                    }
                }
                Step::Gemm(node, view, dtype) => {
                    let node = self.graph.node(*node).clone();
                    let slot =
                        |v: jit_runtime::ir::ValueId| self.layout.slot_of[v.index()].ok_or(BuilderError::UnsetPosition);
                    let (ls, rs, ds) = (slot(node.inputs[0])?, slot(node.inputs[1])?, slot(node.outputs[0])?);
                    let (lp, rp, dp) = (self.buffer(ls)?, self.buffer(rs)?, self.buffer(ds)?);
                    let name = if *dtype == DType::F64 { "ljit_gemm_f64" } else { "ljit_gemm_f32" };
                    let g = self.declare(name, 13, &[4, 5, 9]);
                    let v = view;
                    let i = |x: usize| -> BasicMetadataValueEnum<'ctx> { self.i64(x as i64).into() };
                    let args = [
                        i(v.batch),
                        i(v.m),
                        i(v.n),
                        i(v.k),
                        dp.into(),
                        lp.into(),
                        i(v.lhs.0),
                        i(v.lhs.1),
                        i(v.lhs.2),
                        rp.into(),
                        i(v.rhs.0),
                        i(v.rhs.1),
                        i(v.rhs.2),
                    ];
                    self.b.build_call(g, &args, "")?;
                }
            }
        }
        self.b.build_return(None)?;
        Ok(f)
    }
}
