//! A shard's places, numbered from 0: the first [`SMALL`] in a small mapping of ordinary
//! pages, then (once a shard outgrows it) all of them in 2 MiB chunks, one huge page each.
//!
//! On Linux, memory that ever held places stays mapped, at the same address, for as long as
//! the slab lives: a validate reads its session's place without the shard's lock (see
//! [`super::view`]), so an address it computed a moment ago must still be readable. What
//! the slab no longer needs is handed back to the OS page by page (`MADV_DONTNEED`, after
//! which it reads as zeros, which is a vacant place) and the mapping is kept, to be used
//! again when the slab grows. Elsewhere, blocks are plain allocations freed when no longer
//! needed, and validates read under the lock ([`KEEPS_MEMORY_MAPPED`] is false).

pub(super) use block::KEEPS_MEMORY_MAPPED;

use super::Slot;

/// Places in the small mapping; past them, the slab moves to chunks.
pub(super) const SMALL: usize = 4096;
pub(super) const CHUNK_BITS: u32 = 14;
/// Places per chunk: 2 MiB, one huge page.
pub(super) const CHUNK: usize = 1 << CHUNK_BITS;
/// A chunk at least this full keeps the memory of its free tail when sessions end: handing
/// back an eighth would split its huge page.
const KEEP_WHOLE_FROM: usize = CHUNK / 8 * 7;

/// A shard's places.
#[derive(Default)]
pub(super) struct Slab {
    /// Places `0..len` while there are no chunks; mapped on the first place.
    pub(super) small: Option<block::Block>,
    pub(super) chunks: Vec<block::Block>,
    /// Chunks the slab shrank out of: mapped, their memory handed back, reused first.
    spare: Vec<block::Block>,
    /// Places handed out: those below are live, reserved or on the free list; those above
    /// are free and untouched.
    pub(super) len: usize,
}

impl Slab {
    /// Which block place `at` belongs in (the small one while there are no chunks; none if
    /// that block does not exist), and its index there.
    fn block(&self, at: usize) -> Option<(&block::Block, usize)> {
        if self.chunks.is_empty() {
            Some((self.small.as_ref()?, at))
        } else {
            Some((self.chunks.get(at >> CHUNK_BITS)?, at & (CHUNK - 1)))
        }
    }

    fn block_mut(&mut self, at: usize) -> Option<(&mut block::Block, usize)> {
        if self.chunks.is_empty() {
            Some((self.small.as_mut()?, at))
        } else {
            Some((self.chunks.get_mut(at >> CHUNK_BITS)?, at & (CHUNK - 1)))
        }
    }

    /// Place `at`, if it was handed out (`at < len`).
    pub(super) fn get(&self, at: usize) -> Option<&Slot> {
        if at >= self.len {
            return None;
        }
        let (block, i) = self.block(at)?;
        block.places().get(i)
    }

    pub(super) fn get_mut(&mut self, at: usize) -> Option<&mut Slot> {
        if at >= self.len {
            return None;
        }
        let (block, i) = self.block_mut(at)?;
        block.places_mut().get_mut(i)
    }

    /// Where place `at` is or would be, if the slab has memory mapped for it (written or
    /// not): for a prefetch only.
    pub(super) fn room(&self, at: usize) -> Option<*const Slot> {
        let (block, i) = self.block(at)?;
        (i < block.room()).then(|| block.base().wrapping_add(i).cast_const())
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Slot> {
        let len = self.len;
        let small = match (&mut self.small, self.chunks.is_empty()) {
            (Some(small), true) => small.places_mut(),
            _ => &mut [],
        };
        let chunked = self
            .chunks
            .iter_mut()
            .flat_map(|c| c.places_mut().iter_mut());
        small.iter_mut().chain(chunked).take(len)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Slot> {
        let small = match (&self.small, self.chunks.is_empty()) {
            (Some(small), true) => small.places(),
            _ => &[],
        };
        let chunked = self.chunks.iter().flat_map(|c| c.places().iter());
        small.iter().chain(chunked).take(self.len)
    }

    /// A new free place at the end.
    pub(super) fn push(&mut self) -> usize {
        let at = self.len;
        if self.chunks.is_empty() && at < SMALL {
            self.small
                .get_or_insert_with(block::Block::small)
                .written_through(at);
        } else {
            if self.chunks.is_empty() {
                // Into the first chunk. The small mapping keeps no memory, only its address.
                let mut first = self.new_chunk();
                if let Some(small) = &mut self.small {
                    for slot in small.places_mut().iter_mut().take(self.len) {
                        first.write_next(std::mem::take(slot));
                    }
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
            self.chunks[at >> CHUNK_BITS].written_through(at & (CHUNK - 1));
        }
        self.len += 1;
        at
    }

    fn new_chunk(&mut self) -> block::Block {
        self.spare.pop().unwrap_or_else(block::Block::chunk)
    }

    /// Drop free places at the end (`is_free` says which are free), and the memory that
    /// held them.
    pub(super) fn trim(&mut self, is_free: impl Fn(&Slot) -> bool) {
        let before = self.len;
        while self.len > 0 && self.get(self.len - 1).is_some_and(&is_free) {
            self.len -= 1;
        }
        if self.chunks.is_empty() {
            if let Some(small) = &mut self.small {
                if small.written() > 64 && self.len < small.written() / 4 {
                    small.release_from(self.len);
                }
            }
            return;
        }
        if self.len <= SMALL / 2 {
            // Back to the small mapping: places keep their numbers.
            let len = self.len;
            let small = self.small.get_or_insert_with(block::Block::small);
            debug_assert_eq!(small.written(), 0, "released when the slab moved to chunks");
            let chunked = self
                .chunks
                .iter_mut()
                .flat_map(|c| c.places_mut().iter_mut());
            for slot in chunked.take(len) {
                small.write_next(std::mem::take(slot));
            }
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
        self.small.as_ref().map_or(0, |s| s.written()) + self.chunks.len() * CHUNK
    }
}

impl std::ops::Index<usize> for Slab {
    type Output = Slot;
    fn index(&self, at: usize) -> &Slot {
        self.get(at).expect("a place in the slab")
    }
}

impl std::ops::IndexMut<usize> for Slab {
    fn index_mut(&mut self, at: usize) -> &mut Slot {
        self.get_mut(at).expect("a place in the slab")
    }
}

impl Drop for Slab {
    fn drop(&mut self) {
        // Blocks hand their memory back without dropping places: drop what places own.
        for slot in self.iter_mut() {
            std::mem::take(slot);
        }
    }
}

/// Blocks of places mapped from the OS.
#[cfg(any(target_os = "linux", target_os = "android"))]
mod block {
    use super::{Slot, CHUNK, SMALL};
    use std::ptr::NonNull;

    const PAGE: usize = 4096;

    /// Blocks stay mapped while the slab lives, so places may be read without the lock.
    pub(in crate::store::memory) const KEEPS_MEMORY_MAPPED: bool = true;

    /// Room for `room` places, of which the first `written` hold a `Slot`; owned like a
    /// `Box<[Slot]>`, except that dropping it does not drop the places (the slab does).
    pub(in crate::store::memory) struct Block {
        ptr: NonNull<Slot>,
        room: usize,
        written: usize,
    }

    // SAFETY: a block owns its places exclusively, as a Box would; `Slot` is Send + Sync.
    unsafe impl Send for Block {}
    unsafe impl Sync for Block {}

    impl Block {
        /// The small mapping: 512 KiB, too small to ever be a huge page, so memory follows
        /// the places written page by page.
        pub(in crate::store::memory) fn small() -> Block {
            let bytes = SMALL * std::mem::size_of::<Slot>();
            let ptr = map(bytes);
            // SAFETY: a fresh mapping, page-aligned and so aligned for `Slot`.
            Block {
                ptr: unsafe { NonNull::new_unchecked(ptr.cast()) },
                room: SMALL,
                written: 0,
            }
        }

        /// A chunk: 2 MiB, aligned to 2 MiB, so it can be one huge page.
        pub(in crate::store::memory) fn chunk() -> Block {
            let bytes = CHUNK * std::mem::size_of::<Slot>();
            // Map twice the size and keep the aligned half.
            let base = map(2 * bytes).cast::<u8>();
            let head = (base as usize).next_multiple_of(bytes) - base as usize;
            // SAFETY: both ranges unmapped lie in the mapping just made, outside the part
            // kept; the advice is on the part kept, which holds nothing yet.
            unsafe {
                if head > 0 {
                    libc::munmap(base.cast(), head);
                }
                libc::munmap(base.add(head + bytes).cast(), bytes - head);
                let ptr = base.add(head);
                // Backed by one huge page from its first write, where the kernel allows it:
                // among millions of sessions, a lookup in small pages costs a TLB miss (a
                // page walk, in a VM through two page tables: the most of what a validate
                // at 1e6 sessions pays over one at 1e3). The price is memory: the chunk is
                // resident whole from its first session, not page by page. Not a later
                // MADV_COLLAPSE: its synchronous 2 MiB copy stalled the chunk's validates
                // for milliseconds on the login that triggered it.
                libc::madvise(ptr.cast(), bytes, libc::MADV_HUGEPAGE);
                Block {
                    ptr: NonNull::new_unchecked(ptr.cast()),
                    room: CHUNK,
                    written: 0,
                }
            }
        }

        fn bytes(&self) -> usize {
            self.room * std::mem::size_of::<Slot>()
        }

        /// Places the block has memory mapped for.
        pub(in crate::store::memory) fn room(&self) -> usize {
            self.room
        }

        /// Where the block's places start (for lock-free reads: see `view`).
        pub(in crate::store::memory) fn base(&self) -> *mut Slot {
            self.ptr.as_ptr()
        }

        pub(in crate::store::memory) fn written(&self) -> usize {
            self.written
        }

        /// The places written so far.
        pub(in crate::store::memory) fn places(&self) -> &[Slot] {
            // SAFETY: the first `written` places were written with a `Slot` (`write_next`)
            // and not released since; `&self` guards them as `&[Slot]` would.
            unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.written) }
        }

        pub(in crate::store::memory) fn places_mut(&mut self) -> &mut [Slot] {
            // SAFETY: as in `places`, with `&mut self` for exclusive access.
            unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.written) }
        }

        /// Write `slot` into the first place not yet written.
        pub(in crate::store::memory) fn write_next(&mut self, slot: Slot) {
            assert!(self.written < self.room, "a block holds `room` places");
            // SAFETY: in bounds (checked above) and not holding a `Slot` yet: a plain
            // write, nothing to drop.
            unsafe { self.ptr.as_ptr().add(self.written).write(slot) };
            self.written += 1;
        }

        /// Make sure places `..=at` hold a `Slot` (vacant where new).
        pub(in crate::store::memory) fn written_through(&mut self, at: usize) {
            while self.written <= at {
                self.write_next(Slot::vacant());
            }
        }

        /// Hand back the memory of places `from..`, which are all free. The mapping stays.
        pub(in crate::store::memory) fn release_from(&mut self, from: usize) {
            let start = (from * std::mem::size_of::<Slot>()).next_multiple_of(PAGE);
            if start >= self.bytes() {
                return;
            }
            // In a chunk, this splits the huge page. Where transparent huge pages are on,
            // khugepaged may merge it again at any time, the freed tail included (up to its
            // max_ptes_none): then the chunk is resident whole again, as it was from its
            // first write. Those places are gone: written anew when handed out again. (They
            // are free, so they own nothing to drop.)
            self.written = self.written.min(start / std::mem::size_of::<Slot>());
            // SAFETY: whole pages of free places this block owns, no longer counted as
            // written, so nothing reads them as places before they are written again (a
            // lock-free read finds zeros, a vacant place, and discards what it read).
            unsafe {
                let at = self.ptr.as_ptr().cast::<u8>().add(start);
                libc::madvise(at.cast(), self.bytes() - start, libc::MADV_DONTNEED);
            }
        }
    }

    /// A private anonymous mapping of `bytes`, reserved in address space only.
    fn map(bytes: usize) -> *mut libc::c_void {
        // SAFETY: a fresh anonymous private mapping; it aliases nothing.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            let layout = std::alloc::Layout::from_size_align(bytes, PAGE).expect("a page layout");
            std::alloc::handle_alloc_error(layout);
        }
        base
    }

    impl Drop for Block {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `small` or `chunk`; the slab that owned this block
            // is gone, and with it every reader.
            unsafe {
                libc::munmap(self.ptr.as_ptr().cast(), self.bytes());
            }
        }
    }
}

/// Elsewhere, a zeroed allocation (zero bytes are a vacant place), freed when the slab no
/// longer needs it: so no place may be read without the shard's lock.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod block {
    use super::{Slot, CHUNK, SMALL};

    pub(in crate::store::memory) const KEEPS_MEMORY_MAPPED: bool = false;

    pub(in crate::store::memory) struct Block {
        places: Box<[Slot]>,
        written: usize,
    }

    impl Block {
        fn zeroed(room: usize) -> Block {
            let layout = std::alloc::Layout::array::<Slot>(room).expect("a block layout");
            // SAFETY: a non-zero-sized layout; all-zero bytes are a valid vacant `Slot`
            // (ids and deadlines 0, `None` pointers and user id, `State::Free`), so the
            // slice is initialized.
            let places = unsafe {
                let ptr = std::alloc::alloc_zeroed(layout).cast::<Slot>();
                if ptr.is_null() {
                    std::alloc::handle_alloc_error(layout);
                }
                Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, room))
            };
            Block { places, written: 0 }
        }
        pub(in crate::store::memory) fn small() -> Block {
            Block::zeroed(SMALL)
        }
        pub(in crate::store::memory) fn chunk() -> Block {
            Block::zeroed(CHUNK)
        }
        pub(in crate::store::memory) fn base(&self) -> *mut Slot {
            self.places.as_ptr().cast_mut()
        }
        pub(in crate::store::memory) fn room(&self) -> usize {
            self.places.len()
        }
        pub(in crate::store::memory) fn written(&self) -> usize {
            self.written
        }
        pub(in crate::store::memory) fn places(&self) -> &[Slot] {
            &self.places[..self.written]
        }
        pub(in crate::store::memory) fn places_mut(&mut self) -> &mut [Slot] {
            &mut self.places[..self.written]
        }
        pub(in crate::store::memory) fn write_next(&mut self, slot: Slot) {
            self.places[self.written] = slot;
            self.written += 1;
        }
        pub(in crate::store::memory) fn written_through(&mut self, at: usize) {
            while self.written <= at {
                self.write_next(Slot::vacant());
            }
        }
        pub(in crate::store::memory) fn release_from(&mut self, from: usize) {
            // As on Linux, released places read as vacant (only those written can be other).
            for slot in self.places.iter_mut().take(self.written).skip(from) {
                *slot = Slot::vacant();
            }
            self.written = self.written.min(from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{State, UserId};
    use super::*;

    #[test]
    fn a_slab_grows_into_chunks_and_back_keeping_place_numbers() {
        let mut slab = Slab::default();
        let n = 2 * CHUNK + 100;
        for i in 0..n {
            assert_eq!(slab.push(), i);
            let slot = &mut slab[i];
            slot.state = State::Live;
            slot.created_at = i as i64;
            slot.user_id = UserId::new(i.to_string());
        }
        assert_eq!(slab.chunks.len(), 3);
        assert_eq!(slab.small.as_ref().map_or(0, |s| s.written()), 0);
        for i in [0, SMALL - 1, SMALL, CHUNK - 1, CHUNK, n - 1] {
            assert_eq!(slab[i].created_at, i as i64);
            assert_eq!(slab[i].user_id.as_str(), Some(&*i.to_string()));
        }
        // Past the end: nothing, whether or not a chunk has room there.
        assert!(slab.get(n).is_none());
        assert!(slab.get(3 * CHUNK).is_none());
        assert_eq!(slab.iter().count(), n);

        let free = |slab: &mut Slab, from: usize| {
            for slot in slab.iter_mut().skip(from) {
                *slot = Slot::vacant();
            }
        };
        free(&mut slab, CHUNK + 10);
        slab.trim(|s| s.state == State::Free);
        assert_eq!((slab.len, slab.chunks.len()), (CHUNK + 10, 2));
        assert_eq!(slab.spare.len(), usize::from(KEEPS_MEMORY_MAPPED));
        assert_eq!(slab[CHUNK + 9].created_at, (CHUNK + 9) as i64);
        // A trimmed place is gone, then handed out anew as free.
        assert!(slab.get(CHUNK + 10).is_none());
        assert_eq!(slab.push(), CHUNK + 10);
        assert_eq!(slab[CHUNK + 10].state, State::Free);

        free(&mut slab, 100);
        slab.trim(|s| s.state == State::Free);
        assert_eq!((slab.len, slab.chunks.len()), (100, 0));
        assert_eq!(slab.spare.len(), 3 * usize::from(KEEPS_MEMORY_MAPPED));
        assert_eq!(slab[99].user_id.as_str(), Some("99"));
        assert!(slab.capacity() < SMALL);

        // Growing again reuses the spare chunks' mappings: the addresses stay the same set.
        let mapped: Vec<*mut Slot> = slab.spare.iter().map(|c| c.base()).collect();
        while slab.len < 2 * CHUNK {
            let at = slab.push();
            slab[at].state = State::Live;
        }
        assert_eq!(slab.chunks.len(), 2);
        if KEEPS_MEMORY_MAPPED {
            assert!(slab.chunks.iter().all(|c| mapped.contains(&c.base())));
        }
        assert_eq!(slab[99].user_id.as_str(), Some("99"));
        assert_eq!(slab[SMALL + 1].state, State::Live);
    }

    #[test]
    fn released_memory_reads_as_vacant_places() {
        // A lock-free reader may read a place after its memory was handed back: it must
        // find a vacant place there, never a fault.
        let mut block = block::Block::chunk();
        block.written_through(CHUNK - 1);
        for slot in block.places_mut() {
            // Free to release: a reservation owns nothing.
            slot.state = State::Reserved;
            slot.created_at = 7;
        }
        block.release_from(0);
        assert_eq!(block.written(), 0);
        // SAFETY: the block's memory is still mapped; these places were released, and
        // zero bytes are a vacant place.
        let place = unsafe { &*block.base().add(CHUNK / 2) };
        assert_eq!((place.state, place.created_at), (State::Free, 0));
    }
}
