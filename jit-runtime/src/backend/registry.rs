//! The process-wide set of backends and how a name or device picks one.

use std::sync::{Arc, LazyLock};

use parking_lot::RwLock;

use super::{Backend, Device, InterpreterBackend, Platform};
use crate::error::{Error, Result};

static REGISTRY: LazyLock<RwLock<Vec<Arc<dyn Backend>>>> =
    LazyLock::new(|| RwLock::new(vec![Arc::new(InterpreterBackend) as Arc<dyn Backend>]));

/// Adds a backend (replacing one of the same name). The facade registers the LLVM backends at start-up.
pub fn register_backend(backend: Arc<dyn Backend>) {
    let mut r = REGISTRY.write();
    r.retain(|b| b.name() != backend.name());
    r.push(backend);
}

/// The names of the registered backends.
pub fn backend_names() -> Vec<String> {
    REGISTRY.read().iter().map(|b| b.name().to_string()).collect()
}

fn best_for(platform: Platform) -> Option<Arc<dyn Backend>> {
    REGISTRY.read().iter().filter(|b| b.platform() == platform).max_by_key(|b| b.priority()).cloned()
}

/// Picks the backend and device for a `backend` name and/or a `device`: a backend's own name, a platform name
/// (`cpu`; `gpu` or `cuda`) meaning that platform's default backend, or neither (the CPU default). The device must
/// be one the backend reports.
pub fn resolve(backend: Option<&str>, device: Option<Device>) -> Result<(Arc<dyn Backend>, Device)> {
    let platform_of = |name: &str| match name {
        "cpu" => Some(Platform::Cpu),
        "gpu" | "cuda" => Some(Platform::Gpu),
        _ => None,
    };
    let chosen = match (backend, device) {
        (Some(name), _) => {
            let by_name = REGISTRY.read().iter().find(|b| b.name() == name).cloned();
            match (by_name, platform_of(name)) {
                (Some(b), _) => b,
                (None, Some(p)) => best_for(p).ok_or_else(|| no_backend_for(p))?,
                (None, None) => {
                    return Err(Error::UnknownBackend {
                        name: name.to_string(),
                        available: format!("cpu, gpu, cuda, {}", backend_names().join(", ")),
                    });
                }
            }
        }
        (None, Some(d)) => best_for(d.platform).ok_or_else(|| unavailable(d))?,
        (None, None) => best_for(Platform::Cpu).ok_or_else(|| no_backend_for(Platform::Cpu))?,
    };
    let devices = chosen.devices()?;
    let device = match device {
        Some(d) if devices.contains(&d) => d,
        Some(d) => return Err(unavailable(d)),
        None => *devices.first().ok_or_else(|| Error::Backend {
            backend: chosen.name().to_string(),
            message: format!("no device available; devices available: {}", available_devices()),
        })?,
    };
    Ok((chosen, device))
}

/// The backend that places arrays on `device`: the highest-priority backend of its platform that reports the
/// device now (so that a registered GPU emulation serves `cuda:0` where the real GPU backend finds no driver).
/// An error names the devices available.
pub fn backend_for_device(device: Device) -> Result<Arc<dyn Backend>> {
    let mut candidates: Vec<Arc<dyn Backend>> =
        REGISTRY.read().iter().filter(|b| b.platform() == device.platform).cloned().collect();
    candidates.sort_by_key(|b| std::cmp::Reverse(b.priority()));
    let mut first_error = None;
    for b in candidates {
        match b.devices() {
            Ok(ds) if ds.contains(&device) => return Ok(b),
            Ok(_) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| unavailable(device)))
}

/// The device asked for is not among those found (no backend for its platform, or no such ordinal).
fn unavailable(d: Device) -> Error {
    Error::UnknownDevice { name: d.to_string(), available: available_devices() }
}

fn no_backend_for(p: Platform) -> Error {
    Error::Backend {
        backend: p.name().to_string(),
        message: format!(
            "no {} backend is available in this build; devices available: {}",
            p.name(),
            available_devices()
        ),
    }
}

/// Every device of every registered backend, as text (`cpu:0, cuda:0`).
pub fn available_devices() -> String {
    let mut all: Vec<Device> = REGISTRY.read().iter().filter_map(|b| b.devices().ok()).flatten().collect();
    all.sort();
    all.dedup();
    all.iter().map(Device::to_string).collect::<Vec<_>>().join(", ")
}
