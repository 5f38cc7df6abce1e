use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct Mlp {
    hidden: usize,
}

#[lifted_jit(methods = [make])]
impl Mlp {
    fn make(cx: &mut Scope, x: &Tensor) -> Tensor {
        let _ = cx;
        x.clone()
    }
}

fn main() {}
