//! Host data: a typed vector ([`HostData`]) and a shaped value ([`Literal`]).

use super::pool::{BufferPool, MIN_POOLED_BYTES};
use super::{DType, Element, Shape};
use crate::error::{Error, Result};

/// A typed vector of elements on the host, row-major.
#[derive(Clone, Debug)]
pub enum HostData {
    /// `f32` elements.
    F32(Vec<f32>),
    /// `f64` elements.
    F64(Vec<f64>),
    /// `i32` elements.
    I32(Vec<i32>),
    /// `u32` elements.
    U32(Vec<u32>),
    /// `i64` elements.
    I64(Vec<i64>),
    /// `bool` elements.
    Bool(Vec<bool>),
}

/// Runs `$body` with `$v` bound to the inner vector of a [`HostData`], whatever its dtype.
#[macro_export]
#[doc(hidden)]
macro_rules! with_host_data {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            $crate::array::HostData::F32($v) => $body,
            $crate::array::HostData::F64($v) => $body,
            $crate::array::HostData::I32($v) => $body,
            $crate::array::HostData::U32($v) => $body,
            $crate::array::HostData::I64($v) => $body,
            $crate::array::HostData::Bool($v) => $body,
        }
    };
}

impl HostData {
    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        match self {
            HostData::F32(_) => DType::F32,
            HostData::F64(_) => DType::F64,
            HostData::I32(_) => DType::I32,
            HostData::U32(_) => DType::U32,
            HostData::I64(_) => DType::I64,
            HostData::Bool(_) => DType::Bool,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        with_host_data!(self, v => v.len())
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `n` zeros (false for bool) of `dtype`.
    pub fn zeros(dtype: DType, n: usize) -> HostData {
        match dtype {
            DType::F32 => HostData::F32(vec![0.0; n]),
            DType::F64 => HostData::F64(vec![0.0; n]),
            DType::I32 => HostData::I32(vec![0; n]),
            DType::U32 => HostData::U32(vec![0; n]),
            DType::I64 => HostData::I64(vec![0; n]),
            DType::Bool => HostData::Bool(vec![false; n]),
        }
    }

    /// `n` elements of `dtype` for code that overwrites every one of them: a large buffer comes from the
    /// [`BufferPool`] when it holds one of this byte size (its elements are then whatever its previous owner left,
    /// valid values of the dtype), otherwise it is fresh and zeroed.
    pub fn for_overwrite(dtype: DType, n: usize) -> HostData {
        let pool = BufferPool::global();
        match dtype {
            DType::F32 => HostData::F32(pool.take_or_zeroed(n)),
            DType::F64 => HostData::F64(pool.take_or_zeroed(n)),
            DType::I32 => HostData::I32(pool.take_or_zeroed(n)),
            DType::U32 => HostData::U32(pool.take_or_zeroed(n)),
            DType::I64 => HostData::I64(pool.take_or_zeroed(n)),
            DType::Bool => HostData::Bool(pool.take_or_zeroed(n)),
        }
    }

    /// A copy whose buffer comes from the [`BufferPool`] when it is large (see [`HostData::for_overwrite`]).
    pub fn pooled_copy(&self) -> HostData {
        let mut out = HostData::for_overwrite(self.dtype(), self.len());
        match (&mut out, self) {
            (HostData::F32(d), HostData::F32(s)) => d.copy_from_slice(s),
            (HostData::F64(d), HostData::F64(s)) => d.copy_from_slice(s),
            (HostData::I32(d), HostData::I32(s)) => d.copy_from_slice(s),
            (HostData::U32(d), HostData::U32(s)) => d.copy_from_slice(s),
            (HostData::I64(d), HostData::I64(s)) => d.copy_from_slice(s),
            (HostData::Bool(d), HostData::Bool(s)) => d.copy_from_slice(s),
            _ => return self.clone(),
        }
        out
    }

    /// Frees the buffer, or hands it to the [`BufferPool`] when it is large enough to be worth keeping.
    pub fn recycle(self) {
        let pool = BufferPool::global();
        with_host_data!(self, v => pool.give(v))
    }

    /// Size of the allocation in bytes (capacity, not length).
    fn allocated_bytes(&self) -> usize {
        with_host_data!(self, v => v.capacity()) * self.dtype().size_in_bytes()
    }

    /// `n` copies of `value` converted to `dtype` (as `Convert` would: floats truncate toward zero into integers,
    /// saturating; nonzero is `true`).
    pub fn full(dtype: DType, n: usize, value: f64) -> HostData {
        match dtype {
            DType::F32 => HostData::F32(vec![value as f32; n]),
            DType::F64 => HostData::F64(vec![value; n]),
            DType::I32 => HostData::I32(vec![value as i32; n]),
            DType::U32 => HostData::U32(vec![value as u32; n]),
            DType::I64 => HostData::I64(vec![value as i64; n]),
            DType::Bool => HostData::Bool(vec![value != 0.0; n]),
        }
    }

    /// Element `i` as `f64` (bool as 0/1), for printing and tests.
    pub fn get_f64(&self, i: usize) -> Option<f64> {
        Some(match self {
            HostData::F32(v) => *v.get(i)? as f64,
            HostData::F64(v) => *v.get(i)?,
            HostData::I32(v) => *v.get(i)? as f64,
            HostData::U32(v) => *v.get(i)? as f64,
            HostData::I64(v) => *v.get(i)? as f64,
            HostData::Bool(v) => *v.get(i)? as u8 as f64,
        })
    }

    /// Address of the first element (for compiled code reading the buffer).
    pub fn as_ptr(&self) -> *const u8 {
        with_host_data!(self, v => v.as_ptr() as *const u8)
    }

    /// Mutable address of the first element (for compiled code writing the buffer).
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        with_host_data!(self, v => v.as_mut_ptr() as *mut u8)
    }

    /// Bitwise equality: floats compare by bit pattern, so NaN equals the same NaN (what a cache key or a constant
    /// needs).
    pub fn bit_eq(&self, other: &HostData) -> bool {
        match (self, other) {
            (HostData::F32(a), HostData::F32(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
            }
            (HostData::F64(a), HostData::F64(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
            }
            (HostData::I32(a), HostData::I32(b)) => a == b,
            (HostData::U32(a), HostData::U32(b)) => a == b,
            (HostData::I64(a), HostData::I64(b)) => a == b,
            (HostData::Bool(a), HostData::Bool(b)) => a == b,
            _ => false,
        }
    }
}

/// A shaped host value: what a constant in the IR holds and what the interpreter computes with.
///
/// ```
/// use jit_runtime::{Literal, Shape};
/// let l = Literal::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]).unwrap();
/// assert_eq!(l.shape(), &Shape::from([2, 2]));
/// assert_eq!(l.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0, 4.0]);
/// ```
#[derive(Clone, Debug)]
pub struct Literal {
    shape: Shape,
    data: HostData,
}

/// A large buffer goes back to the [`BufferPool`] instead of the allocator.
impl Drop for Literal {
    fn drop(&mut self) {
        if self.data.allocated_bytes() >= MIN_POOLED_BYTES {
            std::mem::replace(&mut self.data, HostData::F32(Vec::new())).recycle();
        }
    }
}

impl PartialEq for Literal {
    fn eq(&self, other: &Self) -> bool {
        self.shape == other.shape && self.data.bit_eq(&other.data)
    }
}

impl Literal {
    /// Pairs data with a shape; the element count must match.
    pub fn new(data: HostData, shape: impl Into<Shape>) -> Result<Literal> {
        let shape = shape.into();
        match shape.checked_numel() {
            Some(n) if n == data.len() => Ok(Literal { shape, data }),
            _ => Err(Error::invalid_argument(format!(
                "{} elements do not fill shape {shape} ({} elements)",
                data.len(),
                shape.checked_numel().map_or_else(|| "overflowing".to_string(), |n| n.to_string())
            ))),
        }
    }

    /// A typed vector with a shape.
    pub fn from_vec<T: Element>(v: Vec<T>, shape: impl Into<Shape>) -> Result<Literal> {
        Literal::new(T::into_data(v), shape)
    }

    /// A rank-1 value holding the vector.
    pub fn vector<T: Element>(v: Vec<T>) -> Literal {
        Literal { shape: Shape::new([v.len()]), data: T::into_data(v) }
    }

    /// A rank-0 value.
    pub fn scalar<T: Element>(v: T) -> Literal {
        Literal { shape: Shape::scalar(), data: T::into_data(vec![v]) }
    }

    /// Zeros of a dtype and shape.
    pub fn zeros(dtype: DType, shape: impl Into<Shape>) -> Result<Literal> {
        let shape = shape.into();
        let n = checked_numel(&shape)?;
        Ok(Literal { data: HostData::zeros(dtype, n), shape })
    }

    /// `value` (converted to `dtype`) repeated to fill `shape`.
    pub fn full(dtype: DType, shape: impl Into<Shape>, value: f64) -> Result<Literal> {
        let shape = shape.into();
        let n = checked_numel(&shape)?;
        Ok(Literal { data: HostData::full(dtype, n, value), shape })
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The dtype.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// The elements.
    pub fn data(&self) -> &HostData {
        &self.data
    }

    /// Takes the elements out.
    pub fn into_data(mut self) -> HostData {
        std::mem::replace(&mut self.data, HostData::F32(Vec::new()))
    }

    /// Borrows the elements as `&[T]`; an error when `T` is not the dtype.
    pub fn as_slice<T: Element>(&self) -> Result<&[T]> {
        T::slice_of(&self.data).ok_or(Error::DTypeMismatch {
            context: "reading back an array".to_string(),
            expected: T::DTYPE,
            found: self.dtype(),
        })
    }

    /// Copies the elements out as `Vec<T>`; an error when `T` is not the dtype.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        self.as_slice::<T>().map(<[T]>::to_vec)
    }

    /// Same data, new shape of equal element count.
    pub fn reshaped(self, shape: impl Into<Shape>) -> Result<Literal> {
        Literal::new(self.into_data(), shape)
    }
}

fn checked_numel(shape: &Shape) -> Result<usize> {
    shape
        .checked_numel()
        .ok_or_else(|| Error::invalid_argument(format!("shape {shape} has more elements than fit in memory")))
}
