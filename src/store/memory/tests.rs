//! The memory store's tests: layout and ids, slab and view, sweeps and memory, lock-free
//! reads racing writes (these run under Miri too), poisoning, random operation sequences
//! against the reference store, and (in a `cfg(loom)` build) the sequence lock
//! model-checked.

#![cfg_attr(loom, allow(dead_code, unused_imports))]

use super::*;

#[cfg(not(loom))]
mod concurrent;
#[cfg(not(loom))]
mod ids;
#[cfg(not(loom))]
mod layout;
#[cfg(loom)]
mod loom;
pub(super) mod poison;
#[cfg(not(loom))]
mod prop;
#[cfg(not(loom))]
mod slab;
#[cfg(not(loom))]
mod sweeps;
#[cfg(not(loom))]
mod users;
#[cfg(not(loom))]
mod view;

/// `cases` cases normally, a few under Miri; no failure files (Miri runs isolated from the
/// file system).
fn prop_config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases: if cfg!(miri) { 3 } else { cases },
        failure_persistence: None,
        ..Default::default()
    }
}

/// `n` normally; under Miri, which runs some thousand times slower, a fiftieth of it.
fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 50).max(2)
    } else {
        n
    }
}

fn session(sid: Id, now: i64) -> Session {
    Session::new(sid, "u".into(), Id(9), now, 10, 100)
}

/// A session under an id the store chose.
fn login(store: &MemoryStore, now: i64) -> Id {
    let sid = store.new_session_id(now).unwrap();
    store.create(session(sid, now), now).unwrap();
    sid
}

/// Shard and place an id names.
fn located(store: &MemoryStore, sid: Id) -> (usize, usize) {
    store.locator.locate(sid)
}

fn unknown(store: &MemoryStore, sid: Id) -> bool {
    // Any id may be prefetched (it comes from an unverified token): a hint, no effect.
    store.prefetch(sid);
    store.get(sid).unwrap().is_none()
        && store.touch(sid, 0, 10, true, None) == Err(Error::SessionUnknown)
        && store.revoke_session(sid).unwrap() == RevokeOutcome::Unknown
}
