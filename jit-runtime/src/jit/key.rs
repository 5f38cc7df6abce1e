//! The cache key of a staged function ("signature") and the explanation of a cache miss.

use std::any::Any;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::backend::Device;
use crate::ir::TensorType;

/// A value usable as a static argument: compared by `Eq` (a hash collision never reuses the wrong program).
trait DynStatic: Any + Send + Sync {
    fn dyn_eq(&self, other: &dyn DynStatic) -> bool;
    fn dyn_hash(&self, state: &mut dyn Hasher);
    fn dyn_debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    fn as_any(&self) -> &dyn Any;
}

impl<T: Hash + Eq + fmt::Debug + Send + Sync + 'static> DynStatic for T {
    fn dyn_eq(&self, other: &dyn DynStatic) -> bool {
        other.as_any().downcast_ref::<T>().is_some_and(|o| o == self)
    }
    fn dyn_hash(&self, mut state: &mut dyn Hasher) {
        std::any::TypeId::of::<T>().hash(&mut state);
        self.hash(&mut state);
    }
    fn dyn_debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A static argument's value as part of a cache key: any `Hash + Eq + Debug` value, type included.
#[derive(Clone)]
pub struct StaticValue(Arc<dyn DynStatic>);

impl StaticValue {
    /// Wraps a value.
    pub fn new<T: Hash + Eq + fmt::Debug + Send + Sync + 'static>(v: T) -> StaticValue {
        StaticValue(Arc::new(v))
    }
}

impl PartialEq for StaticValue {
    fn eq(&self, other: &Self) -> bool {
        self.0.dyn_eq(&*other.0)
    }
}

impl Eq for StaticValue {}

impl Hash for StaticValue {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.dyn_hash(state);
    }
}

impl fmt::Debug for StaticValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.dyn_debug(f)
    }
}

/// One part of a signature: a dynamic argument (leaf types and container structure) or a static value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyPart {
    /// Leaves' dtypes and shapes, and the container lengths that shape them.
    Dynamic {
        /// Dtype and shape of each leaf.
        types: Vec<TensorType>,
        /// Container structure (lengths), flattened.
        tree: Vec<usize>,
        /// Whether the argument is donated.
        donated: bool,
    },
    /// A static value.
    Static(StaticValue),
}

/// The signature of one call: equal keys share compiled code.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// One part per argument (and per extra input the caller adds, such as a module's value).
    pub parts: Vec<KeyPart>,
    /// Backend name.
    pub backend: Arc<str>,
    /// Device.
    pub device: Device,
}

/// Appends a string to a key's structure vector: its length, then its bytes packed eight to a word (keys of
/// variable paths are compared on every call, so they are kept short).
pub fn encode_str(s: &str, tree: &mut Vec<usize>) {
    tree.push(s.len());
    tree.extend(s.as_bytes().chunks(8).map(|c| {
        let mut word = [0u8; 8];
        word[..c.len()].copy_from_slice(c);
        u64::from_le_bytes(word) as usize
    }));
}

fn types_text(types: &[TensorType]) -> String {
    let t: Vec<String> = types.iter().map(|t| t.to_string()).collect();
    format!("({})", t.join(", "))
}

/// Says which parts of `new` differ from `old`, naming each part by `labels[i]`.
pub fn explain_difference(old: &CacheKey, new: &CacheKey, labels: &[String]) -> String {
    let label = |i: usize| labels.get(i).cloned().unwrap_or_else(|| format!("argument {i}"));
    let mut diffs = Vec::new();
    if old.parts.len() != new.parts.len() {
        diffs.push(format!("the number of arguments changed from {} to {}", old.parts.len(), new.parts.len()));
    }
    for (i, (a, b)) in old.parts.iter().zip(&new.parts).enumerate() {
        match (a, b) {
            (KeyPart::Static(x), KeyPart::Static(y)) if x != y => {
                diffs.push(format!("static {}: {x:?} became {y:?}", label(i)))
            }
            (
                KeyPart::Dynamic { types: ta, tree: ra, donated: da },
                KeyPart::Dynamic { types: tb, tree: rb, donated: db },
            ) => {
                if ra != rb || ta.len() != tb.len() {
                    diffs.push(format!(
                        "{}: structure changed from {} to {}",
                        label(i),
                        types_text(ta),
                        types_text(tb)
                    ));
                } else if ta != tb {
                    diffs.push(format!("{}: {} became {}", label(i), types_text(ta), types_text(tb)));
                }
                if da != db {
                    diffs.push(format!("{}: donation changed from {da} to {db}", label(i)));
                }
            }
            (KeyPart::Static(_), KeyPart::Dynamic { .. }) | (KeyPart::Dynamic { .. }, KeyPart::Static(_)) => {
                diffs.push(format!("{}: changed between static and dynamic", label(i)))
            }
            _ => {}
        }
    }
    if old.backend != new.backend {
        diffs.push(format!("backend changed from {} to {}", old.backend, new.backend));
    }
    if old.device != new.device {
        diffs.push(format!("device changed from {} to {}", old.device, new.device));
    }
    if diffs.is_empty() { "no difference from the previous signature".to_string() } else { diffs.join("; ") }
}
