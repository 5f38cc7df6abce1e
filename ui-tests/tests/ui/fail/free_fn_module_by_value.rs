use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct Mlp {
    hidden: usize,
}

#[lifted_jit]
fn step(model: Mlp, cx: &mut Scope, x: &Tensor) -> Tensor {
    let _ = (cx, model.hidden);
    x.clone()
}

fn main() {}
