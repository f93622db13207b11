//! The HMAC-SHA256 resumed from a precomputed state, against ring's, for any key, message
//! and precomputed start: the same tag, and only that tag verifies; and two messages signed
//! side by side get ring's tag each.
//!
//! Input: a key length byte, a start length (two bytes), a byte choosing which tag bit to
//! flip, then the key and the message.

#![no_main]

use keyfob::__fuzz_hmac::{resumed_sign, resumed_sign_two, resumed_verify};
use libfuzzer_sys::fuzz_target;
use ring::hmac;

const BLOCK: usize = 64;

fuzz_target!(|input: &[u8]| {
    let [key_len, start_lo, start_hi, flip, rest @ ..] = input else {
        return;
    };
    let key = &rest[..usize::from(*key_len).min(rest.len())];
    let message = &rest[key.len()..];
    let start =
        &message[..usize::from(u16::from_le_bytes([*start_lo, *start_hi])).min(message.len())];
    let want = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message);
    let want = want.as_ref();

    match resumed_sign(key, start, message) {
        Some(tag) => assert_eq!(&tag[..], want, "the resumed tag is ring's"),
        None => assert!(
            start.len() < BLOCK,
            "a start of a whole block or more resumes"
        ),
    }
    if start.len() < BLOCK {
        return;
    }
    assert_eq!(resumed_verify(key, start, message, want), Some(true));
    let mut wrong = want.to_vec();
    let at = usize::from(*flip) % wrong.len();
    wrong[at] ^= 1 << (flip % 8);
    assert_eq!(resumed_verify(key, start, message, &wrong), Some(false));
    assert_eq!(
        resumed_verify(key, start, message, &want[..31]),
        Some(false)
    );
    assert_eq!(
        resumed_verify(key, start, message, &[want, &[0]].concat()),
        Some(false)
    );
    assert_eq!(resumed_verify(key, start, message, &[]), Some(false));

    // Side by side with a shorter message (fewer blocks, another tail) from the same start.
    let shorter = &message[..message.len().saturating_sub(usize::from(*flip)).max(start.len())];
    let want_shorter = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), shorter);
    let (tag, tag_shorter) =
        resumed_sign_two(key, (start, message), (start, shorter)).expect("both resume");
    assert_eq!(&tag[..], want, "the first tag of two is ring's");
    assert_eq!(&tag_shorter[..], want_shorter.as_ref(), "the second tag of two is ring's");

    // A message that differs inside the precomputed blocks is not resumed from them.
    let whole = start.len() / BLOCK * BLOCK;
    let mut other = message.to_vec();
    other[usize::from(*flip) * 31 % whole] ^= 0x80;
    assert_eq!(resumed_sign(key, start, &other), None);
    assert_eq!(resumed_verify(key, start, &other, want), None);
});
