//! The user index: a user's sessions listed before and after it is built, kept by later
//! logins, dropped by sweeps, and never fooled by a place reused for another user.

use super::*;

fn login_as(store: &MemoryStore, user: &str, now: i64) -> Id {
    let sid = store.new_session_id(now).unwrap();
    let s = Session::new(sid, user.into(), Id(9), now, 10, 100);
    store.create(s, now).unwrap();
    sid
}

fn listed(store: &MemoryStore, user: &str, now: i64) -> Vec<Id> {
    let mut ids: Vec<Id> = store
        .user_sessions(user, now)
        .unwrap()
        .into_iter()
        .map(|s| s.session.sid)
        .collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<Id>) -> Vec<Id> {
    ids.sort();
    ids
}

#[test]
fn the_index_follows_logins_sweeps_and_reused_places() {
    let store = MemoryStore::new();
    let before: Vec<Id> = (0..scaled(200))
        .map(|_| login_as(&store, "ann", 0))
        .collect();
    let bob = login_as(&store, "bob", 0);
    assert!(store.healthy_shards().all(|s| !s.has_user_index()));
    // The first listing builds the index from what the shards hold.
    assert_eq!(listed(&store, "ann", 1), sorted(before.clone()));
    assert!(store.healthy_shards().all(|s| s.has_user_index()));
    assert_eq!(listed(&store, "bob", 1), [bob]);
    assert!(listed(&store, "nobody", 1).is_empty());

    // Later logins are indexed as they come.
    let later = login_as(&store, "ann", 5);
    let mut all = before.clone();
    all.push(later);
    assert_eq!(listed(&store, "ann", 6), sorted(all));

    // Once idle, the early sessions are not listed; swept, their places go to new logins
    // of another user, which the index never gives out as ann's.
    assert_eq!(listed(&store, "ann", 12), [later]);
    store.sweep(12).unwrap();
    let carl: Vec<Id> = (0..scaled(200))
        .map(|_| login_as(&store, "carl", 12))
        .collect();
    assert_eq!(listed(&store, "ann", 13), [later]);
    assert_eq!(listed(&store, "carl", 13), sorted(carl));
    // A revoked session is not live: not listed.
    store.revoke_session(later).unwrap();
    assert!(listed(&store, "ann", 13).is_empty());
}
