use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct Mlp {
    hidden: usize,
}

impl Mlp {
    #[lifted_jit]
    fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let _ = (cx, self.hidden);
        x.clone()
    }
}

fn main() {}
