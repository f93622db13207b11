//! The default store: sessions in sharded slabs under parking_lot locks.
//! The store chooses session ids: 96 random bits, and the low 32 bits name the shard and
//! the slab place, so a lookup is one read of that place and a compare of the full id, with
//! no hash index in between (at a million sessions, each extra random read is a cache and
//! TLB miss). A validate reads its session's place without any lock when it can ([`view`]:
//! a version check), and otherwise takes the shard's read lock and slides the idle deadline
//! with an atomic, so concurrent validates never block each other; writes (login, rotation,
//! sweeps) take the write lock. Where places live, and why that memory stays mapped, is
//! [`slab`].

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use parking_lot::{Mutex, RwLock, RwLockWriteGuard};

use super::{RevokeOutcome, RotateOutcome, SessionStore, Stats};
use crate::error::{Error, Result};
use crate::session::{self, BindingCheck, ClientBinding, Id, Rotation, Session};

mod slab;
mod view;

use slab::Slab;
use view::ShardView;

const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;
/// The low bits of an id the store chooses: shard, then place. The other 96 stay random.
const PLACE_BITS: u32 = 32;
const PLACE_MASK: u128 = (1 << PLACE_BITS) - 1;
/// Places a shard can name in an id (2^26: far beyond any memory).
const MAX_PLACES: usize = 1 << (PLACE_BITS - SHARD_BITS);
/// A place reserved for a login that never created its session is freed after this long.
const RESERVATION_S: i64 = 60;
/// A shard is swept after this many inserts, or a quarter of its size, whichever is larger:
/// amortized O(1) per write, and memory bounded without anyone calling `sweep`.
const SWEEP_MIN_WRITES: usize = 64;

fn shard_of(id: Id) -> usize {
    id.0 as usize % SHARDS
}

fn place_of(id: Id) -> usize {
    ((id.0 & PLACE_MASK) >> SHARD_BITS) as usize
}

/// For the side index of ids the store did not choose: those are random, so mixing their
/// bytes is hash enough.
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

/// A 128-bit id split in two words: 8-byte alignment, so a slot packs without padding.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
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
        // Both words, mixed: ids a caller chose may be small or repeat a pattern.
        let mixed = self.0[0] ^ self.0[1].rotate_left(32);
        state.write_u64(mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    }
}

type IdMap<V> = HashMap<Packed, V, BuildHasherDefault<IdHasher>>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum State {
    Free = 0,
    /// Held for the id `new_session_id` handed out, until `create` fills it.
    Reserved,
    Live,
}

/// One place of a shard's slab: this is most of the store's memory. Aligned to a cache
/// line, with everything a validate reads or writes (id, deadlines, binding, revoked) in
/// the first line, so a validate touches one line of the slab.
///
/// A chunk fresh from the OS holds no places until they are written: a place is written
/// (as [`Slot::vacant`]) when the slab first hands it out, so untouched memory stays
/// unbacked and nothing is read before it is written.
#[repr(C, align(64))]
struct Slot {
    /// The session's id (reserved or live); `NONE` when free.
    id: Packed,
    idle_deadline: AtomicI64,
    absolute_deadline: i64,
    /// Boxed: most sessions are unbound and should not pay for two digests.
    binding: Option<Box<ClientBinding>>,
    revoked: AtomicBool,
    state: State,
    /// `None` only in a free or reserved place.
    user_id: UserId,
    /// Login time; for a reserved place, when it was reserved.
    created_at: i64,
    current_iat: i64,
    current_jti: Packed,
    previous_jti: Packed,
}

/// Longest user id a slot keeps in itself.
const INLINE_USER_ID: usize = 22;

/// A session's user id: in the slot itself when short (most are: numbers, short names), so
/// a login allocates nothing to keep it and `revoke_user` compares without following a
/// pointer. `repr(u8)`, so that zero bytes are `None` (released memory reads as a vacant
/// place, see `slab`).
#[repr(u8)]
#[derive(Default)]
enum UserId {
    /// A free or reserved place.
    #[default]
    None = 0,
    Inline {
        len: u8,
        bytes: [u8; INLINE_USER_ID],
    },
    Boxed(Box<str>),
}

impl UserId {
    fn new(user_id: String) -> UserId {
        let len = user_id.len();
        if len > INLINE_USER_ID {
            return UserId::Boxed(user_id.into_boxed_str());
        }
        let mut bytes = [0; INLINE_USER_ID];
        bytes[..len].copy_from_slice(user_id.as_bytes());
        UserId::Inline {
            len: len as u8,
            bytes,
        }
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            UserId::None => None,
            UserId::Inline { len, bytes } => Some(&bytes[..*len as usize]),
            UserId::Boxed(user_id) => Some(user_id.as_bytes()),
        }
    }

    fn as_str(&self) -> Option<&str> {
        self.as_bytes()
            .map(|b| std::str::from_utf8(b).expect("copied from a String"))
    }
}

impl Default for Slot {
    fn default() -> Slot {
        Slot::vacant()
    }
}

impl Slot {
    fn vacant() -> Slot {
        Slot {
            id: Packed::NONE,
            idle_deadline: AtomicI64::new(0),
            absolute_deadline: 0,
            binding: None,
            revoked: AtomicBool::new(false),
            state: State::Free,
            user_id: UserId::None,
            created_at: 0,
            current_iat: 0,
            current_jti: Packed::NONE,
            previous_jti: Packed::NONE,
        }
    }

    fn is(&self, key: Packed, state: State) -> bool {
        self.id == key && self.state == state
    }

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

    /// Whether a sweep at `now` frees this place.
    fn is_over(&self, now: i64) -> bool {
        match self.state {
            State::Free => false,
            State::Reserved => now >= self.created_at.saturating_add(RESERVATION_S),
            State::Live => session::is_dead(self.idle(), self.absolute_deadline, now),
        }
    }

    /// The earliest time this place can be over: `is_over(now)` implies `now >= ends()`.
    /// Deadlines only ever move later (a slide), so this stays a lower bound.
    fn ends(&self) -> i64 {
        match self.state {
            State::Free => i64::MAX,
            State::Reserved => self.created_at.saturating_add(RESERVATION_S),
            State::Live => self.idle().min(self.absolute_deadline),
        }
    }

    /// The binding rule; a mismatch that revokes does so under the caller's lock.
    fn check_binding(&self, presented: &BindingCheck) -> Result<()> {
        let unbound = ClientBinding::default();
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

/// One shard: a slab of places, found by the place number in the id. Freed places are
/// reused; a reused place answers only for its new id, since every lookup compares all
/// 128 bits.
struct Shard {
    slots: Slab,
    free: Vec<u32>,
    /// Sessions created under an id this store did not choose (a caller's own, or one
    /// whose reservation was swept): found through this index. Empty in normal use.
    foreign: IdMap<u32>,
    live: usize,
    writes_since_sweep: usize,
    /// No place can be over before this time (the least of their [`Slot::ends`], or
    /// earlier): until then a sweep would free nothing, so none runs. A store filling with
    /// sessions that all have hours to live scans nothing.
    nothing_ends_before: i64,
}

impl Default for Shard {
    fn default() -> Shard {
        Shard {
            slots: Slab::default(),
            free: Vec::new(),
            foreign: IdMap::default(),
            live: 0,
            writes_since_sweep: 0,
            nothing_ends_before: i64::MAX,
        }
    }
}

impl Shard {
    /// Lower the sweep bound for a place just written.
    fn may_end_at(&mut self, at: usize) {
        self.nothing_ends_before = self.nothing_ends_before.min(self.slots[at].ends());
    }

    fn find(&self, sid: Id) -> Option<usize> {
        let key = Packed::of(sid);
        let at = place_of(sid);
        if self.slots.get(at).is_some_and(|s| s.is(key, State::Live)) {
            return Some(at);
        }
        if self.foreign.is_empty() {
            return None;
        }
        let at = *self.foreign.get(&key)? as usize;
        self.slots[at].is(key, State::Live).then_some(at)
    }

    fn get(&self, sid: Id) -> Option<&Slot> {
        self.find(sid).map(|at| &self.slots[at])
    }

    fn get_mut(&mut self, sid: Id) -> Option<&mut Slot> {
        self.find(sid).map(|at| &mut self.slots[at])
    }

    /// A free place, below `limit` when it is new.
    fn take_place(&mut self, limit: usize) -> Option<usize> {
        let at = match self.free.pop() {
            Some(at) => at as usize,
            None if self.slots.len >= limit => return None,
            None => self.slots.push(),
        };
        self.prefetch_next_place();
        Some(at)
    }

    /// Start loading the place the shard's next login will take. Its writes (under the
    /// write lock) would otherwise wait for memory when the lock is let go: a growing store
    /// writes places no one has read for a long time. The next login here comes some 64
    /// logins later, long enough for the load, short enough for the lines to stay cached.
    fn prefetch_next_place(&self) {
        let next = self.free.last().map_or(self.slots.len, |&at| at as usize);
        if let Some(place) = self.slots.room(next) {
            prefetch_line(place);
            prefetch_line(place.cast::<u8>().wrapping_add(64).cast());
        }
    }

    /// Hold a place for `id` (whose place bits the caller sets from the returned number).
    fn reserve(&mut self, now: i64) -> Option<usize> {
        let at = self.take_place(MAX_PLACES)?;
        if at >= MAX_PLACES {
            // Freed by a foreign session past what an id can name: leave it to those.
            self.free.push(at as u32);
            return None;
        }
        let slot = &mut self.slots[at];
        slot.state = State::Reserved;
        slot.created_at = now;
        self.may_end_at(at);
        Some(at)
    }

    /// Put a live `slot` (whose id is `sid`) in place; returns whether it filled a
    /// reservation.
    fn insert(&mut self, sid: Id, slot: Slot) -> Result<bool> {
        let key = Packed::of(sid);
        // Its reservation, or the same session again (replaced, as a map would).
        let at = place_of(sid);
        if let Some(place) = self.slots.get_mut(at) {
            if place.id == key && place.state != State::Free {
                let reserved = place.state == State::Reserved;
                self.live += usize::from(reserved);
                *place = slot;
                self.may_end_at(at);
                return Ok(reserved);
            }
        }
        if let Some(&at) = self.foreign.get(&key) {
            self.slots[at as usize] = slot;
            self.may_end_at(at as usize);
            return Ok(false);
        }
        // 2^32 sessions in one shard would be terabytes: refuse rather than wrap.
        let at = self
            .take_place(u32::MAX as usize)
            .ok_or_else(|| Error::InvalidArgument("the session store is full".into()))?;
        self.slots[at] = slot;
        self.may_end_at(at);
        self.foreign.insert(key, at as u32);
        self.live += 1;
        Ok(false)
    }

    fn values(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().filter(|s| s.state == State::Live)
    }

    /// Count a write; every so often, sweep.
    fn wrote(&mut self, now: i64) {
        self.writes_since_sweep += 1;
        if self.writes_since_sweep >= SWEEP_MIN_WRITES.max(self.live / 4)
            && now >= self.nothing_ends_before
        {
            self.sweep(now);
        }
    }

    /// Free ended sessions and stale reservations; returns how many sessions ended.
    fn sweep(&mut self, now: i64) -> usize {
        let mut ended = 0;
        let mut nothing_ends_before = i64::MAX;
        for (at, slot) in self.slots.iter_mut().enumerate() {
            if slot.is_over(now) {
                ended += usize::from(slot.state == State::Live);
                *slot = Slot::vacant();
                self.free.push(at as u32);
            } else {
                nothing_ends_before = nothing_ends_before.min(slot.ends());
            }
        }
        self.nothing_ends_before = nothing_ends_before;
        if ended > 0 && !self.foreign.is_empty() {
            let slots = &self.slots;
            self.foreign
                .retain(|key, at| slots[*at as usize].is(*key, State::Live));
        }
        self.live -= ended;
        self.writes_since_sweep = 0;
        self.give_back_memory();
        ended
    }

    /// After a burst has ended, hand memory back: drop free places at the slab's end and
    /// shrink what is mostly empty, so memory follows live sessions, not the peak.
    fn give_back_memory(&mut self) {
        self.slots.trim(|s| s.state == State::Free);
        let len = self.slots.len;
        self.free.retain(|&at| (at as usize) < len);
        if self.free.capacity() > 64 && self.free.len() < self.free.capacity() / 4 {
            self.free.shrink_to_fit();
        }
        if self.foreign.capacity() > 64 && self.foreign.len() < self.foreign.capacity() / 4 {
            self.foreign.shrink_to_fit();
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
    /// Each shard's places as a validate reads them without the lock (see [`view`]).
    views: Box<[ShardView]>,
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
            views: (0..SHARDS).map(|_| ShardView::default()).collect(),
            denied: Mutex::new(Expiring::default()),
            epochs: RwLock::new(Expiring::default()),
        }
    }

    fn shard(&self, sid: Id) -> &RwLock<Shard> {
        &self.shards[shard_of(sid)]
    }

    /// Shard `no` for writing. Every write goes through here, so readers without the lock
    /// know a write ran, and the view follows every change to where the places are.
    fn write_shard(&self, no: usize) -> ShardWrite<'_> {
        let shard = self.shards[no].write();
        let view = &self.views[no];
        view.begin_write();
        ShardWrite { shard, view }
    }
}

/// A shard's write lock that, on release, updates the shard's view (before the lock goes).
struct ShardWrite<'a> {
    shard: RwLockWriteGuard<'a, Shard>,
    view: &'a ShardView,
}

impl Drop for ShardWrite<'_> {
    fn drop(&mut self) {
        self.view.end_write(&self.shard.slots);
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

impl SessionStore for MemoryStore {
    fn prefetch(&self, sid: Id) {
        // Without the shard's lock: a prefetch never waits.
        self.views[shard_of(sid)].prefetch(place_of(sid));
    }

    /// 96 random bits, then the shard and a place reserved in it.
    fn new_session_id(&self, now: i64) -> Result<Id> {
        let random = Id::random()?;
        let shard_no = shard_of(random);
        let mut shard = self.write_shard(shard_no);
        let Some(at) = shard.reserve(now) else {
            // A shard with 2^26 places: the id stays random and `create` indexes it.
            return Ok(random);
        };
        let sid = Id((random.0 & !PLACE_MASK) | ((at as u128) << SHARD_BITS) | shard_no as u128);
        shard.slots[at].id = Packed::of(sid);
        // Counted as a write, so reservations that are never filled are swept too.
        shard.wrote(now);
        Ok(sid)
    }

    fn create(&self, s: Session, now: i64) -> Result<()> {
        let slot = Slot {
            id: Packed::of(s.sid),
            state: State::Live,
            user_id: UserId::new(s.user_id),
            created_at: s.created_at,
            absolute_deadline: s.absolute_deadline,
            current_iat: s.current_iat,
            idle_deadline: AtomicI64::new(s.idle_deadline),
            revoked: AtomicBool::new(s.revoked),
            current_jti: Packed::of(s.current_jti),
            previous_jti: Packed::of_option(s.previous_jti),
            binding: (!s.binding.is_unbound()).then(|| Box::new(s.binding)),
        };
        let mut shard = self.write_shard(shard_of(s.sid));
        // Filling a reservation is no new write: the reservation was counted.
        if !shard.insert(s.sid, slot)? {
            shard.wrote(now);
        }
        Ok(())
    }

    fn get(&self, sid: Id) -> Result<Option<Session>> {
        let shard = self.shard(sid).read();
        Ok(shard.get(sid).map(|s| Session {
            sid,
            user_id: s.user_id.as_str().unwrap_or_default().to_owned(),
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
        presented: Option<&BindingCheck>,
    ) -> Result<()> {
        // Without the lock when the snapshot settles it: an unbound session (the binding
        // check then passes whatever is presented) that is over, or needs no slide.
        if let Some(hot) = self.views[shard_of(sid)].read(place_of(sid)) {
            if hot.is_live(Packed::of(sid)) && !hot.bound {
                session::check_alive(hot.revoked, hot.idle_deadline, hot.absolute_deadline, now)?;
                let new_idle = session::slide(now, idle_timeout, hot.absolute_deadline);
                if !slide || !session::touch_needed(hot.idle_deadline, new_idle) {
                    return Ok(());
                }
            }
        }
        // A slide writes the place, which must not change hands meanwhile: under the lock.
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
        binding: &BindingCheck,
    ) -> Result<RotateOutcome> {
        let mut shard = self.write_shard(shard_of(sid));
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
                // Bytes: no UTF-8 check for each of a million slots.
                if slot.user_id.as_bytes() == Some(user_id.as_bytes())
                    && !slot.revoked.swap(true, Ordering::AcqRel)
                {
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
        for no in 0..SHARDS {
            n += self.write_shard(no).sweep(now);
        }
        n += self.denied.lock().sweep(now);
        n += self.epochs.write().sweep(now);
        Ok(n)
    }

    fn stats(&self) -> Result<Stats> {
        let mut st = Stats::default();
        for shard in self.shards.iter() {
            let shard = shard.read();
            st.sessions += shard.live;
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
    fn a_slot_is_two_cache_lines_with_the_hot_fields_in_the_first() {
        // A slab place is what every live session costs (plus its user id).
        assert_eq!(std::mem::size_of::<Slot>(), 128);
        assert_eq!(std::mem::align_of::<Slot>(), 64);
        assert!(std::mem::offset_of!(Slot, state) < 64);
        assert!(std::mem::offset_of!(Slot, revoked) < 64);
        assert!(std::mem::offset_of!(Slot, binding) + 8 <= 64);
        assert_eq!(std::mem::size_of::<UserId>(), 24);
    }

    #[test]
    fn user_ids_short_and_long_read_back() {
        for id in [
            "",
            "42",
            "user-123456789012345678",
            "ü-ä",
            &"x".repeat(23),
            &"é".repeat(40),
        ] {
            let kept = UserId::new(id.to_owned());
            assert_eq!(kept.as_str(), Some(id));
            assert_eq!(
                matches!(kept, UserId::Inline { .. }),
                id.len() <= INLINE_USER_ID,
                "{id}"
            );
        }
        // Zero bytes are no user id: released memory reads as a vacant place.
        // SAFETY: `UserId` is `repr(u8)` and its variant 0 carries nothing.
        let zeroed: UserId = unsafe { std::mem::zeroed() };
        assert!(zeroed.as_str().is_none());
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

#[cfg(test)]
mod id_tests {
    use super::*;

    fn session(sid: Id, now: i64) -> Session {
        Session::new(sid, "u".into(), Id(9), now, 10, 100)
    }

    /// A session under an id the store chose.
    fn login(store: &MemoryStore, now: i64) -> Id {
        let sid = store.new_session_id(now).unwrap();
        store.create(session(sid, now), now).unwrap();
        sid
    }

    fn unknown(store: &MemoryStore, sid: Id) -> bool {
        // Any id may be prefetched (it comes from an unverified token): a hint, no effect.
        store.prefetch(sid);
        store.get(sid).unwrap().is_none()
            && store.touch(sid, 0, 10, true, None) == Err(Error::SessionUnknown)
            && store.revoke_session(sid).unwrap() == RevokeOutcome::Unknown
    }

    #[test]
    fn chosen_ids_name_their_place_and_keep_96_random_bits() {
        let store = MemoryStore::new();
        let ids: Vec<Id> = (0..200).map(|_| login(&store, 0)).collect();
        for &sid in &ids {
            let shard = store.shards[shard_of(sid)].read();
            assert!(shard.slots[place_of(sid)].is(Packed::of(sid), State::Live));
            assert_eq!(store.get(sid).unwrap().unwrap().sid, sid);
        }
        let mut high: Vec<u128> = ids.iter().map(|id| id.0 >> PLACE_BITS).collect();
        high.sort_unstable();
        high.dedup();
        assert_eq!(high.len(), ids.len());
        assert_eq!(store.stats().unwrap().sessions, 200);
    }

    #[test]
    fn forged_and_out_of_range_ids_are_unknown() {
        let store = MemoryStore::new();
        let sid = login(&store, 0);
        // Same place, other random bits.
        assert!(unknown(&store, Id(sid.0 ^ (1 << 100))));
        assert!(unknown(&store, Id(sid.0 ^ (1 << PLACE_BITS))));
        // A place past the slab's end, and the largest place an id can name.
        assert!(unknown(&store, Id(sid.0 + (1000 << SHARD_BITS))));
        assert!(unknown(&store, Id(sid.0 | PLACE_MASK)));
        assert!(unknown(&store, Id(0)));
        assert!(store.get(sid).unwrap().is_some());
    }

    #[test]
    fn a_reused_place_does_not_answer_for_its_old_id() {
        let store = MemoryStore::new();
        let old = login(&store, 0);
        assert_eq!(store.sweep(1_000).unwrap(), 1);
        assert!(unknown(&store, old));
        // Fill the shard's places again until one lands where the old session was.
        let reused = (0..100_000)
            .map(|_| login(&store, 1_000))
            .find(|&sid| shard_of(sid) == shard_of(old) && place_of(sid) == place_of(old))
            .expect("the freed place is reused");
        assert_ne!(reused, old);
        assert!(unknown(&store, old));
        assert!(store.get(reused).unwrap().is_some());
    }

    #[test]
    fn lock_free_touches_never_mix_a_reused_place_with_its_old_id() {
        // A writer ends sessions and fills their places with new ones, round after round,
        // while readers touch both. An old session is past its deadline, a new one has
        // hours: a read that mixed the old id with the new deadlines would let an old
        // token in. Every answer must be one the lock would give.
        use parking_lot::RwLock;
        use std::sync::atomic::AtomicBool;
        const ROUNDS: i64 = 40;
        const PER_ROUND: usize = 2_000;
        let store = MemoryStore::new();
        let published: RwLock<(i64, Vec<Id>, Vec<Id>)> = RwLock::default();
        let done = AtomicBool::new(false);
        let (mut old_checked, mut new_checked) = (0usize, 0usize);
        std::thread::scope(|s| {
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let (mut old_n, mut new_n) = (0, 0);
                        while !done.load(Ordering::Relaxed) {
                            let (base, old, new) = published.read().clone();
                            for &sid in &old {
                                let r = store.touch(sid, base + 150, 10, false, None);
                                assert!(
                                    matches!(r, Err(Error::SessionUnknown | Error::SessionExpired)),
                                    "an ended session answered {r:?}"
                                );
                                old_n += 1;
                            }
                            for &sid in &new {
                                let r = store.touch(sid, base + 150, 10_000, true, None);
                                assert_eq!(r, Ok(()));
                                new_n += 1;
                            }
                        }
                        (old_n, new_n)
                    })
                })
                .collect();
            for round in 0..ROUNDS {
                let base = round * 1_000;
                let old: Vec<Id> = (0..PER_ROUND)
                    .map(|_| {
                        let sid = store.new_session_id(base).unwrap();
                        let s = Session::new(sid, "u".into(), Id(1), base, 100, 100);
                        store.create(s, base).unwrap();
                        sid
                    })
                    .collect();
                store.sweep(base + 200).unwrap();
                let new: Vec<Id> = (0..PER_ROUND)
                    .map(|_| {
                        let sid = store.new_session_id(base + 150).unwrap();
                        let s = Session::new(sid, "u".into(), Id(2), base, 1 << 40, 1 << 40);
                        store.create(s, base + 150).unwrap();
                        sid
                    })
                    .collect();
                *published.write() = (base, old, new);
            }
            done.store(true, Ordering::Relaxed);
            for r in readers {
                let (o, n) = r.join().unwrap();
                old_checked += o;
                new_checked += n;
            }
        });
        assert!(old_checked > 0 && new_checked > 0);
    }

    #[test]
    fn a_reservation_never_filled_is_reclaimed() {
        let store = MemoryStore::new();
        let sid = store.new_session_id(0).unwrap();
        let place = |store: &MemoryStore| {
            let shard = store.shards[shard_of(sid)].read();
            shard.slots.get(place_of(sid)).map(|s| s.state)
        };
        assert_eq!(place(&store), Some(State::Reserved));
        assert!(unknown(&store, sid));
        // Held while a login could still be on its way; not counted as a session.
        assert_eq!(store.sweep(RESERVATION_S - 1).unwrap(), 0);
        assert_eq!(place(&store), Some(State::Reserved));
        assert_eq!(store.stats().unwrap().sessions, 0);
        assert_eq!(store.sweep(RESERVATION_S).unwrap(), 0);
        assert_ne!(place(&store), Some(State::Reserved));
        // A create that comes after all still works, through the foreign index.
        store.create(session(sid, 61), 61).unwrap();
        assert_eq!(store.get(sid).unwrap().unwrap().sid, sid);
        assert_eq!(store.stats().unwrap().sessions, 1);
    }

    #[test]
    fn every_write_keeps_the_shard_views_current() {
        let store = MemoryStore::new();
        let mut sids = Vec::new();
        for now in 0..3_000 {
            let sid = store.new_session_id(now).unwrap();
            let s = Session::new(sid, "u".into(), Id(now as u128), now, 10, 100);
            store.create(s, now).unwrap();
            sids.push(sid);
        }
        // Some end and are swept: the slabs shrink, and the views with them.
        store.sweep(2_000).unwrap();
        for sid in sids {
            let shard = store.shards[shard_of(sid)].read();
            let seen = store.views[shard_of(sid)].place(place_of(sid));
            match shard.get(sid) {
                Some(slot) => assert_eq!(seen, Some(slot as *const Slot)),
                None => assert!(seen.is_none() || shard.slots.get(place_of(sid)).is_some()),
            }
        }
    }

    #[test]
    fn writes_sweep_only_once_a_session_can_have_ended() {
        let store = MemoryStore::new();
        let scans = |store: &MemoryStore| -> usize {
            store
                .shards
                .iter()
                .map(|s| s.read().writes_since_sweep)
                .sum()
        };
        // Sessions with 100 s to live (idle 10 s from now = 90): nothing can end before
        // 90, so thousands of writes at 0..50 scan nothing.
        for i in 0..5_000 {
            let sid = store.new_session_id(i / 100).unwrap();
            let s = Session::new(sid, "u".into(), Id(i as u128), 80, 10, 100);
            store.create(s, i / 100).unwrap();
        }
        assert_eq!(scans(&store), 5_000, "every write counted, no sweep ran");
        assert_eq!(store.stats().unwrap().sessions, 5_000);
        // Past the earliest idle deadline, writes sweep again and free what ended.
        for _ in 0..5_000 {
            login(&store, 95);
        }
        assert!(scans(&store) < 5_000, "writes after 90 swept");
        assert!(
            store.stats().unwrap().sessions < 10_000,
            "ended sessions were freed by the writes' sweeps"
        );
    }

    #[test]
    fn reservations_alone_are_swept_by_writes() {
        let store = MemoryStore::new();
        for now in 0..20_000 {
            store.new_session_id(now).unwrap();
        }
        let held: usize = store.shards.iter().map(|s| s.read().slots.len).sum();
        assert!(
            held < 20_000 / 2,
            "{held} places held by stale reservations"
        );
    }

    #[test]
    fn ids_the_store_did_not_choose_work_alongside() {
        let store = MemoryStore::new();
        let mine = login(&store, 0);
        // Same shard and place bits as `mine`, other random bits; and a plain small id.
        let theirs = Id(mine.0 ^ (1 << 127));
        store.create(session(theirs, 0), 0).unwrap();
        store.create(session(Id(42), 0), 0).unwrap();
        for sid in [mine, theirs, Id(42)] {
            assert_eq!(store.get(sid).unwrap().unwrap().sid, sid);
        }
        assert_eq!(
            store.revoke_session(theirs).unwrap(),
            RevokeOutcome::Revoked
        );
        assert_eq!(store.touch(mine, 0, 10, true, None), Ok(()));
        assert_eq!(store.stats().unwrap().sessions, 3);
        assert_eq!(store.sweep(1_000).unwrap(), 3);
        assert!(unknown(&store, theirs) && unknown(&store, mine) && unknown(&store, Id(42)));
    }
}

/// Ask the CPU to load `place`'s first cache line (the fields validate reads) without
/// waiting.
#[inline]
fn prefetch_line(place: *const Slot) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it reads nothing into the program and never faults,
    // whatever the address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(place.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = place;
}
