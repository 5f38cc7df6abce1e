//! Large reductions to a single element, split in two launches before lowering: the kernels give one block of
//! threads per output element (or one thread, see `kernels::Schedule`), so `x.sum()` over a million elements
//! would otherwise run on one of the GPU's multiprocessors.
//!
//! `reduce(x)` over `n` elements becomes `reduce(reduce(reshape(pad(flatten(x), identity), [p, c]), 1), 0)` with
//! `c = ⌈√n⌉` and `p = ⌈n / c⌉`: `p` blocks fold `c` elements each, then one block folds the `p` partial results.
//! Only where the order of the fold cannot change the result — max and min of any dtype, sums and products of
//! integers and bools (wrapping arithmetic) — and float sums, which the backends already reassociate (they agree
//! with the interpreter within the bound of any summation order); float products keep one thread.

use std::collections::HashMap;

use jit_runtime::ir::{Graph, Op, ReduceOp, ValueId};
use jit_runtime::{DType, Literal, Shape};

use super::error::GpuError;

/// Reductions to one element over at least this many elements are split.
pub const SPLIT_MIN_ELEMENTS: usize = 1 << 14;

/// May a reduction of `dtype` by `op` be folded in another order without changing its result (beyond the float
/// sum's documented reassociation)?
fn reorderable(op: ReduceOp, dtype: DType) -> bool {
    match op {
        ReduceOp::Max | ReduceOp::Min | ReduceOp::Sum => true,
        ReduceOp::Prod => !dtype.is_float(),
    }
}

/// The identity of `op` on `dtype`, as a scalar literal (the padding of the last partial fold).
fn identity(op: ReduceOp, dtype: DType) -> Result<Literal, GpuError> {
    let value = match (op, dtype) {
        (ReduceOp::Sum, _) => 0.0,
        (ReduceOp::Prod, _) => 1.0,
        (ReduceOp::Max, DType::Bool) => 0.0,
        (ReduceOp::Min, DType::Bool) => 1.0,
        // Saturating conversions give each integer dtype's lowest and highest value.
        (ReduceOp::Max, _) => f64::NEG_INFINITY,
        (ReduceOp::Min, _) => f64::INFINITY,
    };
    Literal::full(dtype, Shape::scalar(), value).map_err(|e| GpuError::Unsupported(e.to_string()))
}

/// `graph` with every large reduction to one element split in two (the same parameters and outputs, in order);
/// `None` when there is none.
pub fn split_reductions(graph: &Graph) -> Result<Option<Graph>, GpuError> {
    let splittable = |node: &jit_runtime::ir::Node| match &node.op {
        Op::Reduce { op, .. } => {
            let (x, out) = (graph.ty(node.inputs[0]), graph.ty(node.outputs[0]));
            out.shape.numel() == 1 && x.shape.numel() >= SPLIT_MIN_ELEMENTS && reorderable(*op, x.dtype)
        }
        _ => false,
    };
    if !graph.nodes().iter().any(splittable) {
        return Ok(None);
    }
    let err = |e: jit_runtime::Error| GpuError::Unsupported(e.to_string());
    let mut g = Graph::new();
    let mut map: HashMap<ValueId, ValueId> = HashMap::new();
    for node in graph.nodes() {
        let inputs: Vec<ValueId> = node
            .inputs
            .iter()
            .map(|v| map.get(v).copied().ok_or_else(|| GpuError::Unsupported(format!("{v:?} used before defined"))))
            .collect::<Result<_, _>>()?;
        let outputs = match &node.op {
            Op::Parameter { .. } => vec![g.add_parameter(graph.ty(node.outputs[0]).clone())],
            Op::Reduce { op, .. } if splittable(node) => {
                let x = graph.ty(node.inputs[0]);
                let n = x.shape.numel();
                let c = n.isqrt() + usize::from(n.isqrt() * n.isqrt() < n);
                let p = n.div_ceil(c);
                let at = node.location;
                let flat = g.add1(Op::Reshape { shape: Shape::from(vec![n]) }, &inputs, at).map_err(err)?;
                let flat = if p * c > n {
                    let pad_value = g.add1(Op::Constant(identity(*op, x.dtype)?.into()), &[], at).map_err(err)?;
                    let pad = Op::Pad { low: vec![0], high: vec![(p * c - n) as i64], interior: vec![0] };
                    g.add1(pad, &[flat, pad_value], at).map_err(err)?
                } else {
                    flat
                };
                let parts = g.add1(Op::Reshape { shape: Shape::from(vec![p, c]) }, &[flat], at).map_err(err)?;
                let partial = g.add1(Op::Reduce { op: *op, axes: vec![1] }, &[parts], at).map_err(err)?;
                let total = g.add1(Op::Reduce { op: *op, axes: vec![0] }, &[partial], at).map_err(err)?;
                let out_shape = graph.ty(node.outputs[0]).shape.clone();
                let total = if out_shape.rank() == 0 {
                    total
                } else {
                    g.add1(Op::Reshape { shape: out_shape }, &[total], at).map_err(err)?
                };
                vec![total]
            }
            op => g.add(op.clone(), &inputs, node.location).map_err(err)?,
        };
        for (old, new) in node.outputs.iter().zip(outputs) {
            map.insert(*old, new);
        }
    }
    let outputs = graph
        .outputs()
        .iter()
        .map(|v| map.get(v).copied().ok_or_else(|| GpuError::Unsupported(format!("output {v:?} not defined"))))
        .collect::<Result<_, _>>()?;
    g.set_outputs(outputs);
    Ok(Some(g))
}
