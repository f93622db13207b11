//! The default store: sessions in a sharded hash map under parking_lot locks.
//! Reads (validate) take a shard's read lock and slide the idle deadline with an atomic,
//! so concurrent validates never block each other; rotation takes the write lock.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use parking_lot::{Mutex, RwLock};

use super::{RevokeOutcome, RotateOutcome, SessionStore, StoreStats};
use crate::error::{Error, Result};
use crate::session::{self, Binding, Id, Presented, Rotation, Session};

const SHARDS: usize = 64;
/// A shard is swept after this many inserts, or a quarter of its size, whichever is larger:
/// amortized O(1) per write, and memory bounded without anyone calling `sweep`.
const SWEEP_MIN_WRITES: usize = 64;

/// Ids are 128 random bits: their low half is already a good hash.
#[derive(Default)]
struct IdHasher(u64);

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

/// A 128-bit id split in two words: 8-byte alignment keeps buckets free of padding
/// (a `u128` would align every bucket to 16 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Packed([u64; 2]);

impl Packed {
    /// Zero stands for "none": ids are 128 random bits and never zero in practice.
    const NONE: Packed = Packed([0, 0]);

    fn of(id: Id) -> Packed {
        Packed([(id.0 >> 64) as u64, id.0 as u64])
    }

    fn id(self) -> Id {
        Id(((self.0[0] as u128) << 64) | self.0[1] as u128)
    }

    fn of_option(id: Option<Id>) -> Packed {
        id.map_or(Packed::NONE, Packed::of)
    }

    fn option(self) -> Option<Id> {
        (self != Packed::NONE).then(|| self.id())
    }
}

impl std::hash::Hash for Packed {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0[1]);
    }
}

type IdMap<V> = HashMap<Packed, V, BuildHasherDefault<IdHasher>>;

/// One session, packed: this is most of the store's memory.
struct Slot {
    user_id: Box<str>,
    created_at: i64,
    absolute_deadline: i64,
    current_iat: i64,
    idle_deadline: AtomicI64,
    current_jti: Packed,
    previous_jti: Packed,
    /// Boxed: most sessions are unbound and should not pay for two digests.
    binding: Option<Box<Binding>>,
    revoked: AtomicBool,
}

impl Slot {
    fn idle(&self) -> i64 {
        self.idle_deadline.load(Ordering::Acquire)
    }

    fn check_alive(&self, now: i64) -> Result<()> {
        session::check_alive(
            self.revoked.load(Ordering::Acquire),
            self.idle(),
            self.absolute_deadline,
            now,
        )
    }

    fn slide(&self, now: i64, idle_timeout: i64) {
        let new = session::slide(now, idle_timeout, self.absolute_deadline);
        if session::touch_needed(self.idle(), new) {
            self.idle_deadline.fetch_max(new, Ordering::AcqRel);
        }
    }

    fn is_dead(&self, now: i64) -> bool {
        session::is_dead(self.idle(), self.absolute_deadline, now)
    }

    /// The binding rule; a mismatch that revokes does so under the caller's lock.
    fn check_binding(&self, presented: &Presented) -> Result<()> {
        let unbound = Binding::default();
        session::check_binding(self.binding.as_deref().unwrap_or(&unbound), presented).map_err(
            |m| {
                if m.revokes(presented) {
                    self.revoked.store(true, Ordering::Release);
                }
                m.error()
            },
        )
    }
}

/// One shard: a small index from session id to a slot number, and the slots in a slab.
/// Index buckets are 24 bytes, so the hash table's doubling costs little; slots sit densely
/// in a vector whose freed places are reused.
#[derive(Default)]
struct Shard {
    index: IdMap<u32>,
    slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    writes_since_sweep: usize,
}

impl Shard {
    fn len(&self) -> usize {
        self.index.len()
    }

    fn get(&self, sid: Id) -> Option<&Slot> {
        let at = *self.index.get(&Packed::of(sid))?;
        self.slots.get(at as usize)?.as_ref()
    }

    fn get_mut(&mut self, sid: Id) -> Option<&mut Slot> {
        let at = *self.index.get(&Packed::of(sid))?;
        self.slots.get_mut(at as usize)?.as_mut()
    }

    fn insert(&mut self, sid: Id, slot: Slot) {
        let key = Packed::of(sid);
        if let Some(&at) = self.index.get(&key) {
            self.slots[at as usize] = Some(slot);
            return;
        }
        let at = match self.free.pop() {
            Some(at) => {
                self.slots[at as usize] = Some(slot);
                at
            }
            None => {
                self.slots.push(Some(slot));
                // A shard never holds 2^32 sessions (that would be terabytes).
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(key, at);
    }

    fn values(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().flatten()
    }

    fn sweep(&mut self, now: i64) -> usize {
        let before = self.index.len();
        let (slots, free) = (&mut self.slots, &mut self.free);
        self.index.retain(|_, at| {
            let place = &mut slots[*at as usize];
            let dead = !matches!(place, Some(s) if !s.is_dead(now));
            if dead {
                *place = None;
                free.push(*at);
            }
            !dead
        });
        self.writes_since_sweep = 0;
        self.give_back_memory();
        before - self.index.len()
    }

    /// After a burst has ended, hand memory back: drop free places at the slab's end and
    /// shrink what is mostly empty, so memory follows live sessions, not the peak.
    fn give_back_memory(&mut self) {
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        let len = self.slots.len();
        self.free.retain(|&at| (at as usize) < len);
        if self.slots.capacity() > 64 && len < self.slots.capacity() / 4 {
            self.slots.shrink_to_fit();
            self.free.shrink_to_fit();
        }
        if self.index.capacity() > 64 && self.index.len() < self.index.capacity() / 4 {
            self.index.shrink_to_fit();
        }
    }
}

/// A map from string keys to an expiry, swept the same amortized way.
#[derive(Default)]
struct Expiring {
    map: HashMap<Box<str>, (i64, i64)>,
    writes_since_sweep: usize,
}

impl Expiring {
    fn sweep(&mut self, now: i64) -> usize {
        let before = self.map.len();
        self.map.retain(|_, (_, until)| *until > now);
        self.writes_since_sweep = 0;
        before - self.map.len()
    }

    /// Returns whether the key was new.
    fn insert(&mut self, key: &str, value: i64, until: i64, now: i64) -> bool {
        let fresh = self.map.insert(key.into(), (value, until)).is_none();
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= SWEEP_MIN_WRITES.max(self.map.len() / 4) {
            self.sweep(now);
        }
        fresh
    }
}

/// In-process session store; the default (`store = "memory"`).
pub struct MemoryStore {
    shards: Box<[RwLock<Shard>]>,
    denied: Mutex<Expiring>,
    epochs: RwLock<Expiring>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore {
            shards: (0..SHARDS).map(|_| RwLock::new(Shard::default())).collect(),
            denied: Mutex::new(Expiring::default()),
            epochs: RwLock::new(Expiring::default()),
        }
    }

    fn shard(&self, sid: Id) -> &RwLock<Shard> {
        &self.shards[(sid.0 >> 64) as usize % SHARDS]
    }
}

impl SessionStore for MemoryStore {
    fn create(&self, s: Session, now: i64) -> Result<()> {
        let slot = Slot {
            user_id: s.user_id.into_boxed_str(),
            created_at: s.created_at,
            absolute_deadline: s.absolute_deadline,
            current_iat: s.current_iat,
            idle_deadline: AtomicI64::new(s.idle_deadline),
            revoked: AtomicBool::new(s.revoked),
            current_jti: Packed::of(s.current_jti),
            previous_jti: Packed::of_option(s.previous_jti),
            binding: (!s.binding.is_unbound()).then(|| Box::new(s.binding)),
        };
        let mut shard = self.shard(s.sid).write();
        shard.insert(s.sid, slot);
        shard.writes_since_sweep += 1;
        if shard.writes_since_sweep >= SWEEP_MIN_WRITES.max(shard.len() / 4) {
            shard.sweep(now);
        }
        Ok(())
    }

    fn get(&self, sid: Id) -> Result<Option<Session>> {
        let shard = self.shard(sid).read();
        Ok(shard.get(sid).map(|s| Session {
            sid,
            user_id: s.user_id.to_string(),
            created_at: s.created_at,
            idle_deadline: s.idle(),
            absolute_deadline: s.absolute_deadline,
            current_jti: s.current_jti.id(),
            current_iat: s.current_iat,
            previous_jti: s.previous_jti.option(),
            revoked: s.revoked.load(Ordering::Acquire),
            binding: s.binding.as_deref().copied().unwrap_or_default(),
        }))
    }

    fn touch(
        &self,
        sid: Id,
        now: i64,
        idle_timeout: i64,
        slide: bool,
        presented: Option<&Presented>,
    ) -> Result<()> {
        let shard = self.shard(sid).read();
        let slot = shard.get(sid).ok_or(Error::SessionUnknown)?;
        if let Some(presented) = presented {
            slot.check_binding(presented)?;
        }
        slot.check_alive(now)?;
        if slide {
            slot.slide(now, idle_timeout);
        }
        Ok(())
    }

    fn rotate(
        &self,
        sid: Id,
        presented: Id,
        next: Id,
        now: i64,
        idle_timeout: i64,
        grace: i64,
        binding: &Presented,
    ) -> Result<RotateOutcome> {
        let mut shard = self.shard(sid).write();
        let slot = shard.get_mut(sid).ok_or(Error::SessionUnknown)?;
        slot.check_binding(binding)?;
        let decision = session::decide_rotation(
            slot.current_jti.id(),
            slot.previous_jti.option(),
            slot.current_iat,
            presented,
            now,
            grace,
        );
        // A replay is reported as one even once the session is revoked (e.g. by the replay
        // that raced it): liveness only matters to a legitimate rotation.
        if decision != Rotation::Reuse {
            slot.check_alive(now)?;
        }
        match decision {
            Rotation::Rotate => {
                slot.previous_jti = slot.current_jti;
                slot.current_jti = Packed::of(next);
                slot.current_iat = now;
                slot.slide(now, idle_timeout);
                Ok(RotateOutcome::Rotated {
                    absolute_deadline: slot.absolute_deadline,
                })
            }
            Rotation::Converge => {
                slot.slide(now, idle_timeout);
                Ok(RotateOutcome::Converged {
                    current_jti: slot.current_jti.id(),
                    current_iat: slot.current_iat,
                    absolute_deadline: slot.absolute_deadline,
                })
            }
            Rotation::Reuse => {
                slot.revoked.store(true, Ordering::Release);
                Err(Error::ReuseDetected)
            }
        }
    }

    fn revoke_session(&self, sid: Id) -> Result<RevokeOutcome> {
        let shard = self.shard(sid).read();
        Ok(match shard.get(sid) {
            None => RevokeOutcome::Unknown,
            Some(slot) if slot.revoked.swap(true, Ordering::AcqRel) => {
                RevokeOutcome::AlreadyRevoked
            }
            Some(_) => RevokeOutcome::Revoked,
        })
    }

    fn revoke_user(&self, user_id: &str, now: i64, remember_until: i64) -> Result<usize> {
        // Epoch first: a sessionless token checked meanwhile is already refused.
        self.epochs
            .write()
            .insert(user_id, now, remember_until, now);
        let mut n = 0;
        for shard in self.shards.iter() {
            let shard = shard.read();
            for slot in shard.values() {
                if &*slot.user_id == user_id && !slot.revoked.swap(true, Ordering::AcqRel) {
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    fn user_not_before(&self, user_id: &str) -> Result<Option<i64>> {
        let epochs = self.epochs.read();
        if epochs.map.is_empty() {
            return Ok(None);
        }
        Ok(epochs.map.get(user_id).map(|(epoch, _)| *epoch))
    }

    fn deny_jti(&self, jti: &str, until: i64, now: i64) -> Result<bool> {
        let mut denied = self.denied.lock();
        if denied.map.contains_key(jti) {
            return Ok(false);
        }
        Ok(denied.insert(jti, until, until, now))
    }

    fn is_denied(&self, jti: &str) -> Result<bool> {
        let denied = self.denied.lock();
        Ok(!denied.map.is_empty() && denied.map.contains_key(jti))
    }

    fn sweep(&self, now: i64) -> Result<usize> {
        let mut n = 0;
        for shard in self.shards.iter() {
            n += shard.write().sweep(now);
        }
        n += self.denied.lock().sweep(now);
        n += self.epochs.write().sweep(now);
        Ok(n)
    }

    fn stats(&self) -> Result<StoreStats> {
        let mut st = StoreStats::default();
        for shard in self.shards.iter() {
            let shard = shard.read();
            st.sessions += shard.len();
            st.revoked_sessions += shard
                .values()
                .filter(|s| s.revoked.load(Ordering::Acquire))
                .count();
        }
        st.denied_jtis = self.denied.lock().map.len();
        st.user_epochs = self.epochs.read().map.len();
        Ok(st)
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    #[test]
    fn a_bucket_stays_small() {
        // An index bucket and a slab place are what every live session costs (plus its
        // user id); a free place costs no more than a used one.
        assert_eq!(std::mem::size_of::<(Packed, u32)>(), 24);
        assert!(std::mem::size_of::<Option<Slot>>() <= 96);
        assert_eq!(
            std::mem::size_of::<Option<Slot>>(),
            std::mem::size_of::<Slot>()
        );
    }

    #[test]
    fn packed_ids_round_trip() {
        let id = Id(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
        assert_eq!(Packed::of(id).id(), id);
        assert_eq!(Packed::of_option(None).option(), None);
        assert_eq!(Packed::of_option(Some(id)).option(), Some(id));
    }
}

#[cfg(test)]
mod memory_tests {
    use super::*;

    #[test]
    fn memory_follows_live_sessions_after_a_burst() {
        let store = MemoryStore::new();
        for i in 1..=20_000u128 {
            let s = Session::new(Id(i << 64 | i), "u".into(), Id(i), 0, 10, 100);
            store.create(s, 0).unwrap();
        }
        let peak: usize = store.shards.iter().map(|s| s.read().slots.capacity()).sum();
        assert!(peak >= 20_000);
        assert_eq!(store.sweep(1_000).unwrap(), 20_000);
        let after: usize = store.shards.iter().map(|s| s.read().slots.capacity()).sum();
        assert!(
            after < peak / 4,
            "slab capacity {after} after a peak of {peak}"
        );
        // The store still works, reusing nothing stale.
        let s = Session::new(Id(7 << 64 | 7), "u".into(), Id(7), 1_000, 10, 100);
        store.create(s, 1_000).unwrap();
        assert!(store.get(Id(7 << 64 | 7)).unwrap().is_some());
        assert!(store.get(Id(1 << 64 | 1)).unwrap().is_none());
    }
}
