//! A shard's index of its places by user, for listing a user's sessions (and the per-user
//! cap) without scanning the shard. Built the first time anything lists a user's sessions,
//! under the shard's write lock, and kept from then on by every write to the shard: a store
//! whose sessions are never listed never pays for it, on login or in memory.

use std::collections::HashMap;

use super::place::{PlaceRef, State};
use super::slab::Slab;

/// User id (as bytes) → the places holding that user's sessions.
#[derive(Default)]
pub(super) struct UserIndex {
    places: HashMap<Box<[u8]>, Vec<u32>>,
}

impl UserIndex {
    /// Index every live place of `slab`.
    pub(super) fn of(slab: &Slab) -> UserIndex {
        let mut index = UserIndex::default();
        for at in 0..slab.len {
            if let Some(place) = slab.get(at) {
                if place.state() == State::Live {
                    index.add(place, at);
                }
            }
        }
        index
    }

    /// Record that `place` (at `at`) holds a session of its user; once only.
    pub(super) fn add(&mut self, place: PlaceRef<'_>, at: usize) {
        let Some(user) = place.locked().user_id.as_bytes() else {
            return;
        };
        let at = at as u32;
        match self.places.get_mut(user) {
            Some(list) if !list.contains(&at) => list.push(at),
            Some(_) => {}
            None => {
                self.places.insert(user.into(), vec![at]);
            }
        }
    }

    /// Forget that `place` (at `at`, about to be cleared) held a session of its user.
    pub(super) fn remove(&mut self, place: PlaceRef<'_>, at: usize) {
        let Some(user) = place.locked().user_id.as_bytes() else {
            return;
        };
        if let Some(list) = self.places.get_mut(user) {
            list.retain(|&p| p as usize != at);
            if list.is_empty() {
                self.places.remove(user);
            }
        }
    }

    /// The places that may hold sessions of `user`: each must still be checked (live, and
    /// this user's), as the index is only as fresh as the last write to the shard.
    pub(super) fn places_of(&self, user: &[u8]) -> &[u32] {
        self.places.get(user).map_or(&[], Vec::as_slice)
    }
}
