//! `sin`, `cos` (Cody-Waite reduction by `pi/2` in three parts with fused multiply-adds, then fdlibm's kernels) and
//! `atan2` (fdlibm's `atan` reductions on `min(|x|, |y|) / max(|x|, |y|)`, then the quadrant).

use super::ops::MathOps;
use super::passthrough_nan;

/// `pi/2 = P1 + P2 + P3` to about `2^-76` (`f32`) or `2^-163` (`f64`) relative: `x - k P1` is exact while `k` is
/// small enough, the later steps round once each at the scale of `r` (see [`sin`] for the resulting domain).
const PIO2_32: [f64; 3] =
    [f32::from_bits(0x3fc9_0fdb) as f64, f32::from_bits(0xb33b_bd2e) as f64, f32::from_bits(0xa6f7_2ced) as f64];
const PIO2_64: [f64; 3] = [
    f64::from_bits(0x3ff9_21fb_5444_2d18),
    f64::from_bits(0x3c91_a626_3314_5c07),
    f64::from_bits(0xb91f_1976_b7ed_8fbc),
];

/// Cephes `sinf` / `cosf` polynomials in `z = r^2` on `|r| <= pi/4`, highest degree first.
#[allow(clippy::excessive_precision)]
const SIN32: [f64; 3] = f32_consts![-1.951_529_589_1e-4, 8.332_160_873_6e-3, -1.666_665_461_1e-1];
#[allow(clippy::excessive_precision)]
const COS32: [f64; 3] = f32_consts![2.443_315_711_809_948e-5, -1.388_731_625_493_765e-3, 4.166_664_568_298_827e-2];

/// fdlibm `__kernel_sin`'s `S1..S6` and `__kernel_cos`'s `C1..C6`, highest degree first.
#[allow(clippy::excessive_precision)]
const SIN64: [f64; 6] = [
    1.589_690_995_211_550_102_21e-10,
    -2.505_076_025_340_686_341_95e-08,
    2.755_731_370_707_006_767_89e-06,
    -1.984_126_982_985_794_931_34e-04,
    8.333_333_333_322_489_461_24e-03,
    -1.666_666_666_666_663_243_48e-01,
];
#[allow(clippy::excessive_precision)]
const COS64: [f64; 6] = [
    -1.135_964_755_778_819_482_65e-11,
    2.087_572_321_298_174_827_90e-09,
    -2.755_731_435_139_066_330_35e-07,
    2.480_158_728_947_672_941_78e-05,
    -1.388_888_888_887_410_957_49e-03,
    4.166_666_666_666_660_190_37e-02,
];

/// `(sin r, cos r)` for `|r| <= pi/4`.
fn kernels<B: MathOps>(b: &B, r: B::F) -> Result<(B::F, B::F), B::Error> {
    let z = b.mul(r, r)?;
    let (sp, cp) = if b.is_f64() { (&SIN64[..], &COS64[..]) } else { (&SIN32[..], &COS32[..]) };
    // sin r = r + r^3 S(z)
    let s = b.fma(b.mul(z, r)?, b.horner(z, sp)?, r)?;
    // cos r = w + (((1 - w) - z/2) + z^2 C(z)) with w = 1 - z/2: the rounding error of w is added back.
    let hz = b.mulc(z, 0.5)?;
    let one = b.c(1.0)?;
    let w = b.sub(one, hz)?;
    let tail = b.mul(z, b.mul(z, b.horner(z, cp)?)?)?;
    let c = b.add(w, b.add(b.sub(b.sub(one, w)?, hz)?, tail)?)?;
    Ok((s, c))
}

/// `(sin |x|, cos |x|)` before the special cases; the reduced argument is clamped so that huge inputs (beyond the
/// documented domain) still give values in `[-1, 1]`.
fn sin_cos_abs<B: MathOps>(b: &B, x: B::F, want_sin: bool) -> Result<B::F, B::Error> {
    let p = if b.is_f64() { &PIO2_64 } else { &PIO2_32 };
    let ax = b.abs(x)?;
    let k = b.rint(b.mulc(ax, std::f64::consts::FRAC_2_PI)?)?;
    let nk = b.neg(k)?;
    let r = b.fma(nk, b.c(p[0])?, ax)?;
    let r = b.fma(nk, b.c(p[1])?, r)?;
    let r = b.fma(nk, b.c(p[2])?, r)?;
    let r = b.clamp(r, -1.0, 1.0)?;
    let (s, c) = kernels(b, r)?;
    let q = b.round_to_int(k)?;
    let odd = b.ieq(b.iand(q, b.ci(1)?)?, b.ci(1)?)?;
    // sin: quadrants 0..3 give s, c, -s, -c; cos: c, -s, -c, s.
    let (v, flip) = if want_sin {
        (b.select(odd, c, s)?, b.iand(q, b.ci(2)?)?)
    } else {
        (b.select(odd, s, c)?, b.iand(b.iadd(q, b.ci(1)?)?, b.ci(2)?)?)
    };
    let v = b.select(b.ieq(flip, b.ci(0)?)?, v, b.neg(v)?)?;
    b.clamp(v, -1.0, 1.0)
}

/// The sine. Accuracy by domain (measured against the `f64`/glibc functions): `f32` within 2 ulp for `|x| <= 1e6`
/// (1.5 ulp up to `1e5`), `f64` within an ulp of glibc for `|x| <= 1e12`. Beyond that the rounded `k = rint(x 2/pi)`
/// can be off by one or more and the three-part `pi/2` runs out of bits (`f32` from about `2e6`, `f64` from about
/// `1e13`): the result is then meaningless, but still finite and in `[-1, 1]` (a full Payne-Hanek reduction would be
/// needed). `sin(±0) = ±0`, `sin(±inf) = NaN`.
pub fn sin<B: MathOps>(b: &B, x: B::F) -> Result<B::F, B::Error> {
    let v = b.mul_sign(sin_cos_abs(b, x, true)?, x)?;
    let v = b.select_c(b.is_inf(x)?, f64::NAN, v)?;
    passthrough_nan(b, x, v)
}

/// The cosine, with [`sin`]'s accuracy and domain. `cos(±inf) = NaN`.
pub fn cos<B: MathOps>(b: &B, x: B::F) -> Result<B::F, B::Error> {
    let v = sin_cos_abs(b, x, false)?;
    let v = b.select_c(b.is_inf(x)?, f64::NAN, v)?;
    passthrough_nan(b, x, v)
}

/// fdlibm `atanf`'s `aT` (`f32`) and `atan`'s (`f64`) split into the even- and odd-indexed coefficients (the
/// polynomials in `w = z^2` of `s1` and `s2`), highest degree first.
#[allow(clippy::excessive_precision)]
const AT32_EVEN: [f64; 3] = f32_consts![6.168_760_731_8e-02, 1.425_363_570_5e-01, 3.333_332_836_6e-01];
#[allow(clippy::excessive_precision)]
const AT32_ODD: [f64; 2] = f32_consts![-1.064_801_737_7e-01, -1.999_915_838_2e-01];
#[allow(clippy::excessive_precision)]
const AT64_EVEN: [f64; 6] = [
    1.628_582_011_536_578_236_23e-02,
    4.976_877_994_615_932_360_17e-02,
    6.661_073_137_387_531_206_69e-02,
    9.090_887_133_436_506_561_96e-02,
    1.428_571_427_250_346_637_11e-01,
    3.333_333_333_333_293_180_27e-01,
];
#[allow(clippy::excessive_precision)]
const AT64_ODD: [f64; 5] = [
    -3.653_157_274_421_691_552_70e-02,
    -5.833_570_133_790_573_486_45e-02,
    -7.691_876_205_044_829_994_95e-02,
    -1.111_111_040_546_235_578_80e-01,
    -1.999_999_999_987_648_324_76e-01,
];

/// `(hi, lo)` of `atan(0.5)`, `atan(1)`, `pi/2`, `pi` for one width.
fn atan_consts<B: MathOps>(b: &B) -> [(f64, f64); 4] {
    if b.is_f64() {
        [
            (f64::from_bits(0x3fdd_ac67_0561_bb4f), f64::from_bits(0x3c7a_2b7f_222f_65e2)),
            (f64::from_bits(0x3fe9_21fb_5444_2d18), f64::from_bits(0x3c81_a626_3314_5c07)),
            (f64::from_bits(0x3ff9_21fb_5444_2d18), f64::from_bits(0x3c91_a626_3314_5c07)),
            (f64::from_bits(0x4009_21fb_5444_2d18), f64::from_bits(0x3ca1_a626_3314_5c07)),
        ]
    } else {
        let f = |h: u32, l: u32| (f32::from_bits(h) as f64, f32::from_bits(l) as f64);
        [
            f(0x3eed_6338, 0x31ac_3769),
            f(0x3f49_0fda, 0x3322_2168),
            f(0x3fc9_0fda, 0x33a2_2168),
            f(0x4049_0fda, 0x3422_2168),
        ]
    }
}

/// `atan(t)` for `t` in `[0, 1]`: fdlibm's reductions `t < 7/16` (none), `t < 11/16` (around 0.5), else
/// (around 1), with one division.
fn atan_unit<B: MathOps>(b: &B, t: B::F) -> Result<B::F, B::Error> {
    let consts = atan_consts(b);
    let id0 = b.ge(t, b.c(7.0 / 16.0)?)?;
    let id1 = b.ge(t, b.c(11.0 / 16.0)?)?;
    let one = b.c(1.0)?;
    let num = b.select(id0, b.fma(t, b.c(2.0)?, b.c(-1.0)?)?, t)?;
    let num = b.select(id1, b.addc(t, -1.0)?, num)?;
    let den = b.select(id0, b.addc(t, 2.0)?, one)?;
    let den = b.select(id1, b.addc(t, 1.0)?, den)?;
    let u = b.div(num, den)?;
    let zero = b.c(0.0)?;
    let bhi = b.select(id1, b.c(consts[1].0)?, b.select(id0, b.c(consts[0].0)?, zero)?)?;
    let blo = b.select(id1, b.c(consts[1].1)?, b.select(id0, b.c(consts[0].1)?, zero)?)?;
    let z = b.mul(u, u)?;
    let w = b.mul(z, z)?;
    let (even, odd): (&[f64], &[f64]) = if b.is_f64() { (&AT64_EVEN, &AT64_ODD) } else { (&AT32_EVEN, &AT32_ODD) };
    let s1 = b.mul(z, b.horner(w, even)?)?;
    let s2 = b.mul(w, b.horner(w, odd)?)?;
    // atan(t) = base_hi - ((u (s1 + s2) - base_lo) - u)
    let v = b.fma(u, b.add(s1, s2)?, b.neg(blo)?)?;
    b.sub(bhi, b.sub(v, u)?)
}

/// The angle of the point `(x, y)`, C's `atan2(y, x)` with all its special cases: `atan2(±0, +0) = ±0`,
/// `atan2(±0, -0) = ±pi`, `atan2(±inf, ±inf) = ±pi/4` or `±3pi/4`, `atan2(y, ±0) = ±pi/2`... NaN if either is NaN.
pub fn atan2<B: MathOps>(b: &B, y: B::F, x: B::F) -> Result<B::F, B::Error> {
    let consts = atan_consts(b);
    let ax = b.abs(x)?;
    let ay = b.abs(y)?;
    let swap = b.gt(ay, ax)?;
    let num = b.select(swap, ax, ay)?;
    let den = b.select(swap, ay, ax)?;
    let t = b.div(num, den)?;
    // Both zero (0/0) or both infinite (inf/inf): 0 and 1.
    let t = b.select(b.eq(num, den)?, b.select_c(b.eqc(num, 0.0)?, 0.0, b.c(1.0)?)?, t)?;
    let r = atan_unit(b, t)?;
    // |result| = base + sign r: r, pi/2 - r, pi - r, pi/2 + r for (swap, x negative) = (0,0), (1,0), (0,1), (1,1).
    let neg = b.sign_bit(x)?;
    let zero = b.c(0.0)?;
    let bhi = b.select(swap, b.c(consts[2].0)?, b.select(neg, b.c(consts[3].0)?, zero)?)?;
    let blo = b.select(swap, b.c(consts[2].1)?, b.select(neg, b.c(consts[3].1)?, zero)?)?;
    let flip = b.and(b.or(swap, neg)?, b.not(b.and(swap, neg)?)?)?;
    let sr = b.select(flip, b.neg(r)?, r)?;
    let m = b.add(bhi, b.add(sr, blo)?)?;
    let v = b.copysign(m, y)?;
    let v = passthrough_nan(b, x, v)?;
    passthrough_nan(b, y, v)
}
