//! The reference interpreter, op by op, on hand-computed values: edge cases of every op (integer division by
//! zero, shifts out of range, NaN in max/min/argmax, negative and interior padding, broadcasting, empty and rank-0
//! arrays), then `run` on whole graphs.

use std::sync::Arc;

use jit_runtime::interp::{eval_op, run};
use jit_runtime::ir::{ArgReduceOp, BinaryOp, DotDims, Graph, Op, ReduceOp, TensorType, UnaryOp};
use jit_runtime::{DType, Element, Error, Literal, Shape};

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

fn lit<T: Element>(v: Vec<T>, dims: &[usize]) -> Literal {
    Literal::from_vec(v, dims).unwrap()
}

fn vector<T: Element>(v: Vec<T>) -> Literal {
    Literal::vector(v)
}

/// Evaluates a single-result op.
fn eval1(op: Op, inputs: &[&Literal]) -> Literal {
    let mut out = eval_op(&op, inputs).unwrap_or_else(|e| panic!("{op:?} failed: {e}"));
    assert_eq!(out.len(), 1, "{op:?} should have one result");
    out.remove(0)
}

fn values<T: Element>(l: &Literal) -> Vec<T> {
    l.to_vec::<T>().unwrap()
}

fn unary<T: Element>(op: UnaryOp, x: Vec<T>) -> Vec<T> {
    values(&eval1(Op::Unary(op), &[&vector(x)]))
}

fn binary<T: Element, R: Element>(op: BinaryOp, x: Vec<T>, y: Vec<T>) -> Vec<R> {
    values(&eval1(Op::Binary(op), &[&vector(x), &vector(y)]))
}

fn bits32(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn op_error(result: jit_runtime::Result<Vec<Literal>>) -> jit_runtime::OpError {
    match result {
        Err(Error::Op(e)) => *e,
        other => panic!("expected an op error, got {other:?}"),
    }
}

fn dot(dims: DotDims, lhs: &Literal, rhs: &Literal) -> Literal {
    eval1(Op::DotGeneral(dims), &[lhs, rhs])
}

fn dot_dims(lc: &[usize], rc: &[usize], lb: &[usize], rb: &[usize]) -> DotDims {
    DotDims {
        lhs_contracting: lc.to_vec(),
        rhs_contracting: rc.to_vec(),
        lhs_batch: lb.to_vec(),
        rhs_batch: rb.to_vec(),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Unary
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn float_rounding_ops() {
    let x = vec![0.5f32, -0.5, 1.5, 2.5, -2.5, 2.4, -2.6, -0.0];
    assert_eq!(unary(UnaryOp::Round, x.clone()), vec![1.0, -1.0, 2.0, 3.0, -3.0, 2.0, -3.0, -0.0]);
    assert_eq!(unary(UnaryOp::Floor, x.clone()), vec![0.0, -1.0, 1.0, 2.0, -3.0, 2.0, -3.0, -0.0]);
    assert_eq!(unary(UnaryOp::Ceil, x), vec![1.0, -0.0, 2.0, 3.0, -2.0, 3.0, -2.0, -0.0]);
    assert!(unary(UnaryOp::Round, vec![-0.4f64])[0].is_sign_negative());
}

#[test]
fn float_sign_keeps_nan_and_signed_zero() {
    let s = unary(UnaryOp::Sign, vec![-3.0f32, 2.5, 0.0, -0.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY]);
    assert_eq!(bits32(&s[..3]), bits32(&[-1.0, 1.0, 0.0]));
    assert_eq!(s[3].to_bits(), (-0.0f32).to_bits());
    assert!(s[4].is_nan());
    assert_eq!(&s[5..], &[1.0, -1.0]);
}

#[test]
fn float_transcendentals() {
    let x = vec![0.0f64, 1.0, -2.0, 0.25];
    let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-15 * y.abs().max(1.0));
    assert!(close(&unary(UnaryOp::Exp, x.clone()), &[1.0, 1f64.exp(), (-2f64).exp(), 0.25f64.exp()]));
    assert!(close(&unary(UnaryOp::Tanh, x.clone()), &[0.0, 1f64.tanh(), (-2f64).tanh(), 0.25f64.tanh()]));
    assert!(close(&unary(UnaryOp::Sin, x.clone()), &[0.0, 1f64.sin(), (-2f64).sin(), 0.25f64.sin()]));
    assert!(close(&unary(UnaryOp::Cos, x), &[1.0, 1f64.cos(), (-2f64).cos(), 0.25f64.cos()]));
    assert_eq!(unary(UnaryOp::Log, vec![1.0f32, 0.0, -1.0])[..2], [0.0, f32::NEG_INFINITY]);
    assert!(unary(UnaryOp::Log, vec![-1.0f32])[0].is_nan());
    assert_eq!(unary(UnaryOp::Sqrt, vec![4.0f32, 0.0, -0.0]), vec![2.0, 0.0, -0.0]);
    assert_eq!(unary(UnaryOp::Rsqrt, vec![4.0f32, 0.0, 0.25]), vec![0.5, f32::INFINITY, 2.0]);
    // expm1 / log1p keep precision near 0.
    assert_eq!(unary(UnaryOp::Expm1, vec![1e-10f64])[0], 1e-10f64.exp_m1());
    assert!((unary(UnaryOp::Expm1, vec![1e-10f64])[0] - (1e-10 + 5e-21)).abs() < 1e-25);
    assert!((unary(UnaryOp::Log1p, vec![1e-10f64])[0] - (1e-10 - 5e-21)).abs() < 1e-25);
    assert_eq!(unary(UnaryOp::Erf, vec![0.0f32, f32::INFINITY, f32::NEG_INFINITY]), vec![0.0, 1.0, -1.0]);
    assert!((unary(UnaryOp::Erf, vec![0.5f64])[0] - 0.520_499_877_813_046_5).abs() < 1e-15);
}

#[test]
fn logistic_is_stable() {
    let y = unary(UnaryOp::Logistic, vec![0.0f32, 1000.0, -1000.0, 2.0, -2.0, f32::INFINITY, f32::NEG_INFINITY]);
    assert_eq!(&y[..3], &[0.5, 1.0, 0.0]);
    assert!((y[3] - 1.0 / (1.0 + (-2f32).exp())).abs() < 1e-7);
    assert!((y[3] + y[4] - 1.0).abs() < 1e-7);
    assert_eq!(&y[5..], &[1.0, 0.0]);
    assert!(unary(UnaryOp::Logistic, vec![f32::NAN])[0].is_nan());
    // A tiny result keeps its precision instead of rounding through 1 + e^200.
    let tiny = unary(UnaryOp::Logistic, vec![-200.0f64])[0];
    assert!((tiny / (-200f64).exp() - 1.0).abs() < 1e-12, "{tiny}");
    // Even a subnormal one, where 1 / (1 + e^744.5) has already overflowed to 1 / inf = 0.
    let subnormal = unary(UnaryOp::Logistic, vec![-744.5f64])[0];
    assert!(subnormal > 0.0 && subnormal < f64::MIN_POSITIVE, "{subnormal}");
}

#[test]
fn erf_inv_edges() {
    let y = unary(UnaryOp::ErfInv, vec![0.0f32, 1.0, -1.0, 1.5, -1.0001, f32::NAN, -0.0]);
    assert_eq!(&y[..3], &[0.0, f32::INFINITY, f32::NEG_INFINITY]);
    assert!(y[3].is_nan() && y[4].is_nan() && y[5].is_nan());
    assert_eq!(y[6].to_bits(), (-0.0f32).to_bits());
    let y = unary(UnaryOp::ErfInv, vec![0.0f64, 1.0, -1.0, 2.0]);
    assert_eq!(&y[..3], &[0.0, f64::INFINITY, f64::NEG_INFINITY]);
    assert!(y[3].is_nan());
    // Odd function.
    let y = unary(UnaryOp::ErfInv, vec![0.3f32, -0.3, 0.9999, -0.9999]);
    assert_eq!(y[0], -y[1]);
    assert_eq!(y[2], -y[3]);
    // Known value: erfinv(0.5) = 0.4769362762044699.
    assert!((unary(UnaryOp::ErfInv, vec![0.5f64])[0] - 0.476_936_276_204_469_9).abs() < 2e-16);
    assert!((unary(UnaryOp::ErfInv, vec![0.5f32])[0] - 0.476_936_28).abs() < 1e-7);
}

/// `normal(PRNGKey(0), (4,))` from `shared/spec/prng.md`: the uniform values of the known answers through
/// `sqrt(2) * erf_inv(u)`.
#[test]
fn erf_inv_reproduces_jax_normal_known_answers() {
    let bits = [0xf29a4fa7u32, 0xfa843692, 0x55110e28, 0x77faa835];
    let lo = f32::from_bits((-1.0f32).to_bits() - 1); // next_after(-1, 0)
    let u: Vec<f32> = bits
        .iter()
        .map(|b| {
            let f = f32::from_bits((b >> 9) | 0x3F80_0000) - 1.0;
            lo.max(f * (1.0 - lo) + lo)
        })
        .collect();
    let e = unary(UnaryOp::ErfInv, u);
    let sqrt2 = f32::from_bits(0x3fb5_04f3);
    let normal: Vec<u32> = e.iter().map(|v| (sqrt2 * v).to_bits()).collect();
    // Bit-exact with JAX here (std's f32 `ln_1p` agrees with XLA's log1p on these inputs).
    assert_eq!(normal, vec![0x3fcfb2bdu32, 0x40019df0, 0xbede0017, 0xbda10222]);
}

#[test]
fn integer_unary_ops_wrap() {
    assert_eq!(unary(UnaryOp::Neg, vec![i32::MIN, 5, 0]), vec![i32::MIN, -5, 0]);
    assert_eq!(unary(UnaryOp::Abs, vec![i32::MIN, -5, 7]), vec![i32::MIN, 5, 7]);
    assert_eq!(unary(UnaryOp::Abs, vec![i64::MIN, -5]), vec![i64::MIN, 5]);
    assert_eq!(unary(UnaryOp::Sign, vec![-9i32, 0, 4, i32::MIN]), vec![-1, 0, 1, -1]);
    assert_eq!(unary(UnaryOp::Neg, vec![1u32, 0]), vec![u32::MAX, 0]);
    assert_eq!(unary(UnaryOp::Abs, vec![u32::MAX, 3]), vec![u32::MAX, 3]);
    assert_eq!(unary(UnaryOp::Sign, vec![u32::MAX, 0]), vec![1, 0]);
    assert_eq!(unary(UnaryOp::Not, vec![0i32, -1, 5]), vec![-1, 0, -6]);
    assert_eq!(unary(UnaryOp::Not, vec![0u32]), vec![u32::MAX]);
    assert_eq!(unary(UnaryOp::Not, vec![true, false]), vec![false, true]);
    assert_eq!(unary(UnaryOp::Neg, vec![-0.0f32, 1.0])[0].to_bits(), 0.0f32.to_bits());
}

#[test]
fn unary_rejects_wrong_dtypes_with_op_errors() {
    let e = op_error(eval_op(&Op::Unary(UnaryOp::Exp), &[&vector(vec![1i32])]));
    assert_eq!(e.op, "exp");
    assert!(e.message.contains("i32"), "{}", e.message);
    let e = op_error(eval_op(&Op::Unary(UnaryOp::Not), &[&vector(vec![1.0f32])]));
    assert_eq!(e.op, "not");
    let e = op_error(eval_op(&Op::Unary(UnaryOp::Neg), &[]));
    assert!(e.message.contains("1 operand"), "{}", e.message);
}

// ---------------------------------------------------------------------------------------------------------------
// Binary
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn integer_division_edge_cases() {
    let x = vec![7i32, -7, 7, -7, 5, i32::MIN, i32::MIN, 0];
    let y = vec![2i32, 2, -2, -2, 0, -1, 0, 0];
    assert_eq!(binary::<i32, i32>(BinaryOp::Div, x.clone(), y.clone()), vec![3, -3, -3, 3, -1, i32::MIN, -1, -1]);
    assert_eq!(binary::<i32, i32>(BinaryOp::Rem, x, y), vec![1, -1, 1, -1, 5, 0, i32::MIN, 0]);
    let x = vec![i64::MIN, 9, -9];
    let y = vec![-1i64, 0, 4];
    assert_eq!(binary::<i64, i64>(BinaryOp::Div, x.clone(), y.clone()), vec![i64::MIN, -1, -2]);
    assert_eq!(binary::<i64, i64>(BinaryOp::Rem, x, y), vec![0, 9, -1]);
    let x = vec![5u32, u32::MAX, 7];
    let y = vec![0u32, 2, 7];
    assert_eq!(binary::<u32, u32>(BinaryOp::Div, x.clone(), y.clone()), vec![u32::MAX, u32::MAX / 2, 1]);
    assert_eq!(binary::<u32, u32>(BinaryOp::Rem, x, y), vec![5, 1, 0]);
}

#[test]
fn integer_arithmetic_wraps() {
    let x = vec![i32::MAX, i32::MIN, 65536];
    let y = vec![1i32, 1, 65536];
    assert_eq!(binary::<i32, i32>(BinaryOp::Add, x.clone(), y.clone()), vec![i32::MIN, i32::MIN + 1, 131072]);
    assert_eq!(binary::<i32, i32>(BinaryOp::Sub, x.clone(), y.clone()), vec![i32::MAX - 1, i32::MAX, 0]);
    assert_eq!(binary::<i32, i32>(BinaryOp::Mul, x, y), vec![i32::MAX, i32::MIN, 0]);
    assert_eq!(binary::<u32, u32>(BinaryOp::Sub, vec![0], vec![1]), vec![u32::MAX]);
}

#[test]
fn integer_pow_by_squaring() {
    let base = vec![2i32, 3, 0, 2, 1, -1, -1, 0, 5, 2, 2, 3, -2];
    let exp = vec![10i32, 0, 0, -1, -5, -3, -4, -1, 1, 31, 32, 40, 3];
    let three_40 = 3u64.pow(40) as u32 as i32;
    assert_eq!(
        binary::<i32, i32>(BinaryOp::Pow, base, exp),
        vec![1024, 1, 1, 0, 1, -1, 1, 0, 5, i32::MIN, 0, three_40, -8]
    );
    assert_eq!(binary::<u32, u32>(BinaryOp::Pow, vec![2, 1, 3], vec![32, u32::MAX, 2]), vec![0, 1, 9]);
    assert_eq!(binary::<i64, i64>(BinaryOp::Pow, vec![2, -3], vec![62, 3]), vec![1 << 62, -27]);
}

#[test]
fn shifts_out_of_range() {
    let x = vec![1i32, 1, 1, -8, 8, 3];
    let y = vec![31i32, 32, -1, 1, 40, 0];
    assert_eq!(binary::<i32, i32>(BinaryOp::ShiftLeft, x.clone(), y.clone()), vec![i32::MIN, 0, 0, -16, 0, 3]);
    assert_eq!(binary::<i32, i32>(BinaryOp::ShiftRightLogical, x.clone(), y.clone()), vec![0, 0, 0, 0x7FFF_FFFC, 0, 3]);
    assert_eq!(binary::<i32, i32>(BinaryOp::ShiftRightArithmetic, x, y), vec![0, 0, 0, -4, 0, 3]);
    // Out-of-range arithmetic shifts fill with the sign; a negative amount is a huge unsigned one.
    assert_eq!(binary::<i32, i32>(BinaryOp::ShiftRightArithmetic, vec![-8, -8, 8], vec![40, -1, -1]), vec![-1, -1, 0]);
    // u32: the arithmetic shift reads the bits as signed.
    let x = vec![0x8000_0000u32, 0x8000_0000, 0x8000_0000, 0x4000_0000];
    let y = vec![4u32, 32, 31, 100];
    assert_eq!(
        binary::<u32, u32>(BinaryOp::ShiftRightArithmetic, x.clone(), y.clone()),
        vec![0xF800_0000, u32::MAX, u32::MAX, 0]
    );
    assert_eq!(binary::<u32, u32>(BinaryOp::ShiftRightLogical, x.clone(), y.clone()), vec![0x0800_0000, 0, 1, 0]);
    assert_eq!(binary::<u32, u32>(BinaryOp::ShiftLeft, x, y), vec![0, 0, 0, 0]);
    // i64: widths are 64.
    assert_eq!(binary::<i64, i64>(BinaryOp::ShiftLeft, vec![1, 1, 1], vec![63, 64, 32]), vec![i64::MIN, 0, 1 << 32]);
    assert_eq!(binary::<i64, i64>(BinaryOp::ShiftRightLogical, vec![-1, -1], vec![60, 64]), vec![15, 0]);
    assert_eq!(binary::<i64, i64>(BinaryOp::ShiftRightArithmetic, vec![i64::MIN], vec![1 << 40]), vec![-1]);
}

#[test]
fn bitwise_and_logical_ops() {
    assert_eq!(binary::<i32, i32>(BinaryOp::And, vec![0b1100], vec![0b1010]), vec![0b1000]);
    assert_eq!(binary::<i32, i32>(BinaryOp::Or, vec![0b1100], vec![0b1010]), vec![0b1110]);
    assert_eq!(binary::<u32, u32>(BinaryOp::Xor, vec![0b1100], vec![0b1010]), vec![0b0110]);
    let (p, q) = (vec![false, false, true, true], vec![false, true, false, true]);
    assert_eq!(binary::<bool, bool>(BinaryOp::And, p.clone(), q.clone()), vec![false, false, false, true]);
    assert_eq!(binary::<bool, bool>(BinaryOp::Or, p.clone(), q.clone()), vec![false, true, true, true]);
    assert_eq!(binary::<bool, bool>(BinaryOp::Xor, p.clone(), q.clone()), vec![false, true, true, false]);
    assert_eq!(binary::<bool, bool>(BinaryOp::Max, p.clone(), q.clone()), vec![false, true, true, true]);
    assert_eq!(binary::<bool, bool>(BinaryOp::Min, p.clone(), q.clone()), vec![false, false, false, true]);
    assert_eq!(binary::<bool, bool>(BinaryOp::Lt, p, q), vec![false, true, false, false]);
}

#[test]
fn float_max_min_propagate_nan_and_order_zeros() {
    let nan = f32::NAN;
    let x = vec![nan, 1.0, 1.0, -0.0, 0.0, 2.0, f32::NEG_INFINITY];
    let y = vec![1.0, nan, 3.0, 0.0, -0.0, -5.0, 7.0];
    let max = binary::<f32, f32>(BinaryOp::Max, x.clone(), y.clone());
    let min = binary::<f32, f32>(BinaryOp::Min, x, y);
    assert!(max[0].is_nan() && max[1].is_nan() && min[0].is_nan() && min[1].is_nan());
    assert_eq!(bits32(&max[2..]), bits32(&[3.0, 0.0, 0.0, 2.0, 7.0]));
    assert_eq!(bits32(&min[2..]), bits32(&[1.0, -0.0, -0.0, -5.0, f32::NEG_INFINITY]));
    assert_eq!(binary::<i32, i32>(BinaryOp::Max, vec![-3, 4], vec![2, -9]), vec![2, 4]);
    assert_eq!(binary::<u32, u32>(BinaryOp::Min, vec![u32::MAX, 4], vec![2, 9]), vec![2, 4]);
}

#[test]
fn float_remainder_is_fmod_and_pow_atan2() {
    let r = binary::<f64, f64>(BinaryOp::Rem, vec![5.5, -5.5, 5.5, -5.5, 1.0], vec![2.0, 2.0, -2.0, -2.0, 0.0]);
    assert_eq!(&r[..4], &[1.5, -1.5, 1.5, -1.5]);
    assert!(r[4].is_nan());
    let p = binary::<f32, f32>(
        BinaryOp::Pow,
        vec![2.0, 4.0, f32::NAN, 1.0, -8.0],
        vec![10.0, 0.5, 0.0, f32::NAN, 1.0 / 3.0],
    );
    assert_eq!(&p[..4], &[1024.0, 2.0, 1.0, 1.0]);
    assert!(p[4].is_nan());
    // atan2(x, y) is the angle of the point (y, x).
    let a = binary::<f64, f64>(BinaryOp::Atan2, vec![1.0, 0.0, -1.0, 1.0], vec![0.0, -1.0, 0.0, 1.0]);
    let pi = std::f64::consts::PI;
    assert_eq!(a, vec![pi / 2.0, pi, -pi / 2.0, pi / 4.0]);
    assert_eq!(
        binary::<f32, f32>(BinaryOp::Div, vec![1.0, -1.0, 0.0], vec![0.0, 0.0, 2.0]),
        vec![f32::INFINITY, f32::NEG_INFINITY, 0.0]
    );
}

#[test]
fn comparisons_follow_ieee() {
    let nan = f32::NAN;
    let x = vec![nan, nan, 1.0, -0.0, 2.0];
    let y = vec![nan, 1.0, nan, 0.0, 1.0];
    assert_eq!(binary::<f32, bool>(BinaryOp::Eq, x.clone(), y.clone()), vec![false, false, false, true, false]);
    assert_eq!(binary::<f32, bool>(BinaryOp::Ne, x.clone(), y.clone()), vec![true, true, true, false, true]);
    assert_eq!(binary::<f32, bool>(BinaryOp::Lt, x.clone(), y.clone()), vec![false, false, false, false, false]);
    assert_eq!(binary::<f32, bool>(BinaryOp::Le, x.clone(), y.clone()), vec![false, false, false, true, false]);
    assert_eq!(binary::<f32, bool>(BinaryOp::Gt, x.clone(), y.clone()), vec![false, false, false, false, true]);
    assert_eq!(binary::<f32, bool>(BinaryOp::Ge, x, y), vec![false, false, false, true, true]);
    // Unsigned comparison is unsigned; signed is signed.
    assert_eq!(binary::<u32, bool>(BinaryOp::Gt, vec![u32::MAX], vec![1]), vec![true]);
    assert_eq!(binary::<i32, bool>(BinaryOp::Gt, vec![-1], vec![1]), vec![false]);
}

#[test]
fn binary_on_rank0_and_empty_arrays() {
    let a = Literal::scalar(3i32);
    let b = Literal::scalar(4i32);
    let s = eval1(Op::Binary(BinaryOp::Mul), &[&a, &b]);
    assert_eq!(s.shape(), &Shape::scalar());
    assert_eq!(values::<i32>(&s), vec![12]);
    let e = lit::<f32>(vec![], &[2, 0, 3]);
    let s = eval1(Op::Binary(BinaryOp::Add), &[&e, &e]);
    assert_eq!(s.shape(), &Shape::from([2, 0, 3]));
    assert!(values::<f32>(&s).is_empty());
    let c = eval1(Op::Binary(BinaryOp::Lt), &[&e, &e]);
    assert_eq!((c.dtype(), c.shape().dims()), (DType::Bool, &[2, 0, 3][..]));
}

#[test]
fn binary_mismatches_are_op_errors() {
    let e = op_error(eval_op(&Op::Binary(BinaryOp::Add), &[&vector(vec![1.0f32]), &vector(vec![1i32])]));
    assert_eq!(e.op, "add");
    assert!(e.message.contains("f32[1]") && e.message.contains("i32[1]"), "{}", e.message);
    let e = op_error(eval_op(&Op::Binary(BinaryOp::Add), &[&vector(vec![1.0f32]), &vector(vec![1.0f32, 2.0])]));
    assert!(e.message.contains("shapes differ"), "{}", e.message);
    let e = op_error(eval_op(&Op::Binary(BinaryOp::ShiftLeft), &[&vector(vec![1.0f32]), &vector(vec![1.0f32])]));
    assert_eq!(e.op, "shift_left");
}

// ---------------------------------------------------------------------------------------------------------------
// integer_pow, select, convert, bitcast_convert
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn integer_pow_floats_and_integers() {
    let ipow = |x: Literal, exponent: i32| eval1(Op::IntegerPow { exponent }, &[&x]);
    assert_eq!(values::<f32>(&ipow(vector(vec![2.0f32, -3.0, 0.5]), 3)), vec![8.0, -27.0, 0.125]);
    assert_eq!(values::<f64>(&ipow(vector(vec![2.0f64, -4.0, 0.0]), -2)), vec![0.25, 0.0625, f64::INFINITY]);
    let zero = values::<f32>(&ipow(vector(vec![f32::NAN, 0.0, f32::INFINITY]), 0));
    assert_eq!(zero, vec![1.0, 1.0, 1.0]);
    assert_eq!(values::<f32>(&ipow(vector(vec![1.5f32]), 1)), vec![1.5]);
    assert_eq!(values::<i32>(&ipow(vector(vec![2i32, -1, 1, 0, 7]), -3)), vec![0, -1, 1, 0, 0]);
    assert_eq!(values::<i32>(&ipow(vector(vec![2i32, -2, 3]), 31)), vec![i32::MIN, i32::MIN, 3i32.wrapping_pow(31)]);
    assert_eq!(values::<u32>(&ipow(vector(vec![2u32, 1, 5]), -1)), vec![0, 1, 0]);
    // Rounding follows JAX's squaring order: x^3 = x * (x*x).
    let x = 1.1f32;
    assert_eq!(values::<f32>(&ipow(vector(vec![x]), 3)), vec![x * (x * x)]);
    let e = op_error(eval_op(&Op::IntegerPow { exponent: 2 }, &[&vector(vec![true])]));
    assert_eq!(e.op, "integer_pow");
}

#[test]
fn select_picks_elementwise() {
    let p = lit(vec![true, false, false, true], &[2, 2]);
    let t = lit(vec![1i64, 2, 3, 4], &[2, 2]);
    let f = lit(vec![-1i64, -2, -3, -4], &[2, 2]);
    let s = eval1(Op::Select, &[&p, &t, &f]);
    assert_eq!(s.shape().dims(), &[2, 2]);
    assert_eq!(values::<i64>(&s), vec![1, -2, -3, 4]);
    let s = eval1(Op::Select, &[&Literal::scalar(false), &Literal::scalar(1.0f32), &Literal::scalar(2.0f32)]);
    assert_eq!(values::<f32>(&s), vec![2.0]);
    let e = op_error(eval_op(&Op::Select, &[&vector(vec![1i32]), &vector(vec![1i32]), &vector(vec![1i32])]));
    assert!(e.message.contains("predicate"), "{}", e.message);
}

#[test]
fn convert_truncates_saturates_and_rounds() {
    let conv = |x: Literal, dtype: DType| eval1(Op::Convert { dtype }, &[&x]);
    let x = vector(vec![1.9f32, -1.9, f32::NAN, 3e9, -3e9, f32::INFINITY, -0.5]);
    assert_eq!(values::<i32>(&conv(x.clone(), DType::I32)), vec![1, -1, 0, i32::MAX, i32::MIN, i32::MAX, 0]);
    assert_eq!(values::<u32>(&conv(x.clone(), DType::U32)), vec![1, 0, 0, 3_000_000_000, 0, u32::MAX, 0]);
    assert_eq!(values::<i64>(&conv(x.clone(), DType::I64)), vec![1, -1, 0, 3_000_000_000, -3_000_000_000, i64::MAX, 0]);
    assert_eq!(values::<bool>(&conv(x, DType::Bool)), vec![true, true, true, true, true, true, true]);
    assert_eq!(values::<bool>(&conv(vector(vec![0.0f32, -0.0, 1e-45]), DType::Bool)), vec![false, false, true]);
    // Integers to floats round to nearest even.
    assert_eq!(
        values::<f32>(&conv(vector(vec![16_777_217i32, 16_777_219]), DType::F32)),
        vec![16_777_216.0, 16_777_220.0]
    );
    assert_eq!(values::<f32>(&conv(vector(vec![u32::MAX]), DType::F32)), vec![4_294_967_296.0]);
    // Between integers: wrap.
    assert_eq!(values::<i32>(&conv(vector(vec![(1i64 << 32) + 5, -1]), DType::I32)), vec![5, -1]);
    assert_eq!(values::<i32>(&conv(vector(vec![u32::MAX]), DType::I32)), vec![-1]);
    assert_eq!(values::<u32>(&conv(vector(vec![-1i32]), DType::U32)), vec![u32::MAX]);
    // Bool to numbers: 0/1.
    assert_eq!(values::<f64>(&conv(vector(vec![true, false]), DType::F64)), vec![1.0, 0.0]);
    assert_eq!(values::<u32>(&conv(vector(vec![true, false]), DType::U32)), vec![1, 0]);
    assert_eq!(values::<bool>(&conv(vector(vec![3i32, 0, -1]), DType::Bool)), vec![true, false, true]);
    // f64 to f32 rounds to nearest; overflow gives inf.
    assert_eq!(values::<f32>(&conv(vector(vec![0.1f64, 1e300]), DType::F32)), vec![0.1f32, f32::INFINITY]);
    // Same dtype: identity.
    assert_eq!(values::<i32>(&conv(vector(vec![7i32]), DType::I32)), vec![7]);
}

#[test]
fn bitcast_reinterprets_bits() {
    let bc = |x: Literal, dtype: DType| eval_op(&Op::BitcastConvert { dtype }, &[&x]);
    let u = bc(vector(vec![1.0f32, -2.0]), DType::U32).unwrap();
    assert_eq!(values::<u32>(&u[0]), vec![0x3f80_0000, 0xc000_0000]);
    let i = bc(vector(vec![u32::MAX, 0x8000_0000]), DType::I32).unwrap();
    assert_eq!(values::<i32>(&i[0]), vec![-1, i32::MIN]);
    let f = bc(vector(vec![0x7fc0_0000i32]), DType::F32).unwrap();
    assert_eq!(values::<f32>(&f[0])[0].to_bits(), 0x7fc0_0000);
    let i = bc(vector(vec![1.0f64]), DType::I64).unwrap();
    assert_eq!(values::<i64>(&i[0]), vec![0x3ff0_0000_0000_0000]);
    let f = bc(vector(vec![0x4000_0000_0000_0000i64]), DType::F64).unwrap();
    assert_eq!(values::<f64>(&f[0]), vec![2.0]);
    assert!(bc(vector(vec![1.0f32]), DType::F64).is_err());
    assert!(bc(vector(vec![true]), DType::Bool).is_err());
}

// ---------------------------------------------------------------------------------------------------------------
// Data movement
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn iota_counts_along_its_dimension() {
    let iota = |dtype, dims: &[usize], dimension| eval1(Op::Iota { dtype, shape: Shape::from(dims), dimension }, &[]);
    assert_eq!(values::<i32>(&iota(DType::I32, &[2, 3], 0)), vec![0, 0, 0, 1, 1, 1]);
    assert_eq!(values::<i32>(&iota(DType::I32, &[2, 3], 1)), vec![0, 1, 2, 0, 1, 2]);
    assert_eq!(values::<f32>(&iota(DType::F32, &[4], 0)), vec![0.0, 1.0, 2.0, 3.0]);
    assert_eq!(values::<u32>(&iota(DType::U32, &[2, 2, 2], 1)), vec![0, 0, 1, 1, 0, 0, 1, 1]);
    assert!(values::<i64>(&iota(DType::I64, &[3, 0], 0)).is_empty());
    assert!(eval_op(&Op::Iota { dtype: DType::Bool, shape: Shape::from([2]), dimension: 0 }, &[]).is_err());
}

#[test]
fn broadcast_in_dim_cases() {
    let bcast = |x: &Literal, dims: &[usize], bd: &[usize]| {
        eval1(Op::BroadcastInDim { shape: Shape::from(dims), broadcast_dimensions: bd.to_vec() }, &[x])
    };
    // Scalar to a matrix.
    let s = bcast(&Literal::scalar(7i32), &[2, 3], &[]);
    assert_eq!((s.shape().dims(), values::<i32>(&s)), (&[2, 3][..], vec![7; 6]));
    // Rank-0 to rank-0.
    assert_eq!(values::<i32>(&bcast(&Literal::scalar(7i32), &[], &[])), vec![7]);
    // A row along the last dimension, a column along the first.
    let row = vector(vec![1i32, 2, 3]);
    assert_eq!(values::<i32>(&bcast(&row, &[2, 3], &[1])), vec![1, 2, 3, 1, 2, 3]);
    let col = vector(vec![1i32, 2]);
    assert_eq!(values::<i32>(&bcast(&col, &[2, 3], &[0])), vec![1, 1, 1, 2, 2, 2]);
    // Size-1 dimensions broadcast even when mapped.
    let m = lit(vec![1i32, 2, 3], &[1, 3]);
    assert_eq!(values::<i32>(&bcast(&m, &[2, 3], &[0, 1])), vec![1, 2, 3, 1, 2, 3]);
    let c = lit(vec![10i32, 20], &[2, 1]);
    let out = bcast(&c, &[2, 3, 2], &[0, 2]);
    assert_eq!(values::<i32>(&out), vec![10, 10, 10, 10, 10, 10, 20, 20, 20, 20, 20, 20]);
    // Into a middle dimension, with new dimensions on both sides.
    let v = vector(vec![1i32, 2]);
    assert_eq!(values::<i32>(&bcast(&v, &[2, 2, 2], &[1])), vec![1, 1, 2, 2, 1, 1, 2, 2]);
    // Identity broadcast.
    let id = lit(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
    assert_eq!(values::<f32>(&bcast(&id, &[2, 2], &[0, 1])), vec![1.0, 2.0, 3.0, 4.0]);
    // Empty results: a size-1 dimension broadcast to 0, an empty operand.
    let e = bcast(&vector(vec![5u32]), &[3, 0], &[1]);
    assert_eq!((e.shape().dims(), values::<u32>(&e).len()), (&[3, 0][..], 0));
    let e = bcast(&lit::<f32>(vec![], &[0]), &[2, 0], &[1]);
    assert_eq!(e.shape().dims(), &[2, 0]);
    // Mismatched sizes are an op error.
    let err =
        op_error(eval_op(&Op::BroadcastInDim { shape: Shape::from([2, 4]), broadcast_dimensions: vec![1] }, &[&row]));
    assert_eq!(err.op, "broadcast_in_dim");
}

#[test]
fn reshape_and_transpose() {
    let x = lit((0..6).collect::<Vec<i32>>(), &[2, 3]);
    let r = eval1(Op::Reshape { shape: Shape::from([3, 1, 2]) }, &[&x]);
    assert_eq!((r.shape().dims(), values::<i32>(&r)), (&[3, 1, 2][..], (0..6).collect()));
    let r = eval1(Op::Reshape { shape: Shape::scalar() }, &[&vector(vec![4.0f32])]);
    assert_eq!(r.shape(), &Shape::scalar());
    let t = eval1(Op::Transpose { permutation: vec![1, 0] }, &[&x]);
    assert_eq!((t.shape().dims(), values::<i32>(&t)), (&[3, 2][..], vec![0, 3, 1, 4, 2, 5]));
    // x[a, b, c] with dims [2, 3, 4]; result dim i is operand dim perm[i]: out[c, a, b] = x[a, b, c].
    let x = lit((0..24).collect::<Vec<i32>>(), &[2, 3, 4]);
    let t = eval1(Op::Transpose { permutation: vec![2, 0, 1] }, &[&x]);
    assert_eq!(t.shape().dims(), &[4, 2, 3]);
    let got = values::<i32>(&t);
    for c in 0..4 {
        for a in 0..2 {
            for b in 0..3 {
                assert_eq!(got[c * 6 + a * 3 + b], (a * 12 + b * 4 + c) as i32);
            }
        }
    }
    let t = eval1(Op::Transpose { permutation: vec![] }, &[&Literal::scalar(true)]);
    assert_eq!(values::<bool>(&t), vec![true]);
    let t = eval1(Op::Transpose { permutation: vec![1, 0] }, &[&lit::<f32>(vec![], &[0, 3])]);
    assert_eq!(t.shape().dims(), &[3, 0]);
}

#[test]
fn slice_with_strides() {
    let slice = |x: &Literal, start: &[usize], limit: &[usize], strides: &[usize]| {
        eval1(Op::Slice { start: start.to_vec(), limit: limit.to_vec(), strides: strides.to_vec() }, &[x])
    };
    let x = vector((0..10).collect::<Vec<i64>>());
    assert_eq!(values::<i64>(&slice(&x, &[1], &[8], &[3])), vec![1, 4, 7]);
    assert_eq!(values::<i64>(&slice(&x, &[1], &[7], &[3])), vec![1, 4]);
    assert_eq!(values::<i64>(&slice(&x, &[9], &[10], &[5])), vec![9]);
    assert!(values::<i64>(&slice(&x, &[4], &[4], &[1])).is_empty());
    let m = lit((0..12).collect::<Vec<i32>>(), &[3, 4]);
    let s = slice(&m, &[1, 0], &[3, 4], &[1, 2]);
    assert_eq!((s.shape().dims(), values::<i32>(&s)), (&[2, 2][..], vec![4, 6, 8, 10]));
    let s = slice(&Literal::scalar(2.5f64), &[], &[], &[]);
    assert_eq!(values::<f64>(&s), vec![2.5]);
    assert!(eval_op(&Op::Slice { start: vec![0], limit: vec![11], strides: vec![1] }, &[&x]).is_err());
}

#[test]
fn concatenate_along_any_dimension() {
    let a = lit(vec![1i32, 2], &[2, 1]);
    let b = lit(vec![3i32, 4, 5, 6], &[2, 2]);
    let c = eval1(Op::Concatenate { dimension: 1 }, &[&a, &b]);
    assert_eq!((c.shape().dims(), values::<i32>(&c)), (&[2, 3][..], vec![1, 3, 4, 2, 5, 6]));
    let d = lit(vec![7i32, 8], &[1, 2]);
    let c = eval1(Op::Concatenate { dimension: 0 }, &[&b, &d]);
    assert_eq!((c.shape().dims(), values::<i32>(&c)), (&[3, 2][..], vec![3, 4, 5, 6, 7, 8]));
    let empty = lit::<i32>(vec![], &[2, 0]);
    let c = eval1(Op::Concatenate { dimension: 1 }, &[&empty, &a, &empty]);
    assert_eq!((c.shape().dims(), values::<i32>(&c)), (&[2, 1][..], vec![1, 2]));
    let c = eval1(
        Op::Concatenate { dimension: 0 },
        &[&vector(vec![true]), &vector(vec![false, true]), &vector(Vec::<bool>::new())],
    );
    assert_eq!(values::<bool>(&c), vec![true, false, true]);
    let c = eval1(Op::Concatenate { dimension: 0 }, &[&vector(vec![1.0f32])]);
    assert_eq!(values::<f32>(&c), vec![1.0]);
    assert!(eval_op(&Op::Concatenate { dimension: 0 }, &[]).is_err());
    assert!(eval_op(&Op::Concatenate { dimension: 0 }, &[&vector(vec![1i32]), &vector(vec![1i64])]).is_err());
}

#[test]
fn pad_low_high_interior_and_negative() {
    let pad = |x: &Literal, v: &Literal, low: &[i64], high: &[i64], interior: &[usize]| {
        eval1(Op::Pad { low: low.to_vec(), high: high.to_vec(), interior: interior.to_vec() }, &[x, v])
    };
    let x = vector(vec![1i32, 2, 3]);
    let zero = Literal::scalar(0i32);
    assert_eq!(values::<i32>(&pad(&x, &zero, &[1], &[2], &[1])), vec![0, 1, 0, 2, 0, 3, 0, 0]);
    assert_eq!(values::<i32>(&pad(&x, &zero, &[0], &[0], &[2])), vec![1, 0, 0, 2, 0, 0, 3]);
    // Interior first ([1,0,2,0,3]), then negative low/high crop it.
    assert_eq!(values::<i32>(&pad(&x, &zero, &[-1], &[-1], &[1])), vec![0, 2, 0]);
    assert_eq!(values::<i32>(&pad(&x, &zero, &[-2], &[1], &[0])), vec![3, 0]);
    assert_eq!(values::<i32>(&pad(&x, &zero, &[-3], &[0], &[0])), Vec::<i32>::new());
    assert_eq!(values::<i32>(&pad(&x, &zero, &[-4], &[2], &[0])), vec![0]);
    let m = lit(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2]);
    let nine = Literal::scalar(9.0f32);
    let p = pad(&m, &nine, &[1, 0], &[0, 1], &[0, 0]);
    assert_eq!(p.shape().dims(), &[3, 3]);
    assert_eq!(values::<f32>(&p), vec![9.0, 9.0, 9.0, 1.0, 2.0, 9.0, 3.0, 4.0, 9.0]);
    let p = pad(&m, &nine, &[0, -1], &[0, 0], &[1, 1]);
    assert_eq!(p.shape().dims(), &[3, 2]);
    assert_eq!(values::<f32>(&p), vec![9.0, 2.0, 9.0, 9.0, 9.0, 4.0]);
    // An empty operand becomes all padding; a scalar pads to itself.
    let e = pad(&lit::<u32>(vec![], &[0]), &Literal::scalar(5u32), &[2], &[1], &[3]);
    assert_eq!(values::<u32>(&e), vec![5, 5, 5]);
    assert_eq!(values::<bool>(&pad(&Literal::scalar(true), &Literal::scalar(false), &[], &[], &[])), vec![true]);
    let err = op_error(eval_op(&Op::Pad { low: vec![0], high: vec![0], interior: vec![0] }, &[&x, &nine]));
    assert_eq!(err.op, "pad");
}

#[test]
fn rev_reverses_listed_dimensions() {
    let x = lit((0..6).collect::<Vec<i32>>(), &[2, 3]);
    let rev = |dims: &[usize]| values::<i32>(&eval1(Op::Rev { dimensions: dims.to_vec() }, &[&x]));
    assert_eq!(rev(&[1]), vec![2, 1, 0, 5, 4, 3]);
    assert_eq!(rev(&[0]), vec![3, 4, 5, 0, 1, 2]);
    assert_eq!(rev(&[0, 1]), vec![5, 4, 3, 2, 1, 0]);
    assert_eq!(rev(&[]), vec![0, 1, 2, 3, 4, 5]);
    let e = eval1(Op::Rev { dimensions: vec![0] }, &[&lit::<f32>(vec![], &[0, 2])]);
    assert_eq!(e.shape().dims(), &[0, 2]);
}

// ---------------------------------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------------------------------

fn reduce(op: ReduceOp, axes: &[usize], x: &Literal) -> Literal {
    eval1(Op::Reduce { op, axes: axes.to_vec() }, &[x])
}

#[test]
fn reduce_over_axes() {
    let x = lit((1..=6).collect::<Vec<i32>>(), &[2, 3]);
    assert_eq!(values::<i32>(&reduce(ReduceOp::Sum, &[1], &x)), vec![6, 15]);
    assert_eq!(values::<i32>(&reduce(ReduceOp::Sum, &[0], &x)), vec![5, 7, 9]);
    let all = reduce(ReduceOp::Sum, &[0, 1], &x);
    assert_eq!((all.shape(), values::<i32>(&all)), (&Shape::scalar(), vec![21]));
    assert_eq!(values::<i32>(&reduce(ReduceOp::Prod, &[1], &x)), vec![6, 120]);
    assert_eq!(values::<i32>(&reduce(ReduceOp::Max, &[0], &x)), vec![4, 5, 6]);
    assert_eq!(values::<i32>(&reduce(ReduceOp::Min, &[0, 1], &x)), vec![1]);
    // Axes given out of order mean the same set.
    assert_eq!(values::<i32>(&reduce(ReduceOp::Sum, &[1, 0], &x)), vec![21]);
    // No axes: the identity combined with each element.
    assert_eq!(values::<i32>(&reduce(ReduceOp::Sum, &[], &x)), (1..=6).collect::<Vec<_>>());
    // Rank 0.
    assert_eq!(values::<f32>(&reduce(ReduceOp::Max, &[], &Literal::scalar(2.0f32))), vec![2.0]);
    // 3-D, middle axis.
    let y = lit((0..24).collect::<Vec<i64>>(), &[2, 3, 4]);
    let s = reduce(ReduceOp::Sum, &[1], &y);
    assert_eq!(s.shape().dims(), &[2, 4]);
    assert_eq!(values::<i64>(&s), vec![12, 15, 18, 21, 48, 51, 54, 57]);
    // Integer sums wrap.
    assert_eq!(values::<i32>(&reduce(ReduceOp::Sum, &[0], &vector(vec![i32::MAX, 1]))), vec![i32::MIN]);
    assert_eq!(values::<u32>(&reduce(ReduceOp::Prod, &[0], &vector(vec![65536u32, 65536]))), vec![0]);
}

#[test]
fn reduce_of_empty_axes_gives_identities() {
    let e = lit::<f32>(vec![], &[2, 0]);
    assert_eq!(values::<f32>(&reduce(ReduceOp::Sum, &[1], &e)), vec![0.0, 0.0]);
    assert_eq!(values::<f32>(&reduce(ReduceOp::Prod, &[1], &e)), vec![1.0, 1.0]);
    assert_eq!(values::<f32>(&reduce(ReduceOp::Max, &[1], &e)), vec![f32::NEG_INFINITY; 2]);
    assert_eq!(values::<f32>(&reduce(ReduceOp::Min, &[1], &e)), vec![f32::INFINITY; 2]);
    assert!(values::<f32>(&reduce(ReduceOp::Sum, &[0], &e)).is_empty());
    let i = lit::<i32>(vec![], &[0]);
    assert_eq!(values::<i32>(&reduce(ReduceOp::Max, &[0], &i)), vec![i32::MIN]);
    assert_eq!(values::<i32>(&reduce(ReduceOp::Min, &[0], &i)), vec![i32::MAX]);
    let u = lit::<u32>(vec![], &[0]);
    assert_eq!(values::<u32>(&reduce(ReduceOp::Max, &[0], &u)), vec![0]);
    assert_eq!(values::<u32>(&reduce(ReduceOp::Min, &[0], &u)), vec![u32::MAX]);
    let l = lit::<i64>(vec![], &[0, 3]);
    assert_eq!(values::<i64>(&reduce(ReduceOp::Max, &[0], &l)), vec![i64::MIN; 3]);
    let b = lit::<bool>(vec![], &[0]);
    assert_eq!(values::<bool>(&reduce(ReduceOp::Max, &[0], &b)), vec![false]);
    assert_eq!(values::<bool>(&reduce(ReduceOp::Min, &[0], &b)), vec![true]);
    let d = lit::<f64>(vec![], &[0]);
    assert_eq!(values::<f64>(&reduce(ReduceOp::Prod, &[0], &d)), vec![1.0]);
}

#[test]
fn reduce_semantics_nan_bool_and_order() {
    let x = vector(vec![1.0f32, f32::NAN, 3.0]);
    assert!(values::<f32>(&reduce(ReduceOp::Max, &[0], &x))[0].is_nan());
    assert!(values::<f32>(&reduce(ReduceOp::Min, &[0], &x))[0].is_nan());
    assert!(values::<f32>(&reduce(ReduceOp::Sum, &[0], &x))[0].is_nan());
    let b = lit(vec![false, true, false, false, true, true], &[2, 3]);
    assert_eq!(values::<bool>(&reduce(ReduceOp::Max, &[1], &b)), vec![true, true]);
    assert_eq!(values::<bool>(&reduce(ReduceOp::Min, &[1], &b)), vec![false, false]);
    assert_eq!(values::<bool>(&reduce(ReduceOp::Min, &[0], &b)), vec![false, true, false]);
    assert!(eval_op(&Op::Reduce { op: ReduceOp::Sum, axes: vec![0] }, &[&b]).is_err());
    // Sequential accumulation in f32: ((((0 + 1e8) + 1) - 1e8) + 1) = 1, where a pairwise sum would give 0.
    let s = vector(vec![1e8f32, 1.0, -1e8, 1.0]);
    assert_eq!(values::<f32>(&reduce(ReduceOp::Sum, &[0], &s)), vec![1.0]);
    // Row-major order over several reduced axes: [[1e8, -1e8], [1, 1]] summed over both axes visits
    // 1e8, -1e8, 1, 1 = 2, while column-major would visit 1e8, 1, -1e8, 1 = 1.
    let m = lit(vec![1e8f32, -1e8, 1.0, 1.0], &[2, 2]);
    assert_eq!(values::<f32>(&reduce(ReduceOp::Sum, &[0, 1], &m)), vec![2.0]);
    // Max of -0 and +0 is +0 (IEEE maximum).
    assert_eq!(values::<f32>(&reduce(ReduceOp::Max, &[0], &vector(vec![-0.0f32, 0.0])))[0].to_bits(), 0);
}

#[test]
fn argmax_argmin_first_extremum_and_nan() {
    let arg = |op, axis, index_dtype, x: &Literal| eval1(Op::ArgReduce { op, axis, index_dtype }, &[x]);
    let x = vector(vec![1.0f32, 3.0, 3.0, -2.0, -2.0]);
    assert_eq!(values::<i32>(&arg(ArgReduceOp::ArgMax, 0, DType::I32, &x)), vec![1]);
    assert_eq!(values::<i32>(&arg(ArgReduceOp::ArgMin, 0, DType::I32, &x)), vec![3]);
    let n = vector(vec![1.0f32, f32::NAN, 3.0, f32::NAN, -5.0]);
    assert_eq!(values::<i32>(&arg(ArgReduceOp::ArgMax, 0, DType::I32, &n)), vec![1]);
    assert_eq!(values::<i32>(&arg(ArgReduceOp::ArgMin, 0, DType::I32, &n)), vec![1]);
    let n = vector(vec![f32::NAN, 9.0]);
    assert_eq!(values::<i64>(&arg(ArgReduceOp::ArgMax, 0, DType::I64, &n)), vec![0]);
    // -0 and +0 are equal: the first wins.
    let z = vector(vec![-0.0f64, 0.0]);
    assert_eq!(values::<u32>(&arg(ArgReduceOp::ArgMax, 0, DType::U32, &z)), vec![0]);
    assert_eq!(values::<u32>(&arg(ArgReduceOp::ArgMin, 0, DType::U32, &z)), vec![0]);
    // Along each axis of a matrix.
    let m = lit(vec![3i32, 1, 4, 1, 5, 9, 2, 6], &[2, 4]);
    let a = arg(ArgReduceOp::ArgMax, 1, DType::I32, &m);
    assert_eq!((a.shape().dims(), values::<i32>(&a)), (&[2][..], vec![2, 1]));
    let a = arg(ArgReduceOp::ArgMin, 0, DType::I32, &m);
    assert_eq!((a.shape().dims(), values::<i32>(&a)), (&[4][..], vec![0, 0, 1, 0]));
    // Bool and unsigned operands.
    assert_eq!(values::<i32>(&arg(ArgReduceOp::ArgMax, 0, DType::I32, &vector(vec![false, true, true]))), vec![1]);
    assert_eq!(values::<i32>(&arg(ArgReduceOp::ArgMin, 0, DType::I32, &vector(vec![true, true]))), vec![0]);
    assert_eq!(values::<i32>(&arg(ArgReduceOp::ArgMax, 0, DType::I32, &vector(vec![1u32, u32::MAX]))), vec![1]);
    // Single element, empty other dimension.
    assert_eq!(values::<i32>(&arg(ArgReduceOp::ArgMax, 0, DType::I32, &vector(vec![7i64]))), vec![0]);
    let e = arg(ArgReduceOp::ArgMax, 1, DType::I32, &lit::<f32>(vec![], &[0, 3]));
    assert_eq!(e.shape().dims(), &[0]);
    // An empty searched axis and a float index dtype are op errors.
    let empty = lit::<f32>(vec![], &[0]);
    let err =
        op_error(eval_op(&Op::ArgReduce { op: ArgReduceOp::ArgMax, axis: 0, index_dtype: DType::I32 }, &[&empty]));
    assert_eq!(err.op, "argmax");
    assert!(eval_op(&Op::ArgReduce { op: ArgReduceOp::ArgMin, axis: 0, index_dtype: DType::F32 }, &[&x]).is_err());
}

// ---------------------------------------------------------------------------------------------------------------
// dot_general
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn dot_general_matrix_products() {
    let a = lit(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
    let b = lit(vec![7.0f32, 8.0, 9.0, 10.0, 11.0, 12.0], &[3, 2]);
    let c = dot(dot_dims(&[1], &[0], &[], &[]), &a, &b);
    assert_eq!((c.shape().dims(), values::<f32>(&c)), (&[2, 2][..], vec![58.0, 64.0, 139.0, 154.0]));
    // a @ a^T by contracting dimension 1 of both.
    let c = dot(dot_dims(&[1], &[1], &[], &[]), &a, &a);
    assert_eq!(values::<f32>(&c), vec![14.0, 32.0, 32.0, 77.0]);
    // Vector dot vector gives a scalar; matrix-vector.
    let v = vector(vec![1i32, 2, 3]);
    let s = dot(dot_dims(&[0], &[0], &[], &[]), &v, &v);
    assert_eq!((s.shape(), values::<i32>(&s)), (&Shape::scalar(), vec![14]));
    let ai = lit(vec![1i32, 2, 3, 4, 5, 6], &[2, 3]);
    assert_eq!(values::<i32>(&dot(dot_dims(&[1], &[0], &[], &[]), &ai, &v)), vec![14, 32]);
    // No contraction: outer product, lhs free dims first.
    let o = dot(dot_dims(&[], &[], &[], &[]), &vector(vec![1i64, 2]), &vector(vec![10i64, 20, 30]));
    assert_eq!((o.shape().dims(), values::<i64>(&o)), (&[2, 3][..], vec![10, 20, 30, 20, 40, 60]));
    // Scalars.
    let s = dot(dot_dims(&[], &[], &[], &[]), &Literal::scalar(3.0f64), &Literal::scalar(4.0f64));
    assert_eq!(values::<f64>(&s), vec![12.0]);
}

#[test]
fn dot_general_batch_dims() {
    // Batched matmul [2, 2, 3] x [2, 3, 1].
    let a = lit((1..=12).collect::<Vec<i32>>(), &[2, 2, 3]);
    let b = lit(vec![1i32, 0, -1, 2, 2, 2], &[2, 3, 1]);
    let c = dot(dot_dims(&[2], &[1], &[0], &[0]), &a, &b);
    assert_eq!(c.shape().dims(), &[2, 2, 1]);
    assert_eq!(values::<i32>(&c), vec![1 - 3, 4 - 6, 2 * (7 + 8 + 9), 2 * (10 + 11 + 12)]);
    // Batch dimension last on the rhs, and the result puts batch first, then lhs free, then rhs free.
    // lhs [B=2, M=1, K=2], rhs [K=2, N=3, B=2].
    let lhs = lit(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 1, 2]);
    let rhs_vals: Vec<f64> = (0..12).map(f64::from).collect();
    let rhs = lit(rhs_vals.clone(), &[2, 3, 2]);
    let c = dot(dot_dims(&[2], &[0], &[0], &[2]), &lhs, &rhs);
    assert_eq!(c.shape().dims(), &[2, 1, 3]);
    let r = |k: usize, n: usize, b: usize| rhs_vals[k * 6 + n * 2 + b];
    let l = [[1.0, 2.0], [3.0, 4.0]];
    let mut want = Vec::new();
    for (b, lb) in l.iter().enumerate() {
        for n in 0..3 {
            want.push(lb[0] * r(0, n, b) + lb[1] * r(1, n, b));
        }
    }
    assert_eq!(values::<f64>(&c), want);
}

#[test]
fn dot_general_several_contracting_dims() {
    // lhs [2, 3, 2] contracts dims (1, 2) with rhs [3, 2] dims (0, 1): a Frobenius product per lhs row.
    let lhs = lit((0..12).collect::<Vec<i32>>(), &[2, 3, 2]);
    let rhs = lit(vec![1i32, -1, 2, -2, 3, -3], &[3, 2]);
    let c = dot(dot_dims(&[1, 2], &[0, 1], &[], &[]), &lhs, &rhs);
    let row = |base: i32| (0..6).map(|i| (base + i) * [1, -1, 2, -2, 3, -3][i as usize]).sum::<i32>();
    assert_eq!((c.shape().dims(), values::<i32>(&c)), (&[2][..], vec![row(0), row(6)]));
    // The same pairs listed in the other order give the same sum for integers.
    let c2 = dot(dot_dims(&[2, 1], &[1, 0], &[], &[]), &lhs, &rhs);
    assert_eq!(values::<i32>(&c2), values::<i32>(&c));
    // Contracting pairs whose positions differ between the operands: lhs [2, 3] with rhs [3, 2] contracting
    // lhs (0, 1) with rhs (1, 0) is sum_ij lhs[i, j] * rhs[j, i] = trace(lhs @ rhs).
    let l = lit(vec![1i32, 2, 3, 4, 5, 6], &[2, 3]);
    let r = lit(vec![1i32, 2, 3, 4, 5, 6], &[3, 2]);
    let t = dot(dot_dims(&[0, 1], &[1, 0], &[], &[]), &l, &r);
    assert_eq!(values::<i32>(&t), vec![22 + 64]);
}

#[test]
fn dot_general_accumulation_order_and_wrapping() {
    // Each product is added in turn in f32, in the order of the contracting index.
    let a = vector(vec![1e8f32, 1.0, -1e8, 1.0]);
    let ones = vector(vec![1.0f32; 4]);
    assert_eq!(values::<f32>(&dot(dot_dims(&[0], &[0], &[], &[]), &a, &ones)), vec![1.0]);
    // Row-major over two contracting dims: [[1e8, -1e8], [1, 1]] visits 1e8, -1e8, 1, 1.
    let m = lit(vec![1e8f32, -1e8, 1.0, 1.0], &[2, 2]);
    let m1 = lit(vec![1.0f32; 4], &[2, 2]);
    assert_eq!(values::<f32>(&dot(dot_dims(&[0, 1], &[0, 1], &[], &[]), &m, &m1)), vec![2.0]);
    // Listing the lhs contracting dims as (1, 0) makes dim 1 the outer one: 1e8, 1, -1e8, 1.
    assert_eq!(values::<f32>(&dot(dot_dims(&[1, 0], &[1, 0], &[], &[]), &m, &m1)), vec![1.0]);
    let w = dot(dot_dims(&[0], &[0], &[], &[]), &vector(vec![i32::MAX, 2]), &vector(vec![2i32, 1]));
    assert_eq!(values::<i32>(&w), vec![0]);
    let u = dot(dot_dims(&[0], &[0], &[], &[]), &vector(vec![u32::MAX]), &vector(vec![u32::MAX]));
    assert_eq!(values::<u32>(&u), vec![1]);
}

#[test]
fn dot_general_empty_dims() {
    // Contracting over size 0 gives zeros.
    let a = lit::<f32>(vec![], &[2, 0]);
    let b = lit::<f32>(vec![], &[0, 3]);
    let c = dot(dot_dims(&[1], &[0], &[], &[]), &a, &b);
    assert_eq!((c.shape().dims(), values::<f32>(&c)), (&[2, 3][..], vec![0.0; 6]));
    let c = dot(dot_dims(&[0], &[1], &[], &[]), &b, &a);
    assert_eq!((c.shape().dims(), values::<f32>(&c).len()), (&[3, 2][..], 6));
    let c = dot(dot_dims(&[1], &[0], &[], &[]), &lit::<i32>(vec![], &[0, 2]), &lit(vec![1i32, 2], &[2, 1]));
    assert_eq!(c.shape().dims(), &[0, 1]);
    let err =
        op_error(eval_op(&Op::DotGeneral(dot_dims(&[1], &[0], &[], &[])), &[&vector(vec![true]), &vector(vec![true])]));
    assert_eq!(err.op, "dot_general");
}

// ---------------------------------------------------------------------------------------------------------------
// threefry, stop_gradient, constant, parameter
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn threefry_matches_the_prng_known_answers() {
    let zeros = vector(vec![0u32, 0, 0]);
    let counters = vector(vec![0u32, 1, 2]);
    let out = eval_op(&Op::Threefry2x32, &[&zeros, &zeros, &zeros, &counters]).unwrap();
    assert_eq!(out.len(), 2);
    let (y0, y1) = (values::<u32>(&out[0]), values::<u32>(&out[1]));
    // split(PRNGKey(0), 3)
    assert_eq!((y0[0], y1[0]), (0x6b20_0159, 0x99ba_4efe));
    assert_eq!((y0[1], y1[1]), (0x375f_238f, 0xcddb_151d));
    assert_eq!((y0[2], y1[2]), (0xf71f_4ea9, 0xa20e_4081));
    // random_bits(PRNGKey(0), (3,)) = y0 ^ y1.
    let bits: Vec<u32> = y0.iter().zip(&y1).map(|(a, b)| a ^ b).collect();
    assert_eq!(bits, vec![0xf29a_4fa7, 0xfa84_3692, 0x5511_0e28]);
    let s = Literal::scalar(0u32);
    let out = eval_op(&Op::Threefry2x32, &[&s, &s, &s, &s]).unwrap();
    assert_eq!(out[0].shape(), &Shape::scalar());
    assert!(eval_op(&Op::Threefry2x32, &[&zeros, &zeros, &zeros]).is_err());
    assert!(eval_op(&Op::Threefry2x32, &[&zeros, &zeros, &zeros, &vector(vec![0i32, 1, 2])]).is_err());
}

#[test]
fn identity_like_ops() {
    let x = lit(vec![1.0f32, -0.0, f32::NAN], &[3, 1]);
    let y = eval1(Op::StopGradient, &[&x]);
    assert_eq!(y, x);
    let c = Arc::new(lit(vec![1i32, 2], &[1, 2]));
    assert_eq!(eval1(Op::Constant(c.clone()), &[]), *c);
    let p = Op::Parameter { index: 0, dtype: DType::F32, shape: Shape::from([3, 1]) };
    let err = op_error(eval_op(&p, &[]));
    assert_eq!(err.op, "parameter");
}

#[test]
fn results_too_large_for_memory_are_errors_not_panics() {
    // 2^61 f64 elements pass type inference (the count fits an isize) but not memory.
    let huge = Shape::from([1usize << 31, 1 << 30]);
    let op = Op::BroadcastInDim { shape: huge.clone(), broadcast_dimensions: vec![] };
    let err = op_error(eval_op(&op, &[&Literal::scalar(1.0f64)]));
    assert!(err.message.contains("allocate"), "{}", err.message);
    let op = Op::Iota { dtype: DType::I64, shape: huge.clone(), dimension: 1 };
    assert!(eval_op(&op, &[]).is_err());
    let op = Op::Pad { low: vec![(1 << 31) - 1, (1 << 31) - 1], high: vec![0, 0], interior: vec![0, 0] };
    let err = op_error(eval_op(&op, &[&lit(vec![1u32], &[1, 1]), &Literal::scalar(0u32)]));
    assert!(err.message.contains("allocate"), "{}", err.message);
}

#[test]
fn dot_general_256_cubed_equals_the_textbook_product() {
    // Small integers: every summation order gives the same exact result, so the blocked loops must match exactly.
    let n = 256;
    let a = lit((0..n * n).map(|i| (i % 7) as f32 - 3.0).collect::<Vec<_>>(), &[n, n]);
    let b = lit((0..n * n).map(|i| (i % 5) as f32 - 2.0).collect::<Vec<_>>(), &[n, n]);
    let c = dot(dot_dims(&[1], &[0], &[], &[]), &a, &b);
    let (av, bv, cv) = (values::<f32>(&a), values::<f32>(&b), values::<f32>(&c));
    for i in 0..n {
        for j in 0..n {
            let acc: f32 = (0..n).map(|l| av[i * n + l] * bv[l * n + j]).sum();
            assert_eq!(cv[i * n + j], acc, "element ({i}, {j})");
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// run
// ---------------------------------------------------------------------------------------------------------------

fn ty(dtype: DType, dims: &[usize]) -> TensorType {
    TensorType::new(dtype, dims)
}

#[test]
fn run_evaluates_a_graph() {
    // out0 = sum(x * broadcast(s), axis 1), out1 = x (the parameter itself), out2 = threefry's second result.
    let mut g = Graph::new();
    let x = g.add_parameter(ty(DType::F32, &[2, 3]));
    let s = g.add_parameter(ty(DType::F32, &[]));
    let k = g.add_parameter(ty(DType::U32, &[2]));
    let sb =
        g.add1(Op::BroadcastInDim { shape: Shape::from([2, 3]), broadcast_dimensions: vec![] }, &[s], None).unwrap();
    let m = g.add1(Op::Binary(BinaryOp::Mul), &[x, sb], None).unwrap();
    let r = g.add1(Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[m], None).unwrap();
    let t = g.add(Op::Threefry2x32, &[k, k, k, k], None).unwrap();
    g.set_outputs(vec![r, x, t[1], r]);
    g.verify().unwrap();

    let xv = Arc::new(lit(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]));
    let sv = Arc::new(Literal::scalar(2.0f32));
    let kv = Arc::new(vector(vec![0u32, 1]));
    let out = run(&g, &[xv.clone(), sv, kv]).unwrap();
    assert_eq!(out.len(), 4);
    assert_eq!(values::<f32>(&out[0]), vec![12.0, 30.0]);
    assert!(Arc::ptr_eq(&out[1], &xv));
    let want: Vec<u32> = [0u32, 1].iter().map(|&v| jit_runtime::random::threefry2x32(v, v, v, v).1).collect();
    assert_eq!(values::<u32>(&out[2]), want);
    assert!(Arc::ptr_eq(&out[0], &out[3]));
}

#[test]
fn run_returns_constants_and_handles_empty_graphs() {
    let mut g = Graph::new();
    let c = Arc::new(vector(vec![1i32, 2]));
    let v = g.add1(Op::Constant(c.clone()), &[], None).unwrap();
    g.set_outputs(vec![v]);
    let out = run(&g, &[]).unwrap();
    assert!(Arc::ptr_eq(&out[0], &c));
    let empty = Graph::new();
    assert!(run(&empty, &[]).unwrap().is_empty());
}

#[test]
fn run_checks_inputs_against_parameters() {
    let mut g = Graph::new();
    let a = g.add_parameter(ty(DType::F32, &[2]));
    let b = g.add_parameter(ty(DType::I32, &[]));
    g.set_outputs(vec![a, b]);
    let good = [Arc::new(vector(vec![1.0f32, 2.0])), Arc::new(Literal::scalar(1i32))];
    assert!(run(&g, &good).is_ok());

    let msg = run(&g, &good[..1]).unwrap_err().to_string();
    assert!(msg.contains("2 parameter") && msg.contains("1 input"), "{msg}");
    let msg = run(&g, &[good[0].clone(), Arc::new(Literal::scalar(1.0f32))]).unwrap_err().to_string();
    assert!(msg.contains("parameter 1") && msg.contains("i32[]") && msg.contains("f32[]"), "{msg}");
    let msg = run(&g, &[Arc::new(vector(vec![1.0f32, 2.0, 3.0])), good[1].clone()]).unwrap_err().to_string();
    assert!(msg.contains("parameter 0") && msg.contains("f32[2]") && msg.contains("f32[3]"), "{msg}");
    assert!(matches!(run(&g, &[]), Err(Error::InvalidArgument(_))));
}

#[test]
fn run_matches_eval_op_step_by_step() {
    // y = exp(x) - integer_pow(x, 2); z = max(y, rev(y)); out = (z, argmax(z))
    let mut g = Graph::new();
    let x = g.add_parameter(ty(DType::F64, &[4]));
    let e = g.add1(Op::Unary(UnaryOp::Exp), &[x], None).unwrap();
    let p = g.add1(Op::IntegerPow { exponent: 2 }, &[x], None).unwrap();
    let y = g.add1(Op::Binary(BinaryOp::Sub), &[e, p], None).unwrap();
    let r = g.add1(Op::Rev { dimensions: vec![0] }, &[y], None).unwrap();
    let z = g.add1(Op::Binary(BinaryOp::Max), &[y, r], None).unwrap();
    let a = g.add1(Op::ArgReduce { op: ArgReduceOp::ArgMax, axis: 0, index_dtype: DType::I32 }, &[z], None).unwrap();
    g.set_outputs(vec![z, a]);
    let xv = vector(vec![0.5f64, -1.0, 2.0, 0.0]);
    let out = run(&g, &[Arc::new(xv.clone())]).unwrap();

    let e = eval1(Op::Unary(UnaryOp::Exp), &[&xv]);
    let p = eval1(Op::IntegerPow { exponent: 2 }, &[&xv]);
    let y = eval1(Op::Binary(BinaryOp::Sub), &[&e, &p]);
    let r = eval1(Op::Rev { dimensions: vec![0] }, &[&y]);
    let z = eval1(Op::Binary(BinaryOp::Max), &[&y, &r]);
    let a = eval1(Op::ArgReduce { op: ArgReduceOp::ArgMax, axis: 0, index_dtype: DType::I32 }, &[&z]);
    assert_eq!(*out[0], z);
    assert_eq!(*out[1], a);
}
