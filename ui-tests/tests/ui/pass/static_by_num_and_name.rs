//! Static parameters by position and by name, by value and by reference; floats and strings are hashable statics.
#![deny(warnings)]
use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct Mlp {
    hidden: usize,
}

#[lifted_jit(static_argnums = [3], static_argnames = ["scale", "mode"])]
impl Mlp {
    fn forward(&self, _cx: &mut Scope, x: &Tensor, train: bool, scale: f32, mode: &str) -> Tensor {
        if train && mode == "x" { x * scale } else { x.clone() }
    }
}

#[lifted_jit(static_argnums = 2)]
fn step(model: &Mlp, _cx: &mut Scope, n: usize, x: Tensor) -> Tensor {
    x + (model.hidden * n) as f64
}

fn main() {
    assert_eq!(Mlp::forward_jit().trace_count(), 0);
    assert_eq!(step_jit().trace_count(), 0);
}
