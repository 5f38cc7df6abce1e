//! Transcendental functions written once, evaluated the same everywhere: `exp`, `expm1`, `log`, `log1p`, `tanh`,
//! `logistic`, `erf`, `erfc`, `erf_inv`, `sin`, `cos`, `pow`, `atan2` and `round` for `f32` and `f64`.
//!
//! Each function is an algorithm (range reduction, polynomial with explicit fused multiply-adds, special cases by
//! selects) over the [`MathOps`] primitives, in [`kernel`]. The scalar functions here ([`exp_f32`], ...) run it on
//! Rust floats ([`ScalarF32`], [`ScalarF64`]); the LLVM backend runs the very same text with an implementation of
//! [`MathOps`] that emits instructions on scalars or vectors. Since every primitive is a single IEEE operation and
//! the order is fixed, the interpreter and the compiled code produce the same bits, NaN payloads included (a NaN
//! input is returned as it is, a NaN made from non-NaN inputs is the default quiet NaN).
//!
//! No branch depends on the value: every path is computed and the result selected, so that the emitted code is
//! straight-line and vectorises. Accuracy (measured, see `llvm-backend/src/math/README.md`): `f32` within 1.6 ulp
//! (`sin`/`cos` for `|x| <= 1e5`; 2 ulp up to `1e6`), `f64` within 2 ulp (3 from glibc's own, inexact, `tanh`);
//! `erf_inv` is Giles' approximation as XLA computes it.
//!
//! ```
//! use jit_runtime::math;
//! assert_eq!(math::exp_f32(0.0), 1.0);
//! assert_eq!(math::log1p_f64(-0.0).to_bits(), (-0.0f64).to_bits());
//! assert!((math::sin_f64(1.0) - 1f64.sin()).abs() <= f64::EPSILON);
//! assert_eq!(math::round_f32(-2.5), -3.0);
//! ```

/// `[f64; N]` of `f32` literals, each parsed as an `f32` (no double rounding through `f64`).
macro_rules! f32_consts {
    ($($x:expr),* $(,)?) => {
        [$({
            let v: f32 = $x;
            v as f64
        }),*]
    };
}

mod erf;
mod exp;
mod hyperbolic;
mod log;
mod ops;
mod pow;
mod round;
mod scalar;
mod trig;

pub use ops::MathOps;
pub use scalar::{ScalarF32, ScalarF64};

/// The algorithms, generic over [`MathOps`]: what the scalar functions of this module and the LLVM backend's
/// emitters both run.
pub mod kernel {
    pub use super::erf::{erf, erf_inv, erfc};
    pub use super::exp::{exp, expm1};
    pub use super::hyperbolic::{logistic, tanh};
    pub use super::log::{log, log1p, log1p_xla32};
    pub use super::pow::pow;
    pub use super::round::round;
    pub use super::trig::{atan2, cos, sin};
}

/// `y`, or `x` itself where `x` is NaN.
fn passthrough_nan<B: MathOps>(b: &B, x: B::F, y: B::F) -> Result<B::F, B::Error> {
    b.select(b.is_nan(x)?, x, y)
}

/// `y`, or `x` itself where `x` is NaN or `±0` (for odd functions with `f(x) ~ x` near 0).
fn passthrough_zero_nan<B: MathOps>(b: &B, x: B::F, y: B::F) -> Result<B::F, B::Error> {
    let keep = b.or(b.is_nan(x)?, b.eqc(x, 0.0)?)?;
    b.select(keep, x, y)
}

macro_rules! unary_fns {
    ($($(#[$doc:meta])* $kernel:ident => $f32:ident, $f64:ident;)*) => {$(
        $(#[$doc])*
        pub fn $f32(x: f32) -> f32 {
            scalar::value(kernel::$kernel(&ScalarF32, x))
        }
        $(#[$doc])*
        pub fn $f64(x: f64) -> f64 {
            scalar::value(kernel::$kernel(&ScalarF64, x))
        }
    )*};
}

unary_fns! {
    /// `e^x` (see [`kernel::exp`]).
    exp => exp_f32, exp_f64;
    /// `e^x - 1`, accurate near 0 (see [`kernel::expm1`]).
    expm1 => expm1_f32, expm1_f64;
    /// The natural logarithm (see [`kernel::log`]).
    log => log_f32, log_f64;
    /// `log(1 + x)`, accurate near 0 (see [`kernel::log1p`]).
    log1p => log1p_f32, log1p_f64;
    /// The hyperbolic tangent (see [`kernel::tanh`]).
    tanh => tanh_f32, tanh_f64;
    /// The logistic sigmoid `1 / (1 + e^-x)`, stable for large `|x|` (see [`kernel::logistic`]).
    logistic => logistic_f32, logistic_f64;
    /// The error function (see [`kernel::erf`]).
    erf => erf_f32, erf_f64;
    /// The complementary error function `1 - erf(x)`, accurate where `erf` is close to 1 (see [`kernel::erfc`]).
    erfc => erfc_f32, erfc_f64;
    /// The inverse error function, XLA's (see [`kernel::erf_inv`]).
    erf_inv => erf_inv_f32, erf_inv_f64;
    /// The sine (see [`kernel::sin`] for the domain of the stated accuracy).
    sin => sin_f32, sin_f64;
    /// The cosine (see [`kernel::cos`]).
    cos => cos_f32, cos_f64;
    /// Rounding half away from zero (see [`kernel::round`]).
    round => round_f32, round_f64;
}

/// `x^y` with C's special cases (see [`kernel::pow`]).
pub fn pow_f32(x: f32, y: f32) -> f32 {
    scalar::value(kernel::pow(&ScalarF32, x, y))
}

/// `x^y` with C's special cases (see [`kernel::pow`]).
pub fn pow_f64(x: f64, y: f64) -> f64 {
    scalar::value(kernel::pow(&ScalarF64, x, y))
}

/// The angle of the point `(x, y)`, C's `atan2(y, x)` (see [`kernel::atan2`]).
pub fn atan2_f32(y: f32, x: f32) -> f32 {
    scalar::value(kernel::atan2(&ScalarF32, y, x))
}

/// The angle of the point `(x, y)`, C's `atan2(y, x)` (see [`kernel::atan2`]).
pub fn atan2_f64(y: f64, x: f64) -> f64 {
    scalar::value(kernel::atan2(&ScalarF64, y, x))
}
