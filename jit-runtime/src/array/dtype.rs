//! Element types.

use std::fmt;

/// The element type of an array or of an IR value.
///
/// The set mirrors the dtypes JAX uses on CPU in 32-bit mode plus `f64`/`i64`; `bf16`/`f16` will join as new
/// variants (the enum is `#[non_exhaustive]` so adding them is not a breaking change).
///
/// ```
/// use jit_runtime::DType;
/// assert_eq!(DType::F32.name(), "f32");
/// assert_eq!("i64".parse::<DType>().unwrap(), DType::I64);
/// assert!(DType::F64.is_float());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DType {
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
    /// 32-bit signed integer.
    I32,
    /// 32-bit unsigned integer (PRNG keys and bits).
    U32,
    /// 64-bit signed integer.
    I64,
    /// Boolean, one byte per element holding 0 or 1.
    Bool,
}

impl DType {
    /// Every dtype, in a fixed order (handy for tests).
    pub const ALL: [DType; 6] = [DType::F32, DType::F64, DType::I32, DType::U32, DType::I64, DType::Bool];

    /// The short name used by the printer (`f32`, `u32`, `bool`, ...), as in a jaxpr.
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::I32 => "i32",
            DType::U32 => "u32",
            DType::I64 => "i64",
            DType::Bool => "bool",
        }
    }

    /// Size of one element in bytes.
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F32 | DType::I32 | DType::U32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::Bool => 1,
        }
    }

    /// `f32` or `f64`.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    /// Signed or unsigned integer (not bool).
    pub fn is_integer(self) -> bool {
        matches!(self, DType::I32 | DType::U32 | DType::I64)
    }

    /// Signed integer.
    pub fn is_signed_integer(self) -> bool {
        matches!(self, DType::I32 | DType::I64)
    }

    /// `bool`.
    pub fn is_bool(self) -> bool {
        matches!(self, DType::Bool)
    }

    /// Numbers that support arithmetic: floats and integers.
    pub fn is_numeric(self) -> bool {
        self.is_float() || self.is_integer()
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text was not the name of a dtype.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown dtype `{0}` (expected one of f32, f64, i32, u32, i64, bool)")]
pub struct UnknownDType(pub String);

impl std::str::FromStr for DType {
    type Err = UnknownDType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DType::ALL.into_iter().find(|d| d.name() == s).ok_or_else(|| UnknownDType(s.to_string()))
    }
}

/// A Rust scalar type that is the element type of some [`DType`].
///
/// Implemented for `f32`, `f64`, `i32`, `u32`, `i64` and `bool`; used by typed constructors and `to_vec`.
pub trait Element: Copy + Send + Sync + fmt::Debug + PartialEq + 'static + sealed::Sealed {
    /// The dtype whose elements are `Self`.
    const DTYPE: DType;
    /// Wraps a vector of this type as host data.
    fn into_data(v: Vec<Self>) -> crate::array::HostData;
    /// Borrows host data as a slice of this type, or `None` when the dtypes differ.
    fn slice_of(data: &crate::array::HostData) -> Option<&[Self]>;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! element {
    ($t:ty, $d:ident) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn into_data(v: Vec<Self>) -> crate::array::HostData {
                crate::array::HostData::$d(v)
            }
            fn slice_of(data: &crate::array::HostData) -> Option<&[Self]> {
                match data {
                    crate::array::HostData::$d(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}
element!(f32, F32);
element!(f64, F64);
element!(i32, I32);
element!(u32, U32);
element!(i64, I64);
element!(bool, Bool);
