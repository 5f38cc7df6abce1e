//! Random programs compiled by the LLVM CPU backend and compared with the reference interpreter.
//!
//! proptest draws a list of numbers that drives a generator of random DAGs of 1 to 12 ops with valid random shapes
//! and dtypes, built through `Graph::add`, and random parameter data (edge values, moderate values or small
//! integers). Shrinking shortens and lowers the list, which gives smaller programs with simpler choices.
//!
//! The default run (CI) checks 2000 programs in two tests of 1000 (about 40 s on 2 cores); with
//! `LIFTED_JIT_LONG_TESTS=1` it checks 20000 (about 6.5 min). `LIFTED_JIT_RANDOM_CASES=n` sets the number per test,
//! `LIFTED_JIT_PRINT_PROGRAMS=1` prints every program (with `--nocapture`). A program still running after 20 s
//! (`LIFTED_JIT_SLOW_PROGRAM_SECS`) is printed on stderr at once, past the output capture, with its data and seed.
//! Random numbers (`uniform`, `normal`, `bernoulli`, `random_bits`) are traced from `jit_runtime::random` and
//! compiled; their bits must match the interpreter's.
//!
//! # Tolerances in random programs
//!
//! Every op is compared exactly (bit for bit, NaN equal to NaN): the transcendental functions too, as long as the
//! compiled code and the interpreter share their algorithms (`common::MATH_IS_SHARED`). Otherwise the ops of the ulp
//! table in `common` are probed at start: where the compiled code agrees with the interpreter bit for bit on a sweep
//! the op still counts as exact; elsewhere its result is compared within the ulp table, values only moved or
//! selected from it (layout ops, select, neg, abs, max, min) keep that tolerance, and values computed further from
//! it are not compared (an ulp of difference can become anything after a subtraction, a comparison or a conversion
//! to an integer).
//!
//! About a third of the programs donate some of their parameters, and the compiled code gets inputs only it holds
//! (deep copies), so that a donated buffer can really become an output's.
//!
//! Float `dot_general` goes to a GEMM that sums in another order, so its operands are kept exact for every order:
//! integers of magnitude at most 8, zero included (parameters filled so, moved by layout ops) against parameters of
//! the same kind, with short contractions; the sign of a zero result must match too (see
//! `ops.rs::gemm_sum_of_negative_zero_products_is_positive_zero`). Bitcasts from float to integer only read floats
//! that were not computed, since NaN payloads of computed NaNs are not specified.
//!
//! Float sum reductions are reassociated by the compiled code (vectorised partial sums): a sum of an exactly
//! compared value is compared within `Tol::Abs(b)`, `b` the largest [`sum_bound`] over its elements (one bound for
//! all elements, so that layout ops may move them), computed by the interpreter from the program so far when the
//! reduction is generated; values computed from it further are not compared, as for the ulp table above.

mod common;
mod programs;

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::*;
use jit_runtime::ir::{Op, TensorType, UnaryOp};
use jit_runtime::{DType, Literal};
use programs::{Program, random_program};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------------------------
// The watchdog
// ---------------------------------------------------------------------------------------------------------------

/// A program that runs longer than this (`LIFTED_JIT_SLOW_PROGRAM_SECS`, default 20) is printed on stderr while it
/// runs (past libtest's output capture), so that a run killed from outside (a CI time or memory limit) still shows
/// which program it was on, with the data and seed that give it again.
fn slow_program() -> Duration {
    let secs = std::env::var("LIFTED_JIT_SLOW_PROGRAM_SECS").ok().and_then(|v| v.parse().ok());
    Duration::from_secs_f64(secs.unwrap_or(20.0))
}

/// The programs running now, per test thread: when each started, its text, and whether it was reported.
type Running = Mutex<HashMap<std::thread::ThreadId, (Instant, String, bool)>>;

fn running() -> &'static Running {
    static RUNNING: OnceLock<Running> = OnceLock::new();
    RUNNING.get_or_init(|| {
        std::thread::spawn(|| {
            let slow = slow_program();
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let mut map = running().lock().unwrap_or_else(|e| e.into_inner());
                for (start, text, reported) in map.values_mut() {
                    if !*reported && start.elapsed() > slow {
                        *reported = true;
                        let msg = format!("random program still running after {:?}:\n{text}\n", start.elapsed());
                        let _ = std::io::stderr().write_all(msg.as_bytes());
                    }
                }
            }
        });
        Mutex::new(HashMap::new())
    })
}

/// Registers the program this thread runs until the guard drops.
struct Watched;

impl Watched {
    fn new(text: String) -> Watched {
        let mut map = running().lock().unwrap_or_else(|e| e.into_inner());
        map.insert(std::thread::current().id(), (Instant::now(), text, false));
        Watched
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        running().lock().unwrap_or_else(|e| e.into_inner()).remove(&std::thread::current().id());
    }
}

/// Generates the program of `data`, runs it on both backends and compares every output under its taint.
fn check_program(data: &[u32], seed: u64) -> Result<(), String> {
    let program = random_program(data, seed);
    let tols = program.tolerances();
    let Program { graph: g, inputs, taints, donated } = program;
    if std::env::var_os("LIFTED_JIT_PRINT_PROGRAMS").is_some() {
        eprintln!("{g}\n  taints {taints:?} donated {donated:?}");
    }
    let _watched = Watched::new(format!("{g}\n  donated {donated:?}, data {data:?}, seed {seed}"));
    let want = compile_interp(&g, "random")
        .and_then(|e| e.run(inputs.clone()))
        .map_err(|e| format!("interpreter failed: {e}\n{g}"))?;
    // Some programs donate some parameters; the compiled code then gets inputs that only it holds (deep copies), so
    // that a donated buffer can really become an output's.
    let own: Vec<Arc<Literal>> = inputs.iter().map(|x| Arc::new((**x).clone())).collect();
    let got = llvm_outputs_donated(&g, "random", donated.clone(), vec![own])
        .map_err(|e| format!("{e}\n{g}\ndonated {donated:?}"))?
        .remove(0);
    if got.len() != want.len() {
        return Err(format!("{} outputs, interpreter {}\n{g}", got.len(), want.len()));
    }
    for (i, ((gv, wv), tol)) in got.iter().zip(&want).zip(&tols).enumerate() {
        let tol = tol.clone().unwrap_or(Tol::Ulp(u64::MAX));
        let unchecked = tols[i].is_none();
        let r = if unchecked {
            if gv.dtype() == wv.dtype() && gv.shape() == wv.shape() { Ok(()) } else { Err("type differs".to_string()) }
        } else {
            compare(gv, wv, &tol, None)
        };
        r.map_err(|m| {
            let ins: Vec<String> =
                inputs.iter().map(|x| format!("{}{} {:?}", x.dtype(), x.shape(), preview(x))).collect();
            format!("output {i}: {m}\n{g}\ninputs:\n  {}", ins.join("\n  "))
        })?;
    }
    Ok(())
}

fn preview(x: &Literal) -> Vec<String> {
    (0..x.data().len().min(8)).map(|i| element_text(x.data(), i)).collect()
}

fn long_tests() -> bool {
    std::env::var_os("LIFTED_JIT_LONG_TESTS").is_some_and(|v| v != "0" && !v.is_empty())
}

/// 1000 programs per test by default (two tests run in parallel), 10000 with `LIFTED_JIT_LONG_TESTS=1`;
/// `LIFTED_JIT_RANDOM_CASES=n` sets the number per test. Shrinking a failure is bounded (each step compiles a
/// program) unless `PROPTEST_MAX_SHRINK_ITERS` or `PROPTEST_MAX_SHRINK_TIME` say otherwise.
fn config() -> ProptestConfig {
    let cases = std::env::var("LIFTED_JIT_RANDOM_CASES").ok().and_then(|v| v.parse().ok());
    let mut config = ProptestConfig {
        cases: cases.unwrap_or(if long_tests() { 10_000 } else { 1000 }),
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::Direct(
            "tests/random_programs.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_MAX_SHRINK_ITERS").is_none() {
        config.max_shrink_iters = 1000;
    }
    if std::env::var_os("PROPTEST_MAX_SHRINK_TIME").is_none() {
        config.max_shrink_time = 60_000;
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_programs_agree_with_the_interpreter(data in prop::collection::vec(any::<u32>(), 0..200), seed in any::<u64>()) {
        if let Err(e) = check_program(&data, seed) {
            prop_assert!(false, "{}", e);
        }
    }

    #[test]
    fn random_programs_agree_with_the_interpreter_2(data in prop::collection::vec(any::<u32>(), 20..200), seed in any::<u64>()) {
        if let Err(e) = check_program(&data, seed) {
            prop_assert!(false, "{}", e);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------------------------------------------

/// `uniform`, `bernoulli` and `random_bits` (and `normal`, within the `erf_inv` tolerance), traced with the key as a
/// parameter and compiled, give the interpreter's bits, for several keys and shapes.
#[test]
fn random_numbers_traced_and_compiled_match_the_interpreter() {
    use jit_runtime::random;
    use jit_runtime::trace::trace_to_graph;
    let shapes: &[&[usize]] = &[&[], &[0], &[1], &[7], &[3, 5], &[1003], &[2, 0, 3]];
    let key_ty = TensorType::new(DType::U32, [2]);
    let mut failures = Vec::new();
    let erf_inv_tol = match op_tolerance(&Op::Unary(UnaryOp::ErfInv), DType::F32) {
        Tol::Ulp(n) => Tol::Ulp(n + 1),
        t => t,
    };
    for dims in shapes {
        let dims: Vec<usize> = dims.to_vec();
        let d = dims.clone();
        let graph = trace_to_graph("random", std::slice::from_ref(&key_ty), move |p| {
            let k = &p[0];
            let k1 = random::fold_in(k, 7);
            let ks = random::split(k, 3);
            let k2 = random::split_one(k, 2);
            Ok(vec![
                random::uniform(k, d.clone()),
                random::bernoulli(&k1, 0.3, d.clone()),
                random::random_bits(&k2, d.clone()),
                random::uniform_range(&k2, d.clone(), -2.0, 5.0),
                ks,
                random::normal(&k1, d.clone()),
            ])
        });
        let graph = match graph {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("tracing for {dims:?}: {e}"));
                continue;
            }
        };
        let mut keys = Vec::new();
        for seed in [0i64, 1, 42, -5, 1 << 40] {
            match random::key(seed).to_array().and_then(|a| a.literal()) {
                Ok(k) => keys.push(vec![k]),
                Err(e) => failures.push(format!("key {seed}: {e}")),
            }
        }
        let tols = [Tol::Exact, Tol::Exact, Tol::Exact, Tol::Exact, Tol::Exact, erf_inv_tol.clone()];
        if let Err(e) = check_many(&format!("random_{dims:?}"), &graph, &keys, &tols, None) {
            failures.push(e);
        }
    }
    report(failures);
}
