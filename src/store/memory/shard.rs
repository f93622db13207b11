//! One shard: a slab of places found by the place number in the id, its free list, the
//! index of ids the store did not choose; and the write section every change to it runs
//! in. Freed places are reused; a reused place answers only for its new id, since every
//! lookup compares all 128 bits.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use parking_lot::{RwLock, RwLockWriteGuard};

use super::details::Kept;
use super::locate::MAX_PLACES;
use super::place::{Entry, Packed, PlaceMut, PlaceRef, State};
use super::slab::Slab;
use super::users::UserIndex;
use super::view::ShardView;
use super::SWEEP_MIN_WRITES;
use crate::error::{Error, Result};
use crate::session::Id;

/// For the side index of ids the store did not choose: those are random, so mixing their
/// bytes is hash enough.
#[derive(Default)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

impl std::hash::Hash for Packed {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Both words, mixed: ids a caller chose may be small or repeat a pattern.
        let mixed = self.0[0] ^ self.0[1].rotate_left(32);
        state.write_u64(mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    }
}

pub(super) type IdMap<V> = HashMap<Packed, V, BuildHasherDefault<IdHasher>>;

pub(super) struct Shard {
    pub(super) slab: Slab,
    free: Vec<u32>,
    /// Sessions created under an id this store did not choose (a caller's own, or one
    /// whose reservation was swept): found through this index. Empty in normal use.
    foreign: IdMap<u32>,
    /// What sessions carry besides their state (metadata, claims), for those that carry
    /// any: away from the places, so a validate never reads it. Entries go with their
    /// session when a sweep frees its place.
    pub(super) details: IdMap<Box<Kept>>,
    /// Places by user, once anything listed a user's sessions (see [`UserIndex`]).
    pub(super) users: Option<UserIndex>,
    pub(super) live: usize,
    pub(super) writes_since_sweep: usize,
    /// No place can be over before this time (the least of their [`PlaceRef::ends`], or
    /// earlier): until then a sweep would free nothing, so none runs. A store filling with
    /// sessions that all have hours to live scans nothing.
    nothing_ends_before: i64,
    /// A write section unwound, perhaps halfway through a place: nothing here is trusted
    /// again, and every use of the shard is refused (`Error::Panic`).
    pub(super) poisoned: bool,
}

impl Default for Shard {
    fn default() -> Shard {
        Shard {
            slab: Slab::default(),
            free: Vec::new(),
            foreign: IdMap::default(),
            details: IdMap::default(),
            users: None,
            live: 0,
            writes_since_sweep: 0,
            nothing_ends_before: i64::MAX,
            poisoned: false,
        }
    }
}

impl Shard {
    /// Lower the sweep bound for a place just written.
    fn may_end_at(&mut self, at: usize) {
        if let Some(place) = self.slab.get(at) {
            self.nothing_ends_before = self.nothing_ends_before.min(place.ends());
        }
    }

    /// Where the live session `key` is: at `at`, the place its id names, or in the index.
    fn find(&self, key: Packed, at: usize) -> Option<usize> {
        if self.slab.get(at).is_some_and(|p| p.is(key, State::Live)) {
            return Some(at);
        }
        if self.foreign.is_empty() {
            return None;
        }
        let at = *self.foreign.get(&key)? as usize;
        self.slab.get(at)?.is(key, State::Live).then_some(at)
    }

    pub(super) fn get(&self, sid: Id, at: usize) -> Option<PlaceRef<'_>> {
        self.slab.get(self.find(Packed::of(sid), at)?)
    }

    pub(super) fn get_mut(&mut self, sid: Id, at: usize) -> Option<PlaceMut<'_>> {
        let at = self.find(Packed::of(sid), at)?;
        self.slab.get_mut(at)
    }

    /// A free place, below `limit` when it is new.
    fn take_place(&mut self, limit: usize) -> Option<usize> {
        let at = match self.free.pop() {
            Some(at) => at as usize,
            None if self.slab.len >= limit => return None,
            None => self.slab.push(),
        };
        self.prefetch_next_place();
        Some(at)
    }

    /// Start loading the place the shard's next login will take. Its writes (under the
    /// write lock) would otherwise wait for memory when the lock is let go: a growing store
    /// writes places no one has read for a long time. The next login here comes some 64
    /// logins later, long enough for the load, short enough for the lines to stay cached.
    fn prefetch_next_place(&self) {
        let next = self.free.last().map_or(self.slab.len, |&at| at as usize);
        if let Some(place) = self.slab.room(next) {
            crate::arch::prefetch(place);
            crate::arch::prefetch(place.cast::<u8>().wrapping_add(64));
        }
    }

    /// Hold a place for the id `id_at` makes of its number; returns that id.
    pub(super) fn reserve(&mut self, now: i64, id_at: impl FnOnce(usize) -> Id) -> Option<Id> {
        let at = self.take_place(MAX_PLACES)?;
        if at >= MAX_PLACES {
            // Freed by a foreign session past what an id can name: leave it to those.
            self.free.push(at as u32);
            return None;
        }
        let id = id_at(at);
        self.slab.get_mut(at)?.reserve(Packed::of(id), now);
        self.may_end_at(at);
        Some(id)
    }

    /// Put the live `entry` (whose id is `key`, naming place `at`) in place; returns
    /// whether it filled a reservation.
    pub(super) fn insert(&mut self, key: Packed, at: usize, entry: Entry) -> Result<bool> {
        // Its reservation, or the same session again (replaced, as a map would).
        if let Some(mut place) = self.slab.get_mut(at) {
            let state = place.as_ref().state();
            if place.as_ref().id() == key && state != State::Free {
                place.fill(entry);
                let reserved = state == State::Reserved;
                self.live += usize::from(reserved);
                self.may_end_at(at);
                self.index_user(at);
                return Ok(reserved);
            }
        }
        if let Some(&at) = self.foreign.get(&key) {
            let at = at as usize;
            if let Some(mut place) = self.slab.get_mut(at) {
                place.fill(entry);
            }
            self.may_end_at(at);
            self.index_user(at);
            return Ok(false);
        }
        // 2^32 sessions in one shard would be terabytes: refuse rather than wrap.
        let at = self
            .take_place(u32::MAX as usize)
            .ok_or_else(|| Error::InvalidArgument("the session store is full".into()))?;
        if let Some(mut place) = self.slab.get_mut(at) {
            place.fill(entry);
        }
        self.may_end_at(at);
        self.index_user(at);
        self.foreign.insert(key, at as u32);
        self.live += 1;
        Ok(false)
    }

    /// Keep the user index (when there is one) up to date with the session just put at `at`.
    fn index_user(&mut self, at: usize) {
        if let (Some(users), Some(place)) = (self.users.as_mut(), self.slab.get(at)) {
            users.add(place, at);
        }
    }

    /// Build the shard's user index, unless it has one.
    pub(super) fn build_user_index(&mut self) {
        if self.users.is_none() {
            self.users = Some(UserIndex::of(&self.slab));
        }
    }

    pub(super) fn has_user_index(&self) -> bool {
        self.users.is_some()
    }

    /// The live sessions of `user`, with their place numbers, found through the user index
    /// (which must have been built).
    pub(super) fn sessions_of<'a>(
        &'a self,
        user: &'a [u8],
    ) -> impl Iterator<Item = PlaceRef<'a>> + 'a {
        let places = self.users.as_ref().map_or(&[][..], |u| u.places_of(user));
        places.iter().filter_map(move |&at| {
            let place = self.slab.get(at as usize)?;
            (place.state() == State::Live && place.locked().user_id.as_bytes() == Some(user))
                .then_some(place)
        })
    }

    pub(super) fn values(&self) -> impl Iterator<Item = PlaceRef<'_>> {
        self.slab.iter().filter(|p| p.state() == State::Live)
    }

    /// Count a write; every so often, sweep.
    pub(super) fn wrote(&mut self, now: i64) {
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= SWEEP_MIN_WRITES.max(self.live / 4)
            && now >= self.nothing_ends_before
        {
            self.sweep(now);
        }
    }

    /// Free ended sessions and stale reservations; returns how many sessions ended.
    pub(super) fn sweep(&mut self, now: i64) -> usize {
        let mut ended = 0;
        let mut nothing_ends_before = i64::MAX;
        let free = &mut self.free;
        let details = &mut self.details;
        let users = &mut self.users;
        self.slab.for_each_mut(|at, mut place| {
            let seen = place.as_ref();
            if seen.is_over(now) {
                ended += usize::from(seen.state() == State::Live);
                if let (Some(users), State::Live) = (users.as_mut(), seen.state()) {
                    users.remove(seen, at);
                }
                if !details.is_empty() {
                    details.remove(&seen.id());
                }
                place.clear();
                free.push(at as u32);
            } else {
                nothing_ends_before = nothing_ends_before.min(seen.ends());
            }
        });
        self.nothing_ends_before = nothing_ends_before;
        if ended > 0 && !self.foreign.is_empty() {
            let slab = &self.slab;
            self.foreign.retain(|key, at| {
                slab.get(*at as usize)
                    .is_some_and(|p| p.is(*key, State::Live))
            });
        }
        self.live -= ended;
        self.writes_since_sweep = 0;
        self.give_back_memory();
        ended
    }

    /// After a burst has ended, hand memory back: drop free places at the slab's end and
    /// shrink what is mostly empty, so memory follows live sessions, not the peak.
    fn give_back_memory(&mut self) {
        self.slab.trim();
        let len = self.slab.len;
        self.free.retain(|&at| (at as usize) < len);
        if self.free.capacity() > 64 && self.free.len() < self.free.capacity() / 4 {
            self.free.shrink_to_fit();
        }
        if self.foreign.capacity() > 64 && self.foreign.len() < self.foreign.capacity() / 4 {
            self.foreign.shrink_to_fit();
        }
    }
}

/// A shard's write lock and write section: while it lives the shard's version is odd, and
/// when it goes the view records where the places are and the version turns even. If it
/// goes while unwinding from a panic, a place may be half-written: the shard is poisoned
/// and the version stays odd, so no reader, locked or not, trusts the shard again.
pub(super) struct ShardWrite<'a> {
    shard: RwLockWriteGuard<'a, Shard>,
    view: &'a ShardView,
    /// The thread was unwinding already when the section began (so that is no sign of a
    /// panic inside it).
    unwinding_before: bool,
}

impl<'a> ShardWrite<'a> {
    /// Lock `shard` and open a write section; refused if the shard is poisoned.
    pub(super) fn begin(shard: &'a RwLock<Shard>, view: &'a ShardView) -> Result<ShardWrite<'a>> {
        let shard = shard.write();
        if shard.poisoned {
            return Err(Error::Panic);
        }
        view.begin_write();
        Ok(ShardWrite {
            shard,
            view,
            unwinding_before: std::thread::panicking(),
        })
    }
}

impl Drop for ShardWrite<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.unwinding_before {
            self.shard.poisoned = true;
            return;
        }
        self.view.end_write(&self.shard.slab);
    }
}

impl std::ops::Deref for ShardWrite<'_> {
    type Target = Shard;
    fn deref(&self) -> &Shard {
        &self.shard
    }
}

impl std::ops::DerefMut for ShardWrite<'_> {
    fn deref_mut(&mut self) -> &mut Shard {
        &mut self.shard
    }
}
