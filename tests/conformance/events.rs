//! The event and metrics behaviours of the conformance suite: what the handler hears and
//! when, that a panicking handler is contained and may call the engine, and what
//! `metrics()` counts. Mounted with the session behaviours (see `sessions.rs`).
use std::sync::{Arc, Mutex};

use keyfob::{
    Clock, Config, Engine, Error, Event, EventKind, LoginOptions, ManualClock, RevokeReason,
};

use super::{clock, config, engine, fresh_namespace, Backend};

fn options(label: &str, ip: &str, agent: &str) -> LoginOptions<'static> {
    LoginOptions::default()
        .with_label(label)
        .with_ip(ip.parse().unwrap())
        .with_user_agent(agent)
}

pub fn recorded(
    b: &dyn Backend,
    name: &str,
    cfg: Config,
    clock: &ManualClock,
) -> (Engine, Arc<Mutex<Vec<Event>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let e = Engine::builder(cfg)
        .clock(clock.clone())
        .store(b.store(&fresh_namespace(name)))
        .on_event(move |ev: &Event| sink.lock().unwrap().push(ev.clone()))
        .build()
        .unwrap();
    (e, events)
}

pub fn kinds(events: &Mutex<Vec<Event>>) -> Vec<(EventKind, Option<RevokeReason>)> {
    let mut events = events.lock().unwrap();
    let out = events.iter().map(|e| (e.kind, e.reason)).collect();
    events.clear();
    out
}

pub fn events_report_what_happened(b: &dyn Backend) {
    let clock = clock();
    let (e, events) = recorded(b, "events", config(), &clock);
    let pair = e
        .login_with("alice", None, &options("phone", "198.51.100.2", "app/1"))
        .unwrap();
    let ev = events.lock().unwrap()[0].clone();
    assert_eq!(ev.kind, EventKind::Login);
    assert_eq!(ev.session_id.as_deref(), Some(pair.session_id.as_str()));
    assert_eq!(ev.user_id.as_deref(), Some("alice"));
    assert_eq!(
        (
            ev.label.as_deref(),
            ev.ip.as_deref(),
            ev.user_agent.as_deref()
        ),
        (Some("phone"), Some("198.51.100.2"), Some("app/1"))
    );
    assert_eq!(ev.at, clock.now());
    kinds(&events);

    let next = e.refresh(pair.refresh.as_deref().unwrap()).unwrap();
    let ev = events.lock().unwrap()[0].clone();
    assert_eq!(
        (ev.kind, ev.label.as_deref()),
        (EventKind::Refresh, Some("phone"))
    );
    kinds(&events);

    // The first refresh token again: reuse, and the session ends.
    assert_eq!(
        e.refresh(pair.refresh.as_deref().unwrap()),
        Err(Error::ReuseDetected)
    );
    let got = events.lock().unwrap().clone();
    assert_eq!(
        got.iter().map(|e| (e.kind, e.reason)).collect::<Vec<_>>(),
        [
            (EventKind::ReuseDetected, None),
            (EventKind::SessionRevoked, Some(RevokeReason::Reuse)),
        ]
    );
    assert!(got.iter().all(
        |e| e.session_id.as_deref() == Some(pair.session_id.as_str())
            && e.user_id.as_deref() == Some("alice")
    ));
    kinds(&events);
    let _ = next;

    let a = e.login("alice", None).unwrap();
    let b2 = e.login("alice", None).unwrap();
    let c = e.login("alice", None).unwrap();
    kinds(&events);
    e.revoke(&a.access).unwrap();
    assert_eq!(
        kinds(&events),
        [(EventKind::SessionRevoked, Some(RevokeReason::Logout))]
    );
    e.revoke_session(&b2.session_id).unwrap();
    let got = events.lock().unwrap().clone();
    assert_eq!(
        (got[0].reason, got[0].user_id.as_deref()),
        (Some(RevokeReason::Admin), Some("alice"))
    );
    kinds(&events);
    e.revoke_session(&b2.session_id).unwrap();
    assert!(
        kinds(&events).is_empty(),
        "an already revoked session ends no more"
    );
    e.revoke_user("alice").unwrap();
    let got = events.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].reason, got[0].session_id.as_deref()),
        (Some(RevokeReason::RevokeUser), Some(c.session_id.as_str()))
    );
    kinds(&events);

    // Idle expiry, when noticed.
    let idle = e.login("dave", None).unwrap();
    kinds(&events);
    clock.advance(1_800);
    assert_eq!(
        e.validate(idle.refresh.as_deref().unwrap()),
        Err(Error::WrongType)
    );
    assert!(
        kinds(&events).is_empty(),
        "a wrong token type says nothing of the session"
    );
    assert!(e.refresh(idle.refresh.as_deref().unwrap()).is_err());
    assert_eq!(kinds(&events), [(EventKind::IdleExpired, None)]);
}

pub fn client_mismatch_is_an_event(b: &dyn Backend) {
    let clock = clock();
    let (e, events) = recorded(b, "mismatch", config(), &clock);
    let bound = keyfob::Presentation::none().with_client_id("app-1");
    let pair = e
        .login_with(
            "alice",
            None,
            &LoginOptions::default().with_presentation(bound),
        )
        .unwrap();
    kinds(&events);
    let other = keyfob::Presentation::none().with_client_id("app-2");
    assert_eq!(
        e.refresh_bound(pair.refresh.as_deref().unwrap(), &other),
        Err(Error::ClientMismatch)
    );
    assert_eq!(kinds(&events), [(EventKind::ClientMismatch, None)]);
}

pub fn a_panicking_handler_is_contained(b: &dyn Backend) {
    let clock = clock();
    let e = Arc::new(engine(b.store(&fresh_namespace("panic")), config(), &clock));
    e.set_event_handler(Some(Arc::new(|_: &Event| panic!("handler bug"))));
    let pair = e.login("alice", None).unwrap();
    assert!(e.refresh(pair.refresh.as_deref().unwrap()).is_ok());

    // The handler may call the engine: no lock is held while it runs.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (weak, sink) = (Arc::downgrade(&e), seen.clone());
    e.set_event_handler(Some(Arc::new(move |ev: &Event| {
        if let Some(e) = weak.upgrade() {
            let n = e.sessions(ev.user_id.as_deref().unwrap()).unwrap().len();
            sink.lock().unwrap().push((ev.kind, n));
        }
    })));
    let other = e.login("alice", None).unwrap();
    e.revoke_session(&other.session_id).unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [(EventKind::Login, 2), (EventKind::SessionRevoked, 1)]
    );
    e.set_event_handler(None);
    e.login("alice", None).unwrap();
    assert_eq!(seen.lock().unwrap().len(), 2, "no handler, no events");
}

pub fn metrics_count_operations_errors_and_latency(b: &dyn Backend) {
    let clock = clock();
    let e = engine(b.store(&fresh_namespace("metrics")), config(), &clock);
    let pair = e.login("alice", None).unwrap();
    let other = e.login("bob", None).unwrap();
    for _ in 0..3 {
        e.validate(&pair.access).unwrap();
    }
    assert_eq!(
        e.validate("not.a.token").unwrap_err().code().name(),
        "malformed"
    );
    e.refresh(pair.refresh.as_deref().unwrap()).unwrap();
    assert_eq!(
        e.refresh(pair.refresh.as_deref().unwrap()),
        Err(Error::ReuseDetected)
    );
    e.sessions("alice").unwrap();
    e.revoke_session(&other.session_id).unwrap();
    let m = e.metrics();
    assert_eq!(m.operations["login"], 2);
    assert_eq!(m.operations["validate"], 4);
    assert_eq!(m.operations["refresh"], 2);
    assert_eq!(m.operations["sessions"], 1);
    assert_eq!(m.operations["revoke_session"], 1);
    assert_eq!(m.errors["malformed"], 1);
    assert_eq!(m.errors["reuse_detected"], 1);
    assert_eq!(m.errors.get("expired"), None);
    assert_eq!(m.live_sessions, 0, "alice's ended by reuse, bob's revoked");
    // Rare calls are timed every time.
    let listed = &m.store_latency["user_sessions"];
    assert_eq!(listed.count, 1);
    assert_eq!(m.store_latency["revoke_session"].count, 1);
    assert!(listed.sum > 0.0);
    assert!(listed
        .buckets
        .windows(2)
        .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
    assert!(listed.buckets.last().unwrap().1 <= listed.count);
    let live = e.login("carol", None).unwrap();
    assert_eq!(e.metrics().live_sessions, 1);
    let _ = live;
}
