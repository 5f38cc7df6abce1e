//! The `Tensor` API op by op, eagerly, against values computed by hand or directly in Rust: operators and weak
//! scalars, numpy broadcasting, rank-0 and empty tensors, every composite, reductions, arg-reductions and the
//! data-movement ops.

use jit_runtime::{DType, Element, Tensor, where_};

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

/// The elements, or a panic that shows the tensor's error.
#[track_caller]
fn vals<T: Element>(t: &Tensor) -> Vec<T> {
    match t.to_vec::<T>() {
        Ok(v) => v,
        Err(e) => panic!("expected {} values, got error: {e}", T::DTYPE),
    }
}

/// The message of the error the tensor carries (a panic when it has none).
#[track_caller]
fn err(t: &Tensor) -> String {
    match t.to_array() {
        Ok(a) => panic!("expected an error, got {a}"),
        Err(e) => e.to_string(),
    }
}

#[track_caller]
fn assert_close(got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "lengths differ: got {got:?}, want {want:?}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = (g as f64 - w).abs() <= tol * (1.0 + w.abs()) || (g.is_nan() && w.is_nan()) || g as f64 == w;
        assert!(ok, "element {i}: got {g}, want {w} (all: {got:?} vs {want:?})");
    }
}

#[track_caller]
fn assert_close64(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "element {i}: got {g}, want {w}");
    }
}

fn f32s(v: &[f32], dims: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), dims)
}

fn i32s(v: &[i32], dims: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), dims)
}

/// `0, 1, ..., n-1` as f32 in `dims`.
fn iota_f32(dims: &[usize]) -> Tensor {
    let n: usize = dims.iter().product();
    Tensor::from_vec((0..n).map(|i| i as f32).collect::<Vec<_>>(), dims)
}

// ---------------------------------------------------------------------------------------------------------------
// Construction
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn constructors() {
    let z = Tensor::zeros(DType::I32, [2, 2]);
    assert_eq!(z.dims(), &[2, 2]);
    assert_eq!(vals::<i32>(&z), vec![0; 4]);
    assert_eq!(vals::<f64>(&Tensor::ones(DType::F64, [3])), vec![1.0; 3]);
    assert_eq!(vals::<f32>(&Tensor::full(DType::F32, [2], 2.5)), vec![2.5, 2.5]);
    assert_eq!(vals::<u32>(&Tensor::arange(4, DType::U32)), vec![0, 1, 2, 3]);
    assert_eq!(vals::<i32>(&Tensor::iota(DType::I32, [2, 3], 1)), vec![0, 1, 2, 0, 1, 2]);
    assert_eq!(vals::<i32>(&Tensor::iota(DType::I32, [2, 3], 0)), vec![0, 0, 0, 1, 1, 1]);
    assert!(err(&Tensor::iota(DType::I32, [2, 3], 2)).contains("iota"));
    assert_eq!(vals::<bool>(&Tensor::vector(&[true, false])), vec![true, false]);
    assert_eq!(vals::<f32>(&Tensor::scalar_of(DType::F32, 1.5)), vec![1.5]);
    assert_eq!(vals::<i32>(&Tensor::scalar_of(DType::I32, 2.9)), vec![2]);
    // A vector whose length does not match the shape is an error tensor, not a panic.
    let bad = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [2, 2]);
    assert!(bad.error().is_some());
    assert!(bad.to_array().is_err());
}

#[test]
fn metadata() {
    let x = iota_f32(&[2, 3, 4]);
    assert_eq!(x.dtype(), DType::F32);
    assert_eq!(x.rank(), 3);
    assert_eq!(x.numel(), 24);
    assert_eq!(x.ty().to_string(), "f32[2,3,4]");
    assert!(!x.is_traced());
    assert!(x.error().is_none());
}

// ---------------------------------------------------------------------------------------------------------------
// Operators and weak scalars
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn tensor_operators() {
    let a = f32s(&[1.0, 2.0, 3.0, 4.0], &[4]);
    let b = f32s(&[0.5, -1.0, 2.0, 8.0], &[4]);
    assert_eq!(vals::<f32>(&(&a + &b)), vec![1.5, 1.0, 5.0, 12.0]);
    assert_eq!(vals::<f32>(&(&a - &b)), vec![0.5, 3.0, 1.0, -4.0]);
    assert_eq!(vals::<f32>(&(&a * &b)), vec![0.5, -2.0, 6.0, 32.0]);
    assert_eq!(vals::<f32>(&(&a / &b)), vec![2.0, -2.0, 1.5, 0.5]);
    assert_eq!(vals::<f32>(&(&a % &b)), vec![0.0, 0.0, 1.0, 4.0]);
    assert_eq!(vals::<f32>(&(-&a)), vec![-1.0, -2.0, -3.0, -4.0]);
    // Owned forms.
    assert_eq!(vals::<f32>(&(a.clone() + b.clone())), vec![1.5, 1.0, 5.0, 12.0]);
    assert_eq!(vals::<f32>(&(a.clone() - &b)), vec![0.5, 3.0, 1.0, -4.0]);
    assert_eq!(vals::<f32>(&(&a * b.clone())), vec![0.5, -2.0, 6.0, 32.0]);
    assert_eq!(vals::<f32>(&(-a.clone())), vec![-1.0, -2.0, -3.0, -4.0]);

    let p = Tensor::vector(&[true, true, false, false]);
    let q = Tensor::vector(&[true, false, true, false]);
    assert_eq!(vals::<bool>(&(&p & &q)), vec![true, false, false, false]);
    assert_eq!(vals::<bool>(&(&p | &q)), vec![true, true, true, false]);
    assert_eq!(vals::<bool>(&(&p ^ &q)), vec![false, true, true, false]);
    assert_eq!(vals::<bool>(&!&p), vec![false, false, true, true]);

    let i = i32s(&[12, -7, 5], &[3]);
    let j = i32s(&[10, 3, 5], &[3]);
    assert_eq!(vals::<i32>(&(&i & &j)), vec![8, 1, 5]);
    assert_eq!(vals::<i32>(&(&i | &j)), vec![14, -5, 5]);
    assert_eq!(vals::<i32>(&!&i), vec![!12, !-7, !5]);
    // Integer division truncates toward zero, remainder has the dividend's sign.
    assert_eq!(vals::<i32>(&(&i / &j)), vec![1, -2, 1]);
    assert_eq!(vals::<i32>(&(&i % &j)), vec![2, -1, 0]);
}

#[test]
fn weak_scalars_keep_the_tensor_dtype() {
    // f64 tensor * 2.0 stays f64 (no narrowing to f32).
    let x64 = Tensor::from_vec(vec![0.1f64, 1.0 / 3.0], [2]);
    let y = &x64 * 2.0;
    assert_eq!(y.dtype(), DType::F64);
    assert_eq!(vals::<f64>(&y), vec![0.2, 2.0 / 3.0]);
    assert_eq!((&x64 * 2.0f32).dtype(), DType::F64);
    assert_eq!((&x64 + 1i32).dtype(), DType::F64);

    // f32 tensor with an f64 number stays f32.
    let x32 = f32s(&[1.0, 2.0], &[2]);
    let y = &x32 * 0.1f64;
    assert_eq!(y.dtype(), DType::F32);
    assert_eq!(vals::<f32>(&y), vec![0.1f32, 0.2f32]);

    // i32 + 1 stays i32; i32 * 0.5 becomes f32 (never a truncated integer).
    let i = i32s(&[1, 2, 3], &[3]);
    let y = &i + 1;
    assert_eq!(y.dtype(), DType::I32);
    assert_eq!(vals::<i32>(&y), vec![2, 3, 4]);
    let y = &i * 0.5;
    assert_eq!(y.dtype(), DType::F32);
    assert_eq!(vals::<f32>(&y), vec![0.5, 1.0, 1.5]);
    assert_eq!((&i * 0.5f32).dtype(), DType::F32);
    // An i64 number next to an i32 tensor stays i32.
    assert_eq!((&i * 3i64).dtype(), DType::I32);
    assert_eq!(vals::<i32>(&(&i * 3i64)), vec![3, 6, 9]);
    let u = Tensor::vector(&[1u32, 2]);
    assert_eq!((&u + 1u32).dtype(), DType::U32);

    // bool: an integer number makes i32, a float number f32.
    let b = Tensor::vector(&[true, false]);
    assert_eq!(vals::<i32>(&(&b + 1)), vec![2, 1]);
    assert_eq!(vals::<f32>(&(&b * 0.5)), vec![0.5, 0.0]);
}

#[test]
fn scalar_on_the_left_keeps_operand_order() {
    let x = f32s(&[1.0, 2.0, 4.0], &[3]);
    assert_eq!(vals::<f32>(&(1.0 - &x)), vec![0.0, -1.0, -3.0]);
    assert_eq!(vals::<f32>(&(8.0 / &x)), vec![8.0, 4.0, 2.0]);
    assert_eq!(vals::<f32>(&(&x - 1.0)), vec![0.0, 1.0, 3.0]);
    assert_eq!(vals::<f32>(&(&x / 8.0)), vec![0.125, 0.25, 0.5]);
    assert_eq!(vals::<f32>(&(2.0 * x.clone())), vec![2.0, 4.0, 8.0]);
    assert_eq!(vals::<f32>(&(x.clone() + 0.5)), vec![1.5, 2.5, 4.5]);
    let i = i32s(&[1, 2, 3], &[3]);
    assert_eq!(vals::<i32>(&(10 - &i)), vec![9, 8, 7]);
    assert_eq!(vals::<i32>(&(7 % &i)), vec![0, 1, 1]);
    let half: Tensor = 1.0 / &i; // number-on-the-left impls exist per number type: name the result type
    assert_eq!(half.dtype(), DType::F32);
    assert_close(&vals::<f32>(&half), &[1.0, 0.5, 1.0 / 3.0], 1e-7);
}

#[test]
fn scalar_methods() {
    let x = f32s(&[-1.0, 0.5, 3.0], &[3]);
    assert_eq!(vals::<f32>(&x.add_scalar(1.0)), vec![0.0, 1.5, 4.0]);
    assert_eq!(vals::<f32>(&x.mul_scalar(2)), vec![-2.0, 1.0, 6.0]);
    assert_eq!(vals::<f32>(&x.maximum_scalar(0.0)), vec![0.0, 0.5, 3.0]);
    assert_eq!(vals::<f32>(&x.minimum_scalar(1.0)), vec![-1.0, 0.5, 1.0]);
    assert_eq!(i32s(&[1], &[1]).mul_scalar(1.5).dtype(), DType::F32);
}

#[test]
fn binary_methods() {
    let a = f32s(&[1.0, 4.0, -2.0], &[3]);
    let b = f32s(&[2.0, 3.0, -2.0], &[3]);
    assert_eq!(vals::<f32>(&a.maximum(&b)), vec![2.0, 4.0, -2.0]);
    assert_eq!(vals::<f32>(&a.minimum(&b)), vec![1.0, 3.0, -2.0]);
    assert_eq!(vals::<f32>(&a.pow(&f32s(&[3.0, 0.5, 2.0], &[3]))), vec![1.0, 2.0, 4.0]);
    assert_eq!(vals::<bool>(&a.equal(&b)), vec![false, false, true]);
    assert_eq!(vals::<bool>(&a.not_equal(&b)), vec![true, true, false]);
    assert_eq!(vals::<bool>(&a.less(&b)), vec![true, false, false]);
    assert_eq!(vals::<bool>(&a.less_equal(&b)), vec![true, false, true]);
    assert_eq!(vals::<bool>(&a.greater(&b)), vec![false, true, false]);
    assert_eq!(vals::<bool>(&a.greater_equal(&b)), vec![false, true, true]);
    assert_close(&vals::<f32>(&f32s(&[1.0], &[1]).atan2(&f32s(&[1.0], &[1]))), &[std::f64::consts::FRAC_PI_4], 1e-6);
    let i = i32s(&[1, -8, 3], &[3]);
    let s = i32s(&[2, 1, 0], &[3]);
    assert_eq!(vals::<i32>(&i.shift_left(&s)), vec![4, -16, 3]);
    assert_eq!(vals::<i32>(&i.shift_right_arithmetic(&s)), vec![0, -4, 3]);
    assert_eq!(vals::<i32>(&i.shift_right_logical(&s)), vec![0, ((-8i32 as u32) >> 1) as i32, 3]);
    assert_eq!(vals::<i32>(&i.and(&s)), vec![0, 0, 0]);
    assert_eq!(vals::<i32>(&i.or(&s)), vec![3, -7, 3]);
    assert_eq!(vals::<i32>(&i.xor(&s)), vec![3, -7, 3]);
    assert_eq!(vals::<i32>(&i.rem(&i32s(&[1, 3, 2], &[3]))), vec![0, -2, 1]);
    assert_eq!(vals::<i32>(&i.sub(&s)), vec![-1, -9, 3]);
    assert_eq!(vals::<i32>(&i.div(&i32s(&[1, 3, 2], &[3]))), vec![1, -2, 1]);
    assert_eq!(vals::<i32>(&i.add(&s).mul(&s)), vec![6, -7, 0]);
}

#[test]
fn unary_methods_match_std() {
    let xs = [0.25f32, 0.5, 1.0, 2.5];
    let x = f32s(&xs, &[4]);
    let check = |t: Tensor, f: fn(f64) -> f64, tol: f64| {
        let want: Vec<f64> = xs.iter().map(|&v| f(v as f64)).collect();
        assert_close(&vals::<f32>(&t), &want, tol);
    };
    check(x.exp(), f64::exp, 1e-6);
    check(x.expm1(), f64::exp_m1, 1e-6);
    check(x.log(), f64::ln, 1e-6);
    check(x.log1p(), f64::ln_1p, 1e-6);
    check(x.sqrt(), f64::sqrt, 1e-6);
    check(x.rsqrt(), |v| 1.0 / v.sqrt(), 1e-6);
    check(x.tanh(), f64::tanh, 1e-6);
    check(x.logistic(), |v| 1.0 / (1.0 + (-v).exp()), 1e-6);
    check(x.sigmoid(), |v| 1.0 / (1.0 + (-v).exp()), 1e-6);
    check(x.sin(), f64::sin, 1e-6);
    check(x.cos(), f64::cos, 1e-6);
    check(x.erf(), libm::erf, 1e-6);
    check(x.square(), |v| v * v, 0.0);
    check(x.integer_pow(3), |v| v * v * v, 1e-7);
    check(x.integer_pow(-1), |v| 1.0 / v, 1e-7);
    check(x.stop_gradient(), |v| v, 0.0);
    let p = f32s(&[-0.5, 0.0, 0.25, 0.9], &[4]);
    let back = p.erf_inv().erf();
    assert_close(&vals::<f32>(&back), &[-0.5, 0.0, 0.25, 0.9], 1e-5);

    let y = f32s(&[-2.5, -0.5, 0.5, 1.5, -0.0], &[5]);
    assert_eq!(vals::<f32>(&y.abs()), vec![2.5, 0.5, 0.5, 1.5, 0.0]);
    assert_eq!(vals::<f32>(&y.neg()), vec![2.5, 0.5, -0.5, -1.5, 0.0]);
    assert_eq!(vals::<f32>(&y.floor()), vec![-3.0, -1.0, 0.0, 1.0, -0.0]);
    assert_eq!(vals::<f32>(&y.ceil()), vec![-2.0, -0.0, 1.0, 2.0, -0.0]);
    // lax.round: half away from zero.
    assert_eq!(vals::<f32>(&y.round()), vec![-3.0, -1.0, 1.0, 2.0, -0.0]);
    assert_eq!(vals::<f32>(&y.sign()), vec![-1.0, -1.0, 1.0, 1.0, -0.0]);
    assert_eq!(vals::<i32>(&i32s(&[-3, 0, 4], &[3]).sign()), vec![-1, 0, 1]);
    assert_eq!(vals::<i32>(&i32s(&[-3, 0, 4], &[3]).abs()), vec![3, 0, 4]);
    assert_eq!(vals::<bool>(&Tensor::vector(&[true, false]).not()), vec![false, true]);
}

#[test]
fn float_only_unary_ops_reject_integers() {
    let i = i32s(&[1, 2], &[2]);
    let e = err(&i.exp());
    assert!(e.contains("exp") && e.contains("i32[2]"), "{e}");
    let e = err(&f32s(&[1.0], &[1]).not());
    assert!(e.contains("not") && e.contains("f32[1]"), "{e}");
}

// ---------------------------------------------------------------------------------------------------------------
// Broadcasting
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn broadcast_column_plus_row() {
    let col = f32s(&[0.0, 10.0, 20.0], &[3, 1]);
    let row = f32s(&[1.0, 2.0, 3.0, 4.0], &[1, 4]);
    let s = &col + &row;
    assert_eq!(s.dims(), &[3, 4]);
    assert_eq!(vals::<f32>(&s), vec![1.0, 2.0, 3.0, 4.0, 11.0, 12.0, 13.0, 14.0, 21.0, 22.0, 23.0, 24.0]);
    // Symmetric.
    assert_eq!(vals::<f32>(&(&row + &col)), vals::<f32>(&s));
}

#[test]
fn broadcast_scalar_tensor_and_ranks() {
    let s = Tensor::scalar(2.0f32);
    let m = iota_f32(&[2, 3]);
    let p = &s * &m;
    assert_eq!(p.dims(), &[2, 3]);
    assert_eq!(vals::<f32>(&p), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    assert_eq!(vals::<f32>(&(&m - &s)), vec![-2.0, -1.0, 0.0, 1.0, 2.0, 3.0]);
    // Rank 1 against rank 3: trailing dimensions align.
    let v = f32s(&[100.0, 200.0], &[2]);
    let t = iota_f32(&[2, 1, 2]);
    let r = &t + &v;
    assert_eq!(r.dims(), &[2, 1, 2]);
    assert_eq!(vals::<f32>(&r), vec![100.0, 201.0, 102.0, 203.0]);
}

#[test]
fn broadcast_with_empty_dimensions() {
    let e = Tensor::zeros(DType::F32, [0, 3]);
    let v = f32s(&[1.0, 2.0, 3.0], &[3]);
    let r = &e + &v;
    assert_eq!(r.dims(), &[0, 3]);
    assert_eq!(vals::<f32>(&r), Vec::<f32>::new());
    let r = &Tensor::zeros(DType::F32, [0]) + &f32s(&[5.0], &[1]);
    assert_eq!(r.dims(), &[0]);
    // 0 and 3 do not broadcast (only 1 does).
    let bad = &Tensor::zeros(DType::F32, [0]) + &v;
    let m = err(&bad);
    assert!(m.contains("add") && m.contains("f32[0]") && m.contains("f32[3]"), "{m}");
}

#[test]
fn incompatible_shapes_are_errors() {
    let a = Tensor::zeros(DType::F32, [2, 3]);
    let b = Tensor::zeros(DType::F32, [3, 2]);
    let bad = &a * &b;
    let m = err(&bad);
    assert!(m.contains("mul") && m.contains("f32[2,3]") && m.contains("f32[3,2]"), "{m}");
    assert!(m.contains("do not broadcast"), "{m}");
    // An error passes through later ops unchanged, also through ops that check axes or shapes first.
    let later = (bad.exp().sum(-1) + 1.0).softmax(1).argmax(-1).expand_dims(2).slice_axis(3, 0, 1);
    assert_eq!(err(&later), m);
    let later = Tensor::concatenate(&[bad.clone(), a.clone()], 5).matmul(&a).logsumexp(4).mean(7).var(2);
    assert_eq!(err(&later), m);
    assert_eq!(err(&a.matmul(&bad)), m);
    assert_eq!(err(&where_(&bad, &a, &a)), m);
}

#[test]
fn broadcast_shapes_function() {
    use jit_runtime::Shape;
    use jit_runtime::trace::broadcast_shapes;
    let s = |d: &[usize]| Shape::from(d);
    assert_eq!(broadcast_shapes(&s(&[3, 1]), &s(&[1, 4])), Some(s(&[3, 4])));
    assert_eq!(broadcast_shapes(&s(&[]), &s(&[2, 3])), Some(s(&[2, 3])));
    assert_eq!(broadcast_shapes(&s(&[0, 3]), &s(&[3])), Some(s(&[0, 3])));
    assert_eq!(broadcast_shapes(&s(&[5, 1, 2]), &s(&[4, 1])), Some(s(&[5, 4, 2])));
    assert_eq!(broadcast_shapes(&s(&[2]), &s(&[3])), None);
    assert_eq!(broadcast_shapes(&s(&[0]), &s(&[2])), None);
}

#[test]
fn broadcast_to_and_in_dim() {
    let v = f32s(&[1.0, 2.0], &[2]);
    let b = v.broadcast_to([3, 2]);
    assert_eq!(b.dims(), &[3, 2]);
    assert_eq!(vals::<f32>(&b), vec![1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
    let c = v.broadcast_in_dim([2, 3], &[0]);
    assert_eq!(vals::<f32>(&c), vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    let m = err(&v.broadcast_to([3]));
    assert!(m.contains("broadcast") && m.contains("f32[2]") && m.contains("[3]"), "{m}");
    let m = err(&iota_f32(&[2, 2]).broadcast_to([4]));
    assert!(m.contains("broadcast") && m.contains("f32[2,2]"), "{m}");
}

// ---------------------------------------------------------------------------------------------------------------
// Rank-0 and empty tensors
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn rank_zero_tensors() {
    let x = Tensor::scalar(3.0f32);
    assert_eq!(x.rank(), 0);
    assert_eq!(x.dims(), &[] as &[usize]);
    let y = (&x * &x + 1.0).sqrt();
    assert_eq!(y.rank(), 0);
    assert_close(&vals::<f32>(&y), &[10f64.sqrt()], 1e-6);
    assert_eq!(vals::<f32>(&x.sum(jit_runtime::Axes::All)), vec![3.0]);
    assert_eq!(x.sum(jit_runtime::Axes::All).rank(), 0);
    assert_eq!(vals::<f32>(&x.reshape([1, 1])), vec![3.0]);
    assert_eq!(x.reshape([1, 1]).dims(), &[1, 1]);
    assert_eq!(x.expand_dims(0).dims(), &[1]);
    assert_eq!(x.flatten().dims(), &[1]);
    assert_eq!(x.t().rank(), 0);
    let m = err(&x.argmax(0));
    assert!(m.contains("argmax") && m.contains("rank 0"), "{m}");
    let m = err(&x.sum(0));
    assert!(m.contains("reduce_sum") && m.contains("out of range"), "{m}");
    let m = err(&x.matmul(&x));
    assert!(m.contains("matmul") && m.contains("rank"), "{m}");
}

#[test]
fn empty_tensors() {
    let e = Tensor::zeros(DType::F32, [2, 0]);
    assert_eq!(e.numel(), 0);
    assert_eq!(vals::<f32>(&e.exp()), Vec::<f32>::new());
    // Reductions over an empty axis give the identity.
    assert_eq!(vals::<f32>(&e.sum(1)), vec![0.0, 0.0]);
    assert_eq!(vals::<f32>(&e.prod(1)), vec![1.0, 1.0]);
    assert_eq!(vals::<f32>(&e.max(1)), vec![f32::NEG_INFINITY; 2]);
    assert_eq!(vals::<f32>(&e.min(1)), vec![f32::INFINITY; 2]);
    assert_eq!(e.sum(0).dims(), &[0]);
    assert_eq!(e.reshape([0, 5]).dims(), &[0, 5]);
    assert_eq!(e.t().dims(), &[0, 2]);
    // argmax of an empty axis has no answer.
    let m = err(&e.argmax(1));
    assert!(m.contains("argmax") && m.contains("empty"), "{m}");
    // Concatenating an empty tensor changes nothing.
    let x = iota_f32(&[2, 2]);
    let c = Tensor::concatenate(&[x.clone(), e], 1);
    assert_eq!(c.dims(), &[2, 2]);
    assert_eq!(vals::<f32>(&c), vals::<f32>(&x));
    // A matrix product with an empty inner dimension is zeros.
    let p = Tensor::zeros(DType::F32, [2, 0]).matmul(&Tensor::zeros(DType::F32, [0, 3]));
    assert_eq!(p.dims(), &[2, 3]);
    assert_eq!(vals::<f32>(&p), vec![0.0; 6]);
}

// ---------------------------------------------------------------------------------------------------------------
// Composites
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn relu() {
    let x = f32s(&[-2.0, -0.0, 0.5, 3.0], &[4]);
    assert_eq!(vals::<f32>(&x.relu()), vec![0.0, 0.0, 0.5, 3.0]);
    assert_eq!(x.relu().dtype(), DType::F32);
    let i = i32s(&[-1, 4], &[2]);
    assert_eq!(i.relu().dtype(), DType::I32);
    assert_eq!(vals::<i32>(&i.relu()), vec![0, 4]);
    let d = Tensor::from_vec(vec![-1.0f64, 2.0], [2]);
    assert_eq!(d.relu().dtype(), DType::F64);
}

#[test]
fn softmax_rows_sum_to_one_and_match_exp_over_sum() {
    let data = [1.0f32, 2.0, 3.0, -1.0, 0.0, 1000.0, 5.0, 5.0, 5.0];
    let x = f32s(&data, &[3, 3]);
    let s = x.softmax(-1);
    assert_eq!(s.dims(), &[3, 3]);
    let got = vals::<f32>(&s);
    for r in 0..3 {
        let row = &data[3 * r..3 * r + 3];
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, |a, b| a.max(b as f64));
        let e: Vec<f64> = row.iter().map(|&v| (v as f64 - m).exp()).collect();
        let sum: f64 = e.iter().sum();
        let want: Vec<f64> = e.iter().map(|v| v / sum).collect();
        assert_close(&got[3 * r..3 * r + 3], &want, 1e-6);
        let total: f32 = got[3 * r..3 * r + 3].iter().sum();
        assert!((total - 1.0).abs() < 1e-6, "row {r} sums to {total}");
    }
    // Along axis 0: columns sum to one.
    let c = vals::<f32>(&x.softmax(0));
    for col in 0..3 {
        let total: f32 = (0..3).map(|r| c[3 * r + col]).sum();
        assert!((total - 1.0).abs() < 1e-6, "column {col} sums to {total}");
    }
    assert!(err(&x.softmax(2)).contains("out of range"));
}

#[test]
fn log_softmax_matches_direct_formula() {
    let data = [0.5f32, -1.5, 2.0, 10.0, 10.0, -30.0];
    let x = f32s(&data, &[2, 3]);
    let got = vals::<f32>(&x.log_softmax(1));
    for r in 0..2 {
        let row = &data[3 * r..3 * r + 3];
        let lse = row.iter().map(|&v| (v as f64).exp()).sum::<f64>().ln();
        let want: Vec<f64> = row.iter().map(|&v| v as f64 - lse).collect();
        assert_close(&got[3 * r..3 * r + 3], &want, 1e-6);
    }
    // exp(log_softmax) == softmax
    let a = vals::<f32>(&x.log_softmax(-1).exp());
    let b: Vec<f64> = vals::<f32>(&x.softmax(-1)).iter().map(|&v| v as f64).collect();
    assert_close(&a, &b, 1e-6);
}

#[test]
fn logsumexp_values_and_infinities() {
    let data = [1.0f32, 2.0, 3.0, 100.0, 100.0, 100.0];
    let x = f32s(&data, &[2, 3]);
    let got = vals::<f32>(&x.logsumexp(-1));
    let lse = |row: &[f32]| {
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, |a, b| a.max(b as f64));
        m + row.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln()
    };
    assert_close(&got, &[lse(&data[..3]), lse(&data[3..])], 1e-6);
    assert_eq!(x.logsumexp(-1).dims(), &[2]);
    // Over every axis.
    let all = x.logsumexp(jit_runtime::Axes::All);
    assert_eq!(all.rank(), 0);
    assert_close(&vals::<f32>(&all), &[lse(&data)], 1e-6);
    // Over axis 0.
    assert_close(&vals::<f32>(&x.logsumexp(0)), &[lse(&[1.0, 100.0]), lse(&[2.0, 100.0]), lse(&[3.0, 100.0])], 1e-6);

    let inf = f32::INFINITY;
    let rows = f32s(&[-inf, -inf, -inf, inf, 1.0, 2.0, -inf, 0.0, -inf, inf, -inf, 0.0], &[4, 3]);
    let got = vals::<f32>(&rows.logsumexp(1));
    assert_eq!(got[0], f32::NEG_INFINITY, "all -inf gives -inf, not NaN: {got:?}");
    assert_eq!(got[1], f32::INFINITY, "+inf dominates: {got:?}");
    assert_eq!(got[2], 0.0, "-inf entries contribute nothing: {got:?}");
    assert_eq!(got[3], f32::INFINITY, "+inf with -inf is +inf: {got:?}");
    assert!(err(&x.logsumexp(3)).contains("out of range"));
}

#[test]
fn gelu_matches_tanh_formula() {
    let xs = [-3.0f32, -1.0, -0.1, 0.0, 0.3, 1.0, 2.5];
    let x = f32s(&xs, &[7]);
    let want: Vec<f64> = xs
        .iter()
        .map(|&v| {
            let v = v as f64;
            0.5 * v * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (v + 0.044715 * v * v * v)).tanh())
        })
        .collect();
    assert_close(&vals::<f32>(&x.gelu()), &want, 1e-6);
    assert_eq!(x.gelu().dtype(), DType::F32);
    let x64 = Tensor::from_vec(xs.iter().map(|&v| v as f64).collect::<Vec<_>>(), [7]);
    assert_eq!(x64.gelu().dtype(), DType::F64);
    assert_close64(&vals::<f64>(&x64.gelu()), &want, 1e-12);
    // Op for op JAX's definition, so the bits match.
    let many = Tensor::from_vec((0..2000).map(|i| (i as f32 - 1000.0) * 0.00731).collect::<Vec<_>>(), [2000]);
    let c = (2.0 / std::f64::consts::PI).sqrt();
    // jax.nn.gelu: `cdf = 0.5 * (1.0 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))); return x * cdf`.
    let inner: Tensor = c * (&many + 0.044715 * many.integer_pow(3));
    let cdf: Tensor = 0.5 * (1.0 + inner.tanh());
    let bits = |t: &Tensor| vals::<f32>(t).iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&many.gelu()), bits(&(&many * &cdf)));
}

#[test]
fn gelu_exact_matches_erfc_formula() {
    let xs = [-3.0f32, -1.0, -0.1, 0.0, 0.3, 1.0, 2.5];
    let x = f32s(&xs, &[7]);
    let want: Vec<f64> =
        xs.iter().map(|&v| v as f64 * (1.0 + libm::erf(v as f64 / std::f64::consts::SQRT_2)) / 2.0).collect();
    assert_close(&vals::<f32>(&x.gelu_exact()), &want, 1e-6);
    let x64 = Tensor::from_vec(xs.iter().map(|&v| v as f64).collect::<Vec<_>>(), [7]);
    assert_close64(&vals::<f64>(&x64.gelu_exact()), &want, 1e-12);
    // Op for op JAX's definition, so the bits match: `0.5 * x * erfc(-x * sqrt(1/2))`.
    let many = Tensor::from_vec((0..2000).map(|i| (i as f32 - 1000.0) * 0.00731).collect::<Vec<_>>(), [2000]);
    let jax = 0.5 * &many * (-&many * std::f64::consts::FRAC_1_SQRT_2).erfc();
    let bits = |t: &Tensor| vals::<f32>(t).iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&many.gelu_exact()), bits(&jax));
    // The two GELUs agree to about 1e-3.
    let a = vals::<f32>(&x.gelu());
    let b = vals::<f32>(&x.gelu_exact());
    assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 2e-3), "{a:?} vs {b:?}");
}

#[test]
fn mean_and_var() {
    let data = [1.0f32, 2.0, 3.0, 4.0, 10.0, 20.0];
    let x = f32s(&data, &[2, 3]);
    assert_close(&vals::<f32>(&x.mean(jit_runtime::Axes::All)), &[40.0 / 6.0], 1e-7);
    assert_eq!(vals::<f32>(&x.mean(1)), vec![2.0, 34.0 / 3.0]);
    assert_eq!(vals::<f32>(&x.mean(0)), vec![2.5, 6.0, 11.5]);
    assert_eq!(x.mean_keepdims(1).dims(), &[2, 1]);
    assert_eq!(x.mean_keepdims(-2).dims(), &[1, 3]);
    // Population variance.
    let var = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
    };
    assert_close(&vals::<f32>(&x.var(1)), &[var(&[1.0, 2.0, 3.0]), var(&[4.0, 10.0, 20.0])], 1e-6);
    assert_close(&vals::<f32>(&x.var(0)), &[var(&[1.0, 4.0]), var(&[2.0, 10.0]), var(&[3.0, 20.0])], 1e-6);
    assert_close(
        &vals::<f32>(&x.var(jit_runtime::Axes::All)),
        &[var(&data.iter().map(|&v| v as f64).collect::<Vec<_>>())],
        1e-6,
    );
    // Integer input gives f32 (as jnp.mean / jnp.var).
    let i = i32s(&[1, 2, 3, 4], &[4]);
    assert_eq!(i.mean(0).dtype(), DType::F32);
    assert_eq!(vals::<f32>(&i.mean(0)), vec![2.5]);
    assert_eq!(i.var(0).dtype(), DType::F32);
    assert_eq!(vals::<f32>(&i.var(0)), vec![1.25]);
    // f64 stays f64.
    let d = Tensor::from_vec(vec![0.1f64, 0.2, 0.4], [3]);
    assert_eq!(d.mean(0).dtype(), DType::F64);
    assert_close64(&vals::<f64>(&d.mean(0)), &[0.7 / 3.0], 1e-15);
    assert!(err(&x.mean(2)).contains("mean"));
}

#[test]
fn one_hot_including_out_of_range_labels() {
    let labels = i32s(&[0, 2, 3, -1, 1], &[5]);
    let o = labels.one_hot(3, DType::F32);
    assert_eq!(o.dims(), &[5, 3]);
    assert_eq!(o.dtype(), DType::F32);
    #[rustfmt::skip]
    assert_eq!(vals::<f32>(&o), vec![
        1.0, 0.0, 0.0,
        0.0, 0.0, 1.0,
        0.0, 0.0, 0.0, // 3 is out of range
        0.0, 0.0, 0.0, // -1 is out of range
        0.0, 1.0, 0.0,
    ]);
    // Rank 2 labels get a new last axis; other dtypes.
    let l2 = i32s(&[1, 0, 0, 1], &[2, 2]);
    let o2 = l2.one_hot(2, DType::I32);
    assert_eq!(o2.dims(), &[2, 2, 2]);
    assert_eq!(vals::<i32>(&o2), vec![0, 1, 1, 0, 1, 0, 0, 1]);
    assert_eq!(vals::<bool>(&i32s(&[1], &[1]).one_hot(2, DType::Bool)), vec![false, true]);
    // Scalar label.
    let s = Tensor::scalar(1i32).one_hot(3, DType::F32);
    assert_eq!(s.dims(), &[3]);
    assert_eq!(vals::<f32>(&s), vec![0.0, 1.0, 0.0]);
}

#[test]
fn clip_and_where() {
    let x = f32s(&[-5.0, -1.0, 0.5, 2.0, 9.0], &[5]);
    assert_eq!(vals::<f32>(&x.clip(-1.0, 2.0)), vec![-1.0, -1.0, 0.5, 2.0, 2.0]);
    let d = Tensor::from_vec(vec![-5.0f64, 5.0], [2]);
    assert_eq!(d.clip(0.0, 1.0).dtype(), DType::F64);
    assert_eq!(vals::<f64>(&d.clip(0.0, 1.0)), vec![0.0, 1.0]);

    let cond = Tensor::vector(&[true, false, true]);
    let a = f32s(&[1.0, 2.0, 3.0], &[3]);
    let b = Tensor::scalar(0.0f32);
    assert_eq!(vals::<f32>(&where_(&cond, &a, &b)), vec![1.0, 0.0, 3.0]);
    assert_eq!(vals::<f32>(&Tensor::select(&cond, &b, &a)), vec![0.0, 2.0, 0.0]);
    // Broadcast all three: [2,1] cond, [3] x, [] y.
    let c2 = Tensor::from_vec(vec![true, false], [2, 1]);
    let w = where_(&c2, &a, &b);
    assert_eq!(w.dims(), &[2, 3]);
    assert_eq!(vals::<f32>(&w), vec![1.0, 2.0, 3.0, 0.0, 0.0, 0.0]);
    let m = err(&where_(&cond, &a, &f32s(&[1.0, 2.0], &[2])));
    assert!(m.contains("select") && m.contains("f32[2]") && m.contains("f32[3]"), "{m}");
    let m = err(&where_(&a, &a, &a));
    assert!(m.contains("select") && m.contains("bool"), "{m}");
}

// ---------------------------------------------------------------------------------------------------------------
// matmul
// ---------------------------------------------------------------------------------------------------------------

/// Row-major matrix product of `a` [m,k] and `b` [k,n].
fn mm(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            out[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
        }
    }
    out
}

#[test]
fn matmul_vector_vector() {
    let a = f32s(&[1.0, 2.0, 3.0], &[3]);
    let b = f32s(&[4.0, 5.0, 6.0], &[3]);
    let d = a.matmul(&b);
    assert_eq!(d.rank(), 0);
    assert_eq!(vals::<f32>(&d), vec![32.0]);
}

#[test]
fn matmul_vector_matrix_and_matrix_vector() {
    let v = f32s(&[1.0, 2.0], &[2]);
    let m = iota_f32(&[2, 3]); // [[0,1,2],[3,4,5]]
    let vm = v.matmul(&m);
    assert_eq!(vm.dims(), &[3]);
    assert_eq!(vals::<f32>(&vm), vec![6.0, 9.0, 12.0]);
    let w = f32s(&[1.0, 0.0, -1.0], &[3]);
    let mv = m.matmul(&w);
    assert_eq!(mv.dims(), &[2]);
    assert_eq!(vals::<f32>(&mv), vec![-2.0, -2.0]);
}

#[test]
fn matmul_matrices_and_batches() {
    let a = iota_f32(&[2, 3]);
    let b = iota_f32(&[3, 4]);
    let p = a.matmul(&b);
    assert_eq!(p.dims(), &[2, 4]);
    assert_eq!(vals::<f32>(&p), mm(&vals(&a), &vals(&b), 2, 3, 4));

    // Batched [2,2,3] @ [3,4]: the matrix broadcasts over the batch.
    let ba = iota_f32(&[2, 2, 3]);
    let p = ba.matmul(&b);
    assert_eq!(p.dims(), &[2, 2, 4]);
    let av = vals::<f32>(&ba);
    let bv = vals::<f32>(&b);
    let want: Vec<f32> = [mm(&av[..6], &bv, 2, 3, 4), mm(&av[6..], &bv, 2, 3, 4)].concat();
    assert_eq!(vals::<f32>(&p), want);

    // Broadcasting batch dimensions: [2,1,2,3] @ [3,3,2] -> [2,3,2,2].
    let x = iota_f32(&[2, 1, 2, 3]);
    let y = (iota_f32(&[3, 3, 2]) - 5.0) * 0.5;
    let p = x.matmul(&y);
    assert_eq!(p.dims(), &[2, 3, 2, 2]);
    let (xv, yv) = (vals::<f32>(&x), vals::<f32>(&y));
    let mut want = Vec::new();
    for i in 0..2 {
        for j in 0..3 {
            want.extend(mm(&xv[i * 6..i * 6 + 6], &yv[j * 6..j * 6 + 6], 2, 3, 2));
        }
    }
    assert_eq!(vals::<f32>(&p), want);

    // Batched vector: [2,3] treated as a batch? No: 2-D @ 1-D is a matrix-vector product; 3-D @ 1-D batches.
    let v = f32s(&[1.0, 1.0, 1.0], &[3]);
    let p = ba.matmul(&v);
    assert_eq!(p.dims(), &[2, 2]);
    assert_eq!(vals::<f32>(&p), vec![3.0, 12.0, 21.0, 30.0]);
    let p = v.matmul(&iota_f32(&[2, 3, 2]));
    assert_eq!(p.dims(), &[2, 2]);
    assert_eq!(vals::<f32>(&p), vec![6.0, 9.0, 24.0, 27.0]);
}

#[test]
fn matmul_errors() {
    let a = iota_f32(&[2, 3]);
    let b = iota_f32(&[4, 2]);
    let m = err(&a.matmul(&b));
    assert!(m.contains("matmul") && m.contains("f32[2,3]") && m.contains("f32[4,2]"), "{m}");
    assert!(m.contains("inner"), "{m}");
    let m = err(&f32s(&[1.0, 2.0], &[2]).matmul(&f32s(&[1.0, 2.0, 3.0], &[3])));
    assert!(m.contains("matmul") && m.contains("f32[2]") && m.contains("f32[3]"), "{m}");
    let m = err(&iota_f32(&[2, 2, 3]).matmul(&iota_f32(&[3, 3, 1])));
    assert!(m.contains("matmul") && m.contains("batch"), "{m}");
    // dtypes must agree; the message names matmul, not an internal op.
    let m = err(&a.matmul(&i32s(&[1, 2, 3], &[3])));
    assert!(m.contains("matmul") && m.contains("f32[2,3]") && m.contains("i32[3]"), "{m}");
}

#[test]
fn dot_general_directly() {
    use jit_runtime::ir::DotDims;
    let a = iota_f32(&[2, 3]);
    let b = iota_f32(&[2, 3]);
    // a @ b.T by contracting dimension 1 of both.
    let dims = DotDims { lhs_contracting: vec![1], rhs_contracting: vec![1], ..Default::default() };
    let p = a.dot_general(&b, dims);
    assert_eq!(p.dims(), &[2, 2]);
    assert_eq!(vals::<f32>(&p), vec![5.0, 14.0, 14.0, 50.0]);
}

// ---------------------------------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn reductions_with_negative_axes_and_keepdims() {
    let x = iota_f32(&[2, 3, 4]);
    let s = x.sum(-1);
    assert_eq!(s.dims(), &[2, 3]);
    assert_eq!(vals::<f32>(&s), vec![6.0, 22.0, 38.0, 54.0, 70.0, 86.0]);
    assert_eq!(vals::<f32>(&x.sum(2)), vals::<f32>(&s));
    let s = x.sum([0, -1]);
    assert_eq!(s.dims(), &[3]);
    assert_eq!(vals::<f32>(&s), vec![60.0, 92.0, 124.0]);
    let k = x.sum_keepdims([-3, 2]);
    assert_eq!(k.dims(), &[1, 3, 1]);
    assert_eq!(vals::<f32>(&k), vec![60.0, 92.0, 124.0]);
    let all = x.sum(jit_runtime::Axes::All);
    assert_eq!(all.rank(), 0);
    assert_eq!(vals::<f32>(&all), vec![276.0]);
    assert_eq!(x.sum_keepdims(jit_runtime::Axes::All).dims(), &[1, 1, 1]);
    assert_eq!(x.sum(Vec::<i32>::new()).dims(), &[2, 3, 4]);
    let axes: &[i32] = &[1];
    assert_eq!(x.sum(axes).dims(), &[2, 4]);

    let m = x.max(-2);
    assert_eq!(m.dims(), &[2, 4]);
    assert_eq!(vals::<f32>(&m), vec![8.0, 9.0, 10.0, 11.0, 20.0, 21.0, 22.0, 23.0]);
    assert_eq!(x.max_keepdims(1).dims(), &[2, 1, 4]);
    assert_eq!(vals::<f32>(&x.max_keepdims(1)), vals::<f32>(&m));
    assert_eq!(vals::<f32>(&x.min([0, 1])), vec![0.0, 1.0, 2.0, 3.0]);
    let p = f32s(&[1.0, 2.0, 3.0, 4.0], &[2, 2]).prod(-1);
    assert_eq!(vals::<f32>(&p), vec![2.0, 12.0]);
    assert_eq!(vals::<i32>(&i32s(&[1, 2, 3, 4], &[2, 2]).sum(0)), vec![4, 6]);
    assert_eq!(vals::<bool>(&Tensor::vector(&[false, true]).max(0)), vec![true]);

    let m = err(&x.sum(3));
    assert!(m.contains("reduce_sum") && m.contains("axis 3") && m.contains("f32[2,3,4]"), "{m}");
    let m = err(&x.sum(-4));
    assert!(m.contains("reduce_sum") && m.contains("-4"), "{m}");
    let m = err(&x.sum([0, -3]));
    assert!(m.contains("reduce_sum") && m.contains("repeated"), "{m}");
    let m = err(&Tensor::vector(&[true]).sum(0));
    assert!(m.contains("reduce_sum") && m.contains("bool"), "{m}");
}

#[test]
fn argmax_and_argmin() {
    let x = f32s(&[3.0, 7.0, 7.0, -1.0, 0.0, 5.0, -2.0, 5.0], &[2, 4]);
    let a = x.argmax(-1);
    assert_eq!(a.dtype(), DType::I32);
    assert_eq!(a.dims(), &[2]);
    assert_eq!(vals::<i32>(&a), vec![1, 1], "first maximum wins");
    assert_eq!(vals::<i32>(&x.argmin(1)), vec![3, 2]);
    assert_eq!(vals::<i32>(&x.argmax(0)), vec![0, 0, 0, 1]);
    assert_eq!(vals::<i32>(&x.argmin(-2)), vec![1, 1, 1, 0]);
    // NaN counts as the extremum, as in JAX.
    let n = f32s(&[1.0, f32::NAN, 3.0], &[3]);
    assert_eq!(vals::<i32>(&n.argmax(0)), vec![1]);
    assert_eq!(vals::<i32>(&n.argmin(0)), vec![1]);
    assert_eq!(vals::<i32>(&i32s(&[4, 9, 9], &[3]).argmax(0)), vec![1]);
    let m = err(&x.argmax(2));
    assert!(m.contains("argmax") && m.contains("out of range") && m.contains("f32[2,4]"), "{m}");
    let m = err(&x.argmin(-3));
    assert!(m.contains("argmin"), "{m}");
}

// ---------------------------------------------------------------------------------------------------------------
// Data movement
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn transpose_and_t() {
    let x = iota_f32(&[2, 3]);
    let t = x.transpose(&[1, 0]);
    assert_eq!(t.dims(), &[3, 2]);
    assert_eq!(vals::<f32>(&t), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    assert_eq!(vals::<f32>(&x.t()), vals::<f32>(&t));
    let y = iota_f32(&[2, 3, 4]);
    let p = y.transpose(&[2, 0, 1]);
    assert_eq!(p.dims(), &[4, 2, 3]);
    let pv = vals::<f32>(&p);
    // p[k, i, j] == y[i, j, k]
    assert_eq!(pv[(3 * 2 + 1) * 3 + 2], (12 + 2 * 4 + 3) as f32);
    let yt = y.t();
    assert_eq!(yt.dims(), &[2, 4, 3]);
    assert_eq!(vals::<f32>(&yt)[..3], [0.0, 4.0, 8.0]);
    let v = f32s(&[1.0, 2.0], &[2]);
    assert_eq!(v.t().dims(), &[2]);
    let m = err(&x.transpose(&[0]));
    assert!(m.contains("transpose") && m.contains("f32[2,3]"), "{m}");
    let m = err(&x.transpose(&[0, 0]));
    assert!(m.contains("transpose"), "{m}");
    let m = err(&x.transpose(&[0, 2]));
    assert!(m.contains("transpose"), "{m}");
}

#[test]
fn slices() {
    let x = iota_f32(&[3, 4]);
    let s = x.slice(&[1, 0], &[3, 4], &[1, 2]);
    assert_eq!(s.dims(), &[2, 2]);
    assert_eq!(vals::<f32>(&s), vec![4.0, 6.0, 8.0, 10.0]);
    let s = x.slice(&[0, 1], &[3, 4], &[2, 2]);
    assert_eq!(vals::<f32>(&s), vec![1.0, 3.0, 9.0, 11.0]);
    let s = x.slice(&[1, 1], &[1, 1], &[1, 1]);
    assert_eq!(s.dims(), &[0, 0]);
    let a = x.slice_axis(-1, 1, 3);
    assert_eq!(a.dims(), &[3, 2]);
    assert_eq!(vals::<f32>(&a), vec![1.0, 2.0, 5.0, 6.0, 9.0, 10.0]);
    let a = x.slice_axis(0, 2, 3);
    assert_eq!(vals::<f32>(&a), vec![8.0, 9.0, 10.0, 11.0]);
    let m = err(&x.slice(&[0, 0], &[4, 4], &[1, 1]));
    assert!(m.contains("slice") && m.contains("f32[3,4]"), "{m}");
    let m = err(&x.slice(&[2, 0], &[1, 4], &[1, 1]));
    assert!(m.contains("slice"), "{m}");
    let m = err(&x.slice(&[0, 0], &[1, 1], &[0, 1]));
    assert!(m.contains("slice") && m.contains("stride"), "{m}");
    let m = err(&x.slice(&[0], &[1], &[1]));
    assert!(m.contains("slice"), "{m}");
    let m = err(&x.slice_axis(2, 0, 1));
    assert!(m.contains("slice") && m.contains("out of range"), "{m}");
    let m = err(&x.slice_axis(1, 3, 5));
    assert!(m.contains("slice"), "{m}");
}

#[test]
fn concatenate() {
    let a = iota_f32(&[2, 2]);
    let b = f32s(&[10.0, 11.0], &[1, 2]);
    let c = Tensor::concatenate(&[a.clone(), b.clone()], 0);
    assert_eq!(c.dims(), &[3, 2]);
    assert_eq!(vals::<f32>(&c), vec![0.0, 1.0, 2.0, 3.0, 10.0, 11.0]);
    let d = Tensor::concatenate(&[a.clone(), b.t()], -1);
    assert_eq!(d.dims(), &[2, 3]);
    assert_eq!(vals::<f32>(&d), vec![0.0, 1.0, 10.0, 2.0, 3.0, 11.0]);
    let one = Tensor::concatenate(std::slice::from_ref(&a), 1);
    assert_eq!(vals::<f32>(&one), vals::<f32>(&a));
    let m = err(&Tensor::concatenate(&[], 0));
    assert!(m.contains("concatenate"), "{m}");
    let m = err(&Tensor::concatenate(&[a.clone(), b.clone()], 1));
    assert!(m.contains("concatenate") && m.contains("f32[2,2]") && m.contains("f32[1,2]"), "{m}");
    let m = err(&Tensor::concatenate(&[a.clone(), a.astype(DType::I32)], 0));
    assert!(m.contains("concatenate") && m.contains("i32[2,2]"), "{m}");
    let m = err(&Tensor::concatenate(&[a.clone(), a.clone()], 2));
    assert!(m.contains("concatenate") && m.contains("out of range"), "{m}");
}

#[test]
fn pad() {
    let x = f32s(&[1.0, 2.0, 3.0], &[3]);
    let zero = Tensor::scalar(0.0f32);
    let p = x.pad(&zero, &[2], &[1], &[0]);
    assert_eq!(vals::<f32>(&p), vec![0.0, 0.0, 1.0, 2.0, 3.0, 0.0]);
    let p = x.pad(&Tensor::scalar(-1.0f32), &[0], &[0], &[2]);
    assert_eq!(vals::<f32>(&p), vec![1.0, -1.0, -1.0, 2.0, -1.0, -1.0, 3.0]);
    // Negative padding crops.
    let p = x.pad(&zero, &[-1], &[1], &[0]);
    assert_eq!(vals::<f32>(&p), vec![2.0, 3.0, 0.0]);
    let m2 = iota_f32(&[2, 2]);
    let p = m2.pad(&zero, &[1, 0], &[0, 1], &[0, 0]);
    assert_eq!(p.dims(), &[3, 3]);
    assert_eq!(vals::<f32>(&p), vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 2.0, 3.0, 0.0]);
    let m = err(&x.pad(&Tensor::scalar(0i32), &[1], &[1], &[0]));
    assert!(m.contains("pad") && m.contains("i32[]"), "{m}");
    let m = err(&x.pad(&zero, &[-5], &[0], &[0]));
    assert!(m.contains("pad"), "{m}");
    let m = err(&x.pad(&zero, &[1, 1], &[1], &[0]));
    assert!(m.contains("pad"), "{m}");
}

#[test]
fn rev() {
    let x = iota_f32(&[2, 3]);
    assert_eq!(vals::<f32>(&x.rev(&[1])), vec![2.0, 1.0, 0.0, 5.0, 4.0, 3.0]);
    assert_eq!(vals::<f32>(&x.rev(&[0])), vec![3.0, 4.0, 5.0, 0.0, 1.0, 2.0]);
    assert_eq!(vals::<f32>(&x.rev(&[0, 1])), vec![5.0, 4.0, 3.0, 2.0, 1.0, 0.0]);
    assert_eq!(vals::<f32>(&x.rev(&[])), vals::<f32>(&x));
    let m = err(&x.rev(&[2]));
    assert!(m.contains("rev") && m.contains("f32[2,3]"), "{m}");
}

#[test]
fn reshape_flatten_expand_dims() {
    let x = iota_f32(&[2, 3]);
    let r = x.reshape([3, 2]);
    assert_eq!(r.dims(), &[3, 2]);
    assert_eq!(vals::<f32>(&r), vals::<f32>(&x));
    assert_eq!(x.reshape([6]).dims(), &[6]);
    assert_eq!(x.reshape([1, 6, 1]).dims(), &[1, 6, 1]);
    let m = err(&x.reshape([4]));
    assert!(m.contains("reshape") && m.contains("f32[2,3]") && m.contains("[4]"), "{m}");
    let f = iota_f32(&[2, 2, 2]).flatten();
    assert_eq!(f.dims(), &[8]);
    assert_eq!(vals::<f32>(&f), (0..8).map(|i| i as f32).collect::<Vec<_>>());
    assert_eq!(x.expand_dims(0).dims(), &[1, 2, 3]);
    assert_eq!(x.expand_dims(1).dims(), &[2, 1, 3]);
    assert_eq!(x.expand_dims(-1).dims(), &[2, 3, 1]);
    assert_eq!(x.expand_dims(-3).dims(), &[1, 2, 3]);
    assert_eq!(vals::<f32>(&x.expand_dims(-1)), vals::<f32>(&x));
    let m = err(&x.expand_dims(3));
    assert!(m.contains("expand_dims") && m.contains("out of range"), "{m}");
    let m = err(&x.expand_dims(-4));
    assert!(m.contains("expand_dims"), "{m}");
}

#[test]
fn astype_conversions() {
    let x = f32s(&[-1.7, 0.2, 2.9, f32::NAN], &[4]);
    let i = x.astype(DType::I32);
    assert_eq!(i.dtype(), DType::I32);
    assert_eq!(vals::<i32>(&i), vec![-1, 0, 2, 0], "truncates toward zero, NaN becomes 0");
    assert_eq!(vals::<bool>(&f32s(&[0.0, -2.0, 0.5], &[3]).astype(DType::Bool)), vec![false, true, true]);
    assert_eq!(vals::<f32>(&Tensor::vector(&[true, false]).astype(DType::F32)), vec![1.0, 0.0]);
    assert_eq!(vals::<f64>(&f32s(&[0.1], &[1]).astype(DType::F64)), vec![0.1f32 as f64]);
    assert_eq!(vals::<u32>(&i32s(&[-1, 7], &[2]).astype(DType::U32)), vec![u32::MAX, 7]);
    assert_eq!(vals::<i64>(&i32s(&[-1, 7], &[2]).astype(DType::I64)), vec![-1, 7]);
    // Saturating float-to-int.
    assert_eq!(vals::<i32>(&f32s(&[1e20, -1e20], &[2]).astype(DType::I32)), vec![i32::MAX, i32::MIN]);
    // Same dtype: unchanged.
    assert_eq!(vals::<f32>(&x.astype(DType::F32))[..3], [-1.7, 0.2, 2.9]);
}

#[test]
fn bitcast() {
    let x = f32s(&[1.0, -2.0, 0.0], &[3]);
    let b = x.bitcast(DType::U32);
    assert_eq!(b.dtype(), DType::U32);
    assert_eq!(vals::<u32>(&b), vec![0x3f80_0000, 0xc000_0000, 0]);
    assert_eq!(vals::<f32>(&b.bitcast(DType::F32)), vec![1.0, -2.0, 0.0]);
    assert_eq!(vals::<i32>(&i32s(&[-1], &[1]).bitcast(DType::U32).bitcast(DType::I32)), vec![-1]);
    assert_eq!(vals::<i64>(&Tensor::from_vec(vec![1.0f64], [1]).bitcast(DType::I64)), vec![1.0f64.to_bits() as i64]);
    let m = err(&x.bitcast(DType::F64));
    assert!(m.contains("bitcast") && m.contains("f32[3]") && m.contains("f64"), "{m}");
    let m = err(&Tensor::vector(&[true]).bitcast(DType::I32));
    assert!(m.contains("bitcast"), "{m}");
}

#[test]
fn dtype_mismatch_in_binary_ops() {
    let a = f32s(&[1.0], &[1]);
    let b = i32s(&[1], &[1]);
    let m = err(&(&a + &b));
    assert!(m.contains("add") && m.contains("f32[1]") && m.contains("i32[1]"), "{m}");
    let m = err(&a.maximum(&Tensor::from_vec(vec![1.0f64], [1])));
    assert!(m.contains("max") && m.contains("f64[1]"), "{m}");
}

#[test]
fn threefry_block() {
    // The threefry2x32 known answer for key (0, 0) and counter (0, 0) (Salmon et al., 20 rounds):
    // 0x6b200159 0x99ba4efe.
    let z = Tensor::scalar(0u32);
    let (y0, y1) = Tensor::threefry2x32(&z, &z, &z, &z);
    assert_eq!(vals::<u32>(&y0), vec![0x6b20_0159]);
    assert_eq!(vals::<u32>(&y1), vec![0x99ba_4efe]);
    // Broadcasting the counters.
    let x = Tensor::vector(&[0u32, 0]);
    let (y0, _) = Tensor::threefry2x32(&z, &z, &x, &z);
    assert_eq!(vals::<u32>(&y0), vec![0x6b20_0159; 2]);
    let (e0, e1) = Tensor::threefry2x32(&z, &z, &Tensor::vector(&[0u32, 0]), &Tensor::vector(&[0u32, 0, 0]));
    assert!(err(&e0).contains("threefry2x32"));
    assert!(err(&e1).contains("threefry2x32"));
}

#[test]
fn display_and_debug() {
    let x = f32s(&[1.0, 2.5], &[2]);
    let shown = format!("{x}");
    assert!(shown.contains("1.") && shown.contains("2.5"), "{shown}");
    let bad = &x + &f32s(&[1.0, 2.0, 3.0], &[3]);
    let shown = format!("{bad:?}");
    assert!(shown.contains("error") && shown.contains("add"), "{shown}");
}
