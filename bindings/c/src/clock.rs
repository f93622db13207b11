//! `keyfob_manual_clock`: a clock that moves only when told to, so C tests can move time.

use crate::args::{free_handle, handle, handle_out, into_handle, value_out};
use crate::panic::ffi_boundary;
use crate::status::keyfob_status;
use keyfob::Result;
use keyfob::{Clock, ManualClock};

/// A manual clock (whole Unix seconds) for tests. Engines built on it with
/// `keyfob_engine_new_with_clock` share its time: setting or advancing it moves them all.
/// Thread-safe. An engine keeps its own reference, so the clock handle may be freed
/// before or after the engines that use it.
pub struct keyfob_manual_clock {
    pub(crate) clock: ManualClock,
}

/// Create a manual clock standing at `now` (Unix seconds).
///
/// Ownership: on success `*clock_out` is a new clock the caller owns and frees with
/// `keyfob_manual_clock_free`; on error it is set to NULL.
///
/// # Safety
/// `clock_out` must be NULL (an invalid argument) or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_manual_clock_new(
    now: i64,
    clock_out: *mut *mut keyfob_manual_clock,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller passes NULL or a writable pointer.
        let out = unsafe { handle_out(clock_out, "clock_out") }?;
        *out = into_handle(keyfob_manual_clock { clock: ManualClock::new(now) });
        Ok(())
    })
}

/// Set the clock to `now` (Unix seconds).
///
/// Ownership: `clock` stays the caller's; nothing is allocated.
///
/// # Safety
/// `clock` must be NULL (an invalid argument) or a live clock.
#[no_mangle]
pub unsafe extern "C" fn keyfob_manual_clock_set(
    clock: *const keyfob_manual_clock,
    now: i64,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller passes NULL or a live clock.
        unsafe { handle(clock, "clock") }?.clock.set(now);
        Ok(())
    })
}

/// Move the clock by `seconds` (negative moves it back).
///
/// Ownership: `clock` stays the caller's; nothing is allocated.
///
/// # Safety
/// `clock` must be NULL (an invalid argument) or a live clock.
#[no_mangle]
pub unsafe extern "C" fn keyfob_manual_clock_advance(
    clock: *const keyfob_manual_clock,
    seconds: i64,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller passes NULL or a live clock.
        unsafe { handle(clock, "clock") }?.clock.advance(seconds);
        Ok(())
    })
}

/// Read the clock (Unix seconds) into `*now_out`.
///
/// Ownership: `clock` stays the caller's; `*now_out` is a plain value.
///
/// # Safety
/// `clock` must be NULL or a live clock; `now_out` NULL or writable (NULL is an invalid argument).
#[no_mangle]
pub unsafe extern "C" fn keyfob_manual_clock_now(
    clock: *const keyfob_manual_clock,
    now_out: *mut i64,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller passes NULL or valid pointers.
        let clock = unsafe { handle(clock, "clock") }?;
        let out = unsafe { value_out(now_out, "now_out") }?;
        *out = clock.clock.now();
        Ok(())
    })
}

/// Free a manual clock. NULL is a no-op. Engines using it keep running on its last time.
///
/// Ownership: takes back a clock from `keyfob_manual_clock_new`; free each clock once.
///
/// # Safety
/// `clock` is NULL or a live clock, not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn keyfob_manual_clock_free(clock: *mut keyfob_manual_clock) {
    // SAFETY: the caller passes NULL or a live handle it gives up.
    ffi_boundary!(() => { unsafe { free_handle(clock) } })
}
