//! What a validate reads of a shard without taking its lock: where the shard's places are,
//! and the version that tells whether what it read is whole.
//!
//! Why: a read lock is an atomic write to the lock's cache line. With two threads
//! validating, that line moves between their cores on almost every validate, and that alone
//! cost two threads a tenth of their throughput. Reading without the lock writes nothing
//! shared.
//!
//! How: a sequence lock ([`Version`]) whose write sections are the shard's write lock. A
//! reader reads the place's atomics between two loads of the version and keeps what it read
//! only if no write section ran meanwhile. Any doubt (a write running, a poisoned shard, a
//! place the view does not know, a session the fast path does not handle) sends the caller
//! to the lock.
//!
//! What makes a read through a stale address safe: a slab never frees a block that held
//! places while it lives, and every place of a block is a valid place, vacant when unused
//! ([`super::block`]).

use std::ptr;
use std::sync::atomic::Ordering::{Relaxed, Release};
use std::sync::atomic::{AtomicPtr, AtomicUsize};

use super::place::{Hot, Place};
use super::seqlock::Version;
use super::slab::{Slab, CHUNK, CHUNK_BITS, KEEPS_MEMORY_MAPPED};

/// Chunks a shard's view covers: 2^18 places a shard, 16 million sessions a store. Places
/// past them go through the lock, without the prefetch.
pub(super) const CHUNKS: usize = 16;

/// One shard's view, on cache lines of its own: every write stores the version, and a
/// neighbour's validates should not lose their line to it.
#[derive(Default)]
#[repr(align(128))]
pub(super) struct ShardView {
    pub(super) version: Version,
    /// The shard's small block while it has no chunks; null once it has.
    small: AtomicPtr<Place>,
    /// Places handed out in the small block.
    small_len: AtomicUsize,
    /// The shard's first chunks, in order; null where there is none.
    chunks: [AtomicPtr<Place>; CHUNKS],
}

impl ShardView {
    /// A write section on the shard begins. Called with the write lock held.
    pub(super) fn begin_write(&self) {
        self.version.begin_write();
    }

    /// The write section is done: record where `slab`'s places are now, then let readers
    /// in. Called with the write lock still held.
    pub(super) fn end_write(&self, slab: &Slab) {
        self.update(slab);
        self.version.end_write();
    }

    /// Inside a write section: Release stores, as `seqlock` requires of every store there.
    fn update(&self, slab: &Slab) {
        let (small, small_len) = match (&slab.small, slab.chunks.is_empty()) {
            (Some(small), true) => (small.base(), slab.len),
            _ => (ptr::null_mut(), 0),
        };
        set(&self.small, small);
        if self.small_len.load(Relaxed) != small_len {
            self.small_len.store(small_len, Release);
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
            crate::arch::prefetch(place);
        }
    }

    /// Where place `at` is, as last recorded: inside a block the slab keeps while it lives
    /// (see the module doc), though the place may have moved since.
    #[inline]
    pub(super) fn place(&self, at: usize) -> Option<*const Place> {
        let small = self.small.load(Relaxed);
        if !small.is_null() {
            return (at < self.small_len.load(Relaxed))
                .then(|| small.wrapping_add(at).cast_const());
        }
        let base = self.chunks.get(at >> CHUNK_BITS)?.load(Relaxed);
        (!base.is_null()).then(|| base.wrapping_add(at & (CHUNK - 1)).cast_const())
    }

    /// Place `at`'s hot fields, if no write section ran while they were read.
    #[inline]
    pub(super) fn read(&self, at: usize) -> Option<Hot> {
        if !KEEPS_MEMORY_MAPPED {
            return None;
        }
        let version = self.version.read_begins()?;
        let place = self.place(at)?;
        // SAFETY: `place` lies in the small block (below its handed-out length, so below
        // its room) or in a chunk, both made by the shard's slab, which keeps every block
        // it made until it is dropped (ruled out by the caller's borrow of the store).
        // Every place of such a block is a valid `Place`, and only shared references to
        // places are ever made; `hot` reads atomics only.
        let hot = unsafe { &*place }.hot();
        self.version.read_holds(version).then_some(hot)
    }
}

/// Store `p` unless it is there already: most updates change nothing, and a store would take
/// the cache line from the validates reading it.
fn set(view: &AtomicPtr<Place>, p: *mut Place) {
    if view.load(Relaxed) != p {
        view.store(p, Release);
    }
}
