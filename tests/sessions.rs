//! Session time rules on a ManualClock, to the second: expiry at exactly `exp`, leeway,
//! the sliding idle timeout, the absolute lifetime, and sliding (single) tokens.

mod common;

use common::*;
use keyfob::{Config, Error};

/// access 300 s, idle 60 s, absolute 3600 s, sliding tokens 120 s.
fn short() -> Config {
    let mut cfg = config();
    cfg.access_lifetime_s = 300;
    cfg.idle_timeout_s = 60;
    cfg.refresh_lifetime_s = 3_600;
    cfg.sliding_lifetime_s = 120;
    cfg
}

#[test]
fn only_tokens_of_exactly_the_minted_claims_say_so() {
    // Bindings build their claims mapping from the typed fields when this holds.
    let (engine, _) = engine_at(short());
    let pair = engine.login("alice", None).unwrap();
    let minted = |claims: keyfob::Claims| keyfob::internal::is_minted_layout(&claims);
    assert!(minted(engine.validate(&pair.access).unwrap()));
    let refresh = pair.refresh.as_deref().unwrap();
    assert!(minted(engine.verify(refresh).unwrap()));
    let extra = serde_json::json!({"scope": "read"});
    let with_extra = engine.login("alice", extra.as_object()).unwrap();
    assert!(!minted(engine.validate(&with_extra.access).unwrap()));
    let sliding = engine.login_sliding("alice", None).unwrap();
    assert!(!minted(engine.validate_sliding(&sliding.token).unwrap()));
}

#[test]
fn login_writes_the_documented_claims() {
    let (engine, _) = engine_at(short());
    let pair = engine.login("alice", None).unwrap();
    let access = payload_of(&pair.access);
    let refresh = payload_of(pair.refresh.as_deref().unwrap());
    assert_eq!(access["token_type"], "access");
    assert_eq!(access["exp"], T0 + 300);
    assert_eq!(access["iat"], T0);
    assert_eq!(access["user_id"], "alice");
    assert_eq!(access["sid"], pair.session_id.as_str());
    assert_eq!(refresh["token_type"], "refresh");
    // The refresh token ends with the session's absolute deadline.
    assert_eq!(refresh["exp"], T0 + 3_600);
    assert_eq!(refresh["sid"], pair.session_id.as_str());
    for jti in [&access["jti"], &refresh["jti"]] {
        let jti = jti.as_str().unwrap();
        assert_eq!(jti.len(), 32);
        assert!(jti
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    }
    assert_ne!(access["jti"], refresh["jti"]);
    assert_eq!(pair.session_id.len(), 32);
}

#[test]
fn access_token_expires_at_exactly_exp() {
    let mut cfg = short();
    cfg.idle_timeout_s = 10_000; // keep the session out of the way
    let (engine, clock) = engine_at(cfg);
    let access = engine.login("alice", None).unwrap().access;
    clock.set(T0 + 299);
    engine.validate(&access).unwrap();
    clock.set(T0 + 300);
    assert_eq!(engine.validate(&access), Err(Error::Expired));
    assert_eq!(engine.verify(&access), Err(Error::Expired));
}

#[test]
fn leeway_extends_exp_by_exactly_its_seconds() {
    let mut cfg = short();
    cfg.idle_timeout_s = 10_000;
    cfg.leeway_s = 5;
    let (engine, clock) = engine_at(cfg);
    let access = engine.login("alice", None).unwrap().access;
    clock.set(T0 + 304);
    engine.validate(&access).unwrap();
    clock.set(T0 + 305);
    assert_eq!(engine.validate(&access), Err(Error::Expired));
}

#[test]
fn idle_session_ends_at_exactly_the_idle_timeout() {
    let (engine, clock) = engine_at(short());
    let access = engine.login("alice", None).unwrap().access;
    clock.set(T0 + 59);
    assert_eq!(engine.verify(&access).map(|_| ()), Ok(()));
    // verify does not slide: the deadline is still T0 + 60.
    clock.set(T0 + 60);
    assert_eq!(engine.validate(&access), Err(Error::SessionIdle));
    assert_eq!(engine.verify(&access), Err(Error::SessionIdle));
}

#[test]
fn validate_slides_the_idle_deadline() {
    let (engine, clock) = engine_at(short());
    let pair = engine.login("alice", None).unwrap();
    let access = pair.access;
    // Activity at 59 moves the deadline to 119, at 118 to 178, and so on.
    for t in [59, 118, 177, 236, 295] {
        clock.set(T0 + t);
        engine.validate(&access).unwrap();
    }
    clock.set(T0 + 295 + 59);
    assert_eq!(
        engine.verify(&access),
        Err(Error::Expired),
        "access exp is 300"
    );
    let refresh = pair.refresh.unwrap();
    engine.verify(&refresh).unwrap();
    clock.set(T0 + 295 + 60);
    assert_eq!(engine.verify(&refresh), Err(Error::SessionIdle));
    assert_eq!(engine.refresh(&refresh), Err(Error::SessionIdle));
}

#[test]
fn touch_on_validate_off_leaves_the_deadline() {
    let mut cfg = short();
    cfg.touch_on_validate = false;
    let (engine, clock) = engine_at(cfg);
    let access = engine.login("alice", None).unwrap().access;
    clock.set(T0 + 59);
    engine.validate(&access).unwrap();
    clock.set(T0 + 60);
    assert_eq!(engine.validate(&access), Err(Error::SessionIdle));
}

#[test]
fn refresh_slides_the_idle_deadline() {
    let (engine, clock) = engine_at(short());
    let pair = engine.login("alice", None).unwrap();
    clock.set(T0 + 59);
    let next = engine.refresh(pair.refresh.as_deref().unwrap()).unwrap();
    clock.set(T0 + 118);
    engine.validate(&pair.access).unwrap();
    clock.set(T0 + 177);
    // Still alive: validate at 118 slid it to 178.
    engine.validate(&next.access).unwrap();
    clock.set(T0 + 237);
    assert_eq!(engine.validate(&next.access), Err(Error::SessionIdle));
}

#[test]
fn repeated_touches_within_a_second_leave_one_deadline() {
    let (engine, clock, store) = engine_with_store(short());
    let pair = engine.login("alice", None).unwrap();
    let sid = keyfob::session::Id::parse(&pair.session_id).unwrap();
    clock.set(T0 + 10);
    for _ in 0..5 {
        engine.validate(&pair.access).unwrap();
    }
    use keyfob::store::SessionStore;
    assert_eq!(store.get(sid).unwrap().unwrap().idle_deadline, T0 + 70);
    // Going back in time (a skewed clock) never pulls the deadline back.
    clock.set(T0 + 5);
    engine.validate(&pair.access).unwrap();
    assert_eq!(store.get(sid).unwrap().unwrap().idle_deadline, T0 + 70);
}

#[test]
fn absolute_lifetime_never_moves() {
    let mut cfg = short();
    cfg.refresh_lifetime_s = 200;
    cfg.access_lifetime_s = 100;
    cfg.leeway_s = 30; // lets the session's own deadline answer before the token's exp
    let (engine, clock, store) = engine_with_store(cfg);
    let pair = engine.login("alice", None).unwrap();
    let sid = keyfob::session::Id::parse(&pair.session_id).unwrap();
    let mut refresh = pair.refresh.unwrap();
    let mut access = pair.access;
    for t in [50, 100, 150, 190] {
        clock.set(T0 + t);
        let next = engine.refresh(&refresh).unwrap();
        refresh = next.refresh.unwrap();
        access = next.access;
        assert_eq!(
            payload_of(&refresh)["exp"],
            T0 + 200,
            "refresh exp is absolute"
        );
        use keyfob::store::SessionStore;
        let session = store.get(sid).unwrap().unwrap();
        assert_eq!(session.absolute_deadline, T0 + 200);
        assert!(session.idle_deadline <= T0 + 200);
    }
    // The last access token was clipped to the absolute deadline.
    assert_eq!(payload_of(&access)["exp"], T0 + 200);
    clock.set(T0 + 199);
    engine.validate(&access).unwrap();
    clock.set(T0 + 200);
    // Token exp passed but within leeway; the session itself is over.
    assert_eq!(engine.validate(&access), Err(Error::SessionExpired));
    assert_eq!(engine.refresh(&refresh), Err(Error::SessionExpired));
    clock.set(T0 + 230);
    assert_eq!(engine.validate(&access), Err(Error::Expired));
}

#[test]
fn access_exp_is_clipped_to_the_absolute_deadline() {
    let mut cfg = short();
    cfg.refresh_lifetime_s = 100;
    cfg.access_lifetime_s = 300;
    let (engine, _) = engine_at(cfg);
    let pair = engine.login("alice", None).unwrap();
    assert_eq!(payload_of(&pair.access)["exp"], T0 + 100);
}

#[test]
fn idle_deadline_is_capped_by_the_absolute_deadline() {
    let mut cfg = short();
    cfg.refresh_lifetime_s = 30;
    cfg.idle_timeout_s = 60;
    let (engine, clock) = engine_at(cfg);
    let pair = engine.login("alice", None).unwrap();
    clock.set(T0 + 29);
    engine.validate(&pair.access).unwrap();
    clock.set(T0 + 30);
    assert_eq!(engine.validate(&pair.access), Err(Error::Expired));
}

#[test]
fn refresh_without_rotation_returns_access_only() {
    let mut cfg = short();
    cfg.rotate_refresh = false;
    let (engine, clock) = engine_at(cfg);
    let pair = engine.login("alice", None).unwrap();
    let refresh = pair.refresh.unwrap();
    clock.set(T0 + 30);
    let first = engine.refresh(&refresh).unwrap();
    assert_eq!(first.refresh, None);
    assert_eq!(first.session_id, pair.session_id);
    // The same refresh token keeps working, and keeps the session alive.
    clock.set(T0 + 89);
    let second = engine.refresh(&refresh).unwrap();
    engine.validate(&second.access).unwrap();
    assert_eq!(payload_of(&second.access)["iat"], T0 + 89);
    clock.set(T0 + 149);
    assert_eq!(engine.refresh(&refresh), Err(Error::SessionIdle));
}

// ---- sliding tokens ----

#[test]
fn sliding_token_claims() {
    let (engine, _) = engine_at(short());
    let sliding = engine.login_sliding("alice", None).unwrap();
    let claims = payload_of(&sliding.token);
    assert_eq!(claims["token_type"], "sliding");
    assert_eq!(claims["exp"], T0 + 120);
    assert_eq!(claims["refresh_exp"], T0 + 3_600);
    assert_eq!(claims["sid"], sliding.session_id.as_str());
    let validated = engine.validate_sliding(&sliding.token).unwrap();
    assert_eq!(validated.refresh_exp(), Some(T0 + 3_600));
}

#[test]
fn sliding_token_expires_at_exactly_exp_and_refreshes_before() {
    let mut cfg = short();
    cfg.idle_timeout_s = 1_000;
    let (engine, clock) = engine_at(cfg);
    let token = engine.login_sliding("alice", None).unwrap().token;
    clock.set(T0 + 119);
    engine.validate_sliding(&token).unwrap();
    let renewed = engine.refresh_sliding(&token).unwrap().token;
    assert_eq!(payload_of(&renewed)["exp"], T0 + 119 + 120);
    assert_eq!(payload_of(&renewed)["refresh_exp"], T0 + 3_600);
    clock.set(T0 + 120);
    assert_eq!(engine.validate_sliding(&token), Err(Error::Expired));
    assert_eq!(engine.refresh_sliding(&token), Err(Error::Expired));
    engine.validate_sliding(&renewed).unwrap();
}

#[test]
fn sliding_token_cannot_outlive_refresh_exp() {
    let mut cfg = short();
    cfg.idle_timeout_s = 1_000;
    cfg.refresh_lifetime_s = 300;
    let (engine, clock) = engine_at(cfg);
    let mut token = engine.login_sliding("alice", None).unwrap().token;
    for t in [100, 200, 250] {
        clock.set(T0 + t);
        token = engine.refresh_sliding(&token).unwrap().token;
    }
    // 250 + 120 would pass the absolute deadline: clipped to it.
    assert_eq!(payload_of(&token)["exp"], T0 + 300);
    clock.set(T0 + 299);
    engine.refresh_sliding(&token).unwrap();
    clock.set(T0 + 300);
    assert_eq!(engine.refresh_sliding(&token), Err(Error::Expired));
}

#[test]
fn sliding_session_idles_out() {
    let (engine, clock) = engine_at(short());
    let token = engine.login_sliding("alice", None).unwrap().token;
    clock.set(T0 + 59);
    let renewed = engine.refresh_sliding(&token).unwrap().token;
    clock.set(T0 + 118);
    engine.validate_sliding(&renewed).unwrap();
    clock.set(T0 + 178);
    assert_eq!(engine.validate_sliding(&renewed), Err(Error::SessionIdle));
    assert_eq!(engine.refresh_sliding(&renewed), Err(Error::SessionIdle));
}

#[test]
fn stats_count_sessions() {
    let (engine, _) = engine_at(short());
    engine.login("alice", None).unwrap();
    engine.login_sliding("bob", None).unwrap();
    let pair = engine.login("carol", None).unwrap();
    engine.revoke(&pair.access).unwrap();
    let stats = engine.stats().unwrap();
    assert_eq!(stats.sessions, 3);
    assert_eq!(stats.revoked_sessions, 1);
}

#[test]
fn engine_now_is_the_clock() {
    let (engine, clock) = engine_at(short());
    assert_eq!(engine.now(), T0);
    clock.advance(42);
    assert_eq!(engine.now(), T0 + 42);
}
