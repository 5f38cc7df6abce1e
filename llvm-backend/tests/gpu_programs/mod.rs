//! Random programs for the GPU tests (emulated and on a device): a compact version of `random_programs.rs`'s
//! generator. A list of numbers drives the choices (so proptest shrinks programs by shortening it) and a seed the
//! data. Programs have 1 to 10 ops of every kernel kind, with shapes from 0 to a few thousand elements, so kernels
//! are below, at and above the emulated grid's size.

#![allow(dead_code)]

use std::sync::Arc;

use jit_runtime::ir::{ArgReduceOp, BinaryOp, DotDims, Graph, Op, ReduceOp, TensorType, UnaryOp, ValueId};
use jit_runtime::{DType, Literal};

use crate::common::{Builder, Fill, Rng, literal, sum_bound};

/// How an output is compared with the interpreter's.
#[derive(Clone, Debug, PartialEq)]
pub enum Taint {
    /// Bit for bit.
    Exact,
    /// Within this absolute bound (a float sum, or a value moved from one).
    Approx(f64),
    /// Type only (computed from an approximate value).
    Unchecked,
}

/// A program, its inputs, and per output how to compare it.
pub struct Program {
    /// The graph.
    pub graph: Graph,
    /// One input per parameter.
    pub inputs: Vec<Arc<Literal>>,
    /// Per output.
    pub taints: Vec<Taint>,
}

const SIZES: &[usize] = &[1, 2, 3, 5, 7, 13, 17, 0, 1, 4, 40];
const MAX_NUMEL: usize = 3000;

struct Val {
    id: ValueId,
    ty: TensorType,
    taint: Taint,
    read: bool,
}

struct Gen<'a> {
    data: &'a [u32],
    pos: usize,
    rng: Rng,
    b: Builder,
    inputs: Vec<Arc<Literal>>,
    vals: Vec<Val>,
}

fn numel(dims: &[usize]) -> usize {
    dims.iter().product()
}

impl Gen<'_> {
    fn next(&mut self) -> u32 {
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { self.next() as usize % n }
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn dtype(&mut self) -> DType {
        self.pick(&[DType::F32, DType::F32, DType::I32, DType::U32, DType::F64, DType::I64, DType::Bool])
    }

    fn shape(&mut self) -> Vec<usize> {
        let rank = self.below(4);
        let dims: Vec<usize> = (0..rank).map(|_| self.pick(SIZES)).collect();
        if numel(&dims) > MAX_NUMEL { dims[..1].to_vec() } else { dims }
    }

    fn push(&mut self, id: ValueId, taint: Taint) -> usize {
        let ty = self.b.g.ty(id).clone();
        self.vals.push(Val { id, ty, taint, read: false });
        self.vals.len() - 1
    }

    fn param(&mut self, dtype: DType, dims: &[usize], fill: Fill) -> usize {
        let lit = literal(dtype, dims, fill, &mut self.rng);
        self.inputs.push(lit);
        let id = self.b.param(dtype, dims);
        // Parameters count as read: they are not outputs by default.
        let v = self.push(id, Taint::Exact);
        self.vals[v].read = true;
        v
    }

    fn fresh(&mut self, dtype: DType, dims: &[usize]) -> usize {
        let fill = match self.below(3) {
            0 => Fill::Special { a: self.below(2), b: 1 + self.below(5), square: false },
            1 => Fill::Moderate,
            _ => Fill::SmallInt,
        };
        self.param(dtype, dims, fill)
    }

    fn any(&mut self) -> usize {
        if self.vals.is_empty() || self.chance(15) {
            let (d, s) = (self.dtype(), self.shape());
            return self.fresh(d, &s);
        }
        // Prefer recent values, so programs are chains more than forests.
        let n = self.vals.len();
        if self.chance(60) { n - 1 } else { self.below(n) }
    }

    fn like(&mut self, ty: &TensorType, avoid: Option<usize>) -> usize {
        let same: Vec<usize> = (0..self.vals.len()).filter(|&i| self.vals[i].ty == *ty && Some(i) != avoid).collect();
        if !same.is_empty() && self.chance(50) {
            return self.pick(&same);
        }
        self.fresh(ty.dtype, ty.dims())
    }

    /// Adds `op` on `ins` (`None` when the op does not apply); `moved`: the result's elements are some of the
    /// inputs' (layout ops), so an approximate input stays approximate instead of unchecked.
    fn apply(&mut self, op: Op, ins: &[usize], moved: bool) -> Option<usize> {
        let ids: Vec<ValueId> = ins.iter().map(|&i| self.vals[i].id).collect();
        let outs = self.b.g.add(op, &ids, None).ok()?;
        if outs.iter().any(|&o| numel(self.b.g.ty(o).dims()) > MAX_NUMEL) {
            return None;
        }
        let mut taint = Taint::Exact;
        for &i in ins {
            self.vals[i].read = true;
            taint = match (taint, &self.vals[i].taint) {
                (t, Taint::Exact) => t,
                (Taint::Unchecked, _) | (_, Taint::Unchecked) => Taint::Unchecked,
                (Taint::Exact, Taint::Approx(b)) if moved => Taint::Approx(*b),
                (Taint::Approx(a), Taint::Approx(b)) if moved => Taint::Approx(a.max(*b)),
                _ => Taint::Unchecked,
            };
        }
        let mut last = 0;
        for o in outs {
            last = self.push(o, taint.clone());
        }
        Some(last)
    }

    fn step(&mut self) -> Option<usize> {
        match self.below(15) {
            0 | 1 => {
                let v = self.any();
                let ty = self.vals[v].ty.clone();
                let ops: Vec<UnaryOp> = UnaryOp::ALL
                    .into_iter()
                    .filter(|&u| jit_runtime::ir::infer(&Op::Unary(u), &[&ty]).is_ok())
                    .collect();
                if ops.is_empty() {
                    return None;
                }
                let u = self.pick(&ops);
                self.apply(Op::Unary(u), &[v], matches!(u, UnaryOp::Neg | UnaryOp::Abs) && ty.dtype.is_float())
            }
            2 | 3 => {
                let x = self.any();
                let ty = self.vals[x].ty.clone();
                let ops: Vec<BinaryOp> = BinaryOp::ALL
                    .into_iter()
                    .filter(|&b| jit_runtime::ir::infer(&Op::Binary(b), &[&ty, &ty]).is_ok())
                    .collect();
                let op = self.pick(&ops);
                let y = self.like(&ty, Some(x));
                let (x, y) = if self.chance(50) { (x, y) } else { (y, x) };
                self.apply(Op::Binary(op), &[x, y], matches!(op, BinaryOp::Max | BinaryOp::Min) && ty.dtype.is_float())
            }
            4 => {
                let t = self.any();
                let ty = self.vals[t].ty.clone();
                let f = self.like(&ty, Some(t));
                let cmp = self.pick(&[BinaryOp::Lt, BinaryOp::Eq, BinaryOp::Ge, BinaryOp::Ne]);
                let p = self.apply(Op::Binary(cmp), &[t, f], false)?;
                let exact_pred = self.vals[p].taint == Taint::Exact;
                let r = self.apply(Op::Select, &[p, t, f], true)?;
                if !exact_pred {
                    self.vals[r].taint = Taint::Unchecked;
                }
                Some(r)
            }
            5 => {
                let v = self.any();
                let to = self.dtype();
                self.apply(Op::Convert { dtype: to }, &[v], false)
            }
            6 => {
                let v = self.any();
                let src = self.vals[v].ty.dims().to_vec();
                let (mut dims, mut bd) = (Vec::new(), Vec::new());
                for &d in &src {
                    if dims.len() < 4 && self.chance(30) {
                        dims.push(self.pick(SIZES));
                    }
                    bd.push(dims.len());
                    dims.push(if d == 1 && self.chance(50) { self.pick(SIZES) } else { d });
                }
                if self.chance(50) {
                    dims.push(self.pick(SIZES));
                }
                self.apply(Op::BroadcastInDim { shape: dims.into(), broadcast_dimensions: bd }, &[v], true)
            }
            7 => {
                let v = self.any();
                let n = numel(self.vals[v].ty.dims());
                let dims = if n == 0 {
                    vec![0, self.pick(&[1, 3])]
                } else {
                    let mut dims = Vec::new();
                    let mut rest = n;
                    for f in [2usize, 3, 5, 7, 13, 17] {
                        while rest % f == 0 && self.chance(50) {
                            dims.push(f);
                            rest /= f;
                        }
                    }
                    dims.push(rest);
                    dims
                };
                self.apply(Op::Reshape { shape: dims.into() }, &[v], true)
            }
            8 => {
                let v = self.any();
                let r = self.vals[v].ty.rank();
                let mut perm: Vec<usize> = (0..r).collect();
                for i in (1..r).rev() {
                    let j = self.below(i + 1);
                    perm.swap(i, j);
                }
                self.apply(Op::Transpose { permutation: perm }, &[v], true)
            }
            9 => {
                let v = self.any();
                let dims = self.vals[v].ty.dims().to_vec();
                let (mut start, mut limit, mut strides) = (Vec::new(), Vec::new(), Vec::new());
                for &d in &dims {
                    let s = self.below(d + 1);
                    let l = s + self.below(d - s + 1);
                    start.push(s);
                    limit.push(l);
                    strides.push(1 + self.below(3));
                }
                self.apply(Op::Slice { start, limit, strides }, &[v], true)
            }
            10 | 11 => {
                let v = self.any();
                let r = self.vals[v].ty.rank();
                let op = self.pick(&[ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod]);
                let axes: Vec<usize> = (0..r).filter(|_| self.chance(50)).collect();
                let float_sum = op == ReduceOp::Sum && self.vals[v].ty.dtype.is_float();
                let exact_input = self.vals[v].taint == Taint::Exact;
                let moved = matches!(op, ReduceOp::Max | ReduceOp::Min);
                let out = self.apply(Op::Reduce { op, axes: axes.clone() }, &[v], moved)?;
                if float_sum {
                    self.vals[out].taint = if exact_input {
                        let bound = sum_bound(&self.b.g, self.vals[v].id, &axes, &self.inputs);
                        Taint::Approx(bound.into_iter().fold(0.0, f64::max))
                    } else {
                        Taint::Unchecked
                    };
                }
                Some(out)
            }
            12 => {
                let v = self.any();
                let ty = self.vals[v].ty.clone();
                let axes: Vec<usize> = (0..ty.rank()).filter(|&a| ty.dims()[a] > 0).collect();
                if axes.is_empty() {
                    return None;
                }
                let axis = self.pick(&axes);
                let op = self.pick(&[ArgReduceOp::ArgMax, ArgReduceOp::ArgMin]);
                let index_dtype = self.pick(&[DType::I32, DType::I64, DType::U32]);
                self.apply(Op::ArgReduce { op, axis, index_dtype }, &[v], false)
            }
            13 => self.dot(),
            _ => match self.below(4) {
                0 => {
                    let ty = TensorType::new(DType::U32, self.shape());
                    let ins: Vec<usize> = (0..4).map(|_| self.like(&ty, None)).collect();
                    let last = self.apply(Op::Threefry2x32, &ins, false)?;
                    Some(if self.chance(50) { last } else { last - 1 })
                }
                1 => {
                    let v = self.any();
                    let ty = self.vals[v].ty.clone();
                    let (mut low, mut high, mut interior) = (Vec::new(), Vec::new(), Vec::new());
                    for &d in ty.dims() {
                        let i = self.pick(&[0, 0, 1, 2]);
                        let size = (d as i64 + (d as i64 - 1).max(0) * i as i64).max(0);
                        let l = (self.below(6) as i64 - 2).max(-size);
                        let h = (self.below(6) as i64 - 2).max(-(size + l));
                        low.push(l);
                        high.push(h);
                        interior.push(i);
                    }
                    let pv = self.like(&TensorType::scalar(ty.dtype), None);
                    self.apply(Op::Pad { low, high, interior }, &[v, pv], true)
                }
                2 => {
                    let v = self.any();
                    let ty = self.vals[v].ty.clone();
                    if ty.rank() == 0 {
                        return None;
                    }
                    let dim = self.below(ty.rank());
                    let mut parts = vec![v];
                    for _ in 0..1 + self.below(2) {
                        let mut dims = ty.dims().to_vec();
                        dims[dim] = self.pick(SIZES);
                        parts.push(self.like(&TensorType::new(ty.dtype, dims), None));
                    }
                    let k = self.below(parts.len());
                    parts.swap(0, k);
                    self.apply(Op::Concatenate { dimension: dim }, &parts, true)
                }
                _ => {
                    let v = self.any();
                    let r = self.vals[v].ty.rank();
                    let dims: Vec<usize> = (0..r).filter(|_| self.chance(50)).collect();
                    self.apply(Op::Rev { dimensions: dims }, &[v], true)
                }
            },
        }
    }

    /// A `dot_general` of two fresh parameters with random batch, contracting and free dimensions (floats hold
    /// small integers, exact in any order; the kernels sum in the interpreter's order anyway).
    fn dot(&mut self) -> Option<usize> {
        let dtype = self.pick(&[DType::F32, DType::I32, DType::F64, DType::I64, DType::U32]);
        let fill = if dtype.is_float() { Fill::SmallInt } else { Fill::UNARY };
        let (batch, m, k, n) = (self.pick(&[0, 1, 1, 2, 3]), self.pick(SIZES), self.pick(SIZES), self.pick(SIZES));
        let with_batch = batch > 0;
        let transpose_lhs = self.chance(30);
        let mut ld = if transpose_lhs { vec![k, m] } else { vec![m, k] };
        let mut rd = vec![k, n];
        let (mut lc, mut rc) = (vec![if transpose_lhs { 0 } else { 1 }], vec![0]);
        let mut dims = DotDims::default();
        if with_batch {
            ld.insert(0, batch);
            rd.insert(0, batch);
            lc[0] += 1;
            rc[0] += 1;
            dims.lhs_batch = vec![0];
            dims.rhs_batch = vec![0];
        }
        if numel(&ld) > MAX_NUMEL || numel(&rd) > MAX_NUMEL {
            return None;
        }
        dims.lhs_contracting = lc;
        dims.rhs_contracting = rc;
        let l = self.param(dtype, &ld, fill);
        let r = self.param(dtype, &rd, fill);
        self.apply(Op::DotGeneral(dims), &[l, r], false)
    }

    fn program(mut self) -> Program {
        let target = 1 + self.below(10);
        let mut ops = 0;
        let mut tries = 0;
        while ops < target && tries < 40 {
            tries += 1;
            if self.step().is_some() {
                ops += 1;
            }
        }
        if ops == 0 {
            let v = self.fresh(DType::F32, &[5]);
            self.apply(Op::Unary(UnaryOp::Neg), &[v], true);
        }
        let mut outputs: Vec<usize> = (0..self.vals.len()).rev().filter(|&i| !self.vals[i].read).take(6).collect();
        if outputs.is_empty() {
            outputs.push(self.vals.len() - 1);
        }
        let graph = self.b.finish(outputs.iter().map(|&i| self.vals[i].id).collect());
        let taints = outputs.iter().map(|&i| self.vals[i].taint.clone()).collect();
        Program { graph, inputs: self.inputs, taints }
    }
}

/// The program `data` describes, with parameter data drawn from `seed`.
pub fn random_program(data: &[u32], seed: u64) -> Program {
    Gen { data, pos: 0, rng: Rng(seed), b: Builder::new(), inputs: Vec::new(), vals: Vec::new() }.program()
}
