//! An exact floating-point remainder (C's `fmod`, Rust's `%`) in LLVM IR, for the GPU: LLVM's NVPTX backend expands
//! `frem` to `x - trunc(x / y) * y`, which is wrong as soon as the quotient needs more bits than the mantissa holds
//! (and `ptxas` may contract it into an FMA). This is musl's `fmodf`/`fmod` on the integer representations: long
//! division of the mantissas, one bit per step, so the result is exact (as the interpreter's).

use inkwell::IntPredicate;
use inkwell::builder::BuilderError;
use inkwell::context::Context;
use inkwell::intrinsics::Intrinsic;
use inkwell::module::{Linkage, Module};
use inkwell::values::{FloatValue, FunctionValue, IntValue};

/// The function `ljit_fmod_f32`/`ljit_fmod_f64` of `module` (internal, always inlined), created on first use.
pub(crate) fn fmod_function<'ctx>(
    cx: &'ctx Context,
    module: &Module<'ctx>,
    double: bool,
) -> Result<FunctionValue<'ctx>, BuilderError> {
    let name = if double { "ljit_fmod_f64" } else { "ljit_fmod_f32" };
    if let Some(f) = module.get_function(name) {
        return Ok(f);
    }
    let (ft, it, w, m): (_, _, u64, u64) =
        if double { (cx.f64_type(), cx.i64_type(), 64, 52) } else { (cx.f32_type(), cx.i32_type(), 32, 23) };
    let f = module.add_function(name, ft.fn_type(&[ft.into(), ft.into()], false), Some(Linkage::Internal));
    let inline = cx.create_enum_attribute(inkwell::attributes::Attribute::get_named_enum_kind_id("alwaysinline"), 0);
    f.add_attribute(inkwell::attributes::AttributeLoc::Function, inline);
    let b = cx.create_builder();
    let bb = |n: &str| cx.append_basic_block(f, n);
    let (entry, nan, cmp, small, norm, head, body, check0, shift, tail, t_check0, t_norm, zero) = (
        bb("entry"),
        bb("nan"),
        bb("cmp"),
        bb("small"),
        bb("norm"),
        bb("loop"),
        bb("body"),
        bb("check0"),
        bb("shift"),
        bb("tail"),
        bb("tail_check0"),
        bb("tail_norm"),
        bb("zero"),
    );
    let c = |v: u64| it.const_int(v, false);
    let x = f.get_nth_param(0).ok_or(BuilderError::UnsetPosition)?.into_float_value();
    let y = f.get_nth_param(1).ok_or(BuilderError::UnsetPosition)?.into_float_value();
    let ctlz = Intrinsic::find("llvm.ctlz")
        .and_then(|i| i.get_declaration(module, &[it.into()]))
        .ok_or(BuilderError::UnsetPosition)?;
    let clz = |v: IntValue<'ctx>| -> Result<IntValue<'ctx>, BuilderError> {
        let r = b.build_call(ctlz, &[v.into(), cx.bool_type().const_zero().into()], "clz")?;
        r.try_as_basic_value().basic().map(|v| v.into_int_value()).ok_or(BuilderError::UnsetPosition)
    };
    let emask = c((1 << (w - m - 1)) - 1);
    let implicit = c(1 << m);
    let mant = c((1 << m) - 1);

    b.position_at_end(entry);
    let ux = b.build_bit_cast(x, it, "ux")?.into_int_value();
    let uy = b.build_bit_cast(y, it, "uy")?.into_int_value();
    let sx = b.build_and(ux, c(1 << (w - 1)), "sx")?;
    let ux2 = b.build_left_shift(ux, c(1), "ux2")?;
    let uy2 = b.build_left_shift(uy, c(1), "uy2")?;
    let ex = b.build_and(b.build_right_shift(ux, c(m), false, "ex")?, emask, "ex")?;
    let ey = b.build_and(b.build_right_shift(uy, c(m), false, "ey")?, emask, "ey")?;
    let y_zero = b.build_int_compare(IntPredicate::EQ, uy2, c(0), "y0")?;
    let y_nan = b.build_float_compare(inkwell::FloatPredicate::UNO, y, y, "ynan")?;
    let x_special = b.build_int_compare(IntPredicate::EQ, ex, emask, "xinf")?;
    let special = b.build_or(b.build_or(y_zero, y_nan, "s")?, x_special, "special")?;
    b.build_conditional_branch(special, nan, cmp)?;

    // fmod(x, 0), fmod(inf, y), NaN operands: NaN.
    b.position_at_end(nan);
    let xy = b.build_float_mul(x, y, "xy")?;
    b.build_return(Some(&b.build_float_div(xy, xy, "nan")?))?;

    // |x| <= |y|: x itself, or a zero of x's sign when they are equal.
    b.position_at_end(cmp);
    let le = b.build_int_compare(IntPredicate::ULE, ux2, uy2, "le")?;
    b.build_conditional_branch(le, small, norm)?;
    b.position_at_end(small);
    let eq = b.build_int_compare(IntPredicate::EQ, ux2, uy2, "eq")?;
    let zero_x = b.build_float_mul(ft.const_zero(), x, "zx")?;
    b.build_return(Some(&b.build_select(eq, zero_x, x, "r")?.into_float_value()))?;

    // Mantissas with their implicit bit; subnormals shifted up, with the exponent going below zero.
    b.position_at_end(norm);
    let normalise = |u: IntValue<'ctx>, e: IntValue<'ctx>| -> Result<(IntValue<'ctx>, IntValue<'ctx>), BuilderError> {
        let sub = b.build_int_compare(IntPredicate::EQ, e, c(0), "sub")?;
        let lz = clz(b.build_left_shift(u, c(w - m), "i")?)?;
        let u_sub = b.build_left_shift(u, b.build_int_add(lz, c(1), "sh")?, "usub")?;
        let e_sub = b.build_int_neg(lz, "esub")?;
        let u_norm = b.build_or(b.build_and(u, mant, "m")?, implicit, "unorm")?;
        Ok((
            b.build_select(sub, u_sub, u_norm, "u")?.into_int_value(),
            b.build_select(sub, e_sub, e, "e")?.into_int_value(),
        ))
    };
    let (uxn, exn) = normalise(ux, ex)?;
    let (uyn, eyn) = normalise(uy, ey)?;
    b.build_unconditional_branch(head)?;

    // Long division: while the exponents differ, subtract where possible and shift.
    b.position_at_end(head);
    let ux_l = b.build_phi(it, "ux_l")?;
    let ex_l = b.build_phi(it, "ex_l")?;
    ux_l.add_incoming(&[(&uxn, norm)]);
    ex_l.add_incoming(&[(&exn, norm)]);
    let (uxv, exv) = (ux_l.as_basic_value().into_int_value(), ex_l.as_basic_value().into_int_value());
    let more = b.build_int_compare(IntPredicate::SGT, exv, eyn, "more")?;
    b.build_conditional_branch(more, body, tail)?;
    b.position_at_end(body);
    let i = b.build_int_sub(uxv, uyn, "i")?;
    let nonneg = b.build_int_compare(IntPredicate::SGE, i, c(0), "nonneg")?;
    b.build_conditional_branch(nonneg, check0, shift)?;
    b.position_at_end(check0);
    let is0 = b.build_int_compare(IntPredicate::EQ, i, c(0), "is0")?;
    b.build_conditional_branch(is0, zero, shift)?;
    b.position_at_end(shift);
    let u = b.build_phi(it, "u")?;
    u.add_incoming(&[(&uxv, body), (&i, check0)]);
    let next = b.build_left_shift(u.as_basic_value().into_int_value(), c(1), "next")?;
    let dec = b.build_int_sub(exv, c(1), "dec")?;
    ux_l.add_incoming(&[(&next, shift)]);
    ex_l.add_incoming(&[(&dec, shift)]);
    b.build_unconditional_branch(head)?;

    // The last subtraction, then the remainder renormalised and rebuilt with x's sign.
    b.position_at_end(tail);
    let i = b.build_int_sub(uxv, uyn, "i")?;
    let nonneg = b.build_int_compare(IntPredicate::SGE, i, c(0), "nonneg")?;
    b.build_conditional_branch(nonneg, t_check0, t_norm)?;
    b.position_at_end(t_check0);
    let is0 = b.build_int_compare(IntPredicate::EQ, i, c(0), "is0")?;
    b.build_conditional_branch(is0, zero, t_norm)?;
    b.position_at_end(t_norm);
    let u = b.build_phi(it, "u")?;
    u.add_incoming(&[(&uxv, tail), (&i, t_check0)]);
    let u = u.as_basic_value().into_int_value();
    let s = b.build_int_sub(clz(u)?, c(w - 1 - m), "s")?;
    let u3 = b.build_left_shift(u, s, "u3")?;
    let e3 = b.build_int_sub(exv, s, "e3")?;
    let positive = b.build_int_compare(IntPredicate::SGT, e3, c(0), "pos")?;
    let normal = b.build_or(b.build_int_sub(u3, implicit, "m")?, b.build_left_shift(e3, c(m), "e")?, "normal")?;
    let denorm_shift = b.build_int_add(b.build_int_neg(e3, "ne")?, c(1), "dsh")?;
    let subnormal = b.build_right_shift(u3, denorm_shift, false, "subnormal")?;
    let r = b.build_select(positive, normal, subnormal, "r")?.into_int_value();
    let r = b.build_or(r, sx, "signed")?;
    let r: FloatValue<'ctx> = b.build_bit_cast(r, ft, "fmod")?.into_float_value();
    b.build_return(Some(&r))?;

    // An exact multiple: a zero of x's sign.
    b.position_at_end(zero);
    b.build_return(Some(&b.build_float_mul(ft.const_zero(), x, "z")?))?;
    Ok(f)
}
