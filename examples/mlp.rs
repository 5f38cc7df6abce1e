//! The main job: a Flax-style MLP (dense → relu → dropout → batch norm → dense) as a Rust module whose `forward`
//! is jitted with `#[lifted_jit]`. It initialises the model, runs the jitted `apply` in train mode (dropout keys,
//! `batch_stats` written back) and in eval mode on built-in synthetic data, and compares with the same method run
//! without jit.
//!
//! Run with `cargo run --release --example mlp`.

use std::time::{Duration, Instant};

use lifted_jit::prelude::*;

/// The model is plain configuration; `#[derive(Module)]` gives `Hash`/`Eq` (floats by bit pattern), so equal
/// models share compiled code.
#[derive(Module, Clone, Debug)]
pub struct Mlp {
    pub hidden: usize,
    pub classes: usize,
    pub dropout: f32,
}

#[lifted_jit(variables = true, rngs = ["dropout"], static_argnames = ["train"], methods = [forward])]
impl Mlp {
    /// Flax: `def __call__(self, x, train: bool)` in an `nn.compact` method.
    pub fn forward(&self, cx: &mut Scope, x: &Tensor, train: bool) -> Tensor {
        let h = nn::Dense::new(self.hidden).call(cx, x).relu();
        let h = nn::Dropout::new(self.dropout).call(cx, &h, !train);
        let h = nn::BatchNorm::new().use_running_average(!train).call(cx, &h);
        nn::Dense::new(self.classes).call(cx, &h)
    }
}

fn time<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn max_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
    let (a, b) = (a.to_vec::<f32>()?, b.to_vec::<f32>()?);
    Ok(a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max))
}

fn main() -> Result<()> {
    let model = Mlp { hidden: 512, classes: 10, dropout: 0.1 };
    let batch = 128;
    // Built-in synthetic data: a batch of "images" from a fixed key.
    let x = random::normal(&random::key(1), [batch, 784]);

    // Flax: variables = model.init(key, x, train=False)
    let (variables, t_init) = time(|| model.init(random::key(0), |m, cx| m.forward(cx, &x, false)));
    let variables = variables?;
    println!("model: {model:?}");
    println!("init (trace + compile + run): {t_init:.2?}");
    println!(
        "parameters: {} in {} arrays",
        variables.count("params"),
        variables.collection("params").map_or(0, |c| c.len())
    );
    println!("batch statistics: {}", variables.count("batch_stats"));
    println!("{variables}");

    // Flax: y, updates = model.apply(variables, x, train=True, rngs={'dropout': k}, mutable=['batch_stats'])
    let train_step = |variables: &Variables, step: u32| {
        model
            .apply(variables)
            .rngs([("dropout", random::fold_in(&random::key(2), step))])
            .mutable(["batch_stats"])
            .call(|m, cx| m.forward(cx, &x, true))
    };
    let (first, t_first) = time(|| train_step(&variables, 0));
    let (y_train, updates) = first?;
    let lowered = Mlp::forward_jit().last_lowered();
    let ops = lowered.as_ref().map_or(0, |l| l.graph().num_ops());
    println!("first train call (trace + compile + run): {t_first:.2?}; traced program: {ops} ops");
    let mut variables = variables.merge(updates);
    let mut times = Vec::new();
    for step in 1..=20 {
        let (result, t) = time(|| train_step(&variables, step));
        let (_, updates) = result?;
        variables = variables.merge(updates);
        times.push(t);
    }
    let jitted_train = median(times);

    // Eval mode: running averages, no dropout, nothing mutable.
    let eval = |variables: &Variables| model.apply(variables).call(|m, cx| m.forward(cx, &x, false)).map(|(y, _)| y);
    eval(&variables)?;
    let jitted_eval = median((0..20).map(|_| time(|| eval(&variables)).1).collect());
    let y_eval = eval(&variables)?;

    // The same method without jit, op by op on the reference interpreter: identical dropout masks and statistics,
    // logits equal up to the GEMM's summation order.
    let (eager, t_eager) = time(|| disable_jit(|| eval(&variables)));
    let eager = eager?;
    let (eager_train, _) = disable_jit(|| train_step(&variables.clone(), 0))?;
    let (jit_train, _) = train_step(&variables, 0)?;
    println!(
        "traces of forward: {} (init, train, eval), compiles: {}",
        Mlp::forward_jit().trace_count(),
        Mlp::forward_jit().compile_count()
    );
    println!(
        "per call, jitted: train {jitted_train:.2?}, eval {jitted_eval:.2?}; without jit (interpreter): eval {t_eager:.2?} ({:.0}x)",
        t_eager.as_secs_f64() / jitted_eval.as_secs_f64()
    );
    println!(
        "max |jitted - unjitted|: eval {:e}, train {:e}",
        max_diff(&y_eval, &eager)?,
        max_diff(&jit_train, &eager_train)?
    );
    println!("train logits (first row): {:?}", &y_train.to_vec::<f32>()?[..10]);
    let predictions = y_eval.argmax(-1).to_vec::<i32>()?;
    println!("eval predictions (first 16): {:?}", &predictions[..16]);
    if let Some(l) = lowered {
        let text = l.as_text();
        println!("traced program (first 12 lines of {}):", text.lines().count());
        for line in text.lines().take(12) {
            println!("  {line}");
        }
    }
    Ok(())
}
