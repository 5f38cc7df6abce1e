//! The NVPTX target: a target machine for one GPU architecture, and PTX text from an optimised module.

use std::sync::OnceLock;

use inkwell::OptimizationLevel;
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetMachine, TargetTriple};

use crate::error::LlvmError;

/// The target triple of 64-bit CUDA PTX.
pub const NVPTX_TRIPLE: &str = "nvptx64-nvidia-cuda";

/// An NVIDIA GPU architecture, as its compute capability `major * 10 + minor` (`80` is `sm_80`, Ampere).
///
/// ```
/// use llvm_backend::gpu::SmVersion;
/// assert_eq!(SmVersion::from_compute_capability(9, 0).cpu_name(), "sm_90");
/// assert_eq!(SmVersion::DEFAULT.ptx_features(), "+ptx70");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SmVersion(pub u32);

impl SmVersion {
    /// `sm_80`: what kernels target unless the device reports something newer.
    pub const DEFAULT: SmVersion = SmVersion(80);

    /// The architecture of a device with compute capability `major.minor`: `sm_90` for 9.x and newer, `sm_80`
    /// for 8.x; older devices get their own number (LLVM supports down to `sm_30`).
    pub fn from_compute_capability(major: i32, minor: i32) -> SmVersion {
        let cc = (major.max(0) as u32) * 10 + minor.max(0) as u32;
        if cc >= 90 {
            SmVersion(90)
        } else if cc >= 80 {
            SmVersion(80)
        } else {
            SmVersion(cc.max(30))
        }
    }

    /// The LLVM CPU name, `sm_80`.
    pub fn cpu_name(self) -> String {
        format!("sm_{}", self.0)
    }

    /// The PTX ISA version the code is written in: the oldest that supports the architecture (7.0 for `sm_80`,
    /// 7.8 for `sm_90`), so older drivers load it.
    pub fn ptx_features(self) -> &'static str {
        if self.0 >= 90 { "+ptx78" } else { "+ptx70" }
    }
}

fn init_nvptx() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| Target::initialize_nvptx(&InitializationConfig::default()));
}

/// A target machine generating PTX for `sm`.
pub fn nvptx_target_machine(sm: SmVersion) -> Result<TargetMachine, LlvmError> {
    init_nvptx();
    let triple = TargetTriple::create(NVPTX_TRIPLE);
    let target = Target::from_triple(&triple).map_err(|e| LlvmError::Target(e.to_string()))?;
    target
        .create_target_machine(
            &triple,
            &sm.cpu_name(),
            sm.ptx_features(),
            OptimizationLevel::Aggressive,
            RelocMode::Default,
            CodeModel::Default,
        )
        .ok_or_else(|| LlvmError::Target(format!("no NVPTX target machine for {}", sm.cpu_name())))
}

/// The optimisation pipeline for GPU kernels: the CPU backend's (inline the kernel bodies, clean up, rotate and
/// hoist loops) without the vectoriser, with address-space inference first (so loads and stores of the buffers,
/// declared global in the entry points, become `ld.global`/`st.global` before anything folds the casts away) and
/// again at the end.
pub const NVPTX_PIPELINE: &str = "always-inline,function(infer-address-spaces,sroa,early-cse,instcombine<no-verify-fixpoint>,\
                                  simplifycfg,loop(loop-rotate),loop-mssa(licm),loop(indvars),\
                                  instcombine<no-verify-fixpoint>,simplifycfg,infer-address-spaces)";

/// Verifies and optimises a module of GPU kernels for `tm` (an NVPTX target machine).
pub fn optimise_nvptx(module: &Module<'_>, tm: &TargetMachine) -> Result<(), LlvmError> {
    module.set_triple(&tm.get_triple());
    module.set_data_layout(&tm.get_target_data().get_data_layout());
    module.verify().map_err(|e| LlvmError::Verify(e.to_string()))?;
    module.run_passes(NVPTX_PIPELINE, tm, PassBuilderOptions::create()).map_err(|e| LlvmError::Passes(e.to_string()))
}

/// The PTX text of an optimised module.
pub fn ptx_text(module: &Module<'_>, tm: &TargetMachine) -> Result<String, LlvmError> {
    let buf = tm.write_to_memory_buffer(module, FileType::Assembly).map_err(|e| LlvmError::Target(e.to_string()))?;
    Ok(String::from_utf8_lossy(buf.as_slice()).into_owned())
}
