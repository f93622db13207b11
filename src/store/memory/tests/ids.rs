//! Ids the store chooses: where they lead, what they show, and ids it did not choose.

use proptest::prelude::*;

use super::super::locate::{Locator, MAX_PLACES, PLACE_BITS, SHARDS};
use super::super::place::{Packed, State};
use super::*;

#[test]
fn chosen_ids_name_their_place_and_keep_96_random_bits() {
    let store = MemoryStore::new();
    let n = scaled(200);
    let ids: Vec<Id> = (0..n).map(|_| login(&store, 0)).collect();
    for &sid in &ids {
        let (no, at) = located(&store, sid);
        let shard = store.shards[no].read();
        assert!(shard.slab.get(at).unwrap().is(Packed::of(sid), State::Live));
        assert_eq!(store.get(sid).unwrap().unwrap().sid, sid);
    }
    let mut high: Vec<u128> = ids.iter().map(|id| id.0 >> PLACE_BITS).collect();
    high.sort_unstable();
    high.dedup();
    assert_eq!(high.len(), ids.len());
    assert_eq!(store.stats().unwrap().sessions, n);
}

#[test]
fn consecutive_ids_do_not_show_the_order_of_places() {
    // A fresh store hands out places 0, 1, 2, ... in each shard: the low bits of the ids
    // must not show it. Unmasked, 1000 logins would give low words below 2^11, rising.
    let store = MemoryStore::new();
    // Not scaled: the checks below are statistical.
    let n: usize = if cfg!(miri) { 200 } else { 1_000 };
    let low: Vec<u32> = (0..n).map(|_| login(&store, 0).0 as u32).collect();
    let (min, max) = (low.iter().min().unwrap(), low.iter().max().unwrap());
    assert!(max - min > 1 << 28, "low words span {min:#x}..{max:#x}");
    let rising = low.windows(2).filter(|w| w[1] > w[0]).count();
    let expected = (n - 1) / 2;
    assert!(
        rising.abs_diff(expected) < expected / 3 + 2,
        "{rising} of {n} rise"
    );
    // Each bit of the low word is set about half the time.
    for bit in 0..32 {
        let set = low.iter().filter(|w| *w >> bit & 1 == 1).count();
        assert!(set.abs_diff(n / 2) < n / 4, "bit {bit} set in {set} of {n}");
    }
    // And another store hides the same places under other bits.
    let other = MemoryStore::new();
    let theirs: Vec<u32> = (0..n).map(|_| login(&other, 0).0 as u32).collect();
    assert_ne!(low, theirs);
}

proptest! {
    #![proptest_config(super::prop_config(256))]

    #[test]
    fn a_located_id_names_its_place_and_keeps_its_random_bits(
        keys in any::<[u32; 4]>(),
        multipliers in any::<[u32; 4]>(),
        random in any::<u128>(),
        shard in 0..SHARDS,
        place in 0..MAX_PLACES,
    ) {
        let locator = Locator::with_secret(keys, multipliers);
        let id = locator.id(Id(random), shard, place);
        prop_assert_eq!(locator.locate(id), (shard, place));
        prop_assert_eq!(id.0 >> PLACE_BITS, random >> PLACE_BITS);
    }
}

#[test]
fn forged_and_out_of_range_ids_are_unknown() {
    let store = MemoryStore::new();
    let sid = login(&store, 0);
    let (no, at) = located(&store, sid);
    // Same place, other random bits; a neighbour's low bits.
    assert!(unknown(&store, Id(sid.0 ^ (1 << 100))));
    assert!(unknown(&store, Id(sid.0 ^ (1 << PLACE_BITS))));
    assert!(unknown(&store, Id(sid.0 ^ 1)));
    // A place past the slab's end, and the largest place an id can name.
    assert!(unknown(&store, store.locator.id(sid, no, at + 1000)));
    assert!(unknown(&store, store.locator.id(sid, no, MAX_PLACES - 1)));
    assert!(unknown(&store, Id(0)));
    assert!(store.get(sid).unwrap().is_some());
}

#[test]
fn a_reused_place_does_not_answer_for_its_old_id() {
    let store = MemoryStore::new();
    let old = login(&store, 0);
    assert_eq!(store.sweep(1_000).unwrap(), 1);
    assert!(unknown(&store, old));
    // Fill the shard's places again until one lands where the old session was.
    let reused = (0..100_000)
        .map(|_| login(&store, 1_000))
        .find(|&sid| located(&store, sid) == located(&store, old))
        .expect("the freed place is reused");
    assert_ne!(reused, old);
    assert!(unknown(&store, old));
    assert!(store.get(reused).unwrap().is_some());
}

#[test]
fn a_reservation_never_filled_is_reclaimed() {
    let store = MemoryStore::new();
    let sid = store.new_session_id(0).unwrap();
    let (no, at) = located(&store, sid);
    let state = |store: &MemoryStore| store.shards[no].read().slab.get(at).map(|p| p.state());
    assert_eq!(state(&store), Some(State::Reserved));
    assert!(unknown(&store, sid));
    // Held while a login could still be on its way; not counted as a session.
    assert_eq!(store.sweep(RESERVATION_S - 1).unwrap(), 0);
    assert_eq!(state(&store), Some(State::Reserved));
    assert_eq!(store.stats().unwrap().sessions, 0);
    assert_eq!(store.sweep(RESERVATION_S).unwrap(), 0);
    assert_ne!(state(&store), Some(State::Reserved));
    // A create that comes after all still works, through the foreign index.
    store.create(session(sid, 61), 61).unwrap();
    assert_eq!(store.get(sid).unwrap().unwrap().sid, sid);
    assert_eq!(store.stats().unwrap().sessions, 1);
}

#[test]
fn ids_the_store_did_not_choose_work_alongside() {
    let store = MemoryStore::new();
    let mine = login(&store, 0);
    // Same shard and place bits as `mine`, other random bits; and a plain small id.
    let theirs = Id(mine.0 ^ (1 << 127));
    store.create(session(theirs, 0), 0).unwrap();
    store.create(session(Id(42), 0), 0).unwrap();
    for sid in [mine, theirs, Id(42)] {
        assert_eq!(store.get(sid).unwrap().unwrap().sid, sid);
    }
    assert_eq!(
        store.revoke_session(theirs).unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(store.touch(mine, 0, 10, true, None), Ok(()));
    assert_eq!(store.stats().unwrap().sessions, 3);
    assert_eq!(store.sweep(1_000).unwrap(), 3);
    assert!(unknown(&store, theirs) && unknown(&store, mine) && unknown(&store, Id(42)));
}
