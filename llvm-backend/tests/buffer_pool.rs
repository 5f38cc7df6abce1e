//! Large buffers of compiled calls come from the global [`BufferPool`] and go back to it when their literal is
//! dropped: outputs reuse an earlier call's buffer (no page faults), stale contents never leak into results, the
//! pool stays within its capacity, and concurrent calls never share a live buffer.
//!
//! Each test uses output sizes no other test of this binary uses, since the pool is shared by the whole process.

mod common;

use std::sync::Arc;

use common::*;
use jit_runtime::array::BufferPool;
use jit_runtime::ir::{BinaryOp, DotDims, Graph, Op, ReduceOp, UnaryOp};
use jit_runtime::{DType, HostData, Literal};

/// `tanh(a*b + c)*0.5 + exp(-a*a)`, the W2 benchmark's kernel, on `n` f32 elements.
fn w2_graph(n: usize) -> Graph {
    let mut b = Builder::new();
    let (pa, pb, pc) = (b.param(DType::F32, &[n]), b.param(DType::F32, &[n]), b.param(DType::F32, &[n]));
    let half = b.constant(Literal::scalar(0.5f32));
    let half = b.op(Op::BroadcastInDim { shape: vec![n].into(), broadcast_dimensions: vec![] }, &[half]);
    let ab = b.op(Op::Binary(BinaryOp::Mul), &[pa, pb]);
    let abc = b.op(Op::Binary(BinaryOp::Add), &[ab, pc]);
    let t = b.op(Op::Unary(UnaryOp::Tanh), &[abc]);
    let t = b.op(Op::Binary(BinaryOp::Mul), &[t, half]);
    let aa = b.op(Op::Binary(BinaryOp::Mul), &[pa, pa]);
    let na = b.op(Op::Unary(UnaryOp::Neg), &[aa]);
    let e = b.op(Op::Unary(UnaryOp::Exp), &[na]);
    let o = b.op(Op::Binary(BinaryOp::Add), &[t, e]);
    b.finish(vec![o])
}

#[test]
fn output_buffer_of_a_16m_call_is_reused_once_the_result_is_dropped() {
    let n = 16 << 20;
    let g = w2_graph(n);
    let exe = compile_llvm(&g, "w2_16m").expect("compiles");
    let mut rng = Rng(7);
    let inputs: Vec<Arc<Literal>> = (0..3).map(|_| literal(DType::F32, &[n], Fill::Moderate, &mut rng)).collect();
    let want = jit_runtime::interp::run(&g, &inputs).expect("interpreter");

    let first = exe.run(inputs.clone()).expect("runs").remove(0);
    compare(&first, &want[0], &Tol::Exact, None).expect("first call matches the interpreter");
    let p = first.data().as_ptr();
    drop(first);
    assert!(BufferPool::global().stats().retained_bytes >= 4 * n, "the dropped result went back to the pool");
    for call in 0..3 {
        let again = exe.run(inputs.clone()).expect("runs").remove(0);
        assert_eq!(again.data().as_ptr(), p, "call {call} reuses the dropped result's buffer");
        compare(&again, &want[0], &Tol::Exact, None).expect("a reused buffer gives the same result");
        drop(again);
    }
    // While a result is alive, the next call gets another buffer.
    let kept = exe.run(inputs.clone()).expect("runs").remove(0);
    let other = exe.run(inputs.clone()).expect("runs").remove(0);
    assert_ne!(kept.data().as_ptr(), other.data().as_ptr());
    compare(&other, &want[0], &Tol::Exact, None).expect("matches");
    compare(&kept, &want[0], &Tol::Exact, None).expect("the first result is untouched by the second call");
}

/// Puts a buffer of `n` elements of `dtype` full of garbage (NaN, all-ones bits, `true`) into the pool and returns
/// its address.
fn seed_garbage(dtype: DType, n: usize) -> *const u8 {
    let data = match dtype {
        DType::F32 => HostData::F32(vec![f32::from_bits(0x7fc0_dead); n]),
        DType::F64 => HostData::F64(vec![f64::NAN; n]),
        DType::I32 => HostData::I32(vec![-1; n]),
        DType::U32 => HostData::U32(vec![u32::MAX; n]),
        DType::I64 => HostData::I64(vec![-1; n]),
        DType::Bool => HostData::Bool(vec![true; n]),
        other => panic!("no garbage for {other}"),
    };
    let p = data.as_ptr();
    data.recycle();
    p
}

fn dd(lc: &[usize], rc: &[usize]) -> DotDims {
    DotDims { lhs_contracting: lc.to_vec(), rhs_contracting: rc.to_vec(), lhs_batch: vec![], rhs_batch: vec![] }
}

/// Every kind of kernel writes every element of its output: run on a recycled buffer full of garbage, the results
/// are still the interpreter's.
#[test]
fn recycled_buffers_full_of_garbage_give_the_interpreters_results() {
    // (name, graph, tolerance); every output has at least 1 MiB and a size no other case uses.
    let mut cases: Vec<(&str, Graph, Tol)> = Vec::new();
    {
        let mut b = Builder::new();
        let x = b.param(DType::F32, &[3, 300_001]);
        let o = b.op(Op::Unary(UnaryOp::Exp), &[x]);
        cases.push(("elementwise_f32", b.finish(vec![o]), Tol::Exact));
    }
    {
        let mut b = Builder::new();
        let x = b.param(DType::F64, &[300_007, 3]);
        let o = b.op(Op::Reduce { op: ReduceOp::Max, axes: vec![1] }, &[x]);
        cases.push(("reduce_max_f64", b.finish(vec![o]), Tol::Exact));
    }
    {
        let mut b = Builder::new();
        let x = b.param(DType::I32, &[300_011, 2]);
        let o = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[x]);
        cases.push(("reduce_sum_i32", b.finish(vec![o]), Tol::Exact));
    }
    {
        let mut b = Builder::new();
        let x = b.param(DType::U32, &[601, 503]);
        let o = b.op(Op::Transpose { permutation: vec![1, 0] }, &[x]);
        cases.push(("transpose_u32", b.finish(vec![o]), Tol::Exact));
    }
    {
        let mut b = Builder::new();
        let x = b.param(DType::I64, &[400, 400]);
        let z = b.constant(Literal::scalar(7i64));
        let o = b.op(Op::Pad { low: vec![3, -2], high: vec![1, 5], interior: vec![0, 1] }, &[x, z]);
        cases.push(("pad_i64", b.finish(vec![o]), Tol::Exact));
    }
    {
        let mut b = Builder::new();
        let x = b.param(DType::F32, &[700, 400]);
        let y = b.param(DType::F32, &[700, 300]);
        let o = b.op(Op::Concatenate { dimension: 1 }, &[x, y]);
        cases.push(("concatenate_f32", b.finish(vec![o]), Tol::Exact));
    }
    {
        let mut b = Builder::new();
        let x = b.param(DType::F32, &[1_100_003]);
        let y = b.param(DType::F32, &[1_100_003]);
        let o = b.op(Op::Binary(BinaryOp::Lt), &[x, y]);
        cases.push(("compare_bool", b.finish(vec![o]), Tol::Exact));
    }
    {
        // Small integers: every summation order is exact.
        let mut b = Builder::new();
        let x = b.param(DType::F32, &[613, 3]);
        let y = b.param(DType::F32, &[3, 617]);
        let o = b.op(Op::DotGeneral(dd(&[1], &[0])), &[x, y]);
        cases.push(("dot_f32", b.finish(vec![o]), Tol::Exact));
    }
    let mut failures = Vec::new();
    for (i, (name, g, tol)) in cases.into_iter().enumerate() {
        let out = g.output_types()[0].clone();
        let seeded = seed_garbage(out.dtype, out.shape.numel());
        let mut rng = Rng(100 + i as u64);
        let fill = if name.starts_with("dot") { Fill::SmallInt } else { Fill::Moderate };
        let inputs: Vec<Arc<Literal>> =
            g.param_types().iter().map(|t| literal(t.dtype, t.dims(), fill, &mut rng)).collect();
        let got = match llvm_outputs(&g, name, vec![inputs.clone()]) {
            Ok(mut sets) => sets.remove(0).remove(0),
            Err(e) => {
                failures.push(format!("[{name}] {e}"));
                continue;
            }
        };
        if got.data().as_ptr() != seeded {
            failures.push(format!("[{name}] the output did not reuse the seeded buffer"));
        }
        let want = jit_runtime::interp::run(&g, &inputs).expect("interpreter");
        if let Err(e) = compare(&got, &want[0], &tol, None) {
            failures.push(format!("[{name}] {e}"));
        }
    }
    report(failures);
}

#[test]
fn concurrent_calls_get_distinct_buffers_and_the_pool_stays_bounded() {
    let n = (1 << 20) + 5; // 4 MiB + 20 bytes: a size of its own
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[n]);
    let y = b.param(DType::F32, &[n]);
    let o = b.op(Op::Binary(BinaryOp::Add), &[x, y]);
    let g = b.finish(vec![o]);
    let exe = compile_llvm(&g, "concurrent_add").expect("compiles");
    let mut rng = Rng(3);
    let inputs: Vec<Arc<Literal>> = (0..2).map(|_| literal(DType::F32, &[n], Fill::Moderate, &mut rng)).collect();
    let want = jit_runtime::interp::run(&g, &inputs).expect("interpreter").remove(0);
    let capacity = BufferPool::global().capacity();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let mut alive: Vec<Arc<Literal>> = Vec::new();
                for call in 0..12 {
                    let r = exe.run(inputs.clone()).expect("runs").remove(0);
                    compare(&r, &want, &Tol::Exact, None).expect("matches the interpreter");
                    // Up to three results stay alive at a time: their buffers must be distinct.
                    alive.push(r);
                    if call % 4 == 3 {
                        alive.clear();
                    }
                    let ptrs: std::collections::HashSet<usize> =
                        alive.iter().map(|l| l.data().as_ptr() as usize).collect();
                    assert_eq!(ptrs.len(), alive.len());
                    assert!(BufferPool::global().stats().retained_bytes <= capacity);
                }
                // Every kept result still holds the right values after the other threads' calls.
                for r in &alive {
                    compare(r, &want, &Tol::Exact, None).expect("untouched");
                }
            });
        }
    });
    assert!(BufferPool::global().stats().retained_bytes <= capacity);
}
