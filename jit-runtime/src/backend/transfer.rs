//! [`device_put`]: moving arrays between the host and devices, as `jax.device_put`.

use super::IntoDevice;
use crate::array::Array;
use crate::error::Result;
use crate::trace::Tensor;

/// Values that can be placed on a device: [`Array`] and concrete [`Tensor`]s.
pub trait DevicePut: Sized {
    /// A copy of the value on `device` (the value itself when it is already there), through the highest-priority
    /// backend that reports the device ([`backend_for_device`](super::backend_for_device)); `cpu:0` gives a host
    /// array. Device to device goes through the host.
    fn device_put(&self, device: impl IntoDevice) -> Result<Self>;

    /// As [`device_put`](DevicePut::device_put), through the backend named `backend` (a GPU emulation, say).
    fn device_put_with(&self, backend: &str, device: impl IntoDevice) -> Result<Self>;
}

impl DevicePut for Array {
    fn device_put(&self, device: impl IntoDevice) -> Result<Array> {
        Array::device_put(self, device)
    }

    fn device_put_with(&self, backend: &str, device: impl IntoDevice) -> Result<Array> {
        Array::device_put_with(self, backend, device)
    }
}

impl DevicePut for Tensor {
    fn device_put(&self, device: impl IntoDevice) -> Result<Tensor> {
        Ok(Tensor::from_array(self.to_array()?.device_put(device)?))
    }

    fn device_put_with(&self, backend: &str, device: impl IntoDevice) -> Result<Tensor> {
        Ok(Tensor::from_array(self.to_array()?.device_put_with(backend, device)?))
    }
}

/// `jax.device_put(x, device)`: `x` (an [`Array`] or a [`Tensor`]) on `device`. A jitted function compiled for
/// that device then takes it without a copy and leaves its results there until they are read.
///
/// ```
/// use jit_runtime::backend::{Device, device_put};
/// use jit_runtime::{Array, Tensor};
///
/// let x = Tensor::from_array(Array::vector(&[1.0f32, 2.0]));
/// let same = device_put(&x, "cpu:0")?;          // already there
/// assert_eq!(same.to_array()?.device(), Device::CPU);
/// // Without a GPU (or a registered GPU backend), asking for one names what is available.
/// if let Err(e) = device_put(&x, "cuda:0") {
///     assert!(e.to_string().contains("devices available"), "{e}");
/// }
/// # Ok::<(), jit_runtime::Error>(())
/// ```
pub fn device_put<T: DevicePut>(x: &T, device: impl IntoDevice) -> Result<T> {
    x.device_put(device)
}
