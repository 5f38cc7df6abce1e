//! What `BatchNorm` and `LayerNorm` share, as Flax's `_compute_stats` and `_normalize` (flax/linen/normalization.py).

use super::initializers::Init;
use super::promote::float_dtype;
use crate::array::DType;
use crate::error::SourceLocation;
use crate::lift::Scope;
use crate::trace::{Tensor, normalize_axis};

/// Flax's `_canonicalize_axes`: distinct, sorted, non-negative axes, or a message naming the bad axis.
pub(crate) fn canonicalize_axes(axes: &[i32], rank: usize, what: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let i = normalize_axis(a, rank).map_err(|m| format!("{what}: {m}"))?;
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// `x` as a float of at least `f32` (Flax's statistics are never computed in lower precision or in integers).
pub(crate) fn float_input(x: &Tensor) -> Tensor {
    if x.dtype().is_float() { x.clone() } else { x.astype(DType::F32) }
}

/// Flax's `_compute_stats` with `use_fast_variance=True`: `mean = E[x]` and `var = max(0, E[x^2] - E[x]^2)` over
/// `axes` (removed from the result).
#[track_caller]
pub(crate) fn compute_stats(x: &Tensor, axes: &[usize]) -> (Tensor, Tensor) {
    let axes: Vec<i32> = axes.iter().map(|&a| a as i32).collect();
    let mean = x.mean(axes.clone());
    let mean2 = x.square().mean(axes);
    // E[x^2] - E[x]^2 can be slightly negative through rounding.
    let var = (&mean2 - &mean.square()).maximum_scalar(0.0);
    (mean, var)
}

/// The learned-affine part of a normalisation layer.
pub(crate) struct Affine<'a> {
    pub epsilon: f64,
    pub use_scale: bool,
    pub use_bias: bool,
    pub scale_init: &'a Init,
    pub bias_init: &'a Init,
}

/// Flax's `_normalize`: `(x - mean) * (rsqrt(var + epsilon) * scale) + bias`, where `mean` and `var` have the
/// `reduction_axes` removed, and `scale`/`bias` are parameters of the `feature_axes` sizes, created in that order
/// (scale first).
#[track_caller]
pub(crate) fn normalize(
    cx: &mut Scope,
    x: &Tensor,
    (mean, var): (&Tensor, &Tensor),
    reduction_axes: &[usize],
    feature_axes: &[usize],
    affine: &Affine<'_>,
) -> Tensor {
    let loc = SourceLocation::caller();
    if let Some(e) = [x, mean, var].iter().find_map(|t| t.error()) {
        return Tensor::from_error(e.clone());
    }
    let dims = x.dims();
    let stat_shape: Vec<usize> =
        (0..dims.len()).map(|i| if reduction_axes.contains(&i) { 1 } else { dims[i] }).collect();
    let feature_shape: Vec<usize> =
        (0..dims.len()).map(|i| if feature_axes.contains(&i) { dims[i] } else { 1 }).collect();
    let param_shape: Vec<usize> = feature_axes.iter().map(|&i| dims[i]).collect();
    let dtype = float_dtype(&[x, mean, var]);
    let x = x.astype(dtype);
    let mean = mean.astype(dtype).reshape(stat_shape.clone());
    let var = var.astype(dtype).reshape(stat_shape);
    if let Some(e) = [&mean, &var].iter().find_map(|t| t.error()) {
        return Tensor::fail("normalize", format!("statistics do not fit the input {}: {e}", x.ty()), loc);
    }
    let y = &x - &mean;
    let mut mul = (&var + affine.epsilon).rsqrt();
    if affine.use_scale {
        let scale = cx.param("scale", affine.scale_init.clone(), param_shape.clone());
        mul = &mul * &scale.astype(dtype).reshape(feature_shape.clone());
    }
    let y = &y * &mul;
    if affine.use_bias {
        let bias = cx.param("bias", affine.bias_init.clone(), param_shape);
        &y + &bias.astype(dtype).reshape(feature_shape)
    } else {
        y
    }
}
