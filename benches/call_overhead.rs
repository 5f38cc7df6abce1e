//! Time of a cached call of `f(x) = x + 1` on `f32[8]`: the jit call path's own overhead plus the backend's run.
//!
//! `cargo bench --bench call_overhead`. Prints the median of 21 rounds of 20,000 calls. The JAX figure to compare
//! with comes from `shared/bench` (`jax.jit` on the same function: about 4 µs on these machines).

use std::time::Instant;

use lifted_jit::prelude::*;

fn main() -> Result<()> {
    let f = jit(|x: Tensor| x + 1.0f32);
    let x = Tensor::zeros(DType::F32, [8]);
    f.call((x.clone(),))?;
    let calls = 20_000;
    let mut rounds: Vec<f64> = (0..21)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..calls {
                let _ = std::hint::black_box(f.call((x.clone(),)));
            }
            t.elapsed().as_nanos() as f64 / calls as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    println!("cached call of x + 1 on f32[8]: median {:.0} ns/call", rounds[10]);
    Ok(())
}
