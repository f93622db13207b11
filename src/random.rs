//! Random bytes for ids, from the operating system, drawn in blocks per thread: one system
//! call per 256 ids instead of one per id. A forked child discards its parent's block, so two
//! processes never hand out the same bytes.

use std::cell::RefCell;

use ring::rand::{SecureRandom, SystemRandom};

/// 256 ids: the system call (and the kernel generating the bytes) costs about as much
/// as a login, so it is spread thin. 4 KiB per thread.
const BLOCK: usize = 4096;

struct Pool {
    bytes: [u8; BLOCK],
    used: usize,
    forks: u64,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { bytes: [0; BLOCK], used: BLOCK, forks: 0 })
    };
}

/// 16 bytes from the OS random source (through this thread's block); `None` when the OS
/// source fails.
pub(crate) fn take16() -> Option<[u8; 16]> {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let forks = crate::fork::generation();
        if pool.used + 16 > BLOCK || pool.forks != forks {
            SystemRandom::new().fill(&mut pool.bytes).ok()?;
            pool.used = 0;
            pool.forks = forks;
        }
        let mut id = [0u8; 16];
        let at = pool.used;
        id.copy_from_slice(&pool.bytes[at..at + 16]);
        // Handed-out bytes do not linger in memory.
        pool.bytes[at..at + 16].fill(0);
        pool.used += 16;
        Some(id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_distinct_across_blocks_and_leave_nothing_behind() {
        let mut seen = std::collections::HashSet::new();
        // More than two blocks' worth.
        for _ in 0..3 * BLOCK / 16 {
            assert!(seen.insert(take16().expect("OS randomness")));
        }
        POOL.with(|pool| {
            let pool = pool.borrow();
            assert!(pool.bytes[..pool.used].iter().all(|&b| b == 0));
        });
    }
}
