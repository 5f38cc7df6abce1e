use jit_runtime::lift::{Filter, LiftSpec, LiftedCall, LiftedFn, Module, Scope};
use jit_runtime::{DType, Shape, Tensor, random};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Lin {
    out: usize,
}
impl Module for Lin {
    const NAME: &'static str = "Lin";
}

impl Lin {
    fn forward_jit() -> &'static LiftedFn {
        static F: std::sync::OnceLock<LiftedFn> = std::sync::OnceLock::new();
        F.get_or_init(|| {
            LiftedFn::new(LiftSpec {
                name: "Lin::forward",
                variables: Filter::All,
                rngs: Filter::All,
                backend: Some("interpreter"),
                device: None,
            })
        })
    }
    fn forward(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let mut call = LiftedCall::new(Self::forward_jit(), self, cx);
        call.dynamic(2, "x", false, x);
        call.finish(move |this, cx, leaves| {
            let x = jit_runtime::lift::DynamicArg::rebuild(x, leaves);
            this.inner(cx, &x)
        })
    }
    fn inner(&self, cx: &mut Scope, x: &Tensor) -> Tensor {
        let k = cx.param(
            "kernel",
            |key: &Tensor, s: &Shape, dt: DType| random::normal(key, s.clone()).astype(dt),
            [x.dims()[1], self.out],
        );
        let m = cx.make_rng("dropout");
        let mask = random::bernoulli(&m, 0.5, [x.dims()[0], self.out]);
        jit_runtime::where_(&mask, &x.matmul(&k), &Tensor::scalar(0.0f32))
    }
}

#[test]
fn lifted_equals_eager() {
    let m = Lin { out: 3 };
    let x = random::normal(&random::key(5), [2, 4]);
    let rngs = || [("params", random::key(0)), ("dropout", random::key(1))];
    let v1 = m.init(rngs(), |m, cx| m.forward(cx, &x)).unwrap();
    let v2 = jit_runtime::jit::disable_jit(|| m.init(rngs(), |m, cx| m.forward(cx, &x))).unwrap();
    assert_eq!(
        v1.get("params", "kernel").unwrap().to_vec::<f32>().unwrap(),
        v2.get("params", "kernel").unwrap().to_vec::<f32>().unwrap()
    );
    let run = |v: &jit_runtime::Variables| {
        m.apply(v).rngs([("dropout", random::key(2))]).call(|m, cx| (m.forward(cx, &x), m.forward(cx, &x))).unwrap().0
    };
    let (a, b) = run(&v1);
    let (c, d) = jit_runtime::jit::disable_jit(|| run(&v1));
    assert_eq!(a.to_vec::<f32>().unwrap(), c.to_vec::<f32>().unwrap());
    assert_eq!(b.to_vec::<f32>().unwrap(), d.to_vec::<f32>().unwrap());
    assert_ne!(a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
    assert_eq!(Lin::forward_jit().trace_count(), 2, "{:?}", Lin::forward_jit().explain_last_miss());
}
