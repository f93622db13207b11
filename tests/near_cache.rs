//! The Redis store's near cache: validates answered from memory, and never from state that
//! Redis has changed since, once the change could have been heard. Two store handles on one
//! Redis stand for two processes. Each test starts a redis-server of its own (it kills
//! connections, freezes the server), so none disturbs another. Waits are polls with generous
//! bounds: how fast a change is seen is measured by `make bench`, not asserted here.
//! Run with `bash scripts/test-redis.sh`.
#![cfg(feature = "redis")]

mod redis_servers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyfob::store::{RedisStore, SessionStore};
use keyfob::{Config, Engine, Error, ManualClock, SystemClock};

use keyfob::Clock as _;
use redis_servers::Proc;

const SECRET: &str = "near-cache-test-secret-of-32-bytes-or-more";
/// How long any wait may take before the test fails: far beyond what it should need.
const PATIENCE: Duration = Duration::from_secs(20);

/// A private redis-server, killed (thawed first) on drop.
fn server() -> Proc {
    Proc::start(&EPHEMERAL)
}

const EPHEMERAL: [&str; 4] = ["--save", "", "--appendonly", "no"];

/// Poll `what` until it holds; fail after PATIENCE.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !f() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A process's engine on `server`: its own store handle, near cache on.
fn process(server: &Proc, prefix: &str, clock: &ManualClock) -> (Engine, Arc<RedisStore>) {
    process_with(server, prefix, clock, Config::with_secret(SECRET))
}

fn process_with(
    server: &Proc,
    prefix: &str,
    clock: &ManualClock,
    config: Config,
) -> (Engine, Arc<RedisStore>) {
    let store = RedisStore::open(&server.url(), prefix, Duration::from_secs(2))
        .unwrap()
        .near_cache(1_000)
        .unwrap();
    let store = Arc::new(store);
    let engine = Engine::builder(config)
        .clock(clock.clone())
        .store(store.clone() as Arc<dyn SessionStore>)
        .build()
        .unwrap();
    (engine, store)
}

fn stat(admin: &mut redis::Connection, command: &str) -> u64 {
    let info: String = redis::cmd("INFO").arg("commandstats").query(admin).unwrap();
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
        .unwrap_or(0)
}

/// Wait until `engine` answers `token` from its cache: 50 validates in a row that run no
/// script on Redis (a link that lapsed meanwhile empties the cache, and the next validate
/// would run one).
fn served_from_cache(
    engine: &Engine,
    store: &RedisStore,
    token: &str,
    admin: &mut redis::Connection,
) {
    eventually("validates answered from the near cache", || {
        if !store.near_cache_serving() {
            return false;
        }
        assert!(engine.validate(token).is_ok());
        let before = stat(admin, "evalsha");
        for _ in 0..50 {
            assert!(engine.validate(token).is_ok());
        }
        stat(admin, "evalsha") == before
    });
}

fn prefix(test: &str) -> String {
    format!("keyfob-near-test:{test}:")
}

#[test]
fn a_change_by_another_process_is_refused_by_this_one() {
    let server = server();
    let mut admin = server.admin();
    let clock = ManualClock::new(SystemClock.now());
    let (a, _) = process(&server, &prefix("change"), &clock);
    let (b, b_store) = process(&server, &prefix("change"), &clock);

    // Logout in another process.
    let pair = a.login("ada", None).unwrap();
    served_from_cache(&b, &b_store, &pair.access, &mut admin);
    a.revoke(&pair.access).unwrap();
    eventually("a logout elsewhere is refused", || {
        b.validate(&pair.access) == Err(Error::Revoked)
    });

    // Reuse detected in another process.
    let pair = a.login("ada", None).unwrap();
    served_from_cache(&b, &b_store, &pair.access, &mut admin);
    let refresh = pair.refresh.clone().unwrap();
    a.refresh(&refresh).unwrap();
    assert_eq!(a.refresh(&refresh).unwrap_err(), Error::ReuseDetected);
    eventually("reuse detected elsewhere is refused", || {
        b.validate(&pair.access) == Err(Error::Revoked)
    });

    // Every session of a user, from another process.
    let pairs: Vec<_> = (0..3).map(|_| a.login("bo", None).unwrap()).collect();
    for p in &pairs {
        served_from_cache(&b, &b_store, &p.access, &mut admin);
    }
    assert_eq!(a.revoke_user("bo"), Ok(3));
    for p in &pairs {
        eventually("revoke_user elsewhere is refused", || {
            b.validate(&p.access) == Err(Error::Revoked)
        });
    }

    // A key Redis drops (as when it expires) is gone from every cache too.
    let pair = a.login("cy", None).unwrap();
    served_from_cache(&b, &b_store, &pair.access, &mut admin);
    let _: i64 = redis::cmd("DEL")
        .arg(format!("{}s:{{{}}}", prefix("change"), pair.session_id))
        .query(&mut admin)
        .unwrap();
    eventually("a dropped session is unknown", || {
        b.validate(&pair.access) == Err(Error::SessionUnknown)
    });
}

#[test]
fn this_process_sees_its_own_changes_at_once() {
    let server = server();
    let mut admin = server.admin();
    let clock = ManualClock::new(SystemClock.now());
    let (a, a_store) = process(&server, &prefix("own"), &clock);
    let pair = a.login("di", None).unwrap();
    served_from_cache(&a, &a_store, &pair.access, &mut admin);
    a.revoke(&pair.access).unwrap();
    assert_eq!(a.validate(&pair.access), Err(Error::Revoked));

    let pairs: Vec<_> = (0..2).map(|_| a.login("ed", None).unwrap()).collect();
    for p in &pairs {
        served_from_cache(&a, &a_store, &p.access, &mut admin);
    }
    assert_eq!(a.revoke_user("ed"), Ok(2));
    for p in &pairs {
        assert_eq!(a.validate(&p.access), Err(Error::Revoked));
    }
}

#[test]
fn a_slide_elsewhere_leaves_cached_copies_in_place() {
    let server = server();
    let mut admin = server.admin();
    let clock = ManualClock::new(SystemClock.now());
    let (a, a_store) = process(&server, &prefix("slide"), &clock);
    let (b, b_store) = process(&server, &prefix("slide"), &clock);
    let kept = a.login("flo", None).unwrap();
    let marker = a.login("gus", None).unwrap();
    served_from_cache(&b, &b_store, &kept.access, &mut admin);
    served_from_cache(&b, &b_store, &marker.access, &mut admin);
    served_from_cache(&a, &a_store, &kept.access, &mut admin);

    let writes = stat(&mut admin, "set");
    clock.advance(5);
    // A slides `kept` (one write), then revokes `marker`: once B refuses `marker`, B has
    // heard everything Redis announced before, the slide included, had it been announced.
    assert!(a.validate(&kept.access).is_ok());
    assert!(a.validate(&kept.access).is_ok());
    eventually("the slide is written", || stat(&mut admin, "set") > writes);
    a.revoke(&marker.access).unwrap();
    eventually("the marker's revocation arrives", || {
        b.validate(&marker.access) == Err(Error::Revoked)
    });
    // B still holds `kept`: a validate that needs no slide of its own runs nothing on Redis.
    let before = stat(&mut admin, "evalsha");
    assert!(b.verify(&kept.access).is_ok());
    let after = stat(&mut admin, "evalsha");
    assert!(
        after == before || !b_store.near_cache_serving(),
        "a peek at a session slid elsewhere went to Redis"
    );
}

/// The idle deadline Redis holds for `sid` in its idle key (absent until a first slide).
fn slid_to(admin: &mut redis::Connection, test: &str, sid: &str) -> Option<i64> {
    redis::cmd("GET")
        .arg(format!("{}i:{{{sid}}}", prefix(test)))
        .query(admin)
        .unwrap()
}

fn hits_and_misses(engine: &Engine) -> (u64, u64) {
    let c = engine.metrics().near_cache.expect("near cache counts");
    (c.hits, c.misses)
}

#[test]
fn a_slide_due_on_a_cached_session_is_written_behind_once_and_seen_everywhere() {
    let server = server();
    let mut admin = server.admin();
    let start = SystemClock.now();
    let clock = ManualClock::new(start);
    // An access token outliving the idle timeout, to validate past the login's idle deadline.
    let mut config = Config::with_secret(SECRET);
    config.idle_timeout_s = 60;
    config.access_lifetime_s = 600;
    let idle = config.idle_timeout_s as i64;
    let (a, a_store) = process_with(&server, &prefix("behind"), &clock, config.clone());
    let (b, b_store) = process_with(&server, &prefix("behind"), &clock, config);
    let pair = a.login("hal", None).unwrap();
    served_from_cache(&a, &a_store, &pair.access, &mut admin);
    served_from_cache(&b, &b_store, &pair.access, &mut admin);

    // Twenty validates within one second, all answered from the cache (a link that lapsed
    // meanwhile sends some to Redis: then the next second is tried), write one slide.
    let mut clean = false;
    for _ in 0..5 {
        clock.advance(5);
        let slid = clock.now() + idle;
        let scripts = stat(&mut admin, "evalsha");
        let (hits, misses) = hits_and_misses(&a);
        for _ in 0..20 {
            assert!(a.validate(&pair.access).is_ok());
        }
        let (hits_now, misses_now) = hits_and_misses(&a);
        eventually("the slide reaches Redis", || {
            slid_to(&mut admin, "behind", &pair.session_id) == Some(slid)
        });
        std::thread::sleep(Duration::from_millis(200));
        if misses_now == misses {
            assert_eq!(hits_now, hits + 20);
            assert_eq!(
                stat(&mut admin, "evalsha") - scripts,
                1,
                "twenty validates within one second write one slide"
            );
            clean = true;
            break;
        }
    }
    assert!(clean, "the cache never answered twenty validates in a row");

    // B cached the session before the slides; past the login's idle deadline it asks
    // Redis, which has them.
    clock.advance(idle - 3);
    assert_eq!(b.validate(&pair.access).map(|_| ()), Ok(()));
}

#[test]
fn a_slide_that_could_not_be_written_behind_is_made_by_the_next_validate() {
    let server = server();
    let mut admin = server.admin();
    let start = SystemClock.now();
    let clock = ManualClock::new(start);
    let (a, a_store) = process(&server, &prefix("unwritten"), &clock);
    let pair = a.login("ivy", None).unwrap();
    served_from_cache(&a, &a_store, &pair.access, &mut admin);
    let idle = Config::with_secret(SECRET).idle_timeout_s as i64;
    // A first slide behind opens the writer's connection and loads its script there.
    clock.advance(2);
    assert!(a.validate(&pair.access).is_ok());
    eventually("the first slide reaches Redis", || {
        slid_to(&mut admin, "unwritten", &pair.session_id) == Some(start + 2 + idle)
    });

    // Scripts flushed: the writer's next batch fails.
    redis::cmd("SCRIPT").arg("FLUSH").exec(&mut admin).unwrap();
    clock.advance(2);
    assert!(a.validate(&pair.access).is_ok());
    eventually("the session leaves the cache and slides on Redis", || {
        assert!(a.validate(&pair.access).is_ok());
        slid_to(&mut admin, "unwritten", &pair.session_id) == Some(start + 4 + idle)
    });
}

/// The number of connected clients, for refusing new ones.
fn connected_clients(admin: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO").arg("clients").query(admin).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("connected_clients:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn config_set(admin: &mut redis::Connection, name: &str, value: &str) {
    redis::cmd("CONFIG")
        .arg("SET")
        .arg(name)
        .arg(value)
        .exec(admin)
        .unwrap();
}

#[test]
fn a_dropped_link_empties_the_cache_until_it_is_back() {
    let server = server();
    let mut admin = server.admin();
    let clock = ManualClock::new(SystemClock.now());
    let (b, b_store) = process(&server, &prefix("drop"), &clock);
    let pair = b.login("hal", None).unwrap();
    served_from_cache(&b, &b_store, &pair.access, &mut admin);

    // Kill the link and keep it down: Redis takes no new connection.
    let clients = connected_clients(&mut admin);
    config_set(&mut admin, "maxclients", &(clients - 1).to_string());
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query(&mut admin)
        .unwrap();
    assert_eq!(killed, 1, "one invalidation link");
    eventually("the cache stops answering", || {
        !b_store.near_cache_serving()
    });

    // A change made now is announced to no one: B must not answer from what it cached.
    redis::cmd("HSET")
        .arg(format!("{}s:{{{}}}", prefix("drop"), pair.session_id))
        .arg("r")
        .arg("1")
        .exec(&mut admin)
        .unwrap();
    assert_eq!(b.validate(&pair.access), Err(Error::Revoked));

    // The link comes back, and the cache with it.
    config_set(&mut admin, "maxclients", "10000");
    let next = b.login("hal", None).unwrap();
    served_from_cache(&b, &b_store, &next.access, &mut admin);
    assert_eq!(b.validate(&pair.access), Err(Error::Revoked));
}

#[test]
fn a_frozen_redis_is_not_trusted_for_long() {
    let server = server();
    let mut admin = server.admin();
    let clock = ManualClock::new(SystemClock.now());
    let (b, b_store) = process(&server, &prefix("frozen"), &clock);
    let pair = b.login("ivy", None).unwrap();
    served_from_cache(&b, &b_store, &pair.access, &mut admin);
    drop(admin);

    // Nothing is heard from a frozen Redis: the cache stops answering, and validates fail
    // closed rather than trusting it.
    server.signal("-STOP");
    eventually("a frozen Redis fails validates closed", || {
        matches!(b.validate(&pair.access), Err(Error::StoreUnavailable(_)))
    });
    assert!(!b_store.near_cache_serving());
    server.signal("-CONT");
    eventually("back after the thaw", || b.validate(&pair.access).is_ok());
    let mut admin = server.admin();
    served_from_cache(&b, &b_store, &pair.access, &mut admin);
}

/// A link that stays open but stops proving it keeps up (here: Redis refuses the heartbeat
/// writes) is not trusted either; validates go to Redis meanwhile, and still work.
#[test]
fn a_link_that_cannot_prove_it_keeps_up_is_not_trusted() {
    let server = server();
    let mut admin = server.admin();
    let clock = ManualClock::new(SystemClock.now());
    let (b, b_store) = process(&server, &prefix("behind"), &clock);
    let pair = b.login("lou", None).unwrap();
    served_from_cache(&b, &b_store, &pair.access, &mut admin);

    config_set(&mut admin, "maxmemory-policy", "noeviction");
    config_set(&mut admin, "maxmemory", "1");
    eventually("the cache stops answering", || {
        !b_store.near_cache_serving()
    });
    let before = stat(&mut admin, "evalsha");
    assert!(
        b.validate(&pair.access).is_ok(),
        "no slide due: a read, which Redis still serves"
    );
    assert!(
        stat(&mut admin, "evalsha") > before || b_store.near_cache_serving(),
        "answered from a cache that could not be trusted"
    );

    config_set(&mut admin, "maxmemory", "0");
    served_from_cache(&b, &b_store, &pair.access, &mut admin);
}

/// A forked child (a pre-forking server's worker) starts with a copy of its parent's cache
/// but none of its link: it must not answer from that copy.
#[cfg(unix)]
#[test]
fn a_forked_child_does_not_trust_the_cache_it_inherited() {
    let server = server();
    let mut admin = server.admin();
    let clock = ManualClock::new(SystemClock.now());
    let (b, b_store) = process(&server, &prefix("fork"), &clock);
    let pair = b.login("kai", None).unwrap();
    served_from_cache(&b, &b_store, &pair.access, &mut admin);

    let mut go = [0 as libc::c_int; 2];
    // SAFETY: a plain pipe(2) into a local array.
    assert_eq!(unsafe { libc::pipe(go.as_mut_ptr()) }, 0);
    // SAFETY: the child only waits on the pipe, validates and leaves with _exit.
    let child = unsafe { libc::fork() };
    assert!(child >= 0, "fork failed");
    if child == 0 {
        let mut byte = 0u8;
        // SAFETY: reads one byte into a local.
        unsafe { libc::read(go[0], (&mut byte as *mut u8).cast(), 1) };
        let code = match b.validate(&pair.access) {
            Err(Error::Revoked) => 0,
            Ok(_) => 1,
            Err(_) => 2,
        };
        // SAFETY: leaves the child without running the parent's destructors or harness.
        unsafe { libc::_exit(code) };
    }
    // Changed after the fork: the child's copy is stale and no link of its tells it.
    redis::cmd("HSET")
        .arg(format!("{}s:{{{}}}", prefix("fork"), pair.session_id))
        .arg("r")
        .arg("1")
        .exec(&mut admin)
        .unwrap();
    // SAFETY: writes one byte from a local.
    unsafe { libc::write(go[1], [1u8].as_ptr().cast(), 1) };
    let mut status = 0;
    let deadline = Instant::now() + PATIENCE;
    loop {
        // SAFETY: waits for our own child, without blocking.
        let done = unsafe { libc::waitpid(child, &mut status, libc::WNOHANG) };
        if done == child {
            break;
        }
        if Instant::now() > deadline {
            // SAFETY: our own child.
            unsafe { libc::kill(child, libc::SIGKILL) };
            panic!("the child never answered");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(libc::WIFEXITED(status), "the child died: {status}");
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "the child answered from its parent's cache (1) or failed (2)"
    );
}

#[test]
fn sign_out_other_devices_elsewhere_keeps_only_the_current_session_cached() {
    let server = server();
    let mut admin = server.admin();
    let clock = ManualClock::new(SystemClock.now());
    let (a, _) = process(&server, &prefix("keep"), &clock);
    let (b, b_store) = process(&server, &prefix("keep"), &clock);
    let pairs: Vec<_> = (0..3).map(|_| a.login("dee", None).unwrap()).collect();
    for p in &pairs {
        served_from_cache(&b, &b_store, &p.access, &mut admin);
    }
    let kept = &pairs[0];
    assert_eq!(a.revoke_user_except("dee", Some(&kept.session_id)), Ok(2));
    for p in &pairs[1..] {
        eventually("the other devices are refused elsewhere", || {
            b.validate(&p.access) == Err(Error::Revoked)
        });
    }
    assert!(b.validate(&kept.access).is_ok());
}

#[test]
fn the_near_cache_counts_reach_the_engine_metrics() {
    let server = server();
    let mut admin = server.admin();
    let clock = ManualClock::new(SystemClock.now());
    let (a, _) = process(&server, &prefix("metrics"), &clock);
    let (b, b_store) = process(&server, &prefix("metrics"), &clock);
    let pair = a.login("eve", None).unwrap();
    served_from_cache(&b, &b_store, &pair.access, &mut admin);
    let counts = b
        .metrics()
        .near_cache
        .expect("a near cache reports its counts");
    assert!(counts.hits >= 50, "{counts:?}");
    assert!(counts.misses >= 1, "{counts:?}");
    a.revoke(&pair.access).unwrap();
    eventually("the invalidation is counted", || {
        b.metrics().near_cache.is_some_and(|c| c.invalidations >= 1)
    });
    // The memory store has no near cache to report.
    let memory = Engine::new(Config::with_secret(SECRET)).unwrap();
    assert_eq!(memory.metrics().near_cache, None);
}

/// A node of a cluster of its own (not the shared one other tests use).
fn cluster_node() -> Proc {
    let mut args = EPHEMERAL.to_vec();
    args.extend([
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
    ]);
    Proc::start(&args)
}

fn node_id(server: &Proc) -> String {
    redis::cmd("CLUSTER")
        .arg("MYID")
        .query(&mut server.admin())
        .unwrap()
}

fn cluster_ok(server: &Proc) -> bool {
    let info: String = redis::cmd("CLUSTER")
        .arg("INFO")
        .query(&mut server.admin())
        .unwrap();
    info.contains("cluster_state:ok")
}

/// A primary added to a cluster serves no slot until slots have finished moving to it, and
/// takes writes for them while they move: the near cache stays off meanwhile (validates go
/// to Redis, and work), then follows the new primary too.
#[test]
fn a_primary_added_to_a_cluster_turns_the_cache_off_until_it_serves_its_slots() {
    let (one, two) = (cluster_node(), cluster_node());
    redis::cmd("CLUSTER")
        .arg("ADDSLOTSRANGE")
        .arg(0)
        .arg(16_383)
        .exec(&mut one.admin())
        .unwrap();
    eventually("a one-primary cluster", || cluster_ok(&one));
    let url = format!("redis+cluster://127.0.0.1:{}", one.port);
    let clock = ManualClock::new(SystemClock.now());
    let mut config = Config::with_secret(SECRET);
    config.store = url;
    config.store_prefix = prefix("added");
    let open = || {
        let store = Arc::new(RedisStore::from_config(&config).unwrap());
        let engine = Engine::builder(Config::with_secret(SECRET))
            .clock(clock.clone())
            .store(store.clone() as Arc<dyn SessionStore>)
            .build()
            .unwrap();
        (engine, store)
    };
    let (a, _) = open();
    let (b, b_store) = open();
    let pair = a.login("kit", None).unwrap();
    served_from_cache(&b, &b_store, &pair.access, &mut one.admin());

    // A second primary joins, serving nothing yet.
    redis::cmd("CLUSTER")
        .arg("MEET")
        .arg("127.0.0.1")
        .arg(two.port)
        .exec(&mut one.admin())
        .unwrap();
    eventually("the cache turns off", || !b_store.near_cache_serving());
    assert!(b.validate(&pair.access).is_ok(), "validates go to Redis");

    // The session's slot moves to it, keys and all.
    let (one_id, two_id) = (node_id(&one), node_id(&two));
    let knows = |server: &Proc, id: &str| {
        let nodes: String = redis::cmd("CLUSTER")
            .arg("NODES")
            .query(&mut server.admin())
            .unwrap();
        nodes
            .lines()
            .any(|l| l.starts_with(id) && !l.contains("handshake"))
    };
    eventually("the primaries know each other", || {
        knows(&one, &two_id) && knows(&two, &one_id) && cluster_ok(&two)
    });
    let key = format!("{}s:{{{}}}", prefix("added"), pair.session_id);
    let slot: i64 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(&key)
        .query(&mut one.admin())
        .unwrap();
    let setslot = |server: &Proc, state: &str, id: &str| {
        redis::cmd("CLUSTER")
            .arg("SETSLOT")
            .arg(slot)
            .arg(state)
            .arg(id)
            .exec(&mut server.admin())
            .unwrap();
    };
    setslot(&two, "IMPORTING", &one_id);
    setslot(&one, "MIGRATING", &two_id);
    let keys: Vec<String> = redis::cmd("CLUSTER")
        .arg("GETKEYSINSLOT")
        .arg(slot)
        .arg(100)
        .query(&mut one.admin())
        .unwrap();
    assert!(keys.contains(&key), "{keys:?}");
    redis::cmd("MIGRATE")
        .arg("127.0.0.1")
        .arg(two.port)
        .arg("")
        .arg(0)
        .arg(5_000)
        .arg("KEYS")
        .arg(&keys)
        .exec(&mut one.admin())
        .unwrap();
    assert!(!b_store.near_cache_serving(), "off while the slot moves");
    setslot(&two, "NODE", &two_id);
    setslot(&one, "NODE", &two_id);

    // Both primaries followed: answered from memory again, and a logout on the new one is
    // heard.
    eventually("the cache answers again", || {
        b_store.near_cache_serving() && b.validate(&pair.access).is_ok()
    });
    served_from_cache(&b, &b_store, &pair.access, &mut two.admin());
    a.revoke(&pair.access).unwrap();
    eventually("a logout on the new primary is refused", || {
        b.validate(&pair.access) == Err(Error::Revoked)
    });
}
