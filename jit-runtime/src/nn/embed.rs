//! [`Embed`]: a lookup table from integer ids to vectors (`flax.linen.Embed`).

use super::initializers::{Distribution, FanMode, Init, variance_scaling};
use super::promote::float_dtype;
use crate::error::SourceLocation;
use crate::ir::DotDims;
use crate::lift::Scope;
use crate::trace::{Tensor, where_};

/// Maps integer ids in `[0, num_embeddings)` to rows of the parameter `embedding` of shape
/// `(num_embeddings, features)` (`flax.linen.Embed`).
///
/// The output has the ids' shape with `features` appended. As Flax's `jnp.take`, a negative id counts from the end
/// (`-1` is the last row) and an id outside `[-num_embeddings, num_embeddings)` gives a row of NaN. The default
/// initialiser is Flax's `variance_scaling(1.0, 'fan_in', 'normal', out_axis=0)`, whose fan is `features`.
///
/// The rows are gathered as `one_hot(ids) @ embedding`, which is exact for finite embeddings (a NaN or infinity in
/// the table also poisons the rows of other ids through `0 * inf`). [`attend`](Embed::attend) is the transposed
/// product, for logits that share the table (weight tying): run it in the same scope as the lookup, e.g.
/// `cx.child_named("embed", &embed, |e, cx| e.attend(cx, &h))` after `cx.child_named("embed", &embed, |e, cx|
/// e.forward(cx, &ids))`.
///
/// | Flax | here |
/// |---|---|
/// | `nn.Embed(1000, 64)(ids)` | `nn::Embed::new(1000, 64).call(cx, &ids)` |
/// | `self.embed = nn.Embed(...)` in `setup`, then `self.embed(ids)`, `self.embed.attend(h)` | `cx.child_named("embed", &embed, \|e, cx\| e.forward(cx, &ids))`, then `... e.attend(cx, &h)` |
///
/// ```
/// use jit_runtime::{nn, random, Module, Tensor};
/// let embed = nn::Embed::new(5, 3);
/// let ids = Tensor::from_vec(vec![0i32, 1, 2, -1, -2, -3], [2, 3]);
/// // Flax: variables = nn.Embed(5, 3).init(jax.random.PRNGKey(0), ids)
/// let variables = embed.init(random::key(0), |m, cx| m.forward(cx, &ids))?;
/// let table = variables.get("params", "embedding").map(|t| t.to_vec::<f32>()).transpose()?.unwrap_or_default();
/// let (y, _) = embed.apply(&variables).call(|m, cx| m.forward(cx, &ids))?;
/// assert_eq!(y.dims(), [2, 3, 3]);
/// assert_eq!(y.to_vec::<f32>()?[9..12], table[12..15]);     // id -1 is the last row
/// let q = Tensor::from_vec(vec![1.0f32, 0.0, 0.0], [1, 3]);
/// let (logits, _) = embed.apply(&variables).call(|m, cx| m.attend(cx, &q))?;
/// assert_eq!(logits.dims(), [1, 5]);
/// # Ok::<(), jit_runtime::Error>(())
/// ```
#[derive(crate::Module, Clone, Debug)]
#[module(crate = "crate")]
pub struct Embed {
    /// The number of rows (vocabulary size).
    pub num_embeddings: usize,
    /// The length of each row.
    pub features: usize,
    /// The table's initialiser.
    pub embedding_init: Init,
}

impl Embed {
    /// A table of `num_embeddings` rows of `features`, with Flax's default initialiser.
    pub fn new(num_embeddings: usize, features: usize) -> Embed {
        let embedding_init = variance_scaling(1.0, FanMode::FanIn, Distribution::Normal).out_axis([0]);
        Embed { num_embeddings, features, embedding_init }
    }

    /// The table's initialiser.
    pub fn embedding_init(mut self, init: Init) -> Embed {
        self.embedding_init = init;
        self
    }

    fn table(&self, cx: &mut Scope) -> Tensor {
        cx.param("embedding", self.embedding_init.clone(), [self.num_embeddings, self.features])
    }

    /// Looks up `ids` as a submodule of `cx` (`Embed_0`, ...), as `nn.Embed(n, d)(ids)` in a Flax compact method.
    pub fn call(&self, cx: &mut Scope, ids: &Tensor) -> Tensor {
        cx.child(self, |m, cx| m.forward(cx, ids))
    }

    /// Looks up `ids` in `cx`, the layer's own scope (Flax's `Embed.__call__`).
    #[track_caller]
    pub fn forward(&self, cx: &mut Scope, ids: &Tensor) -> Tensor {
        let loc = SourceLocation::caller();
        if let Some(e) = ids.error() {
            return Tensor::from_error(e.clone());
        }
        if !ids.dtype().is_integer() {
            return Tensor::fail("Embed", format!("the ids must be integers, got {}", ids.ty()), loc);
        }
        let table = self.table(cx);
        if table.error().is_some() {
            return table;
        }
        let mut out_shape = ids.dims().to_vec();
        out_shape.push(self.features);
        if self.num_embeddings == 1 {
            // As Flax: one row is broadcast whatever the ids.
            return table.reshape([self.features]).broadcast_to(out_shape);
        }
        let n = self.num_embeddings as i64;
        let zero = Tensor::scalar_of(ids.dtype(), 0.0);
        let wrapped = where_(&ids.less(&zero), &(ids + n), ids);
        let valid = &wrapped.greater_equal(&zero) & &wrapped.less(&Tensor::scalar_of(ids.dtype(), n as f64));
        let one_hot = wrapped.one_hot(self.num_embeddings, table.dtype());
        let dims = DotDims {
            lhs_contracting: vec![ids.rank()],
            rhs_contracting: vec![0],
            lhs_batch: vec![],
            rhs_batch: vec![],
        };
        let rows = one_hot.dot_general(&table, dims);
        let nan = Tensor::scalar_of(table.dtype(), f64::NAN);
        where_(&valid.expand_dims(-1), &rows, &nan)
    }

    /// The inner products of `query` (last axis `features`) with every row, `query @ embedding.T`, in `cx`, the
    /// layer's own scope (Flax's `Embed.attend`): logits over the vocabulary that share the table.
    #[track_caller]
    pub fn attend(&self, cx: &mut Scope, query: &Tensor) -> Tensor {
        let loc = SourceLocation::caller();
        if let Some(e) = query.error() {
            return Tensor::from_error(e.clone());
        }
        let table = self.table(cx);
        let Some(&last) = query.dims().last() else {
            return Tensor::fail("Embed.attend", format!("the query must have rank >= 1, got {}", query.ty()), loc);
        };
        if table.error().is_none() && last != self.features {
            return Tensor::fail(
                "Embed.attend",
                format!(
                    "the query {} must end in the {} features of the embedding {}",
                    query.ty(),
                    self.features,
                    table.ty()
                ),
                loc,
            );
        }
        let dtype = float_dtype(&[query, &table]);
        let (query, table) = (query.astype(dtype), table.astype(dtype));
        let dims = DotDims {
            lhs_contracting: vec![query.rank() - 1],
            rhs_contracting: vec![1],
            lhs_batch: vec![],
            rhs_batch: vec![],
        };
        query.dot_general(&table, dims)
    }
}
