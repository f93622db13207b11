//! What a request presents to show it comes from the client a session is bound to: the
//! host's client binding value (an OAuth client id, a device id) and/or a DPoP proof.

use ring::digest::{digest, SHA256};

use crate::dpop::DpopRequest;
use crate::error::{Error, Result};

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
