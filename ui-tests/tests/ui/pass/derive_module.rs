//! `#[derive(Module)]` on structs with floats, tuple and unit structs, generics and enums; floats compare and hash
//! by bit pattern.
#![deny(warnings)]
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use lifted_jit::Module;

#[derive(Module, Clone, Debug)]
struct Mlp {
    hidden: usize,
    dropout: f32,
    rates: Option<Vec<(f64, u8)>>,
    window: [f32; 2],
}

#[derive(Module, Clone, Debug)]
#[module(name = "Dense")]
struct Linear(usize, f64);

#[derive(Module, Clone, Debug)]
struct Identity;

#[derive(Module, Clone, Debug)]
struct Stack<T> {
    layers: Vec<T>,
    scale: f32,
}

#[derive(Module, Clone, Debug)]
enum Act {
    Relu,
    Leaky(f32),
    Custom { slope: f64, name: String },
}

#[derive(Module, Clone, Debug)]
enum Never {}

fn hash<T: Hash>(t: &T) -> u64 {
    let mut h = DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

fn main() {
    let a = Mlp { hidden: 4, dropout: 0.1, rates: Some(vec![(0.5, 1)]), window: [1.0, f32::NAN] };
    assert_eq!(a, a.clone());
    assert_eq!(hash(&a), hash(&a.clone()));
    assert_ne!(a, Mlp { dropout: 0.2, ..a.clone() });
    assert_ne!(Mlp { dropout: 0.0, ..a.clone() }, Mlp { dropout: -0.0, ..a.clone() });
    assert_ne!(a, Mlp { rates: None, ..a.clone() });
    assert_eq!(<Mlp as Module>::NAME, "Mlp");
    assert_eq!(<Linear as Module>::NAME, "Dense");
    assert_eq!(Linear(1, 0.5), Linear(1, 0.5));
    assert_eq!(Identity, Identity);
    let s = Stack { layers: vec![Identity], scale: 1.0 };
    assert_eq!(s, s.clone());
    assert_eq!(<Stack<Identity> as Module>::NAME, "Stack");
    assert_ne!(Act::Relu, Act::Leaky(0.1));
    assert_eq!(Act::Leaky(f32::NAN), Act::Leaky(f32::NAN));
    assert_eq!(
        hash(&Act::Custom { slope: 1.0, name: "x".into() }),
        hash(&Act::Custom { slope: 1.0, name: "x".into() })
    );
    assert_ne!(Act::Custom { slope: 1.0, name: "x".into() }, Act::Custom { slope: 1.0, name: "y".into() });
    let _ = <Never as Module>::NAME;
}
