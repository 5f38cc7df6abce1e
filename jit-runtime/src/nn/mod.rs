//! Layers, activations and initialisers as in `flax.linen` and `jax.nn` (being written).
