//! [`Array`]: a cheap, shareable handle over a host buffer or a device buffer.

use std::sync::Arc;

use parking_lot::Mutex;

use super::{DType, Element, HostData, Literal, Shape};
use crate::backend::{self, ArgBuffer, Device, DeviceBuffer, IntoDevice};
use crate::error::{Error, Result};

/// A concrete n-dimensional array: dtype, static shape, and a row-major buffer on the host or on a device.
///
/// Cloning is cheap (an `Arc`); clones share the buffer, so donating one handle to a jitted call makes every
/// clone unusable: reading it afterwards is [`Error::Donated`], never stale data.
///
/// An array on a device ([`device_put`](Array::device_put), or a result of a function jitted for that device)
/// stays there until it is read: [`literal`](Array::literal), [`to_vec`](Array::to_vec), [`item`](Array::item)
/// and printing copy it to the host once and keep that copy.
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
    device: Device,
    storage: Mutex<Storage>,
}

enum Storage {
    Host(Arc<Literal>),
    /// On a device, with the host copy once one was read.
    Device {
        buffer: Arc<dyn DeviceBuffer>,
        host: Option<Arc<Literal>>,
    },
    Donated {
        to: String,
    },
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
                device: Device::CPU,
                storage: Mutex::new(Storage::Host(literal)),
            }),
        }
    }

    /// Wraps a device buffer (what a backend's [`put`](crate::backend::Backend::put) or a device program returns).
    pub fn from_device(buffer: Arc<dyn DeviceBuffer>) -> Array {
        Array {
            inner: Arc::new(Inner {
                dtype: buffer.dtype(),
                shape: buffer.shape().clone(),
                device: buffer.device(),
                storage: Mutex::new(Storage::Device { buffer, host: None }),
            }),
        }
    }

    /// An input or output of a call as an array.
    pub fn from_buffer(buffer: ArgBuffer) -> Array {
        match buffer {
            ArgBuffer::Host(l) => Array::from_shared(l),
            ArgBuffer::Device(b) => Array::from_device(b),
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

    /// Where the array lives: `cpu:0` for host arrays (known even after donation).
    pub fn device(&self) -> Device {
        self.inner.device
    }

    /// The host value, shared; [`Error::Donated`] after donation. An array on a device is copied to the host on
    /// the first read, and the copy kept for later reads.
    pub fn literal(&self) -> Result<Arc<Literal>> {
        match &mut *self.inner.storage.lock() {
            Storage::Host(l) => Ok(Arc::clone(l)),
            Storage::Device { host: Some(l), .. } => Ok(Arc::clone(l)),
            Storage::Device { buffer, host } => {
                let l = Arc::new(buffer.to_host()?);
                *host = Some(Arc::clone(&l));
                Ok(l)
            }
            Storage::Donated { to } => Err(Error::Donated { to: to.clone() }),
        }
    }

    /// The buffer as a call input, where it lives (no copy); [`Error::Donated`] after donation.
    pub fn buffer(&self) -> Result<ArgBuffer> {
        match &*self.inner.storage.lock() {
            Storage::Host(l) => Ok(ArgBuffer::Host(Arc::clone(l))),
            Storage::Device { buffer, .. } => Ok(ArgBuffer::Device(Arc::clone(buffer))),
            Storage::Donated { to } => Err(Error::Donated { to: to.clone() }),
        }
    }

    /// The device buffer of an array on a device (`None` on the host or after donation).
    pub fn device_buffer(&self) -> Option<Arc<dyn DeviceBuffer>> {
        match &*self.inner.storage.lock() {
            Storage::Device { buffer, .. } => Some(Arc::clone(buffer)),
            _ => None,
        }
    }

    /// A copy on `device`, as `jax.device_put` (the array itself when it is already there). Arrays go to a device
    /// through the highest-priority backend that reports it ([`backend_for_device`](backend::backend_for_device));
    /// `cpu:0` gives a host array; from one device to another the copy goes through the host.
    ///
    /// ```
    /// use jit_runtime::Array;
    /// use jit_runtime::backend::Device;
    /// let a = Array::vector(&[1.0f32, 2.0]);
    /// assert_eq!(a.device(), Device::CPU);
    /// assert!(a.device_put("cpu")?.same_buffer(&a));
    /// // No GPU backend registered here: the error lists the devices there are.
    /// let e = a.device_put("cuda:0").unwrap_err();
    /// assert!(e.to_string().contains("devices available: cpu:0"), "{e}");
    /// # Ok::<(), jit_runtime::Error>(())
    /// ```
    pub fn device_put(&self, device: impl IntoDevice) -> Result<Array> {
        let device = device.into_device()?;
        if device == self.device() {
            self.literal_or_buffer_check()?;
            return Ok(self.clone());
        }
        if device == Device::CPU {
            return Ok(Array::from_shared(self.literal()?));
        }
        let backend = backend::backend_for_device(device)?;
        Ok(Array::from_device(backend.put(&*self.literal()?, device)?))
    }

    /// As [`device_put`](Array::device_put), through the backend named `backend` (which must report `device`).
    pub fn device_put_with(&self, backend: &str, device: impl IntoDevice) -> Result<Array> {
        let device = device.into_device()?;
        let (backend, device) = backend::resolve(Some(backend), Some(device))?;
        if device == self.device() {
            self.literal_or_buffer_check()?;
            return Ok(self.clone());
        }
        if device == Device::CPU {
            return Ok(Array::from_shared(self.literal()?));
        }
        Ok(Array::from_device(backend.put(&*self.literal()?, device)?))
    }

    /// [`Error::Donated`] after donation.
    fn literal_or_buffer_check(&self) -> Result<()> {
        match &*self.inner.storage.lock() {
            Storage::Donated { to } => Err(Error::Donated { to: to.clone() }),
            _ => Ok(()),
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
    /// Donating twice is [`Error::Donated`]. An array on a device is handed over as a host copy (the host copy
    /// already read, if any).
    pub fn donate(&self, to: &str) -> Result<Arc<Literal>> {
        let mut storage = self.inner.storage.lock();
        match std::mem::replace(&mut *storage, Storage::Donated { to: to.to_string() }) {
            Storage::Host(l) | Storage::Device { host: Some(l), .. } => Ok(l),
            Storage::Device { buffer, host: None } => buffer.to_host().map(Arc::new),
            Storage::Donated { to } => {
                *storage = Storage::Donated { to: to.clone() };
                Err(Error::Donated { to })
            }
        }
    }

    /// As [`donate`](Array::donate), handing the buffer over where it lives.
    pub fn donate_buffer(&self, to: &str) -> Result<ArgBuffer> {
        let mut storage = self.inner.storage.lock();
        match std::mem::replace(&mut *storage, Storage::Donated { to: to.to_string() }) {
            Storage::Host(l) => Ok(ArgBuffer::Host(l)),
            Storage::Device { buffer, .. } => Ok(ArgBuffer::Device(buffer)),
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
