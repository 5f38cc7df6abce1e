use lifted_jit::{Module, Tensor, lifted_jit};

#[derive(Module, Clone, Debug)]
struct Mlp {
    hidden: usize,
}

#[lifted_jit(methods = [forward])]
impl Mlp {
    fn forward(&self, x: &Tensor) -> Tensor {
        let _ = self.hidden;
        x.clone()
    }
}

fn main() {}
