//! trybuild cases of `#[lifted_jit]` and `#[derive(Module)]`: `tests/ui/fail/*.rs` (one per diagnostic, with the
//! expected `.stderr`) and `tests/ui/pass/*.rs` (every accepted form). Run with `cargo test -p ui-tests`;
//! `TRYBUILD=overwrite` rewrites the `.stderr` files, which are then read and reviewed like code.
