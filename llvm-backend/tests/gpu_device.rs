//! The GPU backend on a real GPU against the reference interpreter: kernels of every kind, random programs, and
//! `jit` with `device = "cuda:0"`. Runs only with `LIFTED_JIT_GPU_TESTS=1` (and then fails if there is no usable
//! GPU); otherwise each test prints why it is skipped.
//!
//! ```sh
//! LIFTED_JIT_GPU_TESTS=1 cargo test -p llvm-backend --test gpu_device -- --nocapture
//! ```
//!
//! Tolerances as in `gpu_emulated.rs`. `LIFTED_JIT_GPU_CASES=n` sets the number of random programs (default 300).

mod common;
mod programs;

use std::sync::Arc;

use common::*;
use jit_runtime::backend::{Backend, CompileOptions, Device, Platform};
use jit_runtime::ir::{ArgReduceOp, BinaryOp, DotDims, Graph, Op, ReduceOp, UnaryOp};
use jit_runtime::{DType, Literal};
use llvm_backend::gpu::LlvmGpuBackend;
use programs::folds::fold_programs;
use programs::random_program;

const CUDA0: Device = Device { platform: Platform::Gpu, ordinal: 0 };

/// Whether to run: `LIFTED_JIT_GPU_TESTS=1`, and then a GPU must be there.
fn enabled(test: &str) -> bool {
    if std::env::var("LIFTED_JIT_GPU_TESTS").as_deref() != Ok("1") {
        eprintln!("{test}: skipped (set LIFTED_JIT_GPU_TESTS=1 on a machine with an NVIDIA GPU to run it)");
        return false;
    }
    llvm_backend::register();
    match LlvmGpuBackend.devices() {
        Ok(d) if d.contains(&CUDA0) => true,
        Ok(d) => panic!("LIFTED_JIT_GPU_TESTS=1 but cuda:0 is not among {d:?}"),
        Err(e) => panic!("LIFTED_JIT_GPU_TESTS=1 but the GPU backend has no device: {e}"),
    }
}

fn on_gpu(graph: &Graph, inputs: &[Arc<Literal>]) -> Result<Vec<Arc<Literal>>, String> {
    let options = CompileOptions { name: "gpu".into(), donated: vec![false; graph.params().len()], device: CUDA0 };
    let exe = LlvmGpuBackend.compile(graph, &options).map_err(|e| format!("GPU compile failed: {e}\n{graph}"))?;
    exe.run(inputs.to_vec()).map_err(|e| format!("GPU run failed: {e}\n{graph}"))
}

fn check_gpu(graph: &Graph, inputs: &[Arc<Literal>], tols: &[Option<Tol>]) -> Result<(), String> {
    check_run_against_interpreter(graph, inputs, tols, || on_gpu(graph, inputs))
}

#[test]
fn kernels_of_every_kind_agree_with_the_interpreter_on_the_gpu() {
    if !enabled("kernels_of_every_kind") {
        return;
    }
    let mut rng = Rng(3);
    let mut failures = Vec::new();
    let mut cases: Vec<(String, Graph, Vec<Arc<Literal>>)> = Vec::new();
    // Sizes around a block (256) and past one grid-stride turn (256·65535 would be too big: 1M elements).
    for n in [1usize, 255, 256, 257, 100_000, 1 << 20] {
        let mut b = Builder::new();
        let x = b.param(DType::F32, &[n]);
        let y = b.param(DType::F32, &[n]);
        let e = b.op(Op::Unary(UnaryOp::Tanh), &[x]);
        let s = b.op(Op::Binary(BinaryOp::Mul), &[e, y]);
        let ins = vec![literal(DType::F32, &[n], Fill::LHS, &mut rng), literal(DType::F32, &[n], Fill::RHS, &mut rng)];
        cases.push((format!("elementwise {n}"), b.finish(vec![s]), ins));
    }
    for (axes, dtype) in [(vec![0], DType::F64), (vec![1], DType::I32), (vec![0, 1, 2], DType::F32)] {
        let mut b = Builder::new();
        let x = b.param(dtype, &[30, 50, 70]);
        let m = b.op(Op::Reduce { op: ReduceOp::Max, axes: axes.clone() }, &[x]);
        let s = b.op(Op::Reduce { op: ReduceOp::Sum, axes }, &[x]);
        let a = b.op(Op::ArgReduce { op: ArgReduceOp::ArgMax, axis: 2, index_dtype: DType::I32 }, &[x]);
        let ins = vec![literal(dtype, &[30, 50, 70], Fill::SmallInt, &mut rng)];
        cases.push((format!("reductions {dtype}"), b.finish(vec![m, s, a]), ins));
    }
    // Float products go to cuBLAS where it is installed, which sums in its own order: small integers keep every
    // order exact (as in the CPU suite). Plain, transposed-operand and batched layouts (cuBLAS's `N`/`T` cases).
    let layouts: [(&str, &[usize], &[usize], DotDims); 6] = [
        // One free row in a transposed operand (both layouts coincide; found by the random programs on an H200).
        (
            "aT@b, m = 1",
            &[5, 1],
            &[5, 5],
            DotDims { lhs_contracting: vec![0], rhs_contracting: vec![0], ..Default::default() },
        ),
        // One product per element: zero times a negative is -0.0, and the sum (from +0.0) is +0.0.
        (
            "a@b, k = 1",
            &[40, 1],
            &[1, 20],
            DotDims { lhs_contracting: vec![1], rhs_contracting: vec![0], ..Default::default() },
        ),
        (
            "a@b",
            &[130, 70],
            &[70, 90],
            DotDims { lhs_contracting: vec![1], rhs_contracting: vec![0], ..Default::default() },
        ),
        (
            "aT@b",
            &[70, 130],
            &[70, 90],
            DotDims { lhs_contracting: vec![0], rhs_contracting: vec![0], ..Default::default() },
        ),
        (
            "a@bT",
            &[130, 70],
            &[90, 70],
            DotDims { lhs_contracting: vec![1], rhs_contracting: vec![1], ..Default::default() },
        ),
        (
            "batched",
            &[3, 40, 70],
            &[3, 70, 50],
            DotDims { lhs_batch: vec![0], rhs_batch: vec![0], lhs_contracting: vec![2], rhs_contracting: vec![1] },
        ),
    ];
    for (name, ls, rs, dims) in layouts {
        for dtype in [DType::F32, DType::F64] {
            let mut b = Builder::new();
            let l = b.param(dtype, ls);
            let r = b.param(dtype, rs);
            let d = b.op(Op::DotGeneral(dims.clone()), &[l, r]);
            let ins = vec![literal(dtype, ls, Fill::SmallInt, &mut rng), literal(dtype, rs, Fill::SmallInt, &mut rng)];
            cases.push((format!("dot {name} {dtype}"), b.finish(vec![d]), ins));
        }
    }
    // Kernels take their buffers as parameters, or as one uploaded array when there are too many.
    for n in [3, llvm_backend::gpu::kernels::MAX_POINTER_PARAMS + 20] {
        let mut b = Builder::new();
        let xs: Vec<_> = (0..n).map(|_| b.param(DType::F32, &[7])).collect();
        let c = b.op(Op::Concatenate { dimension: 0 }, &xs);
        let t = b.op(Op::Unary(UnaryOp::Tanh), &[c]);
        let ins = (0..n).map(|_| literal(DType::F32, &[7], Fill::Moderate, &mut rng)).collect();
        cases.push((format!("concatenate of {n}"), b.finish(vec![t]), ins));
    }
    let mut b = Builder::new();
    let ins: Vec<_> = (0..4).map(|_| b.param(DType::U32, &[5000])).collect();
    let t = b.g.add(Op::Threefry2x32, &ins, None).expect("threefry");
    let ins = (0..4).map(|_| literal(DType::U32, &[5000], Fill::UNARY, &mut rng)).collect();
    cases.push(("threefry".into(), b.finish(t), ins));
    for (name, g, ins) in cases {
        let tols: Vec<Option<Tol>> = reduction_tols(&g, &ins).into_iter().map(Some).collect();
        if let Err(e) = check_gpu(&g, &ins, &tols) {
            failures.push(format!("{name}: {e}"));
        }
    }
    report(failures);
}

/// Reductions folded by blocks of threads (warp shuffles, shared memory, barriers) pick exactly what the
/// interpreter's sequential fold picks: first extremum, ties to the lower index, NaN first, signs of zero,
/// wrapped integer sums and products; rows shorter than a warp, between warps, and longer than a block.
#[test]
fn block_folded_reductions_pick_what_the_sequential_fold_picks_on_the_gpu() {
    if !enabled("block_folded_reductions") {
        return;
    }
    let mut rng = Rng(29);
    let mut failures = Vec::new();
    for (name, g, x) in fold_programs(&[2, 31, 33, 100, 257, 1000, 5000, 70_000], &mut rng) {
        let tols: Vec<Option<Tol>> = g.outputs().iter().map(|_| Some(Tol::Exact)).collect();
        if let Err(e) = check_gpu(&g, &[x], &tols) {
            failures.push(format!("{name}: {e}"));
        }
    }
    report(failures);
}

#[test]
fn random_programs_agree_with_the_interpreter_on_the_gpu() {
    if !enabled("random_programs") {
        return;
    }
    let cases: u64 = std::env::var("LIFTED_JIT_GPU_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    let mut rng = Rng(5);
    let mut failures = Vec::new();
    for seed in 0..cases {
        let data: Vec<u32> = (0..1 + rng.below(120)).map(|_| rng.next_u64() as u32).collect();
        let p = random_program(&data, seed);
        let tols = p.tolerances();
        if let Err(e) = check_gpu(&p.graph, &p.inputs, &tols) {
            failures.push(format!("seed {seed}, data {data:?}: {e}"));
        }
    }
    report(failures);
}

#[test]
fn the_ptx_artifact_targets_the_device() {
    if !enabled("ptx_artifact") {
        return;
    }
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[3]);
    let y = b.op(Op::Unary(UnaryOp::Exp), &[x]);
    let g = b.finish(vec![y]);
    let options = CompileOptions { name: "exp".into(), donated: vec![false], device: CUDA0 };
    let exe = LlvmGpuBackend.compile(&g, &options).expect("compiles");
    let ptx = exe.artifacts().into_iter().find(|(k, _)| k == "ptx").map(|(_, t)| t).expect("ptx artifact");
    assert!(ptx.contains(".target sm_"), "{ptx}");
    let out = exe.run(vec![Arc::new(Literal::vector(vec![0f32, 1.0, -1.0]))]).expect("runs");
    assert_eq!(out[0].to_vec::<f32>().expect("f32")[0], 1.0);
}

#[test]
fn jit_on_cuda_0_matches_the_cpu_bit_for_bit_including_random_numbers() {
    if !enabled("jit_on_cuda_0") {
        return;
    }
    use jit_runtime::{Tensor, random};
    let body = |x: Tensor| {
        let noise = random::normal(&random::key(42), [1000, 37]);
        let bits = random::uniform(&random::key(7), [4099]);
        ((&x * &noise).tanh(), bits)
    };
    let x = random::normal(&random::key(1), [1000, 37]);
    let cpu = jit_runtime::jit::jit(body).call((x.clone(),)).expect("cpu");
    let gpu = jit_runtime::jit::jit(body).device("cuda:0").call((x,)).expect("gpu");
    assert_eq!(cpu.1.to_vec::<f32>().expect("f32"), gpu.1.to_vec::<f32>().expect("f32"));
    let (c, g) = (cpu.0.to_vec::<f32>().expect("f32"), gpu.0.to_vec::<f32>().expect("f32"));
    let c_bits: Vec<u32> = c.iter().map(|v| v.to_bits()).collect();
    let g_bits: Vec<u32> = g.iter().map(|v| v.to_bits()).collect();
    assert_eq!(c_bits, g_bits);
}

fn bits_of(t: &jit_runtime::Tensor) -> Vec<u32> {
    t.to_vec::<f32>().expect("f32").iter().map(|v| v.to_bits()).collect()
}

fn device_of(t: &jit_runtime::Tensor) -> Device {
    t.to_array().expect("concrete").device()
}

fn buffer_id_of(t: &jit_runtime::Tensor) -> u64 {
    t.to_array().expect("concrete").device_buffer().expect("on a device").id()
}

/// As `gpu_transfers.rs` on the emulated GPU: `device_put`, calls that keep data on the device, a chain of calls.
#[test]
fn device_put_and_calls_keep_arrays_on_cuda_0() {
    if !enabled("device_put_and_calls") {
        return;
    }
    use jit_runtime::backend::DevicePut;
    use jit_runtime::{Tensor, random};
    let body = |x: Tensor, y: Tensor| (&x * 2.0).tanh() * &y + 1.0;
    let x = random::normal(&random::key(0), [1000, 37]);
    let y = random::normal(&random::key(1), [1000, 37]);
    let want = jit_runtime::jit::jit(body).call((x.clone(), y.clone())).expect("cpu");
    let xd = x.device_put("cuda:0").expect("put x");
    let yd = y.device_put(CUDA0).expect("put y");
    assert_eq!(device_of(&xd), CUDA0);
    assert_eq!(device_of(&x), Device::CPU);
    let f = jit_runtime::jit::jit(body).device("cuda:0");
    let out = f.call((xd.clone(), yd.clone())).expect("call");
    assert_eq!(device_of(&out), CUDA0);
    // Chained: the result goes straight back in.
    let out2 = f.call((out.clone(), yd.clone())).expect("chained");
    assert_eq!(device_of(&out2), CUDA0);
    assert_eq!(bits_of(&out), bits_of(&want));
    let want2 = jit_runtime::jit::jit(body).call((want, y.clone())).expect("cpu");
    assert_eq!(bits_of(&out2), bits_of(&want2));
    // Back to the host, and device arrays into a CPU function.
    let back = out2.device_put("cpu").expect("to host");
    assert_eq!(device_of(&back), Device::CPU);
    assert_eq!(bits_of(&back), bits_of(&want2));
    let on_cpu = jit_runtime::jit::jit(body).call((xd, yd)).expect("cpu call on device arrays");
    assert_eq!(device_of(&on_cpu), Device::CPU);
    assert_eq!(bits_of(&on_cpu), bits_of(&out));
    let e = x.device_put("cuda:999").expect_err("no such device");
    assert!(e.to_string().contains("devices available"), "{e}");
}

/// Donation on the GPU: the output is written into the donated buffer (same device address), the donated array
/// reads as donated, a buffer someone else holds is copied first, and a transpose does not alias.
#[test]
fn donation_reuses_device_buffers_on_cuda_0() {
    if !enabled("donation_reuses_device_buffers") {
        return;
    }
    use jit_runtime::backend::DevicePut;
    use jit_runtime::{Error, Tensor, random};
    let body = |x: Tensor, y: Tensor| (&x * 2.0).tanh() * &y + 1.0;
    let x = random::normal(&random::key(6), [640, 3]);
    let y = random::normal(&random::key(7), [640, 3]);
    let want = jit_runtime::jit::jit(body).call((x.clone(), y.clone())).expect("cpu");
    let f = jit_runtime::jit::jit(body).device("cuda:0").donate_argnums([0]);
    let xd = x.device_put(CUDA0).expect("put");
    let yd = y.device_put(CUDA0).expect("put");
    let id = buffer_id_of(&xd);
    let out = f.call((xd.clone(), yd.clone())).expect("call");
    assert_eq!(buffer_id_of(&out), id, "written into the donated buffer");
    assert!(matches!(xd.to_vec::<f32>(), Err(Error::Donated { .. })));
    let mut state = out;
    for _ in 0..3 {
        state = f.call((state, yd.clone())).expect("step");
        assert_eq!(buffer_id_of(&state), id);
    }
    let mut host = want;
    for _ in 0..3 {
        host = jit_runtime::jit::jit(body).call((host, y.clone())).expect("cpu step");
    }
    assert_eq!(bits_of(&state), bits_of(&host));

    // Shared: copied on the device first, the other holders keep the values.
    let xd = x.device_put(CUDA0).expect("put");
    let (a, b) = jit_runtime::jit::jit(|x: Tensor| (x.clone(), x)).device("cuda:0").call((xd.clone(),)).expect("id");
    let g = jit_runtime::jit::jit(|x: Tensor| (&x * 3.0).exp()).device("cuda:0").donate_argnums([0]);
    let out = g.call((a.clone(),)).expect("call");
    assert_ne!(buffer_id_of(&out), buffer_id_of(&xd));
    assert!(matches!(a.to_vec::<f32>(), Err(Error::Donated { .. })));
    assert_eq!(bits_of(&b), bits_of(&x));
    assert_eq!(bits_of(&out), bits_of(&jit_runtime::jit::jit(|x: Tensor| (&x * 3.0).exp()).call((x,)).expect("cpu")));

    // A transpose reads elements a thread does not write: a new buffer.
    let m = random::normal(&random::key(9), [64, 64]);
    let t = jit_runtime::jit::jit(|x: Tensor| x.transpose(&[1, 0]).tanh()).device("cuda:0").donate_argnums([0]);
    let md = m.device_put(CUDA0).expect("put");
    let mid = buffer_id_of(&md);
    let out = t.call((md,)).expect("call");
    assert_ne!(buffer_id_of(&out), mid);
    assert_eq!(
        bits_of(&out),
        bits_of(&jit_runtime::jit::jit(|x: Tensor| x.transpose(&[1, 0]).tanh()).call((m,)).expect("cpu"))
    );
}
