//! `store_wait_replicas`: after a write that revokes or rotates, `WAIT` on the same
//! connection until that many replicas have it, and fail closed when fewer do in time.

use super::link::Conn;
use super::RedisStore;
use crate::error::{Error, Result};

/// `WAIT` after each revocation and rotation: this many replicas, within this many ms.
#[derive(Clone, Copy, Debug)]
pub(super) struct Wait {
    pub replicas: u64,
    pub timeout_ms: u64,
}

impl RedisStore {
    /// After a revocation or rotation on `conn`: `WAIT` for the configured replicas.
    /// Returns how many acknowledged (`u64::MAX` when not configured).
    pub(super) fn wait_replicas(&self, conn: &mut Conn) -> redis::RedisResult<u64> {
        match self.wait {
            None => Ok(u64::MAX),
            Some(w) => redis::cmd("WAIT")
                .arg(w.replicas)
                .arg(w.timeout_ms)
                .query(conn),
        }
    }

    /// Fail closed when fewer replicas than configured acknowledged a write.
    pub(super) fn check_replicated(&self, acked: u64) -> Result<()> {
        match self.wait {
            Some(w) if acked < w.replicas => Err(Error::StoreUnavailable(format!(
                "only {acked} of {} replicas acknowledged the write within \
                 store_wait_timeout_ms",
                w.replicas
            ))),
            _ => Ok(()),
        }
    }
}
