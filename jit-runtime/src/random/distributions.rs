//! Samplers built on [`random_bits`](super::random_bits), bit-exact with `jax.random` (f32).

use super::keys::random_bits_at;
use crate::array::{DType, Shape};
use crate::error::SourceLocation;
use crate::ir::BinaryOp;
use crate::trace::Tensor;

fn f32_scalar(v: f32, loc: SourceLocation) -> Tensor {
    Tensor::constant_at(crate::array::Literal::scalar(v), loc)
}

/// Uniform floats in `[0, 1)` of `shape` (f32), as `jax.random.uniform(key, shape)`.
///
/// ```
/// use jit_runtime::random;
/// let u = random::uniform(&random::key(0), [4]).to_vec::<f32>()?;
/// assert_eq!(u[0].to_bits(), 0x3f729a4e);
/// # Ok::<(), jit_runtime::Error>(())
/// ```
#[track_caller]
pub fn uniform(key: &Tensor, shape: impl Into<Shape>) -> Tensor {
    uniform_at(key, &shape.into(), 0.0, 1.0, "uniform", SourceLocation::caller())
}

/// Uniform floats in `[lo, hi)` of `shape` (f32), as `jax.random.uniform(key, shape, minval=lo, maxval=hi)`.
#[track_caller]
pub fn uniform_range(key: &Tensor, shape: impl Into<Shape>, lo: f32, hi: f32) -> Tensor {
    uniform_at(key, &shape.into(), lo, hi, "uniform", SourceLocation::caller())
}

fn uniform_at(key: &Tensor, shape: &Shape, lo: f32, hi: f32, op: &str, loc: SourceLocation) -> Tensor {
    let lo = f32_scalar(lo, loc);
    let hi = f32_scalar(hi, loc);
    uniform_tensor_bounds(key, shape, &lo, &hi, op, loc)
}

/// `max(lo, f * (hi - lo) + lo)` with `f` in `[0, 1)` made from the top 23 bits of random bits (JAX's recipe).
fn uniform_tensor_bounds(
    key: &Tensor,
    shape: &Shape,
    lo: &Tensor,
    hi: &Tensor,
    op: &str,
    loc: SourceLocation,
) -> Tensor {
    let bits = random_bits_at(key, shape, op, loc);
    let nine = Tensor::constant_at(crate::array::Literal::scalar(9u32), loc);
    let one_bits = Tensor::constant_at(crate::array::Literal::scalar(0x3F80_0000u32), loc);
    let mantissa = bits.binary(&nine, BinaryOp::ShiftRightLogical, loc).binary(&one_bits, BinaryOp::Or, loc);
    let floats = mantissa.bitcast_at(DType::F32, loc).binary(&f32_scalar(1.0, loc), BinaryOp::Sub, loc);
    // XLA contracts `f * (hi - lo) + lo` into one fused multiply-add (one rounding). The product of two f32 values
    // is exact in f64, so computing the sum in f64 and rounding once to f32 gives the fused result (up to rare
    // double-rounding ties when the sum itself needs more than 53 bits).
    let span = hi.binary(lo, BinaryOp::Sub, loc).convert_at(DType::F64, loc);
    let lo64 = lo.convert_at(DType::F64, loc);
    let scaled = floats
        .convert_at(DType::F64, loc)
        .binary(&span, BinaryOp::Mul, loc)
        .binary(&lo64, BinaryOp::Add, loc)
        .convert_at(DType::F32, loc);
    lo.binary(&scaled, BinaryOp::Max, loc)
}

/// Standard normal floats of `shape` (f32), as `jax.random.normal`: `sqrt(2) * erf_inv(u)` with `u` uniform in
/// `(-1, 1)`. Bit-identical to JAX on CPU: `erf_inv` computes its `log1p` as XLA's CPU backend does.
#[track_caller]
pub fn normal(key: &Tensor, shape: impl Into<Shape>) -> Tensor {
    let loc = SourceLocation::caller();
    let lo = f32::from_bits((-1.0f32).to_bits() - 1); // next_after(-1, 0)
    let u = uniform_at(key, &shape.into(), lo, 1.0, "normal", loc);
    f32_scalar(std::f32::consts::SQRT_2, loc).binary(&u.erf_inv_at(loc), BinaryOp::Mul, loc)
}

/// Normal floats truncated to `[lower, upper]` (f32), as `jax.random.truncated_normal`.
#[track_caller]
pub fn truncated_normal(key: &Tensor, lower: f32, upper: f32, shape: impl Into<Shape>) -> Tensor {
    let loc = SourceLocation::caller();
    let sqrt2 = f32_scalar(std::f32::consts::SQRT_2, loc);
    let a = f32_scalar(lower, loc).binary(&sqrt2, BinaryOp::Div, loc).erf_at(loc);
    let b = f32_scalar(upper, loc).binary(&sqrt2, BinaryOp::Div, loc).erf_at(loc);
    let u = uniform_tensor_bounds(key, &shape.into(), &a, &b, "truncated_normal", loc);
    let out = sqrt2.binary(&u.erf_inv_at(loc), BinaryOp::Mul, loc);
    let lo = f32_scalar(next_up(lower), loc);
    let hi = f32_scalar(next_down(upper), loc);
    out.binary(&lo, BinaryOp::Max, loc).binary(&hi, BinaryOp::Min, loc)
}

/// `true` with probability `p`, of `shape`, as `jax.random.bernoulli`: `uniform(key, shape) < p`.
#[track_caller]
pub fn bernoulli(key: &Tensor, p: f32, shape: impl Into<Shape>) -> Tensor {
    let loc = SourceLocation::caller();
    let u = uniform_at(key, &shape.into(), 0.0, 1.0, "bernoulli", loc);
    u.binary(&f32_scalar(p, loc), BinaryOp::Lt, loc)
}

fn next_up(x: f32) -> f32 {
    if x.is_nan() || x == f32::INFINITY {
        x
    } else if x == 0.0 {
        f32::from_bits(1)
    } else if x > 0.0 {
        f32::from_bits(x.to_bits() + 1)
    } else {
        f32::from_bits(x.to_bits() - 1)
    }
}

fn next_down(x: f32) -> f32 {
    -next_up(-x)
}
