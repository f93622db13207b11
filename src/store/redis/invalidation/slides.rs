//! Slides written behind: a validate answered from the near cache that is due to move its
//! session's idle deadline (at most once per second per session) is accepted at once, and
//! the move is queued here for a thread of this process to write, in pipelined batches of
//! the touch script, whose replies refresh the cache.
//!
//! Accepting before the write lands changes nothing a client could exploit: the session is
//! alive by its cached state, which only ever lags the truth in the direction of "idle
//! sooner". A slide only extends a session, so one written late or never can only end it
//! earlier. A batch that fails drops its sessions from the cache; their next validate then
//! goes to Redis and slides there, as without the cache.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use redis::ConnectionLike;

use super::{Broken, Shared};
use crate::session::Id;
use crate::store::redis::link::Conn;
use crate::store::redis::touch::cached_from;
use crate::store::redis::users::tagged_key;

/// Slides waiting to be written; past this, a validate due to slide goes to Redis itself.
const MAX_QUEUED: usize = 65_536;
/// Touch calls per pipelined round trip.
const BATCH: usize = 512;
/// How long the writer sleeps when there is nothing to write, between looks at `stop`.
const IDLE_WAIT: Duration = Duration::from_millis(100);
/// A slide queued longer than this is not written but forgotten: written with the time of
/// its validate, it could revive a session that Redis has since found idle.
const MAX_DELAY: Duration = Duration::from_secs(1);

/// One slide to write: the touch a validate would have sent.
#[derive(Debug, Clone, Copy)]
pub(in crate::store::redis) struct Slide {
    pub(in crate::store::redis) sid: Id,
    pub(in crate::store::redis) now: i64,
    pub(in crate::store::redis) idle_timeout: i64,
    pub(in crate::store::redis) queued: Instant,
}

#[derive(Default)]
pub(super) struct Slides {
    queue: Mutex<Vec<Slide>>,
    ready: Condvar,
}

impl Slides {
    /// Queues `slide`; `false` when the queue is full.
    pub(super) fn push(&self, slide: Slide) -> bool {
        let mut queue = self.queue.lock();
        if queue.len() >= MAX_QUEUED {
            return false;
        }
        queue.push(slide);
        if queue.len() == 1 {
            self.ready.notify_one();
        }
        true
    }

    /// Up to `BATCH` slides, oldest first, waiting up to `IDLE_WAIT` for one.
    fn take(&self) -> Vec<Slide> {
        let mut queue = self.queue.lock();
        if queue.is_empty() {
            self.ready.wait_for(&mut queue, IDLE_WAIT);
        }
        let n = queue.len().min(BATCH);
        queue.drain(..n).collect()
    }

    /// Wakes the writer (to see `stop`).
    pub(super) fn wake(&self) {
        self.ready.notify_all();
    }
}

impl Shared {
    /// The writer thread: write queued slides until the store goes away.
    pub(super) fn write_slides(self: Arc<Self>) {
        // The connection, the link's epoch it was made under (a link rebuilt after a
        // failover gets a writer connection to the new primary) and the script's hash.
        let mut conn: Option<(Conn, u64, String)> = None;
        while !self.stop.load(Ordering::Acquire) {
            let mut batch = self.slides.take();
            batch.retain(|slide| {
                let fresh = slide.queued.elapsed() <= MAX_DELAY;
                if !fresh {
                    self.cache.invalidate(slide.sid);
                }
                fresh
            });
            if batch.is_empty() {
                continue;
            }
            let epoch = self.epoch.load(Ordering::Acquire);
            if conn.as_ref().is_some_and(|(_, e, _)| *e != epoch) {
                conn = None;
            }
            if epoch % 2 == 0 {
                // The link is down and the cache with it: the next validates go to Redis.
                self.forget(&batch);
                continue;
            }
            let tickets: Vec<_> = batch
                .iter()
                .map(|s| self.cache.ticket(s.sid, epoch))
                .collect();
            match self.send_slides(&mut conn, epoch, &batch) {
                Ok(replies) => {
                    let epoch = self.epoch.load(Ordering::Acquire);
                    for ((slide, ticket), reply) in batch.iter().zip(tickets).zip(replies) {
                        match cached_from(&reply) {
                            Ok(state) if !state.revoked => {
                                self.cache.fill(slide.sid, ticket, epoch, state)
                            }
                            // Gone, revoked (its invalidation is on the way) or unreadable.
                            _ => self.cache.invalidate(slide.sid),
                        }
                    }
                }
                Err(_) => {
                    conn = None;
                    self.forget(&batch);
                }
            }
        }
    }

    /// Slides that were not written: their sessions leave the cache, so that their next
    /// validate goes to Redis and slides there.
    fn forget(&self, batch: &[Slide]) {
        for slide in batch {
            self.cache.invalidate(slide.sid);
        }
    }

    /// The touch script, sliding and checking no binding, per slide: pipelined in one round
    /// trip to one server; one call at a time on a cluster (each to its key's primary).
    fn send_slides(
        &self,
        conn: &mut Option<(Conn, u64, String)>,
        epoch: u64,
        batch: &[Slide],
    ) -> Result<Vec<Vec<String>>, Broken> {
        if conn.is_none() {
            let mut c = self.link.connect()?;
            let hash = if c.supports_pipelining() {
                self.touch.load(&mut c)?
            } else {
                String::new()
            };
            *conn = Some((c, epoch, hash));
        }
        let Some((c, _, hash)) = conn.as_mut() else {
            return Ok(Vec::new());
        };
        let keys = |slide: &Slide| {
            let hex = slide.sid.to_hex_string();
            (
                tagged_key(&self.prefix, "s:", &hex),
                tagged_key(&self.prefix, "i:", &hex),
            )
        };
        if !c.supports_pipelining() {
            let mut replies = Vec::with_capacity(batch.len());
            for slide in batch {
                let (key, idle_key) = keys(slide);
                replies.push(
                    self.touch
                        .key(key)
                        .key(idle_key)
                        .arg(slide.now)
                        .arg(slide.idle_timeout)
                        .arg("1")
                        .arg("0")
                        .invoke(c)?,
                );
            }
            return Ok(replies);
        }
        let mut pipe = redis::pipe();
        for slide in batch {
            let (key, idle_key) = keys(slide);
            pipe.cmd("EVALSHA")
                .arg(&*hash)
                .arg(2)
                .arg(key)
                .arg(idle_key)
                .arg(slide.now)
                .arg(slide.idle_timeout)
                .arg("1")
                .arg("0");
        }
        Ok(pipe.query(c)?)
    }
}
