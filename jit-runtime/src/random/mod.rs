//! JAX-compatible random numbers: threefry2x32 keys, `split`, `fold_in`, `random_bits`, `uniform`, `normal`,
//! `truncated_normal`, `bernoulli`.

mod threefry;

pub use threefry::threefry2x32;
