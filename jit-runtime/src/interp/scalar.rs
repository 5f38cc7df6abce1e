//! The element types as the interpreter sees them: for each dtype, its elementwise functions, reductions and value
//! conversions. Generic code elsewhere is written once over [`Scalar`] (every dtype) or [`Number`] (the numeric
//! ones); the per-type semantics live here, in one table per kind of type.

use super::math::{self, Transcendental};
use crate::array::{DType, Element, HostData};
use crate::ir::{BinaryOp, ReduceOp, UnaryOp};

/// A unary elementwise function on one element type.
pub(super) type UnaryFn<T> = fn(T) -> T;
/// A binary elementwise function on one element type (not the comparisons, whose result is bool).
pub(super) type BinaryFn<T> = fn(T, T) -> T;

/// An element type of any dtype.
pub(super) trait Scalar: Element + PartialOrd {
    /// The op on this type, or `None` where the op does not accept the dtype.
    fn unary_fn(op: UnaryOp) -> Option<UnaryFn<Self>>;
    /// The non-comparison op on this type, or `None` where the op does not accept the dtype.
    fn binary_fn(op: BinaryOp) -> Option<BinaryFn<Self>>;
    /// The identity and the combining function of a reduction, or `None` where it does not accept the dtype.
    fn reducer(op: ReduceOp) -> Option<(Self, BinaryFn<Self>)>;
    /// True for a float NaN.
    fn is_nan(self) -> bool;
    /// `convert` to `f32`.
    fn to_f32(self) -> f32;
    /// `convert` to `f64`.
    fn to_f64(self) -> f64;
    /// `convert` to `i32`.
    fn to_i32(self) -> i32;
    /// `convert` to `u32`.
    fn to_u32(self) -> u32;
    /// `convert` to `i64`.
    fn to_i64(self) -> i64;
    /// `convert` to `bool` (`x != 0`; NaN is true).
    fn to_bool(self) -> bool;
    /// `convert` from `i64`.
    fn from_i64(v: i64) -> Self;
}

/// A numeric element type: what `dot_general` and `integer_pow` need.
pub(super) trait Number: Scalar {
    /// Zero, the start of a dot product's accumulation.
    const ZERO: Self;
    /// `self + other` (wrapping for integers).
    fn add(self, other: Self) -> Self;
    /// `self * other` (wrapping for integers).
    fn mul(self, other: Self) -> Self;
    /// `self ^ n` for a constant exponent.
    fn integer_pow(self, n: i32) -> Self;
}

/// `convert` of a slice to `to`.
pub(super) fn convert<T: Scalar>(x: &[T], to: DType) -> HostData {
    match to {
        DType::F32 => HostData::F32(x.iter().map(|v| v.to_f32()).collect()),
        DType::F64 => HostData::F64(x.iter().map(|v| v.to_f64()).collect()),
        DType::I32 => HostData::I32(x.iter().map(|v| v.to_i32()).collect()),
        DType::U32 => HostData::U32(x.iter().map(|v| v.to_u32()).collect()),
        DType::I64 => HostData::I64(x.iter().map(|v| v.to_i64()).collect()),
        DType::Bool => HostData::Bool(x.iter().map(|v| v.to_bool()).collect()),
    }
}

/// Conversions of a numeric type by Rust's `as`, which is exactly `convert`'s semantics: float to integer
/// truncates toward zero and saturates (NaN is 0), integer to float rounds to nearest, between integers wraps.
macro_rules! numeric_casts {
    ($t:ty) => {
        fn to_f32(self) -> f32 {
            self as f32
        }
        fn to_f64(self) -> f64 {
            self as f64
        }
        fn to_i32(self) -> i32 {
            self as i32
        }
        fn to_u32(self) -> u32 {
            self as u32
        }
        fn to_i64(self) -> i64 {
            self as i64
        }
        fn to_bool(self) -> bool {
            self != (0 as $t)
        }
        fn from_i64(v: i64) -> $t {
            v as $t
        }
    };
}

macro_rules! float_scalar {
    ($t:ident) => {
        impl Scalar for $t {
            fn unary_fn(op: UnaryOp) -> Option<UnaryFn<$t>> {
                let f: UnaryFn<$t> = match op {
                    UnaryOp::Neg => |x| -x,
                    UnaryOp::Abs => $t::abs,
                    UnaryOp::Sign => math::sign::<$t>,
                    UnaryOp::Floor => $t::floor,
                    UnaryOp::Ceil => $t::ceil,
                    // Half away from zero, as `lax.round`'s default.
                    UnaryOp::Round => <$t as Transcendental>::ROUND,
                    UnaryOp::Exp => <$t as Transcendental>::EXP,
                    UnaryOp::Expm1 => <$t as Transcendental>::EXPM1,
                    UnaryOp::Log => <$t as Transcendental>::LOG,
                    UnaryOp::Log1p => <$t as Transcendental>::LOG1P,
                    UnaryOp::Sqrt => $t::sqrt,
                    UnaryOp::Rsqrt => |x| 1.0 / x.sqrt(),
                    UnaryOp::Tanh => <$t as Transcendental>::TANH,
                    UnaryOp::Logistic => <$t as Transcendental>::LOGISTIC,
                    UnaryOp::Sin => <$t as Transcendental>::SIN,
                    UnaryOp::Cos => <$t as Transcendental>::COS,
                    UnaryOp::Erf => <$t as Transcendental>::ERF,
                    UnaryOp::Erfc => <$t as Transcendental>::ERFC,
                    UnaryOp::ErfInv => <$t as Transcendental>::ERF_INV,
                    UnaryOp::Not => return None,
                };
                Some(f)
            }

            fn binary_fn(op: BinaryOp) -> Option<BinaryFn<$t>> {
                let f: BinaryFn<$t> = match op {
                    BinaryOp::Add => |x, y| x + y,
                    BinaryOp::Sub => |x, y| x - y,
                    BinaryOp::Mul => |x, y| x * y,
                    BinaryOp::Div => |x, y| x / y,
                    // Rust's float `%` is C's `fmod`: the result has the sign of the dividend.
                    BinaryOp::Rem => |x, y| x % y,
                    BinaryOp::Pow => <$t as Transcendental>::POW,
                    BinaryOp::Max => math::maximum::<$t>,
                    BinaryOp::Min => math::minimum::<$t>,
                    // `atan2(x, y)` is the angle of the point `(y, x)`: the first operand is the numerator.
                    BinaryOp::Atan2 => <$t as Transcendental>::ATAN2,
                    _ => return None,
                };
                Some(f)
            }

            fn reducer(op: ReduceOp) -> Option<($t, BinaryFn<$t>)> {
                let r: ($t, BinaryFn<$t>) = match op {
                    ReduceOp::Sum => (0.0, |x, y| x + y),
                    ReduceOp::Prod => (1.0, |x, y| x * y),
                    ReduceOp::Max => ($t::NEG_INFINITY, math::maximum::<$t>),
                    ReduceOp::Min => ($t::INFINITY, math::minimum::<$t>),
                };
                Some(r)
            }

            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }

            numeric_casts!($t);
        }

        impl Number for $t {
            const ZERO: $t = 0.0;
            fn add(self, other: $t) -> $t {
                self + other
            }
            fn mul(self, other: $t) -> $t {
                self * other
            }
            fn integer_pow(self, n: i32) -> $t {
                math::integer_pow(self, n)
            }
        }
    };
}

float_scalar!(f32);
float_scalar!(f64);

/// Integer semantics (XLA's): arithmetic wraps; `x / 0` is all ones (-1, or the maximum of an unsigned type) and
/// `MIN / -1` is `MIN`; `x % 0` is `x` and `MIN % -1` is 0; shift amounts are read as unsigned of the same width,
/// and an amount of at least the bit width shifts everything out (the sign fills for the arithmetic shift, which
/// reads the bits as signed even for an unsigned type, while the logical shift reads them as unsigned).
macro_rules! int_scalar {
    ($t:ident, unsigned = $u:ident, signed = $s:ident, is_signed = $is_signed:expr) => {
        impl Scalar for $t {
            fn unary_fn(op: UnaryOp) -> Option<UnaryFn<$t>> {
                let f: UnaryFn<$t> = match op {
                    UnaryOp::Neg => $t::wrapping_neg,
                    UnaryOp::Abs => |x| if $is_signed && (x as $s) < 0 { x.wrapping_neg() } else { x },
                    UnaryOp::Sign => |x| {
                        if x == 0 {
                            0
                        } else if $is_signed && (x as $s) < 0 {
                            (0 as $t).wrapping_sub(1)
                        } else {
                            1
                        }
                    },
                    UnaryOp::Not => |x| !x,
                    _ => return None,
                };
                Some(f)
            }

            fn binary_fn(op: BinaryOp) -> Option<BinaryFn<$t>> {
                let f: BinaryFn<$t> = match op {
                    BinaryOp::Add => $t::wrapping_add,
                    BinaryOp::Sub => $t::wrapping_sub,
                    BinaryOp::Mul => $t::wrapping_mul,
                    // `wrapping_div` already gives `MIN / -1 = MIN`; `!0` is all ones.
                    BinaryOp::Div => |x, y| if y == 0 { !0 } else { x.wrapping_div(y) },
                    // `wrapping_rem` already gives `MIN % -1 = 0`.
                    BinaryOp::Rem => |x, y| if y == 0 { x } else { x.wrapping_rem(y) },
                    BinaryOp::Pow => |x, y| int_pow(x, y as i128, $is_signed),
                    BinaryOp::Max => |x, y| if x >= y { x } else { y },
                    BinaryOp::Min => |x, y| if x <= y { x } else { y },
                    BinaryOp::And => |x, y| x & y,
                    BinaryOp::Or => |x, y| x | y,
                    BinaryOp::Xor => |x, y| x ^ y,
                    BinaryOp::ShiftLeft => |x, y| {
                        let amount = y as $u;
                        if amount >= $u::from($u::BITS) { 0 } else { ((x as $u) << amount) as $t }
                    },
                    BinaryOp::ShiftRightLogical => |x, y| {
                        let amount = y as $u;
                        if amount >= $u::from($u::BITS) { 0 } else { ((x as $u) >> amount) as $t }
                    },
                    BinaryOp::ShiftRightArithmetic => |x, y| {
                        let amount = y as $u;
                        let amount = if amount >= $u::from($u::BITS) { $u::BITS - 1 } else { amount as u32 };
                        ((x as $s) >> amount) as $t
                    },
                    _ => return None,
                };
                Some(f)
            }

            fn reducer(op: ReduceOp) -> Option<($t, BinaryFn<$t>)> {
                let r: ($t, BinaryFn<$t>) = match op {
                    ReduceOp::Sum => (0, $t::wrapping_add),
                    ReduceOp::Prod => (1, $t::wrapping_mul),
                    ReduceOp::Max => ($t::MIN, |x, y| if x >= y { x } else { y }),
                    ReduceOp::Min => ($t::MAX, |x, y| if x <= y { x } else { y }),
                };
                Some(r)
            }

            fn is_nan(self) -> bool {
                false
            }

            numeric_casts!($t);
        }

        impl Number for $t {
            const ZERO: $t = 0;
            fn add(self, other: $t) -> $t {
                self.wrapping_add(other)
            }
            fn mul(self, other: $t) -> $t {
                self.wrapping_mul(other)
            }
            fn integer_pow(self, n: i32) -> $t {
                int_pow(self, n as i128, $is_signed)
            }
        }
    };
}

int_scalar!(i32, unsigned = u32, signed = i32, is_signed = true);
int_scalar!(u32, unsigned = u32, signed = i32, is_signed = false);
int_scalar!(i64, unsigned = u64, signed = i64, is_signed = true);

/// The integer operations `int_pow` needs.
trait WrappingInt: Copy + Eq {
    const ONE: Self;
    const ZERO: Self;
    fn wrapping_mul(self, other: Self) -> Self;
    fn wrapping_neg(self) -> Self;
}

macro_rules! wrapping_int {
    ($t:ty) => {
        impl WrappingInt for $t {
            const ONE: $t = 1;
            const ZERO: $t = 0;
            fn wrapping_mul(self, other: $t) -> $t {
                <$t>::wrapping_mul(self, other)
            }
            fn wrapping_neg(self) -> $t {
                <$t>::wrapping_neg(self)
            }
        }
    };
}
wrapping_int!(i32);
wrapping_int!(u32);
wrapping_int!(i64);

/// `base ^ exponent` by squaring, wrapping. A negative exponent (as XLA): 1 for base 1, ±1 by the exponent's
/// parity for base -1 (signed types), and 0 for every other base, 0 included.
fn int_pow<T: WrappingInt>(base: T, exponent: i128, signed: bool) -> T {
    if exponent < 0 {
        let minus_one = T::ONE.wrapping_neg();
        return if base == T::ONE {
            T::ONE
        } else if signed && base == minus_one {
            if exponent & 1 == 1 { minus_one } else { T::ONE }
        } else {
            T::ZERO
        };
    }
    let mut e = exponent as u128;
    let mut square = base;
    let mut acc = T::ONE;
    while e > 0 {
        if e & 1 == 1 {
            acc = acc.wrapping_mul(square);
        }
        e >>= 1;
        if e > 0 {
            square = square.wrapping_mul(square);
        }
    }
    acc
}

impl Scalar for bool {
    fn unary_fn(op: UnaryOp) -> Option<UnaryFn<bool>> {
        match op {
            UnaryOp::Not => Some(|x| !x),
            _ => None,
        }
    }

    fn binary_fn(op: BinaryOp) -> Option<BinaryFn<bool>> {
        let f: BinaryFn<bool> = match op {
            BinaryOp::And | BinaryOp::Min => |x, y| x & y,
            BinaryOp::Or | BinaryOp::Max => |x, y| x | y,
            BinaryOp::Xor => |x, y| x ^ y,
            _ => return None,
        };
        Some(f)
    }

    fn reducer(op: ReduceOp) -> Option<(bool, BinaryFn<bool>)> {
        match op {
            ReduceOp::Max => Some((false, |x, y| x | y)),
            ReduceOp::Min => Some((true, |x, y| x & y)),
            ReduceOp::Sum | ReduceOp::Prod => None,
        }
    }

    fn is_nan(self) -> bool {
        false
    }
    fn to_f32(self) -> f32 {
        u8::from(self).into()
    }
    fn to_f64(self) -> f64 {
        u8::from(self).into()
    }
    fn to_i32(self) -> i32 {
        self.into()
    }
    fn to_u32(self) -> u32 {
        self.into()
    }
    fn to_i64(self) -> i64 {
        self.into()
    }
    fn to_bool(self) -> bool {
        self
    }
    fn from_i64(v: i64) -> bool {
        v != 0
    }
}

/// Reinterprets the bits of each element as `to`; the element sizes must match and bool takes no part.
pub(super) fn bitcast(data: &HostData, to: DType) -> Result<HostData, String> {
    enum Bits {
        B32(Vec<u32>),
        B64(Vec<u64>),
    }
    let bits = match data {
        HostData::F32(v) => Bits::B32(v.iter().map(|x| x.to_bits()).collect()),
        HostData::I32(v) => Bits::B32(v.iter().map(|&x| x as u32).collect()),
        HostData::U32(v) => Bits::B32(v.clone()),
        HostData::F64(v) => Bits::B64(v.iter().map(|x| x.to_bits()).collect()),
        HostData::I64(v) => Bits::B64(v.iter().map(|&x| x as u64).collect()),
        HostData::Bool(_) => return Err("cannot reinterpret bool".to_string()),
    };
    Ok(match (bits, to) {
        (Bits::B32(b), DType::F32) => HostData::F32(b.into_iter().map(f32::from_bits).collect()),
        (Bits::B32(b), DType::I32) => HostData::I32(b.into_iter().map(|x| x as i32).collect()),
        (Bits::B32(b), DType::U32) => HostData::U32(b),
        (Bits::B64(b), DType::F64) => HostData::F64(b.into_iter().map(f64::from_bits).collect()),
        (Bits::B64(b), DType::I64) => HostData::I64(b.into_iter().map(|x| x as i64).collect()),
        _ => return Err(format!("cannot reinterpret {} as {to}: element sizes differ", data.dtype())),
    })
}
