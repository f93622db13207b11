//! Typed claims: [`Claims`] (what a checked token says), read strictly from a verified
//! payload (`read`: fast paths for the payloads keyfob writes, serde_json for the rest) and
//! written directly without a generic serializer so tokens are cheap and byte-for-byte
//! reproducible (`write`).

use std::fmt;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::session::Id;

mod read;
mod write;

#[cfg(test)]
pub(crate) use read::read_at_fixed_offsets;
pub(crate) use read::{parse_read, peek_sid, read_early};
pub(crate) use write::{PayloadFields, PayloadTemplate, PayloadWriter};

/// Claim names that are never configurable and never overwritten by extra claims.
const FIXED: [&str; 7] = ["exp", "iat", "nbf", "sid", "refresh_exp", "iss", "aud"];

/// Whether `name` is one of the fixed standard claims.
pub(crate) fn is_fixed_claim(name: &str) -> bool {
    FIXED.contains(&name)
}

/// The kind of token, as written in the token-type claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// Short-lived token that authenticates requests.
    Access,
    /// Long-lived token that obtains new access tokens.
    Refresh,
    /// simplejwt's single-token mode: authenticates and refreshes itself.
    Sliding,
}

impl TokenType {
    /// The claim value: "access", "refresh" or "sliding".
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Access => "access",
            TokenType::Refresh => "refresh",
            TokenType::Sliding => "sliding",
        }
    }

    fn parse(s: &str) -> Option<TokenType> {
        match s {
            "access" => Some(TokenType::Access),
            "refresh" => Some(TokenType::Refresh),
            "sliding" => Some(TokenType::Sliding),
            _ => None,
        }
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The configurable claim names, and each as minting writes it (built once).
#[derive(Debug, Clone)]
pub(crate) struct ClaimNames {
    pub user_id: String,
    pub token_type: String,
    pub jti: String,
    pub user_id_key: Box<[u8]>,
    pub token_type_key: Box<[u8]>,
    pub jti_key: Box<[u8]>,
    /// The minted layout's fixed offsets under these names.
    pub fixed_offsets: read::FixedOffsets,
}

impl ClaimNames {
    pub(crate) fn new(user_id: String, token_type: String, jti: String) -> ClaimNames {
        let (user_id_key, token_type_key, jti_key) =
            (json_key(&user_id), json_key(&token_type), json_key(&jti));
        ClaimNames {
            fixed_offsets: read::FixedOffsets::new(&token_type_key, &jti_key, &user_id_key),
            user_id_key,
            token_type_key,
            jti_key,
            user_id,
            token_type,
            jti,
        }
    }

    pub(crate) fn is_reserved(&self, name: &str) -> bool {
        is_fixed_claim(name) || name == self.user_id || name == self.token_type || name == self.jti
    }
}

/// The fixed claim names as minting writes them: quoted, with their colon.
pub(crate) mod key {
    pub(crate) const EXP: &[u8] = b"\"exp\":";
    pub(crate) const IAT: &[u8] = b"\"iat\":";
    pub(crate) const SID: &[u8] = b"\"sid\":";
    pub(crate) const REFRESH_EXP: &[u8] = b"\"refresh_exp\":";
    pub(crate) const ISS: &[u8] = b"\"iss\":";
    pub(crate) const AUD: &[u8] = b"\"aud\":";
}

/// `"name":`, escaped as JSON.
fn json_key(name: &str) -> Box<[u8]> {
    let mut key = Vec::with_capacity(name.len() + 3);
    write::write_json_str(&mut key, name);
    key.push(b':');
    key.into_boxed_slice()
}

/// The verified claims of a token, from [`Engine::validate`](crate::Engine::validate),
/// [`Engine::verify`](crate::Engine::verify) and the other checks.
///
/// Read through accessors: the string claims point into one buffer that holds the payload,
/// so checking a token allocates once.
///
/// ```
/// use keyfob::{Config, Engine, TokenType};
///
/// let engine = Engine::new(Config::with_secret("change-me-to-32-or-more-random-bytes!")).unwrap();
/// let pair = engine.login("alice", None).unwrap();
/// let claims = engine.validate(&pair.access).unwrap();
/// assert_eq!(claims.user_id(), "alice");
/// assert_eq!(claims.token_type(), TokenType::Access);
/// assert_eq!(claims.sid(), Some(pair.session_id.as_str()));
/// assert!(claims.exp() > claims.iat().unwrap());
/// assert!(claims.extra().is_empty());
/// ```
#[derive(Clone)]
pub struct Claims {
    token_type: TokenType,
    exp: i64,
    iat: Option<i64>,
    nbf: Option<i64>,
    refresh_exp: Option<i64>,
    aud: Vec<String>,
    extra: Map<String, Value>,
    /// The payload, followed by any claim value that had to be unescaped or converted.
    text: Box<str>,
    payload_len: usize,
    jti: Span,
    user_id: Span,
    sid: Option<Span>,
    iss: Option<Span>,
    /// See [`Claims::is_minted_layout`].
    minted_layout: bool,
    /// `sid` as a session id, when the minted-layout reader already parsed it.
    session: Option<Id>,
}

/// A claim's place in [`Claims::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Claims {
    /// The token type (the `token_type` claim, or the configured name).
    pub fn token_type(&self) -> TokenType {
        self.token_type
    }

    /// Expiry (`exp`), Unix seconds.
    pub fn exp(&self) -> i64 {
        self.exp
    }

    /// Issued-at (`iat`), Unix seconds; every token keyfob mints has one.
    pub fn iat(&self) -> Option<i64> {
        self.iat
    }

    /// Not-before (`nbf`), Unix seconds, if the issuer wrote one.
    pub fn nbf(&self) -> Option<i64> {
        self.nbf
    }

    /// Sliding tokens: the last moment the token can be refreshed (`refresh_exp`).
    pub fn refresh_exp(&self) -> Option<i64> {
        self.refresh_exp
    }

    /// Audiences (`aud`; a single string becomes one entry).
    pub fn aud(&self) -> &[String] {
        &self.aud
    }

    /// Every other claim, as the issuer wrote it (the `extra` claims of a login, `cnf`).
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// The whole payload as the token carries it (a JSON object).
    pub fn to_json(&self) -> &str {
        &self.text[..self.payload_len]
    }

    /// Token id (`jti`, or the configured name).
    pub fn jti(&self) -> &str {
        self.get(self.jti)
    }

    /// The user id, as a string (numbers written by other issuers are converted).
    pub fn user_id(&self) -> &str {
        self.get(self.user_id)
    }

    /// Session id, for session-bound tokens.
    pub fn sid(&self) -> Option<&str> {
        self.sid.map(|s| self.get(s))
    }

    /// Issuer.
    pub fn iss(&self) -> Option<&str> {
        self.iss.map(|s| self.get(s))
    }

    /// Whether the payload is exactly what keyfob writes for an access or refresh token
    /// without extra claims: the token type, `exp`, `iat`, the token id, the user id (a
    /// string) and `sid`, in that order, as compact JSON. Then every claim is in the typed
    /// fields, so a language binding can build its claims mapping from them without parsing
    /// the payload again. `false` says nothing either way. A speed hint, reached from
    /// outside through `keyfob::internal`.
    pub(crate) fn is_minted_layout(&self) -> bool {
        self.minted_layout
    }

    /// The session id `sid` names; `None` without a `sid`, `invalid_claim` when it is not one.
    #[inline]
    pub(crate) fn session_id(&self) -> Result<Option<Id>> {
        match (self.session, self.sid()) {
            (Some(id), _) => Ok(Some(id)),
            (None, None) => Ok(None),
            (None, Some(sid)) => Id::parse(sid)
                .map(Some)
                .ok_or_else(|| Error::InvalidClaim("sid".into())),
        }
    }

    /// The same claims with `extra` in place of the token's extra claims (its `cnf` kept):
    /// the payload is written again and read back, so every accessor agrees.
    pub(crate) fn with_extra(
        &self,
        extra: &Map<String, Value>,
        names: &ClaimNames,
    ) -> Result<Claims> {
        let mut payload: Map<String, Value> = serde_json::from_str(self.to_json())
            .map_err(|_| Error::Malformed("the payload is not a JSON object"))?;
        for k in self.extra.keys() {
            if k != "cnf" {
                payload.remove(k);
            }
        }
        for (k, v) in extra {
            if k != "cnf" && !names.is_reserved(k) {
                payload.insert(k.clone(), v.clone());
            }
        }
        let text = serde_json::to_vec(&payload)
            .map_err(|_| Error::Malformed("the payload is not a JSON object"))?;
        parse_read(&text, read_early(&text, names), names)
    }

    fn get(&self, span: Span) -> &str {
        &self.text[span.start as usize..span.end as usize]
    }
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims")
            .field("token_type", &self.token_type)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .field("nbf", &self.nbf)
            .field("jti", &self.jti())
            .field("user_id", &self.user_id())
            .field("sid", &self.sid())
            .field("refresh_exp", &self.refresh_exp)
            .field("iss", &self.iss())
            .field("aud", &self.aud)
            .field("extra", &self.extra)
            .finish()
    }
}

/// Equal claims: every field, whichever parser read them (`is_minted_layout` is a hint).
impl PartialEq for Claims {
    fn eq(&self, other: &Claims) -> bool {
        self.token_type == other.token_type
            && self.exp == other.exp
            && self.iat == other.iat
            && self.nbf == other.nbf
            && self.refresh_exp == other.refresh_exp
            && self.aud == other.aud
            && self.extra == other.extra
            && self.to_json() == other.to_json()
            && self.jti() == other.jti()
            && self.user_id() == other.user_id()
            && self.sid() == other.sid()
            && self.iss() == other.iss()
    }
}
