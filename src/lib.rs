//! `lifted-jit`: Flax's lifted `jit` for Rust.
//!
//! A model author writes ordinary Rust on [`Tensor`]s; [`jit`](jit::jit) (and, soon, the `#[lifted_jit]`
//! attribute on a module's `impl` block) traces the code into an IR on first call and runs the compiled program on
//! later calls with the same signature. This crate is the one dependency a model crate needs: it re-exports the
//! runtime ([`jit_runtime`]) and will install the LLVM backends.
//!
//! ```
//! use lifted_jit::prelude::*;
//!
//! let f = jit(|x: Tensor, y: Tensor| (&x * &y).tanh() + 1.0);
//! let x = Tensor::full(DType::F32, [4], 0.5);
//! let out = f.call((x.clone(), x))?;
//! assert_eq!(out.to_vec::<f32>()?, vec![0.25f32.tanh() + 1.0; 4]);
//! println!("{}", f.lower((Tensor::zeros(DType::F32, [4]), Tensor::zeros(DType::F32, [4])))?.as_text());
//! # Ok::<(), lifted_jit::Error>(())
//! ```

pub use jit_runtime::*;

/// `jit` with this crate's backends installed: see [`jit_runtime::jit`] for the whole API.
pub mod jit {
    pub use jit_runtime::jit::*;

    /// Stages `f` (see [`Jit`]); the LLVM CPU backend is the default.
    pub fn jit<F>(f: F) -> Jit<F> {
        crate::install_backends();
        jit_runtime::jit::jit(f)
    }
}

/// `jax.device_put(x, device)` with this crate's backends installed: `x` (an [`Array`] or a [`Tensor`]) copied to
/// `device` (`"cuda:0"`, `"cpu"`), where a function jitted for that device takes it without a copy and leaves its
/// results until they are read. See [`jit_runtime::backend::device_put`].
///
/// ```
/// use lifted_jit::prelude::*;
/// let x = Tensor::full(DType::F32, [4], 1.0);
/// match device_put(&x, "cuda:0") {
///     Ok(on_gpu) => assert_eq!(on_gpu.to_array()?.device(), Device::gpu(0)),
///     Err(e) => assert!(e.to_string().contains("devices available"), "{e}"), // no GPU here
/// }
/// # Ok::<(), lifted_jit::Error>(())
/// ```
pub fn device_put<T: backend::DevicePut>(x: &T, device: impl backend::IntoDevice) -> Result<T> {
    install_backends();
    backend::device_put(x, device)
}

/// Registers the LLVM backends with the runtime (once; every entry point of this crate calls it): the CPU backend,
/// the default, and the GPU backend, which `backend = "gpu"` or `device = "cuda:0"` select (and which, where there
/// is no CUDA driver or GPU, answers with an error naming what is missing and the devices available).
pub fn install_backends() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(llvm_backend::register);
}

/// What the `#[lifted_jit]` and `#[derive(Module)]` expansions refer to: the runtime's, with this crate's backends
/// installed before a jitted method first runs. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use jit_runtime::__private::*;

    /// The jit state of one method, with the LLVM backends registered.
    pub fn lifted_fn(spec: LiftSpec) -> LiftedFn {
        crate::install_backends();
        LiftedFn::new(spec)
    }
}

/// The names a model file usually needs: `use lifted_jit::prelude::*;`.
pub mod prelude {
    pub use crate::device_put;
    pub use crate::jit::jit;
    pub use jit_runtime::backend::{Device, DevicePut};
    pub use jit_runtime::jit::{Static, disable_jit};
    pub use jit_runtime::lift::{Filter, Rngs, Scope, Variables};
    pub use jit_runtime::{Array, Axes, DType, Error, Result, Shape, Tensor, where_};
    pub use jit_runtime::{Module, lifted_jit};
    pub use jit_runtime::{nn, random};
}
