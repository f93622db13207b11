//! Session details on Redis: metadata and claims as fields of the session's hash (`l`
//! label, `ip`, `ua` user agent, `m` the application's data and `x` the claims, both JSON;
//! each absent when empty), a user's sessions listed through the user's index (never a key
//! scan; on a Cluster in steps), and claims merged by a compare-and-set.

use std::collections::HashMap;
use std::sync::OnceLock;

use redis::Script;
use serde_json::{Map, Value};

use super::codec::{code_error, corrupt};
use super::{RedisStore, Retry, COMMON_LUA};
use crate::error::{Error, Result};
use crate::session::{self, Id, Session, SessionDetails, SessionMeta};
use crate::store::StoredSession;

/// update_claims.lua: `x` changed between the read and the write.
const CHANGED: i64 = 10;
/// A merge that keeps losing its race gives up after this many tries.
const MERGE_TRIES: usize = 16;
/// The fields user_sessions.lua returns after each sid.
const LISTED: [&str; 15] = [
    "u", "c", "i", "a", "j", "t", "p", "r", "b", "k", "l", "ip", "ua", "m", "x",
];

/// Where the idle deadline is in [`LISTED`].
const IDLE: usize = 2;

struct Scripts {
    user_sessions: Script,
    update_claims: Script,
}

fn scripts() -> &'static Scripts {
    static SCRIPTS: OnceLock<Scripts> = OnceLock::new();
    SCRIPTS.get_or_init(|| {
        let with_rules = |body: &str| Script::new(&format!("{COMMON_LUA}\n{body}"));
        Scripts {
            user_sessions: with_rules(include_str!("user_sessions.lua")),
            update_claims: with_rules(include_str!("update_claims.lua")),
        }
    })
}

/// The details' script arguments to create.lua: label, ip, user agent, data, claims.
pub(super) fn create_args(details: &SessionDetails) -> [String; 5] {
    let meta = &details.meta;
    let json = |m: &Map<String, Value>| {
        if m.is_empty() {
            String::new()
        } else {
            Value::Object(m.clone()).to_string()
        }
    };
    [
        meta.label.clone().unwrap_or_default(),
        meta.ip.map(|ip| ip.to_string()).unwrap_or_default(),
        meta.user_agent.clone().unwrap_or_default(),
        json(&meta.data),
        // Kept when empty too: "no claims" and "claims emptied" differ for the tokens.
        if details.claims.is_empty() {
            String::new()
        } else {
            json(&details.claims)
        },
    ]
}

/// A JSON object field; absent or empty is an empty object.
fn object(text: Option<&str>, name: &str) -> Result<Map<String, Value>> {
    match text {
        None | Some("") => Ok(Map::new()),
        Some(t) => match serde_json::from_str(t) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(corrupt(name)),
        },
    }
}

/// The claims field as the engine takes it: `None` when the session keeps none.
pub(super) fn claims_field(text: Option<&str>) -> Result<Option<Map<String, Value>>> {
    match text {
        None | Some("") => Ok(None),
        t => object(t, "x").map(Some),
    }
}

fn text(fields: &HashMap<&str, &str>, name: &str) -> Option<String> {
    fields
        .get(name)
        .filter(|v| !v.is_empty())
        .map(|v| (*v).to_owned())
}

fn details_of(fields: &HashMap<&str, &str>) -> Result<SessionDetails> {
    let ip = match fields.get("ip").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(v.parse().map_err(|_| corrupt("ip"))?),
    };
    Ok(SessionDetails {
        meta: SessionMeta {
            label: text(fields, "l"),
            ip,
            user_agent: text(fields, "ua"),
            data: object(fields.get("m").copied(), "m")?,
        },
        claims: object(fields.get("x").copied(), "x")?,
    })
}

pub(super) fn session_of(sid: Id, fields: &HashMap<&str, &str>) -> Result<Session> {
    let owned: HashMap<String, String> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    super::read::session_from(sid, &owned, None)
}

impl RedisStore {
    pub(super) fn details_at(&self, sid: Id) -> Result<Option<SessionDetails>> {
        let key = self.session_key(sid);
        let names = ["u", "l", "ip", "ua", "m", "x"];
        let values: Vec<Option<String>> = self.run(Retry::Safe, |c| {
            redis::cmd("HMGET").arg(&key).arg(&names[..]).query(c)
        })?;
        if values.first().map_or(true, Option::is_none) {
            return Ok(None);
        }
        let fields: HashMap<&str, &str> = names
            .iter()
            .zip(&values)
            .filter_map(|(n, v)| Some((*n, v.as_deref()?)))
            .collect();
        details_of(&fields).map(Some)
    }

    pub(super) fn claims_at(&self, sid: Id) -> Result<Option<Map<String, Value>>> {
        let key = self.session_key(sid);
        let x: Option<String> = self.run(Retry::Safe, |c| {
            redis::cmd("HGET").arg(&key).arg("x").query(c)
        })?;
        claims_field(x.as_deref())
    }

    pub(super) fn sessions_of(&self, user_id: &str, now: i64) -> Result<Vec<StoredSession>> {
        let index = self.tagged_key("u:", user_id);
        let rows = if self.link.is_cluster() {
            self.sessions_in_steps(&index, now)?
        } else {
            let mut call = scripts().user_sessions.prepare_invoke();
            call.key(&index)
                .arg(self.key("s:", ""))
                .arg(now)
                .arg(self.key("i:", ""));
            // Pruning the index is all it writes: safe to run twice.
            let flat: Vec<String> = self.run(Retry::Safe, |c| call.invoke(c))?;
            let mut rows = Vec::with_capacity(flat.len() / (LISTED.len() + 1));
            for row in flat.chunks(LISTED.len() + 1) {
                if row.len() != LISTED.len() + 1 {
                    return Err(corrupt("user_sessions reply"));
                }
                rows.push((row[0].clone(), row[1..].iter().cloned().map(Some).collect()));
            }
            rows
        };
        let mut out = Vec::with_capacity(rows.len());
        for (sid, values) in rows {
            let sid = Id::parse(&sid).ok_or_else(|| corrupt("user_sessions reply"))?;
            let fields: HashMap<&str, &str> = LISTED
                .iter()
                .zip(&values)
                .filter_map(|(k, v)| Some((*k, v.as_deref().filter(|v| !v.is_empty())?)))
                .collect();
            let session = self.with_queued_slide(session_of(sid, &fields)?);
            if session.check_alive(now).is_ok() {
                out.push(StoredSession {
                    session,
                    details: details_of(&fields)?,
                });
            }
        }
        Ok(out)
    }

    /// A Cluster's user_sessions: the index read in the user's slot, then each listed
    /// session in its own; each row is a sid and the values of [`LISTED`]. A sid whose
    /// session is not there stays in the index: it may be a login between its two steps,
    /// which `revoke_user` must still find. The index drops it at its absolute deadline.
    fn sessions_in_steps(
        &self,
        index: &str,
        now: i64,
    ) -> Result<Vec<(String, Vec<Option<String>>)>> {
        // Only reads: safe to run twice.
        self.run(Retry::Safe, |c| {
            let sids: Vec<String> = redis::cmd("ZRANGE")
                .arg(index)
                .arg(format!("({now}"))
                .arg("+inf")
                .arg("BYSCORE")
                .query(c)?;
            let mut rows = Vec::with_capacity(sids.len());
            for sid in sids {
                let mut values: Vec<Option<String>> = redis::cmd("HMGET")
                    .arg(self.tagged_key("s:", &sid))
                    .arg(&LISTED[..])
                    .query(c)?;
                // Read after the hash, the idle key can only be later, never stale.
                let slid: Option<i64> = redis::cmd("GET")
                    .arg(self.tagged_key("i:", &sid))
                    .query(c)?;
                if let (Some(slid), Some(idle)) = (slid, values.get_mut(IDLE)) {
                    if idle.as_deref().and_then(|i| i.parse::<i64>().ok()) < Some(slid) {
                        *idle = Some(slid.to_string());
                    }
                }
                if values.first().is_some_and(Option::is_some) {
                    rows.push((sid, values));
                }
            }
            Ok(rows)
        })
    }

    pub(super) fn merge_claims_at(
        &self,
        sid: Id,
        changes: &Map<String, Value>,
        now: i64,
    ) -> Result<Map<String, Value>> {
        let key = self.session_key(sid);
        for _ in 0..MERGE_TRIES {
            let read: Option<String> = self.run(Retry::Safe, |c| {
                redis::cmd("HGET").arg(&key).arg("x").query(c)
            })?;
            let read = read.unwrap_or_default();
            let mut claims = object(Some(&read), "x")?;
            session::merge_claims(&mut claims, changes);
            session::meta::check_claims_size(&claims)?;
            let mut call = scripts().update_claims.prepare_invoke();
            call.key(&key)
                .key(self.idle_key(sid))
                .arg(now)
                .arg(&read)
                .arg(Value::Object(claims.clone()).to_string());
            // A compare-and-set: a second run after a lost reply finds `x` changed and reads again.
            match self.run(Retry::Safe, |c| call.invoke::<i64>(c))? {
                0 => return Ok(claims),
                CHANGED => continue,
                code => return Err(code_error(code)),
            }
        }
        Err(Error::StoreUnavailable(
            "the session's claims kept changing during an update".into(),
        ))
    }
}
