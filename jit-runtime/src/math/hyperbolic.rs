//! `tanh` and `logistic`, both from `exp`/`expm1` of a non-positive or non-negative argument so that nothing
//! overflows into a NaN.

use super::exp::{exp, expm1};
use super::ops::MathOps;
use super::{passthrough_nan, passthrough_zero_nan};

/// Cephes `tanhf`: `(tanh(x) - x) / x^3` as a polynomial in `x^2` on `|x| < 0.625`, highest degree first.
#[allow(clippy::excessive_precision)]
const TANH_P32: [f64; 5] = f32_consts![
    -5.704_988_727_45e-3,
    2.063_908_879_54e-2,
    -5.373_971_555_31e-2,
    1.333_144_220_36e-1,
    -3.333_328_194_22e-1
];

/// Cephes `tanh`: `(tanh(x) - x) / x^3 = P(x^2) / Q(x^2)` on `|x| < 0.625`.
#[allow(clippy::excessive_precision)]
const TANH_P64: [f64; 3] =
    [-9.643_991_794_250_522_386_28e-1, -9.928_772_310_019_185_865_64e1, -1.614_687_684_417_084_479_52e3];
#[allow(clippy::excessive_precision)]
const TANH_Q64: [f64; 4] =
    [1.0, 1.128_116_784_916_329_314_02e2, 2.235_488_390_601_004_485_83e3, 4.844_063_053_251_250_486_05e3];

/// The hyperbolic tangent: an odd polynomial or rational function below `|x| = 0.625`, else
/// `sign(x) (1 - 2 / (e^(2|x|) + 1))` (`f32`, the exponential without its special cases) or `sign(x) e / (e + 2)`
/// with `e = expm1(2|x|)` (`f64`); `±1` from `|x| = 9` (`f32`) or `19` (`f64`) on, `tanh(±0) = ±0`.
pub fn tanh<B: MathOps>(b: &B, x: B::F) -> Result<B::F, B::Error> {
    let ax = b.abs(x)?;
    let z = b.mul(x, x)?;
    let t = if b.is_f64() {
        b.div(b.mul(z, b.horner(z, &TANH_P64)?)?, b.horner(z, &TANH_Q64)?)?
    } else {
        b.mul(b.horner(z, &TANH_P32)?, z)?
    };
    let small = b.fma(t, x, x)?;
    let large = if b.is_f64() {
        let e = expm1(b, b.mulc(b.select_c(b.gtc(ax, 20.0)?, 20.0, ax)?, 2.0)?)?;
        b.copysign(b.div(e, b.addc(e, 2.0)?)?, x)?
    } else {
        // 2|x| in [1.25, 20]: e^(2|x|) is a normal float with k in 1..=29, so one scaling by 2^k is exact and no
        // clamp or special case of `exp` is needed; tanh = 1 - 2 / (e + 1) loses nothing, as 2 / (e + 1) <= 0.45.
        let y = b.mulc(b.select_c(b.gtc(ax, 10.0)?, 10.0, ax)?, 2.0)?;
        let (k, hi, lo) = super::exp::reduce(b, y)?;
        let p = super::exp::expm1_reduced(b, hi, lo)?;
        let e = b.mul(b.addc(p, 1.0)?, b.pow2i(b.round_to_int(k)?)?)?;
        let q = b.div(b.c(2.0)?, b.addc(e, 1.0)?)?;
        b.copysign(b.sub(b.c(1.0)?, q)?, x)?
    };
    let y = b.select(b.ltc(ax, 0.625)?, small, large)?;
    passthrough_zero_nan(b, x, y)
}

/// The logistic sigmoid `1 / (1 + e^-x)`, as `1 / (1 + e)` for `x >= 0` and `e / (1 + e)` for `x < 0` with
/// `e = e^-|x|`, so that no intermediate overflows and tiny results keep their precision (down to the subnormals).
/// The sum `1 + e` is carried as an exact pair and each quotient corrected by its residual, so the result is within
/// an ulp of the exact function of the rounded `e`.
pub fn logistic<B: MathOps>(b: &B, x: B::F) -> Result<B::F, B::Error> {
    let e = exp(b, b.neg(b.abs(x)?)?)?;
    let one = b.c(1.0)?;
    let d = b.add(one, e)?;
    let d_lo = b.add(b.sub(one, d)?, e)?;
    let q = b.div(one, d)?;
    let res = b.fma(b.neg(q)?, d_lo, b.fma(b.neg(q)?, d, one)?)?;
    let pos = b.fma(q, res, q)?;
    let n0 = b.div(e, d)?;
    let res = b.fma(b.neg(n0)?, d_lo, b.fma(b.neg(n0)?, d, e)?)?;
    let neg = b.fma(res, q, n0)?;
    let y = b.select(b.ltc(x, 0.0)?, neg, pos)?;
    passthrough_nan(b, x, y)
}
