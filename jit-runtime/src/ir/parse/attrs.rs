//! Attribute values and the op builder: reads each op's attributes (`[shape=(2, 3) dimension=0]`) into an [`Op`],
//! with messages that name the op, the attribute, what was expected and what was found.

use std::str::FromStr;
use std::sync::Arc;

use super::Written;
use super::lexer::{Tok, Token};
use crate::array::{DType, HostData, Literal, Shape};
use crate::error::{Error, Result};
use crate::ir::{ArgReduceOp, BinaryOp, DotDims, Op, ReduceOp, TensorType, UnaryOp};

/// An attribute value: a scalar token (with its sign), a `(...)` tuple or a `[...]` list.
#[derive(Debug)]
pub(super) enum Val<'a> {
    Scalar { neg: bool, tok: Token<'a> },
    Tuple(Vec<Attr<'a>>),
    List(Vec<Attr<'a>>),
}

/// An attribute value and where it starts.
#[derive(Debug)]
pub(super) struct Attr<'a> {
    pub at: Token<'a>,
    pub val: Val<'a>,
}

/// The attributes of one equation, taken one by one by the op's builder.
struct Attrs<'a> {
    op: Token<'a>,
    items: Vec<(Token<'a>, Attr<'a>)>,
}

impl<'a> Attrs<'a> {
    fn take(&mut self, key: &'static str) -> Result<(Ctx<'a>, Attr<'a>)> {
        match self.items.iter().position(|(k, _)| k.text == key) {
            Some(i) => Ok((Ctx { op: self.op.text, key }, self.items.remove(i).1)),
            None => Err(self.op.error(format!("`{}` is missing attribute `{key}`", self.op.text))),
        }
    }

    /// Rejects keys the op does not take, before any value is read (so a misspelt key is named as such).
    fn check_keys(&self, allowed: &[&str]) -> Result<()> {
        let Some((k, _)) = self.items.iter().find(|(k, _)| !allowed.contains(&k.text)) else { return Ok(()) };
        let takes = match allowed {
            [] => "it takes none".to_string(),
            _ => format!("it takes {}", allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")),
        };
        Err(k.error(format!("`{}` has no attribute `{}` ({takes})", self.op.text, k.text)))
    }
}

/// Which attribute of which op a value belongs to, for error messages.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    op: &'a str,
    key: &'static str,
}

impl Ctx<'_> {
    fn bad(&self, at: &Attr<'_>, expected: &str) -> Error {
        let found = match &at.val {
            Val::Scalar { neg, tok } => format!("`{}{}`", if *neg { "-" } else { "" }, tok.text),
            Val::Tuple(_) => "a tuple".to_string(),
            Val::List(_) => "a list".to_string(),
        };
        at.at.error(format!("bad attribute `{}` of `{}`: expected {expected}, found {found}", self.key, self.op))
    }

    fn int(&self, a: &Attr<'_>, expected: &str) -> Result<i128> {
        match &a.val {
            Val::Scalar { neg, tok } if tok.kind == Tok::Int => {
                let v = tok.text.parse::<i128>().map_err(|_| self.bad(a, expected))?;
                Ok(if *neg { -v } else { v })
            }
            _ => Err(self.bad(a, expected)),
        }
    }

    fn usize(&self, a: &Attr<'_>) -> Result<usize> {
        const WHAT: &str = "a non-negative integer";
        usize::try_from(self.int(a, WHAT)?).map_err(|_| self.bad(a, WHAT))
    }

    fn i64(&self, a: &Attr<'_>) -> Result<i64> {
        const WHAT: &str = "a 64-bit integer";
        i64::try_from(self.int(a, WHAT)?).map_err(|_| self.bad(a, WHAT))
    }

    fn tuple<'b>(&self, a: &'b Attr<'b>, len: Option<usize>, expected: &str) -> Result<&'b [Attr<'b>]> {
        match &a.val {
            Val::Tuple(items) if len.is_none_or(|n| n == items.len()) => Ok(items),
            _ => Err(self.bad(a, expected)),
        }
    }

    fn usizes(&self, a: &Attr<'_>) -> Result<Vec<usize>> {
        self.tuple(a, None, "a tuple of non-negative integers")?.iter().map(|x| self.usize(x)).collect()
    }

    fn dtype(&self, a: &Attr<'_>) -> Result<DType> {
        match &a.val {
            Val::Scalar { neg: false, tok } if tok.kind == Tok::Ident => {
                DType::from_str(tok.text).map_err(|_| self.bad(a, "a dtype"))
            }
            _ => Err(self.bad(a, "a dtype")),
        }
    }

    /// `((lo, hi, interior), ...)`.
    fn padding(&self, a: &Attr<'_>) -> Result<(Vec<i64>, Vec<i64>, Vec<usize>)> {
        const WHAT: &str = "a tuple of (low, high, interior) triples";
        let (mut low, mut high, mut interior) = (Vec::new(), Vec::new(), Vec::new());
        for t in self.tuple(a, None, WHAT)? {
            let [l, h, i] = self.tuple(t, Some(3), "a (low, high, interior) triple")? else {
                return Err(self.bad(t, "a (low, high, interior) triple"));
            };
            low.push(self.i64(l)?);
            high.push(self.i64(h)?);
            // At most `i64::MAX`, as in XLA (and as the printer writes the triple in `i64`s).
            const WHAT: &str = "a non-negative 64-bit integer";
            let v = self.int(i, WHAT)?;
            interior.push(usize::try_from(v).ok().filter(|_| v <= i64::MAX as i128).ok_or_else(|| self.bad(i, WHAT))?);
        }
        Ok((low, high, interior))
    }

    /// `((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))`.
    fn dot_dims(&self, a: &Attr<'_>) -> Result<DotDims> {
        const WHAT: &str = "((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))";
        let [c, b] = self.tuple(a, Some(2), WHAT)? else { return Err(self.bad(a, WHAT)) };
        let [lc, rc] = self.tuple(c, Some(2), "a pair (lhs_contracting, rhs_contracting)")? else {
            return Err(self.bad(c, WHAT));
        };
        let [lb, rb] = self.tuple(b, Some(2), "a pair (lhs_batch, rhs_batch)")? else {
            return Err(self.bad(b, WHAT));
        };
        Ok(DotDims {
            lhs_contracting: self.usizes(lc)?,
            rhs_contracting: self.usizes(rc)?,
            lhs_batch: self.usizes(lb)?,
            rhs_batch: self.usizes(rb)?,
        })
    }

    fn float<T: FromStr + std::ops::Neg<Output = T>>(&self, a: &Attr<'_>, what: &str) -> Result<T> {
        match &a.val {
            Val::Scalar { neg, tok }
                if matches!(tok.kind, Tok::Int | Tok::Float) || matches!(tok.text, "nan" | "inf") =>
            {
                let v = tok.text.parse::<T>().map_err(|_| self.bad(a, what))?;
                Ok(if *neg { -v } else { v })
            }
            _ => Err(self.bad(a, what)),
        }
    }

    fn integer<T: TryFrom<i128>>(&self, a: &Attr<'_>, what: &str) -> Result<T> {
        T::try_from(self.int(a, what)?).map_err(|_| self.bad(a, what))
    }

    fn boolean(&self, a: &Attr<'_>) -> Result<bool> {
        match &a.val {
            Val::Scalar { neg: false, tok } if tok.text == "true" => Ok(true),
            Val::Scalar { neg: false, tok } if tok.text == "false" => Ok(false),
            _ => Err(self.bad(a, "`true` or `false`")),
        }
    }

    /// The flat element list of a constant of type `ty`.
    fn elements(&self, a: &Attr<'_>, ty: &TensorType) -> Result<HostData> {
        let Val::List(items) = &a.val else { return Err(self.bad(a, "a list of elements `[...]`")) };
        let n = ty.shape.numel();
        if items.len() != n {
            return Err(a.at.error(format!(
                "bad attribute `value` of `constant`: type {ty} has {n} element(s) but {} are written",
                items.len()
            )));
        }
        let it = items.iter();
        Ok(match ty.dtype {
            DType::F32 => HostData::F32(it.map(|x| self.float(x, "an f32")).collect::<Result<_>>()?),
            DType::F64 => HostData::F64(it.map(|x| self.float(x, "an f64")).collect::<Result<_>>()?),
            DType::I32 => HostData::I32(it.map(|x| self.integer(x, "an i32")).collect::<Result<_>>()?),
            DType::U32 => HostData::U32(it.map(|x| self.integer(x, "a u32")).collect::<Result<_>>()?),
            DType::I64 => HostData::I64(it.map(|x| self.integer(x, "an i64")).collect::<Result<_>>()?),
            DType::Bool => HostData::Bool(it.map(|x| self.boolean(x)).collect::<Result<_>>()?),
        })
    }
}

/// The op an equation names, with its attributes read; a constant takes its type from its (single) result.
pub(super) fn build_op<'a>(op_tok: Token<'a>, items: Vec<(Token<'a>, Attr<'a>)>, outs: &[Written<'a>]) -> Result<Op> {
    let name = op_tok.text;
    let mut a = Attrs { op: op_tok, items };
    a.check_keys(attribute_names(op_tok)?)?;
    let op = match name {
        "constant" => {
            let [out] = outs else {
                return Err(op_tok.error(format!("`constant` has 1 result but {} are written", outs.len())));
            };
            let (cx, v) = a.take("value")?;
            let data = cx.elements(&v, &out.ty)?;
            let lit = Literal::new(data, out.ty.shape.clone()).map_err(|e| v.at.error(e.to_string()))?;
            Op::Constant(Arc::new(lit))
        }
        "iota" => {
            let (cx, d) = a.take("dimension")?;
            let dimension = cx.usize(&d)?;
            let (cx, t) = a.take("dtype")?;
            let dtype = cx.dtype(&t)?;
            let (cx, s) = a.take("shape")?;
            Op::Iota { dtype, shape: Shape::from(cx.usizes(&s)?), dimension }
        }
        "integer_pow" => {
            let (cx, y) = a.take("y")?;
            Op::IntegerPow { exponent: cx.integer(&y, "an i32")? }
        }
        "select" => Op::Select,
        "threefry2x32" => Op::Threefry2x32,
        "stop_gradient" => Op::StopGradient,
        "convert" | "bitcast_convert" => {
            let (cx, t) = a.take("new_dtype")?;
            let dtype = cx.dtype(&t)?;
            if name == "convert" { Op::Convert { dtype } } else { Op::BitcastConvert { dtype } }
        }
        "broadcast_in_dim" => {
            let (cx, d) = a.take("broadcast_dimensions")?;
            let broadcast_dimensions = cx.usizes(&d)?;
            let (cx, s) = a.take("shape")?;
            Op::BroadcastInDim { shape: Shape::from(cx.usizes(&s)?), broadcast_dimensions }
        }
        "reshape" => {
            let (cx, s) = a.take("new_sizes")?;
            Op::Reshape { shape: Shape::from(cx.usizes(&s)?) }
        }
        "transpose" => {
            let (cx, p) = a.take("permutation")?;
            Op::Transpose { permutation: cx.usizes(&p)? }
        }
        "slice" => {
            let (cx, s) = a.take("start_indices")?;
            let start = cx.usizes(&s)?;
            let (cx, l) = a.take("limit_indices")?;
            let limit = cx.usizes(&l)?;
            let (cx, s) = a.take("strides")?;
            Op::Slice { start, limit, strides: cx.usizes(&s)? }
        }
        "concatenate" => {
            let (cx, d) = a.take("dimension")?;
            Op::Concatenate { dimension: cx.usize(&d)? }
        }
        "pad" => {
            let (cx, p) = a.take("padding_config")?;
            let (low, high, interior) = cx.padding(&p)?;
            Op::Pad { low, high, interior }
        }
        "rev" => {
            let (cx, d) = a.take("dimensions")?;
            Op::Rev { dimensions: cx.usizes(&d)? }
        }
        "dot_general" => {
            let (cx, d) = a.take("dimension_numbers")?;
            Op::DotGeneral(cx.dot_dims(&d)?)
        }
        "argmax" | "argmin" => {
            let op = if name == "argmax" { ArgReduceOp::ArgMax } else { ArgReduceOp::ArgMin };
            let (cx, x) = a.take("axis")?;
            let axis = cx.usize(&x)?;
            let (cx, t) = a.take("index_dtype")?;
            Op::ArgReduce { op, axis, index_dtype: cx.dtype(&t)? }
        }
        _ => {
            if let Some(u) = UnaryOp::ALL.into_iter().find(|u| u.name() == name) {
                Op::Unary(u)
            } else if let Some(b) = BinaryOp::ALL.into_iter().find(|b| b.name() == name) {
                Op::Binary(b)
            } else if let Some(op) = REDUCE_OPS.into_iter().find(|r| r.name() == name) {
                let (cx, x) = a.take("axes")?;
                Op::Reduce { op, axes: cx.usizes(&x)? }
            } else {
                return Err(op_tok.error(format!("unknown op `{name}`")));
            }
        }
    };
    Ok(op)
}

const REDUCE_OPS: [ReduceOp; 4] = [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min];

/// The attributes an op takes, or an error for a name that is not an op's.
fn attribute_names(op_tok: Token<'_>) -> Result<&'static [&'static str]> {
    let name = op_tok.text;
    Ok(match name {
        "constant" => &["value"],
        "iota" => &["dimension", "dtype", "shape"],
        "integer_pow" => &["y"],
        "select" | "threefry2x32" | "stop_gradient" => &[],
        "convert" | "bitcast_convert" => &["new_dtype"],
        "broadcast_in_dim" => &["broadcast_dimensions", "shape"],
        "reshape" => &["new_sizes"],
        "transpose" => &["permutation"],
        "slice" => &["limit_indices", "start_indices", "strides"],
        "concatenate" => &["dimension"],
        "pad" => &["padding_config"],
        "rev" => &["dimensions"],
        "dot_general" => &["dimension_numbers"],
        "argmax" | "argmin" => &["axis", "index_dtype"],
        "parameter" => {
            return Err(op_tok.error("parameters are declared between `lambda ;` and `. let`, not as equations"));
        }
        _ if UnaryOp::ALL.iter().any(|u| u.name() == name) || BinaryOp::ALL.iter().any(|b| b.name() == name) => &[],
        _ if REDUCE_OPS.iter().any(|r| r.name() == name) => &["axes"],
        _ => return Err(op_tok.error(format!("unknown op `{name}`"))),
    })
}
