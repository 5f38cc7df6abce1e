//! The `#[lifted_jit]` attribute and `#[derive(Module)]` of lifted-jit (use them through the `lifted_jit` facade).
//!
//! `#[lifted_jit(...)]` is Flax's `nn.jit`: on a module's impl block, each selected method traces on its first call
//! with a new signature and runs compiled code afterwards.
//!
//! ```ignore
//! use lifted_jit::prelude::*;
//!
//! #[derive(Module, Clone, Debug)]
//! pub struct Mlp {
//!     pub hidden: usize,
//!     pub dropout: f32, // compared and hashed by bit pattern
//! }
//!
//! #[lifted_jit(
//!     variables = true,             // true | false | "params" | ["params", "batch_stats"] | deny("intermediates")
//!     rngs = ["dropout"],           // same filter grammar
//!     static_argnames = ["train"],  // or static_argnums = [3] (the receiver is 0)
//!     donate_argnums = [],          // or donate_argnames = ["state"]; donated parameters are taken by value
//!     backend = "cpu",              // "cpu" | "gpu" | "cuda" | "interpreter"; or device = "cuda:0", not both
//!     methods = [forward],          // omitted: every method taking `&self`
//! )]
//! impl Mlp {
//!     pub fn forward(&self, cx: &mut Scope, x: &Tensor, train: bool) -> Tensor {
//!         let h = nn::Dense::new(self.hidden).call(cx, x).relu();
//!         nn::Dropout::new(self.dropout).call(cx, &h, !train)
//!     }
//! }
//!
//! // The method keeps its signature; `forward_jit()` is its jit state.
//! assert_eq!(Mlp::forward_jit().trace_count(), 0);
//!
//! // A free fn whose first parameter is the module:
//! #[lifted_jit(donate_argnames = ["state"])]
//! fn train_step(model: &Mlp, cx: &mut Scope, state: Tensor, batch: &Tensor) -> Tensor {
//!     // ...
//! #   state
//! }
//! ```
//!
//! Every mistake in the attribute is a compile error on the token to fix, and all of them are reported at once:
//! unknown keys (with "did you mean"), bad filters, positions out of range or on the receiver or the scope, unknown
//! parameter names, a parameter both static and donated, a donated parameter taken by reference, `device` with
//! `backend`, unknown backends, `methods` entries that are not in the block, generic methods, `&mut` parameters
//! other than the scope. The generated code refers to the facade's `__private` module; `crate = "path"` changes the
//! facade's path for crates that re-export it.

mod args;
mod ast;
mod expand;
mod filter;
mod module_derive;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Jits the methods of a module's impl block, or a free fn whose first parameter is a module: see the crate docs.
#[proc_macro_attribute]
pub fn lifted_jit(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(attr.into(), item.into()).into()
}

/// Makes a struct or enum a module: `Module::NAME` (the type's name, or `#[module(name = "...")]`) and `PartialEq`,
/// `Eq`, `Hash` over every field, floats by bit pattern, so modules can be part of a compile cache key.
#[proc_macro_derive(Module, attributes(module))]
pub fn derive_module(input: TokenStream) -> TokenStream {
    module_derive::expand(input.into()).into()
}
