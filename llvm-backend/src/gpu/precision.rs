//! The precision of float32 matrix products on the GPU, as JAX's `jax_default_matmul_precision`: exact `f32`
//! (the default here, and what the CPU backend and the interpreter compute), or TF32 tensor cores (JAX's default
//! on recent NVIDIA GPUs: 10-bit mantissas for the products, `f32` sums; several times faster).

use super::error::GpuError;

/// The environment variable that chooses the precision (JAX reads `JAX_DEFAULT_MATMUL_PRECISION`).
pub const MATMUL_PRECISION_VAR: &str = "LIFTED_JIT_DEFAULT_MATMUL_PRECISION";

/// How cuBLAS multiplies `f32` matrices (`f64` products are always `f64`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MatmulPrecision {
    /// Exact `f32` products and sums (`float32`, or JAX's name `highest`).
    #[default]
    Float32,
    /// TF32 tensor-core products with `f32` sums (`tensorfloat32`).
    TensorFloat32,
}

impl MatmulPrecision {
    /// Parses a value of [`MATMUL_PRECISION_VAR`] (case-insensitive).
    ///
    /// ```
    /// use llvm_backend::gpu::MatmulPrecision;
    /// assert_eq!(MatmulPrecision::parse("tensorfloat32")?, MatmulPrecision::TensorFloat32);
    /// assert_eq!(MatmulPrecision::parse("HIGHEST")?, MatmulPrecision::Float32);
    /// let err = MatmulPrecision::parse("bfloat16").unwrap_err().to_string();
    /// assert!(err.contains("LIFTED_JIT_DEFAULT_MATMUL_PRECISION=bfloat16: expected one of float32"), "{err}");
    /// # Ok::<(), llvm_backend::gpu::GpuError>(())
    /// ```
    pub fn parse(value: &str) -> Result<MatmulPrecision, GpuError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "float32" | "highest" => Ok(MatmulPrecision::Float32),
            "tensorfloat32" => Ok(MatmulPrecision::TensorFloat32),
            other => Err(GpuError::Unsupported(format!(
                "{MATMUL_PRECISION_VAR}={other}: expected one of float32, tensorfloat32 (or highest, JAX's name for \
                 float32)"
            ))),
        }
    }

    /// The precision [`MATMUL_PRECISION_VAR`] asks for ([`MatmulPrecision::Float32`] when it is not set).
    pub fn from_env() -> Result<MatmulPrecision, GpuError> {
        match std::env::var(MATMUL_PRECISION_VAR) {
            Ok(v) => MatmulPrecision::parse(&v),
            Err(_) => Ok(MatmulPrecision::Float32),
        }
    }
}
