//! The payload keyfob mints for a session-bound access or refresh token, read at fixed places:
//! the token type, `exp`, `iat`, the token id, the user id (a string) and `sid`, in that
//! order, as compact JSON with nothing else. Nearly every validate meets exactly this, so it
//! is read as one template instead of by the general scanner: first at fixed offsets
//! ([`FixedOffsets`], for the widths keyfob writes today), else member by member. Anything else
//! answers `None` and the general scanner reads the payload. Property tests hold the two
//! readers to each other and to serde_json's answer.

use std::fmt;

use crate::arch::Vectors;
use crate::claims::{key, ClaimNames, Span, TokenType};
use crate::session::Id;
use crate::swar::{self, digit_run, digits_value, has_control, quote_or_backslash};

/// A payload in the minted layout. Strings are spans of the payload.
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(crate) struct LayoutRead {
    pub(super) token_type: TokenType,
    pub(super) exp: i64,
    pub(super) iat: i64,
    pub(super) jti: Span,
    pub(super) user_id: Span,
    pub(super) sid: Span,
    /// `sid` as a session id, when it is one (32 lowercase hex digits).
    pub session: Option<Id>,
    /// The payload is known to be UTF-8: its bytes are ASCII but for the configured claim
    /// names (each a `String`), so it needs no other look.
    pub(super) utf8: bool,
}

/// Read `payload` if it is exactly the minted layout. Only its bytes are checked here;
/// the caller still checks that the whole payload is UTF-8 (unless `utf8` says it is).
pub(crate) fn read(payload: &[u8], names: &ClaimNames) -> Option<LayoutRead> {
    names
        .fixed_offsets
        .read(payload)
        .or_else(|| read_members(payload, names))
}

/// The minted layout member by member: any integer width, any string without escapes.
fn read_members(payload: &[u8], names: &ClaimNames) -> Option<LayoutRead> {
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
    Some(LayoutRead {
        token_type,
        exp,
        iat,
        jti,
        user_id,
        sid,
        session: Id::parse_ascii(r.bytes(sid)),
        utf8: false,
    })
}

/// The minted layout at fixed offsets, for what keyfob itself writes nearly always: `exp`
/// and `iat` of ten digits (the years 2001 to 2286), a token id and `sid` of 32 lowercase
/// hex digits, an ASCII user id. Everything but the user id then sits at a known offset
/// from the start or from the end, so one masked comparison checks it all.
#[derive(Clone)]
pub(crate) struct FixedOffsets {
    /// One head per token type (`None` when the configured claim names make it too long).
    heads: [Option<Head>; 3],
    /// Where the token type's value starts.
    type_at: usize,
    tail: Pattern<TAIL>,
    /// What the patterns are matched with: this CPU's vectors, detected once.
    vectors: Vectors,
}

/// Bytes compared from the start of the payload: the head is at most this long.
const HEAD: usize = 128;
/// Bytes compared at the end: `","sid":"`, the id's hex digits, `"}`, right-aligned.
const TAIL: usize = 64;
/// Hex digits in a token id or session id as keyfob writes them.
const ID_HEX: usize = 32;
/// Where `sid`'s digits start, counted from the end, and where the tail starts.
const SID_FROM_END: usize = ID_HEX + b"\"}".len();
const TAIL_LEN: usize = b"\",".len() + key::SID.len() + b"\"".len() + SID_FROM_END;
/// Digits in `exp` and `iat`.
const TIME_DIGITS: usize = 10;

#[derive(Clone)]
struct Head {
    token_type: TokenType,
    pattern: Pattern<HEAD>,
    /// Where the user id starts (the head's length).
    len: usize,
    exp: usize,
    iat: usize,
    jti: usize,
}

/// What each byte of a window must be: a given byte, any digit, any lowercase hex digit, or
/// anything (`0xff` marks the positions of each class).
#[derive(Clone)]
struct Pattern<const N: usize> {
    byte: [u8; N],
    literal: [u8; N],
    digit: [u8; N],
    hex: [u8; N],
}

impl<const N: usize> Pattern<N> {
    fn new() -> Pattern<N> {
        Pattern {
            byte: [0; N],
            literal: [0; N],
            digit: [0; N],
            hex: [0; N],
        }
    }

    /// Build by appending; `None` once it is longer than `N`.
    fn push(&mut self, at: &mut usize, class: Class) -> Option<()> {
        let n = match class {
            Class::Literal(bytes) => bytes.len(),
            Class::Digits(n) | Class::Hex(n) => n,
        };
        let range = *at..at.checked_add(n).filter(|&end| end <= N)?;
        match class {
            Class::Literal(bytes) => {
                self.byte[range.clone()].copy_from_slice(bytes);
                self.literal[range.clone()].fill(0xff);
            }
            Class::Digits(_) => self.digit[range.clone()].fill(0xff),
            Class::Hex(_) => self.hex[range.clone()].fill(0xff),
        }
        *at = range.end;
        Some(())
    }

    /// Whether `window` fits, every byte at once (no branch per byte, so it vectorizes),
    /// compiled for `vectors`.
    #[inline]
    fn matches(&self, window: &[u8; N], vectors: Vectors) -> bool {
        vectors.run(|| self.matches_any_cpu(window))
    }

    #[inline(always)]
    fn matches_any_cpu(&self, window: &[u8; N]) -> bool {
        let mut bad = 0u8;
        let classes = self
            .byte
            .iter()
            .zip(&self.literal)
            .zip(&self.digit)
            .zip(&self.hex);
        for (&b, (((&byte, &literal), &digit), &hex)) in window.iter().zip(classes) {
            let is_digit = b.wrapping_sub(b'0') < 10;
            let is_hex = is_digit | (b.wrapping_sub(b'a') < 6);
            bad |= ((b ^ byte) & literal) | (digit & !mask(is_digit)) | (hex & !mask(is_hex));
        }
        bad == 0
    }
}

enum Class<'a> {
    Literal(&'a [u8]),
    Digits(usize),
    Hex(usize),
}

/// `0xff` for true, `0` for false.
#[inline]
fn mask(b: bool) -> u8 {
    0u8.wrapping_sub(u8::from(b))
}

impl FixedOffsets {
    pub(crate) fn new(token_type_key: &[u8], jti_key: &[u8], user_id_key: &[u8]) -> FixedOffsets {
        let head = |token_type: TokenType| -> Option<Head> {
            let mut pattern = Pattern::new();
            let at = &mut 0;
            pattern.push(at, Class::Literal(b"{"))?;
            pattern.push(at, Class::Literal(token_type_key))?;
            pattern.push(at, Class::Literal(b"\""))?;
            pattern.push(at, Class::Literal(token_type.as_str().as_bytes()))?;
            pattern.push(at, Class::Literal(b"\","))?;
            pattern.push(at, Class::Literal(key::EXP))?;
            let exp = *at;
            pattern.push(at, Class::Digits(TIME_DIGITS))?;
            pattern.push(at, Class::Literal(b","))?;
            pattern.push(at, Class::Literal(key::IAT))?;
            let iat = *at;
            pattern.push(at, Class::Digits(TIME_DIGITS))?;
            pattern.push(at, Class::Literal(b","))?;
            pattern.push(at, Class::Literal(jti_key))?;
            pattern.push(at, Class::Literal(b"\""))?;
            let jti = *at;
            pattern.push(at, Class::Hex(ID_HEX))?;
            pattern.push(at, Class::Literal(b"\","))?;
            pattern.push(at, Class::Literal(user_id_key))?;
            pattern.push(at, Class::Literal(b"\""))?;
            Some(Head {
                token_type,
                pattern,
                len: *at,
                exp,
                iat,
                jti,
            })
        };
        let mut tail = Pattern::new();
        let at = &mut (TAIL - TAIL_LEN);
        for class in [
            Class::Literal(b"\","),
            Class::Literal(key::SID),
            Class::Literal(b"\""),
            Class::Hex(ID_HEX),
            Class::Literal(b"\"}"),
        ] {
            tail.push(at, class)
                .expect("the tail fits its window by construction");
        }
        FixedOffsets {
            heads: [
                head(TokenType::Access),
                head(TokenType::Refresh),
                head(TokenType::Sliding),
            ],
            type_at: 1 + token_type_key.len() + 1,
            vectors: Vectors::detect(),
            tail,
        }
    }

    /// `payload` in the minted layout at fixed offsets, or `None` (then the member-by-member
    /// reader decides).
    #[inline]
    pub(super) fn read(&self, payload: &[u8]) -> Option<LayoutRead> {
        let window: &[u8; HEAD] = payload.get(..HEAD)?.try_into().ok()?;
        let end: &[u8; TAIL] = payload
            .get(payload.len().checked_sub(TAIL)?..)?
            .try_into()
            .ok()?;
        // The token type's first letter picks the one head the payload can match.
        let head = match payload.get(self.type_at)? {
            b'a' => &self.heads[0],
            b'r' => &self.heads[1],
            b's' => &self.heads[2],
            _ => return None,
        };
        let head = head
            .as_ref()
            .filter(|h| h.pattern.matches(window, self.vectors))?;
        let user_end = payload.len() - TAIL_LEN;
        if payload.len() > u32::MAX as usize
            || user_end <= head.len
            || !self.tail.matches(end, self.vectors)
            || !payload[head.len..user_end].iter().all(|&b| plain_ascii(b))
        {
            return None;
        }
        let span = |start: usize, end: usize| Span {
            start: start as u32,
            end: end as u32,
        };
        let sid = payload.len() - SID_FROM_END;
        Some(LayoutRead {
            token_type: head.token_type,
            exp: time(&payload[head.exp..])?,
            iat: time(&payload[head.iat..])?,
            jti: span(head.jti, head.jti + ID_HEX),
            user_id: span(head.len, user_end),
            sid: span(sid, sid + ID_HEX),
            // The tail's pattern has checked the hex digits.
            session: Some(Id::from_checked_hex(
                payload[sid..sid + ID_HEX].try_into().ok()?,
            )),
            utf8: true,
        })
    }
}

impl fmt::Debug for FixedOffsets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixedOffsets").finish_non_exhaustive()
    }
}

/// A byte a JSON string may hold unescaped that is also ASCII.
#[inline]
fn plain_ascii(b: u8) -> bool {
    (0x20..0x80).contains(&b) && b != b'"' && b != b'\\'
}

/// Ten digits already checked to be digits, as a number; `None` with a leading zero.
#[inline]
fn time(digits: &[u8]) -> Option<i64> {
    let digits: &[u8; TIME_DIGITS] = digits.get(..TIME_DIGITS)?.try_into().ok()?;
    if digits[0] == b'0' {
        return None;
    }
    let (high, low) = digits.split_at(8);
    let high = digits_value(swar::load(high.try_into().ok()?), 8);
    let low = u64::from(low[0] - b'0') * 10 + u64::from(low[1] - b'0');
    Some((high * 100 + low) as i64)
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
                Some(eight) => swar::load(eight.try_into().ok()?),
                None => {
                    let mut word = [0u8; 8];
                    word[..rest.len()].copy_from_slice(rest);
                    swar::load(&word)
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

    /// The reader at fixed offsets, alone.
    fn fixed(text: &str, names: &ClaimNames) -> Option<LayoutRead> {
        names.fixed_offsets.read(text.as_bytes())
    }

    /// What the member reader would say of the same payload: the same, but for `utf8`,
    /// which it leaves for the caller to check.
    fn as_members_read(m: LayoutRead) -> Option<LayoutRead> {
        Some(LayoutRead { utf8: false, ..m })
    }

    #[test]
    fn fixed_offsets_read_what_keyfob_mints_today() {
        let sid = format!("{SID:?}");
        for user_id in [
            r#""42""#,
            r#""a""#,
            r#""user@example.com""#,
            r#""~ !#$%&'()*+""#,
        ] {
            let text = minted("1700000300", user_id, &sid);
            let m = fixed(&text, &names()).expect(&text);
            assert!(m.utf8);
            assert_eq!(
                as_members_read(m),
                read_members(text.as_bytes(), &names()),
                "{text}"
            );
        }
        for kind in ["refresh", "sliding"] {
            let text = minted("1700000300", r#""42""#, &sid).replace("access", kind);
            let m = fixed(&text, &names()).expect(&text);
            assert_eq!(m.token_type.as_str(), kind);
        }
        // Configured claim names, non-ASCII among them, move every offset.
        let names = ClaimNames::new("utilisateur_é".into(), "typ_é".into(), "id".into());
        let text = format!(
            r#"{{"typ_é":"access","exp":1700000300,"iat":1700000000,"id":"{SID}","utilisateur_é":"42","sid":"{SID}"}}"#
        );
        let m = fixed(&text, &names).expect("configured names");
        assert_eq!(as_members_read(m), read_members(text.as_bytes(), &names));
    }

    #[test]
    fn fixed_offsets_leave_the_rest_to_the_member_reader() {
        let sid = format!("{SID:?}");
        let upper = format!("{:?}", SID.to_uppercase());
        for text in [
            // Times of other widths, or with a leading zero.
            minted("170000030", r#""42""#, &sid),
            minted("17000003000", r#""42""#, &sid),
            minted("0700000300", r#""42""#, &sid),
            // A user id that is not plain ASCII, or empty.
            minted("1700000300", r#""é""#, &sid),
            minted("1700000300", r#""a\"b""#, &sid),
            minted("1700000300", "\"a\u{7f}\u{1}\"", &sid),
            minted("1700000300", r#""""#, &sid),
            // A token id or sid that is not 32 lowercase hex digits.
            minted("1700000300", r#""42""#, &upper),
            minted("1700000300", r#""42""#, r#""xyz""#),
            minted("1700000300", r#""42""#, &sid).replacen(SID, &SID.to_uppercase(), 1),
            // Not the layout at all.
            minted("1700000300", r#""42""#, &sid).replace("access", "bearer"),
            minted("1700000300", r#""42""#, &sid) + " ",
            r#"{"token_type":"access"}"#.to_owned(),
        ] {
            assert!(fixed(&text, &names()).is_none(), "{text}");
        }
        // Those the member reader can still read, it reads.
        let text = minted("170000030", r#""é""#, &upper);
        let m = read(text.as_bytes(), &names()).expect("the member reader");
        assert!(!m.utf8);
        assert_eq!(m.exp, 170_000_030);
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

    /// The plain twin of [`Pattern::matches`]: byte by byte, with branches.
    fn matches_naive<const N: usize>(p: &Pattern<N>, window: &[u8; N]) -> bool {
        window.iter().enumerate().all(|(i, &b)| {
            (p.literal[i] == 0 || b == p.byte[i])
                && (p.digit[i] == 0 || b.is_ascii_digit())
                && (p.hex[i] == 0 || matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
    }

    /// A head pattern and a payload it matches, to mutate.
    fn access_head() -> (Pattern<HEAD>, [u8; HEAD]) {
        let offsets = names().fixed_offsets;
        let head = offsets.heads[0].clone().expect("the default names fit");
        let text = minted("1700000300", r#""user@example.com""#, &format!("{SID:?}"));
        let window = text.as_bytes()[..HEAD].try_into().unwrap();
        (head.pattern, window)
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

        /// Any bytes changed anywhere in a window: the vectorized matcher, compiled for this
        /// CPU and for the baseline, agrees with the byte-by-byte twin.
        #[test]
        fn pattern_matching_agrees_with_its_plain_twin(
            changes in proptest::collection::vec((0..HEAD, proptest::num::u8::ANY), 0..4),
            tail_changes in proptest::collection::vec((0..TAIL, proptest::num::u8::ANY), 0..3),
        ) {
            let (pattern, mut window) = access_head();
            for (at, b) in changes {
                window[at] = b;
            }
            let naive = matches_naive(&pattern, &window);
            proptest::prop_assert_eq!(pattern.matches(&window, Vectors::detect()), naive);
            proptest::prop_assert_eq!(pattern.matches(&window, Vectors::baseline()), naive);
            let tail = names().fixed_offsets.tail;
            let text = minted("1700000300", r#""42""#, &format!("{SID:?}"));
            let mut end: [u8; TAIL] = text.as_bytes()[text.len() - TAIL..].try_into().unwrap();
            for (at, b) in tail_changes {
                end[at] = b;
            }
            let naive = matches_naive(&tail, &end);
            proptest::prop_assert_eq!(tail.matches(&end, Vectors::detect()), naive);
            proptest::prop_assert_eq!(tail.matches(&end, Vectors::baseline()), naive);
        }

        /// Near-minted payloads: whatever the fixed offsets read, the member reader reads
        /// the same way.
        #[test]
        fn fixed_offsets_agree_with_the_member_reader(
            exp in proptest::prop_oneof![
                (1_000_000_000i64..10_000_000_000).prop_map(|i| i.to_string()),
                "[0-9]{9,11}",
            ],
            user_id in proptest::prop_oneof![
                "[ -~]{0,12}".prop_map(|s| format!("\"{s}\"")),
                "[a-z0-9é@\u{1}]{0,12}".prop_map(|s| format!("\"{s}\"")),
            ],
            sid in proptest::prop_oneof![
                "[0-9a-f]{32}".prop_map(|s| format!("\"{s}\"")),
                "[0-9a-fA-F]{31,33}".prop_map(|s| format!("\"{s}\"")),
            ],
            kind in proptest::sample::select(vec!["access", "refresh", "sliding", "acces"]),
        ) {
            let text = minted(&exp, &user_id, &sid).replace("access", kind);
            if let Some(m) = fixed(&text, &names()) {
                proptest::prop_assert_eq!(
                    as_members_read(m),
                    read_members(text.as_bytes(), &names())
                );
            }
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
                let ours = super::super::from_layout(text.as_bytes(), m);
                proptest::prop_assert_eq!(ours, serde, "{}", text);
            }
        }
    }
}
