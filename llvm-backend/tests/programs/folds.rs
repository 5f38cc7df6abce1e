//! Programs whose reductions test a fold's choices: arg-reductions, max and min over rows with ties, NaNs, zeros of
//! both signs and infinities, and integer sums and products, along the last axis and across rows. Every result
//! is exact whatever the order of the fold, so they are compared bit for bit (the GPU tests: blocks of threads
//! must pick what the interpreter's sequential fold picks).

use std::sync::Arc;

use jit_runtime::ir::{ArgReduceOp, Graph, Op, ReduceOp};
use jit_runtime::{DType, Literal};

use crate::common::{Builder, Rng};

/// Rows that make a block's fold choose: all equal, many ties, NaNs (one, two, first, last), zeros of both signs,
/// infinities, and plain random values.
fn tricky_rows(rows: usize, n: usize, rng: &mut Rng) -> Vec<f64> {
    let mut out = Vec::with_capacity(rows * n);
    for r in 0..rows {
        let p = (r * 7 + 3) % n;
        let q = (r * 13 + 1) % n;
        for j in 0..n {
            out.push(match r % 7 {
                0 => 1.0,
                1 => (rng.below(5) as f64) - 2.0,
                2 if j == p => f64::NAN,
                3 if j == p || j == q || j + 1 == n => f64::NAN,
                4 => {
                    if rng.bool() {
                        0.0
                    } else {
                        -0.0
                    }
                }
                5 if j % 3 == r % 3 => f64::INFINITY,
                5 => f64::NEG_INFINITY,
                _ => rng.uniform(-100.0, 100.0).round(),
            });
        }
    }
    out
}

/// For every dtype and row length `n` of `lengths`: a program of 14 rows of `n` tricky elements
/// ([`tricky_rows`]) with arg-max and arg-min, max and min, and for integers sum and product, along each axis;
/// its name, graph and input.
pub fn fold_programs(lengths: &[usize], rng: &mut Rng) -> Vec<(String, Graph, Arc<Literal>)> {
    let rows = 14;
    let mut out = Vec::new();
    for dtype in [DType::F32, DType::F64, DType::I32, DType::I64, DType::U32, DType::Bool] {
        for &n in lengths {
            let values = tricky_rows(rows, n, rng);
            let lit = match dtype {
                DType::F32 => Literal::from_vec(values.iter().map(|&v| v as f32).collect::<Vec<f32>>(), [rows, n]),
                DType::F64 => Literal::from_vec(values.clone(), [rows, n]),
                DType::I32 => Literal::from_vec(values.iter().map(|&v| v as i32).collect::<Vec<i32>>(), [rows, n]),
                DType::I64 => Literal::from_vec(values.iter().map(|&v| v as i64).collect::<Vec<i64>>(), [rows, n]),
                DType::U32 => Literal::from_vec(values.iter().map(|&v| v as u32).collect::<Vec<u32>>(), [rows, n]),
                _ => Literal::from_vec(values.iter().map(|&v| v > 0.0).collect::<Vec<bool>>(), [rows, n]),
            }
            .expect("literal");
            let mut b = Builder::new();
            let x = b.param(dtype, &[rows, n]);
            let mut outs = Vec::new();
            for axis in [1, 0] {
                for op in [ArgReduceOp::ArgMax, ArgReduceOp::ArgMin] {
                    outs.extend(b.try_op(Op::ArgReduce { op, axis, index_dtype: DType::I32 }, &[x]));
                }
                for op in [ReduceOp::Max, ReduceOp::Min] {
                    outs.extend(b.try_op(Op::Reduce { op, axes: vec![axis] }, &[x]));
                }
                if !dtype.is_float() {
                    for op in [ReduceOp::Sum, ReduceOp::Prod] {
                        outs.extend(b.try_op(Op::Reduce { op, axes: vec![axis] }, &[x]));
                    }
                }
            }
            out.push((format!("{dtype} [{rows}, {n}]"), b.finish(outs), Arc::new(lit)));
        }
    }
    out
}
