//! `exp` and `expm1`: Cody-Waite reduction `x = k ln2 + r`, `|r| <= ln2/2`, with `ln2 = ln2_hi + ln2_lo` where
//! `k * ln2_hi` is exact; `e^r - 1` by a polynomial (`f32`, Cephes' `expf`) or fdlibm's rational form (`f64`,
//! `r + r c / (2 - c)`); the result scaled by `2^k` in two exact steps and one rounding.

use super::ops::MathOps;
use super::passthrough_nan;

/// The constants of one width.
struct ExpConsts {
    log2e: f64,
    ln2_hi: f64,
    ln2_lo: f64,
    /// Below this `e^x` rounds to zero; the input is clamped here.
    lo: f64,
    /// Above this `e^x` overflows; the input is clamped here.
    hi: f64,
    /// Below this `e^x - 1` rounds to `-1`.
    expm1_lo: f64,
}

const EXP32: ExpConsts = ExpConsts {
    log2e: std::f64::consts::LOG2_E,
    ln2_hi: f32::from_bits(0x3f31_7200) as f64,
    ln2_lo: f32::from_bits(0x35bf_be8e) as f64,
    lo: -104.0,
    hi: 89.0,
    expm1_lo: -30.0,
};

const EXP64: ExpConsts = ExpConsts {
    log2e: std::f64::consts::LOG2_E,
    ln2_hi: f64::from_bits(0x3fe6_2e42_fee0_0000),
    ln2_lo: f64::from_bits(0x3dea_39ef_3579_3c76),
    lo: -746.0,
    hi: 710.0,
    expm1_lo: -50.0,
};

/// Cephes `expf`: `(e^r - 1 - r) / r^2` on `|r| <= ln2/2`, highest degree first.
#[allow(clippy::excessive_precision)]
const EXPM1_P32: [f64; 6] = f32_consts![
    1.987_569_150_0e-4,
    1.398_199_950_7e-3,
    8.333_451_907_3e-3,
    4.166_579_589_4e-2,
    1.666_666_545_9e-1,
    5.000_000_120_1e-1,
];

/// fdlibm `exp`: `P1..P5` of `R(z) ~ r - (P1 z + ... + P5 z^5)`, highest degree first.
#[allow(clippy::excessive_precision)]
const EXP_P64: [f64; 5] = [
    4.138_136_797_057_238_460_39e-08,
    -1.653_390_220_546_525_153_90e-06,
    6.613_756_321_437_934_361_17e-05,
    -2.777_777_777_701_559_338_42e-03,
    1.666_666_666_666_660_190_37e-01,
];

/// `(k, hi, lo)` of [`reduce`].
type Reduced<B> = (<B as MathOps>::F, <B as MathOps>::F, <B as MathOps>::F);

fn consts<B: MathOps>(b: &B) -> &'static ExpConsts {
    if b.is_f64() { &EXP64 } else { &EXP32 }
}

/// `x = k ln2 + (hi - lo)`: returns `(k, hi, lo)` with `k` a whole float, `hi = x - k ln2_hi` exact and
/// `lo = k ln2_lo`. `x` must be clamped to the exponential's range.
pub(crate) fn reduce<B: MathOps>(b: &B, x: B::F) -> Result<Reduced<B>, B::Error> {
    let t = consts(b);
    let k = b.rint(b.mulc(x, t.log2e)?)?;
    let hi = b.fma(b.neg(k)?, b.c(t.ln2_hi)?, x)?;
    let lo = b.mulc(k, t.ln2_lo)?;
    Ok((k, hi, lo))
}

/// `e^r - 1` for `r = hi - lo`, `|r| <= ln2/2` (a little more is fine), to well under an ulp.
pub(crate) fn expm1_reduced<B: MathOps>(b: &B, hi: B::F, lo: B::F) -> Result<B::F, B::Error> {
    let r = b.sub(hi, lo)?;
    let z = b.mul(r, r)?;
    let corr = if b.is_f64() {
        // c = r - z P(z); e^r - 1 = r + r c / (2 - c).
        let c = b.fma(b.neg(z)?, b.horner(z, &EXP_P64)?, r)?;
        b.div(b.mul(r, c)?, b.sub(b.c(2.0)?, c)?)?
    } else {
        b.mul(z, b.horner(r, &EXPM1_P32)?)?
    };
    b.sub(hi, b.sub(lo, corr)?)
}

/// `e^(hi + lo)` for a pair with `|lo|` tiny against `hi` (the product of `pow`), no special cases but overflow and
/// underflow; `hi` may be any float, `lo` is ignored outside the finite range.
pub(crate) fn exp_pair<B: MathOps>(b: &B, hi: B::F, lo: B::F) -> Result<B::F, B::Error> {
    let t = consts(b);
    let in_range = b.lt(b.abs(hi)?, b.c(t.hi)?)?;
    let lo = b.select(in_range, lo, b.c(0.0)?)?;
    let x = b.clamp(hi, t.lo, t.hi)?;
    let k = b.rint(b.mulc(x, t.log2e)?)?;
    let rhi = b.fma(b.neg(k)?, b.c(t.ln2_hi)?, x)?;
    let rlo = b.fma(k, b.c(t.ln2_lo)?, b.neg(lo)?)?;
    let p = expm1_reduced(b, rhi, rlo)?;
    b.ldexp(b.addc(p, 1.0)?, b.round_to_int(k)?)
}

/// `e^x`: within an ulp; overflow gives `+inf`, underflow rounds through the subnormals to `+0`.
pub fn exp<B: MathOps>(b: &B, x: B::F) -> Result<B::F, B::Error> {
    let t = consts(b);
    let xc = b.clamp(x, t.lo, t.hi)?;
    let (k, hi, lo) = reduce(b, xc)?;
    let p = expm1_reduced(b, hi, lo)?;
    let y = b.ldexp(b.addc(p, 1.0)?, b.round_to_int(k)?)?;
    passthrough_nan(b, x, y)
}

/// `e^x - 1`, accurate near 0 (`expm1(±0) = ±0`); `-1` below about `-17` (`f32`) or `-37` (`f64`), `+inf` on
/// overflow.
pub fn expm1<B: MathOps>(b: &B, x: B::F) -> Result<B::F, B::Error> {
    let t = consts(b);
    let xc = b.clamp(x, t.expm1_lo, t.hi)?;
    let (k, hi, lo) = reduce(b, xc)?;
    // For k = 0, hi = x and lo = 0 exactly.
    let p = expm1_reduced(b, hi, lo)?;
    // 2^k (1 + p) - 1 = 2 (h p + (h - 1/2)) with h = 2^(k-1), representable up to k = 2^emax.
    let h = b.pow2i(b.isub(b.round_to_int(k)?, b.ci(1)?)?)?;
    let scaled = b.mulc(b.fma(h, p, b.sub(h, b.c(0.5)?)?)?, 2.0)?;
    let y = b.select(b.eqc(k, 0.0)?, p, scaled)?;
    super::passthrough_zero_nan(b, x, y)
}
