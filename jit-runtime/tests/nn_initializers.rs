//! `nn::initializers` against `jax.nn.initializers` (JAX 0.10, CPU): same key, shape and dtype, same numbers.
//!
//! The constants come from `tests/flax/known_answers.py` (run it with the JAX venv's Python and paste its output).
//! Every random initialiser is bit-exact: the uniform step is rounded once as XLA's fused multiply-add is, and
//! `erf_inv` uses XLA's f32 `log1p` recipe (see `jit_runtime::random`).

use jit_runtime::lift::Initializer;
use jit_runtime::nn::initializers::{self, Distribution, FanMode, Init};
use jit_runtime::{DType, Shape, Tensor, random};

mod known;
use known::assert_close;

fn run(init: &Init, shape: &[usize]) -> Tensor {
    init.init(&random::key(42), &Shape::from(shape), DType::F32)
}

/// shape (3, 4)
const INIT_NORMAL: [u32; 12] = [
    0xbd67df15, 0x3f6f2be8, 0x3f176661, 0x3e9d3b24, 0xbe7e04eb, 0x3ede211a, 0xc0386eb9, 0x3fc18009, 0x3f857b1a,
    0x3fe900ed, 0xbf44dcbd, 0x4011e5bb,
];
/// shape (3, 4)
const INIT_UNIFORM: [u32; 12] = [
    0x3fbbaa1b, 0x40028564, 0x3feca5f4, 0x3fd76e20, 0x3fad0c2b, 0x3fe0f8f5, 0x3e65d088, 0x4014d35b, 0x4006333e,
    0x401d2d7c, 0x3f868467, 0x402794da,
];
/// shape (3, 4)
const INIT_TRUNCATED_NORMAL: [u32; 12] = [
    0xbc5d51b4, 0x3e6385e2, 0x3e105231, 0x3d960635, 0xbd7267ef, 0x3dd3df8e, 0xbf286548, 0x3eb6f91c, 0x3e7dbd61,
    0x3edb42b9, 0xbe3b7b9b, 0x3f07ebec,
];
/// shape (2, 3)
const INIT_CONSTANT: [u32; 6] = [0xc0e00000, 0xc0e00000, 0xc0e00000, 0xc0e00000, 0xc0e00000, 0xc0e00000];
/// shape (3, 4)
const INIT_LECUN_NORMAL: [u32; 12] = [
    0xbc9143cb, 0x3e955636, 0x3e3d73ef, 0x3dc4f085, 0xbd9f1af9, 0x3e0b109f, 0xbf5d0e55, 0x3ef0312b, 0x3ea68b5d,
    0x3f0fe9e8, 0xbe761cb2, 0x3f326d3c,
];
/// shape (3, 4)
const INIT_LECUN_UNIFORM: [u32; 12] = [
    0xbcb8fb80, 0x3eb81cc0, 0x3e6e1fc0, 0x3df9ec00, 0xbdca28e0, 0x3e2fda70, 0xbf59b294, 0x3f0cde48, 0x3ecbbbf8,
    0x3f2323f4, 0xbe994998, 0x3f3ee244,
];
/// shape (3, 4)
const INIT_GLOROT_NORMAL: [u32; 12] = [
    0xbc867d35, 0x3e8a424c, 0x3e2f6636, 0x3db654a1, 0xbd934d8d, 0x3e00bfc5, 0xbf4ca877, 0x3ede5fe9, 0x3e9a30ad,
    0x3f053cfa, 0xbe63db04, 0x3f2530e7,
];
/// shape (3, 4)
const INIT_GLOROT_UNIFORM: [u32; 12] = [
    0xbcab42ad, 0x3eaa7473, 0x3e5c75c3, 0x3de761f9, 0xbdbb29da, 0x3e22cefa, 0xbf498c7d, 0x3f026b2f, 0x3ebc9f0b,
    0x3f1709e8, 0xbe8deaa8, 0x3f30b95f,
];
/// shape (3, 4)
const INIT_HE_NORMAL: [u32; 12] = [
    0xbccd6f7d, 0x3ed331b0, 0x3e85f6a2, 0x3e0b41de, 0xbde1024c, 0x3e44aae2, 0xbf9c4f69, 0x3f29d769, 0x3eeb8783,
    0x3f4b8654, 0xbeae070d, 0x3f7c555e,
];
/// shape (3, 4)
const INIT_HE_UNIFORM: [u32; 12] = [
    0xbd02cd65, 0x3f022fe3, 0x3ea8610d, 0x3e30b8b1, 0xbe0ef2cf, 0x3e78b1af, 0xbf99ef78, 0x3f4737c4, 0x3f100fd7,
    0x3f66b726, 0xbed8c7fe, 0x3f86f9ab,
];
/// shape (2, 3, 4, 5)
const INIT_VS_FAN_OUT_NORMAL_CONV: [u32; 120] = [
    0xbbef79cc, 0x3df703e9, 0x3d9c5d7b, 0x3d226333, 0xbd032cca, 0x3d656a06, 0xbebe7b28, 0x3e47d899, 0x3e09dbc3,
    0x3e70a525, 0xbdcb5187, 0x3e96aea3, 0x3ebf213b, 0x3e8ee4bd, 0xbc6e238f, 0x3e707e2a, 0x3e135c23, 0x3d67abcc,
    0xbebf7d5e, 0x3e4a0c41, 0xbd7f74b5, 0xbe9be95f, 0xbf002910, 0x3dbc63bf, 0xbd7f0105, 0x3ea0a321, 0xbeb87201,
    0xbe0d63fc, 0x3d8f2182, 0x3ecb99e0, 0x3e375d02, 0xbcdbb76e, 0xbe04cecb, 0x3e330b5d, 0x3cea775a, 0xbdb7e30c,
    0x3df08c76, 0x3d70f535, 0xbe1347c4, 0xbe6976dd, 0xbd61cb69, 0x3da2dfab, 0xbd45ffe6, 0x3cc60dec, 0x3dc5b484,
    0xbe8bc2de, 0x3dec321c, 0x3ea01081, 0x3de56f24, 0xbe3a12c5, 0x3d3a8cd0, 0xbd522543, 0xbd66aa66, 0x3ea9e850,
    0x3dc67b8d, 0xbd3c54cc, 0xbd7d9946, 0xbdd8b4ea, 0x3dc220f2, 0x3e9d098f, 0xbe894954, 0xbe5202e5, 0x3e8bf068,
    0xbdbf803f, 0xbc692aca, 0xbf07ac76, 0x3ec66e46, 0xbec1573f, 0x3caa940d, 0xbe5a4352, 0xbcf9bd5c, 0xbe6e9521,
    0x3e1513ad, 0xbe8a15f1, 0xbeb09e7c, 0x3ed862dc, 0x3c33b4e1, 0xbea3d184, 0xbd456c33, 0x3e21afbe, 0xbd86c48a,
    0x3eb001f3, 0x3e8b3ce3, 0x3e83401f, 0xbf0227b1, 0xbe0b5137, 0xbf194d49, 0x3e90d3a8, 0x3f1ef819, 0x3e422651,
    0x3e40ee04, 0xbe6e9547, 0xbe11fba1, 0x3de8ec7d, 0xbde870a1, 0x3ea377c2, 0xbd38b0c1, 0x3d363951, 0x3d954df0,
    0xbe84567b, 0x3ca29225, 0x3e55edde, 0xbd60335a, 0xbf05ead8, 0x3e14b028, 0x3e662a0e, 0xbbec1441, 0xbec450ec,
    0xbe39177a, 0xbe8aea5c, 0x3de7f7c2, 0x3e399dcd, 0xbdcf3e5b, 0x3e8d602b, 0x3d1127fe, 0xbdee3ec1, 0x3d75ed38,
    0x3db9b631, 0x3e1e7639, 0xbdc45b31,
];
/// shape (3, 2, 4, 5)
const INIT_VS_FAN_AVG_TRUNC_CONV: [u32; 120] = [
    0xbb88f4fe, 0x3d8ccbca, 0x3d329e2d, 0x3cb9ad28, 0xbc960188, 0x3d031c97, 0xbe5069e1, 0x3de2748d, 0x3d9d0502,
    0x3e07aee2, 0xbd680967, 0x3e2838ea, 0x3e51098e, 0x3e1fff4f, 0xbc082ffe, 0x3e0799a0, 0x3da7bc22, 0x3d04664f,
    0xbe516208, 0x3de4e5d3, 0xbd11f84a, 0xbe2db055, 0xbe83ffa7, 0x3d5711b3, 0xbd11b64d, 0x3e329626, 0xbe4a8e12,
    0xbda1016b, 0x3d238918, 0x3e5cc966, 0x3dd01cbc, 0xbc7b4686, 0xbd9750a6, 0x3dcb4a31, 0x3c861196, 0xbd51f2c3,
    0x3d892287, 0x3d09b2e9, 0xbda7a533, 0xbe03c281, 0xbd010bc7, 0x3d3a0810, 0xbce25b6d, 0x3c628226, 0x3d61a8a6,
    0xbe1ca9d4, 0x3d86ab50, 0x3e31febf, 0x3d82d660, 0xbdd3228d, 0x3cd547b9, 0xbcf03a03, 0xbd03d372, 0x3e3c1173,
    0x3d628ad5, 0xbcd75098, 0xbd10e919, 0xbd773cf9, 0x3d5d980c, 0x3e2edbf5, 0xbe1a04f9, 0xbdedb71c, 0x3e1cda65,
    0xbd5a9b5a, 0xbc055831, 0xbe88f643, 0x3e57f927, 0xbe532781, 0x3c431769, 0xbdf6d2c2, 0xbc8ecc7d, 0xbe068ec1,
    0x3da9ab37, 0xbe1adfd2, 0xbe42d181, 0x3e684df7, 0x3bcd8bad, 0xbe35dc1d, 0xbce1b2c2, 0x3db7d907, 0xbd19ffea,
    0x3e423523, 0x3e1c1add, 0x3e138930, 0xbe855fd2, 0xbd9eaa8b, 0xbe922fde, 0x3e220c39, 0x3e946f41, 0x3ddc20a0,
    0x3ddac54a, 0xbe068ed7, 0xbda62ef5, 0x3d84d0b4, 0xbd848a86, 0x3e357fff, 0xbcd32800, 0x3cd056af, 0x3d2a928b,
    0xbe14b519, 0x3c39ef56, 0x3df20b1c, 0xbd0022e2, 0xbe87db01, 0x3da93b23, 0x3e01f3c7, 0xbb8703b5, 0xbe55fb08,
    0xbdd20a56, 0xbe1bc2c4, 0x3d844602, 0x3dd2a01b, 0xbd6c7eb7, 0x3e1e622f, 0x3ca5fc52, 0xbd87d489, 0x3d0c88a7,
    0x3d540611, 0x3db439d6, 0xbd602039,
];
/// shape (6, 4)
const INIT_EMBED_DEFAULT: [u32; 24] = [
    0xbc67df15, 0x3e6f2be8, 0x3e176661, 0x3d9d3b24, 0xbd7e04eb, 0x3dde211a, 0xbf386eb9, 0x3ec18009, 0x3e857b1a,
    0x3ee900ed, 0xbe44dcbd, 0x3f11e5bb, 0x3f390f86, 0x3f0a5b26, 0xbce693b6, 0x3ee8db2f, 0x3e8eae3d, 0x3de05087,
    0xbf3968bc, 0x3ec3a1cb, 0xbdf75817, 0xbf16f5f5, 0xbf782e7a, 0x3e366851,
];

#[test]
fn deterministic_initialisers_are_exact() {
    assert_close("constant(-7)", &run(&initializers::constant(-7.0), &[2, 3]), &INIT_CONSTANT, 0);
    assert_eq!(run(&initializers::zeros(), &[2, 2]).to_vec::<f32>().unwrap(), vec![0.0; 4]);
    assert_eq!(run(&initializers::ones(), &[3]).to_vec::<f32>().unwrap(), vec![1.0; 3]);
    let ints = initializers::constant(-7.0).init(&random::key(0), &Shape::from([2]), DType::I32);
    assert_eq!(ints.to_vec::<i32>().unwrap(), vec![-7, -7]);
}

#[test]
fn uniform_initialisers_are_bit_exact() {
    assert_close("uniform(3)", &run(&initializers::uniform(3.0), &[3, 4]), &INIT_UNIFORM, 0);
    assert_close("lecun_uniform", &run(&initializers::lecun_uniform(), &[3, 4]), &INIT_LECUN_UNIFORM, 0);
    assert_close("glorot_uniform", &run(&initializers::glorot_uniform(), &[3, 4]), &INIT_GLOROT_UNIFORM, 0);
    assert_close("he_uniform", &run(&initializers::he_uniform(), &[3, 4]), &INIT_HE_UNIFORM, 0);
}

/// Name, initialiser, shape, JAX's bits, allowed ulps.
type Case = (&'static str, Init, &'static [usize], &'static [u32], u64);

#[test]
fn random_initialisers_match_jax() {
    let cases: [Case; 9] = [
        ("normal(2)", initializers::normal(2.0), &[3, 4], &INIT_NORMAL, 0),
        ("truncated_normal(0.5)", initializers::truncated_normal(0.5), &[3, 4], &INIT_TRUNCATED_NORMAL, 0),
        ("lecun_normal", initializers::lecun_normal(), &[3, 4], &INIT_LECUN_NORMAL, 0),
        ("glorot_normal", initializers::glorot_normal(), &[3, 4], &INIT_GLOROT_NORMAL, 0),
        ("he_normal", initializers::he_normal(), &[3, 4], &INIT_HE_NORMAL, 0),
        (
            "variance_scaling(2, fan_out, normal) conv",
            initializers::variance_scaling(2.0, FanMode::FanOut, Distribution::Normal),
            &[2, 3, 4, 5],
            &INIT_VS_FAN_OUT_NORMAL_CONV,
            0,
        ),
        (
            "variance_scaling(0.5, fan_avg, truncated_normal) conv",
            initializers::variance_scaling(0.5, FanMode::FanAvg, Distribution::TruncatedNormal),
            &[3, 2, 4, 5],
            &INIT_VS_FAN_AVG_TRUNC_CONV,
            0,
        ),
        (
            "variance_scaling(1, fan_in, normal, out_axis=0) (Embed's default)",
            initializers::variance_scaling(1.0, FanMode::FanIn, Distribution::Normal).out_axis([0]),
            &[6, 4],
            &INIT_EMBED_DEFAULT,
            0,
        ),
        ("uniform(3) as a case", initializers::uniform(3.0), &[3, 4], &INIT_UNIFORM, 0),
    ];
    let worst =
        cases.iter().map(|(name, init, shape, want, ulps)| assert_close(name, &run(init, shape), want, *ulps)).max();
    eprintln!("normal-based initialisers: max {} ulp from JAX", worst.unwrap_or(0));
}

#[test]
fn aliases_are_the_same_initialisers() {
    assert_eq!(initializers::xavier_normal(), initializers::glorot_normal());
    assert_eq!(initializers::xavier_uniform(), initializers::glorot_uniform());
    assert_eq!(initializers::kaiming_normal(), initializers::he_normal());
    assert_eq!(initializers::kaiming_uniform(), initializers::he_uniform());
    assert_ne!(initializers::lecun_normal(), initializers::lecun_normal().out_axis([0]));
    assert_ne!(initializers::normal(0.1), initializers::normal(0.1 + 1e-17));
    assert_eq!(initializers::normal(0.0), initializers::normal(0.0));
    assert_ne!(initializers::constant(0.0), initializers::constant(-0.0), "floats compare by bit pattern");
    use std::collections::HashSet;
    let set: HashSet<Init> = [initializers::he_normal(), initializers::kaiming_normal(), initializers::zeros()].into();
    assert_eq!(set.len(), 2);
}

#[test]
fn fans_that_do_not_exist_are_errors() {
    // JAX: "Can't compute input and output sizes of a 1-dimensional weights tensor with default in_axis."
    let e = run(&initializers::lecun_normal(), &[5]).to_vec::<f32>().unwrap_err().to_string();
    assert!(e.contains("1-dimensional") && e.contains("in_axis"), "{e}");
    let e = run(&initializers::glorot_uniform().out_axis([3]), &[2, 3]).to_vec::<f32>().unwrap_err().to_string();
    assert!(e.contains("out_axis 3"), "{e}");
    let e = run(&initializers::he_normal(), &[0, 3]).to_vec::<f32>().unwrap_err().to_string();
    assert!(e.contains("size 0"), "{e}");
    let e = initializers::normal(1.0).init(&random::key(0), &Shape::from([2]), DType::I32).to_vec::<i32>();
    assert!(e.unwrap_err().to_string().contains("float dtype"));
    // With explicit axes a 1-D shape works, as in JAX.
    let v = run(&initializers::lecun_normal().in_axis([0]).out_axis([0]), &[5]);
    assert_eq!(v.dims(), [5]);
}

#[test]
fn other_float_dtypes_are_sampled_in_f32_and_converted() {
    let f64s = initializers::he_uniform().init(&random::key(42), &Shape::from([3, 4]), DType::F64);
    let got: Vec<u32> = f64s.to_vec::<f64>().unwrap().iter().map(|&v| (v as f32).to_bits()).collect();
    assert_eq!(got, INIT_HE_UNIFORM);
}
