//! The JWK Set: every algorithm's public keys as an independent verifier reads them
//! (jsonwebtoken builds its keys from the JWKs alone), the same parameters whatever encoding
//! a key came in, rotation (old keys stay published), and HMAC keys never published.

mod common;

use common::*;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use keyfob::{Config, Engine, Error, JwkParams};
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde_json::Value;

fn asymmetric(key: impl Into<String>, alg: &str, kid: &str) -> Config {
    let mut cfg = Config::with_secret(key);
    cfg.algorithm = alg.into();
    cfg.key_id = Some(kid.into());
    cfg
}

/// The set as a verifier elsewhere gets it: JSON text, parsed by jsonwebtoken.
fn published(engine: &Engine) -> JwkSet {
    serde_json::from_str(&engine.jwks().unwrap().to_json()).expect("a JWK Set jsonwebtoken reads")
}

/// Verify `token` as a gateway would: find the key by the token's `kid` in the set, build a
/// key from the JWK alone, check signature and expiry; returns the claims.
fn verify_elsewhere(set: &JwkSet, token: &str) -> Result<Value, String> {
    let header = decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid in the token's header")?;
    let jwk = set.find(&kid).ok_or(format!("no key '{kid}' in the set"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(header.alg);
    validation.validate_aud = false;
    decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

fn keys_for(alg: &str) -> (String, String) {
    match alg {
        "EdDSA" => {
            let (private, public, _) = ed25519_keys();
            (private, public)
        }
        "ES256" => {
            let (private, public, _) = p256_keys();
            (private, public)
        }
        "RS256" => (rsa_private_pem(), rsa_public_pem()),
        _ => unreachable!(),
    }
}

#[test]
fn every_asymmetric_algorithm_publishes_a_key_an_independent_verifier_accepts() {
    for (alg, kty) in [("EdDSA", "OKP"), ("ES256", "EC"), ("RS256", "RSA")] {
        let (private, _) = keys_for(alg);
        let engine = Engine::new(asymmetric(private, alg, "key-1")).unwrap();
        let json: Value = serde_json::from_str(&engine.jwks().unwrap().to_json()).unwrap();
        let keys = json["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1, "{alg}");
        assert_eq!(keys[0]["kty"], kty);
        assert_eq!(keys[0]["kid"], "key-1");
        assert_eq!(keys[0]["alg"], alg);
        assert_eq!(keys[0]["use"], "sig");
        // Public parameters only: no private member of any key type (RFC 7518 §6).
        for private_member in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                keys[0].get(private_member).is_none(),
                "{alg}: {private_member}"
            );
        }

        let pair = engine.login("alice", None).unwrap();
        let set = published(&engine);
        let claims = verify_elsewhere(&set, &pair.access).unwrap();
        assert_eq!(claims["user_id"], "alice", "{alg}");
        assert_eq!(claims["token_type"], "access");
        // A token altered after signing is refused by the same verifier.
        let mut forged = pair.access.clone();
        let dot = forged.find('.').unwrap();
        forged.replace_range(dot + 1..dot + 2, "X");
        assert!(verify_elsewhere(&set, &forged).is_err(), "{alg}");
    }
}

#[test]
fn another_keys_set_does_not_verify() {
    for alg in ["EdDSA", "ES256", "RS256"] {
        let (private, _) = keys_for(alg);
        let other_private = match alg {
            "RS256" => read_data("rsa2048_other_private.pem"),
            _ => keys_for(alg).0,
        };
        let signer = Engine::new(asymmetric(private, alg, "same-kid")).unwrap();
        let stranger = Engine::new(asymmetric(other_private, alg, "same-kid")).unwrap();
        let token = signer.login("alice", None).unwrap().access;
        assert!(
            verify_elsewhere(&published(&stranger), &token).is_err(),
            "{alg}"
        );
    }
}

#[test]
fn rotation_publishes_the_new_key_and_keeps_the_old_one() {
    for alg in ["EdDSA", "ES256", "RS256"] {
        let (old_private, old_public) = keys_for(alg);
        let new_private = match alg {
            "RS256" => read_data("rsa2048_other_private.pem"),
            _ => keys_for(alg).0,
        };
        let before = Engine::new(asymmetric(old_private, alg, "2024-01")).unwrap();
        let old_token = before.login("alice", None).unwrap().access;

        // The new key signs; the old one only verifies, listed by its public half.
        let mut cfg = asymmetric(new_private, alg, "2024-07");
        cfg.verifying_keys
            .insert("2024-01".into(), old_public.as_str().into());
        let after = Engine::new(cfg).unwrap();
        let new_token = after.login("bob", None).unwrap().access;

        let jwks = after.jwks().unwrap();
        let kids: Vec<&str> = jwks.keys().iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["2024-07", "2024-01"], "{alg}: the signing key first");
        // The old key's JWK is the one published before the rotation, byte for byte.
        assert_eq!(
            jwks.keys()[1].params,
            before.jwks().unwrap().keys()[0].params
        );

        let set = published(&after);
        assert_eq!(
            verify_elsewhere(&set, &old_token).unwrap()["user_id"],
            "alice"
        );
        assert_eq!(
            verify_elsewhere(&set, &new_token).unwrap()["user_id"],
            "bob"
        );
        // The set from before the rotation does not know the new key.
        let stale = published(&before);
        assert!(verify_elsewhere(&stale, &new_token)
            .unwrap_err()
            .contains("no key"));
    }
}

#[test]
fn every_encoding_of_a_key_gives_the_same_jwk() {
    let jwk_of = |key: String, alg: &str| -> JwkParams {
        // As a verifying key beside an unrelated signing key of the same algorithm.
        let (signing, _) = keys_for(alg);
        let mut cfg = asymmetric(signing, alg, "signing");
        cfg.verifying_keys
            .insert("probe".into(), key.as_str().into());
        let jwks = Engine::new(cfg).unwrap().jwks().unwrap();
        jwks.keys()[1].params.clone()
    };
    let rsa = [
        rsa_private_pem(),
        read_data("rsa2048_private_pkcs1.pem"),
        rsa_public_pem(),
        read_data("rsa2048_public_pkcs1.pem"),
    ]
    .map(|k| jwk_of(k, "RS256"));
    assert!(rsa.iter().all(|p| *p == rsa[0]), "{rsa:?}");

    let (ed_private, ed_public, _) = ed25519_keys();
    assert_eq!(jwk_of(ed_private, "EdDSA"), jwk_of(ed_public, "EdDSA"));
    let (ec_private, ec_public, _) = p256_keys();
    assert_eq!(jwk_of(ec_private, "ES256"), jwk_of(ec_public, "ES256"));
}

#[test]
fn the_parameters_are_the_keys_own() {
    // Ed25519: x is the raw public key.
    let (private, _, raw) = ed25519_keys();
    let jwks = Engine::new(asymmetric(private, "EdDSA", "k"))
        .unwrap()
        .jwks()
        .unwrap();
    assert_eq!(
        jwks.keys()[0].params,
        JwkParams::Okp {
            crv: "Ed25519",
            x: b64(&raw)
        }
    );

    // P-256: x and y are the halves of the point ring derives from the private key.
    let (private, _, pkcs8) = p256_keys();
    let point = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &pkcs8,
        &SystemRandom::new(),
    )
    .unwrap()
    .public_key()
    .as_ref()
    .to_vec();
    let jwks = Engine::new(asymmetric(private, "ES256", "k"))
        .unwrap()
        .jwks()
        .unwrap();
    assert_eq!(
        jwks.keys()[0].params,
        JwkParams::Ec {
            crv: "P-256",
            x: b64(&point[1..33]),
            y: b64(&point[33..])
        }
    );

    // RSA: n and e are the modulus and exponent ring reads from the private key.
    let pkcs8 = unpem(&rsa_private_pem());
    let kp = RsaKeyPair::from_pkcs8(&pkcs8).unwrap();
    let public: RsaPublicKeyComponents<Vec<u8>> = kp.public().into();
    let jwks = Engine::new(asymmetric(rsa_private_pem(), "RS256", "k"))
        .unwrap()
        .jwks()
        .unwrap();
    let JwkParams::Rsa { n, e } = &jwks.keys()[0].params else {
        panic!("an RSA key");
    };
    assert_eq!(*n, b64(&public.n));
    assert_eq!(*e, b64(&public.e));
    assert_eq!(e, "AQAB");
    assert_eq!(unb64(n).len(), 256, "no leading zero byte");
}

#[test]
fn hmac_keys_are_never_published() {
    for alg in ["HS256", "HS384", "HS512"] {
        let mut cfg = Config::with_secret(SECRET);
        cfg.algorithm = alg.into();
        cfg.key_id = Some("k".into());
        cfg.verifying_keys.insert("old".into(), OTHER_SECRET.into());
        let err = Engine::new(cfg).unwrap().jwks().unwrap_err();
        let Error::Config(message) = &err else {
            panic!("{alg}: {err:?}");
        };
        assert!(message.contains("never published"), "{message}");
        assert!(!message.contains(SECRET) && !message.contains(OTHER_SECRET));
    }
}

#[test]
fn a_signing_key_without_a_key_id_is_refused() {
    let (private, _) = keys_for("EdDSA");
    let mut cfg = Config::with_secret(private);
    cfg.algorithm = "EdDSA".into();
    let err = Engine::new(cfg).unwrap().jwks().unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("key_id")),
        "{err:?}"
    );
}

/// The DER inside one PEM block.
fn unpem(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}
