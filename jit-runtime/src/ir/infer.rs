//! Result types of every op from its operand types and attributes; the message of an `Err` names the shapes.

use super::{BinaryOp, DotDims, Op, ReduceOp, TensorType, UnaryOp};
use crate::array::{DType, Shape};

type Infer = Result<Vec<TensorType>, String>;

fn list(types: &[&TensorType]) -> String {
    types.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
}

fn arity(types: &[&TensorType], n: usize) -> Result<(), String> {
    if types.len() == n {
        Ok(())
    } else {
        Err(format!("expects {n} operand(s), got {} ({})", types.len(), list(types)))
    }
}

fn one(t: TensorType) -> Infer {
    Ok(vec![t])
}

fn check_dims_in_range(what: &str, dims: &[usize], rank: usize, t: &TensorType) -> Result<(), String> {
    let mut seen = vec![false; rank];
    for &d in dims {
        if d >= rank {
            return Err(format!("{what} {d} is out of range for operand {t} of rank {rank}"));
        }
        if seen[d] {
            return Err(format!("{what} {d} appears twice in {dims:?} (operand {t})"));
        }
        seen[d] = true;
    }
    Ok(())
}

/// Every dimension and the element count must fit in `isize` (so index arithmetic in backends cannot overflow).
fn numel_fits(shape: &Shape) -> Result<(), String> {
    let dims_fit = shape.iter().all(|&d| d <= isize::MAX as usize);
    match shape.checked_numel() {
        Some(n) if n <= isize::MAX as usize && dims_fit => Ok(()),
        _ => Err(format!("shape {shape} has more elements than fit in memory")),
    }
}

/// The result types of `op` applied to operands of `types`, or a message saying why they do not fit.
pub fn infer(op: &Op, types: &[&TensorType]) -> Infer {
    match op {
        Op::Parameter { dtype, shape, .. } => {
            arity(types, 0)?;
            numel_fits(shape)?;
            one(TensorType::new(*dtype, shape.clone()))
        }
        Op::Constant(lit) => {
            arity(types, 0)?;
            numel_fits(lit.shape())?;
            one(TensorType::new(lit.dtype(), lit.shape().clone()))
        }
        Op::Iota { dtype, shape, dimension } => {
            arity(types, 0)?;
            numel_fits(shape)?;
            if !dtype.is_numeric() {
                return Err(format!("dtype must be numeric, got {dtype}"));
            }
            if *dimension >= shape.rank() {
                return Err(format!("dimension {dimension} is out of range for shape {shape}"));
            }
            one(TensorType::new(*dtype, shape.clone()))
        }
        Op::Unary(u) => {
            arity(types, 1)?;
            let t = types[0];
            let ok = match u {
                UnaryOp::Not => t.dtype.is_integer() || t.dtype.is_bool(),
                UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Sign => t.dtype.is_numeric(),
                _ => t.dtype.is_float(),
            };
            if !ok {
                let wants = match u {
                    UnaryOp::Not => "bool or integer",
                    UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Sign => "numeric",
                    _ => "floating-point",
                };
                return Err(format!("expects a {wants} operand, got {t}"));
            }
            one(t.clone())
        }
        Op::Binary(b) => {
            arity(types, 2)?;
            let (x, y) = (types[0], types[1]);
            if x.dtype != y.dtype {
                return Err(format!("operand dtypes differ: {x} and {y} (convert one explicitly)"));
            }
            if x.shape != y.shape {
                return Err(format!("operand shapes differ: {x} and {y}"));
            }
            let d = x.dtype;
            let ok = match b {
                BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem | BinaryOp::Pow => {
                    d.is_numeric()
                }
                BinaryOp::Max | BinaryOp::Min => d.is_numeric() || d.is_bool(),
                BinaryOp::Atan2 => d.is_float(),
                BinaryOp::And | BinaryOp::Or | BinaryOp::Xor => d.is_integer() || d.is_bool(),
                BinaryOp::ShiftLeft | BinaryOp::ShiftRightLogical | BinaryOp::ShiftRightArithmetic => d.is_integer(),
                BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => true,
            };
            if !ok {
                return Err(format!("does not accept dtype {d} (operands {x} and {y})"));
            }
            let dtype = if b.is_comparison() { DType::Bool } else { d };
            one(TensorType::new(dtype, x.shape.clone()))
        }
        Op::IntegerPow { .. } => {
            arity(types, 1)?;
            if !types[0].dtype.is_numeric() {
                return Err(format!("expects a numeric operand, got {}", types[0]));
            }
            one(types[0].clone())
        }
        Op::Select => {
            arity(types, 3)?;
            let (p, t, f) = (types[0], types[1], types[2]);
            if p.dtype != DType::Bool {
                return Err(format!("predicate must be bool, got {p}"));
            }
            if t.dtype != f.dtype {
                return Err(format!("branch dtypes differ: {t} and {f}"));
            }
            if p.shape != t.shape || t.shape != f.shape {
                return Err(format!("operand shapes differ: predicate {p}, on_true {t}, on_false {f}"));
            }
            one(t.clone())
        }
        Op::Convert { dtype } => {
            arity(types, 1)?;
            one(TensorType::new(*dtype, types[0].shape.clone()))
        }
        Op::BitcastConvert { dtype } => {
            arity(types, 1)?;
            let t = types[0];
            if t.dtype.size_in_bytes() != dtype.size_in_bytes() || t.dtype.is_bool() || dtype.is_bool() {
                return Err(format!("cannot reinterpret {t} as {dtype}: element sizes must match (bool excluded)"));
            }
            one(TensorType::new(*dtype, t.shape.clone()))
        }
        Op::BroadcastInDim { shape, broadcast_dimensions } => {
            arity(types, 1)?;
            let t = types[0];
            numel_fits(shape)?;
            if broadcast_dimensions.len() != t.rank() {
                return Err(format!(
                    "broadcast_dimensions {broadcast_dimensions:?} must have one entry per operand dimension of {t}"
                ));
            }
            for (i, &d) in broadcast_dimensions.iter().enumerate() {
                if d >= shape.rank() {
                    return Err(format!("broadcast dimension {d} is out of range for target shape {shape}"));
                }
                if i > 0 && broadcast_dimensions[i - 1] >= d {
                    return Err(format!("broadcast_dimensions {broadcast_dimensions:?} must be strictly increasing"));
                }
                if t.dims()[i] != 1 && t.dims()[i] != shape[d] {
                    return Err(format!(
                        "cannot broadcast {t} to {shape}: operand dimension {i} has size {} but target dimension {d} has size {}",
                        t.dims()[i],
                        shape[d]
                    ));
                }
            }
            one(TensorType::new(t.dtype, shape.clone()))
        }
        Op::Reshape { shape } => {
            arity(types, 1)?;
            let t = types[0];
            if shape.checked_numel() != Some(t.shape.numel()) {
                return Err(format!(
                    "cannot reshape {t} ({} elements) to {shape} ({} elements)",
                    t.shape.numel(),
                    shape.checked_numel().map_or_else(|| "too many".to_string(), |n| n.to_string())
                ));
            }
            one(TensorType::new(t.dtype, shape.clone()))
        }
        Op::Transpose { permutation } => {
            arity(types, 1)?;
            let t = types[0];
            if permutation.len() != t.rank() {
                return Err(format!(
                    "permutation {permutation:?} has {} entries but {t} has rank {}",
                    permutation.len(),
                    t.rank()
                ));
            }
            check_dims_in_range("permutation entry", permutation, t.rank(), t)?;
            let dims: Vec<usize> = permutation.iter().map(|&p| t.dims()[p]).collect();
            one(TensorType::new(t.dtype, dims))
        }
        Op::Slice { start, limit, strides } => {
            arity(types, 1)?;
            let t = types[0];
            let r = t.rank();
            if start.len() != r || limit.len() != r || strides.len() != r {
                return Err(format!(
                    "start {start:?}, limit {limit:?} and strides {strides:?} must each have {r} entries for {t}"
                ));
            }
            let mut dims = Vec::with_capacity(r);
            for i in 0..r {
                if strides[i] == 0 {
                    return Err(format!("stride of dimension {i} is 0 (strides {strides:?})"));
                }
                if start[i] > limit[i] || limit[i] > t.dims()[i] {
                    return Err(format!(
                        "dimension {i}: need start <= limit <= size, got start {} limit {} for {t}",
                        start[i], limit[i]
                    ));
                }
                dims.push((limit[i] - start[i]).div_ceil(strides[i]));
            }
            one(TensorType::new(t.dtype, dims))
        }
        Op::Concatenate { dimension } => {
            if types.is_empty() {
                return Err("needs at least one operand".to_string());
            }
            let first = types[0];
            if *dimension >= first.rank() {
                return Err(format!("dimension {dimension} is out of range for {first}"));
            }
            let mut dims = first.dims().to_vec();
            for t in &types[1..] {
                let same_rest = t.rank() == first.rank()
                    && (0..t.rank()).all(|i| i == *dimension || t.dims()[i] == first.dims()[i]);
                if t.dtype != first.dtype || !same_rest {
                    return Err(format!(
                        "operands must agree in dtype and in every dimension but {dimension}: {}",
                        list(types)
                    ));
                }
                dims[*dimension] = dims[*dimension]
                    .checked_add(t.dims()[*dimension])
                    .ok_or_else(|| format!("concatenated dimension {dimension} overflows: {}", list(types)))?;
            }
            let shape = Shape::from(dims);
            numel_fits(&shape)?;
            one(TensorType::new(first.dtype, shape))
        }
        Op::Pad { low, high, interior } => {
            arity(types, 2)?;
            let (t, v) = (types[0], types[1]);
            if v.rank() != 0 || v.dtype != t.dtype {
                return Err(format!("padding value must be a scalar of the operand's dtype, got {v} for {t}"));
            }
            let r = t.rank();
            if low.len() != r || high.len() != r || interior.len() != r {
                return Err(format!(
                    "low {low:?}, high {high:?} and interior {interior:?} must each have {r} entries for {t}"
                ));
            }
            let mut dims = Vec::with_capacity(r);
            for i in 0..r {
                let d = t.dims()[i] as i128;
                let size = (d - 1)
                    .max(0)
                    .checked_mul(interior[i] as i128)
                    .and_then(|x| x.checked_add(low[i] as i128 + high[i] as i128 + d));
                let size = size.unwrap_or(i128::MAX);
                if size < 0 || size > isize::MAX as i128 {
                    return Err(format!(
                        "dimension {i} of {t} padded by low {} high {} interior {} has size {size}",
                        low[i], high[i], interior[i]
                    ));
                }
                dims.push(size as usize);
            }
            let shape = Shape::from(dims);
            numel_fits(&shape)?;
            one(TensorType::new(t.dtype, shape))
        }
        Op::Rev { dimensions } => {
            arity(types, 1)?;
            check_dims_in_range("dimension", dimensions, types[0].rank(), types[0])?;
            one(types[0].clone())
        }
        Op::Reduce { op, axes } => {
            arity(types, 1)?;
            let t = types[0];
            check_dims_in_range("axis", axes, t.rank(), t)?;
            let ok = match op {
                ReduceOp::Sum | ReduceOp::Prod => t.dtype.is_numeric(),
                ReduceOp::Max | ReduceOp::Min => t.dtype.is_numeric() || t.dtype.is_bool(),
            };
            if !ok {
                return Err(format!("does not accept dtype {} ({t})", t.dtype));
            }
            let dims: Vec<usize> = (0..t.rank()).filter(|i| !axes.contains(i)).map(|i| t.dims()[i]).collect();
            one(TensorType::new(t.dtype, dims))
        }
        Op::ArgReduce { op, axis, index_dtype } => {
            arity(types, 1)?;
            let t = types[0];
            if *axis >= t.rank() {
                return Err(format!("axis {axis} is out of range for {t}"));
            }
            if t.dims()[*axis] == 0 {
                return Err(format!("{} of an empty axis {axis} of {t}", op.name()));
            }
            if !(t.dtype.is_numeric() || t.dtype.is_bool()) {
                return Err(format!("does not accept dtype {}", t.dtype));
            }
            if !index_dtype.is_integer() {
                return Err(format!("index dtype must be an integer, got {index_dtype}"));
            }
            let dims: Vec<usize> = (0..t.rank()).filter(|i| i != axis).map(|i| t.dims()[i]).collect();
            one(TensorType::new(*index_dtype, dims))
        }
        Op::DotGeneral(dims) => {
            arity(types, 2)?;
            dot_general(dims, types[0], types[1])
        }
        Op::Threefry2x32 => {
            arity(types, 4)?;
            let first = types[0];
            if types.iter().any(|t| t.dtype != DType::U32 || t.shape != first.shape) {
                return Err(format!("operands (k0, k1, x0, x1) must all be u32 of one shape, got {}", list(types)));
            }
            Ok(vec![first.clone(), first.clone()])
        }
        Op::StopGradient => {
            arity(types, 1)?;
            one(types[0].clone())
        }
    }
}

fn dot_general(d: &DotDims, lhs: &TensorType, rhs: &TensorType) -> Infer {
    if lhs.dtype != rhs.dtype {
        return Err(format!("operand dtypes differ: {lhs} and {rhs} (convert one explicitly)"));
    }
    if !lhs.dtype.is_numeric() {
        return Err(format!("operands must be numeric, got {lhs} and {rhs}"));
    }
    if d.lhs_contracting.len() != d.rhs_contracting.len() || d.lhs_batch.len() != d.rhs_batch.len() {
        return Err(format!(
            "contracting dims {:?} / {:?} and batch dims {:?} / {:?} must pair up (lhs {lhs}, rhs {rhs})",
            d.lhs_contracting, d.rhs_contracting, d.lhs_batch, d.rhs_batch
        ));
    }
    let lhs_used: Vec<usize> = d.lhs_batch.iter().chain(&d.lhs_contracting).copied().collect();
    let rhs_used: Vec<usize> = d.rhs_batch.iter().chain(&d.rhs_contracting).copied().collect();
    check_dims_in_range("lhs dimension", &lhs_used, lhs.rank(), lhs)?;
    check_dims_in_range("rhs dimension", &rhs_used, rhs.rank(), rhs)?;
    for (&l, &r) in d.lhs_batch.iter().zip(&d.rhs_batch) {
        if lhs.dims()[l] != rhs.dims()[r] {
            return Err(format!(
                "batch dimension sizes differ: lhs {lhs} dimension {l} has {} but rhs {rhs} dimension {r} has {}",
                lhs.dims()[l],
                rhs.dims()[r]
            ));
        }
    }
    for (&l, &r) in d.lhs_contracting.iter().zip(&d.rhs_contracting) {
        if lhs.dims()[l] != rhs.dims()[r] {
            return Err(format!(
                "contracting dimension sizes differ: lhs {lhs} dimension {l} has {} but rhs {rhs} dimension {r} has {}",
                lhs.dims()[l],
                rhs.dims()[r]
            ));
        }
    }
    let mut dims: Vec<usize> = d.lhs_batch.iter().map(|&i| lhs.dims()[i]).collect();
    dims.extend((0..lhs.rank()).filter(|i| !lhs_used.contains(i)).map(|i| lhs.dims()[i]));
    dims.extend((0..rhs.rank()).filter(|i| !rhs_used.contains(i)).map(|i| rhs.dims()[i]));
    let shape = Shape::from(dims);
    numel_fits(&shape)?;
    one(TensorType::new(lhs.dtype, shape))
}
