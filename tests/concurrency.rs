//! The engine shared across threads: racing refreshes of one refresh token converge on one
//! rotation, and a mixed load of validate/refresh/revoke never deadlocks or panics.

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use common::*;
use keyfob::session::Id;
use keyfob::store::SessionStore;
use keyfob::{Config, Engine, Error, TokenPair};

const THREADS: usize = 8;
const ROUNDS: usize = 25;

/// `THREADS` threads, released together by a barrier, each refresh `token` once.
fn race(engine: &Engine, token: &str) -> Vec<Result<TokenPair, Error>> {
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    engine.refresh(token)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn jti_of(token: &str) -> Id {
    Id::parse(payload_of(token)["jti"].as_str().unwrap()).unwrap()
}

#[test]
fn racing_refreshes_inside_grace_converge_on_one_rotation() {
    let mut cfg = config();
    cfg.reuse_grace_s = 5;
    let (engine, _, store) = engine_with_store(cfg);
    for _ in 0..ROUNDS {
        let pair = engine.login("alice", None).unwrap();
        let sid = Id::parse(&pair.session_id).unwrap();
        let r0 = pair.refresh.unwrap();
        let results = race(&engine, &r0);

        let tokens: Vec<String> = results
            .iter()
            .map(|r| r.as_ref().expect("inside grace nobody fails").clone())
            .map(|p| p.refresh.expect("rotating"))
            .collect();
        // Every caller holds the very same next refresh token, byte for byte.
        assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:#?}");
        let next = &tokens[0];
        assert_ne!(*next, r0);
        // The session has exactly one current refresh token, and it is that one; the
        // chain is r0 → next, so exactly one rotation happened.
        let session = store.get(sid).unwrap().unwrap();
        assert_eq!(session.current_jti, jti_of(next));
        assert_eq!(session.previous_jti, Some(jti_of(&r0)));
        assert!(!session.revoked);
        // Every access token handed out works, and the chain goes on from `next`.
        for r in &results {
            engine.validate(&r.as_ref().unwrap().access).unwrap();
        }
        engine.refresh(next).unwrap();
    }
}

#[test]
fn racing_refreshes_without_grace_are_one_winner_and_reuse() {
    let (engine, _, store) = engine_with_store(config());
    for _ in 0..ROUNDS {
        let pair = engine.login("alice", None).unwrap();
        let sid = Id::parse(&pair.session_id).unwrap();
        let r0 = pair.refresh.unwrap();
        let results = race(&engine, &r0);

        let winners: Vec<&TokenPair> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "exactly one rotation wins: {results:?}");
        for r in &results {
            if let Err(e) = r {
                assert_eq!(*e, Error::ReuseDetected);
            }
        }
        // The replays revoked the session; the one current token is the winner's.
        let session = store.get(sid).unwrap().unwrap();
        assert!(session.revoked);
        let winner = winners[0].refresh.as_deref().unwrap();
        assert_eq!(session.current_jti, jti_of(winner));
        assert_eq!(engine.validate(&winners[0].access), Err(Error::Revoked));
        assert_eq!(engine.refresh(winner), Err(Error::Revoked));
    }
}

#[test]
fn racing_sessionless_refreshes_upgrade_once() {
    let mut cfg = config();
    cfg.accept_sessionless = true;
    let (engine, _) = engine_at(cfg);
    for _ in 0..ROUNDS {
        let token = forge(&simplejwt_claims(
            "refresh",
            serde_json::json!(7),
            T0 - 10,
            3_600,
        ));
        let results = race(&engine, &token);
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "{results:?}");
        // Losers that find the jti already denied say `revoked`; those that raced the
        // check-and-deny itself say `reuse_detected`. Nobody gets a second session.
        assert!(results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, Error::ReuseDetected | Error::Revoked)));
        assert_eq!(engine.refresh(&token).unwrap_err(), Error::Revoked);
    }
}

/// Mixed load from many threads on one engine: logins, validations, refreshes (including
/// of shared, contended tokens), revocations of tokens, sessions and users, sweeps and
/// stats. Each call must return (never panic) with a result its situation allows.
#[test]
fn mixed_load_never_deadlocks_or_panics() {
    let mut cfg = config();
    cfg.reuse_grace_s = 1;
    cfg.accept_sessionless = true;
    cfg.idle_timeout_s = 30;
    let (engine, clock) = engine_at(cfg);
    let engine = Arc::new(engine);
    let shared: Arc<Vec<TokenPair>> = Arc::new(
        (0..4)
            .map(|i| engine.login(&format!("shared-{i}"), None).unwrap())
            .collect(),
    );

    // A deadlock would hang the test run forever; a watchdog turns it into a failure.
    let (done_tx, done_rx) = mpsc::channel();
    let barrier = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (engine, shared, clock, barrier, done_tx) = (
                engine.clone(),
                shared.clone(),
                clock.clone(),
                barrier.clone(),
                done_tx.clone(),
            );
            thread::spawn(move || {
                barrier.wait();
                for i in 0..300 {
                    let user = format!("user-{}", (t * 7 + i) % 5);
                    let pair = engine.login(&user, None).unwrap();
                    allowed(engine.validate(&pair.access).map(drop));
                    let mine = engine.refresh(pair.refresh.as_deref().unwrap());
                    allowed(mine.as_ref().map(drop).map_err(Clone::clone));
                    let s = &shared[i % shared.len()];
                    allowed(engine.validate(&s.access).map(drop));
                    allowed(engine.refresh(s.refresh.as_deref().unwrap()).map(drop));
                    allowed(engine.verify(&s.access).map(drop));
                    match i % 10 {
                        0 => allowed(engine.revoke(&pair.access)),
                        1 => allowed(engine.revoke_session(&pair.session_id).map(drop)),
                        2 => allowed(engine.revoke_user(&user).map(drop)),
                        3 => allowed(engine.sweep().map(drop)),
                        4 => allowed(engine.stats().map(drop)),
                        5 => clock.advance(1),
                        6 => {
                            let sl = engine.login_sliding(&user, None).unwrap();
                            allowed(engine.refresh_sliding(&sl.token).map(drop));
                            allowed(engine.validate_sliding(&sl.token).map(drop));
                        }
                        7 => {
                            let t = forge(&simplejwt_claims(
                                "access",
                                serde_json::json!(user),
                                clock_now(&engine),
                                300,
                            ));
                            allowed(engine.validate(&t).map(drop));
                            allowed(engine.revoke(&t));
                        }
                        _ => {}
                    }
                    if let Ok(next) = mine {
                        allowed(engine.validate(&next.access).map(drop));
                    }
                }
                done_tx.send(t).unwrap();
            })
        })
        .collect();
    drop(done_tx);
    for _ in 0..THREADS {
        done_rx
            .recv_timeout(Duration::from_secs(300))
            .expect("a worker is stuck (deadlock?) or panicked");
    }
    for w in workers {
        w.join().expect("no worker panics");
    }
    // The engine is still fully usable.
    let pair = engine.login("after", None).unwrap();
    engine.validate(&pair.access).unwrap();
}

fn clock_now(engine: &Engine) -> i64 {
    engine.now()
}

/// The outcomes a call may have under this load: success, or one of the session verdicts
/// (never a malformed/signature/internal error for tokens the engine itself issued).
fn allowed(r: Result<(), Error>) {
    match r {
        Ok(())
        | Err(Error::Revoked)
        | Err(Error::ReuseDetected)
        | Err(Error::SessionIdle)
        | Err(Error::SessionUnknown)
        | Err(Error::Expired) => {}
        Err(other) => panic!("unexpected outcome under load: {other:?}"),
    }
}

#[test]
fn engine_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<Config>();
    assert_send_sync::<Error>();
}
