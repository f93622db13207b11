//! Typed claims: parsed strictly from a verified payload, written directly without a
//! generic serializer so tokens are cheap and byte-for-byte reproducible.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::session::Id;

mod mint_text;
mod minted;
mod scan;

pub(crate) use mint_text::{MintFields, MintText};

pub(crate) use minted::Minted;

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
    pub shapes: minted::Shapes,
}

impl ClaimNames {
    pub(crate) fn new(user_id: String, token_type: String, jti: String) -> ClaimNames {
        let (user_id_key, token_type_key, jti_key) =
            (json_key(&user_id), json_key(&token_type), json_key(&jti));
        ClaimNames {
            shapes: minted::Shapes::new(&token_type_key, &jti_key, &user_id_key),
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
    write_json_str(&mut key, name);
    key.push(b':');
    key.into_boxed_slice()
}

/// The verified claims of a token.
///
/// The standard string claims are read through methods: they point into one buffer that
/// holds the payload, so checking a token allocates once.
#[derive(Clone)]
#[non_exhaustive]
pub struct Claims {
    /// `token_type` (or the configured name).
    pub token_type: TokenType,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued-at, Unix seconds.
    pub iat: Option<i64>,
    /// Not-before, Unix seconds.
    pub nbf: Option<i64>,
    /// Sliding tokens: the last moment the token can be refreshed.
    pub refresh_exp: Option<i64>,
    /// Audiences (a single `aud` string becomes one entry).
    pub aud: Vec<String>,
    /// Every other claim, as the issuer wrote it.
    pub extra: Map<String, Value>,
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
    /// fields, so a binding can build its claims mapping from them without parsing the
    /// payload again. `false` says nothing either way.
    pub fn is_minted_layout(&self) -> bool {
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

/// The session id an unverified payload names, if it has one where keyfob writes it: for a
/// cache hint only, never for a decision.
pub(crate) fn peek_sid(payload: &[u8]) -> Option<Id> {
    // Built once: a searcher's setup costs more than searching a payload.
    static SID: std::sync::OnceLock<memchr::memmem::Finder<'static>> = std::sync::OnceLock::new();
    let finder = SID.get_or_init(|| memchr::memmem::Finder::new(b"\"sid\":\""));
    let at = finder.find(payload)? + finder.needle().len();
    Id::parse_ascii(payload.get(at..at + 32)?)
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

/// Parse a verified payload. Types are strict: a string `exp` is invalid, never absent.
#[cfg(test)]
pub(crate) fn parse(payload: &[u8], names: &ClaimNames) -> Result<Claims> {
    parse_read(payload, read_early(payload, names), names)
}

/// Read a payload before its signature is checked, where that is cheap (the minted layout):
/// the result only reaches [`parse_read`], after the signature holds.
pub(crate) fn read_early(payload: &[u8], names: &ClaimNames) -> Option<Minted> {
    minted::read(payload, names)
}

/// Whether the fixed-offset reader, the fastest, reads `payload` (no fallback).
#[cfg(test)]
pub(crate) fn read_at_fixed_offsets(payload: &[u8], names: &ClaimNames) -> bool {
    names.shapes.read(payload).is_some()
}

/// [`parse`], with what [`read_early`] found in the same payload.
// Inlined with the minted path, so a validate's claims go from registers to where the caller
// receives them; the general path stays out of line.
#[inline(always)]
pub(crate) fn parse_read(
    payload: &[u8],
    early: Option<Minted>,
    names: &ClaimNames,
) -> Result<Claims> {
    match early {
        Some(m) => from_minted(payload, m),
        None => parse_general(payload, names),
    }
}

/// Claims from a payload the minted-layout reader has read.
#[inline(always)]
fn from_minted(payload: &[u8], m: Minted) -> Result<Claims> {
    let text = if m.utf8 {
        // SAFETY: the fixed-offset reader matched every byte to ASCII or to a claim name
        // (a `String`); a concatenation of UTF-8 pieces is UTF-8.
        unsafe { std::str::from_utf8_unchecked(payload) }
    } else {
        std::str::from_utf8(payload).map_err(|_| Error::Malformed("payload is not UTF-8"))?
    };
    Ok(Claims {
        token_type: m.token_type,
        exp: m.exp,
        iat: Some(m.iat),
        nbf: None,
        refresh_exp: None,
        aud: Vec::new(),
        extra: Map::new(),
        text: text.into(),
        payload_len: text.len(),
        jti: m.jti,
        user_id: m.user_id,
        sid: Some(m.sid),
        iss: None,
        minted_layout: true,
        session: m.session,
    })
}

/// Any payload: the flat scanner, else serde_json.
#[inline(never)]
fn parse_general(payload: &[u8], names: &ClaimNames) -> Result<Claims> {
    let text =
        std::str::from_utf8(payload).map_err(|_| Error::Malformed("payload is not UTF-8"))?;
    // Compact, flat payloads (every token keyfob mints, and PyJWT's) take the scanner;
    // anything else takes serde_json, which gives the same answer for those too.
    // Filled in place: the raw claims are a few hundred bytes, not worth moving around.
    let mut raw = RawClaims::default();
    if !scan::flat_object(text, names, &mut raw) {
        raw = with_serde(text, names)?;
    }
    build(text, &mut raw, names)
}

/// Any JSON payload, through serde_json.
fn with_serde<'a>(text: &'a str, names: &ClaimNames) -> Result<RawClaims<'a>> {
    let mut de = serde_json::Deserializer::from_str(text);
    let raw = ClaimsSeed { names }
        .deserialize(&mut de)
        .map_err(|_| Error::Malformed("payload is not a JSON object"))?;
    de.end()
        .map_err(|_| Error::Malformed("trailing data after payload"))?;
    Ok(raw)
}

/// Check the claims' types and gather their strings into one buffer.
fn build(text: &str, raw: &mut RawClaims<'_>, names: &ClaimNames) -> Result<Claims> {
    if raw.duplicate {
        return Err(Error::Malformed("duplicate claim"));
    }
    let token_type = match raw.token_type.take() {
        None => return Err(Error::MissingClaim(names.token_type.clone())),
        Some(Val::Str(s)) => {
            TokenType::parse(&s).ok_or_else(|| Error::InvalidClaim(names.token_type.clone()))?
        }
        Some(_) => return Err(Error::InvalidClaim(names.token_type.clone())),
    };
    let exp = match raw.exp.take() {
        None => return Err(Error::MissingClaim("exp".into())),
        Some(v) => number(v, "exp")?,
    };
    let jti = match raw.jti.take() {
        None => return Err(Error::MissingClaim(names.jti.clone())),
        Some(Val::Str(s)) if !s.is_empty() => s,
        Some(_) => return Err(Error::InvalidClaim(names.jti.clone())),
    };
    let user_id = match raw.user_id.take() {
        None => return Err(Error::MissingClaim(names.user_id.clone())),
        // Empty is a user id too: simplejwt issues tokens to a user whose id field is empty.
        Some(Val::Str(s)) => s,
        Some(Val::Int(i)) => Cow::Owned(i.to_string()),
        Some(_) => return Err(Error::InvalidClaim(names.user_id.clone())),
    };
    let sid = match raw.sid.take() {
        None => None,
        Some(Val::Str(s)) => Some(s),
        Some(_) => return Err(Error::InvalidClaim("sid".into())),
    };
    let iss = match raw.iss.take() {
        None => None,
        Some(Val::Str(s)) => Some(s),
        Some(_) => return Err(Error::InvalidClaim("iss".into())),
    };
    let aud = match raw.aud.take() {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(Error::InvalidClaim("aud".into())),
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(Error::InvalidClaim("aud".into())),
    };
    let iat = raw.iat.take().map(|v| number(v, "iat")).transpose()?;
    let nbf = raw.nbf.take().map(|v| number(v, "nbf")).transpose()?;
    let refresh_exp = raw
        .refresh_exp
        .take()
        .map(|v| number(v, "refresh_exp"))
        .transpose()?;

    // Borrowed values already sit in the payload; owned ones (unescaped, converted) follow it.
    let owned = |s: Option<&Cow<'_, str>>| match s {
        Some(Cow::Owned(o)) => o.len(),
        _ => 0,
    };
    let owned_len =
        owned(Some(&jti)) + owned(Some(&user_id)) + owned(sid.as_ref()) + owned(iss.as_ref());
    let total = text.len() + owned_len;
    if u32::try_from(total).is_err() {
        return Err(Error::Malformed("payload is too large"));
    }
    let mut buf = String::with_capacity(total);
    buf.push_str(text);
    let mut place = |s: &Cow<'_, str>| -> Span {
        match s {
            Cow::Borrowed(b) => {
                // A borrowed value is a slice of `text`: its offset is where it starts.
                let start = b.as_ptr() as usize - text.as_ptr() as usize;
                Span {
                    start: start as u32,
                    end: (start + b.len()) as u32,
                }
            }
            Cow::Owned(o) => {
                let start = buf.len();
                buf.push_str(o);
                Span {
                    start: start as u32,
                    end: buf.len() as u32,
                }
            }
        }
    };
    let jti = place(&jti);
    let user_id = place(&user_id);
    let sid = sid.as_ref().map(&mut place);
    let iss = iss.as_ref().map(&mut place);
    Ok(Claims {
        token_type,
        exp,
        iat,
        nbf,
        refresh_exp,
        aud,
        extra: std::mem::take(&mut raw.extra),
        text: buf.into_boxed_str(),
        payload_len: text.len(),
        jti,
        user_id,
        sid,
        iss,
        minted_layout: false,
        session: None,
    })
}

fn number(v: Val<'_>, name: &str) -> Result<i64> {
    match v {
        Val::Int(i) => Ok(i),
        // NumericDate may carry fractions; whole seconds are what we compare.
        Val::Float(f) if f.is_finite() => Ok(f.floor() as i64),
        _ => Err(Error::InvalidClaim(name.into())),
    }
}

/// A claim value before its type is checked.
enum Val<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Other,
}

impl<'de> de::Deserialize<'de> for Val<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Val<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Val<'de>, E> {
                Ok(Val::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Val<'de>, E> {
                Ok(Val::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<Val<'de>, E> {
                Ok(Val::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<Val<'de>, E> {
                Ok(i64::try_from(v).map(Val::Int).unwrap_or(Val::Other))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<Val<'de>, E> {
                Ok(Val::Float(v))
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<Val<'de>, E> {
                Ok(Val::Other)
            }
            fn visit_unit<E>(self) -> std::result::Result<Val<'de>, E> {
                Ok(Val::Other)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<Val<'de>, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Val::Other)
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut a: A,
            ) -> std::result::Result<Val<'de>, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Val::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// A map key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Val::deserialize(d)? {
            Val::Str(s) => Ok(Key(s)),
            _ => Err(de::Error::custom("non-string key")),
        }
    }
}

#[derive(Default)]
struct RawClaims<'a> {
    token_type: Option<Val<'a>>,
    exp: Option<Val<'a>>,
    iat: Option<Val<'a>>,
    nbf: Option<Val<'a>>,
    jti: Option<Val<'a>>,
    user_id: Option<Val<'a>>,
    sid: Option<Val<'a>>,
    refresh_exp: Option<Val<'a>>,
    iss: Option<Val<'a>>,
    aud: Option<Value>,
    extra: Map<String, Value>,
    duplicate: bool,
}

struct ClaimsSeed<'n> {
    names: &'n ClaimNames,
}

impl<'de> DeserializeSeed<'de> for ClaimsSeed<'_> {
    type Value = RawClaims<'de>;
    fn deserialize<D: Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<RawClaims<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ClaimsSeed<'_> {
    type Value = RawClaims<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<RawClaims<'de>, A::Error> {
        let mut raw = RawClaims::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match raw.slot(&key, self.names) {
                Slot::Typed(slot) => {
                    let v: Val<'de> = map.next_value()?;
                    raw.duplicate |= slot.replace(v).is_some();
                }
                Slot::Aud => {
                    let v: Value = map.next_value()?;
                    raw.duplicate |= raw.aud.replace(v).is_some();
                }
                Slot::Extra => {
                    let v: Value = map.next_value()?;
                    raw.duplicate |= raw.extra.insert(key.into_owned(), v).is_some();
                }
            }
        }
        Ok(raw)
    }
}

/// Where a claim goes, by its name.
enum Slot<'r, 'a> {
    Typed(&'r mut Option<Val<'a>>),
    Aud,
    Extra,
}

impl<'a> RawClaims<'a> {
    fn slot(&mut self, key: &str, names: &ClaimNames) -> Slot<'_, 'a> {
        Slot::Typed(match key {
            "exp" => &mut self.exp,
            "iat" => &mut self.iat,
            "nbf" => &mut self.nbf,
            "sid" => &mut self.sid,
            "refresh_exp" => &mut self.refresh_exp,
            "iss" => &mut self.iss,
            "aud" => return Slot::Aud,
            k if k == names.token_type => &mut self.token_type,
            k if k == names.jti => &mut self.jti,
            k if k == names.user_id => &mut self.user_id,
            _ => return Slot::Extra,
        })
    }
}

/// The bytes every payload minted for a `kind` token starts with: the token type, then the
/// name of `exp` (see [`PayloadWriter`]'s order in the engine's `mint`).
pub(crate) fn minted_start(names: &ClaimNames, kind: TokenType) -> Vec<u8> {
    let mut start = vec![b'{'];
    start.extend_from_slice(&names.token_type_key);
    write_json_str(&mut start, kind.as_str());
    start.push(b',');
    start.extend_from_slice(key::EXP);
    start
}

/// Writes a claims object directly into a byte buffer, in a fixed order. Names come already
/// written (see [`key`] and [`ClaimNames`]), so only values are encoded per token.
pub(crate) struct PayloadWriter<'b> {
    buf: &'b mut Vec<u8>,
    first: bool,
}

impl<'b> PayloadWriter<'b> {
    pub(crate) fn new(buf: &'b mut Vec<u8>) -> Self {
        buf.push(b'{');
        PayloadWriter { buf, first: true }
    }

    /// The comma before every member but the first.
    fn separate(&mut self) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
    }

    fn key(&mut self, key: &[u8]) {
        self.separate();
        self.buf.extend_from_slice(key);
    }

    pub(crate) fn str(&mut self, key: &[u8], value: &str) {
        self.key(key);
        write_json_str(self.buf, value);
    }

    pub(crate) fn int(&mut self, key: &[u8], value: i64) {
        self.key(key);
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    /// A 128-bit id as 32 hex digits: nothing to escape.
    pub(crate) fn id(&mut self, key: &[u8], id: crate::session::Id) {
        self.key(key);
        self.buf.push(b'"');
        self.buf.extend_from_slice(&id.to_hex());
        self.buf.push(b'"');
    }

    /// Any JSON value under any name (extra claims).
    pub(crate) fn value(&mut self, name: &str, value: &Value) {
        self.separate();
        write_json_str(self.buf, name);
        self.buf.push(b':');
        // Writing a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *self.buf, value);
    }

    pub(crate) fn finish(self) {
        self.buf.push(b'}');
    }
}

/// Bytes a JSON string cannot carry as they are (controls, quote, backslash), plus non-ASCII,
/// which takes serde_json's careful path.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b < 0x20 || b == b'"' as usize || b == b'\\' as usize || b >= 0x7f;
        b += 1;
    }
    table
};

fn write_json_str(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| NEEDS_ESCAPE[b as usize]) {
        let _ = serde_json::to_writer(&mut *buf, s);
    } else {
        buf.reserve(s.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> ClaimNames {
        ClaimNames::new("user_id".into(), "token_type".into(), "jti".into())
    }

    #[test]
    fn peek_sid_reads_only_a_well_formed_sid() {
        let sid = "0123456789abcdef0123456789abcdef";
        let p = format!(r#"{{"token_type":"access","user_id":"1","sid":"{sid}"}}"#);
        assert_eq!(peek_sid(p.as_bytes()), Id::parse(sid));
        for p in [
            r#"{"sid":"0123"}"#,
            r#"{"sid":"0123456789ABCDEF0123456789abcdef"}"#,
            r#"{"sid": "0123456789abcdef0123456789abcdef"}"#,
            r#"{"user_id":"1"}"#,
            r#"{"sid":""#,
        ] {
            assert_eq!(peek_sid(p.as_bytes()), None, "{p}");
        }
    }

    #[test]
    fn the_minted_layout_is_exactly_keyfobs_six_claims_in_order() {
        let minted = r#"{"token_type":"access","exp":9,"iat":1,"jti":"j","user_id":"u","sid":"s"}"#;
        assert!(parse(minted.as_bytes(), &names())
            .unwrap()
            .is_minted_layout());
        for text in [
            // Other order, a numeric user id, an extra claim, a missing one.
            r#"{"exp":9,"token_type":"access","iat":1,"jti":"j","user_id":"u","sid":"s"}"#,
            r#"{"token_type":"access","exp":9,"iat":1,"jti":"j","user_id":7,"sid":"s"}"#,
            r#"{"token_type":"access","exp":9,"iat":1,"jti":"j","user_id":"u","sid":"s","x":1}"#,
            r#"{"token_type":"access","exp":9,"iat":1,"jti":"j","user_id":"u"}"#,
        ] {
            assert!(
                !parse(text.as_bytes(), &names()).unwrap().is_minted_layout(),
                "{text}"
            );
        }
    }

    #[test]
    fn string_exp_is_invalid_not_absent() {
        let p = br#"{"token_type":"access","exp":"9999999999","jti":"a","user_id":"1"}"#;
        assert_eq!(parse(p, &names()), Err(Error::InvalidClaim("exp".into())));
    }

    #[test]
    fn escaped_and_numeric_user_ids() {
        let p = br#"{"token_type":"access","exp":5.7,"jti":"a\u0062","user_id":42,"x":[1]}"#;
        let c = parse(p, &names()).unwrap();
        assert_eq!((c.exp, c.jti(), c.user_id()), (5, "ab", "42"));
        assert_eq!(c.extra["x"], serde_json::json!([1]));
    }

    #[test]
    fn duplicate_claims_are_malformed() {
        let p = br#"{"token_type":"access","exp":5,"exp":9,"jti":"a","user_id":"1"}"#;
        assert_eq!(parse(p, &names()), Err(Error::Malformed("duplicate claim")));
    }

    #[test]
    fn writer_escapes() {
        let mut b = Vec::new();
        let mut w = PayloadWriter::new(&mut b);
        w.str(&json_key("user_id"), "a\"b");
        w.int(key::EXP, -3);
        w.finish();
        assert_eq!(b, br#"{"user_id":"a\"b","exp":-3}"#);
    }
}
