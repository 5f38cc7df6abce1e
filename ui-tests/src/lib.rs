//! trybuild cases for `#[lifted_jit]` live in `tests/`; they arrive with the attribute.
