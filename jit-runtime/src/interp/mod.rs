//! The reference interpreter: runs any verified graph on host data. It is the oracle every backend is tested
//! against, so it favours clarity and exact semantics over speed.
//!
//! [`eval_op`] evaluates one op on concrete operands; [`run()`] evaluates a whole graph. The semantics follow XLA
//! (what JAX computes on CPU); where XLA leaves a choice, the choice is documented on the function that makes it:
//! - elementwise: `scalar.rs` holds the per-dtype tables (integer division by zero, shifts out of range, NaN in
//!   max/min, conversions), `math.rs` the functions whose exact formula matters (`integer_pow`, NaN-propagating
//!   max/min; the transcendental functions come from `crate::math`), `elementwise.rs` applies them;
//! - data movement (`layout.rs`) is index arithmetic (`view.rs`);
//! - reductions and `dot_general` (`reduce.rs`, `dot.rs`) accumulate in the element type in a fixed, documented
//!   order;
//! - `run.rs` walks a graph, dropping each value after its last use.
//!
//! ```
//! use jit_runtime::interp::eval_op;
//! use jit_runtime::ir::{BinaryOp, Op};
//! use jit_runtime::Literal;
//! let x = Literal::vector(vec![7i32, -7, 5]);
//! let y = Literal::vector(vec![2i32, 2, 0]);
//! let q = eval_op(&Op::Binary(BinaryOp::Div), &[&x, &y])?;
//! assert_eq!(q[0].to_vec::<i32>()?, vec![3, -3, -1]); // x / 0 is -1, as in XLA
//! # Ok::<(), jit_runtime::Error>(())
//! ```

/// Runs `$body` with the type alias `$T` bound to the Rust element type of `$dtype`.
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::array::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::array::DType::F64 => {
                type $T = f64;
                $body
            }
            $crate::array::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::array::DType::U32 => {
                type $T = u32;
                $body
            }
            $crate::array::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::array::DType::Bool => {
                type $T = bool;
                $body
            }
        }
    };
}

/// [`with_dtype!`] for the numeric dtypes; bool is an error.
macro_rules! with_numeric_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::array::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::array::DType::F64 => {
                type $T = f64;
                $body
            }
            $crate::array::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::array::DType::U32 => {
                type $T = u32;
                $body
            }
            $crate::array::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::array::DType::Bool => Err("does not accept dtype bool".to_string()),
        }
    };
}

mod dot;
mod elementwise;
mod layout;
mod math;
mod reduce;
mod run;
mod scalar;
mod view;

pub use run::run;

use crate::array::{Element, HostData, Literal};
use crate::error::{Error, Result};
use crate::ir::{Op, TensorType, infer};

/// The result of the internal helpers: the message becomes an [`Error::Op`] naming the op.
type Fallible<T> = std::result::Result<T, String>;

/// The elements of `x` as `&[T]`, or a message when the dtype is not `T`'s.
fn typed<T: Element>(x: &Literal) -> Fallible<&[T]> {
    T::slice_of(x.data()).ok_or_else(|| format!("internal error: expected a {} operand, got {}", T::DTYPE, x.dtype()))
}

/// Evaluates one op on concrete operands.
///
/// The result types are those of [`ir::infer`](crate::ir::infer()) for the operands' types; when inference rejects
/// them, its message comes back as an [`Error::Op`] naming the op. `parameter` has no value of its own and is an
/// error here ([`run()`] supplies parameters).
///
/// ```
/// use jit_runtime::interp::eval_op;
/// use jit_runtime::ir::{Op, ReduceOp};
/// use jit_runtime::Literal;
/// let x = Literal::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3])?;
/// let s = eval_op(&Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[&x])?;
/// assert_eq!(s[0].to_vec::<f32>()?, vec![6.0, 15.0]);
/// # Ok::<(), jit_runtime::Error>(())
/// ```
pub fn eval_op(op: &Op, inputs: &[&Literal]) -> Result<Vec<Literal>> {
    let fail = |message: String| Error::op(op.name(), message, None);
    let types: Vec<TensorType> = inputs.iter().map(|x| TensorType::new(x.dtype(), x.shape().clone())).collect();
    let type_refs: Vec<&TensorType> = types.iter().collect();
    let out_types = infer(op, &type_refs).map_err(fail)?;
    let results = compute(op, inputs, &out_types).map_err(fail)?;
    if results.len() != out_types.len() {
        return Err(fail(format!("internal error: {} results for {} result types", results.len(), out_types.len())));
    }
    results
        .into_iter()
        .zip(out_types)
        .map(|(data, ty)| {
            if data.dtype() != ty.dtype {
                return Err(fail(format!("internal error: computed {} for a result of type {ty}", data.dtype())));
            }
            let count = data.len();
            Literal::new(data, ty.shape.clone())
                .map_err(|_| fail(format!("internal error: computed {count} elements for a result of type {ty}")))
        })
        .collect()
}

/// The operands of an op of fixed arity.
fn operands<'a, const N: usize>(inputs: &[&'a Literal]) -> Fallible<[&'a Literal; N]> {
    <[&Literal; N]>::try_from(inputs).map_err(|_| format!("expects {N} operand(s), got {}", inputs.len()))
}

/// The result data of `op` on operands already checked by `infer`, which gave `out`.
fn compute(op: &Op, inputs: &[&Literal], out: &[TensorType]) -> Fallible<Vec<HostData>> {
    let single = |data: Fallible<HostData>| data.map(|d| vec![d]);
    let out_shape = || match out {
        [t] => Ok(&t.shape),
        _ => Err(format!("internal error: {} result types for a single-result op", out.len())),
    };
    match op {
        Op::Parameter { index, .. } => {
            Err(format!("parameter {index} has no value outside a graph run (use interp::run)"))
        }
        Op::Constant(literal) => Ok(vec![literal.data().clone()]),
        Op::Iota { dtype, shape, dimension } => single(layout::iota(*dtype, shape, *dimension)),
        Op::Unary(u) => {
            let [x] = operands(inputs)?;
            single(elementwise::unary(*u, x))
        }
        Op::Binary(b) => {
            let [x, y] = operands(inputs)?;
            single(elementwise::binary(*b, x, y))
        }
        Op::IntegerPow { exponent } => {
            let [x] = operands(inputs)?;
            single(elementwise::integer_pow(x, *exponent))
        }
        Op::Select => {
            let [p, t, f] = operands(inputs)?;
            single(elementwise::select(p, t, f))
        }
        Op::Convert { dtype } => {
            let [x] = operands(inputs)?;
            single(elementwise::convert(x, *dtype))
        }
        Op::BitcastConvert { dtype } => {
            let [x] = operands(inputs)?;
            single(elementwise::bitcast_convert(x, *dtype))
        }
        Op::BroadcastInDim { shape, broadcast_dimensions } => {
            let [x] = operands(inputs)?;
            single(layout::broadcast_in_dim(x, shape, broadcast_dimensions))
        }
        Op::Reshape { .. } | Op::StopGradient => {
            let [x] = operands(inputs)?;
            Ok(vec![x.data().clone()])
        }
        Op::Transpose { permutation } => {
            let [x] = operands(inputs)?;
            single(layout::transpose(x, permutation))
        }
        Op::Slice { start, strides, .. } => {
            let [x] = operands(inputs)?;
            single(layout::slice(x, start, strides, out_shape()?))
        }
        Op::Concatenate { dimension } => single(layout::concatenate(inputs, *dimension)),
        Op::Pad { low, interior, .. } => {
            let [x, value] = operands(inputs)?;
            single(layout::pad(x, value, low, interior, out_shape()?))
        }
        Op::Rev { dimensions } => {
            let [x] = operands(inputs)?;
            single(layout::rev(x, dimensions))
        }
        Op::Reduce { op, axes } => {
            let [x] = operands(inputs)?;
            single(reduce::reduce(x, *op, axes))
        }
        Op::ArgReduce { op, axis, index_dtype } => {
            let [x] = operands(inputs)?;
            single(reduce::arg_reduce(x, *op, *axis, *index_dtype))
        }
        Op::DotGeneral(dims) => {
            let [lhs, rhs] = operands(inputs)?;
            single(dot::dot_general(dims, lhs, rhs))
        }
        Op::Threefry2x32 => {
            let [k0, k1, x0, x1] = operands(inputs)?;
            elementwise::threefry(k0, k1, x0, x1).map(Vec::from)
        }
    }
}
