//! The generator of random programs that the differential tests compile and compare with the interpreter (CPU:
//! `random_programs.rs`; GPU: `gpu_emulated.rs`, `gpu_device.rs`, `gpu_ptx.rs`).
//!
//! A list of numbers drives a generator of random DAGs of 1 to 12 ops with valid random shapes and dtypes, built
//! through `Graph::add`, and a seed the parameters' data (edge values, moderate values or small integers), so that
//! proptest shrinks a failure to a shorter list: a smaller program with simpler choices. Every output carries a
//! [`Taint`] saying how it can be compared (see `random_programs.rs` for the tolerance rules), and about a third of
//! the programs donate some parameters.

#![allow(dead_code)]

pub mod folds;

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use jit_runtime::ir::{ArgReduceOp, BinaryOp, DotDims, Graph, Op, ReduceOp, TensorType, UnaryOp, ValueId};
use jit_runtime::{DType, Literal, Shape};

use crate::common::Rng;
use crate::common::*;

// ---------------------------------------------------------------------------------------------------------------
// Which transcendental ops are exact today
// ---------------------------------------------------------------------------------------------------------------

/// An op of the ulp table and a float dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum MathOp {
    Unary(UnaryOp, DType),
    Binary(BinaryOp, DType),
}

/// The ops of the ulp table whose compiled results equal the interpreter's bit for bit on a sweep of inputs.
fn exact_math_ops() -> &'static HashSet<MathOp> {
    static EXACT: OnceLock<HashSet<MathOp>> = OnceLock::new();
    EXACT.get_or_init(|| {
        let mut exact = HashSet::new();
        let n = 2048;
        for dtype in [DType::F32, DType::F64] {
            let mut rng = Rng(dtype as u64);
            let mut b = Builder::new();
            let x = b.param(dtype, &[n]);
            let y = b.param(dtype, &[n]);
            let mut ops = Vec::new();
            let mut outs = Vec::new();
            for u in UnaryOp::ALL {
                if op_tolerance(&Op::Unary(u), dtype) != Tol::Exact {
                    ops.push(MathOp::Unary(u, dtype));
                    outs.push(b.op(Op::Unary(u), &[x]));
                }
            }
            for bop in BinaryOp::ALL {
                let t = TensorType::new(dtype, [n]);
                if op_tolerance(&Op::Binary(bop), dtype) != Tol::Exact
                    && jit_runtime::ir::infer(&Op::Binary(bop), &[&t, &t]).is_ok()
                {
                    ops.push(MathOp::Binary(bop, dtype));
                    outs.push(b.op(Op::Binary(bop), &[x, y]));
                }
            }
            if ops.is_empty() {
                continue;
            }
            let g = b.finish(outs);
            let inputs = vec![literal(dtype, &[n], Fill::UNARY, &mut rng), literal(dtype, &[n], Fill::RHS, &mut rng)];
            let (Ok(want), Ok(mut got)) = (
                compile_interp(&g, "probe").and_then(|e| e.run(inputs.clone())),
                llvm_outputs(&g, "probe", vec![inputs.clone()]),
            ) else {
                continue;
            };
            let got = got.remove(0);
            for ((op, w), g) in ops.into_iter().zip(&want).zip(&got) {
                if compare(g, w, &Tol::Exact, None).is_ok() {
                    exact.insert(op);
                }
            }
        }
        exact
    })
}

// ---------------------------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------------------------

/// The numbers that drive the generator; past their end every choice is 0 (the first option).
struct Choices<'a> {
    data: &'a [u32],
    pos: usize,
}

impl Choices<'_> {
    fn next(&mut self) -> u32 {
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }

    /// Uniform-ish in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { self.next() as usize % n }
    }

    /// True with probability about `percent`%.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// How far an output can be trusted (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub enum Taint {
    /// Compared bit for bit.
    Exact,
    /// Compared within this tolerance.
    Approx(Tol),
    /// Not compared (only its type).
    Unchecked,
}

impl Taint {
    /// The taint of a value moved or selected from values of these taints.
    fn moved(ts: &[&Taint]) -> Taint {
        let mut out = Taint::Exact;
        for t in ts {
            out = match (out, t) {
                (Taint::Unchecked, _) | (_, Taint::Unchecked) => Taint::Unchecked,
                (Taint::Exact, t) => (*t).clone(),
                (a, Taint::Exact) => a,
                (Taint::Approx(a), Taint::Approx(b)) => Taint::Approx(a.max(b.clone())),
            };
        }
        out
    }

    /// The taint of a value computed from values of these taints (anything inexact makes it uncheckable).
    fn computed(ts: &[&Taint]) -> Taint {
        if ts.iter().all(|t| **t == Taint::Exact) { Taint::Exact } else { Taint::Unchecked }
    }
}

/// A value of the program under construction.
#[derive(Clone, Debug)]
struct Val {
    id: ValueId,
    ty: TensorType,
    taint: Taint,
    /// Float elements that are all integers of magnitude at most 8 (safe GEMM operands).
    dot_safe: bool,
    /// Float elements that were not computed (their NaNs are the inputs' own, payload included).
    raw: bool,
}

/// Sizes of generated dimensions: mostly small, with zeros, ones and odd sizes (the first is what a shrunk choice
/// gives).
const SIZES: &[usize] = &[3, 1, 0, 1, 2, 2, 3, 4, 5, 7, 8, 17, 33];

/// Largest element count of a generated value.
const MAX_NUMEL: usize = 4096;

/// Largest element count in a "big" program (one in ten), large enough for the driver to split kernels across
/// threads.
const MAX_NUMEL_BIG: usize = 70_000;

/// Sizes that a big program adds to [`SIZES`].
const BIG_SIZES: &[usize] = &[257, 1000, 4099];

struct Gen<'a> {
    c: Choices<'a>,
    b: Builder,
    vals: Vec<Val>,
    inputs: Vec<Arc<Literal>>,
    rng: Rng,
    ops: usize,
    /// Largest element count of a value ([`MAX_NUMEL`] or, in a big program, [`MAX_NUMEL_BIG`]).
    max_numel: usize,
}

fn numel(dims: &[usize]) -> usize {
    dims.iter().product()
}

impl<'a> Gen<'a> {
    fn new(data: &'a [u32], seed: u64) -> Gen<'a> {
        Gen {
            c: Choices { data, pos: 0 },
            b: Builder::new(),
            vals: Vec::new(),
            inputs: Vec::new(),
            rng: Rng(seed),
            ops: 0,
            max_numel: MAX_NUMEL,
        }
    }

    fn dtype(&mut self) -> DType {
        self.c.pick(&[DType::F32, DType::F32, DType::F64, DType::I32, DType::U32, DType::I64, DType::Bool])
    }

    fn shape(&mut self) -> Vec<usize> {
        let rank = self.c.pick(&[1, 2, 0, 3, 1, 2, 4]);
        let big = self.max_numel > MAX_NUMEL;
        let mut dims: Vec<usize> = (0..rank)
            .map(|_| if big && self.c.chance(30) { self.c.pick(BIG_SIZES) } else { self.c.pick(SIZES) })
            .collect();
        while numel(&dims) > self.max_numel {
            if let Some(d) = dims.iter_mut().max() {
                *d /= 2;
            }
        }
        dims
    }

    fn push(&mut self, id: ValueId, taint: Taint, dot_safe: bool, raw: bool) -> usize {
        let ty = self.b.g.ty(id).clone();
        self.vals.push(Val { id, ty, taint, dot_safe, raw });
        self.vals.len() - 1
    }

    /// A new parameter with random data.
    fn param(&mut self, dtype: DType, dims: &[usize]) -> usize {
        let fill = match self.c.below(4) {
            0 | 1 => Fill::Special { a: self.c.below(3), b: 1 + 2 * self.c.below(4), square: self.c.chance(50) },
            2 => Fill::Moderate,
            _ => Fill::SmallInt,
        };
        self.param_filled(dtype, dims, fill)
    }

    fn param_filled(&mut self, dtype: DType, dims: &[usize], fill: Fill) -> usize {
        let id = self.b.param(dtype, dims);
        let lit = literal(dtype, dims, fill, &mut self.rng);
        let mut dot_safe = false;
        if fill == Fill::SmallInt && dtype.is_float() {
            dot_safe = true;
        }
        self.inputs.push(lit);
        self.push(id, Taint::Exact, dot_safe, true)
    }

    /// An existing value (the later ones more often), or a new parameter when there is none.
    fn any(&mut self) -> usize {
        if self.vals.is_empty() {
            let (d, s) = (self.dtype(), self.shape());
            return self.param(d, &s);
        }
        let n = self.vals.len();
        if self.c.chance(60) { n - 1 - self.c.below(n.min(3)) } else { self.c.below(n) }
    }

    /// An existing value of type `ty`, or a new one: a parameter, a broadcast scalar constant or parameter.
    fn like(&mut self, ty: &TensorType, avoid: Option<usize>) -> usize {
        let same: Vec<usize> = (0..self.vals.len()).filter(|&i| self.vals[i].ty == *ty && Some(i) != avoid).collect();
        if !same.is_empty() && self.c.chance(50) {
            return self.c.pick(&same);
        }
        match self.c.below(3) {
            0 if ty.rank() > 0 => {
                let s = if self.c.chance(50) { self.param(ty.dtype, &[]) } else { self.scalar_constant(ty.dtype) };
                self.broadcast_to(s, ty.dims(), &[])
            }
            _ => self.param(ty.dtype, ty.dims()),
        }
    }

    fn scalar_constant(&mut self, dtype: DType) -> usize {
        let data = data(dtype, 1, Fill::Special { a: 0, b: 1 + self.c.below(40), square: false }, &mut self.rng);
        let id = self.b.constant(Literal::new(data, Shape::scalar()).expect("one element"));
        self.push(id, Taint::Exact, false, true)
    }

    fn broadcast_to(&mut self, v: usize, dims: &[usize], bd: &[usize]) -> usize {
        let val = self.vals[v].clone();
        let op = Op::BroadcastInDim { shape: dims.into(), broadcast_dimensions: bd.to_vec() };
        let id = self.b.op(op, &[val.id]);
        self.ops += 1;
        self.push(id, val.taint, val.dot_safe, val.raw)
    }

    /// Adds `op` on the values `ins` with the given taint rule; `None` when the op does not accept them.
    fn apply(&mut self, op: Op, ins: &[usize], moved: bool) -> Option<usize> {
        let ids: Vec<ValueId> = ins.iter().map(|&i| self.vals[i].id).collect();
        let taints: Vec<Taint> = ins.iter().map(|&i| self.vals[i].taint.clone()).collect();
        let trefs: Vec<&Taint> = taints.iter().collect();
        let dtype_in = ins.first().map(|&i| self.vals[i].ty.dtype);
        let out_types = jit_runtime::ir::infer(&op, &ins.iter().map(|&i| &self.vals[i].ty).collect::<Vec<_>>()).ok()?;
        // Every value stays within the program's size (a zero-size operand can have huge other dimensions).
        if out_types.iter().any(|t| t.shape.numel() > self.max_numel) {
            return None;
        }
        let out_dtype = out_types.first()?.dtype;
        let tol = dtype_in.map_or(Tol::Exact, |d| op_tolerance(&op, d));
        let math_exact = match (&op, dtype_in) {
            (Op::Unary(u), Some(d)) => exact_math_ops().contains(&MathOp::Unary(*u, d)),
            (Op::Binary(b), Some(d)) => exact_math_ops().contains(&MathOp::Binary(*b, d)),
            _ => true,
        };
        let taint = if tol != Tol::Exact && !math_exact {
            if taints.iter().all(|t| *t == Taint::Exact) { Taint::Approx(tol) } else { Taint::Unchecked }
        } else if moved {
            Taint::moved(&trefs)
        } else {
            Taint::computed(&trefs)
        };
        let all = |f: fn(&Val) -> bool| ins.iter().all(|&i| f(&self.vals[i]));
        let dot_safe = moved && out_dtype.is_float() && all(|v| v.dot_safe);
        // Which NaN `max`/`min` return (and so its payload) is not specified.
        let picks_nan = matches!(op, Op::Binary(BinaryOp::Max | BinaryOp::Min) | Op::Reduce { .. });
        let raw = moved && !picks_nan && all(|v| v.raw);
        let outs = self.b.g.add(op, &ids, None).ok()?;
        self.ops += 1;
        let mut last = 0;
        for id in outs {
            last = self.push(id, taint.clone(), dot_safe, raw);
        }
        Some(last)
    }

    /// One random op on existing values (or new parameters); `None` when the attempt did not fit.
    fn step(&mut self) -> Option<usize> {
        match self.c.below(22) {
            0 | 1 => {
                let v = self.any();
                let d = self.vals[v].ty.dtype;
                let ops: Vec<UnaryOp> = UnaryOp::ALL
                    .into_iter()
                    .filter(|&u| jit_runtime::ir::infer(&Op::Unary(u), &[&self.vals[v].ty]).is_ok())
                    .collect();
                if ops.is_empty() {
                    return None;
                }
                let u = self.c.pick(&ops);
                let moved = matches!(u, UnaryOp::Neg | UnaryOp::Abs) && d.is_float();
                self.apply(Op::Unary(u), &[v], moved)
            }
            2..=4 => {
                let x = self.any();
                let ty = self.vals[x].ty.clone();
                let ops: Vec<BinaryOp> = BinaryOp::ALL
                    .into_iter()
                    .filter(|&b| jit_runtime::ir::infer(&Op::Binary(b), &[&ty, &ty]).is_ok())
                    .collect();
                let op = self.c.pick(&ops);
                let y = if self.c.chance(15) { x } else { self.like(&ty, Some(x)) };
                let (x, y) = if self.c.chance(50) { (x, y) } else { (y, x) };
                let moved = matches!(op, BinaryOp::Max | BinaryOp::Min) && ty.dtype.is_float();
                self.apply(Op::Binary(op), &[x, y], moved)
            }
            5 => {
                let v = self.any();
                let exponent = self.c.pick(&[2, 3, -1, 0, 1, -2, 5, 7, -3, 13]);
                self.apply(Op::IntegerPow { exponent }, &[v], false)
            }
            6 => {
                let t = self.any();
                let ty = self.vals[t].ty.clone();
                let f = self.like(&ty, Some(t));
                let bool_ty = TensorType::new(DType::Bool, ty.shape.clone());
                let p = if self.c.chance(50) {
                    self.like(&bool_ty, None)
                } else {
                    let cmp = self.c.pick(&[BinaryOp::Lt, BinaryOp::Eq, BinaryOp::Ge, BinaryOp::Ne]);
                    self.apply(Op::Binary(cmp), &[t, f], false)?
                };
                // The predicate decides which value is taken: it must be exact for the result to be comparable.
                let pred_taint = self.vals[p].taint.clone();
                let r = self.apply(Op::Select, &[p, t, f], true)?;
                if pred_taint != Taint::Exact {
                    self.vals[r].taint = Taint::Unchecked;
                }
                Some(r)
            }
            7 => {
                let v = self.any();
                let from = self.vals[v].ty.dtype;
                let to = self.dtype();
                // Between floats the value is moved (exactly, or rounded once); anything else is computed.
                let moved = from.is_float() && to.is_float();
                let r = self.apply(Op::Convert { dtype: to }, &[v], false)?;
                if moved && self.vals[v].taint == Taint::Exact {
                    self.vals[r].dot_safe = self.vals[v].dot_safe;
                }
                Some(r)
            }
            8 => {
                let v = self.any();
                let from = self.vals[v].ty.dtype;
                let to = self.c.pick(&[DType::F32, DType::I32, DType::U32, DType::F64, DType::I64]);
                if from.is_float() && !to.is_float() && !self.vals[v].raw {
                    return None;
                }
                let r = self.apply(Op::BitcastConvert { dtype: to }, &[v], false)?;
                self.vals[r].raw = true;
                Some(r)
            }
            9 | 10 => {
                let v = self.any();
                let src = self.vals[v].ty.dims().to_vec();
                // Insert up to two new dimensions and grow size-1 dimensions.
                let mut dims = Vec::new();
                let mut bd = Vec::new();
                for &d in &src {
                    while dims.len() < 5 && self.c.chance(25) {
                        dims.push(self.c.pick(SIZES));
                    }
                    bd.push(dims.len());
                    dims.push(if d == 1 && self.c.chance(50) { self.c.pick(SIZES) } else { d });
                }
                if self.c.chance(50) {
                    dims.push(self.c.pick(SIZES));
                }
                if numel(&dims) > self.max_numel {
                    return None;
                }
                self.apply(Op::BroadcastInDim { shape: dims.into(), broadcast_dimensions: bd }, &[v], true)
            }
            11 => {
                let v = self.any();
                let n = self.vals[v].ty.shape.numel();
                let dims = self.factor(n);
                self.apply(Op::Reshape { shape: dims.into() }, &[v], true)
            }
            12 => {
                let v = self.any();
                let r = self.vals[v].ty.rank();
                let mut perm: Vec<usize> = (0..r).collect();
                for i in (1..r).rev() {
                    let j = self.c.below(i + 1);
                    perm.swap(i, j);
                }
                self.apply(Op::Transpose { permutation: perm }, &[v], true)
            }
            13 => {
                let v = self.any();
                let dims = self.vals[v].ty.dims().to_vec();
                let (mut start, mut limit, mut strides) = (Vec::new(), Vec::new(), Vec::new());
                for &d in &dims {
                    let s = self.c.below(d + 1);
                    let l = s + self.c.below(d - s + 1);
                    start.push(s);
                    limit.push(if self.c.chance(40) { d } else { l });
                    strides.push(1 + self.c.below(3));
                }
                self.apply(Op::Slice { start, limit, strides }, &[v], true)
            }
            14 => {
                let v = self.any();
                let ty = self.vals[v].ty.clone();
                if ty.rank() == 0 {
                    return None;
                }
                let dim = self.c.below(ty.rank());
                let mut parts = vec![v];
                for _ in 0..1 + self.c.below(3) {
                    let mut dims = ty.dims().to_vec();
                    dims[dim] = self.c.pick(SIZES);
                    // A piece must fit too: `ty` may have size 0 along `dim` and huge other dimensions.
                    if numel(&dims) > self.max_numel {
                        return None;
                    }
                    let t = TensorType::new(ty.dtype, dims);
                    let p = if self.c.chance(30) { v } else { self.like(&t, None) };
                    parts.push(p);
                }
                let k = self.c.below(parts.len());
                parts.swap(0, k);
                let total: usize = parts.iter().map(|&p| self.vals[p].ty.shape.numel()).sum();
                if total > self.max_numel {
                    return None;
                }
                self.apply(Op::Concatenate { dimension: dim }, &parts, true)
            }
            15 => {
                let v = self.any();
                let ty = self.vals[v].ty.clone();
                let (mut low, mut high, mut interior) = (Vec::new(), Vec::new(), Vec::new());
                for &d in ty.dims() {
                    let i = self.c.pick(&[0, 0, 1, 2]);
                    let size = (d as i64 + (d as i64 - 1).max(0) * i as i64).max(0);
                    let l = self.c.below(6) as i64 - 2;
                    let h = self.c.below(6) as i64 - 2;
                    // Keep the result size at least 0.
                    let l = l.max(-size);
                    let h = h.max(-(size + l));
                    low.push(l);
                    high.push(h);
                    interior.push(i);
                }
                let scalar = TensorType::scalar(ty.dtype);
                let pv = if self.c.chance(50) { self.scalar_constant(ty.dtype) } else { self.like(&scalar, None) };
                let op = Op::Pad { low, high, interior };
                let out = jit_runtime::ir::infer(&op, &[&ty, &scalar]).ok()?;
                if out[0].shape.numel() > self.max_numel {
                    return None;
                }
                self.apply(op, &[v, pv], true)
            }
            16 => {
                let v = self.any();
                let r = self.vals[v].ty.rank();
                let dims: Vec<usize> = (0..r).filter(|_| self.c.chance(50)).collect();
                self.apply(Op::Rev { dimensions: dims }, &[v], true)
            }
            17 | 18 => {
                let v = self.any();
                let r = self.vals[v].ty.rank();
                let op = self.c.pick(&[ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod]);
                let mut axes: Vec<usize> = (0..r).filter(|_| self.c.chance(50)).collect();
                if self.c.chance(10) {
                    axes.reverse();
                }
                let moved = matches!(op, ReduceOp::Max | ReduceOp::Min);
                let float_sum = op == ReduceOp::Sum && self.vals[v].ty.dtype.is_float();
                let r = self.apply(Op::Reduce { op, axes: axes.clone() }, &[v], moved)?;
                if float_sum && self.vals[r].taint == Taint::Exact {
                    let bound = sum_bound(&self.b.g, self.vals[v].id, &axes, &self.inputs);
                    self.vals[r].taint = Taint::Approx(Tol::Abs(bound.into_iter().fold(0.0, f64::max)));
                }
                Some(r)
            }
            19 => {
                let v = self.any();
                let ty = self.vals[v].ty.clone();
                let axes: Vec<usize> = (0..ty.rank()).filter(|&a| ty.dims()[a] > 0).collect();
                if axes.is_empty() {
                    return None;
                }
                let axis = self.c.pick(&axes);
                let op = self.c.pick(&[ArgReduceOp::ArgMax, ArgReduceOp::ArgMin]);
                let index_dtype = self.c.pick(&[DType::I32, DType::I64, DType::U32]);
                self.apply(Op::ArgReduce { op, axis, index_dtype }, &[v], false)
            }
            20 => {
                let (d, s) = (self.dtype(), self.shape());
                Some(self.param(d, &s))
            }
            _ => match self.c.below(4) {
                0 => self.dot(),
                1 => self.threefry(),
                2 => {
                    let (dtype, dims) =
                        (self.c.pick(&[DType::I32, DType::F32, DType::U32, DType::I64, DType::F64]), self.shape());
                    if dims.is_empty() {
                        return None;
                    }
                    let dimension = self.c.below(dims.len());
                    let id = self.b.op(Op::Iota { dtype, shape: dims.into(), dimension }, &[]);
                    self.ops += 1;
                    Some(self.push(id, Taint::Exact, false, true))
                }
                _ => {
                    let (dtype, dims) = (self.dtype(), self.shape());
                    let fill = Fill::Special { a: self.c.below(2), b: 1 + self.c.below(5), square: false };
                    let lit = Literal::new(data(dtype, numel(&dims), fill, &mut self.rng), Shape::from(&dims[..]))
                        .expect("count");
                    let id = self.b.constant(lit);
                    self.ops += 1;
                    Some(self.push(id, Taint::Exact, false, true))
                }
            },
        }
    }

    /// Random dimensions with `n` elements.
    fn factor(&mut self, n: usize) -> Vec<usize> {
        let rank = self.c.below(5);
        if n == 0 {
            let mut dims: Vec<usize> = (0..rank.max(1)).map(|_| self.c.pick(SIZES)).collect();
            let z = self.c.below(dims.len());
            dims[z] = 0;
            return dims;
        }
        let mut dims = vec![1usize; rank];
        let mut rest = n;
        let mut p = 2;
        while rest > 1 {
            if rest % p == 0 {
                rest /= p;
                if dims.is_empty() {
                    dims.push(1);
                }
                let k = self.c.below(dims.len());
                dims[k] *= p;
            } else {
                p += 1;
            }
        }
        dims
    }

    /// A `dot_general` whose operands keep every summation order exact (see the module documentation).
    fn dot(&mut self) -> Option<usize> {
        let dtype = self.c.pick(&[DType::F32, DType::I32, DType::F64, DType::I64, DType::U32]);
        let usable: Vec<usize> = (0..self.vals.len())
            .filter(|&i| {
                let v = &self.vals[i];
                v.ty.dtype == dtype
                    && (v.dot_safe || !dtype.is_float())
                    && v.ty.rank() <= 3
                    && v.ty.shape.numel() <= 512
            })
            .collect();
        let x = if !usable.is_empty() && self.c.chance(70) {
            self.c.pick(&usable)
        } else {
            let rank = self.c.below(4);
            let dims: Vec<usize> = (0..rank).map(|_| self.c.pick(&[0, 1, 2, 3, 4, 5, 7])).collect();
            self.param_filled(dtype, &dims, if dtype.is_float() { Fill::SmallInt } else { Fill::UNARY })
        };
        let xd = self.vals[x].ty.dims().to_vec();
        // Roles of x's dimensions: 0 batch, 1 contracting, 2 free.
        let roles: Vec<usize> = xd.iter().map(|_| self.c.pick(&[1, 1, 2, 2, 0])).collect();
        let k: usize = xd.iter().zip(&roles).filter(|(_, r)| **r == 1).map(|(d, _)| *d).product();
        if k > 64 {
            return None;
        }
        let mut dims = DotDims::default();
        // y: batch and contracting dimensions of the same sizes, plus up to two free ones, in a random order.
        let mut y_dims: Vec<(usize, Option<(usize, usize)>)> = Vec::new();
        for (i, (&d, &r)) in xd.iter().zip(&roles).enumerate() {
            if r < 2 {
                y_dims.push((d, Some((i, r))));
            }
        }
        for _ in 0..self.c.below(3) {
            y_dims.push((self.c.pick(&[1, 2, 3, 5, 0]), None));
        }
        for i in (1..y_dims.len()).rev() {
            let j = self.c.below(i + 1);
            y_dims.swap(i, j);
        }
        for (j, (_, role)) in y_dims.iter().enumerate() {
            match role {
                Some((i, 0)) => {
                    dims.lhs_batch.push(*i);
                    dims.rhs_batch.push(j);
                }
                Some((i, _)) => {
                    dims.lhs_contracting.push(*i);
                    dims.rhs_contracting.push(j);
                }
                None => {}
            }
        }
        let yd: Vec<usize> = y_dims.iter().map(|(d, _)| *d).collect();
        if numel(&yd) > 2048 {
            return None;
        }
        let y = self.param_filled(dtype, &yd, if dtype.is_float() { Fill::SmallInt } else { Fill::UNARY });
        let (l, r) = (x, y);
        // The result is computed: not a safe operand of another dot.
        let out = self.apply(Op::DotGeneral(dims), &[l, r], false)?;
        if self.vals[out].ty.shape.numel() > self.max_numel {
            return None;
        }
        Some(out)
    }

    /// `threefry2x32` on u32 operands of one shape; returns one of its results.
    fn threefry(&mut self) -> Option<usize> {
        let dims = self.shape();
        let ty = TensorType::new(DType::U32, dims);
        let ins: Vec<usize> = (0..4).map(|_| self.like(&ty, None)).collect();
        let last = self.apply(Op::Threefry2x32, &ins, false)?;
        Some(if self.c.chance(50) { last } else { last - 1 })
    }

    /// Builds a whole program: 1 to 12 ops; its outputs are the values no op reads (so that every op is live), at
    /// most 6 of them, the last value first, and sometimes a repeated value or a parameter.
    fn program(mut self) -> Program {
        let target = 1 + self.c.below(12);
        if self.c.chance(10) {
            self.max_numel = MAX_NUMEL_BIG;
        }
        let mut attempts = 0;
        while self.ops < target && attempts < 40 {
            attempts += 1;
            let _ = self.step();
        }
        if self.vals.is_empty() {
            self.param(DType::F32, &[3]);
        }
        let mut read = vec![false; self.b.g.num_values()];
        for node in self.b.g.nodes() {
            for &i in &node.inputs {
                read[i.index()] = true;
            }
        }
        let n = self.vals.len();
        let mut outs = vec![n - 1];
        for i in (0..n - 1).rev() {
            let v = &self.vals[i];
            let is_param = matches!(self.b.g.node(self.b.g.value(v.id).node).op, Op::Parameter { .. });
            if !read[v.id.index()] && !is_param && outs.len() < 6 {
                outs.push(i);
            }
        }
        if self.c.chance(20) {
            let extra = self.c.below(n);
            outs.push(extra);
        }
        let taints: Vec<Taint> = outs.iter().map(|&o| self.vals[o].taint.clone()).collect();
        let ids: Vec<ValueId> = outs.iter().map(|&o| self.vals[o].id).collect();
        let donate = self.c.chance(30);
        let donated = self.inputs.iter().map(|_| donate && self.c.chance(60)).collect();
        Program { graph: self.b.finish(ids), inputs: self.inputs, taints, donated }
    }
}

/// A generated program with its inputs, the taint of each output and the parameters it donates.
pub struct Program {
    /// The graph.
    pub graph: Graph,
    /// One input per parameter.
    pub inputs: Vec<Arc<Literal>>,
    /// Per output: how it is compared.
    pub taints: Vec<Taint>,
    /// Per parameter: whether the program donates it.
    pub donated: Vec<bool>,
}

impl Program {
    /// Per output: the tolerance it is compared within (`None`: its type only).
    pub fn tolerances(&self) -> Vec<Option<Tol>> {
        self.taints
            .iter()
            .map(|t| match t {
                Taint::Exact => Some(Tol::Exact),
                Taint::Approx(tol) => Some(tol.clone()),
                Taint::Unchecked => None,
            })
            .collect()
    }
}

/// The program that `data` (the choices) and `seed` (the data) give.
pub fn random_program(data: &[u32], seed: u64) -> Program {
    Gen::new(data, seed).program()
}
