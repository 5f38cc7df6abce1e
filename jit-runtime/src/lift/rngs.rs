//! PRNG streams: the root keys of `init`/`apply` ([`Rngs`]) and Flax's derivation of a module's keys.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::random::threefry2x32;
use crate::trace::Tensor;

/// The root keys of the PRNG streams of one `init` or `apply` (Flax's `rngs={'params': k0, 'dropout': k1}`).
///
/// A single key means the `params` stream, as `model.init(key, ...)` in Flax.
///
/// ```
/// use jit_runtime::lift::Rngs;
/// use jit_runtime::random;
/// let rngs = Rngs::from(random::key(0));
/// assert_eq!(rngs.names(), vec!["params"]);
/// let rngs = Rngs::from([("params", random::key(0)), ("dropout", random::key(1))]);
/// assert_eq!(rngs.names(), vec!["dropout", "params"]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Rngs {
    keys: BTreeMap<String, Tensor>,
}

impl Rngs {
    /// No streams.
    pub fn new() -> Rngs {
        Rngs::default()
    }

    /// Adds (or replaces) the root key of `stream`.
    pub fn with(mut self, stream: &str, key: Tensor) -> Rngs {
        self.keys.insert(stream.to_string(), key);
        self
    }

    /// The stream names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.keys.keys().map(String::as_str).collect()
    }

    /// The root key of `stream`.
    pub fn get(&self, stream: &str) -> Option<&Tensor> {
        self.keys.get(stream)
    }

    pub(crate) fn into_map(self) -> BTreeMap<String, Tensor> {
        self.keys
    }
}

impl From<Tensor> for Rngs {
    fn from(key: Tensor) -> Rngs {
        Rngs::new().with("params", key)
    }
}

impl From<&Tensor> for Rngs {
    fn from(key: &Tensor) -> Rngs {
        Rngs::from(key.clone())
    }
}

impl<S: AsRef<str>, const N: usize> From<[(S, Tensor); N]> for Rngs {
    fn from(keys: [(S, Tensor); N]) -> Rngs {
        keys.into_iter().fold(Rngs::new(), |r, (s, k)| r.with(s.as_ref(), k))
    }
}

impl<S: AsRef<str>> From<Vec<(S, Tensor)>> for Rngs {
    fn from(keys: Vec<(S, Tensor)>) -> Rngs {
        keys.into_iter().fold(Rngs::new(), |r, (s, k)| r.with(s.as_ref(), k))
    }
}

/// Flax's fold-in data for the `k`-th `make_rng` (from 1) of the module at `path`: the first four bytes, big-endian,
/// of `SHA1(p1 ‖ … ‖ pn ‖ be(k))`, where `be(k)` is `k` in big-endian bytes without leading zero bytes.
///
/// ```
/// use jit_runtime::lift::rng_fold_data;
/// assert_eq!(rng_fold_data(&[], 1), 0xbf8b4530);
/// ```
pub fn rng_fold_data(path: &[String], k: u32) -> u32 {
    let mut hasher = sha1_smol::Sha1::new();
    for segment in path {
        hasher.update(segment.as_bytes());
    }
    let bytes = k.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    hasher.update(&bytes[skip..]);
    let digest = hasher.digest().bytes();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// The key of the `k`-th `make_rng` at `path` from the stream's root key: `fold_in(root, H(path, k))`. A concrete
/// root is folded on the host (no graph, no interpreter); a traced one with staged ops. Both give the same bits.
pub(crate) fn derive_key(root: &Tensor, path: &[String], k: u32) -> Tensor {
    let data = rng_fold_data(path, k);
    if !root.is_traced()
        && root.error().is_none()
        && let Ok(key) = host_key(root)
    {
        let (y0, y1) = threefry2x32(key[0], key[1], 0, data);
        return Tensor::vector(&[y0, y1]);
    }
    crate::random::fold_in(root, data)
}

/// A concrete `u32[2]` key's words.
pub(crate) fn host_key(key: &Tensor) -> Result<[u32; 2]> {
    let words = key.to_vec::<u32>()?;
    match words[..] {
        [a, b] => Ok([a, b]),
        _ => Err(crate::Error::invalid_argument(format!("a PRNG key must be u32[2], got {}", key.ty()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_data_matches_flax_known_answer() {
        assert_eq!(rng_fold_data(&[], 1), 0xbf8b4530);
        // Leading zero bytes are dropped: 256 is [0x01, 0x00].
        let mut h = sha1_smol::Sha1::new();
        h.update(b"Dense_0");
        h.update(&[1, 0]);
        let d = h.digest().bytes();
        assert_eq!(rng_fold_data(&["Dense_0".to_string()], 256), u32::from_be_bytes([d[0], d[1], d[2], d[3]]));
    }
}
