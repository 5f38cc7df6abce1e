//! Parameter initialisers as in `jax.nn.initializers`: [`Init`] and its constructors ([`lecun_normal`],
//! [`glorot_uniform`], [`zeros`], ...).
//!
//! Each draws the same numbers as JAX for the same key, shape and `f32` dtype: the scale is computed in `f64` from the
//! fans (as Python does), rounded to `f32`, and the samples come from [`crate::random`], which is JAX's threefry
//! (the truncated normal with XLA's fused multiply-add in its uniform step, as JAX computes it on CPU and GPU).
//! Other float dtypes are sampled in `f32` and converted (JAX's default 32-bit mode does the same).

use std::hash::{Hash, Hasher};

use crate::array::{DType, Shape};
use crate::error::SourceLocation;
use crate::lift::Initializer;
use crate::random;
use crate::trace::Tensor;

/// The standard deviation of a standard normal truncated to `(-2, 2)` (JAX's `.87962566103423978`).
const TRUNCATED_STDDEV: f64 = 0.879_625_661_034_239_8;

/// Which fan [`variance_scaling`] divides the scale by (JAX's `mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FanMode {
    /// `"fan_in"`: the number of inputs.
    FanIn,
    /// `"fan_out"`: the number of outputs.
    FanOut,
    /// `"fan_avg"`: `(fan_in + fan_out) / 2`.
    FanAvg,
    /// `"fan_geo_avg"`: `sqrt(fan_in * fan_out)`.
    FanGeoAvg,
}

/// Which distribution [`variance_scaling`] samples (JAX's `distribution`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Distribution {
    /// `"truncated_normal"`: a normal truncated to two standard deviations, rescaled to the wanted variance.
    TruncatedNormal,
    /// `"normal"`.
    Normal,
    /// `"uniform"`: uniform in `[-limit, limit)`.
    Uniform,
}

/// A parameter initialiser (a `jax.nn.initializers` function), as a value: layers hold one, so they stay
/// `Hash + Eq` (floats compare by bit pattern) and equal layers share compiled code.
///
/// Build one with the functions of this module ([`lecun_normal`], [`zeros`], [`normal`], ...). Any closure
/// `Fn(&Tensor, &Shape, DType) -> Tensor` is also an [`Initializer`] for [`Scope::param`](crate::lift::Scope::param),
/// but layers take an `Init` so their configuration stays comparable.
///
/// ```
/// use jit_runtime::lift::Initializer;
/// use jit_runtime::nn::initializers;
/// use jit_runtime::{random, DType, Shape};
/// // jax.nn.initializers.lecun_normal()(jax.random.PRNGKey(42), (3, 4), jnp.float32)
/// let w = initializers::lecun_normal().init(&random::key(42), &Shape::from([3, 4]), DType::F32);
/// assert_eq!(w.dims(), [3, 4]);
/// assert_eq!(initializers::lecun_normal(), initializers::variance_scaling(
///     1.0, initializers::FanMode::FanIn, initializers::Distribution::TruncatedNormal));
/// ```
#[derive(Clone, Debug)]
pub enum Init {
    /// Zeros (`jax.nn.initializers.zeros`); draws nothing from the key.
    Zeros,
    /// Ones (`jax.nn.initializers.ones`).
    Ones,
    /// `value` everywhere (`jax.nn.initializers.constant(value)`).
    Constant(f64),
    /// `normal(key) * stddev` (`jax.nn.initializers.normal(stddev)`).
    Normal {
        /// The standard deviation.
        stddev: f64,
    },
    /// `uniform(key) * scale`, in `[0, scale)` (`jax.nn.initializers.uniform(scale)`).
    Uniform {
        /// The upper bound.
        scale: f64,
    },
    /// `truncated_normal(key, lower, upper) * stddev` (`jax.nn.initializers.truncated_normal(stddev)`): no variance
    /// correction, unlike [`variance_scaling`].
    TruncatedNormal {
        /// The standard deviation of the untruncated distribution.
        stddev: f64,
        /// The lower bound, before scaling (JAX: -2).
        lower: f64,
        /// The upper bound, before scaling (JAX: 2).
        upper: f64,
    },
    /// `jax.nn.initializers.variance_scaling`.
    VarianceScaling {
        /// The scale (variance numerator).
        scale: f64,
        /// Which fan divides it.
        mode: FanMode,
        /// The distribution.
        distribution: Distribution,
        /// The input axes of the weight shape (JAX: `-2`).
        in_axis: Vec<i32>,
        /// The output axes (JAX: `-1`).
        out_axis: Vec<i32>,
        /// Axes ignored by the fans (JAX: none).
        batch_axis: Vec<i32>,
    },
}

/// What equality and hashing look at: floats by bit pattern.
#[derive(PartialEq, Eq, Hash)]
enum InitKey<'a> {
    Zeros,
    Ones,
    Constant(u64),
    Normal(u64),
    Uniform(u64),
    TruncatedNormal(u64, u64, u64),
    VarianceScaling(u64, FanMode, Distribution, &'a [i32], &'a [i32], &'a [i32]),
}

impl Init {
    fn key(&self) -> InitKey<'_> {
        match self {
            Init::Zeros => InitKey::Zeros,
            Init::Ones => InitKey::Ones,
            Init::Constant(v) => InitKey::Constant(v.to_bits()),
            Init::Normal { stddev } => InitKey::Normal(stddev.to_bits()),
            Init::Uniform { scale } => InitKey::Uniform(scale.to_bits()),
            Init::TruncatedNormal { stddev, lower, upper } => {
                InitKey::TruncatedNormal(stddev.to_bits(), lower.to_bits(), upper.to_bits())
            }
            Init::VarianceScaling { scale, mode, distribution, in_axis, out_axis, batch_axis } => {
                InitKey::VarianceScaling(scale.to_bits(), *mode, *distribution, in_axis, out_axis, batch_axis)
            }
        }
    }

    /// The input axes of a [`variance_scaling`] initialiser (JAX's `in_axis`); other initialisers are returned
    /// unchanged.
    pub fn in_axis(mut self, axes: impl Into<Vec<i32>>) -> Init {
        if let Init::VarianceScaling { in_axis, .. } = &mut self {
            *in_axis = axes.into();
        }
        self
    }

    /// The output axes of a [`variance_scaling`] initialiser (JAX's `out_axis`; Flax's `Embed` uses `[0]`).
    pub fn out_axis(mut self, axes: impl Into<Vec<i32>>) -> Init {
        if let Init::VarianceScaling { out_axis, .. } = &mut self {
            *out_axis = axes.into();
        }
        self
    }

    /// The batch axes of a [`variance_scaling`] initialiser (JAX's `batch_axis`), left out of the fans.
    pub fn batch_axis(mut self, axes: impl Into<Vec<i32>>) -> Init {
        if let Init::VarianceScaling { batch_axis, .. } = &mut self {
            *batch_axis = axes.into();
        }
        self
    }

    /// The truncation bounds of a [`truncated_normal`] initialiser (JAX's `lower`/`upper`); other initialisers are
    /// returned unchanged.
    pub fn bounds(mut self, lower: f64, upper: f64) -> Init {
        if let Init::TruncatedNormal { lower: l, upper: u, .. } = &mut self {
            (*l, *u) = (lower, upper);
        }
        self
    }
}

impl PartialEq for Init {
    fn eq(&self, other: &Init) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Init {}

impl Hash for Init {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl Initializer for Init {
    #[track_caller]
    fn init(&self, key: &Tensor, shape: &Shape, dtype: DType) -> Tensor {
        let loc = SourceLocation::caller();
        match self {
            Init::Zeros => Tensor::full_at(dtype, shape.clone(), 0.0, loc),
            Init::Ones => Tensor::full_at(dtype, shape.clone(), 1.0, loc),
            Init::Constant(v) => Tensor::full_at(dtype, shape.clone(), *v, loc),
            _ if !dtype.is_float() => Tensor::fail(
                "initializer",
                format!("a random initialiser needs a float dtype, got {dtype} (shape {shape})"),
                loc,
            ),
            Init::Normal { stddev } => (random::normal(key, shape) * *stddev).astype(dtype),
            Init::Uniform { scale } => (random::uniform(key, shape) * *scale).astype(dtype),
            Init::TruncatedNormal { stddev, lower, upper } => {
                (random::truncated_normal(key, *lower as f32, *upper as f32, shape.clone()) * *stddev).astype(dtype)
            }
            Init::VarianceScaling { scale, mode, distribution, in_axis, out_axis, batch_axis } => {
                let variance = match fans(shape, in_axis, out_axis, batch_axis) {
                    Ok((fan_in, fan_out)) => {
                        let denominator = match mode {
                            FanMode::FanIn => fan_in,
                            FanMode::FanOut => fan_out,
                            FanMode::FanAvg => (fan_in + fan_out) / 2.0,
                            FanMode::FanGeoAvg => (fan_in * fan_out).sqrt(),
                        };
                        if denominator == 0.0 {
                            return Tensor::fail(
                                "variance_scaling",
                                format!("the {mode:?} fan of shape {shape} is zero"),
                                loc,
                            );
                        }
                        // As `jnp.array(scale / denominator, dtype)`: the quotient in f64, then rounded.
                        (scale / denominator) as f32
                    }
                    Err(m) => return Tensor::fail("variance_scaling", m, loc),
                };
                // JAX computes each factor with f32 ops (`sqrt`, `/`), which round as Rust's f32 ops do.
                let out = match distribution {
                    Distribution::TruncatedNormal => {
                        let stddev = variance.sqrt() / (TRUNCATED_STDDEV as f32);
                        random::truncated_normal(key, -2.0, 2.0, shape.clone()) * stddev
                    }
                    Distribution::Normal => random::normal(key, shape) * variance.sqrt(),
                    Distribution::Uniform => random::uniform_range(key, shape, -1.0, 1.0) * (3.0 * variance).sqrt(),
                };
                out.astype(dtype)
            }
        }
    }
}

/// `(fan_in, fan_out)` of a weight shape, as JAX's `_compute_fans`: the product of the input (output) axes times the
/// receptive field, the product of the remaining axes. Computed in `f64` in JAX's operation order.
fn fans(shape: &Shape, in_axis: &[i32], out_axis: &[i32], batch_axis: &[i32]) -> Result<(f64, f64), String> {
    let rank = shape.rank();
    if in_axis == [-2] && rank <= 1 {
        return Err(format!(
            "cannot compute the fans of a {rank}-dimensional weight shape {shape} with the default in_axis -2: the \
             shape must have at least 2 dimensions, or give in_axis explicitly"
        ));
    }
    let size = |axes: &[i32], what: &str| -> Result<f64, String> {
        axes.iter().try_fold(1.0f64, |p, &a| {
            crate::trace::normalize_axis(a, rank)
                .map(|i| p * shape[i] as f64)
                .map_err(|m| format!("{what} {a} of weight shape {shape}: {m}"))
        })
    };
    let in_size = size(in_axis, "in_axis")?;
    let out_size = size(out_axis, "out_axis")?;
    let batch_size = size(batch_axis, "batch_axis")?;
    if in_size == 0.0 || out_size == 0.0 || batch_size == 0.0 {
        return Err(format!("cannot compute the fans of weight shape {shape}: a fan axis has size 0"));
    }
    let total: f64 = shape.dims().iter().map(|&d| d as f64).product();
    let receptive = total / in_size / out_size / batch_size;
    Ok((in_size * receptive, out_size * receptive))
}

/// Zeros (`jax.nn.initializers.zeros`, Flax's `zeros_init()`).
pub fn zeros() -> Init {
    Init::Zeros
}

/// Ones (`jax.nn.initializers.ones`, Flax's `ones_init()`).
pub fn ones() -> Init {
    Init::Ones
}

/// `value` everywhere (`jax.nn.initializers.constant(value)`).
pub fn constant(value: f64) -> Init {
    Init::Constant(value)
}

/// Normal with standard deviation `stddev` (`jax.nn.initializers.normal(stddev)`; JAX's default is `1e-2`).
pub fn normal(stddev: f64) -> Init {
    Init::Normal { stddev }
}

/// Uniform in `[0, scale)` (`jax.nn.initializers.uniform(scale)`; JAX's default is `1e-2`).
pub fn uniform(scale: f64) -> Init {
    Init::Uniform { scale }
}

/// `truncated_normal(key, -2, 2) * stddev` (`jax.nn.initializers.truncated_normal(stddev)`; JAX's default is
/// `1e-2`). Change the bounds with [`Init::bounds`].
pub fn truncated_normal(stddev: f64) -> Init {
    Init::TruncatedNormal { stddev, lower: -2.0, upper: 2.0 }
}

/// `jax.nn.initializers.variance_scaling(scale, mode, distribution)` with `in_axis=-2, out_axis=-1`: samples with
/// variance `scale / n`, `n` the fan chosen by `mode`. Change the axes with [`Init::in_axis`], [`Init::out_axis`],
/// [`Init::batch_axis`].
///
/// A truncated normal is `truncated_normal(key, -2, 2) * sqrt(variance) / 0.87962566103423978` (the constant is the
/// standard deviation of a standard normal truncated to `(-2, 2)`); a uniform is `uniform(key, -1, 1) *
/// sqrt(3 * variance)`.
pub fn variance_scaling(scale: f64, mode: FanMode, distribution: Distribution) -> Init {
    Init::VarianceScaling { scale, mode, distribution, in_axis: vec![-2], out_axis: vec![-1], batch_axis: vec![] }
}

/// LeCun normal: `variance_scaling(1, FanIn, TruncatedNormal)` (`jax.nn.initializers.lecun_normal()`; Flax's
/// default `Dense` kernel initialiser).
pub fn lecun_normal() -> Init {
    variance_scaling(1.0, FanMode::FanIn, Distribution::TruncatedNormal)
}

/// LeCun uniform: `variance_scaling(1, FanIn, Uniform)` (`jax.nn.initializers.lecun_uniform()`).
pub fn lecun_uniform() -> Init {
    variance_scaling(1.0, FanMode::FanIn, Distribution::Uniform)
}

/// Glorot (Xavier) normal: `variance_scaling(1, FanAvg, TruncatedNormal)` (`jax.nn.initializers.glorot_normal()`).
pub fn glorot_normal() -> Init {
    variance_scaling(1.0, FanMode::FanAvg, Distribution::TruncatedNormal)
}

/// Glorot (Xavier) uniform: `variance_scaling(1, FanAvg, Uniform)` (`jax.nn.initializers.glorot_uniform()`).
pub fn glorot_uniform() -> Init {
    variance_scaling(1.0, FanMode::FanAvg, Distribution::Uniform)
}

/// Alias of [`glorot_normal`] (`jax.nn.initializers.xavier_normal`).
pub fn xavier_normal() -> Init {
    glorot_normal()
}

/// Alias of [`glorot_uniform`] (`jax.nn.initializers.xavier_uniform`).
pub fn xavier_uniform() -> Init {
    glorot_uniform()
}

/// He (Kaiming) normal: `variance_scaling(2, FanIn, TruncatedNormal)` (`jax.nn.initializers.he_normal()`).
pub fn he_normal() -> Init {
    variance_scaling(2.0, FanMode::FanIn, Distribution::TruncatedNormal)
}

/// He (Kaiming) uniform: `variance_scaling(2, FanIn, Uniform)` (`jax.nn.initializers.he_uniform()`).
pub fn he_uniform() -> Init {
    variance_scaling(2.0, FanMode::FanIn, Distribution::Uniform)
}

/// Alias of [`he_normal`] (`jax.nn.initializers.kaiming_normal`).
pub fn kaiming_normal() -> Init {
    he_normal()
}

/// Alias of [`he_uniform`] (`jax.nn.initializers.kaiming_uniform`).
pub fn kaiming_uniform() -> Init {
    he_uniform()
}
