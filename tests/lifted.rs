//! End-to-end tests of `#[lifted_jit]` through the facade (LLVM CPU backend): caching and trace counts,
//! collections, PRNG streams, donation, errors, threads.

use lifted_jit::prelude::*;

fn vec(t: &Tensor) -> Vec<f32> {
    t.to_vec::<f32>().unwrap()
}

fn small_normal(key: &Tensor, shape: &Shape, dtype: DType) -> Tensor {
    (random::normal(key, shape.clone()) * 0.1).astype(dtype)
}

/// A dense layer written with the scope directly (so these tests do not depend on `nn`).
#[derive(Module, Clone, Debug)]
struct Lin {
    features: usize,
}

impl Lin {
    fn call(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        cx.child(self, |m, cx| {
            let k = cx.param("kernel", small_normal, [*x.dims().last().unwrap_or(&0), m.features]);
            let b = cx.param("bias", |_: &Tensor, s: &Shape, d: DType| Tensor::zeros(d, s.clone()), [m.features]);
            x.matmul(&k) + b
        })
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Trace counts.

#[derive(Module, Clone, Debug)]
struct Counted {
    features: usize,
    scale: f32,
}

#[lifted_jit(static_argnames = ["power"])]
impl Counted {
    fn forward(&self, cx: &mut Scope, x: &Tensor, power: i32) -> Tensor {
        Lin { features: self.features }.call(cx, x).integer_pow(power) * self.scale as f64
    }
}

#[test]
fn trace_counts_follow_the_signature() {
    let m = Counted { features: 3, scale: 0.5 };
    let x = Tensor::full(DType::F32, [2, 4], 1.0);
    let f = Counted::forward_jit();
    let vars = m.init(random::key(0), |m, cx| m.forward(cx, &x, 1)).unwrap();
    assert_eq!(f.trace_count(), 1, "init traces once");
    let apply = |m: &Counted, x: &Tensor, p: i32| m.apply(&vars).call(|m, cx| m.forward(cx, x, p)).unwrap().0;
    let y1 = apply(&m, &x, 1);
    assert_eq!(f.trace_count(), 2, "apply is a new signature (params immutable)");
    let y2 = apply(&m, &x, 1);
    assert_eq!(f.trace_count(), 2, "same call twice: cached");
    assert_eq!(vec(&y1), vec(&y2));
    apply(&m, &Tensor::full(DType::F32, [5, 4], 1.0), 1);
    assert_eq!(f.trace_count(), 3, "new shape: new trace");
    assert!(f.explain_last_miss().unwrap().contains("f32[5,4]"), "{:?}", f.explain_last_miss());
    apply(&m, &x, 2);
    assert_eq!(f.trace_count(), 4, "new static value: new trace");
    assert!(f.explain_last_miss().unwrap().contains("power"), "{:?}", f.explain_last_miss());
    apply(&m.clone(), &x, 2);
    assert_eq!(f.trace_count(), 4, "an equal module shares the compiled code");
    apply(&Counted { features: 3, scale: 0.25 }, &x, 2);
    assert_eq!(f.trace_count(), 5, "a different configuration is a new signature");
    assert!(f.explain_last_miss().unwrap().contains("module"), "{:?}", f.explain_last_miss());
    assert_eq!(f.compile_count(), 5);
    let lowered = f.last_lowered().unwrap();
    assert!(lowered.as_text().contains("dot_general"), "{}", lowered.as_text());
    let artifacts: Vec<String> = lowered.artifacts().into_iter().map(|(name, _)| name).collect();
    assert!(artifacts.iter().any(|n| n.contains("llvm")), "compiled by the LLVM backend: {artifacts:?}");
}

// ---------------------------------------------------------------------------------------------------------------
// Collections: lifted, hidden, immutable, written back.

#[derive(Module, Clone, Debug)]
struct Stats {
    momentum: f32,
}

#[lifted_jit(variables = ["params", "batch_stats"], static_argnames = ["train"])]
impl Stats {
    fn forward(&self, cx: &mut Scope, x: &Tensor, train: bool) -> Tensor {
        let n = x.dims()[1];
        let mean = cx.variable("batch_stats", "mean", |_| Tensor::zeros(DType::F32, [n]));
        let scale = cx.param("scale", |_: &Tensor, s: &Shape, d: DType| Tensor::ones(d, s.clone()), [n]);
        if train && !cx.is_initializing() {
            let m = self.momentum as f64;
            let updated = &mean * m + x.mean(0) * (1.0 - m);
            cx.put_variable("batch_stats", "mean", updated);
        }
        (x - &mean) * scale
    }
}

#[lifted_jit(variables = "params")]
impl Stats {
    fn reads_hidden(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let mean = cx.variable("batch_stats", "mean", |_| Tensor::zeros(DType::F32, [x.dims()[1]]));
        x - mean
    }
}

#[test]
fn mutable_batch_stats_are_written_back() {
    let m = Stats { momentum: 0.5 };
    let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]);
    let vars = m.init(random::key(0), |m, cx| m.forward(cx, &x, true)).unwrap();
    assert_eq!(vec(vars.get("batch_stats", "mean").unwrap()), vec![0.0, 0.0], "init does not update");
    let (_, updates) = m.apply(&vars).mutable(["batch_stats"]).call(|m, cx| m.forward(cx, &x, true)).unwrap();
    assert_eq!(vec(updates.get("batch_stats", "mean").unwrap()), vec![1.0, 1.5]);
    assert!(updates.collection("params").is_none(), "only mutable collections come back");
    let vars = vars.merge(updates);
    let (y, _) = m.apply(&vars).call(|m, cx| m.forward(cx, &x, false)).unwrap();
    assert_eq!(vec(&y), vec![0.0, 0.5, 2.0, 2.5]);
}

#[test]
fn writing_an_immutable_collection_is_an_error() {
    let m = Stats { momentum: 0.9 };
    let x = Tensor::full(DType::F32, [2, 2], 1.0);
    let vars = m.init(random::key(0), |m, cx| m.forward(cx, &x, true)).unwrap();
    let err = m.apply(&vars).call(|m, cx| m.forward(cx, &x, true)).unwrap_err().to_string();
    assert!(err.contains("batch_stats") && err.contains("mean") && err.contains("immutable"), "{err}");
}

#[test]
fn reading_a_hidden_collection_is_an_error_naming_it() {
    let m = Stats { momentum: 0.9 };
    let x = Tensor::full(DType::F32, [2, 2], 1.0);
    let vars = m.init(random::key(0), |m, cx| m.forward(cx, &x, true)).unwrap();
    let err = m.apply(&vars).call(|m, cx| m.reads_hidden(cx, &x)).unwrap_err().to_string();
    assert!(err.contains("`batch_stats`") && err.contains("not lifted") && err.contains("reads_hidden"), "{err}");
}

// ---------------------------------------------------------------------------------------------------------------
// PRNG streams.

#[derive(Module, Clone, Debug)]
struct Noisy {
    rate: f32,
}

#[lifted_jit(rngs = ["dropout"], methods = [forward])]
impl Noisy {
    fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let h = Lin { features: 8 }.call(cx, x);
        let key = cx.make_rng("dropout");
        let keep = random::bernoulli(&key, 1.0 - self.rate, h.dims().to_vec());
        where_(&keep, &(&h / (1.0 - self.rate as f64)), &Tensor::scalar(0.0f32))
    }

    fn unlifted(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        x + random::uniform(&cx.make_rng("noise"), x.dims().to_vec())
    }
}

#[lifted_jit(rngs = ["dropout"])]
impl Noisy {
    fn hidden_stream(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        self.unlifted(cx, x)
    }
}

#[test]
fn jitted_equals_unjitted_bit_for_bit_with_init_and_dropout() {
    let m = Noisy { rate: 0.5 };
    let x = random::normal(&random::key(7), [4, 16]);
    let init = || m.init([("params", random::key(0)), ("dropout", random::key(9))], |m, cx| m.forward(cx, &x));
    let (jitted, eager) = (init(), disable_jit(init));
    let (jitted, eager) = (jitted.unwrap(), eager.unwrap());
    for (c, p, t) in jitted.iter() {
        assert_eq!(vec(t), vec(eager.get(c, p).unwrap()), "{c}/{p}");
    }
    let run = || {
        m.apply(&jitted)
            .rngs([("dropout", random::key(3))])
            .call(|m, cx| vec![m.forward(cx, &x), m.forward(cx, &x)])
            .unwrap()
            .0
    };
    let (a, b) = (run(), disable_jit(run));
    let zeros = |t: &Tensor| vec(t).iter().map(|v| *v == 0.0).collect::<Vec<_>>();
    for (j, e) in a.iter().zip(&b) {
        assert_eq!(zeros(j), zeros(e), "dropout masks are identical");
        for (u, v) in vec(j).iter().zip(vec(e)) {
            assert!((u - v).abs() <= 1e-5 * (1.0 + v.abs()), "{u} vs {v}");
        }
    }
    assert_ne!(zeros(&a[0]), zeros(&a[1]), "the second call draws a new mask");
}

#[test]
fn a_hidden_stream_is_an_error_naming_it() {
    let m = Noisy { rate: 0.1 };
    let x = Tensor::full(DType::F32, [2, 2], 1.0);
    let err = m
        .apply(&Variables::new())
        .rngs([("noise", random::key(1))])
        .call(|m, cx| m.hidden_stream(cx, &x))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`noise`") && err.contains("not lifted") && err.contains("hidden_stream"), "{err}");
    let err = m.apply(&Variables::new()).call(|m, cx| m.unlifted(cx, &x)).unwrap_err().to_string();
    assert!(err.contains("no PRNG key for stream `noise`"), "{err}");
}

// ---------------------------------------------------------------------------------------------------------------
// A jitted submodule called three times traces once; keys still differ per call.

#[derive(Module, Clone, Debug)]
struct Block {
    features: usize,
}

#[lifted_jit(methods = [forward])]
impl Block {
    fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let h = Lin { features: self.features }.call(cx, x);
        let noise = random::normal(&cx.make_rng("dropout"), h.dims().to_vec());
        h + noise * 0.0 + x
    }
}

#[derive(Module, Clone, Debug)]
struct Stack {
    features: usize,
}

impl Stack {
    fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let block = Block { features: self.features };
        let h = cx.child(&block, |b, cx| b.forward(cx, x));
        let h = cx.child(&block, |b, cx| b.forward(cx, &h));
        cx.child(&block, |b, cx| b.forward(cx, &h))
    }
}

#[test]
fn three_calls_of_one_jitted_submodule_trace_once() {
    let m = Stack { features: 4 };
    let x = Tensor::full(DType::F32, [2, 4], 1.0);
    let rngs = || [("params", random::key(0)), ("dropout", random::key(1))];
    let vars = m.init(rngs(), |m, cx| m.forward(cx, &x)).unwrap();
    assert_eq!(Block::forward_jit().trace_count(), 1, "{:?}", Block::forward_jit().explain_last_miss());
    let names: Vec<String> = vars.iter().map(|(c, p, _)| format!("{c}/{p}")).collect();
    assert_eq!(
        names,
        [
            "params/Block_0/Lin_0/bias",
            "params/Block_0/Lin_0/kernel",
            "params/Block_1/Lin_0/bias",
            "params/Block_1/Lin_0/kernel",
            "params/Block_2/Lin_0/bias",
            "params/Block_2/Lin_0/kernel"
        ]
    );
    let k0 = vec(vars.get("params", "Block_0/Lin_0/kernel").unwrap());
    let k1 = vec(vars.get("params", "Block_1/Lin_0/kernel").unwrap());
    assert_ne!(k0, k1, "each block's parameters come from its own path");
    let eager = disable_jit(|| m.init(rngs(), |m, cx| m.forward(cx, &x))).unwrap();
    assert_eq!(k1, vec(eager.get("params", "Block_1/Lin_0/kernel").unwrap()));
    m.apply(&vars).rngs([("dropout", random::key(2))]).call(|m, cx| m.forward(cx, &x)).unwrap();
    assert_eq!(Block::forward_jit().trace_count(), 2, "apply: one more trace for three calls");
}

// ---------------------------------------------------------------------------------------------------------------
// Donation.

#[derive(Module, Clone, Debug)]
struct Accumulate;

#[lifted_jit(donate_argnames = ["state"], variables = false, rngs = false)]
impl Accumulate {
    fn step(&self, _cx: &mut Scope, state: Tensor, x: &Tensor) -> Tensor {
        state + x
    }
}

#[test]
fn a_donated_state_is_reused_and_unusable_afterwards() {
    let m = Accumulate;
    let x = Tensor::full(DType::F32, [1024], 1.0);
    let state = Tensor::zeros(DType::F32, [1024]);
    let alias = state.clone();
    let ((s1, s2), _) = m
        .apply(&Variables::new())
        .call(|m, cx| {
            let s1 = m.step(cx, state, &x);
            let s2 = m.step(cx, s1.clone(), &x);
            (s1, s2)
        })
        .unwrap();
    assert_eq!(vec(&s2), vec![2.0; 1024]);
    let err = alias.to_vec::<f32>().unwrap_err().to_string();
    assert!(err.contains("donated") && err.contains("step"), "{err}");
    assert!(s1.to_vec::<f32>().is_err(), "the first result was donated to the second call");
    assert!(Accumulate::step_jit().warnings().is_empty(), "{:?}", Accumulate::step_jit().warnings());
}

// ---------------------------------------------------------------------------------------------------------------
// Errors name the module path, the op, both shapes and the source line.

#[derive(Module, Clone, Debug)]
struct Broken;

#[lifted_jit]
impl Broken {
    fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        cx.child(&Lin { features: 3 }, |_, _| x.matmul(&Tensor::zeros(DType::F32, [5, 3])))
    }
}

#[test]
fn errors_name_module_path_op_shapes_and_line() {
    let x = Tensor::zeros(DType::F32, [2, 4]);
    let err = Broken.init(random::key(0), |m, cx| m.forward(cx, &x)).unwrap_err().to_string();
    assert!(err.contains("/Lin_0"), "{err}");
    assert!(err.contains("matmul") || err.contains("dot_general"), "{err}");
    assert!(err.contains("[2,4]") && err.contains("[5,3]"), "{err}");
    assert!(err.contains("tests/lifted.rs:"), "{err}");
}

// ---------------------------------------------------------------------------------------------------------------
// Threads.

#[derive(Module, Clone, Debug)]
struct Shared {
    features: usize,
}

#[lifted_jit]
impl Shared {
    fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        Lin { features: self.features }.call(cx, x).tanh()
    }
}

#[test]
fn eight_threads_call_one_jitted_method() {
    let m = Shared { features: 16 };
    let x = random::normal(&random::key(1), [8, 32]);
    let vars = m.init(random::key(0), |m, cx| m.forward(cx, &x)).unwrap();
    let expected = vec(&m.apply(&vars).call(|m, cx| m.forward(cx, &x)).unwrap().0);
    let traces = Shared::forward_jit().trace_count();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..20 {
                    let (y, _) = m.apply(&vars).call(|m, cx| m.forward(cx, &x)).unwrap();
                    assert_eq!(vec(&y), expected);
                }
            });
        }
    });
    assert_eq!(Shared::forward_jit().trace_count(), traces, "no new trace from the threads");
}

// ---------------------------------------------------------------------------------------------------------------
// A whole `apply` inside `jit` (a training step's shape): jitted methods inline, keys are traced inputs.

/// Its own type: trace counts are per method, and tests run in parallel.
#[derive(Module, Clone, Debug)]
struct Gated {
    rate: f32,
}

#[lifted_jit(rngs = ["dropout"])]
impl Gated {
    fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let h = Lin { features: 8 }.call(cx, x);
        let keep = random::bernoulli(&cx.make_rng("dropout"), 1.0 - self.rate, h.dims().to_vec());
        where_(&keep, &h, &Tensor::scalar(0.0f32))
    }
}

#[test]
fn apply_inside_jit_inlines_jitted_methods() {
    let m = Gated { rate: 0.25 };
    let x = random::normal(&random::key(4), [3, 5]);
    let rngs = || [("params", random::key(0)), ("dropout", random::key(1))];
    let vars = m.init(rngs(), |m, cx| m.forward(cx, &x)).unwrap();
    let step = jit(|vars: Variables, x: Tensor, key: Tensor| {
        m.apply(&vars).rngs([("dropout", key)]).call(|m, cx| m.forward(cx, &x)).map(|(y, _)| y)
    });
    let traces = Gated::forward_jit().trace_count();
    let y1 = step.call((vars.clone(), x.clone(), random::key(5))).unwrap();
    let y2 = step.call((vars.clone(), x.clone(), random::key(6))).unwrap();
    assert_eq!(step.trace_count(), 1, "a new key is a runtime input");
    assert_eq!(Gated::forward_jit().trace_count(), traces, "the inner method was inlined, not traced on its own");
    let direct = m.apply(&vars).rngs([("dropout", random::key(5))]).call(|m, cx| m.forward(cx, &x)).unwrap().0;
    let zeros = |t: &Tensor| vec(t).iter().map(|v| *v == 0.0).collect::<Vec<_>>();
    assert_eq!(zeros(&y1), zeros(&direct), "same mask as the method called on its own");
    assert_ne!(zeros(&y1), zeros(&y2));
}

// ---------------------------------------------------------------------------------------------------------------
// Backends: asking for a GPU where none is available is an error naming what exists, not a crash.

#[derive(Module, Clone, Debug)]
struct OnGpu;

#[lifted_jit(backend = "gpu", variables = false, rngs = false)]
impl OnGpu {
    fn forward(&self, _cx: &mut Scope, x: &Tensor) -> Tensor {
        x * 2.0
    }
}

#[test]
fn a_missing_gpu_is_an_error_naming_the_available_backends() {
    let x = Tensor::zeros(DType::F32, [4]);
    let err = OnGpu.apply(&Variables::new()).call(|m, cx| m.forward(cx, &x)).unwrap_err().to_string();
    assert!(err.contains("cuda") && err.contains("devices available: cpu:0"), "{err}");
}

// ---------------------------------------------------------------------------------------------------------------
// Random models: jitted == unjitted (parameters and masks bit for bit, outputs to rounding) on random
// configurations and inputs.

#[derive(Module, Clone, Debug)]
struct RandomMlp {
    widths: Vec<usize>,
    rate: f32,
    batch_norm: bool,
}

#[lifted_jit(rngs = ["dropout"], static_argnames = ["train"])]
impl RandomMlp {
    fn forward(&self, cx: &mut Scope, x: &Tensor, train: bool) -> Tensor {
        let mut h = x.clone();
        for (i, &w) in self.widths.iter().enumerate() {
            h = nn::Dense::new(w).call(cx, &h);
            if i + 1 < self.widths.len() {
                h = nn::Dropout::new(self.rate).call(cx, &h.relu(), !train);
                if self.batch_norm {
                    h = nn::BatchNorm::new().use_running_average(!train).call(cx, &h);
                }
            }
        }
        h
    }
}

fn close(a: &Tensor, b: &Tensor) -> bool {
    vec(a).iter().zip(vec(b)).all(|(x, y)| (x - y).abs() <= 1e-4 * (1.0 + y.abs()))
}

mod random_models {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
        #[test]
        fn jitted_equals_unjitted(
            widths in proptest::collection::vec(1usize..9, 1..4),
            rate in prop_oneof![Just(0.0f32), Just(0.3f32), Just(0.5f32)],
            batch_norm: bool,
            batch in 1usize..5,
            features in 1usize..7,
            seed in 0i64..1000,
        ) {
            let m = RandomMlp { widths, rate, batch_norm };
            let x = random::normal(&random::key(seed), [batch, features]);
            let rngs = || [("params", random::key(seed + 1)), ("dropout", random::key(seed + 2))];
            let init = || m.init(rngs(), |m, cx| m.forward(cx, &x, false));
            let (jv, ev) = (init().unwrap(), disable_jit(init).unwrap());
            prop_assert_eq!(jv.len(), ev.len());
            for (c, p, t) in jv.iter() {
                prop_assert_eq!(vec(t), vec(ev.get(c, p).unwrap()), "{}/{}", c, p);
            }
            let train = || {
                m.apply(&jv)
                    .rngs([("dropout", random::key(seed + 3))])
                    .mutable(["batch_stats"])
                    .call(|m, cx| m.forward(cx, &x, true))
                    .unwrap()
            };
            let ((jy, ju), (ey, eu)) = (train(), disable_jit(train));
            prop_assert!(close(&jy, &ey), "train outputs {:?} vs {:?}", vec(&jy), vec(&ey));
            for (c, p, t) in ju.iter() {
                prop_assert!(close(t, eu.get(c, p).unwrap()), "{}/{}", c, p);
            }
            let eval = || m.apply(&jv).call(|m, cx| m.forward(cx, &x, false)).unwrap().0;
            prop_assert!(close(&eval(), &disable_jit(eval)));
        }
    }
}
