//! Float matrix products through cuBLAS (feature `cuda`), loaded at run time like the driver: a float
//! `dot_general` whose operands are strided matrices ([`GemmLaunch`]) becomes one `cublas{S,D}gemmStridedBatched`
//! call on the executable's stream instead of the generated kernel (one thread per output element), which stays
//! the fallback where cuBLAS is not installed or `LIFTED_JIT_CUBLAS=0`.
//!
//! cuBLAS is column-major and our arrays row-major: the row-major product `C = A B` is computed as the
//! column-major `Cᵀ = Bᵀ Aᵀ`, where a row-major operand read as column-major is already its transpose (operation
//! `N`) and a transposed operand (unit row stride) is read with operation `T`. The default math mode keeps `f32`
//! products in `f32` (no TF32), as the CPU backend and the generated kernel do; TF32 tensor cores are an opt-in
//! ([`MatmulPrecision`]).

use std::os::raw::{c_int, c_longlong};
use std::sync::Arc;

use cudarc::cublas::{CudaBlas, result, sys};
use cudarc::driver::CudaStream;
use jit_runtime::DType;

use super::error::GpuError;
use super::kernels::GemmLaunch;
use super::precision::MatmulPrecision;

/// A cuBLAS handle bound to one executable's stream.
pub(crate) struct Blas {
    blas: CudaBlas,
}

/// cuBLAS for `stream` multiplying `f32` matrices at `precision`, or `None` when it is turned off
/// (`LIFTED_JIT_CUBLAS=0`), not installed, or fails to start.
pub(crate) fn load(stream: &Arc<CudaStream>, precision: MatmulPrecision) -> Result<Option<Blas>, GpuError> {
    if std::env::var("LIFTED_JIT_CUBLAS").is_ok_and(|v| v.trim() == "0") {
        return Ok(None);
    }
    // SAFETY: only tries to open the library (`dlopen` of libcublas's usual names) and closes it again.
    if !unsafe { sys::is_culib_present() } {
        return Ok(None);
    }
    let Ok(blas) = CudaBlas::new(Arc::clone(stream)) else { return Ok(None) };
    if precision == MatmulPrecision::TensorFloat32 {
        // SAFETY: `handle` is the live handle `blas` owns; setting its math mode only affects later calls on it.
        let status = unsafe { sys::cublasSetMathMode(*blas.handle(), sys::cublasMath_t::CUBLAS_TF32_TENSOR_OP_MATH) };
        if status != sys::cublasStatus_t::CUBLAS_STATUS_SUCCESS {
            return Err(GpuError::Driver(format!("cuBLAS: TF32 math mode refused ({status:?})")));
        }
    }
    Ok(Some(Blas { blas }))
}

/// An operand of `rows × cols` read as column-major: its operation and leading dimension, from its (row, column)
/// strides. A row-major operand (unit column stride) is its own transpose stored column-major (`N`, leading
/// dimension its row stride, at least `cols`); a transposed one is the operand itself (`T`, leading dimension its
/// column stride, at least `rows`). A stride of a dimension of size 1 is never followed, so where the layouts
/// coincide the leading dimension is raised to what cuBLAS requires.
fn operand(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> (sys::cublasOperation_t, usize) {
    if col_stride == 1 {
        (sys::cublasOperation_t::CUBLAS_OP_N, row_stride.max(cols).max(1))
    } else {
        (sys::cublasOperation_t::CUBLAS_OP_T, col_stride.max(rows).max(1))
    }
}

impl Blas {
    /// Whether `g` fits cuBLAS's 32-bit sizes (else the generated kernel runs).
    pub(crate) fn accepts(g: &GemmLaunch) -> bool {
        let v = g.view;
        let fits = |x: usize| c_int::try_from(x).is_ok();
        matches!(g.dtype, DType::F32 | DType::F64)
            && [v.batch, v.m, v.n, v.k, v.lhs.0, v.lhs.1, v.rhs.0, v.rhs.1].into_iter().all(fits)
    }

    /// Enqueues `g` on the stream, with `ptrs[slot]` the device address of each buffer-table slot. The result is
    /// accumulated into its buffer (`C = A B + C`), which must hold `+0.0`: so a sum of `-0.0` products is `+0.0`,
    /// as in the interpreter and the CPU backend (a sum starts from `+0.0`), where `C = A B` would keep the `-0.0`
    /// of a single product.
    ///
    /// # Safety
    /// Every slot `g` names must hold a live device buffer of `g.dtype` large enough for its strided view
    /// (operands) or for `batch·m·n` elements (the result, zeroed), alive until the stream has finished, and the
    /// result must not overlap the operands.
    pub(crate) unsafe fn gemm(&self, g: &GemmLaunch, ptrs: &[u64]) -> Result<(), GpuError> {
        let v = g.view;
        let ptr = |slot: usize| {
            ptrs.get(slot).copied().ok_or_else(|| GpuError::Unsupported(format!("GEMM slot {slot} has no buffer")))
        };
        let (a, b, c) = (ptr(g.lhs)?, ptr(g.rhs)?, ptr(g.out)?);
        let (op_b, ld_b) = operand(v.k, v.n, v.rhs.0, v.rhs.1);
        let (op_a, ld_a) = operand(v.m, v.k, v.lhs.0, v.lhs.1);
        let int = |x: usize| c_int::try_from(x).map_err(|_| GpuError::Unsupported(format!("GEMM size {x}")));
        let long = |x: usize| c_longlong::try_from(x).map_err(|_| GpuError::Unsupported(format!("GEMM stride {x}")));
        let (m, n, k, batch) = (int(v.n)?, int(v.m)?, int(v.k)?, int(v.batch)?);
        let (lda, ldb, ldc) = (int(ld_b)?, int(ld_a)?, int(v.n)?);
        let (stride_a, stride_b, stride_c) = (long(v.rhs.2)?, long(v.lhs.2)?, long(v.m * v.n)?);
        let handle = *self.blas.handle();
        let status = match g.dtype {
            DType::F32 => {
                let (alpha, beta) = (1.0f32, 1.0f32);
                // SAFETY: the caller guarantees the buffers (see above); `alpha`/`beta` are host scalars read
                // before the call returns (host pointer mode, cuBLAS's default); the sizes and leading dimensions
                // describe the row-major views as column-major transposes (module documentation).
                unsafe {
                    result::sgemm_strided_batched(
                        handle,
                        op_b,
                        op_a,
                        m,
                        n,
                        k,
                        &alpha,
                        b as *const f32,
                        lda,
                        stride_a,
                        a as *const f32,
                        ldb,
                        stride_b,
                        &beta,
                        c as *mut f32,
                        ldc,
                        stride_c,
                        batch,
                    )
                }
            }
            DType::F64 => {
                let (alpha, beta) = (1.0f64, 1.0f64);
                // SAFETY: as for `f32`.
                unsafe {
                    result::dgemm_strided_batched(
                        handle,
                        op_b,
                        op_a,
                        m,
                        n,
                        k,
                        &alpha,
                        b as *const f64,
                        lda,
                        stride_a,
                        a as *const f64,
                        ldb,
                        stride_b,
                        &beta,
                        c as *mut f64,
                        ldc,
                        stride_c,
                        batch,
                    )
                }
            }
            other => return Err(GpuError::Unsupported(format!("cuBLAS GEMM of {other}"))),
        };
        status.map_err(|e| GpuError::Driver(format!("cuBLAS: {e:?}")))
    }
}
