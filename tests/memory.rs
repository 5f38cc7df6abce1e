//! Memory behaviour of the compiled (LLVM CPU) path: donated buffers become outputs, temporaries share space.

use lifted_jit::prelude::*;

fn data_ptr(t: &Tensor) -> usize {
    t.to_array().unwrap().literal().unwrap().data().as_ptr() as usize
}

#[test]
fn a_donated_input_buffer_is_reused_for_the_output() {
    let f = jit(|x: Tensor, y: Tensor| (&x * 2.0f32 + &y).tanh()).donate_argnums([0]);
    let x = Tensor::from_vec((0..4096).map(|i| i as f32 / 4096.0).collect::<Vec<_>>(), [64, 64]);
    let y = Tensor::full(DType::F32, [64, 64], 0.5);
    let expected: Vec<f32> = x.to_vec::<f32>().unwrap().iter().map(|v| (v * 2.0 + 0.5).tanh()).collect();
    let before = data_ptr(&x);
    let out = f.call((x.clone(), y.clone())).unwrap();
    assert_eq!(data_ptr(&out), before, "the output was written into the donated buffer");
    let got = out.to_vec::<f32>().unwrap();
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() <= 1e-6, "{g} vs {e}");
    }
    let err = x.to_vec::<f32>().unwrap_err().to_string();
    assert!(err.contains("array was donated to"), "{err}");
    assert!(f.warnings().is_empty(), "{:?}", f.warnings());
}

#[test]
fn a_donation_read_after_the_output_is_written_is_not_aliased() {
    // The output of the first kernel has x's type, but x is read again by a later kernel (the reduction), so the
    // buffer must not be overwritten early: results stay right.
    let f = jit(|x: Tensor| {
        let y = x.exp();
        let s = x.sum(Axes::All);
        (y, s)
    })
    .donate_argnums([0]);
    let x = Tensor::from_vec(vec![0.0f32, 1.0, 2.0, 3.0], [4]);
    let (y, s) = f.call((x,)).unwrap();
    assert_eq!(s.to_vec::<f32>().unwrap(), vec![6.0]);
    let y = y.to_vec::<f32>().unwrap();
    assert!((y[3] - 3f32.exp()).abs() < 1e-5, "{y:?}");
}

#[test]
fn many_temporaries_give_right_results() {
    // A chain of reductions and broadcasts materialises several temporaries, some of which share workspace bytes.
    let f = jit(|x: Tensor| {
        let a = x.softmax(-1);
        let b = a.log_softmax(0);
        let c = (&b - b.mean_keepdims(-1)).square().sum(-1);
        (a, c)
    });
    let x = random::normal(&random::key(3), [33, 17]);
    let (a, c) = f.call((x.clone(),)).unwrap();
    let (ae, ce) = disable_jit(|| {
        let a = x.softmax(-1);
        let b = a.log_softmax(0);
        let c = (&b - b.mean_keepdims(-1)).square().sum(-1);
        (a, c)
    });
    for (t, e) in [(a, ae), (c, ce)] {
        let (t, e) = (t.to_vec::<f32>().unwrap(), e.to_vec::<f32>().unwrap());
        for (x, y) in t.iter().zip(&e) {
            assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }
}
