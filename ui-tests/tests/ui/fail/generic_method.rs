use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct Mlp {
    hidden: usize,
}

#[lifted_jit]
impl Mlp {
    fn forward<T: Clone, const N: usize>(&self, cx: &mut Scope, x: &Tensor, extra: impl Clone) -> Tensor {
        let _ = (cx, self.hidden, extra);
        x.clone()
    }
}

fn main() {}
