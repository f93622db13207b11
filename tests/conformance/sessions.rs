//! The session-management behaviours of the conformance suite: metadata kept with a
//! session, listing a user's sessions, ending all but one, the per-user cap, claims that
//! change mid-session (events and metrics are in `events.rs`). Each is a function of the
//! backend, mounted by [`super::mount!`].
use keyfob::{Clock, Error, EventKind, LoginOptions, RevokeReason, SessionMeta};
use serde_json::{json, Map, Value};

use super::events::{kinds, recorded};
use super::{clock, config, engine, fresh_namespace, Backend};

fn object(v: Value) -> Map<String, Value> {
    v.as_object().expect("a JSON object").clone()
}

fn options(label: &str, ip: &str, agent: &str) -> LoginOptions<'static> {
    LoginOptions::default()
        .with_label(label)
        .with_ip(ip.parse().unwrap())
        .with_user_agent(agent)
}

/// An engine whose events are collected.
pub fn metadata_is_kept_and_listed_newest_first(b: &dyn Backend) {
    let clock = clock();
    let e = engine(b.store(&fresh_namespace("meta")), config(), &clock);
    let data = object(json!({"device": "laptop", "n": 3}));
    let first = e
        .login_with(
            "alice",
            None,
            &options("Firefox on macOS", "203.0.113.7", "Mozilla/5.0").with_data(data.clone()),
        )
        .unwrap();
    let created = clock.now();
    clock.advance(10);
    let second = e
        .login_with("alice", None, &options("curl", "2001:db8::1", "curl/8"))
        .unwrap();
    e.login("bob", None).unwrap();

    let list = e.sessions("alice").unwrap();
    let ids: Vec<&str> = list.iter().map(|s| s.session_id.as_str()).collect();
    assert_eq!(ids, [second.session_id.as_str(), first.session_id.as_str()]);
    let old = &list[1];
    assert_eq!(old.user_id, "alice");
    assert_eq!(old.created_at, created);
    assert_eq!(old.last_seen, created);
    assert_eq!(old.label.as_deref(), Some("Firefox on macOS"));
    assert_eq!(old.ip.unwrap().to_string(), "203.0.113.7");
    assert_eq!(old.user_agent.as_deref(), Some("Mozilla/5.0"));
    assert_eq!(old.data, data);
    assert_eq!(old.absolute_deadline, created + 43_200);
    assert_eq!(old.idle_deadline, created + 1_800);
    assert_eq!(list[0].ip.unwrap().to_string(), "2001:db8::1");

    // Activity slides the idle deadline, and last_seen with it.
    clock.advance(5);
    e.validate(&first.access).unwrap();
    let seen = e.session(&first.session_id).unwrap().unwrap();
    assert_eq!(seen.last_seen, clock.now());
    assert_eq!(seen.idle_deadline, clock.now() + 1_800);

    // A session without metadata lists with none.
    let plain = e.login("carol", None).unwrap();
    let info = e.session(&plain.session_id).unwrap().unwrap();
    assert_eq!((info.label, info.ip, info.user_agent), (None, None, None));
    assert!(info.data.is_empty() && info.claims.is_empty());

    // Ended sessions are not listed, and session() no longer answers for them.
    e.revoke_session(&second.session_id).unwrap();
    let ids: Vec<String> = e
        .sessions("alice")
        .unwrap()
        .into_iter()
        .map(|s| s.session_id)
        .collect();
    assert_eq!(ids, std::slice::from_ref(&first.session_id));
    assert_eq!(e.session(&second.session_id), Ok(None));
    clock.advance(1_801);
    assert!(
        e.sessions("alice").unwrap().is_empty(),
        "idle sessions are over"
    );
    assert_eq!(e.session(&first.session_id), Ok(None));
    assert!(e.sessions("nobody").unwrap().is_empty());
    assert!(matches!(
        e.session("not-a-session-id"),
        Err(Error::InvalidArgument(_))
    ));
}

pub fn metadata_out_of_bounds_is_refused(b: &dyn Backend) {
    let e = engine(b.store(&fresh_namespace("bounds")), config(), &clock());
    let long = LoginOptions::default().with_label("x".repeat(257));
    assert!(
        matches!(e.login_with("alice", None, &long), Err(Error::InvalidArgument(m)) if m.contains("label"))
    );
    let big = LoginOptions::default().with_data(object(json!({"blob": "y".repeat(5000)})));
    assert!(
        matches!(e.login_with("alice", None, &big), Err(Error::InvalidArgument(m)) if m.contains("data"))
    );
    let meta = SessionMeta {
        user_agent: Some("bad\u{0}agent".into()),
        ..SessionMeta::default()
    };
    let bad = LoginOptions::default().with_meta(meta);
    assert!(e.login_with("alice", None, &bad).is_err());
    assert!(
        e.sessions("alice").unwrap().is_empty(),
        "nothing was created"
    );
}

pub fn revoke_user_except_keeps_one(b: &dyn Backend) {
    let clock = clock();
    let e = engine(b.store(&fresh_namespace("keep")), config(), &clock);
    let here = e.login("alice", None).unwrap();
    let phone = e.login("alice", None).unwrap();
    let tablet = e.login("alice", None).unwrap();
    let bob = e.login("bob", None).unwrap();
    assert_eq!(e.revoke_user_except("alice", Some(&here.session_id)), Ok(2));
    assert!(
        e.validate(&here.access).is_ok(),
        "the kept session lives on"
    );
    for t in [&phone.access, &tablet.access] {
        assert_eq!(e.validate(t), Err(Error::Revoked));
    }
    assert!(e.validate(&bob.access).is_ok());
    let ids: Vec<String> = e
        .sessions("alice")
        .unwrap()
        .into_iter()
        .map(|s| s.session_id)
        .collect();
    assert_eq!(ids, std::slice::from_ref(&here.session_id));
    assert_eq!(e.revoke_user_except("alice", Some(&here.session_id)), Ok(0));
    assert_eq!(e.revoke_user_except("alice", None), Ok(1));
    assert_eq!(e.validate(&here.access), Err(Error::Revoked));
    assert!(matches!(
        e.revoke_user_except("alice", Some("zz")),
        Err(Error::InvalidArgument(_))
    ));
}

pub fn the_cap_ends_the_oldest_session(b: &dyn Backend) {
    let clock = clock();
    let mut cfg = config();
    cfg.max_sessions_per_user = Some(2);
    let (e, events) = recorded(b, "cap", cfg, &clock);
    let first = e.login("alice", None).unwrap();
    clock.advance(1);
    let second = e.login("alice", None).unwrap();
    clock.advance(1);
    e.login("bob", None).unwrap();
    kinds(&events);
    let third = e.login("alice", None).unwrap();
    assert_eq!(
        e.validate(&first.access),
        Err(Error::Revoked),
        "the oldest ended"
    );
    assert!(e.validate(&second.access).is_ok());
    assert!(e.validate(&third.access).is_ok());
    assert_eq!(e.sessions("alice").unwrap().len(), 2);
    assert_eq!(
        kinds(&events),
        [
            (EventKind::Login, None),
            (EventKind::SessionRevoked, Some(RevokeReason::Cap)),
        ]
    );
    // Logins in the same second never end the session just made.
    let fourth = e.login("alice", None).unwrap();
    let fifth = e.login("alice", None).unwrap();
    assert!(e.validate(&fifth.access).is_ok());
    assert_eq!(e.sessions("alice").unwrap().len(), 2);
    assert_eq!(e.validate(&second.access), Err(Error::Revoked));
    let _ = fourth;
}

pub fn a_removed_claim_is_gone_on_the_next_refresh(b: &dyn Backend) {
    let clock = clock();
    let e = engine(b.store(&fresh_namespace("claims")), config(), &clock);
    let extra = object(json!({"role": "admin", "team": "blue"}));
    let pair = e.login("alice", Some(&extra)).unwrap();
    assert_eq!(e.session(&pair.session_id).unwrap().unwrap().claims, extra);

    e.update_session(
        &pair.session_id,
        &object(json!({"role": null, "plan": "pro"})),
    )
    .unwrap();
    // The access token minted before carries what it carried: without the option,
    // validate returns the token's claims.
    let before = e.validate(&pair.access).unwrap();
    assert_eq!(before.extra().get("role"), Some(&json!("admin")));

    let next = e.refresh(pair.refresh.as_deref().unwrap()).unwrap();
    let claims = e.validate(&next.access).unwrap();
    assert_eq!(claims.extra().get("role"), None, "the role is gone");
    assert_eq!(claims.extra().get("plan"), Some(&json!("pro")));
    assert_eq!(claims.extra().get("team"), Some(&json!("blue")));
    // The rotated refresh token carries them too, so the next refresh keeps them.
    let again = e.refresh(next.refresh.as_deref().unwrap()).unwrap();
    assert_eq!(e.validate(&again.access).unwrap().extra().get("role"), None);
    let info = e.session(&pair.session_id).unwrap().unwrap();
    assert_eq!(info.claims, object(json!({"team": "blue", "plan": "pro"})));

    // Emptied claims stay empty (not the login's again).
    e.update_session(
        &pair.session_id,
        &object(json!({"team": null, "plan": null})),
    )
    .unwrap();
    let last = e.refresh(again.refresh.as_deref().unwrap()).unwrap();
    assert!(e.validate(&last.access).unwrap().extra().is_empty());

    // A session without claims at login gets some.
    let plain = e.login("bob", None).unwrap();
    e.update_session(&plain.session_id, &object(json!({"role": "viewer"})))
        .unwrap();
    let next = e.refresh(plain.refresh.as_deref().unwrap()).unwrap();
    assert_eq!(
        e.validate(&next.access).unwrap().extra().get("role"),
        Some(&json!("viewer"))
    );
}

/// A session with metadata but no claims of its own keeps what the application added to
/// its refresh token (re-signed with the engine's key, as a `get_token` override does).
pub fn claims_added_to_a_refresh_token_survive_a_login_with_metadata(b: &dyn Backend) {
    let clock = clock();
    let e = engine(b.store(&fresh_namespace("added")), config(), &clock);
    let pair = e
        .login_with("alice", None, &options("curl", "192.0.2.1", "curl/8"))
        .unwrap();
    let refresh = pair.refresh.as_deref().unwrap();
    let mut payload: Map<String, Value> =
        serde_json::from_slice(&e.verify_signature(refresh).unwrap()).unwrap();
    payload.insert("username".into(), json!("ada"));
    let resigned = e
        .sign_payload(Value::Object(payload).to_string().as_bytes())
        .unwrap();
    let next = e.refresh(&resigned).unwrap();
    let claims = e.validate(&next.access).unwrap();
    assert_eq!(claims.extra().get("username"), Some(&json!("ada")));
}

pub fn a_removed_claim_is_gone_at_once_with_the_option(b: &dyn Backend) {
    let clock = clock();
    let mut cfg = config();
    cfg.session_claims_on_validate = true;
    let e = engine(b.store(&fresh_namespace("claims-now")), cfg, &clock);
    let pair = e
        .login("alice", Some(&object(json!({"role": "admin"}))))
        .unwrap();
    assert_eq!(
        e.validate(&pair.access).unwrap().extra().get("role"),
        Some(&json!("admin"))
    );
    e.update_session(&pair.session_id, &object(json!({"role": null, "seat": 7})))
        .unwrap();
    let claims = e.validate(&pair.access).unwrap();
    assert_eq!(claims.extra().get("role"), None, "gone at once");
    assert_eq!(claims.extra().get("seat"), Some(&json!(7)));
    assert_eq!(claims.user_id(), "alice");
    assert_eq!(claims.sid(), Some(pair.session_id.as_str()));
    assert!(!claims.to_json().contains("admin"));
    // verify still reports what the token says.
    assert_eq!(
        e.verify(&pair.access).unwrap().extra().get("role"),
        Some(&json!("admin"))
    );
}

pub fn update_session_refuses_what_it_cannot_do(b: &dyn Backend) {
    let clock = clock();
    let e = engine(b.store(&fresh_namespace("update-bad")), config(), &clock);
    let pair = e.login("alice", None).unwrap();
    let unknown = "0123456789abcdef0123456789abcdef";
    assert_eq!(
        e.update_session(unknown, &object(json!({"a": 1}))),
        Err(Error::SessionUnknown)
    );
    assert!(matches!(
        e.update_session(&pair.session_id, &object(json!({"user_id": "mallory"}))),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        e.update_session(&pair.session_id, &object(json!({"exp": 1}))),
        Err(Error::InvalidArgument(_))
    ));
    let big = object(json!({"blob": "z".repeat(5000)}));
    assert!(matches!(
        e.update_session(&pair.session_id, &big),
        Err(Error::InvalidArgument(_))
    ));
    // Each change fits; the merge grows past the bound, and the change that would take it
    // there changes nothing.
    let chunk = |k: usize| object(json!({ format!("k{k:02}"): "h".repeat(4000) }));
    let mut kept = 0;
    while e.update_session(&pair.session_id, &chunk(kept)).is_ok() {
        kept += 1;
        assert!(kept < 100, "the claims never hit their bound");
    }
    assert_eq!(kept, keyfob::session::MAX_CLAIMS_BYTES / 4010);
    assert!(matches!(
        e.update_session(&pair.session_id, &chunk(kept)),
        Err(Error::InvalidArgument(m)) if m.contains("claims")
    ));
    let claims = e.session(&pair.session_id).unwrap().unwrap().claims;
    assert_eq!(claims.len(), kept);
    e.revoke_session(&pair.session_id).unwrap();
    assert_eq!(
        e.update_session(&pair.session_id, &object(json!({"a": 1}))),
        Err(Error::Revoked)
    );
}

/// The behaviours above as tests, inside the module [`super::mount!`] makes (where
/// `backend()` is).
macro_rules! mount_sessions {
    () => {
        #[test]
        fn metadata_is_kept_and_listed_newest_first() {
            $crate::conformance::sessions::metadata_is_kept_and_listed_newest_first(&backend());
        }
        #[test]
        fn metadata_out_of_bounds_is_refused() {
            $crate::conformance::sessions::metadata_out_of_bounds_is_refused(&backend());
        }
        #[test]
        fn revoke_user_except_keeps_one() {
            $crate::conformance::sessions::revoke_user_except_keeps_one(&backend());
        }
        #[test]
        fn the_cap_ends_the_oldest_session() {
            $crate::conformance::sessions::the_cap_ends_the_oldest_session(&backend());
        }
        #[test]
        fn a_removed_claim_is_gone_on_the_next_refresh() {
            $crate::conformance::sessions::a_removed_claim_is_gone_on_the_next_refresh(&backend());
        }
        #[test]
        fn claims_added_to_a_refresh_token_survive_a_login_with_metadata() {
            $crate::conformance::sessions::claims_added_to_a_refresh_token_survive_a_login_with_metadata(
                &backend(),
            );
        }
        #[test]
        fn a_removed_claim_is_gone_at_once_with_the_option() {
            $crate::conformance::sessions::a_removed_claim_is_gone_at_once_with_the_option(
                &backend(),
            );
        }
        #[test]
        fn update_session_refuses_what_it_cannot_do() {
            $crate::conformance::sessions::update_session_refuses_what_it_cannot_do(&backend());
        }
        #[test]
        fn events_report_what_happened() {
            $crate::conformance::events::events_report_what_happened(&backend());
        }
        #[test]
        fn client_mismatch_is_an_event() {
            $crate::conformance::events::client_mismatch_is_an_event(&backend());
        }
        #[test]
        fn a_panicking_handler_is_contained() {
            $crate::conformance::events::a_panicking_handler_is_contained(&backend());
        }
        #[test]
        fn metrics_count_operations_errors_and_latency() {
            $crate::conformance::events::metrics_count_operations_errors_and_latency(&backend());
        }
    };
}

pub(crate) use mount_sessions;
