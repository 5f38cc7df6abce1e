//! Static shapes.

use std::fmt;

use smallvec::SmallVec;

/// The dimensions of a shape: up to four inline, so that cloning a shape (every cache key does, once per leaf)
/// does not allocate.
type Dims = SmallVec<[usize; 4]>;

/// A static, row-major shape: the size of each dimension, outermost first. `[]` is a scalar (rank 0).
///
/// ```
/// use jit_runtime::Shape;
/// let s = Shape::from([2, 3]);
/// assert_eq!(s.rank(), 2);
/// assert_eq!(s.numel(), 6);
/// assert_eq!(s.to_string(), "[2,3]");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Shape(Dims);

impl Shape {
    /// The rank-0 shape.
    pub fn scalar() -> Shape {
        Shape(Dims::new())
    }

    /// Builds a shape from its dimension sizes.
    pub fn new(dims: impl Into<Vec<usize>>) -> Shape {
        Shape::from(dims.into())
    }

    /// The dimension sizes.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of elements (1 for a scalar). Saturates instead of overflowing; [`Shape::checked_numel`] tells.
    pub fn numel(&self) -> usize {
        self.checked_numel().unwrap_or(usize::MAX)
    }

    /// Number of elements, or `None` when the product overflows `usize`.
    pub fn checked_numel(&self) -> Option<usize> {
        self.0.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
    }

    /// Row-major strides in elements.
    pub fn strides(&self) -> Vec<usize> {
        let mut strides = vec![1usize; self.0.len()];
        for i in (0..self.0.len().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1].saturating_mul(self.0[i + 1]);
        }
        strides
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{d}")?;
        }
        f.write_str("]")
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<Vec<usize>> for Shape {
    fn from(v: Vec<usize>) -> Self {
        Shape::from(v.as_slice())
    }
}

impl From<&[usize]> for Shape {
    fn from(v: &[usize]) -> Self {
        Shape(Dims::from_slice(v))
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(v: [usize; N]) -> Self {
        Shape(Dims::from_slice(&v))
    }
}

impl From<&Shape> for Shape {
    fn from(v: &Shape) -> Self {
        v.clone()
    }
}

impl std::ops::Deref for Shape {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        &self.0
    }
}
