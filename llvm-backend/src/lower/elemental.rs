//! The value of any fused op at one element index: the elemental emitter. A materialised value is a load; every
//! other op computes its element from its operands' elements at mapped indices (broadcast, reshape, transpose,
//! slice, pad, concatenate, rev), so a whole fused chain becomes straight-line code in one loop body.

use inkwell::IntPredicate;
use inkwell::builder::BuilderError;
use inkwell::values::{BasicValueEnum, IntValue};
use jit_runtime::ir::{Op, ValueId};
use jit_runtime::{DType, HostData};

use super::types::reg_type;
use super::{Idx, Lowerer};

impl<'a, 'ctx> Lowerer<'a, 'ctx> {
    /// The element of `v` at `idx`.
    pub fn eval(&mut self, v: ValueId, idx: &mut Idx<'ctx>) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        let def = self.graph.value(v).clone();
        if let Some(slot) = self.layout.slot_of[v.index()]
            && self.computing_root != Some(def.node)
        {
            let base = self.buffer(slot)?;
            let i = self.linear(idx)?;
            return self.load_elem(base, i, def.ty.dtype);
        }
        // The results of a node are memoised together, under its first result: the second result of a
        // `threefry2x32` comes from the same evaluation as the first. (Evaluating the node again would also read
        // its operands again, after the kernel stored the first result, which may have overwritten a donated
        // operand's buffer.)
        let first = self.graph.node(def.node).outputs.first().copied().unwrap_or(v);
        let key = (first, idx.key());
        if let Some(vals) = self.memo.get(&key) {
            return vals.get(def.index as usize).copied().ok_or(BuilderError::UnsetPosition);
        }
        let vals = self.eval_node(def.node, idx)?;
        let out = vals.get(def.index as usize).copied().ok_or(BuilderError::UnsetPosition)?;
        // Evaluating may have added the other form of the index (linear or multi) to `idx`: memoise under both.
        let after = (first, idx.key());
        if after != key {
            self.memo.insert(after, vals.clone());
        }
        self.memo.insert(key, vals);
        Ok(out)
    }

    /// The results of `node` at `idx` (its result shape).
    fn eval_node(
        &mut self,
        node_id: jit_runtime::ir::NodeId,
        idx: &mut Idx<'ctx>,
    ) -> Result<Vec<BasicValueEnum<'ctx>>, BuilderError> {
        let node = self.graph.node(node_id).clone();
        let in_ty = |k: usize| self.graph.ty(node.inputs[k]).clone();
        let out_ty = self.graph.ty(node.outputs[0]).clone();
        let one = |v: BasicValueEnum<'ctx>| Ok(vec![v]);
        match &node.op {
            Op::Parameter { .. } => Err(BuilderError::UnsetPosition),
            Op::Constant(lit) => {
                // Only scalars are inlined; array constants live in memory. A zero-size constant has no element to
                // read: the loops that would read it run zero times, so any value of the type does.
                if lit.data().is_empty() {
                    return one(reg_type(self.cx, lit.dtype()).const_zero());
                }
                one(self.constant(lit.data(), 0)?)
            }
            Op::Iota { dtype, dimension, .. } => {
                let m = self.multi(idx)?;
                let i = m[*dimension];
                let i64v: BasicValueEnum<'ctx> = i.into();
                one(self.emit_convert(DType::I64, *dtype, i64v)?)
            }
            Op::Unary(u) => {
                let x = self.eval(node.inputs[0], idx)?;
                one(self.emit_unary(*u, in_ty(0).dtype, x)?)
            }
            Op::Binary(bop) => {
                let x = self.eval(node.inputs[0], idx)?;
                let y = self.eval(node.inputs[1], idx)?;
                one(self.emit_binary(*bop, in_ty(0).dtype, x, y)?)
            }
            Op::IntegerPow { exponent } => {
                let x = self.eval(node.inputs[0], idx)?;
                one(self.integer_pow(out_ty.dtype, x, *exponent)?)
            }
            Op::Select => {
                let p = self.eval(node.inputs[0], idx)?.into_int_value();
                let t = self.eval(node.inputs[1], idx)?;
                let f = self.eval(node.inputs[2], idx)?;
                one(self.b.build_select(p, t, f, "sel")?)
            }
            Op::Convert { dtype } => {
                let x = self.eval(node.inputs[0], idx)?;
                one(self.emit_convert(in_ty(0).dtype, *dtype, x)?)
            }
            Op::BitcastConvert { dtype } => {
                let x = self.eval(node.inputs[0], idx)?;
                one(self.b.build_bit_cast(x, reg_type(self.cx, *dtype), "bc")?)
            }
            Op::StopGradient => {
                let x = self.eval(node.inputs[0], idx)?;
                one(x)
            }
            Op::Reshape { .. } => {
                let src = in_ty(0);
                let mut sub = match idx.reshaped(src.dims()) {
                    Some(s) => s,
                    None => {
                        let l = self.linear(idx)?;
                        Idx::from_linear(src.dims(), l)
                    }
                };
                one(self.eval(node.inputs[0], &mut sub)?)
            }
            Op::BroadcastInDim { broadcast_dimensions, .. } => {
                let src = in_ty(0);
                if src.rank() == 0 {
                    return one(self.eval(node.inputs[0], &mut Idx::from_multi(&[], vec![]))?);
                }
                if src.dims().iter().product::<usize>() == out_ty.dims().iter().product::<usize>()
                    && let Some(mut sub) = idx.reshaped(src.dims())
                {
                    // Only size-1 dimensions are added: the linear index is unchanged.
                    return one(self.eval(node.inputs[0], &mut sub)?);
                }
                let m = self.multi(idx)?;
                let zero = self.i64(0);
                let sub_m: Vec<IntValue<'ctx>> = broadcast_dimensions
                    .iter()
                    .zip(src.dims())
                    .map(|(&d, &size)| if size == 1 { zero } else { m[d] })
                    .collect();
                let mut sub = Idx::from_multi(src.dims(), sub_m);
                one(self.eval(node.inputs[0], &mut sub)?)
            }
            Op::Transpose { permutation } => {
                let src = in_ty(0);
                let m = self.multi(idx)?;
                let mut sub_m = vec![self.i64(0); src.rank()];
                for (i, &p) in permutation.iter().enumerate() {
                    sub_m[p] = m[i];
                }
                let mut sub = Idx::from_multi(src.dims(), sub_m);
                one(self.eval(node.inputs[0], &mut sub)?)
            }
            Op::Slice { start, strides, .. } => {
                let src = in_ty(0);
                let m = self.multi(idx)?;
                let mut sub_m = Vec::with_capacity(m.len());
                for (k, &i) in m.iter().enumerate() {
                    let scaled = if strides[k] == 1 {
                        i
                    } else {
                        self.b.build_int_nsw_mul(i, self.i64(strides[k] as i64), "s")?
                    };
                    sub_m.push(if start[k] == 0 {
                        scaled
                    } else {
                        self.b.build_int_nsw_add(scaled, self.i64(start[k] as i64), "o")?
                    });
                }
                let mut sub = Idx::from_multi(src.dims(), sub_m);
                one(self.eval(node.inputs[0], &mut sub)?)
            }
            Op::Rev { dimensions } => {
                let src = in_ty(0);
                let m = self.multi(idx)?;
                let mut sub_m = m.clone();
                for &d in dimensions {
                    sub_m[d] = self.b.build_int_nsw_sub(self.i64(src.dims()[d] as i64 - 1), m[d], "rev")?;
                }
                let mut sub = Idx::from_multi(src.dims(), sub_m);
                one(self.eval(node.inputs[0], &mut sub)?)
            }
            Op::Pad { low, interior, .. } => {
                let src = in_ty(0);
                let m = self.multi(idx)?;
                let b = self.b;
                let mut valid = self.cx.bool_type().const_int(1, false);
                let mut sub_m = Vec::with_capacity(m.len());
                for (k, &i) in m.iter().enumerate() {
                    let d = src.dims()[k] as i64;
                    let t = b.build_int_nsw_sub(i, self.i64(low[k]), "t")?;
                    let step = interior[k] as i64 + 1;
                    let (q, r_ok) = if step == 1 {
                        (t, self.cx.bool_type().const_int(1, false))
                    } else {
                        let r = b.build_int_signed_rem(t, self.i64(step), "r")?;
                        let ok = b.build_int_compare(IntPredicate::EQ, r, self.i64(0), "rok")?;
                        (b.build_int_signed_div(t, self.i64(step), "q")?, ok)
                    };
                    let ge = b.build_int_compare(IntPredicate::SGE, t, self.i64(0), "ge")?;
                    let lt = b.build_int_compare(IntPredicate::SLT, q, self.i64(d), "lt")?;
                    let ok = b.build_and(b.build_and(ge, lt, "a")?, r_ok, "ok")?;
                    valid = b.build_and(valid, ok, "v")?;
                    // Clamp so the (discarded) load of a padding position stays inside the operand.
                    let clamped = b.build_select(ok, q, self.i64(0), "cl")?.into_int_value();
                    sub_m.push(clamped);
                }
                if src.dims().contains(&0) {
                    return one(self.eval(node.inputs[1], &mut Idx::from_multi(&[], vec![]))?);
                }
                let mut sub = Idx::from_multi(src.dims(), sub_m);
                let x = self.eval(node.inputs[0], &mut sub)?;
                let pad = self.eval(node.inputs[1], &mut Idx::from_multi(&[], vec![]))?;
                one(b.build_select(valid, x, pad, "pad")?)
            }
            Op::Concatenate { dimension } => {
                let m = self.multi(idx)?;
                let k = *dimension;
                let mut result: Option<BasicValueEnum<'ctx>> = None;
                let mut offset = 0i64;
                for (n, &input) in node.inputs.iter().enumerate() {
                    let ty = in_ty(n);
                    let size = ty.dims()[k] as i64;
                    if size == 0 {
                        continue;
                    }
                    let b = self.b;
                    let local = b.build_int_nsw_sub(m[k], self.i64(offset), "loc")?;
                    let lo = b.build_int_compare(IntPredicate::SGE, local, self.i64(0), "lo")?;
                    let hi = b.build_int_compare(IntPredicate::SLT, local, self.i64(size), "hi")?;
                    let inside = b.build_and(lo, hi, "in")?;
                    let clamped = b.build_select(inside, local, self.i64(0), "cl")?.into_int_value();
                    let mut sub_m = m.clone();
                    sub_m[k] = clamped;
                    let mut sub = Idx::from_multi(ty.dims(), sub_m);
                    let x = self.eval(input, &mut sub)?;
                    result = Some(match result {
                        None => x,
                        Some(prev) => self.b.build_select(inside, x, prev, "cat")?,
                    });
                    offset += size;
                }
                match result {
                    Some(r) => one(r),
                    // Every operand is empty along `dimension`, so the result has no elements to compute.
                    None => one(reg_type(self.cx, out_ty.dtype).const_zero()),
                }
            }
            Op::Threefry2x32 => {
                let k0 = self.eval(node.inputs[0], idx)?.into_int_value();
                let k1 = self.eval(node.inputs[1], idx)?.into_int_value();
                let x0 = self.eval(node.inputs[2], idx)?.into_int_value();
                let x1 = self.eval(node.inputs[3], idx)?.into_int_value();
                let (y0, y1) = self.threefry(k0, k1, x0, x1)?;
                Ok(vec![y0.into(), y1.into()])
            }
            Op::Reduce { .. } | Op::ArgReduce { .. } | Op::DotGeneral(_) => Err(BuilderError::UnsetPosition),
            _ => Err(BuilderError::UnsetPosition),
        }
    }

    /// Element `i` of constant data as a register constant.
    pub(crate) fn constant(&self, data: &HostData, i: usize) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        let cx = self.cx;
        Ok(match data {
            HostData::F32(v) => cx.f32_type().const_float(*v.get(i).ok_or(BuilderError::UnsetPosition)? as f64).into(),
            HostData::F64(v) => cx.f64_type().const_float(*v.get(i).ok_or(BuilderError::UnsetPosition)?).into(),
            HostData::I32(v) => {
                cx.i32_type().const_int(*v.get(i).ok_or(BuilderError::UnsetPosition)? as i64 as u64, true).into()
            }
            HostData::U32(v) => {
                cx.i32_type().const_int(*v.get(i).ok_or(BuilderError::UnsetPosition)? as u64, false).into()
            }
            HostData::I64(v) => {
                cx.i64_type().const_int(*v.get(i).ok_or(BuilderError::UnsetPosition)? as u64, true).into()
            }
            HostData::Bool(v) => {
                cx.bool_type().const_int(*v.get(i).ok_or(BuilderError::UnsetPosition)? as u64, false).into()
            }
        })
    }

    /// `x^n` by the interpreter's square-and-multiply order (so floats round identically).
    fn integer_pow(&self, d: DType, x: BasicValueEnum<'ctx>, n: i32) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        let mul = |a: BasicValueEnum<'ctx>, b: BasicValueEnum<'ctx>| -> Result<BasicValueEnum<'ctx>, BuilderError> {
            self.emit_binary(jit_runtime::ir::BinaryOp::Mul, d, a, b)
        };
        let mut y = n.unsigned_abs();
        let mut base = x;
        let mut acc: Option<BasicValueEnum<'ctx>> = None;
        while y > 0 {
            if y & 1 == 1 {
                acc = Some(match acc {
                    None => base,
                    Some(a) => mul(a, base)?,
                });
            }
            y >>= 1;
            if y > 0 {
                base = mul(base, base)?;
            }
        }
        let one_v = self.emit_convert(DType::I64, d, self.i64(1).into())?;
        match acc {
            None => Ok(one_v),
            Some(a) if n < 0 => {
                if d.is_float() {
                    self.emit_binary(jit_runtime::ir::BinaryOp::Div, d, one_v, a)
                } else {
                    // `1 / x^|n|` truncated: 1 for base 1, ±1 (by the parity of `n`) for base -1 of a signed type,
                    // 0 for every other base. (The exponent must not go through `pow` as an integer of type `d`:
                    // for an unsigned type it would wrap to a huge positive exponent.)
                    let i = x.into_int_value();
                    let ty = i.get_type();
                    let b = self.b;
                    let is_one = b.build_int_compare(IntPredicate::EQ, i, ty.const_int(1, false), "x1")?;
                    let mut r = b.build_select(is_one, ty.const_int(1, false), ty.const_zero(), "ip")?;
                    if d.is_signed_integer() {
                        let minus_one = ty.const_all_ones();
                        let m1_pow = if n % 2 != 0 { minus_one } else { ty.const_int(1, false) };
                        let is_m1 = b.build_int_compare(IntPredicate::EQ, i, minus_one, "xm1")?;
                        r = b.build_select(is_m1, m1_pow, r.into_int_value(), "ip")?;
                    }
                    Ok(r)
                }
            }
            Some(a) => Ok(a),
        }
    }

    /// The threefry2x32 block on 32-bit integer values (20 rounds, JAX's key schedule).
    pub(crate) fn threefry(
        &self,
        k0: IntValue<'ctx>,
        k1: IntValue<'ctx>,
        x0: IntValue<'ctx>,
        x1: IntValue<'ctx>,
    ) -> Result<(IntValue<'ctx>, IntValue<'ctx>), BuilderError> {
        const ROTATIONS: [[u64; 4]; 2] = [[13, 15, 26, 6], [17, 29, 16, 24]];
        let b = self.b;
        let t = self.cx.i32_type();
        let k2 = b.build_xor(b.build_xor(k0, k1, "k")?, t.const_int(0x1BD1_1BDA, false), "k2")?;
        let ks = [k0, k1, k2];
        let mut a = b.build_int_add(x0, ks[0], "x0")?;
        let mut c = b.build_int_add(x1, ks[1], "x1")?;
        for i in 0..5 {
            for &r in &ROTATIONS[i % 2] {
                a = b.build_int_add(a, c, "a")?;
                let l = b.build_left_shift(c, t.const_int(r, false), "l")?;
                let h = b.build_right_shift(c, t.const_int(32 - r, false), false, "h")?;
                c = b.build_or(l, h, "rot")?;
                c = b.build_xor(c, a, "x")?;
            }
            a = b.build_int_add(a, ks[(i + 1) % 3], "a")?;
            let c2 = b.build_int_add(c, ks[(i + 2) % 3], "c")?;
            c = b.build_int_add(c2, t.const_int(i as u64 + 1, false), "c")?;
        }
        Ok((a, c))
    }
}
