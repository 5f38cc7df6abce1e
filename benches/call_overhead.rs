//! Time of a cached call: the jit call path's own overhead plus the backend's run.
//!
//! `cargo bench --bench call_overhead`. Prints medians of 21 rounds of 20,000 calls for
//! - `jit(|x| x + 1)` on `f32[8]` (JAX's `jax.jit` on the same function: about 4-5 µs on these machines);
//! - a `#[lifted_jit]` method `x * scale + bias` with two parameters, called through `apply` (Flax's
//!   `nn.jit(Module)().apply(variables, x)` on the same module: see BENCHMARKS.md);
//! - the same method called directly on a scope, inside one `apply` (the per-method cost of a jitted submodule).

use std::time::Instant;

use lifted_jit::prelude::*;

#[derive(Module, Clone, Debug)]
struct Affine {
    features: usize,
}

#[lifted_jit]
impl Affine {
    fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let ones = |_: &Tensor, s: &Shape, d: DType| Tensor::ones(d, s.clone());
        let scale = cx.param("scale", ones, [self.features]);
        let bias = cx.param("bias", ones, [self.features]);
        x * scale + bias
    }
}

fn median_ns(calls: u32, mut f: impl FnMut()) -> f64 {
    let mut rounds: Vec<f64> = (0..21)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..calls {
                f();
            }
            t.elapsed().as_nanos() as f64 / calls as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[10]
}

fn main() -> Result<()> {
    let f = jit(|x: Tensor| x + 1.0f32);
    let x = Tensor::zeros(DType::F32, [8]);
    f.call((x.clone(),))?;
    let ns = median_ns(20_000, || {
        let _ = std::hint::black_box(f.call((x.clone(),)));
    });
    println!("jit: cached call of x + 1 on f32[8]: median {ns:.0} ns/call");

    let m = Affine { features: 8 };
    let vars = m.init(random::key(0), |m, cx| m.forward(cx, &x))?;
    m.apply(&vars).call(|m, cx| m.forward(cx, &x))?;
    let ns = median_ns(20_000, || {
        let _ = std::hint::black_box(m.apply(&vars).call(|m, cx| m.forward(cx, &x)));
    });
    println!("#[lifted_jit]: cached apply of x * scale + bias on f32[8]: median {ns:.0} ns/call");

    let (per_call, _) = m.apply(&vars).call(|m, cx| {
        let _ = m.forward(cx, &x);
        median_ns(20_000, || {
            let _ = std::hint::black_box(m.forward(cx, &x));
        })
    })?;
    println!("#[lifted_jit]: cached method call inside one apply: median {per_call:.0} ns/call");
    Ok(())
}
