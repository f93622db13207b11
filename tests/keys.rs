//! Keys: every algorithm signs and verifies through the engine, the key ring rotates
//! without logging anyone out, and a key from elsewhere never verifies.

mod common;

use std::sync::Arc;

use common::*;
use keyfob::store::MemoryStore;
use keyfob::{Config, Engine, Error, ManualClock};

/// Log in and validate with `cfg`; return the access token.
fn round_trip(cfg: Config) -> String {
    let (engine, _) = engine_at(cfg);
    let pair = engine.login("alice", None).unwrap();
    assert_eq!(engine.validate(&pair.access).unwrap().user_id(), "alice");
    let refreshed = engine.refresh(pair.refresh.as_deref().unwrap()).unwrap();
    engine.validate(&refreshed.access).unwrap();
    pair.access
}

fn with_alg(key: impl Into<String>, alg: &str) -> Config {
    let mut cfg = Config::with_secret(key);
    cfg.algorithm = alg.into();
    cfg
}

fn signature_len(token: &str) -> usize {
    unb64(segments(token)[2]).len()
}

#[test]
fn hmac_algorithms_sign_and_verify() {
    for (alg, len) in [("HS256", 32), ("HS384", 48), ("HS512", 64)] {
        let token = round_trip(with_alg(SECRET, alg));
        assert_eq!(header_of(&token)["alg"], alg);
        assert_eq!(header_of(&token)["typ"], "JWT");
        assert_eq!(signature_len(&token), len, "{alg}");
    }
}

#[test]
fn eddsa_signs_and_verifies() {
    let (private, _, _) = ed25519_keys();
    let token = round_trip(with_alg(private, "EdDSA"));
    assert_eq!(header_of(&token)["alg"], "EdDSA");
    assert_eq!(signature_len(&token), 64);
}

#[test]
fn es256_signs_and_verifies_with_fixed_r_s() {
    let (private, _, _) = p256_keys();
    let token = round_trip(with_alg(private, "ES256"));
    assert_eq!(header_of(&token)["alg"], "ES256");
    // JWS wants r||s, 32 bytes each, never DER.
    assert_eq!(signature_len(&token), 64);
}

#[test]
fn rs256_signs_and_verifies_from_pkcs8_and_pkcs1() {
    for private in [rsa_private_pem(), read_data("rsa2048_private_pkcs1.pem")] {
        let token = round_trip(with_alg(private, "RS256"));
        assert_eq!(header_of(&token)["alg"], "RS256");
        assert_eq!(signature_len(&token), 256);
    }
    // Both encodings of one key make the same (deterministic PKCS#1 v1.5) signature.
    let a = keyfob::internal::jws::sign(&with_alg(rsa_private_pem(), "RS256"), b"x.y").unwrap();
    let b = keyfob::internal::jws::sign(
        &with_alg(read_data("rsa2048_private_pkcs1.pem"), "RS256"),
        b"x.y",
    )
    .unwrap();
    assert_eq!(a, b);
}

#[test]
fn public_keys_verify_tokens_of_their_private_half() {
    // A verifier holding only the issuer's public key, as a listed verifying key beside
    // an unrelated signing key of the same algorithm.
    let (ed_private, ed_public, _) = ed25519_keys();
    let (ec_private, ec_public, _) = p256_keys();
    let other_rsa = read_data("rsa2048_other_private.pem");
    let cases = [
        ("EdDSA", ed_private, ed_public, ed25519_keys().0),
        ("ES256", ec_private, ec_public, p256_keys().0),
        (
            "RS256",
            rsa_private_pem(),
            rsa_public_pem(),
            other_rsa.clone(),
        ),
        (
            "RS256",
            rsa_private_pem(),
            read_data("rsa2048_public_pkcs1.pem"),
            other_rsa,
        ),
    ];
    for (alg, issuer_private, issuer_public, verifier_private) in cases {
        let issuer = with_alg(issuer_private, alg);
        let mut verifier = with_alg(verifier_private, alg);
        verifier
            .verifying_keys
            .insert("issuer".into(), issuer_public.into());
        for header in [
            format!(r#"{{"alg":"{alg}"}}"#),
            format!(r#"{{"alg":"{alg}","kid":"issuer"}}"#),
        ] {
            let input = format!("{}.{}", b64(header.as_bytes()), b64(b"payload"));
            let sig = keyfob::internal::jws::sign(&issuer, input.as_bytes()).unwrap();
            let token = format!("{input}.{}", b64(&sig));
            assert_eq!(
                keyfob::internal::jws::verify(&verifier, &token).unwrap(),
                b"payload",
                "{alg} {header}"
            );
            // Without the issuer's public key, the same token does not verify.
            let mut stranger = verifier.clone();
            stranger.verifying_keys.clear();
            let expected = if header.contains("kid") {
                Error::UnknownKey
            } else {
                Error::BadSignature
            };
            assert_eq!(
                keyfob::internal::jws::verify(&stranger, &token),
                Err(expected)
            );
        }
    }
}

/// Two engines over one store and clock: the same deployment before and after a restart
/// with a new key configuration.
fn before_and_after(before: Config, after: Config) -> (Engine, Engine, ManualClock) {
    let clock = ManualClock::new(T0);
    let store = Arc::new(MemoryStore::new());
    let a = Engine::builder(before)
        .clock(clock.clone())
        .store(store.clone())
        .build()
        .unwrap();
    let b = Engine::builder(after)
        .clock(clock.clone())
        .store(store)
        .build()
        .unwrap();
    (a, b, clock)
}

#[test]
fn rotating_a_named_key_keeps_old_tokens_valid() {
    let mut old = config();
    old.key_id = Some("2024-01".into());
    let mut new = Config::with_secret(OTHER_SECRET);
    new.key_id = Some("2024-02".into());
    new.verifying_keys.insert("2024-01".into(), SECRET.into());
    let (before, after, _) = before_and_after(old, new);

    let pair = before.login("alice", None).unwrap();
    assert_eq!(header_of(&pair.access)["kid"], "2024-01");
    // After the switch: the old access token validates, the old refresh token rotates,
    // and what comes out is signed with the new key.
    after.validate(&pair.access).unwrap();
    let rotated = after.refresh(pair.refresh.as_deref().unwrap()).unwrap();
    assert_eq!(header_of(&rotated.access)["kid"], "2024-02");
    assert_eq!(
        header_of(rotated.refresh.as_deref().unwrap())["kid"],
        "2024-02"
    );
    after.validate(&rotated.access).unwrap();
    // The old engine does not know the new key.
    assert_eq!(before.validate(&rotated.access), Err(Error::UnknownKey));
}

#[test]
fn rotating_unnamed_keys_tries_each_listed_key() {
    let old = config();
    let mut new = Config::with_secret(OTHER_SECRET);
    new.verifying_keys.insert("previous".into(), SECRET.into());
    let (before, after, _) = before_and_after(old, new);
    let pair = before.login("alice", None).unwrap();
    assert!(header_of(&pair.access).get("kid").is_none());
    after.validate(&pair.access).unwrap();
    let rotated = after.refresh(pair.refresh.as_deref().unwrap()).unwrap();
    assert_eq!(before.validate(&rotated.access), Err(Error::BadSignature));
}

#[test]
fn rotating_asymmetric_keys_with_the_old_public_key() {
    let (old_private, old_public, _) = ed25519_keys();
    let (new_private, _, _) = ed25519_keys();
    let mut old = with_alg(old_private, "EdDSA");
    old.key_id = Some("ed-1".into());
    let mut new = with_alg(new_private, "EdDSA");
    new.key_id = Some("ed-2".into());
    new.verifying_keys.insert("ed-1".into(), old_public.into());
    let (before, after, _) = before_and_after(old, new);
    let pair = before.login("alice", None).unwrap();
    after.validate(&pair.access).unwrap();
    let rotated = after.refresh(pair.refresh.as_deref().unwrap()).unwrap();
    after.validate(&rotated.access).unwrap();
}

#[test]
fn a_retired_key_stops_verifying() {
    let mut old = config();
    old.key_id = Some("k1".into());
    let mut new = Config::with_secret(OTHER_SECRET);
    new.key_id = Some("k2".into());
    let (before, after, _) = before_and_after(old, new);
    let pair = before.login("alice", None).unwrap();
    assert_eq!(after.validate(&pair.access), Err(Error::UnknownKey));
}

#[test]
fn tokens_from_another_deployment_are_bad_signature() {
    for alg in ["HS256", "HS384", "HS512"] {
        let (a, _) = engine_at(with_alg(SECRET, alg));
        let (b, _) = engine_at(with_alg(OTHER_SECRET, alg));
        let pair = a.login("alice", None).unwrap();
        assert_eq!(b.validate(&pair.access), Err(Error::BadSignature), "{alg}");
    }
    let (a, _) = engine_at(with_alg(ed25519_keys().0, "EdDSA"));
    let (b, _) = engine_at(with_alg(ed25519_keys().0, "EdDSA"));
    let pair = a.login("alice", None).unwrap();
    assert_eq!(b.validate(&pair.access), Err(Error::BadSignature));
    let (a, _) = engine_at(with_alg(p256_keys().0, "ES256"));
    let (b, _) = engine_at(with_alg(p256_keys().0, "ES256"));
    let pair = a.login("alice", None).unwrap();
    assert_eq!(b.validate(&pair.access), Err(Error::BadSignature));
    let (a, _) = engine_at(with_alg(rsa_private_pem(), "RS256"));
    let (b, _) = engine_at(with_alg(read_data("rsa2048_other_private.pem"), "RS256"));
    let pair = a.login("alice", None).unwrap();
    assert_eq!(b.validate(&pair.access), Err(Error::BadSignature));
}

#[test]
fn cross_algorithm_tokens_are_refused() {
    // A token of one algorithm presented to an engine of another, same family or not.
    let (hs256, _) = engine_at(config());
    let (hs512, _) = engine_at(with_alg(SECRET, "HS512"));
    let (eddsa, _) = engine_at(with_alg(ed25519_keys().0, "EdDSA"));
    let (rs256, _) = engine_at(with_alg(rsa_private_pem(), "RS256"));
    let engines = [&hs256, &hs512, &eddsa, &rs256];
    for (i, issuer) in engines.iter().enumerate() {
        let token = issuer.login("alice", None).unwrap().access;
        for (j, other) in engines.iter().enumerate() {
            if i != j {
                assert_eq!(other.validate(&token), Err(Error::AlgorithmNotAllowed));
            }
        }
    }
}

#[test]
fn hmac_tokens_are_deterministic_and_ecdsa_ones_are_not() {
    // Re-minting the same claims gives the same bytes with HS*/EdDSA/RS256 — the property
    // the refresh grace window's byte-identical convergence stands on.
    for cfg in [
        config(),
        with_alg(ed25519_keys().0, "EdDSA"),
        with_alg(rsa_private_pem(), "RS256"),
    ] {
        let a = keyfob::internal::jws::sign(&cfg, b"a.b").unwrap();
        assert_eq!(a, keyfob::internal::jws::sign(&cfg, b"a.b").unwrap());
    }
    let es = with_alg(p256_keys().0, "ES256");
    assert_ne!(
        keyfob::internal::jws::sign(&es, b"a.b").unwrap(),
        keyfob::internal::jws::sign(&es, b"a.b").unwrap()
    );
}

#[test]
fn a_verifying_kid_equal_to_the_signing_key_id_is_a_config_error() {
    let mut cfg = config();
    cfg.key_id = Some("k1".into());
    cfg.verifying_keys
        .insert("k1".into(), keyfob::KeyMaterial::new(OTHER_SECRET));
    match Engine::new(cfg) {
        Err(Error::Config(m)) => assert!(m.contains("verifying_keys['k1']"), "{m}"),
        other => panic!("expected a config error, got {other:?}"),
    }
}
