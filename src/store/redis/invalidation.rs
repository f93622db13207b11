//! The near cache's link to Redis: server-assisted client-side caching, and the heartbeat
//! that proves the link is keeping up.
//!
//! One connection per process and store asks Redis to track every key under the session
//! prefix for everyone (`CLIENT TRACKING on REDIRECT <itself> BCAST PREFIX <prefix>s:`) and
//! subscribes to `__redis__:invalidate`: whoever writes a session key (a revocation, a
//! logout, reuse detection, `revoke_user`, Redis expiring it), every process hears its name.
//! It connects as the store does (TLS, the primary the sentinels name), so a link rebuilt
//! after a failover follows the new primary. A Cluster has no one server to follow: the
//! store does not offer the cache there.
//! RESP2 with the redirect to a subscribed connection, rather than RESP3 pushes, because the
//! synchronous client reads pushes only while it waits for a reply of its own.
//!
//! A link can also fail silently (a frozen peer, a backlog Redis has not flushed). So a
//! second thread writes a heartbeat key every [`HEARTBEAT_EVERY`], under a prefix tracked on
//! the same connection, and notes when it sent it. Redis sends invalidations in the order it
//! applied the writes (and, within one batch, the session prefix before the heartbeat
//! prefix: `s;` sorts after `s:`), so the heartbeat's own invalidation arriving means every
//! change Redis applied before the heartbeat was sent has arrived too. The cache answers
//! only while the latest heartbeat so confirmed was sent less than [`LAG_BOUND`] ago; past
//! it, and whenever the connection breaks, the cache is emptied and the link rebuilt.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use redis::{Connection, Script, Value};

use super::link::{Conn, Link};
use super::near_cache::{Cached, NearCache, Ticket};
use crate::metrics::NearCacheStats;
use crate::session::Id;

mod slides;

pub(super) use slides::Slide;
use slides::Slides;

/// How often each process proves its link: one small write, heard by this process only.
pub(super) const HEARTBEAT_EVERY: Duration = Duration::from_millis(100);
/// The longest a cached answer may go without a confirmed heartbeat, so the most a change
/// can go unseen by a process whose link failed silently.
pub(super) const LAG_BOUND: Duration = Duration::from_millis(500);
/// Wait before rebuilding a link that failed, doubled after each failure in a row up to
/// `RECONNECT_PAUSE_MAX`, so a Redis that is down (or refuses `CLIENT TRACKING`) is not
/// hammered; validates make round trips meanwhile.
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);
const RECONNECT_PAUSE_MAX: Duration = Duration::from_secs(2);
const CHANNEL: &str = "__redis__:invalidate";

/// Why a link or a heartbeat stopped; only that it did matters.
type Broken = Box<dyn std::error::Error>;

/// A plain connection to the server the store writes to (through the sentinels, over TLS:
/// as the store connects), for subscribing and for heartbeats.
fn connect(link: &Link) -> Result<Connection, Broken> {
    match link.connect()? {
        Conn::Node(conn) => Ok(conn),
        Conn::Cluster(_) => Err("the near cache does not follow a Cluster".into()),
    }
}

/// What the listener, the heartbeat and the callers share.
struct Shared {
    cache: NearCache,
    link: Arc<Link>,
    /// The store's key prefix, and its touch script (for slides written behind).
    prefix: String,
    touch: Script,
    slides: Slides,
    /// Keys of sessions (`<prefix>s:{<sid>}`).
    tracked: String,
    /// This process's heartbeat keys (`<prefix>s;<random>:`), tracked on the same link.
    heartbeat: String,
    /// Odd while the link is subscribed; bumped on every change, so a fill can tell that
    /// the link it started under is gone.
    epoch: AtomicU64,
    /// Nanoseconds since `base` until which cached answers may be given.
    serve_until: AtomicU64,
    base: Instant,
    /// Heartbeats sent and not yet confirmed: sequence number, when.
    sent: Mutex<VecDeque<(u64, Instant)>>,
    /// Asks the listener to rebuild the link (it fell behind).
    rebuild: AtomicBool,
    stop: AtomicBool,
    /// Cached sessions dropped because Redis said they changed.
    invalidations: AtomicU64,
}

/// The near cache with its link; the link's threads start in each process on first use.
pub(super) struct Tracking {
    /// This process's state, from `Arc::into_raw`. A forked child replaces it with a fresh
    /// one: its copy of the parent's may hold locks that a parent thread owned at the fork
    /// (which nothing in the child would release), and its heartbeats must be named apart
    /// from the parent's. The copy is left alone (leaked), never freed under a reader.
    shared: AtomicPtr<Shared>,
    /// The fork generation whose threads run (`u64::MAX`: none yet).
    running: AtomicU64,
    start: Mutex<()>,
    link: Arc<Link>,
    prefix: String,
    touch: Script,
    capacity: usize,
    /// Validates answered from the cache, and those that went to Redis.
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Tracking {
    pub(super) fn new(
        link: Arc<Link>,
        prefix: &str,
        touch: Script,
        capacity: usize,
    ) -> crate::error::Result<Tracking> {
        let shared = Shared::new(link.clone(), prefix, touch.clone(), capacity)?;
        Ok(Tracking {
            shared: AtomicPtr::new(Arc::into_raw(Arc::new(shared)).cast_mut()),
            running: AtomicU64::new(u64::MAX),
            start: Mutex::new(()),
            link,
            prefix: prefix.to_owned(),
            touch,
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        })
    }

    fn shared(&self) -> &Shared {
        // SAFETY: the pointer comes from Arc::into_raw and that reference is only given up
        // in drop; a pointer replaced after a fork is never freed (see `shared`).
        unsafe { &*self.shared.load(Ordering::Acquire) }
    }

    /// A counted handle on the current state, for a thread.
    fn shared_arc(&self) -> Arc<Shared> {
        let ptr = self.shared.load(Ordering::Acquire).cast_const();
        // SAFETY: as in `shared`; the count taken here is the new Arc's.
        unsafe {
            Arc::increment_strong_count(ptr);
            Arc::from_raw(ptr)
        }
    }

    /// Start the link's threads in this process if they are not running here: first use,
    /// or a forked child, which has its parent's memory but none of its threads.
    fn ensure_running(&self) {
        let generation = crate::fork::generation();
        if self.running.load(Ordering::Acquire) == generation {
            return;
        }
        let _guard = self.start.lock();
        let running = self.running.load(Ordering::Acquire);
        if running == generation {
            return;
        }
        if running != u64::MAX {
            // A forked child: what the parent cached was kept true by the parent's link.
            let Ok(fresh) = Shared::new(
                self.link.clone(),
                &self.prefix,
                self.touch.clone(),
                self.capacity,
            ) else {
                return;
            };
            self.shared
                .store(Arc::into_raw(Arc::new(fresh)).cast_mut(), Ordering::Release);
        }
        let listener = self.shared_arc();
        let beat = self.shared_arc();
        let writer = self.shared_arc();
        let spawned = std::thread::Builder::new()
            .name("keyfob-invalidate".into())
            .spawn(move || listener.listen())
            .and_then(|_| {
                std::thread::Builder::new()
                    .name("keyfob-heartbeat".into())
                    .spawn(move || beat.beat())
            })
            .and_then(|_| {
                std::thread::Builder::new()
                    .name("keyfob-slides".into())
                    .spawn(move || writer.write_slides())
            });
        if spawned.is_ok() {
            self.running.store(generation, Ordering::Release);
        }
    }

    /// The cached state of `sid`, if the link is known to be keeping up.
    pub(super) fn get(&self, sid: Id) -> Option<Cached> {
        self.ensure_running();
        if !self.shared().serving() {
            return None;
        }
        self.shared().cache.get(sid)
    }

    /// A ticket to cache what a read about to be sent sees (None while the link is down).
    pub(super) fn ticket(&self, sid: Id) -> Option<Ticket> {
        self.ensure_running();
        let shared = self.shared();
        let epoch = shared.epoch.load(Ordering::Acquire);
        (epoch % 2 == 1).then(|| shared.cache.ticket(sid, epoch))
    }

    pub(super) fn fill(&self, sid: Id, ticket: Ticket, entry: Cached) {
        let shared = self.shared();
        let epoch = shared.epoch.load(Ordering::Acquire);
        shared.cache.fill(sid, ticket, epoch, entry);
    }

    /// Accept a validate of a cached session due to slide to `idle_deadline`, with the slide
    /// written behind: `true` once it is queued (or one reaching as far already is), `false`
    /// when the validate must go to Redis (`sid` left the cache, or the queue is full).
    pub(super) fn slide_behind(&self, slide: Slide, idle_deadline: i64) -> bool {
        let shared = self.shared();
        match shared.cache.claim_slide(slide.sid, idle_deadline) {
            None => false,
            Some(false) => true,
            // Left claimed when the queue is full: the round trip the caller makes instead
            // refills the entry with the slid deadline.
            Some(true) => shared.slides.push(slide),
        }
    }

    /// This process changed `sid`: forget it now rather than when Redis says so.
    pub(super) fn invalidate(&self, sid: Id) {
        self.shared().cache.invalidate(sid);
    }

    /// This process changed sessions it cannot name (`revoke_user`).
    pub(super) fn clear(&self) {
        self.shared().cache.clear();
    }

    /// Counts one validate answered from the cache (`true`) or sent to Redis.
    pub(super) fn count(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// This process's counts, for `Engine::metrics`.
    pub(super) fn stats(&self) -> NearCacheStats {
        NearCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            invalidations: self.shared().invalidations.load(Ordering::Relaxed),
        }
    }

    /// Whether cached answers may be given now (for tests and the bench).
    pub(super) fn is_serving(&self) -> bool {
        self.ensure_running();
        self.shared().serving()
    }
}

impl Drop for Tracking {
    fn drop(&mut self) {
        let ptr = self.shared.load(Ordering::Acquire).cast_const();
        // SAFETY: gives up the reference `new` (or the fork path) took with Arc::into_raw.
        let shared = unsafe { Arc::from_raw(ptr) };
        shared.stop.store(true, Ordering::Release);
        shared.slides.wake();
    }
}

impl Shared {
    fn new(
        link: Arc<Link>,
        prefix: &str,
        touch: Script,
        capacity: usize,
    ) -> crate::error::Result<Shared> {
        // Names this process's heartbeats: another process's must never confirm ours.
        let nonce = Id::random()?.to_hex_string();
        Ok(Shared {
            cache: NearCache::new(capacity),
            link,
            prefix: prefix.to_owned(),
            touch,
            slides: Slides::default(),
            tracked: format!("{prefix}s:"),
            heartbeat: format!("{prefix}s;{nonce}:"),
            epoch: AtomicU64::new(0),
            serve_until: AtomicU64::new(0),
            base: Instant::now(),
            sent: Mutex::new(VecDeque::new()),
            rebuild: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            invalidations: AtomicU64::new(0),
        })
    }

    fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    fn serving(&self) -> bool {
        self.epoch.load(Ordering::Acquire) % 2 == 1
            && self.now_ns() < self.serve_until.load(Ordering::Acquire)
    }

    /// Cached answers may be given until `lag_bound` after `confirmed_at`.
    fn confirm(&self, confirmed_at: Instant) {
        let until = confirmed_at.saturating_duration_since(self.base) + LAG_BOUND;
        self.serve_until
            .fetch_max(until.as_nanos() as u64, Ordering::AcqRel);
    }

    fn link_up(&self, subscribed_at: Instant) {
        // Odd, and never the epoch of an earlier link.
        let _ = self
            .epoch
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |e| {
                Some(if e % 2 == 0 { e + 1 } else { e + 2 })
            });
        // Every change from the subscription on reaches this link.
        self.confirm(subscribed_at);
    }

    /// Nothing cached may be trusted: empty the cache, refuse fills in flight.
    fn link_down(&self) {
        self.serve_until.store(0, Ordering::Release);
        // Even; two threads finding the link broken at once leave it even too.
        let _ = self
            .epoch
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |e| {
                (e % 2 == 1).then_some(e + 1)
            });
        self.cache.clear();
    }

    /// The listener thread: (re)build the link and apply what it hears, until the store
    /// goes away.
    fn listen(self: Arc<Self>) {
        let mut pause = RECONNECT_PAUSE;
        while !self.stop.load(Ordering::Acquire) {
            let mut was_up = false;
            let _ = self.follow(&mut was_up);
            self.link_down();
            pause = if was_up {
                RECONNECT_PAUSE
            } else {
                (pause * 2).min(RECONNECT_PAUSE_MAX)
            };
            std::thread::sleep(pause);
        }
    }

    /// Build the link and apply what it hears until it fails; `was_up` tells whether it
    /// got as far as subscribing.
    fn follow(&self, was_up: &mut bool) -> Result<(), Broken> {
        let mut conn = connect(&self.link)?;
        let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut conn)?;
        redis::cmd("CLIENT")
            .arg("TRACKING")
            .arg("on")
            .arg("REDIRECT")
            .arg(id)
            .arg("BCAST")
            .arg("PREFIX")
            .arg(&self.tracked)
            .arg("PREFIX")
            .arg(&self.heartbeat)
            .exec(&mut conn)?;
        let mut pubsub = conn.as_pubsub();
        let subscribing = Instant::now();
        pubsub.subscribe(CHANNEL)?;
        // Heartbeats come every HEARTBEAT_EVERY: a silence this long is a link in trouble.
        // A read that times out may have stopped inside a message, so the link is rebuilt.
        pubsub.set_read_timeout(Some(LAG_BOUND))?;
        self.rebuild.store(false, Ordering::Release);
        self.link_up(subscribing);
        *was_up = true;
        loop {
            let msg = pubsub.get_message()?;
            if self.stop.load(Ordering::Acquire) || self.rebuild.load(Ordering::Acquire) {
                return Ok(());
            }
            if msg.get_channel_name() != CHANNEL {
                continue;
            }
            match msg.get_payload::<Value>()? {
                // A flush (FLUSHDB, FLUSHALL): every key may have changed.
                Value::Nil => self.cache.clear(),
                Value::Array(keys) => {
                    for key in keys {
                        if let Value::BulkString(key) = key {
                            self.heard(&key);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// One invalidated key: a session to forget, or one of our heartbeats coming back.
    fn heard(&self, key: &[u8]) {
        if let Some(tagged) = key.strip_prefix(self.tracked.as_bytes()) {
            let sid = tagged
                .strip_prefix(b"{")
                .and_then(|t| t.strip_suffix(b"}"))
                .and_then(|t| std::str::from_utf8(t).ok())
                .and_then(Id::parse);
            if let Some(sid) = sid {
                self.cache.invalidate(sid);
                self.invalidations.fetch_add(1, Ordering::Relaxed);
            }
        } else if let Some(seq) = key.strip_prefix(self.heartbeat.as_bytes()) {
            let Some(seq) = std::str::from_utf8(seq).ok().and_then(|s| s.parse().ok()) else {
                return;
            };
            let mut sent = self.sent.lock();
            let mut confirmed = None;
            while let Some(&(s, at)) = sent.front() {
                if s > seq {
                    break;
                }
                confirmed = Some(at);
                sent.pop_front();
            }
            drop(sent);
            if let Some(at) = confirmed {
                self.confirm(at);
            }
        }
    }

    /// The heartbeat thread: write a heartbeat key every HEARTBEAT_EVERY while the link is
    /// up, and ask for a rebuild when confirmations stop coming.
    fn beat(self: Arc<Self>) {
        // The connection, and the link's epoch it was made under: a rebuilt link (after a
        // Sentinel failover, on another server) gets a heartbeat connection of its own.
        let mut conn: Option<(Connection, u64)> = None;
        let mut seq: u64 = 0;
        while !self.stop.load(Ordering::Acquire) {
            std::thread::sleep(HEARTBEAT_EVERY);
            let epoch = self.epoch.load(Ordering::Acquire);
            if epoch % 2 == 0 {
                conn = None;
                continue;
            }
            if conn.as_ref().is_some_and(|(_, e)| *e != epoch) {
                conn = None;
            }
            if !self.serving() {
                // Fallen behind: stop trusting the cache and rebuild the link.
                self.rebuild.store(true, Ordering::Release);
                self.link_down();
                continue;
            }
            seq += 1;
            {
                let mut sent = self.sent.lock();
                if sent.len() >= 64 {
                    sent.pop_front();
                }
                sent.push_back((seq, Instant::now()));
            }
            if self.send_heartbeat(&mut conn, epoch, seq).is_err() {
                conn = None;
            }
        }
    }

    fn send_heartbeat(
        &self,
        conn: &mut Option<(Connection, u64)>,
        epoch: u64,
        seq: u64,
    ) -> Result<(), Broken> {
        if conn.is_none() {
            *conn = Some((connect(&self.link)?, epoch));
        }
        let Some((c, _)) = conn.as_mut() else {
            return Ok(());
        };
        // Gone by itself soon after: only its invalidation matters.
        redis::cmd("SET")
            .arg(format!("{}{seq}", self.heartbeat))
            .arg(1)
            .arg("PX")
            .arg(LAG_BOUND.as_millis() as u64 * 4)
            .exec(c)?;
        Ok(())
    }
}
