//! The Redis store on a Sentinel-managed primary (feature `redis`): the store conformance
//! suite through the sentinels that scripts/test-redis.sh starts, then failovers on a group
//! of this test's own: the primary killed right after a logout, a replica promoted, the
//! engine following it without a restart, every request during the switch refused or
//! failed closed, never an unchecked token accepted, and the revocation still there; and
//! `store_wait_replicas` failing a revocation closed when no replica acknowledges it.
#![cfg(feature = "redis")]

mod conformance;
mod redis_servers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use keyfob::store::{RedisStore, SessionStore};
use keyfob::{Config, Engine, Error, ManualClock};

use conformance::{clock, config, fresh_namespace, Backend};
use redis_servers::SentinelGroup;

/// The Sentinel group of scripts/test-redis.sh, with the near cache on or off.
struct Sentinel {
    url: String,
    near_cache: bool,
}

impl Backend for Sentinel {
    fn store(&self, namespace: &str) -> Arc<dyn SessionStore> {
        let mut cfg = config();
        cfg.store = self.url.clone();
        cfg.store_prefix = namespace.to_owned();
        cfg.store_timeout_ms = 5_000;
        cfg.near_cache = self.near_cache;
        Arc::new(RedisStore::from_config(&cfg).unwrap())
    }
}

fn sentinel_url() -> String {
    std::env::var("KEYFOB_TEST_REDIS_SENTINEL_URL")
        .expect("KEYFOB_TEST_REDIS_SENTINEL_URL is not set: run `bash scripts/test-redis.sh`")
}

conformance::mount!(
    sentinel,
    Sentinel {
        url: sentinel_url(),
        near_cache: true,
    }
);
conformance::mount!(
    sentinel_without_near_cache,
    Sentinel {
        url: sentinel_url(),
        near_cache: false,
    }
);

fn engine_on(group: &SentinelGroup, clock: &ManualClock, wait_replicas: u64) -> Engine {
    engine_with(group, clock, wait_replicas, 0)
}

fn engine_with(
    group: &SentinelGroup,
    clock: &ManualClock,
    wait_replicas: u64,
    grace: u64,
) -> Engine {
    let mut cfg: Config = config();
    cfg.reuse_grace_s = grace;
    cfg.store = group.url();
    cfg.store_prefix = fresh_namespace("failover");
    cfg.store_timeout_ms = 2_000;
    cfg.store_wait_replicas = wait_replicas;
    cfg.store_wait_timeout_ms = 1_000;
    Engine::builder(cfg).clock(clock.clone()).build().unwrap()
}

/// Poll `f` until it is `Ok` (at most 60 s); every failure on the way must be
/// `store_unavailable`. Returns how many failures there were.
fn until_back<T: std::fmt::Debug>(mut f: impl FnMut() -> Result<T, Error>) -> (T, usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut failures = 0;
    loop {
        match f() {
            Ok(v) => return (v, failures),
            Err(Error::StoreUnavailable(_)) => failures += 1,
            Err(other) => panic!("only store_unavailable may happen during a failover: {other:?}"),
        }
        assert!(Instant::now() < deadline, "the store never came back");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_failover_keeps_a_revocation_made_just_before_it_and_is_followed_without_restart() {
    let mut group = SentinelGroup::start();
    let clock = clock();
    let e = engine_on(&group, &clock, 1);
    let kept = e.login("fay", None).unwrap();
    let gone = e.login("fay", None).unwrap();
    e.revoke(gone.refresh.as_deref().unwrap()).unwrap(); // the logout, acknowledged by the replica
    let old_primary = group.primary.port;
    group.primary.kill();

    // During the switch: the revoked session is never accepted, the live one is accepted or
    // refused with store_unavailable (503), and nothing else happens.
    let (claims, failures) = until_back(|| {
        match e.validate(&gone.access) {
            Err(Error::Revoked) | Err(Error::StoreUnavailable(_)) => {}
            other => panic!("a revoked session during a failover: {other:?}"),
        }
        e.validate(&kept.access)
    });
    assert_eq!(claims.user_id(), "fay");
    assert!(failures > 0, "requests while no primary is up fail closed");
    // The sentinel that led the failover knows first; the others learn it from it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let promoted = loop {
        if let Some(port) = group.agreed_primary() {
            break port;
        }
        assert!(Instant::now() < deadline, "the sentinels never agreed");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(promoted, group.replica.port, "the replica was promoted");
    assert_eq!(
        e.validate(&gone.access),
        Err(Error::Revoked),
        "the revocation survived"
    );

    // No replica is left, so a rotation cannot be made durable: it fails closed. The old
    // primary comes back, the sentinels make it a replica, and rotations work again.
    assert!(matches!(
        e.refresh(kept.refresh.as_deref().unwrap()),
        Err(Error::StoreUnavailable(_))
    ));
    group.primary.restart();
    assert_eq!(group.primary.port, old_primary);
    let (next, _) = until_back(|| {
        // The refused rotation may have been applied on the primary: refresh from scratch.
        let pair = e.login("fay", None)?;
        e.refresh(pair.refresh.as_deref().unwrap())
    });
    assert!(e.validate(&next.access).is_ok());
}

/// A switchover ordered with `SENTINEL FAILOVER` while a client keeps validating and
/// refreshing: the old primary lives on as a replica, so connections to it must not be
/// trusted with writes; every call succeeds or fails closed, and the chain goes on after.
/// A refresh that failed closed may have been applied, so the client retries it with the
/// same token, as `reuse_grace_s` allows.
#[test]
fn a_switchover_under_load_is_followed_and_never_forks_a_chain() {
    const GRACE: u64 = 30;
    let group = SentinelGroup::start();
    let clock = clock();
    let e = engine_with(&group, &clock, 1, GRACE);
    let revoked = e.login("ida", None).unwrap();
    e.revoke(&revoked.access).unwrap();
    let pair = e.login("ida", None).unwrap();
    let (mut access, mut refresh) = (pair.access, pair.refresh.unwrap());
    let mut previous = None;
    let _: String = redis::cmd("SENTINEL")
        .arg("FAILOVER")
        .arg("keyfob")
        .query(&mut group.sentinels[0].conn().unwrap())
        .unwrap();
    // Calls go on through the switch, and for a while after the sentinels agree on it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut after = 0;
    while after < 25 {
        if group.agreed_primary() == Some(group.replica.port) {
            after += 1;
        }
        match e.validate(&revoked.access) {
            Err(Error::Revoked) | Err(Error::StoreUnavailable(_)) => {}
            other => panic!("a revoked session during a switchover: {other:?}"),
        }
        match e.validate(&access) {
            Ok(_) => {}
            Err(Error::StoreUnavailable(_)) => {}
            Err(other) => panic!("a live session refused: {other:?}"),
        }
        match e.refresh(&refresh) {
            Ok(next) => {
                previous = Some(std::mem::replace(&mut refresh, next.refresh.unwrap()));
                access = next.access;
            }
            Err(Error::StoreUnavailable(_)) => {}
            Err(other) => panic!("a refresh during a switchover: {other:?}"),
        }
        assert!(Instant::now() < deadline, "the switchover never completed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (_, _) = until_back(|| e.validate(&access));
    assert_eq!(group.agreed_primary(), Some(group.replica.port));
    assert_eq!(e.validate(&revoked.access), Err(Error::Revoked));
    // The old primary is a replica now: WAIT can be met, and rotations go on.
    let (next, _) = until_back(|| e.refresh(&refresh));
    assert!(e.validate(&next.access).is_ok());
    // One chain, one head: past the grace, every earlier token is a replay.
    clock.advance(GRACE as i64 + 1);
    let head = next.refresh.unwrap();
    let earlier = previous.unwrap_or(refresh);
    assert_eq!(e.refresh(&earlier), Err(Error::ReuseDetected));
    assert_eq!(e.refresh(&head), Err(Error::Revoked));
}

#[test]
fn a_revocation_no_replica_acknowledges_fails_closed() {
    let group = SentinelGroup::start();
    let clock = clock();
    let waiting = engine_on(&group, &clock, 1);
    let pair = waiting.login("gus", None).unwrap();
    group.replica.signal("-STOP");
    let outcome = waiting.revoke(pair.refresh.as_deref().unwrap());
    group.replica.signal("-CONT");
    match outcome {
        Err(Error::StoreUnavailable(why)) => assert!(why.contains("replicas"), "{why}"),
        other => panic!("expected store_unavailable, got {other:?}"),
    }
    // The primary has it all the same: the session is refused.
    assert_eq!(waiting.validate(&pair.access), Err(Error::Revoked));

    // Without the option the same revocation returns at once.
    let plain = engine_on(&group, &clock, 0);
    let pair = plain.login("gus", None).unwrap();
    group.replica.signal("-STOP");
    let outcome = plain.revoke(pair.refresh.as_deref().unwrap());
    group.replica.signal("-CONT");
    assert_eq!(outcome, Ok(()));
}

#[test]
fn wait_settings_are_checked() {
    for (replicas, wait_ms, timeout_ms) in [(65, 100, 200), (1, 0, 200), (1, 200, 200)] {
        let mut cfg = config();
        cfg.store = "redis+sentinel://127.0.0.1:1/keyfob".into();
        cfg.store_wait_replicas = replicas;
        cfg.store_wait_timeout_ms = wait_ms;
        cfg.store_timeout_ms = timeout_ms;
        let err = Engine::new(cfg).unwrap_err();
        assert!(
            matches!(err, Error::Config(_)),
            "{replicas} {wait_ms}: {err}"
        );
    }
}

fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Two processes with the near cache through the sentinels. The primary dies while the
/// second has the sessions cached; once the first has logged one out on the promoted
/// replica, the second never accepts it (its cache was emptied when the link dropped). Its
/// link then follows the new primary by itself: the cache answers again and still hears
/// the first's changes.
#[test]
fn the_near_cache_follows_a_failover_and_never_answers_across_it() {
    let mut group = SentinelGroup::start();
    let clock = clock();
    let prefix = fresh_namespace("near-failover");
    let process = || {
        let mut cfg = config();
        cfg.store = group.url();
        cfg.store_prefix = prefix.clone();
        cfg.store_timeout_ms = 2_000;
        let store = Arc::new(RedisStore::from_config(&cfg).unwrap());
        let engine = Engine::builder(cfg)
            .clock(clock.clone())
            .store(store.clone() as Arc<dyn SessionStore>)
            .build()
            .unwrap();
        (engine, store)
    };
    let (a, _) = process();
    let (b, b_store) = process();
    let kept = a.login("hal", None).unwrap();
    let gone = a.login("hal", None).unwrap();
    eventually("the second process answers from its cache", || {
        assert!(b.validate(&kept.access).is_ok());
        assert!(b.validate(&gone.access).is_ok());
        b_store.near_cache_serving()
    });
    // The logins reach the replica before the primary dies: asynchronous replication may
    // lose the last writes in a failover (what `store_wait_replicas` is for). WAIT counts
    // the replicas that have this connection's own last write, so it writes a fence first:
    // the replication stream is in order, and the logins came before it.
    let mut admin = group.primary.admin();
    let () = redis::cmd("SET")
        .arg(format!("{prefix}fence"))
        .arg(1)
        .query(&mut admin)
        .unwrap();
    let acked: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(5_000)
        .query(&mut admin)
        .unwrap();
    assert_eq!(acked, 1, "the replica has the logins");

    group.primary.kill();
    let ((), _) = until_back(|| a.revoke(&gone.access));
    // The logout is on the new primary: from here on the second process must refuse it,
    // or fail closed while its link is rebuilt, never accept it.
    eventually("the link follows the new primary", || {
        match b.validate(&gone.access) {
            Err(Error::Revoked) | Err(Error::StoreUnavailable(_)) => {}
            other => panic!("a session logged out on the new primary: {other:?}"),
        }
        let _ = b.validate(&kept.access);
        b_store.near_cache_serving()
    });
    assert_eq!(b.validate(&gone.access), Err(Error::Revoked));
    eventually("the live session is answered again", || {
        b.validate(&kept.access).is_ok()
    });

    // The rebuilt link hears changes made on the new primary.
    a.revoke(&kept.access).unwrap();
    eventually("a logout after the failover is refused", || {
        b.validate(&kept.access) == Err(Error::Revoked)
    });
}
