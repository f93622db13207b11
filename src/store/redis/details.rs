//! Session details on Redis: metadata and claims as fields of the session's hash (`l`
//! label, `ip`, `ua` user agent, `m` the application's data and `x` the claims, both JSON;
//! each absent when empty), a user's sessions listed through the user's set of sids (never
//! a key scan), claims merged by a compare-and-set, and `revoke_user` sparing one session.

use std::collections::HashMap;
use std::sync::OnceLock;

use redis::Script;
use serde_json::{Map, Value};

use super::codec::{code_error, corrupt, digest_field, hex, id_field, int_field};
use super::{RedisStore, Retry, COMMON_LUA};
use crate::error::{Error, Result};
use crate::session::{self, ClientBinding, Id, Session, SessionDetails, SessionMeta};
use crate::store::StoredSession;

/// update_claims.lua: `x` changed between the read and the write.
const CHANGED: i64 = 10;
/// A merge that keeps losing its race gives up after this many tries.
const MERGE_TRIES: usize = 16;
/// The fields user_sessions.lua returns after each sid.
const LISTED: [&str; 15] = [
    "u", "c", "i", "a", "j", "t", "p", "r", "b", "k", "l", "ip", "ua", "m", "x",
];

struct Scripts {
    user_sessions: Script,
    update_claims: Script,
    revoke_user: Script,
}

fn scripts() -> &'static Scripts {
    static SCRIPTS: OnceLock<Scripts> = OnceLock::new();
    SCRIPTS.get_or_init(|| {
        let with_rules = |body: &str| Script::new(&format!("{COMMON_LUA}\n{body}"));
        Scripts {
            user_sessions: with_rules(include_str!("user_sessions.lua")),
            update_claims: with_rules(include_str!("update_claims.lua")),
            revoke_user: Script::new(include_str!("revoke_user.lua")),
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

fn session_of(sid: Id, fields: &HashMap<&str, &str>) -> Result<Session> {
    let owned: HashMap<String, String> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let previous = match fields.get("p").copied() {
        None | Some("") => None,
        Some(p) => Some(Id::parse(p).ok_or_else(|| corrupt("p"))?),
    };
    Ok(Session {
        sid,
        user_id: owned.get("u").cloned().ok_or_else(|| corrupt("u"))?,
        created_at: int_field(&owned, "c")?,
        idle_deadline: int_field(&owned, "i")?,
        absolute_deadline: int_field(&owned, "a")?,
        current_jti: id_field(&owned, "j")?,
        current_iat: int_field(&owned, "t")?,
        previous_jti: previous,
        revoked: fields.get("r").copied() == Some("1"),
        binding: ClientBinding {
            client: digest_field(&owned, "b")?,
            jkt: digest_field(&owned, "k")?,
        },
    })
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
        let mut call = scripts().user_sessions.prepare_invoke();
        call.key(self.key("u:", user_id))
            .arg(self.key("s:", ""))
            .arg(now);
        // Pruning gone sids is all it writes: safe to run twice.
        let flat: Vec<String> = self.run(Retry::Safe, |c| call.invoke(c))?;
        let mut out = Vec::with_capacity(flat.len() / (LISTED.len() + 1));
        for row in flat.chunks(LISTED.len() + 1) {
            if row.len() != LISTED.len() + 1 {
                return Err(corrupt("user_sessions reply"));
            }
            let sid = Id::parse(&row[0]).ok_or_else(|| corrupt("user_sessions reply"))?;
            let fields: HashMap<&str, &str> = LISTED
                .iter()
                .zip(&row[1..])
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (*k, v.as_str()))
                .collect();
            out.push(StoredSession {
                session: session_of(sid, &fields)?,
                details: details_of(&fields)?,
            });
        }
        Ok(out)
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

    pub(super) fn revoke_all_but(
        &self,
        user_id: &str,
        keep: Option<Id>,
        now: i64,
        remember_until: i64,
    ) -> Result<Vec<Id>> {
        let mut call = scripts().revoke_user.prepare_invoke();
        call.key(self.key("u:", user_id))
            .key(self.key("e:", user_id))
            .arg(now)
            .arg(remember_until.saturating_sub(now).max(1))
            .arg(self.key("s:", ""))
            .arg(keep.map(hex).unwrap_or_default());
        let sids: Vec<String> = self.run(Retry::Never, |c| call.invoke(c))?;
        sids.iter()
            .map(|s| Id::parse(s).ok_or_else(|| corrupt("revoke_user reply")))
            .collect()
    }
}
