//! Barriers, warp shuffles and shared memory for the block-folded reductions ([`crate::lower::BlockSync`]):
//! PTX intrinsics on a GPU ([`NvptxSync`]), and on the host calls into a [`Team`] of OS threads that run one
//! emulated block together ([`EmulatedSync`]). The team's `#[repr(C)]` layout is the contract between the
//! emulated kernels and the harness, so both sides live here.

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use inkwell::AddressSpace;
use inkwell::attributes::{Attribute, AttributeLoc};
use inkwell::builder::BuilderError;
use inkwell::intrinsics::Intrinsic;
use inkwell::module::Linkage;
use inkwell::values::{BasicMetadataValueEnum, CallSiteValue, IntValue, PointerValue};

use crate::lower::{BlockSync, Lowerer};

/// Lanes of an NVIDIA warp.
pub const NVIDIA_WARP: u32 = 32;

/// The name of the shared-memory array of a module's block reductions.
const SHARED_NAME: &str = "ljit_block_shared";

/// Marks a call as convergent: optimisations must not make it depend on more conditions than it does.
fn convergent(lw: &Lowerer<'_, '_>, call: CallSiteValue<'_>) {
    let attr = lw.cx.create_enum_attribute(Attribute::get_named_enum_kind_id("convergent"), 0);
    call.add_attribute(AttributeLoc::Function, attr);
}

fn intrinsic_call<'ctx>(
    lw: &Lowerer<'_, 'ctx>,
    name: &str,
    args: &[BasicMetadataValueEnum<'ctx>],
) -> Result<CallSiteValue<'ctx>, BuilderError> {
    let decl =
        Intrinsic::find(name).and_then(|i| i.get_declaration(lw.module, &[])).ok_or(BuilderError::UnsetPosition)?;
    let call = lw.b.build_call(decl, args, "")?;
    convergent(lw, call);
    Ok(call)
}

/// A GPU's block synchronisation: `bar.sync 0`, `shfl.sync.bfly.b32` over the whole warp, and a `.shared` array of
/// `2 * 32` words.
pub(crate) struct NvptxSync;

impl<'ctx> BlockSync<'ctx> for NvptxSync {
    fn warp_size(&self) -> u32 {
        NVIDIA_WARP
    }

    fn barrier(&self, lw: &Lowerer<'_, 'ctx>) -> Result<(), BuilderError> {
        intrinsic_call(lw, "llvm.nvvm.barrier0", &[])?;
        Ok(())
    }

    fn shuffle_xor(
        &self,
        lw: &Lowerer<'_, 'ctx>,
        _tid: IntValue<'ctx>,
        value: IntValue<'ctx>,
        mask: u32,
    ) -> Result<IntValue<'ctx>, BuilderError> {
        let i32t = lw.cx.i32_type();
        // Every lane takes part (`membermask` all ones); `c = 0x1f`: the clamp of a butterfly over the whole warp.
        let args = [
            i32t.const_all_ones().into(),
            value.into(),
            i32t.const_int(u64::from(mask), false).into(),
            i32t.const_int(0x1f, false).into(),
        ];
        let call = intrinsic_call(lw, "llvm.nvvm.shfl.sync.bfly.i32", &args)?;
        Ok(call.try_as_basic_value().basic().ok_or(BuilderError::UnsetPosition)?.into_int_value())
    }

    fn shared_memory(&self, lw: &Lowerer<'_, 'ctx>) -> Result<PointerValue<'ctx>, BuilderError> {
        let shared_space = AddressSpace::from(3u16);
        let global = match lw.module.get_global(SHARED_NAME) {
            Some(g) => g,
            None => {
                let ty = lw.cx.i64_type().array_type(2 * NVIDIA_WARP);
                let g = lw.module.add_global(ty, Some(shared_space), SHARED_NAME);
                g.set_linkage(Linkage::Internal);
                // Shared memory has no initial value.
                g.set_initializer(&ty.get_undef());
                g.set_alignment(8);
                g
            }
        };
        lw.b.build_address_space_cast(global.as_pointer_value(), lw.cx.ptr_type(AddressSpace::default()), "shared")
    }
}

/// The emulation's block synchronisation: calls through the [`Team`] the kernel gets as its last argument.
pub(crate) struct EmulatedSync {
    /// Lanes of an emulated warp.
    pub warp: u32,
}

impl EmulatedSync {
    /// Field `i` (a pointer) of the team the current body was given.
    fn team_field<'ctx>(lw: &Lowerer<'_, 'ctx>, i: u64) -> Result<PointerValue<'ctx>, BuilderError> {
        let f = lw.current_fn()?;
        let team = f.get_last_param().ok_or(BuilderError::UnsetPosition)?.into_pointer_value();
        let ptr_t = lw.cx.ptr_type(AddressSpace::default());
        // SAFETY: builds IR only; the harness passes a `Team`, three pointers.
        let at = unsafe { lw.b.build_in_bounds_gep(ptr_t, team, &[lw.cx.i64_type().const_int(i, false)], "field")? };
        Ok(lw.b.build_load(ptr_t, at, "team_field")?.into_pointer_value())
    }
}

impl<'ctx> BlockSync<'ctx> for EmulatedSync {
    fn warp_size(&self) -> u32 {
        self.warp
    }

    fn barrier(&self, lw: &Lowerer<'_, 'ctx>) -> Result<(), BuilderError> {
        let f = lw.current_fn()?;
        let team = f.get_last_param().ok_or(BuilderError::UnsetPosition)?;
        let callee = Self::team_field(lw, 0)?;
        let ptr_t = lw.cx.ptr_type(AddressSpace::default());
        let fn_t = lw.cx.void_type().fn_type(&[ptr_t.into()], false);
        let call = lw.b.build_indirect_call(fn_t, callee, &[team.into()], "")?;
        convergent(lw, call);
        Ok(())
    }

    fn shuffle_xor(
        &self,
        lw: &Lowerer<'_, 'ctx>,
        tid: IntValue<'ctx>,
        value: IntValue<'ctx>,
        mask: u32,
    ) -> Result<IntValue<'ctx>, BuilderError> {
        let f = lw.current_fn()?;
        let team = f.get_last_param().ok_or(BuilderError::UnsetPosition)?;
        let callee = Self::team_field(lw, 1)?;
        let (ptr_t, i64t, i32t) = (lw.cx.ptr_type(AddressSpace::default()), lw.cx.i64_type(), lw.cx.i32_type());
        let fn_t = i32t.fn_type(&[ptr_t.into(), i64t.into(), i32t.into(), i32t.into()], false);
        let args = [team.into(), tid.into(), value.into(), i32t.const_int(u64::from(mask), false).into()];
        let call = lw.b.build_indirect_call(fn_t, callee, &args, "shuffled")?;
        convergent(lw, call);
        Ok(call.try_as_basic_value().basic().ok_or(BuilderError::UnsetPosition)?.into_int_value())
    }

    fn shared_memory(&self, lw: &Lowerer<'_, 'ctx>) -> Result<PointerValue<'ctx>, BuilderError> {
        Self::team_field(lw, 2)
    }
}

/// The threads of one emulated block, as the emulated kernels see them: a barrier, a warp shuffle and shared
/// memory. Each of the block's threads runs on its own OS thread; they run the grid's blocks one after another,
/// all of them together on the same block.
#[repr(C)]
pub(crate) struct Team {
    barrier: extern "C" fn(*const Team),
    shuffle: extern "C" fn(*const Team, i64, i32, i32) -> i32,
    shared: *mut i64,
    state: *const TeamState,
}

/// A barrier for more threads than cores, arriving thousands of times a launch: the last thread to arrive starts
/// a new generation; the others spin briefly, then yield the core to the threads that have yet to arrive (a
/// `std::sync::Barrier` puts them to sleep and wakes them all, several times slower here).
struct YieldingBarrier {
    threads: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
}

impl YieldingBarrier {
    fn new(threads: usize) -> YieldingBarrier {
        YieldingBarrier { threads, arrived: AtomicUsize::new(0), generation: AtomicUsize::new(0) }
    }

    fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.threads {
            // Reset before releasing the others: a thread released arrives at the next barrier afterwards.
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == generation {
            if spins < 64 {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// What the team's functions share.
pub(crate) struct TeamState {
    barrier: YieldingBarrier,
    /// One word per thread: what each lane offers to a shuffle.
    exchange: Vec<AtomicI32>,
}

extern "C" fn team_barrier(team: *const Team) {
    // SAFETY: the kernels pass back the `Team` the harness gave them, which outlives the launch
    // (`TeamState::run`'s scope), and its `state` points to that launch's live `TeamState`.
    let state = unsafe { &*(*team).state };
    state.barrier.wait();
}

extern "C" fn team_shuffle(team: *const Team, tid: i64, value: i32, mask: i32) -> i32 {
    // SAFETY: as in `team_barrier`.
    let state = unsafe { &*(*team).state };
    let me = tid as usize;
    let from = me ^ mask as usize;
    // Out-of-range lanes cannot happen (blocks are whole warps and `mask` is below the warp size); should one,
    // the lane keeps its own value.
    let Some(slot) = state.exchange.get(me) else { return value };
    slot.store(value, Ordering::Relaxed);
    // The barrier orders the stores before the loads, and the second one keeps the next shuffle's stores from
    // overwriting a value before every lane has read it.
    state.barrier.wait();
    let got = state.exchange.get(from).map_or(value, |v| v.load(Ordering::Relaxed));
    state.barrier.wait();
    got
}

impl TeamState {
    /// A team of `threads` threads with `words` words of shared memory; runs `body(thread, team)` on one OS
    /// thread per thread of the block and waits for them all.
    pub(crate) fn run(threads: usize, words: usize, body: &(dyn Fn(usize, &Team) + Sync)) {
        let state = TeamState {
            barrier: YieldingBarrier::new(threads),
            exchange: (0..threads).map(|_| AtomicI32::new(0)).collect(),
        };
        let mut shared = vec![0i64; words];
        let team = Team { barrier: team_barrier, shuffle: team_shuffle, shared: shared.as_mut_ptr(), state: &state };
        let shared_team = SharedTeam(&team);
        std::thread::scope(|s| {
            for t in 0..threads {
                let shared_team = &shared_team;
                s.spawn(move || body(t, shared_team.0));
            }
        });
        drop(shared);
    }
}

/// The team, handed to the block's OS threads.
struct SharedTeam<'a>(&'a Team);

// SAFETY: the team's raw pointers are its shared memory, which the emulated kernels read and write between
// barriers only (a thread writes its warp's words before a barrier, every thread reads them after it), and its
// `TeamState`, whose barrier and atomics are made for sharing; both outlive the scoped threads.
unsafe impl Sync for SharedTeam<'_> {}
