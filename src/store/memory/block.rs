//! Blocks of places: memory for `room` places, every one of them a valid place from the
//! start (zero bytes are a vacant place) until the block is dropped. Places are reached
//! through shared references only (see `place`), so a lock-free reader may read any of
//! them at any time while the block lives.
//!
//! On Linux a block is an anonymous mapping, and memory its free places no longer need is
//! handed back with `MADV_DONTNEED` (after which it reads as zeros: the vacant places it
//! held). Under Miri, and elsewhere, a block is a zeroed allocation, and "handing back" a
//! free place empties it with atomic stores instead (it is vacant already).

pub(super) use imp::{Block, KEEPS_MEMORY_MAPPED};

use super::place::{Place, PlaceMut, State};

impl Block {
    /// Place `i` (`i < room`).
    #[inline]
    pub(super) fn place(&self, i: usize) -> &Place {
        assert!(i < self.room(), "a block holds `room` places");
        // SAFETY: in bounds; every place of a live block is a valid `Place` (see the
        // module doc), and only shared references to places are ever made.
        unsafe { &*self.base().add(i) }
    }

    /// Place `i` for writing: `&mut self` is exclusive access to every place of the block.
    pub(super) fn place_mut(&mut self, i: usize) -> PlaceMut<'_> {
        // SAFETY: the exclusive borrow of the block rules out any other `PlaceRef` or
        // `PlaceMut` of its places while this one lives.
        unsafe { PlaceMut::new(self.place(i)) }
    }

    /// Whether places `from..` of those in use are all free, as `release_from` needs.
    fn free_from(&self, from: usize) -> bool {
        (from..self.touched()).all(|i| self.place(i).hot().state == State::Free)
    }
}

/// Blocks mapped from the OS.
#[cfg(all(not(miri), any(target_os = "linux", target_os = "android")))]
mod imp {
    use super::super::slab::{CHUNK, SMALL};
    use super::Place;
    use std::ptr::NonNull;

    const PAGE: usize = 4096;

    /// Blocks stay mapped while the slab lives, so places may be read without the lock.
    pub(in crate::store::memory) const KEEPS_MEMORY_MAPPED: bool = true;

    /// Room for `room` places, owned like a `Box<[Place]>` except that dropping it does not
    /// drop the places (the slab empties them first).
    pub(in crate::store::memory) struct Block {
        ptr: NonNull<Place>,
        room: usize,
        /// Places handed out since the block's memory was last handed back: those past it
        /// have never been written since and may have no memory behind them.
        touched: usize,
    }

    // SAFETY: a block owns its places exclusively, as a Box would; `Place` is Send + Sync.
    unsafe impl Send for Block {}
    unsafe impl Sync for Block {}

    impl Block {
        /// The small mapping: 512 KiB, too small to ever be a huge page, so memory follows
        /// the places written page by page.
        pub(in crate::store::memory) fn small() -> Block {
            let ptr = map(SMALL * std::mem::size_of::<Place>());
            // SAFETY: a fresh mapping, page-aligned and so aligned for `Place`.
            Block {
                ptr: unsafe { NonNull::new_unchecked(ptr.cast()) },
                room: SMALL,
                touched: 0,
            }
        }

        /// A chunk: 2 MiB, aligned to 2 MiB, so it can be one huge page.
        pub(in crate::store::memory) fn chunk() -> Block {
            let bytes = CHUNK * std::mem::size_of::<Place>();
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
                    touched: 0,
                }
            }
        }

        fn bytes(&self) -> usize {
            self.room * std::mem::size_of::<Place>()
        }

        pub(in crate::store::memory) fn room(&self) -> usize {
            self.room
        }

        /// Where the block's places start (for lock-free reads: see `view`).
        pub(in crate::store::memory) fn base(&self) -> *mut Place {
            self.ptr.as_ptr()
        }

        pub(in crate::store::memory) fn touched(&self) -> usize {
            self.touched
        }

        /// Place `at` is handed out.
        pub(in crate::store::memory) fn touch(&mut self, at: usize) {
            self.touched = self.touched.max(at + 1);
        }

        /// Hand back the memory of places `from..`, which are all free (so vacant). The
        /// mapping stays, and so do the places: the pages handed back read as zeros, the
        /// vacant places they held, so a lock-free reader there sees no change.
        pub(in crate::store::memory) fn release_from(&mut self, from: usize) {
            debug_assert!(self.free_from(from));
            let start = (from * std::mem::size_of::<Place>()).next_multiple_of(PAGE);
            if start >= self.bytes() {
                return;
            }
            // In a chunk, this splits the huge page. Where transparent huge pages are on,
            // khugepaged may merge it again at any time, the freed tail included (up to its
            // max_ptes_none): then the chunk is resident whole again, as it was from its
            // first write.
            self.touched = self.touched.min(start / std::mem::size_of::<Place>());
            // SAFETY: whole pages of this block's mapping, holding free places, which own
            // nothing and whose every field is zero already.
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
            // is gone (or no longer reads it), and its places own nothing.
            unsafe {
                libc::munmap(self.ptr.as_ptr().cast(), self.bytes());
            }
        }
    }
}

/// Zeroed allocations: under Miri, kept until the slab is dropped, so lock-free reads run
/// as on Linux; elsewhere freed when the slab no longer needs them, so no place may be read
/// without the shard's lock.
#[cfg(any(miri, not(any(target_os = "linux", target_os = "android"))))]
mod imp {
    use super::super::slab::{CHUNK, SMALL};
    use super::Place;
    use std::alloc::Layout;
    use std::ptr::NonNull;

    pub(in crate::store::memory) const KEEPS_MEMORY_MAPPED: bool = cfg!(miri);

    pub(in crate::store::memory) struct Block {
        ptr: NonNull<Place>,
        room: usize,
        touched: usize,
    }

    // SAFETY: as for a Box<[Place]>: the block owns its places; `Place` is Send + Sync.
    unsafe impl Send for Block {}
    unsafe impl Sync for Block {}

    impl Block {
        fn zeroed(room: usize) -> Block {
            let layout = Layout::array::<Place>(room).expect("a block layout");
            // SAFETY: a layout of non-zero size; zero bytes are vacant places.
            let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
            let Some(ptr) = NonNull::new(ptr.cast::<Place>()) else {
                std::alloc::handle_alloc_error(layout);
            };
            Block {
                ptr,
                room,
                touched: 0,
            }
        }

        pub(in crate::store::memory) fn small() -> Block {
            Block::zeroed(SMALL)
        }

        pub(in crate::store::memory) fn chunk() -> Block {
            Block::zeroed(CHUNK)
        }

        pub(in crate::store::memory) fn room(&self) -> usize {
            self.room
        }

        pub(in crate::store::memory) fn base(&self) -> *mut Place {
            self.ptr.as_ptr()
        }

        pub(in crate::store::memory) fn touched(&self) -> usize {
            self.touched
        }

        pub(in crate::store::memory) fn touch(&mut self, at: usize) {
            self.touched = self.touched.max(at + 1);
        }

        /// Places `from..`, all free, are no longer in use. What `MADV_DONTNEED` does on
        /// Linux (they read as zeros after) is done here with atomic stores, which a
        /// lock-free reader may race with (and which change nothing: they are vacant).
        pub(in crate::store::memory) fn release_from(&mut self, from: usize) {
            debug_assert!(self.free_from(from));
            for i in from..self.touched {
                self.place_mut(i).clear();
            }
            self.touched = self.touched.min(from);
        }
    }

    impl Drop for Block {
        fn drop(&mut self) {
            let layout = Layout::array::<Place>(self.room).expect("a block layout");
            // SAFETY: allocated in `zeroed` with this layout; its places own nothing.
            unsafe { std::alloc::dealloc(self.ptr.as_ptr().cast(), layout) };
        }
    }
}
