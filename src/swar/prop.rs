//! Every word trick against its plain twin, on random input biased towards the bytes each
//! one decides on (digits, hex letters, quotes, controls and their neighbours).

use proptest::prelude::*;

use super::naive;

/// Bytes around every boundary the tricks test: digits, hex letters, `"`, `\`, controls,
/// and their neighbours, plus anything at all.
fn edge_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        proptest::sample::select(vec![
            0x00, 0x1f, 0x20, b'"', b'\\', b'/', b'0', b'5', b'9', b':', b'`', b'a', b'f', b'g',
            b'A', b'F', 0x7f, 0x80, 0xb0, 0xe6, 0xf9, 0xfa, 0xff,
        ]),
        b'0'..=b'9',
        b'a'..=b'f',
        any::<u8>(),
    ]
}

fn word() -> impl Strategy<Value = [u8; 8]> {
    proptest::array::uniform8(edge_byte())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn hex8_is_the_plain_hex_reader(w in word()) {
        let w = super::load(&w);
        prop_assert_eq!(super::hex8(w), naive::hex8(w));
        if let Some(value) = naive::hex8(w) {
            prop_assert_eq!(super::hex8_value(w), value);
        }
    }

    #[test]
    fn digit_run_is_the_plain_count(w in word()) {
        let w = super::load(&w);
        prop_assert_eq!(super::digit_run(w), naive::digit_run(w));
    }

    #[test]
    fn digits_value_is_the_plain_sum(
        digits in proptest::array::uniform8(b'0'..=b'9'),
        run in 0usize..=8,
    ) {
        let w = super::load(&digits);
        prop_assert_eq!(super::digits_value(w, run), naive::digits_value(w, run));
    }

    #[test]
    fn quote_or_backslash_is_the_plain_search(b in proptest::collection::vec(edge_byte(), 0..40)) {
        prop_assert_eq!(super::quote_or_backslash(&b), naive::quote_or_backslash(&b));
    }

    #[test]
    fn has_control_is_the_plain_any(b in proptest::collection::vec(edge_byte(), 0..80)) {
        prop_assert_eq!(super::has_control(&b), naive::has_control(&b));
    }
}

#[test]
fn every_position_and_every_byte_value() {
    // Exhaustive where it is cheap: each byte value at each position of a word of digits.
    for at in 0..8 {
        for b in 0..=255u8 {
            let mut w = *b"01234567";
            w[at] = b;
            let w = super::load(&w);
            assert_eq!(super::digit_run(w), naive::digit_run(w), "{b:#x} at {at}");
            let mut h = *b"89abcdef";
            h[at] = b;
            let h = super::load(&h);
            assert_eq!(super::hex8(h), naive::hex8(h), "{b:#x} at {at}");
        }
    }
    for len in 0..40 {
        for at in 0..len {
            for (stop, filler) in [(b'"', b'a'), (b'\\', 0x80), (b'"', b'!'), (b'\\', b']')] {
                let mut text = vec![filler; len];
                text[at] = stop;
                if at + 3 < len {
                    text[at + 3] = b'"';
                }
                assert_eq!(super::quote_or_backslash(&text), Some(at), "{len} {at}");
            }
        }
        assert_eq!(super::quote_or_backslash(&vec![b'a'; len]), None);
    }
}
