//! The listener: build the link (one subscribed connection per server that holds sessions)
//! and apply what it hears, rebuilding it whenever it fails, until the store goes away.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use redis::Value;

use super::{Broken, Node, Shared, LAG_BOUND, RECONNECT_PAUSE, RECONNECT_PAUSE_MAX};
use crate::session::Id;
use crate::store::redis::link::cluster_primaries;

const CHANNEL: &str = "__redis__:invalidate";
/// Hash tags tried per round trip when looking for one of a primary's slots.
const TAGS_PER_TRY: usize = 64;
/// Tags tried in all before a primary is taken to serve no slot a heartbeat can use.
const TAGS_MAX: usize = 16_384;

impl Shared {
    /// The listener thread.
    pub(super) fn listen(self: Arc<Self>) {
        let mut pause = RECONNECT_PAUSE;
        while !self.stop.load(Ordering::Acquire) {
            let was_up = self.follow_all();
            self.link_down();
            pause = if was_up {
                RECONNECT_PAUSE
            } else {
                (pause * 2).min(RECONNECT_PAUSE_MAX)
            };
            std::thread::sleep(pause);
        }
    }

    /// One link: every node followed on a thread of its own until one of them stops (or a
    /// rebuild is asked for). Whether the link came up.
    fn follow_all(&self) -> bool {
        let nodes: Arc<[Node]> = match self.nodes_now() {
            Ok(nodes) if !nodes.is_empty() => nodes.into(),
            _ => return false,
        };
        *self.nodes.lock() = nodes.clone();
        self.rebuild.store(false, Ordering::Release);
        let subscribed = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for node in nodes.iter() {
                let (nodes, subscribed) = (&nodes, &subscribed);
                let spawned = std::thread::Builder::new()
                    .name("keyfob-invalidate".into())
                    .spawn_scoped(scope, move || {
                        let _ = self.follow(nodes, node, subscribed);
                        // The others stop at their next message or read timeout.
                        self.rebuild.store(true, Ordering::Release);
                    });
                if spawned.is_err() {
                    self.rebuild.store(true, Ordering::Release);
                }
            }
        });
        subscribed.load(Ordering::Acquire) == nodes.len()
    }

    /// The servers to follow now: the one the store connects to, or each primary of a
    /// cluster with a heartbeat hash tag of one of its slots.
    fn nodes_now(&self) -> Result<Vec<Node>, Broken> {
        if !self.link.is_cluster() {
            return Ok(vec![Node::new(None, self.heartbeat.clone())]);
        }
        let mut conn = self.link.connect()?;
        let mut nodes = Vec::new();
        for primary in cluster_primaries(&mut conn)? {
            let mut c = self.link.connect_primary(&primary)?;
            let tag = heartbeat_tag(&mut c, |slot| primary.serves(slot))?;
            nodes.push(Node::new(
                Some(primary),
                format!("{}{{{tag}}}:", self.heartbeat),
            ));
        }
        Ok(nodes)
    }

    /// Subscribe to `node` and apply what it hears until it fails or a rebuild is asked
    /// for; the last node of `nodes` to subscribe brings the link up.
    fn follow(&self, nodes: &[Node], node: &Node, subscribed: &AtomicUsize) -> Result<(), Broken> {
        let mut conn = node.connect(&self.link)?;
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
        // Every change this server applies from the subscription on reaches this node.
        self.confirm(nodes, node, subscribing);
        if subscribed.fetch_add(1, Ordering::AcqRel) + 1 == nodes.len() {
            self.link_up(nodes);
        }
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
                            self.heard(nodes, node, &key);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// One invalidated key: a session to forget, or one of `node`'s heartbeats coming back.
    fn heard(&self, nodes: &[Node], node: &Node, key: &[u8]) {
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
        } else if let Some(seq) = key.strip_prefix(node.heartbeat.as_bytes()) {
            let Some(seq) = std::str::from_utf8(seq).ok().and_then(|s| s.parse().ok()) else {
                return;
            };
            let mut sent = node.sent.lock();
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
                self.confirm(nodes, node, at);
            }
        }
    }
}

/// A hash tag (`hb<n>`) whose slot `serves` accepts, asking the server with `CLUSTER KEYSLOT`.
fn heartbeat_tag(
    conn: &mut redis::Connection,
    serves: impl Fn(i64) -> bool,
) -> Result<String, Broken> {
    for first in (0..TAGS_MAX).step_by(TAGS_PER_TRY) {
        let tags: Vec<String> = (first..first + TAGS_PER_TRY)
            .map(|n| format!("hb{n}"))
            .collect();
        let mut pipe = redis::pipe();
        for tag in &tags {
            pipe.cmd("CLUSTER").arg("KEYSLOT").arg(tag);
        }
        let slots: Vec<i64> = pipe.query(conn)?;
        if let Some(at) = slots.iter().position(|s| serves(*s)) {
            return Ok(tags[at].clone());
        }
    }
    Err("a primary serves no slot a heartbeat can use".into())
}
