//! The payload keyfob mints for a session-bound access or refresh token, read at fixed places:
//! the token type, `exp`, `iat`, the token id, the user id (a string) and `sid`, in that
//! order, as compact JSON with nothing else. Nearly every validate meets exactly this, so it
//! is read as one template instead of member by member. Anything else answers `None` and the
//! general scanner reads the payload; a property test holds both to serde_json's answer.

use super::scan::{has_control, quote_or_backslash};
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
    // Spans are u32; a payload this long is nobody's minted token. Compact JSON has no
    // byte below 0x20 anywhere, so one pass settles it for every string.
    if payload.len() > u32::MAX as usize || has_control(payload) {
        return None;
    }
    let mut r = Reader { p: payload, at: 0 };
    r.literal(b"{")?;
    r.literal(&names.token_type_key)?;
    let token_type = r.string()?;
    let token_type = TokenType::parse(std::str::from_utf8(r.bytes(token_type)).ok()?)?;
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

    /// A string without escapes (control characters are refused for the whole payload).
    #[inline]
    fn string(&mut self) -> Option<Span> {
        self.literal(b"\"")?;
        let start = self.at;
        let len = quote_or_backslash(&self.p[start..])?;
        if self.p[start + len] != b'"' {
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
        let start = self.at;
        let mut n: u64 = 0;
        loop {
            let rest = self.p.get(self.at..)?;
            // Eight bytes at a time; past the end, zero bytes (not digits) stop the run.
            let word = match rest.get(..8) {
                Some(eight) => u64::from_le_bytes(eight.try_into().ok()?),
                None => {
                    let mut word = [0u8; 8];
                    word[..rest.len()].copy_from_slice(rest);
                    u64::from_le_bytes(word)
                }
            };
            let run = digit_run(word);
            if self.at + run - start > 18 {
                return None;
            }
            n = n * POW10[run] + digits_value(word, run);
            self.at += run;
            if run < 8 {
                break;
            }
        }
        let digits = self.at - start;
        if digits == 0 || (digits > 1 && self.p[start] == b'0') {
            return None;
        }
        Some(n as i64)
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const POW10: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// How many bytes of `w` (a little-endian word: first byte low), from the first, are ASCII
/// digits.
#[inline]
fn digit_run(w: u64) -> usize {
    // A digit is 0x30..=0x39: high nibble 3, still 3 once 6 is added to the low nibble. (A
    // byte from 0xfa up carries into the next byte; it is no digit, so the run ends before.)
    let high = w & (ONES * 0xf0);
    let high_plus_6 = w.wrapping_add(ONES * 6) & (ONES * 0xf0);
    let off = (high ^ (ONES * 0x30)) | (high_plus_6 ^ (ONES * 0x30));
    // The high bit of every byte of `off` that is not zero, i.e. of every non-digit.
    let non_digits = ((off & (ONES * 0x7f)).wrapping_add(ONES * 0x7f) | off) & (ONES * 0x80);
    (non_digits.trailing_zeros() / 8) as usize
}

/// The value of the first `run` (at most 8) bytes of `w`, all ASCII digits.
#[inline]
fn digits_value(w: u64, run: usize) -> u64 {
    if run == 0 {
        return 0;
    }
    // Move the digits to the top: the zero bytes shifted in read as leading zeros.
    let w = (w << (8 * (8 - run))) & (ONES * 0x0f);
    // Neighbours to two-digit values, then four, then eight.
    let w = (w * 10 + (w >> 8)) & 0x00ff_00ff_00ff_00ff;
    let w = (w * 100 + (w >> 16)) & 0x0000_ffff_0000_ffff;
    (w * 10_000 + (w >> 32)) & 0xffff_ffff
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

    fn int(text: &str) -> (Option<i64>, usize) {
        let mut r = Reader {
            p: text.as_bytes(),
            at: 0,
        };
        let n = r.int();
        (n, r.at)
    }

    #[test]
    fn integers_at_every_length() {
        for digits in 1..=18u32 {
            for lead in 1..=9u64 {
                let value = lead * 10u64.pow(digits - 1) + 7 % 10u64.pow(digits - 1);
                for follow in ["", ",", "}", ".5", "\u{0}"] {
                    let text = format!("{value}{follow}");
                    assert_eq!(int(&text), (Some(value as i64), digits as usize), "{text}");
                }
            }
        }
        for text in ["", "x", "-1", "01", "00", "1234567890123456789", ":1"] {
            assert_eq!(int(text).0, None, "{text}");
        }
        assert_eq!(int("0,"), (Some(0), 1));
    }

    proptest::proptest! {
        /// Any digits and bytes around them: the word-at-a-time reader agrees with a plain one.
        #[test]
        fn int_agrees_with_a_plain_reader(text in "[0-9]{0,20}[^0-9]?[0-9]{0,3}") {
            let digits = text.bytes().take_while(u8::is_ascii_digit).count();
            let plain = ((1..=18).contains(&digits) && !(digits > 1 && text.starts_with('0')))
                .then(|| text[..digits].parse::<i64>().unwrap());
            proptest::prop_assert_eq!(int(&text).0, plain, "{}", text);
        }

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
