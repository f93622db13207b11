//! Every hostile or broken token shape, each answered by its exact error,
//! plus the RFC 7515 A.1 (HS256) and RFC 8037 A (Ed25519) test vectors.

mod common;

use std::sync::Arc;

use common::*;
use keyfob::{Algorithm, Config, Engine, Error, ManualClock};
use ring::hmac;
use serde_json::{json, Value};

/// A logged-in session, so claim-level tests fail on the claim and nothing else.
struct Fixture {
    engine: Engine,
    clock: ManualClock,
    sid: String,
    access: String,
    refresh: String,
}

fn fixture(cfg: Config) -> Fixture {
    let (engine, clock) = engine_at(cfg);
    let pair = engine.login("alice", None).unwrap();
    Fixture {
        sid: pair.session_id.clone(),
        access: pair.access,
        refresh: pair.refresh.unwrap(),
        engine,
        clock,
    }
}

/// Valid access-token claims bound to `sid`.
fn access_claims(sid: &str) -> Value {
    json!({
        "token_type": "access",
        "exp": T0 + 300,
        "iat": T0,
        "jti": random_jti(),
        "user_id": "alice",
        "sid": sid,
    })
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

#[test]
fn forged_token_with_the_key_and_valid_claims_is_accepted() {
    // The baseline every rejection below differs from by one thing.
    let f = fixture(config());
    let claims = f.engine.validate(forge(&access_claims(&f.sid))).unwrap();
    assert_eq!(claims.user_id(), "alice");
}

// ---- the header ----

#[test]
fn alg_none_is_algorithm_not_allowed() {
    let f = fixture(config());
    let payload = b64(access_claims(&f.sid).to_string().as_bytes());
    for alg in ["none", "None", "NONE"] {
        let header = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
        // The classic unsecured JWS has an empty signature; a junk one must fare no better.
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}.c2ln"),
        ] {
            assert_eq!(
                f.engine.validate(&token),
                Err(Error::AlgorithmNotAllowed),
                "{token}"
            );
            assert_eq!(f.engine.verify(&token), Err(Error::AlgorithmNotAllowed));
        }
    }
}

#[test]
fn hs256_signed_with_the_rs256_public_key_is_algorithm_not_allowed() {
    let mut cfg = Config::with_secret(rsa_private_pem());
    cfg.algorithm = "RS256".into();
    let f = fixture(cfg);
    // The attacker knows the public key and uses its PEM text as an HMAC secret.
    let token = hmac_sign_segments(
        hmac::HMAC_SHA256,
        rsa_public_pem().as_bytes(),
        &b64(br#"{"alg":"HS256","typ":"JWT"}"#),
        &b64(access_claims(&f.sid).to_string().as_bytes()),
    );
    assert_eq!(f.engine.validate(&token), Err(Error::AlgorithmNotAllowed));
    assert_eq!(f.engine.verify(&token), Err(Error::AlgorithmNotAllowed));
    // The engine's own RS256 tokens of course pass.
    f.engine.validate(&f.access).unwrap();
}

#[test]
fn another_hmac_algorithm_than_configured_is_algorithm_not_allowed() {
    let f = fixture(config());
    let token = hmac_sign_segments(
        hmac::HMAC_SHA512,
        SECRET.as_bytes(),
        &b64(br#"{"alg":"HS512","typ":"JWT"}"#),
        &b64(access_claims(&f.sid).to_string().as_bytes()),
    );
    assert_eq!(f.engine.validate(&token), Err(Error::AlgorithmNotAllowed));
    let lower = forge_raw(
        r#"{"alg":"hs256","typ":"JWT"}"#,
        &access_claims(&f.sid).to_string(),
    );
    assert_eq!(f.engine.validate(&lower), Err(Error::AlgorithmNotAllowed));
}

#[test]
fn header_without_alg_is_malformed() {
    let f = fixture(config());
    let token = forge_raw(r#"{"typ":"JWT"}"#, &access_claims(&f.sid).to_string());
    assert_eq!(
        f.engine.validate(&token),
        Err(Error::Malformed("header has no alg"))
    );
}

#[test]
fn unknown_kid_is_unknown_key() {
    let mut cfg = config();
    cfg.key_id = Some("k1".into());
    cfg.verifying_keys.insert("k0".into(), OTHER_SECRET.into());
    let f = fixture(cfg);
    assert_eq!(header_of(&f.access)["kid"], "k1");
    let token = forge_raw(
        r#"{"alg":"HS256","typ":"JWT","kid":"k9"}"#,
        &access_claims(&f.sid).to_string(),
    );
    assert_eq!(f.engine.validate(&token), Err(Error::UnknownKey));
    // Known kids pass: the signing key's and a verifying key's (signed with that key).
    let token = forge_raw(
        r#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#,
        &access_claims(&f.sid).to_string(),
    );
    f.engine.validate(&token).unwrap();
    let old = hmac_sign_segments(
        hmac::HMAC_SHA256,
        OTHER_SECRET.as_bytes(),
        &b64(br#"{"alg":"HS256","typ":"JWT","kid":"k0"}"#),
        &b64(access_claims(&f.sid).to_string().as_bytes()),
    );
    f.engine.validate(&old).unwrap();
}

#[test]
fn kid_of_one_key_signed_by_another_is_bad_signature() {
    let mut cfg = config();
    cfg.key_id = Some("k1".into());
    cfg.verifying_keys.insert("k0".into(), OTHER_SECRET.into());
    let f = fixture(cfg);
    // Signed with the k1 secret but claiming k0: the kid selects, it does not widen.
    let token = forge_raw(
        r#"{"alg":"HS256","typ":"JWT","kid":"k0"}"#,
        &access_claims(&f.sid).to_string(),
    );
    assert_eq!(f.engine.validate(&token), Err(Error::BadSignature));
}

#[test]
fn crit_header_is_rejected_as_malformed() {
    let f = fixture(config());
    let token = forge_raw(
        r#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#,
        &access_claims(&f.sid).to_string(),
    );
    assert_eq!(
        f.engine.validate(&token),
        Err(Error::Malformed("crit header parameters are not supported"))
    );
    let null = forge_raw(
        r#"{"alg":"HS256","crit":null}"#,
        &access_claims(&f.sid).to_string(),
    );
    assert_eq!(
        f.engine.validate(&null),
        Err(Error::Malformed("crit header parameters are not supported"))
    );
    let empty = forge_raw(
        r#"{"alg":"HS256","crit":[]}"#,
        &access_claims(&f.sid).to_string(),
    );
    assert_eq!(
        f.engine.validate(&empty),
        Err(Error::Malformed("crit header parameters are not supported"))
    );
}

#[test]
fn key_bearing_headers_are_never_trusted() {
    let f = fixture(config());
    // The attacker's own key, offered inline and by URL: the signature still has to be ours.
    let header = r#"{"alg":"HS256","typ":"JWT","jwk":{"kty":"oct","k":"YXR0YWNrZXI"},"jku":"https://evil.example/jwks","x5u":"https://evil.example/cert"}"#;
    let token = hmac_sign_segments(
        hmac::HMAC_SHA256,
        b"attacker",
        &b64(header.as_bytes()),
        &b64(access_claims(&f.sid).to_string().as_bytes()),
    );
    assert_eq!(f.engine.validate(&token), Err(Error::BadSignature));
}

// ---- tampering ----

#[test]
fn tampered_header_is_bad_signature() {
    let f = fixture(config());
    let [_, p, s] = segments(&f.access);
    for header in [
        r#"{"alg":"HS256","typ":"JWT","x":1}"#,
        r#"{"alg":"HS256"}"#,
        r#"{"typ":"JWT","alg":"HS256"}"#,
    ] {
        let token = format!("{}.{p}.{s}", b64(header.as_bytes()));
        assert_eq!(
            f.engine.validate(&token),
            Err(Error::BadSignature),
            "{header}"
        );
    }
}

#[test]
fn tampered_payload_is_bad_signature() {
    let f = fixture(config());
    let [h, _, s] = segments(&f.access);
    let mut claims = payload_of(&f.access);
    for (name, value) in [
        ("user_id", json!("mallory")),
        ("exp", json!(T0 + 999_999)),
        ("token_type", json!("refresh")),
    ] {
        let original = claims[name].clone();
        claims[name] = value;
        let token = format!("{h}.{}.{s}", b64(claims.to_string().as_bytes()));
        assert_eq!(
            f.engine.validate(&token),
            Err(Error::BadSignature),
            "{name}"
        );
        claims[name] = original;
    }
}

#[test]
fn tampered_signature_is_bad_signature() {
    let f = fixture(config());
    let [h, p, s] = segments(&f.access);
    let sig = unb64(s);
    for i in [0, sig.len() / 2, sig.len() - 1] {
        let mut bad = sig.clone();
        bad[i] ^= 0x01;
        let token = format!("{h}.{p}.{}", b64(&bad));
        assert_eq!(f.engine.validate(&token), Err(Error::BadSignature));
    }
    let short = format!("{h}.{p}.{}", b64(&sig[..16]));
    assert_eq!(f.engine.validate(&short), Err(Error::BadSignature));
    let signed_elsewhere = hmac_sign_segments(hmac::HMAC_SHA256, OTHER_SECRET.as_bytes(), h, p);
    assert_eq!(
        f.engine.validate(&signed_elsewhere),
        Err(Error::BadSignature)
    );
}

// ---- encoding ----

#[test]
fn bad_base64_is_malformed() {
    let f = fixture(config());
    let [h, p, s] = segments(&f.access);
    for sig in [format!("{s}!"), format!("{s}="), s.replace(['-', '_'], "+")] {
        if sig == s {
            continue;
        }
        let token = format!("{h}.{p}.{sig}");
        assert_eq!(
            f.engine.validate(&token),
            Err(Error::Malformed("signature is not base64url")),
            "{sig}"
        );
    }
    let token = format!("*{h}.{p}.{s}");
    assert_eq!(
        f.engine.validate(&token),
        Err(Error::Malformed("header is not base64url"))
    );
    // A payload segment that is not base64url but correctly signed over its raw text.
    let token = hmac_sign_segments(hmac::HMAC_SHA256, SECRET.as_bytes(), h, "e30*");
    assert_eq!(
        f.engine.validate(&token),
        Err(Error::Malformed("payload is not base64url"))
    );
}

#[test]
fn non_canonical_base64_signature_is_rejected() {
    // HS256 signatures are 32 bytes = 43 base64url chars with 2 unused bits in the last one;
    // setting them must not yield a second spelling of the same valid token.
    let f = fixture(config());
    let [h, p, s] = segments(&f.access);
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = s.as_bytes()[s.len() - 1];
    let idx = alphabet.iter().position(|&c| c == last).unwrap();
    for low_bits in 1..4 {
        let variant = alphabet[(idx & !3) | low_bits] as char;
        let token = format!("{h}.{p}.{}{variant}", &s[..s.len() - 1]);
        if variant as u8 == last {
            continue;
        }
        assert!(f.engine.validate(&token).is_err(), "{token}");
    }
}

#[test]
fn non_json_is_malformed() {
    let f = fixture(config());
    let claims = access_claims(&f.sid).to_string();
    assert_eq!(
        f.engine.validate(forge_raw("not json", &claims)),
        Err(Error::Malformed("header is not a JSON object"))
    );
    assert_eq!(
        f.engine.validate(forge_raw(r#"["alg","HS256"]"#, &claims)),
        Err(Error::Malformed("header is not a JSON object"))
    );
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    for payload in ["not json", "[1,2]", "\"a string\"", "{\"exp\":", ""] {
        let token = forge_raw(header, payload);
        let err = f.engine.validate(&token).unwrap_err();
        assert!(matches!(err, Error::Malformed(_)), "{payload:?}: {err:?}");
    }
    let trailing = forge_raw(header, &format!("{claims} {{}}"));
    assert_eq!(
        f.engine.validate(&trailing),
        Err(Error::Malformed("trailing data after payload"))
    );
    let bytes = hmac_sign_segments(
        hmac::HMAC_SHA256,
        SECRET.as_bytes(),
        &b64(header.as_bytes()),
        &b64(b"{\"token_type\":\"\xff\xfe\"}"),
    );
    assert_eq!(
        f.engine.validate(&bytes),
        Err(Error::Malformed("payload is not UTF-8"))
    );
}

#[test]
fn wrong_segment_count_is_malformed() {
    let f = fixture(config());
    let [h, p, s] = segments(&f.access);
    for token in [
        String::new(),
        h.to_string(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}."),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        "..".to_string(),
    ] {
        let err = f.engine.validate(&token).unwrap_err();
        assert!(matches!(err, Error::Malformed(_)), "{token:?}: {err:?}");
    }
}

#[test]
fn duplicate_claims_are_malformed() {
    let f = fixture(config());
    let claims = access_claims(&f.sid).to_string();
    // Two user_id members: which one a reader picks must never be a question.
    let dup = format!("{},\"user_id\":\"mallory\"}}", &claims[..claims.len() - 1]);
    assert_eq!(
        f.engine
            .validate(forge_raw(r#"{"alg":"HS256","typ":"JWT"}"#, &dup)),
        Err(Error::Malformed("duplicate claim"))
    );
}

#[test]
fn oversized_token_is_malformed_at_exactly_max_token_bytes_plus_one() {
    let clock = ManualClock::new(T0);
    let store = Arc::new(keyfob::store::MemoryStore::new());
    let issuer = Engine::builder(config())
        .clock(clock.clone())
        .store(store.clone())
        .build()
        .unwrap();
    let pair = issuer.login("alice", None).unwrap();
    let len = pair.access.len();
    let limited = |max: usize| {
        let mut cfg = config();
        cfg.max_token_bytes = max;
        Engine::builder(cfg)
            .clock(clock.clone())
            .store(store.clone())
            .build()
            .unwrap()
    };
    limited(len).validate(&pair.access).unwrap();
    assert_eq!(
        limited(len - 1).validate(&pair.access),
        Err(Error::Malformed("token is larger than max_token_bytes"))
    );
    // A megabyte of junk is refused before anything is decoded.
    let huge = "a".repeat(1 << 20);
    assert_eq!(
        issuer.validate(&huge),
        Err(Error::Malformed("token is larger than max_token_bytes"))
    );
    assert_eq!(
        issuer.refresh(&huge),
        Err(Error::Malformed("token is larger than max_token_bytes"))
    );
}

#[test]
fn minting_over_max_token_bytes_is_an_invalid_argument() {
    let (engine, _) = engine_at(config());
    let mut extra = serde_json::Map::new();
    extra.insert("blob".into(), json!("x".repeat(10_000)));
    let err = engine.login("alice", Some(&extra)).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert_eq!(engine.stats().unwrap().sessions, 0, "no half-made session");
}

// ---- claims ----

#[test]
fn exp_as_string_is_invalid_claim() {
    let f = fixture(config());
    let claims = with(access_claims(&f.sid), "exp", json!((T0 + 300).to_string()));
    assert_eq!(
        f.engine.validate(forge(&claims)),
        Err(Error::InvalidClaim("exp".into()))
    );
    for bad in [json!(null), json!(true), json!([T0 + 300]), json!({"t": 1})] {
        let claims = with(access_claims(&f.sid), "exp", bad);
        assert_eq!(
            f.engine.validate(forge(&claims)),
            Err(Error::InvalidClaim("exp".into()))
        );
    }
}

#[test]
fn a_claim_reads_the_same_with_or_without_whitespace() {
    // keyfob's compact payloads take a fast scanner, anything else serde_json: the answer
    // must not depend on which. `-0` is the float -0.0 to JSON parsers, not the integer 0.
    let f = fixture(config());
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let claims = access_claims(&f.sid).to_string();
    for payload in [
        claims.replace(r#""user_id":"alice""#, r#""user_id":-0"#),
        claims.replace(r#""user_id":"alice""#, r#""user_id": -0"#),
    ] {
        assert!(payload.contains("-0"), "{payload}");
        assert_eq!(
            f.engine.validate(forge_raw(header, &payload)),
            Err(Error::InvalidClaim("user_id".into())),
            "{payload}"
        );
    }
    let compact = f.engine.validate(forge_raw(header, &claims)).unwrap();
    let spaced = f
        .engine
        .validate(forge_raw(header, &claims.replace(',', ", ")))
        .unwrap();
    assert_eq!(
        (
            compact.user_id(),
            compact.jti(),
            compact.sid(),
            compact.exp()
        ),
        (spaced.user_id(), spaced.jti(), spaced.sid(), spaced.exp())
    );
}

#[test]
fn numeric_date_fractions_are_whole_seconds() {
    let f = fixture(config());
    let claims = with(access_claims(&f.sid), "exp", json!(T0 as f64 + 0.9));
    // Floor: exp = T0 = now, so the token is already expired.
    assert_eq!(f.engine.validate(forge(&claims)), Err(Error::Expired));
    let claims = with(access_claims(&f.sid), "exp", json!(T0 as f64 + 1.5));
    assert_eq!(f.engine.validate(forge(&claims)).unwrap().exp(), T0 + 1);
}

#[test]
fn missing_exp_jti_or_type_is_missing_claim() {
    let f = fixture(config());
    for name in ["exp", "jti", "token_type", "user_id"] {
        let claims = without(access_claims(&f.sid), name);
        assert_eq!(
            f.engine.validate(forge(&claims)),
            Err(Error::MissingClaim(name.into())),
            "{name}"
        );
    }
}

#[test]
fn configured_claim_names_are_the_ones_required() {
    let mut cfg = config();
    cfg.token_type_claim = "typ".into();
    cfg.jti_claim = "token_id".into();
    cfg.user_id_claim = "uid".into();
    let f = fixture(cfg);
    let payload = payload_of(&f.access);
    assert_eq!(payload["typ"], "access");
    assert_eq!(payload["uid"], "alice");
    assert!(payload["token_id"].is_string());
    f.engine.validate(&f.access).unwrap();
    let claims = access_claims(&f.sid); // written with the default names
    assert_eq!(
        f.engine.validate(forge(&claims)),
        Err(Error::MissingClaim("typ".into()))
    );
}

#[test]
fn wrong_token_type_is_wrong_type() {
    let f = fixture(config());
    assert_eq!(f.engine.validate(&f.refresh), Err(Error::WrongType));
    assert_eq!(f.engine.refresh(&f.access), Err(Error::WrongType));
    assert_eq!(f.engine.refresh_sliding(&f.access), Err(Error::WrongType));
    assert_eq!(f.engine.validate_sliding(&f.access), Err(Error::WrongType));
    let sliding = f.engine.login_sliding("alice", None).unwrap().token;
    assert_eq!(f.engine.validate(&sliding), Err(Error::WrongType));
    assert_eq!(f.engine.refresh(&sliding), Err(Error::WrongType));
    // verify takes any type.
    f.engine.verify(&f.refresh).unwrap();
    f.engine.verify(&sliding).unwrap();
}

#[test]
fn unknown_token_type_value_is_invalid_claim() {
    let f = fixture(config());
    for bad in [json!("bogus"), json!("Access"), json!(1), json!(null)] {
        let claims = with(access_claims(&f.sid), "token_type", bad);
        assert_eq!(
            f.engine.validate(forge(&claims)),
            Err(Error::InvalidClaim("token_type".into()))
        );
    }
}

#[test]
fn malformed_sid_or_jti_is_invalid_claim() {
    let f = fixture(config());
    for sid in ["ABC", "not-hex", "0123456789ABCDEF0123456789ABCDEF"] {
        let claims = with(access_claims(&f.sid), "sid", json!(sid));
        assert_eq!(
            f.engine.validate(forge(&claims)),
            Err(Error::InvalidClaim("sid".into()))
        );
    }
    let claims = with(access_claims(&f.sid), "sid", json!(7));
    assert_eq!(
        f.engine.validate(forge(&claims)),
        Err(Error::InvalidClaim("sid".into()))
    );
    let claims = with(access_claims(&f.sid), "jti", json!(""));
    assert_eq!(
        f.engine.validate(forge(&claims)),
        Err(Error::InvalidClaim("jti".into()))
    );
    // A well-formed sid the store never issued.
    let claims = with(access_claims(&f.sid), "sid", json!(random_jti()));
    assert_eq!(
        f.engine.validate(forge(&claims)),
        Err(Error::SessionUnknown)
    );
}

#[test]
fn iss_mismatch_is_invalid_claim() {
    let mut cfg = config();
    cfg.issuer = Some("https://auth.example".into());
    let f = fixture(cfg);
    assert_eq!(payload_of(&f.access)["iss"], "https://auth.example");
    f.engine.validate(&f.access).unwrap();
    let base = access_claims(&f.sid);
    assert_eq!(
        f.engine.validate(forge(&with(
            base.clone(),
            "iss",
            json!("https://evil.example")
        ))),
        Err(Error::InvalidClaim("iss".into()))
    );
    assert_eq!(
        f.engine
            .validate(forge(&with(base.clone(), "iss", json!(1)))),
        Err(Error::InvalidClaim("iss".into()))
    );
    assert_eq!(
        f.engine.validate(forge(&base)),
        Err(Error::MissingClaim("iss".into()))
    );
}

#[test]
fn aud_mismatch_is_invalid_claim() {
    let mut cfg = config();
    cfg.audience = Some("api".into());
    let f = fixture(cfg);
    assert_eq!(payload_of(&f.access)["aud"], "api");
    f.engine.validate(&f.access).unwrap();
    let base = access_claims(&f.sid);
    for bad in [
        json!("other"),
        json!(["other", "more"]),
        json!([]),
        json!(5),
    ] {
        let got = f
            .engine
            .validate(forge(&with(base.clone(), "aud", bad.clone())));
        let want = if bad == json!([]) {
            Error::MissingClaim("aud".into())
        } else {
            Error::InvalidClaim("aud".into())
        };
        assert_eq!(got, Err(want), "{bad}");
    }
    assert_eq!(
        f.engine.validate(forge(&base)),
        Err(Error::MissingClaim("aud".into()))
    );
    // One matching audience among several is enough.
    let ok = with(base, "aud", json!(["other", "api"]));
    assert_eq!(
        f.engine.validate(forge(&ok)).unwrap().aud(),
        ["other", "api"]
    );
}

#[test]
fn nbf_and_iat_in_the_future_beyond_leeway_are_not_yet_valid() {
    let mut cfg = config();
    cfg.leeway_s = 30;
    let f = fixture(cfg);
    for name in ["nbf", "iat"] {
        let at_edge = with(access_claims(&f.sid), name, json!(T0 + 30));
        f.engine.validate(forge(&at_edge)).unwrap();
        let beyond = with(access_claims(&f.sid), name, json!(T0 + 31));
        assert_eq!(
            f.engine.validate(forge(&beyond)),
            Err(Error::NotYetValid),
            "{name}"
        );
        let as_string = with(access_claims(&f.sid), name, json!("0"));
        assert_eq!(
            f.engine.validate(forge(&as_string)),
            Err(Error::InvalidClaim(name.into()))
        );
    }
    // Time catches up with the token.
    let later = with(access_claims(&f.sid), "nbf", json!(T0 + 60));
    let token = forge(&later);
    assert_eq!(f.engine.validate(&token), Err(Error::NotYetValid));
    f.clock.advance(30);
    f.engine.validate(&token).unwrap();
}

#[test]
fn nbf_and_iat_without_leeway_are_exact() {
    let f = fixture(config());
    for name in ["nbf", "iat"] {
        f.engine
            .validate(forge(&with(access_claims(&f.sid), name, json!(T0))))
            .unwrap();
        assert_eq!(
            f.engine
                .validate(forge(&with(access_claims(&f.sid), name, json!(T0 + 1)))),
            Err(Error::NotYetValid)
        );
    }
}

#[test]
fn extra_claims_cannot_overwrite_reserved_ones() {
    let (engine, _) = engine_at(config());
    for name in [
        "exp",
        "iat",
        "nbf",
        "sid",
        "refresh_exp",
        "iss",
        "aud",
        "jti",
        "user_id",
        "token_type",
        "cnf", // only a DPoP login may claim a key binding
    ] {
        let mut extra = serde_json::Map::new();
        extra.insert(name.into(), json!("x"));
        let err = engine.login("alice", Some(&extra)).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{name}: {err:?}");
    }
    let mut extra = serde_json::Map::new();
    extra.insert("role".into(), json!("admin"));
    let pair = engine.login("alice", Some(&extra)).unwrap();
    assert_eq!(
        engine.validate(&pair.access).unwrap().extra()["role"],
        "admin"
    );
}

// ---- RFC test vectors ----

/// RFC 7515 appendix A.1: HS256 over a payload that is not keyfob claims, with a binary key.
const RFC7515_A1_TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC7515_A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

#[test]
fn rfc7515_a1_hs256_vector_verifies() {
    let key = unb64(RFC7515_A1_KEY);
    let payload =
        keyfob::internal::jws::verify_hmac(Algorithm::HS256, &key, RFC7515_A1_TOKEN).unwrap();
    assert_eq!(
        payload,
        b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"
    );
    // One bit of the key or the token off, and it does not.
    let mut wrong_key = key.clone();
    wrong_key[0] ^= 1;
    assert_eq!(
        keyfob::internal::jws::verify_hmac(Algorithm::HS256, &wrong_key, RFC7515_A1_TOKEN),
        Err(Error::BadSignature)
    );
    let tampered = RFC7515_A1_TOKEN.replace("eyJpc3Mi", "eyJpc3Ni");
    assert_eq!(
        keyfob::internal::jws::verify_hmac(Algorithm::HS256, &key, &tampered),
        Err(Error::BadSignature)
    );
}

#[test]
fn rfc7515_a1_through_the_engine_fails_on_claims_not_on_the_signature() {
    // Config keys are text, so the RFC's binary key cannot be an engine key; a UTF-8 key
    // re-signing the same header and payload shows the engine's verdict comes from claims.
    let [h, p, _] = segments(RFC7515_A1_TOKEN);
    let token = hmac_sign_segments(hmac::HMAC_SHA256, SECRET.as_bytes(), h, p);
    let (engine, _) = engine_at(config());
    assert_eq!(
        engine.verify(&token),
        Err(Error::MissingClaim("token_type".into()))
    );
}

/// RFC 8037 appendix A: the Ed25519 key (A.1) and the signed "Example of Ed25519 signing" (A.4).
const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const RFC8037_SIGNING_INPUT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const RFC8037_SIGNATURE: &str =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

fn rfc8037_config() -> Config {
    // PKCS#8 v1 wrapping of a bare Ed25519 seed (RFC 8410): fixed 16-byte prefix + seed.
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&unb64(RFC8037_D));
    let mut cfg = Config::with_secret(pem("PRIVATE KEY", &der));
    cfg.algorithm = "EdDSA".into();
    cfg
}

#[test]
fn rfc8037_a_ed25519_signature_is_exact() {
    let sig =
        keyfob::internal::jws::sign(&rfc8037_config(), RFC8037_SIGNING_INPUT.as_bytes()).unwrap();
    assert_eq!(b64(&sig), RFC8037_SIGNATURE);
}

#[test]
fn rfc8037_a_ed25519_vector_verifies() {
    let token = format!("{RFC8037_SIGNING_INPUT}.{RFC8037_SIGNATURE}");
    let payload = keyfob::internal::jws::verify(&rfc8037_config(), &token).unwrap();
    assert_eq!(payload, b"Example of Ed25519 signing");

    // The RFC's public key alone (as a verifying key beside an unrelated signing key).
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(&unb64(RFC8037_X));
    let (other_private, _, _) = ed25519_keys();
    let mut cfg = Config::with_secret(other_private);
    cfg.algorithm = "EdDSA".into();
    cfg.verifying_keys
        .insert("rfc8037".into(), pem("PUBLIC KEY", &spki).into());
    assert_eq!(
        keyfob::internal::jws::verify(&cfg, &token).unwrap(),
        b"Example of Ed25519 signing"
    );

    let mut sig = unb64(RFC8037_SIGNATURE);
    sig[10] ^= 0x80;
    let forged = format!("{RFC8037_SIGNING_INPUT}.{}", b64(&sig));
    assert_eq!(
        keyfob::internal::jws::verify(&rfc8037_config(), &forged),
        Err(Error::BadSignature)
    );
}

#[test]
fn duplicate_header_members_are_malformed() {
    // Which `alg` would a reader believe? Neither.
    let f = fixture(config());
    let token = forge_raw(
        r#"{"alg":"none","alg":"HS256"}"#,
        &access_claims(&f.sid).to_string(),
    );
    assert!(matches!(
        f.engine.validate(&token),
        Err(Error::Malformed(_))
    ));
}

#[test]
fn deeply_nested_json_is_malformed_not_a_stack_overflow() {
    let f = fixture(config());
    let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let claims = access_claims(&f.sid).to_string();
    let payload = format!("{},\"x\":{deep}}}", &claims[..claims.len() - 1]);
    let token = forge_raw(r#"{"alg":"HS256","typ":"JWT"}"#, &payload);
    assert!(matches!(
        f.engine.validate(&token),
        Err(Error::Malformed(_))
    ));
    let payload = format!("{},\"exp\":{deep}}}", &claims[..claims.len() - 1]);
    let token = forge_raw(r#"{"alg":"HS256","typ":"JWT"}"#, &payload);
    assert!(matches!(
        f.engine.validate(&token),
        Err(Error::Malformed(_))
    ));
    let nested_crit = format!(
        "{{\"alg\":\"HS256\",\"crit\":{}{}}}",
        "[".repeat(400),
        "]".repeat(400)
    );
    let token = forge_raw(&nested_crit, &claims);
    assert!(matches!(
        f.engine.validate(&token),
        Err(Error::Malformed(_))
    ));
}

#[test]
fn extra_segments_are_malformed_not_forged() {
    let f = fixture(config());
    let [h, p, s] = segments(&f.access);
    for token in [format!("{h}.{p}.{p}.{s}"), format!("{h}.{p}..{s}")] {
        assert_eq!(
            f.engine.validate(&token),
            Err(Error::Malformed("expected three dot-separated segments")),
            "{token}"
        );
    }
}

#[test]
fn aud_without_a_configured_audience_is_invalid_claim() {
    // As PyJWT: a token addressed to an audience is not for a service that names none.
    let f = fixture(config());
    let token = forge(&with(access_claims(&f.sid), "aud", json!("elsewhere")));
    assert_eq!(
        f.engine.validate(&token),
        Err(Error::InvalidClaim("aud".into()))
    );
}
