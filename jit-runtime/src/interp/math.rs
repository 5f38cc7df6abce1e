//! Scalar functions whose exact definition is ours (XLA's) rather than the standard library's: sign, NaN-propagating
//! maximum/minimum, `integer_pow` by squaring, and the table of transcendental functions, which come from
//! [`crate::math`] (the same algorithms the compiled code runs, so the interpreter and the backends agree bit for bit).

use std::ops::{Add, Div, Mul, Neg, Sub};

/// What the generic float helpers below need of `f32` and `f64`.
pub(super) trait Real:
    Copy
    + PartialOrd
    + Neg<Output = Self>
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    fn is_nan(self) -> bool;
    fn is_sign_positive(self) -> bool;
    fn copysign(self, sign: Self) -> Self;
}

macro_rules! real {
    ($t:ty) => {
        impl Real for $t {
            const ZERO: $t = 0.0;
            const ONE: $t = 1.0;
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            fn is_sign_positive(self) -> bool {
                <$t>::is_sign_positive(self)
            }
            fn copysign(self, sign: $t) -> $t {
                <$t>::copysign(self, sign)
            }
        }
    };
}
real!(f32);
real!(f64);

/// -1, 0 or 1 with the sign of `x`; NaN stays NaN and `±0` stays `±0` (as `lax.sign`).
pub(super) fn sign<T: Real>(x: T) -> T {
    if x.is_nan() || x == T::ZERO { x } else { T::ONE.copysign(x) }
}

/// IEEE 754-2019 `maximum` (LLVM's `llvm.maximum`): NaN if either operand is NaN, and `+0 > -0`.
pub(super) fn maximum<T: Real>(a: T, b: T) -> T {
    if a.is_nan() {
        a
    } else if b.is_nan() {
        b
    } else if a > b || (a == b && a.is_sign_positive()) {
        // Equal values differ only for `+0` and `-0`.
        a
    } else {
        b
    }
}

/// IEEE 754-2019 `minimum`: NaN if either operand is NaN, and `-0 < +0`.
pub(super) fn minimum<T: Real>(a: T, b: T) -> T {
    if a.is_nan() {
        a
    } else if b.is_nan() {
        b
    } else if a < b || (a == b && !a.is_sign_positive()) {
        a
    } else {
        b
    }
}

/// `x ^ n` with JAX's `integer_pow` algorithm (binary exponentiation, the accumulator multiplied on the left), so
/// that the rounding is the same; a negative `n` gives `1 / x^|n|`, and `n = 0` gives 1 (even for NaN).
pub(super) fn integer_pow<T: Real>(x: T, n: i32) -> T {
    let mut y = n.unsigned_abs();
    let mut base = x;
    let mut acc: Option<T> = None;
    while y > 0 {
        if y & 1 == 1 {
            acc = Some(match acc {
                None => base,
                Some(a) => a * base,
            });
        }
        y >>= 1;
        if y > 0 {
            base = base * base;
        }
    }
    match acc {
        None => T::ONE,
        Some(a) if n < 0 => T::ONE / a,
        Some(a) => a,
    }
}

/// The transcendental functions of [`crate::math`] for one float type, under one name for `f32` and `f64`.
pub(super) trait Transcendental: Sized {
    const EXP: fn(Self) -> Self;
    const EXPM1: fn(Self) -> Self;
    const LOG: fn(Self) -> Self;
    const LOG1P: fn(Self) -> Self;
    const TANH: fn(Self) -> Self;
    const LOGISTIC: fn(Self) -> Self;
    const ERF: fn(Self) -> Self;
    /// `erfc`.
    const ERFC: fn(Self) -> Self;
    const ERF_INV: fn(Self) -> Self;
    const SIN: fn(Self) -> Self;
    const COS: fn(Self) -> Self;
    const ROUND: fn(Self) -> Self;
    /// `x ^ y`.
    const POW: fn(Self, Self) -> Self;
    /// `atan2(x, y)`, the angle of the point `(y, x)`.
    const ATAN2: fn(Self, Self) -> Self;
}

impl Transcendental for f32 {
    const EXP: fn(f32) -> f32 = crate::math::exp_f32;
    const EXPM1: fn(f32) -> f32 = crate::math::expm1_f32;
    const LOG: fn(f32) -> f32 = crate::math::log_f32;
    const LOG1P: fn(f32) -> f32 = crate::math::log1p_f32;
    const TANH: fn(f32) -> f32 = crate::math::tanh_f32;
    const LOGISTIC: fn(f32) -> f32 = crate::math::logistic_f32;
    const ERF: fn(f32) -> f32 = crate::math::erf_f32;
    const ERFC: fn(f32) -> f32 = crate::math::erfc_f32;
    const ERF_INV: fn(f32) -> f32 = crate::math::erf_inv_f32;
    const SIN: fn(f32) -> f32 = crate::math::sin_f32;
    const COS: fn(f32) -> f32 = crate::math::cos_f32;
    const ROUND: fn(f32) -> f32 = crate::math::round_f32;
    const POW: fn(f32, f32) -> f32 = crate::math::pow_f32;
    const ATAN2: fn(f32, f32) -> f32 = crate::math::atan2_f32;
}

impl Transcendental for f64 {
    const EXP: fn(f64) -> f64 = crate::math::exp_f64;
    const EXPM1: fn(f64) -> f64 = crate::math::expm1_f64;
    const LOG: fn(f64) -> f64 = crate::math::log_f64;
    const LOG1P: fn(f64) -> f64 = crate::math::log1p_f64;
    const TANH: fn(f64) -> f64 = crate::math::tanh_f64;
    const LOGISTIC: fn(f64) -> f64 = crate::math::logistic_f64;
    const ERF: fn(f64) -> f64 = crate::math::erf_f64;
    const ERFC: fn(f64) -> f64 = crate::math::erfc_f64;
    const ERF_INV: fn(f64) -> f64 = crate::math::erf_inv_f64;
    const SIN: fn(f64) -> f64 = crate::math::sin_f64;
    const COS: fn(f64) -> f64 = crate::math::cos_f64;
    const ROUND: fn(f64) -> f64 = crate::math::round_f64;
    const POW: fn(f64, f64) -> f64 = crate::math::pow_f64;
    const ATAN2: fn(f64, f64) -> f64 = crate::math::atan2_f64;
}
