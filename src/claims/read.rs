//! Reading a verified payload into [`Claims`]. Types are strict: a string `exp` is invalid,
//! never absent. Three readers, fastest first, each declining what it cannot read exactly:
//! the minted layout (`layout.rs`, what keyfob writes), the flat scanner (`scan.rs`, compact
//! flat objects such as PyJWT's), and serde_json for anything else, the slow twin both
//! fast readers are property-tested against.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::{ClaimNames, Claims, Span, TokenType};
use crate::error::{Error, Result};
use crate::session::Id;

mod layout;
mod scan;

pub(crate) use layout::{FixedOffsets, LayoutRead};

/// The session id an unverified payload names, if it has one where keyfob writes it: for a
/// cache hint only, never for a decision.
pub(crate) fn peek_sid(payload: &[u8]) -> Option<Id> {
    // Built once: a searcher's setup costs more than searching a payload.
    static SID: std::sync::OnceLock<memchr::memmem::Finder<'static>> = std::sync::OnceLock::new();
    let finder = SID.get_or_init(|| memchr::memmem::Finder::new(b"\"sid\":\""));
    let at = finder.find(payload)? + finder.needle().len();
    Id::parse_ascii(payload.get(at..at + 32)?)
}

/// Parse a verified payload. Types are strict: a string `exp` is invalid, never absent.
#[cfg(test)]
pub(crate) fn parse(payload: &[u8], names: &ClaimNames) -> Result<Claims> {
    parse_read(payload, read_early(payload, names), names)
}

/// Read a payload before its signature is checked, where that is cheap (the minted layout):
/// the result only reaches [`parse_read`], after the signature holds.
pub(crate) fn read_early(payload: &[u8], names: &ClaimNames) -> Option<LayoutRead> {
    layout::read(payload, names)
}

/// Whether the fixed-offset reader, the fastest, reads `payload` (no fallback).
#[cfg(test)]
pub(crate) fn read_at_fixed_offsets(payload: &[u8], names: &ClaimNames) -> bool {
    names.fixed_offsets.read(payload).is_some()
}

/// [`parse`], with what [`read_early`] found in the same payload.
// Inlined with the minted path, so a validate's claims go from registers to where the caller
// receives them; the general path stays out of line.
#[inline(always)]
pub(crate) fn parse_read(
    payload: &[u8],
    early: Option<LayoutRead>,
    names: &ClaimNames,
) -> Result<Claims> {
    match early {
        Some(m) => from_layout(payload, m),
        None => parse_general(payload, names),
    }
}

/// Claims from a payload the minted-layout reader has read.
#[inline(always)]
fn from_layout(payload: &[u8], m: LayoutRead) -> Result<Claims> {
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
            match raw.destination(&key, self.names) {
                Destination::Typed(slot) => {
                    let v: Val<'de> = map.next_value()?;
                    raw.duplicate |= slot.replace(v).is_some();
                }
                Destination::Aud => {
                    let v: Value = map.next_value()?;
                    raw.duplicate |= raw.aud.replace(v).is_some();
                }
                Destination::Extra => {
                    let v: Value = map.next_value()?;
                    raw.duplicate |= raw.extra.insert(key.into_owned(), v).is_some();
                }
            }
        }
        Ok(raw)
    }
}

/// Where a claim goes, by its name.
enum Destination<'r, 'a> {
    Typed(&'r mut Option<Val<'a>>),
    Aud,
    Extra,
}

impl<'a> RawClaims<'a> {
    fn destination(&mut self, key: &str, names: &ClaimNames) -> Destination<'_, 'a> {
        Destination::Typed(match key {
            "exp" => &mut self.exp,
            "iat" => &mut self.iat,
            "nbf" => &mut self.nbf,
            "sid" => &mut self.sid,
            "refresh_exp" => &mut self.refresh_exp,
            "iss" => &mut self.iss,
            "aud" => return Destination::Aud,
            k if k == names.token_type => &mut self.token_type,
            k if k == names.jti => &mut self.jti,
            k if k == names.user_id => &mut self.user_id,
            _ => return Destination::Extra,
        })
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
}
