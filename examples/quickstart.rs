//! The main job for now: jit a small layer, print the traced program, run it compiled (LLVM), and compare with eager
//! execution (the reference interpreter).
//!
//! Run with `cargo run --release --example quickstart`.

use std::time::Instant;

use lifted_jit::prelude::*;

/// One dense layer with a GELU and a softmax head: the shape of a real model's inner loop.
fn layer(x: Tensor, w: Tensor, b: Tensor) -> Tensor {
    (x.matmul(&w) + &b).gelu().softmax(-1)
}

fn main() -> Result<()> {
    let key = random::key(0);
    let k = |i: u32| random::fold_in(&key, i);
    let x = random::normal(&k(0), [4, 8]);
    let w = random::normal(&k(1), [8, 3]).mul_scalar(0.3f32);
    let b = random::uniform(&k(2), [3]);

    let f = jit(layer).name("layer");
    println!("traced program:\n{}\n", f.lower((x.clone(), w.clone(), b.clone()))?.as_text());

    let t0 = Instant::now();
    let y = f.call((x.clone(), w.clone(), b.clone()))?;
    let first = t0.elapsed();
    let t1 = Instant::now();
    let n = 100;
    for _ in 0..n {
        f.call((x.clone(), w.clone(), b.clone()))?;
    }
    let cached = t1.elapsed() / n;
    println!("result:\n{}\n", y.to_array()?);

    let eager = disable_jit(|| layer(x.clone(), w.clone(), b.clone())).to_array()?;
    // Compiled code and the interpreter round transcendental functions identically; only the GEMM's summation order
    // differs, so the two agree to a few ulp.
    let diff = eager.to_vec::<f32>()?.iter().zip(y.to_vec::<f32>()?).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    println!("max |jitted - eager|: {diff:e}");
    println!(
        "traces: {}, compiles: {}, first run (compiled by lower() above): {first:?}, cached call: {cached:?}",
        f.trace_count(),
        f.compile_count()
    );
    Ok(())
}
