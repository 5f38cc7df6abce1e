//! Ops that create or move elements without computing on them: iota, broadcast_in_dim, transpose, slice,
//! concatenate, pad and rev (reshape needs no code: the row-major data is unchanged).

use super::scalar::Scalar;
use super::view::{DimTable, axis_table, gather, repeat_table, strides, table, with_capacity};
use super::{Fallible, typed};
use crate::array::{DType, Element, HostData, Literal, Shape};

fn dim(dims: &[usize], i: usize, what: &str) -> Fallible<usize> {
    dims.get(i).copied().ok_or_else(|| format!("{what} {i} is out of range for shape {dims:?}"))
}

/// Moves the elements of `x` by `tables` (see [`gather`]), whatever its dtype.
fn gather_any(x: &Literal, tables: &[DimTable]) -> Fallible<HostData> {
    with_dtype!(x.dtype(), T => Ok(T::into_data(gather(typed::<T>(x)?, tables, None)?)))
}

/// `iota`: the index along `dimension`, converted to `dtype`.
pub(super) fn iota(dtype: DType, shape: &Shape, dimension: usize) -> Fallible<HostData> {
    let n = dim(shape, dimension, "dimension")?;
    let inner: usize = shape.get(dimension + 1..).map_or(1, |d| d.iter().product());
    let count = shape.checked_numel().ok_or("shape overflows")?;
    with_dtype!(dtype, T => {
        let mut out: Vec<T> = with_capacity(count)?;
        // Here n > 0 and inner > 0 whenever count > 0.
        out.extend((0..count).map(|flat| T::from_i64((flat / inner % n) as i64)));
        Ok(T::into_data(out))
    })
}

/// `broadcast_in_dim`: operand dimension `i` becomes result dimension `broadcast_dimensions[i]`; an operand
/// dimension of size 1 repeats along the result's, and result dimensions that no operand dimension maps to repeat.
pub(super) fn broadcast_in_dim(x: &Literal, shape: &Shape, broadcast_dimensions: &[usize]) -> Fallible<HostData> {
    let src = x.shape().dims();
    let src_strides = strides(src);
    let mut tables: Vec<DimTable> = shape.iter().map(|&n| repeat_table(n)).collect();
    for (i, &d) in broadcast_dimensions.iter().enumerate() {
        let size = dim(src, i, "operand dimension")?;
        let target = dim(shape, d, "broadcast dimension")?;
        if size == target {
            tables[d] = axis_table(target, src_strides[i]);
        } else if size != 1 {
            return Err(format!("operand dimension {i} of size {size} does not broadcast to {target}"));
        }
    }
    gather_any(x, &tables)
}

/// `transpose`: result dimension `i` is operand dimension `permutation[i]`.
pub(super) fn transpose(x: &Literal, permutation: &[usize]) -> Fallible<HostData> {
    let src = x.shape().dims();
    let src_strides = strides(src);
    let tables = permutation
        .iter()
        .map(|&p| Ok(axis_table(dim(src, p, "permutation entry")?, src_strides[p])))
        .collect::<Fallible<Vec<_>>>()?;
    gather_any(x, &tables)
}

/// `slice`: result index `j` along dimension `i` reads operand index `start[i] + j * strides[i]`.
pub(super) fn slice(x: &Literal, start: &[usize], step: &[usize], out: &Shape) -> Fallible<HostData> {
    let src_strides = strides(x.shape());
    let tables = (0..out.rank())
        .map(|i| {
            let (first, step, stride) = match (start.get(i), step.get(i), src_strides.get(i)) {
                (Some(&a), Some(&b), Some(&c)) => (a, b, c),
                _ => return Err(format!("slice attributes do not cover dimension {i}")),
            };
            Ok(table(out[i], move |j| Some((first + j * step) * stride)))
        })
        .collect::<Fallible<Vec<DimTable>>>()?;
    gather_any(x, &tables)
}

/// `rev`: reverses the listed dimensions.
pub(super) fn rev(x: &Literal, dimensions: &[usize]) -> Fallible<HostData> {
    let src = x.shape().dims();
    let tables: Vec<DimTable> = strides(src)
        .into_iter()
        .zip(src)
        .enumerate()
        .map(|(i, (stride, &n))| {
            if dimensions.contains(&i) { table(n, move |j| Some((n - 1 - j) * stride)) } else { axis_table(n, stride) }
        })
        .collect();
    gather_any(x, &tables)
}

/// `pad` (XLA semantics): `interior` copies of the value go between neighbouring elements, then `low`/`high` at
/// the ends, where a negative amount removes elements instead. Result index `j` along dimension `i` reads operand
/// index `(j - low) / (interior + 1)` when that divides exactly and lands inside the operand, else the value.
pub(super) fn pad(x: &Literal, value: &Literal, low: &[i64], interior: &[usize], out: &Shape) -> Fallible<HostData> {
    let src = x.shape().dims();
    let src_strides = strides(src);
    let tables = (0..out.rank())
        .map(|i| {
            let (low, period, size, stride) = match (low.get(i), interior.get(i), src.get(i), src_strides.get(i)) {
                (Some(&l), Some(&p), Some(&s), Some(&t)) => (i128::from(l), p as i128 + 1, s as i128, t),
                _ => return Err(format!("pad attributes do not cover dimension {i}")),
            };
            Ok(table(out[i], move |j| {
                let k = j as i128 - low;
                (k >= 0 && k % period == 0 && k / period < size).then(|| (k / period) as usize * stride)
            }))
        })
        .collect::<Fallible<Vec<DimTable>>>()?;
    with_dtype!(x.dtype(), T => {
        let fill = typed::<T>(value)?.first().copied();
        if fill.is_none() {
            return Err("the padding value has no element".to_string());
        }
        Ok(T::into_data(gather(typed::<T>(x)?, &tables, fill)?))
    })
}

/// `concatenate` along `dimension`: for each index of the dimensions before it, the operands' blocks in order.
pub(super) fn concatenate(xs: &[&Literal], dimension: usize) -> Fallible<HostData> {
    let first = xs.first().ok_or_else(|| "needs at least one operand".to_string())?;
    let mut outer: usize = first.shape().get(..dimension).ok_or("dimension out of range")?.iter().product();
    with_dtype!(first.dtype(), T => {
        let parts = xs
            .iter()
            .map(|x| {
                let block: usize = x.shape().get(dimension..).ok_or("dimension out of range")?.iter().product();
                Ok((typed::<T>(x)?, block))
            })
            .collect::<Fallible<Vec<(&[T], usize)>>>()?;
        if parts.iter().all(|&(_, block)| block == 0) {
            outer = 0; // nothing to copy, however many blocks
        }
        let mut out: Vec<T> = with_capacity(parts.iter().map(|(s, _)| s.len()).sum())?;
        for o in 0..outer {
            for &(src, block) in &parts {
                let piece = src.get(o * block..(o + 1) * block).ok_or("operand shorter than its shape")?;
                out.extend_from_slice(piece);
            }
        }
        Ok(T::into_data(out))
    })
}
