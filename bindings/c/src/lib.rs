//! The C ABI of keyfob: the crate `keyfob-c`, built as `libkeyfob.so` and `libkeyfob.a`,
//! described by `include/keyfob.h` (generated from this crate by cbindgen, see
//! `cbindgen.toml`).
//!
//! Conventions, after rustls-ffi: every export is prefixed `keyfob_`, and a function whose
//! first argument is a `T*` handle is named `T_verb` (`keyfob_engine_validate`,
//! `keyfob_token_pair_free`). Every export runs inside one panic boundary ([`panic`]);
//! fallible functions return [`keyfob_status`] (0 = OK, else the stable
//! `keyfob::ErrorCode` number) and write results through out-parameters; inputs are
//! `(const uint8_t *ptr, size_t len)`; results are owned handles (`keyfob_string`,
//! `keyfob_token_pair`) freed by their `_free`, or caller buffers answered with
//! `buffer_too_small`. NULL frees are no-ops. The engine is thread-safe.
#![allow(non_camel_case_types)]

mod args;
mod client_binding;
mod clock;
mod engine;
mod events;
mod jwks;
mod panic;
mod sessions;
mod status;
mod strings;

pub use client_binding::*;
pub use clock::*;
pub use engine::*;
pub use events::*;
pub use jwks::*;
pub use sessions::*;
pub use status::*;
pub use strings::*;

use std::ffi::c_char;

use panic::ffi_boundary;

/// The library version, e.g. `"0.1.0"` (the crate version).
///
/// Ownership: the returned string is static and NUL-terminated; never free it.
#[no_mangle]
pub extern "C" fn keyfob_version() -> *const c_char {
    ffi_boundary!(*const c_char => {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}
