//! Lock-free reads racing writes to the same places. Under Miri these are the tests that
//! show the read is no data race (Miri reports any), whatever the writes do to the place:
//! re-create it, revoke it, sweep it, move it into a chunk.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Barrier;

use super::super::locate::MAX_PLACES;
use super::super::slab::SMALL;
use super::*;

/// A reader touching `sid` (`touch` returns whether the answer is one the lock could give)
/// and a writer (`write`, called until the reader is done) start together.
fn race(reads: usize, touch: impl Fn() -> bool + Sync, write: impl Fn(u64) + Sync) {
    let start = Barrier::new(2);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            start.wait();
            for _ in 0..reads {
                assert!(touch());
            }
            done.store(true, Relaxed);
        });
        s.spawn(|| {
            start.wait();
            let mut round = 0;
            while !done.load(Relaxed) {
                write(round);
                round += 1;
            }
        });
    });
}

#[test]
fn touches_race_a_session_re_created_in_its_place() {
    let store = MemoryStore::new();
    let sid = login(&store, 0);
    race(
        scaled(5_000),
        || {
            let r = store.touch(sid, 1, 10, false, None);
            matches!(r, Ok(()) | Err(Error::SessionUnknown | Error::Revoked))
        },
        |round| {
            store.revoke_session(sid).unwrap();
            // Ends it (its deadlines are long past), frees the place, and re-creates the
            // session: it lands in the place just freed.
            store.sweep(1_000 + round as i64).unwrap();
            store.create(session(sid, 0), 0).unwrap();
        },
    );
}

#[test]
fn touches_race_the_slab_moving_into_chunks_and_back() {
    // Sessions under ids naming the reader's shard fill it until its slab moves into
    // chunks (the reader's place moves with it), then end, and the slab moves back.
    let store = MemoryStore::new();
    let sid = login(&store, 0);
    let (no, _) = located(&store, sid);
    race(
        scaled(2_000),
        // Slides too: the locked path, racing the moves.
        || store.touch(sid, 1, 50, true, None).is_ok(),
        |round| {
            for k in 0..SMALL + 2 {
                let random = Id(u128::from(round) << 100 | (k as u128) << 64);
                let id = store.locator.id(random, no, MAX_PLACES - 1 - k);
                store
                    .create(Session::new(id, "u".into(), Id(3), 0, 1, 2), 0)
                    .unwrap();
            }
            // The fillers end at 2; the reader's session lives on (it slides).
            store.sweep(2).unwrap();
        },
    );
    assert!(store.get(sid).unwrap().is_some());
}

#[test]
fn touches_race_revocations_and_writes_to_the_same_shard() {
    let store = MemoryStore::new();
    let sid = login(&store, 0);
    let (no, _) = located(&store, sid);
    race(
        scaled(5_000),
        || {
            let r = store.touch(sid, 1, 10, false, None);
            matches!(r, Ok(()) | Err(Error::Revoked))
        },
        |round| {
            if round % 8 == 7 {
                store.revoke_session(sid).unwrap();
            }
            let id = store
                .locator
                .id(Id(u128::from(round) << 64 | 1), no, MAX_PLACES - 1);
            store.create(session(id, 0), 0).unwrap();
        },
    );
}

#[test]
fn lock_free_touches_never_mix_a_reused_place_with_its_old_id() {
    // A writer ends sessions and fills their places with new ones, round after round,
    // while readers touch both. An old session is past its deadline, a new one has hours:
    // a read that mixed the old id with the new deadlines would let an old token in. Every
    // answer must be one the lock would give.
    use parking_lot::RwLock;
    let rounds = scaled(40) as i64;
    let per_round = scaled(2_000);
    let store = MemoryStore::new();
    let published: RwLock<(i64, Vec<Id>, Vec<Id>)> = RwLock::default();
    let done = AtomicBool::new(false);
    let (mut old_checked, mut new_checked) = (0usize, 0usize);
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let (mut old_n, mut new_n) = (0, 0);
                    while !done.load(Relaxed) {
                        let (base, old, new) = published.read().clone();
                        for &sid in &old {
                            let r = store.touch(sid, base + 150, 10, false, None);
                            assert!(
                                matches!(r, Err(Error::SessionUnknown | Error::SessionExpired)),
                                "an ended session answered {r:?}"
                            );
                            old_n += 1;
                        }
                        for &sid in &new {
                            let r = store.touch(sid, base + 150, 10_000, true, None);
                            assert_eq!(r, Ok(()));
                            new_n += 1;
                        }
                    }
                    (old_n, new_n)
                })
            })
            .collect();
        for round in 0..rounds {
            let base = round * 1_000;
            let old: Vec<Id> = (0..per_round)
                .map(|_| {
                    let sid = store.new_session_id(base).unwrap();
                    let s = Session::new(sid, "u".into(), Id(1), base, 100, 100);
                    store.create(s, base).unwrap();
                    sid
                })
                .collect();
            store.sweep(base + 200).unwrap();
            let new: Vec<Id> = (0..per_round)
                .map(|_| {
                    let sid = store.new_session_id(base + 150).unwrap();
                    let s = Session::new(sid, "u".into(), Id(2), base, 1 << 40, 1 << 40);
                    store.create(s, base + 150).unwrap();
                    sid
                })
                .collect();
            *published.write() = (base, old, new);
        }
        done.store(true, Relaxed);
        for r in readers {
            let (o, n) = r.join().unwrap();
            old_checked += o;
            new_checked += n;
        }
    });
    assert!(old_checked > 0 && new_checked > 0);
}
