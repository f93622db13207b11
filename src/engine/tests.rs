//! The engine's own invariants, seen from inside: thread safety and the precomputed parts.

use base64_simd::URL_SAFE_NO_PAD;

use super::*;
use crate::claims;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn engine_is_send_sync() {
    assert_send_sync::<Engine>();
}

/// Every token kind keyfob mints starts with a precomputed HMAC prefix, with the default
/// claim names and with a `kid` header (a prefix that silently stopped matching would
/// only cost speed, so this is where it shows). Resuming is forced on, so this holds on
/// CPUs without SHA-NI too; there ring signs alone, which the last check shows. Without
/// the `resumed-hmac` feature nothing resumes.
#[test]
fn minted_tokens_resume_from_a_precomputed_hmac() {
    for kid in [None, Some("k-2026")] {
        let mut config = Config::with_secret("prefix-secret-0123456789abcdef0123456789");
        config.key_id = kid.map(str::to_owned);
        let unforced = Engine::new(config.clone()).unwrap();
        crate::keys::force_resuming_on_this_thread();
        let engine = Engine::new(config).unwrap();
        let pair = engine.login("42", None).unwrap();
        let sliding = engine.login_sliding("42", None).unwrap();
        for token in [&pair.access, pair.refresh.as_ref().unwrap(), &sliding.token] {
            let signing_input = &token[..token.rfind('.').unwrap()];
            assert_eq!(
                engine.jws.covered(signing_input.as_bytes()),
                cfg!(feature = "resumed-hmac"),
                "{kid:?} {token}"
            );
            assert_eq!(
                unforced.jws.covered(signing_input.as_bytes()),
                cfg!(feature = "resumed-hmac") && crate::keys::hardware_sha256()
            );
        }
        // And access and refresh tokens are in the layout the template reads.
        assert!(engine.validate(&pair.access).unwrap().is_minted_layout());
        let refresh = pair.refresh.as_ref().unwrap();
        assert!(engine.verify(refresh).unwrap().is_minted_layout());
        assert!(engine.validate(&pair.access).is_ok());
        // At fixed offsets, too (until the year 2286), with the default claim names and
        // with others.
        let mut config = Config::with_secret("prefix-secret-0123456789abcdef0123456789");
        config.user_id_claim = "uid".into();
        let renamed = Engine::new(config).unwrap();
        let other = renamed.login("someone@example.com", None).unwrap();
        for (engine, token) in [
            (&engine, &pair.access),
            (&engine, refresh),
            (&renamed, &other.access),
            (&renamed, other.refresh.as_ref().unwrap()),
        ] {
            let payload = URL_SAFE_NO_PAD
                .decode_to_vec(token.split('.').nth(1).unwrap())
                .unwrap();
            assert!(
                claims::read_at_fixed_offsets(&payload, &engine.names),
                "{token}"
            );
        }
    }
}

/// A token given as bytes answers as the same token given as text: the same claims when it
/// passes, its own error when it is UTF-8 and fails, and `malformed` ("not UTF-8") for bytes
/// that are not UTF-8 anywhere, even only in the signature, whatever the method.
#[test]
fn a_token_given_as_bytes_answers_as_one_given_as_text() {
    let engine = Engine::new(Config::with_secret("0123456789abcdef0123456789abcdef")).unwrap();
    let pair = engine.login("u", None).unwrap();
    let access = pair.access;
    assert_eq!(
        engine.validate(access.as_bytes()).unwrap().to_json(),
        engine.validate(&access).unwrap().to_json()
    );
    let mut broken = access.clone().into_bytes();
    *broken.last_mut().unwrap() = 0xff;
    let not_utf8 = Some(Error::TOKEN_NOT_UTF8);
    assert_eq!(engine.validate(&broken).err(), not_utf8);
    assert_eq!(engine.validate_sliding(&broken).err(), not_utf8);
    assert_eq!(engine.verify(&broken).err(), not_utf8);
    assert_eq!(engine.refresh(&broken).err(), not_utf8);
    assert_eq!(engine.refresh_sliding(&broken).err(), not_utf8);
    assert_eq!(engine.revoke(&broken).err(), not_utf8);
    assert_eq!(
        engine.validate_bound(&broken, &Presentation::none()).err(),
        not_utf8
    );
    // UTF-8 but not a valid token: that token's own error, whichever way it came.
    let dot = access.rfind('.').unwrap();
    let tampered = format!("{}.{}", &access[..dot], "A".repeat(access.len() - dot - 1));
    assert_eq!(engine.validate(&tampered), Err(Error::BadSignature));
    assert_eq!(
        engine.validate(tampered.as_bytes()),
        Err(Error::BadSignature)
    );
    // A refresh token as bytes refreshes; as an owned `Vec` too.
    let refresh = pair.refresh.unwrap();
    let owned: Vec<u8> = refresh.clone().into_bytes();
    let pair = engine.refresh(owned).unwrap();
    assert!(engine.refresh(pair.refresh.unwrap().as_bytes()).is_ok());
}
