//! Arrays on a device, through the emulated GPU (`llvm_backend::gpu::EmulatedGpuBackend`, devices `cuda:0` and
//! `cuda:1`): `device_put`, jitted calls that take device arrays without a copy and leave their results on the
//! device, donation that writes an output into the donated input's buffer, and the copies made when an array is
//! on another device than the function. Every copy between the host and an emulated device is counted on the
//! calling thread (`gpu::transfers`), and the tests assert the counts. `gpu_device.rs` runs the same cases on a
//! real GPU.

use std::sync::Arc;

use jit_runtime::backend::{Device, DevicePut};
use jit_runtime::jit::jit;
use jit_runtime::{DType, Error, Tensor, random};
use llvm_backend::gpu::{EMULATED_BACKEND_NAME, EmulatedGpuBackend, EmulatedGrid, Transfers, transfers};

const CUDA0: Device = Device::gpu(0);
const CUDA1: Device = Device::gpu(1);

/// Registers the CPU backend and the emulated GPU; the emulated backend's name.
fn emu() -> &'static str {
    llvm_backend::register();
    jit_runtime::backend::register_backend(Arc::new(EmulatedGpuBackend { grid: EmulatedGrid::default(), devices: 2 }));
    EMULATED_BACKEND_NAME
}

fn moved(h2d: usize, d2h: usize, d2d: usize) -> Transfers {
    Transfers { host_to_device: h2d, device_to_host: d2h, device_to_device: d2d }
}

/// Runs `f` and returns what it returned and the transfers it made.
fn counting<R>(f: impl FnOnce() -> R) -> (R, Transfers) {
    let before = transfers();
    let r = f();
    (r, transfers().since(before))
}

fn on_device(t: &Tensor) -> Device {
    t.to_array().expect("concrete").device()
}

fn buffer_id(t: &Tensor) -> u64 {
    t.to_array().expect("concrete").device_buffer().expect("on a device").id()
}

fn bits(t: &Tensor) -> Vec<u32> {
    t.to_vec::<f32>().expect("f32").iter().map(|v| v.to_bits()).collect()
}

fn body(x: Tensor, y: Tensor) -> Tensor {
    (&x * 2.0).tanh() * &y + 1.0
}

#[test]
fn device_put_then_jit_copies_nothing_until_the_result_is_read() {
    let gpu = emu();
    let x = random::normal(&random::key(0), [37, 5]);
    let y = random::normal(&random::key(1), [37, 5]);
    let want = jit(body).call((x.clone(), y.clone())).expect("cpu");

    let ((xd, yd), put) =
        counting(|| (x.device_put_with(gpu, "cuda:0").expect("put x"), y.device_put_with(gpu, CUDA0).expect("put y")));
    assert_eq!(put, moved(2, 0, 0));
    assert_eq!(on_device(&xd), CUDA0);
    assert_eq!(on_device(&x), Device::CPU, "the host array stays where it was");

    let f = jit(body).backend(gpu);
    let (out, call) = counting(|| f.call((xd.clone(), yd.clone())).expect("call"));
    assert_eq!(call, moved(0, 0, 0), "device inputs are used in place, the result stays on the device");
    assert_eq!(on_device(&out), CUDA0);

    let (got, read) = counting(|| (bits(&out), bits(&out), out.to_string()));
    assert_eq!(read, moved(0, 1, 0), "the first read copies to the host once; later reads use that copy");
    assert_eq!(got.0, bits(&want), "bit for bit the CPU backend's result");
    assert_eq!(got.0, got.1);
    assert!(got.2.contains("Array("), "{}", got.2);

    // A second call on the same device arrays: still no copy.
    let (again, call2) = counting(|| f.call((xd, yd)).expect("call"));
    assert_eq!(call2, moved(0, 0, 0));
    assert_eq!(bits(&again), bits(&want));
}

#[test]
fn host_inputs_are_copied_in_and_results_stay_on_the_device() {
    let gpu = emu();
    let x = random::normal(&random::key(2), [100]);
    let y = random::normal(&random::key(3), [100]);
    let f = jit(body).backend(gpu);
    let (out, call) = counting(|| f.call((x.clone(), y.clone())).expect("call"));
    assert_eq!(call, moved(2, 0, 0));
    assert_eq!(on_device(&out), CUDA0);
    assert_eq!(bits(&out), bits(&jit(body).call((x, y)).expect("cpu")));
}

#[test]
fn chains_of_jitted_calls_keep_data_on_the_device() {
    let gpu = emu();
    let layer = |x: Tensor, w: Tensor| x.matmul(&w).tanh();
    let loss = |h: Tensor| ((&h * &h).sum(1), h.argmax(-1));
    let x = random::normal(&random::key(4), [16, 8]);
    let w = random::normal(&random::key(5), [8, 8]).mul_scalar(0.5f32);
    let (f, g) = (jit(layer).backend(gpu), jit(loss).backend(gpu));

    let ((xd, wd), put) =
        counting(|| (x.device_put_with(gpu, CUDA0).expect("x"), w.device_put_with(gpu, CUDA0).expect("w")));
    assert_eq!(put, moved(2, 0, 0));
    let ((s, am), chain) = counting(|| {
        let h1 = f.call((xd, wd.clone())).expect("layer 1");
        let h2 = f.call((h1, wd.clone())).expect("layer 2");
        let h3 = f.call((h2, wd)).expect("layer 3");
        g.call((h3,)).expect("loss")
    });
    assert_eq!(chain, moved(0, 0, 0), "four calls, no copy");
    assert_eq!((on_device(&s), on_device(&am)), (CUDA0, CUDA0));

    // The same chain with every intermediate brought back to the host in between: the same bits.
    let host =
        |t: Tensor| Tensor::from_array(jit_runtime::Array::from_shared(t.to_array().expect("a").literal().expect("l")));
    let h1 = host(f.call((x.clone(), w.clone())).expect("1"));
    let h2 = host(f.call((h1, w.clone())).expect("2"));
    let h3 = host(f.call((h2, w.clone())).expect("3"));
    let (hs, ham) = g.call((h3,)).expect("loss");
    assert_eq!(bits(&s), bits(&hs));
    assert_eq!(am.to_vec::<i32>().expect("i32"), ham.to_vec::<i32>().expect("i32"));

    // And the CPU's result, up to the order the products and the sum are added in.
    let (fc, gc) = (jit(layer), jit(loss));
    let h = fc.call((fc.call((fc.call((x, w.clone())).expect("1"), w.clone())).expect("2"), w)).expect("3");
    let (ws, _) = gc.call((h,)).expect("loss");
    for (a, b) in s.to_vec::<f32>().expect("f32").iter().zip(ws.to_vec::<f32>().expect("f32")) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
    }
}

#[test]
fn donation_writes_the_output_into_the_donated_device_buffer() {
    let gpu = emu();
    let x = random::normal(&random::key(6), [64, 3]);
    let y = random::normal(&random::key(7), [64, 3]);
    let want = jit(body).call((x.clone(), y.clone())).expect("cpu");

    let f = jit(body).backend(gpu).donate_argnums([0]);
    let xd = x.device_put_with(gpu, CUDA0).expect("put");
    let yd = y.device_put_with(gpu, CUDA0).expect("put");
    let id = buffer_id(&xd);
    let (out, call) = counting(|| f.call((xd.clone(), yd.clone())).expect("call"));
    assert_eq!(call, moved(0, 0, 0));
    assert_eq!(buffer_id(&out), id, "the output was written into the donated buffer");
    assert!(xd.to_array().expect("array").is_donated());
    assert!(matches!(xd.to_vec::<f32>(), Err(Error::Donated { .. })), "reading a donated array is an error");
    assert!(matches!(f.call((xd, yd.clone())), Err(Error::Donated { .. })), "so is passing it again");
    assert_eq!(bits(&out), bits(&want));
    assert!(f.warnings().is_empty(), "{:?}", f.warnings());

    // Donating the result of the previous call keeps reusing the one buffer, step after step (a training loop).
    let mut state = out;
    for _ in 0..3 {
        state = f.call((state, yd.clone())).expect("step");
        assert_eq!(buffer_id(&state), id);
    }
    let mut host = want;
    for _ in 0..3 {
        host = jit(body).call((host, y.clone())).expect("cpu step");
    }
    assert_eq!(bits(&state), bits(&host));
}

#[test]
fn a_donated_buffer_that_another_array_holds_is_copied_first() {
    let gpu = emu();
    let x = random::normal(&random::key(8), [40]);
    let xd = x.device_put_with(gpu, CUDA0).expect("put");
    // Both results are the input itself: three arrays share one device buffer.
    let (a, b) = jit(|x: Tensor| (x.clone(), x)).backend(gpu).call((xd.clone(),)).expect("identity");
    assert_eq!(buffer_id(&a), buffer_id(&xd));
    assert_eq!(buffer_id(&b), buffer_id(&xd));

    let f = jit(|x: Tensor| (&x * 3.0).exp()).backend(gpu).donate_argnums([0]);
    let (out, call) = counting(|| f.call((a.clone(),)).expect("call"));
    assert_eq!(call, moved(0, 0, 1), "the shared buffer is copied on the device, never written");
    assert_ne!(buffer_id(&out), buffer_id(&xd));
    assert!(matches!(a.to_vec::<f32>(), Err(Error::Donated { .. })));
    assert_eq!(bits(&b), bits(&x), "the other holders still read the original values");
    assert_eq!(bits(&out), bits(&jit(|x: Tensor| (&x * 3.0).exp()).call((x,)).expect("cpu")));
}

#[test]
fn donation_is_not_used_where_the_kernel_reads_other_elements_of_the_input() {
    let gpu = emu();
    let x = random::normal(&random::key(9), [8, 8]);
    let f = jit(|x: Tensor| x.transpose(&[1, 0]).tanh()).backend(gpu).donate_argnums([0]);
    let xd = x.device_put_with(gpu, CUDA0).expect("put");
    let id = buffer_id(&xd);
    let out = f.call((xd.clone(),)).expect("call");
    assert_ne!(buffer_id(&out), id, "a transpose reads elements a thread does not write: no aliasing");
    assert!(xd.to_array().expect("array").is_donated(), "the argument is donated all the same, as in JAX");
    assert_eq!(bits(&out), bits(&jit(|x: Tensor| x.transpose(&[1, 0]).tanh()).call((x,)).expect("cpu")));
}

#[test]
fn donated_host_inputs_are_uploaded_and_become_the_output() {
    let gpu = emu();
    let x = random::normal(&random::key(10), [33]);
    let keep = x.to_vec::<f32>().expect("f32");
    let f = jit(|x: Tensor| &x + 1.0).backend(gpu).donate_argnums([0]);
    let x2 = Tensor::from_array(jit_runtime::Array::from_slice(&keep, [33]).expect("array"));
    let (out, call) = counting(|| f.call((x2.clone(),)).expect("call"));
    assert_eq!(call, moved(1, 0, 0), "one upload; the output reuses the uploaded buffer");
    assert!(matches!(x2.to_vec::<f32>(), Err(Error::Donated { .. })));
    assert_eq!(out.to_vec::<f32>().expect("f32"), keep.iter().map(|v| v + 1.0).collect::<Vec<_>>());
    assert_eq!(x.to_vec::<f32>().expect("f32"), keep, "other host arrays are untouched");
}

#[test]
fn arrays_on_another_device_are_copied_through_the_host() {
    let gpu = emu();
    let x = random::normal(&random::key(11), [25]);
    let y = random::normal(&random::key(12), [25]);
    let want = jit(body).call((x.clone(), y.clone())).expect("cpu");
    let x1 = x.device_put_with(gpu, CUDA1).expect("put on cuda:1");
    let y0 = y.device_put_with(gpu, CUDA0).expect("put on cuda:0");
    assert_eq!(on_device(&x1), CUDA1);

    // cuda:1 into a function on cuda:0: copied to the function's device (down to the host and up again).
    let f = jit(body).backend(gpu);
    let (out, call) = counting(|| f.call((x1.clone(), y0.clone())).expect("call"));
    assert_eq!(call, moved(1, 1, 0));
    assert_eq!(on_device(&out), CUDA0);
    assert_eq!(bits(&out), bits(&want));
    assert_eq!(on_device(&x1), CUDA1, "the argument stays where it was");

    // Device arrays into a CPU function: copied to the host, and the result is a host array.
    let (host_out, cpu_call) = counting(|| jit(body).call((x1.clone(), y0.clone())).expect("cpu call"));
    assert_eq!(cpu_call, moved(0, 2, 0));
    assert_eq!(on_device(&host_out), Device::CPU);
    assert_eq!(bits(&host_out), bits(&want));

    // Donated to a CPU function: handed over as a host copy, and donated all the same.
    let g = jit(body).donate_argnums([0]);
    let donated_out = g.call((x1.clone(), y0)).expect("cpu donated");
    assert_eq!(bits(&donated_out), bits(&want));
    assert!(matches!(x1.to_vec::<f32>(), Err(Error::Donated { .. })));
}

#[test]
fn device_put_between_devices_and_back_to_the_host() {
    let gpu = emu();
    let x = random::normal(&random::key(13), [7, 3]);
    let xd = x.device_put_with(gpu, CUDA0).expect("put");
    let (same, none) = counting(|| xd.device_put_with(gpu, CUDA0).expect("same device"));
    assert_eq!(none, moved(0, 0, 0));
    assert!(same.to_array().expect("array").same_buffer(&xd.to_array().expect("array")));

    let (x1, across) = counting(|| xd.device_put_with(gpu, CUDA1).expect("to cuda:1"));
    assert_eq!(across, moved(1, 1, 0));
    assert_eq!(on_device(&x1), CUDA1);
    let (back, down) = counting(|| jit_runtime::backend::device_put(&x1, "cpu").expect("to the host"));
    assert_eq!(down, moved(0, 1, 0));
    assert_eq!(on_device(&back), Device::CPU);
    assert_eq!(bits(&back), bits(&x));

    let e = x.device_put_with(gpu, "cuda:7").expect_err("no such device");
    assert!(e.to_string().contains("devices available"), "{e}");
    let e = x.device_put_with("interpreter", Device::CPU).map(|t| on_device(&t)).expect("cpu:0 is the host");
    assert_eq!(e, Device::CPU);
}

#[test]
fn emulated_executables_called_with_host_literals_never_write_their_inputs() {
    use jit_runtime::backend::{CompileOptions, Executable};
    let gpu = emu();
    let _ = gpu;
    let x = random::normal(&random::key(14), [50]);
    let f = jit(|x: Tensor| &x * 2.0);
    let lowered = f.lower((x.clone(),)).expect("lower");
    let options = CompileOptions { name: "double".into(), donated: vec![true], device: CUDA0 };
    let exe = llvm_backend::gpu::compile_emulated(lowered.graph(), &options, EmulatedGrid::default()).expect("compile");
    let lit = x.to_array().expect("array").literal().expect("literal");
    let before = lit.to_vec::<f32>().expect("f32");
    let out = exe.run(vec![Arc::clone(&lit)]).expect("run");
    assert_eq!(lit.to_vec::<f32>().expect("f32"), before, "the caller's literal is not the donated buffer");
    assert_eq!(out[0].to_vec::<f32>().expect("f32"), before.iter().map(|v| v * 2.0).collect::<Vec<_>>());
    assert_eq!(DType::F32, out[0].dtype());
}
