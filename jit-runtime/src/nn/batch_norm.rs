//! [`BatchNorm`]: batch normalisation with running statistics (`flax.linen.BatchNorm`).

use super::initializers::{Init, ones, zeros};
use super::normalization::{Affine, canonicalize_axes, compute_stats, float_input, normalize};
use super::promote::float_dtype;
use crate::array::DType;
use crate::error::SourceLocation;
use crate::lift::Scope;
use crate::trace::Tensor;

/// Normalises over every axis but the feature `axis`, with batch statistics in training and running averages in
/// evaluation (`flax.linen.BatchNorm`).
///
/// As Flax, in this order: the `batch_stats` variables `mean` (zeros) and `var` (ones) of the feature shape are
/// created; with `use_running_average` they are the statistics, otherwise the batch's `mean` and fast variance
/// `max(0, E[x²] - E[x]²)` are, and (except during `init`) the running averages become
/// `momentum * running + (1 - momentum) * batch` — which needs `batch_stats` mutable in `apply`, or the scope reports
/// an error naming the collection and the module. Then `y = (x - mean) * rsqrt(var + epsilon) * scale + bias` with
/// the parameters `scale` (ones) and `bias` (zeros) of the feature shape.
///
/// | Flax | here |
/// |---|---|
/// | `nn.BatchNorm(use_running_average=not train)(x)` | `nn::BatchNorm::new().use_running_average(!train).call(cx, &x)` |
/// | `nn.BatchNorm()(x, use_running_average=not train)` | `nn::BatchNorm::new().call_with(cx, &x, !train)` |
/// | `nn.BatchNorm(momentum=0.9, epsilon=1e-3, axis=1)` | `nn::BatchNorm::new().momentum(0.9).epsilon(1e-3).axis(1)` |
/// | `y, upd = m.apply(v, x, mutable=['batch_stats'])` | `let (y, upd) = m.apply(&v).mutable(["batch_stats"]).call(...)?` |
///
/// ```
/// use jit_runtime::{nn, random, Module, Tensor};
/// let bn = nn::BatchNorm::new();
/// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 6.0], [2, 2]);
/// let variables = bn.init(random::key(0), |m, cx| m.forward_with(cx, &x, Some(false)))?;
/// assert_eq!(variables.get("batch_stats", "mean").map(|t| t.dims().to_vec()), Some(vec![2]));
/// // Flax: y, updates = bn.apply(variables, x, use_running_average=False, mutable=['batch_stats'])
/// let (y, updates) =
///     bn.apply(&variables).mutable(["batch_stats"]).call(|m, cx| m.forward_with(cx, &x, Some(false)))?;
/// assert!((y.to_vec::<f32>()?[0] + 1.0).abs() < 1e-4);        // (1 - 2) / sqrt(1 + 1e-5)
/// let mean = updates.get("batch_stats", "mean").map(|t| t.to_vec::<f32>()).transpose()?;
/// assert_eq!(mean, Some(vec![0.02f32, 0.04]));                 // 0.99 * 0 + 0.01 * [2, 4]
/// // Evaluation reads the running statistics and writes nothing.
/// let variables = variables.merge(updates);
/// let (y, _) = bn.apply(&variables).call(|m, cx| m.forward_with(cx, &x, Some(true)))?;
/// assert_eq!(y.dims(), [2, 2]);
/// # Ok::<(), jit_runtime::Error>(())
/// ```
#[derive(crate::Module, Clone, Debug)]
#[module(crate = "crate")]
pub struct BatchNorm {
    /// Use the running statistics instead of the batch's (evaluation). `None`: give it at call time
    /// ([`call_with`](BatchNorm::call_with)), as Flax's `merge_param`.
    pub use_running_average: Option<bool>,
    /// The feature axes (default `[-1]`); statistics reduce over the others.
    pub axis: Vec<i32>,
    /// The running averages' decay (default `0.99`).
    pub momentum: f64,
    /// Added to the variance (default `1e-5`).
    pub epsilon: f64,
    /// Whether to add the `bias` parameter (default `true`).
    pub use_bias: bool,
    /// Whether to multiply by the `scale` parameter (default `true`).
    pub use_scale: bool,
    /// The bias's initialiser (default zeros).
    pub bias_init: Init,
    /// The scale's initialiser (default ones).
    pub scale_init: Init,
}

impl Default for BatchNorm {
    fn default() -> BatchNorm {
        BatchNorm::new()
    }
}

impl BatchNorm {
    /// Flax's defaults: feature axis `-1`, momentum `0.99`, epsilon `1e-5`, scale and bias; `use_running_average`
    /// unset (set it here or at call time).
    pub fn new() -> BatchNorm {
        BatchNorm {
            use_running_average: None,
            axis: vec![-1],
            momentum: 0.99,
            epsilon: 1e-5,
            use_bias: true,
            use_scale: true,
            bias_init: zeros(),
            scale_init: ones(),
        }
    }

    /// Use the running statistics (evaluation) instead of the batch's (training).
    pub fn use_running_average(mut self, use_running_average: bool) -> BatchNorm {
        self.use_running_average = Some(use_running_average);
        self
    }

    /// The feature axis (negative counts from the end).
    pub fn axis(mut self, axis: i32) -> BatchNorm {
        self.axis = vec![axis];
        self
    }

    /// Several feature axes.
    pub fn axes(mut self, axes: impl Into<Vec<i32>>) -> BatchNorm {
        self.axis = axes.into();
        self
    }

    /// The running averages' decay.
    pub fn momentum(mut self, momentum: f64) -> BatchNorm {
        self.momentum = momentum;
        self
    }

    /// Added to the variance.
    pub fn epsilon(mut self, epsilon: f64) -> BatchNorm {
        self.epsilon = epsilon;
        self
    }

    /// Whether to add the `bias` parameter.
    pub fn use_bias(mut self, use_bias: bool) -> BatchNorm {
        self.use_bias = use_bias;
        self
    }

    /// Whether to multiply by the `scale` parameter.
    pub fn use_scale(mut self, use_scale: bool) -> BatchNorm {
        self.use_scale = use_scale;
        self
    }

    /// The bias's initialiser.
    pub fn bias_init(mut self, init: Init) -> BatchNorm {
        self.bias_init = init;
        self
    }

    /// The scale's initialiser.
    pub fn scale_init(mut self, init: Init) -> BatchNorm {
        self.scale_init = init;
        self
    }

    /// Applies the layer as a submodule of `cx` (`BatchNorm_0`, ...), with `use_running_average` as configured.
    pub fn call(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        cx.child(self, |m, cx| m.forward_with(cx, x, None))
    }

    /// [`call`](BatchNorm::call) with `use_running_average` given at call time (Flax's
    /// `nn.BatchNorm()(x, use_running_average=...)`); giving it both here and in the configuration is an error.
    pub fn call_with(&self, cx: &mut Scope, x: &Tensor, use_running_average: bool) -> Tensor {
        cx.child(self, |m, cx| m.forward_with(cx, x, Some(use_running_average)))
    }

    /// Applies the layer in `cx`, the layer's own scope, with `use_running_average` as configured.
    #[track_caller]
    pub fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        self.forward_with(cx, x, None)
    }

    /// Applies the layer in `cx`, the layer's own scope (Flax's `BatchNorm.__call__(x, use_running_average)`).
    #[track_caller]
    pub fn forward_with(&self, cx: &mut Scope, x: &Tensor, use_running_average: Option<bool>) -> Tensor {
        let loc = SourceLocation::caller();
        let use_running_average = match (self.use_running_average, use_running_average) {
            (Some(a), None) | (None, Some(a)) => a,
            (Some(_), Some(_)) => {
                return Tensor::fail(
                    "BatchNorm",
                    "`use_running_average` was given both in the configuration and at call time: give it once",
                    loc,
                );
            }
            (None, None) => {
                return Tensor::fail(
                    "BatchNorm",
                    "`use_running_average` is not set: use `.use_running_average(bool)` or `call_with`",
                    loc,
                );
            }
        };
        if let Some(e) = x.error() {
            return Tensor::from_error(e.clone());
        }
        let rank = x.rank();
        let feature_axes = match canonicalize_axes(&self.axis, rank, "BatchNorm axis") {
            Ok(a) => a,
            Err(m) => return Tensor::fail("BatchNorm", format!("{m} (input {})", x.ty()), loc),
        };
        let reduction_axes: Vec<usize> = (0..rank).filter(|i| !feature_axes.contains(i)).collect();
        let feature_shape: Vec<usize> = feature_axes.iter().map(|&i| x.dims()[i]).collect();

        let shape = feature_shape.clone();
        let ra_mean = cx.variable("batch_stats", "mean", |_| Tensor::zeros(DType::F32, shape));
        let shape = feature_shape.clone();
        let ra_var = cx.variable("batch_stats", "var", |_| Tensor::ones(DType::F32, shape));
        for (name, v) in [("mean", &ra_mean), ("var", &ra_var)] {
            if v.error().is_none() && v.dims() != feature_shape {
                return Tensor::from_error(cx.error(format!(
                    "variable `{name}` of collection `batch_stats` has shape {}, but the input {} has features {:?}",
                    v.ty(),
                    x.ty(),
                    feature_shape
                )));
            }
        }

        let x = float_input(x);
        let (mean, var) = if use_running_average {
            (ra_mean, ra_var)
        } else {
            let (mean, var) = compute_stats(&x, &reduction_axes);
            if !cx.is_initializing() {
                let m = self.momentum;
                let dtype = float_dtype(&[&ra_mean, &mean]);
                let new_mean = &(&ra_mean.astype(dtype) * m) + &(&mean * (1.0 - m));
                let new_var = &(&ra_var.astype(dtype) * m) + &(&var * (1.0 - m));
                cx.put_variable("batch_stats", "mean", new_mean);
                cx.put_variable("batch_stats", "var", new_var);
            }
            (mean, var)
        };
        let affine = Affine {
            epsilon: self.epsilon,
            use_scale: self.use_scale,
            use_bias: self.use_bias,
            scale_init: &self.scale_init,
            bias_init: &self.bias_init,
        };
        normalize(cx, &x, (&mean, &var), &reduction_axes, &feature_axes, &affine)
    }
}
