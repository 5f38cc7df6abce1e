//! `log` and `log1p` (fdlibm's): `x = 2^k m` with `m` in `[sqrt(1/2), sqrt(2))`, `f = m - 1`,
//! `log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2))` with `s = f / (2 + f)`; `log1p` adds the rounding error of `1 + x`
//! as a correction `c / u`. Also the double-double logarithm of `pow`.

use super::ops::MathOps;
use super::{passthrough_nan, passthrough_zero_nan};

/// fdlibm `logf`'s `Lg1..Lg4` (`f32`) and `log`'s `Lg1..Lg7` (`f64`).
#[allow(clippy::excessive_precision)]
const LG32: [f64; 4] = [
    f32::from_bits(0x3f2a_aaaa) as f64,
    f32::from_bits(0x3ecc_ce13) as f64,
    f32::from_bits(0x3e91_e9ee) as f64,
    f32::from_bits(0x3e78_9e26) as f64,
];

#[allow(clippy::excessive_precision)]
const LG64: [f64; 7] = [
    6.666_666_666_666_735_130e-01,
    3.999_999_999_940_941_908e-01,
    2.857_142_874_366_239_149e-01,
    2.222_219_843_214_978_396e-01,
    1.818_357_216_161_805_012e-01,
    1.531_383_769_920_937_332e-01,
    1.479_819_860_511_658_591e-01,
];

/// `(ln2_hi, ln2_lo)`: `ln2_hi` has trailing zeros, so `k ln2_hi` is exact.
fn ln2<B: MathOps>(b: &B) -> (f64, f64) {
    if b.is_f64() {
        (f64::from_bits(0x3fe6_2e42_fee0_0000), f64::from_bits(0x3dea_39ef_3579_3c76))
    } else {
        (f32::from_bits(0x3f31_7180) as f64, f32::from_bits(0x3717_f7d1) as f64)
    }
}

/// The bits of `sqrt(1/2)` rounded down, the lower end of the reduced mantissa.
fn sqrt_half_bits<B: MathOps>(b: &B) -> i64 {
    if b.is_f64() { 0x3fe6_a09e_667f_3bcd } else { 0x3f35_04f3 }
}

/// Splits a positive normal `x` into `(k, m)`, `x = 2^k m`, `m` in `[sqrt(1/2), sqrt(2))`; `k` as an integer.
fn split<B: MathOps>(b: &B, x: B::F) -> Result<(B::I, B::F), B::Error> {
    let sh = b.ci(sqrt_half_bits(b))?;
    let ix = b.isub(b.float_to_bits(x)?, sh)?;
    let k = b.ashr(ix, b.mantissa_bits())?;
    let mask = b.ci((1i64 << b.mantissa_bits()) - 1)?;
    let m = b.bits_to_float(b.iadd(b.iand(ix, mask)?, sh)?)?;
    Ok((k, m))
}

/// `log(1 + f) + k ln2 + c` for `f` in `[sqrt(1/2) - 1, sqrt(2) - 1)`, `k` a whole float and `c` a small correction.
fn log_kernel<B: MathOps>(b: &B, f: B::F, k: B::F, c: B::F) -> Result<B::F, B::Error> {
    let (ln2_hi, ln2_lo) = ln2(b);
    let s = b.div(f, b.addc(f, 2.0)?)?;
    let z = b.mul(s, s)?;
    let w = b.mul(z, z)?;
    let (t1, t2) = if b.is_f64() {
        let t1 = b.mul(w, b.horner(w, &[LG64[5], LG64[3], LG64[1]])?)?;
        let t2 = b.mul(z, b.horner(w, &[LG64[6], LG64[4], LG64[2], LG64[0]])?)?;
        (t1, t2)
    } else {
        let t1 = b.mul(w, b.horner(w, &[LG32[3], LG32[1]])?)?;
        let t2 = b.mul(z, b.horner(w, &[LG32[2], LG32[0]])?)?;
        (t1, t2)
    };
    let r = b.add(t2, t1)?;
    let hfsq = b.mul(b.mulc(f, 0.5)?, f)?;
    // s (hfsq + R) + (k ln2_lo + c) - hfsq + f + k ln2_hi, left to right.
    let acc = b.fma(s, b.add(hfsq, r)?, b.fma(k, b.c(ln2_lo)?, c)?)?;
    let acc = b.add(b.sub(acc, hfsq)?, f)?;
    b.fma(k, b.c(ln2_hi)?, acc)
}

/// The natural logarithm: `log(±0) = -inf`, `log(x < 0) = NaN`, `log(+inf) = +inf`, `log(1) = +0`; subnormal inputs
/// are scaled into the normal range first. Within an ulp.
pub fn log<B: MathOps>(b: &B, x: B::F) -> Result<B::F, B::Error> {
    let (min_normal, scale_exp) = if b.is_f64() { (f64::MIN_POSITIVE, 54) } else { (f32::MIN_POSITIVE as f64, 25) };
    let sub = b.ltc(x, min_normal)?;
    let xs = b.select(sub, b.mulc(x, (2.0f64).powi(scale_exp))?, x)?;
    let (k, m) = split(b, xs)?;
    let k = b.add(b.i2f(k)?, b.select_c(sub, -f64::from(scale_exp), b.c(0.0)?)?)?;
    let y = log_kernel(b, b.addc(m, -1.0)?, k, b.c(0.0)?)?;
    let y = b.select_c(b.eqc(x, f64::INFINITY)?, f64::INFINITY, y)?;
    let y = b.select_c(b.ltc(x, 0.0)?, f64::NAN, y)?;
    let y = b.select_c(b.eqc(x, 0.0)?, f64::NEG_INFINITY, y)?;
    passthrough_nan(b, x, y)
}

/// `log(1 + x)`, accurate near 0 (`log1p(±0) = ±0`): `-inf` at `-1`, NaN below, `+inf` at `+inf`. Within an ulp.
pub fn log1p<B: MathOps>(b: &B, x: B::F) -> Result<B::F, B::Error> {
    let u = b.addc(x, 1.0)?;
    let (k, m) = split(b, u)?;
    let k = b.i2f(k)?;
    // The rounding error of u = 1 + x, exact: x - (u - 1) for small k, 1 - (u - x) once x dominates.
    let c_small = b.sub(x, b.addc(u, -1.0)?)?;
    let c_large = b.sub(b.c(1.0)?, b.sub(u, x)?)?;
    let c = b.div(b.select(b.ge(k, b.c(2.0)?)?, c_large, c_small)?, u)?;
    // Where 1 + x is already in [sqrt(1/2), sqrt(2)), use f = x itself.
    let near = b.and(b.ltc(x, std::f64::consts::SQRT_2 - 1.0)?, b.gtc(x, std::f64::consts::FRAC_1_SQRT_2 - 1.0)?)?;
    let zero = b.c(0.0)?;
    let f = b.select(near, x, b.addc(m, -1.0)?)?;
    let k = b.select(near, zero, k)?;
    let c = b.select(near, zero, c)?;
    let y = log_kernel(b, f, k, c)?;
    let y = b.select_c(b.eqc(x, f64::INFINITY)?, f64::INFINITY, y)?;
    let y = b.select_c(b.ltc(x, -1.0)?, f64::NAN, y)?;
    let y = b.select_c(b.eqc(x, -1.0)?, f64::NEG_INFINITY, y)?;
    passthrough_zero_nan(b, x, y)
}

/// Taylor coefficients `2 / (2n + 1)`, `n = 12 down to 2`, of `atanh`'s series beyond `s^3`.
#[allow(clippy::excessive_precision)]
const ATANH_TAIL64: [f64; 11] = [
    2.0 / 25.0,
    2.0 / 23.0,
    2.0 / 21.0,
    2.0 / 19.0,
    2.0 / 17.0,
    2.0 / 15.0,
    2.0 / 13.0,
    2.0 / 11.0,
    2.0 / 9.0,
    2.0 / 7.0,
    2.0 / 5.0,
];

/// `(a + b)` as an exact pair `(s, e)` (Knuth's TwoSum).
pub(crate) fn two_sum<B: MathOps>(b: &B, x: B::F, y: B::F) -> Result<(B::F, B::F), B::Error> {
    let s = b.add(x, y)?;
    let bb = b.sub(s, x)?;
    let e = b.add(b.sub(x, b.sub(s, bb)?)?, b.sub(y, bb)?)?;
    Ok((s, e))
}

/// `(a + b)` as an exact pair for `|a| >= |b|` (Dekker's Fast2Sum).
fn fast_two_sum<B: MathOps>(b: &B, x: B::F, y: B::F) -> Result<(B::F, B::F), B::Error> {
    let s = b.add(x, y)?;
    let e = b.sub(y, b.sub(s, x)?)?;
    Ok((s, e))
}

/// `log(x)` as a double-double `(hi, lo)` with a relative error near `2^-64`, for a positive finite normal or
/// subnormal `f64` `x` (the logarithm of `pow`): `log(m) = 2 atanh(s)`, `s = (m - 1) / (m + 1)`, with `s` and the
/// terms `2s` and `2s^3/3` carried in double-double.
pub(crate) fn log_pair64<B: MathOps>(b: &B, x: B::F) -> Result<(B::F, B::F), B::Error> {
    let sub = b.ltc(x, f64::MIN_POSITIVE)?;
    let xs = b.select(sub, b.mulc(x, (2.0f64).powi(54))?, x)?;
    let (k, m) = split(b, xs)?;
    let k = b.add(b.i2f(k)?, b.select_c(sub, -54.0, b.c(0.0)?)?)?;
    // s = (m - 1) / (m + 1) in double-double; m - 1 is exact.
    let a = b.addc(m, -1.0)?;
    let (dh, dl) = two_sum(b, m, b.c(1.0)?)?;
    let sh = b.div(a, dh)?;
    let rem = b.fma(b.neg(sh)?, dl, b.fma(b.neg(sh)?, dh, a)?)?;
    let sl = b.div(rem, dh)?;
    // s^2 and s^3 (head exact via fma, tails to first order).
    let zh = b.mul(sh, sh)?;
    let zl = b.fma(sh, sh, b.neg(zh)?)?;
    let zl = b.fma(b.mulc(sh, 2.0)?, sl, zl)?;
    let ch = b.mul(zh, sh)?;
    let cl = b.fma(zh, sh, b.neg(ch)?)?;
    let cl = b.fma(zh, sl, b.fma(zl, sh, cl)?)?;
    // (2/3) s^3 in double-double.
    let (th, tl) = (0.666_666_666_666_666_6, 3.700_743_415_417_188e-17);
    let dh3 = b.mulc(ch, th)?;
    let dl3 = b.fma(ch, b.c(th)?, b.neg(dh3)?)?;
    let dl3 = b.fma(ch, b.c(tl)?, b.fma(cl, b.c(th)?, dl3)?)?;
    // The rest of the series, s^5 (2/5 + 2/7 s^2 + ...), in plain double.
    let s5 = b.mul(b.mul(zh, zh)?, sh)?;
    let tail = b.mul(s5, b.horner(zh, &ATANH_TAIL64)?)?;
    // log(m) = 2s + (2/3)s^3 + tail.
    let (uh, ul) = fast_two_sum(b, b.mulc(sh, 2.0)?, dh3)?;
    let ul = b.add(ul, b.add(b.fma(sl, b.c(2.0)?, dl3)?, tail)?)?;
    // log(x) = k ln2 + log(m), k ln2_hi exact.
    let (ln2_hi, ln2_lo) = (f64::from_bits(0x3fe6_2e42_fee0_0000), f64::from_bits(0x3dea_39ef_3579_3c76));
    let (vh, vl) = two_sum(b, b.mulc(k, ln2_hi)?, uh)?;
    let vl = b.add(vl, b.fma(k, b.c(ln2_lo)?, ul)?)?;
    fast_two_sum(b, vh, vl)
}
