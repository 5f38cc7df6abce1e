//! The op set of the IR: plain data, one variant per primitive, attributes inline.
//!
//! Every op is a pure function of its operands and attributes; all shape-changing information is an attribute, so
//! the result types follow from `(op, operand types)` alone ([`infer`](super::infer)). Binary elementwise ops take
//! operands of equal shape: broadcasting is explicit (`broadcast_in_dim`), as in `lax`, so the transpose rules of
//! reverse-mode differentiation never need to "un-broadcast".

use std::sync::Arc;

use crate::array::{DType, Literal, Shape};

/// Elementwise ops of one operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x` (wrapping for integers).
    Neg,
    /// `|x|` (wrapping for `i32::MIN`).
    Abs,
    /// -1, 0 or 1 (NaN stays NaN; `-0.0` stays `-0.0`).
    Sign,
    /// Round toward -inf.
    Floor,
    /// Round toward +inf.
    Ceil,
    /// Round half away from zero (`lax.round`'s default).
    Round,
    /// e^x.
    Exp,
    /// e^x - 1.
    Expm1,
    /// Natural logarithm.
    Log,
    /// ln(1 + x).
    Log1p,
    /// Square root.
    Sqrt,
    /// 1 / sqrt(x).
    Rsqrt,
    /// Hyperbolic tangent.
    Tanh,
    /// 1 / (1 + e^-x).
    Logistic,
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Error function.
    Erf,
    /// Complementary error function `1 - erf(x)`, accurate where `erf(x)` is close to 1 (`lax.erfc`).
    Erfc,
    /// Inverse error function (Giles' single-precision approximation for f32, as XLA).
    ErfInv,
    /// Logical not (bool) or bitwise not (integers).
    Not,
}

/// Elementwise ops of two operands of equal dtype and shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `x + y` (wrapping for integers).
    Add,
    /// `x - y`.
    Sub,
    /// `x * y`.
    Mul,
    /// `x / y`; integers truncate, and `x / 0` is -1 (all ones for unsigned) as in XLA.
    Div,
    /// Remainder with the sign of the dividend (C's `fmod`); integer `x % 0` is `x`.
    Rem,
    /// `x ^ y`.
    Pow,
    /// Maximum; NaN if either is NaN.
    Max,
    /// Minimum; NaN if either is NaN.
    Min,
    /// atan2(x, y).
    Atan2,
    /// Logical/bitwise and.
    And,
    /// Logical/bitwise or.
    Or,
    /// Logical/bitwise xor.
    Xor,
    /// `x << y`; 0 when `y` is negative or at least the bit width.
    ShiftLeft,
    /// Logical `x >> y`; 0 when `y` is out of range.
    ShiftRightLogical,
    /// Arithmetic `x >> y`; the sign fills when `y` is out of range.
    ShiftRightArithmetic,
    /// `x == y` (bool result).
    Eq,
    /// `x != y` (bool result).
    Ne,
    /// `x < y` (bool result).
    Lt,
    /// `x <= y` (bool result).
    Le,
    /// `x > y` (bool result).
    Gt,
    /// `x >= y` (bool result).
    Ge,
}

impl BinaryOp {
    /// True for the comparisons, whose result is bool.
    pub fn is_comparison(self) -> bool {
        matches!(self, BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge)
    }
}

/// The combining function of a reduction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    /// Sum; 0 over an empty axis.
    Sum,
    /// Product; 1 over an empty axis.
    Prod,
    /// Maximum; -inf (or the type's minimum) over an empty axis; NaN propagates.
    Max,
    /// Minimum; +inf (or the type's maximum) over an empty axis; NaN propagates.
    Min,
}

/// Which extremum an arg-reduction looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgReduceOp {
    /// Index of the first maximum (NaN counts as the maximum).
    ArgMax,
    /// Index of the first minimum (NaN counts as the minimum).
    ArgMin,
}

/// Dimension numbers of `dot_general`, as in `lax.dot_general`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct DotDims {
    /// Contracting dimensions of the left operand.
    pub lhs_contracting: Vec<usize>,
    /// Contracting dimensions of the right operand (paired with `lhs_contracting`).
    pub rhs_contracting: Vec<usize>,
    /// Batch dimensions of the left operand.
    pub lhs_batch: Vec<usize>,
    /// Batch dimensions of the right operand (paired with `lhs_batch`).
    pub rhs_batch: Vec<usize>,
}

/// One primitive of the IR.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Op {
    /// The `index`-th input of the graph.
    Parameter {
        /// Position among the graph's inputs.
        index: usize,
        /// Its dtype.
        dtype: DType,
        /// Its shape.
        shape: Shape,
    },
    /// A constant value.
    Constant(Arc<Literal>),
    /// Values counting up along `dimension`.
    Iota {
        /// Result dtype (numeric).
        dtype: DType,
        /// Result shape.
        shape: Shape,
        /// The dimension that counts.
        dimension: usize,
    },
    /// Elementwise op of one operand.
    Unary(UnaryOp),
    /// Elementwise op of two operands.
    Binary(BinaryOp),
    /// `x ^ exponent` for a fixed integer exponent (so `x**3` is not a `pow`).
    IntegerPow {
        /// The exponent.
        exponent: i32,
    },
    /// `pred ? on_true : on_false`, elementwise; all three of one shape.
    Select,
    /// Value conversion to another dtype (floats to integers truncate and saturate; NaN becomes 0).
    Convert {
        /// Target dtype.
        dtype: DType,
    },
    /// Reinterprets the bits as another dtype of the same size.
    BitcastConvert {
        /// Target dtype.
        dtype: DType,
    },
    /// Broadcasts the operand into `shape`; operand dimension `i` becomes dimension `broadcast_dimensions[i]`.
    BroadcastInDim {
        /// Result shape.
        shape: Shape,
        /// Where each operand dimension goes (strictly increasing).
        broadcast_dimensions: Vec<usize>,
    },
    /// Same elements, new shape (row-major).
    Reshape {
        /// Result shape.
        shape: Shape,
    },
    /// Permutes the dimensions: result dimension `i` is operand dimension `permutation[i]`.
    Transpose {
        /// A permutation of `0..rank`.
        permutation: Vec<usize>,
    },
    /// A strided box `start..limit` step `strides`.
    Slice {
        /// Start index per dimension.
        start: Vec<usize>,
        /// Exclusive end per dimension.
        limit: Vec<usize>,
        /// Step per dimension (at least 1).
        strides: Vec<usize>,
    },
    /// Joins operands along `dimension`.
    Concatenate {
        /// The dimension that grows.
        dimension: usize,
    },
    /// Pads with a scalar (second operand): `low`/`high` at the ends (negative crops), `interior` between elements.
    Pad {
        /// Padding before each dimension.
        low: Vec<i64>,
        /// Padding after each dimension.
        high: Vec<i64>,
        /// Padding between elements of each dimension.
        interior: Vec<usize>,
    },
    /// Reverses the order of elements along `dimensions`.
    Rev {
        /// Dimensions to reverse.
        dimensions: Vec<usize>,
    },
    /// Reduces over `axes`, removing them.
    Reduce {
        /// The combining function.
        op: ReduceOp,
        /// Axes to reduce (distinct, sorted).
        axes: Vec<usize>,
    },
    /// Index of the extremum along `axis`, removing it.
    ArgReduce {
        /// Which extremum.
        op: ArgReduceOp,
        /// The axis searched (non-empty).
        axis: usize,
        /// Integer dtype of the result.
        index_dtype: DType,
    },
    /// Generalised matrix product: batch dims, then the left's free dims, then the right's free dims.
    DotGeneral(DotDims),
    /// The threefry2x32 block function on `(k0, k1, x0, x1)`, all `u32` of one shape; two results `(y0, y1)`.
    Threefry2x32,
    /// Identity whose derivative is zero (for automatic differentiation).
    StopGradient,
}

impl UnaryOp {
    /// Every unary op.
    pub const ALL: [UnaryOp; 20] = [
        UnaryOp::Neg,
        UnaryOp::Abs,
        UnaryOp::Sign,
        UnaryOp::Floor,
        UnaryOp::Ceil,
        UnaryOp::Round,
        UnaryOp::Exp,
        UnaryOp::Expm1,
        UnaryOp::Log,
        UnaryOp::Log1p,
        UnaryOp::Sqrt,
        UnaryOp::Rsqrt,
        UnaryOp::Tanh,
        UnaryOp::Logistic,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Erf,
        UnaryOp::Erfc,
        UnaryOp::ErfInv,
        UnaryOp::Not,
    ];

    /// The printed name.
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "neg",
            UnaryOp::Abs => "abs",
            UnaryOp::Sign => "sign",
            UnaryOp::Floor => "floor",
            UnaryOp::Ceil => "ceil",
            UnaryOp::Round => "round",
            UnaryOp::Exp => "exp",
            UnaryOp::Expm1 => "expm1",
            UnaryOp::Log => "log",
            UnaryOp::Log1p => "log1p",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Rsqrt => "rsqrt",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Logistic => "logistic",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Erf => "erf",
            UnaryOp::Erfc => "erfc",
            UnaryOp::ErfInv => "erf_inv",
            UnaryOp::Not => "not",
        }
    }

    /// True when the op only accepts floats.
    pub fn float_only(self) -> bool {
        !matches!(self, UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Sign | UnaryOp::Not)
    }
}

impl BinaryOp {
    /// Every binary op.
    pub const ALL: [BinaryOp; 21] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Rem,
        BinaryOp::Pow,
        BinaryOp::Max,
        BinaryOp::Min,
        BinaryOp::Atan2,
        BinaryOp::And,
        BinaryOp::Or,
        BinaryOp::Xor,
        BinaryOp::ShiftLeft,
        BinaryOp::ShiftRightLogical,
        BinaryOp::ShiftRightArithmetic,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
    ];

    /// The printed name.
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Rem => "rem",
            BinaryOp::Pow => "pow",
            BinaryOp::Max => "max",
            BinaryOp::Min => "min",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Xor => "xor",
            BinaryOp::ShiftLeft => "shift_left",
            BinaryOp::ShiftRightLogical => "shift_right_logical",
            BinaryOp::ShiftRightArithmetic => "shift_right_arithmetic",
            BinaryOp::Eq => "eq",
            BinaryOp::Ne => "ne",
            BinaryOp::Lt => "lt",
            BinaryOp::Le => "le",
            BinaryOp::Gt => "gt",
            BinaryOp::Ge => "ge",
        }
    }
}

impl ReduceOp {
    /// The printed name (`reduce_sum`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "reduce_sum",
            ReduceOp::Prod => "reduce_prod",
            ReduceOp::Max => "reduce_max",
            ReduceOp::Min => "reduce_min",
        }
    }
}

impl ArgReduceOp {
    /// The printed name.
    pub fn name(self) -> &'static str {
        match self {
            ArgReduceOp::ArgMax => "argmax",
            ArgReduceOp::ArgMin => "argmin",
        }
    }
}

impl Op {
    /// The op's printed name, as in a jaxpr (`add`, `broadcast_in_dim`, `reduce_sum`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Parameter { .. } => "parameter",
            Op::Constant(_) => "constant",
            Op::Iota { .. } => "iota",
            Op::Unary(u) => u.name(),
            Op::Binary(b) => b.name(),
            Op::IntegerPow { .. } => "integer_pow",
            Op::Select => "select",
            Op::Convert { .. } => "convert",
            Op::BitcastConvert { .. } => "bitcast_convert",
            Op::BroadcastInDim { .. } => "broadcast_in_dim",
            Op::Reshape { .. } => "reshape",
            Op::Transpose { .. } => "transpose",
            Op::Slice { .. } => "slice",
            Op::Concatenate { .. } => "concatenate",
            Op::Pad { .. } => "pad",
            Op::Rev { .. } => "rev",
            Op::Reduce { op, .. } => op.name(),
            Op::ArgReduce { op, .. } => op.name(),
            Op::DotGeneral(_) => "dot_general",
            Op::Threefry2x32 => "threefry2x32",
            Op::StopGradient => "stop_gradient",
        }
    }

    /// True for ops computed element by element from operands of the result's shape.
    pub fn is_elementwise(&self) -> bool {
        matches!(
            self,
            Op::Unary(_)
                | Op::Binary(_)
                | Op::IntegerPow { .. }
                | Op::Select
                | Op::Convert { .. }
                | Op::BitcastConvert { .. }
                | Op::Threefry2x32
                | Op::StopGradient
        )
    }
}
