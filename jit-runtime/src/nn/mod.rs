//! Layers, activations and initialisers as in `flax.linen` and `jax.nn`, with Flax's parameter names, layouts,
//! defaults and PRNG use, so a model ported from Flax initialises, drops out and normalises as Flax does.
//!
//! Each layer is a [`Module`](crate::lift::Module) value with a builder (`Dense::new(3).use_bias(false)`), a `call`
//! that runs it as an automatically named submodule (`Dense_0`, `Dense_1`, as in a Flax compact method), and a
//! `forward` that runs it in its own scope (to `init`/`apply` the layer alone, or inside
//! [`Scope::child_named`](crate::lift::Scope::child_named)).
//!
//! | Flax | here |
//! |---|---|
//! | `nn.Dense(features, use_bias, kernel_init, bias_init)` | [`Dense`] |
//! | `nn.Dropout(rate, broadcast_dims, rng_collection)` | [`Dropout`] |
//! | `nn.BatchNorm(use_running_average, axis, momentum, epsilon, ...)` | [`BatchNorm`] |
//! | `nn.LayerNorm(epsilon, use_bias, use_scale, ...)` | [`LayerNorm`] |
//! | `nn.Embed(num_embeddings, features)`, `.attend` | [`Embed`] |
//! | `nn.relu`, `nn.gelu`, `nn.softmax`, ... | [`relu`], [`gelu`], [`softmax`], ... |
//! | `nn.initializers.lecun_normal()`, ... | [`initializers::lecun_normal`], ... ([`Init`]) |
//!
//! ```
//! use jit_runtime::lift::{Module, Scope};
//! use jit_runtime::{nn, random, DType, Tensor};
//!
//! #[derive(Clone, Debug, PartialEq, Eq, Hash)]
//! struct Mlp { hidden: usize }
//! impl Module for Mlp { const NAME: &'static str = "Mlp"; }
//! impl Mlp {
//!     fn forward(&self, cx: &mut Scope, x: &Tensor, train: bool) -> Tensor {
//!         let h = nn::relu(&nn::Dense::new(self.hidden).call(cx, x));          // Dense_0
//!         let h = nn::Dropout::new(0.1).call(cx, &h, !train);                  // Dropout_0
//!         nn::Dense::new(2).call(cx, &h)                                        // Dense_1
//!     }
//! }
//!
//! let m = Mlp { hidden: 8 };
//! let x = Tensor::ones(DType::F32, [4, 3]);
//! let variables = m.init(random::key(0), |m, cx| m.forward(cx, &x, false))?;
//! assert_eq!(variables.get("params", "Dense_1/kernel").map(|k| k.dims().to_vec()), Some(vec![8, 2]));
//! let (y, _) = m.apply(&variables).rngs([("dropout", random::key(1))]).call(|m, cx| m.forward(cx, &x, true))?;
//! assert_eq!(y.dims(), [4, 2]);
//! # Ok::<(), jit_runtime::Error>(())
//! ```

mod activations;
mod batch_norm;
mod dense;
mod dropout;
mod embed;
pub mod initializers;
mod layer_norm;
mod normalization;
mod promote;

pub use activations::{
    elu, gelu, gelu_exact, leaky_relu, log_softmax, one_hot, relu, sigmoid, silu, softmax, softplus, swish, tanh,
};
pub use batch_norm::BatchNorm;
pub use dense::Dense;
pub use dropout::Dropout;
pub use embed::Embed;
pub use initializers::Init;
pub use layer_norm::LayerNorm;
