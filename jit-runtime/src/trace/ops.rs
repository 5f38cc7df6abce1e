//! The primitive ops as `Tensor` methods, with numpy broadcasting for the elementwise ones.

use super::Tensor;
use super::axes::{Axes, normalize_axis};
use crate::array::{DType, Shape};
use crate::error::{Error, SourceLocation};
use crate::ir::{ArgReduceOp, BinaryOp, DotDims, Op, ReduceOp, UnaryOp};

impl Tensor {
    /// A tensor carrying an op error (with the module path added when inside a module).
    pub(crate) fn fail(op: &str, message: impl Into<String>, loc: SourceLocation) -> Tensor {
        let mut e = Error::op(op, message, Some(loc));
        if let Error::Op(o) = &mut e {
            o.module_path = super::context::current_module_path();
        }
        Tensor::from_error(e)
    }

    pub(crate) fn unary(&self, op: UnaryOp, loc: SourceLocation) -> Tensor {
        self.apply1(Op::Unary(op), &[], loc)
    }

    /// Applies a binary op after broadcasting both operands to their common shape (numpy rules).
    pub(crate) fn binary(&self, other: &Tensor, op: BinaryOp, loc: SourceLocation) -> Tensor {
        let (a, b) = match broadcast_pair(self, other, op.name(), loc) {
            Ok(p) => p,
            Err(t) => return t,
        };
        a.apply1(Op::Binary(op), &[&b], loc)
    }
}

/// The error of the first failed operand, as the tensor to return. Ops that inspect shapes or axes before applying
/// a primitive check this first: a failed tensor has rank 0 by convention, and a new error about that placeholder
/// would hide the real one.
pub(crate) fn propagated(inputs: &[&Tensor]) -> Option<Tensor> {
    inputs.iter().find_map(|t| t.error()).map(|e| Tensor::from_error(e.clone()))
}

/// Broadcasts two tensors to their common shape, or returns an error tensor naming both types.
pub(crate) fn broadcast_pair(
    a: &Tensor,
    b: &Tensor,
    op: &str,
    loc: SourceLocation,
) -> Result<(Tensor, Tensor), Tensor> {
    if let Some(e) = a.error().or(b.error()) {
        return Err(Tensor::from_error(e.clone()));
    }
    if a.shape() == b.shape() {
        return Ok((a.clone(), b.clone()));
    }
    match broadcast_shapes(a.shape(), b.shape()) {
        Some(shape) => Ok((a.broadcast_to_at(&shape, loc), b.broadcast_to_at(&shape, loc))),
        None => Err(Tensor::fail(op, format!("shapes {} and {} do not broadcast together", a.ty(), b.ty()), loc)),
    }
}

/// The numpy broadcast of two shapes, or `None` when they are incompatible.
pub fn broadcast_shapes(a: &Shape, b: &Shape) -> Option<Shape> {
    let r = a.rank().max(b.rank());
    let mut out = vec![0; r];
    for (i, o) in out.iter_mut().enumerate() {
        let da = if i + a.rank() >= r { a[i + a.rank() - r] } else { 1 };
        let db = if i + b.rank() >= r { b[i + b.rank() - r] } else { 1 };
        *o = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(Shape::from(out))
}

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $name(&self) -> Tensor {
                    self.unary(UnaryOp::$op, SourceLocation::caller())
                }
            )*
        }
    };
}

unary_methods! {
    /// `-x`.
    neg => Neg;
    /// `|x|`.
    abs => Abs;
    /// -1, 0 or 1 by sign.
    sign => Sign;
    /// Round toward -inf.
    floor => Floor;
    /// Round toward +inf.
    ceil => Ceil;
    /// Round half away from zero (`lax.round`).
    round => Round;
    /// e^x.
    exp => Exp;
    /// e^x - 1, accurate near 0.
    expm1 => Expm1;
    /// Natural logarithm.
    log => Log;
    /// ln(1 + x), accurate near 0.
    log1p => Log1p;
    /// Square root.
    sqrt => Sqrt;
    /// 1 / sqrt(x).
    rsqrt => Rsqrt;
    /// Hyperbolic tangent.
    tanh => Tanh;
    /// The logistic sigmoid 1 / (1 + e^-x).
    logistic => Logistic;
    /// The logistic sigmoid (alias of [`Tensor::logistic`], as `jax.nn.sigmoid`).
    sigmoid => Logistic;
    /// Sine.
    sin => Sin;
    /// Cosine.
    cos => Cos;
    /// The error function.
    erf => Erf;
    /// The complementary error function `1 - erf(x)`, accurate where `erf(x)` is close to 1 (`lax.erfc`).
    erfc => Erfc;
    /// The inverse error function.
    erf_inv => ErfInv;
    /// Logical not (bool) or bitwise not (integers).
    not => Not;
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $name(&self, other: &Tensor) -> Tensor {
                    self.binary(other, BinaryOp::$op, SourceLocation::caller())
                }
            )*
        }
    };
}

binary_methods! {
    /// Elementwise sum, broadcasting.
    add => Add;
    /// Elementwise difference, broadcasting.
    sub => Sub;
    /// Elementwise product, broadcasting.
    mul => Mul;
    /// Elementwise quotient, broadcasting (integers truncate; see [`BinaryOp::Div`]).
    div => Div;
    /// Elementwise remainder with the dividend's sign, broadcasting.
    rem => Rem;
    /// Elementwise power, broadcasting.
    pow => Pow;
    /// Elementwise maximum (NaN propagates), broadcasting.
    maximum => Max;
    /// Elementwise minimum (NaN propagates), broadcasting.
    minimum => Min;
    /// Elementwise atan2(self, other), broadcasting.
    atan2 => Atan2;
    /// Logical/bitwise and, broadcasting.
    and => And;
    /// Logical/bitwise or, broadcasting.
    or => Or;
    /// Logical/bitwise xor, broadcasting.
    xor => Xor;
    /// `self << other`, broadcasting.
    shift_left => ShiftLeft;
    /// Logical `self >> other`, broadcasting.
    shift_right_logical => ShiftRightLogical;
    /// Arithmetic `self >> other`, broadcasting.
    shift_right_arithmetic => ShiftRightArithmetic;
    /// `self == other` as bool, broadcasting.
    equal => Eq;
    /// `self != other` as bool, broadcasting.
    not_equal => Ne;
    /// `self < other` as bool, broadcasting.
    less => Lt;
    /// `self <= other` as bool, broadcasting.
    less_equal => Le;
    /// `self > other` as bool, broadcasting.
    greater => Gt;
    /// `self >= other` as bool, broadcasting.
    greater_equal => Ge;
}

impl Tensor {
    /// `x^n` for a fixed integer `n` (`lax.integer_pow`).
    #[track_caller]
    pub fn integer_pow(&self, n: i32) -> Tensor {
        self.apply1(Op::IntegerPow { exponent: n }, &[], SourceLocation::caller())
    }

    /// `x * x`.
    #[track_caller]
    pub fn square(&self) -> Tensor {
        self.apply1(Op::IntegerPow { exponent: 2 }, &[], SourceLocation::caller())
    }

    /// Identity whose gradient is zero.
    #[track_caller]
    pub fn stop_gradient(&self) -> Tensor {
        self.apply1(Op::StopGradient, &[], SourceLocation::caller())
    }

    /// Converts the values to another dtype (`x.astype(d)`); a no-op when the dtype is already `dtype`.
    #[track_caller]
    pub fn astype(&self, dtype: DType) -> Tensor {
        self.convert_at(dtype, SourceLocation::caller())
    }

    pub(crate) fn convert_at(&self, dtype: DType, loc: SourceLocation) -> Tensor {
        if self.dtype() == dtype && self.error().is_none() {
            return self.clone();
        }
        self.apply1(Op::Convert { dtype }, &[], loc)
    }

    /// Reinterprets the bits as another dtype of equal size (`lax.bitcast_convert_type`).
    #[track_caller]
    pub fn bitcast(&self, dtype: DType) -> Tensor {
        self.bitcast_at(dtype, SourceLocation::caller())
    }

    pub(crate) fn bitcast_at(&self, dtype: DType, loc: SourceLocation) -> Tensor {
        self.apply1(Op::BitcastConvert { dtype }, &[], loc)
    }

    pub(crate) fn erf_at(&self, loc: SourceLocation) -> Tensor {
        self.unary(UnaryOp::Erf, loc)
    }

    pub(crate) fn erf_inv_at(&self, loc: SourceLocation) -> Tensor {
        self.unary(UnaryOp::ErfInv, loc)
    }

    /// `self[start..limit]` with unit strides.
    pub(crate) fn slice_at(&self, start: &[usize], limit: &[usize], loc: SourceLocation) -> Tensor {
        let op = Op::Slice { start: start.to_vec(), limit: limit.to_vec(), strides: vec![1; start.len()] };
        self.apply1(op, &[], loc)
    }

    /// `lax.broadcast_in_dim`: operand dimension `i` becomes dimension `broadcast_dimensions[i]` of `shape`.
    #[track_caller]
    pub fn broadcast_in_dim(&self, shape: impl Into<Shape>, broadcast_dimensions: &[usize]) -> Tensor {
        let op = Op::BroadcastInDim { shape: shape.into(), broadcast_dimensions: broadcast_dimensions.to_vec() };
        self.apply1(op, &[], SourceLocation::caller())
    }

    /// Broadcasts to `shape` by numpy rules (trailing dimensions align).
    #[track_caller]
    pub fn broadcast_to(&self, shape: impl Into<Shape>) -> Tensor {
        self.broadcast_to_at(&shape.into(), SourceLocation::caller())
    }

    pub(crate) fn broadcast_to_at(&self, shape: &Shape, loc: SourceLocation) -> Tensor {
        if self.shape() == shape && self.error().is_none() {
            return self.clone();
        }
        if self.rank() > shape.rank() {
            return Tensor::fail(
                "broadcast_in_dim",
                format!("cannot broadcast {} to the lower rank shape {shape}", self.ty()),
                loc,
            );
        }
        let dims: Vec<usize> = (shape.rank() - self.rank()..shape.rank()).collect();
        self.apply1(Op::BroadcastInDim { shape: shape.clone(), broadcast_dimensions: dims }, &[], loc)
    }

    /// Same elements in a new shape of equal size; a no-op when the shape is unchanged.
    #[track_caller]
    pub fn reshape(&self, shape: impl Into<Shape>) -> Tensor {
        let shape = shape.into();
        if self.shape() == &shape && self.error().is_none() {
            return self.clone();
        }
        self.apply1(Op::Reshape { shape }, &[], SourceLocation::caller())
    }

    /// Flattens to rank 1.
    #[track_caller]
    pub fn flatten(&self) -> Tensor {
        let n = self.numel();
        self.reshape([n])
    }

    /// Inserts a dimension of size 1 at `axis` (negative counts from the end of the result).
    #[track_caller]
    pub fn expand_dims(&self, axis: i32) -> Tensor {
        let loc = SourceLocation::caller();
        if let Some(e) = propagated(&[self]) {
            return e;
        }
        match normalize_axis(axis, self.rank() + 1) {
            Ok(a) => {
                let mut dims = self.dims().to_vec();
                dims.insert(a, 1);
                self.apply1(Op::Reshape { shape: dims.into() }, &[], loc)
            }
            Err(m) => Tensor::fail("expand_dims", format!("{m} (operand {})", self.ty()), loc),
        }
    }

    /// Permutes the dimensions: result dimension `i` is dimension `permutation[i]`.
    #[track_caller]
    pub fn transpose(&self, permutation: &[usize]) -> Tensor {
        self.apply1(Op::Transpose { permutation: permutation.to_vec() }, &[], SourceLocation::caller())
    }

    /// Swaps the last two dimensions (`x.mT`); the identity below rank 2.
    #[track_caller]
    pub fn t(&self) -> Tensor {
        let r = self.rank();
        if r < 2 {
            return self.clone();
        }
        let mut perm: Vec<usize> = (0..r).collect();
        perm.swap(r - 2, r - 1);
        self.apply1(Op::Transpose { permutation: perm }, &[], SourceLocation::caller())
    }

    /// The strided box `start..limit` step `strides` (`lax.slice`).
    #[track_caller]
    pub fn slice(&self, start: &[usize], limit: &[usize], strides: &[usize]) -> Tensor {
        let op = Op::Slice { start: start.to_vec(), limit: limit.to_vec(), strides: strides.to_vec() };
        self.apply1(op, &[], SourceLocation::caller())
    }

    /// `x[..., start:end, ...]` along one axis (negative axis counts from the end).
    #[track_caller]
    pub fn slice_axis(&self, axis: i32, start: usize, end: usize) -> Tensor {
        let loc = SourceLocation::caller();
        if let Some(e) = propagated(&[self]) {
            return e;
        }
        match normalize_axis(axis, self.rank()) {
            Ok(a) => {
                let mut s = vec![0; self.rank()];
                let mut l = self.dims().to_vec();
                s[a] = start;
                l[a] = end;
                self.apply1(Op::Slice { start: s, limit: l, strides: vec![1; self.rank()] }, &[], loc)
            }
            Err(m) => Tensor::fail("slice", format!("{m} (operand {})", self.ty()), loc),
        }
    }

    /// Joins tensors along `axis` (negative counts from the end).
    #[track_caller]
    pub fn concatenate(tensors: &[Tensor], axis: i32) -> Tensor {
        Tensor::concatenate_at(tensors, axis, SourceLocation::caller())
    }

    pub(crate) fn concatenate_at(tensors: &[Tensor], axis: i32, loc: SourceLocation) -> Tensor {
        let Some(first) = tensors.first() else {
            return Tensor::fail("concatenate", "needs at least one tensor", loc);
        };
        if let Some(e) = propagated(&tensors.iter().collect::<Vec<_>>()) {
            return e;
        }
        match normalize_axis(axis, first.rank()) {
            Ok(dimension) => {
                let refs: Vec<&Tensor> = tensors.iter().collect();
                Tensor::apply(Op::Concatenate { dimension }, &refs, loc).swap_remove(0)
            }
            Err(m) => Tensor::fail("concatenate", format!("{m} (first operand {})", first.ty()), loc),
        }
    }

    /// Pads with `value` (`lax.pad`): `low`/`high` per dimension (negative crops), `interior` between elements.
    #[track_caller]
    pub fn pad(&self, value: &Tensor, low: &[i64], high: &[i64], interior: &[usize]) -> Tensor {
        let op = Op::Pad { low: low.to_vec(), high: high.to_vec(), interior: interior.to_vec() };
        self.apply1(op, &[value], SourceLocation::caller())
    }

    /// Reverses the elements along `dimensions`.
    #[track_caller]
    pub fn rev(&self, dimensions: &[usize]) -> Tensor {
        self.apply1(Op::Rev { dimensions: dimensions.to_vec() }, &[], SourceLocation::caller())
    }

    /// `pred ? self : other` elementwise (`self` is `on_true`), broadcasting all three.
    #[track_caller]
    pub fn select(pred: &Tensor, on_true: &Tensor, on_false: &Tensor) -> Tensor {
        select_at(pred, on_true, on_false, SourceLocation::caller())
    }

    pub(crate) fn reduce_at(&self, op: ReduceOp, axes: Axes, keepdims: bool, loc: SourceLocation) -> Tensor {
        if let Some(e) = propagated(&[self]) {
            return e;
        }
        let axes = match axes.resolve(self.rank()) {
            Ok(a) => a,
            Err(m) => return Tensor::fail(op.name(), format!("{m} (operand {})", self.ty()), loc),
        };
        let r = self.apply1(Op::Reduce { op, axes: axes.clone() }, &[], loc);
        if keepdims { r.keep_dims(self, &axes, loc) } else { r }
    }

    /// Reshapes a reduction result so the reduced axes stay with size 1.
    pub(crate) fn keep_dims(&self, input: &Tensor, axes: &[usize], loc: SourceLocation) -> Tensor {
        let dims: Vec<usize> = (0..input.rank()).map(|i| if axes.contains(&i) { 1 } else { input.dims()[i] }).collect();
        self.apply1(Op::Reshape { shape: dims.into() }, &[], loc)
    }

    /// Sum over `axes` (`Axes::All` for every axis).
    #[track_caller]
    pub fn sum(&self, axes: impl Into<Axes>) -> Tensor {
        self.reduce_at(ReduceOp::Sum, axes.into(), false, SourceLocation::caller())
    }

    /// Sum over `axes`, keeping them with size 1.
    #[track_caller]
    pub fn sum_keepdims(&self, axes: impl Into<Axes>) -> Tensor {
        self.reduce_at(ReduceOp::Sum, axes.into(), true, SourceLocation::caller())
    }

    /// Product over `axes`.
    #[track_caller]
    pub fn prod(&self, axes: impl Into<Axes>) -> Tensor {
        self.reduce_at(ReduceOp::Prod, axes.into(), false, SourceLocation::caller())
    }

    /// Maximum over `axes` (NaN propagates).
    #[track_caller]
    pub fn max(&self, axes: impl Into<Axes>) -> Tensor {
        self.reduce_at(ReduceOp::Max, axes.into(), false, SourceLocation::caller())
    }

    /// Maximum over `axes`, keeping them with size 1.
    #[track_caller]
    pub fn max_keepdims(&self, axes: impl Into<Axes>) -> Tensor {
        self.reduce_at(ReduceOp::Max, axes.into(), true, SourceLocation::caller())
    }

    /// Minimum over `axes` (NaN propagates).
    #[track_caller]
    pub fn min(&self, axes: impl Into<Axes>) -> Tensor {
        self.reduce_at(ReduceOp::Min, axes.into(), false, SourceLocation::caller())
    }

    fn arg_reduce(&self, op: ArgReduceOp, axis: i32, loc: SourceLocation) -> Tensor {
        if let Some(e) = propagated(&[self]) {
            return e;
        }
        match normalize_axis(axis, self.rank()) {
            Ok(axis) => self.apply1(Op::ArgReduce { op, axis, index_dtype: DType::I32 }, &[], loc),
            Err(m) => Tensor::fail(op.name(), format!("{m} (operand {})", self.ty()), loc),
        }
    }

    /// Index (i32) of the first maximum along `axis`.
    #[track_caller]
    pub fn argmax(&self, axis: i32) -> Tensor {
        self.arg_reduce(ArgReduceOp::ArgMax, axis, SourceLocation::caller())
    }

    /// Index (i32) of the first minimum along `axis`.
    #[track_caller]
    pub fn argmin(&self, axis: i32) -> Tensor {
        self.arg_reduce(ArgReduceOp::ArgMin, axis, SourceLocation::caller())
    }

    /// `lax.dot_general` with explicit dimension numbers.
    #[track_caller]
    pub fn dot_general(&self, other: &Tensor, dims: DotDims) -> Tensor {
        self.apply1(Op::DotGeneral(dims), &[other], SourceLocation::caller())
    }

    /// The threefry2x32 block on `(k0, k1, x0, x1)` (all u32 of one shape after broadcasting): `(y0, y1)`.
    #[track_caller]
    pub fn threefry2x32(k0: &Tensor, k1: &Tensor, x0: &Tensor, x1: &Tensor) -> (Tensor, Tensor) {
        Tensor::threefry_at(k0, k1, x0, x1, SourceLocation::caller())
    }

    pub(crate) fn threefry_at(
        k0: &Tensor,
        k1: &Tensor,
        x0: &Tensor,
        x1: &Tensor,
        loc: SourceLocation,
    ) -> (Tensor, Tensor) {
        let all = [k0, k1, x0, x1];
        if let Some(e) = all.iter().find_map(|t| t.error()) {
            let t = Tensor::from_error(e.clone());
            return (t.clone(), t);
        }
        let mut shape = Shape::scalar();
        for t in all {
            match broadcast_shapes(&shape, t.shape()) {
                Some(s) => shape = s,
                None => {
                    let types: Vec<String> = all.iter().map(|t| t.ty().to_string()).collect();
                    let t = Tensor::fail(
                        "threefry2x32",
                        format!("operands {} do not broadcast together", types.join(", ")),
                        loc,
                    );
                    return (t.clone(), t);
                }
            }
        }
        let b: Vec<Tensor> = all.iter().map(|t| t.broadcast_to_at(&shape, loc)).collect();
        let refs: Vec<&Tensor> = b.iter().collect();
        let mut out = Tensor::apply(Op::Threefry2x32, &refs, loc);
        let y1 = out.pop().unwrap_or_else(|| Tensor::fail("threefry2x32", "missing result", loc));
        let y0 = out.pop().unwrap_or_else(|| Tensor::fail("threefry2x32", "missing result", loc));
        (y0, y1)
    }
}

pub(crate) fn select_at(pred: &Tensor, on_true: &Tensor, on_false: &Tensor, loc: SourceLocation) -> Tensor {
    if let Some(e) = [pred, on_true, on_false].iter().find_map(|t| t.error()) {
        return Tensor::from_error(e.clone());
    }
    let shape = broadcast_shapes(pred.shape(), on_true.shape()).and_then(|s| broadcast_shapes(&s, on_false.shape()));
    match shape {
        Some(s) => {
            let p = pred.broadcast_to_at(&s, loc);
            let t = on_true.broadcast_to_at(&s, loc);
            let f = on_false.broadcast_to_at(&s, loc);
            p.apply1(Op::Select, &[&t, &f], loc)
        }
        None => Tensor::fail(
            "select",
            format!(
                "predicate {}, on_true {} and on_false {} do not broadcast together",
                pred.ty(),
                on_true.ty(),
                on_false.ty()
            ),
            loc,
        ),
    }
}
