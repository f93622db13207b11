//! A shared store on Redis (feature `redis`, config `store = "redis://host:port/db"`), so that
//! every worker process on every host sees the same sessions and revocations at once. One
//! server (`redis://`, `rediss://` with TLS), a primary found through Sentinel
//! (`redis+sentinel://`) or a Cluster (`redis+cluster://`): see `redis/topology.rs`.
//!
//! Layout, under the configured prefix (default `keyfob:`); every script's keys share one
//! Cluster slot (a user's keys by the hash tag `{<user>}`, a session's by `{<sid>}`):
//! - `s:{<sid>}` a hash per session: `u` user, `c` created, `i` idle deadline at login, `a`
//!   absolute deadline, `j` current jti, `t` its iat, `p` previous jti (`""` for none), `r`
//!   revoked 0/1, `b` the client binding's SHA-256 and `k` the DPoP key thumbprint (hex, `""`
//!   or absent when not bound); and its details, each absent when empty: `l` label, `ip`,
//!   `ua` user agent, `m` the application's data and `x` the session's claims (both JSON).
//!   It expires with the session's absolute deadline.
//! - `i:{<sid>}` the session's idle deadline once it has slid (the later of it and `i`
//!   counts): kept apart so that a slide does not invalidate the session in every near cache.
//!   It expires with the session.
//! - `u:{<user>}` the user's index: a sorted set of sids scored by absolute deadline,
//!   expiring with the user's last session: how a user's sessions are listed and revoked,
//!   never by a key scan. A login adds its sid here and writes its session in one script,
//!   or on a Cluster here first, then the session.
//! - `e:{<user>}` the user's not-before epoch, expiring when no token it covers can be alive.
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
//! configured timeout (it bounds the connect, each write and each read; on a Cluster, each
//! redirection followed), is [`Error::StoreUnavailable`](crate::Error::StoreUnavailable). A
//! connection that failed (or answers READONLY after a failover) is dropped with the idle
//! ones, so the store reconnects by itself when Redis is back; an operation that is safe to
//! repeat is
//! retried once on a fresh connection when a pooled one turns out broken (e.g. after a Redis
//! restart), never after a timeout.
//!
//! `revoke_user` is one script on one server or a Sentinel-managed primary. On a Cluster a
//! user's sessions live in many slots: it sets the epoch and reads the index in one step,
//! then revokes each listed session in a step of its own. A login that reached the index
//! before that read is revoked (if its session is not written yet, it is born revoked); one
//! that reaches it after is a new session. Listing a user's sessions (and so the cap on
//! them) goes the same way: one script, or on a Cluster the index read in the user's slot,
//! then each listed session read in its own.
//!
//! With `store_wait_replicas`, every step that revokes or rotates returns only once that
//! many replicas have it (`WAIT`), so a failover cannot bring a revoked session back; fewer
//! in time is [`Error::StoreUnavailable`](crate::Error::StoreUnavailable).
//!
//! With the near cache ([`RedisStore::near_cache`], `near_cache` in the config), validates
//! are answered from this process's memory, kept true by Redis's invalidations
//! (`invalidation.rs`, which follows every primary of a Cluster); every other operation
//! still goes to Redis.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use redis::{ConnectionLike, Script};

use serde_json::{Map, Value};

use super::{RevokeOutcome, RotateOutcome, SessionStore, Stats, StoredSession};
use crate::error::Result;
use crate::metrics::NearCacheStats;
use crate::session::{BindingCheck, Id, Session, SessionDetails};

mod codec;
mod details;
mod invalidation;
mod link;
mod near_cache;
mod open;
mod read;
mod topology;
mod touch;
mod users;
mod wait;

use link::{Conn, Link};
use wait::Wait;

use codec::{
    binding_args, code_error, corrupt, digest_hex, hex, is_broken_connection, unavailable,
    CONVERGED, OK,
};

/// Idle connections kept for reuse; more are opened under load and closed after it.
const MAX_IDLE_CONNECTIONS: usize = 16;

const COMMON_LUA: &str = include_str!("redis/common.lua");
const USER_LUA: &str = include_str!("redis/user.lua");
const INDEX_LUA: &str = include_str!("redis/index.lua");
const CREATE_LUA: &str = include_str!("redis/create.lua");

/// The scripts, each prefixed with the shared rules.
struct Scripts {
    /// A login in one step (KEYS: session, index), where every key is on one server.
    create: Script,
    /// A Cluster's login in two: the index in the user's slot, then the session in its own.
    index: Script,
    create_indexed: Script,
    touch: Script,
    rotate: Script,
    revoke_session: Script,
    revoke_user: Script,
    /// A Cluster's `revoke_user` in steps: the user's slot, then each session's.
    epoch_and_index: Script,
    revoke_listed: Script,
}

impl Scripts {
    fn new() -> Scripts {
        let with_rules = |body: &str| Script::new(&format!("{COMMON_LUA}\n{body}"));
        let with_user = |body: &str| Script::new(&format!("{USER_LUA}\n{body}"));
        let with_login = |body: &str| Script::new(&format!("{INDEX_LUA}\n{CREATE_LUA}\n{body}"));
        Scripts {
            create: with_login(
                "index_session(KEYS[2], ARGV)\ncreate_session(KEYS[1], ARGV)\nreturn 0",
            ),
            index: with_login("index_session(KEYS[1], ARGV)\nreturn 0"),
            create_indexed: with_login("create_session(KEYS[1], ARGV)\nreturn 0"),
            touch: with_rules(include_str!("redis/touch.lua")),
            rotate: with_rules(include_str!("redis/rotate.lua")),
            revoke_session: Script::new(include_str!("redis/revoke_session.lua")),
            revoke_user: with_user(include_str!("redis/revoke_user.lua")),
            epoch_and_index: with_user(
                "return epoch_and_index(KEYS[1], KEYS[2], ARGV[1], ARGV[2])",
            ),
            revoke_listed: with_user(
                "return revoke_listed(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))",
            ),
        }
    }
}

/// Idle connections, and the process that opened them: a forked child (a pre-forking web
/// server) must never share its parent's sockets, so it starts with none.
struct Pool {
    pid: u32,
    idle: Vec<Conn>,
}

/// Sessions, denylist and user epochs in Redis, shared by every process that points at it.
pub struct RedisStore {
    link: Arc<Link>,
    prefix: String,
    timeout: Duration,
    wait: Option<Wait>,
    pool: Mutex<Pool>,
    scripts: Scripts,
    /// The near cache and its invalidation link, when on.
    near: Option<invalidation::Tracking>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: show only where it points.
        f.debug_struct("RedisStore")
            .field("addr", &self.link.describe())
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("near_cache", &self.near.is_some())
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
    fn key(&self, kind: &str, name: &str) -> String {
        let mut k = String::with_capacity(self.prefix.len() + kind.len() + name.len());
        k.push_str(&self.prefix);
        k.push_str(kind);
        k.push_str(name);
        k
    }

    fn session_key(&self, sid: Id) -> String {
        self.tagged_key("s:", std::str::from_utf8(&sid.to_hex()).unwrap_or_default())
    }

    fn idle_key(&self, sid: Id) -> String {
        self.tagged_key("i:", std::str::from_utf8(&sid.to_hex()).unwrap_or_default())
    }

    /// A pooled connection (`true`) or a new one (`false`).
    fn checkout(&self) -> Result<(Conn, bool)> {
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

    fn connect(&self) -> Result<Conn> {
        self.link.connect()
    }

    fn checkin(&self, conn: Conn) {
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
        mut op: impl FnMut(&mut Conn) -> redis::RedisResult<T>,
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
}

impl SessionStore for RedisStore {
    fn near_cache(&self) -> Option<NearCacheStats> {
        self.near.as_ref().map(invalidation::Tracking::stats)
    }

    fn create(&self, s: Session, now: i64) -> Result<()> {
        self.create_with(s, SessionDetails::default(), now)
    }

    fn create_with(&self, s: Session, details: SessionDetails, now: i64) -> Result<()> {
        let key = self.session_key(s.sid);
        let index = self.tagged_key("u:", &s.user_id);
        let previous = s.previous_jti.map(hex).unwrap_or_default();
        let ttl = s.absolute_deadline.saturating_sub(now).max(1);
        let args = [
            hex(s.sid),
            s.user_id.clone(),
            s.created_at.to_string(),
            s.idle_deadline.to_string(),
            s.absolute_deadline.to_string(),
            hex(s.current_jti),
            s.current_iat.to_string(),
            previous,
            if s.revoked { "1" } else { "0" }.to_owned(),
            ttl.to_string(),
            digest_hex(s.binding.client),
            digest_hex(s.binding.jkt),
        ];
        let details = details::create_args(&details);
        // Both steps never overwrite an existing session: safe to retry.
        if self.link.is_cluster() {
            // The index first: a revoke_user that reads it from now on finds this session.
            let mut call = self.scripts.index.prepare_invoke();
            call.key(&index).arg(&args[..]).arg(&details[..]);
            self.run(Retry::Safe, |c| call.invoke::<i64>(c))?;
            let mut call = self.scripts.create_indexed.prepare_invoke();
            call.key(&key).arg(&args[..]).arg(&details[..]);
            self.run(Retry::Safe, |c| call.invoke::<i64>(c))?;
        } else {
            let mut call = self.scripts.create.prepare_invoke();
            call.key(&key).key(&index).arg(&args[..]).arg(&details[..]);
            self.run(Retry::Safe, |c| call.invoke::<i64>(c))?;
        }
        Ok(())
    }

    fn get(&self, sid: Id) -> Result<Option<Session>> {
        self.read_session(sid)
    }

    fn touch(
        &self,
        sid: Id,
        now: i64,
        idle_timeout: i64,
        slide: bool,
        presented: Option<&BindingCheck>,
    ) -> Result<()> {
        self.touch_session(sid, now, idle_timeout, slide, presented)
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
            .key(self.idle_key(sid))
            .arg(hex(presented))
            .arg(hex(next))
            .arg(now)
            .arg(idle_timeout)
            .arg(grace)
            .arg(&binding_args(binding)[..]);
        let outcome = self.run(Retry::Never, |c| {
            let reply: Vec<String> = call.invoke(c)?;
            Ok((reply, self.wait_replicas(c)?))
        });
        if let Some(near) = &self.near {
            // Reuse detection and a binding mismatch revoke: this process sees it at once.
            near.invalidate(sid);
        }
        let (reply, acked) = outcome?;
        self.check_replicated(acked)?;
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
        let outcome = self.run(Retry::Never, |c| {
            let code = call.invoke::<i64>(c)?;
            Ok((code, self.wait_replicas(c)?))
        });
        if let Some(near) = &self.near {
            near.invalidate(sid);
        }
        let (code, acked) = outcome?;
        self.check_replicated(acked)?;
        match code {
            1 => Ok(RevokeOutcome::Revoked),
            2 => Ok(RevokeOutcome::AlreadyRevoked),
            _ => Ok(RevokeOutcome::Unknown),
        }
    }

    fn revoke_user(&self, user_id: &str, now: i64, remember_until: i64) -> Result<usize> {
        Ok(self
            .revoke_user_except(user_id, None, now, remember_until)?
            .len())
    }

    fn revoke_user_except(
        &self,
        user_id: &str,
        keep: Option<Id>,
        now: i64,
        remember_until: i64,
    ) -> Result<Vec<Id>> {
        let index = self.tagged_key("u:", user_id);
        let epoch = self.tagged_key("e:", user_id);
        let remember = remember_until.saturating_sub(now).max(1);
        let keep = keep.map(hex).unwrap_or_default();
        let outcome = if self.link.is_cluster() {
            self.revoke_user_in_steps(&index, &epoch, now, remember, &keep)
        } else {
            let mut call = self.scripts.revoke_user.prepare_invoke();
            call.key(&index)
                .key(&epoch)
                .arg(now)
                .arg(remember)
                .arg(self.key("s:", ""))
                .arg(&keep);
            self.run(Retry::Never, |c| {
                let sids: Vec<String> = call.invoke(c)?;
                Ok((sids, self.wait_replicas(c)?))
            })
        };
        if let Some(near) = &self.near {
            // Other processes hear of each session; this one does not wait for them.
            near.clear();
        }
        let (sids, acked) = outcome?;
        self.check_replicated(acked)?;
        sids.iter()
            .map(|s| Id::parse(s).ok_or_else(|| corrupt("revoke_user reply")))
            .collect()
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
        let key = self.tagged_key("e:", user_id);
        self.run(Retry::Safe, |c| redis::cmd("GET").arg(&key).query(c))
    }

    fn deny_jti(&self, jti: &str, until: i64, now: i64) -> Result<bool> {
        let key = self.key("d:", jti);
        let ttl = until.saturating_sub(now).max(1);
        // SET NX is the atomic check-and-deny; the entry expires when the token does.
        let (set, acked): (Option<String>, u64) = self.run(Retry::Never, |c| {
            let set = redis::cmd("SET")
                .arg(&key)
                .arg(until)
                .arg("NX")
                .arg("EX")
                .arg(ttl)
                .query(c)?;
            Ok((set, self.wait_replicas(c)?))
        })?;
        self.check_replicated(acked)?;
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
            let nodes = self.link.primaries()?;
            if nodes.is_empty() {
                self.count(c, &mut st)?;
            }
            for mut node in nodes {
                self.count(&mut node, &mut st)?;
            }
            Ok(st)
        })
    }
}
