//! Elementwise ops: unary, binary (arithmetic and comparisons), integer_pow, select, convert, bitcast_convert and
//! threefry2x32. The per-dtype semantics are the tables in `scalar.rs`.

use super::scalar::{self, Number, Scalar};
use super::{Fallible, typed};
use crate::array::{DType, Element, HostData, Literal};
use crate::ir::{BinaryOp, UnaryOp};
use crate::random::threefry2x32;

fn equal_lengths(lengths: &[usize]) -> Fallible<usize> {
    match lengths {
        [first, rest @ ..] if rest.iter().all(|l| l == first) => Ok(*first),
        _ => Err(format!("operands have different element counts {lengths:?}")),
    }
}

fn unsupported(op: &str, dtype: DType) -> String {
    format!("{op} does not accept dtype {dtype}")
}

/// A unary op.
pub(super) fn unary(op: UnaryOp, x: &Literal) -> Fallible<HostData> {
    with_dtype!(x.dtype(), T => {
        let f = T::unary_fn(op).ok_or_else(|| unsupported(op.name(), x.dtype()))?;
        Ok(T::into_data(typed::<T>(x)?.iter().map(|&v| f(v)).collect()))
    })
}

/// A binary op; comparisons give bool.
pub(super) fn binary(op: BinaryOp, x: &Literal, y: &Literal) -> Fallible<HostData> {
    if x.dtype() != y.dtype() {
        return Err(format!("operand dtypes differ: {} and {}", x.dtype(), y.dtype()));
    }
    with_dtype!(x.dtype(), T => {
        let (a, b) = (typed::<T>(x)?, typed::<T>(y)?);
        equal_lengths(&[a.len(), b.len()])?;
        if op.is_comparison() {
            return compare(op, a, b).map(HostData::Bool);
        }
        let f = T::binary_fn(op).ok_or_else(|| unsupported(op.name(), x.dtype()))?;
        Ok(T::into_data(a.iter().zip(b).map(|(&u, &v)| f(u, v)).collect()))
    })
}

/// A comparison by `PartialOrd`: IEEE for floats (every comparison with NaN is false but `ne`), `false < true`.
fn compare<T: PartialOrd>(op: BinaryOp, a: &[T], b: &[T]) -> Fallible<Vec<bool>> {
    let f: fn(&T, &T) -> bool = match op {
        BinaryOp::Eq => |u, v| u == v,
        BinaryOp::Ne => |u, v| u != v,
        BinaryOp::Lt => |u, v| u < v,
        BinaryOp::Le => |u, v| u <= v,
        BinaryOp::Gt => |u, v| u > v,
        BinaryOp::Ge => |u, v| u >= v,
        _ => return Err(format!("{} is not a comparison", op.name())),
    };
    Ok(a.iter().zip(b).map(|(u, v)| f(u, v)).collect())
}

/// `integer_pow`: `x ^ exponent` by squaring (floats: `1 / x^|n|` for negative `n`; integers wrap, and negative
/// exponents follow `pow`).
pub(super) fn integer_pow(x: &Literal, exponent: i32) -> Fallible<HostData> {
    with_numeric_dtype!(x.dtype(), T => {
        Ok(T::into_data(typed::<T>(x)?.iter().map(|&v| Number::integer_pow(v, exponent)).collect()))
    })
}

/// `select(pred, on_true, on_false)`, elementwise.
pub(super) fn select(pred: &Literal, on_true: &Literal, on_false: &Literal) -> Fallible<HostData> {
    let p = typed::<bool>(pred)?;
    if on_true.dtype() != on_false.dtype() {
        return Err(format!("branch dtypes differ: {} and {}", on_true.dtype(), on_false.dtype()));
    }
    with_dtype!(on_true.dtype(), T => {
        let (t, f) = (typed::<T>(on_true)?, typed::<T>(on_false)?);
        equal_lengths(&[p.len(), t.len(), f.len()])?;
        Ok(T::into_data(p.iter().zip(t.iter().zip(f)).map(|(&c, (&u, &v))| if c { u } else { v }).collect()))
    })
}

/// `convert` to `dtype` (see [`Scalar`] for the rules).
pub(super) fn convert(x: &Literal, dtype: DType) -> Fallible<HostData> {
    with_dtype!(x.dtype(), T => Ok(scalar::convert(typed::<T>(x)?, dtype)))
}

/// `bitcast_convert` to `dtype`.
pub(super) fn bitcast_convert(x: &Literal, dtype: DType) -> Fallible<HostData> {
    scalar::bitcast(x.data(), dtype)
}

/// `threefry2x32(k0, k1, x0, x1)`, elementwise; two results.
pub(super) fn threefry(k0: &Literal, k1: &Literal, x0: &Literal, x1: &Literal) -> Fallible<[HostData; 2]> {
    let (k0, k1, x0, x1) = (typed::<u32>(k0)?, typed::<u32>(k1)?, typed::<u32>(x0)?, typed::<u32>(x1)?);
    let n = equal_lengths(&[k0.len(), k1.len(), x0.len(), x1.len()])?;
    let (mut y0, mut y1) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let (a, b) = threefry2x32(k0[i], k1[i], x0[i], x1[i]);
        y0.push(a);
        y1.push(b);
    }
    Ok([HostData::U32(y0), HostData::U32(y1)])
}
