//! Element indices during lowering: a multi-index, a linear (row-major) index, or both, each computed on demand.

use inkwell::builder::BuilderError;
use inkwell::values::IntValue;

use super::Lowerer;

/// The index of one element of a value of shape `dims`.
#[derive(Clone, Debug)]
pub struct Idx<'ctx> {
    /// The shape indexed.
    pub dims: Vec<usize>,
    multi: Option<Vec<IntValue<'ctx>>>,
    linear: Option<IntValue<'ctx>>,
}

impl<'ctx> Idx<'ctx> {
    /// From per-dimension indices.
    pub fn from_multi(dims: &[usize], multi: Vec<IntValue<'ctx>>) -> Idx<'ctx> {
        Idx { dims: dims.to_vec(), multi: Some(multi), linear: None }
    }

    /// From a row-major linear index.
    pub fn from_linear(dims: &[usize], linear: IntValue<'ctx>) -> Idx<'ctx> {
        Idx { dims: dims.to_vec(), multi: None, linear: Some(linear) }
    }

    /// The same element seen through a reshape to `dims` (the linear index is unchanged).
    pub fn reshaped(&self, dims: &[usize]) -> Option<Idx<'ctx>> {
        self.linear.map(|l| Idx::from_linear(dims, l))
    }

    /// A key identifying this index for memoisation.
    pub fn key(&self) -> Vec<IntValue<'ctx>> {
        match (&self.linear, &self.multi) {
            (Some(l), _) => vec![*l],
            (None, Some(m)) => m.clone(),
            (None, None) => Vec::new(),
        }
    }
}

/// The multi-index of an input element of a reduction over `axes` (sorted): the `reduced` indices at `axes`, the
/// `kept` (output) indices at the other dimensions, each in order.
pub(crate) fn merge_axes<T: Copy>(rank: usize, axes: &[usize], kept: &[T], reduced: &[T]) -> Vec<T> {
    let (mut kept, mut reduced) = (kept.iter(), reduced.iter());
    (0..rank).filter_map(|a| if axes.contains(&a) { reduced.next() } else { kept.next() }.copied()).collect()
}

impl<'a, 'ctx> Lowerer<'a, 'ctx> {
    /// The linear index (computed from the multi-index with constant strides the first time).
    pub fn linear(&self, idx: &mut Idx<'ctx>) -> Result<IntValue<'ctx>, BuilderError> {
        if let Some(l) = idx.linear {
            return Ok(l);
        }
        let multi = idx.multi.clone().unwrap_or_default();
        let mut acc = self.i64(0);
        let mut stride: i64 = 1;
        for (d, &i) in idx.dims.iter().zip(&multi).rev() {
            if *d != 1 {
                let term = if stride == 1 { i } else { self.b.build_int_nsw_mul(i, self.i64(stride), "m")? };
                acc = if acc.is_const() && acc.get_zero_extended_constant() == Some(0) {
                    term
                } else {
                    self.b.build_int_nsw_add(acc, term, "l")?
                };
            }
            stride = stride.saturating_mul(*d as i64);
        }
        idx.linear = Some(acc);
        Ok(acc)
    }

    /// The multi-index (computed from the linear index by division by constants the first time).
    pub fn multi(&self, idx: &mut Idx<'ctx>) -> Result<Vec<IntValue<'ctx>>, BuilderError> {
        if let Some(m) = &idx.multi {
            return Ok(m.clone());
        }
        let mut rest = idx.linear.unwrap_or_else(|| self.i64(0));
        let mut out = vec![self.i64(0); idx.dims.len()];
        for k in (0..idx.dims.len()).rev() {
            let d = idx.dims[k] as i64;
            if d == 1 {
                continue;
            }
            if k == 0 {
                out[k] = rest;
                break;
            }
            out[k] = self.b.build_int_unsigned_rem(rest, self.i64(d), "r")?;
            rest = self.b.build_int_unsigned_div(rest, self.i64(d), "q")?;
        }
        idx.multi = Some(out.clone());
        Ok(out)
    }
}
