//! Devices: where compiled code runs (`cpu:0`, `cuda:0`).

use std::fmt;

use crate::error::Error;

/// The kind of processor a backend targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    /// The host CPU.
    Cpu,
    /// An NVIDIA GPU through the CUDA driver.
    Gpu,
}

impl Platform {
    /// `cpu` or `cuda`.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Cpu => "cpu",
            Platform::Gpu => "cuda",
        }
    }
}

/// One device: a platform and an ordinal, written `cpu:0`, `cuda:1` (`gpu:1` is accepted too).
///
/// ```
/// use jit_runtime::backend::{Device, Platform};
/// let d: Device = "cuda:1".parse()?;
/// assert_eq!(d, Device { platform: Platform::Gpu, ordinal: 1 });
/// assert_eq!("cpu".parse::<Device>()?.to_string(), "cpu:0");
/// assert!("tpu:0".parse::<Device>().is_err());
/// # Ok::<(), jit_runtime::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Device {
    /// The platform.
    pub platform: Platform,
    /// Which device of that platform.
    pub ordinal: usize,
}

impl Device {
    /// The host CPU, `cpu:0`.
    pub const CPU: Device = Device { platform: Platform::Cpu, ordinal: 0 };

    /// GPU number `ordinal`, `cuda:N`.
    pub const fn gpu(ordinal: usize) -> Device {
        Device { platform: Platform::Gpu, ordinal }
    }
}

/// What names a device: a [`Device`], or its text (`"cuda:0"`, `"cpu"`).
pub trait IntoDevice {
    /// The device; an error for text that names none.
    fn into_device(self) -> Result<Device, Error>;
}

impl IntoDevice for Device {
    fn into_device(self) -> Result<Device, Error> {
        Ok(self)
    }
}

impl IntoDevice for &str {
    fn into_device(self) -> Result<Device, Error> {
        self.parse()
    }
}

impl IntoDevice for &String {
    fn into_device(self) -> Result<Device, Error> {
        self.parse()
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform.name(), self.ordinal)
    }
}

impl std::str::FromStr for Device {
    type Err = Error;

    fn from_str(s: &str) -> Result<Device, Error> {
        let (kind, ordinal) = match s.split_once(':') {
            Some((k, o)) => (k, Some(o)),
            None => (s, None),
        };
        let platform = match kind {
            "cpu" => Platform::Cpu,
            "gpu" | "cuda" => Platform::Gpu,
            _ => {
                return Err(Error::UnknownDevice {
                    name: s.to_string(),
                    available: "device names are cpu[:N] or cuda[:N] (alias gpu[:N])".to_string(),
                });
            }
        };
        let ordinal = match ordinal {
            None => 0,
            Some(o) => o.parse::<usize>().map_err(|_| Error::UnknownDevice {
                name: s.to_string(),
                available: format!("`{o}` is not a device number"),
            })?,
        };
        Ok(Device { platform, ordinal })
    }
}
