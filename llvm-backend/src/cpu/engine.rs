//! From an LLVM module to native code in this process: the host target machine, the optimisation pipeline, and
//! MCJIT with the runtime's shims mapped in.

use std::sync::OnceLock;

use inkwell::OptimizationLevel;
use inkwell::basic_block::BasicBlock;
use inkwell::context::Context;
use inkwell::execution_engine::ExecutionEngine;
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{CodeModel, InitializationConfig, RelocMode, Target, TargetMachine};
use inkwell::types::BasicTypeEnum;
use inkwell::values::{BasicValueEnum, FunctionValue, InstructionOpcode};

use super::shims;
use crate::error::LlvmError;

/// The environment variable that replaces the host CPU: `haswell` (that CPU's features), `x86-64-v2`, or
/// `name:+feat,-feat` (for testing the code paths of older machines on a newer one; the CPU must be able to run
/// what it names).
pub const CPU_ENV: &str = "LIFTED_JIT_CPU";

/// The CPU name and features code is generated for (`znver4`, `+avx512f,...`), read once: the host's, or what
/// [`CPU_ENV`] names.
pub fn host_cpu() -> &'static (String, String) {
    static HOST: OnceLock<(String, String)> = OnceLock::new();
    HOST.get_or_init(|| match std::env::var(CPU_ENV) {
        Ok(spec) if !spec.trim().is_empty() => {
            let (name, features) = spec.trim().split_once(':').unwrap_or((spec.trim(), ""));
            (name.to_string(), features.to_string())
        }
        _ => (
            TargetMachine::get_host_cpu_name().to_string_lossy().into_owned(),
            TargetMachine::get_host_cpu_features().to_string_lossy().into_owned(),
        ),
    })
}

fn init_native() -> Result<(), LlvmError> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| Target::initialize_native(&InitializationConfig::default())).clone().map_err(LlvmError::Target)
}

/// A target machine for the host CPU with all its features (without them LLVM emits SSE2 only).
pub fn host_target_machine() -> Result<TargetMachine, LlvmError> {
    init_native()?;
    let triple = TargetMachine::get_default_triple();
    let target = Target::from_triple(&triple).map_err(|e| LlvmError::Target(e.to_string()))?;
    let (cpu, features) = host_cpu();
    target
        .create_target_machine(
            &triple,
            cpu,
            features,
            OptimizationLevel::Aggressive,
            RelocMode::Default,
            CodeModel::JITDefault,
        )
        .ok_or_else(|| LlvmError::Target(format!("no target machine for {}", triple.as_str().to_string_lossy())))
}

/// Marks every defined function for the host CPU, preferring 512-bit vectors, so code generation uses them.
pub fn mark_host_functions(context: &Context, module: &Module<'_>) {
    let (cpu, features) = host_cpu();
    let attrs = [
        context.create_string_attribute("target-cpu", cpu),
        context.create_string_attribute("target-features", features),
        context.create_string_attribute("prefer-vector-width", "512"),
        context.create_string_attribute("min-legal-vector-width", "512"),
        context.create_string_attribute("nounwind", ""),
    ];
    let mut f = module.get_first_function();
    while let Some(func) = f {
        if func.count_basic_blocks() > 0 {
            for a in attrs.iter().take(4) {
                func.add_attribute(inkwell::attributes::AttributeLoc::Function, *a);
            }
        }
        f = func.get_next_function();
    }
}

/// The optimisation pipeline (`LIFTED_JIT_PIPELINE` overrides it, for experiments).
///
/// Our kernels arrive as simple loop nests whose bodies are already inlined straight-line code, so most of
/// `default<O2>` (the inliner, GVN, repeated simplification, runtime unrolling) only costs time: this pipeline keeps
/// what the kernels need — inline the bodies, clean up, rotate and hoist loops, canonicalise induction variables,
/// vectorise — and measured the same run time or better with half the compile time of the W4 MLP (optimise
/// 15 → ~4 ms; smaller code also halves instruction selection; first call 43 → 20 ms).
const PIPELINE_DEFAULT: &str = "always-inline,function(sroa,early-cse,instcombine<no-verify-fixpoint>,simplifycfg,loop(loop-rotate),\
                                loop-mssa(licm),loop(indvars),loop-vectorize,infer-alignment,instcombine<no-verify-fixpoint>,simplifycfg)";

/// Verifies and optimises a module for the host.
pub fn optimise(module: &Module<'_>, tm: &TargetMachine) -> Result<(), LlvmError> {
    module.set_triple(&tm.get_triple());
    module.set_data_layout(&tm.get_target_data().get_data_layout());
    module.verify().map_err(|e| LlvmError::Verify(e.to_string()))?;
    let pipeline = std::env::var("LIFTED_JIT_PIPELINE").unwrap_or_else(|_| PIPELINE_DEFAULT.to_string());
    let options = PassBuilderOptions::create();
    options.set_loop_vectorization(true);
    options.set_loop_slp_vectorization(true);
    options.set_loop_unrolling(true);
    module.run_passes(&pipeline, tm, options).map_err(|e| LlvmError::Passes(e.to_string()))
}

/// Flat loop kernels whose result takes at least this many bytes (default 16 MiB, `LIFTED_JIT_STREAMING_BYTES`;
/// `0` turns streaming off) store it with non-temporal stores: a result that large leaves the caches anyway, and a
/// non-temporal store writes a cache line without reading it first (a quarter of the memory traffic of `x*y+z`).
pub fn streaming_bytes() -> Option<usize> {
    static BYTES: OnceLock<Option<usize>> = OnceLock::new();
    *BYTES.get_or_init(|| match std::env::var("LIFTED_JIT_STREAMING_BYTES").ok().and_then(|v| v.trim().parse().ok()) {
        Some(0) => None,
        Some(bytes) => Some(bytes),
        None => Some(16 << 20),
    })
}

/// After optimisation: in the named kernels, the vector stores of the aligned loop of `emit_streaming_loop` become
/// aligned non-temporal stores, and the kernel ends with an `sfence` (non-temporal stores are weakly ordered), so
/// its results are visible to the thread that reads them next. Returns how many stores became non-temporal.
///
/// That loop starts at an element whose address is a multiple of 64 bytes (checked at run time: it is the region
/// the branch on `is_aligned` guards), and LLVM's loop vectoriser never peels: its vector loops start at the loop's
/// first iteration plus multiples of the vectorisation factor, so a vector store of `n` bytes (at most 64) there is
/// at a multiple of `n` bytes from that element. Those stores are found as the vector stores in the blocks that the
/// guarded successor dominates.
pub fn stream_stores(context: &Context, module: &Module<'_>, kernels: &[String]) -> usize {
    let is_x86 = module.get_triple().as_str().to_string_lossy().starts_with("x86_64");
    let sfence =
        inkwell::intrinsics::Intrinsic::find("llvm.x86.sse.sfence").and_then(|i| i.get_declaration(module, &[]));
    let (true, Some(sfence)) = (is_x86, sfence) else {
        return 0;
    };
    let kind = context.get_kind_id("nontemporal");
    let one = context.metadata_node(&[context.i32_type().const_int(1, false).into()]);
    let builder = context.create_builder();
    let mut marked = 0;
    for name in kernels {
        let Some(f) = module.get_function(name) else { continue };
        let mut streamed = false;
        for entry in aligned_entries(f) {
            for bb in dominated_by(f, entry) {
                let mut inst = bb.get_first_instruction();
                while let Some(i) = inst {
                    inst = i.get_next_instruction();
                    if i.get_opcode() != InstructionOpcode::Store {
                        continue;
                    }
                    let bytes = match i.get_operand(0).and_then(|o| o.value()) {
                        Some(BasicValueEnum::VectorValue(v)) => {
                            let t = v.get_type();
                            u64::from(t.get_size()) * element_bits(t.get_element_type()) / 8
                        }
                        _ => 0,
                    };
                    if (16..=64).contains(&bytes)
                        && bytes.is_power_of_two()
                        && i.set_alignment(bytes as u32).is_ok()
                        && i.set_metadata(one, kind).is_ok()
                    {
                        streamed = true;
                        marked += 1;
                    }
                }
            }
        }
        if streamed {
            for bb in f.get_basic_blocks() {
                if let Some(ret) = bb.get_terminator().filter(|t| t.get_opcode() == InstructionOpcode::Return) {
                    builder.position_before(&ret);
                    let _ = builder.build_call(sfence, &[], "");
                }
            }
        }
    }
    marked
}

/// The blocks a conditional branch on an `is_aligned` comparison enters when it holds.
fn aligned_entries<'ctx>(f: FunctionValue<'ctx>) -> Vec<BasicBlock<'ctx>> {
    let mut out = Vec::new();
    for bb in f.get_basic_blocks() {
        let Some(br) = bb.get_terminator().filter(|t| t.get_opcode() == InstructionOpcode::Br) else { continue };
        if br.get_num_operands() != 3 {
            continue;
        }
        // A conditional `br` has the operands (condition, false destination, true destination).
        let is_aligned_cond = match br.get_operand(0).and_then(|o| o.value()) {
            Some(BasicValueEnum::IntValue(c)) => c.get_name().to_str().is_ok_and(|n| n.starts_with("is_aligned")),
            _ => false,
        };
        if let (true, Some(target)) = (is_aligned_cond, br.get_operand(2).and_then(|o| o.block())) {
            out.push(target);
        }
    }
    out
}

/// The successors of a block (the block operands of its terminator).
fn successors<'ctx>(bb: BasicBlock<'ctx>) -> Vec<BasicBlock<'ctx>> {
    let Some(t) = bb.get_terminator() else { return Vec::new() };
    (0..t.get_num_operands()).filter_map(|k| t.get_operand(k).and_then(|o| o.block())).collect()
}

/// The blocks that `head` dominates: reachable from it, and not reachable from the entry without it.
fn dominated_by<'ctx>(f: FunctionValue<'ctx>, head: BasicBlock<'ctx>) -> Vec<BasicBlock<'ctx>> {
    let reach = |from: BasicBlock<'ctx>, avoid: Option<BasicBlock<'ctx>>| {
        let mut seen = vec![from];
        let mut stack = vec![from];
        while let Some(b) = stack.pop() {
            for s in successors(b) {
                if Some(s) != avoid && !seen.contains(&s) {
                    seen.push(s);
                    stack.push(s);
                }
            }
        }
        seen
    };
    let Some(entry) = f.get_first_basic_block() else { return Vec::new() };
    if entry == head {
        return f.get_basic_blocks();
    }
    let around = reach(entry, Some(head));
    reach(head, None).into_iter().filter(|b| !around.contains(b)).collect()
}

/// Bits of a vector's element type (0 for types a vector store of ours never has).
fn element_bits(t: BasicTypeEnum<'_>) -> u64 {
    match t {
        BasicTypeEnum::FloatType(f) => {
            if f == f.get_context().f64_type() {
                64
            } else {
                32
            }
        }
        BasicTypeEnum::IntType(i) => u64::from(i.get_bit_width()),
        _ => 0,
    }
}

fn codegen_level() -> OptimizationLevel {
    match std::env::var("LIFTED_JIT_CODEGEN").as_deref() {
        Ok("0") => OptimizationLevel::None,
        Ok("1") => OptimizationLevel::Less,
        Ok("3") => OptimizationLevel::Aggressive,
        _ => OptimizationLevel::Default,
    }
}

/// JIT-compiles an optimised module and maps the runtime shims it declares.
pub fn jit<'ctx>(module: &Module<'ctx>) -> Result<ExecutionEngine<'ctx>, LlvmError> {
    let ee = module.create_jit_execution_engine(codegen_level()).map_err(|e| LlvmError::Engine(e.to_string()))?;
    let map = |f: Option<FunctionValue<'ctx>>, addr: usize| {
        if let Some(f) = f {
            ee.add_global_mapping(&f, addr);
        }
    };
    map(module.get_function("ljit_parallel_for"), shims::ljit_parallel_for as *const () as usize);
    map(module.get_function("ljit_gemm_f32"), shims::ljit_gemm_f32 as *const () as usize);
    map(module.get_function("ljit_gemm_f64"), shims::ljit_gemm_f64 as *const () as usize);
    Ok(ee)
}
