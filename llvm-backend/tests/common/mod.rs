//! Shared helpers of the differential tests: compile one graph with both the LLVM CPU backend and the reference
//! interpreter, run both on the same inputs, and compare the outputs under a per-output [`Tol`]erance.
//!
//! # Tolerances
//!
//! - [`Tol::Exact`]: bit-identical, except that every NaN equals every NaN (payloads and NaN signs are not
//!   compared). `+0` and `-0` differ. Used for everything integer or bool, layout ops, the correctly rounded float
//!   ops (add, sub, mul, div, rem, min, max, sqrt, rsqrt, floor, ceil, abs, neg, sign), comparisons, conversions,
//!   select, float max/min/product reductions (folded sequentially in row-major order of the reduced dimensions by
//!   both backends, or exact in any order), and integer and bool reductions.
//! - Transcendental functions (exp, expm1, log, log1p, tanh, logistic, erf, erf_inv, sin, cos, pow, atan2, round)
//!   are exact too: the compiled code and the interpreter evaluate the same algorithm text (`jit_runtime::math`,
//!   emitted by `llvm_backend::math`) with the same IEEE operations ([`MATH_IS_SHARED`]). Should the two ever be
//!   implemented apart again, [`ulp_tolerance_unary`] holds the table to compare them with instead ([`Tol::Ulp`]).
//! - [`Tol::Ulp`]: NaN must match NaN and an infinity must be the same infinity; finite results may differ by the
//!   given number of units in the last place (distance in the ordered integer representation, so it also works
//!   across zero and in the subnormal range).
//! - [`Tol::Bound`]: float `dot_general`, whose GEMM accumulates in another order (and with fused multiply-adds):
//!   element `i` may differ by `bound[i]`, which [`dot_bound`] computes as `2·(k+2)·eps·Σ|a||b|` from the
//!   operands (the classic bound on a length-`k` inner product is `k·eps·Σ|a||b|` to first order; the factor 2 covers
//!   both computations' error). Non-finite results must match as for `Ulp`, except where `Σ|a||b|` exceeds the
//!   dtype's largest value (bound `+inf`): there the order of summation (and whether a product is rounded before it
//!   is added) decides between a finite value, an infinity and NaN, so the element is not compared. A bound of 0
//!   accepts `-0` for `+0`.
//! - Float **sum** reductions: the compiled code lets LLVM reassociate the accumulating add (vector lanes times
//!   interleaved partial sums), so only the interpreter sums in row-major order. [`sum_bound`] gives each element
//!   `2·(n+2)·eps·Σ|x|` over its `n` reduced elements (any summation order is within `(n-1)·(eps/2)·Σ|x|` of the
//!   exact sum), as a [`Tol::Bound`]; [`reduction_tols`] applies it to every output that is a float sum. Only finite
//!   `|x|` count: infinities and NaN propagate the same way in any order, so those results must match, unless the
//!   finite magnitudes could overflow (`Σ|x|` above half the dtype's largest value: bound `+inf`, not compared).
//! - [`Tol::Abs`]: one absolute bound for every element (random programs, whose float sums may be moved by layout
//!   ops before they are compared); non-finite results must match, `+inf` compares nothing, and a zero must have
//!   the sign of the interpreter's.

#![allow(dead_code)]

use std::sync::Arc;

use jit_runtime::backend::{Backend, CompileOptions, Device, Executable, InterpreterBackend};
use jit_runtime::ir::{Graph, Op, TensorType, UnaryOp, ValueId};
use jit_runtime::{DType, HostData, Literal, Shape};
use llvm_backend::LlvmCpuBackend;

/// How closely a compiled output must match the interpreter's (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub enum Tol {
    /// Bit-identical (NaN equals NaN).
    Exact,
    /// Within this many units in the last place.
    Ulp(u64),
    /// Element `i` within `bound[i]` (absolute).
    Bound(Vec<f64>),
    /// Every element within this absolute bound.
    Abs(f64),
}

impl Tol {
    /// The looser of two tolerances (used when an output is reached through several ops).
    pub fn max(self, other: Tol) -> Tol {
        match (self, other) {
            (Tol::Exact, t) | (t, Tol::Exact) => t,
            (Tol::Ulp(a), Tol::Ulp(b)) => Tol::Ulp(a.max(b)),
            (Tol::Abs(a), Tol::Abs(b)) => Tol::Abs(a.max(b)),
            // An ulp bound and an absolute one do not combine: compare nothing but the type.
            (Tol::Abs(_), Tol::Ulp(_)) | (Tol::Ulp(_), Tol::Abs(_)) => Tol::Abs(f64::INFINITY),
            (Tol::Bound(b), _) | (_, Tol::Bound(b)) => Tol::Bound(b),
        }
    }
}

/// True while the compiled transcendental functions and the interpreter's share one algorithm text and so give the
/// same bits (since `llvm_backend::math` landed): [`op_tolerance`] is then exact for every op.
pub const MATH_IS_SHARED: bool = true;

/// Per-op ulp tolerance of the transcendental functions, for `f32` and `f64`, over normal inputs: what two
/// separate implementations of about 1.5 ulp each (the measured accuracy of `jit_runtime::math`, see
/// `llvm-backend/src/math/README.md`) may differ by.
///
/// | op | f32 | f64 |
/// |---|---|---|
/// | exp, expm1, log, log1p, tanh, logistic, sin, cos | 4 | 4 |
/// | erf | 4 | 4 |
/// | erf_inv | 8 | 8 |
/// | pow, atan2 | 4 | 4 |
/// | round | 0 | 0 |
///
/// `sin`/`cos` are compared with this bound for `|x| <= 1e5` only (see [`in_ulp_domain`]); beyond that only the
/// NaN/infinity classification must match. Every other op is exact.
pub fn ulp_tolerance_unary(op: UnaryOp) -> Tol {
    match op {
        UnaryOp::Exp
        | UnaryOp::Expm1
        | UnaryOp::Log
        | UnaryOp::Log1p
        | UnaryOp::Tanh
        | UnaryOp::Logistic
        | UnaryOp::Sin
        | UnaryOp::Cos
        | UnaryOp::Erf
        | UnaryOp::Erfc => Tol::Ulp(4),
        UnaryOp::ErfInv => Tol::Ulp(8),
        _ => Tol::Exact,
    }
}

/// [`ulp_tolerance_unary`] for binary ops: `pow` and `atan2` 4 ulp, the rest exact.
pub fn ulp_tolerance_binary(op: jit_runtime::ir::BinaryOp) -> Tol {
    use jit_runtime::ir::BinaryOp;
    match op {
        BinaryOp::Pow | BinaryOp::Atan2 => Tol::Ulp(4),
        _ => Tol::Exact,
    }
}

/// The tolerance of one op's result: exact for integers and bool, and for floats too while [`MATH_IS_SHARED`];
/// else the ulp table.
pub fn op_tolerance(op: &Op, dtype: DType) -> Tol {
    if !dtype.is_float() || MATH_IS_SHARED {
        return Tol::Exact;
    }
    match op {
        Op::Unary(u) => ulp_tolerance_unary(*u),
        Op::Binary(b) => ulp_tolerance_binary(*b),
        _ => Tol::Exact,
    }
}

/// Inputs outside which an ulp bound is not meaningful for an op (huge arguments of sin/cos, whose argument
/// reduction differs between implementations): there only NaN/infinity classification is compared.
pub fn in_ulp_domain(op: Option<UnaryOp>, x: f64) -> bool {
    match op {
        Some(UnaryOp::Sin | UnaryOp::Cos) => x.abs() <= 1e5,
        _ => true,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Compiling and running
// ---------------------------------------------------------------------------------------------------------------

/// Compile options for a graph with `n` parameters, none donated.
pub fn options(name: &str, n: usize) -> CompileOptions {
    CompileOptions { name: name.to_string(), donated: vec![false; n], device: Device::CPU }
}

/// Compiles with the LLVM CPU backend.
pub fn compile_llvm(graph: &Graph, name: &str) -> jit_runtime::Result<Arc<dyn Executable>> {
    LlvmCpuBackend.compile(graph, &options(name, graph.params().len()))
}

/// How long one compile and run of a test program may take before it counts as hung.
pub const WATCHDOG: std::time::Duration = std::time::Duration::from_secs(60);

/// Compiles `graph` with the LLVM CPU backend and runs it on each input set, on a worker thread watched by
/// [`WATCHDOG`], so that a hang in compilation or in the generated code fails the test instead of blocking it (the
/// hung thread is left behind). Errors and panics come back as text.
pub fn llvm_outputs(
    graph: &Graph,
    name: &str,
    input_sets: Vec<Vec<Arc<Literal>>>,
) -> Result<Vec<Vec<Arc<Literal>>>, String> {
    llvm_outputs_donated(graph, name, vec![false; graph.params().len()], input_sets)
}

/// [`llvm_outputs`] compiled with some parameters donated (their inputs may become outputs' buffers when the
/// caller holds the only reference).
pub fn llvm_outputs_donated(
    graph: &Graph,
    name: &str,
    donated: Vec<bool>,
    input_sets: Vec<Vec<Arc<Literal>>>,
) -> Result<Vec<Vec<Arc<Literal>>>, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (g, n) = (graph.clone(), name.to_string());
    std::thread::spawn(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let opts = CompileOptions { name: n.clone(), donated, device: Device::CPU };
            let exe = LlvmCpuBackend.compile(&g, &opts).map_err(|e| format!("LLVM compile failed: {e}"))?;
            input_sets
                .into_iter()
                .map(|inputs| exe.run(inputs).map_err(|e| format!("LLVM run failed: {e}")))
                .collect::<Result<Vec<_>, String>>()
        }));
        let _ = tx.send(result.unwrap_or_else(|_| Err("the LLVM backend panicked".to_string())));
    });
    rx.recv_timeout(WATCHDOG)
        .unwrap_or_else(|_| Err(format!("LLVM compile and run did not finish in {} s (hung)", WATCHDOG.as_secs())))
}

/// Compiles with the interpreter backend.
pub fn compile_interp(graph: &Graph, name: &str) -> jit_runtime::Result<Arc<dyn Executable>> {
    InterpreterBackend.compile(graph, &options(name, graph.params().len()))
}

/// Runs `graph` on both backends and compares output `i` under `tols[i]` (the last tolerance repeats). On a
/// mismatch the message shows the graph, the output, and the first differing elements with the inputs' elements at
/// the same position when the shapes allow.
pub fn check(name: &str, graph: &Graph, inputs: &[Arc<Literal>], tols: &[Tol]) -> Result<(), String> {
    check_in_domain(name, graph, inputs, tols, None)
}

/// [`check`] for graphs whose output `i` is `op` applied to input `i`: the ulp bound applies where the input is in
/// the op's domain ([`in_ulp_domain`]).
pub fn check_in_domain(
    name: &str,
    graph: &Graph,
    inputs: &[Arc<Literal>],
    tols: &[Tol],
    domain_op: Option<UnaryOp>,
) -> Result<(), String> {
    check_many(name, graph, &[inputs.to_vec()], tols, domain_op)
}

/// [`check_in_domain`] for several input sets, compiling once.
pub fn check_many(
    name: &str,
    graph: &Graph,
    input_sets: &[Vec<Arc<Literal>>],
    tols: &[Tol],
    domain_op: Option<UnaryOp>,
) -> Result<(), String> {
    let fail = |what: String| format!("[{name}] {what}\n  graph: {graph}");
    let got_sets = llvm_outputs(graph, name, input_sets.to_vec()).map_err(fail)?;
    for (inputs, got) in input_sets.iter().zip(got_sets) {
        let want = compile_interp(graph, name)
            .and_then(|e| e.run(inputs.to_vec()))
            .map_err(|e| fail(format!("interpreter failed: {e}")))?;
        if got.len() != want.len() {
            return Err(fail(format!("{} outputs, interpreter gave {}", got.len(), want.len())));
        }
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let tol = tols.get(i).or(tols.last()).cloned().unwrap_or(Tol::Exact);
            let domain: Option<Vec<bool>> = match (domain_op, inputs.get(i)) {
                (Some(op), Some(x)) if x.shape() == w.shape() => Some(
                    (0..x.data().len()).map(|k| in_ulp_domain(Some(op), x.data().get_f64(k).unwrap_or(0.0))).collect(),
                ),
                _ => None,
            };
            compare(g, w, &tol, domain.as_deref()).map_err(|m| {
                let ins: Vec<String> = inputs.iter().map(|x| format!("{}{}", x.dtype(), x.shape())).collect();
                let mut msg = format!("output {i} ({}): {m}", graph.ty(graph.outputs()[i]));
                if let Some(pos) = bad_positions(g, w, &tol, domain.as_deref()).first().copied() {
                    for (k, x) in inputs.iter().enumerate() {
                        if x.shape() == w.shape() {
                            msg.push_str(&format!("\n    input {k} at {pos}: {}", element_text(x.data(), pos)));
                        }
                    }
                }
                fail(format!("{msg}\n  inputs: [{}]", ins.join(", ")))
            })?;
        }
    }
    Ok(())
}

/// Runs `graph` on `inputs` in the interpreter, then through `run` (another backend), and compares output `i`
/// under `tols[i]` (`None`: its dtype and shape only).
pub fn check_run_against_interpreter(
    graph: &Graph,
    inputs: &[Arc<Literal>],
    tols: &[Option<Tol>],
    run: impl FnOnce() -> Result<Vec<Arc<Literal>>, String>,
) -> Result<(), String> {
    let want = compile_interp(graph, "interp")
        .and_then(|e| e.run(inputs.to_vec()))
        .map_err(|e| format!("interpreter failed: {e}\n{graph}"))?;
    let got = run()?;
    if got.len() != want.len() {
        return Err(format!("{} outputs, interpreter {}\n{graph}", got.len(), want.len()));
    }
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let r = match tols.get(i).cloned().flatten() {
            Some(tol) => compare(g, w, &tol, None),
            None if g.dtype() == w.dtype() && g.shape() == w.shape() => Ok(()),
            None => Err("type differs".to_string()),
        };
        r.map_err(|m| format!("output {i} ({}): {m}\n{graph}", graph.ty(graph.outputs()[i])))?;
    }
    Ok(())
}

/// Runs a list of named checks, collecting every failure, and panics listing them all.
pub fn report(failures: Vec<String>) {
    if !failures.is_empty() {
        let n = failures.len();
        let shown: Vec<String> = failures.into_iter().take(12).collect();
        panic!("{n} case(s) failed:\n{}", shown.join("\n\n"));
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Comparing
// ---------------------------------------------------------------------------------------------------------------

/// Position in the IEEE total order as an integer (so that adjacent floats differ by 1; `-0` and `+0` both 0).
fn ordered_f32(x: f32) -> i64 {
    let b = x.to_bits();
    if b >> 31 == 1 { -i64::from(b & 0x7fff_ffff) } else { i64::from(b) }
}

fn ordered_f64(x: f64) -> i128 {
    let b = x.to_bits();
    if b >> 63 == 1 { -i128::from(b & 0x7fff_ffff_ffff_ffff) } else { i128::from(b) }
}

/// Units in the last place between two finite floats of one dtype.
pub fn ulps_f32(a: f32, b: f32) -> u64 {
    (ordered_f32(a) - ordered_f32(b)).unsigned_abs()
}

pub fn ulps_f64(a: f64, b: f64) -> u64 {
    u64::try_from((ordered_f64(a) - ordered_f64(b)).unsigned_abs()).unwrap_or(u64::MAX)
}

/// Does one element pair agree under `tol` (element index `i` for `Bound`; `in_domain` false relaxes `Ulp` to the
/// classification)?
fn element_ok_f64(g: f64, w: f64, ulps: u64, tol: &Tol, i: usize, in_domain: bool, bits_equal: bool) -> bool {
    if bits_equal || (g.is_nan() && w.is_nan()) {
        return true;
    }
    match tol {
        Tol::Exact => false,
        // The magnitudes overflow: the summation order decides between finite values, infinities and NaN.
        Tol::Bound(b) if b.get(i).is_some_and(|x| *x == f64::INFINITY) => true,
        Tol::Abs(b) if *b == f64::INFINITY => true,
        // NaN-ness and infinities must match (equal values were accepted above).
        _ if g.is_nan() || w.is_nan() || g.is_infinite() || w.is_infinite() => false,
        Tol::Ulp(_) if !in_domain => true,
        Tol::Ulp(n) => ulps <= *n,
        Tol::Bound(b) => (g - w).abs() <= b.get(i).copied().unwrap_or(0.0),
        Tol::Abs(_) if g == 0.0 && w == 0.0 => false, // zeros of different signs (equal bits returned above)
        Tol::Abs(b) => (g - w).abs() <= *b,
    }
}

/// Compares two outputs; `domain[i]` false relaxes the ulp check of element `i`.
pub fn compare(got: &Literal, want: &Literal, tol: &Tol, domain: Option<&[bool]>) -> Result<(), String> {
    if got.dtype() != want.dtype() || got.shape() != want.shape() {
        return Err(format!(
            "type {}{} but the interpreter gave {}{}",
            got.dtype(),
            got.shape(),
            want.dtype(),
            want.shape()
        ));
    }
    let bad = bad_positions(got, want, tol, domain);
    if bad.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = bad
        .iter()
        .take(6)
        .map(|&i| format!("[{i}] got {} want {}", element_text(got.data(), i), element_text(want.data(), i)))
        .collect();
    Err(format!("{} of {} elements differ ({tol:?}): {}", bad.len(), want.data().len(), shown.join(", ")))
}

fn bad_positions(got: &Literal, want: &Literal, tol: &Tol, domain: Option<&[bool]>) -> Vec<usize> {
    let in_dom = |i: usize| domain.and_then(|d| d.get(i).copied()).unwrap_or(true);
    let mut bad = Vec::new();
    match (got.data(), want.data()) {
        (HostData::F32(g), HostData::F32(w)) => {
            for (i, (&a, &b)) in g.iter().zip(w).enumerate() {
                let eq = a.to_bits() == b.to_bits();
                if !element_ok_f64(a as f64, b as f64, ulps_f32(a, b), tol, i, in_dom(i), eq) {
                    bad.push(i);
                }
            }
        }
        (HostData::F64(g), HostData::F64(w)) => {
            for (i, (&a, &b)) in g.iter().zip(w).enumerate() {
                let eq = a.to_bits() == b.to_bits();
                if !element_ok_f64(a, b, ulps_f64(a, b), tol, i, in_dom(i), eq) {
                    bad.push(i);
                }
            }
        }
        (g, w) => {
            for i in 0..w.len() {
                if element_text(g, i) != element_text(w, i) {
                    bad.push(i);
                }
            }
        }
    }
    bad
}

/// Element `i` as text, floats with their bits.
pub fn element_text(d: &HostData, i: usize) -> String {
    match d {
        HostData::F32(v) => v.get(i).map_or("-".into(), |x| format!("{x:e} ({:#010x})", x.to_bits())),
        HostData::F64(v) => v.get(i).map_or("-".into(), |x| format!("{x:e} ({:#018x})", x.to_bits())),
        HostData::I32(v) => v.get(i).map_or("-".into(), |x| x.to_string()),
        HostData::U32(v) => v.get(i).map_or("-".into(), |x| x.to_string()),
        HostData::I64(v) => v.get(i).map_or("-".into(), |x| x.to_string()),
        HostData::Bool(v) => v.get(i).map_or("-".into(), |x| x.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------------------------

/// A small deterministic generator (splitmix64) for test data.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }

    pub fn bool(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }
}

/// Float edge values: signed zeros, subnormals, the extremes, infinities, NaNs, halves (for `round`), and values
/// around the domains' edges (`±1` for `erf_inv`, `-1` for `log1p`, overflow of `exp`).
pub fn special_f32() -> Vec<f32> {
    vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.5,
        -2.5,
        1.5,
        3.0,
        -7.25,
        0.1,
        1e-3,
        100.0,
        -1e4,
        88.5,
        -104.0,
        1e30,
        -1e30,
        f32::MAX,
        f32::MIN,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        f32::from_bits(1),
        -f32::from_bits(1),
        f32::from_bits(0x007f_ffff),
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        0.999_999_9,
        -0.75,
        16_777_217.0,
        2_147_483_648.0,
        -2_147_483_904.0,
        4_294_967_296.0,
        1e19,
        -9.3e18,
    ]
}

pub fn special_f64() -> Vec<f64> {
    vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.5,
        -2.5,
        1.5,
        3.0,
        -7.25,
        0.1,
        1e-3,
        100.0,
        -1e4,
        709.5,
        -745.5,
        1e300,
        -1e300,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        f64::from_bits(1),
        -f64::from_bits(1),
        f64::from_bits(0x000f_ffff_ffff_ffff),
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        0.999_999_999_999,
        -0.75,
        9_007_199_254_740_993.0,
        2_147_483_648.5,
        -2_147_483_649.0,
        4_294_967_296.0,
        9.3e18,
        -9.3e18,
        1.5e38,
        3.5e38,
    ]
}

pub fn special_i32() -> Vec<i32> {
    vec![
        0,
        1,
        -1,
        2,
        -2,
        3,
        -3,
        7,
        31,
        32,
        33,
        -31,
        -32,
        63,
        64,
        i32::MIN,
        i32::MAX,
        i32::MIN + 1,
        i32::MAX - 1,
        100,
        -100,
        65_536,
        -65_537,
    ]
}

pub fn special_u32() -> Vec<u32> {
    vec![0, 1, 2, 3, 7, 31, 32, 33, 63, 64, u32::MAX, u32::MAX - 1, 0x8000_0000, 0x7fff_ffff, 100, 65_536, 0xffff_ffe1]
}

pub fn special_i64() -> Vec<i64> {
    vec![
        0,
        1,
        -1,
        2,
        -2,
        3,
        -3,
        7,
        31,
        32,
        63,
        64,
        65,
        -63,
        -64,
        i64::MIN,
        i64::MAX,
        i64::MIN + 1,
        i64::MAX - 1,
        i64::from(i32::MIN),
        i64::from(u32::MAX),
        -100,
        1 << 40,
        -(1 << 53) - 1,
    ]
}

/// How the elements of generated data are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// Edge values first, then random values. With `S` edge values, position `i = q·S + r` of the first `S²`
    /// positions (`square`) or `S` positions takes edge value `(a·q + b·r) mod S`: two arrays with `(a, b) = (0, 1)`
    /// and `(1, 7)` meet every pair of edge values in their first `S²` positions.
    Special { a: usize, b: usize, square: bool },
    /// Random values of moderate size only (no NaN, inf or extremes).
    Moderate,
    /// Small integers in `-8..=8` (exact in every dtype and in any summation order of short dot products).
    SmallInt,
}

impl Fill {
    /// Edge values once, then random values: for unary ops.
    pub const UNARY: Fill = Fill::Special { a: 0, b: 1, square: false };
    /// First operand of a binary op (see [`Fill::Special`]).
    pub const LHS: Fill = Fill::Special { a: 0, b: 1, square: true };
    /// Second operand of a binary op.
    pub const RHS: Fill = Fill::Special { a: 1, b: 7, square: true };
}

/// A random float of varied magnitude.
fn random_f64(rng: &mut Rng) -> f64 {
    match rng.below(8) {
        0 => rng.uniform(-1.0, 1.0),
        1 => (rng.uniform(-20.0, 20.0)).round() * 0.5,
        2 => rng.uniform(-1.0, 1.0) * 10f64.powi(rng.below(60) as i32 - 30),
        _ => rng.uniform(-10.0, 10.0),
    }
}

/// `n` values: edge values from `s` in the pattern of [`Fill::Special`], then `random()`.
fn edge_then_random<T: Copy>(s: &[T], n: usize, fill: Fill, mut random: impl FnMut() -> T) -> Vec<T> {
    let Fill::Special { a, b, square } = fill else { return (0..n).map(|_| random()).collect() };
    let len = s.len();
    let region = if square { len * len } else { len };
    (0..n).map(|i| if i < region { s[(a * (i / len) + b * (i % len)) % len] } else { random() }).collect()
}

/// `n` elements of `dtype` filled as `fill` says.
pub fn data(dtype: DType, n: usize, fill: Fill, rng: &mut Rng) -> HostData {
    match fill {
        Fill::SmallInt => {
            let v: Vec<i64> = (0..n).map(|_| rng.below(17) as i64 - 8).collect();
            from_i64s(dtype, &v)
        }
        Fill::Moderate => match dtype {
            DType::F32 => HostData::F32((0..n).map(|_| rng.uniform(-4.0, 4.0) as f32).collect()),
            DType::F64 => HostData::F64((0..n).map(|_| rng.uniform(-4.0, 4.0)).collect()),
            DType::Bool => HostData::Bool((0..n).map(|_| rng.bool()).collect()),
            _ => {
                let v: Vec<i64> = (0..n).map(|_| rng.below(2001) as i64 - 1000).collect();
                from_i64s(dtype, &v)
            }
        },
        Fill::Special { .. } => match dtype {
            DType::F32 => HostData::F32(edge_then_random(&special_f32(), n, fill, || random_f64(rng) as f32)),
            DType::F64 => HostData::F64(edge_then_random(&special_f64(), n, fill, || random_f64(rng))),
            DType::I32 => HostData::I32(edge_then_random(&special_i32(), n, fill, || {
                let s = rng.below(32);
                (rng.next_u64() as i32) >> s
            })),
            DType::U32 => HostData::U32(edge_then_random(&special_u32(), n, fill, || {
                let s = rng.below(32);
                (rng.next_u64() as u32) >> s
            })),
            DType::I64 => HostData::I64(edge_then_random(&special_i64(), n, fill, || {
                let s = rng.below(64);
                (rng.next_u64() as i64) >> s
            })),
            DType::Bool => HostData::Bool(edge_then_random(&[false, true], n, fill, || rng.bool())),
            _ => HostData::zeros(dtype, n),
        },
    }
}

fn from_i64s(dtype: DType, v: &[i64]) -> HostData {
    match dtype {
        DType::F32 => HostData::F32(v.iter().map(|&x| x as f32).collect()),
        DType::F64 => HostData::F64(v.iter().map(|&x| x as f64).collect()),
        DType::I32 => HostData::I32(v.iter().map(|&x| x as i32).collect()),
        DType::U32 => HostData::U32(v.iter().map(|&x| x as u32).collect()),
        DType::I64 => HostData::I64(v.to_vec()),
        DType::Bool => HostData::Bool(v.iter().map(|&x| x > 0).collect()),
        _ => HostData::zeros(dtype, v.len()),
    }
}

/// A literal of `dtype` and `dims` filled as `fill` says.
pub fn literal(dtype: DType, dims: &[usize], fill: Fill, rng: &mut Rng) -> Arc<Literal> {
    let n = dims.iter().product();
    Arc::new(Literal::new(data(dtype, n, fill, rng), Shape::from(dims)).expect("element count matches"))
}

/// A literal with edge values, then random values.
pub fn special(dtype: DType, dims: &[usize], rng: &mut Rng) -> Arc<Literal> {
    literal(dtype, dims, Fill::UNARY, rng)
}

// ---------------------------------------------------------------------------------------------------------------
// Graph building
// ---------------------------------------------------------------------------------------------------------------

/// A graph under construction, with panicking helpers (tests build only valid graphs).
#[derive(Default)]
pub struct Builder {
    pub g: Graph,
}

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    pub fn param(&mut self, dtype: DType, dims: &[usize]) -> ValueId {
        self.g.add_parameter(TensorType::new(dtype, dims))
    }

    pub fn op(&mut self, op: Op, inputs: &[ValueId]) -> ValueId {
        let text = format!("{op:?}");
        self.g.add1(op, inputs, None).unwrap_or_else(|e| panic!("building {text}: {e}"))
    }

    pub fn try_op(&mut self, op: Op, inputs: &[ValueId]) -> Option<ValueId> {
        self.g.add1(op, inputs, None).ok()
    }

    pub fn constant(&mut self, lit: Literal) -> ValueId {
        self.op(Op::Constant(Arc::new(lit)), &[])
    }

    pub fn finish(mut self, outputs: Vec<ValueId>) -> Graph {
        self.g.set_outputs(outputs);
        self.g.verify().unwrap_or_else(|e| panic!("test graph does not verify: {e}"));
        self.g
    }
}

/// The tolerance bound of a float `dot_general`: `2·(k+2)·eps·Σ|a||b|` per output element, computed by the
/// interpreter in `f64` from the operands' absolute values (see the module documentation).
pub fn dot_bound(dims: &jit_runtime::ir::DotDims, lhs: &Arc<Literal>, rhs: &Arc<Literal>) -> Vec<f64> {
    let eps = if lhs.dtype() == DType::F32 { f32::EPSILON as f64 } else { f64::EPSILON };
    let k: usize = dims.lhs_contracting.iter().map(|&d| lhs.shape()[d]).product();
    let mut b = Builder::new();
    let l = b.param(lhs.dtype(), lhs.shape());
    let r = b.param(rhs.dtype(), rhs.shape());
    let la = b.op(Op::Unary(UnaryOp::Abs), &[l]);
    let ra = b.op(Op::Unary(UnaryOp::Abs), &[r]);
    let lw = b.op(Op::Convert { dtype: DType::F64 }, &[la]);
    let rw = b.op(Op::Convert { dtype: DType::F64 }, &[ra]);
    let d = b.op(Op::DotGeneral(dims.clone()), &[lw, rw]);
    let g = b.finish(vec![d]);
    let out = jit_runtime::interp::run(&g, &[lhs.clone(), rhs.clone()]).expect("bound graph runs");
    let scale = 2.0 * (k as f64 + 2.0) * eps;
    let max = if lhs.dtype() == DType::F32 { f32::MAX as f64 } else { f64::MAX };
    out[0].to_vec::<f64>().expect("f64").into_iter().map(|s| if s > max { f64::INFINITY } else { s * scale }).collect()
}

/// The tolerance of a float sum reduction (see the module documentation): for the reduction of value `x` over
/// `axes` in `graph` run on `inputs`, `2·(n+2)·eps·Σ|x|` per output element over its `n` reduced elements, finite
/// `|x|` only, computed by the interpreter in `f64`; `+inf` where `Σ|x|` exceeds half the dtype's largest value.
pub fn sum_bound(graph: &Graph, x: ValueId, axes: &[usize], inputs: &[Arc<Literal>]) -> Vec<f64> {
    let ty = graph.ty(x).clone();
    let eps = if ty.dtype == DType::F32 { f32::EPSILON as f64 } else { f64::EPSILON };
    let max = if ty.dtype == DType::F32 { f32::MAX as f64 } else { f64::MAX };
    let n: usize = axes.iter().map(|&a| ty.dims()[a]).product();
    let mut g = graph.clone();
    let mut add = |op: Op, ins: &[ValueId]| g.add1(op, ins, None).expect("bound graph op");
    let a = add(Op::Unary(UnaryOp::Abs), &[x]);
    let inf = add(
        Op::Constant(Arc::new(
            Literal::new(HostData::full(ty.dtype, 1, f64::INFINITY), Shape::scalar()).expect("scalar"),
        )),
        &[],
    );
    let infb = add(Op::BroadcastInDim { shape: ty.shape.clone(), broadcast_dimensions: vec![] }, &[inf]);
    let finite = add(Op::Binary(jit_runtime::ir::BinaryOp::Lt), &[a, infb]);
    let zero =
        add(Op::Constant(Arc::new(Literal::new(HostData::zeros(ty.dtype, 1), Shape::scalar()).expect("scalar"))), &[]);
    let zerob = add(Op::BroadcastInDim { shape: ty.shape.clone(), broadcast_dimensions: vec![] }, &[zero]);
    let fa = add(Op::Select, &[finite, a, zerob]);
    let wide = add(Op::Convert { dtype: DType::F64 }, &[fa]);
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    let s = add(Op::Reduce { op: jit_runtime::ir::ReduceOp::Sum, axes: sorted }, &[wide]);
    g.set_outputs(vec![s]);
    let out = jit_runtime::interp::run(&g, inputs).expect("bound graph runs");
    let scale = 2.0 * (n as f64 + 2.0) * eps;
    out[0]
        .to_vec::<f64>()
        .expect("f64")
        .into_iter()
        .map(|s| if s > max / 2.0 { f64::INFINITY } else { s * scale })
        .collect()
}

/// Per output of `graph`: [`sum_bound`] as a [`Tol::Bound`] where the output is a float sum reduction, else
/// [`Tol::Exact`].
pub fn reduction_tols(graph: &Graph, inputs: &[Arc<Literal>]) -> Vec<Tol> {
    graph
        .outputs()
        .iter()
        .map(|&o| {
            let node = graph.node(graph.value(o).node);
            match &node.op {
                Op::Reduce { op: jit_runtime::ir::ReduceOp::Sum, axes } if graph.ty(o).dtype.is_float() => {
                    Tol::Bound(sum_bound(graph, node.inputs[0], axes, inputs))
                }
                _ => Tol::Exact,
            }
        })
        .collect()
}
