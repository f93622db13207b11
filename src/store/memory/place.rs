//! One place of a shard's slab, and the only ways to reach its fields.
//!
//! A place is read three ways: by a validate without any lock ([`Place::hot`]), under the
//! shard's read lock ([`PlaceRef`]), and written under its write lock ([`PlaceMut`]). So
//! that the first is no data race, what it reads are atomics, stored inside a write section
//! (see `seqlock`), and no `&mut` to a place is ever formed: writers change a place through
//! a shared reference, the atomics directly and the other fields through an `UnsafeCell`
//! that only lock holders reach. All-zero bytes are a vacant place: what fresh or released
//! slab memory holds.

use std::cell::UnsafeCell;
use std::ptr;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use super::sync::{AtomicBool, AtomicI64, AtomicU64, AtomicU8};
use super::RESERVATION_S;
use crate::error::Result;
use crate::session::{self, BindingCheck, ClientBinding, Id, Session};

/// A 128-bit id as two words: 8-byte alignment, so a place packs without padding.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(super) struct Packed(pub(super) [u64; 2]);

impl Packed {
    /// Zero stands for "none": ids are 128 random bits and never zero in practice.
    pub(super) const NONE: Packed = Packed([0, 0]);

    pub(super) fn of(id: Id) -> Packed {
        Packed([(id.0 >> 64) as u64, id.0 as u64])
    }

    pub(super) fn id(self) -> Id {
        Id(((self.0[0] as u128) << 64) | self.0[1] as u128)
    }

    pub(super) fn of_option(id: Option<Id>) -> Packed {
        id.map_or(Packed::NONE, Packed::of)
    }

    pub(super) fn option(self) -> Option<Id> {
        (self != Packed::NONE).then(|| self.id())
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(super) enum State {
    Free = 0,
    /// Held for the id `new_session_id` handed out, until `create` fills it.
    Reserved = 1,
    Live = 2,
}

impl State {
    fn of(byte: u8) -> State {
        match byte {
            1 => State::Reserved,
            2 => State::Live,
            _ => State::Free,
        }
    }
}

/// Longest user id a place keeps in itself.
pub(super) const INLINE_USER_ID: usize = 22;

/// A session's user id: in the place itself when short (most are: numbers, short names),
/// so a login allocates nothing to keep it and `revoke_user` compares without following a
/// pointer. `repr(u8)`, so that zero bytes are `None`.
#[repr(u8)]
#[derive(Default)]
pub(super) enum UserId {
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
    pub(super) fn new(user_id: String) -> UserId {
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

    pub(super) fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            UserId::None => None,
            UserId::Inline { len, bytes } => Some(&bytes[..*len as usize]),
            UserId::Boxed(user_id) => Some(user_id.as_bytes()),
        }
    }

    pub(super) fn as_str(&self) -> Option<&str> {
        self.as_bytes()
            .map(|b| std::str::from_utf8(b).expect("copied from a String"))
    }
}

/// One place: this is most of the store's memory. Aligned to a cache line, with everything
/// a validate reads or writes in the first line, so a validate touches one line of the slab.
#[repr(C, align(64))]
pub(super) struct Place {
    /// The session's id (reserved or live); zero when free.
    id: [AtomicU64; 2],
    idle_deadline: AtomicI64,
    absolute_deadline: AtomicI64,
    /// A [`State`].
    state: AtomicU8,
    /// The session has a binding (whose check needs the lock).
    bound: AtomicBool,
    revoked: AtomicBool,
    /// Read under the shard's lock only.
    locked: UnsafeCell<Locked>,
}

// SAFETY: the atomics are Sync; the `UnsafeCell` is reached only through `PlaceRef` (shared,
// while no `PlaceMut` of the place exists) and `PlaceMut` (exclusive), whose constructors
// require the shard lock's discipline. What `Locked` holds (boxes, integers) is Send + Sync.
unsafe impl Sync for Place {}

/// The fields read and written under the shard's lock only.
#[repr(C)]
#[derive(Default)]
pub(super) struct Locked {
    /// Boxed: most sessions are unbound and should not pay for two digests. In the first
    /// cache line: a validate of a bound session reads it (under the lock).
    pub(super) binding: Option<Box<ClientBinding>>,
    /// `None` only in a free or reserved place.
    pub(super) user_id: UserId,
    /// Login time; for a reserved place, when it was reserved.
    pub(super) created_at: i64,
    pub(super) current_iat: i64,
    pub(super) current_jti: Packed,
    pub(super) previous_jti: Packed,
}

/// What a validate reads of a place, as one snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Hot {
    pub(super) id: Packed,
    pub(super) state: State,
    pub(super) bound: bool,
    pub(super) revoked: bool,
    pub(super) idle_deadline: i64,
    pub(super) absolute_deadline: i64,
}

impl Hot {
    /// Whether this is the live session `key`.
    pub(super) fn is_live(&self, key: Packed) -> bool {
        self.id == key && self.state == State::Live
    }
}

/// A session as a place holds it, made before the shard's lock is taken.
pub(super) struct Entry {
    hot: Hot,
    locked: Locked,
}

impl Entry {
    /// What a place holding this entry reads as.
    #[cfg(loom)]
    pub(super) fn hot(&self) -> Hot {
        self.hot
    }

    pub(super) fn live(s: Session) -> Entry {
        let bound = !s.binding.is_unbound();
        Entry {
            hot: Hot {
                id: Packed::of(s.sid),
                state: State::Live,
                bound,
                revoked: s.revoked,
                idle_deadline: s.idle_deadline,
                absolute_deadline: s.absolute_deadline,
            },
            locked: Locked {
                binding: bound.then(|| Box::new(s.binding)),
                user_id: UserId::new(s.user_id),
                created_at: s.created_at,
                current_iat: s.current_iat,
                current_jti: Packed::of(s.current_jti),
                previous_jti: Packed::of_option(s.previous_jti),
            },
        }
    }
}

impl Place {
    /// A vacant place (what zero bytes are, too).
    #[cfg(any(test, loom))]
    pub(super) fn vacant() -> Place {
        Place {
            id: [AtomicU64::new(0), AtomicU64::new(0)],
            idle_deadline: AtomicI64::new(0),
            absolute_deadline: AtomicI64::new(0),
            state: AtomicU8::new(0),
            bound: AtomicBool::new(false),
            revoked: AtomicBool::new(false),
            locked: UnsafeCell::new(Locked::default()),
        }
    }

    /// The fields a validate needs, read without a lock. A write section may be changing
    /// them meanwhile: then the snapshot is torn, and the caller's version check discards it.
    #[inline]
    pub(super) fn hot(&self) -> Hot {
        Hot {
            id: Packed([self.id[0].load(Relaxed), self.id[1].load(Relaxed)]),
            state: State::of(self.state.load(Relaxed)),
            bound: self.bound.load(Relaxed),
            revoked: self.revoked.load(Relaxed),
            idle_deadline: self.idle_deadline.load(Relaxed),
            absolute_deadline: self.absolute_deadline.load(Relaxed),
        }
    }
}

/// A place read under its shard's lock (read or write): its other fields may be read, and
/// what changes under the read lock (the idle deadline, `revoked`) may change, atomically.
#[derive(Clone, Copy)]
pub(super) struct PlaceRef<'a>(&'a Place);

impl<'a> PlaceRef<'a> {
    /// # Safety
    /// While the returned value lives, no [`PlaceMut`] of `place` may exist: the caller
    /// holds the shard's lock, through a shared borrow of the slab.
    pub(super) unsafe fn new(place: &'a Place) -> PlaceRef<'a> {
        PlaceRef(place)
    }

    pub(super) fn locked(self) -> &'a Locked {
        // SAFETY: no `PlaceMut` of this place exists while `self` lives (see `new`), and
        // only a `PlaceMut` writes the cell.
        unsafe { &*self.0.locked.get() }
    }

    pub(super) fn id(self) -> Packed {
        Packed([self.0.id[0].load(Relaxed), self.0.id[1].load(Relaxed)])
    }

    pub(super) fn state(self) -> State {
        State::of(self.0.state.load(Relaxed))
    }

    pub(super) fn is(self, key: Packed, state: State) -> bool {
        self.id() == key && self.state() == state
    }

    pub(super) fn idle(self) -> i64 {
        self.0.idle_deadline.load(Acquire)
    }

    pub(super) fn absolute(self) -> i64 {
        self.0.absolute_deadline.load(Relaxed)
    }

    pub(super) fn revoked(self) -> bool {
        self.0.revoked.load(Acquire)
    }

    /// Revoke; returns whether it was revoked before.
    pub(super) fn revoke(self) -> bool {
        self.0.revoked.swap(true, AcqRel)
    }

    pub(super) fn check_alive(self, now: i64) -> Result<()> {
        session::check_alive(self.revoked(), self.idle(), self.absolute(), now)
    }

    /// Move the idle deadline for activity at `now` (never back: racing slides agree).
    pub(super) fn slide(self, now: i64, idle_timeout: i64) {
        let new = session::slide(now, idle_timeout, self.absolute());
        if session::touch_needed(self.idle(), new) {
            self.0.idle_deadline.fetch_max(new, AcqRel);
        }
    }

    /// Whether a sweep at `now` frees this place.
    pub(super) fn is_over(self, now: i64) -> bool {
        match self.state() {
            State::Free => false,
            State::Reserved => now >= self.locked().created_at.saturating_add(RESERVATION_S),
            State::Live => session::is_dead(self.idle(), self.absolute(), now),
        }
    }

    /// The earliest time this place can be over: `is_over(now)` implies `now >= ends()`.
    /// Deadlines only ever move later (a slide), so this stays a lower bound.
    pub(super) fn ends(self) -> i64 {
        match self.state() {
            State::Free => i64::MAX,
            State::Reserved => self.locked().created_at.saturating_add(RESERVATION_S),
            State::Live => self.idle().min(self.absolute()),
        }
    }

    /// The binding rule; a mismatch that revokes does so under the caller's lock.
    pub(super) fn check_binding(self, presented: &BindingCheck) -> Result<()> {
        let unbound = ClientBinding::default();
        let bound = self.locked().binding.as_deref().unwrap_or(&unbound);
        session::check_binding(bound, presented).map_err(|m| {
            if m.revokes(presented) {
                self.revoke();
            }
            m.error()
        })
    }

    pub(super) fn session(self, sid: Id) -> Session {
        let locked = self.locked();
        Session {
            sid,
            user_id: locked.user_id.as_str().unwrap_or_default().to_owned(),
            created_at: locked.created_at,
            idle_deadline: self.idle(),
            absolute_deadline: self.absolute(),
            current_jti: locked.current_jti.id(),
            current_iat: locked.current_iat,
            previous_jti: locked.previous_jti.option(),
            revoked: self.revoked(),
            binding: locked.binding.as_deref().copied().unwrap_or_default(),
        }
    }
}

/// A place written under its shard's write lock. Its fields change through the shared
/// reference: atomics with Release stores (see `seqlock`), the rest through the cell, with
/// raw-pointer reads and writes. Writes take `&mut self`, so no [`PlaceRef`] made from it
/// (`as_ref`) and no reference into its cell is alive across one.
pub(super) struct PlaceMut<'a>(&'a Place);

impl<'a> PlaceMut<'a> {
    /// # Safety
    /// While the returned value lives, no other [`PlaceRef`] or [`PlaceMut`] of `place`
    /// may exist: the caller holds the shard's write lock, through an exclusive borrow of
    /// the slab. (Lock-free readers read only the atomics.)
    pub(super) unsafe fn new(place: &'a Place) -> PlaceMut<'a> {
        PlaceMut(place)
    }

    pub(super) fn as_ref(&self) -> PlaceRef<'_> {
        PlaceRef(self.0)
    }

    fn cell(&self) -> *mut Locked {
        self.0.locked.get()
    }

    /// Replace what the cell holds, returning the old value (dropped by the caller, outside
    /// the place).
    fn replace_locked(&mut self, locked: Locked) -> Locked {
        // SAFETY: exclusive access to the cell (see `new`); a raw read, then a raw write
        // of a valid value.
        unsafe {
            let old = ptr::read(self.cell());
            ptr::write(self.cell(), locked);
            old
        }
    }

    fn store_hot(&mut self, hot: &Hot) {
        let p = self.0;
        p.id[0].store(hot.id.0[0], Release);
        p.id[1].store(hot.id.0[1], Release);
        p.state.store(hot.state as u8, Release);
        p.bound.store(hot.bound, Release);
        p.revoked.store(hot.revoked, Release);
        p.idle_deadline.store(hot.idle_deadline, Release);
        p.absolute_deadline.store(hot.absolute_deadline, Release);
    }

    /// Hold this free (so vacant) place for `id`, reserved at `now`.
    pub(super) fn reserve(&mut self, id: Packed, now: i64) {
        debug_assert_eq!(self.as_ref().state(), State::Free);
        self.store_hot(&Hot {
            id,
            state: State::Reserved,
            bound: false,
            revoked: false,
            idle_deadline: 0,
            absolute_deadline: 0,
        });
        // SAFETY: exclusive access to the cell (see `new`); a plain integer field.
        unsafe { ptr::addr_of_mut!((*self.cell()).created_at).write(now) };
    }

    /// Put `entry` here, whatever was here before (dropped).
    pub(super) fn fill(&mut self, entry: Entry) {
        let old = self.replace_locked(entry.locked);
        #[cfg(test)]
        super::tests::poison::maybe_panic_mid_write();
        self.store_hot(&entry.hot);
        drop(old);
    }

    /// Leave the place vacant; returns what it held (to drop outside the place).
    #[must_use]
    pub(super) fn take(&mut self) -> Entry {
        let hot = self.as_ref().hot_now();
        self.store_hot(&Place::VACANT);
        Entry {
            hot,
            locked: self.replace_locked(Locked::default()),
        }
    }

    /// Empty the place.
    pub(super) fn clear(&mut self) {
        drop(self.take());
    }

    /// Move `from`'s contents here (this place is vacant); `from` is left vacant.
    pub(super) fn move_from(&mut self, from: &mut PlaceMut<'_>) {
        self.fill(from.take());
    }

    /// The current refresh token becomes the previous one; `next` is current from `now`.
    pub(super) fn rotate(&mut self, next: Packed, now: i64) {
        // SAFETY: exclusive access to the cell (see `new`); plain integer fields.
        unsafe {
            let cell = self.cell();
            let current = ptr::addr_of!((*cell).current_jti).read();
            ptr::addr_of_mut!((*cell).previous_jti).write(current);
            ptr::addr_of_mut!((*cell).current_jti).write(next);
            ptr::addr_of_mut!((*cell).current_iat).write(now);
        }
    }
}

impl Place {
    /// What a vacant place reads as.
    pub(super) const VACANT: Hot = Hot {
        id: Packed::NONE,
        state: State::Free,
        bound: false,
        revoked: false,
        idle_deadline: 0,
        absolute_deadline: 0,
    };
}

impl PlaceRef<'_> {
    /// The hot fields as they are now (under the lock, so not torn).
    pub(super) fn hot_now(self) -> Hot {
        self.0.hot()
    }

    /// Where the place is.
    #[cfg(test)]
    pub(super) fn addr(self) -> *const Place {
        self.0
    }
}

/// Where the fields a validate reads end: within the first cache line.
#[cfg(all(test, not(loom)))]
pub(super) fn first_line_end() -> usize {
    use std::mem::{offset_of, size_of};
    let binding = offset_of!(Place, locked) + offset_of!(Locked, binding);
    [
        offset_of!(Place, id) + size_of::<[u64; 2]>(),
        offset_of!(Place, idle_deadline) + 8,
        offset_of!(Place, absolute_deadline) + 8,
        offset_of!(Place, state) + 1,
        offset_of!(Place, bound) + 1,
        offset_of!(Place, revoked) + 1,
        binding + size_of::<Option<Box<ClientBinding>>>(),
    ]
    .into_iter()
    .max()
    .unwrap_or(0)
}
