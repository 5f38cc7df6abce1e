//! Pattern parameters, `mut` parameters, containers, lifetimes, unit results, attributes on methods and docs
//! under `#![deny(missing_docs)]`.
#![deny(warnings, missing_docs)]
//! Crate docs.
use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

/// A module.
#[derive(Module, Clone, Debug)]
pub struct Mlp {
    /// Width.
    pub hidden: usize,
}

#[lifted_jit(static_argnums = [5])]
impl Mlp {
    /// Documented.
    #[track_caller]
    #[inline]
    #[must_use]
    pub fn forward<'a>(
        &'a self,
        cx: &mut Scope,
        (a, b): (Tensor, Tensor),
        mut xs: Vec<Tensor>,
        maybe: Option<Tensor>,
        (n, m): (usize, usize),
        slice: &[Tensor],
    ) -> (Tensor, Tensor) {
        let _ = cx;
        xs.push(a * (n + m) as f64);
        let extra = maybe.unwrap_or(b);
        (xs.remove(0) + extra, slice[0].clone())
    }
}

#[lifted_jit]
impl Mlp {
    /// Writes nothing back, returns nothing.
    #[allow(unused_variables)]
    pub fn side(&self, cx: &mut Scope, x: &Tensor) {}

    /// Only on some platforms.
    #[cfg(not(any()))]
    pub fn gated(&self, _cx: &mut Scope, x: &Tensor) -> lifted_jit::Result<Tensor> {
        Ok(x.clone())
    }
}

fn main() {
    assert_eq!(Mlp::forward_jit().trace_count(), 0);
    assert_eq!(Mlp::side_jit().trace_count(), 0);
    assert_eq!(Mlp::gated_jit().trace_count(), 0);
}
