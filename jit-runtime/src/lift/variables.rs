//! [`Variables`]: collections of named tensors, the state `init` creates and `apply` reads (Flax's variable dict).

use std::collections::BTreeMap;
use std::fmt;

use super::filter::Filter;
use crate::trace::Tensor;

/// One collection: variables by path (`Dense_0/kernel`), in path order.
pub type Collection = BTreeMap<String, Tensor>;

/// The variables of a model: collections (`params`, `batch_stats`, `intermediates`, user names), each a tree keyed
/// by module path, as Flax's `{'params': {'Dense_0': {'kernel': ...}}}` with the tree flattened to `/`-paths.
///
/// Values are [`Tensor`]s: concrete arrays normally, traced ones when `apply` runs inside a jitted function (so a
/// whole training step can be jitted with the variables as an argument).
///
/// ```
/// use jit_runtime::lift::Variables;
/// use jit_runtime::{DType, Tensor};
/// let mut v = Variables::new();
/// v.insert("params", "Dense_0/kernel", Tensor::zeros(DType::F32, [3, 4]));
/// v.insert("params", "Dense_0/bias", Tensor::zeros(DType::F32, [4]));
/// assert_eq!(v.count("params"), 16);
/// assert_eq!(v.get("params", "Dense_0/bias").map(|t| t.dims().to_vec()), Some(vec![4]));
/// assert_eq!(v.to_string(), "params\n  Dense_0/bias: f32[4]\n  Dense_0/kernel: f32[3,4]\n");
/// ```
#[derive(Clone, Default)]
pub struct Variables {
    collections: BTreeMap<String, Collection>,
}

impl Variables {
    /// No variables.
    pub fn new() -> Variables {
        Variables::default()
    }

    /// Sets `collection/path` to `value`.
    pub fn insert(&mut self, collection: &str, path: &str, value: Tensor) {
        self.collections.entry(collection.to_string()).or_default().insert(path.to_string(), value);
    }

    /// The variable at `path` in `collection`.
    pub fn get(&self, collection: &str, path: &str) -> Option<&Tensor> {
        self.collections.get(collection)?.get(path)
    }

    /// One collection.
    pub fn collection(&self, name: &str) -> Option<&Collection> {
        self.collections.get(name)
    }

    /// The collections by name.
    pub fn collections(&self) -> impl Iterator<Item = (&str, &Collection)> {
        self.collections.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The names of the collections.
    pub fn collection_names(&self) -> Vec<&str> {
        self.collections.keys().map(String::as_str).collect()
    }

    /// Every variable as `(collection, path, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &Tensor)> {
        self.collections.iter().flat_map(|(c, vars)| vars.iter().map(move |(p, t)| (c.as_str(), p.as_str(), t)))
    }

    /// Whether there is no collection.
    pub fn is_empty(&self) -> bool {
        self.collections.values().all(BTreeMap::is_empty)
    }

    /// The number of variables (tensors), all collections together.
    pub fn len(&self) -> usize {
        self.collections.values().map(BTreeMap::len).sum()
    }

    /// The number of scalars in `collection` (`count("params")` is the parameter count).
    pub fn count(&self, collection: &str) -> usize {
        self.collections.get(collection).map_or(0, |c| c.values().map(Tensor::numel).sum())
    }

    /// `self` with the collections of `updates` replacing its own, as Flax's `{**variables, **updates}`.
    pub fn merge(mut self, updates: Variables) -> Variables {
        for (name, collection) in updates.collections {
            self.collections.insert(name, collection);
        }
        self
    }

    /// The collections that pass `filter`.
    pub fn filter(&self, filter: &Filter) -> Variables {
        let collections =
            self.collections.iter().filter(|(name, _)| filter.matches(name)).map(|(k, v)| (k.clone(), v.clone()));
        Variables { collections: collections.collect() }
    }

    /// Takes one collection out.
    pub fn remove_collection(&mut self, name: &str) -> Option<Collection> {
        self.collections.remove(name)
    }
}

impl fmt::Display for Variables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, vars) in &self.collections {
            writeln!(f, "{name}")?;
            for (path, t) in vars {
                writeln!(f, "  {path}: {}", t.ty())?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Variables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Variables {{ ")?;
        for (i, (c, p, t)) in self.iter().enumerate() {
            write!(f, "{}{c}/{p}: {}", if i == 0 { "" } else { ", " }, t.ty())?;
        }
        write!(f, " }}")
    }
}

impl FromIterator<(String, String, Tensor)> for Variables {
    fn from_iter<I: IntoIterator<Item = (String, String, Tensor)>>(iter: I) -> Variables {
        let mut v = Variables::new();
        for (c, p, t) in iter {
            v.insert(&c, &p, t);
        }
        v
    }
}

/// Variables are a dynamic argument of `jit`: every variable is a leaf and the names are the structure, so a
/// training step `jit(|vars: Variables, x: Tensor| ...)` traces once per model structure.
impl crate::jit::Arg for Variables {
    fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<(), String> {
        encode_structure(self, tree);
        leaves.extend(self.iter().map(|(_, _, t)| t.clone()));
        Ok(())
    }

    fn unflatten(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Self {
        rebuild(self, leaves)
    }

    fn to_static(&self) -> Result<crate::jit::StaticValue, String> {
        Err("variables hold arrays: they cannot be static".to_string())
    }
}

/// The names of every collection and variable, as numbers for a cache key.
pub(crate) fn encode_structure(v: &Variables, tree: &mut Vec<usize>) {
    tree.push(v.collections.len());
    for (name, vars) in &v.collections {
        encode_str(name, tree);
        tree.push(vars.len());
        for path in vars.keys() {
            encode_str(path, tree);
        }
    }
}

use crate::jit::encode_str;

/// `template`'s structure with values from `leaves` (in [`Variables::iter`] order).
pub(crate) fn rebuild(template: &Variables, leaves: &mut dyn Iterator<Item = Tensor>) -> Variables {
    let collections = template
        .collections
        .iter()
        .map(|(name, vars)| {
            let vars = vars
                .keys()
                .map(|p| {
                    let t = leaves.next().unwrap_or_else(|| {
                        Tensor::from_error(crate::Error::Trace("internal: missing variable leaf".into()))
                    });
                    (p.clone(), t)
                })
                .collect();
            (name.clone(), vars)
        })
        .collect();
    Variables { collections }
}
