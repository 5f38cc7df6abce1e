//! Arrays on a device as the runtime sees them, without any GPU backend: a test [`DeviceBuffer`] that counts its
//! copies to the host. Reading copies once and keeps the copy; donation hands the buffer over; a host-only
//! function (the interpreter) gets device arrays copied to the host; `device_put` without a backend for the device
//! names the devices there are. The GPU backends' own tests (`llvm-backend/tests/gpu_transfers.rs`) cover calls
//! that keep data on the device.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use jit_runtime::backend::{ArgBuffer, Backend, Device, DeviceBuffer, DevicePut, InterpreterBackend, device_put};
use jit_runtime::jit::jit;
use jit_runtime::{Array, DType, Error, Literal, Shape, Tensor};

struct TestBuffer {
    literal: Literal,
    reads: Arc<AtomicUsize>,
}

impl DeviceBuffer for TestBuffer {
    fn device(&self) -> Device {
        Device::gpu(3)
    }
    fn dtype(&self) -> DType {
        self.literal.dtype()
    }
    fn shape(&self) -> &Shape {
        self.literal.shape()
    }
    fn id(&self) -> u64 {
        7
    }
    fn to_host(&self) -> jit_runtime::Result<Literal> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        Ok(self.literal.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

fn on_test_device(v: &[f32]) -> (Array, Arc<AtomicUsize>) {
    let reads = Arc::new(AtomicUsize::new(0));
    let buffer = TestBuffer { literal: Literal::vector(v.to_vec()), reads: Arc::clone(&reads) };
    (Array::from_device(Arc::new(buffer)), reads)
}

#[test]
fn reading_a_device_array_copies_it_once() {
    let (a, reads) = on_test_device(&[1.0, 2.0, 3.0]);
    assert_eq!(a.device(), Device::gpu(3));
    assert_eq!((a.dtype(), a.dims()), (DType::F32, &[3usize][..]));
    assert_eq!(reads.load(Ordering::Relaxed), 0, "nothing is copied until the array is read");
    assert_eq!(a.to_vec::<f32>().expect("f32"), vec![1.0, 2.0, 3.0]);
    assert_eq!(a.to_string(), "Array([1., 2., 3.], dtype=float32)");
    assert_eq!(a.clone().literal().expect("literal").to_vec::<f32>().expect("f32"), vec![1.0, 2.0, 3.0]);
    assert_eq!(reads.load(Ordering::Relaxed), 1, "later reads (and clones) use the host copy");
    assert_eq!(a.device_buffer().map(|b| b.id()), Some(7));
    assert!(matches!(a.buffer(), Ok(ArgBuffer::Device(_))), "as a call input it is still the device buffer");
}

#[test]
fn donating_a_device_array_hands_its_buffer_over() {
    let (a, reads) = on_test_device(&[4.0]);
    let copy = a.clone();
    let ArgBuffer::Device(b) = a.donate_buffer("step").expect("donate") else { panic!("a device buffer") };
    assert_eq!(b.id(), 7);
    assert_eq!(reads.load(Ordering::Relaxed), 0);
    assert!(copy.is_donated());
    assert!(matches!(copy.to_vec::<f32>(), Err(Error::Donated { to }) if to == "step"));
    assert!(matches!(copy.item::<f32>(), Err(Error::Donated { .. })));
    assert!(copy.device_buffer().is_none());
    assert_eq!(copy.device(), Device::gpu(3), "the device is still known, as dtype and shape are");
    assert!(matches!(copy.device_put("cpu"), Err(Error::Donated { .. })));
}

#[test]
fn host_functions_get_device_arrays_copied_to_the_host() {
    let (a, reads) = on_test_device(&[1.0, -2.0]);
    let f = jit(|x: Tensor| &x * 3.0).backend("interpreter");
    let y = f.call((Tensor::from_array(a.clone()),)).expect("call");
    assert_eq!(y.to_vec::<f32>().expect("f32"), vec![3.0, -6.0]);
    assert_eq!(y.to_array().expect("array").device(), Device::CPU);
    assert_eq!(reads.load(Ordering::Relaxed), 1);

    // Donated: the host copy is what the function consumes, and the array reads as donated afterwards.
    let (b, _) = on_test_device(&[5.0, 6.0]);
    let g = jit(|x: Tensor| &x + 1.0).backend("interpreter").donate_argnums([0]);
    let z = g.call((Tensor::from_array(b.clone()),)).expect("call");
    assert_eq!(z.to_vec::<f32>().expect("f32"), vec![6.0, 7.0]);
    assert!(b.is_donated());

    // `Executable::run_arrays`' default does the same for backends that keep arrays on the host.
    let graph = jit(|x: Tensor| x.neg()).lower((Tensor::zeros(DType::F32, [2]),)).expect("lower").graph().clone();
    let options =
        jit_runtime::backend::CompileOptions { name: "neg".into(), donated: vec![false], device: Device::CPU };
    let exe = InterpreterBackend.compile(&graph, &options).expect("compile");
    assert!(!exe.uses_device_buffers());
    let (c, reads) = on_test_device(&[1.0, 2.0]);
    let out = exe.run_arrays(vec![c.buffer().expect("buffer")]).expect("run");
    assert_eq!(reads.load(Ordering::Relaxed), 1);
    let ArgBuffer::Host(out) = &out[0] else { panic!("a host result") };
    assert_eq!(out.to_vec::<f32>().expect("f32"), vec![-1.0, -2.0]);
}

#[test]
fn device_put_to_the_host_and_to_missing_devices() {
    let (a, reads) = on_test_device(&[2.5]);
    let host = device_put(&a, "cpu:0").expect("to the host");
    assert_eq!(host.device(), Device::CPU);
    assert_eq!(host.item::<f32>().expect("f32"), 2.5);
    assert_eq!(reads.load(Ordering::Relaxed), 1);
    assert!(a.device_put(Device::gpu(3)).expect("already there").same_buffer(&a));

    let x = Tensor::full(DType::F32, [2], 1.0);
    let e = x.device_put("cuda:0").map(|_| ()).expect_err("no GPU backend in this test");
    assert!(e.to_string().contains("devices available: cpu:0"), "{e}");
    let e = InterpreterBackend.put(&Literal::scalar(1.0f32), Device::gpu(0)).map(|_| ()).expect_err("host only");
    assert!(e.to_string().contains("keeps arrays on the host"), "{e}");
    assert!(matches!(x.device_put("tpu:0"), Err(Error::UnknownDevice { .. })));
}
