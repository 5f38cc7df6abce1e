//! One elementwise op on register values, per dtype, with the interpreter's exact semantics (XLA's): integer
//! division by zero, shifts out of range, NaN-propagating max/min, saturating float-to-int conversion.

use inkwell::builder::BuilderError;
use inkwell::intrinsics::Intrinsic;
use inkwell::values::{BasicValueEnum, FloatValue, IntValue};
use inkwell::{FloatPredicate, IntPredicate};
use jit_runtime::DType;
use jit_runtime::ir::{BinaryOp, UnaryOp};

use super::Lowerer;
use super::types::reg_type;
use crate::math::{self, MathCx, MathFn};

impl<'a, 'ctx> Lowerer<'a, 'ctx> {
    fn math_cx(&self) -> MathCx<'_, 'ctx> {
        MathCx { context: self.cx, module: self.module, builder: self.b }
    }

    /// Calls the LLVM intrinsic `name` overloaded on the types of `args`' first value.
    pub(crate) fn intrinsic(
        &self,
        name: &str,
        args: &[BasicValueEnum<'ctx>],
    ) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        let ty = args[0].get_type();
        let f = Intrinsic::find(name)
            .and_then(|i| i.get_declaration(self.module, &[ty]))
            .ok_or(BuilderError::UnsetPosition)?;
        let args: Vec<_> = args.iter().map(|&a| a.into()).collect();
        self.b.build_call(f, &args, "i")?.try_as_basic_value().basic().ok_or(BuilderError::UnsetPosition)
    }

    fn float_const(&self, d: DType, v: f64) -> FloatValue<'ctx> {
        reg_type(self.cx, d).into_float_type().const_float(v)
    }

    /// `op(x)` for a value of dtype `d`.
    pub fn emit_unary(
        &self,
        op: UnaryOp,
        d: DType,
        x: BasicValueEnum<'ctx>,
    ) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        let b = self.b;
        if d.is_float() {
            let f = x.into_float_value();
            let m = |fun: MathFn| math::emit_unary(&self.math_cx(), fun, x);
            return match op {
                UnaryOp::Neg => Ok(b.build_float_neg(f, "neg")?.into()),
                UnaryOp::Abs => self.intrinsic("llvm.fabs", &[x]),
                UnaryOp::Sign => {
                    let one = self.float_const(d, 1.0);
                    let s = self.intrinsic("llvm.copysign", &[one.into(), x])?;
                    // Zero (either sign) and NaN stay as they are.
                    let keep = b.build_float_compare(FloatPredicate::UEQ, f, self.float_const(d, 0.0), "z")?;
                    b.build_select(keep, x, s, "sign")
                }
                UnaryOp::Floor => self.intrinsic("llvm.floor", &[x]),
                UnaryOp::Ceil => self.intrinsic("llvm.ceil", &[x]),
                UnaryOp::Round => m(MathFn::Round),
                UnaryOp::Exp => m(MathFn::Exp),
                UnaryOp::Expm1 => m(MathFn::Expm1),
                UnaryOp::Log => m(MathFn::Log),
                UnaryOp::Log1p => m(MathFn::Log1p),
                UnaryOp::Sqrt => self.intrinsic("llvm.sqrt", &[x]),
                UnaryOp::Rsqrt => {
                    let s = self.intrinsic("llvm.sqrt", &[x])?.into_float_value();
                    Ok(b.build_float_div(self.float_const(d, 1.0), s, "rsqrt")?.into())
                }
                UnaryOp::Tanh => m(MathFn::Tanh),
                UnaryOp::Logistic => m(MathFn::Logistic),
                UnaryOp::Sin => m(MathFn::Sin),
                UnaryOp::Cos => m(MathFn::Cos),
                UnaryOp::Erf => m(MathFn::Erf),
                UnaryOp::Erfc => m(MathFn::Erfc),
                UnaryOp::ErfInv => m(MathFn::ErfInv),
                UnaryOp::Not => Err(BuilderError::UnsetPosition),
            };
        }
        let i = x.into_int_value();
        let zero = i.get_type().const_zero();
        match op {
            UnaryOp::Neg => Ok(b.build_int_sub(zero, i, "neg")?.into()),
            UnaryOp::Abs if d.is_signed_integer() => {
                let neg = b.build_int_sub(zero, i, "n")?;
                let lt = b.build_int_compare(IntPredicate::SLT, i, zero, "lt")?;
                b.build_select(lt, neg, i, "abs")
            }
            UnaryOp::Abs => Ok(x),
            UnaryOp::Sign if d.is_signed_integer() => {
                let pos = b.build_int_compare(IntPredicate::SGT, i, zero, "p")?;
                let neg = b.build_int_compare(IntPredicate::SLT, i, zero, "n")?;
                let p = b.build_int_z_extend(pos, i.get_type(), "pz")?;
                let n = b.build_int_z_extend(neg, i.get_type(), "nz")?;
                Ok(b.build_int_sub(p, n, "sign")?.into())
            }
            UnaryOp::Sign => {
                let nz = b.build_int_compare(IntPredicate::NE, i, zero, "nz")?;
                Ok(b.build_int_z_extend(nz, i.get_type(), "sign")?.into())
            }
            UnaryOp::Not => Ok(b.build_not(i, "not")?.into()),
            _ => Err(BuilderError::UnsetPosition),
        }
    }

    /// `op(x, y)` for operands of dtype `d`.
    pub fn emit_binary(
        &self,
        op: BinaryOp,
        d: DType,
        x: BasicValueEnum<'ctx>,
        y: BasicValueEnum<'ctx>,
    ) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        let b = self.b;
        if d.is_float() {
            let (fx, fy) = (x.into_float_value(), y.into_float_value());
            let cmp = |p: FloatPredicate| -> Result<BasicValueEnum<'ctx>, BuilderError> {
                Ok(b.build_float_compare(p, fx, fy, "cmp")?.into())
            };
            return match op {
                BinaryOp::Add => Ok(b.build_float_add(fx, fy, "add")?.into()),
                BinaryOp::Sub => Ok(b.build_float_sub(fx, fy, "sub")?.into()),
                BinaryOp::Mul => Ok(b.build_float_mul(fx, fy, "mul")?.into()),
                BinaryOp::Div => Ok(b.build_float_div(fx, fy, "div")?.into()),
                // Targets whose `frem` is approximate (NVPTX) call an exact `fmod` instead.
                BinaryOp::Rem if self.exact_frem => {
                    let f = crate::gpu::fmod::fmod_function(self.cx, self.module, d == DType::F64)?;
                    let r = b.build_call(f, &[fx.into(), fy.into()], "rem")?;
                    r.try_as_basic_value().basic().ok_or(BuilderError::UnsetPosition)
                }
                BinaryOp::Rem => Ok(b.build_float_rem(fx, fy, "rem")?.into()),
                BinaryOp::Pow => math::emit_pow(&self.math_cx(), x, y),
                BinaryOp::Max => self.intrinsic("llvm.maximum", &[x, y]),
                BinaryOp::Min => self.intrinsic("llvm.minimum", &[x, y]),
                BinaryOp::Atan2 => math::emit_atan2(&self.math_cx(), x, y),
                BinaryOp::Eq => cmp(FloatPredicate::OEQ),
                BinaryOp::Ne => cmp(FloatPredicate::UNE),
                BinaryOp::Lt => cmp(FloatPredicate::OLT),
                BinaryOp::Le => cmp(FloatPredicate::OLE),
                BinaryOp::Gt => cmp(FloatPredicate::OGT),
                BinaryOp::Ge => cmp(FloatPredicate::OGE),
                _ => Err(BuilderError::UnsetPosition),
            };
        }
        let (ix, iy) = (x.into_int_value(), y.into_int_value());
        let signed = d.is_signed_integer();
        let ty = ix.get_type();
        let bits = ty.get_bit_width() as i64;
        let cmp = |p: IntPredicate| -> Result<BasicValueEnum<'ctx>, BuilderError> {
            Ok(b.build_int_compare(p, ix, iy, "cmp")?.into())
        };
        let pick = |s: IntPredicate, u: IntPredicate| if signed { s } else { u };
        match op {
            BinaryOp::Add => Ok(b.build_int_add(ix, iy, "add")?.into()),
            BinaryOp::Sub => Ok(b.build_int_sub(ix, iy, "sub")?.into()),
            BinaryOp::Mul => Ok(b.build_int_mul(ix, iy, "mul")?.into()),
            BinaryOp::Div | BinaryOp::Rem => self.int_div_rem(op == BinaryOp::Div, signed, ix, iy),
            BinaryOp::Pow => self.int_pow(d, ix, iy),
            BinaryOp::Max | BinaryOp::Min => {
                let p = match (op == BinaryOp::Max, signed) {
                    (true, true) => IntPredicate::SGT,
                    (true, false) => IntPredicate::UGT,
                    (false, true) => IntPredicate::SLT,
                    (false, false) => IntPredicate::ULT,
                };
                let c = b.build_int_compare(p, ix, iy, "c")?;
                b.build_select(c, ix, iy, "mm")
            }
            BinaryOp::And => Ok(b.build_and(ix, iy, "and")?.into()),
            BinaryOp::Or => Ok(b.build_or(ix, iy, "or")?.into()),
            BinaryOp::Xor => Ok(b.build_xor(ix, iy, "xor")?.into()),
            BinaryOp::ShiftLeft | BinaryOp::ShiftRightLogical | BinaryOp::ShiftRightArithmetic => {
                let limit = ty.const_int(bits as u64, false);
                let in_range = b.build_int_compare(IntPredicate::ULT, iy, limit, "inr")?;
                let safe = b.build_select(in_range, iy, ty.const_zero(), "amt")?.into_int_value();
                let (shifted, fill) = match op {
                    BinaryOp::ShiftLeft => (b.build_left_shift(ix, safe, "shl")?, ty.const_zero()),
                    BinaryOp::ShiftRightLogical => (b.build_right_shift(ix, safe, false, "lshr")?, ty.const_zero()),
                    _ => {
                        let sign = b.build_right_shift(ix, ty.const_int(bits as u64 - 1, false), true, "sgn")?;
                        (b.build_right_shift(ix, safe, true, "ashr")?, sign)
                    }
                };
                b.build_select(in_range, shifted, fill, "shift")
            }
            BinaryOp::Eq => cmp(IntPredicate::EQ),
            BinaryOp::Ne => cmp(IntPredicate::NE),
            BinaryOp::Lt => cmp(pick(IntPredicate::SLT, IntPredicate::ULT)),
            BinaryOp::Le => cmp(pick(IntPredicate::SLE, IntPredicate::ULE)),
            BinaryOp::Gt => cmp(pick(IntPredicate::SGT, IntPredicate::UGT)),
            BinaryOp::Ge => cmp(pick(IntPredicate::SGE, IntPredicate::UGE)),
            BinaryOp::Atan2 => Err(BuilderError::UnsetPosition),
        }
    }

    /// XLA's integer division: `x / 0 = -1` (all ones), `MIN / -1 = MIN`; `x % 0 = x`, `MIN % -1 = 0`.
    fn int_div_rem(
        &self,
        div: bool,
        signed: bool,
        x: IntValue<'ctx>,
        y: IntValue<'ctx>,
    ) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        let b = self.b;
        let ty = x.get_type();
        let zero = ty.const_zero();
        let one = ty.const_int(1, false);
        let all_ones = ty.const_all_ones();
        let y_zero = b.build_int_compare(IntPredicate::EQ, y, zero, "yz")?;
        let overflow = if signed {
            let bits = ty.get_bit_width();
            let min = ty.const_int(1u64 << (bits - 1), false);
            let xm = b.build_int_compare(IntPredicate::EQ, x, min, "xm")?;
            let ym = b.build_int_compare(IntPredicate::EQ, y, all_ones, "ym")?;
            b.build_and(xm, ym, "ovf")?
        } else {
            self.cx.bool_type().const_zero()
        };
        let bad = b.build_or(y_zero, overflow, "bad")?;
        let safe_y = b.build_select(bad, one, y, "sy")?.into_int_value();
        let q = match (div, signed) {
            (true, true) => b.build_int_signed_div(x, safe_y, "q")?,
            (true, false) => b.build_int_unsigned_div(x, safe_y, "q")?,
            (false, true) => b.build_int_signed_rem(x, safe_y, "r")?,
            (false, false) => b.build_int_unsigned_rem(x, safe_y, "r")?,
        };
        // Division by one of MIN gives MIN and remainder 0: exactly the overflow results.
        if div { b.build_select(y_zero, all_ones, q, "div") } else { b.build_select(y_zero, x, q, "rem") }
    }

    /// Integer power by squaring over every bit of the exponent (branch-free); negative exponents give
    /// `1 / x^|n|` truncated: 1 for base 1, ±1 for base -1, else 0 (as the interpreter).
    fn int_pow(&self, d: DType, x: IntValue<'ctx>, n: IntValue<'ctx>) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        let b = self.b;
        let ty = x.get_type();
        let bits = ty.get_bit_width();
        let one = ty.const_int(1, false);
        let zero = ty.const_zero();
        let mut acc = one;
        let mut base = x;
        let mut e = n;
        for _ in 0..bits {
            let bit = b.build_and(e, one, "bit")?;
            let set = b.build_int_compare(IntPredicate::NE, bit, zero, "set")?;
            let prod = b.build_int_mul(acc, base, "prod")?;
            acc = b.build_select(set, prod, acc, "acc")?.into_int_value();
            base = b.build_int_mul(base, base, "sq")?;
            e = b.build_right_shift(e, one, false, "e")?;
        }
        if !d.is_signed_integer() {
            return Ok(acc.into());
        }
        let neg = b.build_int_compare(IntPredicate::SLT, n, zero, "neg")?;
        let x_one = b.build_int_compare(IntPredicate::EQ, x, one, "x1")?;
        let x_m1 = b.build_int_compare(IntPredicate::EQ, x, ty.const_all_ones(), "xm1")?;
        let odd = b.build_and(n, one, "odd")?;
        let odd = b.build_int_compare(IntPredicate::NE, odd, zero, "oddb")?;
        let m1_pow = b.build_select(odd, ty.const_all_ones(), one, "m1p")?.into_int_value();
        let neg_val = b.build_select(x_one, one, zero, "nv")?.into_int_value();
        let neg_val = b.build_select(x_m1, m1_pow, neg_val, "nv2")?;
        b.build_select(neg, neg_val, acc.into(), "pow")
    }

    /// Conversion between dtypes with the interpreter's semantics (Rust `as`: saturating float-to-int, NaN to 0).
    pub fn emit_convert(
        &self,
        from: DType,
        to: DType,
        x: BasicValueEnum<'ctx>,
    ) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        let b = self.b;
        if from == to {
            return Ok(x);
        }
        let to_ty = reg_type(self.cx, to);
        match (from.is_float(), to.is_float()) {
            (true, true) => Ok(b.build_float_cast(x.into_float_value(), to_ty.into_float_type(), "fc")?.into()),
            (true, false) if to == DType::Bool => {
                let z = self.float_const(from, 0.0);
                Ok(b.build_float_compare(FloatPredicate::UNE, x.into_float_value(), z, "fb")?.into())
            }
            (true, false) => {
                let name = if to == DType::U32 { "llvm.fptoui.sat" } else { "llvm.fptosi.sat" };
                let f = Intrinsic::find(name)
                    .and_then(|i| i.get_declaration(self.module, &[to_ty, x.get_type()]))
                    .ok_or(BuilderError::UnsetPosition)?;
                b.build_call(f, &[x.into()], "f2i")?.try_as_basic_value().basic().ok_or(BuilderError::UnsetPosition)
            }
            (false, true) => {
                let i = x.into_int_value();
                let ft = to_ty.into_float_type();
                if from.is_signed_integer() {
                    Ok(b.build_signed_int_to_float(i, ft, "i2f")?.into())
                } else if from == DType::Bool {
                    Ok(b.build_unsigned_int_to_float(i, ft, "u2f")?.into())
                } else {
                    // u32: read as signed, plus 2^32 when the top bit is set, in f64 (exact), then rounded once to
                    // the target. Not `uitofp`: LLVM 19's SLP vectorizer narrows a `uitofp` whose operand has known
                    // sign bits (`uitofp (sext i1 c)`, as integer division by zero gives) to `uitofp i1`, turning
                    // 2^32-1 into 1 (a miscompile; InstCombine turns `zext` + `sitofp` back into `uitofp`).
                    let f64t = self.cx.f64_type();
                    let signed = b.build_signed_int_to_float(i, f64t, "s2f")?;
                    let neg = b.build_int_compare(IntPredicate::SLT, i, i.get_type().const_zero(), "top")?;
                    let two32 = f64t.const_float(4_294_967_296.0);
                    let fix = b.build_select(neg, two32, f64t.const_zero(), "fix")?.into_float_value();
                    let wide = b.build_float_add(signed, fix, "u2f")?;
                    if to == DType::F64 { Ok(wide.into()) } else { Ok(b.build_float_trunc(wide, ft, "u2f32")?.into()) }
                }
            }
            (false, false) => {
                let i = x.into_int_value();
                if to == DType::Bool {
                    return Ok(b.build_int_compare(IntPredicate::NE, i, i.get_type().const_zero(), "ib")?.into());
                }
                let it = to_ty.into_int_type();
                let (fw, tw) = (i.get_type().get_bit_width(), it.get_bit_width());
                if fw == tw {
                    Ok(x)
                } else if fw > tw {
                    Ok(b.build_int_truncate(i, it, "tr")?.into())
                } else if from.is_signed_integer() {
                    Ok(b.build_int_s_extend(i, it, "se")?.into())
                } else {
                    Ok(b.build_int_z_extend(i, it, "ze")?.into())
                }
            }
        }
    }
}
