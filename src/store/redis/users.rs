//! Hash-tagged keys (a user's index and epoch share a slot, as do a session's keys),
//! `revoke_user_except` in steps on a Cluster, and the key counts of `stats` on one node.

use redis::ConnectionLike;

use super::{RedisStore, Retry};
use crate::error::Result;
use crate::store::Stats;

/// `<prefix><kind>{<tag>}`, for callers that hold the prefix but not the store.
pub(super) fn tagged_key(prefix: &str, kind: &str, tag: &str) -> String {
    let mut k = String::with_capacity(prefix.len() + kind.len() + tag.len() + 2);
    k.push_str(prefix);
    k.push_str(kind);
    k.push('{');
    k.push_str(tag);
    k.push('}');
    k
}

/// Keys fetched per SCAN step by `stats`.
const SCAN_BATCH: usize = 1_000;

impl RedisStore {
    /// `<prefix><kind>{<tag>}`: every key of one tag lives in one Cluster slot, so a script
    /// may touch several. Tags are a user id (`u:`, `e:`) or a sid (`s:`).
    pub(super) fn tagged_key(&self, kind: &str, tag: &str) -> String {
        tagged_key(&self.prefix, kind, tag)
    }

    /// A Cluster's revoke_user_except: the epoch and the index in the user's slot, then each
    /// listed session but `keep` (a sid in hex, `""` for none) in its own. Returns the sids
    /// it revoked (live until then), and how many replicas acknowledged.
    pub(super) fn revoke_user_in_steps(
        &self,
        index: &str,
        epoch: &str,
        now: i64,
        remember: i64,
        keep: &str,
    ) -> Result<(Vec<String>, u64)> {
        let mut call = self.scripts.epoch_and_index.prepare_invoke();
        call.key(index).key(epoch).arg(now).arg(remember);
        // All on one connection, so that the WAIT at the end covers every step's writes.
        self.run(Retry::Never, |c| {
            let listed: Vec<(String, i64)> = call.invoke(c)?;
            let mut revoked = Vec::new();
            for (sid, absolute) in listed {
                if sid == keep {
                    continue;
                }
                let mut step = self.scripts.revoke_listed.prepare_invoke();
                step.key(self.tagged_key("s:", &sid)).arg(now).arg(absolute);
                if step.invoke::<i64>(c)? == 1 {
                    revoked.push(sid);
                }
            }
            Ok((revoked, self.wait_replicas(c)?))
        })
    }

    /// Add the counts of the keys `conn` can SCAN to `st`.
    pub(super) fn count<C: ConnectionLike>(
        &self,
        conn: &mut C,
        st: &mut Stats,
    ) -> redis::RedisResult<()> {
        st.sessions += self.scan(conn, "s:", |c, keys| {
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
        st.denied_jtis += self.scan(conn, "d:", |_, _| Ok(()))?;
        st.user_epochs += self.scan(conn, "e:", |_, _| Ok(()))?;
        Ok(())
    }

    /// Count the keys of one kind, and pass each batch of names to `each`.
    fn scan<C: ConnectionLike>(
        &self,
        conn: &mut C,
        kind: &str,
        mut each: impl FnMut(&mut C, Vec<String>) -> redis::RedisResult<()>,
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
