//! How arguments and results of jitted functions are flattened into array leaves and rebuilt.
//!
//! An argument is either dynamic (a [`Tensor`] or a container of them: `Vec`, tuples, `BTreeMap<String, _>`) or
//! static (a hashable value: integers, `bool`, floats by bit pattern, strings, or any `Hash + Eq` type wrapped in
//! [`Static`]). Which one is decided by `static_argnums`, as in JAX; a mismatch is a clear error.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::Hash;

use super::key::StaticValue;
use crate::error::{Error, Result};
use crate::trace::Tensor;

/// A value that can be passed to a jitted function.
pub trait Arg: Clone {
    /// Appends the array leaves and the container structure; `Err(message)` when this type holds no arrays and
    /// must be static.
    fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<(), String>;

    /// Rebuilds a value of the same structure as `self` from leaves (traced ones, when tracing).
    fn unflatten(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Self;

    /// The value as a static cache-key part; `Err(message)` when this type cannot be static.
    fn to_static(&self) -> Result<StaticValue, String>;
}

impl Arg for Tensor {
    fn flatten(&self, leaves: &mut Vec<Tensor>, _tree: &mut Vec<usize>) -> Result<(), String> {
        leaves.push(self.clone());
        Ok(())
    }
    fn unflatten(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Self {
        leaves.next().unwrap_or_else(|| Tensor::from_error(Error::Trace("internal: missing leaf".into())))
    }
    fn to_static(&self) -> Result<StaticValue, String> {
        Err("a Tensor cannot be static: its value is not known at trace time".to_string())
    }
}

impl<T: Arg> Arg for Vec<T> {
    fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<(), String> {
        tree.push(self.len());
        self.iter().try_for_each(|x| x.flatten(leaves, tree))
    }
    fn unflatten(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Self {
        self.iter().map(|x| x.unflatten(leaves)).collect()
    }
    fn to_static(&self) -> Result<StaticValue, String> {
        let parts = self.iter().map(Arg::to_static).collect::<Result<Vec<_>, _>>()?;
        Ok(StaticValue::new(parts))
    }
}

impl<T: Arg> Arg for BTreeMap<String, T> {
    fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<(), String> {
        tree.push(self.len());
        for (k, v) in self {
            // The keys are structure: hash them into the tree as their lengths and bytes.
            super::key::encode_str(k, tree);
            v.flatten(leaves, tree)?;
        }
        Ok(())
    }
    fn unflatten(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Self {
        self.iter().map(|(k, v)| (k.clone(), v.unflatten(leaves))).collect()
    }
    fn to_static(&self) -> Result<StaticValue, String> {
        let parts = self.iter().map(|(k, v)| v.to_static().map(|s| (k.clone(), s))).collect::<Result<Vec<_>, _>>()?;
        Ok(StaticValue::new(parts))
    }
}

macro_rules! tuple_arg {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Arg),+> Arg for ($($name,)+) {
            fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<(), String> {
                $(self.$idx.flatten(leaves, tree)?;)+
                Ok(())
            }
            fn unflatten(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Self {
                ($(self.$idx.unflatten(leaves),)+)
            }
            fn to_static(&self) -> Result<StaticValue, String> {
                Ok(StaticValue::new(vec![$(self.$idx.to_static()?),+]))
            }
        }
    };
}
tuple_arg!(A 0, B 1);
tuple_arg!(A 0, B 1, C 2);
tuple_arg!(A 0, B 1, C 2, D 3);

macro_rules! static_only {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            fn flatten(&self, _: &mut Vec<Tensor>, _: &mut Vec<usize>) -> Result<(), String> {
                Err(format!("a `{}` is not an array: mark it static (static_argnums) or pass a Tensor", stringify!($t)))
            }
            fn unflatten(&self, _: &mut dyn Iterator<Item = Tensor>) -> Self {
                self.clone()
            }
            fn to_static(&self) -> Result<StaticValue, String> {
                Ok(StaticValue::new(self.clone()))
            }
        }
    )*};
}
static_only!(usize, u8, u16, u32, u64, isize, i8, i16, i32, i64, bool, char, String, &'static str);

/// A float used as a static value is compared by bit pattern (so `NaN == NaN` and `0.0 != -0.0` as keys).
macro_rules! static_float {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            fn flatten(&self, _: &mut Vec<Tensor>, _: &mut Vec<usize>) -> Result<(), String> {
                Err(format!("a `{}` is not an array: mark it static (static_argnums) or pass a Tensor", stringify!($t)))
            }
            fn unflatten(&self, _: &mut dyn Iterator<Item = Tensor>) -> Self {
                *self
            }
            fn to_static(&self) -> Result<StaticValue, String> {
                Ok(StaticValue::new(FloatBits(self.to_bits() as u64, *self as f64)))
            }
        }
    )*};
}
static_float!(f32, f64);

/// A float as a key: equal by bits, printed as the number.
#[derive(Clone, Copy)]
struct FloatBits(u64, f64);

impl PartialEq for FloatBits {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl Eq for FloatBits {}
impl Hash for FloatBits {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}
impl fmt::Debug for FloatBits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.1)
    }
}

/// Wraps any `Hash + Eq` value so it can be passed as a static argument.
///
/// ```
/// use jit_runtime::jit::{jit, Static};
/// use jit_runtime::{Tensor, DType};
/// #[derive(Clone, Debug, PartialEq, Eq, Hash)]
/// enum Act { Relu, Tanh }
/// let f = jit(|x: Tensor, act: Static<Act>| match act.0 { Act::Relu => x.relu(), Act::Tanh => x.tanh() })
///     .static_argnums([1]);
/// let y = f.call((Tensor::full(DType::F32, [2], -1.0), Static(Act::Relu)))?;
/// assert_eq!(y.to_vec::<f32>()?, vec![0.0, 0.0]);
/// # Ok::<(), jit_runtime::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Static<T>(pub T);

impl<T: Clone + Hash + Eq + fmt::Debug + Send + Sync + 'static> Arg for Static<T> {
    fn flatten(&self, _: &mut Vec<Tensor>, _: &mut Vec<usize>) -> Result<(), String> {
        Err("a `Static` value is not an array: list it in static_argnums".to_string())
    }
    fn unflatten(&self, _: &mut dyn Iterator<Item = Tensor>) -> Self {
        self.clone()
    }
    fn to_static(&self) -> Result<StaticValue, String> {
        Ok(StaticValue::new(self.0.clone()))
    }
}

/// What a jitted function may return: tensors, containers of them, and `Result`s of those.
pub trait Output: Sized {
    /// What the caller receives (for `Result<T>`, `T`'s value; otherwise `Self`).
    type Value;

    /// Appends the result leaves and structure; the `Err` of a `Result` output comes out here.
    fn flatten_out(self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<()>;

    /// Rebuilds the value from leaves and structure.
    fn unflatten_out(
        leaves: &mut dyn Iterator<Item = Tensor>,
        tree: &mut dyn Iterator<Item = usize>,
    ) -> Result<Self::Value>;

    /// The value when the function ran without compilation (inlined or eager).
    fn into_value(self) -> Result<Self::Value>;
}

fn missing() -> Error {
    Error::Trace("internal: output structure does not match the compiled program".into())
}

impl Output for Tensor {
    type Value = Tensor;
    fn flatten_out(self, leaves: &mut Vec<Tensor>, _: &mut Vec<usize>) -> Result<()> {
        leaves.push(self);
        Ok(())
    }
    fn unflatten_out(leaves: &mut dyn Iterator<Item = Tensor>, _: &mut dyn Iterator<Item = usize>) -> Result<Tensor> {
        leaves.next().ok_or_else(missing)
    }
    fn into_value(self) -> Result<Tensor> {
        match self.error() {
            Some(e) => Err(e.clone()),
            None => Ok(self),
        }
    }
}

impl<T: Output> Output for Vec<T> {
    type Value = Vec<T::Value>;
    fn flatten_out(self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<()> {
        tree.push(self.len());
        self.into_iter().try_for_each(|x| x.flatten_out(leaves, tree))
    }
    fn unflatten_out(
        leaves: &mut dyn Iterator<Item = Tensor>,
        tree: &mut dyn Iterator<Item = usize>,
    ) -> Result<Self::Value> {
        let n = tree.next().ok_or_else(missing)?;
        (0..n).map(|_| T::unflatten_out(leaves, tree)).collect()
    }
    fn into_value(self) -> Result<Self::Value> {
        self.into_iter().map(Output::into_value).collect()
    }
}

impl<T: Output> Output for Result<T> {
    type Value = T::Value;
    fn flatten_out(self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<()> {
        self?.flatten_out(leaves, tree)
    }
    fn unflatten_out(
        leaves: &mut dyn Iterator<Item = Tensor>,
        tree: &mut dyn Iterator<Item = usize>,
    ) -> Result<Self::Value> {
        T::unflatten_out(leaves, tree)
    }
    fn into_value(self) -> Result<Self::Value> {
        self?.into_value()
    }
}

macro_rules! tuple_output {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Output),+> Output for ($($name,)+) {
            type Value = ($($name::Value,)+);
            fn flatten_out(self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<()> {
                $(self.$idx.flatten_out(leaves, tree)?;)+
                Ok(())
            }
            fn unflatten_out(
                leaves: &mut dyn Iterator<Item = Tensor>,
                tree: &mut dyn Iterator<Item = usize>,
            ) -> Result<Self::Value> {
                Ok(($($name::unflatten_out(leaves, tree)?,)+))
            }
            fn into_value(self) -> Result<Self::Value> {
                Ok(($(self.$idx.into_value()?,)+))
            }
        }
    };
}
tuple_output!(A 0);
tuple_output!(A 0, B 1);
tuple_output!(A 0, B 1, C 2);
tuple_output!(A 0, B 1, C 2, D 3);
