//! Sessions bound to their client: `keyfob_presentation` (what a request presents: the
//! host's client binding value and a DPoP proof with the request's method and URL), the
//! bound login, refresh and validate, and the RFC 7638 JWK thumbprint.

use crate::args::{
    extra_claims, handle, handle_out, optional_handle_out, optional_proof, optional_text, text,
    token_bytes,
};
use crate::engine::keyfob_engine;
use crate::panic::ffi_boundary;
use crate::status::keyfob_status;
use crate::strings::{keyfob_string, keyfob_token_pair};
use keyfob::Result;
use keyfob::{jwk_thumbprint, DpopRequest, Presentation};

/// What a request presents to show it comes from the client its session is bound to.
/// Every member is a `(pointer, length)` input; a NULL pointer (with length 0) means absent,
/// so a zeroed struct presents nothing.
///
/// - `client_id`: the client binding value the host vouches for (an OAuth client id, a
///   device id), 1 to 1024 bytes of UTF-8 (else `KEYFOB_INVALID_ARGUMENT`); keyfob keeps
///   only its SHA-256. Ignored by sessions not bound to a client id.
/// - `dpop_proof`: the request's `DPoP` header (RFC 9449). Bytes that are not UTF-8 answer
///   `KEYFOB_DPOP_INVALID`; otherwise the proof is checked on a DPoP login and for a
///   DPoP-bound token, and ignored for an unbound one.
/// - `http_method`, `http_url`: the request's method (e.g. `"POST"`, compared exactly) and
///   its absolute URL as the server saw it (query and fragment are ignored). Required when
///   `dpop_proof` is given; not read when it is NULL, so a host may always fill them in.
///
/// The layout is fixed: members are never added (a later need gets a new struct and new
/// functions), so callers may build it on the stack.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct keyfob_presentation {
    /// The client binding value, or NULL for none.
    pub client_id: *const u8,
    /// Bytes at `client_id`.
    pub client_id_len: usize,
    /// The DPoP proof JWT, or NULL for none.
    pub dpop_proof: *const u8,
    /// Bytes at `dpop_proof`.
    pub dpop_proof_len: usize,
    /// The request's HTTP method; read only with a proof.
    pub http_method: *const u8,
    /// Bytes at `http_method`.
    pub http_method_len: usize,
    /// The request's absolute URL; read only with a proof.
    pub http_url: *const u8,
    /// Bytes at `http_url`.
    pub http_url_len: usize,
}

/// The Rust view of a presentation; NULL presents nothing.
///
/// # Safety
/// A non-NULL `ptr` must point to a `keyfob_presentation` whose non-NULL members are
/// readable for their lengths during `'a`.
pub(crate) unsafe fn presentation<'a>(ptr: *const keyfob_presentation) -> Result<Presentation<'a>> {
    // SAFETY: forwarded contract.
    let Some(p) = (unsafe { ptr.as_ref() }) else {
        return Ok(Presentation::none());
    };
    let mut out = Presentation::none();
    // SAFETY: forwarded contract, member by member.
    if let Some(client_id) = unsafe { optional_text(p.client_id, p.client_id_len, "client_id") }? {
        out = out.with_client_id(client_id);
    }
    if let Some(proof) = unsafe { optional_proof(p.dpop_proof, p.dpop_proof_len) }? {
        let method = unsafe { text(p.http_method, p.http_method_len, "http_method") }?;
        let url = unsafe { text(p.http_url, p.http_url_len, "http_url") }?;
        out = out.with_dpop(DpopRequest::new(proof, method, url));
    }
    Ok(out)
}

/// `keyfob_engine_login` for a client that binds its session: to the SHA-256 of
/// `presentation->client_id` (which `keyfob_engine_refresh_bound` must present again), and to the
/// key of `presentation->dpop_proof` (checked against the login request's method and URL;
/// every token then carries `"cnf": {"jkt": "<thumbprint>"}` and refresh and validate
/// need a proof from that key). A NULL `presentation` (or a zeroed one) is `keyfob_engine_login`.
/// A bad proof answers `KEYFOB_DPOP_INVALID` (`KEYFOB_DPOP_REPLAYED` when reused); the extra
/// claim `cnf` is reserved on a DPoP login (`KEYFOB_INVALID_ARGUMENT`).
///
/// Ownership: inputs, `presentation` and what it points to are only read during the call.
/// On success `*pair_out` is a new pair the caller frees with `keyfob_token_pair_free`; on
/// error it is set to NULL.
///
/// # Safety
/// `engine` NULL or live; `user_id` NULL or readable for `user_id_len` bytes;
/// `extra_claims_json` NULL or readable for `extra_claims_json_len` bytes; `presentation`
/// NULL or a readable struct whose non-NULL members are readable for their lengths;
/// `pair_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_login_bound(
    engine: *const keyfob_engine,
    user_id: *const u8,
    user_id_len: usize,
    extra_claims_json: *const u8,
    extra_claims_json_len: usize,
    presentation: *const keyfob_presentation,
    pair_out: *mut *mut keyfob_token_pair,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let out = unsafe { handle_out(pair_out, "pair_out") }?;
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let user_id = unsafe { text(user_id, user_id_len, "user_id") }?;
        let extra = unsafe { extra_claims(extra_claims_json, extra_claims_json_len) }?;
        let presented = unsafe { self::presentation(presentation) }?;
        let pair = engine.login_bound(user_id, extra.as_ref(), &presented)?;
        *out = keyfob_token_pair::new_handle(&pair);
        Ok(())
    })
}

/// `keyfob_engine_refresh` for a request that presents its client. A session bound to a client id
/// needs the same `client_id` (absent or different: `KEYFOB_CLIENT_MISMATCH`, and with the
/// config's `client_mismatch_revokes`, the default, the session is revoked). A session bound
/// to a DPoP key needs a proof from that key over this request's method and URL (missing,
/// another key, wrong `htm`/`htu`, stale `iat`: `KEYFOB_DPOP_INVALID`; reused:
/// `KEYFOB_DPOP_REPLAYED`); such failures neither rotate nor revoke. Unbound sessions
/// ignore the presentation.
///
/// Ownership: as `keyfob_engine_refresh`; `presentation` and what it points to are only read
/// during the call.
///
/// # Safety
/// `engine` NULL or live; `token` NULL or readable for `token_len` bytes; `presentation`
/// NULL or a readable struct whose non-NULL members are readable for their lengths;
/// `pair_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_refresh_bound(
    engine: *const keyfob_engine,
    token: *const u8,
    token_len: usize,
    presentation: *const keyfob_presentation,
    pair_out: *mut *mut keyfob_token_pair,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let out = unsafe { handle_out(pair_out, "pair_out") }?;
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let token = unsafe { token_bytes(token, token_len) }?;
        let presented = unsafe { self::presentation(presentation) }?;
        let pair = engine.refresh_bound(token, &presented)?;
        *out = keyfob_token_pair::new_handle(&pair);
        Ok(())
    })
}

/// `keyfob_engine_validate` for a request that presents its client. A DPoP-bound token needs a
/// proof from its key over this request's method and URL whose `ath` is the base64url
/// SHA-256 of the access token (plain `keyfob_engine_validate` refuses such a token with
/// `KEYFOB_DPOP_INVALID`). With the config's `bind_validate`, a session bound to a client id
/// needs its `client_id` too. Unbound sessions ignore the presentation.
///
/// Ownership: as `keyfob_engine_validate` (`claims_out` may be NULL); `presentation` and what it
/// points to are only read during the call.
///
/// # Safety
/// `engine` NULL or live; `token` NULL or readable for `token_len` bytes; `presentation`
/// NULL or a readable struct whose non-NULL members are readable for their lengths;
/// `claims_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_validate_bound(
    engine: *const keyfob_engine,
    token: *const u8,
    token_len: usize,
    presentation: *const keyfob_presentation,
    claims_out: *mut *mut keyfob_string,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let out = unsafe { optional_handle_out(claims_out) };
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let token = unsafe { token_bytes(token, token_len) }?;
        let presented = unsafe { self::presentation(presentation) }?;
        let claims = engine.validate_bound(token, &presented)?;
        if let Some(out) = out {
            *out = keyfob_string::new_handle(claims.to_json());
        }
        Ok(())
    })
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK (JSON text; EC, OKP or RSA), base64url
/// without padding: the `jkt` a DPoP-bound token carries in `cnf`. A JWK that is not a JSON
/// object with its key type's required members answers `KEYFOB_INVALID_ARGUMENT`.
///
/// Ownership: `jwk_json` is only read during the call. On success `*thumbprint_out` is a
/// new string the caller frees with `keyfob_string_free`; on error it is set to NULL.
///
/// # Safety
/// `jwk_json` NULL or readable for `jwk_json_len` bytes; `thumbprint_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_jwk_thumbprint(
    jwk_json: *const u8,
    jwk_json_len: usize,
    thumbprint_out: *mut *mut keyfob_string,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let out = unsafe { handle_out(thumbprint_out, "thumbprint_out") }?;
        let jwk = unsafe { text(jwk_json, jwk_json_len, "jwk_json") }?;
        *out = keyfob_string::new_handle(&jwk_thumbprint(jwk)?);
        Ok(())
    })
}
