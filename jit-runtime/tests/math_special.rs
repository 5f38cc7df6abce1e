//! Special cases of `jit_runtime::math`: NaN in gives the same NaN out, infinities, signed zeros, overflow and
//! underflow, domain errors, and C's tables for `pow` and `atan2`.

use jit_runtime::math::*;

const INF32: f32 = f32::INFINITY;
const INF64: f64 = f64::INFINITY;

/// Bit equality (so `-0` differs from `+0`), any NaN equal to any NaN.
#[track_caller]
fn same32(got: f32, want: f32) {
    assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()), "got {got:e}, want {want:e}");
}

#[track_caller]
fn same64(got: f64, want: f64) {
    assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()), "got {got:e}, want {want:e}");
}

type Fns = (fn(f32) -> f32, fn(f64) -> f64);

const UNARY: [(&str, Fns); 12] = [
    ("exp", (exp_f32, exp_f64)),
    ("expm1", (expm1_f32, expm1_f64)),
    ("log", (log_f32, log_f64)),
    ("log1p", (log1p_f32, log1p_f64)),
    ("tanh", (tanh_f32, tanh_f64)),
    ("logistic", (logistic_f32, logistic_f64)),
    ("erf", (erf_f32, erf_f64)),
    ("erfc", (erfc_f32, erfc_f64)),
    ("erf_inv", (erf_inv_f32, erf_inv_f64)),
    ("sin", (sin_f32, sin_f64)),
    ("cos", (cos_f32, cos_f64)),
    ("round", (round_f32, round_f64)),
];

#[test]
fn nan_inputs_come_back_unchanged() {
    let nans32 = [f32::NAN, -f32::NAN, f32::from_bits(0x7fa0_0001), f32::from_bits(0xffc1_2345)];
    let nans64 = [f64::NAN, -f64::NAN, f64::from_bits(0x7ff4_0000_0000_0001), f64::from_bits(0xfff8_1234_5678_9abc)];
    for (name, (f, g)) in UNARY {
        for n in nans32 {
            assert_eq!(f(n).to_bits(), n.to_bits(), "{name} f32 {:#x}", n.to_bits());
        }
        for n in nans64 {
            assert_eq!(g(n).to_bits(), n.to_bits(), "{name} f64 {:#x}", n.to_bits());
        }
    }
    assert_eq!(pow_f32(nans32[2], 2.0).to_bits(), nans32[2].to_bits());
    assert_eq!(atan2_f64(1.0, nans64[3]).to_bits(), nans64[3].to_bits());
}

#[test]
fn odd_functions_keep_the_sign_of_zero() {
    for (name, (f, g)) in UNARY {
        let (w32, w64) = match name {
            "exp" | "cos" | "erfc" => (1.0, 1.0),
            "logistic" => (0.5, 0.5),
            "log" => (-INF32, -INF64),
            _ => (-0.0, -0.0),
        };
        same32(f(-0.0), w32);
        same64(g(-0.0), w64);
        let (w32, w64) = if name == "log" { (-INF32, -INF64) } else { (w32.abs(), w64.abs()) };
        same32(f(0.0), w32);
        same64(g(0.0), w64);
    }
}

#[test]
fn infinities() {
    let table: [(&str, f64, f64); 12] = [
        ("exp", INF64, 0.0),
        ("expm1", INF64, -1.0),
        ("log", INF64, f64::NAN),
        ("log1p", INF64, f64::NAN),
        ("tanh", 1.0, -1.0),
        ("logistic", 1.0, 0.0),
        ("erf", 1.0, -1.0),
        ("erfc", 0.0, 2.0),
        ("erf_inv", f64::NAN, f64::NAN),
        ("sin", f64::NAN, f64::NAN),
        ("cos", f64::NAN, f64::NAN),
        ("round", INF64, -INF64),
    ];
    for ((name, (f, g)), (tname, at_inf, at_neg_inf)) in UNARY.iter().zip(table) {
        assert_eq!(*name, tname);
        same32(f(INF32), at_inf as f32);
        same32(f(-INF32), at_neg_inf as f32);
        same64(g(INF64), at_inf);
        same64(g(-INF64), at_neg_inf);
    }
}

#[test]
fn exp_overflows_and_underflows_through_the_subnormals() {
    assert_eq!(exp_f32(88.72283), f64::from(88.72283f32).exp() as f32);
    same32(exp_f32(88.7229), INF32);
    same32(exp_f32(1000.0), INF32);
    assert_eq!(exp_f32(-87.5), (-87.5f64).exp() as f32);
    assert!(exp_f32(-100.0) > 0.0 && exp_f32(-100.0) < f32::MIN_POSITIVE);
    same32(exp_f32(-103.5), f32::from_bits(1));
    same32(exp_f32(-104.0), 0.0);
    same64(exp_f64(709.78), 709.78f64.exp());
    same64(exp_f64(709.79), INF64);
    assert!(exp_f64(-740.0) > 0.0 && exp_f64(-740.0) < f64::MIN_POSITIVE);
    same64(exp_f64(-745.0), f64::from_bits(1));
    same64(exp_f64(-746.0), 0.0);
    same32(expm1_f32(88.8), INF32);
    same64(expm1_f64(710.0), INF64);
    same32(expm1_f32(-30.0), -1.0);
    same64(expm1_f64(-50.0), -1.0);
    // Tiny arguments come back exactly.
    same32(expm1_f32(1e-30), 1e-30);
    same64(expm1_f64(-1e-300), -1e-300);
    same64(expm1_f64(f64::from_bits(1)), f64::from_bits(1));
}

#[test]
fn log_domain_and_subnormals() {
    same32(log_f32(1.0), 0.0);
    same64(log_f64(1.0), 0.0);
    same32(log_f32(-1.0), f32::NAN);
    same64(log_f64(-f64::MIN_POSITIVE), f64::NAN);
    same32(log_f32(-INF32), f32::NAN);
    // ln(2^-149) and ln(2^-1074), correctly rounded.
    assert_eq!(log_f32(f32::from_bits(1)), -103.278_93);
    assert_eq!(log_f64(f64::from_bits(1)), -744.440_071_921_381_2);
    same32(log1p_f32(-1.0), -INF32);
    same64(log1p_f64(-1.0), -INF64);
    same32(log1p_f32(-1.5), f32::NAN);
    same64(log1p_f64(-2.0), f64::NAN);
    same32(log1p_f32(1e-30), 1e-30);
    same64(log1p_f64(-1e-300), -1e-300);
    same64(log1p_f64(f64::MAX), f64::MAX.ln());
}

#[test]
fn logistic_is_stable_at_the_extremes() {
    same32(logistic_f32(100.0), 1.0);
    same32(logistic_f32(-200.0), 0.0);
    let tiny = logistic_f32(-80.0);
    assert!(tiny > 0.0 && (f64::from(tiny) / (-80f64).exp() - 1.0).abs() < 1e-6, "{tiny}");
    let sub = logistic_f32(-100.0);
    assert!(sub > 0.0 && sub < f32::MIN_POSITIVE, "{sub}");
    let sub = logistic_f64(-744.5);
    assert!(sub > 0.0 && sub < f64::MIN_POSITIVE, "{sub}");
    same64(logistic_f64(0.0), 0.5);
}

#[test]
fn erf_inv_edges() {
    same32(erf_inv_f32(1.0), INF32);
    same32(erf_inv_f32(-1.0), -INF32);
    same64(erf_inv_f64(1.0), INF64);
    same64(erf_inv_f64(-1.0), -INF64);
    same32(erf_inv_f32(1.000_000_1), f32::NAN);
    same64(erf_inv_f64(-1.5), f64::NAN);
    assert_eq!(erf_inv_f32(0.3), -erf_inv_f32(-0.3));
    assert!((erf_inv_f64(0.5) - 0.476_936_276_204_469_9).abs() < 2e-16);
}

/// `normal(PRNGKey(0), (4,))` of `shared/spec/prng.md`: `sqrt(2) * erf_inv(u)` bit-exact with JAX.
#[test]
fn erf_inv_f32_reproduces_jax_normal() {
    let bits = [0xf29a_4fa7u32, 0xfa84_3692, 0x5511_0e28, 0x77fa_a835];
    let lo = f32::from_bits((-1.0f32).to_bits() - 1);
    let sqrt2 = f32::from_bits(0x3fb5_04f3);
    let got: Vec<u32> = bits
        .iter()
        .map(|b| {
            let u = lo.max((f32::from_bits((b >> 9) | 0x3F80_0000) - 1.0) * (1.0 - lo) + lo);
            (sqrt2 * erf_inv_f32(u)).to_bits()
        })
        .collect();
    assert_eq!(got, vec![0x3fcf_b2bd, 0x4001_9df0, 0xbede_0017, 0xbda1_0222]);
}

#[test]
fn round_half_away_from_zero() {
    for (x, want) in [(0.5, 1.0), (-0.5, -1.0), (1.5, 2.0), (2.5, 3.0), (-2.5, -3.0), (0.499_999_97, 0.0), (-0.4, -0.0)]
    {
        same32(round_f32(x), want);
        same64(round_f64(f64::from(x)), f64::from(want));
    }
    same32(round_f32(8_388_609.0), 8_388_609.0);
    same64(round_f64(4_503_599_627_370_497.0), 4_503_599_627_370_497.0);
    same64(round_f64(0.499_999_999_999_999_94), 0.0);
}

#[test]
fn sin_cos_stay_in_range_for_huge_inputs() {
    for x in [1e7f32, 3.3e9, 1e20, 1e38, f32::MAX, -f32::MAX] {
        for y in [sin_f32(x), cos_f32(x)] {
            assert!((-1.0..=1.0).contains(&y), "{x}: {y}");
        }
    }
    for x in [1e16f64, 1e100, f64::MAX, -f64::MAX] {
        for y in [sin_f64(x), cos_f64(x)] {
            assert!((-1.0..=1.0).contains(&y), "{x}: {y}");
        }
    }
    same32(sin_f32(f32::from_bits(1)), f32::from_bits(1));
    same64(sin_f64(-1e-300), -1e-300);
    same32(cos_f32(1e-30), 1.0);
}

/// C99's `pow` table (F.10.4.4).
#[test]
fn pow_special_cases() {
    let nan = f64::NAN;
    let cases: [(f64, f64, f64); 30] = [
        (nan, 0.0, 1.0),
        (nan, -0.0, 1.0),
        (1.0, nan, 1.0),
        (1.0, INF64, 1.0),
        (-1.0, INF64, 1.0),
        (-1.0, -INF64, 1.0),
        (nan, 1.0, nan),
        (2.0, nan, nan),
        (0.0, -3.0, INF64),
        (-0.0, -3.0, -INF64),
        (-0.0, -2.0, INF64),
        (-0.0, -0.5, INF64),
        (0.0, -INF64, INF64),
        (0.0, 3.0, 0.0),
        (-0.0, 3.0, -0.0),
        (-0.0, 2.0, 0.0),
        (-0.0, 0.5, 0.0),
        (0.5, -INF64, INF64),
        (2.0, -INF64, 0.0),
        (0.5, INF64, 0.0),
        (-2.0, INF64, INF64),
        (-INF64, -3.0, -0.0),
        (-INF64, -2.0, 0.0),
        (-INF64, 3.0, -INF64),
        (-INF64, 0.5, INF64),
        (INF64, -1.0, 0.0),
        (INF64, 2.0, INF64),
        (-8.0, 1.0 / 3.0, nan),
        (-2.0, 3.0, -8.0),
        (-2.0, -2.0, 0.25),
    ];
    for (x, y, want) in cases {
        same64(pow_f64(x, y), want);
        same32(pow_f32(x as f32, y as f32), want as f32);
    }
    same32(pow_f32(10.0, 39.0), INF32);
    same32(pow_f32(10.0, -46.0), 0.0);
    same64(pow_f64(10.0, 309.0), INF64);
    same64(pow_f64(2.0, -1074.0), f64::from_bits(1));
    same64(pow_f64(2.0, 1023.0), 2f64.powi(1023));
    same32(pow_f32(2.0, -149.0), f32::from_bits(1));
    same64(pow_f64(f64::from_bits(1), 0.5), 2f64.powi(-537));
}

/// C99's `atan2` table (F.10.1.4).
#[test]
fn atan2_special_cases() {
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};
    let cases: [(f64, f64, f64); 18] = [
        (0.0, 0.0, 0.0),
        (-0.0, 0.0, -0.0),
        (0.0, -0.0, PI),
        (-0.0, -0.0, -PI),
        (0.0, -1.0, PI),
        (-0.0, -1.0, -PI),
        (0.0, 1.0, 0.0),
        (-0.0, 1.0, -0.0),
        (1.0, 0.0, FRAC_PI_2),
        (1.0, -0.0, FRAC_PI_2),
        (-1.0, 0.0, -FRAC_PI_2),
        (1.0, -INF64, PI),
        (-1.0, -INF64, -PI),
        (1.0, INF64, 0.0),
        (INF64, 1.0, FRAC_PI_2),
        (-INF64, -1.0, -FRAC_PI_2),
        (INF64, INF64, FRAC_PI_4),
        (-INF64, -INF64, -3.0 * FRAC_PI_4),
    ];
    for (y, x, want) in cases {
        same64(atan2_f64(y, x), want);
        same32(atan2_f32(y as f32, x as f32), want as f32);
    }
    same64(atan2_f64(f64::NAN, 1.0), f64::NAN);
    same32(atan2_f32(1.0, f32::NAN), f32::NAN);
    same64(atan2_f64(1e-300, 1e300), 0.0);
    same64(atan2_f64(1e-300, -1e300), PI);
    same64(atan2_f64(1.0, 1.0), FRAC_PI_4);
}

#[test]
fn tanh_and_erf_saturate() {
    same32(tanh_f32(9.5), 1.0);
    same32(tanh_f32(-20.0), -1.0);
    same64(tanh_f64(19.5), 1.0);
    same32(erf_f32(4.0), 1.0);
    same64(erf_f64(-6.5), -1.0);
    same32(erf_f32(f32::from_bits(1)), f32::from_bits(1));
    same64(erf_f64(1e-300), 1e-300 * std::f64::consts::FRAC_2_SQRT_PI);
}
