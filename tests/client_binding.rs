//! Client-id binding: a session logged in with a client binding value (an OAuth client id,
//! a device id) keeps only its SHA-256; refresh — and validate with `bind_validate` — must
//! present the same value, else `client_mismatch`, revoking the session unless
//! `client_mismatch_revokes` is off. Sessions without a binding behave as before.
//! Every behaviour runs on the memory store, and on Redis with the `redis` feature.

#[macro_use]
mod client_binding_support;

use client_binding_support::{config, engine, sha256, sid_of, Backend};
use keyfob::{Config, Engine, Error, ErrorCode, Presentation};

const APP: &str = "mobile-app-7f3a";
const OTHER_APP: &str = "attacker-cli";

fn client(id: &str) -> Presentation<'_> {
    Presentation::none().with_client_id(id)
}

fn refresh_token(pair: &keyfob::TokenPair) -> &str {
    pair.refresh.as_deref().expect("a refresh token")
}

fn bound_login(e: &Engine) -> keyfob::TokenPair {
    e.login_bound("alice", None, &client(APP)).unwrap()
}

fn the_same_client_refreshes(backend: Backend) {
    let (e, clock, _) = engine(backend, config());
    let pair = bound_login(&e);
    clock.advance(10);
    let next = e.refresh_bound(refresh_token(&pair), &client(APP)).unwrap();
    assert_eq!(e.validate(&next.access).unwrap().user_id(), "alice");
    // The binding outlives the rotation: the new refresh token needs the client too.
    assert_eq!(e.refresh(refresh_token(&next)), Err(Error::ClientMismatch));
}

fn another_client_is_refused_and_the_session_revoked(backend: Backend) {
    let (e, _, _) = engine(backend, config());
    let pair = bound_login(&e);
    let stolen = refresh_token(&pair);
    let err = e.refresh_bound(stolen, &client(OTHER_APP)).unwrap_err();
    assert_eq!(err, Error::ClientMismatch);
    assert_eq!(err.code(), ErrorCode::ClientMismatch);
    assert_eq!(err.code() as u32, 21);
    assert_eq!(err.name(), "client_mismatch");
    // Revoked: the rightful client, and every access token of the session, are out too.
    assert_eq!(e.validate(&pair.access), Err(Error::Revoked));
    assert_eq!(e.refresh_bound(stolen, &client(APP)), Err(Error::Revoked));
}

fn no_client_is_a_mismatch(backend: Backend) {
    let (e, _, _) = engine(backend, config());
    let pair = bound_login(&e);
    assert_eq!(e.refresh(refresh_token(&pair)), Err(Error::ClientMismatch));
    assert_eq!(e.validate(&pair.access), Err(Error::Revoked));
}

fn a_mismatch_can_leave_the_session_alive(backend: Backend) {
    let cfg = Config {
        client_mismatch_revokes: false,
        ..config()
    };
    let (e, _, _) = engine(backend, cfg);
    let pair = bound_login(&e);
    assert_eq!(
        e.refresh_bound(refresh_token(&pair), &client(OTHER_APP)),
        Err(Error::ClientMismatch)
    );
    assert_eq!(e.refresh(refresh_token(&pair)), Err(Error::ClientMismatch));
    // Nothing rotated, nothing revoked: the rightful client carries on.
    assert!(e.validate(&pair.access).is_ok());
    let next = e.refresh_bound(refresh_token(&pair), &client(APP)).unwrap();
    assert!(e.validate(&next.access).is_ok());
}

fn validate_ignores_the_client_by_default(backend: Backend) {
    let (e, _, _) = engine(backend, config());
    let pair = bound_login(&e);
    assert!(e.validate(&pair.access).is_ok());
    assert!(e.validate_bound(&pair.access, &client(OTHER_APP)).is_ok());
}

fn bind_validate_checks_the_client_on_validate(backend: Backend) {
    let cfg = Config {
        bind_validate: true,
        ..config()
    };
    let (e, _, _) = engine(backend, cfg);
    let pair = bound_login(&e);
    assert!(e.validate_bound(&pair.access, &client(APP)).is_ok());
    assert_eq!(e.validate(&pair.access), Err(Error::ClientMismatch));
    assert_eq!(
        e.validate_bound(&pair.access, &client(APP)),
        Err(Error::Revoked)
    );

    let cfg = Config {
        bind_validate: true,
        client_mismatch_revokes: false,
        ..config()
    };
    let (e, _, _) = engine(backend, cfg);
    let pair = bound_login(&e);
    assert_eq!(
        e.validate_bound(&pair.access, &client(OTHER_APP)),
        Err(Error::ClientMismatch)
    );
    assert!(e.validate_bound(&pair.access, &client(APP)).is_ok());
}

fn without_rotation_refresh_checks_the_client(backend: Backend) {
    let cfg = Config {
        rotate_refresh: false,
        ..config()
    };
    let (e, _, _) = engine(backend, cfg);
    let pair = bound_login(&e);
    let refreshed = e.refresh_bound(refresh_token(&pair), &client(APP)).unwrap();
    assert!(refreshed.refresh.is_none());
    assert_eq!(
        e.refresh_bound(refresh_token(&pair), &client(OTHER_APP)),
        Err(Error::ClientMismatch)
    );
    assert_eq!(e.validate(&refreshed.access), Err(Error::Revoked));
}

fn the_store_keeps_only_a_digest(backend: Backend) {
    let (e, _, store) = engine(backend, config());
    let pair = bound_login(&e);
    let session = store.get(sid_of(&e, &pair.access)).unwrap().expect("held");
    assert_eq!(session.binding.client, Some(sha256(APP.as_bytes())));
    assert_eq!(session.binding.jkt, None);
    for token in [&pair.access, refresh_token(&pair)] {
        assert!(!client_binding_support::payload_of(token)
            .to_string()
            .contains(APP));
    }
    // An unbound login stores no binding.
    let plain = e.login("bob", None).unwrap();
    let session = store.get(sid_of(&e, &plain.access)).unwrap().expect("held");
    assert!(session.binding.is_unbound());
}

fn unbound_sessions_behave_as_before(backend: Backend) {
    let (e, clock, _) = engine(backend, config());
    let pair = e.login("bob", None).unwrap();
    assert!(client_binding_support::payload_of(&pair.access)
        .get("cnf")
        .is_none());
    assert!(e.validate(&pair.access).is_ok());
    // A client value presented for an unbound session changes nothing.
    assert!(e.validate_bound(&pair.access, &client(OTHER_APP)).is_ok());
    clock.advance(5);
    let next = e
        .refresh_bound(refresh_token(&pair), &client(OTHER_APP))
        .unwrap();
    let last = e.refresh(refresh_token(&next)).unwrap();
    assert!(e.validate(&last.access).is_ok());
    // Reuse detection is untouched.
    assert_eq!(e.refresh(refresh_token(&pair)), Err(Error::ReuseDetected));
    assert_eq!(e.validate(&last.access), Err(Error::Revoked));
}

fn reuse_is_still_detected_for_bound_sessions(backend: Backend) {
    let (e, _, _) = engine(backend, config());
    let pair = bound_login(&e);
    let next = e.refresh_bound(refresh_token(&pair), &client(APP)).unwrap();
    assert_eq!(
        e.refresh_bound(refresh_token(&pair), &client(APP)),
        Err(Error::ReuseDetected)
    );
    assert_eq!(e.validate(&next.access), Err(Error::Revoked));
}

fn sessions_are_bound_independently(backend: Backend) {
    let (e, _, _) = engine(backend, config());
    let phone = e.login_bound("alice", None, &client(APP)).unwrap();
    let laptop = e.login_bound("alice", None, &client("laptop")).unwrap();
    assert_eq!(
        e.refresh_bound(refresh_token(&laptop), &client(APP)),
        Err(Error::ClientMismatch)
    );
    // Only the laptop's session went.
    assert_eq!(e.validate(&laptop.access), Err(Error::Revoked));
    assert!(e.refresh_bound(refresh_token(&phone), &client(APP)).is_ok());
}

on_every_store!(
    the_same_client_refreshes,
    another_client_is_refused_and_the_session_revoked,
    no_client_is_a_mismatch,
    a_mismatch_can_leave_the_session_alive,
    validate_ignores_the_client_by_default,
    bind_validate_checks_the_client_on_validate,
    without_rotation_refresh_checks_the_client,
    the_store_keeps_only_a_digest,
    unbound_sessions_behave_as_before,
    reuse_is_still_detected_for_bound_sessions,
    sessions_are_bound_independently,
);

#[test]
fn an_empty_or_huge_client_id_is_an_invalid_argument() {
    let (e, _, _) = engine(Backend::Memory, config());
    for id in [String::new(), "x".repeat(1025)] {
        let err = e.login_bound("alice", None, &client(&id)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
    }
    assert_eq!(e.stats().unwrap().sessions, 0);
}

#[test]
fn binding_settings_have_defaults_and_come_from_json() {
    let d = Config::default();
    assert!(d.client_mismatch_revokes);
    assert!(!d.bind_validate);
    assert_eq!(d.dpop_iat_window_s, 60);
    assert_eq!(d.dpop_replay_cache_size, 100_000);
    let cfg = Config::from_json(&format!(
        r#"{{"signing_key": "{}", "client_mismatch_revokes": false, "bind_validate": true,
            "dpop_iat_window_s": 30, "dpop_replay_cache_size": 10}}"#,
        client_binding_support::SECRET
    ))
    .unwrap();
    assert!(!cfg.client_mismatch_revokes && cfg.bind_validate);
    assert_eq!(
        (cfg.dpop_iat_window_s, cfg.dpop_replay_cache_size),
        (30, 10)
    );
    for bad in [
        r#""dpop_iat_window_s": 0"#,
        r#""dpop_iat_window_s": 3601"#,
        r#""dpop_replay_cache_size": 0"#,
    ] {
        let json = format!(
            r#"{{"signing_key": "{}", {bad}}}"#,
            client_binding_support::SECRET
        );
        let err = Config::from_json(&json).unwrap_err();
        let field = bad.split('"').nth(1).unwrap();
        assert!(
            matches!(&err, Error::Config(m) if m.contains(field)),
            "{bad}: {err}"
        );
    }
}
