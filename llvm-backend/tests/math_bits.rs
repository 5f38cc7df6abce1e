//! The compiled math functions give the same bits as `jit_runtime::math` (what the interpreter runs).
//!
//! Each function is emitted with `llvm_backend::math` into a kernel `@kern`, called from a loop
//! `void run(const T* x, T* y, i64 n)` over an array (scalar code that LLVM's loop vectoriser widens) and from a
//! loop over explicit `<8 x float>` / `<4 x double>` vectors. The module is optimised at O3 for the host CPU (name
//! and features), JIT-compiled by MCJIT, and run on sweeps, special values and random bit patterns; every output
//! must equal the Rust scalar function's bit for bit, NaNs included.

use inkwell::OptimizationLevel;
use inkwell::attributes::AttributeLoc;
use inkwell::context::Context;
use inkwell::memory_buffer::MemoryBuffer;
use inkwell::module::{Linkage, Module};
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{CodeModel, InitializationConfig, RelocMode, Target, TargetMachine};
use inkwell::values::BasicValueEnum;
use jit_runtime::math;
use llvm_backend::math::{MathCx, MathFn, emit_atan2, emit_pow, emit_unary};

// ---------------------------------------------------------------------------------------------------------------
// JIT harness
// ---------------------------------------------------------------------------------------------------------------

/// What `@kern` computes.
#[derive(Clone, Copy, Debug)]
enum Kernel {
    Unary(MathFn),
    Pow,
    Atan2,
}

impl Kernel {
    fn arity(self) -> usize {
        match self {
            Kernel::Unary(_) => 1,
            Kernel::Pow | Kernel::Atan2 => 2,
        }
    }
}

/// The element type: `f32` or `f64`.
trait Elem: Copy + Default + std::fmt::Debug {
    const IR: &'static str;
    const SIZE: usize;
    /// Lanes of the explicit vector variant.
    const LANES: usize;
    fn bits(self) -> u64;
    fn unary(f: MathFn, x: Self) -> Self;
    fn binary(k: Kernel, a: Self, b: Self) -> Self;
}

impl Elem for f32 {
    const IR: &'static str = "float";
    const SIZE: usize = 4;
    const LANES: usize = 8;
    fn bits(self) -> u64 {
        u64::from(self.to_bits())
    }
    fn unary(f: MathFn, x: f32) -> f32 {
        match f {
            MathFn::Exp => math::exp_f32(x),
            MathFn::Expm1 => math::expm1_f32(x),
            MathFn::Log => math::log_f32(x),
            MathFn::Log1p => math::log1p_f32(x),
            MathFn::Tanh => math::tanh_f32(x),
            MathFn::Logistic => math::logistic_f32(x),
            MathFn::Erf => math::erf_f32(x),
            MathFn::Erfc => math::erfc_f32(x),
            MathFn::ErfInv => math::erf_inv_f32(x),
            MathFn::Sin => math::sin_f32(x),
            MathFn::Cos => math::cos_f32(x),
            MathFn::Round => math::round_f32(x),
        }
    }
    fn binary(k: Kernel, a: f32, b: f32) -> f32 {
        match k {
            Kernel::Pow => math::pow_f32(a, b),
            Kernel::Atan2 => math::atan2_f32(a, b),
            Kernel::Unary(f) => Self::unary(f, a),
        }
    }
}

impl Elem for f64 {
    const IR: &'static str = "double";
    const SIZE: usize = 8;
    const LANES: usize = 4;
    fn bits(self) -> u64 {
        self.to_bits()
    }
    fn unary(f: MathFn, x: f64) -> f64 {
        match f {
            MathFn::Exp => math::exp_f64(x),
            MathFn::Expm1 => math::expm1_f64(x),
            MathFn::Log => math::log_f64(x),
            MathFn::Log1p => math::log1p_f64(x),
            MathFn::Tanh => math::tanh_f64(x),
            MathFn::Logistic => math::logistic_f64(x),
            MathFn::Erf => math::erf_f64(x),
            MathFn::Erfc => math::erfc_f64(x),
            MathFn::ErfInv => math::erf_inv_f64(x),
            MathFn::Sin => math::sin_f64(x),
            MathFn::Cos => math::cos_f64(x),
            MathFn::Round => math::round_f64(x),
        }
    }
    fn binary(k: Kernel, a: f64, b: f64) -> f64 {
        match k {
            Kernel::Pow => math::pow_f64(a, b),
            Kernel::Atan2 => math::atan2_f64(a, b),
            Kernel::Unary(f) => Self::unary(f, a),
        }
    }
}

/// The loop `run` in LLVM IR text: over elements (`lanes == 1`) or over `<lanes x T>` vectors, calling `@kern`.
fn loop_ir<T: Elem>(arity: usize, lanes: usize) -> String {
    let t = T::IR;
    let v = if lanes == 1 { t.to_string() } else { format!("<{lanes} x {t}>") };
    let align = T::SIZE;
    let args: Vec<String> = (0..arity).map(|a| format!("ptr noalias %x{a}")).collect();
    let mut body = String::new();
    let mut call_args = Vec::new();
    for a in 0..arity {
        body += &format!("  %p{a} = getelementptr inbounds {t}, ptr %x{a}, i64 %i\n");
        body += &format!("  %v{a} = load {v}, ptr %p{a}, align {align}\n");
        call_args.push(format!("{v} %v{a}"));
    }
    format!(
        "define void @run({args}, ptr noalias %y, i64 %n) {{
entry:
  %c0 = icmp sgt i64 %n, 0
  br i1 %c0, label %loop, label %exit
loop:
  %i = phi i64 [ 0, %entry ], [ %i1, %loop ]
{body}  %r = call {v} @kern({call_args})
  %py = getelementptr inbounds {t}, ptr %y, i64 %i
  store {v} %r, ptr %py, align {align}
  %i1 = add nuw nsw i64 %i, {lanes}
  %c = icmp slt i64 %i1, %n
  br i1 %c, label %loop, label %exit
exit:
  ret void
}}
declare {v} @kern({params})
",
        args = args.join(", "),
        call_args = call_args.join(", "),
        params = vec![v.clone(); arity].join(", "),
    )
}

fn host_machine() -> TargetMachine {
    Target::initialize_native(&InitializationConfig::default()).expect("native target");
    let triple = TargetMachine::get_default_triple();
    let target = Target::from_triple(&triple).expect("host target");
    let cpu = TargetMachine::get_host_cpu_name().to_string_lossy().into_owned();
    let features = TargetMachine::get_host_cpu_features().to_string_lossy().into_owned();
    target
        .create_target_machine(
            &triple,
            &cpu,
            &features,
            OptimizationLevel::Aggressive,
            RelocMode::Default,
            CodeModel::JITDefault,
        )
        .expect("host target machine")
}

/// Builds the module: the loop from text, `@kern`'s body from `llvm_backend::math`, host attributes, O3.
fn build<'ctx, T: Elem>(context: &'ctx Context, kernel: Kernel, lanes: usize, machine: &TargetMachine) -> Module<'ctx> {
    let text = loop_ir::<T>(kernel.arity(), lanes);
    let buffer = MemoryBuffer::create_from_memory_range_copy(text.as_bytes(), "loop");
    let module = context.create_module_from_ir(buffer).expect("loop IR parses");
    module.set_triple(&machine.get_triple());
    module.set_data_layout(&machine.get_target_data().get_data_layout());
    let kern = module.get_function("kern").expect("@kern");
    kern.set_linkage(Linkage::Internal);
    let builder = context.create_builder();
    builder.position_at_end(context.append_basic_block(kern, "entry"));
    let cx = MathCx { context, module: &module, builder: &builder };
    let params: Vec<BasicValueEnum> = kern.get_param_iter().collect();
    let y = match kernel {
        Kernel::Unary(f) => emit_unary(&cx, f, params[0]),
        Kernel::Pow => emit_pow(&cx, params[0], params[1]),
        Kernel::Atan2 => emit_atan2(&cx, params[0], params[1]),
    }
    .expect("emits");
    builder.build_return(Some(&y)).expect("return");
    let cpu = TargetMachine::get_host_cpu_name().to_string_lossy().into_owned();
    let features = TargetMachine::get_host_cpu_features().to_string_lossy().into_owned();
    for f in [kern, module.get_function("run").expect("@run")] {
        f.add_attribute(AttributeLoc::Function, context.create_string_attribute("target-cpu", &cpu));
        f.add_attribute(AttributeLoc::Function, context.create_string_attribute("target-features", &features));
        f.add_attribute(AttributeLoc::Function, context.create_string_attribute("prefer-vector-width", "512"));
    }
    module.verify().unwrap_or_else(|e| panic!("{kernel:?}: invalid module: {}", e.to_string_lossy()));
    module.run_passes("default<O3>", machine, PassBuilderOptions::create()).expect("O3");
    module
}

/// Runs `kernel` compiled over `inputs` (one slice per operand) and returns the outputs.
fn run_compiled<T: Elem>(kernel: Kernel, lanes: usize, inputs: &[&[T]], machine: &TargetMachine) -> Vec<T> {
    let context = Context::create();
    let module = build::<T>(&context, kernel, lanes, machine);
    let engine = module.create_jit_execution_engine(OptimizationLevel::Aggressive).expect("MCJIT");
    let n = inputs[0].len();
    assert_eq!(n % lanes, 0);
    let mut out = vec![T::default(); n];
    match inputs {
        [x] => {
            type Run1<T> = unsafe extern "C" fn(*const T, *mut T, i64);
            // SAFETY: `run` was compiled from `loop_ir` with the signature `void(ptr, ptr, i64)`: it reads `n`
            // elements of `x` and writes `n` elements of `out`, both live slices of that length (a multiple of
            // `lanes`), and touches nothing else.
            unsafe {
                let f = engine.get_function::<Run1<T>>("run").expect("run");
                f.call(x.as_ptr(), out.as_mut_ptr(), n as i64);
            }
        }
        [x, y] => {
            type Run2<T> = unsafe extern "C" fn(*const T, *const T, *mut T, i64);
            // SAFETY: as above with two input slices of length `n`.
            unsafe {
                let f = engine.get_function::<Run2<T>>("run").expect("run");
                f.call(x.as_ptr(), y.as_ptr(), out.as_mut_ptr(), n as i64);
            }
        }
        _ => unreachable!("one or two operands"),
    }
    out
}

/// Asserts bit equality of the compiled outputs with the Rust scalar functions.
fn check<T: Elem>(kernel: Kernel, lanes: usize, inputs: &[&[T]], machine: &TargetMachine) {
    let got = run_compiled(kernel, lanes, inputs, machine);
    let mut bad = Vec::new();
    for (i, g) in got.iter().enumerate() {
        let want = match kernel {
            Kernel::Unary(f) => T::unary(f, inputs[0][i]),
            _ => T::binary(kernel, inputs[0][i], inputs[1][i]),
        };
        if g.bits() != want.bits() {
            bad.push((inputs.iter().map(|s| s[i]).collect::<Vec<T>>(), *g, want));
        }
    }
    assert!(
        bad.is_empty(),
        "{kernel:?} {} lanes={lanes}: {} of {} differ, e.g. {:?}",
        T::IR,
        bad.len(),
        got.len(),
        &bad[..bad.len().min(5)]
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Special values, sweeps of several ranges, every 65537th bit pattern and random bits; padded to a multiple of 8.
fn inputs_f32() -> Vec<f32> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.5,
        -2.5,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7fa0_0001),
        f32::from_bits(0xffc1_2345),
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::from_bits(0x8000_0001),
        f32::MAX,
        f32::MIN,
        f32::EPSILON,
        1.0 - f32::EPSILON / 2.0,
        -1.0 + f32::EPSILON / 2.0,
        88.72284,
        88.7229,
        -87.33655,
        -103.97208,
        -104.0,
        1e5,
        -1e5,
        1e30,
        8_388_608.5,
    ];
    for (lo, hi, n) in [(-1.0f64, 1.0, 20_000), (-10.0, 10.0, 20_000), (-120.0, 120.0, 20_000), (-1e5, 1e5, 20_000)] {
        v.extend((0..=n).map(|i| (lo + (hi - lo) * f64::from(i) / f64::from(n)) as f32));
    }
    // Near ±1, where `erf_inv` takes its tail branch and its `log1p` the logarithm of `1 - x^2`.
    v.extend((0..=20_000u32).flat_map(|i| [f32::from_bits(0x3f80_0000 - i), -f32::from_bits(0x3f80_0000 - i)]));
    v.extend((0..u32::MAX / 65_537).map(|i| f32::from_bits(i * 65_537)));
    let mut rng = Rng(0x1234_5678_9abc_def1);
    v.extend((0..50_000).map(|_| f32::from_bits(rng.next() as u32)));
    while v.len() % 8 != 0 {
        v.push(0.25);
    }
    v
}

fn inputs_f64() -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.5,
        -2.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff4_0000_0000_0001),
        f64::from_bits(0xfff8_1234_5678_9abc),
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::from_bits(0x8000_0000_0000_0001),
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        1.0 - f64::EPSILON / 2.0,
        -1.0 + f64::EPSILON / 2.0,
        709.782_712_893_384,
        709.79,
        -708.4,
        -745.133_219_101_941_2,
        -746.0,
        1e9,
        -1e9,
        1e300,
        4_503_599_627_370_495.5,
    ];
    for (lo, hi, n) in [(-1.0, 1.0, 20_000), (-10.0, 10.0, 20_000), (-800.0, 800.0, 20_000), (-1e9, 1e9, 20_000)] {
        v.extend((0..=n).map(|i| lo + (hi - lo) * f64::from(i) / f64::from(n)));
    }
    v.extend((0..65_536u64).map(|i| f64::from_bits(i.wrapping_mul(0x0001_0000_1000_0001 * 17))));
    let mut rng = Rng(0x0fed_cba9_8765_4321);
    v.extend((0..50_000).map(|_| f64::from_bits(rng.next())));
    while v.len() % 8 != 0 {
        v.push(0.25);
    }
    v
}

/// Operand pairs for `pow`/`atan2`: every special value against every other, then random and swept pairs.
fn pairs<T: Elem>(xs: &[T], interesting: &[T]) -> (Vec<T>, Vec<T>) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for &p in interesting {
        for &q in interesting {
            a.push(p);
            b.push(q);
        }
    }
    let mut rng = Rng(0x5555_aaaa_3333_cccc);
    for _ in 0..60_000 {
        a.push(xs[rng.next() as usize % xs.len()]);
        b.push(xs[rng.next() as usize % xs.len()]);
    }
    while a.len() % 8 != 0 {
        a.push(T::default());
        b.push(T::default());
    }
    (a, b)
}

fn interesting_f32() -> Vec<f32> {
    let mut v = inputs_f32()[..32].to_vec();
    v.extend([3.0, -3.0, 0.3, -7.5, 1e-3, 1e10, -1e-30, 4.0, 0.1]);
    v
}

fn interesting_f64() -> Vec<f64> {
    let mut v = inputs_f64()[..32].to_vec();
    v.extend([3.0, -3.0, 0.3, -7.5, 1e-3, 1e10, -1e-30, 4.0, 0.1]);
    v
}

// ---------------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn unary_f32_bits_match_in_loops_and_vectors() {
    let machine = host_machine();
    let xs = inputs_f32();
    for f in MathFn::ALL {
        check::<f32>(Kernel::Unary(f), 1, &[&xs], &machine);
        check::<f32>(Kernel::Unary(f), f32::LANES, &[&xs], &machine);
    }
}

#[test]
fn unary_f64_bits_match_in_loops_and_vectors() {
    let machine = host_machine();
    let xs = inputs_f64();
    for f in MathFn::ALL {
        check::<f64>(Kernel::Unary(f), 1, &[&xs], &machine);
        check::<f64>(Kernel::Unary(f), f64::LANES, &[&xs], &machine);
    }
}

#[test]
fn pow_and_atan2_bits_match() {
    let machine = host_machine();
    let (a, b) = pairs(&inputs_f32(), &interesting_f32());
    let (c, d) = pairs(&inputs_f64(), &interesting_f64());
    for k in [Kernel::Pow, Kernel::Atan2] {
        check::<f32>(k, 1, &[&a, &b], &machine);
        check::<f32>(k, f32::LANES, &[&a, &b], &machine);
        check::<f64>(k, 1, &[&c, &d], &machine);
        check::<f64>(k, f64::LANES, &[&c, &d], &machine);
    }
}

/// The scalar loops vectorise at O3 for the host CPU, and nothing but LLVM intrinsics is called (no libm).
#[test]
fn loops_vectorise_without_library_calls() {
    let machine = host_machine();
    let kernels = MathFn::ALL.map(Kernel::Unary).into_iter().chain([Kernel::Pow, Kernel::Atan2]);
    for k in kernels {
        for (t, ir) in [("float", "x float>"), ("double", "x double>")] {
            let context = Context::create();
            let module = if t == "float" {
                build::<f32>(&context, k, 1, &machine)
            } else {
                build::<f64>(&context, k, 1, &machine)
            };
            let text = module.print_to_string().to_string();
            let run = &text[text.find("define void @run").expect("@run")..];
            assert!(run.contains(ir), "{k:?} {t}: the loop did not vectorise:\n{run}");
            for line in run.lines().filter(|l| l.contains("call ")) {
                assert!(line.contains("@llvm."), "{k:?} {t}: a call that is not an LLVM intrinsic: {line}");
            }
        }
    }
}

/// Every function also compiles for NVPTX (the GPU backend) to plain PTX instructions: no call to any function
/// (`llvm.exp`-style intrinsics would need a libdevice there).
#[test]
fn every_function_compiles_to_ptx_without_calls() {
    use inkwell::targets::{FileType, TargetTriple};
    Target::initialize_nvptx(&InitializationConfig::default());
    let triple = TargetTriple::create("nvptx64-nvidia-cuda");
    let target = Target::from_triple(&triple).expect("NVPTX target");
    let machine = target
        .create_target_machine(
            &triple,
            "sm_80",
            "+ptx70",
            OptimizationLevel::Aggressive,
            RelocMode::Default,
            CodeModel::Default,
        )
        .expect("NVPTX target machine");
    let kernels = MathFn::ALL.map(Kernel::Unary).into_iter().chain([Kernel::Pow, Kernel::Atan2]);
    for k in kernels {
        for t in ["float", "double"] {
            let context = Context::create();
            let module = context.create_module("ptx");
            module.set_triple(&triple);
            let ty = if t == "float" { context.f32_type() } else { context.f64_type() };
            let f = module.add_function("kern", ty.fn_type(&vec![ty.into(); k.arity()], false), None);
            let builder = context.create_builder();
            builder.position_at_end(context.append_basic_block(f, "entry"));
            let cx = MathCx { context: &context, module: &module, builder: &builder };
            let p: Vec<BasicValueEnum> = f.get_param_iter().collect();
            let y = match k {
                Kernel::Unary(m) => emit_unary(&cx, m, p[0]),
                Kernel::Pow => emit_pow(&cx, p[0], p[1]),
                Kernel::Atan2 => emit_atan2(&cx, p[0], p[1]),
            }
            .expect("emits");
            builder.build_return(Some(&y)).expect("return");
            let ptx = machine.write_to_memory_buffer(&module, FileType::Assembly).expect("PTX");
            let ptx = String::from_utf8_lossy(ptx.as_slice()).into_owned();
            assert!(ptx.contains(".func") || ptx.contains(".visible"), "{k:?} {t}: no PTX function:\n{ptx}");
            assert!(!ptx.contains("call"), "{k:?} {t}: PTX calls something:\n{ptx}");
        }
    }
}
