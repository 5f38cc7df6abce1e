//! Reductions folded by a block of cooperating threads (the GPU backend's reductions over many elements).
//!
//! ```text
//! void name_body(b0, ..., i64 first, i64 step, i64 end, i64 tid, i64 ntid, ptr team):
//!     for o = first; o < end; o += step:              // one output element per block at a time
//!         acc = identity
//!         for j = tid; j < reduced; j += ntid:        // each thread folds a strided share of the elements
//!             acc = acc ⊕ x[o, j]
//!         acc = warp_fold(acc)                        // butterfly shuffles: every lane gets its warp's fold
//!         if lane == 0: shared[warp] = acc
//!         barrier
//!         acc = warp_fold(lane < nwarps ? shared[lane] : identity)
//!         if tid == 0: out[o] = acc
//!         barrier                                     // `shared` is reused by the next output element
//! ```
//!
//! Every thread of a block runs the same number of iterations of the outer loop and reaches every barrier and
//! shuffle together (the code between them is the only place threads diverge). How the target synchronises is
//! a [`BlockSync`]: PTX intrinsics on a GPU, calls into the emulation's thread team on the host.
//!
//! The fold is reordered (each thread folds a strided subset, then a tree), so it is used where order does not
//! matter: max and min of any dtype, sums and products of integers and bools, float sums (which the backends
//! already reassociate within a documented bound), and arg-reductions, whose partial results are (value, index)
//! pairs combined with the lower index winning ties, which gives the first extremum as the sequential fold does.

use inkwell::builder::BuilderError;
use inkwell::types::BasicMetadataTypeEnum;
use inkwell::values::{BasicValueEnum, FunctionValue, IntValue, PointerValue};
use inkwell::{AddressSpace, FloatPredicate, IntPredicate};
use jit_runtime::DType;
use jit_runtime::ir::{ArgReduceOp, Op, ReduceOp, ValueId};

use super::index::merge_axes;
use super::types::reg_type;
use super::{Idx, Lowerer};
use crate::fuse::Kernel;

/// What the threads of a block do together, as a target emits it.
pub trait BlockSync<'ctx> {
    /// Lanes of a warp: the threads that exchange registers by shuffles (a power of two, at least 2).
    fn warp_size(&self) -> u32;

    /// Waits until every thread of the block arrives; shared memory written before is visible after.
    fn barrier(&self, lw: &Lowerer<'_, 'ctx>) -> Result<(), BuilderError>;

    /// The `i32` `value` of lane `lane ^ mask` of the calling thread's warp (thread `tid` of the block); every lane
    /// of the warp calls it together.
    fn shuffle_xor(
        &self,
        lw: &Lowerer<'_, 'ctx>,
        tid: IntValue<'ctx>,
        value: IntValue<'ctx>,
        mask: u32,
    ) -> Result<IntValue<'ctx>, BuilderError>;

    /// Memory shared by the threads of a block, `2 * warp_size` `i64` words at least.
    fn shared_memory(&self, lw: &Lowerer<'_, 'ctx>) -> Result<PointerValue<'ctx>, BuilderError>;
}

/// What a block folds: a reduction, or an arg-reduction (value and index pairs).
#[derive(Clone, Copy, Debug)]
enum Fold {
    Reduce(ReduceOp),
    Arg(ArgReduceOp),
}

/// A partial result: the value, and for an arg-reduction the index of that value (`i64::MAX`: no element yet).
#[derive(Clone, Copy)]
struct Partial<'ctx> {
    value: BasicValueEnum<'ctx>,
    index: Option<IntValue<'ctx>>,
}

/// The reductions a block may fold in any order (see the module documentation).
pub fn block_foldable(op: &Op, dtype: DType) -> bool {
    match op {
        Op::Reduce { op, .. } => !(*op == ReduceOp::Prod && dtype.is_float()),
        Op::ArgReduce { .. } => true,
        _ => false,
    }
}

impl<'a, 'ctx> Lowerer<'a, 'ctx> {
    /// Emits kernel `k` (a reduction or arg-reduction [`block_foldable`]) as the block-folded body
    /// `name_body(b0, ..., first, step, end, tid, ntid, team)` sketched in the module documentation, with
    /// `team` the pointer the target's [`BlockSync`] may use; returns the body (internal, always inlined into the
    /// entry point that calls it).
    pub(crate) fn emit_block_reduce_kernel(
        &mut self,
        k: &Kernel,
        name: &str,
        sync: &dyn BlockSync<'ctx>,
    ) -> Result<FunctionValue<'ctx>, BuilderError> {
        let node = self.graph.node(k.root).clone();
        let input = node.inputs[0];
        let out = node.outputs[0];
        let in_dims = self.graph.ty(input).dims().to_vec();
        let d = self.graph.ty(input).dtype;
        let out_ty = self.graph.ty(out).clone();
        let out_dims = out_ty.dims().to_vec();
        // The reduced axes, sorted (the order `merge_axes` and a row-major walk of the reduced elements need).
        let (fold, reduced_axes): (Fold, Vec<usize>) = match &node.op {
            Op::Reduce { op, axes } => {
                let mut axes = axes.clone();
                axes.sort_unstable();
                (Fold::Reduce(*op), axes)
            }
            Op::ArgReduce { op, axis, .. } => (Fold::Arg(*op), vec![*axis]),
            _ => return Err(BuilderError::UnsetPosition),
        };
        let red_dims: Vec<usize> = reduced_axes.iter().map(|&a| in_dims[a]).collect();
        let reduced: usize = red_dims.iter().product();
        self.prepare_slots(k)?;
        let i64t: BasicMetadataTypeEnum<'ctx> = self.cx.i64_type().into();
        let ptr_t: BasicMetadataTypeEnum<'ctx> = self.cx.ptr_type(AddressSpace::default()).into();
        let (f, params) = self.begin_kernel_with(name, &[i64t, i64t, i64t, i64t, i64t, ptr_t])?;
        let convergent =
            self.cx.create_enum_attribute(inkwell::attributes::Attribute::get_named_enum_kind_id("convergent"), 0);
        f.add_attribute(inkwell::attributes::AttributeLoc::Function, convergent);
        let int = |i: usize| params.get(i).map(|p| p.into_int_value()).ok_or(BuilderError::UnsetPosition);
        let (first, step, end, tid, ntid) = (int(0)?, int(1)?, int(2)?, int(3)?, int(4)?);
        let w = sync.warp_size();
        let log_w = self.i64(i64::from(w.trailing_zeros()));
        let lane = self.b.build_and(tid, self.i64(i64::from(w) - 1), "lane")?;
        let warp = self.b.build_right_shift(tid, log_w, false, "warp")?;
        let nwarps = self.b.build_right_shift(ntid, log_w, false, "nwarps")?;
        let shared = sync.shared_memory(self)?;
        let value_t = reg_type(self.cx, d);
        let acc_v = self.entry_alloca(value_t, "acc")?;
        let acc_i = self.entry_alloca(self.cx.i64_type().into(), "acc_index")?;
        let arg = matches!(fold, Fold::Arg(_));
        self.memo.clear();
        self.emit_loop_by(first, end, step, &mut |s, o| {
            let out_ivs = s.multi(&mut Idx::from_linear(&out_dims, o))?;
            let identity = s.fold_identity(fold, d)?;
            s.store_partial(acc_v, acc_i, identity)?;
            s.emit_loop_by(tid, s.i64(reduced as i64), ntid, &mut |s, j| {
                let red_ivs = s.multi(&mut Idx::from_linear(&red_dims, j))?;
                let full = merge_axes(in_dims.len(), &reduced_axes, &out_ivs, &red_ivs);
                let x = s.eval(input, &mut Idx::from_multi(&in_dims, full))?;
                s.memo.clear();
                let acc = s.load_partial(acc_v, acc_i, d, arg)?;
                let next = s.fold_partials(fold, d, acc, Partial { value: x, index: arg.then_some(j) })?;
                s.store_partial(acc_v, acc_i, next)
            })?;
            s.memo.clear();
            let acc = s.load_partial(acc_v, acc_i, d, arg)?;
            let acc = s.warp_fold(sync, fold, d, tid, acc)?;
            let is_lane0 = s.b.build_int_compare(IntPredicate::EQ, lane, s.i64(0), "lane0")?;
            s.emit_if(is_lane0, &mut |s| s.store_shared(shared, w, warp, d, acc))?;
            sync.barrier(s)?;
            let has = s.b.build_int_compare(IntPredicate::ULT, lane, nwarps, "has")?;
            let at = s.b.build_select(has, lane, s.i64(0), "at")?.into_int_value();
            let loaded = s.load_shared(shared, w, at, d, arg)?;
            let identity = s.fold_identity(fold, d)?;
            let part = Partial {
                value: s.b.build_select(has, loaded.value, identity.value, "part")?,
                index: match (loaded.index, identity.index) {
                    (Some(a), Some(b)) => Some(s.b.build_select(has, a, b, "part_index")?.into_int_value()),
                    _ => None,
                },
            };
            let total = s.warp_fold(sync, fold, d, tid, part)?;
            let is_thread0 = s.b.build_int_compare(IntPredicate::EQ, tid, s.i64(0), "thread0")?;
            s.emit_if(is_thread0, &mut |s| {
                let slot = s.layout.slot_of[out.index()].ok_or(BuilderError::UnsetPosition)?;
                let base = s.buffer(slot)?;
                let (v, dtype) = match (fold, &node.op, total.index) {
                    (Fold::Arg(_), Op::ArgReduce { index_dtype, .. }, Some(i)) => {
                        (s.emit_convert(DType::I64, *index_dtype, i.into())?, *index_dtype)
                    }
                    (Fold::Reduce(_), _, _) => (total.value, out_ty.dtype),
                    _ => return Err(BuilderError::UnsetPosition),
                };
                s.store_elem(base, o, dtype, v)
            })?;
            sync.barrier(s)?;
            s.memo.clear();
            Ok(())
        })?;
        self.b.build_return(None)?;
        Ok(f)
    }

    /// `if cond { then() }`; the builder continues after it.
    fn emit_if(
        &mut self,
        cond: IntValue<'ctx>,
        then: &mut dyn FnMut(&mut Self) -> Result<(), BuilderError>,
    ) -> Result<(), BuilderError> {
        let f = self.current_fn()?;
        let then_bb = self.cx.append_basic_block(f, "then");
        let done = self.cx.append_basic_block(f, "endif");
        self.b.build_conditional_branch(cond, then_bb, done)?;
        self.b.position_at_end(then_bb);
        then(self)?;
        self.b.build_unconditional_branch(done)?;
        self.b.position_at_end(done);
        Ok(())
    }

    fn fold_identity(&self, fold: Fold, d: DType) -> Result<Partial<'ctx>, BuilderError> {
        Ok(match fold {
            Fold::Reduce(op) => Partial { value: self.reduce_identity(op, d)?, index: None },
            Fold::Arg(_) => Partial { value: reg_type(self.cx, d).const_zero(), index: Some(self.i64(i64::MAX)) },
        })
    }

    fn store_partial(
        &self,
        value_at: PointerValue<'ctx>,
        index_at: PointerValue<'ctx>,
        p: Partial<'ctx>,
    ) -> Result<(), BuilderError> {
        self.b.build_store(value_at, p.value)?;
        if let Some(i) = p.index {
            self.b.build_store(index_at, i)?;
        }
        Ok(())
    }

    fn load_partial(
        &self,
        value_at: PointerValue<'ctx>,
        index_at: PointerValue<'ctx>,
        d: DType,
        arg: bool,
    ) -> Result<Partial<'ctx>, BuilderError> {
        let value = self.b.build_load(reg_type(self.cx, d), value_at, "acc")?;
        let index = if arg {
            Some(self.b.build_load(self.cx.i64_type(), index_at, "acc_index")?.into_int_value())
        } else {
            None
        };
        Ok(Partial { value, index })
    }

    /// `a ⊕ b`. For arg-reductions `b` replaces `a` when it is an element and `a` is not, when its value is
    /// better (first extremum wins, NaN counts as the extremum), or when the values tie (equal, or both NaN) and
    /// its index is lower: a commutative, associative choice that picks the sequential fold's answer.
    fn fold_partials(
        &self,
        fold: Fold,
        d: DType,
        a: Partial<'ctx>,
        b: Partial<'ctx>,
    ) -> Result<Partial<'ctx>, BuilderError> {
        let op = match fold {
            Fold::Reduce(op) => {
                return Ok(Partial { value: self.reduce_combine(op, d, a.value, b.value)?, index: None });
            }
            Fold::Arg(op) => op,
        };
        let (ai, bi) = match (a.index, b.index) {
            (Some(ai), Some(bi)) => (ai, bi),
            _ => return Err(BuilderError::UnsetPosition),
        };
        let bld = self.b;
        let none = self.i64(i64::MAX);
        let a_empty = bld.build_int_compare(IntPredicate::EQ, ai, none, "a_empty")?;
        let b_some = bld.build_int_compare(IntPredicate::NE, bi, none, "b_some")?;
        let better = self.arg_better(op, d, b.value, a.value)?;
        let tie = if d.is_float() {
            let (fa, fb) = (a.value.into_float_value(), b.value.into_float_value());
            let a_nan = bld.build_float_compare(FloatPredicate::UNO, fa, fa, "a_nan")?;
            let b_nan = bld.build_float_compare(FloatPredicate::UNO, fb, fb, "b_nan")?;
            let both_nan = bld.build_and(a_nan, b_nan, "both_nan")?;
            let equal = bld.build_float_compare(FloatPredicate::OEQ, fa, fb, "equal")?;
            bld.build_or(both_nan, equal, "tie")?
        } else {
            bld.build_int_compare(IntPredicate::EQ, a.value.into_int_value(), b.value.into_int_value(), "tie")?
        };
        let lower = bld.build_int_compare(IntPredicate::SLT, bi, ai, "lower")?;
        let tie_lower = bld.build_and(tie, lower, "tie_lower")?;
        let wins = bld.build_or(bld.build_or(a_empty, better, "wins")?, tie_lower, "wins")?;
        let take = bld.build_and(b_some, wins, "take")?;
        Ok(Partial {
            value: bld.build_select(take, b.value, a.value, "best")?,
            index: Some(bld.build_select(take, bi, ai, "best_index")?.into_int_value()),
        })
    }

    /// The fold of a warp's partial results, in every lane: butterfly shuffles over lane masks `w/2, ..., 1`.
    fn warp_fold(
        &self,
        sync: &dyn BlockSync<'ctx>,
        fold: Fold,
        d: DType,
        tid: IntValue<'ctx>,
        mut acc: Partial<'ctx>,
    ) -> Result<Partial<'ctx>, BuilderError> {
        let mut mask = sync.warp_size() / 2;
        while mask > 0 {
            let other = Partial {
                value: self.shuffle_value(sync, tid, acc.value, d, mask)?,
                index: match acc.index {
                    Some(i) => Some(self.shuffle_word64(sync, tid, i, mask)?),
                    None => None,
                },
            };
            acc = self.fold_partials(fold, d, acc, other)?;
            mask /= 2;
        }
        Ok(acc)
    }

    /// A register value of `d` as the bits of an integer of its width (`i1` for bool).
    fn value_bits(&self, v: BasicValueEnum<'ctx>, d: DType) -> Result<IntValue<'ctx>, BuilderError> {
        Ok(match d {
            DType::F32 => self.b.build_bit_cast(v, self.cx.i32_type(), "bits")?.into_int_value(),
            DType::F64 => self.b.build_bit_cast(v, self.cx.i64_type(), "bits")?.into_int_value(),
            _ => v.into_int_value(),
        })
    }

    /// The inverse of [`Self::value_bits`].
    fn bits_value(&self, bits: IntValue<'ctx>, d: DType) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        Ok(match d {
            DType::F32 | DType::F64 => self.b.build_bit_cast(bits, reg_type(self.cx, d), "value")?,
            _ => bits.into(),
        })
    }

    fn shuffle_value(
        &self,
        sync: &dyn BlockSync<'ctx>,
        tid: IntValue<'ctx>,
        v: BasicValueEnum<'ctx>,
        d: DType,
        mask: u32,
    ) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        let bits = self.value_bits(v, d)?;
        let width = bits.get_type().get_bit_width();
        let got = if width == 64 {
            self.shuffle_word64(sync, tid, bits, mask)?
        } else {
            let i32t = self.cx.i32_type();
            let word = if width < 32 { self.b.build_int_z_extend(bits, i32t, "word")? } else { bits };
            let got = sync.shuffle_xor(self, tid, word, mask)?;
            if width < 32 { self.b.build_int_truncate(got, bits.get_type(), "narrow")? } else { got }
        };
        self.bits_value(got, d)
    }

    /// An `i64` shuffled as its two 32-bit halves.
    fn shuffle_word64(
        &self,
        sync: &dyn BlockSync<'ctx>,
        tid: IntValue<'ctx>,
        v: IntValue<'ctx>,
        mask: u32,
    ) -> Result<IntValue<'ctx>, BuilderError> {
        let (i32t, i64t) = (self.cx.i32_type(), self.cx.i64_type());
        let lo = self.b.build_int_truncate(v, i32t, "lo")?;
        let hi = self.b.build_int_truncate(self.b.build_right_shift(v, self.i64(32), false, "hi")?, i32t, "hi")?;
        let lo = self.b.build_int_z_extend(sync.shuffle_xor(self, tid, lo, mask)?, i64t, "lo")?;
        let hi = self.b.build_int_z_extend(sync.shuffle_xor(self, tid, hi, mask)?, i64t, "hi")?;
        self.b.build_or(self.b.build_left_shift(hi, self.i64(32), "hi")?, lo, "joined")
    }

    /// The shared-memory words of warp `at`'s partial result: its value at `shared[at]`, its index at
    /// `shared[w + at]`.
    fn shared_words(
        &self,
        shared: PointerValue<'ctx>,
        w: u32,
        at: IntValue<'ctx>,
    ) -> Result<(PointerValue<'ctx>, PointerValue<'ctx>), BuilderError> {
        let i64t = self.cx.i64_type();
        let k = self.b.build_int_nuw_add(at, self.i64(i64::from(w)), "k")?;
        // SAFETY: builds IR only; `at` is a warp number, below `w`, and the shared memory holds `2 * w` words.
        let value_at = unsafe { self.b.build_in_bounds_gep(i64t, shared, &[at], "shared_value")? };
        // SAFETY: as above, `w + at < 2 * w`.
        let index_at = unsafe { self.b.build_in_bounds_gep(i64t, shared, &[k], "shared_index")? };
        Ok((value_at, index_at))
    }

    /// Stores warp `at`'s partial result in shared memory ([`Self::shared_words`]), the value's bits widened to 64.
    fn store_shared(
        &self,
        shared: PointerValue<'ctx>,
        w: u32,
        at: IntValue<'ctx>,
        d: DType,
        p: Partial<'ctx>,
    ) -> Result<(), BuilderError> {
        let (value_at, index_at) = self.shared_words(shared, w, at)?;
        let bits = self.value_bits(p.value, d)?;
        let i64t = self.cx.i64_type();
        let word =
            if bits.get_type().get_bit_width() < 64 { self.b.build_int_z_extend(bits, i64t, "word")? } else { bits };
        self.b.build_store(value_at, word)?;
        if let Some(i) = p.index {
            self.b.build_store(index_at, i)?;
        }
        Ok(())
    }

    /// The partial result [`Self::store_shared`] wrote for warp `at`.
    fn load_shared(
        &self,
        shared: PointerValue<'ctx>,
        w: u32,
        at: IntValue<'ctx>,
        d: DType,
        arg: bool,
    ) -> Result<Partial<'ctx>, BuilderError> {
        let (value_at, index_at) = self.shared_words(shared, w, at)?;
        let i64t = self.cx.i64_type();
        let word = self.b.build_load(i64t, value_at, "word")?.into_int_value();
        let bits = match d {
            DType::F32 | DType::I32 | DType::U32 => self.b.build_int_truncate(word, self.cx.i32_type(), "bits")?,
            DType::Bool => self.b.build_int_truncate(word, self.cx.bool_type(), "bits")?,
            _ => word,
        };
        let value = self.bits_value(bits, d)?;
        let index = if arg { Some(self.b.build_load(i64t, index_at, "index")?.into_int_value()) } else { None };
        Ok(Partial { value, index })
    }
}

/// The reduced element count of a block-foldable kernel root.
pub fn reduced_elements(graph: &jit_runtime::ir::Graph, root: &jit_runtime::ir::Node) -> Option<usize> {
    let input: ValueId = *root.inputs.first()?;
    let dims = graph.ty(input).dims();
    match &root.op {
        Op::Reduce { axes, .. } => Some(axes.iter().map(|&a| dims.get(a).copied().unwrap_or(1)).product()),
        Op::ArgReduce { axis, .. } => dims.get(*axis).copied(),
        _ => None,
    }
}
