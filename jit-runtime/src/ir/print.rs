//! The printer: a graph as text that reads like a jaxpr and that [`parse`](super::parse()) reads back.
//!
//! ```text
//! { lambda ; a:f32[8] b:f32[]. let
//!     c:f32[8] = broadcast_in_dim[broadcast_dimensions=() shape=(8,)] b
//!     d:f32[8] = add a c
//!   in (d,) }
//! ```
//! Values are named `a`, `b`, ..., `z`, `ba`, `bb`, ... in definition order; attributes sit in brackets after the
//! op name; tuples are written `()`, `(1,)`, `(1, 2)`; constants list their elements flat (`value=[1.0, 2.0]`),
//! floats in the shortest form that reads back to the same bits.

use std::fmt::Write;

use super::{Graph, Op, ValueId};
use crate::array::HostData;

/// The printed name of the `index`-th value: `a`..`z`, then `ba`, `bb`, ... (as jaxprs do).
pub fn value_name(index: usize) -> String {
    let mut digits = Vec::new();
    let mut n = index;
    loop {
        digits.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}

pub(crate) fn tuple(items: &[usize]) -> String {
    match items {
        [] => "()".to_string(),
        [x] => format!("({x},)"),
        _ => format!("({})", items.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

fn tuple_i64(items: &[i64]) -> String {
    match items {
        [] => "()".to_string(),
        [x] => format!("({x},)"),
        _ => format!("({})", items.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

fn float_text<T: std::fmt::Debug + Into<f64> + Copy>(x: T) -> String {
    let f: f64 = x.into();
    if f.is_nan() {
        "nan".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "inf".to_string() } else { "-inf".to_string() }
    } else {
        format!("{x:?}")
    }
}

fn elements(data: &HostData) -> String {
    let items: Vec<String> = match data {
        HostData::F32(v) => v.iter().map(|&x| float_text(x)).collect(),
        HostData::F64(v) => v.iter().map(|&x| float_text(x)).collect(),
        HostData::I32(v) => v.iter().map(|x| x.to_string()).collect(),
        HostData::U32(v) => v.iter().map(|x| x.to_string()).collect(),
        HostData::I64(v) => v.iter().map(|x| x.to_string()).collect(),
        HostData::Bool(v) => v.iter().map(|x| x.to_string()).collect(),
    };
    format!("[{}]", items.join(", "))
}

/// The attributes of an op as `[k=v k=v]`, or an empty string when it has none.
pub(crate) fn attributes(op: &Op) -> String {
    let attrs: Vec<(&str, String)> = match op {
        Op::Parameter { index, .. } => vec![("index", index.to_string())],
        Op::Constant(lit) => vec![("value", elements(lit.data()))],
        Op::Iota { dtype, shape, dimension } => {
            vec![("dimension", dimension.to_string()), ("dtype", dtype.to_string()), ("shape", tuple(shape.dims()))]
        }
        Op::Unary(_) | Op::Binary(_) | Op::Select | Op::Threefry2x32 | Op::StopGradient => vec![],
        Op::IntegerPow { exponent } => vec![("y", exponent.to_string())],
        Op::Convert { dtype } | Op::BitcastConvert { dtype } => vec![("new_dtype", dtype.to_string())],
        Op::BroadcastInDim { shape, broadcast_dimensions } => {
            vec![("broadcast_dimensions", tuple(broadcast_dimensions)), ("shape", tuple(shape.dims()))]
        }
        Op::Reshape { shape } => vec![("new_sizes", tuple(shape.dims()))],
        Op::Transpose { permutation } => vec![("permutation", tuple(permutation))],
        Op::Slice { start, limit, strides } => {
            vec![("limit_indices", tuple(limit)), ("start_indices", tuple(start)), ("strides", tuple(strides))]
        }
        Op::Concatenate { dimension } => vec![("dimension", dimension.to_string())],
        Op::Pad { low, high, interior } => {
            let cfg: Vec<String> = (0..low.len()).map(|i| tuple_i64(&[low[i], high[i], interior[i] as i64])).collect();
            let cfg = match cfg.as_slice() {
                [one] => format!("({one},)"),
                _ => format!("({})", cfg.join(", ")),
            };
            vec![("padding_config", cfg)]
        }
        Op::Rev { dimensions } => vec![("dimensions", tuple(dimensions))],
        Op::Reduce { axes, .. } => vec![("axes", tuple(axes))],
        Op::ArgReduce { axis, index_dtype, .. } => {
            vec![("axis", axis.to_string()), ("index_dtype", index_dtype.to_string())]
        }
        Op::DotGeneral(d) => vec![(
            "dimension_numbers",
            format!(
                "(({}, {}), ({}, {}))",
                tuple(&d.lhs_contracting),
                tuple(&d.rhs_contracting),
                tuple(&d.lhs_batch),
                tuple(&d.rhs_batch)
            ),
        )],
    };
    if attrs.is_empty() {
        return String::new();
    }
    let body: Vec<String> = attrs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("[{}]", body.join(" "))
}

/// Prints a graph; see the module docs for the format.
pub fn print(graph: &Graph) -> String {
    print_impl(graph, false)
}

/// Prints a graph with each op's source location as a trailing `# file:line:col` comment (the parser skips them).
pub fn print_with_locations(graph: &Graph) -> String {
    print_impl(graph, true)
}

fn print_impl(graph: &Graph, locations: bool) -> String {
    let name = |v: ValueId| value_name(v.index());
    let typed = |v: ValueId| format!("{}:{}", name(v), graph.ty(v));
    let mut out = String::from("{ lambda ; ");
    let params: Vec<String> = graph.params().iter().map(|&p| typed(p)).collect();
    out.push_str(&params.join(" "));
    out.push_str(". let\n");
    for node in graph.nodes() {
        if matches!(node.op, Op::Parameter { .. }) {
            continue;
        }
        let outs: Vec<String> = node.outputs.iter().map(|&v| typed(v)).collect();
        let _ = write!(out, "    {} = {}{}", outs.join(" "), node.op.name(), attributes(&node.op));
        for &i in &node.inputs {
            let _ = write!(out, " {}", name(i));
        }
        if locations && let Some(loc) = node.location {
            let _ = write!(out, "  # {loc}");
        }
        out.push('\n');
    }
    let outs: Vec<String> = graph.outputs().iter().map(|&v| name(v)).collect();
    match outs.as_slice() {
        [one] => {
            let _ = write!(out, "  in ({one},) }}");
        }
        _ => {
            let _ = write!(out, "  in ({}) }}", outs.join(", "));
        }
    }
    out
}
