//! Debug dumps: with `LIFTED_JIT_DUMP=<folder>`, each compile writes the traced IR, the fusion plan, LLVM IR
//! before and after optimisation, and the assembly, as `<folder>/<function>-<n>.<stage>`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable naming the dump folder.
pub const DUMP_ENV: &str = "LIFTED_JIT_DUMP";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Writes the stages of one compile, or nothing when dumping is off.
pub struct Dumper {
    prefix: Option<PathBuf>,
}

impl Dumper {
    /// A dumper for one compile of `name`, enabled by [`DUMP_ENV`].
    pub fn from_env(name: &str) -> Dumper {
        let prefix = std::env::var_os(DUMP_ENV).map(|dir| {
            let dir = PathBuf::from(dir);
            let _ = std::fs::create_dir_all(&dir);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let safe: String =
                name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
            dir.join(format!("{safe}-{n}"))
        });
        Dumper { prefix }
    }

    /// True when dumping.
    pub fn enabled(&self) -> bool {
        self.prefix.is_some()
    }

    /// Writes one stage (errors are ignored: dumps are a debugging aid and must not fail a compile).
    pub fn write(&self, stage: &str, text: &str) {
        if let Some(p) = &self.prefix {
            let mut path = p.clone().into_os_string();
            path.push(".");
            path.push(stage);
            let _ = std::fs::write(path, text);
        }
    }
}
