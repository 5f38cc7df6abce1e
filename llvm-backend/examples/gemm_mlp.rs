//! The W4 MLP (784-512-512-10, relu) forward written directly against the `gemm` crate, with the bias and relu in
//! plain Rust loops: the GEMM library's own speed for this network, to compare with the same network under `jit`
//! (`cargo bench --bench peer -- --case W4.jit.b128`). It shows how much of W4 is the GEMM and how much is ours.
//!
//! ```text
//! cargo run --release -p llvm-backend --example gemm_mlp [-- BATCH...]
//! ```
//!
//! Prints, per batch size (default 1, 128 and 1024), the median time of 1 and of all threads, and the GFLOP/s of
//! each layer's GEMM alone.

use std::time::Instant;

use gemm::{Parallelism, gemm};

const LAYERS: [(usize, usize); 3] = [(784, 512), (512, 512), (512, 10)];

/// `c = a @ b` for row-major `a: [m, k]`, `b: [k, n]`, `c: [m, n]`.
fn matmul(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32], par: Parallelism) {
    assert!(a.len() == m * k && b.len() == k * n && c.len() == m * n);
    // SAFETY: the slices hold exactly m*k, k*n and m*n elements (asserted), the strides describe row-major layouts
    // inside them, and `c` does not alias `a` or `b` (distinct borrows).
    unsafe {
        gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            0.0f32,
            1.0f32,
            false,
            false,
            false,
            par,
        )
    }
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn time<F: FnMut()>(mut f: F) -> f64 {
    let calls = 300;
    for _ in 0..20 {
        f();
    }
    median(
        (0..calls)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn main() {
    let batches: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let batches = if batches.is_empty() { vec![1, 128, 1024] } else { batches };
    let threads = rayon::current_num_threads();
    let weights: Vec<Vec<f32>> =
        LAYERS.iter().map(|&(k, n)| (0..k * n).map(|i| ((i % 7) as f32 - 3.0) * 0.01).collect()).collect();
    let bias = vec![0.1f32; 512];
    for batch in batches {
        let x: Vec<f32> = (0..batch * 784).map(|i| (i % 5) as f32 * 0.1).collect();
        let flops: usize = LAYERS.iter().map(|&(k, n)| 2 * batch * k * n).sum();
        for par in [Parallelism::None, Parallelism::Rayon(threads)] {
            let forward = || {
                let mut h = x.clone();
                for (l, &(k, n)) in LAYERS.iter().enumerate() {
                    let mut out = vec![0.0f32; batch * n];
                    // As the backend does: small products stay on the calling thread.
                    let p = if 2 * batch * k * n >= 1 << 22 { par } else { Parallelism::None };
                    matmul(batch, k, n, &h, &weights[l], &mut out, p);
                    if l + 1 < LAYERS.len() {
                        for row in out.chunks_mut(n) {
                            for (v, b) in row.iter_mut().zip(&bias) {
                                *v = (*v + b).max(0.0);
                            }
                        }
                    }
                    h = out;
                }
                std::hint::black_box(h);
            };
            let t = time(forward);
            let layer_rates: Vec<String> = LAYERS
                .iter()
                .enumerate()
                .map(|(l, &(k, n))| {
                    let a: Vec<f32> = vec![0.5; batch * k];
                    let mut c = vec![0.0f32; batch * n];
                    let tl = time(|| matmul(batch, k, n, &a, &weights[l], &mut c, par));
                    format!("{:.0}", 2.0 * (batch * k * n) as f64 / tl / 1e9)
                })
                .collect();
            let label = match par {
                Parallelism::None => "1 thread".to_string(),
                _ => format!("{threads} threads"),
            };
            println!(
                "batch {batch:>5}, {label}: forward {:.3} ms ({:.0} GFLOP/s); GEMMs alone: {} GFLOP/s",
                t * 1e3,
                flops as f64 / t / 1e9,
                layer_rates.join(" / ")
            );
        }
    }
}
