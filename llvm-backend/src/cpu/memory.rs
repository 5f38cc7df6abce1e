//! The memory plan of a call: where temporaries live in the workspace (reusing bytes whose value is dead), and
//! which donated parameters can hold an output.

use jit_runtime::ir::{Graph, Op, ValueId};

use crate::fuse::{FusionPlan, KernelKind};
use crate::lower::BufferLayout;

/// Kernel indices that define and last read each value.
struct Lifetimes {
    def: Vec<Option<usize>>,
    last_use: Vec<Option<usize>>,
}

fn lifetimes(graph: &Graph, plan: &FusionPlan) -> Lifetimes {
    let mut def = vec![None; graph.num_values()];
    let mut last_use = vec![None; graph.num_values()];
    for (k, kernel) in plan.kernels.iter().enumerate() {
        for &o in &graph.node(kernel.root).outputs {
            def[o.index()] = Some(k);
        }
        for &i in &kernel.inputs {
            last_use[i.index()] = Some(k);
        }
    }
    Lifetimes { def, last_use }
}

/// A temporary: its slot and its offset in the workspace, in 8-byte words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Temp {
    /// Buffer-table slot.
    pub slot: usize,
    /// Offset in the workspace (words).
    pub offset: usize,
}

/// Places temporaries (materialised values that are neither parameters, constants nor outputs) in one workspace;
/// two temporaries share bytes only when the first is dead before the second is written. Returns the placements
/// and the workspace size in words.
pub fn place_temporaries(graph: &Graph, plan: &FusionPlan, layout: &BufferLayout) -> (Vec<Temp>, usize) {
    let life = lifetimes(graph, plan);
    let outputs: Vec<ValueId> = graph.outputs().to_vec();
    // (def, last_use, offset, words) of temporaries placed so far.
    let mut placed: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut temps = Vec::new();
    let mut total = 0usize;
    for v in 0..graph.num_values() {
        let id = ValueId(v as u32);
        let Some(slot) = layout.slot_of[v] else { continue };
        let node = graph.node(graph.value(id).node);
        if matches!(node.op, Op::Parameter { .. } | Op::Constant(_)) || outputs.contains(&id) {
            continue;
        }
        let ty = graph.ty(id);
        // 64-byte granules keep every buffer aligned for full-width vector loads.
        let words = (ty.shape.numel() * ty.dtype.size_in_bytes()).div_ceil(64) * 8;
        let def = life.def[v].unwrap_or(0);
        let last = life.last_use[v].unwrap_or(def).max(def);
        let mut offset = 0;
        loop {
            let clash = placed
                .iter()
                .find(|&&(d, l, o, w)| d <= last && def <= l && o < offset + words.max(1) && offset < o + w.max(1));
            match clash {
                Some(&(_, _, o, w)) => offset = o + w.max(1),
                None => break,
            }
        }
        placed.push((def, last, offset, words));
        total = total.max(offset + words);
        temps.push(Temp { slot, offset });
    }
    (temps, total)
}

/// For each graph output, the parameter whose donated buffer it can be written into, if any: same dtype and
/// shape, donated, not used for another output, and every read of the parameter happens before the output is
/// written or, in the output's own kernel, at the same element (a flat elementwise kernel).
pub fn donation_aliases(graph: &Graph, plan: &FusionPlan, donated: &[bool]) -> Vec<Option<usize>> {
    let life = lifetimes(graph, plan);
    let mut taken = vec![false; graph.params().len()];
    graph
        .outputs()
        .iter()
        .enumerate()
        .map(|(n, &o)| {
            if graph.outputs()[..n].contains(&o) {
                return None;
            }
            let def = life.def[o.index()]?;
            let kernel = &plan.kernels[def];
            let ty = graph.ty(o);
            graph.params().iter().enumerate().find_map(|(i, &p)| {
                if taken[i] || !donated.get(i).copied().unwrap_or(false) || graph.ty(p) != ty {
                    return None;
                }
                if graph.outputs().contains(&p) {
                    return None;
                }
                let ok = match life.last_use[p.index()] {
                    None => true,
                    Some(l) if l < def => true,
                    Some(l) if l == def => kernel.kind == KernelKind::Loop && kernel.is_flat(graph),
                    Some(_) => false,
                };
                if ok {
                    taken[i] = true;
                    Some(i)
                } else {
                    None
                }
            })
        })
        .collect()
}
