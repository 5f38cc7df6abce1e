//! LLVM types of IR dtypes, and loads/stores of elements (bool is a byte in memory, an `i1` in registers).

use inkwell::builder::BuilderError;
use inkwell::context::Context;
use inkwell::types::BasicTypeEnum;
use inkwell::values::{BasicValueEnum, IntValue, PointerValue};
use jit_runtime::DType;

use super::Lowerer;

/// The register type of a dtype.
pub fn reg_type(cx: &Context, d: DType) -> BasicTypeEnum<'_> {
    match d {
        DType::F32 => cx.f32_type().into(),
        DType::F64 => cx.f64_type().into(),
        DType::I32 | DType::U32 => cx.i32_type().into(),
        DType::I64 => cx.i64_type().into(),
        DType::Bool => cx.bool_type().into(),
        _ => cx.i8_type().into(),
    }
}

/// The in-memory type of a dtype.
pub fn mem_type(cx: &Context, d: DType) -> BasicTypeEnum<'_> {
    match d {
        DType::Bool => cx.i8_type().into(),
        other => reg_type(cx, other),
    }
}

impl<'a, 'ctx> Lowerer<'a, 'ctx> {
    /// `base[index]` for elements of `dtype`, as a register value.
    pub fn load_elem(
        &self,
        base: PointerValue<'ctx>,
        index: IntValue<'ctx>,
        dtype: DType,
    ) -> Result<BasicValueEnum<'ctx>, BuilderError> {
        let ty = mem_type(self.cx, dtype);
        // SAFETY: this only builds IR. The generated code stays in bounds because every index expression is
        // derived from loop counters within the value's shape, or clamped into it (pad, concatenate).
        let ptr = unsafe { self.b.build_in_bounds_gep(ty, base, &[index], "p")? };
        let v = self.b.build_load(ty, ptr, "v")?;
        if dtype == DType::Bool {
            let i = v.into_int_value();
            return Ok(self
                .b
                .build_int_compare(inkwell::IntPredicate::NE, i, self.cx.i8_type().const_zero(), "b")?
                .into());
        }
        Ok(v)
    }

    /// `base[index] = value` for elements of `dtype`.
    pub fn store_elem(
        &self,
        base: PointerValue<'ctx>,
        index: IntValue<'ctx>,
        dtype: DType,
        value: BasicValueEnum<'ctx>,
    ) -> Result<(), BuilderError> {
        let ty = mem_type(self.cx, dtype);
        // SAFETY: builds IR only; stores go to the kernel's own output at a linear index below its element count.
        let ptr = unsafe { self.b.build_in_bounds_gep(ty, base, &[index], "p")? };
        let v = if dtype == DType::Bool {
            self.b.build_int_z_extend(value.into_int_value(), self.cx.i8_type(), "z")?.into()
        } else {
            value
        };
        self.b.build_store(ptr, v)?;
        Ok(())
    }
}
