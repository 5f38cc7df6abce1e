//! Ops users expect that are built from primitives: `matmul`, `relu`, `gelu`, `softmax`, `log_softmax`,
//! `logsumexp`, `mean`, `var`, `one_hot`, `where_`, `clip`. Each follows the JAX definition, so results match.

use super::Tensor;
use super::axes::Axes;
use super::ops::{broadcast_shapes, propagated, select_at};
use crate::array::{DType, Shape};
use crate::error::SourceLocation;
use crate::ir::{BinaryOp, DotDims, Op, ReduceOp, UnaryOp};

impl Tensor {
    /// Matrix product with numpy's rules: 1-D operands are vectors, leading dimensions are batch dimensions and
    /// broadcast.
    ///
    /// ```
    /// use jit_runtime::Tensor;
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]);
    /// let b = Tensor::from_vec(vec![1.0f32, 1.0], [2]);
    /// assert_eq!(a.matmul(&b).to_vec::<f32>().unwrap(), vec![3.0, 7.0]);
    /// ```
    #[track_caller]
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        let loc = SourceLocation::caller();
        if let Some(e) = propagated(&[self, other]) {
            return e;
        }
        let (ra, rb) = (self.rank(), other.rank());
        if ra == 0 || rb == 0 {
            return Tensor::fail(
                "matmul",
                format!("operands must have rank >= 1, got {} and {}", self.ty(), other.ty()),
                loc,
            );
        }
        // Checked here so the message names `matmul`, not the `dot_general` it is built from.
        if self.dtype() != other.dtype() || !self.dtype().is_numeric() {
            return Tensor::fail(
                "matmul",
                format!("operands must be numeric of one dtype, got {} and {}", self.ty(), other.ty()),
                loc,
            );
        }
        // Vectors become matrices, and the added dimension is removed again at the end.
        let a = if ra == 1 { self.reshape_at([1, self.dims()[0]], loc) } else { self.clone() };
        let b = if rb == 1 { other.reshape_at([other.dims()[0], 1], loc) } else { other.clone() };
        let (ad, bd) = (a.dims().to_vec(), b.dims().to_vec());
        let (m, k) = (ad[ad.len() - 2], ad[ad.len() - 1]);
        let (k2, n) = (bd[bd.len() - 2], bd[bd.len() - 1]);
        if k != k2 {
            return Tensor::fail(
                "matmul",
                format!("inner dimensions differ: {} has {k} columns but {} has {k2} rows", self.ty(), other.ty()),
                loc,
            );
        }
        let batch_a = Shape::from(&ad[..ad.len() - 2]);
        let batch_b = Shape::from(&bd[..bd.len() - 2]);
        let Some(batch) = broadcast_shapes(&batch_a, &batch_b) else {
            return Tensor::fail(
                "matmul",
                format!("batch dimensions of {} and {} do not broadcast together", self.ty(), other.ty()),
                loc,
            );
        };
        let nb = batch.rank();
        let a = a.broadcast_to_at(&Shape::from([batch.dims(), &[m, k]].concat()), loc);
        let b = b.broadcast_to_at(&Shape::from([batch.dims(), &[k, n]].concat()), loc);
        let dims = DotDims {
            lhs_contracting: vec![nb + 1],
            rhs_contracting: vec![nb],
            lhs_batch: (0..nb).collect(),
            rhs_batch: (0..nb).collect(),
        };
        let out = a.apply1(Op::DotGeneral(dims), &[&b], loc);
        let mut final_dims = batch.dims().to_vec();
        if ra > 1 {
            final_dims.push(m);
        }
        if rb > 1 {
            final_dims.push(n);
        }
        out.reshape_at(final_dims, loc)
    }

    pub(crate) fn reshape_at(&self, shape: impl Into<Shape>, loc: SourceLocation) -> Tensor {
        let shape = shape.into();
        if self.shape() == &shape && self.error().is_none() {
            return self.clone();
        }
        self.apply1(Op::Reshape { shape }, &[], loc)
    }

    /// `max(x, 0)`.
    #[track_caller]
    pub fn relu(&self) -> Tensor {
        let loc = SourceLocation::caller();
        let (t, zero) = self.weak_scalar(0i32, loc);
        t.binary(&zero, BinaryOp::Max, loc)
    }

    /// GELU with the tanh approximation (`jax.nn.gelu(x, approximate=True)`, Flax's default):
    /// `x * 0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))`.
    #[track_caller]
    pub fn gelu(&self) -> Tensor {
        let loc = SourceLocation::caller();
        let sqrt_2_over_pi = (2.0 / std::f64::consts::PI).sqrt();
        let (x, c) = self.weak_scalar(0.044715f64, loc);
        let cube = x.apply1(Op::IntegerPow { exponent: 3 }, &[], loc);
        let inner = x.binary(&c.binary(&cube, BinaryOp::Mul, loc), BinaryOp::Add, loc);
        let (inner, s) = inner.weak_scalar(sqrt_2_over_pi, loc);
        let t = s.binary(&inner, BinaryOp::Mul, loc).unary(UnaryOp::Tanh, loc);
        let (t, one) = t.weak_scalar(1.0f64, loc);
        let (cdf_sum, half) = t.binary(&one, BinaryOp::Add, loc).weak_scalar(0.5f64, loc);
        let cdf = half.binary(&cdf_sum, BinaryOp::Mul, loc);
        x.binary(&cdf, BinaryOp::Mul, loc)
    }

    /// Exact GELU: `0.5 * x * erfc(-x * sqrt(1/2))` (`jax.nn.gelu(x, approximate=False)`), op for op as JAX
    /// computes it. `erfc` keeps the far negative tail accurate, where `(1 + erf(x / sqrt 2)) / 2` cancels.
    #[track_caller]
    pub fn gelu_exact(&self) -> Tensor {
        let loc = SourceLocation::caller();
        let (neg_x, sqrt_half) = self.unary(UnaryOp::Neg, loc).weak_scalar(std::f64::consts::FRAC_1_SQRT_2, loc);
        let e = neg_x.binary(&sqrt_half, BinaryOp::Mul, loc).unary(UnaryOp::Erfc, loc);
        let (x, half) = self.weak_scalar(0.5f64, loc);
        half.binary(&x, BinaryOp::Mul, loc).binary(&e, BinaryOp::Mul, loc)
    }

    /// `exp(x - max) / sum(exp(x - max))` along `axis` (`jax.nn.softmax`).
    #[track_caller]
    pub fn softmax(&self, axis: i32) -> Tensor {
        let loc = SourceLocation::caller();
        let m = self.reduce_at(ReduceOp::Max, axis.into(), true, loc).apply1(Op::StopGradient, &[], loc);
        let e = self.binary(&m, BinaryOp::Sub, loc).unary(UnaryOp::Exp, loc);
        let s = e.reduce_at(ReduceOp::Sum, axis.into(), true, loc);
        e.binary(&s, BinaryOp::Div, loc)
    }

    /// `x - max - log(sum(exp(x - max)))` along `axis` (`jax.nn.log_softmax`).
    #[track_caller]
    pub fn log_softmax(&self, axis: i32) -> Tensor {
        let loc = SourceLocation::caller();
        let m = self.reduce_at(ReduceOp::Max, axis.into(), true, loc).apply1(Op::StopGradient, &[], loc);
        let shifted = self.binary(&m, BinaryOp::Sub, loc);
        let lse = shifted.unary(UnaryOp::Exp, loc).reduce_at(ReduceOp::Sum, axis.into(), true, loc);
        shifted.binary(&lse.unary(UnaryOp::Log, loc), BinaryOp::Sub, loc)
    }

    /// `log(sum(exp(x)))` over `axes`, computed stably (`jax.nn.logsumexp`).
    #[track_caller]
    pub fn logsumexp(&self, axes: impl Into<Axes>) -> Tensor {
        let loc = SourceLocation::caller();
        if let Some(e) = propagated(&[self]) {
            return e;
        }
        let axes = axes.into();
        // Checked first, so the error names `logsumexp` rather than the `reduce_max` it starts with.
        let reduced = match axes.resolve(self.rank()) {
            Ok(a) => a,
            Err(m) => return Tensor::fail("logsumexp", format!("{m} (operand {})", self.ty()), loc),
        };
        let amax = self.reduce_at(ReduceOp::Max, axes.clone(), true, loc);
        // A non-finite maximum (all -inf, or NaN) would poison the shift: shift by 0 instead, as JAX does.
        let finite = amax.unary(UnaryOp::Abs, loc).compare_scalar(f64::INFINITY, BinaryOp::Lt, loc);
        let (amax, zero) = amax.weak_scalar(0.0f64, loc);
        let amax = select_at(&finite, &amax, &zero, loc).apply1(Op::StopGradient, &[], loc);
        let s =
            self.binary(&amax, BinaryOp::Sub, loc).unary(UnaryOp::Exp, loc).reduce_at(ReduceOp::Sum, axes, false, loc);
        let out_dims: Vec<usize> = (0..self.rank()).filter(|i| !reduced.contains(i)).map(|i| self.dims()[i]).collect();
        s.unary(UnaryOp::Log, loc).binary(&amax.reshape_at(out_dims, loc), BinaryOp::Add, loc)
    }

    /// Mean over `axes`; integer and bool inputs give f32 (as `jnp.mean`).
    #[track_caller]
    pub fn mean(&self, axes: impl Into<Axes>) -> Tensor {
        self.mean_at(axes.into(), false, SourceLocation::caller())
    }

    /// Mean over `axes`, keeping them with size 1.
    #[track_caller]
    pub fn mean_keepdims(&self, axes: impl Into<Axes>) -> Tensor {
        self.mean_at(axes.into(), true, SourceLocation::caller())
    }

    fn mean_at(&self, axes: Axes, keepdims: bool, loc: SourceLocation) -> Tensor {
        if let Some(e) = propagated(&[self]) {
            return e;
        }
        let x = if self.dtype().is_float() {
            self.clone()
        } else {
            self.apply1(Op::Convert { dtype: DType::F32 }, &[], loc)
        };
        let count: usize = match axes.resolve(self.rank()) {
            Ok(a) => a.iter().map(|&i| self.dims()[i]).product(),
            Err(m) => return Tensor::fail("mean", format!("{m} (operand {})", self.ty()), loc),
        };
        let s = x.reduce_at(ReduceOp::Sum, axes, keepdims, loc);
        let (s, n) = s.weak_scalar(count as f64, loc);
        s.binary(&n, BinaryOp::Div, loc)
    }

    /// Population variance over `axes`: `mean(|x - mean(x)|^2)` (as `jnp.var`).
    #[track_caller]
    pub fn var(&self, axes: impl Into<Axes>) -> Tensor {
        let loc = SourceLocation::caller();
        let axes = axes.into();
        let m = self.mean_at(axes.clone(), true, loc);
        let x = if self.dtype().is_float() {
            self.clone()
        } else {
            self.apply1(Op::Convert { dtype: DType::F32 }, &[], loc)
        };
        let c = x.binary(&m, BinaryOp::Sub, loc);
        c.binary(&c, BinaryOp::Mul, loc).mean_at(axes, false, loc)
    }

    /// One-hot encoding of integer labels: a new last axis of size `num_classes`, `1` where it equals the label
    /// (`jax.nn.one_hot`). Out-of-range labels give all zeros.
    #[track_caller]
    pub fn one_hot(&self, num_classes: usize, dtype: DType) -> Tensor {
        let loc = SourceLocation::caller();
        let mut dims = self.dims().to_vec();
        dims.push(1);
        let labels = self.reshape_at(dims, loc);
        let classes =
            Tensor::apply(Op::Iota { dtype: self.dtype(), shape: Shape::from([num_classes]), dimension: 0 }, &[], loc)
                .swap_remove(0);
        labels.binary(&classes, BinaryOp::Eq, loc).apply1(Op::Convert { dtype }, &[], loc)
    }

    /// Clamps into `[lo, hi]` (`jnp.clip`): `min(max(x, lo), hi)`.
    #[track_caller]
    pub fn clip(&self, lo: f64, hi: f64) -> Tensor {
        let loc = SourceLocation::caller();
        let (x, l) = self.weak_scalar(lo, loc);
        let (x2, h) = x.binary(&l, BinaryOp::Max, loc).weak_scalar(hi, loc);
        x2.binary(&h, BinaryOp::Min, loc)
    }
}

/// `cond ? x : y` elementwise with broadcasting (`jnp.where(cond, x, y)`).
#[track_caller]
pub fn where_(cond: &Tensor, x: &Tensor, y: &Tensor) -> Tensor {
    select_at(cond, x, y, SourceLocation::caller())
}
