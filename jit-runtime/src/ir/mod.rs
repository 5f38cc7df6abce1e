//! The IR: an SSA graph of primitive ops with static shapes, its verifier, printer and parser.
//!
//! The graph is plain data ([`Graph`], [`Node`], [`Op`]); [`infer`] gives result types; [`Graph::verify`] checks
//! invariants; [`print`] writes jaxpr-like text and [`parse`] reads it back.

mod graph;
pub mod infer;
mod op;
mod parse;
mod print;
mod types;
mod verify;

pub use graph::{Graph, Node, NodeId, ValueDef, ValueId};
pub use infer::infer;
pub use op::{ArgReduceOp, BinaryOp, DotDims, Op, ReduceOp, UnaryOp};
pub use parse::parse;
pub use print::{print, print_with_locations, value_name};
pub use types::TensorType;
