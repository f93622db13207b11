//! Session details in the memory store: a side map per shard, under the shard's lock,
//! holding an entry only for a session that carries metadata or claims. Validates never
//! look at it (unless the engine asks for the session's claims on validate). A user's
//! sessions are found through each shard's user index ([`super::users`]), built by the
//! first listing.

use serde_json::{Map, Value};

use super::locate::SHARDS;
use super::place::{Packed, PlaceRef};
use super::MemoryStore;
use crate::error::Result;
use crate::session::{self, Id, SessionDetails};
use crate::store::StoredSession;

/// What the side map holds for a session.
#[derive(Default)]
pub(super) struct Kept {
    pub(super) details: SessionDetails,
    /// Whether the session has claims of its own (a login's extra claims, or any
    /// `update_session`), even none left: a refresh then mints those, not the presented
    /// token's, so a claim removed mid-session cannot come back.
    pub(super) claims_set: bool,
}

impl Kept {
    pub(super) fn new(details: SessionDetails) -> Kept {
        let claims_set = !details.claims.is_empty();
        Kept {
            details,
            claims_set,
        }
    }
}

impl MemoryStore {
    pub(super) fn details_of(&self, sid: Id) -> Result<Option<SessionDetails>> {
        let (no, at) = self.locator.locate(sid);
        let shard = self.read_shard(no)?;
        if shard.get(sid, at).is_none() {
            return Ok(None);
        }
        let details = shard.details.get(&Packed::of(sid));
        Ok(Some(details.map(|d| d.details.clone()).unwrap_or_default()))
    }

    pub(super) fn claims_of(&self, sid: Id) -> Result<Option<Map<String, Value>>> {
        let (no, at) = self.locator.locate(sid);
        let shard = self.read_shard(no)?;
        if shard.details.is_empty() || shard.get(sid, at).is_none() {
            return Ok(None);
        }
        let details = shard.details.get(&Packed::of(sid));
        Ok(details
            .filter(|d| d.claims_set)
            .map(|d| d.details.claims.clone()))
    }

    pub(super) fn sessions_of(&self, user_id: &str, now: i64) -> Result<Vec<StoredSession>> {
        let mut out = Vec::new();
        for no in 0..SHARDS {
            // A poisoned shard is passed by, as by every store-wide read.
            let Ok(mut shard) = self.read_shard(no) else {
                continue;
            };
            if !shard.has_user_index() {
                drop(shard);
                if let Ok(mut writing) = self.write_shard(no) {
                    writing.build_user_index();
                }
                shard = match self.read_shard(no) {
                    Ok(shard) => shard,
                    Err(_) => continue,
                };
            }
            for place in shard.sessions_of(user_id.as_bytes()) {
                if place.check_alive(now).is_ok() {
                    let key = place.id();
                    let details = shard.details.get(&key);
                    out.push(StoredSession {
                        session: place.session(key.id()),
                        details: details.map(|d| d.details.clone()).unwrap_or_default(),
                    });
                }
            }
        }
        Ok(out)
    }

    pub(super) fn merge_claims(
        &self,
        sid: Id,
        changes: &Map<String, Value>,
        now: i64,
    ) -> Result<Map<String, Value>> {
        let (no, at) = self.locator.locate(sid);
        let mut shard = self.write_shard(no)?;
        let place = shard.get(sid, at).ok_or(crate::Error::SessionUnknown)?;
        place.check_alive(now)?;
        let key = Packed::of(sid);
        let mut claims = shard
            .details
            .get(&key)
            .map(|d| d.details.claims.clone())
            .unwrap_or_default();
        session::merge_claims(&mut claims, changes);
        session::meta::check_claims_size(&claims)?;
        let entry = shard.details.entry(key).or_default();
        entry.details.claims = claims.clone();
        entry.claims_set = true;
        Ok(claims)
    }

    pub(super) fn revoke_all_but(
        &self,
        user_id: &str,
        keep: Option<Id>,
        now: i64,
        remember_until: i64,
    ) -> Result<Vec<Id>> {
        // Epoch first: a sessionless token checked meanwhile is already refused.
        self.epochs
            .write()
            .insert(user_id, now, remember_until, now);
        let keep = keep.map(Packed::of);
        let mut revoked = Vec::new();
        for shard in self.healthy_shards() {
            for place in shard.values() {
                if is_users(place, user_id) && Some(place.id()) != keep && !place.revoke() {
                    revoked.push(place.id().id());
                }
            }
        }
        Ok(revoked)
    }

    pub(super) fn count_live(&self, now: i64) -> usize {
        self.healthy_shards()
            .map(|shard| {
                shard
                    .values()
                    .filter(|p| p.check_alive(now).is_ok())
                    .count()
            })
            .sum()
    }
}

/// Bytes: no UTF-8 check for each of a million places.
fn is_users(place: PlaceRef<'_>, user_id: &str) -> bool {
    place.locked().user_id.as_bytes() == Some(user_id.as_bytes())
}
