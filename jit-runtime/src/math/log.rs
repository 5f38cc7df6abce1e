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

/// `f32` bits of XLA's CPU `log` polynomial (Cephes `logf`): `log(1 + x) = x - x^2/2 + x^3 P(x)`, `P` of degree 8,
/// highest first.
const XLA_LOG32: [u32; 9] = [
    0x3d90_21bb,
    0xbdeb_d1b8,
    0x3def_251a,
    0xbdfe_5d4f,
    0x3e11_e9bf,
    0xbe2a_ae50,
    0x3e4c_ceac,
    0xbe7f_fffc,
    0x3eaa_aaaa,
];

/// `f32` bits of XLA's `log1p` rational approximation for small `|x|` (from Cephes):
/// `log1p(x) = x - x^2/2 + x^3 N(x) / D(x)`, highest degree first.
const XLA_LOG1P32_NUM: [u32; 7] =
    [0x383d_e04b, 0x3eff_40c5, 0x40d2_84fa, 0x41ef_4b9c, 0x4273_cc76, 0x4264_73ad, 0x41a0_5101];
const XLA_LOG1P32_DEN: [u32; 7] =
    [0x3f80_0000, 0x4171_01ad, 0x42a6_185b, 0x435d_c32d, 0x439a_8ca3, 0x4358_6d8a, 0x4270_7982];

fn f32_bits<const N: usize>(bits: [u32; N]) -> [f64; N] {
    bits.map(|b| f64::from(f32::from_bits(b)))
}

/// XLA's CPU `f32` logarithm (its `log_f32` kernel), operation for operation as the CPU backend compiles it, the
/// multiply-adds it contracts included: `u = 2^e m` with `m` in `[sqrt(1/2), sqrt(2))` (`x = m - 1`, formed as
/// `(m' - 1) + m'` from `m'` in `[1/2, 1)`), `x^3 P(x)` evaluated as `((p1 x^3 + p2) x^3 + p3) x^3` with three
/// degree-2 Horner parts, then `x - x^2/2 + that + e ln2` (`ln2` in two parts). `log(0) = -inf`,
/// `log(+inf) = +inf`, NaN below 0. `f32` only.
fn log_xla32<B: MathOps>(b: &B, u: B::F) -> Result<B::F, B::Error> {
    let c = f32_bits(XLA_LOG32);
    let min_normal = f64::from(f32::MIN_POSITIVE);
    let uc = b.select_c(b.not(b.gtc(u, min_normal)?)?, min_normal, u)?;
    let bits = b.float_to_bits(uc)?;
    let m = b.bits_to_float(b.ior(b.iand(bits, b.ci(0x807f_ffff)?)?, b.ci(0x3f00_0000)?)?)?;
    let e1 = b.addc(b.i2f(b.iadd(b.ashr(bits, 23)?, b.ci(-127)?)?)?, 1.0)?;
    let below = b.ltc(m, f64::from(f32::from_bits(0x3f35_04f3)))?;
    let zero = b.c(0.0)?;
    let x = b.add(b.addc(m, -1.0)?, b.select(below, m, zero)?)?;
    let e = b.sub(e1, b.select_c(below, 1.0, zero)?)?;
    let x2 = b.mul(x, x)?;
    let x3 = b.mul(x2, x)?;
    let p1 = b.horner(x, &c[0..3])?;
    let p2 = b.horner(x, &c[3..6])?;
    let p3 = b.horner(x, &c[6..9])?;
    let t = b.fma(b.fma(p1, x3, p2)?, x3, p3)?;
    let y = b.fma(t, x3, b.mulc(e, f64::from(f32::from_bits(0xb95e_8083)))?)?;
    let r = b.fma(b.neg(x2)?, b.c(0.5)?, x)?;
    let y = b.fma(e, b.c(f64::from(f32::from_bits(0x3f31_8000)))?, b.add(r, y)?)?;
    let y = b.select_c(b.eqc(u, f64::INFINITY)?, f64::INFINITY, y)?;
    let y = b.select_c(b.eqc(u, 0.0)?, f64::NEG_INFINITY, y)?;
    b.select_c(b.ltc(u, 0.0)?, f64::NAN, y)
}

/// XLA's CPU `f32` `log1p` (its elemental emitter's, as the CPU backend compiles it): for `|x| < sqrt(2) - 1`
/// `x + (-x^2/2 + x^3 N(x) / D(x))` (Cephes' rational form; the `-x^2/2` term contracted into a multiply-add),
/// else XLA's `log(1 + x)`. Within about 2 ulp (our [`log1p`] is within 1); `erf_inv` uses it to reproduce
/// `jax.random.normal` bit for bit. NaN passes through, `log1p(±0) = ±0`. `f32` only.
pub fn log1p_xla32<B: MathOps>(b: &B, x: B::F) -> Result<B::F, B::Error> {
    let x2 = b.mul(x, x)?;
    let ratio = b.div(b.horner(x, &f32_bits(XLA_LOG1P32_NUM))?, b.horner(x, &f32_bits(XLA_LOG1P32_DEN))?)?;
    let small = b.add(x, b.fma(x2, b.c(-0.5)?, b.mul(b.mul(x, x2)?, ratio)?)?)?;
    let large = log_xla32(b, b.addc(x, 1.0)?)?;
    let threshold = f64::from(f32::from_bits(0x3ed4_13cd));
    let y = b.select(b.ltc(b.abs(x)?, threshold)?, small, large)?;
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
