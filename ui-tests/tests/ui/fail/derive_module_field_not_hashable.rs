use lifted_jit::Module;

#[derive(Clone, Debug, PartialEq)]
struct Opaque(f32);

#[derive(Module, Clone, Debug)]
struct Linear {
    width: usize,
    init: Opaque,
}

fn main() {}
