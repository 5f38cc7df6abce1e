//! Asking for a GPU where there is none: typed errors naming what was found and the devices that exist, never a
//! panic. On a machine with a CUDA driver and a GPU these tests check the other side (devices are listed) instead.
//! Built with `--no-default-features` (no `cuda` feature), the errors say the build has no GPU support.

mod common;

use std::sync::Arc;

use common::*;
use jit_runtime::DType;
use jit_runtime::backend::{Backend, CompileOptions, Device, Executable, Platform, available_devices, resolve};
use jit_runtime::ir::{Op, UnaryOp};
use llvm_backend::gpu::LlvmGpuBackend;

/// Whether this machine can run the GPU backend (a driver and at least one device).
fn has_gpu() -> bool {
    LlvmGpuBackend.devices().is_ok_and(|d| !d.is_empty())
}

fn neg_graph() -> jit_runtime::ir::Graph {
    let mut b = Builder::new();
    let x = b.param(DType::F32, &[4]);
    let y = b.op(Op::Unary(UnaryOp::Neg), &[x]);
    b.finish(vec![y])
}

#[cfg(feature = "cuda")]
fn expected_reason(message: &str) -> bool {
    message.contains("no CUDA driver (libcuda.so) found") || message.contains("CUDA driver found but")
}

#[cfg(not(feature = "cuda"))]
fn expected_reason(message: &str) -> bool {
    message.contains("built without GPU support")
}

#[test]
fn without_a_gpu_the_backend_reports_no_devices_and_why() {
    llvm_backend::register();
    if has_gpu() {
        eprintln!("a GPU is present: checking that it is listed instead");
        assert!(available_devices().contains("cuda:0"), "{}", available_devices());
        return;
    }
    let err = LlvmGpuBackend.devices().expect_err("no devices");
    let text = err.to_string();
    assert!(expected_reason(&text), "{text}");
    assert!(text.contains("devices available: cpu:0"), "{text}");
    assert!(text.contains("llvm-cuda"), "{text}");
    // The listing of every device leaves the GPU backend out, and asking for it twice gives the same answer.
    assert_eq!(available_devices(), "cpu:0");
    assert_eq!(LlvmGpuBackend.devices().expect_err("still none").to_string(), text);
}

#[test]
fn backend_gpu_cuda_and_device_cuda_0_resolve_to_the_typed_error() {
    llvm_backend::register();
    if has_gpu() {
        let (b, d) = resolve(Some("gpu"), None).expect("resolves");
        assert_eq!((b.name(), d), ("llvm-cuda", Device { platform: Platform::Gpu, ordinal: 0 }));
        return;
    }
    let cuda0: Device = "cuda:0".parse().expect("device");
    for (backend, device) in [(Some("gpu"), None), (Some("cuda"), None), (Some("llvm-cuda"), None), (None, Some(cuda0))]
    {
        let err = resolve(backend, device).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(expected_reason(&err), "{backend:?} {device:?}: {err}");
        assert!(err.contains("devices available: cpu:0"), "{err}");
    }
    // The CPU is unaffected.
    let (b, d) = resolve(None, None).expect("cpu resolves");
    assert_eq!((b.platform(), d), (Platform::Cpu, Device::CPU));
}

#[test]
fn compiling_for_a_missing_gpu_is_an_error_not_a_panic() {
    if has_gpu() {
        eprintln!("a GPU is present: skipped");
        return;
    }
    let g = neg_graph();
    let options = CompileOptions {
        name: "neg".into(),
        donated: vec![false],
        device: Device { platform: Platform::Gpu, ordinal: 0 },
    };
    let err = LlvmGpuBackend.compile(&g, &options).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(expected_reason(&err), "{err}");
    // The kernels themselves still compile to PTX and run emulated.
    let ptx = llvm_backend::gpu::compile_ptx(&g, "neg", llvm_backend::gpu::SmVersion::DEFAULT).expect("PTX");
    assert!(ptx.ptx.contains(".entry ljit_k0"));
    let exe = llvm_backend::gpu::compile_emulated(&g, &options, llvm_backend::gpu::EmulatedGrid::default())
        .expect("emulated");
    let x = Arc::new(jit_runtime::Literal::vector(vec![1f32, -2.0, 0.0, 4.0]));
    let out = exe.run(vec![x]).expect("runs");
    assert_eq!(out[0].to_vec::<f32>().expect("f32"), vec![-1.0, 2.0, -0.0, -4.0]);
}
