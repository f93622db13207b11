//! Time, injectable so every rule can be tested to the second.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in whole Unix seconds.
pub trait Clock: Send + Sync + 'static {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        wall_seconds()
    }
}

/// Whole seconds of the wall clock (0 before the epoch), as the OS keeps them: every token
/// checked reads the clock, and `SystemTime` would convert to a `Duration` each time.
#[cfg(unix)]
fn wall_seconds() -> i64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; CLOCK_REALTIME exists on every Unix.
    if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) } != 0 {
        return portable_wall_seconds();
    }
    #[allow(clippy::useless_conversion)] // `time_t` is 32 bits on some targets
    i64::from(now.tv_sec).max(0)
}

#[cfg(not(unix))]
fn wall_seconds() -> i64 {
    portable_wall_seconds()
}

fn portable_wall_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A clock that moves only when told to. Clones share the same time.
///
/// ```
/// use keyfob::{Clock, ManualClock};
/// let clock = ManualClock::new(1_000);
/// clock.advance(30);
/// assert_eq!(clock.now(), 1_030);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock standing at `now` (Unix seconds).
    pub fn new(now: i64) -> Self {
        ManualClock {
            now: Arc::new(AtomicI64::new(now)),
        }
    }

    /// Set the time.
    pub fn set(&self, now: i64) {
        self.now.store(now, Ordering::SeqCst);
    }

    /// Move the time forward (or back, with a negative value).
    pub fn advance(&self, seconds: i64) {
        self.now.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}
