//! Activation functions as in `jax.nn` (re-exported by `flax.linen`): free functions over `&Tensor`, each computed
//! op for op as JAX does, so results agree to the rounding of the elementwise functions.
//!
//! ```
//! use jit_runtime::{nn, Tensor};
//! let x = Tensor::vector(&[-1.0f32, 0.0, 2.0]);
//! assert_eq!(nn::relu(&x).to_vec::<f32>()?, vec![0.0, 0.0, 2.0]);            // nn.relu(x)
//! assert_eq!(nn::leaky_relu(&x, 0.5).to_vec::<f32>()?, vec![-0.5, 0.0, 2.0]); // nn.leaky_relu(x, 0.5)
//! let p = nn::softmax(&x, -1).to_vec::<f32>()?;                               // nn.softmax(x, axis=-1)
//! assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
//! # Ok::<(), jit_runtime::Error>(())
//! ```

use crate::array::DType;
use crate::trace::{Tensor, where_};

/// `max(x, 0)` (`jax.nn.relu`).
#[track_caller]
pub fn relu(x: &Tensor) -> Tensor {
    x.relu()
}

/// GELU with the tanh approximation, JAX's and Flax's default (`jax.nn.gelu(x)`, `approximate=True`):
/// `x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))`.
#[track_caller]
pub fn gelu(x: &Tensor) -> Tensor {
    x.gelu()
}

/// Exact GELU, `x * (1 + erf(x / sqrt 2)) / 2` (`jax.nn.gelu(x, approximate=False)`).
#[track_caller]
pub fn gelu_exact(x: &Tensor) -> Tensor {
    x.gelu_exact()
}

/// The logistic sigmoid `1 / (1 + e^-x)` (`jax.nn.sigmoid`, `lax.logistic`).
#[track_caller]
pub fn sigmoid(x: &Tensor) -> Tensor {
    x.sigmoid()
}

/// `x * sigmoid(x)` (`jax.nn.silu`).
#[track_caller]
pub fn silu(x: &Tensor) -> Tensor {
    x * &x.sigmoid()
}

/// Alias of [`silu`] (`jax.nn.swish`).
#[track_caller]
pub fn swish(x: &Tensor) -> Tensor {
    silu(x)
}

/// Hyperbolic tangent (`jnp.tanh`, `nn.tanh`).
#[track_caller]
pub fn tanh(x: &Tensor) -> Tensor {
    x.tanh()
}

/// `log(1 + e^x)` computed as JAX's `logaddexp(x, 0)`: `max(x, 0) + log1p(exp(-|x|))`, and `x` where that is NaN
/// (`jax.nn.softplus`).
#[track_caller]
pub fn softplus(x: &Tensor) -> Tensor {
    let zero = Tensor::scalar_of(x.dtype(), 0.0);
    let amax = x.maximum(&zero);
    // `delta = x - 0` is NaN only when `x` is; JAX then returns `x + 0`.
    let delta = x - &zero;
    let smooth = &amax + &delta.abs().neg().exp().log1p();
    where_(&delta.not_equal(&delta), &(x + &zero), &smooth)
}

/// `x` for `x > 0`, else `alpha * (e^x - 1)` (`jax.nn.elu(x, alpha)`; JAX's default `alpha` is 1).
#[track_caller]
pub fn elu(x: &Tensor, alpha: f64) -> Tensor {
    let zero = Tensor::scalar_of(x.dtype(), 0.0);
    let positive = x.greater(&zero);
    // The exponent only sees non-positive values, so it cannot overflow (JAX's `safe_x`).
    let safe = where_(&positive, &zero, x);
    let negative = safe.expm1() * alpha;
    where_(&positive, x, &negative)
}

/// `x` for `x >= 0`, else `negative_slope * x` (`jax.nn.leaky_relu(x, negative_slope)`; JAX's default slope is
/// `0.01`).
#[track_caller]
pub fn leaky_relu(x: &Tensor, negative_slope: f64) -> Tensor {
    let zero = Tensor::scalar_of(x.dtype(), 0.0);
    where_(&x.greater_equal(&zero), x, &(x * negative_slope))
}

/// `exp(x - max) / sum(exp(x - max))` along `axis` (`jax.nn.softmax(x, axis)`).
#[track_caller]
pub fn softmax(x: &Tensor, axis: i32) -> Tensor {
    x.softmax(axis)
}

/// `x - max - log(sum(exp(x - max)))` along `axis` (`jax.nn.log_softmax(x, axis)`).
#[track_caller]
pub fn log_softmax(x: &Tensor, axis: i32) -> Tensor {
    x.log_softmax(axis)
}

/// One-hot `f32` encoding of integer labels with a new last axis of `num_classes` (`jax.nn.one_hot(x,
/// num_classes)`); labels outside `0..num_classes` give all zeros, as JAX. [`Tensor::one_hot`] takes a dtype.
#[track_caller]
pub fn one_hot(x: &Tensor, num_classes: usize) -> Tensor {
    x.one_hot(num_classes, DType::F32)
}
