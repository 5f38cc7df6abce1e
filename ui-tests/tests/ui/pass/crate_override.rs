//! `crate = "..."` for a crate that reaches the facade under another path.
#![deny(warnings)]
extern crate lifted_jit as facade;

use facade::lift::Scope;
use facade::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
#[module(crate = "facade")]
struct Mlp {
    hidden: usize,
}

#[lifted_jit(crate = "facade")]
impl Mlp {
    fn forward(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x * self.hidden as f64
    }
}

#[lifted_jit(crate = "::lifted_jit")]
fn step(model: &Mlp, _cx: &mut Scope, x: &Tensor) -> Tensor {
    x * model.hidden as f64
}

fn main() {
    assert_eq!(Mlp::forward_jit().trace_count(), 0);
    assert_eq!(step_jit().trace_count(), 0);
}
