//! The plain twins of the word tricks in `swar.rs`: one byte at a time, written to be
//! obviously right rather than fast.

/// [`super::hex8`]: eight lowercase hex digits (first byte of the word first) to their value.
pub(super) fn hex8(w: u64) -> Option<u32> {
    w.to_le_bytes().iter().try_fold(0u32, |value, &b| {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        Some(value << 4 | u32::from(digit))
    })
}

/// [`super::digit_run`]: how many leading bytes are ASCII digits.
pub(super) fn digit_run(w: u64) -> usize {
    w.to_le_bytes()
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// [`super::digits_value`]: the first `run` bytes, all digits, as a decimal number.
pub(super) fn digits_value(w: u64, run: usize) -> u64 {
    w.to_le_bytes()[..run]
        .iter()
        .fold(0, |value, &b| value * 10 + u64::from(b - b'0'))
}

/// [`super::quote_or_backslash`]: where the first `"` or `\` is.
pub(super) fn quote_or_backslash(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'"' || c == b'\\')
}

/// [`super::has_control`]: whether any byte is below 0x20.
pub(super) fn has_control(b: &[u8]) -> bool {
    b.iter().any(|&c| c < 0x20)
}
