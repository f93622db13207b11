//! What a validate reads of a shard without taking its lock: where the shard's places are,
//! and a version that tells whether what it read is whole.
//!
//! Why: a read lock is an atomic write to the lock's cache line. With two threads
//! validating, that line moves between their cores on almost every validate, and that alone
//! cost two threads a tenth of their throughput. Reading without the lock writes nothing
//! shared.
//!
//! How (a sequence lock): every write to a shard makes the version odd when it takes the
//! write lock and even again, after the view is updated, when it lets go. A reader notes an
//! even version, reads the place's hot fields, and keeps what it read only if the version is
//! still the same: then no write ran meanwhile. Any doubt (a write running, a place the view
//! does not know, a session the fast path does not handle) sends the caller to the lock.
//!
//! What makes a read through a stale address safe: a slab never unmaps memory that held
//! places while it lives ([`super::slab`]); memory it no longer needs reads as zeros, a
//! vacant place.

use std::ptr;
use std::sync::atomic::{fence, AtomicI64, AtomicPtr, AtomicU64, AtomicU8, AtomicUsize, Ordering};

use super::slab::{Slab, CHUNK, CHUNK_BITS, KEEPS_MEMORY_MAPPED};
use super::{Packed, Slot, State};

/// Chunks a shard's view covers: 2^18 places a shard, 16 million sessions a store. Places
/// past them go through the lock, without the prefetch.
const CHUNKS: usize = 16;

/// One shard's view, on cache lines of its own: every write stores the version, and a
/// neighbour's validates should not lose their line to it.
#[derive(Default)]
#[repr(align(128))]
pub(super) struct ShardView {
    /// Odd while a write holds the shard; bumped twice by every write.
    version: AtomicU64,
    /// The shard's small mapping while it has no chunks; null once it has.
    small: AtomicPtr<Slot>,
    /// Places handed out in the small mapping.
    small_len: AtomicUsize,
    /// The shard's first chunks, in order; null where there is none.
    chunks: [AtomicPtr<Slot>; CHUNKS],
}

/// A place's fields that a validate needs, read as one consistent snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Hot {
    pub(super) id: Packed,
    state: u8,
    /// The session is bound to a client or a key (the binding check needs the lock).
    pub(super) bound: bool,
    pub(super) revoked: bool,
    pub(super) idle_deadline: i64,
    pub(super) absolute_deadline: i64,
}

impl Hot {
    /// Whether this is the live session `key`.
    pub(super) fn is_live(&self, key: Packed) -> bool {
        self.id == key && self.state == State::Live as u8
    }

    /// Read place `place` without a lock.
    ///
    /// # Safety
    /// `place` must point into memory that stays mapped, readable and aligned for a `Slot`
    /// for the whole call, holding a `Slot` or zeros. A write may be changing it meanwhile:
    /// then the values are torn and the caller must discard them (the version check).
    unsafe fn read(place: *const Slot) -> Hot {
        // Volatile reads of what writes change under the write lock only, as crossbeam's
        // sequence lock reads; atomic loads of what changes under the read lock too. Every
        // field is read as plain integers, so torn or zero bytes are still valid values.
        // SAFETY: the fields lie inside `place`, which the caller vouches for.
        unsafe {
            let id = ptr::addr_of!((*place).id).cast::<u64>();
            let idle: &AtomicI64 = &*ptr::addr_of!((*place).idle_deadline);
            // An `AtomicBool` has the layout of an `AtomicU8`; read as a byte, any value.
            let revoked: &AtomicU8 = &*ptr::addr_of!((*place).revoked).cast::<AtomicU8>();
            Hot {
                id: Packed([ptr::read_volatile(id), ptr::read_volatile(id.add(1))]),
                state: ptr::read_volatile(ptr::addr_of!((*place).state).cast::<u8>()),
                bound: ptr::read_volatile(ptr::addr_of!((*place).binding).cast::<usize>()) != 0,
                revoked: revoked.load(Ordering::Relaxed) != 0,
                idle_deadline: idle.load(Ordering::Relaxed),
                absolute_deadline: ptr::read_volatile(ptr::addr_of!((*place).absolute_deadline)),
            }
        }
    }
}

impl ShardView {
    /// A write is about to change the shard. Called with the write lock held.
    pub(super) fn begin_write(&self) {
        let version = self.version.load(Ordering::Relaxed);
        self.version
            .store(version.wrapping_add(1), Ordering::Relaxed);
        // Readers that see any of this write's changes see the odd version after them.
        fence(Ordering::Release);
    }

    /// The write is done: record where `slab`'s places are now, then let readers in. Called
    /// with the write lock still held.
    pub(super) fn end_write(&self, slab: &Slab) {
        self.update(slab);
        let version = self.version.load(Ordering::Relaxed);
        self.version
            .store(version.wrapping_add(1), Ordering::Release);
    }

    fn update(&self, slab: &Slab) {
        let (small, small_len) = match (&slab.small, slab.chunks.is_empty()) {
            (Some(small), true) => (small.base(), slab.len),
            _ => (ptr::null_mut(), 0),
        };
        set(&self.small, small);
        if self.small_len.load(Ordering::Relaxed) != small_len {
            self.small_len.store(small_len, Ordering::Relaxed);
        }
        for (i, view) in self.chunks.iter().enumerate() {
            set(
                view,
                slab.chunks.get(i).map_or(ptr::null_mut(), |c| c.base()),
            );
        }
    }

    /// Start loading the first cache line of place `at`, when the view knows where it is.
    #[inline]
    pub(super) fn prefetch(&self, at: usize) {
        if let Some(place) = self.place(at) {
            super::prefetch_line(place);
        }
    }

    /// Where place `at` is, as last recorded: inside memory the slab keeps mapped while it
    /// lives (see the module doc), though it may have moved since.
    #[inline]
    pub(super) fn place(&self, at: usize) -> Option<*const Slot> {
        let small = self.small.load(Ordering::Relaxed);
        if !small.is_null() {
            return (at < self.small_len.load(Ordering::Relaxed))
                .then(|| small.wrapping_add(at).cast_const());
        }
        let base = self.chunks.get(at >> CHUNK_BITS)?.load(Ordering::Relaxed);
        (!base.is_null()).then(|| base.wrapping_add(at & (CHUNK - 1)).cast_const())
    }

    /// Place `at`'s hot fields, if no write to the shard ran while they were read.
    #[inline]
    pub(super) fn read(&self, at: usize) -> Option<Hot> {
        if !KEEPS_MEMORY_MAPPED {
            return None;
        }
        let version = self.read_begins()?;
        let place = self.place(at)?;
        // SAFETY: `place` lies in a small mapping (below its handed-out length, and so
        // below its room) or a chunk the shard's slab made; the slab keeps those mapped
        // until it is dropped, which the caller's borrow of the store rules out. Zeros or a
        // torn `Slot` read as plain integers; the version check below discards a torn read.
        let hot = unsafe { Hot::read(place) };
        self.read_holds(version).then_some(hot)
    }

    /// The version a read starts from, unless a write is running.
    #[inline]
    fn read_begins(&self) -> Option<u64> {
        let version = self.version.load(Ordering::Acquire);
        (version & 1 == 0).then_some(version)
    }

    /// Whether no write ran since `read_begins` gave `version`.
    #[inline]
    fn read_holds(&self, version: u64) -> bool {
        // What was read is ordered before the version is read again.
        fence(Ordering::Acquire);
        self.version.load(Ordering::Relaxed) == version
    }
}

/// Store `p` unless it is there already: most updates change nothing, and a store would take
/// the cache line from the validates reading it.
fn set(view: &AtomicPtr<Slot>, p: *mut Slot) {
    if view.load(Ordering::Relaxed) != p {
        view.store(p, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::super::slab::SMALL;
    use super::*;

    /// The view names the place the locked lookup finds, or nothing, at every stage.
    fn agree(view: &ShardView, slab: &Slab, upto: usize) {
        for at in (0..upto).step_by(97).chain([0, upto.saturating_sub(1)]) {
            let locked = slab.get(at).map(|s| s as *const Slot);
            let seen = view.place(at);
            match locked {
                Some(p) => {
                    assert_eq!(seen, Some(p), "place {at} of {}", slab.len);
                    if !KEEPS_MEMORY_MAPPED {
                        assert_eq!(view.read(at), None, "only under the lock");
                        continue;
                    }
                    let hot = view.read(at).expect("no write is running");
                    assert_eq!(hot.id, slab[at].id);
                    assert_eq!(hot.state, slab[at].state as u8);
                    assert_eq!(hot.absolute_deadline, slab[at].absolute_deadline);
                }
                // Past what the slab handed out: nothing in the small mapping; inside a
                // chunk the view may name unwritten room (mapped memory, reading as vacant).
                None if slab.chunks.is_empty() => assert_eq!(seen, None, "place {at}"),
                None => {
                    if let Some(hot) = view.read(at) {
                        assert_eq!(hot.state, State::Free as u8);
                    }
                }
            }
        }
    }

    #[test]
    fn the_view_follows_the_slab_into_chunks_and_back() {
        let (mut slab, view) = (Slab::default(), ShardView::default());
        view.begin_write();
        view.end_write(&slab);
        assert_eq!(view.place(0), None);
        for n in [1, 100, SMALL, SMALL + 1, CHUNK + 5] {
            view.begin_write();
            while slab.len < n {
                let at = slab.push();
                slab[at].absolute_deadline = at as i64;
            }
            view.end_write(&slab);
            agree(&view, &slab, 2 * CHUNK);
        }
        for (keep, chunked) in [(CHUNK - 3, true), (50, false)] {
            view.begin_write();
            for slot in slab.iter_mut().skip(keep) {
                *slot = Slot::vacant();
            }
            for slot in slab.iter_mut().take(keep) {
                slot.state = State::Live;
            }
            slab.trim(|s| s.state == State::Free);
            assert_eq!((slab.len, !slab.chunks.is_empty()), (keep, chunked));
            view.end_write(&slab);
            agree(&view, &slab, 2 * CHUNK);
        }
        // Beyond the chunks the view covers: nothing.
        assert_eq!(view.place(CHUNKS << CHUNK_BITS), None);
    }

    #[test]
    fn a_read_that_a_write_overlapped_is_discarded() {
        let (slab, view) = (Slab::default(), ShardView::default());
        let version = view.read_begins().expect("no write yet");
        assert!(view.read_holds(version));
        // A write starts after the read began and ends before it ends.
        view.begin_write();
        view.end_write(&slab);
        assert!(!view.read_holds(version));
        // A write that starts during the read and is still running.
        let version = view.read_begins().expect("the write ended");
        view.begin_write();
        assert!(!view.read_holds(version));
        assert_eq!(view.read_begins(), None);
        view.end_write(&slab);
    }

    #[test]
    fn a_read_during_a_write_is_refused() {
        if !KEEPS_MEMORY_MAPPED {
            return; // no read without the lock at all: see `the_view_follows_the_slab…`
        }
        let (mut slab, view) = (Slab::default(), ShardView::default());
        view.begin_write();
        slab.push();
        slab[0].state = State::Live;
        view.end_write(&slab);
        assert!(view.read(0).is_some());
        view.begin_write();
        assert_eq!(view.read(0), None, "a write is running");
        view.end_write(&slab);
        assert_eq!(view.read(0).map(|h| h.state), Some(State::Live as u8));
    }
}
