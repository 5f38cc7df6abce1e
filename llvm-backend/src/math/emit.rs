//! [`MathOps`] as LLVM instructions: each primitive is one instruction (or one intrinsic that maps to an
//! instruction: `llvm.fma`, `llvm.sqrt`, `llvm.fabs`, `llvm.floor`, `llvm.trunc`, `llvm.rint`, `llvm.copysign`) on a
//! scalar `float`/`double` or a vector of them, without fast-math flags, so the result is the bits that
//! `jit_runtime::math` computes on scalars.

use inkwell::builder::{Builder, BuilderError};
use inkwell::context::Context;
use inkwell::intrinsics::Intrinsic;
use inkwell::module::Module;
use inkwell::types::{BasicTypeEnum, FloatType, IntType};
use inkwell::values::{BasicMetadataValueEnum, BasicValueEnum, ValueKind};
use inkwell::{FloatPredicate, IntPredicate};
use jit_runtime::math::MathOps;

use super::MathCx;

type V<'ctx> = BasicValueEnum<'ctx>;
type Res<'ctx> = Result<V<'ctx>, BuilderError>;

/// Emits the primitives for one float width and lane count (`None`: scalars).
#[derive(Clone, Copy)]
pub(crate) struct IrOps<'a, 'ctx> {
    context: &'ctx Context,
    module: &'a Module<'ctx>,
    builder: &'a Builder<'ctx>,
    is_f64: bool,
    lanes: Option<u32>,
}

impl<'a, 'ctx> IrOps<'a, 'ctx> {
    /// The operations on values of `x`'s type: `float`, `double` or a fixed vector of either.
    /// [`BuilderError::NotSameType`] for any other type.
    pub(crate) fn for_value(cx: &MathCx<'a, 'ctx>, x: V<'ctx>) -> Result<Self, BuilderError> {
        let (elem, lanes) = match x {
            BasicValueEnum::FloatValue(f) => (f.get_type(), None),
            BasicValueEnum::VectorValue(v) => match v.get_type().get_element_type() {
                BasicTypeEnum::FloatType(f) => (f, Some(v.get_type().get_size())),
                _ => return Err(BuilderError::NotSameType),
            },
            _ => return Err(BuilderError::NotSameType),
        };
        let is_f64 = if elem == cx.context.f64_type() {
            true
        } else if elem == cx.context.f32_type() {
            false
        } else {
            return Err(BuilderError::NotSameType);
        };
        Ok(IrOps { context: cx.context, module: cx.module, builder: cx.builder, is_f64, lanes })
    }

    fn elem(&self) -> FloatType<'ctx> {
        if self.is_f64 { self.context.f64_type() } else { self.context.f32_type() }
    }

    fn int_elem(&self) -> IntType<'ctx> {
        if self.is_f64 { self.context.i64_type() } else { self.context.i32_type() }
    }

    fn float_type(&self) -> BasicTypeEnum<'ctx> {
        match self.lanes {
            None => self.elem().into(),
            Some(n) => self.elem().vec_type(n).into(),
        }
    }

    fn int_type(&self) -> BasicTypeEnum<'ctx> {
        match self.lanes {
            None => self.int_elem().into(),
            Some(n) => self.int_elem().vec_type(n).into(),
        }
    }

    /// A scalar constant, splatted to the lane count.
    fn splat(&self, scalar: V<'ctx>) -> V<'ctx> {
        match self.lanes {
            None => scalar,
            Some(n) => inkwell::types::VectorType::const_vector(&vec![scalar; n as usize]).into(),
        }
    }

    /// A call of the overloaded intrinsic `name` on operands of the float type.
    fn intrinsic(&self, name: &str, args: &[V<'ctx>]) -> Res<'ctx> {
        let intrinsic = Intrinsic::find(name).unwrap_or_else(|| panic!("LLVM has no intrinsic {name}"));
        let decl = intrinsic
            .get_declaration(self.module, &[self.float_type()])
            .unwrap_or_else(|| panic!("{name} has no declaration for {}", self.float_type()));
        let args: Vec<BasicMetadataValueEnum<'ctx>> = args.iter().map(|&a| a.into()).collect();
        match self.builder.build_call(decl, &args, "")?.try_as_basic_value() {
            ValueKind::Basic(v) => Ok(v),
            ValueKind::Instruction(_) => unreachable!("{name} returns a value"),
        }
    }
}

/// Applies a generic `build_*` method to two float operands of the same shape.
macro_rules! float_bin {
    ($self:ident, $a:ident, $b:ident, $method:ident) => {
        match ($a, $b) {
            (BasicValueEnum::FloatValue(a), BasicValueEnum::FloatValue(b)) => {
                Ok($self.builder.$method(a, b, "")?.into())
            }
            (BasicValueEnum::VectorValue(a), BasicValueEnum::VectorValue(b)) => {
                Ok($self.builder.$method(a, b, "")?.into())
            }
            _ => Err(BuilderError::NotSameType),
        }
    };
}

/// Applies a generic `build_*` method to two integer (or mask) operands of the same shape.
macro_rules! int_bin {
    ($self:ident, $a:ident, $b:ident, $method:ident) => {
        match ($a, $b) {
            (BasicValueEnum::IntValue(a), BasicValueEnum::IntValue(b)) => Ok($self.builder.$method(a, b, "")?.into()),
            (BasicValueEnum::VectorValue(a), BasicValueEnum::VectorValue(b)) => {
                Ok($self.builder.$method(a, b, "")?.into())
            }
            _ => Err(BuilderError::NotSameType),
        }
    };
}

impl<'a, 'ctx> IrOps<'a, 'ctx> {
    fn fcmp(&self, pred: FloatPredicate, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        match (a, b) {
            (BasicValueEnum::FloatValue(a), BasicValueEnum::FloatValue(b)) => {
                Ok(self.builder.build_float_compare(pred, a, b, "")?.into())
            }
            (BasicValueEnum::VectorValue(a), BasicValueEnum::VectorValue(b)) => {
                Ok(self.builder.build_float_compare(pred, a, b, "")?.into())
            }
            _ => Err(BuilderError::NotSameType),
        }
    }

    fn icmp(&self, pred: IntPredicate, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        match (a, b) {
            (BasicValueEnum::IntValue(a), BasicValueEnum::IntValue(b)) => {
                Ok(self.builder.build_int_compare(pred, a, b, "")?.into())
            }
            (BasicValueEnum::VectorValue(a), BasicValueEnum::VectorValue(b)) => {
                Ok(self.builder.build_int_compare(pred, a, b, "")?.into())
            }
            _ => Err(BuilderError::NotSameType),
        }
    }

    fn sel(&self, m: V<'ctx>, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        match m {
            BasicValueEnum::IntValue(m) => self.builder.build_select(m, a, b, ""),
            BasicValueEnum::VectorValue(m) => self.builder.build_select(m, a, b, ""),
            _ => Err(BuilderError::NotSameType),
        }
    }

    fn shift(&self, a: V<'ctx>, n: u32, left: bool) -> Res<'ctx> {
        let n = self.ci(i64::from(n))?;
        match (a, n) {
            (BasicValueEnum::IntValue(a), BasicValueEnum::IntValue(n)) => Ok(if left {
                self.builder.build_left_shift(a, n, "")?.into()
            } else {
                self.builder.build_right_shift(a, n, true, "")?.into()
            }),
            (BasicValueEnum::VectorValue(a), BasicValueEnum::VectorValue(n)) => Ok(if left {
                self.builder.build_left_shift(a, n, "")?.into()
            } else {
                self.builder.build_right_shift(a, n, true, "")?.into()
            }),
            _ => Err(BuilderError::NotSameType),
        }
    }

    /// `fpext` (`wide`) or `fptrunc` of `x` to the float type of `to`.
    fn convert(&self, x: V<'ctx>, to: &IrOps<'a, 'ctx>, wide: bool) -> Res<'ctx> {
        match (x, to.float_type()) {
            (BasicValueEnum::FloatValue(x), BasicTypeEnum::FloatType(t)) => Ok(if wide {
                self.builder.build_float_ext(x, t, "")?.into()
            } else {
                self.builder.build_float_trunc(x, t, "")?.into()
            }),
            (BasicValueEnum::VectorValue(x), BasicTypeEnum::VectorType(t)) => Ok(if wide {
                self.builder.build_float_ext(x, t, "")?.into()
            } else {
                self.builder.build_float_trunc(x, t, "")?.into()
            }),
            _ => Err(BuilderError::NotSameType),
        }
    }
}

impl<'a, 'ctx> MathOps for IrOps<'a, 'ctx> {
    type F = V<'ctx>;
    type I = V<'ctx>;
    type M = V<'ctx>;
    type Error = BuilderError;
    type Wide = IrOps<'a, 'ctx>;

    fn is_f64(&self) -> bool {
        self.is_f64
    }
    fn wide(&self) -> Self {
        IrOps { is_f64: true, ..*self }
    }
    fn fpext(&self, x: V<'ctx>) -> Res<'ctx> {
        if self.is_f64 { Ok(x) } else { self.convert(x, &self.wide(), true) }
    }
    fn fptrunc(&self, x: V<'ctx>) -> Res<'ctx> {
        if self.is_f64 { Ok(x) } else { self.convert(x, self, false) }
    }
    fn c(&self, v: f64) -> Res<'ctx> {
        // Round to the element type here, exactly as `v as f32` does on the scalar side.
        let v = if self.is_f64 { v } else { f64::from(v as f32) };
        Ok(self.splat(self.elem().const_float(v).into()))
    }
    fn ci(&self, v: i64) -> Res<'ctx> {
        Ok(self.splat(self.int_elem().const_int(v as u64, false).into()))
    }
    fn add(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        float_bin!(self, a, b, build_float_add)
    }
    fn sub(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        float_bin!(self, a, b, build_float_sub)
    }
    fn mul(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        float_bin!(self, a, b, build_float_mul)
    }
    fn div(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        float_bin!(self, a, b, build_float_div)
    }
    fn neg(&self, a: V<'ctx>) -> Res<'ctx> {
        match a {
            BasicValueEnum::FloatValue(a) => Ok(self.builder.build_float_neg(a, "")?.into()),
            BasicValueEnum::VectorValue(a) => Ok(self.builder.build_float_neg(a, "")?.into()),
            _ => Err(BuilderError::NotSameType),
        }
    }
    fn fma(&self, a: V<'ctx>, b: V<'ctx>, c: V<'ctx>) -> Res<'ctx> {
        self.intrinsic("llvm.fma", &[a, b, c])
    }
    fn sqrt(&self, a: V<'ctx>) -> Res<'ctx> {
        self.intrinsic("llvm.sqrt", &[a])
    }
    fn abs(&self, a: V<'ctx>) -> Res<'ctx> {
        self.intrinsic("llvm.fabs", &[a])
    }
    fn floor(&self, a: V<'ctx>) -> Res<'ctx> {
        self.intrinsic("llvm.floor", &[a])
    }
    fn trunc(&self, a: V<'ctx>) -> Res<'ctx> {
        self.intrinsic("llvm.trunc", &[a])
    }
    fn rint(&self, a: V<'ctx>) -> Res<'ctx> {
        self.intrinsic("llvm.rint", &[a])
    }
    fn copysign(&self, mag: V<'ctx>, sign: V<'ctx>) -> Res<'ctx> {
        self.intrinsic("llvm.copysign", &[mag, sign])
    }
    fn lt(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        self.fcmp(FloatPredicate::OLT, a, b)
    }
    fn le(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        self.fcmp(FloatPredicate::OLE, a, b)
    }
    fn gt(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        self.fcmp(FloatPredicate::OGT, a, b)
    }
    fn ge(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        self.fcmp(FloatPredicate::OGE, a, b)
    }
    fn eq(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        self.fcmp(FloatPredicate::OEQ, a, b)
    }
    fn ne(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        self.fcmp(FloatPredicate::UNE, a, b)
    }
    fn is_nan(&self, a: V<'ctx>) -> Res<'ctx> {
        self.fcmp(FloatPredicate::UNO, a, a)
    }
    fn and(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        int_bin!(self, a, b, build_and)
    }
    fn or(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        int_bin!(self, a, b, build_or)
    }
    fn not(&self, a: V<'ctx>) -> Res<'ctx> {
        match a {
            BasicValueEnum::IntValue(a) => Ok(self.builder.build_not(a, "")?.into()),
            BasicValueEnum::VectorValue(a) => Ok(self.builder.build_not(a, "")?.into()),
            _ => Err(BuilderError::NotSameType),
        }
    }
    fn select(&self, m: V<'ctx>, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        self.sel(m, a, b)
    }
    fn select_i(&self, m: V<'ctx>, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        self.sel(m, a, b)
    }
    fn float_to_bits(&self, a: V<'ctx>) -> Res<'ctx> {
        self.builder.build_bit_cast(a, self.int_type(), "")
    }
    fn bits_to_float(&self, a: V<'ctx>) -> Res<'ctx> {
        self.builder.build_bit_cast(a, self.float_type(), "")
    }
    fn iadd(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        int_bin!(self, a, b, build_int_add)
    }
    fn isub(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        int_bin!(self, a, b, build_int_sub)
    }
    fn iand(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        int_bin!(self, a, b, build_and)
    }
    fn ior(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        int_bin!(self, a, b, build_or)
    }
    fn ixor(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        int_bin!(self, a, b, build_xor)
    }
    fn shl(&self, a: V<'ctx>, n: u32) -> Res<'ctx> {
        self.shift(a, n, true)
    }
    fn ashr(&self, a: V<'ctx>, n: u32) -> Res<'ctx> {
        self.shift(a, n, false)
    }
    fn ieq(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        self.icmp(IntPredicate::EQ, a, b)
    }
    fn ilt(&self, a: V<'ctx>, b: V<'ctx>) -> Res<'ctx> {
        self.icmp(IntPredicate::SLT, a, b)
    }
    fn i2f(&self, a: V<'ctx>) -> Res<'ctx> {
        match (a, self.float_type()) {
            (BasicValueEnum::IntValue(a), BasicTypeEnum::FloatType(t)) => {
                Ok(self.builder.build_signed_int_to_float(a, t, "")?.into())
            }
            (BasicValueEnum::VectorValue(a), BasicTypeEnum::VectorType(t)) => {
                Ok(self.builder.build_signed_int_to_float(a, t, "")?.into())
            }
            _ => Err(BuilderError::NotSameType),
        }
    }
}
