//! [`Tensor`]: the array type of user code, concrete or traced, carrying its error if an op failed.

use std::sync::Arc;

use super::context::{self, Trace};
use crate::array::{Array, DType, Element, Literal, Shape};
use crate::error::{Error, Result, SourceLocation};
use crate::interp;
use crate::ir::{Op, TensorType, ValueId};

/// An n-dimensional array in user code.
///
/// Outside a trace a tensor is concrete and ops run at once (on the reference interpreter). Inside a traced
/// function (`jit`) the same code records ops into the IR instead. Either way ops never panic and need no `?`:
/// an op that fails (shape or dtype mismatch) returns a tensor carrying the error, every op applied to it passes
/// the error on, and the error comes out at the next boundary that returns a `Result` ([`Tensor::to_array`], a
/// `jit` call). Every error names the op, the operand types and the source line of the call.
///
/// ```
/// use jit_runtime::{Tensor, DType};
/// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [3]);
/// let y = (&x * 2.0 + 1.0).tanh();
/// assert_eq!(y.shape().dims(), &[3]);
/// let bad = &x + &Tensor::zeros(DType::F32, [2]);      // shapes [3] and [2] do not broadcast
/// let err = bad.to_array().unwrap_err().to_string();
/// assert!(err.contains("add") && err.contains("f32[3]") && err.contains("f32[2]"), "{err}");
/// ```
#[derive(Clone)]
pub struct Tensor {
    pub(crate) repr: Repr,
}

#[derive(Clone)]
pub(crate) enum Repr {
    Concrete(Array),
    Traced { trace: Arc<Trace>, value: ValueId, ty: TensorType },
    Failed(Arc<Error>),
}

static FAILED_SHAPE: std::sync::LazyLock<Shape> = std::sync::LazyLock::new(Shape::scalar);

impl Tensor {
    /// A concrete tensor over an array (no copy).
    pub fn from_array(array: Array) -> Tensor {
        Tensor { repr: Repr::Concrete(array) }
    }

    /// A tensor carrying `error`. Inside a trace the error is also noted on the trace (if it is the first), so the
    /// `jit` call reports it even when this tensor is dropped.
    pub fn from_error(error: Error) -> Tensor {
        context::note_error(&error);
        Tensor { repr: Repr::Failed(Arc::new(error)) }
    }

    /// A tensor from a vector and a shape (an error tensor when the sizes disagree).
    #[track_caller]
    pub fn from_vec<T: Element>(v: Vec<T>, shape: impl Into<Shape>) -> Tensor {
        match Literal::from_vec(v, shape) {
            Ok(l) => Tensor::constant_at(l, SourceLocation::caller()),
            Err(e) => Tensor::from_error(e),
        }
    }

    /// A rank-1 tensor holding the slice.
    #[track_caller]
    pub fn vector<T: Element>(v: &[T]) -> Tensor {
        Tensor::constant_at(Literal::vector(v.to_vec()), SourceLocation::caller())
    }

    /// A rank-0 tensor.
    #[track_caller]
    pub fn scalar<T: Element>(v: T) -> Tensor {
        Tensor::constant_at(Literal::scalar(v), SourceLocation::caller())
    }

    /// A scalar of `dtype` holding `value` (converted as `Convert` would).
    #[track_caller]
    pub fn scalar_of(dtype: DType, value: f64) -> Tensor {
        match Literal::full(dtype, Shape::scalar(), value) {
            Ok(l) => Tensor::constant_at(l, SourceLocation::caller()),
            Err(e) => Tensor::from_error(e),
        }
    }

    /// `value` everywhere: a scalar constant broadcast to `shape` (inside a trace nothing large is materialised).
    #[track_caller]
    pub fn full(dtype: DType, shape: impl Into<Shape>, value: f64) -> Tensor {
        Tensor::full_at(dtype, shape.into(), value, SourceLocation::caller())
    }

    pub(crate) fn full_at(dtype: DType, shape: Shape, value: f64, loc: SourceLocation) -> Tensor {
        let s = match Literal::full(dtype, Shape::scalar(), value) {
            Ok(l) => Tensor::constant_at(l, loc),
            Err(e) => return Tensor::from_error(e),
        };
        s.apply1(Op::BroadcastInDim { shape, broadcast_dimensions: vec![] }, &[], loc)
    }

    /// Zeros.
    #[track_caller]
    pub fn zeros(dtype: DType, shape: impl Into<Shape>) -> Tensor {
        Tensor::full(dtype, shape, 0.0)
    }

    /// Ones.
    #[track_caller]
    pub fn ones(dtype: DType, shape: impl Into<Shape>) -> Tensor {
        Tensor::full(dtype, shape, 1.0)
    }

    /// `0, 1, ..., n-1` as a rank-1 tensor of `dtype`.
    #[track_caller]
    pub fn arange(n: usize, dtype: DType) -> Tensor {
        Tensor::iota(dtype, [n], 0)
    }

    /// Values counting along `dimension` of `shape`.
    #[track_caller]
    pub fn iota(dtype: DType, shape: impl Into<Shape>, dimension: usize) -> Tensor {
        Tensor::iota_at(dtype, shape.into(), dimension, SourceLocation::caller())
    }

    pub(crate) fn iota_at(dtype: DType, shape: Shape, dimension: usize, loc: SourceLocation) -> Tensor {
        Tensor::apply(Op::Iota { dtype, shape, dimension }, &[], loc).swap_remove(0)
    }

    pub(crate) fn zeros_at(dtype: DType, shape: Shape, loc: SourceLocation) -> Tensor {
        Tensor::full_at(dtype, shape, 0.0, loc)
    }

    /// A constant: staged into the active trace, or concrete outside one.
    pub(crate) fn constant_at(literal: Literal, loc: SourceLocation) -> Tensor {
        Tensor::from_array(Array::from_literal(literal)).lift_into_trace_at(loc)
    }

    /// Stages a concrete tensor into the active trace as a constant (identity outside a trace).
    pub(crate) fn lift_into_trace_at(&self, loc: SourceLocation) -> Tensor {
        match (&self.repr, context::current_trace()) {
            (Repr::Concrete(_), Some(trace)) => {
                let mut st = trace.state.lock();
                let lifted = lift(&trace, &mut st, self, loc).map(|value| Tensor::traced(&trace, &st, value));
                drop(st); // `from_error` notes the error on the trace: the lock must be free
                lifted.unwrap_or_else(Tensor::from_error)
            }
            _ => self.clone(),
        }
    }

    fn traced(trace: &Arc<Trace>, st: &context::TraceState, value: ValueId) -> Tensor {
        let ty = st.graph.ty(value).clone();
        Tensor { repr: Repr::Traced { trace: Arc::clone(trace), value, ty } }
    }

    /// The dtype (`f32` for a tensor carrying an error).
    pub fn dtype(&self) -> DType {
        match &self.repr {
            Repr::Concrete(a) => a.dtype(),
            Repr::Traced { ty, .. } => ty.dtype,
            Repr::Failed(_) => DType::F32,
        }
    }

    /// The shape (rank 0 for a tensor carrying an error).
    pub fn shape(&self) -> &Shape {
        match &self.repr {
            Repr::Concrete(a) => a.shape(),
            Repr::Traced { ty, .. } => &ty.shape,
            Repr::Failed(_) => &FAILED_SHAPE,
        }
    }

    /// The dimension sizes.
    pub fn dims(&self) -> &[usize] {
        self.shape().dims()
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape().rank()
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape().numel()
    }

    /// Dtype and shape as one value.
    pub fn ty(&self) -> TensorType {
        TensorType::new(self.dtype(), self.shape().clone())
    }

    /// The error this tensor carries, if any.
    pub fn error(&self) -> Option<&Error> {
        match &self.repr {
            Repr::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The "leaked tracer" error when this is a traced tensor whose trace has ended.
    pub(crate) fn leak_error(&self) -> Option<Error> {
        match &self.repr {
            Repr::Traced { trace, .. } if trace.state.lock().finished => Some(leaked(trace)),
            _ => None,
        }
    }

    /// True when this tensor is a symbolic value of an active trace.
    pub fn is_traced(&self) -> bool {
        matches!(self.repr, Repr::Traced { .. })
    }

    /// The concrete value; the carried error, or an error for a traced tensor (it has no value until the compiled
    /// function runs).
    pub fn to_array(&self) -> Result<Array> {
        match &self.repr {
            Repr::Concrete(a) => Ok(a.clone()),
            Repr::Failed(e) => Err((**e).clone()),
            Repr::Traced { trace, .. } if trace.state.lock().finished => Err(leaked(trace)),
            Repr::Traced { ty, trace, .. } => Err(Error::Trace(format!(
                "cannot read the value of a traced {ty} inside `{}`: it has no value until the compiled function runs \
                 (move the read outside the jitted function, or mark the input static)",
                trace.name
            ))),
        }
    }

    /// Copies the elements out (see [`Tensor::to_array`]).
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        self.to_array()?.to_vec::<T>()
    }

    /// Applies a one-result op to `self` and `rest`.
    pub(crate) fn apply1(&self, op: Op, rest: &[&Tensor], loc: SourceLocation) -> Tensor {
        let mut inputs = Vec::with_capacity(rest.len() + 1);
        inputs.push(self);
        inputs.extend_from_slice(rest);
        Tensor::apply(op, &inputs, loc).swap_remove(0)
    }

    /// Applies `op`: records it into the active trace, or runs it at once on concrete operands. Never panics; a
    /// failure yields tensors carrying the error (one per result, at least one).
    pub(crate) fn apply(op: Op, inputs: &[&Tensor], loc: SourceLocation) -> Vec<Tensor> {
        match Tensor::try_apply(&op, inputs, loc) {
            Ok(v) => v,
            Err(e) => {
                let e = with_context(e);
                let n = if matches!(op, Op::Threefry2x32) { 2 } else { 1 };
                let t = Tensor::from_error(e);
                vec![t; n]
            }
        }
    }

    fn try_apply(op: &Op, inputs: &[&Tensor], loc: SourceLocation) -> Result<Vec<Tensor>> {
        if let Some(e) = inputs.iter().find_map(|t| t.error()) {
            return Err(e.clone());
        }
        let trace = inputs
            .iter()
            .find_map(|t| match &t.repr {
                Repr::Traced { trace, .. } => Some(Arc::clone(trace)),
                _ => None,
            })
            .or_else(context::current_trace);
        match trace {
            Some(trace) => Tensor::record(&trace, op, inputs, loc),
            None => Tensor::eval(op, inputs, loc),
        }
    }

    fn eval(op: &Op, inputs: &[&Tensor], loc: SourceLocation) -> Result<Vec<Tensor>> {
        let literals: Vec<Arc<Literal>> = inputs
            .iter()
            .map(|t| match &t.repr {
                Repr::Concrete(a) => a.literal(),
                _ => Err(Error::Trace("internal: non-concrete operand in eager evaluation".into())),
            })
            .collect::<Result<_>>()?;
        let refs: Vec<&Literal> = literals.iter().map(|l| &**l).collect();
        let out = interp::eval_op(op, &refs).map_err(|e| locate(e, loc))?;
        Ok(out.into_iter().map(|l| Tensor::from_array(Array::from_literal(l))).collect())
    }

    fn record(trace: &Arc<Trace>, op: &Op, inputs: &[&Tensor], loc: SourceLocation) -> Result<Vec<Tensor>> {
        let mut st = trace.state.lock();
        if st.finished {
            return Err(Error::Trace(format!("`{}`: {}", op.name(), leaked(trace))));
        }
        let mut ids = Vec::with_capacity(inputs.len());
        for t in inputs {
            match lift(trace, &mut st, t, loc) {
                Ok(id) => ids.push(id),
                Err(e) => {
                    drop(st);
                    return Err(match e {
                        Error::Trace(m) => Error::Trace(format!("`{}`: {m}", op.name())),
                        e => e,
                    });
                }
            }
        }
        let out = match st.graph.add(op.clone(), &ids, Some(loc)) {
            Ok(out) => out,
            Err(e) => {
                let e = with_context(e);
                if st.first_error.is_none() {
                    st.first_error = Some(e.clone());
                }
                return Err(e);
            }
        };
        Ok(out.into_iter().map(|value| Tensor::traced(trace, &st, value)).collect())
    }
}

/// The value of `t` in `trace`: its own value, or a constant node for a concrete tensor (deduplicated by buffer).
fn lift(trace: &Trace, st: &mut context::TraceState, t: &Tensor, loc: SourceLocation) -> Result<ValueId> {
    match &t.repr {
        Repr::Traced { trace: other, value, .. } => {
            if other.id == trace.id {
                Ok(*value)
            } else {
                Err(Error::Trace(format!(
                    "a tensor of trace `{}` was mixed with one of trace `{}` (a traced value escaped its function, \
                     or was captured by a closure traced separately)",
                    other.name, trace.name
                )))
            }
        }
        Repr::Concrete(a) => {
            let lit = a.literal()?;
            let key = Arc::as_ptr(&lit) as usize;
            if let Some(&id) = st.constants.get(&key) {
                return Ok(id);
            }
            let id = st.graph.add1(Op::Constant(lit), &[], Some(loc))?;
            st.constants.insert(key, id);
            Ok(id)
        }
        Repr::Failed(e) => Err((**e).clone()),
    }
}

fn leaked(trace: &Trace) -> Error {
    Error::Trace(format!(
        "a traced tensor of `{}` was used after that trace ended (a tracer leaked out of the traced function, e.g. \
         stored in a static or returned through a side channel)",
        trace.name
    ))
}

fn locate(e: Error, loc: SourceLocation) -> Error {
    match e {
        Error::Op(mut op) => {
            op.location.get_or_insert(loc);
            Error::Op(op)
        }
        other => other,
    }
}

/// Adds the module path of the running module to an op error.
fn with_context(e: Error) -> Error {
    match e {
        Error::Op(mut op) if op.module_path.is_none() => {
            op.module_path = context::current_module_path();
            Error::Op(op)
        }
        other => other,
    }
}

impl From<Array> for Tensor {
    fn from(a: Array) -> Tensor {
        Tensor::from_array(a)
    }
}

impl From<&Array> for Tensor {
    fn from(a: &Array) -> Tensor {
        Tensor::from_array(a.clone())
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.repr {
            Repr::Concrete(a) => write!(f, "{a}"),
            Repr::Traced { ty, value, .. } => write!(f, "Traced<{ty}>({})", crate::ir::value_name(value.index())),
            Repr::Failed(e) => write!(f, "Tensor(<error: {e}>)"),
        }
    }
}

impl std::fmt::Display for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}
