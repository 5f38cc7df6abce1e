//! The generated code runs: a jitted method traces once per signature, under `init` and `apply`.
#![deny(warnings)]
use lifted_jit::lift::Scope;
use lifted_jit::{DType, Module, Shape, Tensor, lifted_jit, random};

#[derive(Module, Clone, Debug)]
struct Scale {
    init: f32,
}

#[lifted_jit(static_argnames = ["double"])]
impl Scale {
    fn forward(&self, cx: &mut Scope, x: &Tensor, double: bool) -> Tensor {
        let v = self.init as f64;
        let s = cx.param("s", move |_: &Tensor, sh: &Shape, dt: DType| Tensor::full(dt, sh.clone(), v), [1]);
        let y = x * &s;
        if double { y * 2.0 } else { y }
    }
}

fn main() -> Result<(), lifted_jit::Error> {
    let m = Scale { init: 2.0 };
    let x = Tensor::full(DType::F32, [3], 1.5);
    let vars = m.init(random::key(0), |m, cx| m.forward(cx, &x, false))?;
    let (y, _) = m.apply(&vars).call(|m, cx| m.forward(cx, &x, false))?;
    assert_eq!(y.to_vec::<f32>()?, vec![3.0; 3]);
    let (y, _) = m.apply(&vars).call(|m, cx| m.forward(cx, &x, true))?;
    assert_eq!(y.to_vec::<f32>()?, vec![6.0; 3]);
    let (_, _) = m.apply(&vars).call(|m, cx| m.forward(cx, &x, true))?;
    assert!(Scale::forward_jit().trace_count() >= 2, "{}", Scale::forward_jit().trace_count());
    Ok(())
}
