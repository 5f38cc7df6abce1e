//! The GPU backend's kernels run in the CPU emulation (`llvm_backend::gpu::emulate`: the same entry points with the
//! thread/block indices as arguments, every (block, thread) of each launch called in turn) against the reference
//! interpreter: hand-picked programs of every kernel kind, then random programs.
//!
//! The emulated grid is small (4 threads per block, at most 3 blocks, or 1×1 and 32×1000 in some tests), so large
//! kernels take several turns of the grid-stride loop and small ones leave threads idle, as on a GPU. The buffers
//! the kernels compute start as NaN (floats) or 77 (integers), so an element no thread writes is seen.
//!
//! Tolerances as in `random_programs.rs`: everything is compared bit for bit (the transcendental functions are the
//! same polynomials in the interpreter and the kernels) except float sum reductions, which the kernels may
//! reassociate: those are compared within [`common::sum_bound`], and values computed from them are not compared.
//! `LIFTED_JIT_GPU_EMU_CASES=n` sets the number of random programs (default 300).

mod common;
mod programs;

use std::sync::Arc;

use common::*;
use jit_runtime::backend::Executable;
use jit_runtime::ir::{ArgReduceOp, BinaryOp, DotDims, Graph, Op, ReduceOp, UnaryOp};
use jit_runtime::{DType, Literal};
use llvm_backend::gpu::{BlockReduce, EmulatedGrid, compile_emulated};
use programs::folds::fold_programs;
use programs::random_program;
use proptest::prelude::*;

fn emulated(graph: &Graph, grid: EmulatedGrid, inputs: &[Arc<Literal>]) -> Result<Vec<Arc<Literal>>, String> {
    let exe = compile_emulated(graph, &options("emulated", graph.params().len()), grid)
        .map_err(|e| format!("emulated compile failed: {e}\n{graph}"))?;
    exe.run(inputs.to_vec()).map_err(|e| format!("emulated run failed: {e}\n{graph}"))
}

/// Runs `graph` emulated on `grid` and in the interpreter; compares output `i` under `tols[i]` (`None`: type only).
fn check_emulated(
    graph: &Graph,
    grid: EmulatedGrid,
    inputs: &[Arc<Literal>],
    tols: &[Option<Tol>],
) -> Result<(), String> {
    check_run_against_interpreter(graph, inputs, tols, || emulated(graph, grid, inputs))
}

/// 4 threads per block, at most 3 blocks; reductions folded by blocks of two warps of 4 lanes.
const SMALL: EmulatedGrid = EmulatedGrid { threads: 4, max_blocks: 3, blocks: Some(EmulatedGrid::SMALL_BLOCKS) };
/// One thread, reductions folded serially by the thread of each output element.
const ONE: EmulatedGrid = EmulatedGrid { threads: 1, max_blocks: 1, blocks: None };
/// Many blocks; reductions over 16 elements or more folded by blocks of up to four warps of 8 lanes.
const WIDE: EmulatedGrid = EmulatedGrid {
    threads: 32,
    max_blocks: 1000,
    blocks: Some(BlockReduce { warp: 8, max_threads: 32, min_reduced: 16, max_column_outputs: 1000 }),
};

/// One program of each kernel kind, with outputs of sizes around the grid's (below, equal, a few turns above).
fn kernel_kinds() -> Vec<(&'static str, Graph, Vec<Arc<Literal>>)> {
    let mut rng = Rng(7);
    let mut out = Vec::new();
    for n in [1usize, 11, 12, 13, 50, 1000] {
        let mut b = Builder::new();
        let x = b.param(DType::F32, &[n]);
        let y = b.param(DType::F32, &[n]);
        let e = b.op(Op::Unary(UnaryOp::Tanh), &[x]);
        let s = b.op(Op::Binary(BinaryOp::Mul), &[e, y]);
        let g = b.finish(vec![s]);
        let ins = vec![literal(DType::F32, &[n], Fill::LHS, &mut rng), literal(DType::F32, &[n], Fill::RHS, &mut rng)];
        out.push(("elementwise", g, ins));
    }
    // A broadcast (a row added to every row of a matrix) and a transpose: a non-flat loop kernel on the CPU, flat here.
    let mut b = Builder::new();
    let m = b.param(DType::I32, &[7, 9]);
    let r = b.param(DType::I32, &[9]);
    let rb = b.op(Op::BroadcastInDim { shape: vec![7, 9].into(), broadcast_dimensions: vec![1] }, &[r]);
    let s = b.op(Op::Binary(BinaryOp::Add), &[m, rb]);
    let t = b.op(Op::Transpose { permutation: vec![1, 0] }, &[s]);
    let g = b.finish(vec![t, s]);
    out.push((
        "broadcast",
        g,
        vec![literal(DType::I32, &[7, 9], Fill::LHS, &mut rng), literal(DType::I32, &[9], Fill::RHS, &mut rng)],
    ));
    // Reductions keeping the last axis (the row kernel), dropping it, and to a scalar; an arg-reduction.
    for (axes, dtype) in
        [(vec![0], DType::F64), (vec![1], DType::I32), (vec![0, 1, 2], DType::F32), (vec![0, 2], DType::I64)]
    {
        let mut b = Builder::new();
        let x = b.param(dtype, &[6, 5, 15]);
        let s = b.op(Op::Reduce { op: ReduceOp::Max, axes: axes.clone() }, &[x]);
        let p = b.op(Op::Reduce { op: ReduceOp::Sum, axes }, &[x]);
        let a = b.op(Op::ArgReduce { op: ArgReduceOp::ArgMin, axis: 2, index_dtype: DType::I32 }, &[x]);
        let g = b.finish(vec![s, p, a]);
        out.push(("reduction", g, vec![literal(dtype, &[6, 5, 15], Fill::SmallInt, &mut rng)]));
    }
    // Matrix products: f32 (the GEMM on the CPU, the generated loop here), batched i32, and a transposed operand.
    let mut b = Builder::new();
    let l = b.param(DType::F32, &[13, 8]);
    let r = b.param(DType::F32, &[8, 5]);
    let d = b.op(
        Op::DotGeneral(DotDims { lhs_contracting: vec![1], rhs_contracting: vec![0], ..DotDims::default() }),
        &[l, r],
    );
    let g = b.finish(vec![d]);
    out.push((
        "dot",
        g,
        vec![
            literal(DType::F32, &[13, 8], Fill::Moderate, &mut rng),
            literal(DType::F32, &[8, 5], Fill::Moderate, &mut rng),
        ],
    ));
    let mut b = Builder::new();
    let l = b.param(DType::I32, &[3, 4, 6]);
    let r = b.param(DType::I32, &[3, 5, 6]);
    let dims = DotDims { lhs_batch: vec![0], rhs_batch: vec![0], lhs_contracting: vec![2], rhs_contracting: vec![2] };
    let d = b.op(Op::DotGeneral(dims), &[l, r]);
    let g = b.finish(vec![d]);
    out.push((
        "batched dot",
        g,
        vec![
            literal(DType::I32, &[3, 4, 6], Fill::LHS, &mut rng),
            literal(DType::I32, &[3, 5, 6], Fill::RHS, &mut rng),
        ],
    ));
    // threefry2x32: the random bits must be the interpreter's.
    let mut b = Builder::new();
    let ins: Vec<_> = (0..4).map(|_| b.param(DType::U32, &[37])).collect();
    let t = b.g.add(Op::Threefry2x32, &ins, None).expect("threefry");
    let g = b.finish(t);
    out.push(("threefry", g, (0..4).map(|_| literal(DType::U32, &[37], Fill::UNARY, &mut rng)).collect()));
    out
}

#[test]
fn every_kernel_kind_agrees_with_the_interpreter_on_several_grids() {
    let mut failures = Vec::new();
    for (name, g, ins) in kernel_kinds() {
        let tols = reduction_tols(&g, &ins);
        let tols: Vec<Option<Tol>> = tols.into_iter().map(Some).collect();
        for grid in [SMALL, ONE, WIDE] {
            if let Err(e) = check_emulated(&g, grid, &ins, &tols) {
                failures.push(format!("{name} on {grid:?}: {e}"));
            }
        }
    }
    report(failures);
}

#[test]
fn the_emulated_program_has_one_entry_per_kernel() {
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[10, 3]);
    let y = b.op(Op::Unary(UnaryOp::Neg), &[x]);
    let s = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[y]);
    let g = b.finish(vec![s]);
    let x = Arc::new(Literal::from_vec((0..30).map(|i| i as f32).collect::<Vec<f32>>(), [10, 3]).expect("literal"));
    let want: Vec<f32> = (0..10).map(|r| -((3 * r) as f32 + (3 * r + 1) as f32 + (3 * r + 2) as f32)).collect();
    // A thread per row (`ONE` folds serially) or a block per row (`SMALL`): the same entry signature, the table,
    // the extent, the four indices and the team; the CPU wrapper is gone.
    for (grid, blocks) in [(ONE, false), (SMALL, true)] {
        let exe = compile_emulated(&g, &options("entries", 1), grid).expect("compiles");
        let ir = exe.artifacts().into_iter().find(|(k, _)| k == "llvm-ir").map(|(_, t)| t).expect("llvm-ir artifact");
        assert!(ir.contains("define void @ljit_k0(ptr %0, i64 %1, i64 %2, i64 %3, i64 %4, i64 %5, ptr %6)"), "{ir}");
        assert!(!ir.contains("@ljit_k1"), "{ir}");
        // The block-folded body calls the team's barrier and shuffle through the pointers it is given.
        assert_eq!(ir.contains("call void %team_field"), blocks, "{ir}");
        assert_eq!(ir.contains("%shuffled = call i32 %team_field"), blocks, "{ir}");
        let out = exe.run(vec![Arc::clone(&x)]).expect("runs");
        assert_eq!(out[0].to_vec::<f32>().expect("f32"), want);
    }
}

#[test]
fn wrong_inputs_are_errors() {
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[3]);
    let y = b.op(Op::Unary(UnaryOp::Neg), &[x]);
    let g = b.finish(vec![y, x]);
    let exe = compile_emulated(&g, &options("wrong", 1), SMALL).expect("compiles");
    let err = exe.run(vec![Arc::new(Literal::vector(vec![1i32, 2, 3]))]).expect_err("dtype");
    assert!(err.to_string().contains("input 0 is i32[3]"), "{err}");
    assert!(exe.run(vec![]).is_err());
    // A parameter returned as an output is the input itself.
    let x = Arc::new(Literal::vector(vec![1f32, 2.0, 3.0]));
    let out = exe.run(vec![Arc::clone(&x)]).expect("runs");
    assert!(Arc::ptr_eq(&out[1], &x));
    assert_eq!(out[0].to_vec::<f32>().expect("f32"), vec![-1.0, -2.0, -3.0]);
}

fn cases() -> u32 {
    std::env::var("LIFTED_JIT_GPU_EMU_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(300)
}

fn check_random(data: &[u32], seed: u64) -> Result<(), String> {
    let p = random_program(data, seed);
    let tols = p.tolerances();
    check_emulated(&p.graph, SMALL, &p.inputs, &tols)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_programs_on_the_emulated_gpu_agree_with_the_interpreter(
        data in prop::collection::vec(any::<u32>(), 0..120),
        seed in any::<u64>(),
    ) {
        check_random(&data, seed).map_err(TestCaseError::fail)?;
    }
}

fn emulated_jit_backend() -> &'static str {
    llvm_backend::register();
    jit_runtime::backend::register_backend(Arc::new(llvm_backend::gpu::EmulatedGpuBackend { grid: SMALL, devices: 2 }));
    llvm_backend::gpu::EMULATED_BACKEND_NAME
}

fn bits(t: &jit_runtime::Tensor) -> Vec<u32> {
    t.to_vec::<f32>().expect("f32").iter().map(|v| v.to_bits()).collect()
}

#[test]
fn jit_random_numbers_on_the_emulated_gpu_are_the_cpus_bit_for_bit() {
    use jit_runtime::{Tensor, random};
    let gpu = emulated_jit_backend();
    let body = |x: Tensor| {
        let noise = random::normal(&random::key(42), [100, 37]);
        let u = random::uniform(&random::split_one(&random::key(7), 1), [4099]);
        let keep = random::bernoulli(&random::key(3), 0.3, [257]);
        ((&x * &noise).tanh(), u, keep)
    };
    let x = random::normal(&random::key(1), [100, 37]);
    let cpu = jit_runtime::jit::jit(body).call((x.clone(),)).expect("cpu");
    let emu = jit_runtime::jit::jit(body).backend(gpu).call((x,)).expect("emulated gpu");
    assert_eq!(bits(&cpu.0), bits(&emu.0));
    assert_eq!(bits(&cpu.1), bits(&emu.1));
    assert_eq!(cpu.2.to_vec::<bool>().expect("bool"), emu.2.to_vec::<bool>().expect("bool"));
}

#[test]
fn jit_mlp_forward_on_the_emulated_gpu_matches_the_interpreter() {
    use jit_runtime::{Tensor, random};
    let gpu = emulated_jit_backend();
    let body = |x: Tensor, w1: Tensor, w2: Tensor| {
        let h = x.matmul(&w1).relu();
        let logits = h.matmul(&w2);
        (logits.softmax(-1), logits.sum(0), logits.argmax(-1))
    };
    let x = random::normal(&random::key(0), [33, 20]);
    let w1 = random::normal(&random::key(1), [20, 17]).mul_scalar(0.3f32);
    let w2 = random::normal(&random::key(2), [17, 10]).mul_scalar(0.3f32);
    let want =
        jit_runtime::jit::jit(body).backend("interpreter").call((x.clone(), w1.clone(), w2.clone())).expect("interp");
    let got = jit_runtime::jit::jit(body).backend(gpu).call((x, w1, w2)).expect("emulated gpu");
    // The products sum in the interpreter's order (exact); softmax's and the column sums are reassociated.
    for (g, w) in [(&got.0, &want.0), (&got.1, &want.1)] {
        let (g, w) = (g.to_vec::<f32>().expect("f32"), w.to_vec::<f32>().expect("f32"));
        assert_eq!(g.len(), w.len());
        for (a, b) in g.iter().zip(&w) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }
    assert_eq!(got.2.to_vec::<i32>().expect("i32"), want.2.to_vec::<i32>().expect("i32"));
}

/// Float `rem` is an exact `fmod` on the GPU (NVPTX's own `frem` is `x - trunc(x / y) * y`): every pair of edge
/// values, then random values of every magnitude, subnormals and huge quotients included.
#[test]
fn float_remainder_is_exact_fmod() {
    let mut rng = Rng(13);
    let mut failures = Vec::new();
    for d in [DType::F32, DType::F64] {
        let mut b = Builder::new();
        let x = b.param(d, &[4000]);
        let y = b.param(d, &[4000]);
        let r = b.op(Op::Binary(BinaryOp::Rem), &[x, y]);
        let g = b.finish(vec![r]);
        for (fx, fy) in [(Fill::LHS, Fill::RHS), (Fill::UNARY, Fill::UNARY), (Fill::Moderate, Fill::UNARY)] {
            let ins = vec![literal(d, &[4000], fx, &mut rng), literal(d, &[4000], fy, &mut rng)];
            if let Err(e) = check_emulated(&g, SMALL, &ins, &[Some(Tol::Exact)]) {
                failures.push(format!("{d}: {e}"));
            }
        }
        // Quotients far beyond the mantissa: 1e30 % 3, subnormal divisors, exact multiples.
        let (xs, ys): (Vec<f64>, Vec<f64>) = [
            (1e30, 3.0),
            (-1e30, 7.0),
            (3.4e38, 1.1e-38),
            (5.0, 2.5),
            (-5.0, 2.5),
            (1.0, 1e-40),
            (1e-40, 3e-41),
            (6.0, -4.0),
            (0.5, 0.3),
            (1e300, 1e-300),
        ]
        .into_iter()
        .unzip();
        let lit = |v: &[f64]| -> Arc<Literal> {
            let n = [v.len()];
            Arc::new(
                match d {
                    DType::F32 => Literal::from_vec(v.iter().map(|&a| a as f32).collect::<Vec<f32>>(), n),
                    _ => Literal::from_vec(v.to_vec(), n),
                }
                .expect("literal"),
            )
        };
        let mut b = Builder::new();
        let x = b.param(d, &[xs.len()]);
        let y = b.param(d, &[xs.len()]);
        let r = b.op(Op::Binary(BinaryOp::Rem), &[x, y]);
        let g = b.finish(vec![r]);
        if let Err(e) = check_emulated(&g, SMALL, &[lit(&xs), lit(&ys)], &[Some(Tol::Exact)]) {
            failures.push(format!("{d} hard cases: {e}"));
        }
    }
    report(failures);
}

/// Reductions to one element over many elements run as two launches (partial results, then their fold) and
/// still agree with the interpreter: exactly for max, min and integer and bool reductions, within the summation
/// bound for float sums; float products keep one launch.
#[test]
fn large_reductions_to_one_element_are_split_and_agree() {
    use llvm_backend::gpu::{SmVersion, compile_ptx};
    let mut rng = Rng(17);
    let mut failures = Vec::new();
    let cases = [
        (DType::F32, ReduceOp::Sum, vec![300, 200], vec![0, 1], true),
        (DType::F64, ReduceOp::Max, vec![70_001], vec![0], true),
        (DType::F32, ReduceOp::Min, vec![1, 20_000], vec![0, 1], true),
        (DType::I32, ReduceOp::Sum, vec![16_384], vec![0], true),
        (DType::I64, ReduceOp::Prod, vec![17, 1000], vec![0, 1], true),
        (DType::U32, ReduceOp::Max, vec![40, 500], vec![0, 1], true),
        (DType::Bool, ReduceOp::Min, vec![20_000, 1], vec![0, 1], true),
        (DType::Bool, ReduceOp::Max, vec![20_000], vec![0], true),
        (DType::F32, ReduceOp::Prod, vec![20_000], vec![0], false),
        (DType::F32, ReduceOp::Sum, vec![1000], vec![0], false),
        (DType::F32, ReduceOp::Sum, vec![200, 300], vec![1], false),
    ];
    for (dtype, op, dims, axes, split) in cases {
        let mut b = Builder::new();
        let x = b.param(dtype, &dims);
        // A fused producer, so the split kernel evaluates it through the reshape and the padding.
        let y = if dtype == DType::Bool {
            b.op(Op::Unary(UnaryOp::Not), &[x])
        } else {
            b.op(Op::Unary(UnaryOp::Abs), &[x])
        };
        let r = b.op(Op::Reduce { op, axes }, &[y]);
        let g = b.finish(vec![r, y]);
        let launches = compile_ptx(&g, "split", SmVersion::DEFAULT).expect("compiles").launches().len();
        let name = format!("{dtype} {op:?} {dims:?}");
        if (launches == 3) != split {
            failures.push(format!("{name}: {launches} launches"));
        }
        for fill in [Fill::UNARY, Fill::SmallInt, Fill::Moderate] {
            let ins = vec![literal(dtype, &dims, fill, &mut rng)];
            let tols: Vec<Option<Tol>> = reduction_tols(&g, &ins).into_iter().map(Some).collect();
            if let Err(e) = check_emulated(&g, WIDE, &ins, &tols) {
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    report(failures);
}

/// Warps of 32 lanes as on an NVIDIA GPU (the shuffle masks 16 .. 1), one warp per block.
const WARP32: EmulatedGrid = EmulatedGrid {
    threads: 32,
    max_blocks: 5,
    blocks: Some(BlockReduce { warp: 32, max_threads: 32, min_reduced: 2, max_column_outputs: usize::MAX }),
};

/// Block-folded reductions pick exactly what the sequential fold picks: arg-reductions the first extremum (equal
/// values, `-0` and `+0` included, go to the lower index; NaN counts as the extremum and the first NaN wins), max
/// and min the same value and sign of zero, integer sums and products the same wrapped value — on warps of 4 and
/// of 32 lanes, rows shorter and longer than a block, along the last axis and across rows.
#[test]
fn block_reductions_pick_what_the_sequential_fold_picks() {
    let mut rng = Rng(23);
    let mut failures = Vec::new();
    for (name, g, x) in fold_programs(&[2, 7, 33, 100, 257], &mut rng) {
        let tols: Vec<Option<Tol>> = g.outputs().iter().map(|_| Some(Tol::Exact)).collect();
        // Blocks of 32 OS threads are slow to emulate: the warp of 32 lanes on two lengths only.
        let n = g.ty(g.params()[0]).dims()[1];
        let grids = if n == 33 || n == 100 { vec![SMALL, WARP32] } else { vec![SMALL] };
        for grid in grids {
            if let Err(e) = check_emulated(&g, grid, &[Arc::clone(&x)], &tols) {
                failures.push(format!("{name}, warp {:?}: {e}", grid.blocks.map(|b| b.warp)));
            }
        }
    }
    report(failures);
}
