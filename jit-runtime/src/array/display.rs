//! numpy-like `Display` for arrays: `Array([[1., 2.],\n       [3., 4.]], dtype=float32)`.

use std::fmt;

use super::{Array, DType, HostData, Literal};

/// Above this many elements, only the first and last three of each dimension are shown (numpy's threshold).
const SUMMARY_THRESHOLD: usize = 1000;
const EDGE_ITEMS: usize = 3;

fn numpy_dtype_name(d: DType) -> &'static str {
    match d {
        DType::F32 => "float32",
        DType::F64 => "float64",
        DType::I32 => "int32",
        DType::U32 => "uint32",
        DType::I64 => "int64",
        DType::Bool => "bool",
    }
}

fn format_float(x: f64, digits_f32: bool) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == x.trunc() && x.abs() < 1e16 {
        return format!("{}.", x as i64).replace("-0.", if x.is_sign_negative() { "-0." } else { "0." });
    }
    let a = x.abs();
    if !(1e-4..1e16).contains(&a) {
        let s = format!("{x:.7e}");
        // trim trailing zeros of the mantissa: 1.2300000e-5 -> 1.23e-05
        if let Some((m, e)) = s.split_once('e') {
            let m = m.trim_end_matches('0').trim_end_matches('.');
            let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
            return format!("{m}e{sign}{digits:0>2}");
        }
        return s;
    }
    // The shortest text that reads back to the same value, as numpy does (at most 8 significant digits for f64).
    if digits_f32 { format!("{:?}", x as f32) } else { format!("{:?}", (x * 1e8).round() / 1e8) }
}

fn format_element(data: &HostData, i: usize) -> String {
    match data {
        HostData::F32(v) => format_float(v[i] as f64, true),
        HostData::F64(v) => format_float(v[i], false),
        HostData::I32(v) => v[i].to_string(),
        HostData::U32(v) => v[i].to_string(),
        HostData::I64(v) => v[i].to_string(),
        HostData::Bool(v) => if v[i] { "True" } else { "False" }.to_string(),
    }
}

/// Indices shown along a dimension of size `n`; `None` marks the `...` gap.
fn shown(n: usize, summarise: bool) -> Vec<Option<usize>> {
    if summarise && n > 2 * EDGE_ITEMS {
        (0..EDGE_ITEMS).map(Some).chain([None]).chain((n - EDGE_ITEMS..n).map(Some)).collect()
    } else {
        (0..n).map(Some).collect()
    }
}

/// What every level of the nested printout shares.
struct Layout<'a> {
    lit: &'a Literal,
    cells: &'a [String],
    width: usize,
    indent: usize,
    summarise: bool,
}

fn write_nested(out: &mut String, l: &Layout<'_>, dim: usize, offset: usize) {
    let dims = l.lit.shape().dims();
    let strides = l.lit.shape().strides();
    out.push('[');
    let items = shown(dims[dim], l.summarise);
    for (k, item) in items.iter().enumerate() {
        if k > 0 {
            if dim + 1 == dims.len() {
                out.push_str(", ");
            } else {
                out.push(',');
                for _ in 0..(dims.len() - dim - 1) {
                    out.push('\n');
                }
                out.push_str(&" ".repeat(l.indent + dim + 1));
            }
        }
        match item {
            None => out.push_str("..."),
            Some(i) => {
                let off = offset + i * strides[dim];
                if dim + 1 == dims.len() {
                    let width = l.width;
                    // numpy left-aligns floats (decimal points line up for equal integer parts), right-aligns ints.
                    if l.lit.dtype().is_float() {
                        out.push_str(&format!("{:<width$}", l.cells[off]));
                    } else {
                        out.push_str(&format!("{:>width$}", l.cells[off]));
                    }
                } else {
                    write_nested(out, l, dim + 1, off);
                }
            }
        }
    }
    out.push(']');
}

/// Formats a literal as numpy formats an array body (no `Array(` prefix); `indent` is the column of the first `[`.
pub(crate) fn format_literal(lit: &Literal, indent: usize) -> String {
    let n = lit.shape().numel();
    if lit.shape().rank() == 0 {
        return format_element(lit.data(), 0);
    }
    let summarise = n > SUMMARY_THRESHOLD;
    let cells: Vec<String> = (0..n).map(|i| format_element(lit.data(), i)).collect();
    let width = cells.iter().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    if n == 0 {
        out.push_str(&"[".repeat(lit.shape().rank()));
        out.push_str(&"]".repeat(lit.shape().rank()));
        return out;
    }
    write_nested(&mut out, &Layout { lit, cells: &cells, width, indent, summarise }, 0, 0);
    out
}

impl fmt::Display for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.literal() {
            Ok(lit) => {
                write!(f, "Array({}, dtype={})", format_literal(&lit, 6), numpy_dtype_name(self.dtype()))?;
                if lit.shape().numel() == 0 {
                    write!(f, " shape={}", lit.shape())?;
                }
                Ok(())
            }
            Err(e) => write!(f, "Array(<{e}>, shape={}, dtype={})", self.shape(), numpy_dtype_name(self.dtype())),
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_literal(self, 0))
    }
}
