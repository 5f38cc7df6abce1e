//! Without `methods`, every method taking `&self` is jitted; associated fns are left alone. With `methods`, only
//! those; the others keep their code.
#![deny(warnings)]
use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct Mlp {
    hidden: usize,
}

#[lifted_jit]
impl Mlp {
    fn new(hidden: usize) -> Self {
        Mlp { hidden }
    }

    fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        self.loss(cx, x)
    }

    fn loss(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x * self.hidden as f64
    }
}

#[derive(Module, Clone, Debug)]
struct Other;

#[lifted_jit(methods = [forward])]
impl Other {
    fn forward(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        self.helper(x)
    }

    fn helper(&self, x: &Tensor) -> Tensor {
        x.clone()
    }
}

fn main() {
    let _ = Mlp::new(3);
    assert_eq!(Mlp::forward_jit().trace_count(), 0);
    assert_eq!(Mlp::loss_jit().trace_count(), 0);
    assert_eq!(Other::forward_jit().trace_count(), 0);
}
