//! A refresh token bound to one client with DPoP (RFC 9449): the client holds a P-256 key
//! and signs a short proof for every request; the session is bound to the key's thumbprint,
//! so a stolen token is worthless to anyone without the key.
//!
//! Run with `cargo run --example dpop`. Every step checks its result and panics on a wrong
//! one, so a zero exit status means the flow behaved as documented.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use keyfob::{Config, DpopRequest, Engine, Error, Presentation};
use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

const LOGIN_URL: &str = "https://api.example.com/api/token/";
const REFRESH_URL: &str = "https://api.example.com/api/token/refresh/";
const HELLO_URL: &str = "https://api.example.com/api/hello/";

/// What runs on the client: a key that never leaves it, and proofs signed with it.
struct Client {
    key: EcdsaKeyPair,
    rng: SystemRandom,
}

impl Client {
    fn new() -> Client {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("key generation");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("a fresh key parses");
        Client { key, rng }
    }

    /// The `DPoP` header for one request; `access` when the request carries an access token.
    fn proof(&self, method: &str, url: &str, now: i64, access: Option<&str>) -> String {
        let point = self.key.public_key().as_ref(); // 0x04 || x || y
        let header = json!({
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": {"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])},
        });
        let mut jti = [0u8; 16];
        self.rng.fill(&mut jti).expect("random");
        let mut claims = json!({"jti": b64(&jti), "htm": method, "htu": url, "iat": now});
        if let Some(access) = access {
            claims["ath"] = json!(b64(digest(&SHA256, access.as_bytes()).as_ref()));
        }
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = self.key.sign(&self.rng, input.as_bytes()).expect("signing");
        format!("{input}.{}", b64(sig.as_ref()))
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn with_proof<'a>(proof: &'a str, method: &'a str, url: &'a str) -> Presentation<'a> {
    Presentation::none().with_dpop(DpopRequest::new(proof, method, url))
}

fn main() -> Result<(), Error> {
    let engine = Engine::new(Config::with_secret(
        "example-secret-please-change-me-0123456789",
    ))?;
    let client = Client::new();

    // POST /api/token/ with a DPoP header: the session is bound to the client's key.
    let proof = client.proof("POST", LOGIN_URL, engine.now(), None);
    let pair = engine.login_bound("alice", None, &with_proof(&proof, "POST", LOGIN_URL))?;
    let refresh = pair.refresh.clone().expect("login returns a refresh token");
    let jkt = engine.verify(&pair.access)?.extra()["cnf"]["jkt"].clone();
    println!("login     → session {} bound to key {jkt}", pair.session_id);

    // GET /api/hello/ with `Authorization: DPoP <access>` and a proof carrying its hash.
    let proof = client.proof("GET", HELLO_URL, engine.now(), Some(&pair.access));
    let claims = engine.validate_bound(&pair.access, &with_proof(&proof, "GET", HELLO_URL))?;
    println!("validate  → ok, user_id={}", claims.user_id());

    // Someone copies the refresh token out of a log. Without the key it gets them nothing.
    let stolen = refresh.as_str();
    let bare = engine.refresh(stolen);
    println!("thief, no proof        → {}", bare.as_ref().unwrap_err());
    assert!(matches!(bare, Err(Error::DpopInvalid(_))));

    let thief = Client::new();
    let proof = thief.proof("POST", REFRESH_URL, engine.now(), None);
    let own_key = engine.refresh_bound(stolen, &with_proof(&proof, "POST", REFRESH_URL));
    println!("thief, own key         → {}", own_key.as_ref().unwrap_err());
    assert!(matches!(own_key, Err(Error::DpopInvalid(_))));

    // The rightful client refreshes; a proof it sent, captured and replayed, is refused.
    let proof = client.proof("POST", REFRESH_URL, engine.now(), None);
    let rotated = engine.refresh_bound(stolen, &with_proof(&proof, "POST", REFRESH_URL))?;
    println!("refresh   → new tokens, still bound to the same key");
    let next = rotated
        .refresh
        .as_deref()
        .expect("rotation is on by default");
    let replayed = engine.refresh_bound(next, &with_proof(&proof, "POST", REFRESH_URL));
    println!(
        "thief, replayed proof  → {}",
        replayed.as_ref().unwrap_err()
    );
    assert_eq!(replayed, Err(Error::DpopReplayed));

    // The session was never disturbed by the attempts.
    let proof = client.proof("GET", HELLO_URL, engine.now(), Some(&rotated.access));
    engine.validate_bound(&rotated.access, &with_proof(&proof, "GET", HELLO_URL))?;
    println!("validate  → ok; the thief got nothing");
    Ok(())
}
