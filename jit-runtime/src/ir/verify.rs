//! The verifier: checks the invariants every pass and backend relies on.

use super::{Graph, Op, infer};
use crate::error::{Error, Result};

impl Graph {
    /// Checks that the graph is well formed: every operand is defined before use, every node's result types are
    /// what [`infer`](super::infer()) gives for its operands, parameters are numbered in order and the outputs
    /// exist. Backends may assume a verified graph.
    pub fn verify(&self) -> Result<()> {
        let fail = |msg: String| Err(Error::Verify(msg));
        let mut params_seen = 0usize;
        for (n, node) in self.nodes().iter().enumerate() {
            let first_out = node.outputs.first().map_or(usize::MAX, |v| v.index());
            for &i in &node.inputs {
                if i.index() >= self.num_values() || i.index() >= first_out {
                    return fail(format!("node {n} ({}) uses {i:?} before it is defined", node.op.name()));
                }
            }
            for (k, &o) in node.outputs.iter().enumerate() {
                let def = self.value(o);
                if def.node.index() != n || def.index as usize != k {
                    return fail(format!("value {o:?} is not recorded as result {k} of node {n}"));
                }
            }
            if let Op::Parameter { index, .. } = node.op {
                if self.params().get(index) != node.outputs.first() {
                    return fail(format!("parameter node {n} claims index {index} but is not that parameter"));
                }
                params_seen += 1;
            }
            let types: Vec<_> = node.inputs.iter().map(|&i| self.ty(i)).collect();
            let expected = infer::infer(&node.op, &types)
                .map_err(|m| Error::Verify(format!("node {n}: {}: {m}", node.op.name())))?;
            let actual: Vec<_> = node.outputs.iter().map(|&o| self.ty(o).clone()).collect();
            if expected != actual {
                return fail(format!(
                    "node {n} ({}) records result types {actual:?} but its operands give {expected:?}",
                    node.op.name()
                ));
            }
        }
        if params_seen != self.params().len() {
            return fail(format!("{} parameters listed but {params_seen} parameter nodes", self.params().len()));
        }
        if let Some(bad) = self.outputs().iter().find(|o| o.index() >= self.num_values()) {
            return fail(format!("output {bad:?} is not defined"));
        }
        Ok(())
    }
}
