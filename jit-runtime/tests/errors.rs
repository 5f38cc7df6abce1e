//! Error messages as a first-class output: the op, both operand types, the user's source line (`#[track_caller]`),
//! the module path; errors inside `jit`; reading back the wrong dtype, donated arrays, traced values and leaked
//! tracers. Ends with a property test: random op sequences never panic, eagerly or under `jit`, and every error
//! names an op that was applied.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use jit_runtime::jit::{disable_jit, jit};
use jit_runtime::trace::with_module_scope;
use jit_runtime::{Axes, DType, Error, Result, Tensor};
use proptest::prelude::*;

/// The error of a tensor (a panic when it has none).
#[track_caller]
fn tensor_err(t: &Tensor) -> Error {
    match t.to_array() {
        Ok(a) => panic!("expected an error, got {a}"),
        Err(e) => e,
    }
}

/// `file:line:` of this test file, as op errors write their location.
fn at(line: u32) -> String {
    format!("(at {}:{line}:", file!())
}

fn f32s(v: &[f32], dims: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), dims)
}

// ---------------------------------------------------------------------------------------------------------------
// Shape mismatches: op, shapes, source line
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn method_shape_mismatch_names_op_shapes_and_line() {
    let a = Tensor::zeros(DType::F32, [2, 3]);
    let b = Tensor::zeros(DType::F32, [4]);
    let (bad, line) = (a.add(&b), line!());
    let e = tensor_err(&bad);
    let m = e.to_string();
    assert!(m.starts_with("add: "), "{m}");
    assert!(m.contains("f32[2,3]") && m.contains("f32[4]"), "{m}");
    assert!(m.contains(&at(line)), "{m} should point at line {line}");
    let op = e.as_op_error().expect("an op error");
    assert_eq!(op.op, "add");
    assert_eq!(op.location.map(|l| (l.0.file(), l.0.line())), Some((file!(), line)));
    assert_eq!(op.module_path, None);
}

#[test]
fn operator_shape_mismatch_points_at_the_user_line() {
    let a = Tensor::zeros(DType::F32, [3]);
    let b = Tensor::zeros(DType::F32, [2]);
    let (bad, line) = (&a + &b, line!());
    let m = tensor_err(&bad).to_string();
    assert!(m.contains("add") && m.contains("f32[3]") && m.contains("f32[2]") && m.contains(&at(line)), "{m}");
    let (bad, line) = (a.clone() * b.clone(), line!());
    let m = tensor_err(&bad).to_string();
    assert!(m.contains("mul") && m.contains(&at(line)), "{m}");
    let (bad, line) = (&a - b.clone(), line!());
    assert!(tensor_err(&bad).to_string().contains(&at(line)));
    let (bad, line) = (a.clone() / &b, line!());
    assert!(tensor_err(&bad).to_string().contains(&at(line)));
    // Bitwise and unary operators that fail point here too.
    let (bad, line) = (&Tensor::vector(&[1.5f32]) & &Tensor::vector(&[true]), line!());
    let m = tensor_err(&bad).to_string();
    assert!(m.contains("and") && m.contains(&at(line)), "{m}");
    let (bad, line) = (-&Tensor::vector(&[true]), line!());
    let m = tensor_err(&bad).to_string();
    assert!(m.contains("neg") && m.contains("bool[1]") && m.contains(&at(line)), "{m}");
}

#[test]
fn composite_errors_point_at_the_user_line() {
    let a = Tensor::zeros(DType::F32, [2, 3]);
    let b = Tensor::zeros(DType::F32, [2, 3]);
    let (bad, line) = (a.matmul(&b), line!());
    let m = tensor_err(&bad).to_string();
    assert!(m.starts_with("matmul: ") && m.contains("f32[2,3]") && m.contains(&at(line)), "{m}");
    // Errors raised by a primitive inside a composite still point at the user's call.
    let (bad, line) = (a.softmax(2), line!());
    let m = tensor_err(&bad).to_string();
    assert!(m.contains("reduce_max") && m.contains(&at(line)), "{m}");
    let (bad, line) = (a.logsumexp(-3), line!());
    assert!(tensor_err(&bad).to_string().contains(&at(line)));
    let (bad, line) = (a.mean([0, 0]), line!());
    assert!(tensor_err(&bad).to_string().contains(&at(line)));
    let (bad, line) = (a.var(5), line!());
    assert!(tensor_err(&bad).to_string().contains(&at(line)));
    let (bad, line) = (Tensor::vector(&[1i32]).gelu().not(), line!());
    let m = tensor_err(&bad).to_string();
    assert!(m.contains("not") && m.contains(&at(line)), "{m}");
    let (bad, line) = (jit_runtime::where_(&a, &a, &b), line!());
    let m = tensor_err(&bad).to_string();
    assert!(m.contains("select") && m.contains(&at(line)), "{m}");
    let (bad, line) = (Tensor::concatenate(&[a.clone(), Tensor::zeros(DType::F32, [3])], 0), line!());
    let m = tensor_err(&bad).to_string();
    assert!(m.contains("concatenate") && m.contains("f32[3]") && m.contains(&at(line)), "{m}");
    let (bad, line) = (a.reshape([5]), line!());
    let m = tensor_err(&bad).to_string();
    assert!(m.contains("reshape") && m.contains(&at(line)), "{m}");
    let (bad, line) = (a.broadcast_to([3, 3]), line!());
    let m = tensor_err(&bad).to_string();
    assert!(m.contains("broadcast") && m.contains(&at(line)), "{m}");
}

#[test]
fn dtype_mismatch_names_both_types() {
    let a = Tensor::zeros(DType::F32, [2]);
    let b = Tensor::zeros(DType::I32, [2]);
    let (bad, line) = (&a * &b, line!());
    let m = tensor_err(&bad).to_string();
    assert!(m.starts_with("mul: ") && m.contains("f32[2]") && m.contains("i32[2]") && m.contains(&at(line)), "{m}");
    assert!(m.contains("dtype"), "{m}");
}

#[test]
fn errors_inside_jit_come_out_of_call_with_the_closure_line() {
    let (f, line) = (jit(|x: Tensor| &x + &Tensor::zeros(DType::F32, [2])), line!());
    let e = f.call((Tensor::zeros(DType::F32, [3]),)).unwrap_err();
    let m = e.to_string();
    assert!(m.starts_with("add: ") && m.contains("f32[3]") && m.contains("f32[2]"), "{m}");
    assert!(m.contains(&at(line)), "{m} should point at line {line}");
    // A dtype error detected while recording the graph.
    let (g, line) = (jit(|x: Tensor| x.add(&x.astype(DType::I32))), line!());
    let m = g.call((Tensor::zeros(DType::F32, [3]),)).unwrap_err().to_string();
    assert!(m.starts_with("add: ") && m.contains("f32[3]") && m.contains("i32[3]") && m.contains(&at(line)), "{m}");
    // A composite inside jit.
    let (h, line) = (jit(|x: Tensor, y: Tensor| x.matmul(&y)), line!());
    let m = h.call((Tensor::zeros(DType::F32, [2, 3]), Tensor::zeros(DType::F32, [2, 3]))).unwrap_err().to_string();
    assert!(m.starts_with("matmul: ") && m.contains(&at(line)), "{m}");
    // The same function works for fitting shapes.
    assert!(h.call((Tensor::zeros(DType::F32, [2, 3]), Tensor::zeros(DType::F32, [3, 2]))).is_ok());
}

#[test]
fn module_path_appears_in_op_errors() {
    let a = Tensor::zeros(DType::F32, [2]);
    let b = Tensor::zeros(DType::F32, [3]);
    let (bad, line) = with_module_scope("Dense_1", || (&a + &b, line!()));
    let e = tensor_err(&bad);
    let m = e.to_string();
    assert!(m.starts_with("in module `/Dense_1`: add: "), "{m}");
    assert!(m.contains("f32[2]") && m.contains("f32[3]") && m.contains(&at(line)), "{m}");
    assert_eq!(e.as_op_error().and_then(|o| o.module_path.clone()), Some("/Dense_1".to_string()));
    // Nested scopes; a composite; a dtype error found by the interpreter.
    let m = with_module_scope("Mlp_0", || with_module_scope("Dense_1", || tensor_err(&a.matmul(&b)).to_string()));
    assert!(m.starts_with("in module `/Mlp_0/Dense_1`: matmul: "), "{m}");
    let m = with_module_scope("Dropout_0", || tensor_err(&(&a * &Tensor::zeros(DType::I32, [2]))).to_string());
    assert!(m.starts_with("in module `/Dropout_0`: mul: "), "{m}");
    let m = with_module_scope("Dense_0", || tensor_err(&a.sum(3)).to_string());
    assert!(m.starts_with("in module `/Dense_0`: reduce_sum: "), "{m}");
    // Outside the scope, no path; the scope is popped even when its closure panics.
    assert!(!tensor_err(&(&a + &b)).to_string().contains("module"));
    let _ = catch_unwind(|| with_module_scope("Boom_0", || panic!("boom")));
    assert_eq!(jit_runtime::trace::current_module_path(), None);
    // Inside jit: the scope opened in the traced body.
    let f = jit(|x: Tensor| with_module_scope("Dense_2", || &x + &Tensor::zeros(DType::F32, [5])));
    let m = f.call((a.clone(),)).unwrap_err().to_string();
    assert!(m.starts_with("in module `/Dense_2`: add: "), "{m}");
}

// ---------------------------------------------------------------------------------------------------------------
// Reading back
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn reading_back_the_wrong_dtype_is_an_error() {
    let x = f32s(&[1.0, 2.0], &[2]);
    let e = x.to_vec::<i32>().unwrap_err();
    let m = e.to_string();
    assert!(matches!(e, Error::DTypeMismatch { expected: DType::I32, found: DType::F32, .. }), "{e:?}");
    assert!(m.contains("i32") && m.contains("f32"), "{m}");
    assert!(x.to_vec::<f64>().is_err());
    assert!(x.to_array().unwrap().item::<f32>().is_err(), "two elements are not one item");
    assert_eq!(x.to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
}

#[test]
fn reading_a_donated_array_is_an_error() {
    let f = jit(|x: Tensor| &x * 2.0).donate_argnums([0]);
    let x = f32s(&[1.0, 2.0], &[2]);
    let alias = x.clone();
    let y = f.call((x,)).unwrap();
    assert_eq!(y.to_vec::<f32>().unwrap(), vec![2.0, 4.0]);
    let e = alias.to_vec::<f32>().unwrap_err();
    assert!(matches!(e, Error::Donated { .. }), "{e:?}");
    let m = e.to_string();
    assert!(m.contains("array was donated to"), "{m}");
    // An op on it is an error too (not stale data, not a panic), and so is passing it again.
    let m = tensor_err(&(&alias + 1.0)).to_string();
    assert!(m.contains("array was donated to"), "{m}");
    let m = f.call((alias.clone(),)).unwrap_err().to_string();
    assert!(m.contains("array was donated to"), "{m}");
    // The dtype and shape stay known.
    assert_eq!(alias.dims(), &[2]);
}

#[test]
fn reading_a_traced_value_inside_jit_is_a_clear_error() {
    let f = jit(|x: Tensor| -> Result<Tensor> {
        let v = x.to_vec::<f32>()?;
        Ok(&x * v[0])
    });
    let e = f.call((f32s(&[1.0, 2.0, 3.0], &[3]),)).unwrap_err();
    let m = e.to_string();
    assert!(m.contains("traced") && m.contains("f32[3]"), "{m}");
    assert!(m.contains("reading_a_traced_value_inside_jit_is_a_clear_error"), "names the function: {m}");
    assert!(m.contains("static"), "suggests a way out: {m}");
    // `to_array` directly, returning the error as a tensor result.
    let g = jit(|x: Tensor| match x.to_array() {
        Ok(_) => x,
        Err(e) => Tensor::from_error(e),
    });
    let m = g.call((f32s(&[1.0], &[1]),)).unwrap_err().to_string();
    assert!(m.contains("traced"), "{m}");
}

#[test]
fn first_error_is_reported_even_when_the_failing_tensor_is_dropped() {
    static LINE: AtomicU32 = AtomicU32::new(0);
    let f = jit(|x: Tensor| {
        let (_, line) = (&x + &Tensor::zeros(DType::F32, [7]), line!());
        LINE.store(line, Ordering::Relaxed);
        x.exp()
    });
    let m = f.call((Tensor::zeros(DType::F32, [3]),)).unwrap_err().to_string();
    let line = LINE.load(Ordering::Relaxed);
    assert!(m.starts_with("add: ") && m.contains("f32[7]") && m.contains(&at(line)), "{m}");
    // Errors raised before any primitive is recorded (axis checks, matmul checks) count as well.
    let f = jit(|x: Tensor| {
        let _ = x.sum(4);
        x.exp()
    });
    let m = f.call((Tensor::zeros(DType::F32, [3]),)).unwrap_err().to_string();
    assert!(m.contains("reduce_sum") && m.contains("axis 4"), "{m}");
    let f = jit(|x: Tensor| {
        let _ = x.matmul(&x);
        x.exp()
    });
    let m = f.call((Tensor::zeros(DType::F32, [2, 3]),)).unwrap_err().to_string();
    assert!(m.contains("matmul"), "{m}");
    // The first of two errors wins.
    let f = jit(|x: Tensor| {
        let _ = x.argmax(9);
        let _ = x.reshape([100]);
        x
    });
    let m = f.call((Tensor::zeros(DType::F32, [3]),)).unwrap_err().to_string();
    assert!(m.contains("argmax") && !m.contains("reshape"), "{m}");
    assert_eq!(f.compile_count(), 0, "nothing is compiled for a failed trace");
}

static STASH: Mutex<Option<Tensor>> = Mutex::new(None);

#[test]
fn a_leaked_tracer_is_an_error_not_a_panic() {
    let f = jit(|x: Tensor| {
        *STASH.lock().unwrap() = Some(x.clone());
        x.exp()
    });
    f.call((f32s(&[0.0], &[1]),)).unwrap();
    let leaked = STASH.lock().unwrap().take().expect("stashed");
    assert!(leaked.is_traced());
    let m = leaked.to_array().unwrap_err().to_string();
    assert!(m.contains("after that trace ended"), "{m}");
    let m = tensor_err(&(&leaked + 1.0)).to_string();
    assert!(m.contains("after that trace ended"), "{m}");
    assert!(m.contains("add"), "names the op: {m}");
    let m = tensor_err(&leaked.exp().sum(Axes::All)).to_string();
    assert!(m.contains("after that trace ended"), "{m}");
    // Mixed into another traced function.
    let captured = leaked.clone();
    let g = jit(move |y: Tensor| &y + &captured);
    let m = g.call((f32s(&[1.0], &[1]),)).unwrap_err().to_string();
    assert!(m.contains("trace"), "{m}");
    // Passed as an argument.
    let h = jit(|y: Tensor| y.exp());
    let m = h.call((leaked.clone(),)).unwrap_err().to_string();
    assert!(m.contains("after that trace ended"), "{m}");
    // An identity function cannot pass it through as if it were a value.
    let id = jit(|y: Tensor| y);
    let m = id.call((leaked.clone(),)).unwrap_err().to_string();
    assert!(m.contains("after that trace ended"), "{m}");
    // Returned from a jitted function it did not come from.
    let k = jit(move |_y: Tensor| leaked.clone());
    assert!(k.call((f32s(&[1.0], &[1]),)).is_err());
}

// ---------------------------------------------------------------------------------------------------------------
// Property test: random op sequences
// ---------------------------------------------------------------------------------------------------------------

const DTYPES: [DType; 6] = [DType::F32, DType::F64, DType::I32, DType::U32, DType::I64, DType::Bool];
const UNARY: [&str; 25] = [
    "neg",
    "abs",
    "sign",
    "floor",
    "ceil",
    "round",
    "exp",
    "expm1",
    "log",
    "log1p",
    "sqrt",
    "rsqrt",
    "tanh",
    "logistic",
    "sin",
    "cos",
    "erf",
    "erfc",
    "erf_inv",
    "not",
    "relu",
    "gelu",
    "gelu_exact",
    "square",
    "stop_gradient",
];
const BINARY: [&str; 12] = ["add", "sub", "mul", "div", "rem", "pow", "max", "min", "and", "or", "eq", "lt"];
const REDUCE: [&str; 7] = ["reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "mean", "var", "logsumexp"];

/// One op with its operands' parameters. `fit` variants adapt the parameters to the operand at hand (an axis taken
/// modulo the rank, a slice inside the bounds, an operand of the same shape), so sequences often get past their
/// first step; the others use the raw random values, which often do not fit.
#[derive(Clone, Debug)]
enum Step {
    Unary(usize),
    Binary(usize, Vec<usize>, usize, bool),
    Scalar(usize, f64, bool),
    Reshape(Vec<usize>, bool),
    Transpose(Vec<usize>, bool),
    Slice(Vec<(usize, usize, usize)>, bool),
    Reduce(usize, Vec<i32>, bool, bool),
    Matmul(Vec<usize>, usize, bool),
    Concatenate(Vec<usize>, usize, i32, bool),
    Pad(Vec<(i64, i64, usize)>, bool),
    BroadcastTo(Vec<usize>, bool),
    Astype(usize),
    Argmax(i32, bool, bool),
    Softmax(i32),
    ExpandDims(i32),
    Clip(f64, f64),
    OneHot(usize),
}

/// The names an error of this step may carry: the user-facing name and the primitives it is built from.
fn names(step: &Step) -> Vec<&'static str> {
    match step {
        Step::Unary(i) => match UNARY[*i] {
            "relu" => vec!["max", "convert"],
            "gelu" | "gelu_exact" => vec!["mul", "add", "div", "neg", "tanh", "erfc", "integer_pow", "convert"],
            "square" => vec!["integer_pow"],
            other => vec![other],
        },
        Step::Binary(i, ..) | Step::Scalar(i, ..) => vec![BINARY[*i], "convert", "broadcast_in_dim"],
        Step::Reshape(..) => vec!["reshape"],
        Step::Transpose(..) => vec!["transpose"],
        Step::Slice(..) => vec!["slice"],
        Step::Reduce(i, ..) => match REDUCE[*i] {
            "mean" | "var" => vec!["mean", "reduce_sum", "div", "sub", "mul", "convert"],
            "logsumexp" => vec!["logsumexp", "reduce_max", "reduce_sum", "exp", "log", "abs", "sub", "add", "lt"],
            other => vec![other],
        },
        Step::Matmul(..) => vec!["matmul"],
        Step::Concatenate(..) => vec!["concatenate"],
        Step::Pad(..) => vec!["pad"],
        Step::BroadcastTo(..) => vec!["broadcast_in_dim"],
        Step::Astype(_) => vec!["convert"],
        Step::Argmax(_, max, _) => vec![if *max { "argmax" } else { "argmin" }],
        Step::Softmax(_) => vec!["reduce_max", "reduce_sum", "sub", "exp", "div", "log"],
        Step::ExpandDims(_) => vec!["expand_dims"],
        Step::Clip(..) => vec!["max", "min", "convert"],
        Step::OneHot(_) => vec!["eq", "iota", "reshape", "convert"],
    }
}

/// A tensor of `dims` and `dtype` with varied values (small integers, some negative), made inside or outside a
/// trace alike.
fn operand(dims: &[usize], dtype: DType) -> Tensor {
    let n: usize = dims.iter().product();
    let v: Vec<f64> = (0..n).map(|i| ((i * 7 + 3) % 11) as f64 - 4.0).collect();
    Tensor::from_vec(v, [n]).reshape(dims).astype(dtype)
}

/// `a` modulo `rank` as an axis (0 for rank 0, which then fails as out of range).
fn fit_axis(a: i32, rank: usize) -> i32 {
    if rank == 0 { a } else { a.rem_euclid(rank as i32) }
}

fn apply(x: &Tensor, step: &Step) -> Tensor {
    let (rank, dims) = (x.rank(), x.dims().to_vec());
    match step {
        Step::Unary(i) => match UNARY[*i] {
            "neg" => x.neg(),
            "abs" => x.abs(),
            "sign" => x.sign(),
            "floor" => x.floor(),
            "ceil" => x.ceil(),
            "round" => x.round(),
            "exp" => x.exp(),
            "expm1" => x.expm1(),
            "log" => x.log(),
            "log1p" => x.log1p(),
            "sqrt" => x.sqrt(),
            "rsqrt" => x.rsqrt(),
            "tanh" => x.tanh(),
            "logistic" => x.logistic(),
            "sin" => x.sin(),
            "cos" => x.cos(),
            "erf" => x.erf(),
            "erfc" => x.erfc(),
            "erf_inv" => x.erf_inv(),
            "not" => x.not(),
            "relu" => x.relu(),
            "gelu" => x.gelu(),
            "gelu_exact" => x.gelu_exact(),
            "square" => x.square(),
            _ => x.stop_gradient(),
        },
        Step::Binary(i, d, t, fit) => {
            let y = if *fit {
                // Same dtype; the trailing dimensions of x (numpy broadcasting of a suffix).
                operand(&dims[d.len().min(rank)..], x.dtype())
            } else {
                operand(d, DTYPES[*t])
            };
            match BINARY[*i] {
                "add" => x + &y,
                "sub" => x - &y,
                "mul" => x * &y,
                "div" => x / &y,
                "rem" => x % &y,
                "pow" => x.pow(&y),
                "max" => x.maximum(&y),
                "min" => x.minimum(&y),
                "and" => x & &y,
                "or" => x | &y,
                "eq" => x.equal(&y),
                _ => x.less(&y),
            }
        }
        Step::Scalar(i, v, left) => match (BINARY[*i], left) {
            ("add", false) => x + *v,
            ("add", true) => *v + x,
            ("sub", false) => x - *v as i32,
            ("sub", true) => *v as i32 - x,
            ("mul", _) => x * *v,
            ("div", false) => x / *v,
            ("div", true) => *v / x,
            ("rem", _) => x % (*v as i64),
            ("max", _) => x.maximum_scalar(*v),
            ("min", _) => x.minimum_scalar(*v as f32),
            _ => x.add_scalar(*v as u32),
        },
        Step::Reshape(d, false) => x.reshape(d.as_slice()),
        Step::Reshape(d, true) => match d.first() {
            Some(&k) if k > 0 && x.numel() % k == 0 => x.reshape([k, x.numel() / k]),
            _ => x.flatten(),
        },
        Step::Transpose(p, false) => x.transpose(p),
        Step::Transpose(p, true) => {
            // The permutation that sorts the random keys.
            let mut perm: Vec<usize> = (0..rank).collect();
            perm.sort_by_key(|&i| (p.get(i).copied().unwrap_or(i), i));
            x.transpose(&perm)
        }
        Step::Slice(b, fit) => {
            let b: Vec<(usize, usize, usize)> = if *fit {
                (0..rank)
                    .map(|i| {
                        let (s, l, st) = b.get(i).copied().unwrap_or((0, 9, 0));
                        let start = s % (dims[i] + 1);
                        (start, start + l % (dims[i] - start + 1), st + 1)
                    })
                    .collect()
            } else {
                b.clone()
            };
            let start: Vec<usize> = b.iter().map(|b| b.0).collect();
            let limit: Vec<usize> = b.iter().map(|b| b.1).collect();
            let strides: Vec<usize> = b.iter().map(|b| b.2).collect();
            x.slice(&start, &limit, &strides)
        }
        Step::Reduce(i, axes, all, fit) => {
            let axes = match (all, fit) {
                (true, _) => Axes::All,
                (false, false) => Axes::from(axes.clone()),
                (false, true) => {
                    let mut a: Vec<i32> = axes.iter().map(|&a| fit_axis(a, rank)).collect();
                    a.sort_unstable();
                    a.dedup();
                    Axes::from(a)
                }
            };
            match REDUCE[*i] {
                "reduce_sum" => x.sum(axes),
                "reduce_max" => x.max(axes),
                "reduce_min" => x.min(axes),
                "reduce_prod" => x.prod(axes),
                "mean" => x.mean(axes),
                "var" => x.var(axes),
                _ => x.logsumexp(axes),
            }
        }
        Step::Matmul(d, t, false) => x.matmul(&operand(d, DTYPES[*t])),
        Step::Matmul(d, _, true) => {
            let k = dims.last().copied().unwrap_or(1);
            let n = d.first().copied().unwrap_or(2);
            x.matmul(&operand(&[k, n], x.dtype()))
        }
        Step::Concatenate(d, t, axis, false) => Tensor::concatenate(&[x.clone(), operand(d, DTYPES[*t])], *axis),
        Step::Concatenate(_, _, axis, true) => {
            Tensor::concatenate(&[x.clone(), operand(&dims, x.dtype())], fit_axis(*axis, rank))
        }
        Step::Pad(p, fit) => {
            let p: Vec<(i64, i64, usize)> =
                if *fit { (0..rank).map(|i| p.get(i).copied().unwrap_or((1, 0, 0))).collect() } else { p.clone() };
            let low: Vec<i64> = p.iter().map(|p| p.0).collect();
            let high: Vec<i64> = p.iter().map(|p| p.1).collect();
            let interior: Vec<usize> = p.iter().map(|p| p.2).collect();
            x.pad(&Tensor::scalar_of(x.dtype(), 0.0), &low, &high, &interior)
        }
        Step::BroadcastTo(d, false) => x.broadcast_to(d.as_slice()),
        Step::BroadcastTo(d, true) => x.broadcast_to([d.as_slice(), &dims].concat()),
        Step::Astype(d) => x.astype(DTYPES[*d]),
        Step::Argmax(axis, max, fit) => {
            let axis = if *fit { fit_axis(*axis, rank) } else { *axis };
            if *max { x.argmax(axis) } else { x.argmin(axis) }
        }
        Step::Softmax(axis) => x.log_softmax(*axis).softmax(*axis),
        Step::ExpandDims(axis) => x.expand_dims(*axis),
        Step::Clip(lo, hi) => x.clip(*lo, *hi),
        Step::OneHot(n) => x.one_hot(*n, DType::F32),
    }
}

fn run_steps(x: &Tensor, steps: &[Step]) -> Tensor {
    steps.iter().fold(x.clone(), |t, s| apply(&t, s))
}

fn dims() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..4, 0..4)
}

fn step() -> impl Strategy<Value = Step> {
    let fit = || any::<bool>();
    prop_oneof![
        (0..UNARY.len()).prop_map(Step::Unary),
        (0..BINARY.len(), dims(), 0..DTYPES.len(), fit()).prop_map(|(i, d, t, f)| Step::Binary(i, d, t, f)),
        (0..BINARY.len(), -3.0f64..3.0, any::<bool>()).prop_map(|(i, v, l)| Step::Scalar(i, v, l)),
        (dims(), fit()).prop_map(|(d, f)| Step::Reshape(d, f)),
        (prop::collection::vec(0usize..4, 0..4), fit()).prop_map(|(p, f)| Step::Transpose(p, f)),
        (prop::collection::vec((0usize..4, 0usize..5, 0usize..3), 0..4), fit()).prop_map(|(b, f)| Step::Slice(b, f)),
        (0..REDUCE.len(), prop::collection::vec(-4i32..4, 0..3), any::<bool>(), fit())
            .prop_map(|(i, a, all, f)| Step::Reduce(i, a, all, f)),
        (dims(), 0..DTYPES.len(), fit()).prop_map(|(d, t, f)| Step::Matmul(d, t, f)),
        (dims(), 0..DTYPES.len(), -4i32..4, fit()).prop_map(|(d, t, a, f)| Step::Concatenate(d, t, a, f)),
        (prop::collection::vec((-2i64..3, -2i64..3, 0usize..3), 0..4), fit()).prop_map(|(p, f)| Step::Pad(p, f)),
        (dims(), fit()).prop_map(|(d, f)| Step::BroadcastTo(d, f)),
        (0..DTYPES.len()).prop_map(Step::Astype),
        (-4i32..4, any::<bool>(), fit()).prop_map(|(a, m, f)| Step::Argmax(a, m, f)),
        (-3i32..3).prop_map(Step::Softmax),
        (-4i32..4).prop_map(Step::ExpandDims),
        (-3.0f64..3.0, -3.0f64..3.0).prop_map(|(a, b)| Step::Clip(a, b)),
        (0usize..4).prop_map(Step::OneHot),
    ]
}

/// Checks an error: it names an op of `steps`, and an op error points into this file.
fn check_error(e: &Error, steps: &[Step], mode: &str) -> std::result::Result<(), TestCaseError> {
    let m = e.to_string();
    let all: Vec<&str> = steps.iter().flat_map(names).collect();
    prop_assert!(all.iter().any(|n| m.contains(n)), "{mode}: error names none of the applied ops {all:?}: {m}");
    if let Some(op) = e.as_op_error() {
        let loc = op.location;
        prop_assert!(
            loc.is_some_and(|l| l.0.file() == file!()),
            "{mode}: op error should point into {}, got {loc:?}: {m}",
            file!()
        );
    }
    Ok(())
}

fn bits(t: &Tensor) -> Option<Vec<u64>> {
    let a = t.to_array().ok()?;
    let l = a.literal().ok()?;
    Some(
        (0..l.data().len())
            .map(|i| l.data().get_f64(i).map_or(0, |v| if v.is_nan() { 1 } else { v.to_bits() }))
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_op_sequences_never_panic_and_name_their_op(
        shape in dims(),
        dtype in prop_oneof![2 => Just(0usize), 1 => 0..DTYPES.len()],
        steps in prop::collection::vec(step(), 1..6),
    ) {
        let x = operand(&shape, DTYPES[dtype]);
        prop_assume!(x.error().is_none());
        let eager = catch_unwind(AssertUnwindSafe(|| run_steps(&x, &steps)));
        let eager = match eager {
            Ok(t) => t,
            Err(_) => return Err(TestCaseError::fail(format!("eager run panicked on {steps:?}"))),
        };
        let steps_for_jit = steps.clone();
        let f = jit(move |x: Tensor| run_steps(&x, &steps_for_jit));
        let jitted = catch_unwind(AssertUnwindSafe(|| f.call((x.clone(),))));
        let jitted = match jitted {
            Ok(r) => r,
            Err(_) => return Err(TestCaseError::fail(format!("jit run panicked on {steps:?}"))),
        };
        let unjitted = catch_unwind(AssertUnwindSafe(|| disable_jit(|| f.call((x.clone(),)))));
        let unjitted = match unjitted {
            Ok(r) => r,
            Err(_) => return Err(TestCaseError::fail(format!("disable_jit run panicked on {steps:?}"))),
        };
        prop_assert_eq!(f.trace_count(), 1);
        match (&unjitted, &jitted) {
            (Ok(u), Ok(j)) => prop_assert_eq!(bits(u), bits(j), "disable_jit and jit values differ"),
            (Err(u), Err(j)) => prop_assert_eq!(u.to_string(), j.to_string()),
            _ => prop_assert!(false, "disable_jit gave {:?}, jit {:?}", unjitted, jitted),
        }
        match (eager.to_array(), &jitted) {
            (Err(e), Err(j)) => {
                check_error(&e, &steps, "eager")?;
                check_error(j, &steps, "jit")?;
                prop_assert_eq!(e.to_string(), j.to_string(), "the same error eagerly and under jit");
            }
            (Ok(_), Ok(y)) => {
                prop_assert_eq!(y.ty(), eager.ty());
                prop_assert_eq!(bits(y), bits(&eager), "jit and eager values differ");
            }
            (Err(e), Ok(_)) => prop_assert!(false, "eager failed ({}) but jit succeeded", e),
            (Ok(_), Err(j)) => prop_assert!(false, "jit failed ({}) but eager succeeded", j),
        }
    }
}
