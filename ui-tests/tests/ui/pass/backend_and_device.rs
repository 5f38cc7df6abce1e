//! Every backend name, and devices with and without an ordinal.
#![deny(warnings)]
use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct M;

#[lifted_jit(backend = "cpu")]
impl M {
    fn a(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x.clone()
    }
}

#[lifted_jit(backend = "gpu")]
impl M {
    fn b(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x.clone()
    }
}

#[lifted_jit(backend = "cuda")]
impl M {
    fn c(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x.clone()
    }
}

#[lifted_jit(backend = "interpreter")]
impl M {
    fn d(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x.clone()
    }
}

#[lifted_jit(device = "cpu")]
impl M {
    fn e(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x.clone()
    }
}

#[lifted_jit(device = "cpu:0")]
impl M {
    fn f(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x.clone()
    }
}

#[lifted_jit(device = "cuda:1")]
fn g(_m: &M, _cx: &mut Scope, x: &Tensor) -> Tensor {
    x.clone()
}

fn main() {
    let jits = [M::a_jit(), M::b_jit(), M::c_jit(), M::d_jit(), M::e_jit(), M::f_jit(), g_jit()];
    assert!(jits.iter().all(|j| j.trace_count() == 0));
}
