//! The version that tells a lock-free reader whether what it read of a shard is whole: a
//! sequence lock whose write side is the shard's write lock.

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::sync::{fence, AtomicU64};

/// Odd while a write section runs; each section bumps it twice. A section that unwinds
/// leaves it odd for good (the shard is poisoned), so no reader trusts a half-written place.
#[derive(Default)]
pub(super) struct Version(AtomicU64);

// The orderings, as in Boehm's "Can seqlocks get along with programming language memory
// models?" (MSPC 2012), with the data made atomics so a racing read is no data race:
// - every store a write section makes to anything a reader looks at (place fields, the
//   view's addresses) is a Release store, after the version went odd;
// - a reader loads the version with Acquire, the data with Relaxed, then fences with
//   Acquire and loads the version again.
// If the reader saw any store of a section, that Release store and the reader's Acquire
// fence synchronize, so the section's odd version happens-before the second load, which
// then cannot return the first one: the read is discarded. If it saw none, it read one
// state whole, as of the version it began with (whose Release store, read by the Acquire
// load, made every earlier section visible). Release stores rather than a Release fence
// after the odd store: the same guarantee, free on x86, and loom models them (it models
// Acquire fences only). The write lock orders writers among themselves.
impl Version {
    /// A write section starts. Called with the shard's write lock held.
    pub(super) fn begin_write(&self) {
        let version = self.0.load(Relaxed);
        debug_assert_eq!(version & 1, 0, "a section is open or the shard is poisoned");
        self.0.store(version.wrapping_add(1), Relaxed);
    }

    /// The write section ends: its stores are published. Called with the write lock held.
    pub(super) fn end_write(&self) {
        let version = self.0.load(Relaxed);
        self.0.store(version.wrapping_add(1), Release);
    }

    /// The version a read starts from, unless a write section is open (or never closed).
    #[inline]
    pub(super) fn read_begins(&self) -> Option<u64> {
        let version = self.0.load(Acquire);
        (version & 1 == 0).then_some(version)
    }

    /// Whether no write section ran since `read_begins` gave `version`.
    #[inline]
    pub(super) fn read_holds(&self, version: u64) -> bool {
        fence(Acquire);
        self.0.load(Relaxed) == version
    }
}
