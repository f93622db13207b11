//! Redis deployments a test owns (to kill, freeze or fail over): servers on free loopback
//! ports in temporary directories, each killed when dropped. `KEYFOB_TEST_REDIS_SERVER`
//! names the redis-server binary (scripts/test-redis.sh sets it).
#![allow(dead_code)] // each test binary uses a different subset

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One redis-server (or sentinel) process, killed on drop.
pub struct Proc {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    args: Vec<String>,
}

impl Proc {
    /// Start `redis-server ARGS --port PORT` in a directory of its own, and wait until it
    /// answers PING.
    pub fn start(args: &[&str]) -> Proc {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("keyfob-redis-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut p = Proc {
            child: None,
            port,
            dir,
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        p.restart();
        p
    }

    pub fn dir(&self) -> &PathBuf {
        &self.dir
    }

    /// (Re)start on the same port and directory.
    pub fn restart(&mut self) {
        let bin = std::env::var("KEYFOB_TEST_REDIS_SERVER").unwrap_or("redis-server".into());
        let child = Command::new(bin)
            .args(&self.args)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (install it, or run scripts/test-redis.sh)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.ping().is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// A connection for the test itself (it fails the test if the server does not answer).
    pub fn admin(&self) -> redis::Connection {
        self.conn().expect("an admin connection")
    }

    pub fn conn(&self) -> redis::RedisResult<redis::Connection> {
        let c = redis::Client::open(format!("redis://127.0.0.1:{}/0", self.port))?
            .get_connection_with_timeout(Duration::from_millis(500))?;
        c.set_read_timeout(Some(Duration::from_secs(5)))?;
        Ok(c)
    }

    fn ping(&self) -> redis::RedisResult<String> {
        redis::cmd("PING").query(&mut self.conn()?)
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().ok();
            c.wait().ok();
        }
    }

    /// Send a signal (`-STOP`, `-CONT`) to the process.
    pub fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        assert!(Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success());
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_ref() {
            // A frozen server must be thawed to die promptly.
            Command::new("kill")
                .args(["-CONT", &c.id().to_string()])
                .status()
                .ok();
        }
        self.kill();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// A primary, one replica and three sentinels watching them as `keyfob` (quorum 2, a
/// primary is down after one second without answers).
pub struct SentinelGroup {
    pub primary: Proc,
    pub replica: Proc,
    pub sentinels: Vec<Proc>,
}

const EPHEMERAL: [&str; 4] = ["--save", "", "--appendonly", "no"];

impl SentinelGroup {
    pub fn start() -> SentinelGroup {
        let primary = Proc::start(&EPHEMERAL);
        let of = primary.port.to_string();
        let mut args = EPHEMERAL.to_vec();
        args.extend(["--replicaof", "127.0.0.1", &of]);
        let replica = Proc::start(&args);
        let sentinels = (0..3)
            .map(|i| {
                // Each sentinel rewrites its own config file.
                let conf = primary.dir().join(format!("sentinel-{i}.conf"));
                std::fs::write(
                    &conf,
                    format!(
                        "sentinel monitor keyfob 127.0.0.1 {} 2\n\
                         sentinel down-after-milliseconds keyfob 1000\n\
                         sentinel failover-timeout keyfob 5000\n",
                        primary.port
                    ),
                )
                .unwrap();
                Proc::start(&[conf.to_str().unwrap(), "--sentinel"])
            })
            .collect();
        let g = SentinelGroup {
            primary,
            replica,
            sentinels,
        };
        g.wait_until_replicated();
        g
    }

    pub fn url(&self) -> String {
        let list: Vec<String> = self
            .sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect();
        format!("redis+sentinel://{}/keyfob/0", list.join(","))
    }

    /// Until the replica is in sync and every sentinel knows it.
    fn wait_until_replicated(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let synced = self
                .replica
                .conn()
                .and_then(|mut c| {
                    redis::cmd("INFO")
                        .arg("replication")
                        .query::<String>(&mut c)
                })
                .is_ok_and(|info| info.contains("master_link_status:up"));
            let known = self.sentinels.iter().all(|s| {
                s.conn()
                    .and_then(|mut c| {
                        redis::cmd("SENTINEL")
                            .arg("replicas")
                            .arg("keyfob")
                            .query::<Vec<redis::Value>>(&mut c)
                    })
                    .is_ok_and(|r| !r.is_empty())
            });
            if synced && known {
                return;
            }
            assert!(Instant::now() < deadline, "the sentinel group did not form");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The port every sentinel names as the primary, once they all agree.
    pub fn agreed_primary(&self) -> Option<u16> {
        let mut ports = self.sentinels.iter().map(|s| {
            s.conn()
                .and_then(|mut c| {
                    redis::cmd("SENTINEL")
                        .arg("get-master-addr-by-name")
                        .arg("keyfob")
                        .query::<(String, u16)>(&mut c)
                })
                .ok()
                .map(|(_, p)| p)
        });
        let first = ports.next()??;
        ports.all(|p| p == Some(first)).then_some(first)
    }
}
