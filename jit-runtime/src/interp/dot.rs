//! `dot_general`: batched products contracting any set of dimension pairs.

use super::scalar::Number;
use super::view::{DimTable, axis_table, filled, gather, strides};
use super::{Fallible, typed};
use crate::array::{Element, HostData, Literal};
use crate::ir::DotDims;

/// The dimensions of an operand that are neither batch nor contracting, in order.
fn free_dims(rank: usize, batch: &[usize], contracting: &[usize]) -> Vec<usize> {
    (0..rank).filter(|d| !batch.contains(d) && !contracting.contains(d)).collect()
}

/// Copies an operand with its dimensions in the order `order`, returning the elements and the product of the
/// sizes of each group of dimensions in `groups` (consecutive runs of `order`).
fn arrange<T: Copy>(x: &[T], dims: &[usize], groups: [&[usize]; 3]) -> Fallible<(Vec<T>, [usize; 3])> {
    let src_strides = strides(dims);
    let mut tables: Vec<DimTable> = Vec::new();
    let mut sizes = [1usize; 3];
    for (g, group) in groups.iter().enumerate() {
        for &d in *group {
            let (n, s) = match (dims.get(d), src_strides.get(d)) {
                (Some(&n), Some(&s)) => (n, s),
                _ => return Err(format!("dimension {d} is out of range for shape {dims:?}")),
            };
            tables.push(axis_table(n, s));
            sizes[g] *= n;
        }
    }
    Ok((gather(x, &tables, None)?, sizes))
}

/// `dot_general`: result dimensions are the batch dimensions, then the left operand's free dimensions, then the
/// right operand's, each in order. Each result element starts at zero and adds the products `lhs * rhs` one at a
/// time in row-major order of the contracting dimensions (taken in the order `lhs_contracting` lists them), in the
/// element type: `f32` accumulates in `f32` without fused multiply-adds, and integers wrap.
pub(super) fn dot_general(dims: &DotDims, lhs: &Literal, rhs: &Literal) -> Fallible<HostData> {
    let (ld, rd) = (lhs.shape().dims(), rhs.shape().dims());
    let lhs_free = free_dims(ld.len(), &dims.lhs_batch, &dims.lhs_contracting);
    let rhs_free = free_dims(rd.len(), &dims.rhs_batch, &dims.rhs_contracting);
    with_numeric_dtype!(lhs.dtype(), T => {
        // lhs as [batch, m, k] and rhs as [batch, k, n], both contiguous.
        let (a, [batch, m, k]) =
            arrange(typed::<T>(lhs)?, ld, [&dims.lhs_batch, &lhs_free, &dims.lhs_contracting])?;
        let (b, [rhs_batch, rhs_k, n]) =
            arrange(typed::<T>(rhs)?, rd, [&dims.rhs_batch, &dims.rhs_contracting, &rhs_free])?;
        if (rhs_batch, rhs_k) != (batch, k) {
            return Err(format!("batch/contracting sizes differ: lhs {batch}x{k}, rhs {rhs_batch}x{rhs_k}"));
        }
        Ok(T::into_data(matmul(&a, &b, batch, m, k, n)?))
    })
}

/// `out[p, i, j] = sum_l a[p, i, l] * b[p, l, j]`, summing `l` in increasing order. The loop order `p, i, l, j`
/// keeps that order for every output element while the innermost loop runs over contiguous rows.
fn matmul<T: Number>(a: &[T], b: &[T], batch: usize, m: usize, k: usize, n: usize) -> Fallible<Vec<T>> {
    let short = || "internal error: operand shorter than its shape".to_string();
    let mut out = filled(T::ZERO, batch * m * n)?;
    if n == 0 {
        return Ok(out);
    }
    for p in 0..batch {
        for i in 0..m {
            let row = (p * m + i) * n;
            let out_row = out.get_mut(row..row + n).ok_or_else(short)?;
            let a_row = a.get((p * m + i) * k..(p * m + i + 1) * k).ok_or_else(short)?;
            for (l, &x) in a_row.iter().enumerate() {
                let b_row = b.get((p * k + l) * n..(p * k + l + 1) * n).ok_or_else(short)?;
                for (o, &y) in out_row.iter_mut().zip(b_row) {
                    *o = o.add(x.mul(y));
                }
            }
        }
    }
    Ok(out)
}
