//! Sweeps: memory follows live sessions, writes sweep when something can have ended, and
//! every write keeps the lock-free view current.

use super::*;

#[test]
fn memory_follows_live_sessions_after_a_burst() {
    let store = MemoryStore::new();
    let n = scaled(20_000) as u128;
    for i in 1..=n {
        let s = Session::new(Id(i << 64 | i), "u".into(), Id(i), 0, 10, 100);
        store.create(s, 0).unwrap();
    }
    let capacity = |store: &MemoryStore| -> usize {
        store.shards.iter().map(|s| s.read().slab.capacity()).sum()
    };
    let peak = capacity(&store);
    assert!(peak >= n as usize);
    assert_eq!(store.sweep(1_000).unwrap(), n as usize);
    let after = capacity(&store);
    assert!(
        after < peak / 4,
        "slab capacity {after} after a peak of {peak}"
    );
    // The store still works, reusing nothing stale.
    let s = Session::new(Id(7 << 64 | 7), "u".into(), Id(7), 1_000, 10, 100);
    store.create(s, 1_000).unwrap();
    assert!(store.get(Id(7 << 64 | 7)).unwrap().is_some());
    assert!(store.get(Id(1 << 64 | 1)).unwrap().is_none());
}

#[test]
fn every_write_keeps_the_shard_views_current() {
    let store = MemoryStore::new();
    let mut sids = Vec::new();
    let n = scaled(3_000) as i64;
    for now in 0..n {
        let sid = store.new_session_id(now).unwrap();
        let s = Session::new(sid, "u".into(), Id(now as u128), now, 10, 100);
        store.create(s, now).unwrap();
        sids.push(sid);
    }
    // Some end and are swept: the slabs shrink, and the views with them.
    store.sweep(n * 2 / 3).unwrap();
    for sid in sids {
        let (no, at) = located(&store, sid);
        let shard = store.shards[no].read();
        let seen = store.views[no].place(at);
        match shard.get(sid, at) {
            Some(place) => assert_eq!(seen, Some(place.addr())),
            None => assert!(seen.is_none() || shard.slab.get(at).is_some()),
        }
    }
}

#[test]
fn writes_sweep_only_once_a_session_can_have_ended() {
    let store = MemoryStore::new();
    let scans = |store: &MemoryStore| -> usize {
        store
            .shards
            .iter()
            .map(|s| s.read().writes_since_sweep)
            .sum()
    };
    // Enough writes that some shards reach the sweep threshold, even under Miri.
    let n: i64 = if cfg!(miri) { 600 } else { 5_000 };
    // Sessions with 100 s to live (idle 10 s from now = 90): nothing can end before 90, so
    // thousands of writes at 0..50 scan nothing.
    for i in 0..n {
        let now = i * 50 / n;
        let sid = store.new_session_id(now).unwrap();
        let s = Session::new(sid, "u".into(), Id(i as u128), 80, 10, 100);
        store.create(s, now).unwrap();
    }
    assert_eq!(
        scans(&store),
        n as usize,
        "every write counted, no sweep ran"
    );
    assert_eq!(store.stats().unwrap().sessions, n as usize);
    // Past the earliest idle deadline, writes sweep again and free what ended.
    for _ in 0..n {
        login(&store, 95);
    }
    assert!(scans(&store) < n as usize, "writes after 90 swept");
    assert!(
        store.stats().unwrap().sessions < 2 * n as usize,
        "ended sessions were freed by the writes' sweeps"
    );
}

#[test]
fn reservations_alone_are_swept_by_writes() {
    let store = MemoryStore::new();
    let n: i64 = if cfg!(miri) { 1_500 } else { 20_000 };
    for now in 0..n {
        store.new_session_id(now).unwrap();
    }
    let held: usize = store.shards.iter().map(|s| s.read().slab.len).sum();
    assert!(
        held < n as usize / 2,
        "{held} places held by stale reservations"
    );
}
