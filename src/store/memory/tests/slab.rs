//! A shard's slab: growing into chunks and back, keeping place numbers and contents.

use super::super::block::{Block, KEEPS_MEMORY_MAPPED};
use super::super::place::{Entry, Place, State};
use super::super::slab::{Slab, CHUNK, SMALL};
use crate::session::{Id, Session};

fn entry(i: usize) -> Entry {
    Entry::live(Session::new(
        Id(i as u128 + 1),
        i.to_string(),
        Id(1),
        i as i64,
        10,
        100,
    ))
}

fn user(slab: &Slab, at: usize) -> Option<String> {
    let place = slab.get(at)?;
    place.locked().user_id.as_str().map(str::to_owned)
}

fn free_from(slab: &mut Slab, from: usize) {
    slab.for_each_mut(|at, mut place| {
        if at >= from {
            place.clear();
        }
    });
}

#[test]
fn a_slab_grows_into_chunks_and_back_keeping_place_numbers() {
    let mut slab = Slab::default();
    let n = 2 * CHUNK + 100;
    for i in 0..n {
        assert_eq!(slab.push(), i);
        slab.get_mut(i).unwrap().fill(entry(i));
    }
    assert_eq!(slab.chunks.len(), 3);
    assert_eq!(slab.small.as_ref().map_or(0, |s| s.touched()), 0);
    for i in [0, SMALL - 1, SMALL, CHUNK - 1, CHUNK, n - 1] {
        assert_eq!(slab.get(i).unwrap().locked().created_at, i as i64);
        assert_eq!(user(&slab, i), Some(i.to_string()));
    }
    // Past the end: nothing, whether or not a chunk has room there.
    assert!(slab.get(n).is_none());
    assert!(slab.get(3 * CHUNK).is_none());
    assert_eq!(slab.iter().count(), n);

    free_from(&mut slab, CHUNK + 10);
    slab.trim();
    assert_eq!((slab.len, slab.chunks.len()), (CHUNK + 10, 2));
    assert_eq!(slab.spare.len(), usize::from(KEEPS_MEMORY_MAPPED));
    assert_eq!(user(&slab, CHUNK + 9), Some((CHUNK + 9).to_string()));
    // A trimmed place is gone, then handed out anew as free.
    assert!(slab.get(CHUNK + 10).is_none());
    assert_eq!(slab.push(), CHUNK + 10);
    assert_eq!(slab.get(CHUNK + 10).unwrap().state(), State::Free);

    free_from(&mut slab, 100.min(SMALL / 2));
    slab.trim();
    let kept = 100.min(SMALL / 2);
    assert_eq!((slab.len, slab.chunks.len()), (kept, 0));
    assert_eq!(slab.spare.len(), 3 * usize::from(KEEPS_MEMORY_MAPPED));
    assert_eq!(user(&slab, kept - 1), Some((kept - 1).to_string()));
    assert!(slab.capacity() < SMALL);

    // Growing again reuses the spare chunks: the addresses stay the same set.
    let mapped: Vec<*mut Place> = slab.spare.iter().map(|c| c.base()).collect();
    while slab.len < 2 * CHUNK {
        let at = slab.push();
        slab.get_mut(at).unwrap().fill(entry(at));
    }
    assert_eq!(slab.chunks.len(), 2);
    if KEEPS_MEMORY_MAPPED {
        assert!(slab.chunks.iter().all(|c| mapped.contains(&c.base())));
    }
    assert_eq!(user(&slab, kept - 1), Some((kept - 1).to_string()));
    assert_eq!(slab.get(SMALL + 1).unwrap().state(), State::Live);
}

#[test]
fn released_memory_reads_as_vacant_places() {
    // A lock-free reader may read a place after its memory was handed back: it must find
    // a vacant place there.
    let mut block = Block::chunk();
    for i in 0..CHUNK {
        block.touch(i);
        block.place_mut(i).fill(entry(i));
        block.place_mut(i).clear();
    }
    block.release_from(0);
    assert_eq!(block.touched(), 0);
    let place = block.place(CHUNK / 2);
    assert_eq!(place.hot(), Place::vacant().hot());
}
