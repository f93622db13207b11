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
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

type IdMap<V> = HashMap<u128, V, BuildHasherDefault<IdHasher>>;

struct Slot {
    user_id: Box<str>,
    created_at: i64,
    absolute_deadline: i64,
    current_iat: i64,
    idle_deadline: AtomicI64,
    revoked: AtomicBool,
    current_jti: Id,
    previous_jti: Option<Id>,
    binding: Binding,
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
        session::check_binding(&self.binding, presented).map_err(|m| {
            if m.revokes(presented) {
                self.revoked.store(true, Ordering::Release);
            }
            m.error()
        })
    }
}

#[derive(Default)]
struct Shard {
    map: IdMap<Slot>,
    writes_since_sweep: usize,
}

impl Shard {
    fn sweep(&mut self, now: i64) -> usize {
        let before = self.map.len();
        self.map.retain(|_, s| !s.is_dead(now));
        self.writes_since_sweep = 0;
        before - self.map.len()
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
            current_jti: s.current_jti,
            previous_jti: s.previous_jti,
            binding: s.binding,
        };
        let mut shard = self.shard(s.sid).write();
        shard.map.insert(s.sid.0, slot);
        shard.writes_since_sweep += 1;
        if shard.writes_since_sweep >= SWEEP_MIN_WRITES.max(shard.map.len() / 4) {
            shard.sweep(now);
        }
        Ok(())
    }

    fn get(&self, sid: Id) -> Result<Option<Session>> {
        let shard = self.shard(sid).read();
        Ok(shard.map.get(&sid.0).map(|s| Session {
            sid,
            user_id: s.user_id.to_string(),
            created_at: s.created_at,
            idle_deadline: s.idle(),
            absolute_deadline: s.absolute_deadline,
            current_jti: s.current_jti,
            current_iat: s.current_iat,
            previous_jti: s.previous_jti,
            revoked: s.revoked.load(Ordering::Acquire),
            binding: s.binding,
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
        let slot = shard.map.get(&sid.0).ok_or(Error::SessionUnknown)?;
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
        let slot = shard.map.get_mut(&sid.0).ok_or(Error::SessionUnknown)?;
        slot.check_binding(binding)?;
        let decision = session::decide_rotation(
            slot.current_jti,
            slot.previous_jti,
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
                slot.previous_jti = Some(slot.current_jti);
                slot.current_jti = next;
                slot.current_iat = now;
                slot.slide(now, idle_timeout);
                Ok(RotateOutcome::Rotated {
                    absolute_deadline: slot.absolute_deadline,
                })
            }
            Rotation::Converge => {
                slot.slide(now, idle_timeout);
                Ok(RotateOutcome::Converged {
                    current_jti: slot.current_jti,
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
        Ok(match shard.map.get(&sid.0) {
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
            for slot in shard.map.values() {
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
            st.sessions += shard.map.len();
            st.revoked_sessions += shard
                .map
                .values()
                .filter(|s| s.revoked.load(Ordering::Acquire))
                .count();
        }
        st.denied_jtis = self.denied.lock().map.len();
        st.user_epochs = self.epochs.read().map.len();
        Ok(st)
    }
}
