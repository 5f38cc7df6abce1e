//! [`Initializer`]: how a parameter's first value is made from a key, a shape and a dtype (`jax.nn.initializers`).

use crate::array::{DType, Shape};
use crate::trace::Tensor;

/// Makes a parameter's initial value, as a `jax.nn.initializers` function `init(key, shape, dtype)`. Any closure
/// `Fn(&Tensor, &Shape, DType) -> Tensor` is one.
///
/// ```
/// use jit_runtime::lift::Initializer;
/// use jit_runtime::{random, DType, Shape, Tensor};
/// let ones = |_key: &Tensor, shape: &Shape, dtype: DType| Tensor::ones(dtype, shape.clone());
/// let t = ones.init(&random::key(0), &Shape::from([2]), DType::F32);
/// assert_eq!(t.to_vec::<f32>()?, vec![1.0, 1.0]);
/// # Ok::<(), jit_runtime::Error>(())
/// ```
pub trait Initializer {
    /// The initial value of `shape` and `dtype`, drawing randomness from `key`.
    fn init(&self, key: &Tensor, shape: &Shape, dtype: DType) -> Tensor;
}

impl<F: Fn(&Tensor, &Shape, DType) -> Tensor> Initializer for F {
    fn init(&self, key: &Tensor, shape: &Shape, dtype: DType) -> Tensor {
        self(key, shape, dtype)
    }
}
