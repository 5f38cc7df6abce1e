//! The jit call path: [`jit`] for closures, the [`StagedFunction`] core it shares with `#[lifted_jit]`, cache
//! keys, and the flattening of arguments and results.

mod args;
mod function;
mod key;
mod staged;

pub use args::{Arg, Output, Static};
pub use function::{ArgView, Args, Jit, JitFn, Lowered, disable_jit, jit, jit_disabled};
pub use key::{CacheKey, KeyPart, StaticValue, encode_str, explain_difference};
pub use staged::{CallInputs, Compiled, StagedFunction, Traced};
