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

mod attrs;
mod lexer;

use std::collections::HashMap;
use std::str::FromStr;

use self::attrs::{Attr, Val, build_op};
use self::lexer::{Tok, Token, lex};
use super::{Graph, Op, TensorType, ValueId};
use crate::array::{DType, Shape};
use crate::error::Result;

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
        let first = self
            .names
            .get(name.text)
            .map(|(_, t)| *t)
            .or_else(|| pending.iter().find(|r| r.name.text == name.text).map(|r| r.name));
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
