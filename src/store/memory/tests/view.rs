//! A shard's view: it names the places the locked lookup finds, and refuses reads a write
//! section overlapped.

use super::super::place::{Entry, State};
use super::super::seqlock::Version;
use super::super::slab::{Slab, CHUNK, CHUNK_BITS, KEEPS_MEMORY_MAPPED, SMALL};
use super::super::view::{ShardView, CHUNKS};
use crate::session::{Id, Session};

fn entry(i: usize) -> Entry {
    Entry::live(Session::new(
        Id(i as u128 + 1),
        "u".into(),
        Id(1),
        0,
        10,
        i as i64 + 1,
    ))
}

/// The view names the place the locked lookup finds, or nothing, at every stage.
fn agree(view: &ShardView, slab: &Slab, upto: usize) {
    for at in (0..upto).step_by(97).chain([0, upto.saturating_sub(1)]) {
        let locked = slab.get(at).map(|p| p.addr());
        let seen = view.place(at);
        match locked {
            Some(p) => {
                assert_eq!(seen, Some(p), "place {at} of {}", slab.len);
                if !KEEPS_MEMORY_MAPPED {
                    assert_eq!(view.read(at), None, "only under the lock");
                    continue;
                }
                let hot = view.read(at).expect("no write is running");
                assert_eq!(hot, slab.get(at).unwrap().hot_now());
            }
            // Past what the slab handed out: nothing in the small block; inside a chunk the
            // view may name room not handed out (a vacant place).
            None if slab.chunks.is_empty() => assert_eq!(seen, None, "place {at}"),
            None => {
                if let Some(hot) = view.read(at) {
                    assert_eq!(hot.state, State::Free);
                }
            }
        }
    }
}

#[test]
fn the_view_follows_the_slab_into_chunks_and_back() {
    let (mut slab, view) = (Slab::default(), ShardView::default());
    view.begin_write();
    view.end_write(&slab);
    assert_eq!(view.place(0), None);
    for n in [1, SMALL / 2, SMALL, SMALL + 1, CHUNK + 5] {
        view.begin_write();
        while slab.len < n {
            let at = slab.push();
            slab.get_mut(at).unwrap().fill(entry(at));
        }
        view.end_write(&slab);
        agree(&view, &slab, 2 * CHUNK);
    }
    for (keep, chunked) in [(CHUNK - 3, true), (SMALL / 4, false)] {
        view.begin_write();
        slab.for_each_mut(|at, mut place| {
            if at >= keep {
                place.clear();
            }
        });
        slab.trim();
        assert_eq!((slab.len, !slab.chunks.is_empty()), (keep, chunked));
        view.end_write(&slab);
        agree(&view, &slab, 2 * CHUNK);
    }
    // Beyond the chunks the view covers: nothing.
    assert_eq!(view.place(CHUNKS << CHUNK_BITS), None);
}

#[test]
fn a_read_that_a_write_overlapped_is_discarded() {
    let version = Version::default();
    let begun = version.read_begins().expect("no write yet");
    assert!(version.read_holds(begun));
    // A write starts after the read began and ends before it ends.
    version.begin_write();
    version.end_write();
    assert!(!version.read_holds(begun));
    // A write that starts during the read and is still running.
    let begun = version.read_begins().expect("the write ended");
    version.begin_write();
    assert!(!version.read_holds(begun));
    assert_eq!(version.read_begins(), None);
    version.end_write();
    assert!(version.read_begins().is_some());
}

#[test]
fn a_read_during_a_write_is_refused() {
    if !KEEPS_MEMORY_MAPPED {
        return; // no read without the lock at all: see `the_view_follows_the_slab…`
    }
    let (mut slab, view) = (Slab::default(), ShardView::default());
    view.begin_write();
    slab.push();
    slab.get_mut(0).unwrap().fill(entry(0));
    view.end_write(&slab);
    assert!(view.read(0).is_some());
    view.begin_write();
    assert_eq!(view.read(0), None, "a write is running");
    view.end_write(&slab);
    assert_eq!(view.read(0).map(|h| h.state), Some(State::Live));
}
