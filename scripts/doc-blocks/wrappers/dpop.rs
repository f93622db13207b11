// Wrapper for `rust fragment=dpop` blocks: an `engine`, and a DPoP `client` whose
// `proof(method, url, access)` signs a proof for one request (as examples/dpop.rs does).
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use keyfob::{Config, Engine};
use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

const LOGIN_URL: &str = "https://api.example.com/api/token/";
const REFRESH_URL: &str = "https://api.example.com/api/token/refresh/";
const HELLO_URL: &str = "https://api.example.com/api/hello/";

struct Client {
    key: EcdsaKeyPair,
    rng: SystemRandom,
}

impl Client {
    fn new() -> Client {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        Client { key, rng }
    }

    fn proof(&self, method: &str, url: &str, access: Option<&str>) -> String {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let point = self.key.public_key().as_ref();
        let header = json!({
            "typ": "dpop+jwt", "alg": "ES256",
            "jwk": {"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])},
        });
        let mut jti = [0u8; 16];
        self.rng.fill(&mut jti).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut claims = json!({"jti": b64(&jti), "htm": method, "htu": url, "iat": now});
        if let Some(access) = access {
            claims["ath"] = json!(b64(digest(&SHA256, access.as_bytes()).as_ref()));
        }
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let sig = self.key.sign(&self.rng, input.as_bytes()).unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::new(Config::with_secret("change-me-to-32-or-more-random-bytes!"))?;
    let client = Client::new();
    BLOCK
    Ok(())
}
