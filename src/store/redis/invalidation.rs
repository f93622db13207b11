//! The near cache's link to Redis: server-assisted client-side caching, and the heartbeats
//! that prove the link is keeping up.
//!
//! The link is one connection per server that holds sessions: the one server, the primary
//! the sentinels name, or each primary of a cluster (each announces only the writes to its
//! own slots). Each asks its server to track every key under the session prefix for
//! everyone (`CLIENT TRACKING on REDIRECT <itself> BCAST PREFIX <prefix>s:`) and subscribes
//! to `__redis__:invalidate`: whoever writes a session key (a revocation, a logout, reuse
//! detection, `revoke_user`, Redis expiring it or a slot migration moving it), every
//! process hears its name. They connect as the store does (TLS, the primary the sentinels
//! name), so a link rebuilt after a failover follows the new primary. The link is up only
//! while every one of its connections is subscribed.
//! RESP2 with the redirect to a subscribed connection, rather than RESP3 pushes, because the
//! synchronous client reads pushes only while it waits for a reply of its own.
//!
//! A connection can also fail silently (a frozen peer, a backlog Redis has not flushed). So
//! a thread writes a heartbeat key to each server every [`HEARTBEAT_EVERY`], under a prefix
//! tracked on the same connection (on a cluster, with a hash tag of a slot that server
//! serves), and notes when it sent it. Redis sends invalidations in the order it applied
//! the writes (and, within one batch, the session prefix before the heartbeat prefix: `s;`
//! sorts after `s:`), so a heartbeat's own invalidation arriving means every change that
//! server applied before the heartbeat was sent has arrived too. The cache answers only
//! while, on every server, the latest heartbeat so confirmed was sent less than
//! [`LAG_BOUND`] ago; past it, whenever a connection breaks, and when a cluster's set of
//! primaries changes, the cache is emptied and the link rebuilt.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use redis::{Connection, Script};

use super::link::{Conn, Link, Primary};
use super::near_cache::{Cached, NearCache, Ticket};
use crate::metrics::NearCacheStats;
use crate::session::Id;

mod heartbeat;
mod listen;
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

/// Why a link or a heartbeat stopped; only that it did matters.
type Broken = Box<dyn std::error::Error>;

/// A server the link follows, and its heartbeats.
struct Node {
    /// A cluster's primary; `None`: the server the store connects to (through the
    /// sentinels, over TLS: as the store connects).
    primary: Option<Primary>,
    /// This server's heartbeat keys: the process's heartbeat prefix, then (on a cluster) a
    /// hash tag of one of the server's slots.
    heartbeat: String,
    /// Heartbeats sent and not yet confirmed: sequence number, when.
    sent: Mutex<VecDeque<(u64, Instant)>>,
    /// Nanoseconds since `Shared::base` until which this server's news is known complete.
    serve_until: AtomicU64,
}

impl Node {
    fn new(primary: Option<Primary>, heartbeat: String) -> Node {
        Node {
            primary,
            heartbeat,
            sent: Mutex::new(VecDeque::new()),
            serve_until: AtomicU64::new(0),
        }
    }

    /// A plain connection to this server, for subscribing and for heartbeats.
    fn connect(&self, link: &Link) -> Result<Connection, Broken> {
        match &self.primary {
            Some(primary) => Ok(link.connect_primary(primary)?),
            None => match link.connect()? {
                Conn::Node(conn) => Ok(conn),
                Conn::Cluster(_) => Err("a cluster's primary has no address".into()),
            },
        }
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
    /// The servers the link follows now (set by the listener for each link it builds).
    nodes: Mutex<Arc<[Node]>>,
    /// Odd while the link is subscribed; bumped on every change, so a fill can tell that
    /// the link it started under is gone.
    epoch: AtomicU64,
    /// Nanoseconds since `base` until which cached answers may be given: the earliest of
    /// the nodes' (never later than any of them).
    serve_until: AtomicU64,
    /// Held while `serve_until` is worked out from the nodes'.
    confirming: Mutex<()>,
    base: Instant,
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
        // Once tried, never again in this process: a thread that could not start leaves
        // the cache unconfirmed (every validate goes to Redis), never trusted.
        drop(spawned);
        self.running.store(generation, Ordering::Release);
    }

    /// The cached state of `sid`, if the link is known to be keeping up.
    pub(super) fn get(&self, sid: Id) -> Option<Cached> {
        self.ensure_running();
        let shared = self.shared();
        if !shared.serving() {
            return None;
        }
        shared.cache.get(sid)
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

    /// The idle deadline a slide of `sid` queued here will write (or has written).
    pub(super) fn queued_slide(&self, sid: Id) -> Option<i64> {
        self.ensure_running();
        self.shared().cache.queued_slide(sid)
    }

    /// This process changed `sid`: forget it now rather than when Redis says so.
    pub(super) fn invalidate(&self, sid: Id) {
        // In a forked child, never the parent's copy (its locks may be held forever).
        self.ensure_running();
        self.shared().cache.invalidate(sid);
    }

    /// This process changed sessions it cannot name (`revoke_user`).
    pub(super) fn clear(&self) {
        self.ensure_running();
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
            nodes: Mutex::new(Arc::from(Vec::new())),
            epoch: AtomicU64::new(0),
            serve_until: AtomicU64::new(0),
            confirming: Mutex::new(()),
            base: Instant::now(),
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

    /// `node`'s news is complete up to `confirmed_at`: cached answers may be given until
    /// `LAG_BOUND` after the earliest such time of all `nodes`.
    fn confirm(&self, nodes: &[Node], node: &Node, confirmed_at: Instant) {
        let until = confirmed_at.saturating_duration_since(self.base) + LAG_BOUND;
        node.serve_until
            .fetch_max(until.as_nanos() as u64, Ordering::AcqRel);
        self.settle(nodes);
    }

    /// `serve_until` from the nodes'. Theirs only grow, so a value worked out here is never
    /// later than theirs; the lock keeps an older result from overwriting a newer one.
    fn settle(&self, nodes: &[Node]) {
        let _one_at_a_time = self.confirming.lock();
        let earliest = nodes
            .iter()
            .map(|n| n.serve_until.load(Ordering::Acquire))
            .min()
            .unwrap_or(0);
        self.serve_until.store(earliest, Ordering::Release);
    }

    /// Every node of the link is subscribed (each confirmed as of its subscription).
    fn link_up(&self, nodes: &[Node]) {
        // Odd, and never the epoch of an earlier link.
        let _ = self
            .epoch
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |e| {
                Some(if e % 2 == 0 { e + 1 } else { e + 2 })
            });
        self.settle(nodes);
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
}
