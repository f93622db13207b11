//! Which process this is, in the sense that matters to state copied by `fork`: a counter
//! bumped in every forked child, read with one atomic load (cheaper than asking the OS for
//! the pid on every call).

use std::sync::atomic::{AtomicU64, Ordering};

static FORKS: AtomicU64 = AtomicU64::new(0);

#[cfg(unix)]
fn watch() {
    extern "C" fn in_child() {
        FORKS.fetch_add(1, Ordering::SeqCst);
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: registers a handler that only touches an atomic; it is async-signal-safe.
        unsafe {
            libc::pthread_atfork(None, None, Some(in_child));
        }
    });
}

#[cfg(not(unix))]
fn watch() {}

/// How many forks separate this process from the one that first asked: different after
/// every fork, in the child.
pub(crate) fn generation() -> u64 {
    watch();
    FORKS.load(Ordering::SeqCst)
}
