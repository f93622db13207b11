//! Client binding: what a request presents to show it comes from the client a session is
//! bound to (the host's client binding value, e.g. an OAuth client id or a device id, and/or
//! a DPoP proof), and how the engine turns that into what the store checks.

use base64_simd::URL_SAFE_NO_PAD;
use ring::digest::{digest, SHA256};
use serde_json::{Map, Value};

use super::Engine;
use crate::claims::Claims;
use crate::dpop::{CheckedProof, DpopRequest};
use crate::error::{Error, Result};
use crate::session::{BindingCheck, ClientBinding, ClientCheck, Mismatch};
use crate::store::SessionStore;

/// Longest client binding value accepted: it is hashed, never stored, but it is input.
const MAX_CLIENT_ID_BYTES: usize = 1024;

/// The client-side evidence passed to [`crate::Engine::login_bound`],
/// [`crate::Engine::refresh_bound`] and [`crate::Engine::validate_bound`].
///
/// ```
/// use keyfob::{DpopRequest, Presentation};
///
/// let by_client = Presentation::none().with_client_id("mobile-app");
/// # let proof = "h.p.s";
/// let by_key = Presentation::none()
///     .with_dpop(DpopRequest::new(proof, "POST", "https://api.example.com/token"));
/// assert!(by_client.client_id.is_some() && by_key.dpop.is_some());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Presentation<'a> {
    /// The client binding value the host vouches for (never stored, only its SHA-256).
    pub client_id: Option<&'a str>,
    /// A DPoP proof with its request's method and URL.
    pub dpop: Option<DpopRequest<'a>>,
}

impl<'a> Presentation<'a> {
    /// Nothing presented: what the unbound methods (`login`, `refresh`, `validate`) pass.
    pub fn none() -> Presentation<'a> {
        Presentation::default()
    }

    /// With a client binding value.
    pub fn with_client_id(mut self, client_id: &'a str) -> Presentation<'a> {
        self.client_id = Some(client_id);
        self
    }

    /// With a DPoP proof.
    pub fn with_dpop(mut self, dpop: DpopRequest<'a>) -> Presentation<'a> {
        self.dpop = Some(dpop);
        self
    }

    /// The SHA-256 of the client binding value, if one was presented.
    pub(crate) fn client_digest(&self) -> Result<Option<[u8; 32]>> {
        let Some(id) = self.client_id else {
            return Ok(None);
        };
        if id.is_empty() || id.len() > MAX_CLIENT_ID_BYTES {
            return Err(Error::InvalidArgument(format!(
                "client_id must be 1 to {MAX_CLIENT_ID_BYTES} bytes"
            )));
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, id.as_bytes()).as_ref());
        Ok(Some(out))
    }
}

impl Engine {
    /// What a login binds its session to: the client value's digest, and the key of a DPoP
    /// proof over the login request (checked, and remembered so it cannot be replayed).
    pub(super) fn login_binding(
        &self,
        presentation: &Presentation<'_>,
        extra: Option<&Map<String, Value>>,
        now: i64,
    ) -> Result<ClientBinding> {
        let client = presentation.client_digest()?;
        let jkt = match &presentation.dpop {
            None => None,
            Some(req) => {
                if extra.is_some_and(|e| e.contains_key("cnf")) {
                    return Err(Error::InvalidArgument(
                        "extra claim 'cnf' is reserved for a DPoP-bound session".into(),
                    ));
                }
                let proof = self.dpop.check(req, now, None)?;
                self.consume_proof(&proof, now)?;
                Some(proof.jkt)
            }
        };
        Ok(ClientBinding { client, jkt })
    }

    /// What `presentation` shows for the session-bound token `claims`, for the store to
    /// compare with the session's binding. A proof counts only for a token bound to a key
    /// (`cnf.jkt`), and only when it is from that key: its id is remembered after that
    /// check, so proofs from keys no session is bound to never fill the replay cache.
    /// `access` is the access token of a resource request (its hash must be the proof's `ath`).
    pub(super) fn binding_check(
        &self,
        claims: &Claims,
        presentation: &Presentation<'_>,
        now: i64,
        access: Option<&str>,
        client_check: ClientCheck,
    ) -> Result<BindingCheck> {
        let client = presentation.client_digest()?;
        let jkt = match (token_jkt(claims), &presentation.dpop) {
            (Some(bound), Some(req)) => {
                let proof = self.dpop.check(req, now, access)?;
                if proof.jkt != bound {
                    return Err(Mismatch::KeyDiffers.error());
                }
                self.consume_proof(&proof, now)?;
                Some(proof.jkt)
            }
            // Unbound token: a proof proves nothing. No proof: the store refuses a bound session.
            _ => None,
        };
        Ok(BindingCheck {
            presented: ClientBinding { client, jkt },
            client_check,
        })
    }

    /// How a refresh (and, with `bind_validate`, a validate) compares the client value.
    pub(super) fn refresh_client_check(&self) -> ClientCheck {
        if self.client_mismatch_revokes {
            ClientCheck::RequireOrRevoke
        } else {
            ClientCheck::Require
        }
    }

    /// Accept a checked proof once: in the store (which catches a replay to another process
    /// when the store is shared), then in this engine's bounded cache.
    fn consume_proof(&self, proof: &CheckedProof, now: i64) -> Result<()> {
        // The shared store first: if it cannot be reached, nothing is recorded, so the
        // client's retry with the same proof is not taken for a replay.
        if !self
            .store
            .remember_proof(&proof.replay_id(), proof.last_valid, now)?
        {
            return Err(Error::DpopReplayed);
        }
        self.dpop.consume(proof, now)
    }
}

/// The key a token is bound to: its `cnf.jkt` (a base64url SHA-256), if well-formed.
fn token_jkt(claims: &Claims) -> Option<[u8; 32]> {
    let jkt = claims.extra().get("cnf")?.get("jkt")?.as_str()?;
    URL_SAFE_NO_PAD.decode_to_vec(jkt).ok()?.try_into().ok()
}
