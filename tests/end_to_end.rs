//! End-to-end tests of the facade: what a model crate sees through `lifted_jit::prelude`.

use lifted_jit::prelude::*;
use proptest::prelude::*;

/// A two-layer MLP forward with everything a real model uses: matmul, bias broadcast, activations, a softmax head.
fn mlp(x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor) -> (Tensor, Tensor) {
    let h = (x.matmul(&w1) + &b1).gelu();
    let logits = h.matmul(&w2);
    let probs = logits.softmax(-1);
    (probs, logits.logsumexp(-1))
}

fn inputs(seed: i64, batch: usize, d_in: usize, hidden: usize, out: usize) -> (Tensor, Tensor, Tensor, Tensor) {
    let key = random::key(seed);
    let k = |i| random::fold_in(&key, i);
    (
        random::normal(&k(0), [batch, d_in]),
        random::truncated_normal(&k(1), -2.0, 2.0, [d_in, hidden]).mul_scalar(0.3f32),
        random::uniform_range(&k(2), [hidden], -0.1, 0.1),
        random::normal(&k(3), [hidden, out]).mul_scalar(0.2f32),
    )
}

/// Largest difference relative to the magnitude, for comparing backends whose transcendental functions and GEMM
/// round differently from the interpreter's.
fn max_rel_diff(a: &Tensor, b: &Tensor) -> f32 {
    let (a, b) = (a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
    assert_eq!(a.len(), b.len());
    a.iter().zip(&b).map(|(x, y)| (x - y).abs() / (1.0 + y.abs())).fold(0.0, f32::max)
}

#[test]
fn jitted_mlp_on_the_interpreter_equals_eager_bit_for_bit() {
    let f = jit(mlp).backend("interpreter");
    for seed in 0..4 {
        let (x, w1, b1, w2) = inputs(seed, 5, 7, 6, 3);
        let (p, lse) = f.call((x.clone(), w1.clone(), b1.clone(), w2.clone())).unwrap();
        let (pe, lsee) = disable_jit(|| mlp(x, w1, b1, w2));
        assert_eq!(p.to_vec::<f32>().unwrap(), pe.to_vec::<f32>().unwrap());
        assert_eq!(lse.to_vec::<f32>().unwrap(), lsee.to_vec::<f32>().unwrap());
        let rows = p.sum(-1).to_vec::<f32>().unwrap();
        assert!(rows.iter().all(|s| (s - 1.0).abs() < 1e-5), "softmax rows sum to 1: {rows:?}");
    }
    assert_eq!(f.trace_count(), 1, "equal shapes share one trace");
}

#[test]
fn jitted_mlp_compiled_by_llvm_agrees_with_eager() {
    let f = jit(mlp);
    for seed in 0..4 {
        let (x, w1, b1, w2) = inputs(seed, 5, 7, 6, 3);
        let (p, lse) = f.call((x.clone(), w1.clone(), b1.clone(), w2.clone())).unwrap();
        let (pe, lsee) = disable_jit(|| mlp(x, w1, b1, w2));
        assert!(max_rel_diff(&p, &pe) < 1e-5, "{}", max_rel_diff(&p, &pe));
        assert!(max_rel_diff(&lse, &lsee) < 1e-5, "{}", max_rel_diff(&lse, &lsee));
    }
    let text = f.lower(inputs(0, 5, 7, 6, 3)).unwrap().artifacts();
    assert!(text.iter().any(|(k, v)| k == "llvm-ir-opt" && v.contains("ljit_driver")), "the default backend is LLVM");
}

#[test]
fn random_numbers_compiled_by_llvm_are_jaxs() {
    // JAX 0.10.2 on CPU: `jax.random.truncated_normal(PRNGKey(42), -2, 2, (3, 4))` (XLA fuses the uniform step).
    let jax = [
        0xbcdd51b4u32,
        0x3ee385e2,
        0x3e905231,
        0x3e160635,
        0xbdf267ef,
        0x3e53df8e,
        0xbfa86548,
        0x3f36f91c,
        0x3efdbd61,
        0x3f5b42b9,
        0xbebb7b9b,
        0x3f87ebec,
    ];
    let f = jit(|k: Tensor| random::truncated_normal(&k, -2.0, 2.0, [3, 4]));
    let t = f.call((random::key(42),)).unwrap();
    assert_eq!(t.to_vec::<f32>().unwrap().iter().map(|x| x.to_bits()).collect::<Vec<_>>(), jax);
}

#[test]
fn shape_errors_come_out_of_the_call_with_the_source_line() {
    let f = jit(mlp);
    let (x, w1, b1, w2) = inputs(0, 5, 7, 6, 3);
    let bad_w2 = Tensor::zeros(DType::F32, [4, 3]);
    let err = f.call((x, w1, b1, bad_w2)).unwrap_err().to_string();
    assert!(err.contains("matmul"), "{err}");
    assert!(err.contains("f32[5,6]") && err.contains("f32[4,3]"), "{err}");
    assert!(err.contains("tests/end_to_end.rs:9:"), "the location is the user's matmul call: {err}");
    let _ = w2;
}

#[test]
fn lowered_text_reads_back_through_the_parser() {
    let f = jit(mlp);
    let (x, w1, b1, w2) = inputs(1, 2, 3, 4, 2);
    let text = f.lower((x, w1, b1, w2)).unwrap().as_text();
    let graph = lifted_jit::ir::parse(&text).unwrap();
    assert_eq!(graph.to_string(), text);
    assert_eq!(graph.params().len(), 4);
    assert_eq!(graph.outputs().len(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The compiled program (LLVM) agrees with op-by-op execution (the interpreter) on random sizes.
    #[test]
    fn jit_agrees_with_eager_on_random_shapes(
        seed in 0i64..1000, batch in 1usize..6, d_in in 1usize..9, hidden in 1usize..9, out in 1usize..5,
    ) {
        let (x, w1, b1, w2) = inputs(seed, batch, d_in, hidden, out);
        let f = jit(mlp);
        let (p, lse) = f.call((x.clone(), w1.clone(), b1.clone(), w2.clone())).unwrap();
        let (pe, lsee) = disable_jit(|| mlp(x, w1, b1, w2));
        prop_assert_eq!(p.dims(), &[batch, out]);
        prop_assert!(max_rel_diff(&p, &pe) < 1e-5);
        prop_assert!(max_rel_diff(&lse, &lsee) < 1e-5);
    }
}
