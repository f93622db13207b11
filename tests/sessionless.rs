//! Sessionless tokens (no `sid`, e.g. minted by simplejwt before a migration): refused with
//! `session_required` unless `accept_sessionless`, then checked statelessly plus the jti
//! denylist and the user's not-before epoch.

mod common;

use common::*;
use keyfob::{Config, Error};
use serde_json::json;

fn accepting() -> Config {
    let mut cfg = config();
    cfg.accept_sessionless = true;
    cfg
}

#[test]
fn sessionless_tokens_are_refused_by_default() {
    let (engine, _) = engine_at(config());
    let access = forge(&simplejwt_claims("access", json!(1), T0, 300));
    let refresh = forge(&simplejwt_claims("refresh", json!(1), T0, 86_400));
    let mut sliding = simplejwt_claims("sliding", json!(1), T0, 300);
    sliding["refresh_exp"] = json!(T0 + 86_400);
    let sliding = forge(&sliding);
    assert_eq!(engine.validate(&access), Err(Error::SessionRequired));
    assert_eq!(engine.verify(&access), Err(Error::SessionRequired));
    assert_eq!(engine.refresh(&refresh), Err(Error::SessionRequired));
    assert_eq!(
        engine.validate_sliding(&sliding),
        Err(Error::SessionRequired)
    );
    assert_eq!(
        engine.refresh_sliding(&sliding),
        Err(Error::SessionRequired)
    );
    assert_eq!(engine.stats().unwrap().sessions, 0, "nothing was upgraded");
}

#[test]
fn sessionless_tokens_still_fail_their_own_checks_first() {
    // Signature and expiry come before the session question.
    let (engine, _) = engine_at(config());
    let expired = forge(&simplejwt_claims("access", json!(1), T0 - 400, 300));
    assert_eq!(engine.validate(&expired), Err(Error::Expired));
    let [h, p, _] = segments(&expired);
    assert_eq!(
        engine.validate(format!("{h}.{p}.AAAA")),
        Err(Error::BadSignature)
    );
}

#[test]
fn accepted_sessionless_access_token_validates_statelessly() {
    let (engine, clock) = engine_at(accepting());
    let token = forge(&simplejwt_claims("access", json!(42), T0, 300));
    let claims = engine.validate(&token).unwrap();
    assert_eq!(
        claims.user_id(),
        "42",
        "simplejwt's integer ids become strings"
    );
    assert_eq!(claims.sid(), None);
    assert_eq!(engine.stats().unwrap().sessions, 0);
    clock.set(T0 + 299);
    engine.validate(&token).unwrap();
    clock.set(T0 + 300);
    assert_eq!(engine.validate(&token), Err(Error::Expired));
}

#[test]
fn sessionless_refresh_upgrades_to_a_session_once() {
    let mut cfg = accepting();
    cfg.refresh_lifetime_s = 43_200;
    let (engine, _) = engine_at(cfg);
    let old = forge(&simplejwt_claims("refresh", json!(42), T0 - 100, 3_600));
    let pair = engine.refresh(&old).unwrap();
    assert_eq!(pair.session_id.len(), 32);
    let refresh = pair.refresh.unwrap();
    // The session ends when the old token would have, not later.
    assert_eq!(payload_of(&refresh)["exp"], T0 - 100 + 3_600);
    assert_eq!(payload_of(&refresh)["sid"], pair.session_id.as_str());
    let claims = engine.validate(&pair.access).unwrap();
    assert_eq!(claims.sid(), Some(pair.session_id.as_str()));
    assert_eq!(claims.user_id(), "42");
    // The sessionless token is spent: a second use forks nothing.
    assert_eq!(engine.refresh(&old), Err(Error::Revoked));
    assert_eq!(engine.stats().unwrap().sessions, 1);
    // The upgraded session rotates like any other.
    engine.refresh(&refresh).unwrap();
}

#[test]
fn sessionless_refresh_without_rotation_mints_access_only() {
    let mut cfg = accepting();
    cfg.rotate_refresh = false;
    let (engine, _) = engine_at(cfg);
    let old = forge(&simplejwt_claims("refresh", json!(42), T0, 3_600));
    let pair = engine.refresh(&old).unwrap();
    assert_eq!(pair.refresh, None);
    assert_eq!(pair.session_id, "");
    let claims = engine.validate(&pair.access).unwrap();
    assert_eq!(claims.sid(), None);
    engine.refresh(&old).unwrap();
}

#[test]
fn sessionless_refresh_respects_denylist_and_user_epoch() {
    let (engine, clock) = engine_at(accepting());
    let denied = forge(&simplejwt_claims("refresh", json!(42), T0, 3_600));
    engine.revoke(&denied).unwrap();
    assert_eq!(engine.refresh(&denied), Err(Error::Revoked));

    let before = forge(&simplejwt_claims("refresh", json!(42), T0, 3_600));
    clock.advance(1);
    engine.revoke_user("42").unwrap();
    assert_eq!(engine.refresh(&before), Err(Error::Revoked));
    assert_eq!(engine.stats().unwrap().sessions, 0);
}

#[test]
fn sessionless_sliding_token_cannot_refresh_without_a_session() {
    let (engine, _) = engine_at(accepting());
    let mut claims = simplejwt_claims("sliding", json!(42), T0, 300);
    claims["refresh_exp"] = json!(T0 + 86_400);
    let token = forge(&claims);
    engine.validate_sliding(&token).unwrap();
    assert_eq!(engine.refresh_sliding(&token), Err(Error::SessionRequired));
}

#[test]
fn sessionless_tokens_carry_their_extra_claims() {
    let (engine, _) = engine_at(accepting());
    let mut claims = simplejwt_claims("access", json!("u-1"), T0, 300);
    claims["email"] = json!("a@example.com");
    let validated = engine.validate(forge(&claims)).unwrap();
    assert_eq!(validated.extra()["email"], "a@example.com");
    let parsed: serde_json::Value = serde_json::from_str(validated.to_json()).unwrap();
    assert_eq!(parsed, claims);
}

#[test]
fn a_sessionless_token_may_not_outlive_keyfobs_longest_lifetime() {
    // revoke_user remembers its cut-off as long as keyfob's longest token lives; a foreign
    // token living longer could outlast that memory, so it is refused outright.
    let mut cfg = accepting();
    cfg.refresh_lifetime_s = 3_600;
    let (engine, _) = engine_at(cfg);
    let within = forge(&simplejwt_claims("refresh", json!(7), T0, 3_600));
    let beyond = forge(&simplejwt_claims("refresh", json!(7), T0, 3_601));
    assert_eq!(
        engine.verify(&beyond),
        Err(Error::InvalidClaim("exp".into()))
    );
    assert_eq!(
        engine.refresh(&beyond),
        Err(Error::InvalidClaim("exp".into()))
    );
    engine.verify(&within).unwrap();
}

#[test]
fn revoke_user_outlasts_every_sessionless_token_it_covers() {
    let mut cfg = accepting();
    cfg.refresh_lifetime_s = 3_600;
    let (engine, clock) = engine_at(cfg);
    let refresh = forge(&simplejwt_claims("refresh", json!(7), T0, 3_600));
    clock.advance(10);
    engine.revoke_user("7").unwrap();
    for step in [0, 1_000, 3_589] {
        clock.set(T0 + 10 + step);
        engine.sweep().unwrap();
        assert_eq!(engine.verify(&refresh), Err(Error::Revoked), "at +{step}");
    }
    clock.set(T0 + 3_600);
    assert_eq!(engine.verify(&refresh), Err(Error::Expired));
}
