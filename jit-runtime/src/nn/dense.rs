//! [`Dense`]: a linear layer over the last axis (`flax.linen.Dense`).

use super::initializers::{Init, lecun_normal, zeros};
use super::promote::float_dtype;
use crate::error::SourceLocation;
use crate::ir::DotDims;
use crate::lift::Scope;
use crate::trace::Tensor;

/// A linear transformation over the last axis of its input, `y = x @ kernel + bias` (`flax.linen.Dense`).
///
/// Parameters, created in this order (each drawing one `params` key, as Flax):
/// `kernel` of shape `(in_features, features)` ([`lecun_normal`] by default) and, with `use_bias`, `bias` of shape
/// `(features,)` (zeros by default). Inputs of any rank `>= 1` work: leading axes are batch axes.
///
/// | Flax | here |
/// |---|---|
/// | `nn.Dense(3)(x)` in a compact method | `nn::Dense::new(3).call(cx, &x)` |
/// | `nn.Dense(3, use_bias=False, kernel_init=nn.initializers.zeros)` | `nn::Dense::new(3).use_bias(false).kernel_init(initializers::zeros())` |
/// | `nn.Dense(3).init(key, x)` | `Dense::new(3).init(key, \|m, cx\| m.forward(cx, &x))` |
///
/// ```
/// use jit_runtime::{nn, random, DType, Module, Tensor};
/// let layer = nn::Dense::new(3);
/// let x = Tensor::ones(DType::F32, [2, 4]);
/// // Flax: variables = nn.Dense(3).init(jax.random.PRNGKey(0), x)
/// let variables = layer.init(random::key(0), |m, cx| m.forward(cx, &x))?;
/// assert_eq!(variables.get("params", "kernel").map(|k| k.dims().to_vec()), Some(vec![4, 3]));
/// assert_eq!(variables.get("params", "bias").map(|b| b.dims().to_vec()), Some(vec![3]));
/// // Flax: y = nn.Dense(3).apply(variables, x)
/// let (y, _) = layer.apply(&variables).call(|m, cx| m.forward(cx, &x))?;
/// assert_eq!(y.dims(), [2, 3]);
/// # Ok::<(), jit_runtime::Error>(())
/// ```
#[derive(crate::Module, Clone, Debug)]
#[module(crate = "crate")]
pub struct Dense {
    /// The number of output features.
    pub features: usize,
    /// Whether to add a bias (default `true`).
    pub use_bias: bool,
    /// The kernel's initialiser (default [`lecun_normal`]).
    pub kernel_init: Init,
    /// The bias's initialiser (default [`zeros`]).
    pub bias_init: Init,
}

impl Dense {
    /// A layer with `features` outputs, a bias, a LeCun-normal kernel and a zero bias (Flax's defaults).
    pub fn new(features: usize) -> Dense {
        Dense { features, use_bias: true, kernel_init: lecun_normal(), bias_init: zeros() }
    }

    /// Whether to add a bias.
    pub fn use_bias(mut self, use_bias: bool) -> Dense {
        self.use_bias = use_bias;
        self
    }

    /// The kernel's initialiser.
    pub fn kernel_init(mut self, init: Init) -> Dense {
        self.kernel_init = init;
        self
    }

    /// The bias's initialiser.
    pub fn bias_init(mut self, init: Init) -> Dense {
        self.bias_init = init;
        self
    }

    /// Applies the layer as a submodule of `cx` (`Dense_0`, `Dense_1`, ...), as `nn.Dense(...)(x)` in a Flax compact
    /// method.
    pub fn call(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        cx.child(self, |m, cx| m.forward(cx, x))
    }

    /// Applies the layer in `cx`, the layer's own scope (Flax's `Dense.__call__`).
    #[track_caller]
    pub fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let loc = SourceLocation::caller();
        if let Some(e) = x.error() {
            return Tensor::from_error(e.clone());
        }
        let Some(&in_features) = x.dims().last() else {
            return Tensor::fail("Dense", format!("the input must have rank >= 1, got {}", x.ty()), loc);
        };
        let kernel = cx.param("kernel", self.kernel_init.clone(), [in_features, self.features]);
        let bias = self.use_bias.then(|| cx.param("bias", self.bias_init.clone(), [self.features]));
        let dtype = match &bias {
            Some(b) => float_dtype(&[x, &kernel, b]),
            None => float_dtype(&[x, &kernel]),
        };
        let (x, kernel) = (x.astype(dtype), kernel.astype(dtype));
        let dims = DotDims {
            lhs_contracting: vec![x.rank() - 1],
            rhs_contracting: vec![0],
            lhs_batch: vec![],
            rhs_batch: vec![],
        };
        let y = x.dot_general(&kernel, dims);
        match bias {
            Some(b) => &y + &b.astype(dtype),
            None => y,
        }
    }
}
