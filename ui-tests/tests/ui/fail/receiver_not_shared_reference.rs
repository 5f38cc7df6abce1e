use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct Mlp {
    hidden: usize,
}

#[lifted_jit]
impl Mlp {
    fn by_value(self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let _ = (cx, self.hidden);
        x.clone()
    }

    fn by_mut(&mut self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let _ = (cx, self.hidden);
        x.clone()
    }
}

fn main() {}
