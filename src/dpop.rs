//! DPoP proofs (RFC 9449): parse and verify a proof JWT, compute the JWK SHA-256 thumbprint
//! (RFC 7638) a session is bound to, and refuse a proof seen before (a bounded cache of
//! proof ids, each kept until its `iat` leaves the accepted window).
//!
//! The proof's key comes from its own header, so the signature only shows the sender holds
//! *some* key; what makes it a binding is that the engine then compares the key's thumbprint
//! with the session's.

use std::collections::{BTreeSet, HashMap};

use base64_simd::URL_SAFE_NO_PAD;
use parking_lot::Mutex;
use ring::digest::{digest, Context, SHA256};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ED25519};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::jws;

/// How far ahead of our clock a proof's `iat` may be (clock skew), in seconds.
const MAX_FUTURE_SKEW: i64 = 5;

/// The `typ` every proof carries (RFC 9449 §4.2).
const PROOF_TYP: &str = "dpop+jwt";
/// Longest proof `jti` accepted; RFC 9449 asks for at least 96 random bits, so this is ample.
const MAX_JTI_BYTES: usize = 256;
/// JWK members that only a private key has: a proof carrying one is refused (RFC 9449 §4.3).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A DPoP proof as the request brought it: the `DPoP` header's value, and the method and
/// URL of the request it came with (the URL as the server received it; query and fragment
/// are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DpopRequest<'a> {
    /// The proof JWT (the `DPoP` HTTP header).
    pub proof: &'a str,
    /// The request's HTTP method, e.g. `"POST"`.
    pub method: &'a str,
    /// The request's absolute URL, e.g. `"https://api.example.com/token"`.
    pub url: &'a str,
}

impl<'a> DpopRequest<'a> {
    /// A proof with the method and URL of its request.
    pub fn new(proof: &'a str, method: &'a str, url: &'a str) -> DpopRequest<'a> {
        DpopRequest { proof, method, url }
    }
}

/// The RFC 7638 JWK SHA-256 thumbprint of a public JWK (JSON text), base64url without
/// padding: the `jkt` a DPoP-bound token carries in `cnf`. EC, OKP and RSA keys are
/// understood (proofs are accepted for ES256 and EdDSA keys only).
///
/// ```
/// // RFC 7638 §3.1
/// let jwk = r#"{"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}"#;
/// assert_eq!(
///     keyfob::jwk_thumbprint(jwk).unwrap(),
///     "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
/// );
/// ```
pub fn jwk_thumbprint(jwk_json: &str) -> Result<String> {
    let jwk: Value = serde_json::from_str(jwk_json)
        .map_err(|_| Error::InvalidArgument("the JWK is not JSON".into()))?;
    let jwk = jwk
        .as_object()
        .ok_or_else(|| Error::InvalidArgument("the JWK is not a JSON object".into()))?;
    let digest = thumbprint(jwk).map_err(|m| Error::InvalidArgument(m.into()))?;
    Ok(URL_SAFE_NO_PAD.encode_to_string(digest))
}

/// SHA-256 over the key's required members, in lexicographic order, as compact JSON.
fn thumbprint(jwk: &Map<String, Value>) -> std::result::Result<[u8; 32], &'static str> {
    let kty = jwk
        .get("kty")
        .and_then(Value::as_str)
        .ok_or("the JWK has no kty")?;
    let required: &[&str] = match kty {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        _ => return Err("the JWK's kty is not EC, OKP or RSA"),
    };
    let mut canonical = String::with_capacity(256);
    canonical.push('{');
    for (i, name) in required.iter().enumerate() {
        let value = jwk
            .get(*name)
            .and_then(Value::as_str)
            .ok_or("the JWK lacks a required member")?;
        if i > 0 {
            canonical.push(',');
        }
        // serde_json writes strings with the minimal escaping RFC 7638 §3.3 asks for.
        canonical.push_str(&Value::from(*name).to_string());
        canonical.push(':');
        canonical.push_str(&Value::from(value).to_string());
    }
    canonical.push('}');
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, canonical.as_bytes()).as_ref());
    Ok(out)
}

/// base64url(SHA-256(access token)): the `ath` a proof sent with that token carries.
pub(crate) fn access_token_hash(access: &str) -> String {
    URL_SAFE_NO_PAD.encode_to_string(digest(&SHA256, access.as_bytes()))
}

/// A proof whose signature and claims hold, not yet checked for replay.
#[derive(Debug)]
pub(crate) struct CheckedProof {
    /// The key's RFC 7638 thumbprint.
    pub jkt: [u8; 32],
    /// Replay-cache key: the proof id, scoped to the key (ids are only unique per key).
    replay_key: [u8; 32],
    /// The last second the proof is acceptable.
    pub last_valid: i64,
}

impl CheckedProof {
    /// The replay key as hex, for a shared store.
    pub(crate) fn replay_id(&self) -> String {
        use std::fmt::Write as _;
        self.replay_key
            .iter()
            .fold(String::with_capacity(64), |mut out, b| {
                let _ = write!(out, "{b:02x}");
                out
            })
    }
}

/// Verifies proofs and remembers their ids.
#[derive(Debug)]
pub(crate) struct Verifier {
    iat_window: i64,
    max_proof_bytes: usize,
    replay: ReplayCache,
}

fn invalid(why: &str) -> Error {
    Error::DpopInvalid(why.into())
}

impl Verifier {
    pub(crate) fn new(iat_window_s: u64, replay_cache_size: usize, max_proof_bytes: usize) -> Self {
        Verifier {
            iat_window: iat_window_s as i64, // bounded by Config::check
            max_proof_bytes,
            replay: ReplayCache::new(replay_cache_size),
        }
    }

    /// Everything but replay: structure, header, signature with the header's key, `htm`,
    /// `htu`, `iat` within the window, and — when `access` is given (a resource request) —
    /// `ath` equal to the access token's hash.
    pub(crate) fn check(
        &self,
        req: &DpopRequest<'_>,
        now: i64,
        access: Option<&str>,
    ) -> Result<CheckedProof> {
        if req.method.is_empty() {
            return Err(Error::InvalidArgument("the request method is empty".into()));
        }
        let url = normalize_htu(req.url)
            .ok_or_else(|| Error::InvalidArgument("the request URL is not absolute".into()))?;
        if req.proof.len() > self.max_proof_bytes {
            return Err(invalid("the proof is larger than max_token_bytes"));
        }
        // The one JWS parser cuts and decodes the proof; DPoP's rules follow.
        let proof = jws::split(req.proof.as_bytes(), None)
            .ok()
            .filter(|seg| !seg.header.is_empty() && !seg.payload.is_empty())
            .filter(|seg| !seg.has_extra_dots())
            .ok_or_else(|| invalid("the proof is not a compact JWS"))?;
        let (alg, jwk) = jws::with_header(proof.header, |header| {
            if header.typ.as_ref().and_then(Value::as_str) != Some(PROOF_TYP) {
                return Err(invalid("the proof's typ is not dpop+jwt"));
            }
            if header.crit.is_some() {
                return Err(invalid("crit header parameters are not supported"));
            }
            let alg = header
                .alg
                .ok_or_else(|| invalid("the proof header has no alg"))?
                .into_owned();
            match header.jwk {
                Some(Value::Object(jwk)) => Ok((alg, jwk)),
                _ => Err(invalid("the proof header has no jwk")),
            }
        })
        .map_err(|e| match e {
            Error::Malformed(_) => invalid("the proof header is not JSON"),
            e => e,
        })?;
        if let Some(m) = PRIVATE_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
            return Err(Error::DpopInvalid(format!(
                "the proof's jwk holds the private member '{m}'"
            )));
        }
        let sig = jws::decode_segment(proof.signature)
            .ok_or_else(|| invalid("the proof signature is not base64url"))?;
        verify_signature(&alg, &jwk, proof.signing_input, &sig)?;
        let jkt = thumbprint(&jwk).map_err(invalid)?;

        let claims =
            json_object(proof.payload).ok_or_else(|| invalid("the proof payload is not JSON"))?;
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_BYTES)
            .ok_or_else(|| invalid("the proof has no valid jti"))?;
        if claims.get("htm").and_then(Value::as_str) != Some(req.method) {
            return Err(invalid("the proof's htm is not the request method"));
        }
        let htu = claims
            .get("htu")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("the proof has no htu"))?;
        if normalize_htu(htu).as_deref() != Some(url.as_str()) {
            return Err(invalid("the proof's htu is not the request URL"));
        }
        let iat = match claims.get("iat") {
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.is_finite())
                        .map(|f| f.floor() as i64)
                })
                .ok_or_else(|| invalid("the proof's iat is not a number"))?,
            _ => return Err(invalid("the proof has no numeric iat")),
        };
        if now.saturating_sub(iat) > self.iat_window {
            return Err(invalid("the proof's iat is too old"));
        }
        // Clock skew, not a window: a proof dated far ahead would keep a replay-cache
        // entry alive (and the cache full) for twice the window.
        if iat.saturating_sub(now) > self.iat_window.min(MAX_FUTURE_SKEW) {
            return Err(invalid("the proof's iat is in the future"));
        }
        if let Some(access) = access {
            match claims.get("ath").and_then(Value::as_str) {
                None => return Err(invalid("the proof has no ath")),
                Some(ath) if ath != access_token_hash(access) => {
                    return Err(invalid("the proof's ath is not the access token's hash"))
                }
                Some(_) => {}
            }
        }
        let mut ctx = Context::new(&SHA256);
        ctx.update(&jkt);
        ctx.update(jti.as_bytes());
        let mut replay_key = [0u8; 32];
        replay_key.copy_from_slice(ctx.finish().as_ref());
        Ok(CheckedProof {
            jkt,
            replay_key,
            last_valid: iat.saturating_add(self.iat_window),
        })
    }

    /// Accept a checked proof once: `dpop_replayed` if its id was seen while still valid.
    pub(crate) fn consume(&self, proof: &CheckedProof, now: i64) -> Result<()> {
        self.replay.insert(proof.replay_key, proof.last_valid, now)
    }
}

/// A base64url segment holding a JSON object.
fn json_object(segment: &[u8]) -> Option<Map<String, Value>> {
    let bytes = jws::decode_segment(segment)?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn member<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<&'a str> {
    jwk.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::DpopInvalid(format!("the proof's jwk has no '{name}'")))
}

fn coordinate(jwk: &Map<String, Value>, name: &str) -> Result<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD
        .decode_to_vec(member(jwk, name)?)
        .map_err(|_| Error::DpopInvalid(format!("the proof's jwk '{name}' is not base64url")))?;
    if bytes.len() != 32 {
        return Err(Error::DpopInvalid(format!(
            "the proof's jwk '{name}' is not 32 bytes"
        )));
    }
    Ok(bytes)
}

/// The signature with the header's key; the key must be of the kind `alg` names.
fn verify_signature(
    alg: &str,
    jwk: &Map<String, Value>,
    signing_input: &[u8],
    sig: &[u8],
) -> Result<()> {
    let ok = match alg {
        "ES256" => {
            if member(jwk, "kty")? != "EC" || member(jwk, "crv")? != "P-256" {
                return Err(invalid("an ES256 proof needs an EC P-256 jwk"));
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&coordinate(jwk, "x")?);
            point.extend_from_slice(&coordinate(jwk, "y")?);
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(signing_input, sig)
                .is_ok()
        }
        "EdDSA" => {
            if member(jwk, "kty")? != "OKP" || member(jwk, "crv")? != "Ed25519" {
                return Err(invalid("an EdDSA proof needs an OKP Ed25519 jwk"));
            }
            UnparsedPublicKey::new(&ED25519, coordinate(jwk, "x")?)
                .verify(signing_input, sig)
                .is_ok()
        }
        _ => return Err(invalid("the proof's alg is not ES256 or EdDSA")),
    };
    if ok {
        Ok(())
    } else {
        Err(invalid("the proof's signature does not match its jwk"))
    }
}

/// `htu` and the request URL compared as RFC 9449 §4.3 asks: without query and fragment,
/// after syntax-based normalization (RFC 3986 §6.2.2–6.2.3: scheme and host are
/// case-insensitive, a default port is the same as none, an empty path is "/").
/// `None` when it is not an absolute http(s) URL.
pub(crate) fn normalize_htu(url: &str) -> Option<String> {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let (scheme, rest) = url[..end].split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let mut authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    if authority.ends_with(default_port) {
        authority.truncate(authority.len() - default_port.len());
    }
    Some(format!("{scheme}://{authority}{path}"))
}

/// Proof ids seen recently, each kept until the last second its proof could be accepted.
/// Bounded: when full of live ids, new proofs are refused (fail closed) rather than letting
/// an old id be forgotten and replayed.
#[derive(Debug)]
struct ReplayCache {
    capacity: usize,
    inner: Mutex<ReplayInner>,
}

#[derive(Debug, Default)]
struct ReplayInner {
    last_valid: HashMap<[u8; 32], i64>,
    by_expiry: BTreeSet<(i64, [u8; 32])>,
}

impl ReplayCache {
    fn new(capacity: usize) -> Self {
        ReplayCache {
            capacity,
            inner: Mutex::new(ReplayInner::default()),
        }
    }

    fn insert(&self, key: [u8; 32], last_valid: i64, now: i64) -> Result<()> {
        let mut cache = self.inner.lock();
        // Ids whose proofs can no longer be accepted are of no use: drop them first.
        while let Some(&(expiry, old)) = cache.by_expiry.first() {
            if expiry >= now {
                break;
            }
            cache.by_expiry.pop_first();
            cache.last_valid.remove(&old);
        }
        if cache.last_valid.contains_key(&key) {
            return Err(Error::DpopReplayed);
        }
        if cache.last_valid.len() >= self.capacity {
            return Err(invalid(
                "too many recent proofs to check for replay; retry shortly",
            ));
        }
        cache.last_valid.insert(key, last_valid);
        cache.by_expiry.insert((last_valid, key));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_normalization() {
        let n = |u| normalize_htu(u);
        assert_eq!(
            n("HTTPS://Server.Example.com:443/token?x=1#f").as_deref(),
            Some("https://server.example.com/token")
        );
        assert_eq!(
            n("http://a.example:80").as_deref(),
            Some("http://a.example/")
        );
        assert_eq!(
            n("https://a.example:8443/p").as_deref(),
            Some("https://a.example:8443/p")
        );
        // Paths are case-sensitive.
        assert_ne!(n("https://a.example/P"), n("https://a.example/p"));
        assert_eq!(n("/token"), None);
        assert_eq!(n("ftp://a.example/"), None);
        assert_eq!(n("https://user@a.example/"), None);
        assert_eq!(n("https:///path"), None);
    }

    #[test]
    fn replay_cache_is_bounded_and_forgets_expired_ids() {
        let cache = ReplayCache::new(2);
        cache.insert([1; 32], 100, 50).unwrap();
        assert_eq!(cache.insert([1; 32], 100, 60), Err(Error::DpopReplayed));
        cache.insert([2; 32], 120, 60).unwrap();
        // Full of live ids: refused, not evicted.
        assert!(matches!(
            cache.insert([3; 32], 130, 70),
            Err(Error::DpopInvalid(_))
        ));
        // At 101 the first id can no longer be accepted anyway: it makes room.
        cache.insert([3; 32], 130, 101).unwrap();
        assert_eq!(cache.inner.lock().last_valid.len(), 2);
        assert_eq!(cache.insert([2; 32], 120, 120), Err(Error::DpopReplayed));
    }
}
