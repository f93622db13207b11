//! Helpers shared by the integration tests: engines on a manual clock, hand-built
//! tokens (so every malformed or hostile shape can be produced), and generated keys.
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use keyfob::store::MemoryStore;
use keyfob::{Config, Engine, ManualClock};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

/// The HMAC secret most tests use (≥ 32 bytes).
pub const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";
/// A second secret, for rotation and wrong-key tests.
pub const OTHER_SECRET: &str = "another-test-secret-of-32-bytes-or-more!!";
/// Where every manual clock starts (2023-11-14T22:13:20Z).
pub const T0: i64 = 1_700_000_000;

pub fn config() -> Config {
    Config::with_secret(SECRET)
}

/// An engine on a manual clock standing at [`T0`].
pub fn engine_at(cfg: Config) -> (Engine, ManualClock) {
    let clock = ManualClock::new(T0);
    let engine = Engine::builder(cfg)
        .clock(clock.clone())
        .build()
        .expect("valid config");
    (engine, clock)
}

/// An engine on a manual clock whose store the test can inspect.
pub fn engine_with_store(cfg: Config) -> (Engine, ManualClock, Arc<MemoryStore>) {
    let clock = ManualClock::new(T0);
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::builder(cfg)
        .clock(clock.clone())
        .store(store.clone())
        .build()
        .expect("valid config");
    (engine, clock, store)
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(segment: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(segment).expect("base64url segment")
}

/// The three segments of a compact token.
pub fn segments(token: &str) -> [&str; 3] {
    let v: Vec<&str> = token.split('.').collect();
    assert_eq!(v.len(), 3, "not a compact JWS: {token}");
    [v[0], v[1], v[2]]
}

pub fn header_of(token: &str) -> Value {
    serde_json::from_slice(&unb64(segments(token)[0])).expect("header JSON")
}

pub fn payload_of(token: &str) -> Value {
    serde_json::from_slice(&unb64(segments(token)[1])).expect("payload JSON")
}

/// HMAC-sign `header_segment.payload_segment` (segments taken verbatim, so they may be
/// deliberately broken) with `secret`, as an attacker who knows the key — or a peer
/// issuer sharing it — would.
pub fn hmac_sign_segments(
    alg: hmac::Algorithm,
    secret: &[u8],
    header_segment: &str,
    payload_segment: &str,
) -> String {
    let input = format!("{header_segment}.{payload_segment}");
    let sig = hmac::sign(&hmac::Key::new(alg, secret), input.as_bytes());
    format!("{input}.{}", b64(sig.as_ref()))
}

/// An HS256 token over arbitrary header and payload JSON text, signed with [`SECRET`].
pub fn forge_raw(header: &str, payload: &str) -> String {
    hmac_sign_segments(
        hmac::HMAC_SHA256,
        SECRET.as_bytes(),
        &b64(header.as_bytes()),
        &b64(payload.as_bytes()),
    )
}

/// An HS256 token with the standard header over `claims`, signed with [`SECRET`].
pub fn forge(claims: &Value) -> String {
    forge_raw(r#"{"alg":"HS256","typ":"JWT"}"#, &claims.to_string())
}

/// 32 lowercase hex digits from the OS random source, as a jti.
pub fn random_jti() -> String {
    let mut b = [0u8; 16];
    SystemRandom::new().fill(&mut b).expect("random");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// simplejwt's claim layout for a sessionless token issued at `iat`.
pub fn simplejwt_claims(token_type: &str, user_id: Value, iat: i64, lifetime: i64) -> Value {
    json!({
        "token_type": token_type,
        "exp": iat + lifetime,
        "iat": iat,
        "jti": random_jti(),
        "user_id": user_id,
    })
}

/// Base64 at 64 columns between PEM armour lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A fresh Ed25519 key: (PKCS#8 private PEM, SPKI public PEM, raw public key).
pub fn ed25519_keys() -> (String, String, Vec<u8>) {
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("keygen");
    let kp = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("parse");
    let public = kp.public_key().as_ref().to_vec();
    // SubjectPublicKeyInfo for id-Ed25519 (RFC 8410): fixed 12-byte prefix + key.
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(&public);
    (
        pem("PRIVATE KEY", pkcs8.as_ref()),
        pem("PUBLIC KEY", &spki),
        public,
    )
}

/// A fresh P-256 key: (PKCS#8 private PEM, SPKI public PEM, PKCS#8 DER).
pub fn p256_keys() -> (String, String, Vec<u8>) {
    let rng = SystemRandom::new();
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("keygen");
    let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .expect("parse");
    // SubjectPublicKeyInfo for id-ecPublicKey / prime256v1: fixed 26-byte prefix + point.
    let mut spki = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    spki.extend_from_slice(kp.public_key().as_ref());
    (
        pem("PRIVATE KEY", pkcs8.as_ref()),
        pem("PUBLIC KEY", &spki),
        pkcs8.as_ref().to_vec(),
    )
}

/// The fixed RSA-2048 test keys under tests/data (made once with `openssl genpkey`).
pub fn rsa_private_pem() -> String {
    read_data("rsa2048_private.pem")
}

pub fn rsa_public_pem() -> String {
    read_data("rsa2048_public.pem")
}

pub fn read_data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
