//! Scalar functions whose exact definition is ours (XLA's) rather than the standard library's: sign, a stable
//! logistic, NaN-propagating maximum/minimum, `integer_pow` by squaring, and Giles' `erf_inv` approximations.

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
    fn exp(self) -> Self;
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
            fn exp(self) -> $t {
                <$t>::exp(self)
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

/// `1 / (1 + e^-x)`, written so that no intermediate overflows to a NaN and small results keep their precision:
/// for `x < 0` it is `e^x / (1 + e^x)`.
pub(super) fn logistic<T: Real>(x: T) -> T {
    if x >= T::ZERO {
        T::ONE / (T::ONE + (-x).exp())
    } else {
        // Also the NaN path: `x >= 0` is false for NaN and `e^NaN` is NaN.
        let e = x.exp();
        e / (T::ONE + e)
    }
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

/// Evaluates `c[0] * w^(k-1) + ... + c[k-1]` by Horner's rule with a fused multiply-add per step.
macro_rules! horner_fma {
    ($c:expr, $w:expr) => {{
        let c = $c;
        let w = $w;
        let mut p = c[0];
        for &ci in &c[1..] {
            p = p.mul_add(w, ci);
        }
        p
    }};
}

#[allow(clippy::excessive_precision)]
const ERF_INV_F32_CENTRAL: [f32; 9] = [
    2.81022636e-08,
    3.43273939e-07,
    -3.5233877e-06,
    -4.39150654e-06,
    0.00021858087,
    -0.00125372503,
    -0.00417768164,
    0.246640727,
    1.50140941,
];

#[allow(clippy::excessive_precision)]
const ERF_INV_F32_TAIL: [f32; 9] = [
    -0.000200214257,
    0.000100950558,
    0.00134934322,
    -0.00367342844,
    0.00573950773,
    -0.0076224613,
    0.00943887047,
    1.00167406,
    2.83297682,
];

/// The inverse error function for `f32`: Giles' single-precision approximation exactly as XLA's `ErfInv32`
/// (`shared/spec/prng.md`): `w = -log1p(-x*x)` in `f32`, one of two degree-8 polynomials evaluated with fused
/// multiply-adds, times `x`. `erf_inv(±1) = ±inf`; `|x| > 1` and NaN give NaN.
pub(super) fn erf_inv_f32(x: f32) -> f32 {
    if x.abs() == 1.0 {
        return x * f32::INFINITY;
    }
    let w = -(-x * x).ln_1p();
    let p = if w < 5.0 {
        horner_fma!(&ERF_INV_F32_CENTRAL, w - 2.5)
    } else {
        horner_fma!(&ERF_INV_F32_TAIL, w.sqrt() - 3.0)
    };
    p * x
}

#[allow(clippy::excessive_precision)]
const ERF_INV_F64_CENTRAL: [f64; 23] = [
    -3.6444120640178196996e-21,
    -1.685059138182016589e-19,
    1.2858480715256400167e-18,
    1.115787767802518096e-17,
    -1.333171662854620906e-16,
    2.0972767875968561637e-17,
    6.6376381343583238325e-15,
    -4.0545662729752068639e-14,
    -8.1519341976054721522e-14,
    2.6335093153082322977e-12,
    -1.2975133253453532498e-11,
    -5.4154120542946279317e-11,
    1.051212273321532285e-09,
    -4.1126339803469836976e-09,
    -2.9070369957882005086e-08,
    4.2347877827932403518e-07,
    -1.3654692000834678645e-06,
    -1.3882523362786468719e-05,
    0.0001867342080340571352,
    -0.00074070253416626697512,
    -0.0060336708714301490533,
    0.24015818242558961693,
    1.6536545626831027356,
];

#[allow(clippy::excessive_precision)]
const ERF_INV_F64_MIDDLE: [f64; 19] = [
    2.2137376921775787049e-09,
    9.0756561938885390979e-08,
    -2.7517406297064545428e-07,
    1.8239629214389227755e-08,
    1.5027403968909827627e-06,
    -4.013867526981545969e-06,
    2.9234449089955446044e-06,
    1.2475304481671778723e-05,
    -4.7318229009055733981e-05,
    6.8284851459573175448e-05,
    2.4031110387097893999e-05,
    -0.0003550375203628474796,
    0.00095328937973738049703,
    -0.0016882755560235047313,
    0.0024914420961078508066,
    -0.0037512085075692412107,
    0.005370914553590063617,
    1.0052589676941592334,
    3.0838856104922207635,
];

#[allow(clippy::excessive_precision)]
const ERF_INV_F64_TAIL: [f64; 17] = [
    -2.7109920616438573243e-11,
    -2.5556418169965252055e-10,
    1.5076572693500548083e-09,
    -3.7894654401267369937e-09,
    7.6157012080783393804e-09,
    -1.4960026627149240478e-08,
    2.9147953450901080826e-08,
    -6.7711997758452339498e-08,
    2.2900482228026654717e-07,
    -9.9298272942317002539e-07,
    4.5260625972231537039e-06,
    -1.9681778105531670567e-05,
    7.5995277030017761139e-05,
    -0.00021503011930044477347,
    -0.00013871931833623122026,
    1.0103004648645343977,
    4.8499064014085844221,
];

/// The inverse error function for `f64`: Giles' double-precision approximation as XLA's `ErfInv64` (three
/// branches on `w = -log1p(-x*x)`: `w < 6.25`, `w < 16`, else), polynomials evaluated with fused multiply-adds.
/// `erf_inv(±1) = ±inf`; `|x| > 1` and NaN give NaN.
pub(super) fn erf_inv_f64(x: f64) -> f64 {
    if x.abs() == 1.0 {
        return x * f64::INFINITY;
    }
    let w = -(-x * x).ln_1p();
    let p = if w < 6.25 {
        horner_fma!(&ERF_INV_F64_CENTRAL, w - 3.125)
    } else if w < 16.0 {
        horner_fma!(&ERF_INV_F64_MIDDLE, w.sqrt() - 3.25)
    } else {
        horner_fma!(&ERF_INV_F64_TAIL, w.sqrt() - 5.0)
    };
    p * x
}
