//! `lifted-jit`: Flax's lifted `jit` for Rust.
pub use jit_runtime::*;
