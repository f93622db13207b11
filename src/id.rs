//! `Id`: the 128-bit random identifier of a session or a token (`sid`, `jti`), written as 32
//! lowercase hex digits. Parsing runs on every validate, so it reads eight digits at a time
//! (see `swar.rs`).

use std::fmt;

use crate::error::{Error, Result};
use crate::swar;

/// A 128-bit random identifier (session id or token id), written as 32 lowercase hex digits.
///
/// ```
/// use keyfob::session::Id;
///
/// let id = Id::parse("0123456789abcdef0123456789abcdef").unwrap();
/// assert_eq!(id.to_string(), "0123456789abcdef0123456789abcdef");
/// assert_eq!(Id::parse("0123"), None);
/// assert_ne!(Id::random().unwrap(), Id::random().unwrap());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub(crate) u128);

/// Byte → its two lowercase hex digits.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [HEX[i >> 4], HEX[i & 0xf]];
        i += 1;
    }
    table
};

impl Id {
    /// 128 bits from the operating system's random source. Bytes are drawn from the OS in
    /// blocks per thread; a forked child discards its parent's block, so two processes never
    /// hand out the same id. Fails (`store_unavailable`) only if the OS source does.
    pub fn random() -> Result<Id> {
        crate::random::take16()
            .map(|b| Id(u128::from_be_bytes(b)))
            .ok_or_else(|| Error::StoreUnavailable("the OS random source failed".into()))
    }

    /// Parse exactly 32 lowercase hex digits.
    pub fn parse(s: &str) -> Option<Id> {
        Id::parse_ascii(s.as_bytes())
    }

    /// [`Id::parse`] over bytes.
    pub(crate) fn parse_ascii(b: &[u8]) -> Option<Id> {
        Id::from_words(b.try_into().ok()?, swar::hex8)
    }

    /// [`Id::parse_ascii`] of 32 bytes the caller has already checked to be lowercase hex
    /// digits (any other bytes give some id, never a panic).
    #[inline]
    pub(crate) fn from_checked_hex(b: &[u8; 32]) -> Id {
        debug_assert!(Id::parse_ascii(b).is_some());
        Id::from_words(b, |w| Some(swar::hex8_value(w))).unwrap_or(Id(0))
    }

    /// The id written as the 32 hex digits `b`, eight digits at a time through `word`, without
    /// a branch per digit (this runs on every validate); `None` if `word` refuses any.
    #[inline(always)]
    fn from_words(b: &[u8; 32], word: impl Fn(u64) -> Option<u32>) -> Option<Id> {
        let mut value = 0u128;
        for eight in b.chunks_exact(8) {
            let eight = swar::load(eight.try_into().ok()?);
            value = (value << 32) | u128::from(word(eight)?);
        }
        Some(Id(value))
    }

    /// The 32-character hex form as a `String` (what `to_string` gives, without formatting
    /// machinery).
    pub fn to_hex_string(self) -> String {
        // to_hex is ASCII by construction.
        String::from_utf8(self.to_hex().to_vec()).unwrap_or_default()
    }

    /// The 32-character hex form, without allocating.
    pub fn to_hex(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (pair, byte) in out.chunks_exact_mut(2).zip(self.0.to_be_bytes()) {
            pair.copy_from_slice(&HEX_PAIRS[byte as usize]);
        }
        out
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // to_hex is ASCII by construction.
        f.write_str(std::str::from_utf8(&self.to_hex()).unwrap_or(""))
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let id = Id(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        let s = id.to_string();
        assert_eq!(s, "0123456789abcdef0011223344556677");
        assert_eq!(id.to_hex_string(), s);
        assert_eq!(Id::parse(&s), Some(id));
        assert_eq!(Id::parse("0123456789ABCDEF0011223344556677"), None);
        assert_eq!(Id::parse("abc"), None);
        // Every byte that is not a lowercase hex digit, in either half.
        for bad in (0u8..=255).filter(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            for at in 0..32 {
                let mut text = *b"0123456789abcdef0011223344556677";
                text[at] = bad;
                // Raw bytes, as `peek_sid` hands them over from an unverified payload.
                assert_eq!(Id::parse_ascii(&text), None, "{bad:#x} at {at}");
            }
        }
        assert_eq!(Id::parse(&"f".repeat(32)), Some(Id(u128::MAX)));
        // Every digit value at every position, through to_hex and back.
        let mut x = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834_u128;
        for _ in 0..10_000 {
            x = x.wrapping_mul(0x2545_f491_4f6c_dd1d).rotate_left(29) ^ 0x5bd1_e995;
            assert_eq!(Id::parse_ascii(&Id(x).to_hex()), Some(Id(x)));
            assert_eq!(Id::from_checked_hex(&Id(x).to_hex()), Id(x));
        }
    }
}
