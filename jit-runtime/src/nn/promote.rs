//! Flax's `promote_dtype`: layers compute in the common float dtype of their inputs and parameters.

use crate::array::DType;
use crate::trace::Tensor;

/// The dtype `jnp.result_type(*tensors)` gives with `inexact=True`: the widest float among them, `f32` when none is
/// a float (integer and bool inputs are promoted, as Flax does).
pub(crate) fn float_dtype(tensors: &[&Tensor]) -> DType {
    tensors.iter().map(|t| t.dtype()).filter(|d| d.is_float()).max_by_key(|d| d.size_in_bytes()).unwrap_or(DType::F32)
}
