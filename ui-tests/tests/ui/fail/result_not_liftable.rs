use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct Mlp {
    hidden: usize,
}

#[lifted_jit]
impl Mlp {
    fn forward(&self, cx: &mut Scope, x: &Tensor) -> usize {
        let _ = (cx, x);
        self.hidden
    }
}

fn main() {}
