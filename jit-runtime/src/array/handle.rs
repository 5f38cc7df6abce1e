//! [`Array`]: a cheap, shareable handle over a host buffer.

use std::sync::Arc;

use parking_lot::Mutex;

use super::{DType, Element, HostData, Literal, Shape};
use crate::error::{Error, Result};

/// A concrete n-dimensional array: dtype, static shape, and a row-major buffer on the host.
///
/// Cloning is cheap (an `Arc`); clones share the buffer, so donating one handle to a jitted call makes every
/// clone unusable: reading it afterwards is [`Error::Donated`], never stale data.
///
/// ```
/// use jit_runtime::Array;
/// let a = Array::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2])?;
/// assert_eq!(a.shape().dims(), &[2, 2]);
/// assert_eq!(a.to_vec::<f32>()?, vec![1.0, 2.0, 3.0, 4.0]);
/// assert!(a.to_vec::<i32>().is_err()); // wrong dtype: an error, not a panic
/// # Ok::<(), jit_runtime::Error>(())
/// ```
#[derive(Clone)]
pub struct Array {
    inner: Arc<Inner>,
}

struct Inner {
    dtype: DType,
    shape: Shape,
    storage: Mutex<Storage>,
}

enum Storage {
    Host(Arc<Literal>),
    Donated { to: String },
}

impl Array {
    /// Wraps a literal.
    pub fn from_literal(literal: Literal) -> Array {
        Array::from_shared(Arc::new(literal))
    }

    /// Wraps a shared literal without copying.
    pub fn from_shared(literal: Arc<Literal>) -> Array {
        Array {
            inner: Arc::new(Inner {
                dtype: literal.dtype(),
                shape: literal.shape().clone(),
                storage: Mutex::new(Storage::Host(literal)),
            }),
        }
    }

    /// An array from a vector and a shape whose element count matches.
    pub fn from_vec<T: Element>(v: Vec<T>, shape: impl Into<Shape>) -> Result<Array> {
        Literal::from_vec(v, shape).map(Array::from_literal)
    }

    /// An array from a slice (copied) and a shape.
    pub fn from_slice<T: Element>(v: &[T], shape: impl Into<Shape>) -> Result<Array> {
        Array::from_vec(v.to_vec(), shape)
    }

    /// A rank-1 array holding the slice.
    pub fn vector<T: Element>(v: &[T]) -> Array {
        Array::from_literal(Literal::vector(v.to_vec()))
    }

    /// A rank-0 array.
    pub fn scalar<T: Element>(v: T) -> Array {
        Array::from_literal(Literal::scalar(v))
    }

    /// Zeros.
    pub fn zeros(dtype: DType, shape: impl Into<Shape>) -> Result<Array> {
        Literal::zeros(dtype, shape).map(Array::from_literal)
    }

    /// Ones (`true` for bool).
    pub fn ones(dtype: DType, shape: impl Into<Shape>) -> Result<Array> {
        Array::full(dtype, shape, 1.0)
    }

    /// `value` converted to `dtype`, everywhere.
    pub fn full(dtype: DType, shape: impl Into<Shape>, value: f64) -> Result<Array> {
        Literal::full(dtype, shape, value).map(Array::from_literal)
    }

    /// `start, start + step, ...` up to but excluding `stop`, as numpy's `arange`, converted to `dtype`.
    ///
    /// ```
    /// use jit_runtime::{Array, DType};
    /// let a = Array::arange(0.0, 5.0, 2.0, DType::I32)?;
    /// assert_eq!(a.to_vec::<i32>()?, vec![0, 2, 4]);
    /// # Ok::<(), jit_runtime::Error>(())
    /// ```
    pub fn arange(start: f64, stop: f64, step: f64, dtype: DType) -> Result<Array> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
            return Err(Error::invalid_argument(format!(
                "arange({start}, {stop}, {step}): step must be finite and nonzero, bounds finite"
            )));
        }
        let n = ((stop - start) / step).ceil().max(0.0);
        if n > (1u64 << 40) as f64 {
            return Err(Error::invalid_argument(format!("arange({start}, {stop}, {step}) is too long")));
        }
        let n = n as usize;
        let values: Vec<f64> = (0..n).map(|i| start + i as f64 * step).collect();
        let data = match dtype {
            DType::F32 => HostData::F32(values.iter().map(|&x| x as f32).collect()),
            DType::F64 => HostData::F64(values),
            DType::I32 => HostData::I32(values.iter().map(|&x| x as i32).collect()),
            DType::U32 => HostData::U32(values.iter().map(|&x| x as u32).collect()),
            DType::I64 => HostData::I64(values.iter().map(|&x| x as i64).collect()),
            DType::Bool => HostData::Bool(values.iter().map(|&x| x != 0.0).collect()),
        };
        Literal::new(data, [n]).map(Array::from_literal)
    }

    /// The dtype (known even after donation).
    pub fn dtype(&self) -> DType {
        self.inner.dtype
    }

    /// The shape (known even after donation).
    pub fn shape(&self) -> &Shape {
        &self.inner.shape
    }

    /// The dimension sizes.
    pub fn dims(&self) -> &[usize] {
        self.inner.shape.dims()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.inner.shape.numel()
    }

    /// The host value, shared; [`Error::Donated`] after donation.
    pub fn literal(&self) -> Result<Arc<Literal>> {
        match &*self.inner.storage.lock() {
            Storage::Host(l) => Ok(Arc::clone(l)),
            Storage::Donated { to } => Err(Error::Donated { to: to.clone() }),
        }
    }

    /// Copies the elements out; an error when `T` is not the dtype or the array was donated.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        self.literal()?.to_vec::<T>()
    }

    /// The single element of a size-1 array.
    pub fn item<T: Element>(&self) -> Result<T> {
        let l = self.literal()?;
        let s = l.as_slice::<T>()?;
        match s {
            [x] => Ok(*x),
            _ => Err(Error::invalid_argument(format!(
                "item() needs an array of one element, this one has shape {}",
                self.shape()
            ))),
        }
    }

    /// True once the array was donated to a call.
    pub fn is_donated(&self) -> bool {
        matches!(&*self.inner.storage.lock(), Storage::Donated { .. })
    }

    /// Marks the buffer as donated to `to` and hands it over: every handle sharing it now reads as donated.
    /// Donating twice is [`Error::Donated`].
    pub fn donate(&self, to: &str) -> Result<Arc<Literal>> {
        let mut storage = self.inner.storage.lock();
        match std::mem::replace(&mut *storage, Storage::Donated { to: to.to_string() }) {
            Storage::Host(l) => Ok(l),
            Storage::Donated { to } => {
                *storage = Storage::Donated { to: to.clone() };
                Err(Error::Donated { to })
            }
        }
    }

    /// True when both handles share one buffer.
    pub fn same_buffer(&self, other: &Array) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl std::fmt::Debug for Array {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
