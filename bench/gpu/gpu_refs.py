# GPU references for the peer benchmark: device copy bandwidth and cuBLAS sgemm through JAX (same GPU, same run).
import json, time
import jax, jax.numpy as jnp

def med(f, *a, n=30):
    f(*a).block_until_ready()
    ts = []
    for _ in range(n):
        s = time.perf_counter(); f(*a).block_until_ready(); ts.append(time.perf_counter() - s)
    ts.sort()
    return ts[len(ts) // 2]

print("JAX", jax.__version__, jax.devices())
x = jnp.ones((64 * 1024 * 1024,), jnp.float32)
m = med(jax.jit(lambda x: x + 1.0), x)
print("REF " + json.dumps({"ref": "x+1 on 256 MB f32 (XLA)", "median_s": m, "GB_s_read_write": 2 * x.nbytes / m / 1e9}))
for n in (1024, 2048, 4096):
    a = jnp.ones((n, n), jnp.float32) * 0.5
    b = jnp.ones((n, n), jnp.float32) * 0.25
    for prec in ("DEFAULT", "HIGHEST"):
        f = jax.jit(lambda a, b, p=prec: jnp.matmul(a, b, precision=getattr(jax.lax.Precision, p)))
        m = med(f, a, b)
        print("REF " + json.dumps({"ref": f"sgemm {n}^3 precision={prec}", "median_s": m, "TFLOP_s": 2 * n**3 / m / 1e12}))
x = jax.random.normal(jax.random.key(3), (4096, 4096), jnp.float32)
m = med(jax.jit(lambda x: jax.nn.softmax(x, axis=-1)), x)
print("REF " + json.dumps({"ref": "R1 softmax(x, -1) [4096,4096] (XLA)", "median_s": m, "GB_s": 2 * x.nbytes / m / 1e9}))
m = med(jax.jit(lambda x: x.mean(0)), x)
print("REF " + json.dumps({"ref": "R2 x.mean(0) [4096,4096] (XLA)", "median_s": m, "GB_s": x.nbytes / m / 1e9}))
