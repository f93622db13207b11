//! Owned results handed to C: `keyfob_string` and `keyfob_token_pair`, their accessors and
//! their `_free` functions, plus the caller-buffer copy used by the `_into` functions.

use std::ffi::c_char;
use std::ptr;

use crate::args::{free_handle, into_handle, write_optional};
use crate::panic::ffi_boundary;
use keyfob::TokenPair;
use keyfob::{Error, Result};

/// Text kept with a trailing NUL so C can use the pointer as a C string; the length
/// excludes the NUL. keyfob's texts (tokens, ids, JSON) never contain a NUL byte.
#[derive(Debug, Clone)]
pub(crate) struct CText(Box<[u8]>);

impl CText {
    pub(crate) fn new(s: &str) -> CText {
        let mut bytes = Vec::with_capacity(s.len() + 1);
        bytes.extend_from_slice(s.as_bytes());
        bytes.push(0);
        CText(bytes.into_boxed_slice())
    }

    pub(crate) fn ptr(&self) -> *const c_char {
        self.0.as_ptr().cast()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len() - 1
    }
}

/// An owned UTF-8 string returned by keyfob (claims JSON, a token, a session id).
///
/// Read it with `keyfob_string_ptr` / `keyfob_string_len`; free it once with
/// `keyfob_string_free`. Immutable, so it may be read from any thread.
pub struct keyfob_string {
    text: CText,
}

impl keyfob_string {
    pub(crate) fn new_handle(s: &str) -> *mut keyfob_string {
        into_handle(keyfob_string {
            text: CText::new(s),
        })
    }
}

/// The string's bytes: UTF-8, NUL-terminated for convenience (the NUL is not counted by
/// `keyfob_string_len`). NULL when `string` is NULL.
///
/// Ownership: borrowed from `string`; valid until `keyfob_string_free(string)`.
///
/// # Safety
/// `string` is NULL or a live handle from keyfob.
#[no_mangle]
pub unsafe extern "C" fn keyfob_string_ptr(string: *const keyfob_string) -> *const c_char {
    ffi_boundary!(*const c_char => {
        // SAFETY: the caller passes NULL or a live handle.
        match unsafe { string.as_ref() } {
            Some(s) => s.text.ptr(),
            None => ptr::null(),
        }
    })
}

/// The string's length in bytes, without the terminating NUL. 0 when `string` is NULL.
///
/// Ownership: `string` stays the caller's.
///
/// # Safety
/// `string` is NULL or a live handle from keyfob.
#[no_mangle]
pub unsafe extern "C" fn keyfob_string_len(string: *const keyfob_string) -> usize {
    ffi_boundary!(usize => {
        // SAFETY: the caller passes NULL or a live handle.
        unsafe { string.as_ref() }.map_or(0, |s| s.text.len())
    })
}

/// Free a string returned by keyfob. NULL is a no-op. Free each string exactly once.
///
/// Ownership: takes back the string; pointers from `keyfob_string_ptr` die with it.
///
/// # Safety
/// `string` is NULL or a live handle from keyfob, not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn keyfob_string_free(string: *mut keyfob_string) {
    // SAFETY: the caller passes NULL or a live handle it gives up.
    ffi_boundary!(() => { unsafe { free_handle(string) } })
}

/// The tokens of a login or a refresh: an access token, a refresh token (absent after a
/// refresh when rotation is off) and the session id.
///
/// Read it with the `keyfob_token_pair_*` accessors; free it once with
/// `keyfob_token_pair_free`. Immutable, so it may be read from any thread.
pub struct keyfob_token_pair {
    access: CText,
    refresh: Option<CText>,
    session_id: CText,
}

impl keyfob_token_pair {
    pub(crate) fn new_handle(pair: &TokenPair) -> *mut keyfob_token_pair {
        into_handle(keyfob_token_pair {
            access: CText::new(&pair.access),
            refresh: pair.refresh.as_deref().map(CText::new),
            session_id: CText::new(&pair.session_id),
        })
    }
}

/// Write `text`'s length to `len_out` (when given) and return its pointer; NULL and 0
/// for an absent text.
///
/// # Safety
/// A non-NULL `len_out` must be valid for writes.
unsafe fn text_parts(text: Option<&CText>, len_out: *mut usize) -> *const c_char {
    // SAFETY: forwarded contract.
    unsafe { write_optional(len_out, text.map_or(0, CText::len)) };
    text.map_or(ptr::null(), CText::ptr)
}

/// The access token (ASCII, NUL-terminated). Its length goes to `len_out` unless
/// `len_out` is NULL. NULL (and length 0) when `pair` is NULL.
///
/// Ownership: borrowed from `pair`; valid until `keyfob_token_pair_free(pair)`.
///
/// # Safety
/// `pair` is NULL or a live handle; `len_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_token_pair_access(
    pair: *const keyfob_token_pair,
    len_out: *mut usize,
) -> *const c_char {
    ffi_boundary!(*const c_char => {
        // SAFETY: the caller passes NULL or a live handle, and NULL or a writable length.
        unsafe { text_parts(pair.as_ref().map(|p| &p.access), len_out) }
    })
}

/// The refresh token (ASCII, NUL-terminated), or NULL (length 0) when the pair has none:
/// after a refresh with `rotate_refresh` off. Its length goes to `len_out` unless NULL.
///
/// Ownership: borrowed from `pair`; valid until `keyfob_token_pair_free(pair)`.
///
/// # Safety
/// `pair` is NULL or a live handle; `len_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_token_pair_refresh(
    pair: *const keyfob_token_pair,
    len_out: *mut usize,
) -> *const c_char {
    ffi_boundary!(*const c_char => {
        // SAFETY: the caller passes NULL or a live handle, and NULL or a writable length.
        unsafe { text_parts(pair.as_ref().and_then(|p| p.refresh.as_ref()), len_out) }
    })
}

/// The session id (32 lowercase hex digits, NUL-terminated; empty for a sessionless
/// token refreshed with rotation off). Its length goes to `len_out` unless NULL.
///
/// Ownership: borrowed from `pair`; valid until `keyfob_token_pair_free(pair)`.
///
/// # Safety
/// `pair` is NULL or a live handle; `len_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_token_pair_session_id(
    pair: *const keyfob_token_pair,
    len_out: *mut usize,
) -> *const c_char {
    ffi_boundary!(*const c_char => {
        // SAFETY: the caller passes NULL or a live handle, and NULL or a writable length.
        unsafe { text_parts(pair.as_ref().map(|p| &p.session_id), len_out) }
    })
}

/// Free a token pair and every string borrowed from it. NULL is a no-op.
///
/// Ownership: takes back a pair from `keyfob_engine_login` / `keyfob_engine_refresh`; free
/// each pair once.
///
/// # Safety
/// `pair` is NULL or a live handle from keyfob, not used again afterwards.
#[no_mangle]
pub unsafe extern "C" fn keyfob_token_pair_free(pair: *mut keyfob_token_pair) {
    // SAFETY: the caller passes NULL or a live handle it gives up.
    ffi_boundary!(() => { unsafe { free_handle(pair) } })
}

/// Copy `text` and a NUL into the caller's buffer. The needed size (length + 1) always goes
/// to `needed`; a buffer smaller than that is left untouched and answers `buffer_too_small`.
///
/// # Safety
/// A non-NULL `buf` must be writable for `buf_len` bytes.
pub(crate) unsafe fn copy_to_buffer(
    text: &str,
    buf: *mut c_char,
    buf_len: usize,
    needed: &mut usize,
) -> Result<()> {
    let size = text.len() + 1;
    *needed = size;
    if buf_len < size {
        return Err(Error::BufferTooSmall { needed: size });
    }
    if buf.is_null() {
        return Err(Error::InvalidArgument(
            "buf must not be NULL when buf_len is not 0".into(),
        ));
    }
    // SAFETY: `buf` holds at least `size` writable bytes, and cannot overlap a Rust string.
    unsafe {
        ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        *buf.add(text.len()) = 0;
    }
    Ok(())
}
