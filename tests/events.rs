//! Events for what the conformance suite cannot make without a client key: a DPoP proof
//! replayed at login, at refresh and at validate reaches the handler as `dpop_replayed`,
//! with the session and user when there is one. On the memory store, and on Redis with the
//! `redis` feature (`bash scripts/test-redis.sh`).

#[macro_use]
mod client_binding_support;

use std::sync::{Arc, Mutex};

use client_binding_support::{
    config, engine, Backend, DpopClient, LOGIN_URL, RESOURCE_URL, TOKEN_URL,
};
use keyfob::{DpopRequest, Engine, Error, Event, EventKind, Presentation};

fn dpop<'a>(proof: &'a str, method: &'a str, url: &'a str) -> Presentation<'a> {
    Presentation::none().with_dpop(DpopRequest::new(proof, method, url))
}

fn recording(e: &Engine) -> Arc<Mutex<Vec<Event>>> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    e.set_event_handler(Some(Arc::new(move |ev: &Event| {
        sink.lock().unwrap().push(ev.clone())
    })));
    events
}

fn take(events: &Mutex<Vec<Event>>) -> Vec<(EventKind, Option<String>, Option<String>)> {
    let mut events = events.lock().unwrap();
    let out = events
        .iter()
        .map(|e| (e.kind, e.session_id.clone(), e.user_id.clone()))
        .collect();
    events.clear();
    out
}

fn a_replayed_proof_is_an_event(backend: Backend) {
    let (e, _clock, _) = engine(backend, config());
    let events = recording(&e);
    let key = DpopClient::es256();

    // At login: the same proof twice. No session is made the second time.
    let proof = key.proof("POST", LOGIN_URL, e.now(), None);
    let pair = e
        .login_bound("alice", None, &dpop(&proof, "POST", LOGIN_URL))
        .unwrap();
    let sid = Some(pair.session_id.clone());
    let alice = Some("alice".to_owned());
    assert_eq!(
        take(&events),
        [(EventKind::Login, sid.clone(), alice.clone())]
    );
    assert_eq!(
        e.login_bound("alice", None, &dpop(&proof, "POST", LOGIN_URL)),
        Err(Error::DpopReplayed)
    );
    assert_eq!(
        take(&events),
        [(EventKind::DpopReplayed, None, alice.clone())]
    );

    // At refresh.
    let proof = key.proof("POST", TOKEN_URL, e.now(), None);
    let next = e
        .refresh_bound(
            pair.refresh.as_deref().unwrap(),
            &dpop(&proof, "POST", TOKEN_URL),
        )
        .unwrap();
    assert_eq!(
        take(&events),
        [(EventKind::Refresh, sid.clone(), alice.clone())]
    );
    assert_eq!(
        e.refresh_bound(
            next.refresh.as_deref().unwrap(),
            &dpop(&proof, "POST", TOKEN_URL)
        ),
        Err(Error::DpopReplayed)
    );
    assert_eq!(
        take(&events),
        [(EventKind::DpopReplayed, sid.clone(), alice.clone())]
    );

    // At validate.
    let proof = key.proof("GET", RESOURCE_URL, e.now(), Some(&next.access));
    e.validate_bound(&next.access, &dpop(&proof, "GET", RESOURCE_URL))
        .unwrap();
    assert!(
        take(&events).is_empty(),
        "a validate that passes says nothing"
    );
    assert_eq!(
        e.validate_bound(&next.access, &dpop(&proof, "GET", RESOURCE_URL)),
        Err(Error::DpopReplayed)
    );
    assert_eq!(take(&events), [(EventKind::DpopReplayed, sid, alice)]);
}

on_every_store!(a_replayed_proof_is_an_event);
