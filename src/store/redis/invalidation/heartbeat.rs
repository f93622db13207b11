//! The heartbeat thread: every `HEARTBEAT_EVERY`, while the link is up, write a heartbeat
//! key to each server the link follows; ask for a rebuild when confirmations stop coming
//! or a cluster's primaries change (one fails over, one is added: asked of a different
//! primary at each beat, so that no one node answers every process's questions).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use redis::Connection;

use super::{Broken, Node, Shared, HEARTBEAT_EVERY, LAG_BOUND};
use crate::store::redis::link::{cluster_primaries, idle_primary};

/// Unconfirmed heartbeats kept per server (older ones can no longer matter).
const SENT_KEPT: usize = 64;

impl Shared {
    pub(super) fn beat(self: Arc<Self>) {
        // One connection per node, and the link's epoch they were made under: a rebuilt
        // link (after a failover, on other servers) gets heartbeat connections of its own.
        let mut conns: Vec<Option<Connection>> = Vec::new();
        let mut conns_epoch = 0;
        let mut seq: u64 = 0;
        while !self.stop.load(Ordering::Acquire) {
            std::thread::sleep(HEARTBEAT_EVERY);
            let epoch = self.epoch.load(Ordering::Acquire);
            if epoch % 2 == 0 {
                conns.clear();
                continue;
            }
            let nodes = self.nodes.lock().clone();
            if conns_epoch != epoch || conns.len() != nodes.len() {
                conns = nodes.iter().map(|_| None).collect();
                conns_epoch = epoch;
            }
            let asked = (seq as usize) % nodes.len().max(1);
            if !self.serving() || self.primaries_changed(&nodes, asked, &mut conns) {
                // Fallen behind, or a server may be writing sessions unheard: stop trusting
                // the cache and rebuild the link.
                self.rebuild.store(true, Ordering::Release);
                self.link_down();
                continue;
            }
            seq += 1;
            for (node, conn) in nodes.iter().zip(conns.iter_mut()) {
                {
                    let mut sent = node.sent.lock();
                    if sent.len() >= SENT_KEPT {
                        sent.pop_front();
                    }
                    sent.push_back((seq, Instant::now()));
                }
                if self.send_heartbeat(node, conn, seq).is_err() {
                    *conn = None;
                }
            }
        }
    }

    fn send_heartbeat(
        &self,
        node: &Node,
        conn: &mut Option<Connection>,
        seq: u64,
    ) -> Result<(), Broken> {
        if conn.is_none() {
            *conn = Some(node.connect(&self.link)?);
        }
        let Some(c) = conn.as_mut() else {
            return Ok(());
        };
        // Gone by itself soon after: only its invalidation matters.
        redis::cmd("SET")
            .arg(format!("{}{seq}", node.heartbeat))
            .arg(1)
            .arg("PX")
            .arg(LAG_BOUND.as_millis() as u64 * 4)
            .exec(c)?;
        Ok(())
    }

    /// Whether a cluster's primaries are no longer the ones the link follows (a failover,
    /// or a primary added, even before it serves a slot): asked of node `asked` on its
    /// heartbeat connection. A server that cannot be asked counts as a change.
    fn primaries_changed(
        &self,
        nodes: &[Node],
        asked: usize,
        conns: &mut [Option<Connection>],
    ) -> bool {
        let (Some(node), Some(conn)) = (nodes.get(asked), conns.get_mut(asked)) else {
            return true;
        };
        let Some(primary) = &node.primary else {
            return false;
        };
        if conn.is_none() {
            *conn = node.connect(&self.link).ok();
        }
        let Some(c) = conn.as_mut() else {
            return true;
        };
        let (Ok(now), Ok(idle)) = (cluster_primaries(c, &primary.host), idle_primary(c)) else {
            *conn = None;
            return true;
        };
        idle || now.len() != nodes.len()
            || now.iter().any(|p| {
                !nodes
                    .iter()
                    .filter_map(|n| n.primary.as_ref())
                    .any(|q| (&q.host, q.port) == (&p.host, p.port))
            })
    }
}
