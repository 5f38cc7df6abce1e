//! `pow(x, y)` for floats: `exp(y log|x|)` with enough extra precision, then C's special cases. `f32` computes in
//! `f64` (plain `log` and `exp` suffice there); `f64` carries `log|x|` and the product as double-doubles.

use super::exp::{exp, exp_pair};
use super::log::{log, log_pair64};
use super::ops::MathOps;

/// `|x|^y` for the general case: `+inf`/`+0` on overflow/underflow and for the infinite or zero operands, with no
/// special case of `pow` applied yet.
fn magnitude<B: MathOps>(b: &B, ax: B::F, y: B::F) -> Result<B::F, B::Error> {
    if b.is_f64() {
        let (lh, ll) = log_pair64(b, ax)?;
        let zero = b.eqc(ax, 0.0)?;
        let inf = b.eqc(ax, f64::INFINITY)?;
        let lh = b.select_c(zero, f64::NEG_INFINITY, lh)?;
        let lh = b.select_c(inf, f64::INFINITY, lh)?;
        let ll = b.select_c(b.or(zero, inf)?, 0.0, ll)?;
        let ph = b.mul(y, lh)?;
        let pl = b.fma(y, ll, b.fma(y, lh, b.neg(ph)?)?)?;
        exp_pair(b, ph, pl)
    } else {
        let w = b.wide();
        let l = log(&w, b.fpext(ax)?)?;
        let p = w.mul(b.fpext(y)?, l)?;
        b.fptrunc(exp(&w, p)?)
    }
}

/// `x` to the power `y` with C99's special cases: `pow(x, ±0) = 1` and `pow(1, y) = 1` even for NaN; `pow(-1, ±inf)
/// = 1`; a negative finite `x` with a non-integer `y` is NaN; the sign follows an odd integer `y` for negative `x`
/// (`-0` and `-inf` included); zeros and infinities give `±0` or `±inf` by the sign of `y`. Within an ulp (`f32`)
/// or two (`f64`).
pub fn pow<B: MathOps>(b: &B, x: B::F, y: B::F) -> Result<B::F, B::Error> {
    let ax = b.abs(x)?;
    let r = magnitude(b, ax, y)?;
    let integer = b.eq(b.trunc(y)?, y)?;
    let half = b.mulc(y, 0.5)?;
    let odd = b.and(integer, b.ne(b.trunc(half)?, half)?)?;
    let r = b.select(b.and(b.sign_bit(x)?, odd)?, b.neg(r)?, r)?;
    let finite_negative = b.and(b.ltc(x, 0.0)?, b.not(b.is_inf(x)?)?)?;
    let r = b.select_c(b.and(finite_negative, b.not(integer)?)?, f64::NAN, r)?;
    let r = b.select(b.is_nan(y)?, y, r)?;
    let r = b.select(b.is_nan(x)?, x, r)?;
    let r = b.select_c(b.and(b.eqc(x, -1.0)?, b.is_inf(y)?)?, 1.0, r)?;
    b.select_c(b.or(b.eqc(y, 0.0)?, b.eqc(x, 1.0)?)?, 1.0, r)
}
