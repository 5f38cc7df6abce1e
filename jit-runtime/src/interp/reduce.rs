//! Reductions: `reduce_{sum,prod,max,min}` over a set of axes and `argmax`/`argmin` along one axis.

use super::scalar::{Scalar, convert};
use super::view::{DimTable, axis_table, filled, gather, strides};
use super::{Fallible, typed};
use crate::array::{DType, Element, HostData, Literal};
use crate::ir::{ArgReduceOp, ReduceOp};

/// The elements of `x` reordered so that the kept dimensions (in order) come first and `moved` dimensions (in the
/// given order) last; returns them with the number of elements per kept index.
fn move_to_back<T: Copy>(x: &[T], dims: &[usize], moved: &[usize]) -> Fallible<(Vec<T>, usize)> {
    let src_strides = strides(dims);
    let table = |d: usize| -> Fallible<DimTable> {
        match (dims.get(d), src_strides.get(d)) {
            (Some(&n), Some(&s)) => Ok(axis_table(n, s)),
            _ => Err(format!("axis {d} is out of range for shape {dims:?}")),
        }
    };
    let tables = (0..dims.len())
        .filter(|d| !moved.contains(d))
        .chain(moved.iter().copied())
        .map(table)
        .collect::<Fallible<Vec<_>>>()?;
    let inner = moved.iter().map(|&d| dims.get(d).copied().unwrap_or(0)).product();
    Ok((gather(x, &tables, None)?, inner))
}

/// `reduce_*` over `axes`: each result element folds its reduced elements into the op's identity one by one, in
/// row-major order of the reduced dimensions, in the element type (as XLA's reduce loop with its init value). An
/// empty reduction gives the identity: 0, 1, -inf / the type's minimum / false, +inf / the type's maximum / true.
pub(super) fn reduce(x: &Literal, op: ReduceOp, axes: &[usize]) -> Fallible<HostData> {
    let mut axes = axes.to_vec();
    axes.sort_unstable();
    let dims = x.shape().dims();
    let out_count: usize = (0..dims.len()).filter(|d| !axes.contains(d)).map(|d| dims[d]).product();
    with_dtype!(x.dtype(), T => {
        let (identity, combine) = T::reducer(op).ok_or_else(|| format!("does not accept dtype {}", x.dtype()))?;
        let (elements, inner) = move_to_back(typed::<T>(x)?, dims, &axes)?;
        let out: Vec<T> = if inner == 0 {
            filled(identity, out_count)?
        } else {
            elements.chunks_exact(inner).map(|c| c.iter().fold(identity, |acc, &v| combine(acc, v))).collect()
        };
        Ok(T::into_data(out))
    })
}

/// The index of the first extremum in `values`; a NaN counts as the extremum, so the first NaN wins.
fn arg_extremum<T: Scalar>(values: &[T], op: ArgReduceOp) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate().skip(1) {
        let Some(&current) = values.get(best) else { break };
        if current.is_nan() {
            break;
        }
        let better = match op {
            ArgReduceOp::ArgMax => v > current,
            ArgReduceOp::ArgMin => v < current,
        };
        if v.is_nan() || better {
            best = i;
        }
    }
    best
}

/// `argmax`/`argmin` along `axis`, as `index_dtype`.
pub(super) fn arg_reduce(x: &Literal, op: ArgReduceOp, axis: usize, index_dtype: DType) -> Fallible<HostData> {
    let dims = x.shape().dims();
    with_dtype!(x.dtype(), T => {
        let (elements, inner) = move_to_back(typed::<T>(x)?, dims, &[axis])?;
        if inner == 0 {
            return Err(format!("{} of an empty axis", op.name()));
        }
        let indices: Vec<i64> = elements.chunks_exact(inner).map(|c| arg_extremum(c, op) as i64).collect();
        Ok(convert(&indices, index_dtype))
    })
}
