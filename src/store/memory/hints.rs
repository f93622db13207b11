//! Where each shard's places are, readable without the shard's lock, for the prefetch a
//! validate issues while its HMAC runs: the shard lock is then taken once a validate (for the
//! touch), not twice, which saves a pair of atomic read-modify-writes on every validate.
//!
//! A hint is only ever an address to prefetch, never read through: a stale one (the shard's
//! vector moved, a chunk unmapped, a race with a writer) costs one useless prefetch, nothing
//! else. Like the locked lookup it replaces, it prefetches only places the shard handed out.

use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::Relaxed};

use super::{Slab, Slot, CHUNK, CHUNK_BITS};

/// Chunks a shard's hints cover: 2^18 places a shard, 16 million sessions a store. Places
/// past them go without the prefetch.
const CHUNKS: usize = 16;

/// One shard's hints.
#[derive(Default)]
pub(super) struct PlaceHints {
    /// The shard's vector of places while it has no chunks; null once it has.
    small: AtomicPtr<Slot>,
    /// Places handed out in that vector.
    small_len: AtomicUsize,
    /// The shard's first chunks, in order; null where there is none.
    chunks: [AtomicPtr<Slot>; CHUNKS],
}

impl PlaceHints {
    /// Record where `slab`'s places are now. Called under the shard's write lock, after
    /// whatever changed.
    pub(super) fn update(&self, slab: &Slab) {
        let (small, small_len) = if slab.chunks.is_empty() {
            (slab.small.as_ptr().cast_mut(), slab.len)
        } else {
            (ptr::null_mut(), 0)
        };
        set(&self.small, small);
        if self.small_len.load(Relaxed) != small_len {
            self.small_len.store(small_len, Relaxed);
        }
        for (i, hint) in self.chunks.iter().enumerate() {
            set(
                hint,
                slab.chunks.get(i).map_or(ptr::null_mut(), |c| c.base()),
            );
        }
    }

    /// Start loading the first cache line of place `at`, when the hints know where it is.
    #[inline]
    pub(super) fn prefetch(&self, at: usize) {
        if let Some(place) = self.place(at) {
            super::prefetch_line(place);
        }
    }

    /// Where place `at` is, as last recorded.
    #[inline]
    pub(super) fn place(&self, at: usize) -> Option<*const Slot> {
        let small = self.small.load(Relaxed);
        if !small.is_null() {
            return (at < self.small_len.load(Relaxed))
                .then(|| small.wrapping_add(at).cast_const());
        }
        let base = self.chunks.get(at >> CHUNK_BITS)?.load(Relaxed);
        (!base.is_null()).then(|| base.wrapping_add(at & (CHUNK - 1)).cast_const())
    }
}

/// Store `p` unless it is there already: most updates change nothing, and a store would take
/// the cache line from the validates reading it.
fn set(hint: &AtomicPtr<Slot>, p: *mut Slot) {
    if hint.load(Relaxed) != p {
        hint.store(p, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{State, SMALL};
    use super::*;

    /// The hints name the place the locked lookup finds, or nothing, at every stage.
    fn agree(hints: &PlaceHints, slab: &Slab, upto: usize) {
        for at in (0..upto).step_by(97).chain([0, upto.saturating_sub(1)]) {
            let locked = slab.get(at).map(|s| s as *const Slot);
            let hinted = hints.place(at);
            match locked {
                Some(p) => assert_eq!(hinted, Some(p), "place {at} of {}", slab.len),
                // Past what the slab handed out: no hint inside the vector; inside a chunk
                // the hint may name unwritten room (a prefetch of memory we own, harmless).
                None if slab.chunks.is_empty() => assert_eq!(hinted, None, "place {at}"),
                None => {}
            }
        }
    }

    #[test]
    fn hints_follow_the_slab_into_chunks_and_back() {
        let (mut slab, hints) = (Slab::default(), PlaceHints::default());
        hints.update(&slab);
        assert_eq!(hints.place(0), None);
        for n in [1, 100, SMALL, SMALL + 1, CHUNK + 5] {
            while slab.len < n {
                slab.push();
            }
            hints.update(&slab);
            agree(&hints, &slab, 2 * CHUNK);
        }
        for (keep, chunked) in [(CHUNK - 3, true), (50, false)] {
            for slot in slab.iter_mut().skip(keep) {
                *slot = Slot::vacant();
            }
            for slot in slab.iter_mut().take(keep) {
                slot.state = State::Live;
            }
            slab.trim(|s| s.state == State::Free);
            assert_eq!((slab.len, !slab.chunks.is_empty()), (keep, chunked));
            hints.update(&slab);
            agree(&hints, &slab, 2 * CHUNK);
        }
        // Beyond the chunks the hints cover: no hint.
        assert_eq!(hints.place(CHUNKS << CHUNK_BITS), None);
    }
}
