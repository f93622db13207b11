//! Config: the documented defaults, and every impossible value refused as a `config` error
//! whose message names the field — without ever echoing key material.

mod common;

use common::{config, ed25519_keys, p256_keys, rsa_private_pem, rsa_public_pem, SECRET};
use keyfob::{Config, Engine, Error, ErrorCode, KeyMaterial};

/// Build an engine and return the config error's message, failing if it is anything else.
fn config_error(cfg: Config) -> String {
    match Engine::new(cfg) {
        Err(Error::Config(msg)) => msg,
        Err(other) => panic!("expected a config error, got {other:?}"),
        Ok(_) => panic!("expected a config error, the engine was built"),
    }
}

fn json_error(json: &str) -> String {
    match Config::from_json(json) {
        Err(Error::Config(msg)) => msg,
        Err(other) => panic!("expected a config error, got {other:?}"),
        Ok(cfg) => config_error(cfg),
    }
}

#[test]
fn defaults_are_the_design_table() {
    let cfg = Config::default();
    assert_eq!(cfg.algorithm, "HS256");
    assert!(cfg.signing_key.is_empty());
    assert!(cfg.verifying_keys.is_empty());
    assert_eq!(cfg.key_id, None);
    assert_eq!(cfg.access_lifetime_s, 300);
    assert_eq!(cfg.refresh_lifetime_s, 43_200);
    assert_eq!(cfg.idle_timeout_s, 1_800);
    assert_eq!(cfg.sliding_lifetime_s, 300);
    assert!(!cfg.accept_sessionless);
    assert_eq!(cfg.store, "memory");
    assert!(cfg.rotate_refresh);
    assert_eq!(cfg.reuse_grace_s, 0);
    assert_eq!(cfg.leeway_s, 0);
    assert_eq!(cfg.issuer, None);
    assert_eq!(cfg.audience, None);
    assert_eq!(cfg.user_id_claim, "user_id");
    assert_eq!(cfg.token_type_claim, "token_type");
    assert_eq!(cfg.jti_claim, "jti");
    assert!(cfg.touch_on_validate);
    assert_eq!(cfg.max_token_bytes, 8_192);
    assert!(cfg.near_cache);
    assert_eq!(cfg.near_cache_size, 50_000);
}

#[test]
fn the_near_cache_settings_come_from_json_and_are_bounded() {
    let cfg = Config::from_json(&format!(
        r#"{{"signing_key":"{SECRET}","near_cache":false,"near_cache_size":10}}"#
    ))
    .unwrap();
    assert!(!cfg.near_cache);
    assert_eq!(cfg.near_cache_size, 10);
    for size in [0, 10_000_001] {
        let msg = json_error(&format!(
            r#"{{"signing_key":"{SECRET}","near_cache_size":{size}}}"#
        ));
        assert!(msg.contains("near_cache_size"), "{msg}");
    }
    assert!(json_error(&format!(
        r#"{{"signing_key":"{SECRET}","near_cache":"yes"}}"#
    ))
    .contains("near_cache"));
}

#[test]
fn json_with_only_a_key_gets_the_defaults() {
    let cfg = Config::from_json(&format!(r#"{{"signing_key":"{SECRET}"}}"#)).unwrap();
    assert_eq!(cfg, Config::with_secret(SECRET));
    Engine::new(cfg).unwrap();
}

#[test]
fn unknown_field_is_a_config_error_naming_it() {
    let msg = json_error(&format!(
        r#"{{"signing_key":"{SECRET}","idle_timeout":60}}"#
    ));
    assert!(msg.contains("idle_timeout"), "{msg}");
}

#[test]
fn wrong_json_type_is_a_config_error_naming_the_field() {
    let msg = json_error(&format!(r#"{{"signing_key":"{SECRET}","leeway_s":"ten"}}"#));
    assert!(msg.starts_with("leeway_s: "), "{msg}");
    assert!(!msg.contains("ten"), "the value is not echoed: {msg}");
}

#[test]
fn zero_lifetimes_are_config_errors_naming_the_field() {
    for field in [
        "access_lifetime_s",
        "refresh_lifetime_s",
        "idle_timeout_s",
        "sliding_lifetime_s",
    ] {
        let msg = json_error(&format!(r#"{{"signing_key":"{SECRET}","{field}":0}}"#));
        assert!(msg.contains(field), "{field}: {msg}");
    }
}

#[test]
fn idle_longer_than_absolute_is_fine() {
    let mut cfg = config();
    cfg.idle_timeout_s = 10_000;
    cfg.refresh_lifetime_s = 100;
    Engine::new(cfg).unwrap();
}

#[test]
fn missing_signing_key_is_a_config_error() {
    let msg = json_error("{}");
    assert!(msg.contains("signing_key"), "{msg}");
}

#[test]
fn hmac_secret_must_be_32_bytes() {
    for alg in ["HS256", "HS384", "HS512"] {
        let mut cfg = Config::with_secret("x".repeat(31));
        cfg.algorithm = alg.into();
        let msg = config_error(cfg);
        assert!(msg.contains("signing_key"), "{alg}: {msg}");

        let mut cfg = Config::with_secret("x".repeat(32));
        cfg.algorithm = alg.into();
        Engine::new(cfg).unwrap();
    }
}

#[test]
fn short_verifying_secret_is_a_config_error_naming_its_kid() {
    let mut cfg = config();
    cfg.verifying_keys
        .insert("old-2023".into(), KeyMaterial::new("short"));
    let msg = config_error(cfg);
    assert!(
        msg.contains("verifying_keys") && msg.contains("old-2023"),
        "{msg}"
    );
}

#[test]
fn unknown_algorithms_are_config_errors_naming_the_field() {
    for alg in ["none", "HS257", "hs256", "RS512", "ES384", "PS256", ""] {
        let mut cfg = config();
        cfg.algorithm = alg.into();
        let msg = config_error(cfg);
        assert!(msg.contains("algorithm"), "{alg}: {msg}");
    }
}

#[test]
fn keys_that_do_not_fit_the_algorithm_are_config_errors() {
    let (ed_private, ed_public, _) = ed25519_keys();
    let (ec_private, ec_public, _) = p256_keys();
    let rsa_private = rsa_private_pem();
    let rsa_public = rsa_public_pem();
    let misfits: [(&str, &str); 9] = [
        // A PEM key is never an HMAC secret: that is the HS/RS confusion at config time.
        ("HS256", &rsa_public),
        ("HS256", &ed_private),
        ("EdDSA", &ec_private),
        ("EdDSA", SECRET),
        ("ES256", &ed_private),
        ("ES256", &rsa_private),
        ("RS256", &ec_private),
        // A public key cannot sign.
        ("RS256", &rsa_public),
        ("EdDSA", &ed_public),
    ];
    for (alg, key) in misfits {
        let mut cfg = Config::with_secret(key);
        cfg.algorithm = alg.into();
        let msg = config_error(cfg);
        assert!(msg.contains("signing_key"), "{alg}: {msg}");
    }
    let mut cfg = Config::with_secret(ed_private.as_str());
    cfg.algorithm = "EdDSA".into();
    cfg.verifying_keys.insert("p256".into(), ec_public.into());
    let msg = config_error(cfg);
    assert!(
        msg.contains("verifying_keys") && msg.contains("p256"),
        "{msg}"
    );

    let mut cfg = Config::with_secret(ec_private.as_str());
    cfg.algorithm = "ES256".into();
    cfg.verifying_keys.insert("rsa".into(), rsa_public.into());
    let msg = config_error(cfg);
    assert!(
        msg.contains("verifying_keys") && msg.contains("rsa"),
        "{msg}"
    );
}

#[test]
fn garbage_pem_is_a_config_error() {
    for key in [
        "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n",
    ] {
        let mut cfg = Config::with_secret(key);
        cfg.algorithm = "EdDSA".into();
        let msg = config_error(cfg);
        assert!(msg.contains("signing_key"), "{msg}");
    }
}

#[test]
fn other_impossible_values_name_their_field() {
    let mut cfg = config();
    cfg.store = "redis-but-not-compiled-in".into();
    assert!(config_error(cfg).contains("store"));

    let mut cfg = config();
    cfg.max_token_bytes = 10;
    assert!(config_error(cfg).contains("max_token_bytes"));

    let mut cfg = config();
    cfg.user_id_claim = "jti".into();
    assert!(config_error(cfg).contains("user_id_claim"));

    let mut cfg = config();
    cfg.token_type_claim = "exp".into();
    assert!(config_error(cfg).contains("token_type_claim"));

    let mut cfg = config();
    cfg.jti_claim = String::new();
    assert!(config_error(cfg).contains("jti_claim"));

    let mut cfg = config();
    cfg.verifying_keys.insert(String::new(), SECRET.into());
    assert!(config_error(cfg).contains("verifying_keys"));
}

#[test]
fn config_errors_have_the_config_code() {
    let err = Engine::new(Config::with_secret("short")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Config);
    assert_eq!(err.name(), "config");
    assert_eq!(err.code() as u32, 17);
}

#[test]
fn debug_of_config_and_engine_never_shows_keys() {
    let (ed_private, _, _) = ed25519_keys();
    let mut cfg = Config::with_secret(SECRET);
    cfg.verifying_keys.insert(
        "old".into(),
        "old-secret-that-is-also-32-bytes-long!".into(),
    );
    let engine = Engine::new(cfg.clone()).unwrap();
    let shown = format!("{cfg:?} {cfg:#?} {engine:?} {engine:#?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains("old-secret"), "{shown}");
    assert!(shown.contains("old"), "kids may show: {shown}");

    let mut cfg = Config::with_secret(ed_private.as_str());
    cfg.algorithm = "EdDSA".into();
    let engine = Engine::new(cfg.clone()).unwrap();
    let body_line = ed_private.lines().nth(1).unwrap();
    let shown = format!("{cfg:?} {engine:?}");
    assert!(!shown.contains(body_line), "{shown}");
}

#[test]
fn config_errors_never_echo_the_key() {
    // Each of these puts key material where it does not belong.
    let too_short = "short-but-secret-1234";
    let leaks = [
        Engine::new(Config::with_secret(too_short)).unwrap_err(),
        Config::from_json(&format!(r#"{{"verifying_keys":"{SECRET}"}}"#)).unwrap_err(),
        Config::from_json(&format!(
            r#"{{"signing_key":"{SECRET}","key_id":["{SECRET}"]}}"#
        ))
        .unwrap_err(),
        Config::from_json(&format!(r#"{{"signing_key":["{SECRET}"]}}"#)).unwrap_err(),
    ];
    for err in leaks {
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(too_short), "{shown}");
        assert!(!shown.contains(SECRET), "{shown}");
    }
    let (ed_private, _, _) = ed25519_keys();
    let mut cfg = Config::with_secret(ed_private.as_str());
    cfg.algorithm = "ES256".into();
    let err = Engine::new(cfg).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(ed_private.lines().nth(1).unwrap()),
        "{shown}"
    );
}

#[test]
fn a_misfit_private_verifying_key_is_blamed_on_verifying_keys() {
    let (ec_private, _, _) = p256_keys();
    let mut cfg = Config::with_secret(ed25519_keys().0);
    cfg.algorithm = "EdDSA".into();
    cfg.verifying_keys
        .insert("old".into(), ec_private.as_str().into());
    let msg = config_error(cfg);
    assert!(msg.starts_with("verifying_keys['old']: "), "{msg}");
    assert!(!msg.contains("signing_key"), "{msg}");
    assert!(!msg.contains("invalid configuration"), "{msg}");
}

#[test]
fn debug_hides_a_store_password() {
    let mut cfg = keyfob::Config::with_secret("test-secret-that-is-at-least-32-bytes-long");
    cfg.store = "redis://keyfob:hunter2-store-password@redis.internal:6379/0".into();
    let shown = format!("{cfg:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("redis://<redacted>@redis.internal:6379/0"),
        "{shown}"
    );
}
