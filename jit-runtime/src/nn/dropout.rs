//! [`Dropout`]: random masking during training (`flax.linen.Dropout`).

use crate::error::SourceLocation;
use crate::lift::Scope;
use crate::random;
use crate::trace::{Tensor, normalize_axis, where_};

/// Zeroes each input element with probability `rate` and scales the rest by `1 / (1 - rate)` during training
/// (`flax.linen.Dropout`).
///
/// Exactly as Flax: with `deterministic` or `rate == 0` the input comes back unchanged and no key is drawn; with
/// `rate == 1` the result is zeros; otherwise one key is drawn from the `rng_collection` stream (`"dropout"`) with
/// `make_rng`, `mask = bernoulli(key, 1 - rate, shape)` (with the `broadcast_dims` of `shape` set to 1, so the mask
/// is shared along them) and the result is `select(mask, x / (1 - rate), 0)`. The same key gives the same mask as
/// Flax, bit for bit.
///
/// | Flax | here |
/// |---|---|
/// | `nn.Dropout(0.5)(x, deterministic=not train)` | `nn::Dropout::new(0.5).call(cx, &x, !train)` |
/// | `nn.Dropout(0.1, broadcast_dims=(0,), rng_collection='mask')` | `nn::Dropout::new(0.1).broadcast_dims([0]).rng_collection("mask")` |
/// | `model.apply(v, x, rngs={'dropout': key})` | `model.apply(&v).rngs([("dropout", key)]).call(...)` |
///
/// ```
/// use jit_runtime::{nn, random, DType, Module, Tensor};
/// let drop = nn::Dropout::new(0.5);
/// let x = Tensor::ones(DType::F32, [2, 8]);
/// let variables = drop.init(random::key(0), |m, cx| m.forward(cx, &x, true))?;  // no variables
/// // Flax: nn.Dropout(0.5).apply({}, x, deterministic=False, rngs={'dropout': jax.random.PRNGKey(1)})
/// let (y, _) = drop.apply(&variables).rngs([("dropout", random::key(1))]).call(|m, cx| m.forward(cx, &x, false))?;
/// assert!(y.to_vec::<f32>()?.iter().all(|&v| v == 0.0 || v == 2.0));
/// # Ok::<(), jit_runtime::Error>(())
/// ```
#[derive(crate::Module, Clone, Debug)]
#[module(crate = "crate")]
pub struct Dropout {
    /// The probability of dropping an element, in `[0, 1]`.
    pub rate: f64,
    /// Axes along which the mask is shared (negative counts from the end).
    pub broadcast_dims: Vec<i32>,
    /// The PRNG stream the mask's key comes from (default `"dropout"`).
    pub rng_collection: String,
}

impl Dropout {
    /// Dropout with probability `rate` (a Python float is an `f64`; an `f32` converts exactly).
    pub fn new(rate: impl Into<f64>) -> Dropout {
        Dropout { rate: rate.into(), broadcast_dims: Vec::new(), rng_collection: "dropout".to_string() }
    }

    /// Axes along which the mask is shared.
    pub fn broadcast_dims(mut self, dims: impl Into<Vec<i32>>) -> Dropout {
        self.broadcast_dims = dims.into();
        self
    }

    /// The PRNG stream of the mask's key.
    pub fn rng_collection(mut self, stream: impl Into<String>) -> Dropout {
        self.rng_collection = stream.into();
        self
    }

    /// Applies dropout as a submodule of `cx` (`Dropout_0`, ...), as `nn.Dropout(rate)(x, deterministic)` in a Flax
    /// compact method. The key depends on that path, as in Flax.
    pub fn call(&self, cx: &mut Scope, x: &Tensor, deterministic: bool) -> Tensor {
        cx.child(self, |m, cx| m.forward(cx, x, deterministic))
    }

    /// Applies dropout in `cx`, the layer's own scope (Flax's `Dropout.__call__`).
    #[track_caller]
    pub fn forward(&self, cx: &mut Scope, x: &Tensor, deterministic: bool) -> Tensor {
        let loc = SourceLocation::caller();
        if !(0.0..=1.0).contains(&self.rate) {
            return Tensor::fail("Dropout", format!("the rate must be in [0, 1], got {}", self.rate), loc);
        }
        if self.rate == 0.0 || deterministic {
            return x.clone();
        }
        if self.rate == 1.0 {
            return Tensor::zeros(x.dtype(), x.shape().clone());
        }
        if let Some(e) = x.error() {
            return Tensor::from_error(e.clone());
        }
        let mut mask_shape = x.dims().to_vec();
        for &d in &self.broadcast_dims {
            match normalize_axis(d, x.rank()) {
                Ok(i) => mask_shape[i] = 1,
                Err(m) => {
                    return Tensor::fail("Dropout", format!("broadcast_dims: {m} (input {})", x.ty()), loc);
                }
            }
        }
        // Python computes `1.0 - rate` in f64; `bernoulli` and the division round it to f32.
        let keep_prob = 1.0 - self.rate;
        let key = cx.make_rng(&self.rng_collection);
        let mask = random::bernoulli(&key, keep_prob as f32, mask_shape);
        let scaled = x / keep_prob;
        where_(&mask, &scaled, &Tensor::zeros(scaled.dtype(), scaled.shape().clone()))
    }
}
