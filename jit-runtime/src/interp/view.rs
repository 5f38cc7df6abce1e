//! Index arithmetic shared by the data-movement ops: every output element of a broadcast, transpose, slice,
//! reverse or pad (and the permuted copies that reductions and `dot_general` work on) is found by adding, over the
//! output dimensions, the source offset that the output index along that dimension contributes.

use super::Fallible;

/// For one output dimension: its size, and the source offset contributed by each index along it (`None` marks
/// padding). Computed on the fly, so only the output takes memory.
pub(super) struct DimTable {
    len: usize,
    offset: Box<dyn Fn(usize) -> Option<usize>>,
}

/// An empty vector with room for `n` elements, or a message when that much memory cannot be had (a shape can pass
/// type inference and still be far too large to hold).
pub(super) fn with_capacity<T>(n: usize) -> Fallible<Vec<T>> {
    let bytes = n.saturating_mul(size_of::<T>());
    crate::array::memory::check_host_allocation(bytes, || format!("{n} elements"))?;
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| format!("cannot allocate {n} elements"))?;
    Ok(v)
}

/// `n` copies of `value`, or a message when they do not fit in memory.
pub(super) fn filled<T: Clone>(value: T, n: usize) -> Fallible<Vec<T>> {
    let mut v = with_capacity(n)?;
    v.resize(n, value);
    Ok(v)
}

/// The table of a dimension of size `n` whose index `j` contributes `offset(j)`.
pub(super) fn table(n: usize, offset: impl Fn(usize) -> Option<usize> + 'static) -> DimTable {
    DimTable { len: n, offset: Box::new(offset) }
}

/// The table of an operand dimension of size `n` and element stride `stride`, walked forwards.
pub(super) fn axis_table(n: usize, stride: usize) -> DimTable {
    table(n, move |j| Some(j * stride))
}

/// `n` copies of offset 0: a dimension that repeats the same source elements (broadcasting).
pub(super) fn repeat_table(n: usize) -> DimTable {
    table(n, |_| Some(0))
}

/// Row-major strides (in elements) of an operand of these dimension sizes.
pub(super) fn strides(dims: &[usize]) -> Vec<usize> {
    let mut strides = vec![1usize; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1].saturating_mul(dims[i + 1]);
    }
    strides
}

/// The elements of `src` at the offsets that `tables` gives for every output index, in row-major order of the
/// output; a padding position takes `fill` (an error when there is none). A rank-0 output (no tables) is `src[0]`.
pub(super) fn gather<T: Copy>(src: &[T], tables: &[DimTable], fill: Option<T>) -> Fallible<Vec<T>> {
    let count = tables
        .iter()
        .try_fold(1usize, |acc, t| acc.checked_mul(t.len))
        .ok_or_else(|| "internal error: output element count overflows".to_string())?;
    let mut out = with_capacity(count)?;
    if count == 0 {
        return Ok(out);
    }
    let mut index = vec![0usize; tables.len()];
    loop {
        let mut offset = Some(0usize);
        for (table, &i) in tables.iter().zip(&index) {
            offset = match (offset, (table.offset)(i)) {
                (Some(o), Some(d)) => {
                    Some(o.checked_add(d).ok_or_else(|| "internal error: offset overflows".to_string())?)
                }
                _ => None,
            };
        }
        let value = match offset {
            Some(o) => src.get(o).copied().ok_or_else(|| {
                format!("internal error: source offset {o} is out of bounds for {} elements", src.len())
            })?,
            None => fill.ok_or_else(|| "internal error: a padding position without a padding value".to_string())?,
        };
        out.push(value);
        // Advance the row-major odometer; done when it wraps around entirely.
        let mut k = tables.len();
        loop {
            if k == 0 {
                return Ok(out);
            }
            k -= 1;
            index[k] += 1;
            if index[k] < tables[k].len {
                break;
            }
            index[k] = 0;
        }
    }
}
