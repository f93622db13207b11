//! The store conformance suite: the engine's behaviour on a store, one function per
//! behaviour, parametrized by a store factory ([`Backend`]). Each store mounts it once with
//! [`mount!`]: `tests/store_memory.rs` for the memory store, `tests/store_redis.rs` for Redis
//! (feature `redis`; `bash scripts/test-redis.sh` starts a Redis and sets
//! `KEYFOB_TEST_REDIS_URL`).
use std::sync::Arc;

use keyfob::store::SessionStore;
use keyfob::{Clock, Config, Engine, Error, ManualClock, SystemClock};

const SECRET: &str = "store-conformance-secret-of-32-bytes-or-more";

/// Makes stores. Handles made with the same `namespace` share their data, as two processes
/// pointing at one Redis do; different namespaces never see each other.
pub trait Backend: Sync {
    /// A store handle on `namespace`.
    fn store(&self, namespace: &str) -> Arc<dyn SessionStore>;
}

/// A namespace no other test (or earlier run) uses.
pub fn fresh_namespace(test: &str) -> String {
    let id = keyfob::session::Id::random().expect("random");
    format!("keyfob-test:{test}:{id}:")
}

pub fn config() -> Config {
    Config::with_secret(SECRET)
}

/// Manual time starting at the wall clock's, so Redis's own TTLs (which run on real time
/// and are set relative to the engine's `now`) stay far away during a test.
pub fn clock() -> ManualClock {
    ManualClock::new(SystemClock.now())
}

pub fn engine(store: Arc<dyn SessionStore>, cfg: Config, clock: &ManualClock) -> Engine {
    Engine::builder(cfg)
        .clock(clock.clone())
        .store(store)
        .build()
        .expect("valid config")
}

/// A sessionless HS256 token in simplejwt's layout, as a pre-migration issuer minted it.
pub fn sessionless(token_type: &str, user_id: &str, iat: i64, lifetime: i64) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let jti = keyfob::session::Id::random().expect("random");
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

pub fn sid_of(e: &Engine, token: &str) -> keyfob::session::Id {
    let claims = e.verify(token).expect("a live token");
    keyfob::session::Id::parse(claims.sid().expect("sid")).expect("hex sid")
}

pub mod events;
pub mod sessions;

/// The behaviours, each a function of the backend.
pub mod suite {
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
        let unknown = keyfob::session::Id::parse(&format!("{:032x}", 42)).unwrap();
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
        e.revoke(sessionless("access", "ivy", clock.now(), 300))
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

/// Mount the suite for one store: `conformance::mount!(name, backend)` makes a module `name`
/// with one `#[test]` per behaviour, each on a store from `backend`.
macro_rules! mount {
    ($name:ident, $backend:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn backend() -> impl $crate::conformance::Backend {
                $backend
            }

            #[test]
            fn login_validate_refresh() {
                $crate::conformance::suite::login_validate_refresh(&backend());
            }
            #[test]
            fn reuse_revokes_the_session() {
                $crate::conformance::suite::reuse_revokes_the_session(&backend());
            }
            #[test]
            fn previous_token_converges_in_grace() {
                $crate::conformance::suite::previous_token_converges_in_grace(&backend());
            }
            #[test]
            fn logout_and_revoke_session() {
                $crate::conformance::suite::logout_and_revoke_session(&backend());
            }
            #[test]
            fn revoke_user_revokes_every_session() {
                $crate::conformance::suite::revoke_user_revokes_every_session(&backend());
            }
            #[test]
            fn sessionless_denylist() {
                $crate::conformance::suite::sessionless_denylist(&backend());
            }
            #[test]
            fn idle_timeout_slides() {
                $crate::conformance::suite::idle_timeout_slides(&backend());
            }
            #[test]
            fn idle_deadline_never_passes_absolute() {
                $crate::conformance::suite::idle_deadline_never_passes_absolute(&backend());
            }
            #[test]
            fn absolute_lifetime_ends_the_session() {
                $crate::conformance::suite::absolute_lifetime_ends_the_session(&backend());
            }
            #[test]
            fn sliding_tokens_follow_the_session() {
                $crate::conformance::suite::sliding_tokens_follow_the_session(&backend());
            }
            #[test]
            fn stats_count_what_the_store_holds() {
                $crate::conformance::suite::stats_count_what_the_store_holds(&backend());
            }
            #[test]
            fn engines_share_sessions() {
                $crate::conformance::suite::engines_share_sessions(&backend());
            }
            #[test]
            fn concurrent_refreshes_never_fork() {
                $crate::conformance::suite::concurrent_refreshes_never_fork(&backend());
            }
            $crate::conformance::sessions::mount_sessions!();
        }
    };
}

pub(crate) use mount;
