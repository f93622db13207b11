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

/// Whole seconds of the wall clock (0 before the epoch), as the fine clock gives them.
///
/// Every token checked reads the clock, so the common case reads the kernel's coarse clock:
/// the time of its last tick, a load from memory shared with the kernel, where the fine clock
/// also reads and scales the CPU's counter. The coarse clock lags by a tick (1 to 10 ms),
/// which can change the whole second only near its end; there the fine clock decides. So
/// the answer is the fine clock's, unless the kernel's timekeeping has fallen more than
/// [`COARSE_MARGIN_NS`] behind (on a host that holds off the virtual CPU keeping it, say);
/// then it can be a second early for that moment, as a clock that much behind would be.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn wall_seconds() -> i64 {
    seconds_from(read_clock(libc::CLOCK_REALTIME_COARSE), fine_wall_seconds)
}

/// The coarse reading's whole seconds while it is far enough from the next second; `fine`
/// otherwise, or when there is no coarse reading.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline(always)]
fn seconds_from(coarse: Option<libc::timespec>, fine: impl FnOnce() -> i64) -> i64 {
    #[allow(clippy::useless_conversion)] // `tv_nsec` is not `i64` on every target
    match coarse {
        Some(coarse) if i64::from(coarse.tv_nsec) < NANOS_PER_SECOND - COARSE_MARGIN_NS => {
            whole_seconds(coarse)
        }
        _ => fine(),
    }
}

#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
fn wall_seconds() -> i64 {
    fine_wall_seconds()
}

#[cfg(not(unix))]
fn wall_seconds() -> i64 {
    portable_wall_seconds()
}

#[cfg(any(target_os = "linux", target_os = "android"))]
const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// How close to the next second the coarse clock may stand and still be trusted: ten ticks
/// at 100 Hz, the slowest tick rate in common use.
#[cfg(any(target_os = "linux", target_os = "android"))]
const COARSE_MARGIN_NS: i64 = 100_000_000;

/// The wall clock's whole seconds from the fine clock, as `SystemTime` reads it, without the
/// conversion to a `Duration`.
#[cfg(unix)]
fn fine_wall_seconds() -> i64 {
    read_clock(libc::CLOCK_REALTIME).map_or_else(portable_wall_seconds, whole_seconds)
}

#[cfg(unix)]
fn read_clock(id: libc::clockid_t) -> Option<libc::timespec> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; an id the OS lacks is an error return.
    (unsafe { libc::clock_gettime(id, &mut now) } == 0).then_some(now)
}

#[cfg(unix)]
fn whole_seconds(time: libc::timespec) -> i64 {
    #[allow(clippy::useless_conversion)] // `time_t` is 32 bits on some targets
    i64::from(time.tv_sec).max(0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_wall_clock_reads_the_same_second_as_the_fine_clock_across_second_boundaries() {
        // Every read lies between a fine read before it and one after it, over two second
        // boundaries (where the coarse clock hands over to the fine one).
        let start = fine_wall_seconds();
        let mut reads = 0u64;
        loop {
            let before = fine_wall_seconds();
            let read = wall_seconds();
            let after = fine_wall_seconds();
            assert!(
                before <= read && read <= after,
                "{before} <= {read} <= {after}"
            );
            reads += 1;
            if after >= start + 2 {
                break;
            }
        }
        assert!(reads > 1_000, "only {reads} reads in two seconds");
    }

    #[test]
    fn the_system_clock_is_the_unix_time() {
        let portable = portable_wall_seconds();
        let read = SystemClock.now();
        assert!((read - portable).abs() <= 1, "{read} against {portable}");
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn a_coarse_reading_near_the_next_second_is_left_to_the_fine_clock() {
        let at = |nanos: i64| libc::timespec {
            tv_sec: 1_000,
            tv_nsec: nanos as _,
        };
        let last_trusted = NANOS_PER_SECOND - COARSE_MARGIN_NS - 1;
        assert_eq!(seconds_from(Some(at(0)), || 7), 1_000);
        assert_eq!(seconds_from(Some(at(last_trusted)), || 7), 1_000);
        assert_eq!(seconds_from(Some(at(last_trusted + 1)), || 7), 7);
        assert_eq!(seconds_from(Some(at(NANOS_PER_SECOND - 1)), || 7), 7);
        assert_eq!(seconds_from(None, || 7), 7);
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(5);
        let shared = clock.clone();
        shared.advance(10);
        assert_eq!(clock.now(), 15);
        clock.set(-3);
        assert_eq!(shared.now(), -3);
    }
}
