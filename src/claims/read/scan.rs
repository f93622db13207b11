//! The fast path for the payloads keyfob writes itself (and PyJWT's): one compact JSON
//! object, no whitespace, values that are escape-free strings or integers. Anything outside
//! that grammar answers `None` and serde_json parses the payload instead, so this scanner
//! only has to be right about what it accepts, never about what it declines.

use std::borrow::Cow;

use serde_json::Value;

use super::{Destination, RawClaims, Val};
use crate::claims::ClaimNames;
use crate::swar::{has_control, quote_or_backslash};

/// Read `text` into `raw` when it is a flat compact object; `false` (and `raw` partly filled)
/// when it is not.
pub(super) fn flat_object<'a>(text: &'a str, names: &ClaimNames, raw: &mut RawClaims<'a>) -> bool {
    scan(text, names, raw).is_some()
}

fn scan<'a>(text: &'a str, names: &ClaimNames, raw: &mut RawClaims<'a>) -> Option<()> {
    let b = text.as_bytes();
    // Compact JSON has no byte below 0x20 anywhere (whitespace included), so one pass
    // settles it for every string below.
    if b.first() != Some(&b'{') || has_control(b) {
        return None;
    }
    let mut at = 1;
    if b.get(at) == Some(&b'}') {
        return (b.len() == 2).then_some(());
    }
    loop {
        let key = string(text, &mut at)?;
        if b.get(at) != Some(&b':') {
            return None;
        }
        at += 1;
        let value = value(text, &mut at)?;
        match raw.destination(key, names) {
            Destination::Typed(slot) => raw.duplicate |= slot.replace(value).is_some(),
            Destination::Aud => raw.duplicate |= raw.aud.replace(json(value)).is_some(),
            Destination::Extra => {
                raw.duplicate |= raw.extra.insert(key.to_owned(), json(value)).is_some();
            }
        }
        match b.get(at) {
            Some(b',') => at += 1,
            Some(b'}') => return (at + 1 == b.len()).then_some(()),
            _ => return None,
        }
    }
}

/// A string starting at `*at` (its opening quote), without escapes.
#[inline]
fn string<'a>(text: &'a str, at: &mut usize) -> Option<&'a str> {
    let b = text.as_bytes();
    if b.get(*at) != Some(&b'"') {
        return None;
    }
    let start = *at + 1;
    let len = quote_or_backslash(&b[start..])?;
    if b[start + len] != b'"' {
        return None;
    }
    *at = start + len + 1;
    // Both ends are ASCII quotes, so they are character boundaries of `text`.
    text.get(start..start + len)
}

/// A string or an integer that fits `i64`; `None` for anything else (floats included).
fn value<'a>(text: &'a str, at: &mut usize) -> Option<Val<'a>> {
    let b = text.as_bytes();
    match *b.get(*at)? {
        b'"' => string(text, at).map(|s| Val::Str(Cow::Borrowed(s))),
        b'-' | b'0'..=b'9' => {
            let negative = b[*at] == b'-';
            let start = *at + usize::from(negative);
            let digits = b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
            // JSON has no leading zeros; a fraction or exponent makes a float; and serde_json
            // reads `-0` as the float -0.0, not the integer 0.
            if digits == 0
                || (digits > 1 && b[start] == b'0')
                || (negative && digits == 1 && b[start] == b'0')
                || matches!(b.get(start + digits), Some(b'.' | b'e' | b'E'))
            {
                return None;
            }
            let mut n: i64 = 0;
            for &d in &b[start..start + digits] {
                let d = i64::from(d - b'0');
                n = n
                    .checked_mul(10)?
                    .checked_add(if negative { -d } else { d })?;
            }
            *at = start + digits;
            Some(Val::Int(n))
        }
        _ => None,
    }
}

/// A scanned value as serde_json would have read it.
fn json(v: Val<'_>) -> Value {
    match v {
        Val::Str(s) => Value::String(s.into_owned()),
        Val::Int(i) => Value::from(i),
        // The scanner only yields strings and integers.
        Val::Float(_) | Val::Other => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn names() -> ClaimNames {
        ClaimNames::new("user_id".into(), "token_type".into(), "jti".into())
    }

    fn flat(text: &str) -> Option<RawClaims<'_>> {
        let mut raw = RawClaims::default();
        flat_object(text, &names(), &mut raw).then_some(raw)
    }

    fn scans(text: &str) -> bool {
        flat(text).is_some()
    }

    #[test]
    fn accepts_compact_flat_objects() {
        assert!(scans("{}"));
        assert!(scans(
            r#"{"token_type":"access","exp":0,"jti":"é","x":9223372036854775807}"#
        ));
    }

    #[test]
    fn declines_what_serde_must_judge() {
        for text in [
            "",
            "{",
            "{}x",
            "[]",
            r#"{"a":1} "#,
            r#"{ "a":1}"#,
            r#"{"a" :1}"#,
            r#"{"a":1,}"#,
            r#"{"a\"b":1}"#,
            r#"{"a":"\u0062"}"#,
            "{\"a\":\"\t\"}",
            r#"{"a":1.5}"#,
            r#"{"a":1e3}"#,
            r#"{"a":01}"#,
            r#"{"a":-}"#,
            r#"{"a":-0}"#,
            r#"{"a":9223372036854775808}"#,
            r#"{"a":true}"#,
            r#"{"a":null}"#,
            r#"{"a":[1]}"#,
            r#"{"a":{"b":1}}"#,
            r#"{"a":"b"#,
        ] {
            assert!(!scans(text), "{text}");
        }
    }

    /// What the scanner accepts, serde_json reads the same way.
    fn same_as_serde(text: &str) -> bool {
        let names = names();
        match flat(text) {
            None => false,
            Some(mut raw) => {
                let serde = super::super::with_serde(text, &names)
                    .and_then(|mut raw| super::super::build(text, &mut raw, &names));
                assert_eq!(super::super::build(text, &mut raw, &names), serde, "{text}");
                true
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn scanned_claims_equal_serde_claims(
            members in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "token_type", "exp", "iat", "nbf", "jti", "user_id", "sid",
                        "refresh_exp", "iss", "aud", "scope", "x",
                    ]),
                    proptest::prop_oneof![
                        proptest::sample::select(vec!["access", "refresh", "sliding", ""])
                            .prop_map(|s| format!("{s:?}")),
                        "[a-z0-9é]{0,8}".prop_map(|s| format!("{s:?}")),
                        proptest::num::i64::ANY.prop_map(|i| i.to_string()),
                        proptest::sample::select(vec!["0", "-0", "-1", "10"])
                            .prop_map(str::to_owned),
                        (0i64..3_000_000_000).prop_map(|i| i.to_string()),
                    ],
                ),
                0..12,
            )
        ) {
            let body: Vec<String> =
                members.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
            let text = format!("{{{}}}", body.join(","));
            // Everything generated is scanned, except `-0`, which serde reads as a float.
            let has_negative_zero = members.iter().any(|(_, v)| v == "-0");
            proptest::prop_assert_eq!(same_as_serde(&text), !has_negative_zero, "{}", text);
        }
    }

    #[test]
    fn integers_are_exact_at_the_edges() {
        let raw = flat(r#"{"exp":-9223372036854775808,"iat":0}"#).unwrap();
        assert!(matches!(raw.exp, Some(Val::Int(i64::MIN))));
        assert!(matches!(raw.iat, Some(Val::Int(0))));
    }
}
