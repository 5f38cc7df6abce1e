//! `std::ops` for tensors: `&a + &b`, `a * 2.0`, `1.0 - &x`, `-x`, `!mask`, with numpy broadcasting.
//!
//! A Rust number next to a tensor is "weakly typed", as a Python scalar is in JAX: it takes the tensor's dtype
//! (`x_f64 * 2.0` stays f64), except that a float number promotes an integer or bool tensor to `f32`
//! (`labels_i32 * 0.5` is f32, never a silently truncated integer).
//!
//! `tensor op number` accepts any [`Scalar`], so `(&x * 2.0).tanh()` compiles. `number op tensor` has one impl per
//! number type (the orphan rules allow nothing else), so an unsuffixed literal there is ambiguous until the result
//! is used: `(0.5 * &x).tanh()` needs `0.5f32` or a `let y: Tensor = 0.5 * &x;` (as with ndarray).

use std::ops;

use super::Tensor;
use crate::array::DType;
use crate::error::SourceLocation;
use crate::ir::BinaryOp;

/// A Rust number usable next to a tensor.
pub trait Scalar: Copy {
    /// The value as f64 (exact for every i32/u32/f32; i64 beyond 2^53 rounds).
    fn to_f64(self) -> f64;
    /// True for float types.
    const IS_FLOAT: bool;
}

macro_rules! scalar {
    ($($t:ty => $f:expr),*) => {$(
        impl Scalar for $t {
            fn to_f64(self) -> f64 { self as f64 }
            const IS_FLOAT: bool = $f;
        }
    )*};
}
scalar!(f32 => true, f64 => true, i32 => false, i64 => false, u32 => false);

/// The tensor (promoted to f32 when needed) and the scalar as a rank-0 tensor of its dtype.
fn weak<S: Scalar>(t: &Tensor, s: S, loc: SourceLocation) -> (Tensor, Tensor) {
    let target = match t.dtype() {
        d if d.is_float() => d,
        d if d.is_integer() && !S::IS_FLOAT => d,
        DType::Bool if !S::IS_FLOAT => DType::I32,
        _ => DType::F32,
    };
    let t = if t.dtype() == target { t.clone() } else { t.apply1(crate::ir::Op::Convert { dtype: target }, &[], loc) };
    let s = match crate::array::Literal::full(target, crate::array::Shape::scalar(), s.to_f64()) {
        Ok(l) => Tensor::constant_at(l, loc),
        Err(e) => Tensor::from_error(e),
    };
    (t, s)
}

macro_rules! binary_operator {
    ($trait:ident, $method:ident, $op:ident) => {
        impl ops::$trait<&Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                self.binary(rhs, BinaryOp::$op, SourceLocation::caller())
            }
        }
        impl ops::$trait<Tensor> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                self.binary(&rhs, BinaryOp::$op, SourceLocation::caller())
            }
        }
        impl ops::$trait<&Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                self.binary(rhs, BinaryOp::$op, SourceLocation::caller())
            }
        }
        impl ops::$trait<Tensor> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                self.binary(&rhs, BinaryOp::$op, SourceLocation::caller())
            }
        }
    };
}

/// `tensor op number` is generic over the number type, so the result type is known before the literal's type is
/// (`let y = &x * 2.0; y.dims()` compiles; concrete impls per number type would leave `2.0` ambiguous).
/// `number op tensor` cannot be generic (orphan rules), so it has one impl per number type.
macro_rules! scalar_operator {
    ($trait:ident, $method:ident, $op:ident, $($s:ty),*) => {
        impl<S: Scalar> ops::$trait<S> for &Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: S) -> Tensor {
                let loc = SourceLocation::caller();
                let (t, s) = weak(self, rhs, loc);
                t.binary(&s, BinaryOp::$op, loc)
            }
        }
        impl<S: Scalar> ops::$trait<S> for Tensor {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: S) -> Tensor {
                let loc = SourceLocation::caller();
                let (t, s) = weak(&self, rhs, loc);
                t.binary(&s, BinaryOp::$op, loc)
            }
        }
        $(
        impl ops::$trait<&Tensor> for $s {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: &Tensor) -> Tensor {
                let loc = SourceLocation::caller();
                let (t, s) = weak(rhs, self, loc);
                s.binary(&t, BinaryOp::$op, loc)
            }
        }
        impl ops::$trait<Tensor> for $s {
            type Output = Tensor;
            #[track_caller]
            fn $method(self, rhs: Tensor) -> Tensor {
                let loc = SourceLocation::caller();
                let (t, s) = weak(&rhs, self, loc);
                s.binary(&t, BinaryOp::$op, loc)
            }
        }
    )*};
}

binary_operator!(Add, add, Add);
binary_operator!(Sub, sub, Sub);
binary_operator!(Mul, mul, Mul);
binary_operator!(Div, div, Div);
binary_operator!(Rem, rem, Rem);
binary_operator!(BitAnd, bitand, And);
binary_operator!(BitOr, bitor, Or);
binary_operator!(BitXor, bitxor, Xor);
scalar_operator!(Add, add, Add, f32, f64, i32, i64, u32);
scalar_operator!(Sub, sub, Sub, f32, f64, i32, i64, u32);
scalar_operator!(Mul, mul, Mul, f32, f64, i32, i64, u32);
scalar_operator!(Div, div, Div, f32, f64, i32, i64, u32);
scalar_operator!(Rem, rem, Rem, f32, f64, i32, i64, u32);

impl ops::Neg for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        self.unary(crate::ir::UnaryOp::Neg, SourceLocation::caller())
    }
}

impl ops::Neg for Tensor {
    type Output = Tensor;
    #[track_caller]
    fn neg(self) -> Tensor {
        self.unary(crate::ir::UnaryOp::Neg, SourceLocation::caller())
    }
}

impl ops::Not for &Tensor {
    type Output = Tensor;
    #[track_caller]
    fn not(self) -> Tensor {
        self.unary(crate::ir::UnaryOp::Not, SourceLocation::caller())
    }
}

impl ops::Not for Tensor {
    type Output = Tensor;
    #[track_caller]
    fn not(self) -> Tensor {
        self.unary(crate::ir::UnaryOp::Not, SourceLocation::caller())
    }
}

impl Tensor {
    /// Adds a Rust number (weakly typed; see the module docs).
    #[track_caller]
    pub fn add_scalar<S: Scalar>(&self, s: S) -> Tensor {
        let loc = SourceLocation::caller();
        let (t, s) = weak(self, s, loc);
        t.binary(&s, BinaryOp::Add, loc)
    }

    /// Multiplies by a Rust number (weakly typed).
    #[track_caller]
    pub fn mul_scalar<S: Scalar>(&self, s: S) -> Tensor {
        let loc = SourceLocation::caller();
        let (t, s) = weak(self, s, loc);
        t.binary(&s, BinaryOp::Mul, loc)
    }

    /// Elementwise maximum with a Rust number (weakly typed).
    #[track_caller]
    pub fn maximum_scalar<S: Scalar>(&self, s: S) -> Tensor {
        let loc = SourceLocation::caller();
        let (t, s) = weak(self, s, loc);
        t.binary(&s, BinaryOp::Max, loc)
    }

    /// Elementwise minimum with a Rust number (weakly typed).
    #[track_caller]
    pub fn minimum_scalar<S: Scalar>(&self, s: S) -> Tensor {
        let loc = SourceLocation::caller();
        let (t, s) = weak(self, s, loc);
        t.binary(&s, BinaryOp::Min, loc)
    }

    /// Compares with a Rust number (weakly typed), `op` one of the comparisons.
    pub(crate) fn compare_scalar<S: Scalar>(&self, s: S, op: BinaryOp, loc: SourceLocation) -> Tensor {
        let (t, s) = weak(self, s, loc);
        t.binary(&s, op, loc)
    }

    /// A rank-0 tensor of this tensor's dtype (promoted as for operators) holding `s`.
    pub(crate) fn weak_scalar<S: Scalar>(&self, s: S, loc: SourceLocation) -> (Tensor, Tensor) {
        weak(self, s, loc)
    }
}
