//! Our side of the peer benchmark against JAX on CPU (`shared/bench/bench_jax.py`): the same workloads, shapes and
//! timing method, one case per process, one `RESULT {json}` line per case in the format of `common.py`'s `emit`.
//!
//! ```text
//! cargo bench --bench peer -- --list
//! cargo bench --bench peer -- --case W2.jit.16M [--max-seconds 20] [--backend NAME]
//! ```
//!
//! `bench/compare.py` runs these cases interleaved with the JAX ones and writes `BENCHMARKS.md`.
//!
//! Timing (as `common.py`): every case first runs an unrelated trivial jit (so "first call" is the incremental
//! trace + compile + run of the workload, not start-up), then times the first call, then times each of at least
//! `BENCH_MIN_CALLS` calls (after `BENCH_WARMUP` warm-up calls) in chunks of 0.2 s, recording for each chunk how much
//! CPU other processes used (`/proc/stat` minus our own `/proc/self/stat`); the median uses only calls from clean
//! chunks when there are enough of them. The same `BENCH_*` environment variables as `common.py` apply.
//!
//! Every case has a budget (`--max-seconds`, default 20) for each of its two stages, input set-up and measurement
//! (first call, warm-up and timed calls): timing stops collecting calls before the deadline (fewer than the minimum
//! calls then give `"timed_out": true` with the median of those collected), and a watchdog thread reports
//! `"timed_out": true` and exits if a step is still running at the deadline. On the reference interpreter the large
//! cases time out; that is expected.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use lifted_jit::prelude::*;

// ------------------------------------------------------------------------------------------------ JSON records

/// A JSON value, enough for the flat records `emit` prints.
#[derive(Clone, Debug)]
enum J {
    Null,
    Bool(bool),
    Num(f64),
    Int(u64),
    Str(String),
}

impl From<f64> for J {
    fn from(v: f64) -> J {
        J::Num(v)
    }
}
impl From<Option<f64>> for J {
    fn from(v: Option<f64>) -> J {
        v.map_or(J::Null, J::Num)
    }
}
impl From<bool> for J {
    fn from(v: bool) -> J {
        J::Bool(v)
    }
}
impl From<usize> for J {
    fn from(v: usize) -> J {
        J::Int(v as u64)
    }
}
impl From<&str> for J {
    fn from(v: &str) -> J {
        J::Str(v.to_string())
    }
}
impl From<String> for J {
    fn from(v: String) -> J {
        J::Str(v)
    }
}

fn json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// An ordered JSON object.
#[derive(Clone, Debug, Default)]
struct Record(Vec<(String, J)>);

impl Record {
    fn set(&mut self, key: &str, value: impl Into<J>) -> &mut Self {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.to_string(), value)),
        }
        self
    }

    fn num(&self, key: &str) -> Option<f64> {
        match self.0.iter().find(|(k, _)| k == key) {
            Some((_, J::Num(v))) => Some(*v),
            _ => None,
        }
    }

    fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    fn extend(&mut self, other: &Record) -> &mut Self {
        for (k, v) in &other.0 {
            self.set(k, v.clone());
        }
        self
    }

    fn to_json(&self) -> String {
        let mut out = String::from("{");
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            json_str(k, &mut out);
            out.push_str(": ");
            match v {
                J::Null => out.push_str("null"),
                J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                J::Num(x) if x.is_finite() => {
                    let _ = write!(out, "{x:?}");
                }
                J::Num(_) => out.push_str("null"),
                J::Int(n) => {
                    let _ = write!(out, "{n}");
                }
                J::Str(s) => json_str(s, &mut out),
            }
        }
        out.push('}');
        out
    }
}

/// What the watchdog reports if the case runs past its budget: the record so far and the step it was in.
struct Progress {
    emitted: bool,
    partial: Record,
    phase: String,
}

static PROGRESS: Mutex<Progress> =
    Mutex::new(Progress { emitted: false, partial: Record(Vec::new()), phase: String::new() });

fn progress() -> std::sync::MutexGuard<'static, Progress> {
    PROGRESS.lock().unwrap_or_else(|p| p.into_inner())
}

fn set_phase(phase: &str) {
    progress().phase = phase.to_string();
}

fn note_partial(key: &str, value: impl Into<J>) {
    progress().partial.set(key, value);
}

/// Keys of the partial record that every emitted record carries.
const STICKY: [&str; 2] = ["backend", "setup_fallback"];

/// Prints one result record as a `RESULT {json}` line (at most one per process).
fn emit(rec: &Record) {
    let mut p = progress();
    if p.emitted {
        return;
    }
    p.emitted = true;
    let mut rec = rec.clone();
    for (k, v) in p.partial.0.iter().filter(|(k, _)| STICKY.contains(&k.as_str())) {
        if !rec.has(k) {
            rec.set(k, v.clone());
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "RESULT {}", rec.to_json());
    let _ = out.flush();
}

/// The budget of each stage (`--max-seconds`).
static BUDGET_S: OnceLock<f64> = OnceLock::new();
/// When the current stage's budget runs out.
static DEADLINE: Mutex<Option<Instant>> = Mutex::new(None);

fn budget_s() -> f64 {
    *BUDGET_S.get().unwrap_or(&20.0)
}

/// The end of the current stage's budget.
fn deadline() -> Instant {
    let d = *DEADLINE.lock().unwrap_or_else(|p| p.into_inner());
    d.unwrap_or_else(|| Instant::now() + Duration::from_secs_f64(budget_s()))
}

/// Starts a stage (set-up, then measurement) with a fresh budget.
fn restart_budget() {
    *DEADLINE.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + Duration::from_secs_f64(budget_s()));
}

/// Starts the watchdog: when a stage runs past its deadline and nothing was emitted, it emits the partial record
/// marked timed out and ends the process.
fn start_watchdog() {
    restart_budget();
    std::thread::spawn(move || {
        while Instant::now() < deadline() {
            std::thread::sleep(Duration::from_millis(20));
        }
        let budget_s = budget_s();
        let (mut rec, phase) = {
            let p = progress();
            if p.emitted {
                return;
            }
            (p.partial.clone(), p.phase.clone())
        };
        rec.set("timed_out", true);
        rec.set("timed_out_in", phase.clone());
        rec.set("max_seconds", budget_s);
        let notes = format!("timed out after {budget_s:.0} s (budget) during {phase}");
        rec.set("notes", notes);
        for k in ["median_s", "min_s", "p10_s", "p90_s", "median_all_s"] {
            if !rec.has(k) {
                rec.set(k, J::Null);
            }
        }
        if !rec.has("n_calls") {
            rec.set("n_calls", 0usize);
        }
        emit(&rec);
        std::process::exit(0);
    });
}

// ------------------------------------------------------------------------------------------------ timing

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The `BENCH_*` settings of `common.py`.
struct Settings {
    min_calls: usize,
    min_time: f64,
    max_calls: usize,
    warmup: usize,
    max_wall: f64,
    clean_limit: f64,
}

const CHUNK_S: f64 = 0.2;
/// `USER_HZ`: the unit of `/proc/stat` and `/proc/self/stat` times (100 on Linux).
const CLK_TCK: f64 = 100.0;

fn settings() -> Settings {
    Settings {
        min_calls: env_usize("BENCH_MIN_CALLS", 20),
        min_time: env_f64("BENCH_MIN_TIME", 1.0),
        max_calls: env_usize("BENCH_MAX_CALLS", 2000),
        warmup: env_usize("BENCH_WARMUP", 3),
        max_wall: env_f64("BENCH_MAX_WALL", 60.0),
        clean_limit: env_f64("BENCH_CLEAN_LIMIT", 0.10),
    }
}

fn ncpu() -> f64 {
    std::thread::available_parallelism().map_or(1, |n| n.get()) as f64
}

/// Busy CPU seconds of the whole machine (user nice system irq softirq steal).
fn busy_s() -> f64 {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<f64> = text
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    if v.len() < 8 {
        return 0.0;
    }
    (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK_TCK
}

/// CPU seconds of this process (all threads) and its waited-for children.
fn own_s() -> f64 {
    let text = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`: state is field 3, utime..cstime are fields 14..17.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    if f.len() < 15 {
        return 0.0;
    }
    (f[11] + f[12] + f[13] + f[14]) / CLK_TCK
}

/// Fraction of the machine's CPU used by other processes since `start`.
struct LoadProbe {
    busy: f64,
    own: f64,
    t: Instant,
}

impl LoadProbe {
    fn start() -> Self {
        LoadProbe { busy: busy_s(), own: own_s(), t: Instant::now() }
    }

    fn frac(&self) -> f64 {
        let (b, o) = (busy_s(), own_s());
        let wall = self.t.elapsed().as_secs_f64().max(1e-9);
        (((b - self.busy) - (o - self.own)).max(0.0)) / (wall * ncpu())
    }
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 { sorted[n / 2] } else { 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]) }
}

/// Times `f` call by call as `common.py`'s `time_calls`, stopping early before the budget's deadline (then
/// `"timed_out": true` when fewer than `min_calls` were collected). Warm-up calls are cut short when the budget
/// would leave no room for a timed call; `first_s` (the first call's time) is the first estimate of a call.
/// Returns the stats record.
fn time_calls(
    s: &Settings,
    min_calls: usize,
    max_calls: usize,
    first_s: f64,
    mut f: impl FnMut() -> Result<()>,
) -> Result<Record> {
    let fits = |last: f64, calls: f64| Instant::now() + Duration::from_secs_f64(last * calls) < deadline();
    set_phase("warm-up calls");
    let mut last = first_s;
    for _ in 0..s.warmup {
        if !fits(last, 2.0) {
            break;
        }
        let t0 = Instant::now();
        f()?;
        last = t0.elapsed().as_secs_f64();
    }
    set_phase("timed calls");
    let (mut clean, mut dirty, mut loads) = (Vec::new(), Vec::new(), Vec::new());
    let t_start = Instant::now();
    let mut cut_by_budget = false;
    loop {
        let probe = LoadProbe::start();
        let mut chunk = Vec::new();
        let c0 = Instant::now();
        loop {
            let t0 = Instant::now();
            f()?;
            let t1 = Instant::now();
            last = (t1 - t0).as_secs_f64();
            chunk.push(last);
            if (t1 - c0).as_secs_f64() >= CHUNK_S || !fits(last, 1.0) {
                break;
            }
        }
        let load = probe.frac();
        loads.push(load);
        if load < s.clean_limit {
            clean.extend(chunk)
        } else {
            dirty.extend(chunk)
        }
        let elapsed = t_start.elapsed().as_secs_f64();
        let enough_clean = clean.len() >= min_calls && (elapsed >= s.min_time || clean.len() >= max_calls);
        // Progress for the watchdog: the median so far.
        {
            let mut all: Vec<f64> = clean.iter().chain(dirty.iter()).copied().collect();
            all.sort_by(f64::total_cmp);
            note_partial("median_s", median(&all));
            note_partial("n_calls", all.len());
        }
        if enough_clean || elapsed > s.max_wall {
            break;
        }
        if !fits(last, 1.0) {
            cut_by_budget = true;
            break;
        }
    }
    let ok = clean.len() >= min_calls;
    let mut all: Vec<f64> = clean.iter().chain(dirty.iter()).copied().collect();
    all.sort_by(f64::total_cmp);
    let mut used = if ok { clean.clone() } else { all.clone() };
    used.sort_by(f64::total_cmp);
    let n = used.len();
    let at = |q: f64| used[((q * (n - 1) as f64) as usize).min(n - 1)];
    let mut r = Record::default();
    r.set("median_s", median(&used))
        .set("min_s", used[0])
        .set("p10_s", at(0.1))
        .set("p90_s", at(0.9))
        .set("n_calls", n)
        .set("n_calls_total", all.len())
        .set("timing_clean", ok)
        .set("timed_foreign_load_max", loads.iter().copied().fold(0.0, f64::max))
        .set("timed_foreign_load_mean", loads.iter().sum::<f64>() / loads.len() as f64)
        .set("median_all_s", median(&all));
    if cut_by_budget && n < min_calls {
        r.set("timed_out", true).set("timed_out_in", "timed calls");
    }
    Ok(r)
}

/// Times one call (the first): seconds, the foreign load during it, and the value.
fn time_first<T>(f: impl FnOnce() -> Result<T>) -> Result<(f64, f64, T)> {
    set_phase("first call");
    let probe = LoadProbe::start();
    let t0 = Instant::now();
    let out = f()?;
    let dt = t0.elapsed().as_secs_f64();
    Ok((dt, probe.frac(), out))
}

// ------------------------------------------------------------------------------------------------ cases

/// What every case gets: the settings, the backend and the machinery warm-up cost.
struct Ctx {
    s: Settings,
    backend: Option<String>,
    init_s: f64,
}

impl Ctx {
    /// `jit(f)` on the chosen backend (the default CPU backend unless `--backend` names one).
    fn jit<F>(&self, f: F) -> lifted_jit::jit::Jit<F> {
        match &self.backend {
            Some(b) => jit(f).backend(b),
            None => jit(f),
        }
    }
}

/// The common head of a record, as `bench_jax.py`'s `rec`.
#[allow(clippy::too_many_arguments)]
fn base_record(
    workload: &str,
    system: &str,
    case: &str,
    first: Option<(f64, f64)>,
    rate: Option<f64>,
    unit: Option<&str>,
    notes: &str,
) -> Record {
    let mut r = Record::default();
    r.set("framework", "lifted-jit")
        .set("workload", workload)
        .set("system", system)
        .set("case", case)
        .set("first_call_s", first.map(|f| f.0))
        .set("rate", rate)
        .set("rate_unit", unit.map_or(J::Null, J::from))
        .set("notes", notes);
    if let Some((_, load)) = first {
        r.set("first_call_foreign_load", load);
    }
    r
}

/// Sets what the watchdog would report so far.
fn start_partial(workload: &str, system: &str, case: &str) {
    let mut r = base_record(workload, system, case, None, None, None, "");
    let mut p = progress();
    for (k, v) in p.partial.0.iter().filter(|(k, _)| STICKY.contains(&k.as_str())) {
        r.set(k, v.clone());
    }
    p.partial = r;
}

fn finish(ctx: &Ctx, mut head: Record, stats: &Record, rate: impl Fn(f64) -> f64, extra: &[(&str, J)]) -> Result<()> {
    head.extend(stats);
    let med = stats.num("median_s").unwrap_or(f64::NAN);
    head.set("rate", if med.is_finite() { J::Num(rate(med)) } else { J::Null });
    head.set("init_s", ctx.init_s);
    for (k, v) in extra {
        head.set(k, v.clone());
    }
    emit(&head);
    Ok(())
}

/// Builds a cheap generic record, records the first call in the partial record, and returns the head.
fn first_call_head<T>(
    workload: &str,
    system: &str,
    case: &str,
    unit: &str,
    notes: &str,
    f: impl FnOnce() -> Result<T>,
) -> Result<(Record, T)> {
    start_partial(workload, system, case);
    restart_budget();
    let (first, load, out) = time_first(f)?;
    note_partial("first_call_s", first);
    note_partial("first_call_foreign_load", load);
    note_partial("rate_unit", unit);
    Ok((base_record(workload, system, case, Some((first, load)), None, Some(unit), notes), out))
}

fn first_s(head: &Record) -> f64 {
    head.num("first_call_s").unwrap_or(0.0)
}

fn system_name(ctx: &Ctx) -> String {
    match &ctx.backend {
        Some(b) => format!("lifted-jit jit ({b})"),
        None => "lifted-jit jit".to_string(),
    }
}

// Set-up -----------------------------------------------------------------------------------------------

/// Runs a set-up computation (inputs, parameters; not timed) jitted on our backend, or, if that backend fails on
/// it, on the interpreter, noting the failure as `setup_fallback` in the record.
fn setup(ctx: &Ctx, what: &str, run: impl Fn(Option<&str>) -> Result<Tensor>) -> Result<Tensor> {
    match run(ctx.backend.as_deref()) {
        Ok(t) => Ok(t),
        Err(e) if ctx.backend.as_deref() != Some("interpreter") => {
            let out = run(Some("interpreter"))?;
            let note = format!("{what} failed on our backend ({e}); made on the interpreter");
            let mut p = progress();
            let prev = match p.partial.0.iter().find(|(k, _)| k == "setup_fallback") {
                Some((_, J::Str(s))) => format!("{s}; "),
                _ => String::new(),
            };
            if !prev.contains(&note) {
                p.partial.set("setup_fallback", format!("{prev}{note}"));
            }
            Ok(out)
        }
        Err(e) => Err(e),
    }
}

fn normal_of(key: Tensor, shape: Static<Vec<usize>>) -> Tensor {
    random::normal(&key, shape.0)
}

/// Flax `Dense`'s default kernel init `lecun_normal`: truncated normal in [-2, 2] with std 1/sqrt(fan_in)
/// corrected for the truncation.
fn lecun_normal_of(key: Tensor, shape: Static<(usize, usize)>) -> Tensor {
    let (fan_in, fan_out) = shape.0;
    let std = (1.0 / fan_in as f64).sqrt() / 0.879_625_661_034_239_8;
    random::truncated_normal(&key, -2.0, 2.0, [fan_in, fan_out]).mul_scalar(std as f32)
}

/// Standard normal f32 of `shape`, as `jax.random.normal`, materialised.
fn setup_normal(ctx: &Ctx, key: &Tensor, shape: &[usize]) -> Result<Tensor> {
    setup(ctx, "random::normal", |backend| {
        let f = jit(normal_of).static_argnums([1]);
        let f = match backend {
            Some(b) => f.backend(b),
            None => f,
        };
        f.call((key.clone(), Static(shape.to_vec())))
    })
}

// W1 ------------------------------------------------------------------------------------------------

fn w1(ctx: &Ctx) -> Result<()> {
    let f = ctx.jit(|x: Tensor| x + 1.0f32);
    let x = Tensor::zeros(DType::F32, [8]);
    let sys = system_name(ctx);
    let (head, _) =
        first_call_head("W1", &sys, "x+1 (8,)", "us/call", "blocked per call (latency)", || f.call((x.clone(),)))?;
    let st = time_calls(&ctx.s, 2000, 20000, first_s(&head), || f.call((x.clone(),)).map(drop))?;
    finish(ctx, head, &st, |m| m * 1e6, &[])
}

// W2 ------------------------------------------------------------------------------------------------

fn w2_fn(a: Tensor, b: Tensor, c: Tensor) -> Tensor {
    (&a * &b + &c).tanh() * 0.5f32 + (-(&a * &a)).exp()
}

fn w2(ctx: &Ctx, n: usize, label: &str) -> Result<()> {
    let sys = system_name(ctx);
    start_partial("W2", &sys, label);
    set_phase("input set-up (random::normal)");
    let keys = random::split(&random::key(0), 3);
    let k = |i: usize| keys.slice_axis(0, i, i + 1).reshape([2]);
    // Inputs are made by a jitted sampler (one program, not op-by-op) and materialised before timing.
    let a = setup_normal(ctx, &k(0), &[n])?;
    let b = setup_normal(ctx, &k(1), &[n])?;
    let c = setup_normal(ctx, &k(2), &[n])?;
    let f = ctx.jit(w2_fn);
    let big = n >= 1 << 20;
    let unit = if big { "GB/s" } else { "us/call" };
    let notes = if big { "bytes = 16*n (3 reads + 1 write)" } else { "tiny input: dispatch overhead with 3 args" };
    let (head, y) = first_call_head("W2", &sys, label, unit, notes, || f.call((a.clone(), b.clone(), c.clone())))?;
    assert_eq!(y.dims(), &[n]);
    drop(y);
    let (min_calls, max_calls) = if big { (20, 2000) } else { (2000, 20000) };
    let st = time_calls(&ctx.s, min_calls, max_calls, first_s(&head), || {
        f.call((a.clone(), b.clone(), c.clone())).map(drop)
    })?;
    let nbytes = (16 * n) as f64;
    finish(ctx, head, &st, |m| if big { nbytes / m / 1e9 } else { m * 1e6 }, &[])
}

// R1 / R2: reductions (ours only; `bench/gpu/gpu_refs.py` times the same in JAX) --------------------------

/// Reductions over a `[rows, cols]` f32 matrix: `softmax` over the rows (a row max, a row sum and elementwise work
/// around them) or the mean over the rows' axis 0 (a column reduction, as batch statistics are). Reports GB/s of
/// the matrix read once (and, for softmax, written once).
fn reduction_case(ctx: &Ctx, case: &str, rows: usize, cols: usize) -> Result<()> {
    let sys = system_name(ctx);
    let softmax = case == "R1";
    let label = if softmax { format!("softmax(x, -1) [{rows},{cols}]") } else { format!("x.mean(0) [{rows},{cols}]") };
    start_partial(case, &sys, &label);
    set_phase("input set-up (random::normal)");
    let x = setup_normal(ctx, &random::key(3), &[rows, cols])?;
    let f = ctx.jit(move |x: Tensor| if softmax { x.softmax(-1) } else { x.mean([0]) });
    let notes = if softmax { "bytes = 8*n (read + write)" } else { "bytes = 4*n (read)" };
    let (head, _) = first_call_head(case, &sys, &label, "GB/s", notes, || f.call((x.clone(),)))?;
    let st = time_calls(&ctx.s, 20, 2000, first_s(&head), || f.call((x.clone(),)).map(drop))?;
    let nbytes = ((if softmax { 8 } else { 4 }) * rows * cols) as f64;
    finish(ctx, head, &st, |m| nbytes / m / 1e9, &[])
}

// W3 ------------------------------------------------------------------------------------------------

fn w3(ctx: &Ctx, n: usize) -> Result<()> {
    let sys = system_name(ctx);
    let label = format!("sgemm {n}^3");
    start_partial("W3", &sys, &label);
    set_phase("input set-up (random::normal)");
    let keys = random::split(&random::key(0), 2);
    let k = |i: usize| keys.slice_axis(0, i, i + 1).reshape([2]);
    let a = setup_normal(ctx, &k(0), &[n, n])?;
    let b = setup_normal(ctx, &k(1), &[n, n])?;
    let f = ctx.jit(|a: Tensor, b: Tensor| a.matmul(&b));
    let (head, _) = first_call_head("W3", &sys, &label, "GFLOP/s", "", || f.call((a.clone(), b.clone())))?;
    let st = time_calls(&ctx.s, ctx.s.min_calls, ctx.s.max_calls, first_s(&head), || {
        f.call((a.clone(), b.clone())).map(drop)
    })?;
    let flops = 2.0 * (n as f64).powi(3);
    finish(ctx, head, &st, |m| flops / m / 1e9, &[])
}

// W4 / W7: the MLP ------------------------------------------------------------------------------------

const MLP_DIMS: [usize; 4] = [784, 512, 512, 10];

fn mlp_flops(batch: usize) -> f64 {
    2.0 * batch as f64 * (784.0 * 512.0 + 512.0 * 512.0 + 512.0 * 10.0)
}

/// 784-512-512-10 with relu, parameters as a list of `(kernel, bias)`, as Flax's `Dense` stack.
fn mlp(params: Vec<(Tensor, Tensor)>, x: Tensor) -> Tensor {
    let last = params.len() - 1;
    let mut h = x;
    for (i, (w, b)) in params.iter().enumerate() {
        h = h.matmul(w) + b;
        if i < last {
            h = h.relu();
        }
    }
    h
}

/// Flax `Dense` defaults: kernel `lecun_normal`, bias zeros; made with our random module and materialised.
fn mlp_params(ctx: &Ctx, seed: i64) -> Result<Vec<(Tensor, Tensor)>> {
    let key = random::key(seed);
    MLP_DIMS
        .windows(2)
        .enumerate()
        .map(|(i, d)| {
            let k = random::fold_in(&key, i as u32);
            let w = setup(ctx, "random::truncated_normal", |backend| {
                let f = jit(lecun_normal_of).static_argnums([1]);
                let f = match backend {
                    Some(b) => f.backend(b),
                    None => f,
                };
                f.call((k.clone(), Static((d[0], d[1]))))
            })?;
            Ok((w, Tensor::zeros(DType::F32, [d[1]])))
        })
        .collect()
}

fn mlp_input(ctx: &Ctx, batch: usize) -> Result<Tensor> {
    setup_normal(ctx, &random::key(1), &[batch, 784])
}

fn w4(ctx: &Ctx, batch: usize) -> Result<()> {
    let sys = format!("{} (params as arguments)", system_name(ctx));
    let label = format!("MLP fwd b{batch}");
    start_partial("W4", &sys, &label);
    set_phase("parameter init (random::truncated_normal)");
    let t0 = Instant::now();
    let params = mlp_params(ctx, 0)?;
    let x = mlp_input(ctx, batch)?;
    let t_init = t0.elapsed().as_secs_f64();
    let f = ctx.jit(mlp);
    let notes = format!("init {:.0} ms", t_init * 1e3);
    let (head, y) = first_call_head("W4", &sys, &label, "GFLOP/s", &notes, || f.call((params.clone(), x.clone())))?;
    assert_eq!(y.dims(), &[batch, 10]);
    drop(y);
    let min_calls = if batch == 1 { 200 } else { 20 };
    let st = time_calls(&ctx.s, min_calls, 20000, first_s(&head), || f.call((params.clone(), x.clone())).map(drop))?;
    let flops = mlp_flops(batch);
    finish(ctx, head, &st, |m| flops / m / 1e9, &[("params_init_s", J::Num(t_init))])
}

/// First call (trace + compile + run) of the W4 MLP at batch 128 on a fresh `jit`, after the machinery warm-up.
/// A second fresh `jit` then splits the cost into `lower` (trace + compile) and the first run.
fn w7(ctx: &Ctx) -> Result<()> {
    let sys = format!("{} first call", system_name(ctx));
    let label = "MLP fwd b128 first call (trace+compile+run)";
    start_partial("W7", &sys, label);
    set_phase("parameter init");
    let params = mlp_params(ctx, 0)?;
    let x = mlp_input(ctx, 128)?;
    let f = ctx.jit(mlp);
    let (head, y) = first_call_head("W7", &sys, label, "ms", "", || f.call((params.clone(), x.clone())))?;
    assert_eq!(y.dims(), &[128, 10]);
    let first = first_s(&head);
    set_phase("stage breakdown (second fresh jit)");
    let g = ctx.jit(mlp);
    let t0 = Instant::now();
    let lowered = g.lower((params.clone(), x.clone()))?;
    let t1 = Instant::now();
    g.call((params.clone(), x.clone()))?;
    let t2 = Instant::now();
    let (lower_s, exec_s) = ((t1 - t0).as_secs_f64(), (t2 - t1).as_secs_f64());
    let ops = lowered.graph().to_string().lines().count();
    let mut head = head;
    head.set(
        "notes",
        format!(
            "second fresh jit: trace+compile (lower) {:.3} ms, first exec {:.2} ms; program {ops} lines",
            lower_s * 1e3,
            exec_s * 1e3
        ),
    );
    let stats = {
        let mut r = Record::default();
        r.set("median_s", first).set("min_s", first).set("p10_s", first).set("p90_s", first).set("n_calls", 1usize);
        r
    };
    finish(
        ctx,
        head,
        &stats,
        |m| m * 1e3,
        &[("lower_s", J::Num(lower_s)), ("exec_s", J::Num(exec_s)), ("trace_count", J::Int(f.trace_count() as u64))],
    )
}

// W4 (modules) / W6: `#[lifted_jit]` modules through `init`/`apply`, against Flax's `nn.jit` ------------------

/// The W4 MLP as a Flax-style module with a jitted forward (`bench_jax.py`'s `MLP` under `nn.jit`).
#[derive(Module, Clone, Debug)]
struct MlpModule;

#[lifted_jit]
impl MlpModule {
    fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let h = nn::Dense::new(512).call(cx, x).relu();
        let h = nn::Dense::new(512).call(cx, &h).relu();
        nn::Dense::new(10).call(cx, &h)
    }
}

fn w4_lifted(ctx: &Ctx, batch: usize) -> Result<()> {
    let sys = "#[lifted_jit] MLP module + apply".to_string();
    let label = format!("MLP fwd b{batch}");
    start_partial("W4", &sys, &label);
    set_phase("init (traces and compiles the init program)");
    let x = mlp_input(ctx, batch)?;
    let t0 = Instant::now();
    let vars = MlpModule.init(random::key(0), |m, cx| m.forward(cx, &x))?;
    let t_init = t0.elapsed().as_secs_f64();
    let apply = || MlpModule.apply(&vars).call(|m, cx| m.forward(cx, &x)).map(|(y, _)| y);
    let notes = format!("init {:.0} ms", t_init * 1e3);
    let (head, y) = first_call_head("W4", &sys, &label, "GFLOP/s", &notes, apply)?;
    assert_eq!(y.dims(), &[batch, 10]);
    drop(y);
    let min_calls = if batch == 1 { 200 } else { 20 };
    let st = time_calls(&ctx.s, min_calls, 20000, first_s(&head), || apply().map(drop))?;
    let flops = mlp_flops(batch);
    finish(ctx, head, &st, |m| flops / m / 1e9, &[("init_s", J::Num(t_init))])
}

/// `bench_jax.py`'s W6 module: BatchNorm (train, momentum 0.9) then Dropout 0.1.
#[derive(Module, Clone, Debug)]
struct BnDrop {
    rate: f32,
}

#[lifted_jit(rngs = ["dropout"])]
impl BnDrop {
    fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let x = nn::BatchNorm::new().use_running_average(false).momentum(0.9).call(cx, x);
        nn::Dropout::new(self.rate).call(cx, &x, false)
    }
}

fn w6_lifted(ctx: &Ctx) -> Result<()> {
    let sys = "#[lifted_jit] BNDrop + apply(rngs, mutable)".to_string();
    let label = "BN+Dropout train b256 f512";
    start_partial("W6", &sys, label);
    set_phase("inputs and init");
    let x = setup_normal(ctx, &random::key(1), &[256, 512])? * 2.0 + 3.0;
    let x = Tensor::from_array(x.to_array()?);
    let m = BnDrop { rate: 0.1 };
    let vars = m.init([("params", random::key(0)), ("dropout", random::key(0))], |m, cx| m.forward(cx, &x))?;
    let apply =
        || m.apply(&vars).rngs([("dropout", random::key(3))]).mutable(["batch_stats"]).call(|m, cx| m.forward(cx, &x));
    let (head, (y, upd)) = first_call_head("W6", &sys, label, "GB/s (x in + y out)", "", apply)?;
    // The same checks as the JAX side: ~10% zeros, running mean moved 10% of the way to the batch mean (~3).
    let yv = y.to_vec::<f32>()?;
    let zero_frac = yv.iter().filter(|v| **v == 0.0).count() as f64 / yv.len() as f64;
    let mean = upd.get("batch_stats", "BatchNorm_0/mean").map(|t| t.to_vec::<f32>()).transpose()?.unwrap_or_default();
    let mean_avg = mean.iter().map(|v| *v as f64).sum::<f64>() / mean.len().max(1) as f64;
    let ok = y.dims() == [256, 512] && (mean_avg - 0.3).abs() < 0.05 && zero_frac > 0.07 && zero_frac < 0.13;
    let mut head = head;
    head.set(
        "notes",
        format!(
            "check {}: zero_frac={zero_frac:.3}, new running mean avg={mean_avg:.4} (expect ~0.3)",
            if ok { "OK" } else { "FAILED" }
        ),
    );
    drop((y, upd));
    let st = time_calls(&ctx.s, 20, 20000, first_s(&head), || apply().map(drop))?;
    finish(ctx, head, &st, |m| 256.0 * 512.0 * 4.0 * 2.0 / m / 1e9, &[("check_ok", J::Bool(ok))])
}

fn not_implemented(workload: &str, case: &str, what: &str) -> Result<()> {
    let mut r = base_record(workload, "lifted-jit", case, None, None, None, what);
    r.set("skipped", "not yet implemented").set("median_s", J::Null).set("n_calls", 0usize);
    emit(&r);
    Ok(())
}

// ------------------------------------------------------------------------------------------------ main

type CaseFn = fn(&Ctx) -> Result<()>;

fn cases() -> Vec<(&'static str, CaseFn)> {
    vec![
        ("W1.jit", w1 as CaseFn),
        ("W2.jit.16M", |c| w2(c, 16 * 1024 * 1024, "n=16M")),
        ("W2.jit.1M", |c| w2(c, 1024 * 1024, "n=1M")),
        ("W2.jit.8", |c| w2(c, 8, "n=8 (tiny)")),
        ("W3.jit.256", |c| w3(c, 256)),
        ("W3.jit.1024", |c| w3(c, 1024)),
        ("W3.jit.2048", |c| w3(c, 2048)),
        ("W4.jit.b1", |c| w4(c, 1)),
        ("W4.jit.b128", |c| w4(c, 128)),
        ("W4.jit.b1024", |c| w4(c, 1024)),
        ("W5.jit.donate", |_| {
            not_implemented("W5", "MLP train step b128", "needs autodiff (value_and_grad), not yet implemented")
        }),
        ("W4.lifted.b1", |c| w4_lifted(c, 1)),
        ("W4.lifted.b128", |c| w4_lifted(c, 128)),
        ("W4.lifted.b1024", |c| w4_lifted(c, 1024)),
        ("W6.lifted", w6_lifted),
        ("R1.jit.softmax", |c| reduction_case(c, "R1", 4096, 4096)),
        ("R2.jit.mean0", |c| reduction_case(c, "R2", 4096, 4096)),
        ("W7.W4.first", w7),
    ]
}

/// The backend `jit` resolves to by default (or the one named).
fn backend_label(named: Option<&str>) -> String {
    match lifted_jit::backend::resolve(named, None) {
        Ok((b, d)) => format!("{} ({d})", b.name()),
        Err(e) => format!("unavailable: {e}"),
    }
}

fn usage() -> ! {
    eprintln!("usage: peer --list | --case NAME [--max-seconds S] [--backend NAME]");
    std::process::exit(2)
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut case, mut list, mut budget, mut backend) = (None, false, 20.0f64, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--list" => list = true,
            "--case" => case = Some(args.next().unwrap_or_else(|| usage())),
            "--max-seconds" => budget = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()),
            "--backend" => backend = Some(args.next().unwrap_or_else(|| usage())),
            // `cargo bench` passes `--bench` to harness = false targets.
            "--bench" => {}
            _ => usage(),
        }
    }
    let all = cases();
    if list {
        for (name, _) in &all {
            println!("{name}");
        }
        return Ok(());
    }
    let Some(case) = case else { usage() };
    let Some(&(_, run)) = all.iter().find(|(n, _)| *n == case) else {
        eprintln!("unknown case {case}; --list shows the cases");
        std::process::exit(2);
    };
    let _ = BUDGET_S.set(budget);
    start_watchdog();
    // Backend + jit machinery warm-up on an unrelated function, as bench_jax.py's _init_machinery.
    set_phase("machinery warm-up");
    let t0 = Instant::now();
    lifted_jit::install_backends();
    // Every record says which backend ran it.
    progress().partial.set("backend", backend_label(backend.as_deref()));
    let mut ctx = Ctx { s: settings(), backend, init_s: 0.0 };
    let warm = ctx.jit(|z: Tensor| z * 2.0f32).call((Tensor::ones(DType::F32, [4]),));
    ctx.init_s = t0.elapsed().as_secs_f64();
    let result = warm.and_then(|_| run(&ctx));
    if let Err(e) = &result {
        let mut r = progress().partial.clone();
        let phase = progress().phase.clone();
        r.set("error", e.to_string()).set("error_in", phase).set("median_s", J::Null);
        emit(&r);
    }
    result
}
