//! The SSA graph: nodes and values in arenas with `u32` handles.

use std::fmt;

use super::{Op, TensorType, infer};
use crate::error::{Error, Result, SourceLocation};

/// Handle of a value (an SSA name) in a [`Graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub u32);

/// Handle of a node in a [`Graph`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl ValueId {
    /// The arena index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl NodeId {
    /// The arena index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One application of an op: operands in, results out.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The primitive and its attributes.
    pub op: Op,
    /// Operands, defined by earlier nodes.
    pub inputs: Vec<ValueId>,
    /// Results (one for every op but `threefry2x32`, which has two).
    pub outputs: Vec<ValueId>,
    /// Where the user called the op, when known.
    pub location: Option<SourceLocation>,
}

/// What defines a value and its type.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueDef {
    /// Dtype and shape.
    pub ty: TensorType,
    /// The defining node.
    pub node: NodeId,
    /// Which result of that node.
    pub index: u32,
}

/// A program: nodes in definition order (so topologically sorted), its parameters and its outputs.
///
/// ```
/// use jit_runtime::ir::{BinaryOp, Graph, Op, TensorType};
/// use jit_runtime::DType;
/// let mut g = Graph::new();
/// let a = g.add_parameter(TensorType::new(DType::F32, [3]));
/// let b = g.add1(Op::Binary(BinaryOp::Add), &[a, a], None)?;
/// g.set_outputs(vec![b]);
/// g.verify()?;
/// assert_eq!(g.to_string(), "{ lambda ; a:f32[3]. let\n    b:f32[3] = add a a\n  in (b,) }");
/// # Ok::<(), jit_runtime::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    nodes: Vec<Node>,
    values: Vec<ValueDef>,
    params: Vec<ValueId>,
    outputs: Vec<ValueId>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Graph {
        Graph::default()
    }

    /// Appends a parameter (the next graph input) of the given type.
    pub fn add_parameter(&mut self, ty: TensorType) -> ValueId {
        let op = Op::Parameter { index: self.params.len(), dtype: ty.dtype, shape: ty.shape.clone() };
        let id = self.push_node(op, Vec::new(), vec![ty], None)[0];
        self.params.push(id);
        id
    }

    /// Appends a node, inferring its result types; an [`Error::Op`] names the op and the operand types when the
    /// operands do not fit. Parameters are added with [`Graph::add_parameter`].
    pub fn add(&mut self, op: Op, inputs: &[ValueId], location: Option<SourceLocation>) -> Result<Vec<ValueId>> {
        if let Some(bad) = inputs.iter().find(|v| v.index() >= self.values.len()) {
            return Err(Error::op(op.name(), format!("operand {bad:?} is not defined in this graph"), location));
        }
        if matches!(op, Op::Parameter { .. }) {
            return Err(Error::op(op.name(), "parameters are added with add_parameter", location));
        }
        let types: Vec<&TensorType> = inputs.iter().map(|v| &self.values[v.index()].ty).collect();
        let out = infer::infer(&op, &types).map_err(|m| Error::op(op.name(), m, location))?;
        Ok(self.push_node(op, inputs.to_vec(), out, location))
    }

    /// [`Graph::add`] for ops with one result.
    pub fn add1(&mut self, op: Op, inputs: &[ValueId], location: Option<SourceLocation>) -> Result<ValueId> {
        let name = op.name();
        let out = self.add(op, inputs, location)?;
        match out.as_slice() {
            [v] => Ok(*v),
            _ => Err(Error::op(name, format!("has {} results, expected one", out.len()), location)),
        }
    }

    fn push_node(
        &mut self,
        op: Op,
        inputs: Vec<ValueId>,
        types: Vec<TensorType>,
        location: Option<SourceLocation>,
    ) -> Vec<ValueId> {
        let node = NodeId(self.nodes.len() as u32);
        let outputs: Vec<ValueId> = types
            .into_iter()
            .enumerate()
            .map(|(i, ty)| {
                let id = ValueId(self.values.len() as u32);
                self.values.push(ValueDef { ty, node, index: i as u32 });
                id
            })
            .collect();
        self.nodes.push(Node { op, inputs, outputs: outputs.clone(), location });
        outputs
    }

    /// Sets the graph's results.
    pub fn set_outputs(&mut self, outputs: Vec<ValueId>) {
        self.outputs = outputs;
    }

    /// Nodes in definition order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// One node.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// Number of values.
    pub fn num_values(&self) -> usize {
        self.values.len()
    }

    /// What defines a value.
    pub fn value(&self, id: ValueId) -> &ValueDef {
        &self.values[id.index()]
    }

    /// The type of a value.
    pub fn ty(&self, id: ValueId) -> &TensorType {
        &self.values[id.index()].ty
    }

    /// The parameters, in order.
    pub fn params(&self) -> &[ValueId] {
        &self.params
    }

    /// The results, in order.
    pub fn outputs(&self) -> &[ValueId] {
        &self.outputs
    }

    /// Types of the parameters.
    pub fn param_types(&self) -> Vec<TensorType> {
        self.params.iter().map(|&p| self.ty(p).clone()).collect()
    }

    /// Types of the results.
    pub fn output_types(&self) -> Vec<TensorType> {
        self.outputs.iter().map(|&p| self.ty(p).clone()).collect()
    }

    /// Number of nodes that are not parameters (the "size" of the program).
    pub fn num_ops(&self) -> usize {
        self.nodes.iter().filter(|n| !matches!(n.op, Op::Parameter { .. })).count()
    }
}

impl fmt::Display for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::print::print(self))
    }
}
