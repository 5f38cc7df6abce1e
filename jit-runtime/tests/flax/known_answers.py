"""Known answers for jit-runtime/tests/nn_layers.rs and nn_initializers.rs, from Flax 0.12.8 / JAX 0.10 on CPU.

Run with `/tmp/jaxvenv/bin/python jit-runtime/tests/flax/known_answers.py` and paste the printed constants into the
tests. Values are printed as f32 bit patterns (`u32`), so the Rust side compares exactly or in ulps.
"""

import jax
import jax.numpy as jnp
import numpy as np
import flax
import flax.linen as nn
from jax.nn import initializers as ini

jax.config.update("jax_platforms", "cpu")


def bits(a):
    a = np.asarray(a, dtype=np.float32)
    return np.ascontiguousarray(a).reshape(-1).view(np.uint32)


def rust(name, a):
    """`const NAME: [u32; N] = [...]; // shape`"""
    b = bits(a)
    words = ", ".join(f"0x{int(w):08x}" for w in b)
    print(f"/// shape {tuple(np.shape(a))}")
    print(f"const {name}: [u32; {len(b)}] = [{words}];")


def data(shape, a=0.37, b=1.3):
    """Deterministic inputs the Rust side rebuilds: sin(a * i + b) * (1 + i % 3), i the flat index (computed in
    float64 and rounded to f32)."""
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.float64)
    return jnp.asarray((np.sin(a * i + b) * (1 + i % 3)).astype(np.float32).reshape(shape))


print(f"// flax {flax.__version__}, jax {jax.__version__}")

# ---- initialisers: key PRNGKey(42) ----
key = jax.random.PRNGKey(42)
for name, init, shape in [
    ("INIT_NORMAL", ini.normal(2.0), (3, 4)),
    ("INIT_UNIFORM", ini.uniform(3.0), (3, 4)),
    ("INIT_TRUNCATED_NORMAL", ini.truncated_normal(0.5), (3, 4)),
    ("INIT_CONSTANT", ini.constant(-7.0), (2, 3)),
    ("INIT_LECUN_NORMAL", ini.lecun_normal(), (3, 4)),
    ("INIT_LECUN_UNIFORM", ini.lecun_uniform(), (3, 4)),
    ("INIT_GLOROT_NORMAL", ini.glorot_normal(), (3, 4)),
    ("INIT_GLOROT_UNIFORM", ini.glorot_uniform(), (3, 4)),
    ("INIT_HE_NORMAL", ini.he_normal(), (3, 4)),
    ("INIT_HE_UNIFORM", ini.he_uniform(), (3, 4)),
    ("INIT_VS_FAN_OUT_NORMAL_CONV", ini.variance_scaling(2.0, "fan_out", "normal"), (2, 3, 4, 5)),
    ("INIT_VS_FAN_AVG_TRUNC_CONV", ini.variance_scaling(0.5, "fan_avg", "truncated_normal"), (3, 2, 4, 5)),
    ("INIT_EMBED_DEFAULT", ini.variance_scaling(1.0, "fan_in", "normal", out_axis=0), (6, 4)),
]:
    rust(name, init(key, shape, jnp.float32))

# ---- Dense(3).init(PRNGKey(0), ones((2, 4))) ----
x = jnp.ones((2, 4))
dense = nn.Dense(3)
v = dense.init(jax.random.PRNGKey(0), x)
print("// Dense(3).init(PRNGKey(0), ones((2, 4))):", jax.tree_util.tree_map(jnp.shape, v))
rust("DENSE_KERNEL", v["params"]["kernel"])
xd = data((2, 4))
rust("DENSE_X", xd)
rust("DENSE_Y", dense.apply(v, xd))
rust("DENSE_Y3", dense.apply(v, data((2, 3, 4))))


# ---- two layers ----
class Mlp(nn.Module):
    @nn.compact
    def __call__(self, x):
        h = nn.relu(nn.Dense(5)(x))
        return nn.Dense(3, use_bias=False)(h)


mlp = Mlp()
v = mlp.init(jax.random.PRNGKey(0), x)
print("// Mlp().init(PRNGKey(0), ones((2, 4))):", jax.tree_util.tree_map(jnp.shape, v))
rust("MLP_DENSE0_KERNEL", v["params"]["Dense_0"]["kernel"])
rust("MLP_DENSE1_KERNEL", v["params"]["Dense_1"]["kernel"])
rust("MLP_Y", mlp.apply(v, xd))


# ---- Dropout(0.5) at /Dropout_0 ----
class Drop(nn.Module):
    rate: float = 0.5
    broadcast_dims: tuple = ()

    @nn.compact
    def __call__(self, x):
        return nn.Dropout(self.rate, broadcast_dims=self.broadcast_dims)(x, deterministic=False)


xdrop = data((3, 8))
rust("DROPOUT_X", xdrop)
y = Drop().apply({}, xdrop, rngs={"dropout": jax.random.PRNGKey(1)})
rust("DROPOUT_Y", y)
y = Drop(0.3, (0,)).apply({}, xdrop, rngs={"dropout": jax.random.PRNGKey(1)})
rust("DROPOUT_BCAST_Y", y)


# ---- BatchNorm ----
class BN(nn.Module):
    @nn.compact
    def __call__(self, x, train):
        return nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)


xbn = data((6, 4), 0.9, 0.2) * 3.0 + 1.5
rust("BN_X", xbn)
bn = BN()
v = bn.init(jax.random.PRNGKey(0), xbn, False)
print("// BN init:", jax.tree_util.tree_map(jnp.shape, v))
params = {"BatchNorm_0": {"scale": 1.0 + 0.1 * jnp.arange(4.0), "bias": 0.5 * jnp.arange(4.0) - 0.25}}
v = {"params": params, "batch_stats": v["batch_stats"]}
y, upd = bn.apply(v, xbn, True, mutable=["batch_stats"])
rust("BN_TRAIN_Y", y)
rust("BN_MEAN", upd["batch_stats"]["BatchNorm_0"]["mean"])
rust("BN_VAR", upd["batch_stats"]["BatchNorm_0"]["var"])
y = bn.apply({"params": params, "batch_stats": upd["batch_stats"]}, xbn, False)
rust("BN_EVAL_Y", y)

# ---- LayerNorm ----
xln = data((3, 5), 1.1, 0.4) * 2.0 - 0.3
rust("LN_X", xln)
ln = nn.LayerNorm()
v = ln.init(jax.random.PRNGKey(0), xln)
print("// LayerNorm init:", jax.tree_util.tree_map(jnp.shape, v))
v = {"params": {"scale": 1.0 - 0.2 * jnp.arange(5.0), "bias": 0.1 * jnp.arange(5.0)}}
rust("LN_Y", ln.apply(v, xln))

# ---- Embed ----
emb = nn.Embed(10, 4)
ids = jnp.array([[0, 3, 9], [-1, 2, 5]], dtype=jnp.int32)
v = emb.init(jax.random.PRNGKey(0), ids)
print("// Embed(10, 4).init:", jax.tree_util.tree_map(jnp.shape, v))
rust("EMBED_TABLE", v["params"]["embedding"])
rust("EMBED_Y", emb.apply(v, ids))
q = data((2, 4), 0.5, 0.1)
rust("EMBED_Q", q)
oob = emb.apply(v, jnp.array([10, -11, -10, 4], dtype=jnp.int32))
print("// Embed ids [10, -11, -10, 4]: rows", [bool(np.isnan(r).all()) for r in np.asarray(oob)], "are NaN")
rust("EMBED_OOB", oob)
rust("EMBED_ATTEND", emb.apply(v, q, method=emb.attend))

# ---- activations (jax.nn) ----
xa = jnp.asarray(np.array([-30.0, -5.5, -1.0, -0.25, -0.0, 0.0, 1e-3, 0.5, 1.0, 2.75, 10.0, 90.0], np.float32))
rust("ACT_X", xa)
rust("ACT_GELU", jax.nn.gelu(xa))
rust("ACT_GELU_EXACT", jax.nn.gelu(xa, approximate=False))
rust("ACT_SIGMOID", jax.nn.sigmoid(xa))
rust("ACT_SILU", jax.nn.silu(xa))
rust("ACT_SOFTPLUS", jax.nn.softplus(xa))
rust("ACT_ELU", jax.nn.elu(xa, 0.7))
rust("ACT_LEAKY_RELU", jax.nn.leaky_relu(xa, 0.01))
rust("ACT_SOFTMAX", jax.nn.softmax(xa.reshape(3, 4), axis=-1))
rust("ACT_LOG_SOFTMAX", jax.nn.log_softmax(xa.reshape(3, 4), axis=0))
