//! The Redis store on a Redis Cluster (feature `redis`): the store conformance suite on the
//! three-primary cluster that scripts/test-redis.sh creates, the key layout (a user's keys
//! in one slot), `revoke_user` catching a login between its two steps (also after a listing
//! that found it there), and a live slot migration under a load of logins, validates and
//! refreshes that loses nothing and forks no refresh chain.
#![cfg(feature = "redis")]

mod conformance;

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use keyfob::store::{RedisStore, SessionStore};
use keyfob::{Clock, Config, Engine, Error};

use conformance::{clock, config, engine, fresh_namespace, sid_of, Backend};

fn cluster_url() -> String {
    std::env::var("KEYFOB_TEST_REDIS_CLUSTER_URL")
        .expect("KEYFOB_TEST_REDIS_CLUSTER_URL is not set: run `bash scripts/test-redis.sh`")
}

/// The cluster nodes' ports, from the URL.
fn node_ports() -> Vec<u16> {
    cluster_url()
        .trim_start_matches("redis+cluster://")
        .split(',')
        .map(|n| n.rsplit(':').next().unwrap().parse().unwrap())
        .collect()
}

fn cluster_config(namespace: &str) -> Config {
    let mut cfg = config();
    cfg.store = cluster_url();
    cfg.store_prefix = namespace.to_owned();
    cfg.store_timeout_ms = 5_000;
    cfg
}

struct Cluster;

impl Backend for Cluster {
    fn store(&self, namespace: &str) -> Arc<dyn SessionStore> {
        Arc::new(RedisStore::from_config(&cluster_config(namespace)).unwrap())
    }
}

conformance::mount!(cluster, Cluster);

fn node(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/0"))
        .unwrap()
        .get_connection()
        .unwrap()
}

fn cluster_conn() -> redis::cluster::ClusterConnection {
    let seeds: Vec<String> = node_ports()
        .iter()
        .map(|p| format!("redis://127.0.0.1:{p}"))
        .collect();
    redis::cluster::ClusterClient::new(seeds)
        .unwrap()
        .get_connection()
        .unwrap()
}

fn slot(key: &str) -> i64 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(&mut node(node_ports()[0]))
        .unwrap()
}

#[test]
fn a_users_keys_share_one_slot_and_sessions_spread() {
    let ns = fresh_namespace("slots");
    // (An empty user id has no tag, but revoke_user refuses it, and no other script
    // touches two of a user's keys.)
    for user in ["alice", "bob{x}", "c}d", "{"] {
        assert_eq!(
            slot(&format!("{ns}u:{{{user}}}")),
            slot(&format!("{ns}e:{{{user}}}")),
            "{user:?}"
        );
    }
    assert_ne!(
        slot(&format!("{ns}u:{{alice}}")),
        slot(&format!("{ns}u:{{bob}}"))
    );
    let mut cfg = cluster_config(&ns);
    cfg.store_prefix = "app{1}:".into();
    assert!(
        matches!(Engine::new(cfg), Err(Error::Config(_))),
        "a brace in the prefix"
    );
}

/// A login writes the user's index, then its session. A revoke_user between the two finds
/// the sid in the index without a session: the session is then born revoked.
#[test]
fn revoke_user_revokes_a_login_caught_between_its_two_steps() {
    let ns = fresh_namespace("between");
    let clock = clock();
    let store = Cluster.store(&ns);
    let e = engine(store.clone(), config(), &clock);
    let pair = e.login("hugo", None).unwrap();
    let sid = sid_of(&e, &pair.access);
    let session = store.get(sid).unwrap().expect("stored");
    // As if the second step had not happened yet.
    let _: i64 = redis::cmd("DEL")
        .arg(format!("{ns}s:{{{sid}}}"))
        .query(&mut cluster_conn())
        .unwrap();
    assert_eq!(e.revoke_user("hugo"), Ok(0), "nothing live yet");
    assert_eq!(store.get(sid), Ok(None), "the mark is not a session");
    store.create(session, clock.now()).unwrap(); // the second step, late
    assert_eq!(e.validate(&pair.access), Err(Error::Revoked));
    assert_eq!(
        e.refresh(pair.refresh.as_deref().unwrap()),
        Err(Error::Revoked)
    );
    let after = e.login("hugo", None).unwrap();
    assert!(
        e.validate(&after.access).is_ok(),
        "a later login is a new session"
    );
}

/// Listing reads the index in the user's slot, then each session in its own. A login
/// caught between its two steps is not listed, and stays in the index, so a revoke_user
/// after the listing still reaches it.
#[test]
fn listing_keeps_a_login_caught_between_its_two_steps_in_the_index() {
    let ns = fresh_namespace("listing");
    let clock = clock();
    let store = Cluster.store(&ns);
    let e = engine(store.clone(), config(), &clock);
    let pair = e.login("ines", None).unwrap();
    let sid = sid_of(&e, &pair.access);
    let session = store.get(sid).unwrap().expect("stored");
    let mut conn = cluster_conn();
    // As if the second step had not happened yet.
    let _: i64 = redis::cmd("DEL")
        .arg(format!("{ns}s:{{{sid}}}"))
        .query(&mut conn)
        .unwrap();
    assert_eq!(
        e.sessions("ines").map(|l| l.len()),
        Ok(0),
        "not written yet"
    );
    let score: Option<i64> = redis::cmd("ZSCORE")
        .arg(format!("{ns}u:{{ines}}"))
        .arg(sid.to_string())
        .query(&mut conn)
        .unwrap();
    assert_eq!(score, Some(session.absolute_deadline), "still in the index");
    assert_eq!(e.revoke_user("ines"), Ok(0), "nothing live yet");
    store.create(session, clock.now()).unwrap(); // the second step, late
    assert_eq!(e.validate(&pair.access), Err(Error::Revoked));
    assert_eq!(e.sessions("ines").map(|l| l.len()), Ok(0));
}

fn node_id(port: u16) -> String {
    redis::cmd("CLUSTER")
        .arg("MYID")
        .query(&mut node(port))
        .unwrap()
}

/// The port of the primary that owns `slot`, from CLUSTER NODES.
fn owner(slot: i64) -> u16 {
    let nodes: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query(&mut node(node_ports()[0]))
        .unwrap();
    for line in nodes.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        if !fields[2].contains("master") {
            continue;
        }
        let owns = fields[8..].iter().any(|range| {
            let mut ends = range.split('-').map(|n| n.parse::<i64>().unwrap_or(-1));
            let start = ends.next().unwrap_or(-1);
            let end = ends.next().unwrap_or(start);
            (start..=end).contains(&slot)
        });
        if owns {
            let port = fields[1].split(['@', ':']).nth(1).unwrap();
            return port.parse().unwrap();
        }
    }
    panic!("no primary owns slot {slot}")
}

/// One session's refresh chain, as its client holds it.
struct Chain {
    access: String,
    refresh: String,
    previous: Option<String>,
}

#[test]
fn a_live_slot_migration_loses_nothing_and_forks_no_chain() {
    const THREADS: usize = 4;
    const USERS: usize = 40;
    let ns = fresh_namespace("reshard");
    let clock = clock();
    let e = Arc::new(engine(Cluster.store(&ns), config(), &clock));
    let chains: Vec<Vec<Chain>> = (0..THREADS)
        .map(|t| {
            (0..USERS)
                .map(|u| {
                    let p = e.login(&format!("user-{t}-{u}"), None).unwrap();
                    Chain {
                        access: p.access,
                        refresh: p.refresh.unwrap(),
                        previous: None,
                    }
                })
                .collect()
        })
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let ops = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = chains
        .into_iter()
        .enumerate()
        .map(|(t, mut chains)| {
            let (e, done, ops) = (e.clone(), done.clone(), ops.clone());
            std::thread::spawn(move || -> Result<Vec<Chain>, String> {
                let mut round = 0;
                while !done.load(Ordering::Relaxed) || round == 0 {
                    for c in chains.iter_mut() {
                        e.validate(&c.access)
                            .map_err(|err| format!("validate: {err:?}"))?;
                        let next = e
                            .refresh(&c.refresh)
                            .map_err(|err| format!("refresh: {err:?}"))?;
                        c.previous = Some(std::mem::replace(&mut c.refresh, next.refresh.unwrap()));
                        c.access = next.access;
                        ops.fetch_add(2, Ordering::Relaxed);
                    }
                    let p = e
                        .login(&format!("late-{t}-{round}"), None)
                        .map_err(|err| format!("login: {err:?}"))?;
                    chains.push(Chain {
                        access: p.access,
                        refresh: p.refresh.unwrap(),
                        previous: None,
                    });
                    round += 1;
                }
                Ok(chains)
            })
        })
        .collect();

    // Move a third of one primary's slots to another while the load runs.
    let ports = node_ports();
    let session_slots: Vec<i64> = (0..THREADS)
        .flat_map(|t| (0..USERS).map(move |u| (t, u)))
        .map(|(t, u)| slot(&format!("{ns}u:{{user-{t}-{u}}}")))
        .collect();
    let on_source = |slots: &[i64]| slots.iter().filter(|s| owner(**s) == ports[0]).count();
    let users_before = on_source(&session_slots);
    let before = ops.load(Ordering::Relaxed);
    let status = Command::new("redis-cli")
        .args(["--cluster", "reshard", &format!("127.0.0.1:{}", ports[0])])
        .args(["--cluster-from", &node_id(ports[0])])
        .args(["--cluster-to", &node_id(ports[1])])
        .args([
            "--cluster-slots",
            "1800",
            "--cluster-yes",
            "--cluster-pipeline",
            "5",
        ])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("redis-cli");
    let during = ops.load(Ordering::Relaxed) - before;
    done.store(true, Ordering::Relaxed);
    assert!(status.success(), "the reshard failed");
    let chains: Vec<Chain> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap().unwrap_or_else(|why| panic!("{why}")))
        .collect();
    assert!(during > 0, "the load ran while slots moved");
    assert!(
        on_source(&session_slots) < users_before,
        "some of the load's keys moved"
    );

    // Nothing lost: every session is there and live; no chain forked: each one's latest
    // token goes on, the one before it is a replay.
    let st = e.stats().unwrap();
    assert_eq!((st.sessions, st.revoked_sessions), (chains.len(), 0));
    for c in &chains {
        assert!(e.validate(&c.access).is_ok());
    }
    for c in chains.iter().filter(|c| c.previous.is_some()).take(20) {
        let next = e.refresh(&c.refresh).unwrap();
        assert_eq!(
            e.refresh(c.previous.as_deref().unwrap()),
            Err(Error::ReuseDetected)
        );
        assert_eq!(e.validate(&next.access), Err(Error::Revoked));
    }
}
