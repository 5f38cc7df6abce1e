//! Donated parameters by position and by name, taken by value (plain, `mut`, containers).
#![deny(warnings)]
use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct Opt {
    lr: f32,
}

#[lifted_jit(donate_argnums = [2], donate_argnames = ["momentum"])]
impl Opt {
    fn update(&self, _cx: &mut Scope, mut params: Vec<Tensor>, momentum: Tensor, grad: &Tensor) -> Vec<Tensor> {
        for p in params.iter_mut() {
            *p = &*p - &(&momentum * grad);
        }
        params
    }
}

#[lifted_jit(donate_argnames = "state")]
fn train_step(model: &Opt, _cx: &mut Scope, state: Tensor, batch: &Tensor) -> Tensor {
    state - batch * model.lr
}

fn main() {
    assert_eq!(Opt::update_jit().trace_count(), 0);
    assert_eq!(train_step_jit().trace_count(), 0);
}
