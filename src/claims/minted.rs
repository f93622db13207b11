//! The payload keyfob mints for a session-bound access or refresh token, read at fixed places:
//! the token type, `exp`, `iat`, the token id, the user id (a string) and `sid`, in that
//! order, as compact JSON with nothing else. Nearly every validate meets exactly this, so it
//! is read as one template instead of member by member. Anything else answers `None` and the
//! general scanner reads the payload; a property test holds both to serde_json's answer.

use super::scan::quote_or_backslash;
use super::{key, ClaimNames, Span, TokenType};
use crate::session::Id;

/// A payload in the minted layout. Strings are spans of the payload.
pub(crate) struct Minted {
    pub(super) token_type: TokenType,
    pub(super) exp: i64,
    pub(super) iat: i64,
    pub(super) jti: Span,
    pub(super) user_id: Span,
    pub(super) sid: Span,
    /// `sid` as a session id, when it is one (32 lowercase hex digits).
    pub session: Option<Id>,
}

/// Read `payload` if it is exactly the minted layout. Only its bytes are checked here;
/// the caller still checks that the whole payload is UTF-8.
pub(crate) fn read(payload: &[u8], names: &ClaimNames) -> Option<Minted> {
    // Spans are u32; a payload this long is nobody's minted token.
    if payload.len() > u32::MAX as usize {
        return None;
    }
    let mut r = Reader { p: payload, at: 0 };
    r.literal(b"{")?;
    r.literal(&names.token_type_key)?;
    let token_type = r.string()?;
    let token_type = match r.bytes(token_type) {
        b"access" => TokenType::Access,
        b"refresh" => TokenType::Refresh,
        b"sliding" => TokenType::Sliding,
        _ => return None,
    };
    r.literal(b",")?;
    r.literal(key::EXP)?;
    let exp = r.int()?;
    r.literal(b",")?;
    r.literal(key::IAT)?;
    let iat = r.int()?;
    r.literal(b",")?;
    r.literal(&names.jti_key)?;
    let jti = r.string()?;
    r.literal(b",")?;
    r.literal(&names.user_id_key)?;
    let user_id = r.string()?;
    r.literal(b",")?;
    r.literal(key::SID)?;
    let sid = r.string()?;
    r.literal(b"}")?;
    // An empty token id or user id is refused: the general path says so.
    if r.at != payload.len() || jti.start == jti.end || user_id.start == user_id.end {
        return None;
    }
    Some(Minted {
        token_type,
        exp,
        iat,
        jti,
        user_id,
        sid,
        session: Id::parse_ascii(r.bytes(sid)),
    })
}

struct Reader<'p> {
    p: &'p [u8],
    at: usize,
}

impl<'p> Reader<'p> {
    #[inline]
    fn literal(&mut self, lit: &[u8]) -> Option<()> {
        let rest = self.p.get(self.at..)?;
        if !rest.starts_with(lit) {
            return None;
        }
        self.at += lit.len();
        Some(())
    }

    fn bytes(&self, span: Span) -> &'p [u8] {
        &self.p[span.start as usize..span.end as usize]
    }

    /// A string without escapes or control characters (what serde_json borrows as it is).
    #[inline]
    fn string(&mut self) -> Option<Span> {
        self.literal(b"\"")?;
        let start = self.at;
        let len = quote_or_backslash(&self.p[start..])?;
        let body = &self.p[start..start + len];
        // Folded rather than `any`, so it vectorizes.
        if self.p[start + len] != b'"' || body.iter().fold(false, |seen, &c| seen | (c < 0x20)) {
            return None;
        }
        self.at = start + len + 1;
        Some(Span {
            start: start as u32,
            end: (start + len) as u32,
        })
    }

    /// A non-negative integer of at most 18 digits (so it cannot overflow) without a leading
    /// zero. Whatever follows must be the next literal, so a fraction or exponent fails there.
    #[inline]
    fn int(&mut self) -> Option<i64> {
        let rest = self.p.get(self.at..)?;
        let digits = rest
            .iter()
            .take(19)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || digits > 18 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        let n = rest[..digits]
            .iter()
            .fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
        self.at += digits;
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn names() -> ClaimNames {
        ClaimNames::new("user_id".into(), "token_type".into(), "jti".into())
    }

    const SID: &str = "0123456789abcdef0123456789abcdef";

    fn minted(exp: &str, user_id: &str, sid: &str) -> String {
        format!(
            r#"{{"token_type":"access","exp":{exp},"iat":1700000000,"jti":"{SID}","user_id":{user_id},"sid":{sid}}}"#
        )
    }

    #[test]
    fn reads_what_keyfob_mints() {
        let text = minted("1700000300", r#""42""#, &format!("{SID:?}"));
        let m = read(text.as_bytes(), &names()).expect("minted layout");
        assert_eq!(
            (m.token_type, m.exp, m.iat),
            (TokenType::Access, 1_700_000_300, 1_700_000_000)
        );
        let span = |s: Span| &text[s.start as usize..s.end as usize];
        assert_eq!(
            (span(m.jti), span(m.user_id), span(m.sid)),
            (SID, "42", SID)
        );
        assert_eq!(m.session, Id::parse(SID));
    }

    #[test]
    fn declines_anything_else() {
        let sid = format!("{SID:?}");
        for text in [
            minted("-1", r#""42""#, &sid),
            minted("017", r#""42""#, &sid),
            minted("1.5", r#""42""#, &sid),
            minted("1e3", r#""42""#, &sid),
            minted("1234567890123456789", r#""42""#, &sid),
            minted("1", "42", &sid),
            minted("1", r#""a\"b""#, &sid),
            minted("1", "\"a\tb\"", &sid),
            minted("1", r#""42""#, "null"),
            minted("1", r#""42""#, &sid) + " ",
            minted("1", r#""42""#, &sid).replace(r#""sid""#, r#""sid","x":1"#),
            minted("1", r#""42""#, &sid).replace("access", "bearer"),
            minted("1", r#""42""#, &sid).replace(":1,", ": 1,"),
        ] {
            assert!(read(text.as_bytes(), &names()).is_none(), "{text}");
        }
        // A sid that is not a session id still reads; it is the engine's to refuse.
        let odd = read(minted("1", r#""42""#, r#""xyz""#).as_bytes(), &names()).unwrap();
        assert_eq!(odd.session, None);
    }

    proptest::proptest! {
        /// Near-minted payloads: whatever the template reads, serde_json reads the same way.
        #[test]
        fn read_claims_equal_serde_claims(
            exp in proptest::prop_oneof![
                (0i64..4_000_000_000).prop_map(|i| i.to_string()),
                proptest::sample::select(vec![
                    "0", "-0", "-5", "00", "1.0", "2e9", "999999999999999999",
                    "1000000000000000000", "\"5\"", "null",
                ]).prop_map(str::to_owned),
            ],
            user_id in proptest::prop_oneof![
                "[a-z0-9é@.]{0,12}".prop_map(|s| format!("{s:?}")),
                proptest::sample::select(vec![
                    r#""a\\b""#, r#""\u0041""#, "\"\u{1}\"", "7", "[]", "\"\"",
                ]).prop_map(str::to_owned),
            ],
            sid in proptest::prop_oneof![
                proptest::strategy::Just(format!("{SID:?}")),
                "[0-9a-fA-F]{30,33}".prop_map(|s| format!("{s:?}")),
            ],
        ) {
            let text = minted(&exp, &user_id, &sid);
            let names = names();
            if let Some(m) = read(text.as_bytes(), &names) {
                let serde = super::super::with_serde(&text, &names)
                    .and_then(|mut raw| super::super::build(&text, &mut raw, &names));
                let ours = super::super::from_minted(text.as_bytes(), m);
                proptest::prop_assert_eq!(ours, serde, "{}", text);
            }
        }
    }
}
