//! [`run()`]: evaluates a whole graph, freeing each intermediate value after its last use.

use std::sync::Arc;

use super::eval_op;
use crate::array::Literal;
use crate::error::{Error, Result};
use crate::ir::{Graph, Op, ValueId};

/// Runs `graph` on `inputs` (one per parameter, in order) and returns its outputs.
///
/// The graph is assumed verified, but nothing panics when it is not: a mismatch between `inputs` and the
/// parameters (count, dtype or shape) is an [`Error::InvalidArgument`] naming the parameter and both types, and an
/// op failure is the [`Error::Op`] of [`eval_op`] with the node's source location. Intermediate values are dropped
/// after their last use; an output that is a parameter (or a constant) is the same `Arc`, not a copy.
///
/// ```
/// use std::sync::Arc;
/// use jit_runtime::interp::run;
/// use jit_runtime::ir::{BinaryOp, Graph, Op, TensorType};
/// use jit_runtime::{DType, Literal};
/// let mut g = Graph::new();
/// let a = g.add_parameter(TensorType::new(DType::F32, [2]));
/// let b = g.add1(Op::Binary(BinaryOp::Mul), &[a, a], None)?;
/// g.set_outputs(vec![b, a]);
/// let x = Arc::new(Literal::vector(vec![3.0f32, -1.5]));
/// let out = run(&g, &[x.clone()])?;
/// assert_eq!(out[0].to_vec::<f32>()?, vec![9.0, 2.25]);
/// assert!(Arc::ptr_eq(&out[1], &x));
/// # Ok::<(), jit_runtime::Error>(())
/// ```
pub fn run(graph: &Graph, inputs: &[Arc<Literal>]) -> Result<Vec<Arc<Literal>>> {
    check_inputs(graph, inputs)?;
    let last_use = last_uses(graph);
    let mut is_output = vec![false; graph.num_values()];
    for o in graph.outputs() {
        if let Some(flag) = is_output.get_mut(o.index()) {
            *flag = true;
        }
    }
    let mut env: Vec<Option<Arc<Literal>>> = vec![None; graph.num_values()];
    for (n, node) in graph.nodes().iter().enumerate() {
        let results: Vec<Arc<Literal>> = match &node.op {
            Op::Parameter { index, .. } => vec![inputs.get(*index).cloned().ok_or_else(|| {
                Error::Verify(format!("node {n} is parameter {index} but only {} inputs exist", inputs.len()))
            })?],
            Op::Constant(literal) => vec![literal.clone()],
            op => {
                let args = node
                    .inputs
                    .iter()
                    .map(|&v| {
                        env.get(v.index()).and_then(Option::as_deref).ok_or_else(|| {
                            Error::Verify(format!("node {n} ({}) uses {v:?}, which has no value", op.name()))
                        })
                    })
                    .collect::<Result<Vec<&Literal>>>()?;
                eval_op(op, &args).map_err(|e| at_location(e, node))?.into_iter().map(Arc::new).collect()
            }
        };
        if results.len() != node.outputs.len() {
            return Err(Error::Verify(format!(
                "node {n} ({}) lists {} results but computed {}",
                node.op.name(),
                node.outputs.len(),
                results.len()
            )));
        }
        for (&v, value) in node.outputs.iter().zip(results) {
            check_recorded_type(graph, n, v, &value)?;
            if let Some(slot) = env.get_mut(v.index()) {
                *slot = Some(value);
            }
        }
        for v in node.inputs.iter().chain(&node.outputs) {
            let dead = last_use.get(v.index()) == Some(&n) && is_output.get(v.index()) == Some(&false);
            if let (true, Some(slot)) = (dead, env.get_mut(v.index())) {
                *slot = None;
            }
        }
    }
    graph
        .outputs()
        .iter()
        .map(|o| {
            env.get(o.index())
                .cloned()
                .flatten()
                .ok_or_else(|| Error::Verify(format!("output {o:?} is not defined by the graph")))
        })
        .collect()
}

/// Checks the inputs against the parameters: count, dtype and shape.
fn check_inputs(graph: &Graph, inputs: &[Arc<Literal>]) -> Result<()> {
    let params = graph.params();
    if inputs.len() != params.len() {
        return Err(Error::invalid_argument(format!(
            "the graph takes {} parameter(s) but {} input(s) were given",
            params.len(),
            inputs.len()
        )));
    }
    for (i, (&p, x)) in params.iter().zip(inputs).enumerate() {
        if p.index() >= graph.num_values() {
            return Err(Error::Verify(format!("parameter {i} is {p:?}, which is not a value of the graph")));
        }
        let ty = graph.ty(p);
        if x.dtype() != ty.dtype || x.shape() != &ty.shape {
            return Err(Error::invalid_argument(format!(
                "parameter {i}: expected {ty}, got {}{}",
                x.dtype(),
                x.shape()
            )));
        }
    }
    Ok(())
}

/// For each value, the index of the last node that uses it (its defining node when nothing does).
fn last_uses(graph: &Graph) -> Vec<usize> {
    let mut last = vec![0usize; graph.num_values()];
    for (n, node) in graph.nodes().iter().enumerate() {
        for v in node.inputs.iter().chain(&node.outputs) {
            if let Some(slot) = last.get_mut(v.index()) {
                *slot = n;
            }
        }
    }
    last
}

/// An unverified graph may record other types than its ops compute: say so rather than return a wrong value.
fn check_recorded_type(graph: &Graph, n: usize, v: ValueId, value: &Literal) -> Result<()> {
    if v.index() >= graph.num_values() {
        return Err(Error::Verify(format!("node {n} defines {v:?}, which is not a value of the graph")));
    }
    let ty = graph.ty(v);
    if value.dtype() != ty.dtype || value.shape() != &ty.shape {
        return Err(Error::Verify(format!(
            "node {n} records result type {ty} but computes {}{}",
            value.dtype(),
            value.shape()
        )));
    }
    Ok(())
}

/// Adds the node's source location to an op error that has none.
fn at_location(mut e: Error, node: &crate::ir::Node) -> Error {
    if let Error::Op(op_error) = &mut e {
        op_error.location = op_error.location.or(node.location);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::DType;
    use crate::ir::{BinaryOp, TensorType, UnaryOp};

    #[test]
    fn last_use_is_the_last_reading_node_or_the_definition() {
        let mut g = Graph::new();
        let a = g.add_parameter(TensorType::new(DType::F32, [2])); // node 0
        let b = g.add1(Op::Unary(UnaryOp::Neg), &[a], None).unwrap(); // node 1
        let unused = g.add1(Op::Unary(UnaryOp::Exp), &[b], None).unwrap(); // node 2
        let c = g.add1(Op::Binary(BinaryOp::Add), &[b, b], None).unwrap(); // node 3
        g.set_outputs(vec![c]);
        let last = last_uses(&g);
        assert_eq!(last[a.index()], 1);
        assert_eq!(last[b.index()], 3);
        assert_eq!(last[unused.index()], 2);
        assert_eq!(last[c.index()], 3);
    }
}
