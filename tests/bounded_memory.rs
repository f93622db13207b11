//! Bounded memory: ended sessions and expired denylist entries go away through the
//! amortized sweeping inside writes, without anyone calling `sweep`.

mod common;

use common::*;
use keyfob::{Config, Error};
use serde_json::json;

const SESSIONS: usize = 100_000;

fn short_sessions() -> Config {
    let mut cfg = config();
    cfg.idle_timeout_s = 60;
    cfg.refresh_lifetime_s = 600;
    cfg
}

#[test]
fn a_hundred_thousand_expired_sessions_are_dropped_by_writes_alone() {
    let (engine, clock) = engine_at(short_sessions());
    for i in 0..SESSIONS {
        engine.login(&format!("user-{}", i % 1_000), None).unwrap();
    }
    assert_eq!(engine.stats().unwrap().sessions, SESSIONS);

    // Every one of them idles out. Traffic goes on: batches of new logins, each of which
    // idles out in turn, and nobody calls `sweep`.
    clock.advance(61);
    let mut batches = 0;
    let mut held = SESSIONS;
    while held >= SESSIONS / 10 {
        assert!(
            batches < 100,
            "writes should have swept the dead sessions: {held} still held"
        );
        for _ in 0..1_000 {
            engine.login("newcomer", None).unwrap();
        }
        batches += 1;
        clock.advance(61);
        held = engine.stats().unwrap().sessions;
    }
    // The table shrank to a fraction of its peak; the engine is fully usable.
    assert!(held < SESSIONS / 10, "{held}");
    let pair = engine.login("last", None).unwrap();
    engine.validate(&pair.access).unwrap();
}

#[test]
fn explicit_sweep_drops_every_ended_session_and_reports_the_count() {
    let (engine, clock) = engine_at(short_sessions());
    let pairs: Vec<_> = (0..500)
        .map(|i| engine.login(&format!("u{i}"), None).unwrap())
        .collect();
    // Keep 100 alive by using them.
    clock.advance(59);
    for pair in &pairs[..100] {
        engine.validate(&pair.access).unwrap();
    }
    clock.advance(1);
    assert_eq!(engine.sweep(), Ok(400));
    assert_eq!(engine.stats().unwrap().sessions, 100);
    assert_eq!(engine.sweep(), Ok(0));
    engine.validate(&pairs[0].access).unwrap();
    // A swept session is unknown now.
    assert_eq!(
        engine.validate(&pairs[400].access),
        Err(Error::SessionUnknown)
    );
}

#[test]
fn revoked_sessions_are_kept_until_they_would_have_ended() {
    // Until then a revoked token must keep answering `revoked`, not `session_unknown`.
    let (engine, clock) = engine_at(short_sessions());
    let pair = engine.login("alice", None).unwrap();
    engine.revoke(&pair.access).unwrap();
    assert_eq!(engine.sweep(), Ok(0));
    clock.advance(59);
    assert_eq!(engine.validate(&pair.access), Err(Error::Revoked));
    clock.advance(1);
    assert_eq!(engine.sweep(), Ok(1));
    assert_eq!(engine.stats().unwrap().revoked_sessions, 0);
}

#[test]
fn expired_denylist_entries_are_dropped_by_writes_alone() {
    let mut cfg = short_sessions();
    cfg.accept_sessionless = true;
    let (engine, clock) = engine_at(cfg);
    const DENIED: usize = 5_000;
    for _ in 0..DENIED {
        let token = forge(&simplejwt_claims("access", json!(1), T0, 100));
        engine.revoke(&token).unwrap();
    }
    assert_eq!(engine.stats().unwrap().denied_jtis, DENIED);
    // Past their expiry the entries can never matter again.
    clock.advance(100);
    let now = engine.now();
    let mut revoked = 0;
    // New denials are live; what must go is the old, expired ones.
    while engine.stats().unwrap().denied_jtis - revoked > DENIED / 10 {
        assert!(revoked < DENIED, "writes should have swept the denylist");
        let token = forge(&simplejwt_claims("access", json!(1), now, 100));
        engine.revoke(&token).unwrap();
        revoked += 1;
    }
    assert!(engine.stats().unwrap().denied_jtis < DENIED);
}

#[test]
fn user_epochs_are_swept_once_every_token_they_cover_has_expired() {
    let (engine, clock) = engine_at(short_sessions());
    engine.revoke_user("alice").unwrap();
    assert_eq!(engine.stats().unwrap().user_epochs, 1);
    assert_eq!(engine.sweep(), Ok(0));
    // The longest token lifetime is the 600 s absolute session lifetime.
    clock.advance(600);
    assert_eq!(engine.sweep(), Ok(1));
    assert_eq!(engine.stats().unwrap().user_epochs, 0);
}
