//! What the engine's keys do outside the session flow: publish the public keys, and sign or
//! check tokens that a binding builds itself.

use super::Engine;
use crate::error::{Error, Result};
use crate::keys::Jwks;

impl Engine {
    /// The public keys of the signing key and every verifying key, as a JWK Set (RFC 7517)
    /// for verifiers elsewhere. A `config` error for HMAC keys, which are never published,
    /// and for a signing key without a `key_id`.
    pub fn jwks(&self) -> Result<Jwks> {
        self.jws.keys().jwks()
    }

    /// Sign `payload` (the text of a JSON object) with this engine's key ring and header,
    /// adding and checking nothing: for bindings that build tokens of their own, as
    /// simplejwt's `TokenBackend.encode` does. Tokens made this way pass `validate` only if
    /// their claims would (a live session, the right type, an unexpired `exp`).
    pub fn sign_payload(&self, payload: &[u8]) -> Result<String> {
        let start = payload.iter().position(|b| !b.is_ascii_whitespace());
        if start.map(|i| payload[i]) != Some(b'{') {
            return Err(Error::InvalidArgument(
                "the payload must be a JSON object".into(),
            ));
        }
        self.jws.sign(payload)
    }

    /// Check a token's size, header and signature with this engine's key ring and return
    /// its payload bytes, reading no claim: for bindings that check claims of their own
    /// (simplejwt's `TokenBackend.decode`). No session is looked at.
    pub fn verify_signature(&self, token: impl AsRef<[u8]>) -> Result<Vec<u8>> {
        self.jws.verify(
            token.as_ref(),
            |_| None::<()>,
            |payload, _| Ok(payload.to_vec()),
        )
    }
}
