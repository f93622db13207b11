//! Connections to the Redis deployment a URL names ([`Topology`]): one server, the primary
//! that sentinels point at, or a cluster. Every connect, read and write is bounded by the
//! store's timeout; TLS always verifies the server's certificate (against the configured CA,
//! or the system's roots), and can present a client certificate.
//!
//! Sentinel discovery is done here rather than with redis-rs's Sentinel client, whose sync
//! connections have no timeouts: a sentinel that hangs must fail the call closed, not hang it.

use std::time::Duration;

use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConnection};
use redis::{
    Client, ClientTlsConfig, Cmd, Connection, ConnectionLike, RedisResult, TlsCertificates,
    TlsMode, Value,
};

use super::codec::unavailable;
use super::topology::{Node as Seed, NodeUrls, Topology};
use crate::error::{Error, Result};

/// Redirections (MOVED, ASK) and TRYAGAIN during a slot migration a cluster call follows
/// before it fails closed.
const CLUSTER_RETRIES: u32 = 12;

/// TLS files, as config names them: paths to PEM files.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    /// The CA that signed the server's certificate (else the system's roots).
    pub ca: Option<String>,
    /// A client certificate (chain) for mutual TLS.
    pub cert: Option<String>,
    /// Its private key.
    pub key: Option<String>,
}

impl TlsFiles {
    fn any(&self) -> bool {
        self.ca.is_some() || self.cert.is_some() || self.key.is_some()
    }

    /// The files read, or a config error naming the setting.
    fn load(&self) -> Result<Option<TlsCertificates>> {
        if !self.any() {
            return Ok(None);
        }
        // A file without the PEM block expected would fail only at the first connect.
        let read = |name: &str, path: &str, block: &str| {
            let pem = std::fs::read(path)
                .map_err(|e| Error::Config(format!("{name}: cannot read '{path}' ({e})")))?;
            if !String::from_utf8_lossy(&pem).contains(block) {
                return Err(Error::Config(format!(
                    "{name}: '{path}' holds no PEM {block} block"
                )));
            }
            Ok(pem)
        };
        let client_tls = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => Some(ClientTlsConfig {
                client_cert: read("store_tls_cert", cert, "CERTIFICATE")?,
                client_key: read("store_tls_key", key, "PRIVATE KEY")?,
            }),
            (None, None) => None,
            _ => {
                return Err(Error::Config(
                    "store_tls_cert and store_tls_key go together (mutual TLS)".into(),
                ))
            }
        };
        let root_cert = match &self.ca {
            Some(ca) => Some(read("store_tls_ca", ca, "CERTIFICATE")?),
            None => None,
        };
        let certs = TlsCertificates {
            client_tls,
            root_cert,
        };
        // Parse now, so a bad file is a config error at startup rather than a failure later.
        Client::build_with_tls("rediss://127.0.0.1:1", certs.clone()).map_err(|e| {
            Error::Config(format!(
                "store_tls_ca / store_tls_cert / store_tls_key: not usable PEM ({e})"
            ))
        })?;
        Ok(Some(certs))
    }
}

/// One connection: to a single server, or a cluster connection (one socket per node).
pub(super) enum Conn {
    Node(Connection),
    Cluster(Box<ClusterConnection>),
}

impl ConnectionLike for Conn {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        match self {
            Conn::Node(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        match self {
            Conn::Node(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn req_command(&mut self, cmd: &Cmd) -> RedisResult<Value> {
        match self {
            Conn::Node(c) => c.req_command(cmd),
            Conn::Cluster(c) => c.req_command(cmd),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Node(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }

    fn supports_pipelining(&self) -> bool {
        match self {
            Conn::Node(c) => c.supports_pipelining(),
            Conn::Cluster(c) => c.supports_pipelining(),
        }
    }

    fn check_connection(&mut self) -> bool {
        match self {
            Conn::Node(c) => c.check_connection(),
            Conn::Cluster(c) => c.check_connection(),
        }
    }

    fn is_open(&self) -> bool {
        match self {
            Conn::Node(c) => c.is_open(),
            Conn::Cluster(c) => c.is_open(),
        }
    }
}

enum Target {
    Single(Client),
    Sentinel {
        sentinels: Vec<Client>,
        master: String,
        db: i64,
        data: NodeUrls,
        certs: Option<TlsCertificates>,
    },
    Cluster {
        client: Box<ClusterClient>,
        /// The nodes the URL names, to ask about the others.
        seeds: Vec<Seed>,
        data: NodeUrls,
        certs: Option<TlsCertificates>,
    },
}

/// How to reach the deployment; connects on demand.
pub(super) struct Link {
    target: Target,
    shown: String,
    timeout: Duration,
}

fn client(url: &str, certs: &Option<TlsCertificates>) -> RedisResult<Client> {
    match certs {
        Some(c) => Client::build_with_tls(url, c.clone()),
        None => Client::open(url),
    }
}

fn bad_url(e: redis::RedisError) -> Error {
    Error::Config(format!("store: invalid Redis URL ({e})"))
}

impl Link {
    /// Check the URL and the TLS files; connects nothing.
    pub fn open(url: &str, tls: &TlsFiles, timeout: Duration) -> Result<Link> {
        let topology = Topology::parse(url)?;
        if tls.any() && !topology.tls() {
            return Err(Error::Config(
                "store_tls_ca, store_tls_cert and store_tls_key need a TLS URL (rediss://, \
                 rediss+sentinel://, rediss+cluster://)"
                    .into(),
            ));
        }
        let certs = tls.load()?;
        let shown = topology.describe();
        let target = match topology {
            Topology::Single { url } => Target::Single(client(&url, &certs).map_err(bad_url)?),
            Topology::Sentinel {
                sentinels,
                master,
                db,
                data,
            } => Target::Sentinel {
                sentinels: sentinels
                    .iter()
                    .map(|s| client(&data.sentinel(s), &certs))
                    .collect::<RedisResult<_>>()
                    .map_err(bad_url)?,
                master,
                db,
                data,
                certs,
            },
            Topology::Cluster { seeds, data } => {
                let urls: Vec<String> = seeds
                    .iter()
                    .map(|s| data.data(&s.host, s.port, 0))
                    .collect();
                let mut builder = ClusterClientBuilder::new(urls)
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .retries(CLUSTER_RETRIES);
                if data.tls {
                    builder = builder.tls(TlsMode::Secure);
                }
                if let Some(c) = &certs {
                    builder = builder.certs(c.clone());
                }
                Target::Cluster {
                    client: Box::new(builder.build().map_err(bad_url)?),
                    seeds,
                    data,
                    certs,
                }
            }
        };
        Ok(Link {
            target,
            shown,
            timeout,
        })
    }

    /// Where it points, without credentials.
    pub fn describe(&self) -> &str {
        &self.shown
    }

    /// Whether keys of different slots may not meet in one script.
    pub fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster { .. })
    }

    /// A new connection, bounded by the timeout.
    pub fn connect(&self) -> Result<Conn> {
        match &self.target {
            Target::Single(client) => Ok(Conn::Node(self.node(client).map_err(unavailable)?)),
            Target::Sentinel {
                sentinels,
                master,
                db,
                data,
                certs,
            } => self
                .primary(sentinels, master, *db, data, certs)
                .map(Conn::Node),
            Target::Cluster { client, .. } => {
                let conn = client.get_connection().map_err(unavailable)?;
                conn.set_read_timeout(Some(self.timeout))
                    .and_then(|()| conn.set_write_timeout(Some(self.timeout)))
                    .map_err(unavailable)?;
                Ok(Conn::Cluster(Box::new(conn)))
            }
        }
    }

    fn node(&self, client: &Client) -> RedisResult<Connection> {
        let conn = client.get_connection_with_timeout(self.timeout)?;
        conn.set_read_timeout(Some(self.timeout))?;
        conn.set_write_timeout(Some(self.timeout))?;
        Ok(conn)
    }

    /// Ask each sentinel in turn where the primary is, and connect to it once it says it is
    /// a primary (during a failover the sentinels may still name the old one).
    fn primary(
        &self,
        sentinels: &[Client],
        master: &str,
        db: i64,
        data: &NodeUrls,
        certs: &Option<TlsCertificates>,
    ) -> Result<Connection> {
        let mut last = None;
        for sentinel in sentinels {
            let answer = self.node(sentinel).and_then(|mut c| {
                redis::cmd("SENTINEL")
                    .arg("get-master-addr-by-name")
                    .arg(master)
                    .query::<Option<(String, u16)>>(&mut c)
            });
            let (host, port) = match answer {
                Ok(Some(addr)) => addr,
                Ok(None) => {
                    last = Some(Error::StoreUnavailable(format!(
                        "the sentinels know no master set '{master}'"
                    )));
                    continue;
                }
                Err(e) => {
                    last = Some(unavailable(e));
                    continue;
                }
            };
            let conn = client(&data.data(&host, port, db), certs)
                .and_then(|c| self.node(&c))
                .and_then(|mut conn| Ok((is_primary(&mut conn)?, conn)));
            match conn {
                Ok((true, conn)) => return Ok(conn),
                Ok((false, _)) => {
                    last = Some(Error::StoreUnavailable(format!(
                        "the server the sentinels name for '{master}' is not a primary (a \
                         failover is under way)"
                    )))
                }
                Err(e) => last = Some(unavailable(e)),
            }
        }
        Err(last.unwrap_or_else(|| Error::StoreUnavailable("no sentinel answered".into())))
    }

    /// One plain connection per primary of a cluster (for SCAN, which walks one node at a
    /// time); none for the other topologies.
    pub fn primaries(&self) -> RedisResult<Vec<Connection>> {
        if !self.is_cluster() {
            return Ok(Vec::new());
        }
        let (mut seed, host) = self.connect_seed()?;
        cluster_primaries(&mut seed, &host)?
            .iter()
            .map(|p| self.connect_primary(p))
            .collect()
    }

    /// A plain connection to the first seed of a cluster that answers, and its host.
    pub fn connect_seed(&self) -> RedisResult<(Connection, String)> {
        let Target::Cluster {
            seeds, data, certs, ..
        } = &self.target
        else {
            return Err(not_a_cluster());
        };
        let mut last = not_a_cluster();
        for seed in seeds {
            match client(&data.data(&seed.host, seed.port, 0), certs).and_then(|c| self.node(&c)) {
                Ok(conn) => return Ok((conn, seed.host.clone())),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// A plain connection to one primary of the cluster (the cluster's TLS settings).
    pub fn connect_primary(&self, primary: &Primary) -> RedisResult<Connection> {
        let Target::Cluster { data, certs, .. } = &self.target else {
            return Err(not_a_cluster());
        };
        client(&data.data(&primary.host, primary.port, 0), certs).and_then(|c| self.node(&c))
    }
}

fn not_a_cluster() -> redis::RedisError {
    redis::RedisError::from((redis::ErrorKind::Client, "not a cluster"))
}

/// A primary of a cluster and the slots it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Primary {
    pub host: String,
    pub port: u16,
    /// Inclusive ranges.
    pub slots: Vec<(i64, i64)>,
}

impl Primary {
    pub fn serves(&self, slot: i64) -> bool {
        self.slots.iter().any(|(a, b)| (*a..=*b).contains(&slot))
    }
}

/// Whether the cluster, as the node asked sees it, has a primary that serves no slot: one
/// just added, that slots may be moving to (it takes writes for them while they move).
pub(super) fn idle_primary(conn: &mut dyn ConnectionLike) -> RedisResult<bool> {
    let nodes: String = redis::cmd("CLUSTER").arg("NODES").query(conn)?;
    Ok(nodes.lines().any(primary_without_slots))
}

/// One line of `CLUSTER NODES`: `<id> <addr> <flags> <primary> <ping> <pong> <epoch>
/// <link> <slot>...`, where a slot field in brackets is a migration, not a slot served.
fn primary_without_slots(line: &str) -> bool {
    let fields: Vec<&str> = line.split(' ').collect();
    let Some(flags) = fields.get(2) else {
        return false;
    };
    let flags: Vec<&str> = flags.split(',').collect();
    // A failed primary (its slots taken over) or one not joined yet takes no writes.
    let live_primary = flags.contains(&"master")
        && !flags
            .iter()
            .any(|f| ["fail", "handshake", "noaddr"].contains(f));
    live_primary && !fields.iter().skip(8).any(|f| !f.starts_with('['))
}

/// The cluster's primaries, from `CLUSTER SLOTS` asked of one of its nodes, at `host`: a
/// node that does not know its own address (a cluster of one) names it `""` or `"?"`,
/// meaning the address the question was sent to.
pub(super) fn cluster_primaries(
    conn: &mut dyn ConnectionLike,
    host: &str,
) -> RedisResult<Vec<Primary>> {
    let ranges: Vec<Value> = redis::cmd("CLUSTER").arg("SLOTS").query(conn)?;
    // A range not understood fails the whole answer: a primary left out would go unheard.
    let unreadable = || redis::RedisError::from((redis::ErrorKind::Parse, "CLUSTER SLOTS"));
    let mut primaries: Vec<Primary> = Vec::new();
    for range in ranges {
        // [start, end, [host, port, id, ...], replicas...]
        let Value::Array(fields) = range else {
            return Err(unreadable());
        };
        let (Some(Value::Int(start)), Some(Value::Int(end)), Some(Value::Array(primary))) =
            (fields.first(), fields.get(1), fields.get(2))
        else {
            return Err(unreadable());
        };
        let host = match primary.first() {
            Some(Value::BulkString(h)) if h.is_empty() || h == b"?" => host.to_owned(),
            Some(Value::BulkString(h)) => String::from_utf8_lossy(h).into_owned(),
            _ => return Err(unreadable()),
        };
        let port = match primary.get(1) {
            Some(Value::Int(port)) => u16::try_from(*port).map_err(|_| unreadable())?,
            _ => return Err(unreadable()),
        };
        match primaries
            .iter_mut()
            .find(|p| p.host == host && p.port == port)
        {
            Some(p) => p.slots.push((*start, *end)),
            None => primaries.push(Primary {
                host,
                port,
                slots: vec![(*start, *end)],
            }),
        }
    }
    Ok(primaries)
}

fn is_primary(conn: &mut Connection) -> RedisResult<bool> {
    let role: Vec<Value> = redis::cmd("ROLE").query(conn)?;
    Ok(matches!(role.first(), Some(Value::BulkString(r)) if r == b"master"))
}

#[cfg(test)]
mod tests {
    use super::primary_without_slots;

    #[test]
    fn a_primary_without_slots_is_told_from_others_in_cluster_nodes() {
        let serving = "07c3 127.0.0.1:30004@31004 myself,master - 0 0 1 connected 0-5460";
        let importing = "e7d1 127.0.0.1:30007@31007 master - 0 0 7 connected [77-<-07c3]";
        let empty = "e7d1 127.0.0.1:30007@31007 master - 0 1 7 connected";
        let failed = "67ed 127.0.0.1:30002@31002 master,fail - 0 0 2 disconnected";
        let replica = "6ec2 127.0.0.1:30005@31005 slave 07c3 0 0 1 connected";
        assert!(!primary_without_slots(serving));
        assert!(primary_without_slots(importing));
        assert!(primary_without_slots(empty));
        assert!(!primary_without_slots(failed));
        assert!(!primary_without_slots(replica));
        assert!(!primary_without_slots(""));
    }
}
