//! The engine's behaviour on every store: one suite, parametrized by a store factory, run
//! against the memory store always and against Redis with the `redis` feature
//! (`bash scripts/test-redis.sh` starts a Redis and sets `KEYFOB_TEST_REDIS_URL`).
//! Then what only a shared store can show: engines in different "processes" (separate store
//! handles on one Redis) see each other's logins, logouts and rotations at once, and a Redis
//! that goes away makes every call fail closed until it comes back.

use std::sync::Arc;

use keyfob::store::SessionStore;
use keyfob::{Clock, Config, Engine, Error, ManualClock, SystemClock};

const SECRET: &str = "redis-store-test-secret-of-32-bytes-or-more";

/// Makes stores. Handles made with the same `namespace` share their data, as two processes
/// pointing at one Redis do; different namespaces never see each other.
trait Backend: Sync {
    fn store(&self, namespace: &str) -> Arc<dyn SessionStore>;
}

/// A namespace no other test (or earlier run) uses.
fn fresh_namespace(test: &str) -> String {
    let rng = ring::rand::SystemRandom::new();
    let id = keyfob::session::Id::random(&rng).expect("random");
    format!("keyfob-test:{test}:{id}:")
}

fn config() -> Config {
    Config::with_secret(SECRET)
}

/// Manual time starting at the wall clock's, so Redis's own TTLs (which run on real time
/// and are set relative to the engine's `now`) stay far away during a test.
fn clock() -> ManualClock {
    ManualClock::new(SystemClock.now())
}

fn engine(store: Arc<dyn SessionStore>, cfg: Config, clock: &ManualClock) -> Engine {
    Engine::with_parts(cfg, Arc::new(clock.clone()), Some(store)).expect("valid config")
}

/// A sessionless HS256 token in simplejwt's layout, as a pre-migration issuer minted it.
fn sessionless(token_type: &str, user_id: &str, iat: i64, lifetime: i64) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let rng = ring::rand::SystemRandom::new();
    let jti = keyfob::session::Id::random(&rng).expect("random");
    let payload = serde_json::json!({
        "token_type": token_type,
        "exp": iat + lifetime,
        "iat": iat,
        "jti": jti.to_string(),
        "user_id": user_id,
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
    let sig = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

fn sid_of(e: &Engine, token: &str) -> keyfob::session::Id {
    let claims = e.verify(token).expect("a live token");
    keyfob::session::Id::parse(claims.sid().expect("sid")).expect("hex sid")
}

/// The behaviours, each a function of the backend.
mod suite {
    use super::*;

    pub fn login_validate_refresh(b: &dyn Backend) {
        let store = b.store(&fresh_namespace("login"));
        let clock = clock();
        let e = engine(store.clone(), config(), &clock);
        let pair = e.login("alice", None).unwrap();
        assert_eq!(e.validate(&pair.access).unwrap().user_id(), "alice");

        clock.advance(5);
        let next = e.refresh(pair.refresh.as_deref().unwrap()).unwrap();
        assert_eq!(next.session_id, pair.session_id);
        assert_ne!(next.refresh, pair.refresh);
        assert_eq!(e.validate(&next.access).unwrap().user_id(), "alice");

        let sid = keyfob::session::Id::parse(&pair.session_id).unwrap();
        let s = store.get(sid).unwrap().expect("stored");
        assert_eq!(s.user_id, "alice");
        assert_eq!(s.created_at, clock.now() - 5);
        assert_eq!(s.current_iat, clock.now());
        assert_eq!(s.absolute_deadline, s.created_at + 43_200);
        assert_eq!(s.idle_deadline, clock.now() + 1_800);
        assert!(s.previous_jti.is_some() && !s.revoked);
        let unknown = keyfob::session::Id(42);
        assert_eq!(store.get(unknown).unwrap(), None);
    }

    pub fn reuse_revokes_the_session(b: &dyn Backend) {
        let e = engine(b.store(&fresh_namespace("reuse")), config(), &clock());
        let pair = e.login("alice", None).unwrap();
        let first = pair.refresh.unwrap();
        let second = e.refresh(&first).unwrap();
        assert_eq!(e.refresh(&first), Err(Error::ReuseDetected));
        assert_eq!(
            e.refresh(second.refresh.as_deref().unwrap()),
            Err(Error::Revoked)
        );
        assert_eq!(e.validate(&second.access), Err(Error::Revoked));
        assert_eq!(e.validate(&pair.access), Err(Error::Revoked));
        // Both stores report a replay as one, even once the session is revoked.
        assert_eq!(e.refresh(&first), Err(Error::ReuseDetected));
    }

    pub fn previous_token_converges_in_grace(b: &dyn Backend) {
        let clock = clock();
        let mut cfg = config();
        cfg.reuse_grace_s = 10;
        let e = engine(b.store(&fresh_namespace("grace")), cfg, &clock);
        let first = e.login("alice", None).unwrap().refresh.unwrap();
        let rotated = e.refresh(&first).unwrap();
        clock.advance(9);
        let again = e.refresh(&first).unwrap();
        assert_eq!(again.refresh, rotated.refresh, "same token, byte for byte");
        assert!(e.validate(&again.access).is_ok());
        clock.advance(1);
        assert_eq!(e.refresh(&first), Err(Error::ReuseDetected));
        assert_eq!(e.validate(&again.access), Err(Error::Revoked));
    }

    pub fn logout_and_revoke_session(b: &dyn Backend) {
        let e = engine(b.store(&fresh_namespace("logout")), config(), &clock());
        let pair = e.login("alice", None).unwrap();
        let other = e.login("alice", None).unwrap();
        e.revoke(pair.refresh.as_deref().unwrap()).unwrap();
        assert_eq!(e.validate(&pair.access), Err(Error::Revoked));
        assert_eq!(
            e.refresh(pair.refresh.as_deref().unwrap()),
            Err(Error::Revoked)
        );
        assert_eq!(e.revoke(&pair.access), Err(Error::Revoked));
        assert!(e.validate(&other.access).is_ok(), "other sessions live on");

        assert_eq!(e.revoke_session(&other.session_id), Ok(true));
        assert_eq!(e.revoke_session(&other.session_id), Ok(false));
        assert_eq!(e.validate(&other.access), Err(Error::Revoked));
        let unknown = "0123456789abcdef0123456789abcdef";
        assert_eq!(e.revoke_session(unknown), Err(Error::SessionUnknown));
    }

    pub fn revoke_user_revokes_every_session(b: &dyn Backend) {
        let clock = clock();
        let mut cfg = config();
        cfg.accept_sessionless = true;
        let e = engine(b.store(&fresh_namespace("user")), cfg, &clock);
        let a1 = e.login("alice", None).unwrap();
        let a2 = e.login("alice", None).unwrap();
        let bob = e.login("bob", None).unwrap();
        let old = sessionless("access", "alice", clock.now() - 1, 300);
        assert!(e.validate(&old).is_ok());

        assert_eq!(e.revoke_user("alice"), Ok(2));
        for t in [&a1.access, &a2.access, &old] {
            assert_eq!(e.validate(t), Err(Error::Revoked));
        }
        assert_eq!(
            e.refresh(a1.refresh.as_deref().unwrap()),
            Err(Error::Revoked)
        );
        assert!(e.validate(&bob.access).is_ok());
        assert_eq!(e.revoke_user("alice"), Ok(0), "nothing left to revoke");

        clock.advance(1);
        let later = e.login("alice", None).unwrap();
        assert!(e.validate(&later.access).is_ok(), "a new login works");
        let newer = sessionless("access", "alice", clock.now(), 300);
        assert!(e.validate(&newer).is_ok(), "issued after the epoch");
    }

    pub fn sessionless_denylist(b: &dyn Backend) {
        let clock = clock();
        let mut cfg = config();
        cfg.accept_sessionless = true;
        let store = b.store(&fresh_namespace("deny"));
        let e = engine(store.clone(), cfg, &clock);
        let access = sessionless("access", "carol", clock.now(), 300);
        assert!(e.validate(&access).is_ok());
        e.revoke(&access).unwrap();
        assert_eq!(e.validate(&access), Err(Error::Revoked));
        assert_eq!(e.revoke(&access), Err(Error::Revoked), "denied once only");

        // A sessionless refresh token upgrades to a session, once.
        let refresh = sessionless("refresh", "carol", clock.now(), 3_600);
        let upgraded = e.refresh(&refresh).unwrap();
        assert_eq!(upgraded.session_id.len(), 32);
        assert!(e.validate(&upgraded.access).is_ok());
        assert_eq!(
            e.refresh(&refresh),
            Err(Error::Revoked),
            "its jti is denied"
        );
        let sid = keyfob::session::Id::parse(&upgraded.session_id).unwrap();
        let s = store.get(sid).unwrap().expect("stored");
        assert_eq!(
            s.absolute_deadline,
            clock.now() + 3_600,
            "ends with the token"
        );

        assert!(store
            .deny_jti("some-jti", clock.now() + 60, clock.now())
            .unwrap());
        assert!(store.is_denied("some-jti").unwrap());
        assert!(!store
            .deny_jti("some-jti", clock.now() + 60, clock.now())
            .unwrap());
        assert!(!store.is_denied("other-jti").unwrap());
    }

    pub fn idle_timeout_slides(b: &dyn Backend) {
        let clock = clock();
        let mut cfg = config();
        cfg.idle_timeout_s = 60;
        cfg.access_lifetime_s = 3_600;
        let store = b.store(&fresh_namespace("idle"));
        let e = engine(store.clone(), cfg.clone(), &clock);
        let pair = e.login("dave", None).unwrap();
        let sid = sid_of(&e, &pair.access);
        for _ in 0..3 {
            clock.advance(59);
            assert!(
                e.validate(&pair.access).is_ok(),
                "activity slides the window"
            );
            let idle = store.get(sid).unwrap().unwrap().idle_deadline;
            assert_eq!(idle, clock.now() + 60);
        }
        // verify peeks: no slide.
        clock.advance(30);
        assert!(e.verify(&pair.access).is_ok());
        assert_eq!(
            store.get(sid).unwrap().unwrap().idle_deadline,
            clock.now() + 30
        );
        clock.advance(30);
        assert_eq!(e.validate(&pair.access), Err(Error::SessionIdle));
        assert_eq!(
            e.refresh(pair.refresh.as_deref().unwrap()),
            Err(Error::SessionIdle)
        );

        // Without touch_on_validate, validate checks but never writes.
        cfg.touch_on_validate = false;
        let e = engine(store.clone(), cfg, &clock);
        let pair = e.login("dave", None).unwrap();
        let sid = sid_of(&e, &pair.access);
        let before = store.get(sid).unwrap().unwrap().idle_deadline;
        clock.advance(59);
        assert!(e.validate(&pair.access).is_ok());
        assert_eq!(store.get(sid).unwrap().unwrap().idle_deadline, before);
        clock.advance(1);
        assert_eq!(e.validate(&pair.access), Err(Error::SessionIdle));
    }

    pub fn idle_deadline_never_passes_absolute(b: &dyn Backend) {
        let clock = clock();
        let mut cfg = config();
        cfg.idle_timeout_s = 100;
        cfg.refresh_lifetime_s = 150;
        let store = b.store(&fresh_namespace("cap"));
        let e = engine(store.clone(), cfg, &clock);
        let pair = e.login("erin", None).unwrap();
        let sid = sid_of(&e, &pair.access);
        clock.advance(90);
        let next = e.refresh(pair.refresh.as_deref().unwrap()).unwrap();
        let s = store.get(sid).unwrap().unwrap();
        assert_eq!(s.idle_deadline, s.absolute_deadline);
        assert!(e.validate(&next.access).is_ok());
    }

    pub fn absolute_lifetime_ends_the_session(b: &dyn Backend) {
        let clock = clock();
        let mut cfg = config();
        cfg.refresh_lifetime_s = 300;
        cfg.idle_timeout_s = 1_000;
        cfg.access_lifetime_s = 600;
        cfg.leeway_s = 120; // the token still passes its own checks; the session must not
        let e = engine(b.store(&fresh_namespace("absolute")), cfg, &clock);
        let pair = e.login("frank", None).unwrap();
        clock.advance(299);
        let next = e.refresh(pair.refresh.as_deref().unwrap()).unwrap();
        assert!(e.validate(&next.access).is_ok());
        clock.advance(1);
        assert_eq!(e.validate(&next.access), Err(Error::SessionExpired));
        assert_eq!(
            e.refresh(next.refresh.as_deref().unwrap()),
            Err(Error::SessionExpired)
        );
    }

    pub fn sliding_tokens_follow_the_session(b: &dyn Backend) {
        let clock = clock();
        let e = engine(b.store(&fresh_namespace("sliding")), config(), &clock);
        let t = e.login_sliding("gina", None).unwrap();
        assert!(e.validate_sliding(&t.token).is_ok());
        clock.advance(10);
        let t2 = e.refresh_sliding(&t.token).unwrap();
        assert_eq!(t2.session_id, t.session_id);
        e.revoke(&t2.token).unwrap();
        assert_eq!(e.validate_sliding(&t.token), Err(Error::Revoked));
        assert_eq!(e.refresh_sliding(&t2.token), Err(Error::Revoked));
    }

    pub fn stats_count_what_the_store_holds(b: &dyn Backend) {
        let clock = clock();
        let mut cfg = config();
        cfg.accept_sessionless = true;
        let e = engine(b.store(&fresh_namespace("stats")), cfg, &clock);
        let st = e.stats().unwrap();
        assert_eq!(
            (
                st.sessions,
                st.revoked_sessions,
                st.denied_jtis,
                st.user_epochs
            ),
            (0, 0, 0, 0)
        );
        let a = e.login("hank", None).unwrap();
        e.login("hank", None).unwrap();
        e.login("ivy", None).unwrap();
        e.revoke(&a.access).unwrap();
        e.revoke(&sessionless("access", "ivy", clock.now(), 300))
            .unwrap();
        e.revoke_user("ivy").unwrap();
        let st = e.stats().unwrap();
        assert_eq!(
            (
                st.sessions,
                st.revoked_sessions,
                st.denied_jtis,
                st.user_epochs
            ),
            (3, 2, 1, 1)
        );
    }

    /// Two engines on one shared store: what one does, the other sees on its next call.
    pub fn engines_share_sessions(b: &dyn Backend) {
        let ns = fresh_namespace("shared");
        let clock = clock();
        let one = engine(b.store(&ns), config(), &clock);
        let two = engine(b.store(&ns), config(), &clock);

        let pair = one.login("jack", None).unwrap();
        assert!(
            two.validate(&pair.access).is_ok(),
            "a login is seen everywhere"
        );
        let rotated = two.refresh(pair.refresh.as_deref().unwrap()).unwrap();
        assert!(one.validate(&rotated.access).is_ok());
        assert_eq!(
            one.refresh(pair.refresh.as_deref().unwrap()),
            Err(Error::ReuseDetected),
            "a rotation in one is known to the other"
        );
        assert_eq!(two.validate(&rotated.access), Err(Error::Revoked));

        let pair = two.login("jack", None).unwrap();
        assert!(one.validate(&pair.access).is_ok());
        one.revoke(pair.refresh.as_deref().unwrap()).unwrap(); // logout in one
        assert_eq!(two.validate(&pair.access), Err(Error::Revoked));

        let pair = one.login("jack", None).unwrap();
        assert_eq!(two.revoke_user("jack"), Ok(1));
        assert_eq!(one.validate(&pair.access), Err(Error::Revoked));
    }

    /// 2 engines x THREADS threads refresh one token at once. Without grace exactly one
    /// rotation wins and the rest are reuse (the session is then revoked); with grace every
    /// caller gets the same next token. The chain never forks.
    pub fn concurrent_refreshes_never_fork(b: &dyn Backend) {
        const THREADS: usize = 8;
        for grace in [0u64, 30] {
            let ns = fresh_namespace("race");
            let clock = clock();
            let mut cfg = config();
            cfg.reuse_grace_s = grace;
            let engines = [
                engine(b.store(&ns), cfg.clone(), &clock),
                engine(b.store(&ns), cfg, &clock),
            ];
            for _round in 0..3 {
                let token = engines[0].login("kate", None).unwrap().refresh.unwrap();
                let barrier = std::sync::Barrier::new(2 * THREADS);
                let results: Vec<Result<Option<String>, Error>> = std::thread::scope(|s| {
                    let handles: Vec<_> = (0..2 * THREADS)
                        .map(|i| {
                            let e = &engines[i % 2];
                            let (token, barrier) = (&token, &barrier);
                            s.spawn(move || {
                                barrier.wait();
                                e.refresh(token).map(|p| p.refresh)
                            })
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap()).collect()
                });
                let mut next: Vec<String> = results
                    .iter()
                    .filter_map(|r| r.as_ref().ok().cloned().flatten())
                    .collect();
                next.dedup();
                let failures: Vec<&Error> =
                    results.iter().filter_map(|r| r.as_ref().err()).collect();
                if grace == 0 {
                    assert_eq!(next.len(), 1, "exactly one rotation wins: {results:?}");
                    assert!(failures.iter().all(|e| matches!(e, Error::ReuseDetected)));
                    assert!(failures.contains(&&Error::ReuseDetected));
                    assert_eq!(engines[1].refresh(&next[0]), Err(Error::Revoked));
                } else {
                    assert!(failures.is_empty(), "{failures:?}");
                    assert_eq!(next.len(), 1, "everyone converges on one token");
                    assert!(engines[1].refresh(&next[0]).is_ok(), "the chain goes on");
                }
            }
        }
    }
}

/// One `#[test]` per behaviour for a backend.
macro_rules! store_suite {
    ($name:ident, $backend:expr) => {
        mod $name {
            use super::*;

            fn backend() -> impl Backend {
                $backend
            }

            #[test]
            fn login_validate_refresh() {
                suite::login_validate_refresh(&backend());
            }
            #[test]
            fn reuse_revokes_the_session() {
                suite::reuse_revokes_the_session(&backend());
            }
            #[test]
            fn previous_token_converges_in_grace() {
                suite::previous_token_converges_in_grace(&backend());
            }
            #[test]
            fn logout_and_revoke_session() {
                suite::logout_and_revoke_session(&backend());
            }
            #[test]
            fn revoke_user_revokes_every_session() {
                suite::revoke_user_revokes_every_session(&backend());
            }
            #[test]
            fn sessionless_denylist() {
                suite::sessionless_denylist(&backend());
            }
            #[test]
            fn idle_timeout_slides() {
                suite::idle_timeout_slides(&backend());
            }
            #[test]
            fn idle_deadline_never_passes_absolute() {
                suite::idle_deadline_never_passes_absolute(&backend());
            }
            #[test]
            fn absolute_lifetime_ends_the_session() {
                suite::absolute_lifetime_ends_the_session(&backend());
            }
            #[test]
            fn sliding_tokens_follow_the_session() {
                suite::sliding_tokens_follow_the_session(&backend());
            }
            #[test]
            fn stats_count_what_the_store_holds() {
                suite::stats_count_what_the_store_holds(&backend());
            }
            #[test]
            fn engines_share_sessions() {
                suite::engines_share_sessions(&backend());
            }
            #[test]
            fn concurrent_refreshes_never_fork() {
                suite::concurrent_refreshes_never_fork(&backend());
            }
        }
    };
}

/// Memory stores, one per namespace: two handles on one namespace are one store.
#[derive(Default)]
struct Memory {
    stores: parking_lot::Mutex<std::collections::HashMap<String, Arc<dyn SessionStore>>>,
}

impl Backend for Memory {
    fn store(&self, namespace: &str) -> Arc<dyn SessionStore> {
        self.stores
            .lock()
            .entry(namespace.to_owned())
            .or_insert_with(|| Arc::new(keyfob::store::MemoryStore::new()))
            .clone()
    }
}

store_suite!(memory, Memory::default());

#[cfg(not(feature = "redis"))]
#[test]
fn a_redis_url_without_the_feature_is_a_config_error() {
    let mut cfg = config();
    cfg.store = "redis://127.0.0.1:6379/0".into();
    let err = Engine::new(cfg).unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("\"redis\" feature")),
        "{err}"
    );
}

#[cfg(feature = "redis")]
mod redis_backend {
    use std::net::TcpListener;
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use super::*;
    use keyfob::store::RedisStore;

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

    store_suite!(redis, Redis { url: shared_url() });

    /// A private redis-server this test can stop, freeze and restart; killed on drop.
    struct Server {
        child: Option<Child>,
        port: u16,
        dir: PathBuf,
    }

    impl Server {
        fn start() -> Server {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let dir =
                std::env::temp_dir().join(format!("keyfob-redis-{port}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let mut s = Server {
                child: None,
                port,
                dir,
            };
            s.restart();
            s
        }

        fn url(&self) -> String {
            format!("redis://127.0.0.1:{}/0", self.port)
        }

        /// (Re)start on the same port and directory: the append-only file, fsynced on every
        /// write, carries the data over a kill -9.
        fn restart(&mut self) {
            let bin = std::env::var("KEYFOB_TEST_REDIS_SERVER").unwrap_or("redis-server".into());
            let child = Command::new(bin)
                .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
                .args([
                    "--save",
                    "",
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                ])
                .arg("--dir")
                .arg(&self.dir)
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server (install it, or run scripts/test-redis.sh)");
            self.child = Some(child);
            let deadline = Instant::now() + Duration::from_secs(20);
            let client = ::redis::Client::open(self.url()).unwrap();
            loop {
                let ready = client
                    .get_connection_with_timeout(Duration::from_millis(200))
                    .and_then(|mut c| ::redis::cmd("PING").query::<String>(&mut c));
                if ready.is_ok() {
                    return;
                }
                assert!(Instant::now() < deadline, "redis-server did not start");
                std::thread::sleep(Duration::from_millis(50));
            }
        }

        fn kill(&mut self) {
            if let Some(mut c) = self.child.take() {
                c.kill().ok();
                c.wait().ok();
            }
        }

        fn signal(&self, sig: &str) {
            let pid = self.child.as_ref().expect("running").id().to_string();
            let ok = Command::new("kill").args([sig, &pid]).status().unwrap();
            assert!(ok.success());
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            if let Some(c) = self.child.as_mut() {
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
        let one = Engine::with_parts(cfg.clone(), Arc::new(clock.clone()), None).unwrap();
        let two = Engine::with_parts(cfg.clone(), Arc::new(clock.clone()), None).unwrap();
        let pair = one.login("lena", None).unwrap();
        assert!(
            two.validate(&pair.access).is_ok(),
            "both engines reach one Redis"
        );

        cfg.store_prefix = fresh_namespace("config-other");
        let elsewhere = Engine::with_parts(cfg, Arc::new(clock), None).unwrap();
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
        let mut server = Server::start();
        let clock = clock();
        let mut cfg = config();
        cfg.store = server.url();
        cfg.store_prefix = fresh_namespace("down");
        cfg.store_timeout_ms = 500;
        let e = Arc::new(Engine::with_parts(cfg, Arc::new(clock.clone()), None).unwrap());
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
        let server = Server::start();
        let clock = clock();
        let mut cfg = config();
        cfg.store = server.url();
        cfg.store_timeout_ms = 5_000; // not about timeouts: never flaky on a busy machine
        let e = Engine::with_parts(cfg, Arc::new(clock.clone()), None).unwrap();
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

    /// How many HSETs the server has run (scripts' writes included) since the last reset.
    fn hset_calls(conn: &mut ::redis::Connection) -> u64 {
        let info: String = ::redis::cmd("INFO")
            .arg("commandstats")
            .query(conn)
            .unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("cmdstat_hset:calls="))
            .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
            .unwrap_or(0)
    }

    #[test]
    fn touches_within_one_second_coalesce_into_no_write() {
        let server = Server::start();
        let clock = clock();
        let mut cfg = config();
        cfg.store = server.url();
        cfg.store_timeout_ms = 5_000; // not about timeouts: never flaky on a busy machine
        let e = Engine::with_parts(cfg, Arc::new(clock.clone()), None).unwrap();
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
        let session_ttl = ttl(&mut conn, format!("{ns}s:{}", pair.session_id));
        assert!((43_000..=43_200).contains(&session_ttl), "{session_ttl}");
        // Denylist entries expire at their `until`, epochs when nothing they cover can live.
        let store = Redis { url: shared_url() }.store(&ns);
        let now = clock.now();
        assert!(store.deny_jti("jti-1", now + 60, now).unwrap());
        let denied_ttl = ttl(&mut conn, format!("{ns}d:jti-1"));
        assert!((50..=60).contains(&denied_ttl), "{denied_ttl}");
        e.revoke_user("olga").unwrap();
        let epoch_ttl = ttl(&mut conn, format!("{ns}e:olga"));
        assert!((43_000..=43_200).contains(&epoch_ttl), "{epoch_ttl}");
    }

    /// A user's set of sids drops sessions that Redis has expired, amortized over logins.
    #[test]
    fn a_users_set_forgets_ended_sessions() {
        let ns = fresh_namespace("prune");
        let clock = clock();
        let e = engine(Redis { url: shared_url() }.store(&ns), config(), &clock);
        let sids: Vec<String> = (0..63)
            .map(|_| e.login("rita", None).unwrap().session_id)
            .collect();
        let mut conn = ::redis::Client::open(shared_url())
            .unwrap()
            .get_connection()
            .unwrap();
        for sid in &sids[..10] {
            // As if their TTL had run out.
            let _: i64 = ::redis::cmd("DEL")
                .arg(format!("{ns}s:{sid}"))
                .query(&mut conn)
                .unwrap();
        }
        let members = |conn: &mut ::redis::Connection| -> i64 {
            ::redis::cmd("SCARD")
                .arg(format!("{ns}u:rita"))
                .query(conn)
                .unwrap()
        };
        assert_eq!(members(&mut conn), 63);
        e.login("rita", None).unwrap(); // the 64th member triggers a prune
        assert_eq!(members(&mut conn), 54);
        assert_eq!(e.revoke_user("rita"), Ok(54));
    }
}
