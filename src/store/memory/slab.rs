//! A shard's places, numbered from 0: the first [`SMALL`] in a small block of ordinary
//! pages, then (once a shard outgrows it) all of them in chunks of 2 MiB, one huge page
//! each.
//!
//! Where blocks keep their memory mapped ([`KEEPS_MEMORY_MAPPED`]), a block that ever held
//! places stays, at the same address, for as long as the slab lives: a validate reads its
//! session's place without the shard's lock (see [`super::view`]), so an address it
//! computed a moment ago must still hold places. What the slab no longer needs is handed
//! back to the OS (see [`super::block`]) and the block is kept, to be used again when the
//! slab grows. Elsewhere, blocks are freed when no longer needed, and validates read under
//! the lock.

pub(super) use super::block::KEEPS_MEMORY_MAPPED;

use super::block::Block;
use super::place::{PlaceMut, PlaceRef, State};

/// Places in the small block; past them, the slab moves to chunks. (Under Miri, a few, so
/// that small tests reach chunks.)
pub(super) const SMALL: usize = if cfg!(miri) { 16 } else { 4096 };
pub(super) const CHUNK_BITS: u32 = if cfg!(miri) { 4 } else { 14 };
/// Places per chunk: 2 MiB, one huge page.
pub(super) const CHUNK: usize = 1 << CHUNK_BITS;
/// A chunk at least this full keeps the memory of its free tail when sessions end: handing
/// back an eighth would split its huge page.
const KEEP_WHOLE_FROM: usize = CHUNK / 8 * 7;

/// A shard's places. Places `len..` are free and vacant; so are the places of `spare`.
#[derive(Default)]
pub(super) struct Slab {
    /// Places `0..len` while there are no chunks; made on the first place.
    pub(super) small: Option<Block>,
    pub(super) chunks: Vec<Block>,
    /// Chunks the slab shrank out of: kept, their memory handed back, reused first.
    pub(super) spare: Vec<Block>,
    /// Places handed out: those below are live, reserved or on the free list.
    pub(super) len: usize,
}

impl Slab {
    /// Which block place `at` belongs in (the small one while there are no chunks; none if
    /// that block does not exist), and its index there.
    fn block(&self, at: usize) -> Option<(&Block, usize)> {
        if self.chunks.is_empty() {
            Some((self.small.as_ref()?, at))
        } else {
            Some((self.chunks.get(at >> CHUNK_BITS)?, at & (CHUNK - 1)))
        }
    }

    fn block_mut(&mut self, at: usize) -> Option<(&mut Block, usize)> {
        if self.chunks.is_empty() {
            Some((self.small.as_mut()?, at))
        } else {
            Some((self.chunks.get_mut(at >> CHUNK_BITS)?, at & (CHUNK - 1)))
        }
    }

    /// Place `at`, if it was handed out (`at < len`).
    pub(super) fn get(&self, at: usize) -> Option<PlaceRef<'_>> {
        if at >= self.len {
            return None;
        }
        let (block, i) = self.block(at)?;
        // SAFETY: a `PlaceMut` needs `&mut self`, which this shared borrow rules out.
        Some(unsafe { PlaceRef::new(block.place(i)) })
    }

    /// Place `at` for writing, if it was handed out.
    pub(super) fn get_mut(&mut self, at: usize) -> Option<PlaceMut<'_>> {
        if at >= self.len {
            return None;
        }
        let (block, i) = self.block_mut(at)?;
        Some(block.place_mut(i))
    }

    /// Where place `at` is or would be, if the slab has a block for it (handed out or
    /// not): for a prefetch only.
    pub(super) fn room(&self, at: usize) -> Option<*const super::place::Place> {
        let (block, i) = self.block(at)?;
        (i < block.room()).then(|| block.base().wrapping_add(i).cast_const())
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = PlaceRef<'_>> {
        (0..self.len).filter_map(|at| self.get(at))
    }

    /// Every handed-out place for writing, with its number.
    pub(super) fn for_each_mut(&mut self, mut f: impl FnMut(usize, PlaceMut<'_>)) {
        for at in 0..self.len {
            if let Some(place) = self.get_mut(at) {
                f(at, place);
            }
        }
    }

    /// A new free place at the end.
    pub(super) fn push(&mut self) -> usize {
        let at = self.len;
        if self.chunks.is_empty() && at < SMALL {
            self.small.get_or_insert_with(Block::small).touch(at);
        } else {
            if self.chunks.is_empty() {
                // Into the first chunk. The small block keeps no memory, only its address.
                let mut first = self.new_chunk();
                if let Some(small) = &mut self.small {
                    move_places(small, 0, &mut first, 0, self.len);
                    small.release_from(0);
                }
                if !KEEPS_MEMORY_MAPPED {
                    self.small = None;
                }
                self.chunks.push(first);
            }
            if at >> CHUNK_BITS == self.chunks.len() {
                let next = self.new_chunk();
                self.chunks.push(next);
            }
            self.chunks[at >> CHUNK_BITS].touch(at & (CHUNK - 1));
        }
        self.len += 1;
        at
    }

    fn new_chunk(&mut self) -> Block {
        self.spare.pop().unwrap_or_else(Block::chunk)
    }

    /// Drop free places at the end, and the memory that held them.
    pub(super) fn trim(&mut self) {
        let before = self.len;
        while self.len > 0 && self.get(self.len - 1).map(|p| p.state()) == Some(State::Free) {
            self.len -= 1;
        }
        if self.chunks.is_empty() {
            if let Some(small) = &mut self.small {
                if small.touched() > 64 && self.len < small.touched() / 4 {
                    small.release_from(self.len);
                }
            }
            return;
        }
        if self.len <= SMALL / 2 {
            // Back to the small block: places keep their numbers.
            let len = self.len;
            let mut small = self.small.take().unwrap_or_else(Block::small);
            debug_assert_eq!(small.touched(), 0, "released when the slab moved to chunks");
            for (c, chunk) in self.chunks.iter_mut().enumerate() {
                let from = c * CHUNK;
                if from >= len {
                    break;
                }
                move_places(chunk, 0, &mut small, from, (len - from).min(CHUNK));
            }
            self.small = Some(small);
            self.retire_chunks_from(0);
            return;
        }
        self.retire_chunks_from(self.len.div_ceil(CHUNK));
        // The last chunk's free tail, unless the chunk is nearly full.
        let used = (self.len - 1) % CHUNK + 1;
        if self.len < before && used < KEEP_WHOLE_FROM {
            if let Some(last) = self.chunks.last_mut() {
                last.release_from(used);
            }
        }
    }

    /// Chunks `from..` (all free places) hand back their memory and wait to be reused.
    fn retire_chunks_from(&mut self, from: usize) {
        for mut chunk in self.chunks.drain(from.min(self.chunks.len())..) {
            if KEEPS_MEMORY_MAPPED {
                chunk.release_from(0);
                self.spare.push(chunk);
            }
        }
    }

    /// Places the slab holds memory for.
    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        self.small.as_ref().map_or(0, |s| s.touched()) + self.chunks.len() * CHUNK
    }
}

/// Move places `from..from + n` of block `src` to `to..` of block `dst` (vacant there).
fn move_places(src: &mut Block, from: usize, dst: &mut Block, to: usize, n: usize) {
    for i in 0..n {
        let mut source = src.place_mut(from + i);
        dst.place_mut(to + i).move_from(&mut source);
        dst.touch(to + i);
    }
}

impl Drop for Slab {
    fn drop(&mut self) {
        // Blocks hand their memory back without dropping places: empty what places own.
        self.for_each_mut(|_, mut place| place.clear());
    }
}
