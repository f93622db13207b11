//! A write section that panics halfway through a place poisons its shard: no reader, with
//! or without the lock, trusts the shard again, and the engine hears `Error::Panic`.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::*;

thread_local! {
    static PANIC_MID_WRITE: Cell<bool> = const { Cell::new(false) };
}

/// Called by `PlaceMut::fill` between writing a place's locked fields and its atomics: a
/// test can make it panic there, once, leaving the place half-written.
pub(in crate::store::memory) fn maybe_panic_mid_write() {
    if PANIC_MID_WRITE.with(|p| p.replace(false)) {
        panic!("a panic injected into a write section");
    }
}

#[test]
fn a_panic_mid_write_poisons_the_shard() {
    let store = MemoryStore::new();
    let sid = login(&store, 0);
    let (no, at) = located(&store, sid);
    assert!(store.views[no].read(at).is_some() || !super::super::slab::KEEPS_MEMORY_MAPPED);
    // Re-create the session with other deadlines; the write panics halfway.
    PANIC_MID_WRITE.with(|p| p.set(true));
    let replaced = Session::new(sid, "v".into(), Id(8), 5, 1_000, 1_000);
    let unwound = catch_unwind(AssertUnwindSafe(|| store.create(replaced, 5)));
    assert!(
        unwound.is_err(),
        "the injected panic unwinds through create"
    );

    // Without the lock: the version stays odd, so no read is trusted.
    assert_eq!(store.views[no].read(at), None);
    assert_eq!(store.views[no].version.read_begins(), None);
    // With it: refused.
    assert_eq!(store.touch(sid, 6, 10, false, None), Err(Error::Panic));
    assert_eq!(store.touch(sid, 6, 10, true, None), Err(Error::Panic));
    assert_eq!(store.get(sid), Err(Error::Panic));
    assert_eq!(store.revoke_session(sid), Err(Error::Panic));
    let next = Id(1);
    let nothing = BindingCheck::default();
    assert_eq!(
        store.rotate(sid, Id(9), next, 6, 10, 0, &nothing),
        Err(Error::Panic)
    );
    assert_eq!(store.create(session(sid, 6), 6), Err(Error::Panic));

    // The other shards work on; logins avoid the poisoned one; store-wide calls pass it by.
    let other = (0..200)
        .map(|_| login(&store, 6))
        .inspect(|&s| assert_ne!(located(&store, s).0, no))
        .last()
        .unwrap();
    assert_eq!(store.touch(other, 7, 10, true, None), Ok(()));
    assert_eq!(store.stats().unwrap().sessions, 200);
    store.sweep(1_000).unwrap();
    assert_eq!(store.revoke_user("u", 8, 100).unwrap(), 0);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the engine signs with ring, whose C code Miri cannot run"
)]
fn the_engine_reports_a_poisoned_shard_as_an_internal_error() {
    use crate::{Config, Engine};
    use std::sync::Arc;
    let store = Arc::new(MemoryStore::new());
    let config = Config::with_secret("poison-secret-0123456789abcdef0123");
    let engine = Engine::builder(config)
        .store(store.clone())
        .build()
        .unwrap();
    let pair = engine.login("42", None).unwrap();
    let claims = engine.validate(&pair.access).unwrap();
    let sid = claims.session_id().unwrap().unwrap();
    // A write to the session's own place panics halfway.
    PANIC_MID_WRITE.with(|p| p.set(true));
    let again = Session::new(sid, "42".into(), Id(8), 0, 1_000, 1_000);
    let unwound = catch_unwind(AssertUnwindSafe(|| store.create(again, engine.now())));
    assert!(unwound.is_err());
    let err = engine.validate(&pair.access).unwrap_err();
    assert_eq!(err, Error::Panic);
    assert_eq!(err.code(), crate::ErrorCode::Panic);
    let refresh = pair.refresh.as_ref().unwrap();
    assert_eq!(engine.refresh(refresh).unwrap_err(), Error::Panic);
}
