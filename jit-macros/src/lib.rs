//! The `#[lifted_jit]` attribute (arrives with the attribute issue; this crate is its skeleton).
