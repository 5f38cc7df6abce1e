//! The free fn form: the first parameter is the module; the scope may come anywhere.
#![deny(warnings)]
use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
pub struct Mlp {
    pub hidden: usize,
}

#[lifted_jit(rngs = ["dropout"])]
fn forward(model: &Mlp, x: &Tensor, cx: &mut Scope) -> Tensor {
    let _ = cx;
    x * model.hidden as f64
}

mod inner {
    use super::*;

    /// A public jitted fn: its accessor is public too.
    #[lifted_jit(static_argnames = ["k"])]
    pub fn scaled(model: &Mlp, cx: &mut Scope, x: &Tensor, k: i32) -> Tensor {
        super::forward(model, x, cx) * k as f64
    }
}

fn main() {
    assert_eq!(forward_jit().trace_count(), 0);
    assert_eq!(inner::scaled_jit().trace_count(), 0);
}
