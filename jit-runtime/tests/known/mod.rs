//! Comparing results with known answers (from JAX/Flax) in ulps; shared by the `nn_*` tests.

use jit_runtime::Tensor;

/// The distance in ulps between two f32 bit patterns (0 for equal bits; +0 and -0 are 0 apart).
pub fn ulps(a: u32, b: u32) -> u64 {
    let ord = |x: u32| if x & 0x8000_0000 != 0 { -((x & 0x7fff_ffff) as i64) } else { x as i64 };
    ord(a).abs_diff(ord(b))
}

/// Checks `got` against the known bits within `max_ulps` and returns the largest distance seen.
#[track_caller]
pub fn assert_close(name: &str, got: &Tensor, want: &[u32], max_ulps: u64) -> u64 {
    let got = got.to_vec::<f32>().unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(got.len(), want.len(), "{name}: length");
    let worst = got.iter().zip(want).map(|(g, &w)| ulps(g.to_bits(), w)).max().unwrap_or(0);
    if worst > max_ulps {
        let detail: Vec<String> = got
            .iter()
            .zip(want)
            .map(|(g, &w)| format!("{g:e} ({:#010x}) vs {:e} ({w:#010x})", g.to_bits(), f32::from_bits(w)))
            .collect();
        panic!("{name}: {worst} ulps apart (allowed {max_ulps}):\n{}", detail.join("\n"));
    }
    eprintln!("{name}: max {worst} ulp from the known answer");
    worst
}
