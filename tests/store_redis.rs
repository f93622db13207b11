//! The Redis store (feature `redis`): the store conformance suite mounted on it, then what
//! only a shared store can show: engines in different "processes" (separate store handles on
//! one Redis) see each other's logins, logouts and rotations at once, and a Redis that goes
//! away makes every call fail closed until it comes back. Run with
//! `bash scripts/test-redis.sh`, which starts a Redis and sets `KEYFOB_TEST_REDIS_URL`.

#[cfg(not(feature = "redis"))]
#[test]
fn a_redis_url_without_the_feature_is_a_config_error() {
    let mut cfg = keyfob::Config::with_secret("store-redis-test-secret-of-32-bytes-or-more");
    cfg.store = "redis://127.0.0.1:6379/0".into();
    let err = keyfob::Engine::new(cfg).unwrap_err();
    assert!(
        matches!(&err, keyfob::Error::Config(m) if m.contains("\"redis\" feature")),
        "{err}"
    );
}

#[cfg(feature = "redis")]
mod conformance;
#[cfg(feature = "redis")]
mod redis_servers;

#[cfg(feature = "redis")]
mod redis_backend {
    use std::sync::mpsc;
    use std::time::Duration;

    use std::sync::Arc;

    use keyfob::store::{RedisStore, SessionStore};
    use keyfob::{Clock, Engine, Error};

    use crate::conformance::{self, clock, config, engine, fresh_namespace, Backend};
    use crate::redis_servers::Proc;

    /// The Redis that scripts/test-redis.sh started.
    pub fn shared_url() -> String {
        std::env::var("KEYFOB_TEST_REDIS_URL").expect(
            "KEYFOB_TEST_REDIS_URL is not set: run the Redis tests with `bash scripts/test-redis.sh`",
        )
    }

    /// Each handle is a store of its own (its own connections), as in another process.
    pub struct Redis {
        pub url: String,
    }

    impl Backend for Redis {
        fn store(&self, namespace: &str) -> Arc<dyn SessionStore> {
            Arc::new(RedisStore::open(&self.url, namespace, Duration::from_secs(5)).unwrap())
        }
    }

    conformance::mount!(redis, Redis { url: shared_url() });

    /// The same store with its near cache on.
    pub struct RedisNearCache {
        pub url: String,
    }

    impl Backend for RedisNearCache {
        fn store(&self, namespace: &str) -> Arc<dyn SessionStore> {
            let store = RedisStore::open(&self.url, namespace, Duration::from_secs(5)).unwrap();
            Arc::new(store.near_cache(1_000).unwrap())
        }
    }

    conformance::mount!(redis_near_cache, RedisNearCache { url: shared_url() });

    /// A private redis-server this test can stop, freeze and restart; killed on drop. The
    /// append-only file, fsynced on every write, carries the data over a kill -9.
    fn server() -> Proc {
        Proc::start(&[
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ])
    }

    /// Run `f` on another thread; fail (rather than hang) if it has not answered in 10 s.
    fn answers_within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(f()).ok());
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the call must give up by itself (store_timeout_ms)")
    }

    fn unavailable(r: Result<impl std::fmt::Debug, Error>) {
        match r {
            Err(Error::StoreUnavailable(_)) => {}
            other => panic!("expected store_unavailable, got {other:?}"),
        }
    }

    #[test]
    fn config_selects_the_redis_store() {
        let clock = clock();
        let mut cfg = config();
        cfg.store = shared_url();
        cfg.store_prefix = fresh_namespace("config");
        cfg.store_timeout_ms = 5_000;
        let one = Engine::builder(cfg.clone())
            .clock(clock.clone())
            .build()
            .unwrap();
        let two = Engine::builder(cfg.clone())
            .clock(clock.clone())
            .build()
            .unwrap();
        let pair = one.login("lena", None).unwrap();
        assert!(
            two.validate(&pair.access).is_ok(),
            "both engines reach one Redis"
        );

        cfg.store_prefix = fresh_namespace("config-other");
        let elsewhere = Engine::builder(cfg).clock(clock).build().unwrap();
        assert_eq!(
            elsewhere.validate(&pair.access),
            Err(Error::SessionUnknown),
            "another prefix is another store"
        );
    }

    #[test]
    fn bad_redis_settings_are_config_errors() {
        for (url, timeout) in [("redis://", 200), ("redis://127.0.0.1:6379/0", 0)] {
            let mut cfg = config();
            cfg.store = url.into();
            cfg.store_timeout_ms = timeout;
            let err = Engine::new(cfg).unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{url} {timeout}: {err}");
        }
        let mut cfg = config();
        cfg.store = "redis://:hunter2-password@127.0.0.1:1/0".into();
        cfg.store_timeout_ms = 100;
        // Starts although nothing listens there (connects lazily), then fails closed,
        // and never shows the password.
        let e = Engine::new(cfg).unwrap();
        let err = e.login("mia", None).unwrap_err();
        assert!(matches!(err, Error::StoreUnavailable(_)), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let store = RedisStore::open(
            "redis://:hunter2-password@127.0.0.1:1/0",
            "p:",
            Duration::from_millis(100),
        )
        .unwrap();
        let shown = format!("{store:?}");
        assert!(
            shown.contains("127.0.0.1") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn fails_closed_while_redis_is_gone_and_recovers() {
        let mut server = server();
        let clock = clock();
        let mut cfg = config();
        cfg.store = server.url();
        cfg.store_prefix = fresh_namespace("down");
        cfg.store_timeout_ms = 500;
        // Every call reaches Redis here; tests/near_cache.rs shows the cached store's failures.
        cfg.near_cache = false;
        let e = Arc::new(Engine::builder(cfg).clock(clock.clone()).build().unwrap());
        let pair = e.login("nina", None).unwrap();
        let refresh = pair.refresh.clone().unwrap();
        assert!(e.validate(&pair.access).is_ok());

        // Frozen: the socket accepts but nothing answers. Calls give up after the timeout.
        server.signal("-STOP");
        let (e2, access) = (e.clone(), pair.access.clone());
        unavailable(answers_within(move || e2.validate(&access)));
        let (e2, r) = (e.clone(), refresh.clone());
        unavailable(answers_within(move || e2.refresh(&r)));
        server.signal("-CONT");
        assert!(e.validate(&pair.access).is_ok(), "back after a freeze");

        // Gone: every operation fails closed, nothing unchecked is accepted.
        server.kill();
        unavailable(e.validate(&pair.access));
        unavailable(e.verify(&pair.access));
        unavailable(e.refresh(&refresh));
        unavailable(e.login("nina", None));
        unavailable(e.revoke(&pair.access));
        unavailable(e.revoke_user("nina"));
        unavailable(e.stats());

        // Back (same data, from the append-only file): works again without intervention.
        server.restart();
        assert!(e.validate(&pair.access).is_ok(), "reconnects by itself");
        let next = e.refresh(&refresh).unwrap();
        assert!(e.validate(&next.access).is_ok());

        // A revocation made before a kill -9 survives the restart.
        e.revoke(next.refresh.as_deref().unwrap()).unwrap();
        server.kill();
        server.restart();
        assert_eq!(e.validate(&next.access), Err(Error::Revoked));
    }

    fn config_set(conn: &mut ::redis::Connection, name: &str, value: &str) {
        let _: () = ::redis::cmd("CONFIG")
            .arg("SET")
            .arg(name)
            .arg(value)
            .query(conn)
            .unwrap();
    }

    /// A Redis that refuses writes (full, with `noeviction`) fails the writes closed, still
    /// answers reads, and takes writes again once it has room.
    #[test]
    fn a_full_redis_fails_writes_closed() {
        let server = server();
        let clock = clock();
        let mut cfg = config();
        cfg.store = server.url();
        cfg.store_timeout_ms = 5_000; // not about timeouts: never flaky on a busy machine
        let e = Engine::builder(cfg).clock(clock.clone()).build().unwrap();
        let pair = e.login("quinn", None).unwrap();
        let mut admin = ::redis::Client::open(server.url())
            .unwrap()
            .get_connection()
            .unwrap();
        config_set(&mut admin, "maxmemory-policy", "noeviction");
        config_set(&mut admin, "maxmemory", "1");
        unavailable(e.login("quinn", None));
        unavailable(e.refresh(pair.refresh.as_deref().unwrap()));
        unavailable(e.revoke(&pair.access));
        config_set(&mut admin, "maxmemory", "0");
        assert!(e.validate(&pair.access).is_ok());
        let next = e.refresh(pair.refresh.as_deref().unwrap()).unwrap();
        e.revoke(&next.access).unwrap();
        assert_eq!(e.validate(&next.access), Err(Error::Revoked));
    }

    /// How many HSETs and SETs the server has run (scripts' writes included) since the last
    /// reset.
    fn hset_calls(conn: &mut ::redis::Connection) -> u64 {
        let info: String = ::redis::cmd("INFO")
            .arg("commandstats")
            .query(conn)
            .unwrap();
        ["cmdstat_hset:calls=", "cmdstat_set:calls="]
            .iter()
            .map(|stat| {
                info.lines()
                    .find_map(|l| l.strip_prefix(stat))
                    .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
                    .unwrap_or(0)
            })
            .sum()
    }

    #[test]
    fn touches_within_one_second_coalesce_into_no_write() {
        let server = server();
        let clock = clock();
        let mut cfg = config();
        cfg.store = server.url();
        // No heartbeats among the writes counted.
        cfg.near_cache = false;
        cfg.store_timeout_ms = 5_000; // not about timeouts: never flaky on a busy machine
        let e = Engine::builder(cfg).clock(clock.clone()).build().unwrap();
        let pair = e.login("pia", None).unwrap();
        let mut conn = ::redis::Client::open(server.url())
            .unwrap()
            .get_connection()
            .unwrap();
        let _: () = ::redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query(&mut conn)
            .unwrap();
        for _ in 0..20 {
            assert!(e.validate(&pair.access).is_ok());
        }
        assert_eq!(hset_calls(&mut conn), 0, "the deadline did not move");
        clock.advance(1);
        for _ in 0..20 {
            assert!(e.validate(&pair.access).is_ok());
        }
        assert_eq!(
            hset_calls(&mut conn),
            1,
            "one write for the second that passed"
        );
    }

    #[test]
    fn sweep_is_left_to_redis_ttls() {
        let clock = clock();
        let ns = fresh_namespace("sweep");
        let store = Redis { url: shared_url() }.store(&ns);
        let e = engine(store, config(), &clock);
        let pair = e.login("olga", None).unwrap();
        clock.advance(100_000);
        assert_eq!(e.sweep(), Ok(0), "a no-op: Redis expires keys itself");
        assert_eq!(e.stats().unwrap().sessions, 1);
        // The key expires with the session's absolute deadline (12 h after login).
        let mut conn = ::redis::Client::open(shared_url())
            .unwrap()
            .get_connection()
            .unwrap();
        let ttl = |conn: &mut ::redis::Connection, key: String| -> i64 {
            ::redis::cmd("TTL").arg(key).query(conn).unwrap()
        };
        let session_ttl = ttl(&mut conn, format!("{ns}s:{{{}}}", pair.session_id));
        assert!((43_000..=43_200).contains(&session_ttl), "{session_ttl}");
        // Denylist entries expire at their `until`, epochs when nothing they cover can live.
        let store = Redis { url: shared_url() }.store(&ns);
        let now = clock.now();
        assert!(store.deny_jti("jti-1", now + 60, now).unwrap());
        let denied_ttl = ttl(&mut conn, format!("{ns}d:jti-1"));
        assert!((50..=60).contains(&denied_ttl), "{denied_ttl}");
        e.revoke_user("olga").unwrap();
        let epoch_ttl = ttl(&mut conn, format!("{ns}e:{{olga}}"));
        assert!((43_000..=43_200).contains(&epoch_ttl), "{epoch_ttl}");
    }

    /// A user's index drops the sessions whose absolute deadline has passed, on the next
    /// login, without reading them.
    #[test]
    fn a_users_index_forgets_ended_sessions() {
        let ns = fresh_namespace("prune");
        let clock = clock();
        let mut cfg = config();
        cfg.refresh_lifetime_s = 1_000;
        cfg.idle_timeout_s = 1_000;
        let e = engine(Redis { url: shared_url() }.store(&ns), cfg, &clock);
        for _ in 0..10 {
            e.login("rita", None).unwrap();
        }
        clock.advance(500);
        for _ in 0..5 {
            e.login("rita", None).unwrap();
        }
        let mut conn = ::redis::Client::open(shared_url())
            .unwrap()
            .get_connection()
            .unwrap();
        let members = |conn: &mut ::redis::Connection| -> i64 {
            ::redis::cmd("ZCARD")
                .arg(format!("{ns}u:{{rita}}"))
                .query(conn)
                .unwrap()
        };
        assert_eq!(members(&mut conn), 15);
        clock.advance(500); // the first ten reach their absolute deadline
        e.login("rita", None).unwrap();
        assert_eq!(members(&mut conn), 6);
        assert_eq!(e.revoke_user("rita"), Ok(6));
    }
}
