//! Kernel functions: loop nests over a root's elements, reductions, arg-reductions, and the naive `dot_general`
//! loop used for integers (floats call the GEMM).

use inkwell::builder::BuilderError;
use inkwell::values::{BasicValueEnum, FastMathFlags, FunctionValue, IntValue};
use inkwell::{FloatPredicate, IntPredicate};
use jit_runtime::DType;
use jit_runtime::ir::{ArgReduceOp, BinaryOp, NodeId, Op, ReduceOp};

use super::index::merge_axes;
use super::types::reg_type;
use super::{Idx, Lowerer};
use crate::fuse::{Kernel, KernelKind};

/// How the driver runs a kernel function: its outermost loop's extent and the work per iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelShape {
    /// Iterations of the outermost (splittable) loop.
    pub extent: usize,
    /// Elements of work per outer iteration (for the threading threshold).
    pub work_per_iteration: usize,
}

impl<'a, 'ctx> Lowerer<'a, 'ctx> {
    /// Declares the kernel's body `void name_body(ptr noalias b0, ..., i64 start, i64 end)` (internal, always
    /// inlined into its wrapper), one pointer per slot of `self.kernel_slots`, and positions the builder in it.
    fn begin_kernel(
        &mut self,
        name: &str,
    ) -> Result<(FunctionValue<'ctx>, IntValue<'ctx>, IntValue<'ctx>), BuilderError> {
        let i64t = self.cx.i64_type().into();
        let (f, extra) = self.begin_kernel_with(name, &[i64t, i64t])?;
        let (start, end) = match extra.as_slice() {
            [s, e] => (s.into_int_value(), e.into_int_value()),
            _ => return Err(BuilderError::UnsetPosition),
        };
        Ok((f, start, end))
    }

    /// Declares the kernel's body `void name_body(ptr noalias b0, ..., extra...)` (internal, always inlined into
    /// its caller), one pointer per slot of the kernel about to be emitted, and positions the builder in it;
    /// returns the body and its `extra` parameters.
    pub(crate) fn begin_kernel_with(
        &mut self,
        name: &str,
        extra: &[inkwell::types::BasicMetadataTypeEnum<'ctx>],
    ) -> Result<(FunctionValue<'ctx>, Vec<BasicValueEnum<'ctx>>), BuilderError> {
        let slots = self.pending_slots.take().ok_or(BuilderError::UnsetPosition)?;
        let ptr_t = self.cx.ptr_type(inkwell::AddressSpace::default());
        let mut params: Vec<inkwell::types::BasicMetadataTypeEnum<'ctx>> = vec![ptr_t.into(); slots.len()];
        params.extend_from_slice(extra);
        let fn_t = self.cx.void_type().fn_type(&params, false);
        let f = self.module.add_function(&format!("{name}_body"), fn_t, Some(inkwell::module::Linkage::Internal));
        let noalias =
            self.cx.create_enum_attribute(inkwell::attributes::Attribute::get_named_enum_kind_id("noalias"), 0);
        let inline =
            self.cx.create_enum_attribute(inkwell::attributes::Attribute::get_named_enum_kind_id("alwaysinline"), 0);
        for i in 0..slots.len() {
            f.add_attribute(inkwell::attributes::AttributeLoc::Param(i as u32), noalias);
        }
        f.add_attribute(inkwell::attributes::AttributeLoc::Function, inline);
        let entry = self.cx.append_basic_block(f, "entry");
        let body = self.cx.append_basic_block(f, "start");
        self.b.position_at_end(entry);
        self.b.build_unconditional_branch(body)?;
        self.b.position_at_end(body);
        let ptrs: Vec<inkwell::values::PointerValue<'ctx>> = (0..slots.len())
            .map(|i| f.get_nth_param(i as u32).map(|p| p.into_pointer_value()).ok_or(BuilderError::UnsetPosition))
            .collect::<Result<_, _>>()?;
        let extra = (0..extra.len())
            .map(|i| f.get_nth_param((slots.len() + i) as u32).ok_or(BuilderError::UnsetPosition))
            .collect::<Result<Vec<_>, _>>()?;
        self.enter_function(f, None, Some((slots, ptrs)));
        Ok((f, extra))
    }

    /// The wrapper `void name(ptr args, i64 start, i64 end)` the driver and the thread pool call: loads the
    /// buffer pointers from `args` and calls the body.
    fn emit_wrapper(&mut self, name: &str, body: FunctionValue<'ctx>, n: usize) -> Result<(), BuilderError> {
        let ptr_t = self.cx.ptr_type(inkwell::AddressSpace::default());
        let i64t = self.cx.i64_type();
        let fn_t = self.cx.void_type().fn_type(&[ptr_t.into(), i64t.into(), i64t.into()], false);
        let f = self.module.add_function(name, fn_t, None);
        let entry = self.cx.append_basic_block(f, "entry");
        self.b.position_at_end(entry);
        let args = f.get_nth_param(0).ok_or(BuilderError::UnsetPosition)?.into_pointer_value();
        let mut call: Vec<inkwell::values::BasicMetadataValueEnum<'ctx>> = Vec::with_capacity(n + 2);
        for i in 0..n {
            // SAFETY: builds IR only; the driver passes an array with one pointer per slot of this kernel.
            let at = unsafe { self.b.build_in_bounds_gep(ptr_t, args, &[self.i64(i as i64)], "argp")? };
            call.push(self.b.build_load(ptr_t, at, "arg")?.into());
        }
        call.push(f.get_nth_param(1).ok_or(BuilderError::UnsetPosition)?.into());
        call.push(f.get_nth_param(2).ok_or(BuilderError::UnsetPosition)?.into());
        self.b.build_call(body, &call, "")?;
        self.b.build_return(None)?;
        Ok(())
    }

    /// Runs `body` for every index of `out_dims` whose first coordinate is in `start..end` (once for rank 0); with
    /// `flat_loops`, for every index whose linear index is in `start..end`.
    fn emit_over_output(
        &mut self,
        out_dims: &[usize],
        start: IntValue<'ctx>,
        end: IntValue<'ctx>,
        body: &mut super::loops::NestBody<'_, Self, IntValue<'ctx>>,
    ) -> Result<(), BuilderError> {
        match out_dims.split_first() {
            None => body(self, &[]),
            // One iteration per output element (`flat_loops`): the multi-index from the linear one.
            Some(_) if self.flat_loops && out_dims.len() > 1 => self.emit_loop(start, end, &mut |s, i| {
                let ivs = s.multi(&mut Idx::from_linear(out_dims, i))?;
                body(s, &ivs)
            }),
            Some((_, inner)) => self.emit_loop(start, end, &mut |s, i0| {
                let mut prefix = vec![i0];
                s.emit_nest(inner, &mut prefix, body)
            }),
        }
    }

    fn is_flat(&self, k: &Kernel) -> bool {
        k.is_flat(self.graph)
    }

    /// Emits kernel `k` as function `name`.
    pub fn emit_kernel(&mut self, k: &Kernel, name: &str) -> Result<KernelShape, BuilderError> {
        let n = self.prepare_slots(k)?;
        let shape = match k.kind {
            KernelKind::Loop => self.emit_loop_kernel(k, name),
            KernelKind::Reduce => self.emit_reduce_kernel(k, name),
            KernelKind::ArgReduce => self.emit_argreduce_kernel(k, name),
            KernelKind::Dot => self.emit_naive_dot_kernel(k, name),
        }?;
        let body = self.current_fn()?;
        self.emit_wrapper(name, body, n)?;
        Ok(shape)
    }

    /// Sets the slots of kernel `k` (its results first, then the materialised values it reads) as those of the
    /// next body [`Self::begin_kernel_with`] declares; returns how many there are.
    pub(crate) fn prepare_slots(&mut self, k: &Kernel) -> Result<usize, BuilderError> {
        let mut slots: Vec<usize> = Vec::new();
        let values = self.graph.node(k.root).outputs.iter().chain(&k.inputs);
        for v in values {
            let slot = self.layout.slot_of[v.index()].ok_or(BuilderError::UnsetPosition)?;
            if !slots.contains(&slot) {
                slots.push(slot);
            }
        }
        let n = slots.len();
        self.pending_slots = Some(slots);
        Ok(n)
    }

    fn store_root(&mut self, root: NodeId, idx: &mut Idx<'ctx>) -> Result<(), BuilderError> {
        let outs = self.graph.node(root).outputs.clone();
        let lin = self.linear(idx)?;
        // The root is computed from its operands, not loaded from the slot it is being written to.
        self.computing_root = Some(root);
        for o in outs {
            let v = self.eval(o, idx)?;
            let slot = self.layout.slot_of[o.index()].ok_or(BuilderError::UnsetPosition)?;
            let base = self.buffer(slot)?;
            self.store_elem(base, lin, self.graph.ty(o).dtype, v)?;
        }
        Ok(())
    }

    /// `for i in start..end { out[i] = root(i) }` over the flat (linear) index of the root's elements.
    fn emit_flat_loop(
        &mut self,
        root: NodeId,
        dims: &[usize],
        start: IntValue<'ctx>,
        end: IntValue<'ctx>,
    ) -> Result<(), BuilderError> {
        self.emit_loop(start, end, &mut |s, i| {
            let mut idx = Idx::from_linear(dims, i);
            s.store_root(root, &mut idx)
        })
    }

    /// [`Self::emit_flat_loop`] for a large result, split so that the code generator can stream it to memory: a
    /// head loop up to the first element whose address is a multiple of 64 bytes, then the rest addressed from that
    /// aligned element, in the branch where a run-time check (`is_aligned`) found it aligned,
    /// so that the vectorised stores of that loop are aligned (the CPU engine then makes them non-temporal: the
    /// output's cache lines are written without first being read; see `cpu::engine::stream_stores`). Should the
    /// element not be aligned after all (a buffer not aligned to its element size), a plain loop runs instead.
    fn emit_streaming_loop(
        &mut self,
        root: NodeId,
        out: jit_runtime::ir::ValueId,
        dims: &[usize],
        start: IntValue<'ctx>,
        end: IntValue<'ctx>,
    ) -> Result<(), BuilderError> {
        let dtype = self.graph.ty(out).dtype;
        let elem_t = super::types::mem_type(self.cx, dtype);
        let slot = self.layout.slot_of[out.index()].ok_or(BuilderError::UnsetPosition)?;
        let base = self.buffer(slot)?;
        let i64t = self.cx.i64_type();
        let f = self.current_fn()?;
        // The first index at or after `start` whose element starts a 64-byte line: start + ((-addr) & 63) / size.
        // SAFETY: builds IR only; `start` is within the output.
        let first = unsafe { self.b.build_in_bounds_gep(elem_t, base, &[start], "first")? };
        let addr = self.b.build_ptr_to_int(first, i64t, "addr")?;
        let gap = self.b.build_and(self.b.build_int_neg(addr, "neg")?, self.i64(63), "gap")?;
        let head = self.b.build_int_unsigned_div(gap, self.i64(dtype.size_in_bytes() as i64), "head")?;
        let a = self.b.build_int_nsw_add(start, head, "a")?;
        let a_lt = self.b.build_int_compare(IntPredicate::SLT, a, end, "a_lt")?;
        let a = self.b.build_select(a_lt, a, end, "a")?.into_int_value();
        self.memo.clear();
        self.emit_flat_loop(root, dims, start, a)?;
        // SAFETY: builds IR only; `a <= end` is within the output (one past its end at most).
        let q = unsafe { self.b.build_in_bounds_gep(elem_t, base, &[a], "aligned")? };
        let q_addr = self.b.build_ptr_to_int(q, i64t, "q_addr")?;
        let low = self.b.build_and(q_addr, self.i64(63), "low")?;
        let aligned = self.b.build_int_compare(IntPredicate::EQ, low, self.i64(0), "is_aligned")?;
        let stream_bb = self.cx.append_basic_block(f, "stream");
        let plain_bb = self.cx.append_basic_block(f, "plain");
        let done_bb = self.cx.append_basic_block(f, "streamed");
        self.b.build_conditional_branch(aligned, stream_bb, plain_bb)?;
        self.b.position_at_end(stream_bb);
        let n = self.b.build_int_nsw_sub(end, a, "n")?;
        self.memo.clear();
        self.emit_loop(self.i64(0), n, &mut |s, j| {
            let i = s.b.build_int_nsw_add(a, j, "i")?;
            let mut idx = Idx::from_linear(dims, i);
            s.computing_root = Some(root);
            let v = s.eval(out, &mut idx)?;
            s.store_elem(q, j, dtype, v)
        })?;
        self.b.build_unconditional_branch(done_bb)?;
        self.b.position_at_end(plain_bb);
        self.memo.clear();
        self.emit_flat_loop(root, dims, a, end)?;
        self.b.build_unconditional_branch(done_bb)?;
        self.b.position_at_end(done_bb);
        self.memo.clear();
        Ok(())
    }

    fn emit_loop_kernel(&mut self, k: &Kernel, name: &str) -> Result<KernelShape, BuilderError> {
        let ty = self.graph.ty(self.graph.node(k.root).outputs[0]).clone();
        let dims = ty.dims().to_vec();
        let numel: usize = dims.iter().product();
        let (_, start, end) = self.begin_kernel(name)?;
        let outs = self.graph.node(k.root).outputs.clone();
        let streaming = match (self.streaming_bytes, outs.as_slice()) {
            (Some(bytes), [o]) if ty.dtype != DType::Bool && numel * ty.dtype.size_in_bytes() >= bytes => Some(*o),
            _ => None,
        };
        let flat = self.flat_loops || self.is_flat(k) || dims.len() <= 1;
        let shape = if let (true, Some(o)) = (flat, streaming) {
            self.emit_streaming_loop(k.root, o, &dims, start, end)?;
            self.streaming_kernels.push(name.to_string());
            KernelShape { extent: numel, work_per_iteration: 1 }
        } else if flat {
            self.emit_flat_loop(k.root, &dims, start, end)?;
            KernelShape { extent: numel, work_per_iteration: 1 }
        } else {
            let inner: Vec<usize> = dims[1..].to_vec();
            self.emit_loop(start, end, &mut |s, i0| {
                let mut prefix = vec![i0];
                s.emit_nest(&inner, &mut prefix, &mut |s, ivs| {
                    let mut idx = Idx::from_multi(&dims, ivs.to_vec());
                    s.store_root(k.root, &mut idx)
                })
            })?;
            KernelShape { extent: dims[0], work_per_iteration: numel / dims[0].max(1) }
        };
        self.b.build_return(None)?;
        Ok(shape)
    }

    fn emit_reduce_kernel(&mut self, k: &Kernel, name: &str) -> Result<KernelShape, BuilderError> {
        let node = self.graph.node(k.root).clone();
        let Op::Reduce { op, axes } = &node.op else { return Err(BuilderError::UnsetPosition) };
        // The reduced dimensions are walked in row-major order (the interpreter's order, which max, min, product and
        // integer reductions keep; float sums are reassociated, see `reduce_combine`), and the loop
        // over `red_dims` feeds the reduced axes in increasing order below: both need the axes sorted, which the
        // op's documentation asks for but the verifier does not enforce.
        let mut axes = axes.clone();
        axes.sort_unstable();
        let axes = &axes;
        let input = node.inputs[0];
        let in_ty = self.graph.ty(input).clone();
        let out = node.outputs[0];
        let out_dims = self.graph.ty(out).dims().to_vec();
        let red_dims: Vec<usize> = axes.iter().map(|&a| in_ty.dims()[a]).collect();
        let d = in_ty.dtype;
        let (_, start, end) = self.begin_kernel(name)?;
        let (outer, inner_out): (usize, Vec<usize>) = match out_dims.split_first() {
            Some((&o, rest)) => (o, rest.to_vec()),
            None => (1, vec![]),
        };
        let red: usize = red_dims.iter().product();
        let shape = if self.flat_loops {
            KernelShape { extent: out_dims.iter().product(), work_per_iteration: red.max(1) }
        } else {
            KernelShape { extent: outer, work_per_iteration: red.max(1) * inner_out.iter().product::<usize>().max(1) }
        };
        let rank = in_ty.rank();
        if !self.flat_loops && !axes.is_empty() && !axes.contains(&(rank - 1)) {
            self.emit_reduce_rows(*op, axes, input, out, &red_dims, start, end)?;
            self.b.build_return(None)?;
            return Ok(shape);
        }
        let acc_t = reg_type(self.cx, d);
        let acc_ptr = self.entry_alloca(acc_t, "acc")?;
        let body = &mut |s: &mut Self, out_ivs: &[IntValue<'ctx>]| -> Result<(), BuilderError> {
            let init = s.reduce_identity(*op, d)?;
            s.b.build_store(acc_ptr, init)?;
            let mut prefix = Vec::new();
            s.emit_nest(&red_dims, &mut prefix, &mut |s, red_ivs| {
                let full = merge_axes(in_ty.rank(), axes, out_ivs, red_ivs);
                let mut idx = Idx::from_multi(in_ty.dims(), full);
                let x = s.eval(input, &mut idx)?;
                let acc = s.b.build_load(acc_t, acc_ptr, "a")?;
                let next = s.reduce_combine(*op, d, acc, x)?;
                s.b.build_store(acc_ptr, next)?;
                // Each reduced element is evaluated once: forget memoised values of this iteration.
                s.memo.clear();
                Ok(())
            })?;
            let acc = s.b.build_load(acc_t, acc_ptr, "a")?;
            let mut oidx = Idx::from_multi(&out_dims, out_ivs.to_vec());
            let lin = s.linear(&mut oidx)?;
            let slot = s.layout.slot_of[out.index()].ok_or(BuilderError::UnsetPosition)?;
            let base = s.buffer(slot)?;
            s.store_elem(base, lin, d, acc)?;
            s.memo.clear();
            Ok(())
        };
        self.emit_over_output(&out_dims, start, end, body)?;
        self.b.build_return(None)?;
        Ok(shape)
    }

    /// A reduction that keeps the input's last axis (`x.sum(0)` of a matrix, a sum over the batch): for each output
    /// row (all kept indices but the last), the row is set to the identity, then for each reduced index in row-major
    /// order every element of the row is combined with the input element, in a loop over the last axis. Each
    /// output element still folds its inputs sequentially in the interpreter's order (so this is exact for every
    /// op and dtype), and the inner loop reads the input contiguously and vectorises across output elements,
    /// where one accumulator per output element would walk the input with a stride. When the output has rank 1
    /// the driver's `start..end` split is a range of that row; otherwise it is a range of the first output axis.
    #[allow(clippy::too_many_arguments)]
    fn emit_reduce_rows(
        &mut self,
        op: ReduceOp,
        axes: &[usize],
        input: jit_runtime::ir::ValueId,
        out: jit_runtime::ir::ValueId,
        red_dims: &[usize],
        start: IntValue<'ctx>,
        end: IntValue<'ctx>,
    ) -> Result<(), BuilderError> {
        let in_ty = self.graph.ty(input).clone();
        let out_dims = self.graph.ty(out).dims().to_vec();
        let d = in_ty.dtype;
        let rank = in_ty.rank();
        let slot = self.layout.slot_of[out.index()].ok_or(BuilderError::UnsetPosition)?;
        let row = &mut |s: &mut Self,
                        outer: &[IntValue<'ctx>],
                        lo: IntValue<'ctx>,
                        hi: IntValue<'ctx>|
         -> Result<(), BuilderError> {
            let out_lin = |s: &mut Self, c: IntValue<'ctx>| -> Result<IntValue<'ctx>, BuilderError> {
                let mut ivs = outer.to_vec();
                ivs.push(c);
                s.linear(&mut Idx::from_multi(&out_dims, ivs))
            };
            s.emit_loop(lo, hi, &mut |s, c| {
                let lin = out_lin(s, c)?;
                let base = s.buffer(slot)?;
                let init = s.reduce_identity(op, d)?;
                s.store_elem(base, lin, d, init)
            })?;
            let mut prefix = Vec::new();
            s.emit_nest(red_dims, &mut prefix, &mut |s, red_ivs| {
                s.emit_loop(lo, hi, &mut |s, c| {
                    let mut full = Vec::with_capacity(rank);
                    let (mut o, mut r) = (0, 0);
                    for a in 0..rank {
                        if axes.contains(&a) {
                            full.push(red_ivs[r]);
                            r += 1;
                        } else if a == rank - 1 {
                            full.push(c);
                        } else {
                            full.push(outer[o]);
                            o += 1;
                        }
                    }
                    let x = s.eval(input, &mut Idx::from_multi(in_ty.dims(), full))?;
                    let lin = out_lin(s, c)?;
                    let base = s.buffer(slot)?;
                    let acc = s.load_elem(base, lin, d)?;
                    let next = s.combine_exact(op, d, acc, x)?;
                    s.store_elem(base, lin, d, next)?;
                    s.memo.clear();
                    Ok(())
                })
            })?;
            s.memo.clear();
            Ok(())
        };
        match out_dims.len() {
            0 => Err(BuilderError::UnsetPosition),
            1 => row(self, &[], start, end),
            n => {
                let middle = out_dims[1..n - 1].to_vec();
                let (zero, len) = (self.i64(0), self.i64(out_dims[n - 1] as i64));
                self.emit_loop(start, end, &mut |s, i0| {
                    let mut prefix = vec![i0];
                    s.emit_nest(&middle, &mut prefix, &mut |s, outer| row(s, outer, zero, len))
                })
            }
        }
    }

    pub(crate) fn reduce_identity(&self, op: ReduceOp, d: DType) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        let t = reg_type(self.cx, d);
        Ok(match (op, d.is_float()) {
            (ReduceOp::Sum, true) => t.into_float_type().const_float(0.0).into(),
            (ReduceOp::Prod, true) => t.into_float_type().const_float(1.0).into(),
            (ReduceOp::Max, true) => t.into_float_type().const_float(f64::NEG_INFINITY).into(),
            (ReduceOp::Min, true) => t.into_float_type().const_float(f64::INFINITY).into(),
            (ReduceOp::Sum, false) => t.into_int_type().const_zero().into(),
            (ReduceOp::Prod, false) => t.into_int_type().const_int(1, false).into(),
            (ReduceOp::Max, false) => {
                let it = t.into_int_type();
                if d.is_signed_integer() {
                    it.const_int(1u64 << (it.get_bit_width() - 1), false).into()
                } else {
                    it.const_zero().into()
                }
            }
            (ReduceOp::Min, false) => {
                let it = t.into_int_type();
                if d.is_signed_integer() {
                    it.const_int((1u64 << (it.get_bit_width() - 1)) - 1, false).into()
                } else {
                    it.const_all_ones().into()
                }
            }
        })
    }

    /// `acc ⊕ x` without reassociation (each output element folded in order).
    fn combine_exact(
        &self,
        op: ReduceOp,
        d: DType,
        acc: BasicValueEnum<'ctx>,
        x: BasicValueEnum<'ctx>,
    ) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        if d == DType::Bool {
            return self.reduce_combine(op, d, acc, x);
        }
        let bop = match op {
            ReduceOp::Sum => BinaryOp::Add,
            ReduceOp::Prod => BinaryOp::Mul,
            ReduceOp::Max => BinaryOp::Max,
            ReduceOp::Min => BinaryOp::Min,
        };
        self.emit_binary(bop, d, acc, x)
    }

    pub(crate) fn reduce_combine(
        &self,
        op: ReduceOp,
        d: DType,
        acc: BasicValueEnum<'ctx>,
        x: BasicValueEnum<'ctx>,
    ) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        let bop = match op {
            ReduceOp::Sum => BinaryOp::Add,
            ReduceOp::Prod => BinaryOp::Mul,
            ReduceOp::Max => BinaryOp::Max,
            ReduceOp::Min => BinaryOp::Min,
        };
        if d == DType::Bool {
            let (a, b) = (acc.into_int_value(), x.into_int_value());
            return Ok(match op {
                ReduceOp::Max | ReduceOp::Sum => self.b.build_or(a, b, "any")?.into(),
                ReduceOp::Min | ReduceOp::Prod => self.b.build_and(a, b, "all")?.into(),
            });
        }
        if op == ReduceOp::Sum && d.is_float() {
            // The one place where the compiled code may differ from the interpreter's sequential sum: `reassoc`
            // on the accumulating add lets the loop vectoriser keep several partial sums (vector lanes times
            // interleaved registers) and add them at the end. Only the reduction is reassociated (the flag sits on
            // this add alone, not on the producers it absorbed), with no other fast-math assumption: NaN and
            // infinities propagate and the sign of zero is kept (a sum of -0 is still +0, as lanes start from -0
            // and the first from +0). Max and min are exact in any order and stay without flags.
            let (a, b) = (acc.into_float_value(), x.into_float_value());
            let sum = self.b.build_float_add(a, b, "sum")?;
            if let Some(i) = sum.as_instruction() {
                i.set_fast_math_flags(FastMathFlags::AllowReassoc).map_err(|_| BuilderError::UnsetPosition)?;
            }
            return Ok(sum.into());
        }
        self.emit_binary(bop, d, acc, x)
    }

    fn emit_argreduce_kernel(&mut self, k: &Kernel, name: &str) -> Result<KernelShape, BuilderError> {
        let node = self.graph.node(k.root).clone();
        let Op::ArgReduce { op, axis, index_dtype } = &node.op else { return Err(BuilderError::UnsetPosition) };
        let input = node.inputs[0];
        let in_ty = self.graph.ty(input).clone();
        let out = node.outputs[0];
        let out_dims = self.graph.ty(out).dims().to_vec();
        let n = in_ty.dims()[*axis];
        let d = in_ty.dtype;
        let (_, start, end) = self.begin_kernel(name)?;
        let val_t = reg_type(self.cx, d);
        let best_p = self.entry_alloca(val_t, "best")?;
        let idx_p = self.entry_alloca(self.cx.i64_type().into(), "bi")?;
        let (outer, inner_out): (usize, Vec<usize>) = match out_dims.split_first() {
            Some((&o, rest)) => (o, rest.to_vec()),
            None => (1, vec![]),
        };
        let axis = *axis;
        let op = *op;
        let index_dtype = *index_dtype;
        let body = &mut |s: &mut Self, out_ivs: &[IntValue<'ctx>]| -> Result<(), BuilderError> {
            let full_at = |iv: IntValue<'ctx>| {
                let mut full = out_ivs.to_vec();
                full.insert(axis, iv);
                full
            };
            let mut idx0 = Idx::from_multi(in_ty.dims(), full_at(s.i64(0)));
            let first = s.eval(input, &mut idx0)?;
            s.memo.clear();
            s.b.build_store(best_p, first)?;
            s.b.build_store(idx_p, s.i64(0))?;
            s.emit_loop(s.i64(1), s.i64(n as i64), &mut |s, iv| {
                let mut idx = Idx::from_multi(in_ty.dims(), full_at(iv));
                let x = s.eval(input, &mut idx)?;
                s.memo.clear();
                let best = s.b.build_load(val_t, best_p, "b")?;
                let take = s.arg_better(op, d, x, best)?;
                let nb = s.b.build_select(take, x, best, "nb")?;
                let bi = s.b.build_load(s.cx.i64_type(), idx_p, "bi")?;
                let ni = s.b.build_select(take, iv.into(), bi, "ni")?;
                s.b.build_store(best_p, nb)?;
                s.b.build_store(idx_p, ni)?;
                Ok(())
            })?;
            let bi = s.b.build_load(s.cx.i64_type(), idx_p, "bi")?;
            let v = s.emit_convert(DType::I64, index_dtype, bi)?;
            let mut oidx = Idx::from_multi(&out_dims, out_ivs.to_vec());
            let lin = s.linear(&mut oidx)?;
            let slot = s.layout.slot_of[out.index()].ok_or(BuilderError::UnsetPosition)?;
            let base = s.buffer(slot)?;
            s.store_elem(base, lin, index_dtype, v)?;
            Ok(())
        };
        self.emit_over_output(&out_dims, start, end, body)?;
        self.b.build_return(None)?;
        if self.flat_loops {
            return Ok(KernelShape { extent: out_dims.iter().product(), work_per_iteration: n });
        }
        Ok(KernelShape { extent: outer, work_per_iteration: n * inner_out.iter().product::<usize>().max(1) })
    }

    /// Does `x` replace `best` (first extremum wins; NaN counts as the extremum)?
    pub(crate) fn arg_better(
        &self,
        op: ArgReduceOp,
        d: DType,
        x: BasicValueEnum<'ctx>,
        best: BasicValueEnum<'ctx>,
    ) -> Result<IntValue<'ctx>, BuilderError> {
        let b = self.b;
        if d.is_float() {
            let (fx, fb) = (x.into_float_value(), best.into_float_value());
            let best_nan = b.build_float_compare(FloatPredicate::UNO, fb, fb, "bn")?;
            let x_nan = b.build_float_compare(FloatPredicate::UNO, fx, fx, "xn")?;
            let p = if op == ArgReduceOp::ArgMax { FloatPredicate::OGT } else { FloatPredicate::OLT };
            let better = b.build_float_compare(p, fx, fb, "gt")?;
            let cand = b.build_or(x_nan, better, "c")?;
            let not_best_nan = b.build_not(best_nan, "nbn")?;
            return b.build_and(not_best_nan, cand, "take");
        }
        let signed = d.is_signed_integer();
        let p = match (op, signed) {
            (ArgReduceOp::ArgMax, true) => IntPredicate::SGT,
            (ArgReduceOp::ArgMax, false) => IntPredicate::UGT,
            (ArgReduceOp::ArgMin, true) => IntPredicate::SLT,
            (ArgReduceOp::ArgMin, false) => IntPredicate::ULT,
        };
        b.build_int_compare(p, x.into_int_value(), best.into_int_value(), "take")
    }

    /// `dot_general` as loops: for each output element, the sum over the contracting indices in row-major order
    /// (the interpreter's order). Used for integers and for float layouts the GEMM cannot read.
    fn emit_naive_dot_kernel(&mut self, k: &Kernel, name: &str) -> Result<KernelShape, BuilderError> {
        let node = self.graph.node(k.root).clone();
        let Op::DotGeneral(dn) = &node.op else { return Err(BuilderError::UnsetPosition) };
        let (lhs, rhs) = (node.inputs[0], node.inputs[1]);
        let (lt, rt) = (self.graph.ty(lhs).clone(), self.graph.ty(rhs).clone());
        let out = node.outputs[0];
        let out_dims = self.graph.ty(out).dims().to_vec();
        let d = lt.dtype;
        let lhs_free: Vec<usize> =
            (0..lt.rank()).filter(|i| !dn.lhs_batch.contains(i) && !dn.lhs_contracting.contains(i)).collect();
        let rhs_free: Vec<usize> =
            (0..rt.rank()).filter(|i| !dn.rhs_batch.contains(i) && !dn.rhs_contracting.contains(i)).collect();
        let c_dims: Vec<usize> = dn.lhs_contracting.iter().map(|&i| lt.dims()[i]).collect();
        let (_, start, end) = self.begin_kernel(name)?;
        let acc_t = reg_type(self.cx, d);
        let acc_ptr = self.entry_alloca(acc_t, "acc")?;
        let (outer, inner_out): (usize, Vec<usize>) = match out_dims.split_first() {
            Some((&o, rest)) => (o, rest.to_vec()),
            None => (1, vec![]),
        };
        let nb = dn.lhs_batch.len();
        let body = &mut |s: &mut Self, o: &[IntValue<'ctx>]| -> Result<(), BuilderError> {
            let zero = s.reduce_identity(ReduceOp::Sum, d)?;
            s.b.build_store(acc_ptr, zero)?;
            let mut prefix = Vec::new();
            s.emit_nest(&c_dims, &mut prefix, &mut |s, c| {
                let mut li = vec![s.i64(0); lt.rank()];
                let mut ri = vec![s.i64(0); rt.rank()];
                for (j, (&l, &r)) in dn.lhs_batch.iter().zip(&dn.rhs_batch).enumerate() {
                    li[l] = o[j];
                    ri[r] = o[j];
                }
                for (j, &l) in lhs_free.iter().enumerate() {
                    li[l] = o[nb + j];
                }
                for (j, &r) in rhs_free.iter().enumerate() {
                    ri[r] = o[nb + lhs_free.len() + j];
                }
                for (j, (&l, &r)) in dn.lhs_contracting.iter().zip(&dn.rhs_contracting).enumerate() {
                    li[l] = c[j];
                    ri[r] = c[j];
                }
                let x = s.eval(lhs, &mut Idx::from_multi(lt.dims(), li))?;
                let y = s.eval(rhs, &mut Idx::from_multi(rt.dims(), ri))?;
                s.memo.clear();
                let p = s.emit_binary(BinaryOp::Mul, d, x, y)?;
                let acc = s.b.build_load(acc_t, acc_ptr, "a")?;
                let next = s.emit_binary(BinaryOp::Add, d, acc, p)?;
                s.b.build_store(acc_ptr, next)?;
                Ok(())
            })?;
            let acc = s.b.build_load(acc_t, acc_ptr, "a")?;
            let mut oidx = Idx::from_multi(&out_dims, o.to_vec());
            let lin = s.linear(&mut oidx)?;
            let slot = s.layout.slot_of[out.index()].ok_or(BuilderError::UnsetPosition)?;
            let base = s.buffer(slot)?;
            s.store_elem(base, lin, d, acc)
        };
        self.emit_over_output(&out_dims, start, end, body)?;
        self.b.build_return(None)?;
        let work: usize = c_dims.iter().product::<usize>().max(1);
        if self.flat_loops {
            return Ok(KernelShape { extent: out_dims.iter().product(), work_per_iteration: work });
        }
        Ok(KernelShape { extent: outer, work_per_iteration: work * inner_out.iter().product::<usize>().max(1) })
    }
}
