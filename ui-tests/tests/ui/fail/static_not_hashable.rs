use lifted_jit::lift::Scope;
use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct Mlp {
    hidden: usize,
}

struct Config {
    depth: usize,
}

#[lifted_jit(static_argnames = ["config"])]
impl Mlp {
    fn forward(&self, cx: &mut Scope, x: &Tensor, config: &Config) -> Tensor {
        let _ = (cx, config.depth, self.hidden);
        x.clone()
    }
}

fn main() {}
