//! [`Axes`]: which axes a reduction runs over, numpy style (negative counts from the end).

/// Axes of a reduction: all of them, or a list where `-1` is the last axis.
///
/// Converts from an `i32` (`x.sum(-1)`), an array or slice of `i32` (`x.sum([0, 1])`), or [`Axes::All`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Axes {
    /// Every axis.
    All,
    /// These axes (negative counts from the end).
    Some(Vec<i32>),
}

impl Axes {
    /// The axes as sorted, distinct, non-negative indices for a tensor of `rank`, or a message when one is out of
    /// range or repeated.
    pub fn resolve(&self, rank: usize) -> Result<Vec<usize>, String> {
        match self {
            Axes::All => Ok((0..rank).collect()),
            Axes::Some(list) => {
                let mut out = Vec::with_capacity(list.len());
                for &a in list {
                    let r = normalize_axis(a, rank)?;
                    if out.contains(&r) {
                        return Err(format!("axis {a} is repeated in {list:?}"));
                    }
                    out.push(r);
                }
                out.sort_unstable();
                Ok(out)
            }
        }
    }
}

/// `axis` (negative counts from the end) as an index below `rank`, or a message.
pub fn normalize_axis(axis: i32, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    let a = axis as i64;
    if a < -r || a >= r {
        Err(format!("axis {axis} is out of range for rank {rank}"))
    } else {
        Ok(if a < 0 { (a + r) as usize } else { a as usize })
    }
}

impl From<i32> for Axes {
    fn from(a: i32) -> Axes {
        Axes::Some(vec![a])
    }
}

impl<const N: usize> From<[i32; N]> for Axes {
    fn from(a: [i32; N]) -> Axes {
        Axes::Some(a.to_vec())
    }
}

impl From<&[i32]> for Axes {
    fn from(a: &[i32]) -> Axes {
        Axes::Some(a.to_vec())
    }
}

impl From<Vec<i32>> for Axes {
    fn from(a: Vec<i32>) -> Axes {
        Axes::Some(a)
    }
}
