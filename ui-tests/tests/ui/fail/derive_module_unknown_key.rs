use lifted_jit::Module;

#[derive(Module, Clone, Debug)]
#[module(nmae = "Dense")]
struct Linear {
    width: usize,
}

fn main() {}
