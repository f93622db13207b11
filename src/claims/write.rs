//! Writing the payloads keyfob mints: member by member ([`PayloadWriter`], any claims, the
//! slow twin) or from constant text precomputed per engine ([`PayloadTemplate`], the common
//! case of no extra claims). Names come already written (see [`key`] and [`ClaimNames`]), so
//! only values are encoded per token, and re-minting the same claims gives the same bytes.

use serde_json::Value;

use super::{key, ClaimNames, TokenType};
use crate::session::Id;

mod template;

pub(crate) use template::{PayloadFields, PayloadTemplate};

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
    pub(crate) fn id(&mut self, key: &[u8], id: Id) {
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

pub(super) fn write_json_str(buf: &mut Vec<u8>, s: &str) {
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
    use crate::claims::json_key;

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
