//! Differential tests of the LLVM CPU backend against the reference interpreter, op by op: every op, every dtype it
//! accepts, and edge shapes (rank 0, a zero-size dimension anywhere, size 1, odd sizes that leave vector tails),
//! on edge values (NaN, ±inf, ±0, subnormals, integer extremes, division by zero, `MIN / -1`, shift amounts out of
//! range or negative). Then fused chains, and `run` with bad inputs.
//!
//! Tolerances are those of `common` (exact but for transcendental functions and float `dot_general`). Each test
//! collects every failing case and reports them together.

mod common;

use std::sync::Arc;

use common::*;
use jit_runtime::ir::{ArgReduceOp, BinaryOp, DotDims, Op, ReduceOp, TensorType, UnaryOp, ValueId};
use jit_runtime::{DType, Literal};

/// Shapes for elementwise ops: scalar, zero-size, size 1, odd sizes that leave vector tails, and sizes large
/// enough to meet every pair of edge values. Elementwise kernels are flat loops over the linear index, so one
/// zero-size shape with the zero in the middle stands for all of them.
const SHAPES: &[&[usize]] = &[&[], &[3, 0, 2], &[1, 1], &[7], &[17], &[33], &[5, 7], &[1003], &[40, 41]];

/// More shapes for the cheap ops: a zero in the first or last dimension, rank 1 of size 1 and 3, a size-1 middle.
const MORE_SHAPES: &[&[usize]] = &[&[0], &[4, 0], &[1], &[3], &[3, 1, 11]];

fn accepts(op: &Op, types: &[&TensorType]) -> bool {
    jit_runtime::ir::infer(op, types).is_ok()
}

fn ty(dtype: DType, dims: &[usize]) -> TensorType {
    TensorType::new(dtype, dims)
}

// ---------------------------------------------------------------------------------------------------------------
// Elementwise
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn unary_ops_every_dtype_and_shape() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for op in UnaryOp::ALL {
        for dtype in DType::ALL {
            if !accepts(&Op::Unary(op), &[&ty(dtype, &[2])]) {
                continue;
            }
            let mut rng = Rng(op as u64 * 31 + dtype as u64);
            let mut b = Builder::new();
            let mut outs = Vec::new();
            let mut inputs = Vec::new();
            for dims in SHAPES {
                let p = b.param(dtype, dims);
                outs.push(b.op(Op::Unary(op), &[p]));
                inputs.push(literal(dtype, dims, Fill::UNARY, &mut rng));
            }
            let g = b.finish(outs);
            let tol = op_tolerance(&Op::Unary(op), dtype);
            cases += 1;
            if let Err(e) = check_in_domain(&format!("{}_{dtype}", op.name()), &g, &inputs, &[tol], Some(op)) {
                failures.push(e);
            }
        }
    }
    assert!(cases >= 19 * 2);
    report(failures);
}

#[test]
fn binary_ops_every_dtype_and_shape() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for op in BinaryOp::ALL {
        for dtype in DType::ALL {
            let t = ty(dtype, &[2]);
            if !accepts(&Op::Binary(op), &[&t, &t]) {
                continue;
            }
            let mut rng = Rng(op as u64 * 131 + dtype as u64);
            let mut b = Builder::new();
            let mut outs = Vec::new();
            let mut inputs = Vec::new();
            for dims in SHAPES {
                let x = b.param(dtype, dims);
                let y = b.param(dtype, dims);
                outs.push(b.op(Op::Binary(op), &[x, y]));
                inputs.push(literal(dtype, dims, Fill::LHS, &mut rng));
                inputs.push(literal(dtype, dims, Fill::RHS, &mut rng));
            }
            let g = b.finish(outs);
            let tol = op_tolerance(&Op::Binary(op), dtype);
            cases += 1;
            if let Err(e) = check(&format!("{}_{dtype}", op.name()), &g, &inputs, &[tol]) {
                failures.push(e);
            }
        }
    }
    assert!(cases >= 60, "{cases}");
    report(failures);
}

/// Integer division and remainder by zero, `MIN / -1`, shifts by negative and out-of-range amounts, spelled out
/// (the edge-value pairs of `binary_ops_every_dtype_and_shape` cover them too, among many others).
#[test]
fn integer_edge_cases_spelled_out() {
    let mut failures = Vec::new();
    let i32s: Vec<(i32, i32)> = vec![
        (7, 0),
        (-7, 0),
        (0, 0),
        (i32::MIN, -1),
        (i32::MIN, 0),
        (i32::MAX, -1),
        (7, -2),
        (-7, 2),
        (1, 31),
        (1, 32),
        (-8, 33),
        (-8, -1),
        (-8, i32::MIN),
        (i32::MIN, 31),
        (5, 100),
    ];
    let ops = [
        BinaryOp::Div,
        BinaryOp::Rem,
        BinaryOp::ShiftLeft,
        BinaryOp::ShiftRightLogical,
        BinaryOp::ShiftRightArithmetic,
        BinaryOp::Pow,
    ];
    let x = Arc::new(Literal::vector(i32s.iter().map(|p| p.0).collect::<Vec<_>>()));
    let y = Arc::new(Literal::vector(i32s.iter().map(|p| p.1).collect::<Vec<_>>()));
    let xu = Arc::new(Literal::vector(i32s.iter().map(|p| p.0 as u32).collect::<Vec<_>>()));
    let yu = Arc::new(Literal::vector(i32s.iter().map(|p| p.1 as u32).collect::<Vec<_>>()));
    let xl = Arc::new(Literal::vector(i32s.iter().map(|p| i64::from(p.0) << 32).collect::<Vec<_>>()));
    let yl = Arc::new(Literal::vector(i32s.iter().map(|p| i64::from(p.1) * 2 + 1).collect::<Vec<_>>()));
    for (x, y) in [(x, y), (xu, yu), (xl, yl)] {
        let mut b = Builder::new();
        let px = b.param(x.dtype(), x.shape());
        let py = b.param(y.dtype(), y.shape());
        let outs: Vec<ValueId> = ops.iter().map(|&op| b.op(Op::Binary(op), &[px, py])).collect();
        let g = b.finish(outs);
        if let Err(e) = check(&format!("int_edges_{}", x.dtype()), &g, &[x.clone(), y.clone()], &[Tol::Exact]) {
            failures.push(e);
        }
    }
    report(failures);
}

/// Dense sweeps of the transcendental functions over their usual domains, under the ulp table of `common`.
/// Draws the `i`-th input of a sweep.
type Sampler = Box<dyn Fn(&mut Rng, usize) -> f64>;

/// Adds one layout case's ops on fresh parameters and returns its outputs.
type LayoutCase = dyn Fn(&mut Builder, DType) -> Vec<ValueId>;

#[test]
fn transcendental_functions_over_their_domains() {
    let mut failures = Vec::new();
    let n = 4097;
    let mut rng = Rng(7);
    let unary: Vec<(UnaryOp, Sampler)> = vec![
        (UnaryOp::Exp, Box::new(|r, _| r.uniform(-87.0, 88.0))),
        (UnaryOp::Expm1, Box::new(|r, i| if i % 2 == 0 { r.uniform(-20.0, 20.0) } else { r.uniform(-1e-3, 1e-3) })),
        (UnaryOp::Log, Box::new(|r, _| 10f64.powf(r.uniform(-30.0, 30.0)))),
        (UnaryOp::Log1p, Box::new(|r, i| if i % 2 == 0 { r.uniform(-0.999, 10.0) } else { r.uniform(-1e-4, 1e-4) })),
        (UnaryOp::Tanh, Box::new(|r, _| r.uniform(-20.0, 20.0))),
        (UnaryOp::Logistic, Box::new(|r, _| r.uniform(-40.0, 40.0))),
        (UnaryOp::Sin, Box::new(|r, _| r.uniform(-100.0, 100.0))),
        (UnaryOp::Cos, Box::new(|r, _| r.uniform(-100.0, 100.0))),
        (UnaryOp::Erf, Box::new(|r, _| r.uniform(-6.0, 6.0))),
        (UnaryOp::Erfc, Box::new(|r, i| if i % 2 == 0 { r.uniform(-6.0, 6.0) } else { r.uniform(-8.0, 28.0) })),
        (UnaryOp::ErfInv, Box::new(|r, i| if i % 2 == 0 { r.uniform(-1.0, 1.0) } else { r.uniform(0.99, 1.0) })),
        (UnaryOp::Round, Box::new(|r, _| (r.uniform(-100.0, 100.0) * 2.0).round() / 2.0)),
        (UnaryOp::Sqrt, Box::new(|r, _| 10f64.powf(r.uniform(-30.0, 30.0)))),
        (UnaryOp::Rsqrt, Box::new(|r, _| 10f64.powf(r.uniform(-30.0, 30.0)))),
    ];
    for (op, make) in &unary {
        for dtype in [DType::F32, DType::F64] {
            let v: Vec<f64> = (0..n).map(|i| make(&mut rng, i)).collect();
            let x = Arc::new(match dtype {
                DType::F32 => Literal::vector(v.iter().map(|&x| x as f32).collect::<Vec<_>>()),
                _ => Literal::vector(v),
            });
            let mut b = Builder::new();
            let p = b.param(dtype, &[n]);
            let o = b.op(Op::Unary(*op), &[p]);
            let g = b.finish(vec![o]);
            let tol = op_tolerance(&Op::Unary(*op), dtype);
            if let Err(e) = check(&format!("sweep_{}_{dtype}", op.name()), &g, &[x], &[tol]) {
                failures.push(e);
            }
        }
    }
    for dtype in [DType::F32, DType::F64] {
        let pow_x: Vec<f64> = (0..n)
            .map(|i| if i % 4 == 0 { -(rng.below(10) as f64) } else { 10f64.powf(rng.uniform(-3.0, 3.0)) })
            .collect();
        let pow_y: Vec<f64> =
            (0..n).map(|i| if i % 4 == 0 { rng.below(9) as f64 - 4.0 } else { rng.uniform(-10.0, 10.0) }).collect();
        let at_x: Vec<f64> = (0..n).map(|i| if i % 7 == 0 { 0.0 } else { rng.uniform(-10.0, 10.0) }).collect();
        let at_y: Vec<f64> = (0..n).map(|i| if i % 5 == 0 { -0.0 } else { rng.uniform(-10.0, 10.0) }).collect();
        for (op, x, y) in [(BinaryOp::Pow, pow_x, pow_y), (BinaryOp::Atan2, at_x, at_y)] {
            let lit = |v: Vec<f64>| {
                Arc::new(match dtype {
                    DType::F32 => Literal::vector(v.iter().map(|&x| x as f32).collect::<Vec<_>>()),
                    _ => Literal::vector(v),
                })
            };
            let mut b = Builder::new();
            let px = b.param(dtype, &[n]);
            let py = b.param(dtype, &[n]);
            let o = b.op(Op::Binary(op), &[px, py]);
            let g = b.finish(vec![o]);
            let tol = op_tolerance(&Op::Binary(op), dtype);
            if let Err(e) = check(&format!("sweep_{}_{dtype}", op.name()), &g, &[lit(x), lit(y)], &[tol]) {
                failures.push(e);
            }
        }
    }
    report(failures);
}

#[test]
fn integer_pow_positive_zero_and_negative_exponents() {
    let exponents = [-100, -31, -3, -2, -1, 0, 1, 2, 3, 4, 5, 7, 8, 13, 31, 32, 100];
    let mut failures = Vec::new();
    for dtype in DType::ALL {
        if !dtype.is_numeric() {
            continue;
        }
        let mut rng = Rng(dtype as u64 + 1000);
        let mut b = Builder::new();
        let mut outs = Vec::new();
        let mut inputs = Vec::new();
        for dims in SHAPES {
            let p = b.param(dtype, dims);
            inputs.push(literal(dtype, dims, Fill::UNARY, &mut rng));
            // Every exponent on the shapes with the most values; a few on the others.
            let few = [-1, 0, 3];
            let list: &[i32] = if dims.iter().product::<usize>() >= 1003 { &exponents } else { &few };
            for &exponent in list {
                outs.push(b.op(Op::IntegerPow { exponent }, &[p]));
            }
        }
        let g = b.finish(outs);
        if let Err(e) = check(&format!("integer_pow_{dtype}"), &g, &inputs, &[Tol::Exact]) {
            failures.push(e);
        }
    }
    report(failures);
}

#[test]
fn select_every_dtype_and_shape() {
    let mut failures = Vec::new();
    for dtype in DType::ALL {
        let mut rng = Rng(dtype as u64 + 77);
        let mut b = Builder::new();
        let mut outs = Vec::new();
        let mut inputs = Vec::new();
        for dims in SHAPES.iter().chain(MORE_SHAPES) {
            let p = b.param(DType::Bool, dims);
            let t = b.param(dtype, dims);
            let f = b.param(dtype, dims);
            outs.push(b.op(Op::Select, &[p, t, f]));
            inputs.push(literal(DType::Bool, dims, Fill::Moderate, &mut rng));
            inputs.push(literal(dtype, dims, Fill::LHS, &mut rng));
            inputs.push(literal(dtype, dims, Fill::RHS, &mut rng));
        }
        let g = b.finish(outs);
        if let Err(e) = check(&format!("select_{dtype}"), &g, &inputs, &[Tol::Exact]) {
            failures.push(e);
        }
    }
    report(failures);
}

#[test]
fn convert_between_every_pair_of_dtypes() {
    let mut failures = Vec::new();
    for from in DType::ALL {
        for to in DType::ALL {
            let mut rng = Rng(from as u64 * 10 + to as u64);
            let mut b = Builder::new();
            let mut outs = Vec::new();
            let mut inputs = Vec::new();
            for dims in SHAPES {
                let p = b.param(from, dims);
                outs.push(b.op(Op::Convert { dtype: to }, &[p]));
                inputs.push(literal(from, dims, Fill::UNARY, &mut rng));
            }
            let g = b.finish(outs);
            if let Err(e) = check(&format!("convert_{from}_to_{to}"), &g, &inputs, &[Tol::Exact]) {
                failures.push(e);
            }
        }
    }
    report(failures);
}

#[test]
fn bitcast_convert_between_same_size_dtypes() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for from in DType::ALL {
        for to in DType::ALL {
            if !accepts(&Op::BitcastConvert { dtype: to }, &[&ty(from, &[2])]) {
                continue;
            }
            cases += 1;
            let mut rng = Rng(from as u64 * 10 + to as u64 + 500);
            let mut b = Builder::new();
            let mut outs = Vec::new();
            let mut inputs = Vec::new();
            for dims in SHAPES.iter().chain(MORE_SHAPES) {
                let p = b.param(from, dims);
                outs.push(b.op(Op::BitcastConvert { dtype: to }, &[p]));
                inputs.push(literal(from, dims, Fill::UNARY, &mut rng));
            }
            let g = b.finish(outs);
            if let Err(e) = check(&format!("bitcast_{from}_to_{to}"), &g, &inputs, &[Tol::Exact]) {
                failures.push(e);
            }
        }
    }
    assert_eq!(cases, 13);
    report(failures);
}

#[test]
fn stop_gradient_every_dtype() {
    let mut failures = Vec::new();
    for dtype in DType::ALL {
        let mut rng = Rng(dtype as u64 + 3);
        let mut b = Builder::new();
        let mut outs = Vec::new();
        let mut inputs = Vec::new();
        for dims in SHAPES.iter().chain(MORE_SHAPES) {
            let p = b.param(dtype, dims);
            outs.push(b.op(Op::StopGradient, &[p]));
            inputs.push(literal(dtype, dims, Fill::UNARY, &mut rng));
        }
        let g = b.finish(outs);
        if let Err(e) = check(&format!("stop_gradient_{dtype}"), &g, &inputs, &[Tol::Exact]) {
            failures.push(e);
        }
    }
    report(failures);
}

#[test]
fn threefry2x32_is_bit_identical() {
    let mut failures = Vec::new();
    let mut rng = Rng(42);
    let mut b = Builder::new();
    let mut outs = Vec::new();
    let mut inputs = Vec::new();
    for dims in SHAPES.iter().chain(MORE_SHAPES) {
        let ps: Vec<ValueId> = (0..4).map(|_| b.param(DType::U32, dims)).collect();
        let r = b.g.add(Op::Threefry2x32, &ps, None).expect("threefry");
        outs.extend(r);
        for k in 0..4 {
            let fill = Fill::Special { a: k % 2, b: 1 + 2 * k, square: true };
            inputs.push(literal(DType::U32, dims, fill, &mut rng));
        }
    }
    let g = b.finish(outs);
    if let Err(e) = check("threefry", &g, &inputs, &[Tol::Exact]) {
        failures.push(e);
    }
    // Against the reference block function directly, too.
    let n = 257;
    let words: Vec<Vec<u32>> = (0..4).map(|_| (0..n).map(|_| rng.next_u64() as u32).collect()).collect();
    let mut b = Builder::new();
    let ps: Vec<ValueId> = (0..4).map(|_| b.param(DType::U32, &[n])).collect();
    let r = b.g.add(Op::Threefry2x32, &ps, None).expect("threefry");
    let g = b.finish(r);
    let exe = compile_llvm(&g, "threefry_direct").expect("compiles");
    let out = exe.run(words.iter().map(|w| Arc::new(Literal::vector(w.clone()))).collect()).expect("runs");
    let (y0, y1) = (out[0].to_vec::<u32>().expect("u32"), out[1].to_vec::<u32>().expect("u32"));
    for i in 0..n {
        let want = jit_runtime::random::threefry2x32(words[0][i], words[1][i], words[2][i], words[3][i]);
        if (y0[i], y1[i]) != want {
            failures.push(format!("threefry element {i}: got {:?}, want {want:?}", (y0[i], y1[i])));
            break;
        }
    }
    report(failures);
}

// ---------------------------------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------------------------------

/// Builds one graph per dtype from `cases` (each adds its ops on fresh parameters and returns its outputs), fills
/// the parameters with edge values and checks exactly.
fn layout_test(name: &str, cases: &[&LayoutCase]) -> Vec<String> {
    let mut failures = Vec::new();
    for dtype in DType::ALL {
        let mut b = Builder::new();
        let mut outs = Vec::new();
        for case in cases {
            outs.extend(case(&mut b, dtype));
        }
        let g = b.finish(outs);
        let mut rng = Rng(dtype as u64 + 99);
        let inputs: Vec<Arc<Literal>> =
            g.param_types().iter().map(|t| literal(t.dtype, t.dims(), Fill::UNARY, &mut rng)).collect();
        if let Err(e) = check(&format!("{name}_{dtype}"), &g, &inputs, &[Tol::Exact]) {
            failures.push(e);
        }
    }
    failures
}

#[test]
fn iota_every_numeric_dtype_and_dimension() {
    let mut failures = Vec::new();
    for dtype in DType::ALL {
        if !dtype.is_numeric() {
            continue;
        }
        let mut b = Builder::new();
        let mut outs = Vec::new();
        for dims in SHAPES.iter().chain(MORE_SHAPES).chain([&[2usize, 3, 4, 5][..], &[1003, 2][..]].iter()) {
            for dimension in 0..dims.len() {
                outs.push(b.op(Op::Iota { dtype, shape: (*dims).into(), dimension }, &[]));
            }
        }
        let g = b.finish(outs);
        if let Err(e) = check(&format!("iota_{dtype}"), &g, &[], &[Tol::Exact]) {
            failures.push(e);
        }
    }
    report(failures);
}

#[test]
fn broadcast_in_dim_including_size_one_operand_dims() {
    let cases: &[(&[usize], &[usize], &[usize])] = &[
        (&[], &[], &[]),
        (&[], &[5], &[]),
        (&[], &[3, 0], &[]),
        (&[1], &[7], &[0]),
        (&[1], &[0], &[0]),
        (&[3], &[3, 4], &[0]),
        (&[3], &[4, 3], &[1]),
        (&[1, 3], &[5, 3], &[0, 1]),
        (&[3, 1], &[3, 17], &[0, 1]),
        (&[2, 1, 3], &[2, 4, 3, 5], &[0, 1, 2]),
        (&[2, 3], &[2, 5, 3], &[0, 2]),
        (&[1, 1], &[1, 1, 1], &[0, 2]),
        (&[0], &[4, 0], &[1]),
        (&[5], &[5], &[0]),
        (&[33], &[3, 33], &[1]),
        (&[1, 1], &[7, 9], &[0, 1]),
        (&[1, 7], &[1, 1, 7], &[1, 2]),
        (&[4], &[1, 4, 1], &[1]),
    ];
    let case = |b: &mut Builder, d: DType| {
        cases
            .iter()
            .map(|&(src, dst, bd)| {
                let p = b.param(d, src);
                b.op(Op::BroadcastInDim { shape: dst.into(), broadcast_dimensions: bd.to_vec() }, &[p])
            })
            .collect()
    };
    report(layout_test("broadcast_in_dim", &[&case]));
}

#[test]
fn reshape_between_shapes() {
    let cases: &[(&[usize], &[usize])] = &[
        (&[], &[1]),
        (&[1, 1], &[]),
        (&[6], &[2, 3]),
        (&[2, 3], &[3, 2]),
        (&[2, 3, 4], &[4, 6]),
        (&[0, 3], &[3, 0]),
        (&[0], &[2, 0, 5]),
        (&[35], &[5, 7]),
        (&[1003], &[17, 59]),
        (&[3, 1, 5], &[15]),
    ];
    let case = |b: &mut Builder, d: DType| {
        cases
            .iter()
            .map(|&(src, dst)| {
                let p = b.param(d, src);
                b.op(Op::Reshape { shape: dst.into() }, &[p])
            })
            .collect()
    };
    report(layout_test("reshape", &[&case]));
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

#[test]
fn transpose_rank_three_and_four_permutations() {
    let case = |b: &mut Builder, d: DType| {
        let mut outs = Vec::new();
        let mut rng = Rng(5);
        for dims in [&[2usize, 3, 4][..], &[1, 3, 5], &[3, 0, 2], &[7, 1, 9]] {
            let p = b.param(d, dims);
            for perm in permutations(3) {
                outs.push(b.op(Op::Transpose { permutation: perm }, &[p]));
            }
        }
        for dims in [&[2usize, 3, 1, 5][..], &[3, 2, 4, 2], &[2, 0, 3, 1]] {
            let p = b.param(d, dims);
            let all = permutations(4);
            for _ in 0..4 {
                let perm = all[rng.below(all.len())].clone();
                outs.push(b.op(Op::Transpose { permutation: perm }, &[p]));
            }
        }
        for (dims, perm) in [(&[7usize, 17][..], vec![1, 0]), (&[5], vec![0]), (&[], vec![])] {
            let p = b.param(d, dims);
            outs.push(b.op(Op::Transpose { permutation: perm }, &[p]));
        }
        outs
    };
    report(layout_test("transpose", &[&case]));
}

#[test]
fn slice_with_strides() {
    type SliceCase<'a> = (&'a [usize], &'a [usize], &'a [usize], &'a [usize]);
    let cases: &[SliceCase] = &[
        (&[10], &[0], &[10], &[1]),
        (&[10], &[1], &[9], &[3]),
        (&[10], &[9], &[10], &[2]),
        (&[10], &[5], &[5], &[1]),
        (&[5, 7], &[1, 2], &[5, 7], &[2, 3]),
        (&[3, 4, 5], &[0, 1, 2], &[3, 4, 5], &[1, 2, 2]),
        (&[0, 3], &[0, 0], &[0, 3], &[1, 2]),
        (&[1003], &[3], &[1000], &[7]),
        (&[], &[], &[], &[]),
        (&[4, 1], &[1, 0], &[4, 1], &[5, 1]),
    ];
    let case = |b: &mut Builder, d: DType| {
        cases
            .iter()
            .map(|&(dims, start, limit, strides)| {
                let p = b.param(d, dims);
                b.op(Op::Slice { start: start.to_vec(), limit: limit.to_vec(), strides: strides.to_vec() }, &[p])
            })
            .collect()
    };
    report(layout_test("slice", &[&case]));
}

#[test]
fn concatenate_including_zero_size_pieces() {
    let cases: &[(&[&[usize]], usize)] = &[
        (&[&[2, 3], &[2, 0], &[2, 4]], 1),
        (&[&[0, 3], &[0, 3]], 0),
        (&[&[2, 0], &[2, 0]], 1),
        (&[&[3], &[0], &[5]], 0),
        (&[&[1], &[1], &[1], &[1], &[1]], 0),
        (&[&[2, 3, 4], &[2, 1, 4]], 1),
        (&[&[7]], 0),
        (&[&[0, 2], &[3, 2]], 0),
        (&[&[0], &[0]], 0),
        (&[&[3, 0], &[4, 0]], 0),
        (&[&[17], &[33], &[1]], 0),
    ];
    let case = |b: &mut Builder, d: DType| {
        cases
            .iter()
            .map(|&(pieces, dimension)| {
                let ps: Vec<ValueId> = pieces.iter().map(|dims| b.param(d, dims)).collect();
                b.op(Op::Concatenate { dimension }, &ps)
            })
            .collect()
    };
    report(layout_test("concatenate", &[&case]));
}

#[test]
fn pad_with_negative_low_high_and_interior() {
    type PadCase<'a> = (&'a [usize], &'a [i64], &'a [i64], &'a [usize]);
    let cases: &[PadCase] = &[
        (&[5], &[2], &[3], &[0]),
        (&[5], &[-2], &[-1], &[0]),
        (&[5], &[1], &[1], &[2]),
        (&[5], &[-3], &[-3], &[1]),
        (&[3, 4], &[1, -1], &[-1, 2], &[1, 0]),
        (&[0], &[2], &[1], &[3]),
        (&[2, 0], &[1, 1], &[0, 1], &[0, 2]),
        (&[], &[], &[], &[]),
        (&[1], &[0], &[0], &[5]),
        (&[7], &[-7], &[0], &[0]),
        (&[4], &[-5], &[2], &[0]),
        (&[3, 5], &[-1, -2], &[2, -3], &[2, 1]),
        (&[2, 3], &[-2, 0], &[1, 0], &[3, 0]),
    ];
    let with_param = |b: &mut Builder, d: DType| {
        cases
            .iter()
            .map(|&(dims, low, high, interior)| {
                let p = b.param(d, dims);
                let v = b.param(d, &[]);
                b.op(Op::Pad { low: low.to_vec(), high: high.to_vec(), interior: interior.to_vec() }, &[p, v])
            })
            .collect()
    };
    let with_constant = |b: &mut Builder, d: DType| {
        let value = Literal::new(jit_runtime::HostData::full(d, 1, 3.0), jit_runtime::Shape::scalar()).expect("scalar");
        cases
            .iter()
            .map(|&(dims, low, high, interior)| {
                let p = b.param(d, dims);
                let v = b.constant(value.clone());
                b.op(Op::Pad { low: low.to_vec(), high: high.to_vec(), interior: interior.to_vec() }, &[p, v])
            })
            .collect()
    };
    report(layout_test("pad", &[&with_param, &with_constant]));
}

#[test]
fn rev_over_dimension_sets() {
    let cases: &[(&[usize], &[usize])] = &[
        (&[7], &[0]),
        (&[3, 4], &[0]),
        (&[3, 4], &[1]),
        (&[3, 4], &[0, 1]),
        (&[3, 4], &[]),
        (&[2, 3, 4], &[0, 2]),
        (&[0, 3], &[1]),
        (&[1, 5], &[0]),
        (&[], &[]),
        (&[1003], &[0]),
    ];
    let case = |b: &mut Builder, d: DType| {
        cases
            .iter()
            .map(|&(dims, ds)| {
                let p = b.param(d, dims);
                b.op(Op::Rev { dimensions: ds.to_vec() }, &[p])
            })
            .collect()
    };
    report(layout_test("rev", &[&case]));
}

// ---------------------------------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------------------------------

/// Every subset of `0..rank`, sorted.
fn subsets(rank: usize) -> Vec<Vec<usize>> {
    (0..1usize << rank).map(|m| (0..rank).filter(|&i| m >> i & 1 == 1).collect()).collect()
}

/// Every reduction over every axis subset: all dtypes on a few shapes, and `f32`, `i32` and bool (max/min) on many
/// more (the kernel's structure does not depend on the dtype, only its element type and combining function do).
/// Float products, max and min are exact (both backends fold sequentially in row-major order); float sums are
/// reassociated by the compiled code and compared within [`sum_bound`].
#[test]
fn reduce_over_every_axis_subset() {
    let few: &[&[usize]] = &[&[], &[0], &[5], &[3, 4], &[2, 0, 3], &[1003]];
    let many: &[&[usize]] = &[&[1], &[3, 5, 7], &[1, 1, 3], &[2, 3, 4, 5], &[33, 17], &[4, 0]];
    let mut failures = Vec::new();
    for op in [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min] {
        for dtype in DType::ALL {
            if !accepts(&Op::Reduce { op, axes: vec![] }, &[&ty(dtype, &[2])]) {
                continue;
            }
            let all = matches!(dtype, DType::F32 | DType::I32 | DType::Bool);
            let moderate = dtype.is_float() && matches!(op, ReduceOp::Sum | ReduceOp::Prod);
            let fills: &[Fill] = if moderate { &[Fill::UNARY, Fill::Moderate] } else { &[Fill::UNARY] };
            for &fill in fills {
                let mut rng = Rng(op as u64 * 7 + dtype as u64);
                let mut b = Builder::new();
                let mut outs = Vec::new();
                let mut inputs = Vec::new();
                let extra: &[&[usize]] = if all { many } else { &[] };
                for dims in few.iter().chain(extra) {
                    let p = b.param(dtype, dims);
                    inputs.push(literal(dtype, dims, fill, &mut rng));
                    for axes in subsets(dims.len()) {
                        outs.push(b.op(Op::Reduce { op, axes }, &[p]));
                    }
                }
                let g = b.finish(outs);
                let tols = reduction_tols(&g, &inputs);
                if let Err(e) = check(&format!("{}_{dtype}_{fill:?}", op.name()), &g, &inputs, &tols) {
                    failures.push(e);
                }
            }
        }
    }
    report(failures);
}

/// Float sums vectorise (the optimised IR has a reassociable vector add) and stay within [`sum_bound`] on long rows
/// with vector tails; a sum of `-0` is `+0`, and infinities and NaN propagate as in the interpreter.
#[test]
fn float_sums_vectorise_within_bound_and_keep_special_values() {
    let mut failures = Vec::new();
    for (dtype, dims) in [(DType::F32, [4usize, 4099]), (DType::F64, [3, 1001]), (DType::F32, [5, 64])] {
        let mut b = Builder::new();
        let p = b.param(dtype, &dims);
        let rows = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[p]);
        let all = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![0, 1] }, &[p]);
        let g = b.finish(vec![rows, all]);
        let name = format!("sum_rows_{dtype}_{dims:?}");
        match compile_llvm(&g, &name) {
            Ok(exe) => {
                let ir = exe.artifacts().into_iter().find(|(k, _)| k == "llvm-ir-opt").map(|(_, v)| v);
                if !ir.is_some_and(|ir| ir.contains("fadd reassoc <")) {
                    failures.push(format!("[{name}] no vectorised reassociable add in the optimised IR"));
                }
            }
            Err(e) => failures.push(format!("[{name}] {e}")),
        }
        let mut rng = Rng(dims[1] as u64);
        let x = literal(dtype, &dims, Fill::Moderate, &mut rng);
        let tols = reduction_tols(&g, std::slice::from_ref(&x));
        failures.extend(check(&name, &g, &[x], &tols).err());
        // Special values: row 0 all -0, row 1 with +inf, row 2 with +inf and -inf, last row with a NaN.
        let n = dims[1];
        let mut v = vec![0.5f64; dims[0] * n];
        v[..n].iter_mut().for_each(|e| *e = -0.0);
        v[n + 7] = f64::INFINITY;
        v[2 * n + 3] = f64::INFINITY;
        v[3 * n - 1] = f64::NEG_INFINITY;
        v[(dims[0] - 1) * n + n / 2] = f64::NAN;
        let data = match dtype {
            DType::F32 => jit_runtime::HostData::F32(v.iter().map(|&e| e as f32).collect()),
            _ => jit_runtime::HostData::F64(v),
        };
        let x = Arc::new(Literal::new(data, dims).expect("shape"));
        let tols = reduction_tols(&g, std::slice::from_ref(&x));
        if let Err(e) = check(&format!("{name}_special"), &g, std::slice::from_ref(&x), &tols) {
            failures.push(e);
        }
        // The bound of the all -0 row is 0: its sum is +0 to the bit.
        if !matches!(&tols[0], Tol::Bound(bd) if bd[0] == 0.0) {
            failures.push(format!("[{name}] the bound of a row of zeros is not 0: {:?}", tols[0]));
        }
    }
    report(failures);
}

/// A reduction that keeps the last axis (column sums, sums over a batch) accumulates whole rows in the interpreter's
/// order (`emit_reduce_rows`): bit-identical for every op and dtype, float sums included, with fused producers, odd
/// row lengths, zero sizes and enough work to be split across threads (over the row when the output has rank 1).
#[test]
fn reductions_keeping_the_last_axis_are_exact() {
    let mut failures = Vec::new();
    let cases: &[(&[usize], &[usize])] = &[
        (&[300, 257], &[0]),
        (&[3, 5, 7], &[0, 1]),
        (&[3, 5, 7], &[1]),
        (&[3, 5, 7], &[0]),
        (&[2, 17, 33, 3], &[0, 2]),
        (&[4, 0, 3], &[1]),
        (&[0, 5], &[0]),
        (&[257, 1000], &[0]),
    ];
    for op in [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min] {
        for dtype in [DType::F32, DType::F64, DType::I32, DType::Bool] {
            if !accepts(&Op::Reduce { op, axes: vec![] }, &[&ty(dtype, &[2])]) {
                continue;
            }
            for fill in [Fill::UNARY, Fill::Moderate] {
                let mut b = Builder::new();
                let mut outs = Vec::new();
                for (dims, axes) in cases {
                    let p = b.param(dtype, dims);
                    outs.push(b.op(Op::Reduce { op, axes: axes.to_vec() }, &[p]));
                    if dtype.is_float() {
                        // A fused producer: exp(x) · x.
                        let e = b.op(Op::Unary(UnaryOp::Exp), &[p]);
                        let m = b.op(Op::Binary(BinaryOp::Mul), &[e, p]);
                        outs.push(b.op(Op::Reduce { op, axes: axes.to_vec() }, &[m]));
                    }
                }
                let g = b.finish(outs);
                let inputs = inputs_for(&g, fill, op as u64 + dtype as u64);
                let name = format!("keep_last_{}_{dtype}_{fill:?}", op.name());
                failures.extend(check(&name, &g, &inputs, &[Tol::Exact]).err());
            }
        }
    }
    report(failures);
}

/// The float sum tolerance still catches real errors: a sum that drops one element, or reads one element twice,
/// is outside it, for short and long rows.
#[test]
fn float_sum_tolerance_rejects_wrong_sums() {
    for (dtype, dims) in [(DType::F32, [3usize, 1003]), (DType::F32, [4, 17]), (DType::F64, [2, 4099])] {
        let mut rng = Rng(5);
        let x = literal(dtype, &dims, Fill::Moderate, &mut rng);
        let mut b = Builder::new();
        let p = b.param(dtype, &dims);
        let r = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[p]);
        let g = b.finish(vec![r]);
        let want = jit_runtime::interp::run(&g, std::slice::from_ref(&x)).expect("interpreter").remove(0);
        let tol = reduction_tols(&g, std::slice::from_ref(&x)).remove(0);
        assert!(compare(&want, &want, &tol, None).is_ok());
        // Drop the last element of every row; or add the first one twice.
        let n = dims[1];
        let mut b = Builder::new();
        let p = b.param(dtype, &dims);
        let s = b.op(Op::Slice { start: vec![0, 0], limit: vec![dims[0], n - 1], strides: vec![1, 1] }, &[p]);
        let dropped = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[s]);
        let first = b.op(Op::Slice { start: vec![0, 0], limit: vec![dims[0], 1], strides: vec![1, 1] }, &[p]);
        let first = b.op(Op::Reshape { shape: vec![dims[0]].into() }, &[first]);
        let sum = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[p]);
        let twice = b.op(Op::Binary(BinaryOp::Add), &[sum, first]);
        let wrong = b.finish(vec![dropped, twice]);
        for w in jit_runtime::interp::run(&wrong, std::slice::from_ref(&x)).expect("interpreter") {
            assert!(compare(&w, &want, &tol, None).is_err(), "{dtype}{dims:?}: a wrong sum passes {tol:?}");
        }
    }
}

/// The op's documentation asks for sorted axes, but `infer` (and so `Graph::add` and `verify`) accepts any order;
/// the result must be the same as for the sorted axes, and the compiled code must not read out of bounds.
#[test]
fn reduce_with_unsorted_axes() {
    let mut failures = Vec::new();
    for dtype in [DType::F32, DType::I32] {
        let mut rng = Rng(3);
        let mut b = Builder::new();
        let p = b.param(dtype, &[2, 3, 5]);
        let r1 = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![2, 0] }, &[p]);
        let r2 = b.op(Op::Reduce { op: ReduceOp::Max, axes: vec![1, 0, 2] }, &[p]);
        let g = b.finish(vec![r1, r2]);
        let x = literal(dtype, &[2, 3, 5], Fill::Moderate, &mut rng);
        let tols = reduction_tols(&g, std::slice::from_ref(&x));
        if let Err(e) = check(&format!("reduce_unsorted_{dtype}"), &g, &[x], &tols) {
            failures.push(e);
        }
    }
    report(failures);
}

#[test]
fn argmax_argmin_first_nan_wins_and_ties() {
    let mut failures = Vec::new();
    let shapes: &[&[usize]] = &[&[5], &[1], &[3, 4], &[2, 3, 4], &[1003], &[7, 1, 33], &[0, 3], &[4, 0, 2]];
    for op in [ArgReduceOp::ArgMax, ArgReduceOp::ArgMin] {
        for dtype in DType::ALL {
            let index_dtypes: &[DType] =
                if dtype == DType::F32 { &[DType::I32, DType::U32, DType::I64] } else { &[DType::I32] };
            for &index_dtype in index_dtypes {
                let mut rng = Rng(op as u64 * 3 + dtype as u64 + index_dtype as u64 * 11);
                let mut b = Builder::new();
                let mut outs = Vec::new();
                let mut inputs = Vec::new();
                for dims in shapes {
                    let p = b.param(dtype, dims);
                    inputs.push(literal(dtype, dims, Fill::UNARY, &mut rng));
                    for axis in 0..dims.len() {
                        if let Some(o) = b.try_op(Op::ArgReduce { op, axis, index_dtype }, &[p]) {
                            outs.push(o);
                        }
                    }
                }
                let g = b.finish(outs);
                if let Err(e) = check(&format!("{}_{dtype}_{index_dtype}", op.name()), &g, &inputs, &[Tol::Exact]) {
                    failures.push(e);
                }
            }
        }
    }
    // Ties and NaNs in chosen places.
    let rows: Vec<Vec<f32>> = vec![
        vec![1.0, 3.0, 3.0, 2.0, 3.0],
        vec![1.0, f32::NAN, 5.0, f32::NAN, 0.0],
        vec![f32::NAN, 1.0, 2.0, 3.0, 4.0],
        vec![-0.0, 0.0, -0.0, 0.0, -1.0],
        vec![f32::NEG_INFINITY; 5],
        vec![2.0, 1.0, 1.0, f32::INFINITY, f32::INFINITY],
        vec![5.0, 4.0, 3.0, 2.0, f32::NAN],
    ];
    let flat: Vec<f32> = rows.concat();
    let x = Arc::new(Literal::from_vec(flat, [rows.len(), 5]).expect("shape"));
    let mut b = Builder::new();
    let p = b.param(DType::F32, &[rows.len(), 5]);
    let outs: Vec<ValueId> = [ArgReduceOp::ArgMax, ArgReduceOp::ArgMin]
        .iter()
        .flat_map(|&op| [0, 1].map(|axis| (op, axis)))
        .map(|(op, axis)| b.op(Op::ArgReduce { op, axis, index_dtype: DType::I32 }, &[p]))
        .collect();
    let g = b.finish(outs);
    if let Err(e) = check("arg_reduce_ties", &g, &[x], &[Tol::Exact]) {
        failures.push(e);
    }
    report(failures);
}

// ---------------------------------------------------------------------------------------------------------------
// dot_general
// ---------------------------------------------------------------------------------------------------------------

fn dd(lc: &[usize], rc: &[usize], lb: &[usize], rb: &[usize]) -> DotDims {
    DotDims {
        lhs_contracting: lc.to_vec(),
        rhs_contracting: rc.to_vec(),
        lhs_batch: lb.to_vec(),
        rhs_batch: rb.to_vec(),
    }
}

/// `(lhs dims, rhs dims, dimension numbers)`: plain, transposed layouts of either operand (GEMM strides), batch
/// dimensions leading (GEMM) or not (naive loop), several contracting dimensions in block order (GEMM) or not
/// (naive), and empty sizes.
fn dot_cases() -> Vec<(Vec<usize>, Vec<usize>, DotDims)> {
    vec![
        (vec![4, 5], vec![5, 3], dd(&[1], &[0], &[], &[])),
        (vec![5, 4], vec![5, 3], dd(&[0], &[0], &[], &[])),
        (vec![4, 5], vec![3, 5], dd(&[1], &[1], &[], &[])),
        (vec![5, 4], vec![3, 5], dd(&[0], &[1], &[], &[])),
        (vec![2, 4, 5], vec![2, 5, 3], dd(&[2], &[1], &[0], &[0])),
        (vec![4, 2, 5], vec![5, 2, 3], dd(&[2], &[0], &[1], &[1])),
        (vec![3, 4, 5], vec![4, 5, 2], dd(&[1, 2], &[0, 1], &[], &[])),
        (vec![3, 4, 5], vec![4, 5, 2], dd(&[2, 1], &[1, 0], &[], &[])),
        (vec![4, 3, 5], vec![3, 6, 5], dd(&[1, 2], &[0, 2], &[], &[])),
        (vec![4, 0], vec![0, 3], dd(&[1], &[0], &[], &[])),
        (vec![0, 5], vec![5, 3], dd(&[1], &[0], &[], &[])),
        (vec![4, 5], vec![5, 0], dd(&[1], &[0], &[], &[])),
        (vec![2, 0, 5], vec![2, 5, 3], dd(&[2], &[1], &[0], &[0])),
        (vec![7], vec![7], dd(&[0], &[0], &[], &[])),
        (vec![3], vec![4], dd(&[], &[], &[], &[])),
        (vec![4, 5], vec![5], dd(&[1], &[0], &[], &[])),
        (vec![5], vec![5, 4], dd(&[0], &[0], &[], &[])),
        (vec![33, 65], vec![65, 17], dd(&[1], &[0], &[], &[])),
        (vec![65, 33], vec![17, 65], dd(&[0], &[1], &[], &[])),
        (vec![3, 1, 8], vec![3, 8, 1], dd(&[2], &[1], &[0], &[0])),
        (vec![2, 3, 4, 5], vec![2, 3, 5, 6], dd(&[3], &[2], &[0, 1], &[0, 1])),
        (vec![2, 3, 4], vec![4, 5, 2], dd(&[2], &[0], &[], &[])),
        (vec![2, 5, 3], vec![2, 5, 4], dd(&[1], &[1], &[0], &[0])),
        (vec![2, 3, 4], vec![3, 2, 4], dd(&[2], &[2], &[0], &[1])),
        (vec![1, 1], vec![1, 1], dd(&[1], &[0], &[], &[])),
        (vec![6, 2, 3], vec![3, 2, 5], dd(&[1, 2], &[1, 0], &[], &[])),
    ]
}

#[test]
fn dot_general_layouts_batches_and_empty_sizes() {
    let mut failures = Vec::new();
    for dtype in [DType::F32, DType::F64, DType::I32, DType::U32, DType::I64] {
        let fills: &[Fill] = if dtype.is_float() { &[Fill::Moderate, Fill::UNARY] } else { &[Fill::UNARY] };
        for &fill in fills {
            for (i, (ld, rd, dims)) in dot_cases().into_iter().enumerate() {
                let mut rng = Rng(i as u64 * 17 + dtype as u64);
                let mut b = Builder::new();
                let l = b.param(dtype, &ld);
                let r = b.param(dtype, &rd);
                let o = b.op(Op::DotGeneral(dims.clone()), &[l, r]);
                let g = b.finish(vec![o]);
                let (x, y) = (literal(dtype, &ld, fill, &mut rng), literal(dtype, &rd, fill, &mut rng));
                let tol = if dtype.is_float() { Tol::Bound(dot_bound(&dims, &x, &y)) } else { Tol::Exact };
                if let Err(e) = check(&format!("dot_{i}_{dtype}_{fill:?}"), &g, &[x, y], &[tol]) {
                    failures.push(e);
                }
            }
        }
    }
    report(failures);
}

/// With small integer data every summation order is exact, so the GEMM must agree with the interpreter exactly,
/// including the sign of zero results (see `gemm_sum_of_negative_zero_products_is_positive_zero`).
#[test]
fn dot_general_exact_on_small_integers() {
    let mut failures = Vec::new();
    for dtype in [DType::F32, DType::F64] {
        for (i, (ld, rd, dims)) in dot_cases().into_iter().enumerate() {
            let mut rng = Rng(i as u64 + 1);
            let mut b = Builder::new();
            let l = b.param(dtype, &ld);
            let r = b.param(dtype, &rd);
            let o = b.op(Op::DotGeneral(dims), &[l, r]);
            let g = b.finish(vec![o]);
            let (x, y) = (literal(dtype, &ld, Fill::SmallInt, &mut rng), literal(dtype, &rd, Fill::SmallInt, &mut rng));
            if let Err(e) = check(&format!("dot_small_int_{i}_{dtype}"), &g, &[x, y], &[Tol::Exact]) {
                failures.push(e);
            }
        }
    }
    report(failures);
}

/// The interpreter starts each dot product at `+0` and adds the products, so a sum of `-0` products is `+0`. The
/// `gemm` crate's paths for tiny problems start from the first product and would give `-0`; the shim
/// (`cpu/shims.rs`) has them add to a `+0`-filled destination. The cases cover those paths (`k` <= 2,
/// matrix-vector, small outputs, with and without a contracting dimension, transposed and batched operands) and the
/// blocked kernel beyond the shim's thresholds (which starts from `+0` by itself), on one thread and on several.
#[test]
fn gemm_sum_of_negative_zero_products_is_positive_zero() {
    let mut failures = Vec::new();
    let cases = [
        (vec![2usize], vec![2usize], dd(&[], &[], &[], &[])),
        (vec![2, 1], vec![1, 2], dd(&[1], &[0], &[], &[])),
        (vec![2, 2], vec![2, 2], dd(&[1], &[0], &[], &[])),
        (vec![1, 300], vec![300, 70], dd(&[1], &[0], &[], &[])),
        (vec![70, 300], vec![300, 1], dd(&[1], &[0], &[], &[])),
        (vec![300], vec![300, 9], dd(&[0], &[0], &[], &[])),
        (vec![8, 50], vec![50, 8], dd(&[1], &[0], &[], &[])),
        (vec![64, 64], vec![64, 64], dd(&[1], &[0], &[], &[])),
        (vec![65, 3], vec![3, 65], dd(&[1], &[0], &[], &[])),
        (vec![100, 64], vec![64, 100], dd(&[1], &[0], &[], &[])),
        (vec![64, 70], vec![64, 90], dd(&[0], &[0], &[], &[])),
        (vec![3, 70, 5], vec![3, 5, 80], dd(&[2], &[1], &[0], &[0])),
        (vec![256, 256], vec![256, 256], dd(&[1], &[0], &[], &[])),
    ];
    for dtype in [DType::F32, DType::F64] {
        for (ld, rd, dims) in &cases {
            let mut b = Builder::new();
            let l = b.param(dtype, ld);
            let r = b.param(dtype, rd);
            let o = b.op(Op::DotGeneral(dims.clone()), &[l, r]);
            let g = b.finish(vec![o]);
            // -1 · 0 = -0 for every product.
            let x = Literal::new(jit_runtime::HostData::full(dtype, ld.iter().product(), -1.0), ld.clone());
            let y = Literal::zeros(dtype, rd.clone());
            match (x, y) {
                (Ok(x), Ok(y)) => {
                    let name = format!("negative_zero_products_{ld:?}_{dtype}");
                    failures.extend(check(&name, &g, &[Arc::new(x), Arc::new(y)], &[Tol::Exact]).err());
                }
                _ => failures.push("literals".to_string()),
            }
        }
    }
    report(failures);
}

// ---------------------------------------------------------------------------------------------------------------
// Fused chains
// ---------------------------------------------------------------------------------------------------------------

fn scalar_f32(b: &mut Builder, v: f32) -> ValueId {
    b.constant(Literal::scalar(v))
}

fn bcast(b: &mut Builder, x: ValueId, dims: &[usize], bd: &[usize]) -> ValueId {
    b.op(Op::BroadcastInDim { shape: dims.into(), broadcast_dimensions: bd.to_vec() }, &[x])
}

fn inputs_for(g: &jit_runtime::ir::Graph, fill: Fill, seed: u64) -> Vec<Arc<Literal>> {
    let mut rng = Rng(seed);
    g.param_types().iter().map(|t| literal(t.dtype, t.dims(), fill, &mut rng)).collect()
}

#[test]
fn fused_elementwise_chain_with_broadcasts() {
    let mut failures = Vec::new();
    for (dims, seed) in [(&[3usize, 4, 5][..], 1), (&[1, 33, 7], 2), (&[2, 0, 3], 3), (&[1, 1, 1], 4)] {
        let mut b = Builder::new();
        let x = b.param(DType::F32, &[dims[0], 1, dims[2]]);
        let v = b.param(DType::F32, &[dims[2]]);
        let xb = bcast(&mut b, x, dims, &[0, 1, 2]);
        let vb = bcast(&mut b, v, dims, &[2]);
        let c = scalar_f32(&mut b, 0.5);
        let cb = bcast(&mut b, c, dims, &[]);
        let m = b.op(Op::Binary(BinaryOp::Mul), &[xb, vb]);
        let a = b.op(Op::Binary(BinaryOp::Add), &[m, cb]);
        let n = b.op(Op::Unary(UnaryOp::Neg), &[a]);
        let mx = b.op(Op::Binary(BinaryOp::Max), &[n, xb]);
        let sq = b.op(Op::IntegerPow { exponent: 2 }, &[mx]);
        let lt = b.op(Op::Binary(BinaryOp::Lt), &[sq, vb]);
        let sel = b.op(Op::Select, &[lt, sq, cb]);
        let io = b.op(Op::Iota { dtype: DType::I32, shape: dims.into(), dimension: 1 }, &[]);
        let iof = b.op(Op::Convert { dtype: DType::F32 }, &[io]);
        let out = b.op(Op::Binary(BinaryOp::Sub), &[sel, iof]);
        let tr = b.op(Op::Transpose { permutation: vec![2, 0, 1] }, &[out]);
        let g = b.finish(vec![out, tr, lt]);
        let inputs = inputs_for(&g, Fill::UNARY, seed);
        if let Err(e) = check(&format!("chain_{dims:?}"), &g, &inputs, &[Tol::Exact]) {
            failures.push(e);
        }
    }
    report(failures);
}

#[test]
fn fused_reduction_with_elementwise_producers() {
    let mut failures = Vec::new();
    for dims in [&[3usize, 4, 5][..], &[17, 33, 1], &[0, 3, 2], &[2, 1003, 1]] {
        let mut b = Builder::new();
        let x = b.param(DType::F32, dims);
        let y = b.param(DType::F32, &[dims[1]]);
        let yb = bcast(&mut b, y, dims, &[1]);
        let m = b.op(Op::Binary(BinaryOp::Mul), &[x, yb]);
        let two = scalar_f32(&mut b, 2.0);
        let tb = bcast(&mut b, two, dims, &[]);
        let s = b.op(Op::Binary(BinaryOp::Add), &[m, tb]);
        let ab = b.op(Op::Unary(UnaryOp::Abs), &[s]);
        let r1 = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[s]);
        let r2 = b.op(Op::Reduce { op: ReduceOp::Max, axes: vec![0, 2] }, &[ab]);
        let t = b.op(Op::Transpose { permutation: vec![1, 0, 2] }, &[s]);
        let r3 = b.op(Op::Reduce { op: ReduceOp::Min, axes: vec![0] }, &[t]);
        let sl = b.op(Op::Slice { start: vec![0, 0, 0], limit: dims.to_vec(), strides: vec![2, 1, 1] }, &[s]);
        let r4 = b.op(Op::Reduce { op: ReduceOp::Prod, axes: vec![0, 1, 2] }, &[sl]);
        let c = b.op(Op::Convert { dtype: DType::I32 }, &[s]);
        let r5 = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![2] }, &[c]);
        let mut outs = vec![r1, r2, r3, r4, r5];
        if dims[2] > 0 {
            let a1 = b.op(Op::ArgReduce { op: ArgReduceOp::ArgMax, axis: 2, index_dtype: DType::I32 }, &[s]);
            outs.push(a1);
        }
        if dims[0] > 0 {
            let p = b.op(Op::Pad { low: vec![1, 0, 0], high: vec![0, 0, 0], interior: vec![1, 0, 0] }, &[x, two]);
            let a2 = b.op(Op::ArgReduce { op: ArgReduceOp::ArgMin, axis: 0, index_dtype: DType::I64 }, &[p]);
            outs.push(a2);
        }
        let g = b.finish(outs);
        let inputs = inputs_for(&g, Fill::Moderate, 11);
        if let Err(e) = check(&format!("reduce_chain_{dims:?}"), &g, &inputs, &reduction_tols(&g, &inputs)) {
            failures.push(e);
        }
    }
    report(failures);
}

#[test]
fn values_with_several_consumers() {
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[7, 9]);
    let e = b.op(Op::Unary(UnaryOp::Exp), &[x]);
    let ee = b.op(Op::Binary(BinaryOp::Add), &[e, e]);
    let f = b.op(Op::Unary(UnaryOp::Floor), &[x]);
    let g1 = b.op(Op::Binary(BinaryOp::Mul), &[f, ee]);
    let s = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[e]);
    let sb = bcast(&mut b, s, &[7, 9], &[0]);
    let d = b.op(Op::Binary(BinaryOp::Div), &[e, sb]);
    let r = b.op(Op::Rev { dimensions: vec![0] }, &[f]);
    let mixed = b.op(Op::Binary(BinaryOp::Sub), &[r, f]);
    let i = b.op(Op::Convert { dtype: DType::I64 }, &[f]);
    let ii = b.op(Op::Binary(BinaryOp::Mul), &[i, i]);
    let g = b.finish(vec![g1, d, mixed, ii, e]);
    let inputs = inputs_for(&g, Fill::Moderate, 5);
    let tol = op_tolerance(&Op::Unary(UnaryOp::Exp), DType::F32);
    // Outputs derived from exp get its tolerance (scaled by the few exact ops after it); the rest are exact.
    let exp_tol = match tol {
        Tol::Ulp(n) => Tol::Ulp(n * 4),
        t => t,
    };
    // `e / sum(e)`: the row sum of positive terms may be reassociated (relative error ≤ (n+2)·eps), a few ulp.
    let softmax_tol = Tol::Ulp(24);
    report(
        check("multi_consumer", &g, &inputs, &[exp_tol.clone(), softmax_tol, Tol::Exact, Tol::Exact, exp_tol])
            .err()
            .into_iter()
            .collect(),
    );
}

#[test]
fn outputs_that_are_parameters_constants_or_repeated() {
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[3]);
    let y = b.param(DType::I32, &[]);
    let c_arr = b.constant(Literal::vector(vec![1.0f32, -2.0, f32::NAN]));
    let c_scalar = b.constant(Literal::scalar(7i64));
    let c_one = b.constant(Literal::from_vec(vec![true], [1, 1]).expect("shape"));
    let sum = b.op(Op::Binary(BinaryOp::Add), &[x, c_arr]);
    let g = b.finish(vec![x, c_arr, c_scalar, sum, sum, x, y, c_one, sum]);
    let inputs = inputs_for(&g, Fill::UNARY, 9);
    let mut failures: Vec<String> = check("passthrough", &g, &inputs, &[Tol::Exact]).err().into_iter().collect();
    // A graph that computes nothing at all.
    let mut b = Builder::new();
    let x = b.param(DType::Bool, &[0, 2]);
    let g = b.finish(vec![x, x]);
    let inputs = inputs_for(&g, Fill::UNARY, 9);
    failures.extend(check("identity", &g, &inputs, &[Tol::Exact]).err());
    // No outputs.
    let mut b = Builder::new();
    b.param(DType::F32, &[2]);
    let g = b.finish(vec![]);
    let inputs = inputs_for(&g, Fill::UNARY, 9);
    failures.extend(check("no_outputs", &g, &inputs, &[Tol::Exact]).err());
    report(failures);
}

#[test]
fn array_constants_in_fused_kernels() {
    let mut failures = Vec::new();
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[2, 3]);
    let c = b.constant(Literal::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]).expect("shape"));
    let ci = b.constant(Literal::vector(vec![3i32, -1, 4]));
    let cb = b.constant(Literal::from_vec(vec![true, false, true, false, false, true], [2, 3]).expect("shape"));
    let c1 = b.constant(Literal::from_vec(vec![0.25f32], [1]).expect("shape"));
    let c11 = b.constant(Literal::from_vec(vec![-4.0f32], [1, 1]).expect("shape"));
    let a = b.op(Op::Binary(BinaryOp::Mul), &[x, c]);
    let cif = b.op(Op::Convert { dtype: DType::F32 }, &[ci]);
    let cib = bcast(&mut b, cif, &[2, 3], &[1]);
    let s = b.op(Op::Select, &[cb, a, cib]);
    let c1b = bcast(&mut b, c1, &[2, 3], &[1]);
    let c11b = bcast(&mut b, c11, &[2, 3], &[0, 1]);
    let t = b.op(Op::Binary(BinaryOp::Add), &[s, c1b]);
    let u = b.op(Op::Binary(BinaryOp::Sub), &[t, c11b]);
    let r = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![0] }, &[c]);
    let g = b.finish(vec![u, r]);
    let inputs = inputs_for(&g, Fill::UNARY, 1);
    failures.extend(check("array_constants", &g, &inputs, &[Tol::Exact]).err());
    // Zero-size constants consumed by elementwise and layout ops.
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[0]);
    let c0 = b.constant(Literal::from_vec(Vec::<f32>::new(), [0]).expect("shape"));
    let a = b.op(Op::Binary(BinaryOp::Add), &[x, c0]);
    let c02 = b.constant(Literal::from_vec(Vec::<i32>::new(), [2, 0]).expect("shape"));
    let n = b.op(Op::Unary(UnaryOp::Neg), &[c02]);
    let y = b.param(DType::I32, &[2, 3]);
    let cat = b.op(Op::Concatenate { dimension: 1 }, &[c02, y]);
    let g = b.finish(vec![a, n, cat]);
    let inputs = inputs_for(&g, Fill::UNARY, 1);
    failures.extend(check("zero_size_constants", &g, &inputs, &[Tol::Exact]).err());
    report(failures);
}

#[test]
fn dot_with_fused_producers_and_consumers() {
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[5, 6]);
    let w = b.param(DType::F32, &[4, 6]);
    let bias = b.param(DType::F32, &[4]);
    let xa = b.op(Op::Unary(UnaryOp::Abs), &[x]);
    let wt = b.op(Op::Transpose { permutation: vec![1, 0] }, &[w]);
    let d = b.op(Op::DotGeneral(dd(&[1], &[0], &[], &[])), &[xa, wt]);
    let bb = bcast(&mut b, bias, &[5, 4], &[1]);
    let y = b.op(Op::Binary(BinaryOp::Add), &[d, bb]);
    let z = b.op(Op::Binary(BinaryOp::Max), &[y, bb]);
    let xi = b.op(Op::Convert { dtype: DType::I32 }, &[x]);
    let di = b.op(Op::DotGeneral(dd(&[0], &[0], &[], &[])), &[xi, xi]);
    let g = b.finish(vec![z, di]);
    let inputs = inputs_for(&g, Fill::SmallInt, 3);
    report(check("dot_fused", &g, &inputs, &[Tol::Exact]).err().into_iter().collect());
}

#[test]
fn threefry_fused_into_consumers() {
    let mut b = Builder::new();
    let k = b.param(DType::U32, &[2]);
    let k0 = b.op(Op::Slice { start: vec![0], limit: vec![1], strides: vec![1] }, &[k]);
    let k1 = b.op(Op::Slice { start: vec![1], limit: vec![2], strides: vec![1] }, &[k]);
    let k0b = bcast(&mut b, k0, &[3, 5], &[1]);
    let k1b = bcast(&mut b, k1, &[3, 5], &[1]);
    let i0 = b.op(Op::Iota { dtype: DType::U32, shape: [3, 5].into(), dimension: 0 }, &[]);
    let i1 = b.op(Op::Iota { dtype: DType::U32, shape: [3, 5].into(), dimension: 1 }, &[]);
    let r = b.g.add(Op::Threefry2x32, &[k0b, k1b, i0, i1], None).expect("threefry");
    let nine = b.constant(Literal::scalar(9u32));
    let nb = bcast(&mut b, nine, &[3, 5], &[]);
    let sh = b.op(Op::Binary(BinaryOp::ShiftRightLogical), &[r[0], nb]);
    let x = b.op(Op::Binary(BinaryOp::Xor), &[sh, r[1]]);
    let only1 = b.op(Op::Unary(UnaryOp::Not), &[r[1]]);
    let fl = b.op(Op::BitcastConvert { dtype: DType::F32 }, &[x]);
    let g = b.finish(vec![x, only1, fl]);
    let inputs = inputs_for(&g, Fill::UNARY, 3);
    report(check("threefry_fused", &g, &inputs, &[Tol::Exact]).err().into_iter().collect());
}

/// Kernels with enough work for the driver to split them across threads (loop, non-flat loop, reduce over inner
/// and outer axes, arg-reduce, naive integer dot, and a GEMM large enough to run in parallel).
#[test]
fn large_kernels_split_across_threads() {
    let mut failures = Vec::new();
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[300, 257]);
    let v = b.param(DType::F32, &[257]);
    let vb = bcast(&mut b, v, &[300, 257], &[1]);
    let m = b.op(Op::Binary(BinaryOp::Mul), &[x, vb]);
    let t = b.op(Op::Transpose { permutation: vec![1, 0] }, &[m]);
    let r1 = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[m]);
    let r0 = b.op(Op::Reduce { op: ReduceOp::Max, axes: vec![0] }, &[m]);
    let all = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![0, 1] }, &[x]);
    let am = b.op(Op::ArgReduce { op: ArgReduceOp::ArgMax, axis: 1, index_dtype: DType::I32 }, &[m]);
    let y = b.param(DType::I32, &[64, 70]);
    let z = b.param(DType::I32, &[70, 65]);
    let d = b.op(Op::DotGeneral(dd(&[1], &[0], &[], &[])), &[y, z]);
    let big = b.param(DType::I64, &[70_001]);
    let nb = b.op(Op::Unary(UnaryOp::Neg), &[big]);
    let g = b.finish(vec![m, t, r1, r0, all, am, d, nb]);
    let inputs = inputs_for(&g, Fill::Moderate, 21);
    failures.extend(check("parallel", &g, &inputs, &reduction_tols(&g, &inputs)).err());
    // A float GEMM of 2·128³ flops (the shim's threading threshold).
    let mut b = Builder::new();
    let l = b.param(DType::F32, &[128, 128]);
    let r = b.param(DType::F32, &[128, 128]);
    let dims = dd(&[1], &[0], &[], &[]);
    let o = b.op(Op::DotGeneral(dims.clone()), &[l, r]);
    let g = b.finish(vec![o]);
    let inputs = inputs_for(&g, Fill::Moderate, 22);
    let tol = Tol::Bound(dot_bound(&dims, &inputs[0], &inputs[1]));
    failures.extend(check("parallel_gemm", &g, &inputs, &[tol]).err());
    report(failures);
}

/// `u32` all-ones from an integer division by zero, converted to float: LLVM 19's SLP vectorizer narrows
/// `uitofp (sext i1)` to `uitofp i1` (giving 1.0 instead of 4294967295), so the lowering must not emit `uitofp`
/// for `u32` (found by `random_programs.rs`).
#[test]
fn u32_division_by_zero_converted_to_float() {
    let mut failures = Vec::new();
    for to in [DType::F32, DType::F64] {
        let mut b = Builder::new();
        let a = b.param(DType::U32, &[1, 2]);
        let c = b.param(DType::Bool, &[1, 2]);
        let r = b.op(Op::Rev { dimensions: vec![0, 1] }, &[a]);
        let d = b.op(Op::Select, &[c, r, a]);
        let e = b.op(Op::Binary(BinaryOp::Sub), &[d, d]);
        let f = b.op(Op::Reduce { op: ReduceOp::Prod, axes: vec![0] }, &[d]);
        let q = b.op(Op::Binary(BinaryOp::Div), &[e, r]);
        let h = b.op(Op::Convert { dtype: to }, &[q]);
        let g = b.finish(vec![h, f]);
        let x = Arc::new(Literal::from_vec(vec![0u32, 1], [1, 2]).expect("shape"));
        let y = Arc::new(Literal::from_vec(vec![false, true], [1, 2]).expect("shape"));
        failures.extend(check(&format!("u32_div_zero_to_{to}"), &g, &[x, y], &[Tol::Exact]).err());
    }
    report(failures);
}

/// Zero-size temporaries whose lifetimes overlap: placing them in the workspace must terminate.
/// (`cpu/memory.rs`, `place_temporaries`: a placed temporary of 0 words at the candidate offset "clashes" and moves
/// the candidate to `offset + 0`, forever; the watchdog of `common` turns the hang into a failure after a minute.)
#[test]
fn zero_size_temporaries_with_overlapping_lifetimes() {
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[0, 3]);
    let e = b.op(Op::Unary(UnaryOp::Exp), &[x]);
    let s = b.op(Op::Binary(BinaryOp::Add), &[e, e]);
    let t = b.op(Op::Binary(BinaryOp::Mul), &[s, s]);
    let u = b.op(Op::Binary(BinaryOp::Sub), &[t, e]);
    let g = b.finish(vec![u]);
    let inputs = inputs_for(&g, Fill::UNARY, 1);
    report(check("zero_size_temporaries", &g, &inputs, &[Tol::Exact]).err().into_iter().collect());
}

/// Donated parameters: an output may take over a donated input's buffer. Whether the caller holds the only
/// reference (the buffer is reused) or not (it is copied, and the caller's input stays as it was), the results are
/// the interpreter's, including when the donated input is read after the output is written, read at other
/// positions (transpose), or is itself an output.
/// The reassociation bound `2(n+2)·eps·max_row Σ|x|` of the row sums of an f32 matrix, as one absolute bound.
fn row_sum_tol(x: &Literal) -> Tol {
    let v = x.to_vec::<f32>().expect("f32 input");
    let n = x.shape().dims()[1];
    let worst = v.chunks(n).map(|r| r.iter().map(|e| e.abs() as f64).sum::<f64>()).fold(0.0, f64::max);
    Tol::Abs(2.0 * (n as f64 + 2.0) * f32::EPSILON as f64 * worst)
}

#[test]
fn donated_inputs_give_the_interpreters_results() {
    type Case = (&'static str, fn(&mut Builder, ValueId, ValueId) -> Vec<ValueId>);
    let cases: Vec<Case> = vec![
        ("elementwise", |b, x, _| {
            let e = b.op(Op::Unary(UnaryOp::Exp), &[x]);
            let m = b.op(Op::Binary(BinaryOp::Mul), &[e, x]);
            vec![b.op(Op::Binary(BinaryOp::Add), &[m, x])]
        }),
        ("transpose", |b, x, _| vec![b.op(Op::Transpose { permutation: vec![1, 0] }, &[x])]),
        ("rev", |b, x, _| vec![b.op(Op::Rev { dimensions: vec![0, 1] }, &[x])]),
        ("read_after", |b, x, _| {
            let n = b.op(Op::Unary(UnaryOp::Neg), &[x]);
            let s = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[x]);
            let sb = bcast(b, s, &[33, 33], &[0]);
            let t = b.op(Op::Binary(BinaryOp::Add), &[n, sb]);
            vec![n, t]
        }),
        ("twice", |b, x, y| {
            let a = b.op(Op::Binary(BinaryOp::Sub), &[x, y]);
            vec![a, a, x]
        }),
        ("both", |b, x, y| {
            let a = b.op(Op::Binary(BinaryOp::Sub), &[x, y]);
            let c = b.op(Op::Binary(BinaryOp::Mul), &[y, x]);
            vec![c, a]
        }),
        ("swap", |_, x, y| vec![y, x]),
    ];
    let mut failures = Vec::new();
    for (name, build) in cases {
        let mut b = Builder::new();
        let x = b.param(DType::F32, &[33, 33]);
        let y = b.param(DType::F32, &[33, 33]);
        let outs = build(&mut b, x, y);
        let g = b.finish(outs);
        let inputs = inputs_for(&g, Fill::Moderate, 4);
        let want = match compile_interp(&g, name).and_then(|e| e.run(inputs.clone())) {
            Ok(w) => w,
            Err(e) => {
                failures.push(format!("{name}: interpreter: {e}"));
                continue;
            }
        };
        for donated in [vec![true, false], vec![true, true], vec![false, true]] {
            for shared in [false, true] {
                let own: Vec<Arc<Literal>> = inputs.iter().map(|x| Arc::new((**x).clone())).collect();
                let keep: Vec<Arc<Literal>> = if shared { own.clone() } else { Vec::new() };
                let got = llvm_outputs_donated(&g, name, donated.clone(), vec![own]);
                let what = format!("{name} donated {donated:?} shared {shared}");
                match got {
                    Err(e) => failures.push(format!("{what}: {e}")),
                    Ok(mut got) => {
                        let got = got.remove(0);
                        for (i, (gv, wv)) in got.iter().zip(&want).enumerate() {
                            // `read_after`'s second output adds a float row sum, which may be reassociated.
                            let tol = if name == "read_after" && i == 1 { row_sum_tol(&inputs[0]) } else { Tol::Exact };
                            if let Err(e) = compare(gv, wv, &tol, None) {
                                failures.push(format!("{what}: output {i}: {e}\n{g}"));
                            }
                        }
                        for (k, x) in keep.iter().enumerate() {
                            if **x != *inputs[k] {
                                failures.push(format!("{what}: the caller's input {k} changed"));
                            }
                        }
                    }
                }
            }
        }
    }
    report(failures);
}

/// `threefry2x32` whose two results take over its donated operands' buffers: the second result must come from the
/// same evaluation as the first, not from operands re-read after the first result was stored over one of them
/// (found by `random_programs.rs`).
#[test]
fn donated_threefry_operands() {
    let mut b = Builder::new();
    let i = b.param(DType::U32, &[4]);
    let j = b.param(DType::U32, &[4]);
    let r = b.g.add(Op::Threefry2x32, &[i, j, i, i], None).expect("threefry");
    let g = b.finish(vec![r[1], r[0]]);
    let x = Arc::new(Literal::vector(vec![4_294_966_608u32, 249, 4_294_966_944, 737]));
    let y = Arc::new(Literal::vector(vec![0u32, 1, 2, 3]));
    let mut failures = Vec::new();
    match compile_interp(&g, "threefry_donated").and_then(|e| e.run(vec![x.clone(), y.clone()])) {
        Err(e) => failures.push(format!("interpreter: {e}")),
        Ok(want) => {
            for donated in [vec![true, true], vec![true, false], vec![false, true]] {
                let own = vec![Arc::new((*x).clone()), Arc::new((*y).clone())];
                match llvm_outputs_donated(&g, "threefry_donated", donated.clone(), vec![own]) {
                    Err(e) => failures.push(e),
                    Ok(got) => {
                        for (k, (gv, wv)) in got[0].iter().zip(&want).enumerate() {
                            if let Err(e) = compare(gv, wv, &Tol::Exact, None) {
                                failures.push(format!("donated {donated:?}: output {k}: {e}"));
                            }
                        }
                    }
                }
            }
        }
    }
    report(failures);
}

// ---------------------------------------------------------------------------------------------------------------
// Bad inputs
// ---------------------------------------------------------------------------------------------------------------

/// `run` with the wrong number of inputs, a wrong dtype or a wrong shape returns an error of the same kind as the
/// interpreter's, and never panics.
#[test]
fn bad_inputs_are_typed_errors_like_the_interpreter() {
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[3]);
    let y = b.param(DType::I32, &[2, 2]);
    let yc = b.op(Op::Convert { dtype: DType::F32 }, &[y]);
    let s = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![0, 1] }, &[yc]);
    let sb = bcast(&mut b, s, &[3], &[]);
    let o = b.op(Op::Binary(BinaryOp::Add), &[x, sb]);
    let g = b.finish(vec![o]);
    let llvm = compile_llvm(&g, "bad_inputs").expect("compiles");
    let interp = compile_interp(&g, "bad_inputs").expect("compiles");
    let good_x = Arc::new(Literal::vector(vec![1.0f32, 2.0, 3.0]));
    let good_y = Arc::new(Literal::from_vec(vec![1i32, 2, 3, 4], [2, 2]).expect("shape"));
    let cases: Vec<(&str, Vec<Arc<Literal>>)> = vec![
        ("no inputs", vec![]),
        ("one input", vec![good_x.clone()]),
        ("three inputs", vec![good_x.clone(), good_y.clone(), good_y.clone()]),
        ("swapped", vec![good_y.clone(), good_x.clone()]),
        ("wrong dtype", vec![Arc::new(Literal::vector(vec![1.0f64, 2.0, 3.0])), good_y.clone()]),
        ("wrong dtype 2", vec![good_x.clone(), Arc::new(Literal::from_vec(vec![1u32, 2, 3, 4], [2, 2]).expect("s"))]),
        ("wrong shape", vec![Arc::new(Literal::vector(vec![1.0f32; 4])), good_y.clone()]),
        ("wrong rank", vec![good_x.clone(), Arc::new(Literal::vector(vec![1i32, 2, 3, 4]))]),
        ("scalar for vector", vec![Arc::new(Literal::scalar(1.0f32)), good_y.clone()]),
        ("empty for vector", vec![Arc::new(Literal::vector(Vec::<f32>::new())), good_y.clone()]),
    ];
    let mut failures = Vec::new();
    for (what, inputs) in cases {
        let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| llvm.run(inputs.clone())));
        let want = interp.run(inputs);
        match (got, want) {
            (Err(_), _) => failures.push(format!("{what}: the compiled executable panicked")),
            (Ok(Ok(_)), _) => failures.push(format!("{what}: the compiled executable accepted bad inputs")),
            (Ok(Err(e)), Ok(_)) => failures.push(format!("{what}: the interpreter accepted what LLVM rejected: {e}")),
            (Ok(Err(g)), Err(w)) => {
                if std::mem::discriminant(&g) != std::mem::discriminant(&w) {
                    failures.push(format!("{what}: LLVM error `{g}` is not of the kind of the interpreter's `{w}`"));
                }
            }
        }
    }
    // The good inputs still work afterwards.
    match (llvm.run(vec![good_x.clone(), good_y.clone()]), interp.run(vec![good_x, good_y])) {
        (Ok(g), Ok(w)) if g == w => {}
        (g, w) => failures.push(format!("good inputs: LLVM {g:?}, interpreter {w:?}")),
    }
    report(failures);
}

/// A program whose result cannot fit the machine's memory (a scalar broadcast to 4 TiB of `f32`, and to 24 GiB of
/// `f64`: more than these machines have) is an out-of-memory error on both backends, not a process killed by the
/// kernel's out-of-memory killer or aborted by a failed allocation; the machine stays usable afterwards.
#[test]
fn results_larger_than_memory_are_errors() {
    let Some(available) = jit_runtime::array::memory::available_bytes() else {
        eprintln!("skipped: /proc/meminfo cannot be read here, so allocations are not checked");
        return;
    };
    let gib = 1usize << 30;
    let too_many_f64 = (available / 8).max(gib) * 2;
    for (dtype, dims) in [(DType::F32, vec![1usize << 20, 1 << 20]), (DType::F64, vec![too_many_f64])] {
        let mut b = Builder::new();
        let x = b.param(dtype, &[]);
        let big = bcast(&mut b, x, &dims, &[]);
        let g = b.finish(vec![big]);
        let one = match dtype {
            DType::F32 => Arc::new(Literal::scalar(1.0f32)),
            _ => Arc::new(Literal::scalar(1.0f64)),
        };
        let llvm = compile_llvm(&g, "too_big").expect("compiles: only running allocates");
        let err = llvm.run(vec![one.clone()]).expect_err("an error, not a result");
        assert!(matches!(err, jit_runtime::Error::OutOfMemory(_)), "{err}");
        let text = err.to_string();
        assert!(text.contains("too_big") && text.contains("available"), "{text}");
        let err = compile_interp(&g, "too_big").and_then(|e| e.run(vec![one])).expect_err("an error");
        assert!(err.to_string().contains("allocate"), "{err}");
    }
    // Still usable: a small program runs.
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[4]);
    let y = b.op(Op::Unary(UnaryOp::Neg), &[x]);
    let g = b.finish(vec![y]);
    let out = compile_llvm(&g, "small_after").expect("compiles").run(vec![Arc::new(Literal::vector(vec![1.0f32; 4]))]);
    assert_eq!(out.expect("runs")[0].as_slice::<f32>().expect("f32"), &[-1.0f32; 4][..]);
}

/// Large results are streamed (non-temporal stores from the first 64-byte aligned element on, a plain head loop
/// before it): forced here for every size, the results equal the interpreter's bit for bit for every dtype, sizes
/// around the vector widths and sizes split across threads (chunks that start at any alignment), also when the
/// output is written over a donated input; and the optimised code really has the aligned non-temporal stores and
/// the `sfence`.
#[test]
fn streamed_results_equal_the_interpreters() {
    use jit_runtime::backend::{CompileOptions, Executable};
    use llvm_backend::cpu::executable::{Tuning, compile_tuned};
    let mut rng = Rng(17);
    let streaming = Tuning { streaming_bytes: Some(1) };
    let mut failures = Vec::new();
    for dtype in [DType::F32, DType::F64, DType::I32, DType::U32, DType::I64] {
        for n in [0usize, 1, 15, 16, 17, 63, 1000, 100_003, 300_007] {
            let mut b = Builder::new();
            let x = b.param(dtype, &[n]);
            let y = b.param(dtype, &[n]);
            let s = b.param(dtype, &[]);
            let sb = bcast(&mut b, s, &[n], &[]);
            let m = b.op(Op::Binary(BinaryOp::Mul), &[x, y]);
            let o = b.op(Op::Binary(BinaryOp::Add), &[m, sb]);
            let g = b.finish(vec![o]);
            for donate in [false, true] {
                let options = CompileOptions {
                    name: format!("stream_{dtype}_{n}"),
                    donated: vec![donate, false, false],
                    device: jit_runtime::backend::Device::CPU,
                };
                let exe = compile_tuned(&g, &options, streaming).expect("compiles");
                let inputs = vec![
                    literal(dtype, &[n], Fill::Moderate, &mut rng),
                    literal(dtype, &[n], Fill::Moderate, &mut rng),
                    literal(dtype, &[], Fill::SmallInt, &mut rng),
                ];
                let want = compile_interp(&g, "stream").and_then(|e| e.run(inputs.clone())).expect("interpreter");
                let own: Vec<Arc<Literal>> = inputs.iter().map(|x| Arc::new((**x).clone())).collect();
                let got = exe.run(own).expect("runs");
                if let Err(m) = compare(&got[0], &want[0], &Tol::Exact, None) {
                    failures.push(format!("{dtype}[{n}] donated {donate}: {m}"));
                }
                let opt = exe.artifacts().into_iter().find(|(k, _)| k == "llvm-ir-opt").map(|(_, v)| v);
                let opt = opt.expect("optimised IR artifact");
                if n == 1000 && !(opt.contains("!nontemporal") && opt.contains("llvm.x86.sse.sfence")) {
                    failures.push(format!("{dtype}[{n}]: no non-temporal stores in the optimised IR"));
                }
            }
        }
    }
    report(failures);
}
