//! Rounding half away from zero (`lax.round`'s default), written with `trunc`, a comparison and a select: LLVM's
//! `llvm.round` may become a library call on vectors.

use super::ops::MathOps;
use super::passthrough_nan;

/// `x` rounded to the nearest integer, ties away from zero; the sign of zero is kept (`round(-0.4) = -0`),
/// infinities stay.
pub fn round<B: MathOps>(b: &B, x: B::F) -> Result<B::F, B::Error> {
    let t = b.trunc(x)?;
    let d = b.abs(b.sub(x, t)?)?;
    let away = b.add(t, b.copysign(b.c(1.0)?, x)?)?;
    let y = b.select(b.ge(d, b.c(0.5)?)?, away, t)?;
    passthrough_nan(b, x, y)
}
