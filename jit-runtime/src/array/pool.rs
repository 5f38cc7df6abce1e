//! A pool of large host buffers, reused instead of freed (as XLA's host allocator does).
//!
//! A large fresh allocation comes from the kernel as untouched pages: the first write to each 4 KiB page faults, and
//! freeing it unmaps it again. For a 64 MiB output that is 16384 page faults per call, which costs more than the
//! computation that fills it. Buffers of at least [`MIN_POOLED_BYTES`] go back to the pool when a [`Literal`] that
//! owns them is dropped and come out again for the next buffer of the same byte size and alignment, already mapped.
//!
//! - **Classes**: exact byte size and alignment. A buffer is only reused for element types of the alignment it was
//!   allocated with (`f32`/`i32`/`u32`; `f64`/`i64`/`u64`; `bool` alone, whose storage must hold valid bools), so
//!   the allocator always frees it with the layout it was allocated with. The casts are `bytemuck`'s checked ones.
//! - **Bounded**: at most [`BufferPool::capacity`] bytes are retained (default: a quarter of the machine's memory,
//!   at most 1 GiB; `LIFTED_JIT_POOL_BYTES` overrides it, 0 disables the pool). Giving back a buffer that does not
//!   fit evicts the oldest retained ones; a buffer larger than the capacity is freed.
//! - **LIFO** within a class: the most recently returned buffer is the most likely to be in cache.
//! - **Thread-safe**: one mutex, held for a search of at most a few hundred entries; buffers are freed outside it.
//!
//! [`Literal`]: super::Literal

use std::sync::LazyLock;

use parking_lot::Mutex;

/// The smallest buffer (in bytes) the pool keeps; smaller ones are cheap to allocate and go back to the allocator.
pub const MIN_POOLED_BYTES: usize = 1 << 20;

/// The most the global pool retains by default (bytes), whatever the machine's memory.
pub const DEFAULT_MAX_CAPACITY: usize = 1 << 30;

/// A retained buffer, stored as a type of its alignment.
#[doc(hidden)]
#[derive(Debug)]
pub enum Stored {
    /// Alignment 4 (`f32`, `i32`, `u32`).
    Align4(Vec<u32>),
    /// Alignment 8 (`f64`, `i64`, `u64`).
    Align8(Vec<u64>),
    /// `bool` buffers, only ever reused as `bool`.
    Bool(Vec<bool>),
}

impl Stored {
    fn bytes(&self) -> usize {
        match self {
            Stored::Align4(v) => v.capacity() * 4,
            Stored::Align8(v) => v.capacity() * 8,
            Stored::Bool(v) => v.capacity(),
        }
    }

    fn class(&self) -> Class {
        match self {
            Stored::Align4(_) => Class::Align4,
            Stored::Align8(_) => Class::Align8,
            Stored::Bool(_) => Class::Bool,
        }
    }
}

/// Which buffers an element type can reuse.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Alignment 4, every bit pattern valid.
    Align4,
    /// Alignment 8, every bit pattern valid.
    Align8,
    /// `bool`.
    Bool,
}

mod sealed {
    pub trait Sealed {}
}

/// An element type whose buffers the pool can hold: the dtypes' element types and `u64` (workspaces).
pub trait Poolable: Copy + Send + 'static + sealed::Sealed {
    /// Zero (false).
    #[doc(hidden)]
    const ZERO: Self;
    /// The buffers this type can reuse.
    #[doc(hidden)]
    const CLASS: Class;
    /// The vector as a retained buffer (every element initialised: `len == capacity`).
    #[doc(hidden)]
    fn store(v: Vec<Self>) -> Stored;
    /// A retained buffer of [`Self::CLASS`] as a vector of this type (`None` for another class).
    #[doc(hidden)]
    fn restore(s: Stored) -> Option<Vec<Self>>;
}

macro_rules! poolable {
    ($($t:ty => $class:ident($store:ty), $zero:expr;)*) => {$(
        impl sealed::Sealed for $t {}
        impl Poolable for $t {
            const ZERO: Self = $zero;
            const CLASS: Class = Class::$class;
            fn store(v: Vec<Self>) -> Stored {
                // Same size and alignment: the cast cannot fail.
                Stored::$class(bytemuck::allocation::cast_vec::<$t, $store>(v))
            }
            fn restore(s: Stored) -> Option<Vec<Self>> {
                match s {
                    Stored::$class(v) => Some(bytemuck::allocation::cast_vec::<$store, $t>(v)),
                    _ => None,
                }
            }
        }
    )*};
}

poolable! {
    f32 => Align4(u32), 0.0;
    i32 => Align4(u32), 0;
    u32 => Align4(u32), 0;
    f64 => Align8(u64), 0.0;
    i64 => Align8(u64), 0;
    u64 => Align8(u64), 0;
}

impl sealed::Sealed for bool {}
impl Poolable for bool {
    const ZERO: Self = false;
    const CLASS: Class = Class::Bool;
    fn store(v: Vec<Self>) -> Stored {
        Stored::Bool(v)
    }
    fn restore(s: Stored) -> Option<Vec<Self>> {
        match s {
            Stored::Bool(v) => Some(v),
            _ => None,
        }
    }
}

/// Counters of a pool, for tests and tuning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Bytes retained now.
    pub retained_bytes: usize,
    /// Buffers retained now.
    pub buffers: usize,
    /// Requests served from the pool.
    pub hits: u64,
    /// Requests of a pooled size the pool could not serve.
    pub misses: u64,
    /// Buffers freed to make room (or too large to keep).
    pub evictions: u64,
}

struct State {
    /// Oldest first; a class is searched from the end (LIFO).
    entries: Vec<Stored>,
    capacity: usize,
    stats: PoolStats,
}

/// A bounded, thread-safe pool of large buffers (see the module documentation).
pub struct BufferPool {
    state: Mutex<State>,
}

static GLOBAL: LazyLock<BufferPool> = LazyLock::new(|| BufferPool::new(default_capacity()));

/// `LIFTED_JIT_POOL_BYTES` when set and valid, else a quarter of the machine's memory, at most
/// [`DEFAULT_MAX_CAPACITY`].
fn default_capacity() -> usize {
    if let Some(bytes) = std::env::var("LIFTED_JIT_POOL_BYTES").ok().and_then(|s| s.trim().parse().ok()) {
        return bytes;
    }
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
        let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
        kib.checked_mul(1024)
    });
    total.map_or(DEFAULT_MAX_CAPACITY, |t| (t / 4).min(DEFAULT_MAX_CAPACITY))
}

impl BufferPool {
    /// An empty pool retaining at most `capacity` bytes.
    pub fn new(capacity: usize) -> BufferPool {
        BufferPool { state: Mutex::new(State { entries: Vec::new(), capacity, stats: PoolStats::default() }) }
    }

    /// The pool that [`Literal`](super::Literal)s return their buffers to and compiled code's outputs come from.
    pub fn global() -> &'static BufferPool {
        &GLOBAL
    }

    /// The most bytes the pool retains.
    pub fn capacity(&self) -> usize {
        self.state.lock().capacity
    }

    /// Changes the capacity (0 disables the pool), freeing the oldest buffers beyond it.
    pub fn set_capacity(&self, bytes: usize) {
        let evicted = {
            let mut st = self.state.lock();
            st.capacity = bytes;
            st.evict_to(bytes)
        };
        drop(evicted);
    }

    /// Frees every retained buffer.
    pub fn clear(&self) {
        let evicted = std::mem::take(&mut self.state.lock().entries);
        drop(evicted);
    }

    /// The counters.
    pub fn stats(&self) -> PoolStats {
        let st = self.state.lock();
        PoolStats { retained_bytes: st.retained(), buffers: st.entries.len(), ..st.stats }
    }

    /// A retained buffer of exactly `n` elements of `T`, if the pool has one. Its elements are whatever the previous
    /// owner left (valid values of `T`).
    pub fn take<T: Poolable>(&self, n: usize) -> Option<Vec<T>> {
        let bytes = n.checked_mul(size_of::<T>())?;
        if bytes < MIN_POOLED_BYTES {
            return None;
        }
        let mut st = self.state.lock();
        let found = st.entries.iter().rposition(|e| e.class() == T::CLASS && e.bytes() == bytes);
        match found {
            Some(i) => {
                st.stats.hits += 1;
                let stored = st.entries.remove(i);
                drop(st);
                T::restore(stored)
            }
            None => {
                st.stats.misses += 1;
                None
            }
        }
    }

    /// `n` elements of `T` for code that overwrites every one: a retained buffer when there is one (holding stale
    /// values), else a fresh zeroed one.
    pub fn take_or_zeroed<T: Poolable>(&self, n: usize) -> Vec<T> {
        self.take(n).unwrap_or_else(|| vec![T::ZERO; n])
    }

    /// Hands a buffer back: kept when it is large enough, fully initialised (`len == capacity`) and fits the
    /// capacity (evicting the oldest buffers), freed otherwise.
    pub fn give<T: Poolable>(&self, v: Vec<T>) {
        let bytes = v.capacity() * size_of::<T>();
        if bytes < MIN_POOLED_BYTES || v.len() != v.capacity() {
            return;
        }
        let evicted = {
            let mut st = self.state.lock();
            if bytes > st.capacity {
                st.stats.evictions += 1;
                drop(st);
                drop(v);
                return;
            }
            let cap = st.capacity;
            let evicted = st.evict_to(cap - bytes);
            st.entries.push(T::store(v));
            evicted
        };
        drop(evicted);
    }
}

impl State {
    fn retained(&self) -> usize {
        self.entries.iter().map(Stored::bytes).sum()
    }

    /// Removes the oldest entries until at most `limit` bytes are retained; the caller frees them after unlocking.
    fn evict_to(&mut self, limit: usize) -> Vec<Stored> {
        let mut retained = self.retained();
        let mut n = 0;
        while retained > limit && n < self.entries.len() {
            retained -= self.entries[n].bytes();
            n += 1;
        }
        self.stats.evictions += n as u64;
        self.entries.drain(..n).collect()
    }
}

impl std::fmt::Debug for BufferPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufferPool").field("capacity", &self.capacity()).field("stats", &self.stats()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn reuses_the_same_allocation_lifo() {
        let pool = BufferPool::new(64 * MIB);
        let a: Vec<f32> = pool.take_or_zeroed(MIB);
        let b: Vec<f32> = pool.take_or_zeroed(MIB);
        assert!(a.iter().all(|&x| x == 0.0));
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        pool.give(a);
        pool.give(b);
        assert_eq!(pool.stats().buffers, 2);
        // Last in, first out.
        let c: Vec<f32> = pool.take_or_zeroed(MIB);
        assert_eq!(c.as_ptr(), pb);
        let d: Vec<f32> = pool.take_or_zeroed(MIB);
        assert_eq!(d.as_ptr(), pa);
        assert_eq!(pool.stats().hits, 2);
        assert_eq!(pool.stats().misses, 2);
        assert_eq!(pool.stats().retained_bytes, 0);
    }

    #[test]
    fn punning_respects_alignment_and_size() {
        let pool = BufferPool::new(64 * MIB);
        let v = vec![1.5f32; MIB];
        let p = v.as_ptr() as usize;
        pool.give(v);
        // Another size of the same class, or the same size of another alignment: no reuse.
        assert!(pool.take::<f32>(MIB + 1).is_none());
        assert!(pool.take::<f64>(MIB / 2).is_none());
        assert!(pool.take::<bool>(4 * MIB).is_none());
        // Same bytes and alignment: an i32 buffer reuses the f32 one, bits unchanged.
        let i = pool.take::<i32>(MIB).expect("reused");
        assert_eq!(i.as_ptr() as usize, p);
        assert_eq!(i.len(), MIB);
        assert_eq!(i.capacity(), MIB);
        assert!(i.iter().all(|&x| x == 1.5f32.to_bits() as i32));
        pool.give(i);
        let u = pool.take::<u32>(MIB).expect("reused");
        assert_eq!(u.as_ptr() as usize, p);
        // 8-byte types share among themselves.
        let w = vec![-1i64; MIB];
        let pw = w.as_ptr() as usize;
        pool.give(w);
        assert!(pool.take::<u32>(2 * MIB).is_none());
        let f = pool.take::<f64>(MIB).expect("reused");
        assert_eq!(f.as_ptr() as usize, pw);
        assert!(f.iter().all(|x| x.to_bits() == u64::MAX));
        // bool only from bool.
        let b = vec![true; 2 * MIB];
        pool.give(b);
        assert!(pool.take::<u32>(MIB / 2).is_none());
        assert!(pool.take::<bool>(2 * MIB).expect("reused").iter().all(|&x| x));
    }

    #[test]
    fn small_partial_and_oversized_buffers_are_not_kept() {
        let pool = BufferPool::new(8 * MIB);
        pool.give(vec![0f32; 1000]);
        let mut partial = Vec::<f32>::with_capacity(MIB);
        partial.extend(std::iter::repeat_n(1.0, MIB - 1));
        pool.give(partial);
        pool.give(vec![0u64; 2 * MIB]); // 16 MiB > 8 MiB
        let s = pool.stats();
        assert_eq!((s.buffers, s.retained_bytes), (0, 0));
        assert_eq!(s.evictions, 1);
    }

    #[test]
    fn retained_bytes_stay_within_capacity_oldest_evicted_first() {
        let pool = BufferPool::new(10 * MIB);
        let mut ptrs = Vec::new();
        for _ in 0..6 {
            let v = vec![0u32; MIB / 2]; // 2 MiB each
            ptrs.push(v.as_ptr());
            pool.give(v);
            assert!(pool.stats().retained_bytes <= 10 * MIB);
        }
        let s = pool.stats();
        assert_eq!((s.buffers, s.retained_bytes, s.evictions), (5, 10 * MIB, 1));
        // The first one given back was freed; the newest comes out first.
        assert_eq!(pool.take::<u32>(MIB / 2).map(|v| v.as_ptr()), Some(ptrs[5]));
        pool.set_capacity(3 * MIB);
        assert_eq!(pool.stats().retained_bytes, 2 * MIB);
        pool.set_capacity(0);
        pool.give(vec![0u32; MIB]);
        assert_eq!(pool.stats().retained_bytes, 0);
        pool.set_capacity(10 * MIB);
        pool.give(vec![0u32; MIB]);
        pool.clear();
        assert_eq!(pool.stats().buffers, 0);
    }

    #[test]
    fn concurrent_use_hands_each_buffer_to_one_owner() {
        let pool = BufferPool::new(16 * MIB);
        std::thread::scope(|s| {
            for t in 0..4u32 {
                let pool = &pool;
                s.spawn(move || {
                    for round in 0..50u32 {
                        let tag = t * 1000 + round;
                        let mut v: Vec<u32> = pool.take_or_zeroed(MIB / 4 * (1 + (round as usize % 2)));
                        v.iter_mut().for_each(|x| *x = tag);
                        std::thread::yield_now();
                        // Nobody else wrote into the buffer while this thread owned it.
                        assert!(v.iter().all(|&x| x == tag));
                        pool.give(v);
                        assert!(pool.stats().retained_bytes <= 16 * MIB);
                    }
                });
            }
        });
        let s = pool.stats();
        assert!(s.retained_bytes <= 16 * MIB);
        assert_eq!(s.hits + s.misses, 200);
        assert!(s.hits > 0);
    }
}
