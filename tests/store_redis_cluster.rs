//! The Redis store on a Redis Cluster (feature `redis`): the store conformance suite on the
//! three-primary cluster that scripts/test-redis.sh creates, the key layout (a user's keys
//! in one slot), `revoke_user` catching a login between its two steps (also after a listing
//! that found it there), the near cache following every primary, and a live slot migration
//! under a load of logins, validates and refreshes that loses nothing, forks no refresh
//! chain, and leaves no near cache holding a moved session's old state.
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

/// Poll `what` until it holds; fail after 20 s.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !f() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A process on the cluster: its own store handle (near cache on, the default) and engine.
fn process(ns: &str, clock: &keyfob::ManualClock) -> (Engine, Arc<RedisStore>) {
    let cfg = cluster_config(ns);
    assert!(cfg.near_cache, "on by default");
    let store = Arc::new(RedisStore::from_config(&cfg).unwrap());
    let e = engine(store.clone(), config(), clock);
    (e, store)
}

/// Validates `engine` sent to Redis so far (its near cache's misses).
fn misses(e: &Engine) -> u64 {
    e.metrics().near_cache.expect("a near cache").misses
}

/// Until `engine` answers every token from its near cache: a pass with no miss.
fn served_from_cache(e: &Engine, store: &RedisStore, tokens: &[String]) {
    eventually("validates answered from the near cache", || {
        if !store.near_cache_serving() {
            return false;
        }
        for t in tokens {
            assert!(e.validate(t).is_ok());
        }
        let before = misses(e);
        for t in tokens {
            assert!(e.validate(t).is_ok());
        }
        misses(e) == before
    });
}

/// The near cache follows every primary: sessions on all three are answered from memory,
/// and a change made by another process on any of them is refused.
#[test]
fn the_near_cache_hears_every_primary() {
    let ns = fresh_namespace("near");
    let clock = clock();
    let (a, _) = process(&ns, &clock);
    let (b, b_store) = process(&ns, &clock);
    let pairs: Vec<_> = (0..30)
        .map(|i| a.login(&format!("near-{i}"), None).unwrap())
        .collect();
    let mut owners: Vec<u16> = pairs
        .iter()
        .map(|p| owner(slot(&format!("{ns}s:{{{}}}", p.session_id))))
        .collect();
    owners.sort_unstable();
    owners.dedup();
    assert_eq!(owners.len(), 3, "sessions on every primary");
    let tokens: Vec<String> = pairs.iter().map(|p| p.access.clone()).collect();
    served_from_cache(&b, &b_store, &tokens);

    for p in &pairs[..15] {
        a.revoke(&p.access).unwrap();
    }
    assert_eq!(a.revoke_user("near-20"), Ok(1));
    for p in pairs[..15].iter().chain(&pairs[20..21]) {
        eventually("a revocation elsewhere is refused", || {
            b.validate(&p.access) == Err(Error::Revoked)
        });
    }
    for p in pairs[15..20].iter().chain(&pairs[21..]) {
        assert!(b.validate(&p.access).is_ok());
    }
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
    // Sessions another process holds in its near cache, untouched while slots move.
    let (b, b_store) = process(&ns, &clock);
    let quiet: Vec<_> = (0..100)
        .map(|i| e.login(&format!("quiet-{i}"), None).unwrap())
        .collect();
    let quiet_tokens: Vec<String> = quiet.iter().map(|p| p.access.clone()).collect();
    served_from_cache(&b, &b_store, &quiet_tokens);
    let quiet_owners: Vec<u16> = quiet
        .iter()
        .map(|p| owner(slot(&format!("{ns}s:{{{}}}", p.session_id))))
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

    // A session cached before its slot moved and revoked on its new primary is refused by
    // the process that cached it.
    let moved: Vec<usize> = (0..quiet.len())
        .filter(|&i| owner(slot(&format!("{ns}s:{{{}}}", quiet[i].session_id))) != quiet_owners[i])
        .collect();
    assert!(!moved.is_empty(), "some cached sessions moved");
    for &i in &moved {
        e.revoke(&quiet[i].access).unwrap();
    }
    for &i in &moved {
        eventually("a moved session revoked elsewhere is refused", || {
            b.validate(&quiet[i].access) == Err(Error::Revoked)
        });
    }

    // Nothing lost: every session is there and live; no chain forked: each one's latest
    // token goes on, the one before it is a replay.
    let st = e.stats().unwrap();
    assert_eq!(
        (st.sessions, st.revoked_sessions),
        (chains.len() + quiet.len(), moved.len())
    );
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
