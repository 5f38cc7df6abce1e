//! PRNG keys: creation, `split`, `fold_in`, and raw `random_bits`, all through the `threefry2x32` op so they are
//! staged (and fused) inside jitted code.

use crate::array::{DType, Shape};
use crate::error::SourceLocation;
use crate::trace::Tensor;

/// A key from a seed, as `jax.random.PRNGKey(seed)` in JAX's default 32-bit mode: `[0, seed as u32]` (only the
/// low 32 bits are kept: `key(-1)` is `[0, 0xffffffff]`, `key(2^32 + 5)` is `[0, 5]`).
///
/// ```
/// use jit_runtime::random;
/// assert_eq!(random::key(-1).to_vec::<u32>()?, vec![0, 0xffff_ffff]);
/// # Ok::<(), jit_runtime::Error>(())
/// ```
#[track_caller]
pub fn key(seed: i64) -> Tensor {
    Tensor::vector(&[0u32, seed as u32])
}

/// A key from a seed as JAX makes it with `jax_enable_x64`: `[(seed >> 32) as u32, seed as u32]`
/// (`key_x64(-1)` is `[0xffffffff, 0xffffffff]`).
#[track_caller]
pub fn key_x64(seed: i64) -> Tensor {
    Tensor::vector(&[(seed >> 32) as u32, seed as u32])
}

/// Checks that `key` is a `u32[2]` key; an error tensor naming `op` otherwise.
pub(crate) fn check_key(key: &Tensor, op: &str, loc: SourceLocation) -> Result<(Tensor, Tensor), Tensor> {
    if let Some(e) = key.error() {
        return Err(Tensor::from_error(e.clone()));
    }
    if key.dtype() != DType::U32 || key.dims() != [2] {
        return Err(Tensor::fail(op, format!("expects a key of type u32[2], got {}", key.ty()), loc));
    }
    let k0 = key.slice_at(&[0], &[1], loc).reshape_at(Shape::scalar(), loc);
    let k1 = key.slice_at(&[1], &[2], loc).reshape_at(Shape::scalar(), loc);
    Ok((k0, k1))
}

/// `threefry(key, hi32(i), lo32(i))` for flat counters `i` in `0..n`, as two `u32[n]` words.
fn counters(k0: &Tensor, k1: &Tensor, n: usize, op: &str, loc: SourceLocation) -> (Tensor, Tensor) {
    if n as u64 > u32::MAX as u64 {
        let t = Tensor::fail(op, format!("{n} values are more than one key can generate here (2^32)"), loc);
        return (t.clone(), t);
    }
    let hi = Tensor::zeros_at(DType::U32, Shape::from([n]), loc);
    let lo = Tensor::iota_at(DType::U32, Shape::from([n]), 0, loc);
    Tensor::threefry_at(k0, k1, &hi, &lo, loc)
}

/// `n` new keys as a `u32[n, 2]` tensor; key `i` is `threefry(key, hi32(i), lo32(i))`, as `jax.random.split`.
///
/// ```
/// use jit_runtime::random;
/// let keys = random::split(&random::key(0), 2);
/// assert_eq!(keys.to_vec::<u32>()?, vec![0x6b200159, 0x99ba4efe, 0x375f238f, 0xcddb151d]);
/// # Ok::<(), jit_runtime::Error>(())
/// ```
#[track_caller]
pub fn split(key: &Tensor, n: usize) -> Tensor {
    let loc = SourceLocation::caller();
    let (k0, k1) = match check_key(key, "split", loc) {
        Ok(k) => k,
        Err(t) => return t,
    };
    let (y0, y1) = counters(&k0, &k1, n, "split", loc);
    Tensor::concatenate_at(&[y0.reshape_at([n, 1], loc), y1.reshape_at([n, 1], loc)], 1, loc)
}

/// Key `i` of `split(key, n)` for any `n > i`, without making the others (the row `i` of [`split`]).
#[track_caller]
pub fn split_one(key: &Tensor, i: u32) -> Tensor {
    fold_in(key, i)
}

/// Mixes `data` into `key`: `threefry(key, 0, data)`, as `jax.random.fold_in`.
#[track_caller]
pub fn fold_in(key: &Tensor, data: u32) -> Tensor {
    let loc = SourceLocation::caller();
    fold_in_tensor_at(key, &Tensor::constant_at(crate::array::Literal::scalar(data), loc), loc)
}

/// [`fold_in`] with the data as a `u32` scalar tensor (traced data stays a runtime input).
#[track_caller]
pub fn fold_in_tensor(key: &Tensor, data: &Tensor) -> Tensor {
    fold_in_tensor_at(key, data, SourceLocation::caller())
}

fn fold_in_tensor_at(key: &Tensor, data: &Tensor, loc: SourceLocation) -> Tensor {
    let (k0, k1) = match check_key(key, "fold_in", loc) {
        Ok(k) => k,
        Err(t) => return t,
    };
    if data.error().is_none() && (data.dtype() != DType::U32 || data.rank() != 0) {
        return Tensor::fail("fold_in", format!("data must be a u32 scalar, got {}", data.ty()), loc);
    }
    let zero = Tensor::zeros_at(DType::U32, Shape::scalar(), loc);
    let (y0, y1) = Tensor::threefry_at(&k0, &k1, &zero, data, loc);
    Tensor::concatenate_at(&[y0.reshape_at([1], loc), y1.reshape_at([1], loc)], 0, loc)
}

/// Uniformly random `u32` bits of `shape`: element `i` (flat, row-major) is `y0 ^ y1` of
/// `threefry(key, hi32(i), lo32(i))`, as `jax.random.bits` (partitionable threefry).
#[track_caller]
pub fn random_bits(key: &Tensor, shape: impl Into<Shape>) -> Tensor {
    random_bits_at(key, &shape.into(), "random_bits", SourceLocation::caller())
}

pub(crate) fn random_bits_at(key: &Tensor, shape: &Shape, op: &str, loc: SourceLocation) -> Tensor {
    let (k0, k1) = match check_key(key, op, loc) {
        Ok(k) => k,
        Err(t) => return t,
    };
    let Some(n) = shape.checked_numel() else {
        return Tensor::fail(op, format!("shape {shape} has too many elements"), loc);
    };
    let (y0, y1) = counters(&k0, &k1, n, op, loc);
    y0.binary(&y1, crate::ir::BinaryOp::Xor, loc).reshape_at(shape.clone(), loc)
}
