//! Fusion: which values are materialised in memory, and which ops are computed inline inside the kernel that
//! consumes them.
//!
//! The rules are local and linear in the graph size (no search):
//! - materialised: graph parameters and outputs, array constants, results of reductions and of `dot_general`,
//!   operands of `dot_general` (the GEMM reads memory), and values with several consumers unless they are cheap to
//!   recompute (constants, iota, and layout ops or conversions of cheap values);
//! - a value read through a `broadcast_in_dim` that enlarges it is materialised unless cheap (recomputing an `exp`
//!   once per broadcast copy would multiply its cost);
//! - everything else (elementwise, layout and `threefry2x32` ops) fuses into its single consumer, so a chain of
//!   elementwise ops with its broadcasts becomes one loop nest; a reduction absorbs its elementwise producers.

use std::fmt;

use jit_runtime::ir::{Graph, NodeId, Op, ValueId};

/// How a kernel computes its root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KernelKind {
    /// A loop nest over the root's elements (elementwise and layout ops fused).
    Loop,
    /// A reduction over some axes, its input computed inline.
    Reduce,
    /// An arg-reduction along one axis, its input computed inline.
    ArgReduce,
    /// A matrix product read from materialised operands.
    Dot,
}

/// One kernel: computes the value(s) of `root` into memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kernel {
    /// The kind of loop.
    pub kind: KernelKind,
    /// The node whose results the kernel writes.
    pub root: NodeId,
    /// Nodes computed inline (in definition order), the root excluded.
    pub fused: Vec<NodeId>,
    /// Materialised values the kernel reads.
    pub inputs: Vec<ValueId>,
}

impl Kernel {
    /// True when every op of the kernel reads its operands at the linear index of its own result: elementwise
    /// ops, reshapes, constants and broadcasts of scalars. Such a kernel runs as one flat loop (which vectorises
    /// best), and may write its result over a donated input it reads.
    pub fn is_flat(&self, graph: &Graph) -> bool {
        let flat = |n: NodeId| {
            let node = graph.node(n);
            match &node.op {
                Op::Reshape { .. } | Op::Constant(_) => true,
                Op::BroadcastInDim { .. } => graph.ty(node.inputs[0]).rank() == 0,
                op => op.is_elementwise(),
            }
        };
        flat(self.root) && self.fused.iter().all(|&n| flat(n))
    }
}

/// The fusion decisions for a graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FusionPlan {
    /// Per value: is it held in memory?
    pub materialised: Vec<bool>,
    /// Kernels in execution order.
    pub kernels: Vec<Kernel>,
}

/// Decides fusion for a verified graph.
pub fn plan(graph: &Graph) -> FusionPlan {
    let n = graph.num_values();
    let mut uses = vec![0usize; n];
    let mut enlarged = vec![false; n];
    for node in graph.nodes() {
        for &i in &node.inputs {
            uses[i.index()] += 1;
        }
        if let Op::BroadcastInDim { shape, .. } = &node.op {
            let src = node.inputs[0];
            if shape.numel() > graph.ty(src).shape.numel() {
                enlarged[src.index()] = true;
            }
        }
        if let Op::DotGeneral(_) = node.op {
            for &i in &node.inputs {
                enlarged[i.index()] = true;
            }
        }
    }
    let mut materialised = vec![false; n];
    for &o in graph.outputs() {
        materialised[o.index()] = true;
    }
    // Cheap: recomputing costs about one load, so a value read several times or broadcast need not be stored.
    let mut cheap = vec![false; n];
    for node in graph.nodes() {
        let forced = match &node.op {
            Op::Parameter { .. } => true,
            Op::Constant(lit) => lit.shape().numel() > 1,
            Op::Reduce { .. } | Op::ArgReduce { .. } | Op::DotGeneral(_) => true,
            _ => false,
        };
        let is_cheap = match &node.op {
            Op::Constant(lit) => lit.shape().numel() <= 1,
            Op::Iota { .. } => true,
            Op::BroadcastInDim { .. }
            | Op::Reshape { .. }
            | Op::Convert { .. }
            | Op::BitcastConvert { .. }
            | Op::StopGradient
            | Op::Transpose { .. }
            | Op::Slice { .. }
            | Op::Rev { .. } => node.inputs.iter().all(|&i| cheap[i.index()] || materialised[i.index()]),
            _ => false,
        };
        for &o in &node.outputs {
            cheap[o.index()] = is_cheap;
            let multi = uses[o.index()] > 1 || enlarged[o.index()];
            if forced || (multi && !is_cheap) {
                materialised[o.index()] = true;
            }
        }
        if let Op::DotGeneral(_) = node.op {
            for &i in &node.inputs {
                materialised[i.index()] = true;
            }
        }
    }
    // A node with several results (threefry) is materialised as a whole when any result is.
    for node in graph.nodes() {
        if node.outputs.iter().any(|o| materialised[o.index()]) {
            for &o in &node.outputs {
                materialised[o.index()] = true;
            }
        }
    }
    let mut kernels = Vec::new();
    let mut emitted = vec![false; graph.nodes().len()];
    for (k, node) in graph.nodes().iter().enumerate() {
        let id = NodeId(k as u32);
        let root = node.outputs.iter().any(|o| materialised[o.index()]);
        if !root || matches!(node.op, Op::Parameter { .. } | Op::Constant(_)) || emitted[k] {
            continue;
        }
        emitted[k] = true;
        let kind = match node.op {
            Op::Reduce { .. } => KernelKind::Reduce,
            Op::ArgReduce { .. } => KernelKind::ArgReduce,
            Op::DotGeneral(_) => KernelKind::Dot,
            _ => KernelKind::Loop,
        };
        let mut fused = Vec::new();
        let mut inputs = Vec::new();
        collect(graph, &materialised, &node.inputs, &mut fused, &mut inputs);
        fused.sort();
        fused.dedup();
        inputs.sort();
        inputs.dedup();
        kernels.push(Kernel { kind, root: id, fused, inputs });
    }
    FusionPlan { materialised, kernels }
}

fn collect(graph: &Graph, mat: &[bool], values: &[ValueId], fused: &mut Vec<NodeId>, inputs: &mut Vec<ValueId>) {
    for &v in values {
        if mat[v.index()] {
            inputs.push(v);
            continue;
        }
        let def = graph.value(v).node;
        if fused.contains(&def) {
            continue;
        }
        fused.push(def);
        let ins = graph.node(def).inputs.clone();
        collect(graph, mat, &ins, fused, inputs);
    }
}

impl FusionPlan {
    /// The plan as text, one kernel a line: `kernel 0 loop e:f32[8] <- a b | fused: c d`.
    pub fn display<'a>(&'a self, graph: &'a Graph) -> impl fmt::Display + 'a {
        PlanText { plan: self, graph }
    }
}

struct PlanText<'a> {
    plan: &'a FusionPlan,
    graph: &'a Graph,
}

impl fmt::Display for PlanText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |v: ValueId| jit_runtime::ir::value_name(v.index());
        for (i, k) in self.plan.kernels.iter().enumerate() {
            let node = self.graph.node(k.root);
            let kind = match k.kind {
                KernelKind::Loop => "loop",
                KernelKind::Reduce => "reduce",
                KernelKind::ArgReduce => "argreduce",
                KernelKind::Dot => "dot",
            };
            let outs: Vec<String> = node.outputs.iter().map(|&o| format!("{}:{}", name(o), self.graph.ty(o))).collect();
            let ins: Vec<String> = k.inputs.iter().map(|&v| name(v)).collect();
            let fused: Vec<String> = k
                .fused
                .iter()
                .map(|&n| format!("{}({})", self.graph.node(n).op.name(), name(self.graph.node(n).outputs[0])))
                .collect();
            write!(f, "kernel {i} {kind} {} = {} <- [{}]", outs.join(" "), node.op.name(), ins.join(" "))?;
            if !fused.is_empty() {
                write!(f, " fused [{}]", fused.join(" "))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}
