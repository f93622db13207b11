//! The Redis store over TLS (feature `redis`): the store conformance suite on a TLS-only
//! Redis that requires client certificates, and on a Sentinel group and a Cluster whose
//! every node speaks only TLS, then every way TLS can go wrong failing closed:
//! a server certificate from another CA, no client certificate, plain text to the TLS port,
//! TLS to a plain server, and bad TLS settings refused at startup. Run with
//! `bash scripts/test-redis.sh`, which starts the servers and makes the certificates.
#![cfg(feature = "redis")]

mod conformance;

use std::sync::Arc;

use keyfob::store::{RedisStore, SessionStore};
use keyfob::{Config, Engine, Error};

use conformance::{clock, config, Backend};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the Redis tests with `bash scripts/test-redis.sh`")
    })
}

/// The TLS server's URL with the CA and the client certificate that it accepts.
fn tls_config() -> Config {
    let mut cfg = config();
    cfg.store = env("KEYFOB_TEST_REDIS_TLS_URL");
    cfg.store_tls_ca = Some(env("KEYFOB_TEST_REDIS_TLS_CA"));
    cfg.store_tls_cert = Some(env("KEYFOB_TEST_REDIS_TLS_CERT"));
    cfg.store_tls_key = Some(env("KEYFOB_TEST_REDIS_TLS_KEY"));
    cfg.store_timeout_ms = 5_000;
    cfg
}

/// The TLS deployment whose URL is in this variable, with the TLS files.
struct Tls(&'static str);

impl Backend for Tls {
    fn store(&self, namespace: &str) -> Arc<dyn SessionStore> {
        let mut cfg = tls_config();
        cfg.store = env(self.0);
        cfg.store_prefix = namespace.to_owned();
        Arc::new(RedisStore::from_config(&cfg).unwrap())
    }
}

conformance::mount!(tls, Tls("KEYFOB_TEST_REDIS_TLS_URL"));
// Every node over TLS, the sentinels included.
conformance::mount!(tls_sentinel, Tls("KEYFOB_TEST_REDIS_TLS_SENTINEL_URL"));
conformance::mount!(tls_cluster, Tls("KEYFOB_TEST_REDIS_TLS_CLUSTER_URL"));

/// An engine that starts (connections are lazy) and whose first call fails closed.
fn fails_closed(cfg: Config) -> String {
    let e = Engine::builder(cfg).clock(clock()).build().unwrap();
    match e.login("tess", None) {
        Err(Error::StoreUnavailable(why)) => why,
        other => panic!("expected store_unavailable, got {other:?}"),
    }
}

#[test]
fn a_server_certificate_from_another_ca_fails_closed() {
    let mut cfg = tls_config();
    cfg.store_tls_ca = Some(env("KEYFOB_TEST_REDIS_TLS_OTHER_CA"));
    let why = fails_closed(cfg);
    assert!(why.contains("certificate"), "{why}");
}

#[test]
fn the_system_roots_do_not_trust_a_private_ca() {
    let mut cfg = tls_config();
    cfg.store_tls_ca = None;
    let why = fails_closed(cfg);
    assert!(why.contains("certificate"), "{why}");
}

#[test]
fn no_client_certificate_fails_closed_where_one_is_required() {
    let mut cfg = tls_config();
    cfg.store_tls_cert = None;
    cfg.store_tls_key = None;
    fails_closed(cfg);
}

#[test]
fn sentinels_and_cluster_nodes_are_verified_too() {
    for url in [
        "KEYFOB_TEST_REDIS_TLS_SENTINEL_URL",
        "KEYFOB_TEST_REDIS_TLS_CLUSTER_URL",
    ] {
        let mut cfg = tls_config();
        cfg.store = env(url);
        cfg.store_tls_ca = Some(env("KEYFOB_TEST_REDIS_TLS_OTHER_CA"));
        let why = fails_closed(cfg);
        assert!(why.contains("certificate"), "{url}: {why}");
    }
}

#[test]
fn plain_text_to_the_tls_port_fails_closed() {
    let mut cfg = config();
    cfg.store = env("KEYFOB_TEST_REDIS_TLS_URL").replacen("rediss://", "redis://", 1);
    cfg.store_timeout_ms = 2_000;
    fails_closed(cfg);
}

#[test]
fn tls_to_a_plain_server_fails_closed() {
    let mut cfg = tls_config();
    cfg.store = env("KEYFOB_TEST_REDIS_URL").replacen("redis://", "rediss://", 1);
    fails_closed(cfg);
}

/// A change that makes a config wrong.
type Spoil = Box<dyn Fn(&mut Config)>;

#[test]
fn bad_tls_settings_are_config_errors_at_startup() {
    let cases: Vec<(&str, Spoil)> = vec![
        (
            "a CA file that does not exist",
            Box::new(|c| c.store_tls_ca = Some("/nonexistent/ca.pem".into())),
        ),
        (
            "a certificate without its key",
            Box::new(|c| c.store_tls_key = None),
        ),
        (
            "a key without its certificate",
            Box::new(|c| c.store_tls_cert = None),
        ),
        (
            "a CA file that is not PEM",
            Box::new(|c| {
                c.store_tls_ca = Some(env("KEYFOB_TEST_REDIS_TLS_KEY").replace(".key", ".ext"))
            }),
        ),
        (
            "TLS files with a plain-text URL",
            Box::new(|c| c.store = env("KEYFOB_TEST_REDIS_URL")),
        ),
        (
            "a URL turning certificate checks off",
            Box::new(|c| c.store = format!("{}#insecure", env("KEYFOB_TEST_REDIS_TLS_URL"))),
        ),
    ];
    for (what, change) in cases {
        let mut cfg = tls_config();
        change(&mut cfg);
        let err = Engine::new(cfg).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{what}: {err}");
    }
}

/// The C interface's JSON names the same fields.
#[test]
fn tls_files_are_config_fields_in_json() {
    let json = serde_json::json!({
        "signing_key": "store-conformance-secret-of-32-bytes-or-more",
        "store": env("KEYFOB_TEST_REDIS_TLS_URL"),
        "store_tls_ca": env("KEYFOB_TEST_REDIS_TLS_CA"),
        "store_tls_cert": env("KEYFOB_TEST_REDIS_TLS_CERT"),
        "store_tls_key": env("KEYFOB_TEST_REDIS_TLS_KEY"),
        "store_timeout_ms": 5000,
        "store_prefix": conformance::fresh_namespace("json"),
    });
    let cfg = Config::from_json(&json.to_string()).unwrap();
    let e = Engine::new(cfg).unwrap();
    let pair = e.login("tess", None).unwrap();
    assert_eq!(e.validate(&pair.access).unwrap().user_id(), "tess");
}
