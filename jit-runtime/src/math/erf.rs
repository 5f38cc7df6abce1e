//! `erf` and `erfc` (fdlibm's four ranges, all evaluated and selected) and `erf_inv` (Giles' approximations as XLA's
//! `ErfInv32` / `ErfInv64`).

use super::exp::exp;
use super::log::{log1p, log1p_xla32};
use super::ops::MathOps;
use super::{passthrough_nan, passthrough_zero_nan};

/// The coefficients of one width, each list highest degree first (the `1` of each denominator included).
struct ErfConsts {
    erx: f64,
    pp: [f64; 5],
    qq: [f64; 6],
    pa: [f64; 7],
    qa: [f64; 7],
    ra: [f64; 8],
    sa: [f64; 9],
    rb: [f64; 7],
    sb: [f64; 8],
    /// Clears the low mantissa bits, so that `z * z` is exact.
    mask: i64,
}

#[allow(clippy::excessive_precision)]
const ERF32: ErfConsts = ErfConsts {
    erx: f32_consts![8.450_629_115_1e-01][0],
    pp: f32_consts![
        -2.376_301_745_2e-05,
        -5.770_270_247_0e-03,
        -2.848_174_981_8e-02,
        -3.250_420_987_6e-01,
        1.283_791_661_3e-01
    ],
    qq: f32_consts![
        -3.960_228_241_3e-06,
        1.324_947_370_4e-04,
        5.081_306_211_7e-03,
        6.502_225_250_0e-02,
        3.979_172_110_6e-01,
        1.0
    ],
    pa: f32_consts![
        -2.166_375_517_8e-03,
        3.547_830_507_2e-02,
        -1.108_946_949_2e-01,
        3.183_466_196_1e-01,
        -3.722_078_800_2e-01,
        4.148_561_060_4e-01,
        -2.362_118_568_3e-03,
    ],
    qa: f32_consts![
        1.198_450_010_3e-02,
        1.363_708_358_3e-02,
        1.261_712_163_7e-01,
        7.182_865_589_9e-02,
        5.403_979_420_7e-01,
        1.064_208_820_5e-01,
        1.0,
    ],
    ra: f32_consts![
        -9.814_329_147_3e+00,
        -8.128_743_743_9e+01,
        -1.846_050_872_8e+02,
        -1.623_966_674_8e+02,
        -6.237_533_187_9e+01,
        -1.055_862_617_5e+01,
        -6.938_585_639_0e-01,
        -9.864_944_033_3e-03,
    ],
    sa: f32_consts![
        -6.042_441_353_2e-02,
        6.570_249_557_5e+00,
        1.086_350_021_4e+02,
        4.290_081_481_9e+02,
        6.453_872_680_7e+02,
        4.345_658_874_5e+02,
        1.376_577_606_2e+02,
        1.965_127_182_0e+01,
        1.0,
    ],
    rb: f32_consts![
        -4.835_191_955_6e+02,
        -1.025_095_092_8e+03,
        -6.375_664_672_9e+02,
        -1.606_363_830_6e+02,
        -1.775_795_555_1e+01,
        -7.992_832_660_7e-01,
        -9.864_943_102_0e-03,
    ],
    sb: f32_consts![
        -2.244_095_230_1e+01,
        4.745_285_339_4e+02,
        2.553_050_293_0e+03,
        3.199_858_154_3e+03,
        1.536_729_614_3e+03,
        3.257_925_109_9e+02,
        3.033_806_037_9e+01,
        1.0,
    ],
    mask: 0xffff_e000,
};

#[allow(clippy::excessive_precision)]
const ERF64: ErfConsts = ErfConsts {
    erx: 8.450_629_115_104_675_292_97e-01,
    pp: [
        -2.376_301_665_665_016_260_84e-05,
        -5.770_270_296_489_441_591_57e-03,
        -2.848_174_957_559_851_047_66e-02,
        -3.250_421_072_470_014_993_70e-01,
        1.283_791_670_955_125_585_61e-01,
    ],
    qq: [
        -3.960_228_278_775_368_123_20e-06,
        1.324_947_380_043_216_445_26e-04,
        5.081_306_281_875_765_627_76e-03,
        6.502_224_998_876_729_444_85e-02,
        3.979_172_239_591_553_528_19e-01,
        1.0,
    ],
    pa: [
        -2.166_375_594_868_790_843_00e-03,
        3.547_830_432_561_823_593_71e-02,
        -1.108_946_942_823_966_774_76e-01,
        3.183_466_199_011_617_536_74e-01,
        -3.722_078_760_357_013_238_47e-01,
        4.148_561_186_837_483_316_66e-01,
        -2.362_118_560_752_659_440_77e-03,
    ],
    qa: [
        1.198_449_984_679_910_741_70e-02,
        1.363_708_391_202_905_073_62e-02,
        1.261_712_198_087_616_421_12e-01,
        7.182_865_441_419_626_628_68e-02,
        5.403_979_177_021_710_489_37e-01,
        1.064_208_804_008_442_282_86e-01,
        1.0,
    ],
    ra: [
        -9.814_329_344_169_145_485_92e+00,
        -8.128_743_550_630_659_342_46e+01,
        -1.846_050_929_067_110_359_94e+02,
        -1.623_966_694_625_734_703_55e+02,
        -6.237_533_245_032_600_603_96e+01,
        -1.055_862_622_532_329_098_14e+01,
        -6.938_585_727_071_817_643_72e-01,
        -9.864_944_034_847_148_227_05e-03,
    ],
    sa: [
        -6.042_441_521_485_809_874_38e-02,
        6.570_249_770_319_281_701_35e+00,
        1.086_350_055_417_794_351_34e+02,
        4.290_081_400_275_678_333_86e+02,
        6.453_872_717_332_678_803_36e+02,
        4.345_658_774_752_292_288_21e+02,
        1.376_577_541_435_190_426_00e+02,
        1.965_127_166_743_925_712_92e+01,
        1.0,
    ],
    rb: [
        -4.835_191_916_086_513_970_19e+02,
        -1.025_095_131_611_077_249_54e+03,
        -6.375_664_433_683_896_277_22e+02,
        -1.606_363_848_558_219_160_62e+02,
        -1.775_795_491_775_475_198_89e+01,
        -7.992_832_376_805_230_065_74e-01,
        -9.864_942_924_700_099_285_97e-03,
    ],
    sb: [
        -2.244_095_244_658_581_833_62e+01,
        4.745_285_412_069_553_672_15e+02,
        2.553_050_406_433_164_425_83e+03,
        3.199_858_219_508_595_539_08e+03,
        1.536_729_586_084_436_959_94e+03,
        3.257_925_129_965_739_188_26e+02,
        3.033_806_074_348_245_829_24e+01,
        1.0,
    ],
    mask: 0xffff_ffff_0000_0000u64 as i64,
};

/// `x erfc(x)` for `x >= 1.25` (fdlibm's tails): `exp(-z^2 - 0.5625) exp((z - x)(z + x) + R/S(1/x^2))`, `z` being
/// `x` with its low bits cleared so that `z^2` is exact; `R/S` is the pair for `x < 1/0.35` or the one beyond.
fn tail_exp<B: MathOps>(b: &B, t: &ErfConsts, x: B::F) -> Result<B::F, B::Error> {
    let s = b.div(b.c(1.0)?, b.mul(x, x)?)?;
    let near = b.ltc(x, 1.0 / 0.35)?;
    let r = b.select(near, b.horner(s, &t.ra)?, b.horner(s, &t.rb)?)?;
    let ss = b.select(near, b.horner(s, &t.sa)?, b.horner(s, &t.sb)?)?;
    let z = b.bits_to_float(b.iand(b.float_to_bits(x)?, b.ci(t.mask)?)?)?;
    let e1 = exp(b, b.fma(b.neg(z)?, z, b.c(-0.5625)?)?)?;
    let e2 = exp(b, b.fma(b.sub(z, x)?, b.add(z, x)?, b.div(r, ss)?)?)?;
    b.mul(e1, e2)
}

/// The error function, fdlibm's algorithm: `x + x P/Q(x^2)` below `0.84375`; `erx + P/Q(|x| - 1)` below `1.25`;
/// `1 - exp(-z^2 - 0.5625) exp((z - x)(z + x) + R/S(1/x^2)) / x` below 6 (`z` is `x` with its low bits cleared);
/// `±1` beyond. Odd, `erf(±0) = ±0`, `erf(±inf) = ±1`.
pub fn erf<B: MathOps>(b: &B, x: B::F) -> Result<B::F, B::Error> {
    let t = if b.is_f64() { &ERF64 } else { &ERF32 };
    let ax = b.abs(x)?;
    // |x| < 0.84375
    let z = b.mul(x, x)?;
    let y = b.div(b.horner(z, &t.pp)?, b.horner(z, &t.qq)?)?;
    let small = b.fma(x, y, x)?;
    // |x| < 1.25
    let s = b.addc(ax, -1.0)?;
    let mid = b.addc(b.div(b.horner(s, &t.pa)?, b.horner(s, &t.qa)?)?, t.erx)?;
    // |x| < 6 (clamped there, so that the unused lanes stay finite)
    let axc = b.clamp(ax, 1.0, 6.0)?;
    let tail = b.sub(b.c(1.0)?, b.div(tail_exp(b, t, axc)?, axc)?)?;
    let mag = b.select_c(b.ltc(ax, 6.0)?, 0.0, b.c(1.0)?)?;
    let mag = b.select(b.ltc(ax, 6.0)?, tail, mag)?;
    let mag = b.select(b.ltc(ax, 1.25)?, mid, mag)?;
    let y = b.select(b.ltc(ax, 0.84375)?, small, b.copysign(mag, x)?)?;
    passthrough_zero_nan(b, x, y)
}

/// The complementary error function `1 - erf(x)`, fdlibm's `erfc` with [`erf`]'s coefficients, accurate where
/// `erf(x)` is close to 1: `1 - (x + x P/Q(x^2))` below `0.84375` (`0.5 - (x - 0.5 + x P/Q)` from `0.25`);
/// `1 - erx - P/Q(|x| - 1)` (`1 + (erx + P/Q)` for negative `x`) below `1.25`; `exp(-z^2 - 0.5625)
/// exp((z - x)(z + x) + R/S(1/x^2)) / x` (`2 -` that for negative `x`) below 28, `2` below `-6`; `0` and `2`
/// beyond. `erfc(+inf) = 0`, `erfc(-inf) = 2`.
pub fn erfc<B: MathOps>(b: &B, x: B::F) -> Result<B::F, B::Error> {
    let t = if b.is_f64() { &ERF64 } else { &ERF32 };
    let ax = b.abs(x)?;
    let negative = b.ltc(x, 0.0)?;
    // |x| < 0.84375
    let z = b.mul(x, x)?;
    let y = b.div(b.horner(z, &t.pp)?, b.horner(z, &t.qq)?)?;
    let xy = b.mul(x, y)?;
    let below_quarter = b.sub(b.c(1.0)?, b.add(x, xy)?)?;
    let above_quarter = b.sub(b.c(0.5)?, b.add(xy, b.addc(x, -0.5)?)?)?;
    let small = b.select(b.ltc(x, 0.25)?, below_quarter, above_quarter)?;
    // |x| < 1.25
    let s = b.addc(ax, -1.0)?;
    let pq = b.div(b.horner(s, &t.pa)?, b.horner(s, &t.qa)?)?;
    // `1 - erx` is exact (Sterbenz).
    let mid = b.select(negative, b.addc(b.addc(pq, t.erx)?, 1.0)?, b.sub(b.c(1.0 - t.erx)?, pq)?)?;
    // |x| < 28 (clamped there, so that the unused lanes stay finite)
    let axc = b.clamp(ax, 1.0, 28.0)?;
    let q = b.div(tail_exp(b, t, axc)?, axc)?;
    let tail = b.select(negative, b.sub(b.c(2.0)?, q)?, q)?;
    let tail = b.select_c(b.ltc(x, -6.0)?, 2.0, tail)?;
    let far = b.select_c(negative, 2.0, b.c(0.0)?)?;
    let y = b.select(b.ltc(ax, 28.0)?, tail, far)?;
    let y = b.select(b.ltc(ax, 1.25)?, mid, y)?;
    let y = b.select(b.ltc(ax, 0.84375)?, small, y)?;
    passthrough_nan(b, x, y)
}

#[allow(clippy::excessive_precision)]
const ERF_INV32_CENTRAL: [f64; 9] = f32_consts![
    2.810_226_36e-08,
    3.432_739_39e-07,
    -3.523_387_7e-06,
    -4.391_506_54e-06,
    0.000_218_580_87,
    -0.001_253_725_03,
    -0.004_177_681_64,
    0.246_640_727,
    1.501_409_41,
];

#[allow(clippy::excessive_precision)]
const ERF_INV32_TAIL: [f64; 9] = f32_consts![
    -0.000_200_214_257,
    0.000_100_950_558,
    0.001_349_343_22,
    -0.003_673_428_44,
    0.005_739_507_73,
    -0.007_622_461_3,
    0.009_438_870_47,
    1.001_674_06,
    2.832_976_82,
];

#[allow(clippy::excessive_precision)]
const ERF_INV64_CENTRAL: [f64; 23] = [
    -3.644_412_064_017_819_699_6e-21,
    -1.685_059_138_182_016_589e-19,
    1.285_848_071_525_640_016_7e-18,
    1.115_787_767_802_518_096e-17,
    -1.333_171_662_854_620_906e-16,
    2.097_276_787_596_856_163_7e-17,
    6.637_638_134_358_323_832_5e-15,
    -4.054_566_272_975_206_863_9e-14,
    -8.151_934_197_605_472_152_2e-14,
    2.633_509_315_308_232_297_7e-12,
    -1.297_513_325_345_353_249_8e-11,
    -5.415_412_054_294_627_931_7e-11,
    1.051_212_273_321_532_285e-09,
    -4.112_633_980_346_983_697_6e-09,
    -2.907_036_995_788_200_508_6e-08,
    4.234_787_782_793_240_351_8e-07,
    -1.365_469_200_083_467_864_5e-06,
    -1.388_252_336_278_646_871_9e-05,
    0.000_186_734_208_034_057_135_2,
    -0.000_740_702_534_166_266_975_12,
    -0.006_033_670_871_430_149_053_3,
    0.240_158_182_425_589_616_93,
    1.653_654_562_683_102_735_6,
];

#[allow(clippy::excessive_precision)]
const ERF_INV64_MIDDLE: [f64; 19] = [
    2.213_737_692_177_578_704_9e-09,
    9.075_656_193_888_539_097_9e-08,
    -2.751_740_629_706_454_542_8e-07,
    1.823_962_921_438_922_775_5e-08,
    1.502_740_396_890_982_762_7e-06,
    -4.013_867_526_981_545_969e-06,
    2.923_444_908_995_544_604_4e-06,
    1.247_530_448_167_177_872_3e-05,
    -4.731_822_900_905_573_398_1e-05,
    6.828_485_145_957_317_544_8e-05,
    2.403_111_038_709_789_399_9e-05,
    -0.000_355_037_520_362_847_479_6,
    0.000_953_289_379_737_380_497_03,
    -0.001_688_275_556_023_504_731_3,
    0.002_491_442_096_107_850_806_6,
    -0.003_751_208_507_569_241_210_7,
    0.005_370_914_553_590_063_617,
    1.005_258_967_694_159_233_4,
    3.083_885_610_492_220_763_5,
];

#[allow(clippy::excessive_precision)]
const ERF_INV64_TAIL: [f64; 17] = [
    -2.710_992_061_643_857_324_3e-11,
    -2.555_641_816_996_525_205_5e-10,
    1.507_657_269_350_054_808_3e-09,
    -3.789_465_440_126_736_993_7e-09,
    7.615_701_208_078_339_380_4e-09,
    -1.496_002_662_714_924_047_8e-08,
    2.914_795_345_090_108_082_6e-08,
    -6.771_199_775_845_233_949_8e-08,
    2.290_048_222_802_665_471_7e-07,
    -9.929_827_294_231_700_253_9e-07,
    4.526_062_597_223_153_703_9e-06,
    -1.968_177_810_553_167_056_7e-05,
    7.599_527_703_001_776_113_9e-05,
    -0.000_215_030_119_300_444_773_47,
    -0.000_138_719_318_336_231_220_26,
    1.010_300_464_864_534_397_7,
    4.849_906_401_408_584_422_1,
];

/// The inverse error function, Giles' approximations exactly as XLA evaluates them (fused multiply-adds):
/// `w = -log1p(-x^2)`; for `f32` (`shared/spec/prng.md`) with XLA's own CPU `log1p` ([`log1p_xla32`], which makes
/// `sqrt(2) erf_inv(u)` bit-identical to `jax.random.normal` and `truncated_normal`), then one of two degree-8
/// polynomials in `w - 2.5` (`w < 5`) or `sqrt(w) - 3`; for `f64` with our [`log1p`], three branches `w < 6.25`,
/// `w < 16`, else. The polynomial times `x`; `erf_inv(±1) = ±inf`, NaN for `|x| > 1`, `erf_inv(±0) = ±0`.
///
/// For `f32` it equals XLA's CPU result bit for bit on every normal input in `(-1, 1)` whose result is normal (every
/// 97th bit pattern checked); XLA flushes subnormal results (`|x| < 1.33e-38`) to zero, we keep them.
pub fn erf_inv<B: MathOps>(b: &B, x: B::F) -> Result<B::F, B::Error> {
    let mx2 = b.mul(b.neg(x)?, x)?;
    let w = b.neg(if b.is_f64() { log1p(b, mx2)? } else { log1p_xla32(b, mx2)? })?;
    let sw = b.sqrt(w)?;
    let p = if b.is_f64() {
        let central = b.horner(b.addc(w, -3.125)?, &ERF_INV64_CENTRAL)?;
        let middle = b.horner(b.addc(sw, -3.25)?, &ERF_INV64_MIDDLE)?;
        let tail = b.horner(b.addc(sw, -5.0)?, &ERF_INV64_TAIL)?;
        let p = b.select(b.ltc(w, 16.0)?, middle, tail)?;
        b.select(b.ltc(w, 6.25)?, central, p)?
    } else {
        let central = b.horner(b.addc(w, -2.5)?, &ERF_INV32_CENTRAL)?;
        let tail = b.horner(b.addc(sw, -3.0)?, &ERF_INV32_TAIL)?;
        b.select(b.ltc(w, 5.0)?, central, tail)?
    };
    let y = b.mul(p, x)?;
    let ax = b.abs(x)?;
    let y = b.select(b.eqc(ax, 1.0)?, b.mulc(x, f64::INFINITY)?, y)?;
    let y = b.select_c(b.gtc(ax, 1.0)?, f64::NAN, y)?;
    passthrough_nan(b, x, y)
}
