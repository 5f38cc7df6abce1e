//! PTX emission without a GPU: snapshots of representative kernels (`UPDATE_EXPECT=1` rewrites them), every op of
//! every dtype and random programs compiled to PTX with no call left in them, and the PTX assembled by `ptxas`
//! when one is found.
//!
//! `ptxas` is looked up in `LIFTED_JIT_PTXAS`, then on `PATH`, then in the virtual environments `.ci/setup` creates
//! (`/tmp/ptxvenv`, `$HOME/.cache/lifted-jit/ptxvenv`, with the PyPI package `nvidia-cuda-nvcc-cu12`). Without one,
//! the tests say so on stderr and check the PTX text only.

mod common;
mod programs;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use expect_test::expect_file;
use jit_runtime::DType;
use jit_runtime::ir::{ArgReduceOp, BinaryOp, DotDims, Graph, Op, ReduceOp, TensorType, UnaryOp};
use llvm_backend::gpu::{Schedule, SmVersion, compile_ptx};

/// The `ptxas` to assemble with, if any.
fn ptxas() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LIFTED_JIT_PTXAS") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join("ptxas");
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let mut venvs = vec![PathBuf::from("/tmp/ptxvenv")];
    if let Some(home) = std::env::var_os("HOME") {
        venvs.push(Path::new(&home).join(".cache/lifted-jit/ptxvenv"));
    }
    for venv in venvs {
        let Ok(libs) = std::fs::read_dir(venv.join("lib")) else { continue };
        for lib in libs.flatten() {
            let p = lib.path().join("site-packages/nvidia/cuda_nvcc/bin/ptxas");
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Assembles `ptx` for `sm` with `ptxas` when there is one (panicking with its messages if it fails); returns
/// whether it ran.
fn assemble(name: &str, ptx: &str, sm: SmVersion) -> bool {
    let Some(ptxas) = ptxas() else {
        eprintln!("{name}: ptxas not found (set LIFTED_JIT_PTXAS, or run .ci/setup); checked the PTX text only");
        return false;
    };
    let dir = std::env::temp_dir().join(format!("lifted-jit-ptx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = dir.join(format!("{name}.ptx"));
    std::fs::write(&src, ptx).expect("write PTX");
    let out = Command::new(&ptxas)
        .arg(format!("-arch={}", sm.cpu_name()))
        .arg("-o")
        .arg(dir.join(format!("{name}.cubin")))
        .arg(&src)
        .output()
        .expect("ptxas runs");
    assert!(
        out.status.success(),
        "{name}: ptxas failed:\n{}{}\n{ptx}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&src);
    let _ = std::fs::remove_file(dir.join(format!("{name}.cubin")));
    true
}

fn ptx(graph: &Graph, name: &str, sm: SmVersion) -> String {
    let p = compile_ptx(graph, name, sm).unwrap_or_else(|e| panic!("{name}: {e}\n{graph}"));
    assert!(!p.ptx.contains("call"), "{name}: the PTX calls something:\n{}", p.ptx);
    for l in p.launches() {
        assert!(p.ptx.contains(&format!(".visible .entry {}(", l.name)), "{name}: no entry {}:\n{}", l.name, p.ptx);
    }
    p.ptx
}

fn elementwise() -> Graph {
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[1000]);
    let y = b.param(DType::F32, &[1000]);
    let e = b.op(Op::Unary(UnaryOp::Exp), &[x]);
    let m = b.op(Op::Binary(BinaryOp::Mul), &[e, y]);
    b.finish(vec![m])
}

fn broadcast() -> Graph {
    let mut b = Builder::new();
    let m = b.param(DType::F32, &[64, 32]);
    let r = b.param(DType::F32, &[32]);
    let rb = b.op(Op::BroadcastInDim { shape: vec![64, 32].into(), broadcast_dimensions: vec![1] }, &[r]);
    let s = b.op(Op::Binary(BinaryOp::Add), &[m, rb]);
    b.finish(vec![s])
}

fn reduction() -> Graph {
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[64, 128]);
    let s = b.op(Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[x]);
    b.finish(vec![s])
}

fn threefry() -> Graph {
    let mut b = Builder::new();
    let ins: Vec<_> = (0..4).map(|_| b.param(DType::U32, &[256])).collect();
    let out = b.g.add(Op::Threefry2x32, &ins, None).expect("threefry");
    b.finish(out)
}

fn dot() -> Graph {
    let mut b = Builder::new();
    let l = b.param(DType::F32, &[16, 8]);
    let r = b.param(DType::F32, &[8, 4]);
    let dims = DotDims { lhs_contracting: vec![1], rhs_contracting: vec![0], ..DotDims::default() };
    let d = b.op(Op::DotGeneral(dims), &[l, r]);
    b.finish(vec![d])
}

/// A dense layer: the product (cuBLAS on a GPU, the generated kernel otherwise), then its epilogue — bias added
/// along the rows and `relu` — fused into one elementwise kernel over the product.
fn dense_epilogue() -> Graph {
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[16, 8]);
    let w = b.param(DType::F32, &[8, 4]);
    let bias = b.param(DType::F32, &[4]);
    let dims = DotDims { lhs_contracting: vec![1], rhs_contracting: vec![0], ..DotDims::default() };
    let d = b.op(Op::DotGeneral(dims), &[x, w]);
    let bb = b.op(Op::BroadcastInDim { shape: vec![16, 4].into(), broadcast_dimensions: vec![1] }, &[bias]);
    let s = b.op(Op::Binary(BinaryOp::Add), &[d, bb]);
    let zero = b.constant(jit_runtime::Literal::scalar(0f32));
    let zb = b.op(Op::BroadcastInDim { shape: vec![16, 4].into(), broadcast_dimensions: vec![] }, &[zero]);
    let r = b.op(Op::Binary(BinaryOp::Max), &[s, zb]);
    b.finish(vec![r])
}

#[test]
fn dense_epilogue_ptx() {
    let g = dense_epilogue();
    let p = ptx(&g, "dense_epilogue", SmVersion::DEFAULT);
    expect_file!["snapshots/gpu/dense_epilogue.ptx"].assert_eq(&p);
    assemble("dense_epilogue", &p, SmVersion::DEFAULT);
    // Two launches: the product (with its cuBLAS form) and the fused epilogue over its 16·4 elements.
    let program = compile_ptx(&g, "dense_epilogue", SmVersion::DEFAULT).expect("compiles");
    let launches = program.launches();
    assert_eq!(launches.len(), 2, "{launches:?}");
    assert!(launches[0].gemm.is_some(), "{launches:?}");
    assert_eq!((launches[1].extent, launches[1].schedule, launches[1].gemm), (64, Schedule::Elements, None));
}

#[test]
fn elementwise_ptx() {
    let p = ptx(&elementwise(), "elementwise", SmVersion::DEFAULT);
    expect_file!["snapshots/gpu/elementwise.ptx"].assert_eq(&p);
    assemble("elementwise", &p, SmVersion::DEFAULT);
}

#[test]
fn broadcast_ptx() {
    let p = ptx(&broadcast(), "broadcast", SmVersion::DEFAULT);
    expect_file!["snapshots/gpu/broadcast.ptx"].assert_eq(&p);
    assemble("broadcast", &p, SmVersion::DEFAULT);
}

#[test]
fn reduction_ptx() {
    let p = ptx(&reduction(), "reduction", SmVersion::DEFAULT);
    expect_file!["snapshots/gpu/reduction.ptx"].assert_eq(&p);
    assemble("reduction", &p, SmVersion::DEFAULT);
}

#[test]
fn threefry_ptx() {
    let p = ptx(&threefry(), "threefry", SmVersion::DEFAULT);
    expect_file!["snapshots/gpu/threefry.ptx"].assert_eq(&p);
    assemble("threefry", &p, SmVersion::DEFAULT);
}

#[test]
fn dot_ptx() {
    let p = ptx(&dot(), "dot", SmVersion::DEFAULT);
    expect_file!["snapshots/gpu/dot.ptx"].assert_eq(&p);
    assemble("dot", &p, SmVersion::DEFAULT);
}

#[test]
fn sm_90_gets_its_target_and_ptx_version() {
    let sm = SmVersion::from_compute_capability(9, 0);
    let p = ptx(&elementwise(), "elementwise_sm90", sm);
    assert!(p.contains(".target sm_90") && p.contains(".version 7.8"), "{p}");
    assert!(ptx(&elementwise(), "e", SmVersion::DEFAULT).contains(".target sm_80"));
    assemble("elementwise_sm90", &p, sm);
}

#[test]
fn launches_follow_the_kernels() {
    let p = compile_ptx(&broadcast(), "b", SmVersion::DEFAULT).expect("compiles");
    // One fused kernel over all 64·32 elements (flat on the GPU, not 64 rows as on the CPU).
    assert_eq!(p.launches().len(), 1);
    assert_eq!(p.launches()[0].extent, 64 * 32);
    assert_eq!(p.launches()[0].schedule, Schedule::Elements);
    // Reductions: a block per output element (64 sums of 128 elements, by 128 threads); products: a thread per
    // output element (16·4).
    let p = compile_ptx(&reduction(), "r", SmVersion::DEFAULT).expect("compiles");
    assert_eq!(p.launches()[0].extent, 64);
    assert_eq!(p.launches()[0].schedule, Schedule::Blocks { threads: 128 });
    let p = compile_ptx(&dot(), "d", SmVersion::DEFAULT).expect("compiles");
    assert_eq!(p.launches()[0].extent, 16 * 4);
    assert_eq!(p.launches()[0].schedule, Schedule::Elements);
    // Which reductions get blocks: enough elements, any order allowed, and not a column reduction with so many
    // outputs that a thread each fills the GPU with neighbouring reads.
    let cases = [
        (DType::F32, vec![64, 128, 3], Op::Reduce { op: ReduceOp::Max, axes: vec![0] }, 128 * 3, Some(64)),
        (DType::F32, vec![40, 70_000], Op::Reduce { op: ReduceOp::Sum, axes: vec![0] }, 70_000, None),
        (DType::F32, vec![70_000, 40], Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, 70_000, Some(64)),
        (DType::I32, vec![100, 8], Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, 100, None),
        (DType::F32, vec![10, 500], Op::Reduce { op: ReduceOp::Prod, axes: vec![1] }, 10, None),
        (DType::I64, vec![10, 500], Op::Reduce { op: ReduceOp::Prod, axes: vec![1] }, 10, Some(256)),
        (
            DType::F64,
            vec![3, 1000],
            Op::ArgReduce { op: ArgReduceOp::ArgMax, axis: 1, index_dtype: DType::I32 },
            3,
            Some(256),
        ),
        (
            DType::F64,
            vec![1000, 3],
            Op::ArgReduce { op: ArgReduceOp::ArgMin, axis: 0, index_dtype: DType::I64 },
            3,
            Some(256),
        ),
    ];
    for (dtype, dims, op, extent, threads) in cases {
        let mut b = Builder::new();
        let x = b.param(dtype, &dims);
        let r = b.op(op.clone(), &[x]);
        let p = compile_ptx(&b.finish(vec![r]), "which", SmVersion::DEFAULT).expect("compiles");
        let l = &p.launches()[0];
        let want = threads.map_or(Schedule::Elements, |threads| Schedule::Blocks { threads });
        assert_eq!((l.extent, l.schedule), (extent, want), "{op:?} over {dims:?}");
    }
}

/// A kernel takes its buffers as parameters (nothing to upload per call), or past
/// [`MAX_POINTER_PARAMS`](llvm_backend::gpu::kernels::MAX_POINTER_PARAMS) as one device array; `ptxas` assembles
/// both.
#[test]
fn kernels_take_their_buffers_as_parameters_or_one_array() {
    use llvm_backend::gpu::kernels::MAX_POINTER_PARAMS;
    for n in [2, MAX_POINTER_PARAMS - 1, MAX_POINTER_PARAMS + 40] {
        let mut b = Builder::new();
        let xs: Vec<_> = (0..n).map(|_| b.param(DType::F32, &[3])).collect();
        let c = b.op(Op::Concatenate { dimension: 0 }, &xs);
        let g = b.finish(vec![c]);
        let p = compile_ptx(&g, "many", SmVersion::DEFAULT).expect("compiles");
        let l = &p.launches()[0];
        // The output, then every input.
        assert_eq!(l.slots.len(), n + 1);
        let params = p.ptx.matches(".param .u64 ljit_k0_param_").count();
        if l.takes_array() {
            assert_eq!(params, 2, "array and extent");
        } else {
            assert_eq!(params, n + 2, "one per buffer and the extent");
        }
        assemble(&format!("many_{n}"), &p.ptx, SmVersion::DEFAULT);
    }
}

/// Block-folded reductions of every dtype — sums, products, max, min, arg-reductions — compile to PTX with warp
/// shuffles, barriers and shared memory, and `ptxas` assembles them.
#[test]
fn block_reductions_of_every_dtype_assemble() {
    let mut assembled = false;
    for d in [DType::F32, DType::F64, DType::I32, DType::U32, DType::I64, DType::Bool] {
        let mut b = Builder::new();
        let x = b.param(d, &[5, 300]);
        let mut outs = Vec::new();
        for op in [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min] {
            if let Some(v) = b.try_op(Op::Reduce { op, axes: vec![1] }, &[x]) {
                outs.push(v);
            }
        }
        for op in [ArgReduceOp::ArgMax, ArgReduceOp::ArgMin] {
            if let Some(v) = b.try_op(Op::ArgReduce { op, axis: 1, index_dtype: DType::I32 }, &[x]) {
                outs.push(v);
            }
        }
        let n = outs.len();
        let g = b.finish(outs);
        let p = compile_ptx(&g, &format!("blocks_{d}"), SmVersion::DEFAULT).expect("compiles");
        let blocks = p.launches().iter().filter(|l| matches!(l.schedule, Schedule::Blocks { .. })).count();
        // Every one but the float product, which keeps its order.
        assert_eq!(blocks, if d.is_float() { n - 1 } else { n }, "{d}: {:?}", p.launches());
        for needle in ["shfl.sync.bfly.b32", "bar.sync", ".shared"] {
            assert!(p.ptx.contains(needle), "{d}: no {needle}\n{}", p.ptx);
        }
        assert!(!p.ptx.contains("call.uni"), "{d}: a call is left\n{}", p.ptx);
        assembled |= assemble(&format!("blocks_{d}"), &p.ptx, SmVersion::DEFAULT);
        let sm90 = SmVersion::from_compute_capability(9, 0);
        let p = compile_ptx(&g, &format!("blocks_{d}_sm90"), sm90).expect("compiles");
        assemble(&format!("blocks_{d}_sm90"), &p.ptx, sm90);
    }
    if !assembled {
        eprintln!("ptxas not found: checked the PTX text only");
    }
}

/// Every unary and binary op, `integer_pow` and every conversion, per dtype, in one program each.
#[test]
fn every_op_of_every_dtype_compiles_to_ptx_without_calls() {
    let dtypes = [DType::F32, DType::F64, DType::I32, DType::U32, DType::I64, DType::Bool];
    let mut assembled = false;
    for d in dtypes {
        let ty = TensorType::new(d, [33]);
        let mut b = Builder::new();
        let x = b.param(d, &[33]);
        let y = b.param(d, &[33]);
        let mut outs = Vec::new();
        for u in UnaryOp::ALL {
            if jit_runtime::ir::infer(&Op::Unary(u), &[&ty]).is_ok() {
                outs.push(b.op(Op::Unary(u), &[x]));
            }
        }
        for op in BinaryOp::ALL {
            if jit_runtime::ir::infer(&Op::Binary(op), &[&ty, &ty]).is_ok() {
                outs.push(b.op(Op::Binary(op), &[x, y]));
            }
        }
        for exponent in [-3, 0, 5] {
            if let Some(v) = b.try_op(Op::IntegerPow { exponent }, &[x]) {
                outs.push(v);
            }
        }
        for to in dtypes {
            outs.push(b.op(Op::Convert { dtype: to }, &[x]));
        }
        let g = b.finish(outs);
        let name = format!("ops_{d}");
        let p = ptx(&g, &name, SmVersion::DEFAULT);
        assembled |= assemble(&name, &p, SmVersion::DEFAULT);
    }
    if !assembled {
        eprintln!("(every op: PTX text only)");
    }
}

#[test]
fn random_programs_compile_to_ptx_without_calls() {
    let mut rng = Rng(11);
    let mut all = String::new();
    for i in 0..60 {
        let data: Vec<u32> = (0..80).map(|_| rng.next_u64() as u32).collect();
        let p = programs::random_program(&data, i);
        let text = ptx(&p.graph, &format!("random_{i}"), SmVersion::DEFAULT);
        if i < 12 {
            all.push_str(&text);
            assemble(&format!("random_{i}"), &text, SmVersion::DEFAULT);
        }
    }
    assert!(all.contains(".entry"));
}

/// The `ptxas` check can fail: PTX that uses a register it never declared is rejected.
#[test]
fn ptxas_rejects_broken_ptx() {
    if ptxas().is_none() {
        eprintln!("ptxas not found: nothing to check");
        return;
    }
    let good = ptx(&elementwise(), "good", SmVersion::DEFAULT);
    let broken = good.replacen("ld.param.u64", "ld.param.u64 \t%rd999, [nowhere];\n\tld.param.u64", 1);
    assert!(assemble("good", &good, SmVersion::DEFAULT));
    let result = std::panic::catch_unwind(|| assemble("broken", &broken, SmVersion::DEFAULT));
    assert!(result.is_err(), "ptxas accepted broken PTX");
}
