//! Turning a Rust function into a [`Graph`]: run it once on symbolic tensors and record what it does.

use std::sync::Arc;

use super::context::{Trace, TraceGuard};
use super::tensor::{Repr, Tensor};
use crate::error::{Error, Result};
use crate::ir::{Graph, TensorType};

/// Traces `f` on symbolic parameters of `params` types and returns the recorded, verified graph.
///
/// Rust control flow in `f` runs once, at trace time (as in JAX). Concrete tensors captured by `f` become constants;
/// results that are concrete become constants too. The first op error of the trace is returned even if `f`
/// dropped the failing tensor.
///
/// ```
/// use jit_runtime::trace::trace_to_graph;
/// use jit_runtime::ir::TensorType;
/// use jit_runtime::DType;
/// let g = trace_to_graph("f", &[TensorType::new(DType::F32, [8])], |x| Ok(vec![&x[0] + 1.0]))?;
/// assert_eq!(g.num_ops(), 3); // constant, broadcast_in_dim, add
/// # Ok::<(), jit_runtime::Error>(())
/// ```
pub fn trace_to_graph(
    name: &str,
    params: &[TensorType],
    f: impl FnOnce(Vec<Tensor>) -> Result<Vec<Tensor>>,
) -> Result<Graph> {
    let trace = Trace::new(name);
    let guard = TraceGuard::enter(Arc::clone(&trace));
    let inputs: Vec<Tensor> = {
        let mut st = trace.state.lock();
        params
            .iter()
            .map(|ty| {
                let value = st.graph.add_parameter(ty.clone());
                Tensor { repr: Repr::Traced { trace: Arc::clone(&trace), value, ty: ty.clone() } }
            })
            .collect()
    };
    let outputs = f(inputs);
    // Concrete results become constants while the trace is still open.
    let outputs: Result<Vec<Tensor>> = outputs.map(|outs| {
        outs.into_iter()
            .map(|t| {
                if t.is_traced() || t.error().is_some() {
                    t
                } else {
                    t.lift_into_trace_at(crate::error::SourceLocation::caller())
                }
            })
            .collect()
    });
    drop(guard);
    let mut st = trace.state.lock();
    if let Some(e) = st.first_error.take() {
        return Err(e);
    }
    let outputs = outputs?;
    let mut ids = Vec::with_capacity(outputs.len());
    for t in &outputs {
        match &t.repr {
            Repr::Traced { trace: other, value, .. } if other.id == trace.id => ids.push(*value),
            Repr::Traced { trace: other, .. } => {
                return Err(Error::Trace(format!(
                    "`{name}` returned a tensor of another trace (`{}`); return values computed inside it",
                    other.name
                )));
            }
            Repr::Failed(e) => return Err((**e).clone()),
            Repr::Concrete(_) => {
                return Err(Error::Trace(format!("internal: a concrete result of `{name}` was not staged")));
            }
        }
    }
    let mut graph = std::mem::take(&mut st.graph);
    graph.set_outputs(ids);
    graph.verify()?;
    Ok(graph)
}

/// The id of the innermost trace of this thread.
pub(crate) fn current_trace_id() -> Option<u64> {
    super::context::current_trace().map(|t| t.id)
}

/// Adds a parameter of type `ty` to the trace `trace_id` while it is being recorded (after the declared ones) and
/// returns it; `None` when that trace is not the innermost one. The caller supplies the value at run time (the
/// lifted call path does so for PRNG keys).
pub(crate) fn late_parameter(trace_id: u64, ty: TensorType) -> Option<Tensor> {
    let trace = super::context::current_trace()?;
    if trace.id != trace_id {
        return None;
    }
    let value = trace.state.lock().graph.add_parameter(ty.clone());
    Some(Tensor { repr: Repr::Traced { trace: Arc::clone(&trace), value, ty } })
}
