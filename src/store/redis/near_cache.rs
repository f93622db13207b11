//! The near cache's memory: what this process last read of each session it validates, in
//! shards of bounded size (second-chance eviction, an approximation of LRU that costs one
//! flag per entry and no list to maintain on a hit).
//!
//! An entry is filled only from a Redis read that no invalidation can have overtaken: a
//! reader takes a [`Ticket`] before it sends the read, and the entry goes in only if no
//! invalidation reached its shard and the invalidation link stayed the same meanwhile.
//! Otherwise a change made just after the read could have been announced before the entry
//! went in, and the stale entry would then stay.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use parking_lot::Mutex;

use crate::session::{ClientBinding, Id};

/// What a validate needs of a session. The idle deadline is a lower bound: another process
/// may have slid it since (a slide does not invalidate, see `super::invalidation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cached {
    pub(super) revoked: bool,
    pub(super) idle_deadline: i64,
    pub(super) absolute_deadline: i64,
    pub(super) binding: ClientBinding,
}

/// Taken before a read whose answer may be cached.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ticket {
    shard: usize,
    invalidations: u64,
    link: u64,
}

/// Ids are random: their low 64 bits are hash enough.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().take(8) {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

struct Slot {
    sid: Id,
    entry: Cached,
    /// The idle deadline of the latest slide queued to be written behind (see
    /// `super::invalidation::slides`): a later validate in the same second queues none.
    slide_queued: i64,
    referenced: bool,
}

struct Shard {
    index: HashMap<Id, usize, BuildHasherDefault<IdHasher>>,
    slots: Vec<Slot>,
    /// The second-chance clock hand.
    hand: usize,
    /// Bumped by every invalidation of a key of this shard (cached or not).
    invalidations: u64,
}

impl Shard {
    fn remove(&mut self, sid: Id) {
        if let Some(at) = self.index.remove(&sid) {
            self.slots.swap_remove(at);
            if let Some(moved) = self.slots.get(at) {
                self.index.insert(moved.sid, at);
            }
        }
    }

    /// Room for one more: the first entry not used since the hand last passed it goes.
    fn evict_one(&mut self) {
        loop {
            if self.hand >= self.slots.len() {
                self.hand = 0;
            }
            let slot = &mut self.slots[self.hand];
            if slot.referenced {
                slot.referenced = false;
                self.hand += 1;
            } else {
                let sid = slot.sid;
                self.remove(sid);
                return;
            }
        }
    }
}

/// Shards: enough that threads validating at once seldom meet on one lock.
const SHARDS: usize = 64;

pub(super) struct NearCache {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
}

impl NearCache {
    /// Room for about `capacity` sessions (at least one per shard).
    pub(super) fn new(capacity: usize) -> NearCache {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    index: HashMap::default(),
                    slots: Vec::new(),
                    hand: 0,
                    invalidations: 0,
                })
            })
            .collect();
        NearCache { shards, per_shard }
    }

    fn shard_of(sid: Id) -> usize {
        (sid.0 as usize) % SHARDS
    }

    /// The cached state of `sid`, marked as used. Its idle deadline counts a slide this
    /// process has queued as made: if writing it fails, `sid` leaves the cache.
    pub(super) fn get(&self, sid: Id) -> Option<Cached> {
        let mut shard = self.shards[Self::shard_of(sid)].lock();
        let at = *shard.index.get(&sid)?;
        let slot = &mut shard.slots[at];
        slot.referenced = true;
        let mut entry = slot.entry;
        entry.idle_deadline = entry.idle_deadline.max(slot.slide_queued);
        Some(entry)
    }

    /// Claims the write of a slide of `sid` to `idle_deadline`: `Some(true)` when this
    /// caller is to queue it, `Some(false)` when the cached state or a slide already queued
    /// reaches that far, `None` when `sid` is not cached.
    pub(super) fn claim_slide(&self, sid: Id, idle_deadline: i64) -> Option<bool> {
        let mut shard = self.shards[Self::shard_of(sid)].lock();
        let at = *shard.index.get(&sid)?;
        let slot = &mut shard.slots[at];
        if slot.slide_queued.max(slot.entry.idle_deadline) >= idle_deadline {
            return Some(false);
        }
        slot.slide_queued = idle_deadline;
        Some(true)
    }

    /// The idle deadline of the latest slide of `sid` queued, if it is cached.
    pub(super) fn queued_slide(&self, sid: Id) -> Option<i64> {
        let shard = self.shards[Self::shard_of(sid)].lock();
        let at = *shard.index.get(&sid)?;
        Some(shard.slots[at].slide_queued).filter(|&q| q != i64::MIN)
    }

    /// Taken before reading `sid` from Redis, with the link's current epoch.
    pub(super) fn ticket(&self, sid: Id, link: u64) -> Ticket {
        let shard = Self::shard_of(sid);
        let invalidations = self.shards[shard].lock().invalidations;
        Ticket {
            shard,
            invalidations,
            link,
        }
    }

    /// Cache what a read taken under `ticket` saw, unless an invalidation may have
    /// overtaken it: one reached the shard, or the link is no longer the one (`link` is the
    /// link's epoch now) that was up when the ticket was taken.
    pub(super) fn fill(&self, sid: Id, ticket: Ticket, link: u64, entry: Cached) {
        let mut shard = self.shards[ticket.shard].lock();
        if shard.invalidations != ticket.invalidations || link != ticket.link {
            return;
        }
        if let Some(&at) = shard.index.get(&sid) {
            let slot = &mut shard.slots[at];
            slot.entry = entry;
            slot.referenced = true;
            return;
        }
        if shard.slots.len() >= self.per_shard {
            shard.evict_one();
        }
        let at = shard.slots.len();
        shard.slots.push(Slot {
            sid,
            entry,
            slide_queued: i64::MIN,
            referenced: false,
        });
        shard.index.insert(sid, at);
    }

    /// Forget `sid`, and refuse any fill of it whose read may predate this.
    pub(super) fn invalidate(&self, sid: Id) {
        let mut shard = self.shards[Self::shard_of(sid)].lock();
        shard.invalidations = shard.invalidations.wrapping_add(1);
        shard.remove(sid);
    }

    /// Forget everything, and refuse every fill in flight.
    pub(super) fn clear(&self) {
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            shard.invalidations = shard.invalidations.wrapping_add(1);
            shard.index.clear();
            shard.slots.clear();
            shard.hand = 0;
        }
    }

    /// Sessions held now.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().slots.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(idle: i64) -> Cached {
        Cached {
            revoked: false,
            idle_deadline: idle,
            absolute_deadline: 1_000,
            binding: ClientBinding::default(),
        }
    }

    #[test]
    fn a_cached_session_fits_the_slot_the_docs_count() {
        // docs/near-cache.md counts 128 bytes per slot.
        assert!(
            std::mem::size_of::<Slot>() <= 128,
            "{}",
            std::mem::size_of::<Slot>()
        );
    }

    #[test]
    fn a_fill_overtaken_by_an_invalidation_is_dropped() {
        let cache = NearCache::new(100);
        let sid = Id(7);
        let t = cache.ticket(sid, 1);
        cache.invalidate(sid);
        cache.fill(sid, t, 1, entry(10));
        assert_eq!(cache.get(sid), None);
        let t = cache.ticket(sid, 1);
        cache.fill(sid, t, 1, entry(10));
        assert_eq!(cache.get(sid), Some(entry(10)));
        cache.invalidate(sid);
        assert_eq!(cache.get(sid), None);
    }

    #[test]
    fn a_slide_is_claimed_once_per_deadline_and_only_for_a_cached_session() {
        let cache = NearCache::new(100);
        let sid = Id(9);
        assert_eq!(cache.claim_slide(sid, 20), None, "not cached");
        let t = cache.ticket(sid, 1);
        cache.fill(sid, t, 1, entry(10));
        assert_eq!(cache.claim_slide(sid, 10), Some(false), "no move");
        assert_eq!(cache.claim_slide(sid, 20), Some(true));
        assert_eq!(
            cache.get(sid).map(|c| c.idle_deadline),
            Some(20),
            "counted as made"
        );
        assert_eq!(cache.claim_slide(sid, 20), Some(false), "already queued");
        assert_eq!(cache.claim_slide(sid, 21), Some(true), "a later second");
        // The written slide comes back as the cached state; the claim stands.
        let t = cache.ticket(sid, 1);
        cache.fill(sid, t, 1, entry(21));
        assert_eq!(cache.claim_slide(sid, 21), Some(false));
        cache.invalidate(sid);
        assert_eq!(cache.claim_slide(sid, 22), None, "forgotten");
    }

    #[test]
    fn a_fill_across_a_link_change_or_a_clear_is_dropped() {
        let cache = NearCache::new(100);
        let t = cache.ticket(Id(1), 1);
        cache.fill(Id(1), t, 3, entry(10));
        assert_eq!(cache.get(Id(1)), None, "the link changed");
        let t = cache.ticket(Id(1), 3);
        cache.clear();
        cache.fill(Id(1), t, 3, entry(10));
        assert_eq!(cache.get(Id(1)), None, "cleared meanwhile");
    }

    #[test]
    fn stays_within_its_bound_and_keeps_what_is_used() {
        let cache = NearCache::new(SHARDS * 4);
        let hot = Id(SHARDS as u128); // shard 0
        let t = cache.ticket(hot, 1);
        cache.fill(hot, t, 1, entry(1));
        for i in 1..1_000u128 {
            let sid = Id(i * SHARDS as u128 + i % 3);
            let t = cache.ticket(sid, 1);
            cache.fill(sid, t, 1, entry(1));
            assert!(cache.get(hot).is_some(), "a used entry survives eviction");
        }
        assert!(cache.len() <= SHARDS * 4, "{}", cache.len());
        for shard in cache.shards.iter() {
            let shard = shard.lock();
            assert_eq!(shard.index.len(), shard.slots.len());
            for (at, slot) in shard.slots.iter().enumerate() {
                assert_eq!(shard.index[&slot.sid], at);
            }
        }
    }
}
