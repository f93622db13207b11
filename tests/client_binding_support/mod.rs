//! Shared by tests/dpop.rs and tests/client_binding.rs: engines on a manual clock over a
//! chosen store (memory, or with the `redis` feature the Redis that scripts/test-redis.sh
//! starts), and DPoP clients holding real ring keys that sign proofs as RFC 9449 describes.
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use keyfob::store::{MemoryStore, SessionStore};
use keyfob::{Clock, Config, Engine, ManualClock, SystemClock};
use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

pub const SECRET: &str = "binding-test-secret-of-at-least-32-bytes!";
pub const TOKEN_URL: &str = "https://api.example.com/api/token/refresh/";
pub const LOGIN_URL: &str = "https://api.example.com/api/token/";
pub const RESOURCE_URL: &str = "https://api.example.com/api/hello/";

/// Which store an engine runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Memory,
    #[cfg(feature = "redis")]
    Redis,
}

impl Backend {
    pub fn store(self) -> Arc<dyn SessionStore> {
        match self {
            Backend::Memory => Arc::new(MemoryStore::new()),
            #[cfg(feature = "redis")]
            Backend::Redis => {
                let url = std::env::var("KEYFOB_TEST_REDIS_URL").expect(
                    "KEYFOB_TEST_REDIS_URL is not set: run with `bash scripts/test-redis.sh`",
                );
                let ns = keyfob::session::Id::random().expect("random");
                Arc::new(
                    keyfob::store::RedisStore::open(
                        &url,
                        &format!("keyfob-test:binding:{ns}:"),
                        std::time::Duration::from_secs(5),
                    )
                    .expect("redis store"),
                )
            }
        }
    }
}

pub fn config() -> Config {
    Config::with_secret(SECRET)
}

/// An engine on `backend`, on a manual clock starting at the wall clock's time (so Redis's
/// own TTLs, set relative to the engine's `now`, stay far away), and its store.
pub fn engine(backend: Backend, cfg: Config) -> (Engine, ManualClock, Arc<dyn SessionStore>) {
    let clock = ManualClock::new(SystemClock.now());
    let store = backend.store();
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

pub fn payload_of(token: &str) -> Value {
    let segment = token.split('.').nth(1).expect("payload segment");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("JSON")
}

pub fn sid_of(engine: &Engine, token: &str) -> keyfob::session::Id {
    let claims = engine.verify(token).expect("a live token");
    keyfob::session::Id::parse(claims.sid().expect("sid")).expect("hex sid")
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    digest(&SHA256, bytes)
        .as_ref()
        .try_into()
        .expect("32 bytes")
}

/// 128 random bits as hex: a proof id.
pub fn random_jti() -> String {
    let mut b = [0u8; 16];
    SystemRandom::new().fill(&mut b).expect("random");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

enum Signer {
    Es256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A DPoP client: a key pair it never shares, and the public JWK it puts in each proof.
pub struct DpopClient {
    signer: Signer,
    pub jwk: Value,
    pub alg: &'static str,
}

impl DpopClient {
    pub fn es256() -> DpopClient {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("keygen");
        let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("parse");
        let point = kp.public_key().as_ref(); // 0x04 || x || y
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": b64(&point[1..33]),
            "y": b64(&point[33..65]),
        });
        DpopClient {
            signer: Signer::Es256(kp),
            jwk,
            alg: "ES256",
        }
    }

    pub fn ed25519() -> DpopClient {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("keygen");
        let kp = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("parse");
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(kp.public_key().as_ref())});
        DpopClient {
            signer: Signer::Ed25519(kp),
            jwk,
            alg: "EdDSA",
        }
    }

    /// The RFC 7638 thumbprint, computed here from the definition (required members in
    /// lexicographic order, no whitespace, SHA-256, base64url) rather than by keyfob.
    pub fn jkt(&self) -> String {
        let canonical = match self.jwk["kty"].as_str() {
            Some("EC") => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                self.jwk["crv"].as_str().unwrap(),
                self.jwk["x"].as_str().unwrap(),
                self.jwk["y"].as_str().unwrap()
            ),
            _ => format!(
                r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#,
                self.jwk["crv"].as_str().unwrap(),
                self.jwk["x"].as_str().unwrap()
            ),
        };
        b64(&sha256(canonical.as_bytes()))
    }

    /// The standard header: `typ` dpop+jwt, the client's `alg` and public `jwk`.
    pub fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": self.alg, "jwk": self.jwk})
    }

    /// Sign any header and claims (so hostile proofs can be made with a real key).
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = match &self.signer {
            Signer::Es256(kp) => kp
                .sign(&SystemRandom::new(), input.as_bytes())
                .expect("sign")
                .as_ref()
                .to_vec(),
            Signer::Ed25519(kp) => kp.sign(input.as_bytes()).as_ref().to_vec(),
        };
        format!("{input}.{}", b64(&sig))
    }

    /// The claims of a fresh proof for `method url` at `iat`, with `ath` for `access`.
    pub fn claims(&self, method: &str, url: &str, iat: i64, access: Option<&str>) -> Value {
        let mut claims = json!({"jti": random_jti(), "htm": method, "htu": url, "iat": iat});
        if let Some(access) = access {
            claims["ath"] = json!(b64(&sha256(access.as_bytes())));
        }
        claims
    }

    /// A fresh, valid proof.
    pub fn proof(&self, method: &str, url: &str, iat: i64, access: Option<&str>) -> String {
        self.sign(&self.header(), &self.claims(method, url, iat, access))
    }
}

/// One `#[test]` per listed behaviour and store: each behaviour is a `fn(Backend)`.
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::client_binding_support::Backend::Memory);
                }
            )*
        }
        #[cfg(feature = "redis")]
        mod redis {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::client_binding_support::Backend::Redis);
                }
            )*
        }
    };
}
