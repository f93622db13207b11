//! Interop both ways with an independent JWT implementation (jsonwebtoken 9): its tokens in
//! simplejwt's claim layout pass keyfob's signature and claim checks, and keyfob's tokens
//! decode there. These run on the wall clock, as jsonwebtoken checks `exp` against it.

mod common;

use common::*;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use keyfob::{Config, Engine, Error, SystemClock};
use serde_json::{json, Value};

fn now() -> i64 {
    use keyfob::Clock;
    SystemClock.now()
}

/// What simplejwt writes into an access or refresh token (user ids are integers there).
fn simplejwt_layout(token_type: &str, lifetime: i64) -> Value {
    json!({
        "token_type": token_type,
        "exp": now() + lifetime,
        "iat": now(),
        "jti": random_jti(),
        "user_id": 42,
    })
}

fn hs256(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn with(cfg: Config, accept_sessionless: bool) -> Engine {
    let mut cfg = cfg;
    cfg.accept_sessionless = accept_sessionless;
    Engine::new(cfg).unwrap()
}

#[test]
fn a_jsonwebtoken_hs256_token_is_accepted_when_sessionless_is() {
    let token = hs256(&simplejwt_layout("access", 300), SECRET);
    let engine = with(config(), true);
    let claims = engine.validate(&token).unwrap();
    assert_eq!(claims.user_id(), "42");
    assert_eq!(claims.sid(), None);
    assert_eq!(claims.token_type(), keyfob::TokenType::Access);
    engine.verify(&token).unwrap();
}

#[test]
fn a_jsonwebtoken_hs256_token_is_session_required_otherwise() {
    let token = hs256(&simplejwt_layout("access", 300), SECRET);
    let engine = with(config(), false);
    assert_eq!(engine.validate(&token), Err(Error::SessionRequired));
    let refresh = hs256(&simplejwt_layout("refresh", 86_400), SECRET);
    assert_eq!(engine.refresh(&refresh), Err(Error::SessionRequired));
}

#[test]
fn a_jsonwebtoken_refresh_token_upgrades_to_a_keyfob_session() {
    // simplejwt's default refresh lifetime is one day: keyfob is configured to match.
    let mut cfg = config();
    cfg.refresh_lifetime_s = 86_400;
    let engine = with(cfg, true);
    let refresh = hs256(&simplejwt_layout("refresh", 86_400), SECRET);
    let pair = engine.refresh(&refresh).unwrap();
    assert_eq!(
        engine.validate(&pair.access).unwrap().sid().unwrap(),
        pair.session_id
    );
    assert_eq!(engine.refresh(&refresh), Err(Error::Revoked));
}

#[test]
fn jsonwebtoken_tokens_fail_keyfob_checks_like_any_other() {
    let engine = with(config(), true);
    let wrong_key = hs256(&simplejwt_layout("access", 300), OTHER_SECRET);
    assert_eq!(engine.validate(&wrong_key), Err(Error::BadSignature));
    let hs512 = encode(
        &Header::new(Algorithm::HS512),
        &simplejwt_layout("access", 300),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_eq!(engine.validate(&hs512), Err(Error::AlgorithmNotAllowed));
    let expired = hs256(&simplejwt_layout("access", -1), SECRET);
    assert_eq!(engine.validate(&expired), Err(Error::Expired));
    let refresh = hs256(&simplejwt_layout("refresh", 300), SECRET);
    assert_eq!(engine.validate(&refresh), Err(Error::WrongType));
    let mut string_exp = simplejwt_layout("access", 300);
    string_exp["exp"] = json!((now() + 300).to_string());
    assert_eq!(
        engine.validate(hs256(&string_exp, SECRET)),
        Err(Error::InvalidClaim("exp".into()))
    );
}

/// Decode a keyfob token with jsonwebtoken and check the claims match what keyfob read.
fn decodes_in_jsonwebtoken(engine: &Engine, alg: Algorithm, key: &DecodingKey) {
    let pair = engine.login("alice", None).unwrap();
    for token in [&pair.access, pair.refresh.as_ref().unwrap()] {
        let mut validation = Validation::new(alg);
        validation.leeway = 0;
        let data = decode::<Value>(token, key, &validation)
            .unwrap_or_else(|e| panic!("{alg:?}: jsonwebtoken refused a keyfob token: {e}"));
        let ours = engine.verify(token).unwrap();
        let c = &data.claims;
        assert_eq!(c["user_id"], "alice");
        assert_eq!(c["sid"], pair.session_id.as_str());
        assert_eq!(c["token_type"], ours.token_type().as_str());
        assert_eq!(c["exp"], ours.exp());
        assert_eq!(c["jti"], ours.jti());
        assert_eq!(data.header.alg, alg);
    }
    // A keyfob sliding token too.
    let sliding = engine.login_sliding("alice", None).unwrap().token;
    let data = decode::<Value>(&sliding, key, &Validation::new(alg)).unwrap();
    assert_eq!(data.claims["token_type"], "sliding");
    assert!(data.claims["refresh_exp"].is_i64());
}

#[test]
fn keyfob_hmac_tokens_decode_in_jsonwebtoken() {
    for (name, alg) in [
        ("HS256", Algorithm::HS256),
        ("HS384", Algorithm::HS384),
        ("HS512", Algorithm::HS512),
    ] {
        let mut cfg = config();
        cfg.algorithm = name.into();
        let engine = Engine::new(cfg).unwrap();
        decodes_in_jsonwebtoken(&engine, alg, &DecodingKey::from_secret(SECRET.as_bytes()));
    }
}

#[test]
fn keyfob_kid_header_reaches_jsonwebtoken() {
    let mut cfg = config();
    cfg.key_id = Some("2024-01".into());
    let engine = Engine::new(cfg).unwrap();
    let token = engine.login("alice", None).unwrap().access;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some("2024-01"));
    assert_eq!(header.typ.as_deref(), Some("JWT"));
}

#[test]
fn keyfob_asymmetric_tokens_decode_in_jsonwebtoken() {
    let (ed_private, ed_public, _) = ed25519_keys();
    let (ec_private, ec_public, _) = p256_keys();
    let cases = [
        (
            "EdDSA",
            ed_private,
            Algorithm::EdDSA,
            DecodingKey::from_ed_pem(ed_public.as_bytes()).unwrap(),
        ),
        (
            "ES256",
            ec_private,
            Algorithm::ES256,
            DecodingKey::from_ec_pem(ec_public.as_bytes()).unwrap(),
        ),
        (
            "RS256",
            rsa_private_pem(),
            Algorithm::RS256,
            DecodingKey::from_rsa_pem(rsa_public_pem().as_bytes()).unwrap(),
        ),
    ];
    for (name, private, alg, key) in cases {
        let mut cfg = Config::with_secret(private);
        cfg.algorithm = name.into();
        decodes_in_jsonwebtoken(&Engine::new(cfg).unwrap(), alg, &key);
    }
}

#[test]
fn jsonwebtoken_asymmetric_tokens_pass_keyfob() {
    let (ed_private, _, _) = ed25519_keys();
    let (ec_private, _, _) = p256_keys();
    let cases = [
        (
            "EdDSA",
            ed_private.clone(),
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(ed_private.as_bytes()).unwrap(),
        ),
        (
            "ES256",
            ec_private.clone(),
            Algorithm::ES256,
            EncodingKey::from_ec_pem(ec_private.as_bytes()).unwrap(),
        ),
        (
            "RS256",
            rsa_private_pem(),
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(rsa_private_pem().as_bytes()).unwrap(),
        ),
    ];
    for (name, private, alg, key) in cases {
        let mut cfg = Config::with_secret(private);
        cfg.algorithm = name.into();
        let engine = with(cfg, true);
        let token = encode(&Header::new(alg), &simplejwt_layout("access", 300), &key).unwrap();
        assert_eq!(engine.validate(&token).unwrap().user_id(), "42", "{name}");
    }
}
