//! The default store: sessions in sharded slabs under parking_lot locks.
//!
//! The store chooses session ids, whose low bits name the shard and the place of the
//! session, hidden under a per-store secret ([`locate`]). A validate reads its session's
//! place without any lock when it can ([`view`]: a sequence lock over atomics, see
//! [`seqlock`] and [`place`]), and otherwise takes the shard's read lock and slides the idle
//! deadline with an atomic, so concurrent validates never block each other; writes (login,
//! rotation, sweeps) take the write lock and run as a write section of the shard
//! ([`shard`]). Where places live, and why their memory stays mapped, is [`slab`] and
//! [`block`]. A write section that panics poisons its shard: from then on every use of it
//! is refused with `Error::Panic`, since one of its places may be half-written.

// A loom build runs the sequence-lock model only.
#![cfg_attr(loom, allow(dead_code))]

use parking_lot::{Mutex, RwLock, RwLockReadGuard};

use serde_json::{Map, Value};

use super::{RevokeOutcome, RotateOutcome, SessionStore, Stats, StoredSession};
use crate::error::{Error, Result};
use crate::session::{self, BindingCheck, Id, Rotation, Session, SessionDetails};

mod block;
mod details;
mod expiring;
mod locate;
mod place;
mod seqlock;
mod shard;
mod slab;
mod sync;
mod users;
mod view;

#[cfg(test)]
mod tests;

use expiring::Expiring;
use locate::{Locator, SHARDS};
use place::{Entry, Packed};
use shard::{Shard, ShardWrite};
use view::ShardView;

/// A place reserved for a login that never created its session is freed after this long.
const RESERVATION_S: i64 = 60;
/// A shard is swept after this many inserts, or a quarter of its size, whichever is larger:
/// amortized O(1) per write, and memory bounded without anyone calling `sweep`. (Fewer in
/// tests, so that short runs sweep as long ones do.)
const SWEEP_MIN_WRITES: usize = if cfg!(test) { 8 } else { 64 };

/// In-process session store; the default (`store = "memory"`).
pub struct MemoryStore {
    shards: Box<[RwLock<Shard>]>,
    /// Each shard's places as a validate reads them without the lock (see [`view`]).
    views: Box<[ShardView]>,
    locator: Locator,
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
    ///
    /// # Panics
    /// If the OS random source fails to give the store its secret (see
    /// [`MemoryStore::try_new`]).
    pub fn new() -> MemoryStore {
        MemoryStore::try_new().expect("the OS random source gives the store its secret")
    }

    /// An empty store, or `Error::StoreUnavailable` if the OS random source fails to give it
    /// the secret that masks where its sessions live.
    pub fn try_new() -> Result<MemoryStore> {
        Ok(MemoryStore::with_locator(Locator::new()?))
    }

    fn with_locator(locator: Locator) -> MemoryStore {
        MemoryStore {
            shards: (0..SHARDS).map(|_| RwLock::new(Shard::default())).collect(),
            views: (0..SHARDS).map(|_| ShardView::default()).collect(),
            locator,
            denied: Mutex::new(Expiring::default()),
            epochs: RwLock::new(Expiring::default()),
        }
    }

    /// Shard `no` for reading; refused once poisoned.
    fn read_shard(&self, no: usize) -> Result<RwLockReadGuard<'_, Shard>> {
        let shard = self.shards[no].read();
        if shard.poisoned {
            return Err(Error::Panic);
        }
        Ok(shard)
    }

    /// Shard `no` for writing. Every write goes through here, so readers without the lock
    /// know a write ran, and the view follows every change to where the places are.
    fn write_shard(&self, no: usize) -> Result<ShardWrite<'_>> {
        ShardWrite::begin(&self.shards[no], &self.views[no])
    }

    /// Every shard that is not poisoned, for reading: what a poisoned shard holds can no
    /// longer be used, so store-wide reads and revocations pass it by.
    fn healthy_shards(&self) -> impl Iterator<Item = RwLockReadGuard<'_, Shard>> {
        (0..SHARDS).filter_map(|no| self.read_shard(no).ok())
    }
}

impl SessionStore for MemoryStore {
    fn prefetch(&self, sid: Id) {
        // Without the shard's lock: a prefetch never waits.
        let (no, at) = self.locator.locate(sid);
        self.views[no].prefetch(at);
    }

    /// 96 random bits, then the shard and a place reserved in it.
    fn new_session_id(&self, now: i64) -> Result<Id> {
        let random = Id::random()?;
        let (first, _) = self.locator.locate(random);
        // A poisoned shard takes no logins: the next one does.
        for no in (first..SHARDS).chain(0..first) {
            let Ok(mut shard) = self.write_shard(no) else {
                continue;
            };
            let Some(sid) = shard.reserve(now, |at| self.locator.id(random, no, at)) else {
                // A shard with 2^26 places: the id stays random and `create` indexes it.
                return Ok(random);
            };
            // Counted as a write, so reservations that are never filled are swept too.
            shard.wrote(now);
            return Ok(sid);
        }
        Err(Error::Panic)
    }

    fn create(&self, s: Session, now: i64) -> Result<()> {
        self.create_with(s, SessionDetails::default(), now)
    }

    fn create_with(&self, s: Session, details: SessionDetails, now: i64) -> Result<()> {
        let sid = s.sid;
        let entry = Entry::live(s);
        // Boxed before the lock is taken.
        let details = (!details.is_empty()).then(|| Box::new(details::Kept::new(details)));
        let (no, at) = self.locator.locate(sid);
        let mut shard = self.write_shard(no)?;
        let key = Packed::of(sid);
        // Filling a reservation is no new write: the reservation was counted.
        if !shard.insert(key, at, entry)? {
            shard.wrote(now);
        }
        match details {
            Some(d) => {
                shard.details.insert(key, d);
            }
            None if !shard.details.is_empty() => {
                shard.details.remove(&key);
            }
            None => {}
        }
        Ok(())
    }

    fn details(&self, sid: Id) -> Result<Option<SessionDetails>> {
        self.details_of(sid)
    }

    fn session_claims(&self, sid: Id) -> Result<Option<Map<String, Value>>> {
        self.claims_of(sid)
    }

    fn user_sessions(&self, user_id: &str, now: i64) -> Result<Vec<StoredSession>> {
        self.sessions_of(user_id, now)
    }

    fn update_claims(
        &self,
        sid: Id,
        changes: &Map<String, Value>,
        now: i64,
    ) -> Result<Map<String, Value>> {
        self.merge_claims(sid, changes, now)
    }

    fn revoke_user_except(
        &self,
        user_id: &str,
        keep: Option<Id>,
        now: i64,
        remember_until: i64,
    ) -> Result<Vec<Id>> {
        self.revoke_all_but(user_id, keep, now, remember_until)
    }

    fn live_sessions(&self, now: i64) -> Result<usize> {
        Ok(self.count_live(now))
    }

    fn get(&self, sid: Id) -> Result<Option<Session>> {
        let (no, at) = self.locator.locate(sid);
        let shard = self.read_shard(no)?;
        Ok(shard.get(sid, at).map(|place| place.session(sid)))
    }

    fn touch(
        &self,
        sid: Id,
        now: i64,
        idle_timeout: i64,
        slide: bool,
        presented: Option<&BindingCheck>,
    ) -> Result<()> {
        let (no, at) = self.locator.locate(sid);
        // Without the lock when the snapshot settles it: an unbound session (the binding
        // check then passes whatever is presented) that is over, or needs no slide.
        if let Some(hot) = self.views[no].read(at) {
            if hot.is_live(Packed::of(sid)) && !hot.bound {
                session::check_alive(hot.revoked, hot.idle_deadline, hot.absolute_deadline, now)?;
                let new_idle = session::slide(now, idle_timeout, hot.absolute_deadline);
                if !slide || !session::touch_needed(hot.idle_deadline, new_idle) {
                    return Ok(());
                }
            }
        }
        // A slide writes the place, which must not change hands meanwhile: under the lock.
        let shard = self.read_shard(no)?;
        let place = shard.get(sid, at).ok_or(Error::SessionUnknown)?;
        if let Some(presented) = presented {
            place.check_binding(presented)?;
        }
        place.check_alive(now)?;
        if slide {
            place.slide(now, idle_timeout);
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
        binding: &BindingCheck,
    ) -> Result<RotateOutcome> {
        let (no, at) = self.locator.locate(sid);
        let mut shard = self.write_shard(no)?;
        let mut place = shard.get_mut(sid, at).ok_or(Error::SessionUnknown)?;
        let seen = place.as_ref();
        seen.check_binding(binding)?;
        let locked = seen.locked();
        let (current_jti, current_iat) = (locked.current_jti.id(), locked.current_iat);
        let decision = session::decide_rotation(
            current_jti,
            locked.previous_jti.option(),
            current_iat,
            presented,
            now,
            grace,
        );
        // A replay is reported as one even once the session is revoked (e.g. by the replay
        // that raced it): liveness only matters to a legitimate rotation.
        if decision != Rotation::Reuse {
            seen.check_alive(now)?;
        }
        match decision {
            Rotation::Rotate => {
                place.rotate(Packed::of(next), now);
                let rotated = place.as_ref();
                rotated.slide(now, idle_timeout);
                let absolute_deadline = rotated.absolute();
                Ok(RotateOutcome::Rotated {
                    absolute_deadline,
                    claims: claims_in(&shard, sid),
                })
            }
            Rotation::Converge => {
                seen.slide(now, idle_timeout);
                let absolute_deadline = seen.absolute();
                Ok(RotateOutcome::Converged {
                    current_jti,
                    current_iat,
                    absolute_deadline,
                    claims: claims_in(&shard, sid),
                })
            }
            Rotation::Reuse => {
                seen.revoke();
                Err(Error::ReuseDetected)
            }
        }
    }

    fn revoke_session(&self, sid: Id) -> Result<RevokeOutcome> {
        let (no, at) = self.locator.locate(sid);
        let shard = self.read_shard(no)?;
        Ok(match shard.get(sid, at) {
            None => RevokeOutcome::Unknown,
            Some(place) if place.revoke() => RevokeOutcome::AlreadyRevoked,
            Some(_) => RevokeOutcome::Revoked,
        })
    }

    fn revoke_user(&self, user_id: &str, now: i64, remember_until: i64) -> Result<usize> {
        Ok(self
            .revoke_all_but(user_id, None, now, remember_until)?
            .len())
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
        for no in 0..SHARDS {
            // A poisoned shard is left as it is: nothing in it is trusted, or used.
            if let Ok(mut shard) = self.write_shard(no) {
                n += shard.sweep(now);
            }
        }
        n += self.denied.lock().sweep(now);
        n += self.epochs.write().sweep(now);
        Ok(n)
    }

    fn stats(&self) -> Result<Stats> {
        let mut st = Stats::default();
        for shard in self.healthy_shards() {
            st.sessions += shard.live;
            st.revoked_sessions += shard.values().filter(|p| p.revoked()).count();
        }
        st.denied_jtis = self.denied.lock().map.len();
        st.user_epochs = self.epochs.read().map.len();
        Ok(st)
    }
}

/// The claims the shard keeps for `sid`, if any.
fn claims_in(shard: &Shard, sid: Id) -> Option<Map<String, Value>> {
    if shard.details.is_empty() {
        return None;
    }
    shard
        .details
        .get(&Packed::of(sid))
        .filter(|d| d.claims_set)
        .map(|d| d.details.claims.clone())
}
