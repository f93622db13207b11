//! Error codes are a contract shared by Rust, C and Python: every number and name is
//! pinned here, so changing the meaning of one fails loudly.

use keyfob::{Error, ErrorCode};

const PINNED: [(u32, &str); 23] = [
    (1, "malformed"),
    (2, "bad_signature"),
    (3, "algorithm_not_allowed"),
    (4, "unknown_key"),
    (5, "expired"),
    (6, "not_yet_valid"),
    (7, "wrong_type"),
    (8, "missing_claim"),
    (9, "invalid_claim"),
    (10, "revoked"),
    (11, "session_idle"),
    (12, "session_expired"),
    (13, "session_unknown"),
    (14, "session_required"),
    (15, "reuse_detected"),
    (16, "invalid_argument"),
    (17, "config"),
    (18, "buffer_too_small"),
    (19, "store_unavailable"),
    (20, "panic"),
    (21, "client_mismatch"),
    (22, "dpop_invalid"),
    (23, "dpop_replayed"),
];

#[test]
fn codes_and_names_are_pinned() {
    assert!(ErrorCode::ALL.len() >= PINNED.len());
    for (number, name) in PINNED {
        let code = ErrorCode::from_u32(number).unwrap_or_else(|| panic!("code {number}"));
        assert_eq!(code as u32, number);
        assert_eq!(code.name(), name);
        assert_eq!(code.to_string(), name);
        assert!(!code.message().is_empty());
    }
    assert_eq!(ErrorCode::from_u32(0), None, "0 is success in the C ABI");
}

#[test]
fn every_variant_maps_to_its_code() {
    let cases = [
        (Error::Malformed("x"), 1),
        (Error::BadSignature, 2),
        (Error::AlgorithmNotAllowed, 3),
        (Error::UnknownKey, 4),
        (Error::Expired, 5),
        (Error::NotYetValid, 6),
        (Error::WrongType, 7),
        (Error::MissingClaim("exp".into()), 8),
        (Error::InvalidClaim("exp".into()), 9),
        (Error::Revoked, 10),
        (Error::SessionIdle, 11),
        (Error::SessionExpired, 12),
        (Error::SessionUnknown, 13),
        (Error::SessionRequired, 14),
        (Error::ReuseDetected, 15),
        (Error::InvalidArgument("x".into()), 16),
        (Error::Config("x".into()), 17),
        (Error::BufferTooSmall { needed: 9 }, 18),
        (Error::StoreUnavailable("x".into()), 19),
        (Error::Panic, 20),
        (Error::ClientMismatch, 21),
        (Error::DpopInvalid("x".into()), 22),
        (Error::DpopReplayed, 23),
    ];
    for (err, number) in cases {
        assert_eq!(err.code() as u32, number, "{err:?}");
        assert_eq!(err.name(), PINNED[number as usize - 1].1);
        // Display starts with the code's message and adds the detail, if any.
        assert!(err.to_string().starts_with(err.code().message()), "{err}");
    }
}

#[test]
fn details_show_in_display() {
    assert_eq!(
        Error::MissingClaim("jti".into()).to_string(),
        "token is missing a required claim: 'jti'"
    );
    assert!(Error::BufferTooSmall { needed: 40 }
        .to_string()
        .contains("40"));
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Error::Expired);
    assert_eq!(boxed.to_string(), "token is expired");
}
