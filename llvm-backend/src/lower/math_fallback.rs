//! Stand-in for `crate::math` while the polynomial implementations land: LLVM's intrinsics (scalar libm calls on
//! vectors). Same API, so switching is one `use` line in `scalar.rs`.

use inkwell::builder::{Builder, BuilderError};
use inkwell::context::Context;
use inkwell::intrinsics::Intrinsic;
use inkwell::module::Module;
use inkwell::values::BasicValueEnum;

/// What emitters need.
pub struct MathCx<'a, 'ctx> {
    pub context: &'ctx Context,
    pub module: &'a Module<'ctx>,
    pub builder: &'a Builder<'ctx>,
}

/// Unary functions.
#[derive(Clone, Copy, Debug)]
pub enum MathFn {
    Exp,
    Expm1,
    Log,
    Log1p,
    Tanh,
    Logistic,
    Erf,
    ErfInv,
    Sin,
    Cos,
    Round,
}

fn call<'ctx>(
    cx: &MathCx<'_, 'ctx>,
    name: &str,
    args: &[BasicValueEnum<'ctx>],
) -> Result<BasicValueEnum<'ctx>, BuilderError> {
    let f = Intrinsic::find(name)
        .and_then(|i| i.get_declaration(cx.module, &[args[0].get_type()]))
        .ok_or(BuilderError::UnsetPosition)?;
    let a: Vec<_> = args.iter().map(|&v| v.into()).collect();
    cx.builder.build_call(f, &a, "m")?.try_as_basic_value().basic().ok_or(BuilderError::UnsetPosition)
}

fn libm<'ctx>(
    cx: &MathCx<'_, 'ctx>,
    name32: &str,
    name64: &str,
    args: &[BasicValueEnum<'ctx>],
) -> Result<BasicValueEnum<'ctx>, BuilderError> {
    let t = args[0].get_type().into_float_type();
    let is32 = t == cx.context.f32_type();
    let name = if is32 { name32 } else { name64 };
    let f = cx.module.get_function(name).unwrap_or_else(|| {
        let ps: Vec<_> = args.iter().map(|a| a.get_type().into()).collect();
        cx.module.add_function(name, t.fn_type(&ps, false), None)
    });
    let a: Vec<_> = args.iter().map(|&v| v.into()).collect();
    cx.builder.build_call(f, &a, "m")?.try_as_basic_value().basic().ok_or(BuilderError::UnsetPosition)
}

/// `f(x)`.
pub fn emit_unary<'ctx>(
    cx: &MathCx<'_, 'ctx>,
    f: MathFn,
    x: BasicValueEnum<'ctx>,
) -> Result<BasicValueEnum<'ctx>, BuilderError> {
    match f {
        MathFn::Exp => call(cx, "llvm.exp", &[x]),
        MathFn::Log => call(cx, "llvm.log", &[x]),
        MathFn::Sin => call(cx, "llvm.sin", &[x]),
        MathFn::Cos => call(cx, "llvm.cos", &[x]),
        MathFn::Round => call(cx, "llvm.round", &[x]),
        MathFn::Expm1 => libm(cx, "expm1f", "expm1", &[x]),
        MathFn::Log1p => libm(cx, "log1pf", "log1p", &[x]),
        MathFn::Tanh => libm(cx, "tanhf", "tanh", &[x]),
        MathFn::Erf => libm(cx, "erff", "erf", &[x]),
        MathFn::ErfInv | MathFn::Logistic => Err(BuilderError::UnsetPosition),
    }
}

/// `x^y`.
pub fn emit_pow<'ctx>(
    cx: &MathCx<'_, 'ctx>,
    x: BasicValueEnum<'ctx>,
    y: BasicValueEnum<'ctx>,
) -> Result<BasicValueEnum<'ctx>, BuilderError> {
    call(cx, "llvm.pow", &[x, y])
}

/// `atan2(y, x)`.
pub fn emit_atan2<'ctx>(
    cx: &MathCx<'_, 'ctx>,
    y: BasicValueEnum<'ctx>,
    x: BasicValueEnum<'ctx>,
) -> Result<BasicValueEnum<'ctx>, BuilderError> {
    libm(cx, "atan2f", "atan2", &[y, x])
}
