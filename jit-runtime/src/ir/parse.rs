//! The parser: reads the printer's text back into a [`Graph`].
//!
//! ```text
//! program   := '{' 'lambda' ';' (name ':' type)* '.' 'let' equation* 'in' '(' names ')' '}'
//! equation  := (name ':' type)+ '=' op ('[' (key '=' value ','?)* ']')? name*
//! type      := dtype '[' (int (',' int)*)? ']'
//! value     := '-'? (int | float | ident) | '(' values ')' | '[' values ']'
//! ```
//! Names are any identifiers (`in` too: the keyword is the `in` followed by `(`); a name is defined once and used
//! after its definition. Whitespace and newlines are free and `#` starts a comment to the end of the line. Every
//! equation is built with [`Graph::add`], so its result types are inferred and must equal the written annotations;
//! a constant takes its dtype and shape from its annotation. Errors are [`Error::Parse`] with 1-based positions.

mod lexer;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use self::lexer::{Tok, Token, lex};
use super::{ArgReduceOp, BinaryOp, DotDims, Graph, Op, ReduceOp, TensorType, UnaryOp, ValueId};
use crate::array::{DType, HostData, Literal, Shape};
use crate::error::{Error, Result};

/// How deeply attribute tuples may nest (the printer needs 3).
const MAX_DEPTH: usize = 16;

/// Parses the text written by [`print`](super::print()) (or written by hand in the same format) into a verified
/// graph.
///
/// ```
/// use jit_runtime::ir::{parse, print};
/// let text = "{ lambda ; a:f32[3]. let\n    b:f32[3] = add a a\n  in (b,) }";
/// let g = parse(text)?;
/// assert_eq!(print(&g), text);
/// # Ok::<(), jit_runtime::Error>(())
/// ```
pub fn parse(text: &str) -> Result<Graph> {
    let tokens = lex(text)?;
    let mut p = Parser { tokens, pos: 0, graph: Graph::new(), names: HashMap::new() };
    p.program()?;
    let end = p.peek();
    p.graph.verify().map_err(|e| end.error(e.to_string()))?;
    Ok(p.graph)
}

/// An attribute value: a scalar token (with its sign), a `(...)` tuple or a `[...]` list.
#[derive(Debug)]
enum Val<'a> {
    Scalar { neg: bool, tok: Token<'a> },
    Tuple(Vec<Attr<'a>>),
    List(Vec<Attr<'a>>),
}

/// An attribute value and where it starts.
#[derive(Debug)]
struct Attr<'a> {
    at: Token<'a>,
    val: Val<'a>,
}

/// A result as written: its name and its annotated type.
struct Written<'a> {
    name: Token<'a>,
    ty: TensorType,
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    pos: usize,
    graph: Graph,
    /// Defined names: the value and the token that defined it.
    names: HashMap<&'a str, (ValueId, Token<'a>)>,
}

impl<'a> Parser<'a> {
    fn peek_at(&self, k: usize) -> Token<'a> {
        let last = self.tokens.len().saturating_sub(1);
        let eof = Token { kind: Tok::Eof, text: "", line: 1, column: 1 };
        self.tokens.get(self.pos.saturating_add(k).min(last)).copied().unwrap_or(eof)
    }

    fn peek(&self) -> Token<'a> {
        self.peek_at(0)
    }

    fn next(&mut self) -> Token<'a> {
        let t = self.peek();
        if t.kind != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    /// The next token if it is of `kind`; otherwise an error saying `expected {what}`.
    fn expect(&mut self, kind: Tok, what: &str) -> Result<Token<'a>> {
        let t = self.peek();
        if t.kind == kind { Ok(self.next()) } else { Err(t.error(format!("expected {what}, found {}", t.show()))) }
    }

    fn keyword(&mut self, word: &str) -> Result<Token<'a>> {
        let t = self.peek();
        if t.kind == Tok::Ident && t.text == word {
            Ok(self.next())
        } else {
            Err(t.error(format!("expected `{word}`, found {}", t.show())))
        }
    }

    /// True at the keyword `in` that starts the outputs (a value may be named `in`, but is never followed by `(`).
    fn at_in_keyword(&self) -> bool {
        let t = self.peek();
        t.kind == Tok::Ident && t.text == "in" && self.peek_at(1).kind == Tok::LParen
    }

    fn lookup(&self, name: Token<'a>) -> Result<ValueId> {
        match self.names.get(name.text) {
            Some(&(id, _)) => Ok(id),
            None => Err(name.error(format!("undefined value `{}`", name.text))),
        }
    }

    fn check_fresh(&self, name: Token<'a>, pending: &[Written<'a>]) -> Result<()> {
        let first = self.names.get(name.text).map(|(_, t)| *t).or_else(|| {
            pending.iter().find(|r| r.name.text == name.text).map(|r| r.name)
        });
        match first {
            Some(t) => Err(name.error(format!(
                "value `{}` is defined twice (first at line {}, column {})",
                name.text, t.line, t.column
            ))),
            None => Ok(()),
        }
    }

    fn program(&mut self) -> Result<()> {
        self.expect(Tok::LBrace, "`{` starting the program")?;
        self.keyword("lambda")?;
        self.expect(Tok::Semi, "`;` after `lambda` (constants before `;` are not supported)")?;
        while self.peek().kind != Tok::Dot {
            let name = self.expect(Tok::Ident, "a parameter name or `.`")?;
            self.check_fresh(name, &[])?;
            self.expect(Tok::Colon, "`:` after a parameter name")?;
            let ty = self.tensor_type()?;
            let id = self.graph.add_parameter(ty);
            self.names.insert(name.text, (id, name));
        }
        self.next();
        self.keyword("let")?;
        while !self.at_in_keyword() {
            self.equation()?;
        }
        self.next();
        self.expect(Tok::LParen, "`(`")?;
        let mut outputs = Vec::new();
        while self.peek().kind != Tok::RParen {
            let name = self.expect(Tok::Ident, "an output name or `)`")?;
            outputs.push(self.lookup(name)?);
            if self.peek().kind != Tok::RParen {
                self.expect(Tok::Comma, "`,` or `)` after an output")?;
            }
        }
        self.next();
        self.expect(Tok::RBrace, "`}` closing the program")?;
        self.expect(Tok::Eof, "the end of the text after the program")?;
        self.graph.set_outputs(outputs);
        Ok(())
    }

    /// `f32[2,3]`; the shape must have at most `isize::MAX` elements and dimensions.
    fn tensor_type(&mut self) -> Result<TensorType> {
        let t = self.expect(Tok::Ident, "a dtype")?;
        let dtype = DType::from_str(t.text).map_err(|e| t.error(e.to_string()))?;
        self.expect(Tok::LBracket, "`[` starting the shape")?;
        let mut dims = Vec::new();
        while self.peek().kind != Tok::RBracket {
            let d = self.expect(Tok::Int, "a dimension size or `]`")?;
            let size = d.text.parse::<usize>().ok().filter(|&s| s <= isize::MAX as usize);
            dims.push(size.ok_or_else(|| d.error(format!("dimension size {} is too large", d.text)))?);
            if self.peek().kind != Tok::RBracket {
                self.expect(Tok::Comma, "`,` or `]` in a shape")?;
            }
        }
        self.next();
        let shape = Shape::from(dims);
        if shape.checked_numel().is_none_or(|n| n > isize::MAX as usize) {
            return Err(t.error(format!("shape {shape} has more elements than fit in memory")));
        }
        Ok(TensorType::new(dtype, shape))
    }

    fn equation(&mut self) -> Result<()> {
        let mut outs: Vec<Written<'a>> = Vec::new();
        loop {
            let what = if outs.is_empty() { "an equation or `in (...)`" } else { "a result name or `=`" };
            let name = self.expect(Tok::Ident, what)?;
            self.check_fresh(name, &outs)?;
            self.expect(Tok::Colon, "`:` after a result name")?;
            let ty = self.tensor_type()?;
            outs.push(Written { name, ty });
            if self.peek().kind == Tok::Eq {
                break;
            }
        }
        self.next();
        let op_tok = self.expect(Tok::Ident, "an op name")?;
        let attrs = if self.peek().kind == Tok::LBracket { self.attributes()? } else { Vec::new() };
        let mut inputs = Vec::new();
        while self.peek().kind == Tok::Ident && self.peek_at(1).kind != Tok::Colon && !self.at_in_keyword() {
            let name = self.next();
            inputs.push(self.lookup(name)?);
        }
        let op = build_op(op_tok, attrs, &outs)?;
        self.precheck(&op, &inputs, op_tok)?;
        let name = op.name();
        let results = self.graph.add(op, &inputs, None).map_err(|e| match e.as_op_error() {
            Some(e) => op_tok.error(format!("`{name}`: {}", e.message)),
            None => op_tok.error(e.to_string()),
        })?;
        if results.len() != outs.len() {
            return Err(op_tok.error(format!(
                "`{name}` has {} result(s) but {} are written",
                results.len(),
                outs.len()
            )));
        }
        for (out, &id) in outs.iter().zip(&results) {
            let inferred = self.graph.ty(id);
            if *inferred != out.ty {
                return Err(out.name.error(format!(
                    "result `{}` of `{name}` is annotated {} but `{name}` gives {inferred}",
                    out.name.text, out.ty
                )));
            }
        }
        for (out, id) in outs.into_iter().zip(results) {
            self.names.insert(out.name.text, (id, out.name));
        }
        Ok(())
    }

    /// Rejects what type inference would overflow on (its arithmetic assumes sizes that fit in memory).
    fn precheck(&self, op: &Op, inputs: &[ValueId], op_tok: Token<'a>) -> Result<()> {
        if let Op::Concatenate { dimension } = op {
            let mut total = 0usize;
            for &v in inputs {
                let size = self.graph.ty(v).dims().get(*dimension).copied().unwrap_or(0);
                total = total
                    .checked_add(size)
                    .ok_or_else(|| op_tok.error(format!("`concatenate`: dimension {dimension} overflows")))?;
            }
        }
        Ok(())
    }

    /// `[key=value key=value]`, keys distinct.
    fn attributes(&mut self) -> Result<Vec<(Token<'a>, Attr<'a>)>> {
        self.next();
        let mut attrs: Vec<(Token<'a>, Attr<'a>)> = Vec::new();
        while self.peek().kind != Tok::RBracket {
            let key = self.expect(Tok::Ident, "an attribute name or `]`")?;
            if attrs.iter().any(|(k, _)| k.text == key.text) {
                return Err(key.error(format!("attribute `{}` is given twice", key.text)));
            }
            self.expect(Tok::Eq, "`=` after an attribute name")?;
            let value = self.value(0)?;
            attrs.push((key, value));
            if self.peek().kind == Tok::Comma {
                self.next();
            }
        }
        self.next();
        Ok(attrs)
    }

    fn value(&mut self, depth: usize) -> Result<Attr<'a>> {
        let at = self.peek();
        if depth > MAX_DEPTH {
            return Err(at.error("attribute value nested too deeply"));
        }
        let val = match at.kind {
            Tok::LParen | Tok::LBracket => {
                self.next();
                let (close, what) = if at.kind == Tok::LParen {
                    (Tok::RParen, "`,` or `)` in a tuple")
                } else {
                    (Tok::RBracket, "`,` or `]` in a list")
                };
                let mut items = Vec::new();
                while self.peek().kind != close {
                    items.push(self.value(depth + 1)?);
                    if self.peek().kind != close {
                        self.expect(Tok::Comma, what)?;
                    }
                }
                self.next();
                if close == Tok::RParen { Val::Tuple(items) } else { Val::List(items) }
            }
            Tok::Minus => {
                self.next();
                let tok = self.peek();
                if !matches!(tok.kind, Tok::Int | Tok::Float | Tok::Ident) {
                    return Err(tok.error(format!("expected a number after `-`, found {}", tok.show())));
                }
                self.next();
                Val::Scalar { neg: true, tok }
            }
            Tok::Int | Tok::Float | Tok::Ident => Val::Scalar { neg: false, tok: self.next() },
            _ => return Err(at.error(format!("expected an attribute value, found {}", at.show()))),
        };
        Ok(Attr { at, val })
    }
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

    fn finish(self) -> Result<()> {
        match self.items.first() {
            Some((k, _)) => Err(k.error(format!("`{}` has no attribute `{}`", self.op.text, k.text))),
            None => Ok(()),
        }
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
            interior.push(self.usize(i)?);
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
fn build_op<'a>(op_tok: Token<'a>, items: Vec<(Token<'a>, Attr<'a>)>, outs: &[Written<'a>]) -> Result<Op> {
    let name = op_tok.text;
    let mut a = Attrs { op: op_tok, items };
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
        "parameter" => {
            return Err(op_tok.error("parameters are declared between `lambda ;` and `. let`, not as equations"));
        }
        _ => {
            let reduce = [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min].into_iter().find(|r| r.name() == name);
            if let Some(u) = UnaryOp::ALL.into_iter().find(|u| u.name() == name) {
                Op::Unary(u)
            } else if let Some(b) = BinaryOp::ALL.into_iter().find(|b| b.name() == name) {
                Op::Binary(b)
            } else if let Some(op) = reduce {
                let (cx, x) = a.take("axes")?;
                Op::Reduce { op, axes: cx.usizes(&x)? }
            } else {
                return Err(op_tok.error(format!("unknown op `{name}`")));
            }
        }
    };
    a.finish()?;
    Ok(op)
}
