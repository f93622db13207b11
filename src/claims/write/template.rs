//! The payload template: writing the payloads keyfob mints from text precomputed per engine.
//!
//! A payload without extra claims is constant text around seven values. Writing it member
//! by member ([`PayloadWriter`], the slow twin) costs a dozen small copies and twenty pushes
//! a token; here it is one reservation and a copy per run of constant text. Both write the
//! same bytes, member for member in the same order (a property test holds them equal), so
//! readers cannot tell which one wrote a token.

use super::{minted_start, write_json_str, PayloadWriter};
use crate::claims::{key, ClaimNames, TokenType};
use crate::session::Id;

/// The members every payload keyfob mints has (some optional), in the order written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PayloadFields<'a> {
    pub kind: TokenType,
    pub exp: i64,
    pub iat: i64,
    pub jti: Id,
    pub user_id: &'a str,
    pub sid: Option<Id>,
    /// A sliding token's refresh deadline.
    pub refresh_exp: Option<i64>,
}

impl PayloadFields<'_> {
    /// Write these members with `w` (the member-by-member writer), in minting order.
    pub(crate) fn write_members(&self, w: &mut PayloadWriter<'_>, names: &ClaimNames) {
        w.str(&names.token_type_key, self.kind.as_str());
        w.int(key::EXP, self.exp);
        w.int(key::IAT, self.iat);
        w.id(&names.jti_key, self.jti);
        w.str(&names.user_id_key, self.user_id);
        if let Some(sid) = self.sid {
            w.id(key::SID, sid);
        }
        if let Some(r) = self.refresh_exp {
            w.int(key::REFRESH_EXP, r);
        }
    }
}

/// A run of constant text. A short one (most are: the default names) is also kept padded
/// to [`Text::PADDED`] bytes, and written with one copy of that fixed size, then cut back:
/// a copy whose size the compiler knows is two vector moves, where a copy of a length known
/// only at run time is a call to `memcpy`.
struct Text {
    bytes: Box<[u8]>,
    padded: Option<[u8; Text::PADDED]>,
}

impl Text {
    const PADDED: usize = 64;

    fn new(bytes: Vec<u8>) -> Text {
        let padded = (bytes.len() <= Text::PADDED).then(|| {
            let mut padded = [0; Text::PADDED];
            padded[..bytes.len()].copy_from_slice(&bytes);
            padded
        });
        Text {
            bytes: bytes.into_boxed_slice(),
            padded,
        }
    }

    fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Append the text to `buf`.
    #[inline(always)]
    fn write(&self, buf: &mut Vec<u8>) {
        match &self.padded {
            Some(padded) => {
                let end = buf.len() + self.bytes.len();
                buf.extend_from_slice(padded);
                buf.truncate(end);
            }
            None => buf.extend_from_slice(&self.bytes),
        }
    }
}

/// An engine's constant payload text.
pub(crate) struct PayloadTemplate {
    /// Per token kind (access, refresh, sliding): `{"token_type":"access","exp":`.
    heads: [Text; 3],
    /// `,"jti":"`, under the engine's name for it.
    jti: Text,
    /// `","user_id":`, under the engine's name for it.
    user_id: Text,
    /// The configured `iss` and `aud` members, then `}`.
    tail: Text,
}

impl PayloadTemplate {
    pub(crate) fn new(names: &ClaimNames, issuer: Option<&str>, audience: Option<&str>) -> Self {
        let heads = [TokenType::Access, TokenType::Refresh, TokenType::Sliding]
            .map(|kind| Text::new(minted_start(names, kind)));
        let joined = |parts: &[&[u8]]| Text::new(parts.concat());
        let mut tail = Vec::new();
        for (name, value) in [(key::ISS, issuer), (key::AUD, audience)] {
            if let Some(value) = value {
                tail.push(b',');
                tail.extend_from_slice(name);
                write_json_str(&mut tail, value);
            }
        }
        tail.push(b'}');
        PayloadTemplate {
            heads,
            jti: joined(&[b",", &names.jti_key, b"\""]),
            user_id: joined(&[b"\",", &names.user_id_key]),
            tail: Text::new(tail),
        }
    }

    /// How every payload minted for each token kind starts (access, refresh, sliding): the
    /// token type, then the name of `exp`.
    pub(crate) fn starts(&self) -> [&[u8]; 3] {
        let [access, refresh, sliding] = &self.heads;
        [&access.bytes, &refresh.bytes, &sliding.bytes]
    }

    /// Append the payload with `fields` and no other members.
    pub(crate) fn write(&self, buf: &mut Vec<u8>, fields: &PayloadFields<'_>) {
        let head = &self.heads[match fields.kind {
            TokenType::Access => 0,
            TokenType::Refresh => 1,
            TokenType::Sliding => 2,
        }];
        // Room for it all, unless the user id needs escaping: the constant text (and the
        // padding its copies write past it), three integers of up to 20 digits, two ids of
        // 32, the `sid` and `refresh_exp` names.
        let text = head.len() + self.jti.len() + self.user_id.len() + self.tail.len();
        buf.reserve(text + Text::PADDED + fields.user_id.len() + 160);
        let mut digits = itoa::Buffer::new();
        head.write(buf);
        buf.extend_from_slice(digits.format(fields.exp).as_bytes());
        buf.push(b',');
        buf.extend_from_slice(key::IAT);
        buf.extend_from_slice(digits.format(fields.iat).as_bytes());
        self.jti.write(buf);
        buf.extend_from_slice(&fields.jti.to_hex());
        self.user_id.write(buf);
        write_json_str(buf, fields.user_id);
        if let Some(sid) = fields.sid {
            buf.extend_from_slice(b",\"sid\":\"");
            buf.extend_from_slice(&sid.to_hex());
            buf.push(b'"');
        }
        if let Some(r) = fields.refresh_exp {
            buf.push(b',');
            buf.extend_from_slice(key::REFRESH_EXP);
            buf.extend_from_slice(digits.format(r).as_bytes());
        }
        self.tail.write(buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the member-by-member writer writes for the same members.
    fn by_members(
        names: &ClaimNames,
        fields: &PayloadFields<'_>,
        iss: Option<&str>,
        aud: Option<&str>,
    ) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut w = PayloadWriter::new(&mut buf);
        fields.write_members(&mut w, names);
        if let Some(iss) = iss {
            w.str(key::ISS, iss);
        }
        if let Some(aud) = aud {
            w.str(key::AUD, aud);
        }
        w.finish();
        buf
    }

    fn kind(n: u8) -> TokenType {
        [TokenType::Access, TokenType::Refresh, TokenType::Sliding][n as usize % 3]
    }

    proptest! {
        #[test]
        fn the_text_writes_what_the_member_writer_writes(
            k in 0u8..3,
            exp in any::<i64>(),
            iat in any::<i64>(),
            jti in any::<u128>(),
            user_id in "\\PC{0,40}|[a-z0-9]{1,12}",
            sid in proptest::option::of(any::<u128>()),
            refresh_exp in proptest::option::of(any::<i64>()),
            // Up to past the length written with one fixed-size copy.
            iss in proptest::option::of("\\PC{0,80}"),
            aud in proptest::option::of("[a-z\"\\\\]{0,10}"),
            custom_names in any::<bool>(),
        ) {
            let names = if custom_names {
                ClaimNames::new("sub\"é".into(), "typ".into(), "id\\".into())
            } else {
                ClaimNames::new("user_id".into(), "token_type".into(), "jti".into())
            };
            let fields = PayloadFields {
                kind: kind(k),
                exp,
                iat,
                jti: Id(jti),
                user_id: &user_id,
                sid: sid.map(Id),
                refresh_exp,
            };
            let text = PayloadTemplate::new(&names, iss.as_deref(), aud.as_deref());
            let mut written = b"kept".to_vec();
            text.write(&mut written, &fields);
            let expected = [b"kept".to_vec(), by_members(&names, &fields, iss.as_deref(), aud.as_deref())].concat();
            prop_assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&expected)
            );
            serde_json::from_slice::<serde_json::Value>(&written[4..]).expect("valid JSON");
        }
    }
}
