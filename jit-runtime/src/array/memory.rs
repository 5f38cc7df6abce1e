//! Whether the host can hold a large allocation: checked against the memory the kernel reports as available, so a
//! program whose results or temporaries do not fit the machine gets an error instead of the out-of-memory killer.
//!
//! Linux over-commits: a 25 GB zeroed buffer on a 24 GB machine is "allocated" at once and the process is killed
//! later, while the pages are written. Every allocation of at least [`CHECKED_BYTES`] is therefore compared with
//! `MemAvailable` from `/proc/meminfo` (plus what the [`BufferPool`](super::BufferPool) retains, which it gives back
//! first). Smaller ones are not checked (reading `/proc/meminfo` costs a few microseconds). Where `/proc/meminfo`
//! cannot be read, nothing is checked.

use super::BufferPool;

/// Allocations of at least this many bytes (256 MiB) are checked.
pub const CHECKED_BYTES: usize = 256 << 20;

/// Bytes of memory the kernel reports as available (`MemAvailable`), if it can be read.
pub fn available_bytes() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// `Ok` when `bytes` can be allocated now, else a message naming `what()`, the size and what is available. Frees the
/// buffer pool's retained buffers when that makes the difference. Below [`CHECKED_BYTES`] this is one comparison
/// (`what` is only called for the message).
///
/// ```
/// use jit_runtime::array::memory::check_host_allocation;
/// assert!(check_host_allocation(1024, || "a result".into()).is_ok());
/// if jit_runtime::array::memory::available_bytes().is_some() {
///     let err = check_host_allocation(usize::MAX / 2, || "a result f32[...]".into()).unwrap_err();
///     assert!(err.contains("a result f32[...]"), "{err}");
/// }
/// ```
pub fn check_host_allocation(bytes: usize, what: impl FnOnce() -> String) -> Result<(), String> {
    if bytes < CHECKED_BYTES {
        return Ok(());
    }
    let Some(available) = available_bytes() else {
        return Ok(());
    };
    let pool = BufferPool::global();
    let retained = pool.stats().retained_bytes;
    if bytes <= available {
        return Ok(());
    }
    if bytes <= available.saturating_add(retained) {
        pool.clear();
        return Ok(());
    }
    Err(format!(
        "cannot allocate {} for {}: the machine has {} of memory available",
        human_bytes(bytes),
        what(),
        human_bytes(available.saturating_add(retained))
    ))
}

/// `1.5 GiB`, `300 MiB`, `12 KiB`, `17 B`.
pub fn human_bytes(bytes: usize) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_requests_pass_and_impossible_ones_name_what_and_sizes() {
        assert!(check_host_allocation(CHECKED_BYTES - 1, || "x".into()).is_ok());
        if available_bytes().is_some() {
            let err = check_host_allocation(1 << 50, || "result 0 (f32[262144,1048576])".into()).unwrap_err();
            assert!(err.contains("1.0 PiB") && err.contains("result 0 (f32[262144,1048576])"), "{err}");
            assert!(err.contains("available"), "{err}");
        }
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(17), "17 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(300 << 20), "300.0 MiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
