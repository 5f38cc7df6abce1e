//! [`MathOps`] on Rust scalars: each primitive is the one Rust operation with the same IEEE meaning (`mul_add` is
//! a fused multiply-add, `round_ties_even` is `rint`, integer operations wrap).

use std::convert::Infallible;

use super::ops::MathOps;

/// [`MathOps`] evaluated on `f32` scalars.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScalarF32;

/// [`MathOps`] evaluated on `f64` scalars.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScalarF64;

macro_rules! scalar_ops {
    ($name:ident, $f:ty, $i:ty, is_f64 = $is_f64:expr, wide = $wide:ty, ext = $ext:expr, trunc = $trunc:expr) => {
        impl MathOps for $name {
            type F = $f;
            type I = $i;
            type M = bool;
            type Error = Infallible;
            type Wide = $wide;

            fn is_f64(&self) -> bool {
                $is_f64
            }
            fn wide(&self) -> $wide {
                <$wide>::default()
            }
            fn fpext(&self, x: $f) -> Result<f64, Infallible> {
                Ok($ext(x))
            }
            fn fptrunc(&self, x: f64) -> Result<$f, Infallible> {
                Ok($trunc(x))
            }
            fn c(&self, v: f64) -> Result<$f, Infallible> {
                Ok(v as $f)
            }
            fn ci(&self, v: i64) -> Result<$i, Infallible> {
                Ok(v as $i)
            }
            fn add(&self, a: $f, b: $f) -> Result<$f, Infallible> {
                Ok(a + b)
            }
            fn sub(&self, a: $f, b: $f) -> Result<$f, Infallible> {
                Ok(a - b)
            }
            fn mul(&self, a: $f, b: $f) -> Result<$f, Infallible> {
                Ok(a * b)
            }
            fn div(&self, a: $f, b: $f) -> Result<$f, Infallible> {
                Ok(a / b)
            }
            fn neg(&self, a: $f) -> Result<$f, Infallible> {
                Ok(-a)
            }
            fn fma(&self, a: $f, b: $f, c: $f) -> Result<$f, Infallible> {
                Ok(a.mul_add(b, c))
            }
            fn sqrt(&self, a: $f) -> Result<$f, Infallible> {
                Ok(a.sqrt())
            }
            fn abs(&self, a: $f) -> Result<$f, Infallible> {
                Ok(a.abs())
            }
            fn floor(&self, a: $f) -> Result<$f, Infallible> {
                Ok(a.floor())
            }
            fn trunc(&self, a: $f) -> Result<$f, Infallible> {
                Ok(a.trunc())
            }
            fn rint(&self, a: $f) -> Result<$f, Infallible> {
                Ok(a.round_ties_even())
            }
            fn copysign(&self, mag: $f, sign: $f) -> Result<$f, Infallible> {
                Ok(mag.copysign(sign))
            }
            fn lt(&self, a: $f, b: $f) -> Result<bool, Infallible> {
                Ok(a < b)
            }
            fn le(&self, a: $f, b: $f) -> Result<bool, Infallible> {
                Ok(a <= b)
            }
            fn gt(&self, a: $f, b: $f) -> Result<bool, Infallible> {
                Ok(a > b)
            }
            fn ge(&self, a: $f, b: $f) -> Result<bool, Infallible> {
                Ok(a >= b)
            }
            fn eq(&self, a: $f, b: $f) -> Result<bool, Infallible> {
                Ok(a == b)
            }
            fn ne(&self, a: $f, b: $f) -> Result<bool, Infallible> {
                Ok(a != b)
            }
            fn is_nan(&self, a: $f) -> Result<bool, Infallible> {
                Ok(a.is_nan())
            }
            fn and(&self, a: bool, b: bool) -> Result<bool, Infallible> {
                Ok(a & b)
            }
            fn or(&self, a: bool, b: bool) -> Result<bool, Infallible> {
                Ok(a | b)
            }
            fn not(&self, a: bool) -> Result<bool, Infallible> {
                Ok(!a)
            }
            fn select(&self, m: bool, a: $f, b: $f) -> Result<$f, Infallible> {
                Ok(if m { a } else { b })
            }
            fn select_i(&self, m: bool, a: $i, b: $i) -> Result<$i, Infallible> {
                Ok(if m { a } else { b })
            }
            fn float_to_bits(&self, a: $f) -> Result<$i, Infallible> {
                Ok(a.to_bits() as $i)
            }
            fn bits_to_float(&self, a: $i) -> Result<$f, Infallible> {
                Ok(<$f>::from_bits(a as _))
            }
            fn iadd(&self, a: $i, b: $i) -> Result<$i, Infallible> {
                Ok(a.wrapping_add(b))
            }
            fn isub(&self, a: $i, b: $i) -> Result<$i, Infallible> {
                Ok(a.wrapping_sub(b))
            }
            fn iand(&self, a: $i, b: $i) -> Result<$i, Infallible> {
                Ok(a & b)
            }
            fn ior(&self, a: $i, b: $i) -> Result<$i, Infallible> {
                Ok(a | b)
            }
            fn ixor(&self, a: $i, b: $i) -> Result<$i, Infallible> {
                Ok(a ^ b)
            }
            fn shl(&self, a: $i, n: u32) -> Result<$i, Infallible> {
                Ok(a << n)
            }
            fn ashr(&self, a: $i, n: u32) -> Result<$i, Infallible> {
                Ok(a >> n)
            }
            fn ieq(&self, a: $i, b: $i) -> Result<bool, Infallible> {
                Ok(a == b)
            }
            fn ilt(&self, a: $i, b: $i) -> Result<bool, Infallible> {
                Ok(a < b)
            }
            fn i2f(&self, a: $i) -> Result<$f, Infallible> {
                Ok(a as $f)
            }
        }
    };
}

scalar_ops!(ScalarF32, f32, i32, is_f64 = false, wide = ScalarF64, ext = f64::from, trunc = |x: f64| x as f32);
scalar_ops!(ScalarF64, f64, i64, is_f64 = true, wide = ScalarF64, ext = |x: f64| x, trunc = |x: f64| x);

/// The value of a computation that cannot fail.
pub(super) fn value<T>(r: Result<T, Infallible>) -> T {
    match r {
        Ok(v) => v,
        Err(never) => match never {},
    }
}
