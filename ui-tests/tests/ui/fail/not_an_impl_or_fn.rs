use lifted_jit::lifted_jit;

#[lifted_jit]
struct Mlp {
    hidden: usize,
}

fn main() {}
