//! Refresh rotation: one current refresh token per session, the previous one converging
//! inside the grace window (byte-identically), and any other replay revoking the session.

mod common;

use common::*;
use keyfob::session::Id;
use keyfob::store::SessionStore;
use keyfob::{Config, Error};
use serde_json::json;

fn jti_of(token: &str) -> Id {
    Id::parse(payload_of(token)["jti"].as_str().unwrap()).unwrap()
}

fn grace(seconds: u64) -> Config {
    let mut cfg = config();
    cfg.reuse_grace_s = seconds;
    cfg
}

#[test]
fn rotation_issues_a_new_refresh_token_in_the_same_session() {
    let (engine, clock, store) = engine_with_store(config());
    let pair = engine.login("alice", None).unwrap();
    let r0 = pair.refresh.unwrap();
    clock.advance(10);
    let next = engine.refresh(&r0).unwrap();
    let r1 = next.refresh.unwrap();
    assert_ne!(r0, r1);
    assert_eq!(next.session_id, pair.session_id);
    let p1 = payload_of(&r1);
    assert_eq!(p1["sid"], pair.session_id.as_str());
    assert_eq!(p1["iat"], T0 + 10);
    assert_eq!(p1["exp"], payload_of(&r0)["exp"], "absolute deadline kept");
    let session = store
        .get(Id::parse(&pair.session_id).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(session.current_jti, jti_of(&r1));
    assert_eq!(session.previous_jti, Some(jti_of(&r0)));
    assert_eq!(session.current_iat, T0 + 10);
    // The access tokens of before and after both work: one session.
    engine.validate(&pair.access).unwrap();
    engine.validate(&next.access).unwrap();
}

#[test]
fn replaying_a_rotated_token_without_grace_revokes_the_session() {
    let (engine, _) = engine_at(config());
    let pair = engine.login("alice", None).unwrap();
    let r0 = pair.refresh.unwrap();
    let next = engine.refresh(&r0).unwrap();
    assert_eq!(engine.refresh(&r0), Err(Error::ReuseDetected));
    // Every token of the session fails on its next use.
    assert_eq!(engine.validate(&pair.access), Err(Error::Revoked));
    assert_eq!(engine.validate(&next.access), Err(Error::Revoked));
    assert_eq!(
        engine.refresh(next.refresh.as_deref().unwrap()),
        Err(Error::Revoked)
    );
    // A replay stays a replay: it is reported as such, again.
    assert_eq!(engine.refresh(&r0), Err(Error::ReuseDetected));
}

#[test]
fn other_sessions_are_untouched_by_reuse() {
    let (engine, _) = engine_at(config());
    let mine = engine.login("alice", None).unwrap();
    let other = engine.login("alice", None).unwrap();
    let r0 = mine.refresh.unwrap();
    engine.refresh(&r0).unwrap();
    assert_eq!(engine.refresh(&r0), Err(Error::ReuseDetected));
    engine.validate(&other.access).unwrap();
    engine.refresh(other.refresh.as_deref().unwrap()).unwrap();
}

#[test]
fn previous_token_converges_inside_grace_to_the_byte() {
    let (engine, clock) = engine_at(grace(10));
    let r0 = engine.login("alice", None).unwrap().refresh.unwrap();
    clock.set(T0 + 5);
    let first = engine.refresh(&r0).unwrap();
    let r1 = first.refresh.clone().unwrap();
    clock.set(T0 + 14);
    let again = engine.refresh(&r0).unwrap();
    assert_eq!(
        again.refresh.as_deref(),
        Some(r1.as_str()),
        "byte-identical"
    );
    assert_ne!(again.access, first.access, "a fresh access token each time");
    assert_eq!(payload_of(&again.access)["iat"], T0 + 14);
    engine.validate(&again.access).unwrap();
    // The grace window runs from the rotation (T0 + 5), not from the last convergence.
    clock.set(T0 + 15);
    assert_eq!(engine.refresh(&r0), Err(Error::ReuseDetected));
    assert_eq!(engine.validate(&again.access), Err(Error::Revoked));
}

#[test]
fn converging_does_not_rotate_and_the_chain_goes_on() {
    let (engine, clock, store) = engine_with_store(grace(10));
    let pair = engine.login("alice", None).unwrap();
    let sid = Id::parse(&pair.session_id).unwrap();
    let r0 = pair.refresh.unwrap();
    let r1 = engine.refresh(&r0).unwrap().refresh.unwrap();
    for _ in 0..3 {
        assert_eq!(engine.refresh(&r0).unwrap().refresh.unwrap(), r1);
    }
    let session = store.get(sid).unwrap().unwrap();
    assert_eq!(session.current_jti, jti_of(&r1));
    assert_eq!(session.previous_jti, Some(jti_of(&r0)));
    clock.advance(1);
    let r2 = engine.refresh(&r1).unwrap().refresh.unwrap();
    // r0 is now two rotations back: neither current nor previous.
    assert_eq!(engine.refresh(&r0), Err(Error::ReuseDetected));
    assert_eq!(engine.refresh(&r2), Err(Error::Revoked));
}

#[test]
fn convergence_carries_extra_claims_unchanged() {
    let (engine, _) = engine_at(grace(10));
    let mut extra = serde_json::Map::new();
    extra.insert("role".into(), json!("admin"));
    extra.insert("scopes".into(), json!(["a", "b"]));
    let pair = engine.login("alice", Some(&extra)).unwrap();
    let r0 = pair.refresh.unwrap();
    let r1 = engine.refresh(&r0).unwrap().refresh.unwrap();
    assert_eq!(payload_of(&r1)["role"], "admin");
    assert_eq!(engine.refresh(&r0).unwrap().refresh.unwrap(), r1);
    let claims = engine
        .validate(&engine.refresh(&r1).unwrap().access)
        .unwrap();
    assert_eq!(claims.extra()["scopes"], json!(["a", "b"]));
}

#[test]
fn convergence_is_byte_identical_for_eddsa_too() {
    let mut cfg = grace(10);
    cfg.signing_key = ed25519_keys().0.into();
    cfg.algorithm = "EdDSA".into();
    let (engine, _) = engine_at(cfg);
    let r0 = engine.login("alice", None).unwrap().refresh.unwrap();
    let r1 = engine.refresh(&r0).unwrap().refresh.unwrap();
    assert_eq!(engine.refresh(&r0).unwrap().refresh.unwrap(), r1);
}

#[test]
fn reuse_detected_is_reported_for_an_idle_session_too() {
    // A replayed token is suspicious whether or not the session is still alive.
    let mut cfg = config();
    cfg.idle_timeout_s = 60;
    let (engine, clock) = engine_at(cfg);
    let r0 = engine.login("alice", None).unwrap().refresh.unwrap();
    let r1 = engine.refresh(&r0).unwrap().refresh.unwrap();
    clock.advance(60);
    assert_eq!(engine.refresh(&r1), Err(Error::SessionIdle));
    assert_eq!(engine.refresh(&r0), Err(Error::ReuseDetected));
}

#[test]
fn refresh_after_logout_is_revoked() {
    let (engine, _) = engine_at(grace(10));
    let pair = engine.login("alice", None).unwrap();
    let r0 = pair.refresh.unwrap();
    let r1 = engine.refresh(&r0).unwrap().refresh.unwrap();
    engine.revoke(&r1).unwrap();
    assert_eq!(engine.refresh(&r1), Err(Error::Revoked));
    // Inside grace the previous token would converge — but not into a logged-out session.
    assert_eq!(engine.refresh(&r0), Err(Error::Revoked));
}

#[test]
fn without_rotation_there_is_no_reuse() {
    let mut cfg = config();
    cfg.rotate_refresh = false;
    let (engine, _) = engine_at(cfg);
    let r0 = engine.login("alice", None).unwrap().refresh.unwrap();
    for _ in 0..3 {
        let pair = engine.refresh(&r0).unwrap();
        assert_eq!(pair.refresh, None);
        engine.validate(&pair.access).unwrap();
    }
}

#[test]
fn a_refresh_token_of_an_unknown_session_is_session_unknown() {
    let (engine, _) = engine_at(config());
    let claims = json!({
        "token_type": "refresh",
        "exp": T0 + 100,
        "iat": T0,
        "jti": random_jti(),
        "user_id": "alice",
        "sid": random_jti(),
    });
    assert_eq!(engine.refresh(forge(&claims)), Err(Error::SessionUnknown));
}

#[test]
fn a_refresh_jti_that_is_not_hex_is_invalid_claim() {
    let (engine, _) = engine_at(config());
    let pair = engine.login("alice", None).unwrap();
    let claims = json!({
        "token_type": "refresh",
        "exp": T0 + 100,
        "iat": T0,
        "jti": "not-a-keyfob-jti",
        "user_id": "alice",
        "sid": pair.session_id,
    });
    assert_eq!(
        engine.refresh(forge(&claims)),
        Err(Error::InvalidClaim("jti".into()))
    );
}

#[test]
fn es256_convergence_reissues_the_same_token_identity() {
    // ECDSA signatures are randomized (ring has no RFC 6979), so a converged ES256 token
    // cannot be byte-identical; it is the same token otherwise: same claims, same jti,
    // and either copy continues the chain.
    let mut cfg = grace(10);
    cfg.signing_key = p256_keys().0.into();
    cfg.algorithm = "ES256".into();
    let (engine, _) = engine_at(cfg);
    let r0 = engine.login("alice", None).unwrap().refresh.unwrap();
    let r1 = engine.refresh(&r0).unwrap().refresh.unwrap();
    let again = engine.refresh(&r0).unwrap().refresh.unwrap();
    assert_eq!(
        segments(&again)[..2],
        segments(&r1)[..2],
        "same header and claims"
    );
    assert_eq!(jti_of(&again), jti_of(&r1));
    engine.refresh(&again).unwrap();
}

#[test]
fn verify_calls_a_rotated_out_refresh_token_revoked_except_inside_grace() {
    let (engine, clock) = engine_at(grace(5));
    let r0 = engine.login("alice", None).unwrap().refresh.unwrap();
    let r1 = engine.refresh(&r0).unwrap().refresh.unwrap();
    assert!(engine.verify(&r1).is_ok());
    assert!(engine.verify(&r0).is_ok(), "inside the grace window");
    clock.advance(5);
    assert_eq!(engine.verify(&r0), Err(Error::Revoked));
    assert!(engine.verify(&r1).is_ok());
}
