//! How the parameters and results of a `#[lifted_jit]` method cross the compiled boundary: dynamic parameters
//! ([`DynamicArg`]) are flattened into tensor leaves, static ones ([`StaticArg`]) become cache-key values, results
//! ([`LiftOutput`]) are flattened and rebuilt.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::hash::Hash;

use super::variables::{self, Variables};
use crate::error::{Error, Result};
use crate::jit::{Static, StaticValue};
use crate::trace::Tensor;

fn missing_leaf() -> Tensor {
    Tensor::from_error(Error::Trace("internal: missing argument leaf".into()))
}

/// A parameter of a jitted method that holds arrays: a [`Tensor`] or a container of them (`Vec`, slices,
/// `Option`, tuples, `BTreeMap<String, _>`, [`Variables`]). Its leaves are inputs of the compiled program; their
/// dtypes and shapes and the container's structure are part of the cache key.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an array or a container of arrays, so it cannot be a dynamic parameter of a jitted method",
    label = "dynamic parameters must hold tensors",
    note = "mark the parameter static (`static_argnames = [\"...\"]`) to make its value a compile-time constant"
)]
pub trait DynamicArg {
    /// The owned form the body receives when it is traced (`Vec<Tensor>` for `[Tensor]`).
    type Owned: Borrow<Self>;
    /// Appends the leaves and the container structure.
    fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>);
    /// A value of the same structure with leaves taken from `leaves`.
    fn rebuild(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Self::Owned;
}

impl DynamicArg for Tensor {
    type Owned = Tensor;
    fn flatten(&self, leaves: &mut Vec<Tensor>, _: &mut Vec<usize>) {
        leaves.push(self.clone());
    }
    fn rebuild(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Tensor {
        leaves.next().unwrap_or_else(missing_leaf)
    }
}

impl<T: DynamicArg<Owned = T>> DynamicArg for [T] {
    type Owned = Vec<T>;
    fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) {
        tree.push(self.len());
        self.iter().for_each(|x| x.flatten(leaves, tree));
    }
    fn rebuild(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Vec<T> {
        self.iter().map(|x| x.rebuild(leaves)).collect()
    }
}

impl<T: DynamicArg<Owned = T>> DynamicArg for Vec<T> {
    type Owned = Vec<T>;
    fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) {
        self.as_slice().flatten(leaves, tree)
    }
    fn rebuild(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Vec<T> {
        self.as_slice().rebuild(leaves)
    }
}

impl<T: DynamicArg<Owned = T>> DynamicArg for Option<T> {
    type Owned = Option<T>;
    fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) {
        tree.push(usize::from(self.is_some()));
        if let Some(x) = self {
            x.flatten(leaves, tree);
        }
    }
    fn rebuild(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Option<T> {
        self.as_ref().map(|x| x.rebuild(leaves))
    }
}

impl<T: DynamicArg<Owned = T>> DynamicArg for BTreeMap<String, T> {
    type Owned = BTreeMap<String, T>;
    fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) {
        tree.push(self.len());
        for (k, v) in self {
            crate::jit::encode_str(k, tree);
            v.flatten(leaves, tree);
        }
    }
    fn rebuild(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Self {
        self.iter().map(|(k, v)| (k.clone(), v.rebuild(leaves))).collect()
    }
}

impl DynamicArg for Variables {
    type Owned = Variables;
    fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) {
        variables::encode_structure(self, tree);
        leaves.extend(self.iter().map(|(_, _, t)| t.clone()));
    }
    fn rebuild(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Variables {
        variables::rebuild(self, leaves)
    }
}

macro_rules! tuple_dynamic {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: DynamicArg<Owned = $name>),+> DynamicArg for ($($name,)+) {
            type Owned = Self;
            fn flatten(&self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) {
                $(self.$idx.flatten(leaves, tree);)+
            }
            fn rebuild(&self, leaves: &mut dyn Iterator<Item = Tensor>) -> Self {
                ($(self.$idx.rebuild(leaves),)+)
            }
        }
    };
}
tuple_dynamic!(A 0, B 1);
tuple_dynamic!(A 0, B 1, C 2);
tuple_dynamic!(A 0, B 1, C 2, D 3);

/// A parameter of a jitted method whose value is a compile-time constant: hashed into the cache key and compared
/// by `Eq` (a new value compiles anew). Integers, `bool`, `char`, strings, floats (by bit pattern), `Option`,
/// `Vec`, slices and tuples of them, and any `Hash + Eq` value wrapped in [`Static`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a static parameter of a jitted method: static values must be hashable and comparable",
    label = "not usable as a static value",
    note = "wrap the value in `Static(..)` (its type must be `Clone + Hash + Eq + Debug + Send + Sync + 'static`) or implement `StaticArg`"
)]
pub trait StaticArg {
    /// The value as a cache-key part.
    fn static_value(&self) -> StaticValue;
}

macro_rules! static_arg {
    ($($t:ty),*) => {$(
        impl StaticArg for $t {
            fn static_value(&self) -> StaticValue {
                StaticValue::new(self.clone())
            }
        }
    )*};
}
static_arg!(usize, u8, u16, u32, u64, u128, isize, i8, i16, i32, i64, i128, bool, char, String, ());

impl StaticArg for str {
    fn static_value(&self) -> StaticValue {
        StaticValue::new(self.to_string())
    }
}

impl StaticArg for f32 {
    fn static_value(&self) -> StaticValue {
        StaticValue::new(FloatKey(self.to_bits() as u64, 32))
    }
}

impl StaticArg for f64 {
    fn static_value(&self) -> StaticValue {
        StaticValue::new(FloatKey(self.to_bits(), 64))
    }
}

/// A float as a key: equal by bit pattern.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct FloatKey(u64, u8);

impl std::fmt::Debug for FloatKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.1 == 32 {
            write!(f, "{:?}", f32::from_bits(self.0 as u32))
        } else {
            write!(f, "{:?}", f64::from_bits(self.0))
        }
    }
}

impl<T: StaticArg + ?Sized> StaticArg for &T {
    fn static_value(&self) -> StaticValue {
        (**self).static_value()
    }
}

impl<T: StaticArg> StaticArg for Option<T> {
    fn static_value(&self) -> StaticValue {
        StaticValue::new(self.as_ref().map(StaticArg::static_value))
    }
}

impl<T: StaticArg> StaticArg for [T] {
    fn static_value(&self) -> StaticValue {
        StaticValue::new(self.iter().map(StaticArg::static_value).collect::<Vec<_>>())
    }
}

impl<T: StaticArg> StaticArg for Vec<T> {
    fn static_value(&self) -> StaticValue {
        self.as_slice().static_value()
    }
}

impl<T: Clone + Hash + Eq + std::fmt::Debug + Send + Sync + 'static> StaticArg for Static<T> {
    fn static_value(&self) -> StaticValue {
        StaticValue::new(self.0.clone())
    }
}

macro_rules! tuple_static {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: StaticArg),+> StaticArg for ($($name,)+) {
            fn static_value(&self) -> StaticValue {
                StaticValue::new(vec![$(self.$idx.static_value()),+])
            }
        }
    };
}
tuple_static!(A 0, B 1);
tuple_static!(A 0, B 1, C 2);
tuple_static!(A 0, B 1, C 2, D 3);

/// What a jitted method may return: tensors, `Vec`s and tuples of them, `()`, and `Result`s of those. The same
/// type comes back whether the call ran compiled, traced or eagerly.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a jitted method",
    label = "return tensors, or `Vec`s, tuples or `Result`s of tensors"
)]
pub trait LiftOutput: Sized {
    /// Appends the leaves and structure; a failed result gives its error.
    fn flatten(self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<()>;
    /// Rebuilds a value from leaves and structure.
    fn unflatten(leaves: &mut dyn Iterator<Item = Tensor>, tree: &mut dyn Iterator<Item = usize>) -> Result<Self>;
    /// The value standing for a failed call (an error tensor, `Err`, ...). The error is also recorded on the scope,
    /// so `init`/`apply` report it even when this value carries it nowhere (an empty `Vec`).
    fn from_error(error: Error) -> Self;
}

fn structure_mismatch() -> Error {
    Error::Trace("internal: result structure does not match the compiled program".into())
}

impl LiftOutput for Tensor {
    fn flatten(self, leaves: &mut Vec<Tensor>, _: &mut Vec<usize>) -> Result<()> {
        if let Some(e) = self.error() {
            return Err(e.clone());
        }
        leaves.push(self);
        Ok(())
    }
    fn unflatten(leaves: &mut dyn Iterator<Item = Tensor>, _: &mut dyn Iterator<Item = usize>) -> Result<Self> {
        leaves.next().ok_or_else(structure_mismatch)
    }
    fn from_error(error: Error) -> Self {
        Tensor::from_error(error)
    }
}

impl LiftOutput for () {
    fn flatten(self, _: &mut Vec<Tensor>, _: &mut Vec<usize>) -> Result<()> {
        Ok(())
    }
    fn unflatten(_: &mut dyn Iterator<Item = Tensor>, _: &mut dyn Iterator<Item = usize>) -> Result<Self> {
        Ok(())
    }
    fn from_error(_: Error) -> Self {}
}

impl<T: LiftOutput> LiftOutput for Result<T> {
    fn flatten(self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<()> {
        self?.flatten(leaves, tree)
    }
    fn unflatten(leaves: &mut dyn Iterator<Item = Tensor>, tree: &mut dyn Iterator<Item = usize>) -> Result<Self> {
        T::unflatten(leaves, tree).map(Ok)
    }
    fn from_error(error: Error) -> Self {
        Err(error)
    }
}

impl<T: LiftOutput> LiftOutput for Vec<T> {
    fn flatten(self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<()> {
        tree.push(self.len());
        self.into_iter().try_for_each(|x| x.flatten(leaves, tree))
    }
    fn unflatten(leaves: &mut dyn Iterator<Item = Tensor>, tree: &mut dyn Iterator<Item = usize>) -> Result<Self> {
        let n = tree.next().ok_or_else(structure_mismatch)?;
        (0..n).map(|_| T::unflatten(leaves, tree)).collect()
    }
    fn from_error(_: Error) -> Self {
        Vec::new()
    }
}

macro_rules! tuple_output {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: LiftOutput),+> LiftOutput for ($($name,)+) {
            fn flatten(self, leaves: &mut Vec<Tensor>, tree: &mut Vec<usize>) -> Result<()> {
                $(self.$idx.flatten(leaves, tree)?;)+
                Ok(())
            }
            fn unflatten(
                leaves: &mut dyn Iterator<Item = Tensor>,
                tree: &mut dyn Iterator<Item = usize>,
            ) -> Result<Self> {
                Ok(($($name::unflatten(leaves, tree)?,)+))
            }
            fn from_error(error: Error) -> Self {
                ($($name::from_error(error.clone()),)+)
            }
        }
    };
}
tuple_output!(A 0, B 1);
tuple_output!(A 0, B 1, C 2);
tuple_output!(A 0, B 1, C 2, D 3);
