//! The listener: build the link (one subscribed connection per server that holds sessions)
//! and apply what it hears, rebuilding it whenever it fails, until the store goes away.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use redis::Value;

use super::{Broken, Node, Shared, LAG_BOUND, RECONNECT_PAUSE, RECONNECT_PAUSE_MAX};
use crate::session::Id;
use crate::store::redis::link::{cluster_primaries, idle_primary};

const CHANNEL: &str = "__redis__:invalidate";
/// A cluster's hash slots.
const SLOTS: u16 = 16_384;
/// Heartbeat hash tags tried (`hb0`, `hb1`, ...) for a slot of a primary: enough to reach
/// every slot (a test checks it).
const TAGS_MAX: u32 = 1 << 20;

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
                        // The link is down now; the other followers stop at their next
                        // message or read timeout.
                        self.rebuild.store(true, Ordering::Release);
                        self.link_down();
                    });
                if spawned.is_err() {
                    self.rebuild.store(true, Ordering::Release);
                }
            }
        });
        subscribed.load(Ordering::Acquire) == nodes.len()
    }

    /// The servers to follow now: the one the store connects to, or each primary of a
    /// cluster with a heartbeat hash tag of one of its slots. None while a cluster has a
    /// primary that serves no slot: slots may be moving to it, and it would take writes
    /// for them that no heartbeat of ours can vouch for.
    fn nodes_now(&self) -> Result<Vec<Node>, Broken> {
        if !self.link.is_cluster() {
            return Ok(vec![Node::new(None, self.heartbeat.clone())]);
        }
        let (mut conn, host) = self.link.connect_seed()?;
        if idle_primary(&mut conn)? {
            return Err("a primary serves no slot yet".into());
        }
        let mut nodes = Vec::new();
        for primary in cluster_primaries(&mut conn, &host)? {
            let tag = heartbeat_tag(|slot| primary.serves(slot))
                .ok_or("a primary serves no slot a heartbeat can use")?;
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
        // Not when another node's follower has stopped already: the link is being rebuilt.
        if subscribed.fetch_add(1, Ordering::AcqRel) + 1 == nodes.len()
            && !self.rebuild.load(Ordering::Acquire)
        {
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

/// The hash slot of a key that is its own hash tag, as Redis computes it.
fn slot_of(tag: &str) -> i64 {
    i64::from(crc16::State::<crc16::XMODEM>::calculate(tag.as_bytes()) % SLOTS)
}

/// A hash tag (`hb<n>`) whose slot `serves` accepts.
fn heartbeat_tag(serves: impl Fn(i64) -> bool) -> Option<String> {
    (0..TAGS_MAX)
        .map(|n| format!("hb{n}"))
        .find(|tag| serves(slot_of(tag)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_the_ones_redis_computes() {
        // From the Redis Cluster specification and `CLUSTER KEYSLOT`.
        assert_eq!(slot_of("123456789"), 0x31C3);
        assert_eq!(slot_of("foo"), 12_182);
        assert_eq!(slot_of("somekey"), 11_058);
    }

    #[test]
    fn a_heartbeat_tag_reaches_every_slot() {
        let mut reached = vec![false; usize::from(SLOTS)];
        let mut left = reached.len();
        for n in 0..TAGS_MAX {
            let slot = slot_of(&format!("hb{n}")) as usize;
            if !reached[slot] {
                reached[slot] = true;
                left -= 1;
                if left == 0 {
                    break;
                }
            }
        }
        assert_eq!(left, 0, "slots no heartbeat tag reaches");
        assert_eq!(heartbeat_tag(|s| s == 0).map(|t| slot_of(&t)), Some(0));
    }
}
