//! Bit tricks on eight bytes at a time ("SIMD within a register"): the one home of the word
//! parsers the hot paths use (hex ids, decimal times, the end of a JSON string). Each has a
//! plain, byte-at-a-time twin in `naive.rs`, and `prop.rs` holds them equal on random input.
//!
//! Words are loaded little-endian: the first byte of the text is the word's lowest byte.

/// `0x01` in every byte: multiplied by a byte value, that value in every byte.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte.
pub(crate) const HIGHS: u64 = ONES * 0x80;

/// `byte` in every byte of a word.
#[inline(always)]
const fn splat(byte: u8) -> u64 {
    ONES * byte as u64
}

/// Eight bytes as a word, the first byte lowest.
#[inline(always)]
pub(crate) fn load(eight: &[u8; 8]) -> u64 {
    u64::from_le_bytes(*eight)
}

/// The high bit set in each byte of `w` that is zero (exact for the lowest such byte;
/// a borrow may mark bytes above it too, so only the lowest mark is meaningful).
#[inline(always)]
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// Eight lowercase hex digits as a word to their value (first digit most significant);
/// `None` if any byte is not one.
#[inline]
pub(crate) fn hex8(w: u64) -> Option<u32> {
    // For bytes below 0x80, `byte >= a` is the high bit of `byte + (0x80 - a)`, and no
    // carry leaves the byte. (Bytes from 0x80 up are refused first, so their carries are moot.)
    let at_least = |a: u8| w.wrapping_add(splat(0x80 - a)) & HIGHS;
    let digit = at_least(b'0') & !at_least(b'9' + 1);
    let letter = at_least(b'a') & !at_least(b'f' + 1);
    if w & HIGHS != 0 || digit | letter != HIGHS {
        return None;
    }
    Some(hex8_value(w))
}

/// [`hex8`] of a word already known to hold eight lowercase hex digits (any other bytes give
/// some value, never a panic).
#[inline]
pub(crate) fn hex8_value(w: u64) -> u32 {
    // A digit's value is its low four bits; a letter's ('a' = 0x61 → 10), those plus 9:
    // bit 6 is set in letters only.
    let nibbles = (w & splat(0x0f)) + ((w >> 6) & ONES) * 9;
    // Pair neighbours into bytes (first digit high), then gather the four even bytes.
    let pairs = ((nibbles << 4) | (nibbles >> 8)) & 0x00ff_00ff_00ff_00ff;
    let pairs = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    let pairs = (pairs | (pairs >> 16)) & 0xffff_ffff;
    (pairs as u32).swap_bytes()
}

/// How many bytes of `w`, from the first, are ASCII digits.
#[inline]
pub(crate) fn digit_run(w: u64) -> usize {
    // A digit is 0x30..=0x39: high nibble 3, still 3 once 6 is added to the low nibble. (A
    // byte from 0xfa up carries into the next byte; it is no digit, so the run ends before.)
    let high = w & splat(0xf0);
    let high_plus_6 = w.wrapping_add(splat(6)) & splat(0xf0);
    let off = (high ^ splat(0x30)) | (high_plus_6 ^ splat(0x30));
    // The high bit of every byte of `off` that is not zero, i.e. of every non-digit.
    let non_digits = ((off & splat(0x7f)).wrapping_add(splat(0x7f)) | off) & HIGHS;
    (non_digits.trailing_zeros() / 8) as usize
}

/// The value of the first `run` (at most 8) bytes of `w`, all ASCII digits.
#[inline]
pub(crate) fn digits_value(w: u64, run: usize) -> u64 {
    if run == 0 {
        return 0;
    }
    debug_assert!(run <= 8);
    // Move the digits to the top: the zero bytes shifted in read as leading zeros.
    let w = (w << (8 * (8 - run))) & splat(0x0f);
    // Neighbours to two-digit values, then four, then eight.
    let w = (w * 10 + (w >> 8)) & 0x00ff_00ff_00ff_00ff;
    let w = (w * 100 + (w >> 16)) & 0x0000_ffff_0000_ffff;
    (w * 10_000 + (w >> 32)) & 0xffff_ffff
}

/// The first `"` or `\\` in `b`, eight bytes at a time: claim strings are short, too short
/// for a SIMD search to pay for its setup.
#[inline]
pub(crate) fn quote_or_backslash(b: &[u8]) -> Option<usize> {
    let mut chunks = b.chunks_exact(8);
    for (i, chunk) in chunks.by_ref().enumerate() {
        let w = load(chunk.try_into().unwrap_or(&[0; 8]));
        let hits = zero_bytes(w ^ splat(b'"')) | zero_bytes(w ^ splat(b'\\'));
        if hits != 0 {
            return Some(i * 8 + (hits.trailing_zeros() / 8) as usize);
        }
    }
    let tail = chunks.remainder();
    let at = tail.iter().position(|&c| c == b'"' || c == b'\\')?;
    Some(b.len() - tail.len() + at)
}

/// Whether `b` has a byte below 0x20 (folded rather than `any`, so it vectorizes).
#[inline]
pub(crate) fn has_control(b: &[u8]) -> bool {
    b.iter().fold(false, |seen, &c| seen | (c < 0x20))
}

#[cfg(test)]
mod naive;
#[cfg(test)]
mod prop;
