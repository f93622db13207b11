//! Which Redis deployment a `store` URL names. One server keeps redis-rs's own URL forms
//! (`redis://`, `rediss://`, `redis+unix://`, `unix://`); Sentinel and Cluster list their
//! nodes in the authority:
//!
//! - `redis+sentinel://[user:password@]host:port[,host:port...]/master-set[/db]`: the
//!   sentinels to ask, the master set they watch, the database on the primary;
//! - `redis+cluster://[user:password@]host:port[,host:port...]`: seed nodes of a cluster.
//!
//! `rediss+sentinel://` and `rediss+cluster://` speak TLS to every node (sentinels included).
//! Credentials are for the data nodes (primary, cluster nodes), not for the sentinels.

use crate::error::{Error, Result};

const SENTINEL_PORT: u16 = 26379;
const REDIS_PORT: u16 = 6379;

/// What the URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Topology {
    /// One server; the URL as given.
    Single { url: String },
    /// A primary found through sentinels.
    Sentinel {
        sentinels: Vec<Node>,
        master: String,
        db: i64,
        data: NodeUrls,
    },
    /// A cluster, found from its seeds.
    Cluster { seeds: Vec<Node>, data: NodeUrls },
}

/// A host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Node {
    pub host: String,
    pub port: u16,
}

/// How to spell the URL of one data node: scheme and credentials of the URL given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NodeUrls {
    pub tls: bool,
    /// `user:password` as written in the URL (still percent-encoded).
    userinfo: Option<String>,
}

impl NodeUrls {
    fn scheme(&self) -> &'static str {
        if self.tls {
            "rediss"
        } else {
            "redis"
        }
    }

    /// A data node's URL, with the credentials.
    pub fn data(&self, host: &str, port: u16, db: i64) -> String {
        let auth = self
            .userinfo
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        format!("{}://{auth}{}/{db}", self.scheme(), authority(host, port))
    }

    /// A sentinel's URL: same transport, no credentials.
    pub fn sentinel(&self, node: &Node) -> String {
        format!("{}://{}", self.scheme(), authority(&node.host, node.port))
    }
}

/// `host:port`, with brackets around an IPv6 address.
fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn invalid(why: &str) -> Error {
    Error::Config(format!("store: invalid Redis URL ({why})"))
}

impl Topology {
    /// Parse a `store` URL. Errors never echo the URL, which may hold a password.
    pub fn parse(url: &str) -> Result<Topology> {
        if url.contains('#') {
            // redis-rs reads `#insecure` as "skip certificate checks": never allowed here.
            return Err(invalid("a fragment such as #insecure is not accepted"));
        }
        let (rest, tls, cluster) = if let Some(r) = url.strip_prefix("redis+sentinel://") {
            (r, false, false)
        } else if let Some(r) = url.strip_prefix("rediss+sentinel://") {
            (r, true, false)
        } else if let Some(r) = url.strip_prefix("redis+cluster://") {
            (r, false, true)
        } else if let Some(r) = url.strip_prefix("rediss+cluster://") {
            (r, true, true)
        } else {
            return Ok(Topology::Single {
                url: url.to_owned(),
            });
        };
        if rest.contains('?') {
            return Err(invalid("query parameters are not accepted here"));
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_owned()), h),
            None => (None, authority),
        };
        let default_port = if cluster { REDIS_PORT } else { SENTINEL_PORT };
        let nodes = hosts
            .split(',')
            .map(|h| parse_node(h, default_port))
            .collect::<Result<Vec<_>>>()?;
        let data = NodeUrls { tls, userinfo };
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if cluster {
            if !matches!(segments.as_slice(), [] | ["0"]) {
                return Err(invalid("a cluster has only database 0"));
            }
            return Ok(Topology::Cluster { seeds: nodes, data });
        }
        let (master, db) = match segments.as_slice() {
            [master] => (master, 0),
            [master, db] => (
                master,
                db.parse::<i64>()
                    .ok()
                    .filter(|d| *d >= 0)
                    .ok_or_else(|| invalid("the database must be a number"))?,
            ),
            _ => {
                return Err(invalid(
                    "expected /master-set or /master-set/db after the sentinels",
                ))
            }
        };
        Ok(Topology::Sentinel {
            sentinels: nodes,
            master: (*master).to_owned(),
            db,
            data,
        })
    }

    /// Whether every connection speaks TLS.
    pub fn tls(&self) -> bool {
        match self {
            Topology::Single { url } => url.starts_with("rediss://"),
            Topology::Sentinel { data, .. } | Topology::Cluster { data, .. } => data.tls,
        }
    }

    /// Where it points, without credentials (for `Debug`).
    pub fn describe(&self) -> String {
        let list = |nodes: &[Node]| {
            nodes
                .iter()
                .map(|n| authority(&n.host, n.port))
                .collect::<Vec<_>>()
                .join(",")
        };
        match self {
            Topology::Single { url } => url
                .rsplit_once('@')
                .map(|(_, rest)| rest.to_owned())
                .unwrap_or_else(|| url.split_once("://").map_or("", |(_, r)| r).to_owned()),
            Topology::Sentinel {
                sentinels, master, ..
            } => format!("sentinel {} master {master}", list(sentinels)),
            Topology::Cluster { seeds, .. } => format!("cluster {}", list(seeds)),
        }
    }
}

fn parse_node(text: &str, default_port: u16) -> Result<Node> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| invalid("an IPv6 address needs its closing ']'"))?;
        (host, after.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err(invalid("every node needs a host"));
    }
    let port = match port {
        None => default_port,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| invalid("a port must be a number from 1 to 65535"))?,
    };
    Ok(Node {
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(host: &str, port: u16) -> Node {
        Node {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn sentinel_urls_name_sentinels_master_and_db() {
        let t = Topology::parse("redis+sentinel://:pw@h1:26380,h2,[::1]:26381/mymaster/2").unwrap();
        let Topology::Sentinel {
            sentinels,
            master,
            db,
            data,
        } = t
        else {
            panic!("not a sentinel topology")
        };
        assert_eq!(
            sentinels,
            vec![node("h1", 26380), node("h2", 26379), node("::1", 26381)]
        );
        assert_eq!((master.as_str(), db), ("mymaster", 2));
        assert_eq!(
            data.data("10.0.0.5", 6379, 2),
            "redis://:pw@10.0.0.5:6379/2"
        );
        assert_eq!(data.sentinel(&node("::1", 26381)), "redis://[::1]:26381");
        let t = Topology::parse("rediss+sentinel://h1/mymaster").unwrap();
        assert!(t.tls());
        assert_eq!(t.describe(), "sentinel h1:26379 master mymaster");
    }

    #[test]
    fn cluster_urls_list_seeds() {
        let t = Topology::parse("rediss+cluster://u:p@a:7000,b:7001/0").unwrap();
        assert!(t.tls());
        assert_eq!(t.describe(), "cluster a:7000,b:7001");
        let Topology::Cluster { seeds, data } = t else {
            panic!("not a cluster")
        };
        assert_eq!(seeds, vec![node("a", 7000), node("b", 7001)]);
        assert_eq!(data.data("a", 7000, 0), "rediss://u:p@a:7000/0");
    }

    #[test]
    fn bad_urls_are_config_errors_without_the_password() {
        for url in [
            "redis+sentinel://:secret@h1:26379",
            "redis+sentinel://:secret@h1:26379/m/x",
            "redis+sentinel://:secret@h1:26379/m/1/2",
            "redis+sentinel://:secret@h1:notaport/m",
            "redis+sentinel://:secret@,h2/m",
            "redis+cluster://:secret@h1:7000/3",
            "redis+cluster://:secret@[::1:7000",
            "rediss://:secret@h1:6379/0#insecure",
            "redis+cluster://:secret@h1:7000?x=1",
        ] {
            let err = Topology::parse(url).unwrap_err();
            assert!(matches!(&err, Error::Config(_)), "{url}: {err}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }

    #[test]
    fn single_server_urls_pass_through() {
        let t = Topology::parse("rediss://:pw@cache.example:6380/1").unwrap();
        assert!(t.tls());
        assert_eq!(t.describe(), "cache.example:6380/1");
        assert!(!Topology::parse("redis://h/0").unwrap().tls());
    }
}
