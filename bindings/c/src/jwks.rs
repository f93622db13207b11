//! `keyfob_engine_jwks`: the engine's public keys as a JWK Set, for verifiers elsewhere.

use crate::args::{handle, handle_out};
use crate::engine::keyfob_engine;
use crate::panic::ffi_boundary;
use crate::status::keyfob_status;
use crate::strings::keyfob_string;
use keyfob::Result;

/// The public keys of the signing key and of every verifying key as a JWK Set (RFC 7517):
/// `{"keys":[{"kty":..., "kid":..., "use":"sig", "alg":..., ...}]}`, the signing key first.
/// Serve it (e.g. at `/.well-known/jwks.json`) so gateways and other services verify tokens
/// without the private key. An HMAC engine answers `KEYFOB_CONFIG`: its keys are secrets and
/// are never published; so does a signing key without a `key_id`.
///
/// Ownership: on success `*jwks_out` is a new string (UTF-8 JSON) the caller frees with
/// `keyfob_string_free`; on error it is set to NULL.
///
/// # Safety
/// `engine` NULL or live; `jwks_out` NULL (an invalid argument) or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_jwks(
    engine: *const keyfob_engine,
    jwks_out: *mut *mut keyfob_string,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let out = unsafe { handle_out(jwks_out, "jwks_out") }?;
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        *out = keyfob_string::new_handle(&engine.jwks()?.to_json());
        Ok(())
    })
}
