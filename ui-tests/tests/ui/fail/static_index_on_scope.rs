use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct Mlp {
    hidden: usize,
}

#[lifted_jit(static_argnums = 1)]
impl Mlp {
    fn forward(&self, cx: &mut Scope, x: &Tensor, train: bool) -> Tensor {
        let _ = (cx, train, self.hidden);
        x.clone()
    }
}

fn main() {}
