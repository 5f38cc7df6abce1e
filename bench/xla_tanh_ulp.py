#!/usr/bin/env python3
"""The accuracy of XLA's f32 `tanh` on CPU, in ulps against the f64 `tanh` of numpy.

    /tmp/jaxvenv/bin/python bench/xla_tanh_ulp.py

W2 (`tanh(a*b+c)*0.5 + exp(-a*a)`) is bound by arithmetic, not memory, on this machine, and most of it is `tanh`.
XLA evaluates f32 `tanh` as a rational function (one division, no exponential); ours is within 1.5 ulp (see
`llvm-backend/src/math/README.md`) and costs more. This script measures what XLA's costs in accuracy, over every
17th f32 bit pattern in [2^-20, 12).
"""
import numpy as np
import jax
import jax.numpy as jnp


def main():
    lo = np.float32(2.0 ** -20).view(np.uint32)
    hi = np.float32(12.0).view(np.uint32)
    x = np.arange(lo, hi, 17, dtype=np.uint32).view(np.float32)
    got = np.asarray(jax.jit(jnp.tanh)(x)).astype(np.float64)
    want = np.tanh(x.astype(np.float64))
    exponent = np.floor(np.log2(np.abs(want)))
    ulp = 2.0 ** (np.maximum(exponent, -126) - 23)
    err = np.abs(got - want) / ulp
    worst = int(np.argmax(err))
    print(f"jax {jax.__version__}: XLA f32 tanh over {len(x)} inputs: max {err[worst]:.2f} ulp at x = {x[worst]!r}, "
          f"mean {err.mean():.3f} ulp, {100 * (err > 1).mean():.1f}% of inputs over 1 ulp, "
          f"{100 * (err > 2).mean():.2f}% over 2 ulp")


if __name__ == "__main__":
    main()
