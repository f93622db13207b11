//! Revocation of a token, a session and a user: immediate, for access tokens too.

mod common;

use common::*;
use keyfob::{Config, Error};
use serde_json::json;

#[test]
fn revoking_an_access_token_logs_the_session_out() {
    let (engine, _) = engine_at(config());
    let pair = engine.login("alice", None).unwrap();
    engine.revoke(&pair.access).unwrap();
    // No clock movement: the very next call fails.
    assert_eq!(engine.validate(&pair.access), Err(Error::Revoked));
    assert_eq!(engine.verify(&pair.access), Err(Error::Revoked));
    assert_eq!(
        engine.refresh(pair.refresh.as_deref().unwrap()),
        Err(Error::Revoked)
    );
}

#[test]
fn revoking_a_refresh_token_is_logout() {
    let (engine, _) = engine_at(config());
    let pair = engine.login("alice", None).unwrap();
    let rotated = engine.refresh(pair.refresh.as_deref().unwrap()).unwrap();
    engine.revoke(rotated.refresh.as_deref().unwrap()).unwrap();
    assert_eq!(engine.validate(&pair.access), Err(Error::Revoked));
    assert_eq!(engine.validate(&rotated.access), Err(Error::Revoked));
}

#[test]
fn revoking_twice_says_revoked() {
    let (engine, _) = engine_at(config());
    let pair = engine.login("alice", None).unwrap();
    engine.revoke(&pair.access).unwrap();
    assert_eq!(engine.revoke(&pair.access), Err(Error::Revoked));
    assert_eq!(
        engine.revoke(pair.refresh.as_deref().unwrap()),
        Err(Error::Revoked)
    );
}

#[test]
fn revoking_a_sliding_token_ends_its_session() {
    let (engine, _) = engine_at(config());
    let sliding = engine.login_sliding("alice", None).unwrap();
    engine.revoke(&sliding.token).unwrap();
    assert_eq!(engine.validate_sliding(&sliding.token), Err(Error::Revoked));
    assert_eq!(engine.refresh_sliding(&sliding.token), Err(Error::Revoked));
}

#[test]
fn revoke_needs_a_valid_token() {
    let (engine, clock) = engine_at(config());
    let pair = engine.login("alice", None).unwrap();
    let [h, p, s] = segments(&pair.access);
    let tampered = format!("{h}.{p}.{}", &s[1..]);
    assert!(engine.revoke(&tampered).is_err());
    engine.validate(&pair.access).unwrap();
    clock.advance(300);
    assert_eq!(engine.revoke(&pair.access), Err(Error::Expired));
}

#[test]
fn revoke_session_by_id() {
    let (engine, _) = engine_at(config());
    let pair = engine.login("alice", None).unwrap();
    let other = engine.login("alice", None).unwrap();
    assert_eq!(engine.revoke_session(&pair.session_id), Ok(true));
    assert_eq!(engine.revoke_session(&pair.session_id), Ok(false));
    assert_eq!(engine.validate(&pair.access), Err(Error::Revoked));
    engine.validate(&other.access).unwrap();
}

#[test]
fn revoke_session_argument_errors() {
    let (engine, _) = engine_at(config());
    assert_eq!(
        engine.revoke_session(&random_jti()),
        Err(Error::SessionUnknown)
    );
    for bad in ["", "xyz", "0123456789ABCDEF0123456789ABCDEF"] {
        let err = engine.revoke_session(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{bad}: {err:?}");
    }
}

#[test]
fn revoke_user_ends_every_session_of_that_user_only() {
    let (engine, _) = engine_at(config());
    let a1 = engine.login("alice", None).unwrap();
    let a2 = engine.login("alice", None).unwrap();
    let a3 = engine.login_sliding("alice", None).unwrap();
    let b = engine.login("bob", None).unwrap();
    // Prefix and case cousins are other users.
    let al = engine.login("alic", None).unwrap();
    let upper = engine.login("Alice", None).unwrap();
    assert_eq!(engine.revoke_user("alice"), Ok(3));
    assert_eq!(engine.validate(&a1.access), Err(Error::Revoked));
    assert_eq!(engine.validate(&a2.access), Err(Error::Revoked));
    assert_eq!(engine.validate_sliding(&a3.token), Err(Error::Revoked));
    assert_eq!(
        engine.refresh(a1.refresh.as_deref().unwrap()),
        Err(Error::Revoked)
    );
    for other in [&b, &al, &upper] {
        engine.validate(&other.access).unwrap();
    }
    // Already revoked sessions are not counted again.
    assert_eq!(engine.revoke_user("alice"), Ok(0));
    // The user can log in again afterwards.
    let again = engine.login("alice", None).unwrap();
    engine.validate(&again.access).unwrap();
    assert_eq!(engine.stats().unwrap().user_epochs, 1);
}

#[test]
fn revoke_user_rejects_an_empty_id() {
    let (engine, _) = engine_at(config());
    assert!(matches!(
        engine.revoke_user(""),
        Err(Error::InvalidArgument(_))
    ));
}

/// As simplejwt, which issues tokens to a user whose id field is empty.
#[test]
fn an_empty_user_id_logs_in() {
    let (engine, _) = engine_at(config());
    let pair = engine.login("", None).unwrap();
    assert_eq!(engine.validate(&pair.access).unwrap().user_id(), "");
    let sliding = engine.login_sliding("", None).unwrap();
    assert_eq!(
        engine.validate_sliding(&sliding.token).unwrap().user_id(),
        ""
    );
}

fn sessionless() -> Config {
    let mut cfg = config();
    cfg.accept_sessionless = true;
    cfg
}

#[test]
fn revoking_a_sessionless_token_denies_its_jti() {
    let (engine, _) = engine_at(sessionless());
    let token = forge(&simplejwt_claims("access", json!(1), T0, 300));
    let other = forge(&simplejwt_claims("access", json!(1), T0, 300));
    engine.validate(&token).unwrap();
    engine.revoke(&token).unwrap();
    assert_eq!(engine.validate(&token), Err(Error::Revoked));
    assert_eq!(engine.revoke(&token), Err(Error::Revoked));
    engine.validate(&other).unwrap();
    assert_eq!(engine.stats().unwrap().denied_jtis, 1);
}

#[test]
fn revoke_user_covers_sessionless_tokens_issued_until_now() {
    let (engine, clock) = engine_at(sessionless());
    let old = forge(&simplejwt_claims("access", json!(42), T0 - 5, 300));
    let bob = forge(&simplejwt_claims("access", json!(7), T0 - 5, 300));
    engine.validate(&old).unwrap();
    engine.revoke_user("42").unwrap();
    assert_eq!(engine.validate(&old), Err(Error::Revoked));
    engine.validate(&bob).unwrap();
    // A token issued after the revocation is fine.
    clock.advance(1);
    let fresh = forge(&simplejwt_claims("access", json!(42), T0 + 1, 300));
    engine.validate(&fresh).unwrap();
    // Without iat the token cannot show it is newer: refused.
    let mut no_iat = simplejwt_claims("access", json!(42), T0 + 1, 300);
    no_iat.as_object_mut().unwrap().remove("iat");
    assert_eq!(engine.validate(forge(&no_iat)), Err(Error::Revoked));
}

#[test]
fn revoking_a_sessionless_token_requires_accept_sessionless() {
    let (engine, _) = engine_at(config());
    let token = forge(&simplejwt_claims("access", json!(1), T0, 300));
    assert_eq!(engine.revoke(&token), Err(Error::SessionRequired));
}
