//! The IR's text form: `parse(&print(&g)) == g` for every op, snapshots of the format, parse errors with their
//! positions, and property tests (random well-typed graphs round-trip; random text never panics).

use std::sync::Arc;

use expect_test::expect;
use jit_runtime::ir::{
    ArgReduceOp, BinaryOp, DotDims, Graph, Op, ReduceOp, TensorType, UnaryOp, ValueId, parse, print,
    print_with_locations, value_name,
};
use jit_runtime::{DType, Error, Literal, Shape, SourceLocation};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

fn ty(dtype: DType, dims: &[usize]) -> TensorType {
    TensorType::new(dtype, dims)
}

/// A graph with parameters of `params`, then whatever `body` adds; `body` returns the outputs.
fn graph(params: &[TensorType], body: impl FnOnce(&mut Graph, &[ValueId]) -> Vec<ValueId>) -> Graph {
    let mut g = Graph::new();
    let ps: Vec<ValueId> = params.iter().map(|t| g.add_parameter(t.clone())).collect();
    let outs = body(&mut g, &ps);
    g.set_outputs(outs);
    g.verify().unwrap();
    g
}

fn add1(g: &mut Graph, op: Op, inputs: &[ValueId]) -> ValueId {
    g.add1(op, inputs, None).unwrap()
}

fn constant(g: &mut Graph, lit: Literal) -> ValueId {
    add1(g, Op::Constant(Arc::new(lit)), &[])
}

/// Prints, parses, and checks the graph comes back equal and prints to the same text; returns the text.
#[track_caller]
fn round_trip(g: &Graph) -> String {
    let text = print(g);
    let back = match parse(&text) {
        Ok(back) => back,
        Err(e) => panic!("{e}\nin:\n{text}"),
    };
    assert_eq!(&back, g, "graph changed in a round trip of\n{text}");
    assert_eq!(print(&back), text);
    text
}

/// The position and message of a parse error.
#[track_caller]
fn parse_err(text: &str) -> (usize, usize, String) {
    match parse(text) {
        Err(Error::Parse { line, column, message }) => (line, column, message),
        Err(e) => panic!("not a parse error: {e:?}"),
        Ok(g) => panic!("parsed:\n{}", print(&g)),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Round trips, op by op
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn every_unary_op_round_trips() {
    for u in UnaryOp::ALL {
        let dtypes: &[DType] = match u {
            UnaryOp::Not => &[DType::Bool, DType::I32, DType::U32, DType::I64],
            _ if u.float_only() => &[DType::F32, DType::F64],
            _ => &[DType::F32, DType::F64, DType::I32, DType::U32, DType::I64],
        };
        for &d in dtypes {
            let g = graph(&[ty(d, &[2, 3])], |g, p| vec![add1(g, Op::Unary(u), &[p[0]])]);
            let text = round_trip(&g);
            assert!(text.contains(&format!("= {} a", u.name())), "{text}");
        }
    }
}

#[test]
fn every_binary_op_round_trips_with_every_dtype_it_accepts() {
    for b in BinaryOp::ALL {
        let mut accepted = 0;
        for d in DType::ALL {
            let mut g = Graph::new();
            let x = g.add_parameter(ty(d, &[4]));
            let y = g.add_parameter(ty(d, &[4]));
            let Ok(z) = g.add1(Op::Binary(b), &[x, y], None) else { continue };
            g.set_outputs(vec![z]);
            let expected = if b.is_comparison() { DType::Bool } else { d };
            assert_eq!(g.ty(z), &ty(expected, &[4]));
            round_trip(&g);
            accepted += 1;
        }
        assert!(accepted > 0, "{} accepts no dtype", b.name());
    }
}

#[test]
fn select_round_trips() {
    let g = graph(&[ty(DType::Bool, &[3]), ty(DType::I64, &[3]), ty(DType::I64, &[3])], |g, p| {
        vec![add1(g, Op::Select, &[p[0], p[1], p[2]])]
    });
    assert!(round_trip(&g).contains("d:i64[3] = select a b c"));
}

#[test]
fn convert_between_every_pair_of_dtypes_round_trips() {
    for from in DType::ALL {
        for to in DType::ALL {
            let g = graph(&[ty(from, &[2])], |g, p| vec![add1(g, Op::Convert { dtype: to }, &[p[0]])]);
            round_trip(&g);
        }
    }
}

#[test]
fn bitcast_convert_round_trips() {
    let pairs =
        [(DType::F32, DType::I32), (DType::F32, DType::U32), (DType::I32, DType::U32), (DType::F64, DType::I64)];
    for (a, b) in pairs {
        for (from, to) in [(a, b), (b, a)] {
            let g = graph(&[ty(from, &[5])], |g, p| vec![add1(g, Op::BitcastConvert { dtype: to }, &[p[0]])]);
            assert!(round_trip(&g).contains(&format!("bitcast_convert[new_dtype={to}] a")));
        }
    }
}

#[test]
fn iota_round_trips() {
    for d in [DType::F32, DType::F64, DType::I32, DType::U32, DType::I64] {
        let g = graph(&[], |g, _| {
            vec![
                add1(g, Op::Iota { dtype: d, shape: Shape::from([4]), dimension: 0 }, &[]),
                add1(g, Op::Iota { dtype: d, shape: Shape::from([2, 0, 3]), dimension: 2 }, &[]),
            ]
        });
        round_trip(&g);
    }
}

#[test]
fn shape_ops_round_trip() {
    let g = graph(&[ty(DType::F32, &[2, 3]), ty(DType::F32, &[]), ty(DType::F32, &[1, 3])], |g, p| {
        let scalar_b =
            add1(g, Op::BroadcastInDim { shape: Shape::from([4, 5]), broadcast_dimensions: vec![] }, &[p[1]]);
        let bcast =
            add1(g, Op::BroadcastInDim { shape: Shape::from([2, 4, 3]), broadcast_dimensions: vec![0, 2] }, &[p[0]]);
        let ones =
            add1(g, Op::BroadcastInDim { shape: Shape::from([2, 3]), broadcast_dimensions: vec![0, 1] }, &[p[2]]);
        let flat = add1(g, Op::Reshape { shape: Shape::from([6]) }, &[p[0]]);
        let to_scalar = add1(g, Op::Reshape { shape: Shape::from([]) }, &[p[1]]);
        let tr = add1(g, Op::Transpose { permutation: vec![2, 0, 1] }, &[bcast]);
        let sl = add1(g, Op::Slice { start: vec![0, 1, 0], limit: vec![3, 2, 2], strides: vec![2, 1, 3] }, &[tr]);
        let rev = add1(g, Op::Rev { dimensions: vec![0, 2] }, &[bcast]);
        let rev0 = add1(g, Op::Rev { dimensions: vec![] }, &[p[0]]);
        let cat = add1(g, Op::Concatenate { dimension: 0 }, &[p[0], ones, p[2]]);
        let cat1 = add1(g, Op::Concatenate { dimension: 0 }, &[flat]);
        vec![scalar_b, ones, to_scalar, sl, rev, rev0, cat, cat1]
    });
    let text = round_trip(&g);
    assert!(text.contains("m:f32[5,3] = concatenate[dimension=0] a f c"), "{text}");
    assert!(text.contains("slice[limit_indices=(3, 2, 2) start_indices=(0, 1, 0) strides=(2, 1, 3)]"), "{text}");
    assert!(text.contains("broadcast_in_dim[broadcast_dimensions=() shape=(4, 5)] b"), "{text}");
    assert!(text.contains("reshape[new_sizes=()] b"), "{text}");
}

#[test]
fn pad_with_negative_low_and_interior_round_trips() {
    let g = graph(&[ty(DType::F32, &[4, 5]), ty(DType::F32, &[])], |g, p| {
        let a = add1(g, Op::Pad { low: vec![-1, 2], high: vec![3, -2], interior: vec![1, 0] }, &[p[0], p[1]]);
        let v = add1(g, Op::Reshape { shape: Shape::from([20]) }, &[p[0]]);
        let b = add1(g, Op::Pad { low: vec![-3], high: vec![0], interior: vec![2] }, &[v, p[1]]);
        vec![a, b]
    });
    let text = round_trip(&g);
    assert!(text.contains("pad[padding_config=((-1, 3, 1), (2, -2, 0))] a b"), "{text}");
    assert!(text.contains("pad[padding_config=((-3, 0, 2),)] d b"), "{text}");
    let g = graph(&[ty(DType::I32, &[]), ty(DType::I32, &[])], |g, p| {
        vec![add1(g, Op::Pad { low: vec![], high: vec![], interior: vec![] }, &[p[0], p[1]])]
    });
    assert!(round_trip(&g).contains("pad[padding_config=()] a b"));
}

#[test]
fn reductions_round_trip() {
    for op in [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min] {
        for axes in [vec![], vec![1], vec![0, 2]] {
            let g = graph(&[ty(DType::F32, &[2, 3, 4])], |g, p| vec![add1(g, Op::Reduce { op, axes }, &[p[0]])]);
            round_trip(&g);
        }
    }
    for op in [ArgReduceOp::ArgMax, ArgReduceOp::ArgMin] {
        for index_dtype in [DType::I32, DType::U32, DType::I64] {
            let g = graph(&[ty(DType::F64, &[2, 3])], |g, p| {
                vec![add1(g, Op::ArgReduce { op, axis: 1, index_dtype }, &[p[0]])]
            });
            assert!(round_trip(&g).contains(&format!("{}[axis=1 index_dtype={index_dtype}] a", op.name())));
        }
    }
}

#[test]
fn dot_general_round_trips() {
    let batched =
        DotDims { lhs_contracting: vec![2], rhs_contracting: vec![1], lhs_batch: vec![0], rhs_batch: vec![0] };
    let two =
        DotDims { lhs_contracting: vec![1, 2], rhs_contracting: vec![0, 1], lhs_batch: vec![], rhs_batch: vec![] };
    let g = graph(&[ty(DType::F32, &[5, 2, 3]), ty(DType::F32, &[5, 3, 4]), ty(DType::F32, &[2, 3, 4])], |g, p| {
        let a = add1(g, Op::DotGeneral(batched), &[p[0], p[1]]);
        let b = add1(g, Op::DotGeneral(two), &[p[0], p[2]]);
        let outer = add1(g, Op::DotGeneral(DotDims::default()), &[p[2], p[2]]);
        vec![a, b, outer]
    });
    let text = round_trip(&g);
    assert!(text.contains("d:f32[5,2,4] = dot_general[dimension_numbers=(((2,), (1,)), ((0,), (0,)))] a b"), "{text}");
    assert!(text.contains("dot_general[dimension_numbers=(((1, 2), (0, 1)), ((), ()))] a c"), "{text}");
    assert!(text.contains("dot_general[dimension_numbers=(((), ()), ((), ()))] c c"), "{text}");
}

#[test]
fn threefry_integer_pow_and_stop_gradient_round_trip() {
    let u = ty(DType::U32, &[3]);
    let g = graph(&[u.clone(), u.clone(), u.clone(), u, ty(DType::F32, &[2])], |g, p| {
        let ys = g.add(Op::Threefry2x32, &[p[0], p[1], p[2], p[3]], None).unwrap();
        let cube = add1(g, Op::IntegerPow { exponent: 3 }, &[p[4]]);
        let inv = add1(g, Op::IntegerPow { exponent: -2 }, &[cube]);
        let sg = add1(g, Op::StopGradient, &[inv]);
        vec![ys[1], ys[0], sg]
    });
    let text = round_trip(&g);
    assert!(text.contains("f:u32[3] g:u32[3] = threefry2x32 a b c d"), "{text}");
    assert!(text.contains("integer_pow[y=-2] h"), "{text}");
    assert!(text.contains("in (g, f, j) }"), "{text}");
}

#[test]
fn constants_of_every_dtype_round_trip() {
    let lits = vec![
        Literal::vector(vec![
            0.0f32,
            -0.0,
            1.0,
            0.1,
            -2.5,
            1e-7,
            3.4e38,
            f32::MAX,
            f32::MIN,
            f32::MIN_POSITIVE,
            1e-45,
            f32::EPSILON,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            16777217.0,
        ]),
        Literal::vector(vec![
            0.0f64,
            -0.0,
            0.1,
            1.0 / 3.0,
            1e16,
            -1e-300,
            f64::MAX,
            f64::MIN_POSITIVE / 4.0,
            5e-324,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ]),
        Literal::vector(vec![0i32, -1, i32::MIN, i32::MAX, 42]),
        Literal::vector(vec![0u32, 1, u32::MAX, 0x8000_0000]),
        Literal::vector(vec![0i64, i64::MIN, i64::MAX, -7]),
        Literal::vector(vec![true, false, true]),
        Literal::scalar(1.5f32),
        Literal::scalar(f64::NAN),
        Literal::scalar(-0.0f32),
        Literal::scalar(-3i64),
        Literal::scalar(7u32),
        Literal::scalar(false),
        Literal::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]).unwrap(),
        Literal::from_vec(Vec::<f32>::new(), [0]).unwrap(),
        Literal::from_vec(Vec::<i32>::new(), [2, 0, 3]).unwrap(),
        Literal::from_vec(Vec::<bool>::new(), [0]).unwrap(),
        Literal::from_vec(vec![1u32, 2, 3, 4, 5, 6], [1, 2, 3]).unwrap(),
    ];
    let g = graph(&[], |g, _| lits.into_iter().map(|l| constant(g, l)).collect());
    let text = round_trip(&g);
    assert!(text.contains("a:f32[16] = constant[value=[0.0, -0.0, 1.0, 0.1, -2.5, 1e-7, 3.4e38, 3.4028235e38,"));
    assert!(text.contains("nan, inf, -inf, 16777216.0]]"), "{text}");
    assert!(text.contains("d:u32[4] = constant[value=[0, 1, 4294967295, 2147483648]]"), "{text}");
    assert!(text.contains("l:bool[] = constant[value=[false]]"), "{text}");
    assert!(text.contains("n:f32[0] = constant[value=[]]"), "{text}");
    assert!(text.contains("o:i32[2,0,3] = constant[value=[]]"), "{text}");
    // "nan" reads back as the canonical quiet NaN, bit for bit.
    let back = parse(&text).unwrap();
    let Op::Constant(lit) = &back.nodes()[0].op else { panic!() };
    assert_eq!(lit.to_vec::<f32>().unwrap()[12].to_bits(), f32::NAN.to_bits());
}

#[test]
fn graph_shapes_round_trip() {
    // No parameters and no outputs.
    let g = graph(&[], |_, _| vec![]);
    assert_eq!(round_trip(&g), "{ lambda ; . let\n  in () }");
    // Outputs that are parameters, repeated, and unused parameters.
    let g =
        graph(&[ty(DType::F32, &[]), ty(DType::Bool, &[2, 2]), ty(DType::I64, &[0])], |_, p| vec![p[1], p[0], p[1]]);
    assert_eq!(round_trip(&g), "{ lambda ; a:f32[] b:bool[2,2] c:i64[0]. let\n  in (b, a, b) }");
}

#[test]
fn long_graphs_round_trip_including_the_value_named_in() {
    // Value 221 is printed `in`, 7559 `let`: the parser tells them from the keywords by what follows.
    assert_eq!(value_name(221), "in");
    assert_eq!(value_name(7559), "let");
    let g = graph(&[ty(DType::F32, &[2])], |g, p| {
        let mut v = p[0];
        let mut outs = Vec::new();
        for i in 0..7600 {
            let w = add1(g, Op::Unary(if i % 2 == 0 { UnaryOp::Neg } else { UnaryOp::Exp }), &[v]);
            v = add1(g, Op::Binary(BinaryOp::Add), &[w, v]);
            if [220, 221, 222, 7559].contains(&w.index()) || [220, 221, 222, 7559].contains(&v.index()) {
                outs.push(v);
                outs.push(w);
            }
        }
        outs
    });
    let text = round_trip(&g);
    assert!(text.contains("    in:f32[2] = neg im\n"), "{}", &text[..4000]);
    assert!(text.contains("    io:f32[2] = add in im\n"));
    assert!(text.contains("  in (im, il, io, in, "));
}

#[test]
fn comments_locations_and_free_layout_are_accepted() {
    let text = "
        # A hand-written program.
        {lambda;x:f32[2] scale : f32 [ ] .let  # parameters
          s:f32[2]=broadcast_in_dim[shape=(2,),broadcast_dimensions=()]scale
          y:f32[2]
            = mul x s   # product
          k0:u32[] k1:u32[] = threefry2x32 z z z z
        in(y,k1,)}";
    let (line, column, message) = parse_err(text);
    assert_eq!((line, column), (7, 44));
    assert_eq!(message, "undefined value `z`");
    let text = text.replace("k0:u32[] k1:u32[] = threefry2x32 z z z z", "");
    let text = text.replace("in(y,k1,)", "in(y,)");
    let g = parse(&text).unwrap();
    expect![[r#"
        { lambda ; a:f32[2] b:f32[]. let
            c:f32[2] = broadcast_in_dim[broadcast_dimensions=() shape=(2,)] b
            d:f32[2] = mul a c
          in (d,) }"#]]
    .assert_eq(&print(&g));

    // `print_with_locations` adds `# file:line:col` comments; they read back as nothing.
    let mut g = Graph::new();
    let a = g.add_parameter(ty(DType::F32, &[3]));
    let b = g.add1(Op::Unary(UnaryOp::Exp), &[a], Some(SourceLocation::caller())).unwrap();
    g.set_outputs(vec![b]);
    let with_locations = print_with_locations(&g);
    assert!(with_locations.contains("= exp a  # "), "{with_locations}");
    assert!(with_locations.contains("ir_text.rs:"), "{with_locations}");
    let back = parse(&with_locations).unwrap();
    assert_eq!(back.nodes()[1].location, None);
    assert_eq!(print(&back), print(&g));
}

#[test]
fn lenient_forms_are_accepted() {
    // `(3)` reads as a one-element tuple; integers are accepted as float elements; `-nan` sets the sign bit.
    let g = parse("{ lambda ; a:f32[3]. let b:f32[1,3] = reshape[new_sizes=(1, 3)] a c:f64[3] = constant[value=[1, -2, -nan]] d:f32[3] = rev[dimensions=(0)] a in (b, c, d) }").unwrap();
    let Op::Constant(lit) = &g.nodes()[2].op else { panic!() };
    let v = lit.to_vec::<f64>().unwrap();
    assert_eq!((v[0], v[1], v[2].to_bits()), (1.0, -2.0, (-f64::NAN).to_bits()));
    assert_eq!(g.nodes()[3].op, Op::Rev { dimensions: vec![0] });
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Snapshots of the format
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn snapshot_dense_layer() {
    let g = graph(&[ty(DType::F32, &[8, 4]), ty(DType::F32, &[4, 16]), ty(DType::F32, &[16])], |g, p| {
        let dims = DotDims { lhs_contracting: vec![1], rhs_contracting: vec![0], ..DotDims::default() };
        let y = add1(g, Op::DotGeneral(dims), &[p[0], p[1]]);
        let b = add1(g, Op::BroadcastInDim { shape: Shape::from([8, 16]), broadcast_dimensions: vec![1] }, &[p[2]]);
        let z = add1(g, Op::Binary(BinaryOp::Add), &[y, b]);
        let zero = constant(g, Literal::scalar(0.0f32));
        let zeros = add1(g, Op::BroadcastInDim { shape: Shape::from([8, 16]), broadcast_dimensions: vec![] }, &[zero]);
        vec![add1(g, Op::Binary(BinaryOp::Max), &[z, zeros])]
    });
    expect![[r#"
        { lambda ; a:f32[8,4] b:f32[4,16] c:f32[16]. let
            d:f32[8,16] = dot_general[dimension_numbers=(((1,), (0,)), ((), ()))] a b
            e:f32[8,16] = broadcast_in_dim[broadcast_dimensions=(1,) shape=(8, 16)] c
            f:f32[8,16] = add d e
            g:f32[] = constant[value=[0.0]]
            h:f32[8,16] = broadcast_in_dim[broadcast_dimensions=() shape=(8, 16)] g
            i:f32[8,16] = max f h
          in (i,) }"#]]
    .assert_eq(&round_trip(&g));
}

#[test]
fn snapshot_softmax() {
    let g = graph(&[ty(DType::F32, &[2, 5])], |g, p| {
        let m = add1(g, Op::Reduce { op: ReduceOp::Max, axes: vec![1] }, &[p[0]]);
        let mb = add1(g, Op::BroadcastInDim { shape: Shape::from([2, 5]), broadcast_dimensions: vec![0] }, &[m]);
        let sg = add1(g, Op::StopGradient, &[mb]);
        let d = add1(g, Op::Binary(BinaryOp::Sub), &[p[0], sg]);
        let e = add1(g, Op::Unary(UnaryOp::Exp), &[d]);
        let s = add1(g, Op::Reduce { op: ReduceOp::Sum, axes: vec![1] }, &[e]);
        let sb = add1(g, Op::BroadcastInDim { shape: Shape::from([2, 5]), broadcast_dimensions: vec![0] }, &[s]);
        let y = add1(g, Op::Binary(BinaryOp::Div), &[e, sb]);
        let i = add1(g, Op::ArgReduce { op: ArgReduceOp::ArgMax, axis: 1, index_dtype: DType::I32 }, &[y]);
        vec![y, i]
    });
    expect![[r#"
        { lambda ; a:f32[2,5]. let
            b:f32[2] = reduce_max[axes=(1,)] a
            c:f32[2,5] = broadcast_in_dim[broadcast_dimensions=(0,) shape=(2, 5)] b
            d:f32[2,5] = stop_gradient c
            e:f32[2,5] = sub a d
            f:f32[2,5] = exp e
            g:f32[2] = reduce_sum[axes=(1,)] f
            h:f32[2,5] = broadcast_in_dim[broadcast_dimensions=(0,) shape=(2, 5)] g
            i:f32[2,5] = div f h
            j:i32[2] = argmax[axis=1 index_dtype=i32] i
          in (i, j) }"#]]
    .assert_eq(&round_trip(&g));
}

#[test]
fn snapshot_random_bits() {
    let g = graph(&[ty(DType::U32, &[2])], |g, p| {
        let k0 = add1(g, Op::Slice { start: vec![0], limit: vec![1], strides: vec![1] }, &[p[0]]);
        let k1 = add1(g, Op::Slice { start: vec![1], limit: vec![2], strides: vec![1] }, &[p[0]]);
        let k0 = add1(g, Op::Reshape { shape: Shape::scalar() }, &[k0]);
        let k1 = add1(g, Op::Reshape { shape: Shape::scalar() }, &[k1]);
        let bk0 = add1(g, Op::BroadcastInDim { shape: Shape::from([4]), broadcast_dimensions: vec![] }, &[k0]);
        let bk1 = add1(g, Op::BroadcastInDim { shape: Shape::from([4]), broadcast_dimensions: vec![] }, &[k1]);
        let x = add1(g, Op::Iota { dtype: DType::U32, shape: Shape::from([4]), dimension: 0 }, &[]);
        let ys = g.add(Op::Threefry2x32, &[bk0, bk1, x, x], None).unwrap();
        let nine = constant(g, Literal::vector(vec![9u32; 4]));
        let sh = add1(g, Op::Binary(BinaryOp::ShiftRightLogical), &[ys[0], nine]);
        let one = constant(g, Literal::vector(vec![0x3f80_0000u32; 4]));
        let bits = add1(g, Op::Binary(BinaryOp::Or), &[sh, one]);
        let f = add1(g, Op::BitcastConvert { dtype: DType::F32 }, &[bits]);
        vec![f, ys[1]]
    });
    expect![[r#"
        { lambda ; a:u32[2]. let
            b:u32[1] = slice[limit_indices=(1,) start_indices=(0,) strides=(1,)] a
            c:u32[1] = slice[limit_indices=(2,) start_indices=(1,) strides=(1,)] a
            d:u32[] = reshape[new_sizes=()] b
            e:u32[] = reshape[new_sizes=()] c
            f:u32[4] = broadcast_in_dim[broadcast_dimensions=() shape=(4,)] d
            g:u32[4] = broadcast_in_dim[broadcast_dimensions=() shape=(4,)] e
            h:u32[4] = iota[dimension=0 dtype=u32 shape=(4,)]
            i:u32[4] j:u32[4] = threefry2x32 f g h h
            k:u32[4] = constant[value=[9, 9, 9, 9]]
            l:u32[4] = shift_right_logical i k
            m:u32[4] = constant[value=[1065353216, 1065353216, 1065353216, 1065353216]]
            n:u32[4] = or l m
            o:f32[4] = bitcast_convert[new_dtype=f32] n
          in (o, j) }"#]]
    .assert_eq(&round_trip(&g));
}

#[test]
fn snapshot_constants_pad_and_select() {
    let g = graph(&[ty(DType::F64, &[2, 2]), ty(DType::Bool, &[2, 2])], |g, p| {
        let c = constant(g, Literal::from_vec(vec![1.5f64, -0.0, f64::NAN, f64::NEG_INFINITY], [2, 2]).unwrap());
        let s = add1(g, Op::Select, &[p[1], p[0], c]);
        let zero = constant(g, Literal::scalar(0.0f64));
        let pd = add1(g, Op::Pad { low: vec![1, -1], high: vec![0, 2], interior: vec![1, 0] }, &[s, zero]);
        let sq = add1(g, Op::IntegerPow { exponent: 2 }, &[pd]);
        let n = add1(g, Op::Convert { dtype: DType::I64 }, &[sq]);
        vec![n]
    });
    expect![[r#"
        { lambda ; a:f64[2,2] b:bool[2,2]. let
            c:f64[2,2] = constant[value=[1.5, -0.0, nan, -inf]]
            d:f64[2,2] = select b a c
            e:f64[] = constant[value=[0.0]]
            f:f64[4,3] = pad[padding_config=((1, 0, 1), (-1, 2, 0))] d e
            g:f64[4,3] = integer_pow[y=2] f
            h:i64[4,3] = convert[new_dtype=i64] g
          in (h,) }"#]]
    .assert_eq(&round_trip(&g));
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Parse errors
// ---------------------------------------------------------------------------------------------------------------

const HEADER: &str = "{ lambda ; a:f32[3] b:f32[3]. let\n";

#[test]
fn error_unknown_op() {
    let (line, column, message) = parse_err(&format!("{HEADER}    c:f32[3] = frobnicate a b\n  in (c,) }}"));
    assert_eq!((line, column, message.as_str()), (2, 16, "unknown op `frobnicate`"));
    let (line, column, message) = parse_err(&format!("{HEADER}    c:f32[3] = parameter a\n  in (c,) }}"));
    assert_eq!((line, column), (2, 16));
    assert_eq!(message, "parameters are declared between `lambda ;` and `. let`, not as equations");
}

#[test]
fn error_wrong_type_annotation() {
    let (line, column, message) =
        parse_err(&format!("{HEADER}    c:f32[3] = add a b\n    d:i32[3] = mul c c\n  in (d,) }}"));
    assert_eq!((line, column), (3, 5));
    assert_eq!(message, "result `d` of `mul` is annotated i32[3] but `mul` gives f32[3]");
    let (line, column, message) = parse_err(&format!("{HEADER}    c:bool[] = lt a b\n  in (c,) }}"));
    assert_eq!(
        (line, column, message.as_str()),
        (2, 5, "result `c` of `lt` is annotated bool[] but `lt` gives bool[3]")
    );
    // The op rejects its operands: the message is type inference's, at the op.
    let (line, column, message) = parse_err("{ lambda ; a:f32[3] b:f32[4]. let c:f32[3] = add a b in (c,) }");
    assert_eq!((line, column), (1, 46));
    assert_eq!(message, "`add`: operand shapes differ: f32[3] and f32[4]");
    // Result counts.
    let (line, column, message) = parse_err(&format!("{HEADER}    c:f32[3] d:f32[3] = neg a\n  in (c,) }}"));
    assert_eq!((line, column, message.as_str()), (2, 25, "`neg` has 1 result(s) but 2 are written"));
    let (_, _, message) = parse_err("{ lambda ; a:u32[]. let b:u32[] = threefry2x32 a a a a in (b,) }");
    assert_eq!(message, "`threefry2x32` has 2 result(s) but 1 are written");
    let (_, _, message) = parse_err("{ lambda ; . let a:f32[] b:f32[] = constant[value=[1.0]] in (a,) }");
    assert_eq!(message, "`constant` has 1 result but 2 are written");
}

#[test]
fn error_undefined_value() {
    let (line, column, message) = parse_err(&format!("{HEADER}    c:f32[3] = add a x\n  in (c,) }}"));
    assert_eq!((line, column, message.as_str()), (2, 22, "undefined value `x`"));
    // A value cannot be used in its own definition, nor as an output before it is defined.
    let (line, column, message) = parse_err(&format!("{HEADER}    c:f32[3] = add c a\n  in (c,) }}"));
    assert_eq!((line, column, message.as_str()), (2, 20, "undefined value `c`"));
    let (line, column, message) = parse_err(&format!("{HEADER}  in (a, z) }}"));
    assert_eq!((line, column, message.as_str()), (2, 10, "undefined value `z`"));
}

#[test]
fn error_duplicate_definition() {
    let (line, column, message) =
        parse_err(&format!("{HEADER}    c:f32[3] = add a b\n    c:f32[3] = mul a b\n  in (c,) }}"));
    assert_eq!((line, column), (3, 5));
    assert_eq!(message, "value `c` is defined twice (first at line 2, column 5)");
    let (line, column, message) = parse_err("{ lambda ; a:f32[3] a:f32[3]. let in (a,) }");
    assert_eq!((line, column, message.as_str()), (1, 21, "value `a` is defined twice (first at line 1, column 12)"));
    let (line, column, message) = parse_err("{ lambda ; a:u32[]. let b:u32[] b:u32[] = threefry2x32 a a a a in (b,) }");
    assert_eq!((line, column, message.as_str()), (1, 33, "value `b` is defined twice (first at line 1, column 25)"));
}

#[test]
fn error_bad_attribute() {
    let cases = [
        (
            "c:f32[3] = rev[dimensions=(0, x)] a",
            31,
            "bad attribute `dimensions` of `rev`: expected a non-negative integer, found `x`",
        ),
        (
            "c:f32[3] = rev[dimensions=0] a",
            27,
            "bad attribute `dimensions` of `rev`: expected a tuple of non-negative integers, found `0`",
        ),
        (
            "c:f32[3] = rev[dimensions=(-1,)] a",
            28,
            "bad attribute `dimensions` of `rev`: expected a non-negative integer, found `-1`",
        ),
        ("c:f32[3] = rev a", 12, "`rev` is missing attribute `dimensions`"),
        ("c:f32[3] = rev[dimensions=() axes=()] a", 30, "`rev` has no attribute `axes` (it takes `dimensions`)"),
        ("c:f32[3] = rev[dimenions=()] a", 16, "`rev` has no attribute `dimenions` (it takes `dimensions`)"),
        ("c:f32[3] = neg[x=1] a", 16, "`neg` has no attribute `x` (it takes none)"),
        ("c:f32[3] = rev[dimensions=() dimensions=()] a", 30, "attribute `dimensions` is given twice"),
        (
            "c:i32[3] = convert[new_dtype=f16] a",
            30,
            "bad attribute `new_dtype` of `convert`: expected a dtype, found `f16`",
        ),
        (
            "c:f32[3] = integer_pow[y=2147483648] a",
            26,
            "bad attribute `y` of `integer_pow`: expected an i32, found `2147483648`",
        ),
        (
            "c:f32[3] = pad[padding_config=((0, 0),)] a a",
            32,
            "bad attribute `padding_config` of `pad`: expected a (low, high, interior) triple, found a tuple",
        ),
        (
            "c:f32[3] = pad[padding_config=((0, 0, -1),)] a a",
            39,
            "bad attribute `padding_config` of `pad`: expected a non-negative 64-bit integer, found `-1`",
        ),
        (
            "c:f32[] = dot_general[dimension_numbers=((0,), (0,))] a b",
            42,
            "bad attribute `dimension_numbers` of `dot_general`: expected a pair (lhs_contracting, rhs_contracting), found a tuple",
        ),
        (
            "c:f32[2] = constant[value=[1.0, 2.0, 3.0]]",
            27,
            "bad attribute `value` of `constant`: type f32[2] has 2 element(s) but 3 are written",
        ),
        (
            "c:i32[2] = constant[value=[1, 2.5]]",
            31,
            "bad attribute `value` of `constant`: expected an i32, found `2.5`",
        ),
        ("c:u32[1] = constant[value=[-1]]", 28, "bad attribute `value` of `constant`: expected a u32, found `-1`"),
        (
            "c:bool[1] = constant[value=[1]]",
            29,
            "bad attribute `value` of `constant`: expected `true` or `false`, found `1`",
        ),
        ("c:f32[1] = constant[value=[nope]]", 28, "bad attribute `value` of `constant`: expected an f32, found `nope`"),
        (
            "c:f32[1] = constant[value=1.0]",
            27,
            "bad attribute `value` of `constant`: expected a list of elements `[...]`, found `1.0`",
        ),
        ("c:f32[3] = rev[dimensions=(0,] a", 30, "expected an attribute value, found `]`"),
        ("c:f32[3] = rev[dimensions=(0 1)] a", 30, "expected `,` or `)` in a tuple, found `1`"),
        ("c:f32[3] = rev[dimensions=-] a", 28, "expected a number after `-`, found `]`"),
        ("c:f32[3] = rev[dimensions] a", 26, "expected `=` after an attribute name, found `]`"),
    ];
    for (eqn, column, expected) in cases {
        let (line, col, message) = parse_err(&format!("{HEADER}    {eqn}\n  in (c,) }}"));
        assert_eq!((line, col, message.as_str()), (2, column + 4, expected), "{eqn}");
    }
    let deep = format!("{HEADER}    c:f32[3] = rev[dimensions={}] a\n  in (c,) }}", "(".repeat(10_000));
    let (_, _, message) = parse_err(&deep);
    assert_eq!(message, "attribute value nested too deeply");
}

#[test]
fn error_truncated_text() {
    let full = "{ lambda ; a:f32[3]. let\n    b:f32[3] = exp a\n  in (b,) }";
    for cut in 0..full.len() {
        let (line, column, message) = parse_err(&full[..cut]);
        let consumed = &full[..cut];
        let end_line = consumed.matches('\n').count() + 1;
        assert!(line <= end_line, "cut {cut}: {message}");
        assert!(!message.is_empty());
        let _ = column;
    }
    let (line, column, message) = parse_err("{ lambda ; a:f32[3]. let\n    b:f32[3] = exp a\n  in (b,");
    assert_eq!((line, column, message.as_str()), (3, 9, "expected an output name or `)`, found the end of the text"));
    let (line, column, message) = parse_err("{ lambda ; a:f32[3]. let\n    b:f32[3] = exp a\n");
    assert_eq!(
        (line, column, message.as_str()),
        (3, 1, "expected an equation or `in (...)`, found the end of the text")
    );
    let (line, column, message) = parse_err("{ lambda ; a:f32[3]. let\n    b:f32[3");
    assert_eq!((line, column, message.as_str()), (2, 12, "expected `,` or `]` in a shape, found the end of the text"));
    let (line, column, message) = parse_err("");
    assert_eq!(
        (line, column, message.as_str()),
        (1, 1, "expected `{` starting the program, found the end of the text")
    );
}

#[test]
fn error_other_syntax() {
    let cases: [(&str, usize, usize, &str); 9] = [
        (
            "{ lambda a:f32[]; . let in () }",
            1,
            10,
            "expected `;` after `lambda` (constants before `;` are not supported), found `a`",
        ),
        (
            "{ lambda ; a:f33[]. let in () }",
            1,
            14,
            "unknown dtype `f33` (expected one of f32, f64, i32, u32, i64, bool)",
        ),
        ("{ lambda ; . let in () } x", 1, 26, "expected the end of the text after the program, found `x`"),
        ("{ lambda ; . let in () ", 1, 24, "expected `}` closing the program, found the end of the text"),
        ("{ lambda ; a:f32[3]. let\n  b = neg a in (b,) }", 2, 5, "expected `:` after a result name, found `=`"),
        ("{ lambda ; a:f32[3] @ . let in (a,) }", 1, 21, "unexpected character '@'"),
        ("{ lambda ; a:f32[1e3]. let in (a,) }", 1, 18, "expected a dimension size or `]`, found `1e3`"),
        (
            "{ lambda ; a:f32[99999999999999999999]. let in (a,) }",
            1,
            18,
            "dimension size 99999999999999999999 is too large",
        ),
        (
            "{ lambda ; a:f32[4294967296,4294967296]. let in (a,) }",
            1,
            14,
            "shape [4294967296,4294967296] has more elements than fit in memory",
        ),
    ];
    for (text, line, column, expected) in cases {
        assert_eq!(parse_err(text), (line, column, expected.to_string()), "{text}");
    }
}

#[test]
fn sizes_that_would_overflow_type_inference_are_errors() {
    let big = isize::MAX as usize;
    let text = format!(
        "{{ lambda ; a:f32[0,{big}]. let b:f32[0,{}] = concatenate[dimension=1] a a a in (b,) }}",
        3 * (big as u128)
    );
    assert_eq!(parse_err(&text).2, "dimension size 27670116110564327421 is too large");
    let text = format!("{{ lambda ; a:f32[0,{big}]. let b:f32[0,1] = concatenate[dimension=1] a a a in (b,) }}");
    assert_eq!(parse_err(&text).2, "`concatenate`: dimension 1 overflows");
    let text = format!(
        "{{ lambda ; a:f32[{big},0] z:f32[]. let b:f32[1,0] = pad[padding_config=((0, 0, {}), (0, 0, 0))] a z in (b,) }}",
        i64::MAX
    );
    assert!(parse_err(&text).2.starts_with("`pad`: dimension 0 of f32[9223372036854775807,0] padded by"));
    // Interior padding is at most `i64::MAX` (the printer writes the triples as `i64`s).
    let text = text.replace(&format!("(0, 0, {})", i64::MAX), &format!("(0, 0, {})", u64::MAX));
    assert_eq!(
        parse_err(&text).2,
        "bad attribute `padding_config` of `pad`: expected a non-negative 64-bit integer, found `18446744073709551615`"
    );
    let text = "{ lambda ; a:f32[]. let b:f32[0,1] = broadcast_in_dim[broadcast_dimensions=() shape=(0, 18446744073709551615)] a in (b,) }";
    assert_eq!(
        parse_err(text).2,
        "`broadcast_in_dim`: shape [0,18446744073709551615] has more elements than fit in memory"
    );
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Property tests
// ---------------------------------------------------------------------------------------------------------------

/// One step of a random program: which op, which operands (indices into the values so far, taken modulo their
/// number) and some numbers to derive attributes from.
#[derive(Clone, Debug)]
struct Step {
    kind: u8,
    x: usize,
    n: [u64; 4],
}

fn dtype_of(n: u64) -> DType {
    DType::ALL[(n % DType::ALL.len() as u64) as usize]
}

/// An f32 from random bits, with NaNs made canonical (the printer writes every NaN as `nan`).
fn f32_of(bits: u64) -> f32 {
    let x = f32::from_bits(bits as u32);
    if x.is_nan() { f32::NAN } else { x }
}

fn f64_of(bits: u64) -> f64 {
    let x = f64::from_bits(bits);
    if x.is_nan() { f64::NAN } else { x }
}

fn random_literal(dtype: DType, dims: &[usize], seed: u64) -> Literal {
    let n: usize = dims.iter().product();
    let mut s = seed;
    let mut next = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        // Sometimes a special value, so they show up often.
        match s >> 60 {
            0 => 0x8000_0000_0000_0000,
            1 => 0x7ff0_0000_0000_0000,
            2 => 0x7f80_0000,
            _ => s ^ (s >> 29),
        }
    };
    let shape = Shape::from(dims);
    let lit = match dtype {
        DType::F32 => Literal::from_vec((0..n).map(|_| f32_of(next())).collect::<Vec<_>>(), shape),
        DType::F64 => Literal::from_vec((0..n).map(|_| f64_of(next())).collect::<Vec<_>>(), shape),
        DType::I32 => Literal::from_vec((0..n).map(|_| next() as i32).collect::<Vec<_>>(), shape),
        DType::U32 => Literal::from_vec((0..n).map(|_| next() as u32).collect::<Vec<_>>(), shape),
        DType::I64 => Literal::from_vec((0..n).map(|_| next() as i64).collect::<Vec<_>>(), shape),
        _ => Literal::from_vec((0..n).map(|_| next() % 2 == 0).collect::<Vec<_>>(), shape),
    };
    lit.unwrap()
}

fn small_dims(n: u64) -> Vec<usize> {
    let rank = (n % 4) as usize;
    (0..rank).map(|i| ((n >> (8 + 3 * i)) % 5) as usize).collect()
}

/// Tries to add one step; steps whose operands do not fit are skipped (`Graph::add` leaves the graph unchanged).
fn add_step(g: &mut Graph, s: &Step) {
    let nv = g.num_values();
    let x = ValueId((s.x % nv) as u32);
    let tx = g.ty(x).clone();
    let rank = tx.rank();
    let [a, b, c, d] = s.n;
    let axis = if rank == 0 { 0 } else { (a as usize) % rank };
    // A value of the same type as `x` when one exists (for binary ops), else `x` itself.
    let same = (0..nv as u32).map(ValueId).filter(|&v| g.ty(v) == &tx).nth(b as usize % 3).unwrap_or(x);
    let scalar_of = |g: &mut Graph, dtype: DType| {
        let lit = random_literal(dtype, &[], c);
        g.add1(Op::Constant(Arc::new(lit)), &[], None).ok()
    };
    let _ = match s.kind % 20 {
        0 => g.add(Op::Unary(UnaryOp::ALL[a as usize % UnaryOp::ALL.len()]), &[x], None),
        1 => g.add(Op::Binary(BinaryOp::ALL[a as usize % BinaryOp::ALL.len()]), &[x, same], None),
        2 => {
            let Ok(p) = g.add1(Op::Binary(BinaryOp::Lt), &[x, same], None) else { return };
            g.add(Op::Select, &[p, same, x], None)
        }
        3 => g.add(Op::Convert { dtype: dtype_of(a) }, &[x], None),
        4 => g.add(Op::BitcastConvert { dtype: dtype_of(a) }, &[x], None),
        5 => {
            let mut dims = vec![(b % 3) as usize];
            dims.extend_from_slice(tx.dims());
            g.add(
                Op::BroadcastInDim { shape: Shape::from(dims), broadcast_dimensions: (1..=rank).collect() },
                &[x],
                None,
            )
        }
        6 => g.add(Op::Reshape { shape: Shape::from([tx.shape.numel(), 1]) }, &[x], None),
        7 => g.add(Op::Transpose { permutation: (0..rank).rev().collect() }, &[x], None),
        8 => {
            let start: Vec<usize> = tx.dims().iter().map(|&d| if d > 0 { (b as usize) % d } else { 0 }).collect();
            let strides = (0..rank).map(|i| 1 + ((c >> i) % 3) as usize).collect();
            g.add(Op::Slice { start, limit: tx.dims().to_vec(), strides }, &[x], None)
        }
        9 => g.add(Op::Concatenate { dimension: axis }, &[x, same, x], None),
        10 => {
            let Some(v) = scalar_of(g, tx.dtype) else { return };
            let low = (0..rank).map(|i| ((b >> (4 * i)) % 4) as i64 - 1).collect();
            let high = (0..rank).map(|i| ((c >> (4 * i)) % 4) as i64 - 1).collect();
            let interior = (0..rank).map(|i| ((d >> (4 * i)) % 3) as usize).collect();
            g.add(Op::Pad { low, high, interior }, &[x, v], None)
        }
        11 => g.add(Op::Rev { dimensions: (0..rank).filter(|i| (b >> i) & 1 == 1).collect() }, &[x], None),
        12 => {
            let op = [ReduceOp::Sum, ReduceOp::Prod, ReduceOp::Max, ReduceOp::Min][b as usize % 4];
            g.add(Op::Reduce { op, axes: (0..rank).filter(|i| (c >> i) & 1 == 1).collect() }, &[x], None)
        }
        13 => {
            let op = if b % 2 == 0 { ArgReduceOp::ArgMax } else { ArgReduceOp::ArgMin };
            g.add(
                Op::ArgReduce { op, axis, index_dtype: [DType::I32, DType::U32, DType::I64][c as usize % 3] },
                &[x],
                None,
            )
        }
        14 => {
            let dims = if rank >= 2 && b % 2 == 0 {
                DotDims {
                    lhs_contracting: vec![rank - 1],
                    rhs_contracting: vec![rank - 1],
                    lhs_batch: vec![0],
                    rhs_batch: vec![0],
                }
            } else if rank >= 1 {
                DotDims { lhs_contracting: vec![axis], rhs_contracting: vec![axis], ..DotDims::default() }
            } else {
                DotDims::default()
            };
            g.add(Op::DotGeneral(dims), &[x, same], None)
        }
        15 => {
            let Ok(u) = g.add1(Op::Convert { dtype: DType::U32 }, &[x], None) else { return };
            g.add(Op::Threefry2x32, &[u, u, u, u], None)
        }
        16 => g.add(Op::IntegerPow { exponent: (a % 7) as i32 - 3 }, &[x], None),
        17 => g.add(Op::StopGradient, &[x], None),
        18 => {
            let lit = random_literal(dtype_of(a), &small_dims(b), c);
            g.add(Op::Constant(Arc::new(lit)), &[], None)
        }
        _ => {
            let dims = small_dims(b);
            let dimension = if dims.is_empty() { 0 } else { (c as usize) % dims.len() };
            g.add(Op::Iota { dtype: dtype_of(a), shape: Shape::from(dims), dimension }, &[], None)
        }
    };
}

fn random_graph() -> impl Strategy<Value = Graph> {
    let param = (any::<u64>(), 0u64..6).prop_map(|(n, d)| TensorType::new(dtype_of(d), small_dims(n)));
    let step = (any::<u8>(), any::<usize>(), any::<[u64; 4]>()).prop_map(|(kind, x, n)| Step { kind, x, n });
    (
        prop::collection::vec(param, 1..4),
        prop::collection::vec(step, 0..40),
        prop::collection::vec(any::<usize>(), 0..4),
    )
        .prop_map(|(params, steps, outs)| {
            let mut g = Graph::new();
            for t in params {
                g.add_parameter(t);
            }
            for s in &steps {
                add_step(&mut g, s);
            }
            let n = g.num_values();
            g.set_outputs(outs.into_iter().map(|o| ValueId((o % n) as u32)).collect());
            g
        })
}

/// Tokens that make mutated text interesting to the parser.
const VOCAB: &[&str] = &[
    "a",
    "b",
    "in",
    "let",
    "lambda",
    ";",
    ".",
    ":",
    ",",
    "=",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "-",
    "#",
    "\n",
    "f32",
    "u32",
    "bool",
    "0",
    "1",
    "-1",
    "3",
    "1.5",
    "nan",
    "-inf",
    "1e400",
    "18446744073709551615",
    "9223372036854775807",
    "99999999999999999999999999999999999999999",
    "(((",
    ")))",
    "add",
    "constant",
    "pad",
    "concatenate",
    "dot_general",
    "threefry2x32",
    "value=[",
    "shape=(",
    "é",
    "\u{0}",
];

#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, usize),
    Replace(usize, usize),
    DupLine(usize),
    /// Replaces the `.0`-th run of digits with `NUMBERS[.1]` (so the text stays well formed but sizes go wild).
    Number(usize, usize),
}

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "5",
    "2147483648",
    "4294967295",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
];

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut t: Vec<char> = text.chars().collect();
    for e in edits {
        let n = t.len().max(1);
        match *e {
            Edit::Delete(at, len) => {
                let at = at % n;
                let end = (at + len % 8).min(t.len());
                if at < end {
                    t.drain(at..end);
                }
            }
            Edit::Insert(at, v) => {
                let at = at % (t.len() + 1);
                let tok: Vec<char> = VOCAB[v % VOCAB.len()].chars().collect();
                t.splice(at..at, tok);
            }
            Edit::Replace(at, v) => {
                if !t.is_empty() {
                    let at = at % t.len();
                    let tok: Vec<char> = VOCAB[v % VOCAB.len()].chars().collect();
                    t.splice(at..at + 1, tok);
                }
            }
            Edit::Number(at, v) => {
                let runs: Vec<(usize, usize)> = (0..t.len())
                    .filter(|&i| t[i].is_ascii_digit() && (i == 0 || !t[i - 1].is_ascii_digit()))
                    .map(|i| (i, (i..t.len()).find(|&j| !t[j].is_ascii_digit()).unwrap_or(t.len())))
                    .collect();
                if !runs.is_empty() {
                    let (start, end) = runs[at % runs.len()];
                    t.splice(start..end, NUMBERS[v % NUMBERS.len()].chars());
                }
            }
            Edit::DupLine(at) => {
                let s: String = t.iter().collect();
                let lines: Vec<&str> = s.split('\n').collect();
                let i = at % lines.len();
                let mut out = lines.clone();
                out.insert(i, lines[i]);
                t = out.join("\n").chars().collect();
            }
        }
    }
    t.into_iter().collect()
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Delete(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Insert(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Replace(a, b)),
        any::<usize>().prop_map(Edit::DupLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Number(a, b)),
    ]
}

/// Whatever parses must be a verified graph that round-trips itself.
fn check_parsed(text: &str) {
    match parse(text) {
        Ok(g) => {
            g.verify().unwrap();
            let printed = print(&g);
            let again = parse(&printed).unwrap();
            assert_eq!(print(&again), printed);
        }
        Err(Error::Parse { line, column, message }) => {
            assert!(line >= 1 && column >= 1 && !message.is_empty());
            assert!(line <= text.split('\n').count(), "line {line} out of range: {message}");
        }
        Err(e) => panic!("not a parse error: {e:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_graphs_round_trip(g in random_graph()) {
        g.verify().unwrap();
        round_trip(&g);
    }

    #[test]
    fn mutated_programs_never_panic(g in random_graph(), edits in prop::collection::vec(edit(), 1..6)) {
        check_parsed(&apply(&print(&g), &edits));
    }

    #[test]
    fn random_text_never_panics(text in "[a-z0-9_:;.,=(){}\\[\\]# \n-]{0,200}") {
        check_parsed(&text);
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check_parsed(&text);
    }

    #[test]
    fn random_token_sequences_never_panic(toks in prop::collection::vec(0..VOCAB.len(), 0..60)) {
        let text: Vec<&str> = toks.into_iter().map(|i| VOCAB[i]).collect();
        check_parsed(&format!("{{ lambda ; a:f32[3] b:u32[]. let {} in (a,) }}", text.join(" ")));
        check_parsed(&text.join(" "));
    }
}
