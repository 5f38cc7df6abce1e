//! Collection and stream filters: which variable collections (or PRNG streams) a lifted transform sees, and which
//! collections `apply` may write. The grammar is Flax's: `true`, `false`, a name, a list of names, `DenyList`.

use std::fmt;

/// Selects collection (or stream) names, as Flax's `CollectionFilter`.
///
/// ```
/// use jit_runtime::lift::Filter;
/// assert!(Filter::All.matches("params"));
/// assert!(!Filter::Nothing.matches("params"));
/// assert!(Filter::only(&["params", "batch_stats"]).matches("batch_stats"));
/// assert!(!Filter::deny(&["intermediates"]).matches("intermediates"));
/// assert_eq!(Filter::from(["batch_stats"]).to_string(), "[\"batch_stats\"]");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Filter {
    /// Every name (`true`).
    #[default]
    All,
    /// No name (`false`).
    Nothing,
    /// Exactly these names.
    Only(Vec<String>),
    /// Every name except these (Flax's `DenyList`).
    Deny(Vec<String>),
}

impl Filter {
    /// Exactly `names`.
    pub fn only(names: &[&str]) -> Filter {
        Filter::Only(names.iter().map(|s| s.to_string()).collect())
    }

    /// Every name except `names`.
    pub fn deny(names: &[&str]) -> Filter {
        Filter::Deny(names.iter().map(|s| s.to_string()).collect())
    }

    /// Whether `name` passes the filter.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Filter::All => true,
            Filter::Nothing => false,
            Filter::Only(names) => names.iter().any(|n| n == name),
            Filter::Deny(names) => !names.iter().any(|n| n == name),
        }
    }

    /// The names passing both filters.
    pub fn intersect(&self, other: &Filter) -> Filter {
        match (self, other) {
            (Filter::All, f) | (f, Filter::All) => f.clone(),
            (Filter::Nothing, _) | (_, Filter::Nothing) => Filter::Nothing,
            (Filter::Only(a), f) | (f, Filter::Only(a)) => {
                Filter::Only(a.iter().filter(|n| f.matches(n)).cloned().collect())
            }
            (Filter::Deny(a), Filter::Deny(b)) => Filter::Deny(a.iter().chain(b).cloned().collect()),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |names: &[String]| names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ");
        match self {
            Filter::All => write!(f, "true"),
            Filter::Nothing => write!(f, "false"),
            Filter::Only(names) => write!(f, "[{}]", list(names)),
            Filter::Deny(names) => write!(f, "deny([{}])", list(names)),
        }
    }
}

impl From<bool> for Filter {
    fn from(all: bool) -> Filter {
        if all { Filter::All } else { Filter::Nothing }
    }
}

impl From<&str> for Filter {
    fn from(name: &str) -> Filter {
        Filter::Only(vec![name.to_string()])
    }
}

impl From<String> for Filter {
    fn from(name: String) -> Filter {
        Filter::Only(vec![name])
    }
}

impl<const N: usize> From<[&str; N]> for Filter {
    fn from(names: [&str; N]) -> Filter {
        Filter::only(&names)
    }
}

impl From<&[&str]> for Filter {
    fn from(names: &[&str]) -> Filter {
        Filter::only(names)
    }
}

impl From<Vec<String>> for Filter {
    fn from(names: Vec<String>) -> Filter {
        Filter::Only(names)
    }
}

#[cfg(test)]
mod tests {
    use super::Filter;

    #[test]
    fn intersection_keeps_names_in_both() {
        let a = Filter::only(&["params", "batch_stats"]);
        assert_eq!(a.intersect(&Filter::deny(&["params"])), Filter::only(&["batch_stats"]));
        assert_eq!(Filter::All.intersect(&a), a);
        assert_eq!(Filter::Nothing.intersect(&a), Filter::Nothing);
        let d = Filter::deny(&["a"]).intersect(&Filter::deny(&["b"]));
        assert!(!d.matches("a") && !d.matches("b") && d.matches("c"));
    }
}
