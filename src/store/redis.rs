//! A shared store on Redis (feature `redis`, config `store = "redis://host:port/db"`), so that
//! every worker process on every host sees the same sessions and revocations at once.
//!
//! Layout, under the configured prefix (default `keyfob:`):
//! - `s:<sid>`  a hash per session: `u` user, `c` created, `i` idle deadline, `a` absolute
//!   deadline, `j` current jti, `t` its iat, `p` previous jti (`""` for none), `r` revoked 0/1,
//!   `b` the client binding's SHA-256 and `k` the DPoP key thumbprint (hex, `""` or absent
//!   when not bound); and its details, each absent when empty: `l` label, `ip`, `ua` user
//!   agent, `m` the application's data and `x` the session's claims (both JSON).
//!   It expires with the session's absolute deadline.
//! - `u:<user>` the set of the user's sids, expiring with the user's last session: how a
//!   user's sessions are listed and revoked, never by a key scan.
//! - `e:<user>` the user's not-before epoch, expiring when no token it covers can be alive.
//! - `d:<jti>`  a denied sessionless token id, expiring at its `until`.
//! - `p:<id>`   a DPoP proof seen (id: SHA-256 of key thumbprint and proof jti), expiring when
//!   the proof's `iat` leaves the accepted window: replays are caught across processes.
//!
//! Each trait operation is one Redis step: a Lua script (`redis/*.lua`, sent by EVALSHA and
//! loaded again after NOSCRIPT) or one atomic command. The scripts apply the rules of
//! [`crate::session`] on the `now` the engine passes, never on Redis's clock. TTLs are given
//! relative to that `now` (`EXPIRE deadline - now`), which equals an `EXPIREAT deadline` on a
//! true clock and stays correct when Redis's clock and the host's disagree.
//!
//! Fail closed: every connection, I/O or protocol error, and every call slower than the
//! configured timeout (it bounds the connect, each write and each read), is
//! [`Error::StoreUnavailable`]. A connection that failed is dropped with the idle ones, so the
//! store reconnects by itself when Redis is back; an operation that is safe to repeat is
//! retried once on a fresh connection when a pooled one turns out broken (e.g. after a Redis
//! restart), never after a timeout.
//! Needs a standalone Redis (or a Sentinel-managed primary): the scripts touch keys of several
//! slots, which Redis Cluster refuses.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use redis::{Connection, ConnectionLike, Script};

use serde_json::{Map, Value};

use super::{RevokeOutcome, RotateOutcome, SessionStore, Stats, StoredSession};
use crate::error::{Error, Result};
use crate::session::{BindingCheck, ClientBinding, Id, Session, SessionDetails};

mod codec;
mod details;

use codec::{
    binding_args, code_error, corrupt, digest_field, digest_hex, hex, id_field, int_field,
    is_broken_connection, unavailable, CONVERGED, OK,
};

/// Idle connections kept for reuse; more are opened under load and closed after it.
const MAX_IDLE_CONNECTIONS: usize = 16;
/// Keys fetched per SCAN step by `stats`.
const SCAN_BATCH: usize = 1_000;

const COMMON_LUA: &str = include_str!("redis/common.lua");

/// The scripts, each prefixed with the shared rules.
struct Scripts {
    create: Script,
    touch: Script,
    rotate: Script,
    revoke_session: Script,
}

impl Scripts {
    fn new() -> Scripts {
        let with_rules = |body: &str| Script::new(&format!("{COMMON_LUA}\n{body}"));
        Scripts {
            create: Script::new(include_str!("redis/create.lua")),
            touch: with_rules(include_str!("redis/touch.lua")),
            rotate: with_rules(include_str!("redis/rotate.lua")),
            revoke_session: Script::new(include_str!("redis/revoke_session.lua")),
        }
    }
}

/// Idle connections, and the process that opened them: a forked child (a pre-forking web
/// server) must never share its parent's sockets, so it starts with none.
struct Pool {
    pid: u32,
    idle: Vec<Connection>,
}

/// Sessions, denylist and user epochs in Redis, shared by every process that points at it.
pub struct RedisStore {
    client: redis::Client,
    prefix: String,
    timeout: Duration,
    pool: Mutex<Pool>,
    scripts: Scripts,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: show only where it points.
        f.debug_struct("RedisStore")
            .field(
                "addr",
                &self.client.get_connection_info().addr().to_string(),
            )
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Whether a retry on a fresh connection is harmless: the operation has no effect that a
/// second run could change (a lost reply from a rotation must not be retried, as it was
/// perhaps applied).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retry {
    Safe,
    Never,
}

impl RedisStore {
    /// A store on the Redis at `url` (`redis://[user:password@]host:port/db` or
    /// `redis+unix:///path?db=N`), keys under `prefix`, each call bounded by `timeout`.
    /// Connects lazily: an engine can start while Redis is down, and fails closed until it is up.
    pub fn open(url: &str, prefix: &str, timeout: Duration) -> Result<RedisStore> {
        if timeout.is_zero() {
            return Err(Error::Config(
                "store_timeout_ms must be greater than zero".into(),
            ));
        }
        let client = redis::Client::open(url)
            .map_err(|e| Error::Config(format!("store: invalid Redis URL ({e})")))?;
        Ok(RedisStore {
            client,
            prefix: prefix.to_owned(),
            timeout,
            pool: Mutex::new(Pool {
                pid: std::process::id(),
                idle: Vec::new(),
            }),
            scripts: Scripts::new(),
        })
    }

    fn key(&self, kind: &str, name: &str) -> String {
        let mut k = String::with_capacity(self.prefix.len() + kind.len() + name.len());
        k.push_str(&self.prefix);
        k.push_str(kind);
        k.push_str(name);
        k
    }

    fn session_key(&self, sid: Id) -> String {
        self.key("s:", std::str::from_utf8(&sid.to_hex()).unwrap_or_default())
    }

    /// A pooled connection (`true`) or a new one (`false`).
    fn checkout(&self) -> Result<(Connection, bool)> {
        {
            let mut pool = self.pool.lock();
            let pid = std::process::id();
            if pool.pid != pid {
                // Closing our copies of the parent's sockets leaves the parent's intact.
                pool.idle.clear();
                pool.pid = pid;
            }
            if let Some(conn) = pool.idle.pop() {
                return Ok((conn, true));
            }
        }
        Ok((self.connect()?, false))
    }

    fn connect(&self) -> Result<Connection> {
        let conn = self
            .client
            .get_connection_with_timeout(self.timeout)
            .map_err(unavailable)?;
        conn.set_read_timeout(Some(self.timeout))
            .map_err(unavailable)?;
        conn.set_write_timeout(Some(self.timeout))
            .map_err(unavailable)?;
        Ok(conn)
    }

    fn checkin(&self, conn: Connection) {
        let mut pool = self.pool.lock();
        if conn.is_open()
            && pool.idle.len() < MAX_IDLE_CONNECTIONS
            && pool.pid == std::process::id()
        {
            pool.idle.push(conn);
        }
    }

    /// Run `op` on a connection. A connection that broke or timed out is dropped (it may
    /// still owe a reply); when it broke, the idle ones go too, as they most likely point at
    /// the same dead server, and an operation that is safe to repeat is tried once more on a
    /// fresh connection if the broken one came from the pool. An error reply from Redis
    /// leaves the connection usable.
    fn run<T>(
        &self,
        retry: Retry,
        mut op: impl FnMut(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T> {
        let (mut conn, pooled) = self.checkout()?;
        let e = match op(&mut conn) {
            Ok(v) => {
                self.checkin(conn);
                return Ok(v);
            }
            Err(e) if !(e.is_timeout() || is_broken_connection(&e)) => {
                self.checkin(conn);
                return Err(unavailable(e));
            }
            Err(e) => e,
        };
        drop(conn);
        if !is_broken_connection(&e) {
            return Err(unavailable(e));
        }
        self.pool.lock().idle.clear();
        if !(pooled && retry == Retry::Safe) {
            return Err(unavailable(e));
        }
        let mut conn = self.connect()?;
        let v = op(&mut conn).map_err(unavailable)?;
        self.checkin(conn);
        Ok(v)
    }

    /// Count the keys of one kind, and pass each batch of names to `each`.
    fn scan(
        &self,
        conn: &mut Connection,
        kind: &str,
        mut each: impl FnMut(&mut Connection, Vec<String>) -> redis::RedisResult<()>,
    ) -> redis::RedisResult<usize> {
        let pattern = format!("{}{kind}*", glob_escape(&self.prefix));
        let mut cursor: u64 = 0;
        let mut n = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_BATCH)
                .query(conn)?;
            n += keys.len();
            each(conn, keys)?;
            if next == 0 {
                return Ok(n);
            }
            cursor = next;
        }
    }
}

/// `*?[]\` taken literally in a SCAN pattern.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl SessionStore for RedisStore {
    fn create(&self, s: Session, now: i64) -> Result<()> {
        self.create_with(s, SessionDetails::default(), now)
    }

    fn create_with(&self, s: Session, details: SessionDetails, now: i64) -> Result<()> {
        let sid = hex(s.sid);
        let key = self.session_key(s.sid);
        let users = self.key("u:", &s.user_id);
        let previous = s.previous_jti.map(hex).unwrap_or_default();
        let ttl = s.absolute_deadline.saturating_sub(now).max(1);
        let mut call = self.scripts.create.prepare_invoke();
        call.key(&key)
            .key(&users)
            .arg(&sid)
            .arg(&s.user_id)
            .arg(s.created_at)
            .arg(s.idle_deadline)
            .arg(s.absolute_deadline)
            .arg(hex(s.current_jti))
            .arg(s.current_iat)
            .arg(previous)
            .arg(if s.revoked { "1" } else { "0" })
            .arg(ttl)
            .arg(digest_hex(s.binding.client))
            .arg(digest_hex(s.binding.jkt))
            .arg(&details::create_args(&details)[..]);
        // The script never overwrites an existing session: safe to retry.
        self.run(Retry::Safe, |c| call.invoke::<i64>(c))?;
        Ok(())
    }

    fn get(&self, sid: Id) -> Result<Option<Session>> {
        let key = self.session_key(sid);
        let fields: HashMap<String, String> =
            self.run(Retry::Safe, |c| redis::cmd("HGETALL").arg(&key).query(c))?;
        if fields.is_empty() {
            return Ok(None);
        }
        let previous = match fields.get("p").map(String::as_str) {
            None | Some("") => None,
            Some(p) => Some(Id::parse(p).ok_or_else(|| corrupt("p"))?),
        };
        Ok(Some(Session {
            sid,
            user_id: fields.get("u").cloned().ok_or_else(|| corrupt("u"))?,
            created_at: int_field(&fields, "c")?,
            idle_deadline: int_field(&fields, "i")?,
            absolute_deadline: int_field(&fields, "a")?,
            current_jti: id_field(&fields, "j")?,
            current_iat: int_field(&fields, "t")?,
            previous_jti: previous,
            revoked: fields.get("r").map(String::as_str) == Some("1"),
            binding: ClientBinding {
                client: digest_field(&fields, "b")?,
                jkt: digest_field(&fields, "k")?,
            },
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
        let key = self.session_key(sid);
        let mut call = self.scripts.touch.prepare_invoke();
        call.key(&key)
            .arg(now)
            .arg(idle_timeout)
            .arg(if slide { "1" } else { "0" })
            .arg(if presented.is_some() { "1" } else { "0" })
            .arg(&binding_args(presented.unwrap_or(&BindingCheck::default()))[..]);
        // A slide is idempotent (the deadline only moves forward to the same value), and so
        // is a revocation for a client mismatch.
        match self.run(Retry::Safe, |c| call.invoke::<i64>(c))? {
            OK => Ok(()),
            code => Err(code_error(code)),
        }
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
        let key = self.session_key(sid);
        let mut call = self.scripts.rotate.prepare_invoke();
        call.key(&key)
            .arg(hex(presented))
            .arg(hex(next))
            .arg(now)
            .arg(idle_timeout)
            .arg(grace)
            .arg(&binding_args(binding)[..]);
        let reply: Vec<String> = self.run(Retry::Never, |c| call.invoke(c))?;
        let int = |i: usize| -> Result<i64> {
            reply
                .get(i)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| corrupt("rotate reply"))
        };
        let jti = || -> Result<Id> {
            reply
                .get(2)
                .and_then(|v| Id::parse(v))
                .ok_or_else(|| corrupt("rotate reply"))
        };
        let claims = || details::claims_field(reply.get(4).map(String::as_str));
        match int(0)? {
            OK => Ok(RotateOutcome::Rotated {
                absolute_deadline: int(1)?,
                claims: claims()?,
            }),
            CONVERGED => Ok(RotateOutcome::Converged {
                current_jti: jti()?,
                current_iat: int(3)?,
                absolute_deadline: int(1)?,
                claims: claims()?,
            }),
            code => Err(code_error(code)),
        }
    }

    fn revoke_session(&self, sid: Id) -> Result<RevokeOutcome> {
        let key = self.session_key(sid);
        let mut call = self.scripts.revoke_session.prepare_invoke();
        call.key(&key);
        match self.run(Retry::Never, |c| call.invoke::<i64>(c))? {
            1 => Ok(RevokeOutcome::Revoked),
            2 => Ok(RevokeOutcome::AlreadyRevoked),
            _ => Ok(RevokeOutcome::Unknown),
        }
    }

    fn revoke_user(&self, user_id: &str, now: i64, remember_until: i64) -> Result<usize> {
        Ok(self
            .revoke_all_but(user_id, None, now, remember_until)?
            .len())
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

    fn details(&self, sid: Id) -> Result<Option<SessionDetails>> {
        self.details_at(sid)
    }

    fn session_claims(&self, sid: Id) -> Result<Option<Map<String, Value>>> {
        self.claims_at(sid)
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
        self.merge_claims_at(sid, changes, now)
    }

    fn user_not_before(&self, user_id: &str) -> Result<Option<i64>> {
        let key = self.key("e:", user_id);
        self.run(Retry::Safe, |c| redis::cmd("GET").arg(&key).query(c))
    }

    fn deny_jti(&self, jti: &str, until: i64, now: i64) -> Result<bool> {
        let key = self.key("d:", jti);
        let ttl = until.saturating_sub(now).max(1);
        // SET NX is the atomic check-and-deny; the entry expires when the token does.
        let set: Option<String> = self.run(Retry::Never, |c| {
            redis::cmd("SET")
                .arg(&key)
                .arg(until)
                .arg("NX")
                .arg("EX")
                .arg(ttl)
                .query(c)
        })?;
        Ok(set.is_some())
    }

    fn is_denied(&self, jti: &str) -> Result<bool> {
        let key = self.key("d:", jti);
        self.run(Retry::Safe, |c| redis::cmd("EXISTS").arg(&key).query(c))
    }

    fn remember_proof(&self, proof_id: &str, until: i64, now: i64) -> Result<bool> {
        let key = self.key("p:", proof_id);
        // Kept one second past `until`: the proof is still acceptable during that second.
        let ttl = until.saturating_sub(now).saturating_add(1).max(1);
        // SET NX is the atomic check-and-record. Not retried: a lost reply may have recorded it.
        let set: Option<String> = self.run(Retry::Never, |c| {
            redis::cmd("SET")
                .arg(&key)
                .arg(until)
                .arg("NX")
                .arg("EX")
                .arg(ttl)
                .query(c)
        })?;
        Ok(set.is_some())
    }

    /// A no-op returning 0: Redis drops sessions, denylist entries and epochs itself when
    /// their TTL runs out, so there is nothing to sweep.
    fn sweep(&self, _now: i64) -> Result<usize> {
        Ok(0)
    }

    /// Counts by SCAN over this prefix: O(keys), meant for diagnostics, not the hot path.
    fn stats(&self) -> Result<Stats> {
        self.run(Retry::Safe, |c| {
            let mut st = Stats::default();
            st.sessions = self.scan(c, "s:", |c, keys| {
                if keys.is_empty() {
                    return Ok(());
                }
                let mut pipe = redis::pipe();
                for k in &keys {
                    pipe.cmd("HGET").arg(k).arg("r");
                }
                let flags: Vec<Option<String>> = pipe.query(c)?;
                st.revoked_sessions += flags.iter().filter(|f| f.as_deref() == Some("1")).count();
                Ok(())
            })?;
            st.denied_jtis = self.scan(c, "d:", |_, _| Ok(()))?;
            st.user_epochs = self.scan(c, "e:", |_, _| Ok(()))?;
            Ok(st)
        })
    }
}
