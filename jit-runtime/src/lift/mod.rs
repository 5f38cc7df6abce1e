//! Flax's module system and its lifted `jit`: modules as configuration values ([`Module`]), scopes through which
//! methods reach variables and PRNG streams ([`Scope`]), variable collections ([`Variables`]), `init`/`apply`,
//! and the call path of `#[lifted_jit]` methods ([`LiftedFn`], [`LiftedCall`]).
//!
//! | Flax | here |
//! |---|---|
//! | `variables = model.init(key, x)` | `let variables = model.init(key, \|m, cx\| m.forward(cx, &x))?;` |
//! | `y, upd = model.apply(variables, x, rngs={'dropout': k}, mutable=['batch_stats'])` | `let (y, upd) = model.apply(&variables).rngs([("dropout", k)]).mutable(["batch_stats"]).call(\|m, cx\| m.forward(cx, &x))?;` |
//! | `self.param('kernel', init, shape)` | `cx.param("kernel", init, shape)` |
//! | `self.variable('batch_stats', 'mean', init)` | `cx.variable("batch_stats", "mean", \|_\| init)` |
//! | `self.make_rng('dropout')` | `cx.make_rng("dropout")` |
//! | `nn.Dense(10)(x)` in a compact method | `cx.child(&Dense::new(10), \|d, cx\| d.forward(cx, &x))` (layers wrap this as `.call(cx, &x)`) |
//! | `nn.jit(Model, variables=..., rngs=...)` | `#[lifted_jit(variables = ..., rngs = ...)] impl Model { ... }` |

mod args;
mod filter;
mod frame;
mod initializer;
mod lifted;
mod module;
mod rngs;
mod scope;
mod variables;

pub use args::{DynamicArg, LiftOutput, StaticArg};
pub use filter::Filter;
pub use initializer::Initializer;
pub use lifted::{LiftSpec, LiftedCall, LiftedFn};
pub use module::{Apply, Module};
pub use rngs::{Rngs, rng_fold_data};
pub use scope::Scope;
pub use variables::{Collection, Variables};
