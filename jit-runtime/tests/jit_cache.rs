//! `jit` through its public API: what is (and is not) in the cache key, cache-miss explanations, argument
//! validation, backends and devices, `lower`, `disable_jit`, inlining of nested jitted calls, concurrent first calls,
//! and donation.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Barrier};

use expect_test::expect;
use jit_runtime::jit::{Static, disable_jit, jit, jit_disabled};
use jit_runtime::{DType, Error, Result, Tensor};

fn f32s(v: &[f32], dims: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), dims)
}

fn vals(t: &Tensor) -> Vec<f32> {
    t.to_vec::<f32>().unwrap()
}

// ---------------------------------------------------------------------------------------------------------------
// The cache key
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn same_signature_traces_once() {
    let f = jit(|x: Tensor, y: Tensor| (&x * &y + 1.0).sum(-1));
    assert_eq!(f.trace_count(), 0);
    assert_eq!(f.explain_last_miss(), None);
    let a = f32s(&[1.0, 2.0, 3.0], &[3]);
    let b = f32s(&[4.0, 5.0, 6.0], &[3]);
    assert_eq!(vals(&f.call((a.clone(), b.clone())).unwrap()), vec![35.0]);
    assert_eq!((f.trace_count(), f.compile_count()), (1, 1));
    assert!(f.explain_last_miss().unwrap().contains("first call"), "{:?}", f.explain_last_miss());
    // Other values, same types: no retrace, right answers.
    for i in 0..5 {
        let c = f32s(&[i as f32, 0.0, 1.0], &[3]);
        assert_eq!(vals(&f.call((c.clone(), b.clone())).unwrap()), vec![4.0 * i as f32 + 6.0 + 3.0]);
    }
    assert_eq!((f.trace_count(), f.compile_count()), (1, 1));
}

#[test]
fn new_shape_or_dtype_retraces_and_explains() {
    let f = jit(|x: Tensor, y: Tensor| &x + &y);
    let y = Tensor::scalar(1.0f32);
    f.call((Tensor::zeros(DType::F32, [3]), y.clone())).unwrap();
    f.call((Tensor::zeros(DType::F32, [4]), y.clone())).unwrap();
    assert_eq!(f.trace_count(), 2);
    let why = f.explain_last_miss().unwrap();
    assert!(why.contains("argument 0") && why.contains("f32[3]") && why.contains("f32[4]"), "{why}");
    assert!(!why.contains("argument 1"), "argument 1 did not change: {why}");
    assert!(why.contains("new_shape_or_dtype_retraces_and_explains"), "names the function: {why}");
    // dtype change of the second argument.
    let r = f.call((Tensor::zeros(DType::F64, [4]), Tensor::scalar(1.0f64))).unwrap();
    assert_eq!(r.dtype(), DType::F64);
    assert_eq!(f.trace_count(), 3);
    let why = f.explain_last_miss().unwrap();
    assert!(why.contains("argument 0") && why.contains("f64[4]") && why.contains("argument 1"), "{why}");
    assert!(why.contains("f32[]") && why.contains("f64[]"), "{why}");
    // Back to an old signature: cached.
    f.call((Tensor::zeros(DType::F32, [3]), y)).unwrap();
    assert_eq!(f.trace_count(), 3);
}

#[test]
fn new_static_value_retraces() {
    let f = jit(|x: Tensor, n: usize| x.integer_pow(n as i32)).static_argnums([1]);
    let x = f32s(&[2.0], &[1]);
    assert_eq!(vals(&f.call((x.clone(), 3)).unwrap()), vec![8.0]);
    assert_eq!(vals(&f.call((x.clone(), 3)).unwrap()), vec![8.0]);
    assert_eq!(f.trace_count(), 1);
    assert_eq!(vals(&f.call((x.clone(), 2)).unwrap()), vec![4.0]);
    assert_eq!(f.trace_count(), 2);
    let why = f.explain_last_miss().unwrap();
    assert!(why.contains("static argument 1: 3 became 2"), "{why}");
    assert_eq!(vals(&f.call((x, 3)).unwrap()), vec![8.0]);
    assert_eq!(f.trace_count(), 2);
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Config {
    name: String,
    scale: i32,
    layers: Vec<usize>,
}

#[test]
fn equal_but_distinct_static_values_share_a_trace() {
    let f = jit(|x: Tensor, act: String| if act == "relu" { x.relu() } else { x.tanh() }).static_argnums([1]);
    let x = f32s(&[-1.0, 1.0], &[2]);
    let a = String::from("re") + "lu";
    let b = format!("{}{}", "rel", "u");
    assert_ne!(a.as_ptr(), b.as_ptr());
    assert_eq!(vals(&f.call((x.clone(), a)).unwrap()), vec![0.0, 1.0]);
    assert_eq!(vals(&f.call((x.clone(), b)).unwrap()), vec![0.0, 1.0]);
    assert_eq!(f.trace_count(), 1);
    let t = vals(&f.call((x.clone(), "tanh".to_string())).unwrap());
    assert!((t[1] - 1f32.tanh()).abs() < 1e-6);
    assert_eq!(f.trace_count(), 2);

    let g = jit(|x: Tensor, c: Static<Config>| &x * c.0.scale).static_argnums([1]);
    let c1 = Static(Config { name: "mlp".into(), scale: 3, layers: vec![4, 5] });
    let c2 = Static(Config { name: String::from("mlp"), scale: 3, layers: [4, 5].to_vec() });
    assert_eq!(vals(&g.call((x.clone(), c1)).unwrap()), vec![-3.0, 3.0]);
    assert_eq!(vals(&g.call((x.clone(), c2)).unwrap()), vec![-3.0, 3.0]);
    assert_eq!(g.trace_count(), 1);
    let c3 = Static(Config { name: "mlp".into(), scale: 3, layers: vec![4, 6] });
    assert_eq!(vals(&g.call((x, c3)).unwrap()), vec![-3.0, 3.0]);
    assert_eq!(g.trace_count(), 2, "a field changed");
}

/// Equal hashes for every value, but `Eq` compares the value: a cache that trusted the hash would reuse the wrong
/// program.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Collide(i32);

impl Hash for Collide {
    fn hash<H: Hasher>(&self, state: &mut H) {
        0u8.hash(state);
    }
}

#[test]
fn a_hash_collision_does_not_reuse_the_wrong_program() {
    let f = jit(|x: Tensor, k: Static<Collide>| &x * k.0.0).static_argnums([1]);
    let x = f32s(&[1.0, 2.0], &[2]);
    assert_eq!(vals(&f.call((x.clone(), Static(Collide(2)))).unwrap()), vec![2.0, 4.0]);
    assert_eq!(vals(&f.call((x.clone(), Static(Collide(3)))).unwrap()), vec![3.0, 6.0]);
    assert_eq!(f.trace_count(), 2);
    assert_eq!(vals(&f.call((x.clone(), Static(Collide(2)))).unwrap()), vec![2.0, 4.0]);
    assert_eq!(vals(&f.call((x, Static(Collide(3)))).unwrap()), vec![3.0, 6.0]);
    assert_eq!(f.trace_count(), 2);
}

#[test]
fn static_floats_compare_by_bit_pattern() {
    let f = jit(|x: Tensor, s: f64| &x * s).static_argnums([1]);
    let x = f32s(&[1.0], &[1]);
    f.call((x.clone(), 0.5)).unwrap();
    f.call((x.clone(), 0.25 + 0.25)).unwrap();
    assert_eq!(f.trace_count(), 1);
    // 0.0 == -0.0 as numbers, but they are different programs (1/x differs).
    f.call((x.clone(), 0.0)).unwrap();
    let r = f.call((x.clone(), -0.0)).unwrap();
    assert_eq!(f.trace_count(), 3);
    assert!(vals(&r)[0].is_sign_negative());
    // NaN != NaN as numbers, but a NaN static is found in the cache.
    f.call((x.clone(), f64::NAN)).unwrap();
    f.call((x.clone(), f64::NAN)).unwrap();
    assert_eq!(f.trace_count(), 4);
    let why = f.explain_last_miss().unwrap();
    assert!(why.contains("-0.0 became NaN"), "{why}");
    let g = jit(|x: Tensor, s: f32| &x + s).static_argnums([1]);
    g.call((x.clone(), 1.5f32)).unwrap();
    g.call((x, 1.5f32)).unwrap();
    assert_eq!(g.trace_count(), 1);
}

#[test]
fn containers_are_part_of_the_signature() {
    let f = jit(|xs: Vec<Tensor>| xs.iter().fold(Tensor::scalar(0.0f32), |acc, x| &acc + &x.sum(-1)));
    let x = f32s(&[1.0, 2.0], &[2]);
    assert_eq!(vals(&f.call((vec![x.clone(), x.clone()],)).unwrap()), vec![6.0]);
    assert_eq!(vals(&f.call((vec![x.clone(), x.clone()],)).unwrap()), vec![6.0]);
    assert_eq!(f.trace_count(), 1);
    assert_eq!(vals(&f.call((vec![x.clone(), x.clone(), x.clone()],)).unwrap()), vec![9.0]);
    assert_eq!(f.trace_count(), 2);
    let why = f.explain_last_miss().unwrap();
    assert!(why.contains("argument 0") && why.contains("structure"), "{why}");
    assert_eq!(vals(&f.call((vec![],)).unwrap()), vec![0.0]);
    assert_eq!(f.trace_count(), 3);

    // Tuples, nested containers, maps, and tuple results.
    let g = jit(|p: (Tensor, Vec<Tensor>), m: BTreeMap<String, Tensor>| {
        let s = p.1.iter().fold(p.0.clone(), |a, b| &a + b);
        (&s * &m["w"], vec![s.clone(), m["b"].clone()])
    });
    let mut m = BTreeMap::new();
    m.insert("w".to_string(), f32s(&[2.0, 2.0], &[2]));
    m.insert("b".to_string(), f32s(&[0.5, 0.5], &[2]));
    let (a, rest) = g.call(((x.clone(), vec![x.clone()]), m.clone())).unwrap();
    assert_eq!(vals(&a), vec![4.0, 8.0]);
    assert_eq!(rest.len(), 2);
    assert_eq!(vals(&rest[0]), vec![2.0, 4.0]);
    assert_eq!(vals(&rest[1]), vec![0.5, 0.5]);
    g.call(((x.clone(), vec![x.clone()]), m.clone())).unwrap();
    assert_eq!(g.trace_count(), 1);
    // Another key is another structure.
    let mut m2 = m.clone();
    m2.insert("c".to_string(), f32s(&[0.5, 0.5], &[2]));
    let (a, _) = g.call(((x.clone(), vec![x.clone()]), m2)).unwrap();
    assert_eq!(vals(&a), vec![4.0, 8.0]);
    assert_eq!(g.trace_count(), 2);
    let why = g.explain_last_miss().unwrap();
    assert!(why.contains("argument 1") && !why.contains("argument 0"), "{why}");
}

#[test]
fn results_of_any_output_shape() {
    let f = jit(|x: Tensor| -> Result<(Tensor, Vec<Tensor>)> { Ok((x.exp(), vec![x.neg(), x.clone()])) });
    let (e, v) = f.call((f32s(&[0.0], &[1]),)).unwrap();
    assert_eq!(vals(&e), vec![1.0]);
    assert_eq!(vals(&v[0]), vec![-0.0]);
    assert_eq!(vals(&v[1]), vec![0.0]);
    // An `Err` returned by the body is the call's error, and nothing is compiled.
    let g = jit(|x: Tensor| -> Result<Tensor> {
        if x.dims()[0] > 2 {
            return Err(Error::invalid_argument("too long"));
        }
        Ok(x)
    });
    assert!(g.call((f32s(&[1.0; 3], &[3]),)).unwrap_err().to_string().contains("too long"));
    assert_eq!(g.compile_count(), 0);
    assert!(g.call((f32s(&[1.0; 2], &[2]),)).is_ok());
    // A failed trace does not poison the cache for that signature: the next call traces again.
    let h = jit(|x: Tensor, y: Tensor| &x + &y);
    assert!(h.call((f32s(&[1.0; 3], &[3]), f32s(&[1.0; 2], &[2]))).is_err());
    assert!(h.call((f32s(&[1.0; 3], &[3]), f32s(&[1.0; 2], &[2]))).is_err());
    assert_eq!(h.trace_count(), 2);
    assert!(h.call((f32s(&[1.0; 2], &[2]), f32s(&[1.0; 2], &[2]))).is_ok());
}

// ---------------------------------------------------------------------------------------------------------------
// Argument validation
// ---------------------------------------------------------------------------------------------------------------

fn scale(x: Tensor, n: usize) -> Tensor {
    &x * n as f64
}

#[test]
fn a_non_array_dynamic_argument_is_a_clear_error() {
    let f = jit(scale);
    let e = f.call((f32s(&[1.0], &[1]), 3usize)).unwrap_err();
    assert!(matches!(e, Error::Call { .. }), "{e:?}");
    let m = e.to_string();
    assert!(m.contains("`scale`"), "names the function: {m}");
    assert!(m.contains("argument 1") && m.contains("usize") && m.contains("static"), "{m}");
    assert_eq!(f.trace_count(), 0);
    let g = jit(scale).static_argnums([1]);
    assert_eq!(vals(&g.call((f32s(&[1.0], &[1]), 3usize)).unwrap()), vec![3.0]);
    // A tensor cannot be static.
    let h = jit(scale).static_argnums([0, 1]);
    let m = h.call((f32s(&[1.0], &[1]), 3usize)).unwrap_err().to_string();
    assert!(m.contains("argument 0") && m.contains("cannot be static"), "{m}");
}

#[test]
fn out_of_range_and_conflicting_argnums_are_errors() {
    let f = jit(scale).static_argnums([2]);
    let e = f.call((f32s(&[1.0], &[1]), 3usize)).unwrap_err();
    let m = e.to_string();
    assert!(matches!(e, Error::Call { .. }), "{e:?}");
    assert!(m.contains("static_argnums 2") && m.contains("2 arguments"), "{m}");
    let f = jit(scale).static_argnums([1]).donate_argnums([5]);
    let m = f.call((f32s(&[1.0], &[1]), 3usize)).unwrap_err().to_string();
    assert!(m.contains("donate_argnums 5"), "{m}");
    let f = jit(scale).static_argnums([1]).donate_argnums([1]);
    let m = f.call((f32s(&[1.0], &[1]), 3usize)).unwrap_err().to_string();
    assert!(m.contains("argument 1 is both static and donated"), "{m}");
}

#[test]
fn a_failed_argument_reports_its_own_error() {
    let f = jit(|x: Tensor| x.exp());
    let bad = f32s(&[1.0; 2], &[2]) + f32s(&[1.0; 3], &[3]);
    let m = f.call((bad,)).unwrap_err().to_string();
    assert!(m.starts_with("add: "), "{m}");
    assert_eq!(f.trace_count(), 0);
}

#[test]
fn the_name_of_the_function() {
    let f = jit(scale);
    assert!(format!("{f:?}").contains("\"scale\""), "{f:?}");
    let g = jit(|x: Tensor| x);
    assert!(format!("{g:?}").contains("\"the_name_of_the_function\""), "{g:?}");
    let h = jit(|x: Tensor| x).name("step");
    assert!(format!("{h:?}").contains("\"step\""), "{h:?}");
    let m = jit(|x: Tensor, n: usize| x.integer_pow(n as i32))
        .name("power")
        .call((f32s(&[1.0], &[1]), 2))
        .unwrap_err()
        .to_string();
    assert!(m.starts_with("calling jitted `power`:"), "{m}");
}

// ---------------------------------------------------------------------------------------------------------------
// Backends and devices
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn interpreter_backend_by_name() {
    let f = jit(|x: Tensor| &x * 2.0).backend("interpreter");
    assert_eq!(vals(&f.call((f32s(&[1.0, 2.0], &[2]),)).unwrap()), vec![2.0, 4.0]);
    let f = jit(|x: Tensor| &x * 2.0).backend("cpu");
    assert_eq!(vals(&f.call((f32s(&[1.0, 2.0], &[2]),)).unwrap()), vec![2.0, 4.0]);
    let f = jit(|x: Tensor| &x * 2.0).device("cpu:0");
    assert_eq!(vals(&f.call((f32s(&[1.0, 2.0], &[2]),)).unwrap()), vec![2.0, 4.0]);
    let f = jit(|x: Tensor| &x * 2.0).device("cpu");
    assert!(f.call((f32s(&[1.0, 2.0], &[2]),)).is_ok());
}

#[test]
fn unknown_backend_lists_the_available_ones() {
    let f = jit(|x: Tensor| x).backend("nope");
    let e = f.call((f32s(&[1.0], &[1]),)).unwrap_err();
    match &e {
        Error::UnknownBackend { name, available } => {
            assert_eq!(name, "nope");
            assert!(available.contains("interpreter"), "{available}");
        }
        other => panic!("expected UnknownBackend, got {other:?}"),
    }
    assert!(e.to_string().contains("unknown backend `nope`"), "{e}");
    assert_eq!(f.trace_count(), 0);
    assert!(f.lower((f32s(&[1.0], &[1]),)).is_err());
}

#[test]
fn a_missing_device_is_an_error_naming_the_available_devices() {
    for (device, canonical) in [("cuda:0", "cuda:0"), ("gpu:1", "cuda:1"), ("cuda", "cuda:0")] {
        let f = jit(|x: Tensor| x).device(device);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.call((f32s(&[1.0], &[1]),))));
        let e = r.expect("no panic").unwrap_err();
        let m = e.to_string();
        assert!(matches!(e, Error::UnknownDevice { .. }), "{e:?}");
        assert!(m.contains("devices available: cpu:0"), "{device}: names the devices available: {m}");
        assert!(m.contains(canonical), "{device}: names what was asked for: {m}");
        assert_eq!(f.trace_count(), 0);
    }
    // cpu:1 does not exist either.
    let m = jit(|x: Tensor| x).device("cpu:1").call((f32s(&[1.0], &[1]),)).unwrap_err().to_string();
    assert!(m.contains("cpu:1") && m.contains("cpu:0"), "{m}");
    // Not a device name at all.
    let e = jit(|x: Tensor| x).device("tpu:0").call((f32s(&[1.0], &[1]),)).unwrap_err();
    assert!(matches!(e, Error::UnknownDevice { .. }), "{e:?}");
    assert!(e.to_string().contains("tpu:0"), "{e}");
    let e = jit(|x: Tensor| x).device("cpu:x").call((f32s(&[1.0], &[1]),)).unwrap_err();
    assert!(e.to_string().contains("cpu:x"), "{e}");
    // The GPU backend by name, without a GPU backend registered.
    let m = jit(|x: Tensor| x).backend("gpu").call((f32s(&[1.0], &[1]),)).unwrap_err().to_string();
    assert!(m.contains("cpu:0"), "{m}");
    // Both a backend and a device.
    let m = jit(|x: Tensor| x).backend("cpu").device("cpu:0").call((f32s(&[1.0], &[1]),)).unwrap_err().to_string();
    assert!(m.contains("either a backend or a device"), "{m}");
}

// ---------------------------------------------------------------------------------------------------------------
// lower, disable_jit, nesting
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn lower_gives_the_traced_program_as_text() {
    let f = jit(|x: Tensor, y: Tensor| ((&x * 2.0) + &y).tanh().sum(-1));
    let lowered = f.lower((Tensor::zeros(DType::F32, [2, 3]), Tensor::zeros(DType::F32, [3]))).unwrap();
    expect![[r#"
        { lambda ; a:f32[2,3] b:f32[3]. let
            c:f32[] = constant[value=[2.0]]
            d:f32[2,3] = broadcast_in_dim[broadcast_dimensions=() shape=(2, 3)] c
            e:f32[2,3] = mul a d
            f:f32[2,3] = broadcast_in_dim[broadcast_dimensions=(1,) shape=(2, 3)] b
            g:f32[2,3] = add e f
            h:f32[2,3] = tanh g
            i:f32[2] = reduce_sum[axes=(1,)] h
          in (i,) }"#]]
    .assert_eq(&lowered.as_text());
    assert_eq!(lowered.graph().num_ops(), 7);
    assert_eq!(f.trace_count(), 1);
    // `lower` fills the cache that `call` uses.
    f.call((Tensor::zeros(DType::F32, [2, 3]), Tensor::zeros(DType::F32, [3]))).unwrap();
    assert_eq!(f.trace_count(), 1);
    assert!(lowered.artifacts().is_empty(), "the interpreter produces no artefacts");
}

#[test]
fn disable_jit_runs_eagerly_with_equal_results() {
    let f = jit(|x: Tensor, n: usize| (x.integer_pow(n as i32) * 0.5).softmax(-1)).static_argnums([1]);
    let x = f32s(&[0.1, -2.0, 3.5, 0.0], &[2, 2]);
    assert!(!jit_disabled());
    let eager = disable_jit(|| {
        assert!(jit_disabled());
        f.call((x.clone(), 3)).unwrap()
    });
    assert!(!jit_disabled(), "restored afterwards");
    assert_eq!(f.trace_count(), 0, "nothing traced under disable_jit");
    assert_eq!(f.compile_count(), 0);
    let jitted = f.call((x.clone(), 3)).unwrap();
    assert_eq!(f.trace_count(), 1);
    let bits = |t: &Tensor| vals(t).iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&eager), bits(&jitted));
    // Nested disable_jit scopes restore the outer state.
    disable_jit(|| {
        disable_jit(|| {});
        assert!(jit_disabled());
    });
    // Errors come out of an eager call as from a jitted one, also when the failing tensor was dropped.
    let d = jit(|x: Tensor| {
        let _ = x.sum(3);
        x
    });
    let m = disable_jit(|| d.call((f32s(&[1.0], &[1]),))).unwrap_err().to_string();
    assert!(m.starts_with("reduce_sum: "), "{m}");
    assert!(d.call((f32s(&[1.0], &[1]),)).unwrap_err().to_string().starts_with("reduce_sum: "));
    // ... and when a nested jitted call's error was dropped by the outer body.
    let outer = jit(|x: Tensor| {
        let _ = d.call((x.clone(),));
        x
    });
    assert!(outer.call((f32s(&[1.0], &[1]),)).is_err());
    assert!(disable_jit(|| outer.call((f32s(&[1.0], &[1]),))).is_err());
    // Errors outside a jitted call are not charged to it.
    let _ = f32s(&[1.0], &[1]).sum(5);
    assert!(disable_jit(|| f.call((x.clone(), 3))).is_ok());
    let g = jit(|x: Tensor| x.matmul(&x));
    let m = disable_jit(|| g.call((f32s(&[1.0, 2.0], &[1, 2]),))).unwrap_err().to_string();
    assert!(m.starts_with("matmul: "), "{m}");
}

#[test]
fn a_jitted_function_calling_another_inlines_it() {
    let inner = jit(|x: Tensor| x.exp() + 1.0);
    let outer = jit(|x: Tensor| -> Result<Tensor> {
        let y = inner.call((x.clone(),))?;
        assert!(y.is_traced(), "inside the outer trace the inner result is symbolic");
        Ok(&y * 2.0)
    });
    let x = f32s(&[0.0, 1.0], &[2]);
    let r = outer.call((x.clone(),)).unwrap();
    assert_eq!(inner.trace_count(), 0, "inlined, not traced separately");
    assert_eq!(outer.trace_count(), 1);
    let want: Vec<f32> = [0.0f32, 1.0].iter().map(|v| (v.exp() + 1.0) * 2.0).collect();
    let got = vals(&r);
    assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6), "{got:?}");
    // The outer program contains the inner ops.
    let text = outer.lower((x.clone(),)).unwrap().as_text();
    assert!(text.contains("exp"), "{text}");
    // Called on its own, the inner function traces.
    inner.call((x,)).unwrap();
    assert_eq!(inner.trace_count(), 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn concurrent_first_calls_with_one_signature_compile_once() {
    let f = Arc::new(jit(|x: Tensor| {
        // Widen the window in which other threads arrive while this trace runs.
        std::thread::sleep(std::time::Duration::from_millis(20));
        &x * 3.0 + 1.0
    }));
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (f, barrier) = (Arc::clone(&f), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let x = f32s(&[i as f32, 1.0], &[2]);
                barrier.wait();
                (i, f.call((x,)).map(|t| vals(&t)))
            })
        })
        .collect();
    for h in handles {
        let (i, r) = h.join().expect("no panic");
        assert_eq!(r.unwrap(), vec![3.0 * i as f32 + 1.0, 4.0]);
    }
    assert_eq!(f.compile_count(), 1);
    assert_eq!(f.trace_count(), 1);
}

#[test]
fn concurrent_first_calls_with_different_shapes_compile_once_per_shape() {
    let f = Arc::new(jit(|x: Tensor| {
        std::thread::sleep(std::time::Duration::from_millis(20));
        x.sum(-1)
    }));
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (f, barrier) = (Arc::clone(&f), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let n = 1 + i % 4; // four shapes, two threads each
                let x = Tensor::ones(DType::F32, [n]);
                barrier.wait();
                (n, f.call((x,)).map(|t| vals(&t)))
            })
        })
        .collect();
    for h in handles {
        let (n, r) = h.join().expect("no panic");
        assert_eq!(r.unwrap(), vec![n as f32]);
    }
    assert_eq!(f.compile_count(), 4);
    assert_eq!(f.trace_count(), 4);
}

// ---------------------------------------------------------------------------------------------------------------
// Donation
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn donated_arrays_are_unusable_afterwards() {
    let f = jit(|state: Tensor, grad: Tensor| &state - &(&grad * 0.5)).donate_argnums([0]);
    let state = f32s(&[1.0, 2.0], &[2]);
    let copy_a = state.clone();
    let copy_b = state.clone();
    let grad = f32s(&[2.0, 2.0], &[2]);
    let new_state = f.call((state, grad.clone())).unwrap();
    assert_eq!(vals(&new_state), vec![0.0, 1.0]);
    for c in [&copy_a, &copy_b] {
        match c.to_array() {
            Ok(a) => assert!(a.literal().is_err(), "a donated buffer must not be readable"),
            Err(e) => panic!("{e}"),
        }
        let e = c.to_vec::<f32>().unwrap_err();
        assert!(matches!(&e, Error::Donated { to } if to.contains("donated_arrays_are_unusable_afterwards")), "{e:?}");
    }
    assert!(copy_a.to_array().unwrap().is_donated());
    // Not donated: still readable.
    assert_eq!(vals(&grad), vec![2.0, 2.0]);
    // The result can be donated in turn.
    let newer = f.call((new_state.clone(), grad)).unwrap();
    assert_eq!(vals(&newer), vec![-1.0, 0.0]);
    assert!(new_state.to_vec::<f32>().is_err());
    assert_eq!(f.trace_count(), 1);
    assert!(f.warnings().is_empty(), "the donation was usable: {:?}", f.warnings());
}

#[test]
fn an_unusable_donation_is_reported_once() {
    let f = jit(|x: Tensor| x.sum(-1)).donate_argnums([0]);
    let r = f.call((f32s(&[1.0, 2.0], &[2]),)).unwrap();
    assert_eq!(vals(&r), vec![3.0]);
    f.call((f32s(&[3.0, 4.0], &[2]),)).unwrap();
    let w = f.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("argument 0") && w[0].contains("f32[2]"), "{}", w[0]);
    // A dtype change makes the donation unusable too.
    let g = jit(|x: Tensor, y: Tensor| (x.astype(DType::I32), &y * 2)).donate_argnums([0]);
    let i = Tensor::vector(&[1i32]);
    g.call((f32s(&[1.0], &[1]), i.clone())).unwrap();
    g.call((f32s(&[1.0], &[1]), i.clone())).unwrap();
    let w = g.warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("argument 0"), "{}", w[0]);
    assert!(!w[0].contains("argument 1"), "{}", w[0]);
    // A new signature is a new compile, with its own report.
    g.call((f32s(&[1.0, 2.0], &[2]), i)).unwrap();
    assert_eq!(g.warnings().len(), 2);
    // An output that can take the buffer: no report.
    let h = jit(|x: Tensor| x.exp()).donate_argnums([0]);
    h.call((f32s(&[1.0], &[1]),)).unwrap();
    assert!(h.warnings().is_empty(), "{:?}", h.warnings());
}

#[test]
fn donating_the_same_buffer_twice_is_an_error_not_stale_data() {
    let f = jit(|a: Tensor, b: Tensor| &a + &b).donate_argnums([0, 1]);
    let x = f32s(&[1.0], &[1]);
    let e = f.call((x.clone(), x.clone())).unwrap_err();
    assert!(matches!(e, Error::Donated { .. }), "{e:?}");
    // Donated and kept at once: a clean error, and the kept read happens first.
    let g = jit(|a: Tensor, b: Tensor| &a + &b).donate_argnums([0]);
    let y = f32s(&[1.0], &[1]);
    let r = g.call((y.clone(), y.clone()));
    // Either the call works (reading `b` before donating `a`) or it is a clear error; never a panic.
    if let Ok(t) = r {
        assert_eq!(vals(&t), vec![2.0]);
    }
    assert!(y.to_vec::<f32>().is_err(), "donated");
}
