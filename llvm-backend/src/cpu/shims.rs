//! Functions the generated code calls: the thread pool's parallel loop and the GEMM.

use gemm::Parallelism;

/// A kernel function: `void kernel(ptr bufs, i64 start, i64 end)`.
pub type KernelFn = unsafe extern "C" fn(*mut *mut u8, i64, i64);

/// Runs `kernel(bufs, start, end)` over `0..extent` in chunks of at least `grain` iterations on the rayon pool.
///
/// # Safety
/// `kernel` must be a kernel of the running executable and `bufs` its buffer table for the current call.
pub unsafe extern "C" fn ljit_parallel_for(kernel: KernelFn, bufs: *mut *mut u8, extent: i64, grain: i64) {
    let threads = rayon::current_num_threads().max(1) as i64;
    let chunks = (extent / grain.max(1)).clamp(1, threads * 4);
    let size = (extent + chunks - 1) / chunks;
    let table = bufs as usize;
    rayon::scope(|s| {
        for c in 0..chunks {
            let start = c * size;
            let end = (start + size).min(extent);
            if start >= end {
                continue;
            }
            s.spawn(move |_| {
                // SAFETY: `kernel` is a kernel function of the executable being run, and `table` its buffer table,
                // valid for the whole driver call this scope is inside; chunks write disjoint output ranges.
                unsafe { kernel(table as *mut *mut u8, start, end) }
            });
        }
    });
}

/// True when the `gemm` crate may compute a zero result as `-0`. The interpreter sums the products starting from
/// `+0`, which never gives `-0` (in round-to-nearest, `+0 + -0` and `x + -x` are `+0`). The crate's special paths for tiny problems
/// (`k <= 2`, matrix-vector, small outputs) start from the first product, so a row of `-0` products gives `-0`. Its
/// blocked kernel starts every accumulator at `+0` and adds with fused multiply-adds, so it never gives `-0`; the
/// thresholds cover gemm 0.19's dispatch (`gemm_basic_generic`) with margin, and
/// `tests/ops.rs::gemm_sum_of_negative_zero_products_is_positive_zero` checks both sides of them.
fn may_give_negative_zero(m: usize, n: usize, k: usize) -> bool {
    k <= 2 || m <= 1 || n <= 1 || m * n <= 64 * 64
}

fn parallelism(flops: usize) -> Parallelism {
    let threads = rayon::current_num_threads();
    if threads > 1 && flops >= 1 << 22 { Parallelism::Rayon(threads) } else { Parallelism::None }
}

macro_rules! gemm_shim {
    ($name:ident, $t:ty) => {
        /// `batch` products `dst[b] = lhs[b] · rhs[b]` of strided matrices (strides in elements).
        ///
        /// # Safety
        /// The pointers must address buffers holding `batch` matrices of the given sizes and strides.
        #[allow(clippy::too_many_arguments)]
        pub unsafe extern "C" fn $name(
            batch: i64,
            m: i64,
            n: i64,
            k: i64,
            dst: *mut $t,
            lhs: *const $t,
            lhs_rs: i64,
            lhs_cs: i64,
            lhs_bs: i64,
            rhs: *const $t,
            rhs_rs: i64,
            rhs_cs: i64,
            rhs_bs: i64,
        ) {
            let (mu, nu, ku) = (m as usize, n as usize, k as usize);
            let par = parallelism(mu * nu * ku * 2);
            // Where the GEMM could give -0, it adds its products to a +0-filled destination (`read_dst`, alpha 1):
            // -0 + +0 = +0, and every other sum is unchanged. Doing it for every size cost about 2% on sgemm 1024³
            // (the memset and a read of the output), so the blocked kernel, which never gives -0, is left alone.
            let from_zero = ku == 0 || may_give_negative_zero(mu, nu, ku);
            for b in 0..batch as isize {
                // SAFETY: the pointers are buffers of the executable's current call, sized by the compile-time
                // shapes these sizes and strides were computed from; each batch step stays inside them.
                unsafe {
                    let d = dst.offset(b * (m * n) as isize);
                    if from_zero {
                        std::ptr::write_bytes(d, 0, mu * nu);
                    }
                    if ku == 0 {
                        continue;
                    }
                    gemm::gemm(
                        mu,
                        nu,
                        ku,
                        d,
                        1,
                        n as isize,
                        from_zero,
                        lhs.offset(b * lhs_bs as isize),
                        lhs_cs as isize,
                        lhs_rs as isize,
                        rhs.offset(b * rhs_bs as isize),
                        rhs_cs as isize,
                        rhs_rs as isize,
                        if from_zero { 1.0 } else { 0.0 },
                        1.0,
                        false,
                        false,
                        false,
                        par,
                    );
                }
            }
        }
    };
}

gemm_shim!(ljit_gemm_f32, f32);
gemm_shim!(ljit_gemm_f64, f64);
