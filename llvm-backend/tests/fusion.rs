//! Snapshot tests of fusion decisions (`UPDATE_EXPECT=1 cargo test -p llvm-backend --test fusion` rewrites them).

use expect_test::{Expect, expect};
use jit_runtime::ir::TensorType;
use jit_runtime::trace::trace_to_graph;
use jit_runtime::{DType, Tensor};
use llvm_backend::fuse;

fn check(params: &[&[usize]], f: impl FnOnce(Vec<Tensor>) -> Vec<Tensor>, expected: Expect) {
    let types: Vec<TensorType> = params.iter().map(|d| TensorType::new(DType::F32, d.to_vec())).collect();
    let graph = trace_to_graph("f", &types, |x| Ok(f(x))).unwrap();
    let plan = fuse::plan(&graph);
    expected.assert_eq(&plan.display(&graph).to_string());
}

#[test]
fn an_elementwise_chain_is_one_kernel() {
    check(
        &[&[16], &[16], &[16]],
        |x| {
            let (a, b, c) = (&x[0], &x[1], &x[2]);
            vec![(a * b + c).tanh() * 0.5f32 + (-(a * a)).exp()]
        },
        expect![[r#"
            kernel 0 loop m:f32[16] = add <- [a b c] fused [mul(d) add(e) tanh(f) constant(g) broadcast_in_dim(h) mul(i) mul(j) neg(k) exp(l)]
        "#]],
    );
}

#[test]
fn a_bias_broadcast_fuses_into_the_activation_after_the_gemm() {
    check(
        &[&[4, 8], &[8, 3], &[3]],
        |x| vec![(x[0].matmul(&x[1]) + &x[2]).relu()],
        expect![[r#"
        kernel 0 dot d:f32[4,3] = dot_general <- [a b]
        kernel 1 loop i:f32[4,3] = max <- [c d] fused [broadcast_in_dim(e) add(f) constant(g) broadcast_in_dim(h)]
    "#]],
    );
}

#[test]
fn softmax_is_two_reductions_and_their_consumers() {
    check(
        &[&[4, 10]],
        |x| vec![x[0].softmax(-1)],
        expect![[r#"
        kernel 0 reduce b:f32[4] = reduce_max <- [a]
        kernel 1 loop g:f32[4,10] = exp <- [a b] fused [reshape(c) stop_gradient(d) broadcast_in_dim(e) sub(f)]
        kernel 2 reduce h:f32[4] = reduce_sum <- [g]
        kernel 3 loop k:f32[4,10] = div <- [g h] fused [reshape(i) broadcast_in_dim(j)]
    "#]],
    );
}

#[test]
fn a_value_with_two_consumers_is_materialised_unless_cheap() {
    check(
        &[&[32]],
        |x| {
            let e = x[0].exp();
            let iota = Tensor::iota(DType::F32, [32], 0);
            vec![&e + &iota, &e * &iota]
        },
        expect![[r#"
            kernel 0 loop b:f32[32] = exp <- [a]
            kernel 1 loop d:f32[32] = add <- [b] fused [iota(c)]
            kernel 2 loop e:f32[32] = mul <- [b] fused [iota(c)]
        "#]],
    );
}
