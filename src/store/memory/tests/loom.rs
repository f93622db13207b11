//! The sequence lock under loom (a `cfg(loom)` build: `scripts/test-soundness.sh`): every
//! interleaving of a reader and a writer on one place, and every value the memory model
//! lets each of the reader's loads return. A read the version lets through must be one
//! state of the place, whole: vacant, the first session, or the one that re-used the place.

use loom::sync::Arc;
use loom::thread;

use super::super::place::{Entry, Place, PlaceMut};
use super::super::seqlock::Version;
use crate::session::{Id, Session};

/// A session at the place: `id`, with its own deadlines.
fn session(id: u128, deadline: i64) -> Entry {
    Entry::live(Session::new(
        Id(id),
        "u".into(),
        Id(1),
        0,
        deadline,
        deadline,
    ))
}

/// A reader and a writer that fills the place with one session, then re-uses it for
/// another (as a sweep and a login would: one replaces the other); the reader reads
/// `reads` times. At most one preemption: the state space grows fast with more.
fn model(reads: usize) {
    let (old, new) = ((0xa1 << 64 | 1, 100), (0xb2 << 64 | 2, 1 << 40));
    let allowed = [
        Place::VACANT,
        session(old.0, old.1).hot(),
        session(new.0, new.1).hot(),
    ];
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(1);
    builder.check(move || {
        let shared = Arc::new((Version::default(), Place::vacant()));
        let writer = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (version, place) = &*shared;
                // SAFETY: this thread is the place's only writer; the reader reads atomics.
                let mut writer = unsafe { PlaceMut::new(place) };
                for (id, deadline) in [old, new] {
                    version.begin_write();
                    writer.fill(session(id, deadline));
                    version.end_write();
                }
            })
        };
        let (version, place) = &*shared;
        for _ in 0..reads {
            if let Some(begun) = version.read_begins() {
                let seen = place.hot();
                if version.read_holds(begun) {
                    assert!(allowed.contains(&seen), "a torn read let through: {seen:?}");
                }
            }
        }
        writer.join().unwrap();
    });
}

#[test]
fn a_read_the_version_lets_through_is_whole() {
    model(1);
}
