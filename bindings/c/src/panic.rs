//! The panic boundary. A Rust panic must never unwind into C: every export runs its body
//! through [`ffi_boundary!`], which catches the panic and answers with the export's
//! "something went wrong inside" value (`KEYFOB_PANIC`, NULL, 0, or nothing).

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::status::keyfob_status;
use keyfob::Result;

/// What an export's body may produce, and what it becomes at the C boundary.
pub(crate) trait BoundaryValue {
    /// The C return type.
    type Output;
    /// The normal conversion.
    fn into_output(self) -> Self::Output;
    /// The answer when the body panicked.
    fn on_panic() -> Self::Output;
}

/// Fallible exports: `Ok` is `KEYFOB_OK`, an error its stable number.
impl BoundaryValue for Result<()> {
    type Output = keyfob_status;
    fn into_output(self) -> keyfob_status {
        match self {
            Ok(()) => keyfob_status::KEYFOB_OK,
            Err(e) => keyfob_status::from(e.code()),
        }
    }
    fn on_panic() -> keyfob_status {
        keyfob_status::KEYFOB_PANIC
    }
}

/// `_free` functions.
impl BoundaryValue for () {
    type Output = ();
    fn into_output(self) {}
    fn on_panic() {}
}

/// Length accessors: 0 after a panic.
impl BoundaryValue for usize {
    type Output = usize;
    fn into_output(self) -> usize {
        self
    }
    fn on_panic() -> usize {
        0
    }
}

/// Pointer accessors: NULL after a panic.
impl<T> BoundaryValue for *const T {
    type Output = *const T;
    fn into_output(self) -> *const T {
        self
    }
    fn on_panic() -> *const T {
        std::ptr::null()
    }
}

/// Run `body`, turning a panic into `R::on_panic()`.
///
/// `AssertUnwindSafe` holds because nothing observes half-done work after a panic: outputs
/// are written only at the end of a body, and the engine's locks (parking_lot) do not poison.
pub(crate) fn guard<R: BoundaryValue>(body: impl FnOnce() -> R) -> R::Output {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value.into_output(),
        Err(_) => R::on_panic(),
    }
}

/// The one panic boundary every export runs in:
/// `ffi_boundary!(Result<()> => { ...; Ok(()) })`. The type names what the body returns
/// (so `?` works inside it); [`BoundaryValue`] maps it to the C return value.
macro_rules! ffi_boundary {
    ($ret:ty => $body:block) => {
        $crate::panic::guard(move || -> $ret { $body })
    };
}

pub(crate) use ffi_boundary;

#[cfg(test)]
mod tests {
    use super::*;
    use keyfob::Error;

    #[test]
    fn a_panic_becomes_keyfob_panic() {
        let status = ffi_boundary!(Result<()> => {
            if std::hint::black_box(true) {
                panic!("deliberate test panic");
            }
            Ok(())
        });
        assert_eq!(status, keyfob_status::KEYFOB_PANIC);
    }

    #[test]
    fn pointer_and_length_bodies_answer_null_and_zero_after_a_panic() {
        let p = ffi_boundary!(*const u8 => { panic!("deliberate test panic") });
        assert!(p.is_null());
        let n = ffi_boundary!(usize => { panic!("deliberate test panic") });
        assert_eq!(n, 0);
    }

    #[test]
    fn errors_keep_their_number() {
        let status = ffi_boundary!(Result<()> => { Err(Error::Expired) });
        assert_eq!(status, keyfob_status::KEYFOB_EXPIRED);
        let status = ffi_boundary!(Result<()> => { Ok(()) });
        assert_eq!(status, keyfob_status::KEYFOB_OK);
    }
}
