//! Times reduction-heavy programs compiled by the LLVM CPU backend (median of timed calls after warm-up), for A/B
//! comparisons of the reduction lowering:
//!
//! ```text
//! cargo run --release -p llvm-backend --example reduce_bench [-- CASE...]
//! ```
//!
//! Cases: `sum_rows` (`x.sum(-1)` over f32[1024, 4096]), `sum_cols` (`x.sum(0)`), `max_rows` (`x.max(-1)`),
//! `softmax_rows` (softmax over the last axis), `sum_rows_f64`. Each line gives the median, the 10th percentile and
//! the input read rate.

use std::sync::Arc;
use std::time::Instant;

use jit_runtime::backend::{Backend, CompileOptions, Device};
use jit_runtime::ir::{BinaryOp, Graph, Op, ReduceOp, TensorType, UnaryOp, ValueId};
use jit_runtime::{DType, HostData, Literal, Result};
use llvm_backend::LlvmCpuBackend;

const ROWS: usize = 1024;
const COLS: usize = 4096;

fn op(g: &mut Graph, op: Op, inputs: &[ValueId]) -> Result<ValueId> {
    g.add1(op, inputs, None)
}

fn reduce(g: &mut Graph, x: ValueId, r: ReduceOp, axis: usize) -> Result<ValueId> {
    op(g, Op::Reduce { op: r, axes: vec![axis] }, &[x])
}

/// `v` of shape `[ROWS]` broadcast back to `[ROWS, COLS]`.
fn back(g: &mut Graph, v: ValueId) -> Result<ValueId> {
    op(g, Op::BroadcastInDim { shape: vec![ROWS, COLS].into(), broadcast_dimensions: vec![0] }, &[v])
}

fn graph(case: &str) -> Result<Option<(Graph, DType)>> {
    let dtype = if case.ends_with("_f64") { DType::F64 } else { DType::F32 };
    let mut g = Graph::default();
    let x = g.add_parameter(TensorType::new(dtype, [ROWS, COLS]));
    let out = match case {
        "sum_rows" | "sum_rows_f64" => reduce(&mut g, x, ReduceOp::Sum, 1)?,
        "sum_cols" => reduce(&mut g, x, ReduceOp::Sum, 0)?,
        "max_rows" => reduce(&mut g, x, ReduceOp::Max, 1)?,
        "softmax_rows" => {
            let m = reduce(&mut g, x, ReduceOp::Max, 1)?;
            let mb = back(&mut g, m)?;
            let d = op(&mut g, Op::Binary(BinaryOp::Sub), &[x, mb])?;
            let e = op(&mut g, Op::Unary(UnaryOp::Exp), &[d])?;
            let s = reduce(&mut g, e, ReduceOp::Sum, 1)?;
            let sb = back(&mut g, s)?;
            op(&mut g, Op::Binary(BinaryOp::Div), &[e, sb])?
        }
        _ => return Ok(None),
    };
    g.set_outputs(vec![out]);
    g.verify()?;
    Ok(Some((g, dtype)))
}

fn input(dtype: DType) -> Result<Arc<Literal>> {
    // A fixed pseudo-random pattern in [-2, 2).
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
    };
    let n = ROWS * COLS;
    let data = match dtype {
        DType::F64 => HostData::F64((0..n).map(|_| next()).collect()),
        _ => HostData::F32((0..n).map(|_| next() as f32).collect()),
    };
    Literal::new(data, [ROWS, COLS]).map(Arc::new)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let all = ["sum_rows", "sum_cols", "max_rows", "softmax_rows", "sum_rows_f64"];
    let cases: Vec<&str> = if args.is_empty() { all.to_vec() } else { args.iter().map(String::as_str).collect() };
    for case in cases {
        let Some((g, dtype)) = graph(case)? else {
            eprintln!("unknown case {case}; cases: {all:?}");
            continue;
        };
        let exe = LlvmCpuBackend
            .compile(&g, &CompileOptions { name: case.to_string(), donated: vec![false], device: Device::CPU })?;
        let x = input(dtype)?;
        for _ in 0..5 {
            drop(exe.run(vec![x.clone()])?);
        }
        let mut times = Vec::new();
        let t_end = Instant::now() + std::time::Duration::from_secs(2);
        while times.len() < 20 || (Instant::now() < t_end && times.len() < 2000) {
            let t0 = Instant::now();
            drop(exe.run(vec![x.clone()])?);
            times.push(t0.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let p10 = times[times.len() / 10];
        let bytes = (ROWS * COLS * dtype.size_in_bytes()) as f64;
        println!(
            "{case:>14}: median {:8.1} us  p10 {:8.1} us  ({:5.1} GB/s of input, {} calls)",
            median * 1e6,
            p10 * 1e6,
            bytes / median / 1e9,
            times.len()
        );
    }
    Ok(())
}
