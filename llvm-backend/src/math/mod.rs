//! Transcendental functions as straight-line LLVM IR on scalars or vectors, bit-identical to the interpreter's.
//!
//! The algorithms live once, in [`jit_runtime::math::kernel`], written over the
//! [`MathOps`](jit_runtime::math::MathOps) primitives; `emit.rs` implements those primitives as LLVM instructions
//! (no fast-math flags; `llvm.fma`, `llvm.sqrt`, `llvm.fabs`, `llvm.floor`, `llvm.trunc`, `llvm.rint` and
//! `llvm.copysign`, which are instructions on x86 and NVPTX). No libm call and no `llvm.exp`/`llvm.log`/`llvm.sin`
//! intrinsic is emitted, so a loop using these functions vectorises, and the compiled code computes exactly what
//! `jit_runtime::math::exp_f32` and friends compute (the interpreter's elementwise functions).
//!
//! Special cases are handled by selects, never branches. Accuracy and the domains where it holds are in
//! `README.md` next to this file.
//!
//! ```
//! use inkwell::context::Context;
//! use llvm_backend::math::{emit_unary, MathCx, MathFn};
//!
//! let context = Context::create();
//! let module = context.create_module("m");
//! let builder = context.create_builder();
//! let v8 = context.f32_type().vec_type(8);
//! let f = module.add_function("exp8", v8.fn_type(&[v8.into()], false), None);
//! builder.position_at_end(context.append_basic_block(f, "entry"));
//! let cx = MathCx { context: &context, module: &module, builder: &builder };
//! let y = emit_unary(&cx, MathFn::Exp, f.get_nth_param(0).unwrap())?;
//! builder.build_return(Some(&y))?;
//! assert!(f.verify(false));
//! # Ok::<(), inkwell::builder::BuilderError>(())
//! ```

mod emit;

use inkwell::builder::{Builder, BuilderError};
use inkwell::context::Context;
use inkwell::module::Module;
use inkwell::values::BasicValueEnum;
use jit_runtime::ir::UnaryOp;
use jit_runtime::math::kernel;

use emit::IrOps;

/// Where the instructions go: the builder must be positioned; intrinsic declarations are added to `module`.
pub struct MathCx<'a, 'ctx> {
    /// The context of the module.
    pub context: &'ctx Context,
    /// The module that receives the intrinsic declarations.
    pub module: &'a Module<'ctx>,
    /// The builder, positioned where the code goes.
    pub builder: &'a Builder<'ctx>,
}

/// A unary function of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MathFn {
    /// `e^x`.
    Exp,
    /// `e^x - 1`.
    Expm1,
    /// The natural logarithm.
    Log,
    /// `log(1 + x)`.
    Log1p,
    /// The hyperbolic tangent.
    Tanh,
    /// `1 / (1 + e^-x)`.
    Logistic,
    /// The error function.
    Erf,
    /// The complementary error function.
    Erfc,
    /// The inverse error function (XLA's Giles approximation).
    ErfInv,
    /// The sine.
    Sin,
    /// The cosine.
    Cos,
    /// Rounding half away from zero.
    Round,
}

impl MathFn {
    /// Every function, in declaration order.
    pub const ALL: [MathFn; 12] = [
        MathFn::Exp,
        MathFn::Expm1,
        MathFn::Log,
        MathFn::Log1p,
        MathFn::Tanh,
        MathFn::Logistic,
        MathFn::Erf,
        MathFn::Erfc,
        MathFn::ErfInv,
        MathFn::Sin,
        MathFn::Cos,
        MathFn::Round,
    ];

    /// The function that lowers `op`, if it is one of these.
    pub fn from_unary(op: UnaryOp) -> Option<MathFn> {
        Some(match op {
            UnaryOp::Exp => MathFn::Exp,
            UnaryOp::Expm1 => MathFn::Expm1,
            UnaryOp::Log => MathFn::Log,
            UnaryOp::Log1p => MathFn::Log1p,
            UnaryOp::Tanh => MathFn::Tanh,
            UnaryOp::Logistic => MathFn::Logistic,
            UnaryOp::Erf => MathFn::Erf,
            UnaryOp::Erfc => MathFn::Erfc,
            UnaryOp::ErfInv => MathFn::ErfInv,
            UnaryOp::Sin => MathFn::Sin,
            UnaryOp::Cos => MathFn::Cos,
            UnaryOp::Round => MathFn::Round,
            _ => return None,
        })
    }

    /// The function's name (as the IR op's).
    pub fn name(self) -> &'static str {
        match self {
            MathFn::Exp => "exp",
            MathFn::Expm1 => "expm1",
            MathFn::Log => "log",
            MathFn::Log1p => "log1p",
            MathFn::Tanh => "tanh",
            MathFn::Logistic => "logistic",
            MathFn::Erf => "erf",
            MathFn::Erfc => "erfc",
            MathFn::ErfInv => "erf_inv",
            MathFn::Sin => "sin",
            MathFn::Cos => "cos",
            MathFn::Round => "round",
        }
    }
}

/// Emits `f(x)` for `x` a `float`, `double` or a vector of either; the result has `x`'s type. Fails with
/// [`BuilderError::NotSameType`] for other types, or with the builder's own errors.
pub fn emit_unary<'ctx>(
    cx: &MathCx<'_, 'ctx>,
    f: MathFn,
    x: BasicValueEnum<'ctx>,
) -> Result<BasicValueEnum<'ctx>, BuilderError> {
    let b = IrOps::for_value(cx, x)?;
    match f {
        MathFn::Exp => kernel::exp(&b, x),
        MathFn::Expm1 => kernel::expm1(&b, x),
        MathFn::Log => kernel::log(&b, x),
        MathFn::Log1p => kernel::log1p(&b, x),
        MathFn::Tanh => kernel::tanh(&b, x),
        MathFn::Logistic => kernel::logistic(&b, x),
        MathFn::Erf => kernel::erf(&b, x),
        MathFn::Erfc => kernel::erfc(&b, x),
        MathFn::ErfInv => kernel::erf_inv(&b, x),
        MathFn::Sin => kernel::sin(&b, x),
        MathFn::Cos => kernel::cos(&b, x),
        MathFn::Round => kernel::round(&b, x),
    }
}

/// Emits `pow(x, y)` (float `pow` with C's special cases); `x` and `y` of the same float or vector type.
pub fn emit_pow<'ctx>(
    cx: &MathCx<'_, 'ctx>,
    x: BasicValueEnum<'ctx>,
    y: BasicValueEnum<'ctx>,
) -> Result<BasicValueEnum<'ctx>, BuilderError> {
    if x.get_type() != y.get_type() {
        return Err(BuilderError::NotSameType);
    }
    kernel::pow(&IrOps::for_value(cx, x)?, x, y)
}

/// Emits `atan2(y, x)`, the angle of the point `(x, y)`; `y` and `x` of the same float or vector type.
pub fn emit_atan2<'ctx>(
    cx: &MathCx<'_, 'ctx>,
    y: BasicValueEnum<'ctx>,
    x: BasicValueEnum<'ctx>,
) -> Result<BasicValueEnum<'ctx>, BuilderError> {
    if x.get_type() != y.get_type() {
        return Err(BuilderError::NotSameType);
    }
    kernel::atan2(&IrOps::for_value(cx, x)?, y, x)
}
