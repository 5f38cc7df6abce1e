//! [`LayerNorm`]: per-example normalisation over the feature axes (`flax.linen.LayerNorm`).

use super::initializers::{Init, ones, zeros};
use super::normalization::{Affine, canonicalize_axes, compute_stats, float_input, normalize};
use crate::error::SourceLocation;
use crate::lift::Scope;
use crate::trace::Tensor;

/// Normalises each example over `reduction_axes` (default the last axis), then scales and shifts with learned
/// per-feature parameters (`flax.linen.LayerNorm`).
///
/// As Flax: `mean = E[x]`, `var = max(0, E[x²] - E[x]²)` over the reduction axes, then
/// `y = (x - mean) * rsqrt(var + epsilon) * scale + bias` with the parameters `scale` (ones) and `bias` (zeros) of
/// the `feature_axes` sizes, created in that order. No state, no randomness.
///
/// | Flax | here |
/// |---|---|
/// | `nn.LayerNorm()(x)` | `nn::LayerNorm::new().call(cx, &x)` |
/// | `nn.LayerNorm(epsilon=1e-5, use_bias=False)` | `nn::LayerNorm::new().epsilon(1e-5).use_bias(false)` |
///
/// ```
/// use jit_runtime::{nn, random, Module, Tensor};
/// let ln = nn::LayerNorm::new();
/// let x = Tensor::from_vec(vec![1.0f32, 3.0, -2.0, 2.0], [2, 2]);
/// // Flax: variables = nn.LayerNorm().init(jax.random.PRNGKey(0), x)
/// let variables = ln.init(random::key(0), |m, cx| m.forward(cx, &x))?;
/// assert_eq!(variables.get("params", "scale").map(|t| t.dims().to_vec()), Some(vec![2]));
/// let (y, _) = ln.apply(&variables).call(|m, cx| m.forward(cx, &x))?;
/// let y = y.to_vec::<f32>()?;
/// assert!((y[0] + 1.0).abs() < 1e-5 && (y[3] - 1.0).abs() < 1e-5);
/// # Ok::<(), jit_runtime::Error>(())
/// ```
#[derive(crate::Module, Clone, Debug)]
#[module(crate = "crate")]
pub struct LayerNorm {
    /// Added to the variance (default `1e-6`).
    pub epsilon: f64,
    /// Whether to add the `bias` parameter (default `true`).
    pub use_bias: bool,
    /// Whether to multiply by the `scale` parameter (default `true`).
    pub use_scale: bool,
    /// The bias's initialiser (default zeros).
    pub bias_init: Init,
    /// The scale's initialiser (default ones).
    pub scale_init: Init,
    /// The axes the statistics reduce over (default `[-1]`).
    pub reduction_axes: Vec<i32>,
    /// The axes of the learned scale and bias (default `[-1]`).
    pub feature_axes: Vec<i32>,
}

impl Default for LayerNorm {
    fn default() -> LayerNorm {
        LayerNorm::new()
    }
}

impl LayerNorm {
    /// Flax's defaults: epsilon `1e-6`, scale and bias, statistics and parameters over the last axis.
    pub fn new() -> LayerNorm {
        LayerNorm {
            epsilon: 1e-6,
            use_bias: true,
            use_scale: true,
            bias_init: zeros(),
            scale_init: ones(),
            reduction_axes: vec![-1],
            feature_axes: vec![-1],
        }
    }

    /// Added to the variance.
    pub fn epsilon(mut self, epsilon: f64) -> LayerNorm {
        self.epsilon = epsilon;
        self
    }

    /// Whether to add the `bias` parameter.
    pub fn use_bias(mut self, use_bias: bool) -> LayerNorm {
        self.use_bias = use_bias;
        self
    }

    /// Whether to multiply by the `scale` parameter.
    pub fn use_scale(mut self, use_scale: bool) -> LayerNorm {
        self.use_scale = use_scale;
        self
    }

    /// The bias's initialiser.
    pub fn bias_init(mut self, init: Init) -> LayerNorm {
        self.bias_init = init;
        self
    }

    /// The scale's initialiser.
    pub fn scale_init(mut self, init: Init) -> LayerNorm {
        self.scale_init = init;
        self
    }

    /// The axes the statistics reduce over.
    pub fn reduction_axes(mut self, axes: impl Into<Vec<i32>>) -> LayerNorm {
        self.reduction_axes = axes.into();
        self
    }

    /// The axes of the learned scale and bias.
    pub fn feature_axes(mut self, axes: impl Into<Vec<i32>>) -> LayerNorm {
        self.feature_axes = axes.into();
        self
    }

    /// Applies the layer as a submodule of `cx` (`LayerNorm_0`, ...), as `nn.LayerNorm()(x)` in a Flax compact method.
    pub fn call(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        cx.child(self, |m, cx| m.forward(cx, x))
    }

    /// Applies the layer in `cx`, the layer's own scope (Flax's `LayerNorm.__call__`).
    #[track_caller]
    pub fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let loc = SourceLocation::caller();
        if let Some(e) = x.error() {
            return Tensor::from_error(e.clone());
        }
        let axes = canonicalize_axes(&self.reduction_axes, x.rank(), "LayerNorm reduction_axes")
            .and_then(|r| Ok((r, canonicalize_axes(&self.feature_axes, x.rank(), "LayerNorm feature_axes")?)));
        let (reduction_axes, feature_axes) = match axes {
            Ok(a) => a,
            Err(m) => return Tensor::fail("LayerNorm", format!("{m} (input {})", x.ty()), loc),
        };
        let x = float_input(x);
        let stats = compute_stats(&x, &reduction_axes);
        let affine = Affine {
            epsilon: self.epsilon,
            use_scale: self.use_scale,
            use_bias: self.use_bias,
            scale_init: &self.scale_init,
            bias_init: &self.bias_init,
        };
        normalize(cx, &x, (&stats.0, &stats.1), &reduction_axes, &feature_axes, &affine)
    }
}
