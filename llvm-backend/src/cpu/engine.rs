//! From an LLVM module to native code in this process: the host target machine, the optimisation pipeline, and
//! MCJIT with the runtime's shims mapped in.

use std::sync::OnceLock;

use inkwell::OptimizationLevel;
use inkwell::context::Context;
use inkwell::execution_engine::ExecutionEngine;
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{CodeModel, InitializationConfig, RelocMode, Target, TargetMachine};
use inkwell::values::FunctionValue;

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
                                loop-mssa(licm),loop(indvars),loop-vectorize,instcombine<no-verify-fixpoint>,simplifycfg)";

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
