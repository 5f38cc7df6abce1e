//! Every filter form of `variables` and `rngs`.
#![deny(warnings)]
use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct Mlp {
    hidden: usize,
}

#[lifted_jit(variables = true, rngs = false)]
impl Mlp {
    fn a(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x.clone()
    }
}

#[lifted_jit(variables = false, rngs = true)]
impl Mlp {
    fn b(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x.clone()
    }
}

#[lifted_jit(variables = "params", rngs = ["dropout", "params"])]
impl Mlp {
    fn c(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x.clone()
    }
}

#[lifted_jit(variables = deny("intermediates"), rngs = deny(["dropout", "noise"]))]
impl Mlp {
    fn d(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x.clone()
    }
}

#[lifted_jit(variables = ["params", "batch_stats"], rngs = "dropout")]
impl Mlp {
    fn e(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x.clone()
    }
}

fn main() {
    assert_eq!(Mlp::a_jit().trace_count(), 0);
    assert_eq!(Mlp::b_jit().trace_count(), 0);
    assert_eq!(Mlp::c_jit().trace_count(), 0);
    assert_eq!(Mlp::d_jit().trace_count(), 0);
    assert_eq!(Mlp::e_jit().trace_count(), 0);
    let _ = Mlp { hidden: 1 }.hidden;
}
