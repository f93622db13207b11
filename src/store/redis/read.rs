//! Reading one session back (`SessionStore::get`): its hash and its idle key.

use std::collections::HashMap;

use redis::ConnectionLike;

use super::codec::{corrupt, digest_field, id_field, int_field};
use super::{RedisStore, Retry};
use crate::error::Result;
use crate::session::{ClientBinding, Id, Session};

impl RedisStore {
    /// A session as stored: its hash, with its idle deadline the later of the hash's and
    /// the idle key's.
    pub(super) fn read_session(&self, sid: Id) -> Result<Option<Session>> {
        let (key, idle_key) = (self.session_key(sid), self.idle_key(sid));
        let (fields, slid): (HashMap<String, String>, Option<i64>) =
            self.run(Retry::Safe, |c| {
                if c.supports_pipelining() {
                    return redis::pipe()
                        .cmd("HGETALL")
                        .arg(&key)
                        .cmd("GET")
                        .arg(&idle_key)
                        .query(c);
                }
                // A Cluster connection sends one command at a time. The idle key read second
                // can only be later than the hash's idle deadline, never stale.
                let fields = redis::cmd("HGETALL").arg(&key).query(c)?;
                Ok((fields, redis::cmd("GET").arg(&idle_key).query(c)?))
            })?;
        if fields.is_empty() || (fields.len() == 1 && fields.contains_key("r")) {
            // Nothing, or revoke_user's mark for a login not written yet.
            return Ok(None);
        }
        session_from(sid, &fields, slid).map(|s| Some(self.with_queued_slide(s)))
    }
}

/// A session from its hash's fields; its idle deadline is the later of the hash's and
/// `slid`, the idle key's (`None` when it has not slid).
pub(super) fn session_from(
    sid: Id,
    fields: &HashMap<String, String>,
    slid: Option<i64>,
) -> Result<Session> {
    let previous = match fields.get("p").map(String::as_str) {
        None | Some("") => None,
        Some(p) => Some(Id::parse(p).ok_or_else(|| corrupt("p"))?),
    };
    Ok(Session {
        sid,
        user_id: fields.get("u").cloned().ok_or_else(|| corrupt("u"))?,
        created_at: int_field(fields, "c")?,
        idle_deadline: int_field(fields, "i")?.max(slid.unwrap_or(i64::MIN)),
        absolute_deadline: int_field(fields, "a")?,
        current_jti: id_field(fields, "j")?,
        current_iat: int_field(fields, "t")?,
        previous_jti: previous,
        revoked: fields.get("r").map(String::as_str) == Some("1"),
        binding: ClientBinding {
            client: digest_field(fields, "b")?,
            jkt: digest_field(fields, "k")?,
        },
    })
}
