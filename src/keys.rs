//! The key ring: one signing key and the keys that verify, all tied to one algorithm.
//! Keys are parsed once when the engine is built; nothing is set up per call.

use std::fmt;

use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair};

use crate::config::{Config, KeyMaterial};
use crate::error::{Error, Result};

mod jwks;
pub use jwks::{Jwk, JwkParams, Jwks};
#[cfg(feature = "resumed-hmac")]
mod prefix;
#[cfg(all(fuzzing, feature = "resumed-hmac"))]
pub use prefix::fuzzing;
use prefix::Resumed;
#[cfg(test)]
pub(crate) use prefix::{force_resuming_on_this_thread, hardware_sha256};

/// Without the `resumed-hmac` feature nothing resumes: ring makes every tag.
#[cfg(not(feature = "resumed-hmac"))]
#[path = "keys/ring_only.rs"]
mod prefix;

/// A JWS algorithm keyfob signs and verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// Ed25519 signatures.
    EdDSA,
    /// ECDSA P-256 with SHA-256, fixed-length r||s signatures.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
}

impl Algorithm {
    /// The JOSE name, as written in the `alg` header.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::ES256 => "ES256",
            Algorithm::RS256 => "RS256",
        }
    }

    /// Parse a JOSE name (exact, case-sensitive).
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Some(match name {
            "HS256" => Algorithm::HS256,
            "HS384" => Algorithm::HS384,
            "HS512" => Algorithm::HS512,
            "EdDSA" => Algorithm::EdDSA,
            "ES256" => Algorithm::ES256,
            "RS256" => Algorithm::RS256,
            _ => return None,
        })
    }

    fn hmac(self) -> Option<hmac::Algorithm> {
        match self {
            Algorithm::HS256 => Some(hmac::HMAC_SHA256),
            Algorithm::HS384 => Some(hmac::HMAC_SHA384),
            Algorithm::HS512 => Some(hmac::HMAC_SHA512),
            _ => None,
        }
    }
}

/// Smallest HMAC secret accepted.
pub const MIN_HMAC_KEY_BYTES: usize = 32;

enum Signer {
    /// ring's key for any message; for HS256 on hardware SHA-256, the same key as states
    /// that resume from precomputed blocks (see `keys/prefix.rs`).
    Hmac(hmac::Key, Resumed),
    Ed25519(signature::Ed25519KeyPair),
    Ecdsa(signature::EcdsaKeyPair),
    Rsa(signature::RsaKeyPair),
}

enum Verifier {
    Hmac(hmac::Key),
    Public(signature::UnparsedPublicKey<Vec<u8>>),
}

impl Verifier {
    fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        match self {
            // Constant-time comparison inside ring.
            Verifier::Hmac(key) => hmac::verify(key, message, sig).is_ok(),
            Verifier::Public(key) => key.verify(message, sig).is_ok(),
        }
    }
}

/// Signing key plus verifying keys by `kid`, all for one algorithm. `Debug` shows no key.
pub(crate) struct KeyRing {
    algorithm: Algorithm,
    kid: Option<String>,
    signer: Signer,
    primary: Verifier,
    others: Vec<(String, Verifier)>,
    rng: SystemRandom,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .field(
                "verifying_kids",
                &self.others.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Build from the config's algorithm, signing key, `key_id` and `verifying_keys`.
    pub fn from_config(cfg: &Config) -> Result<KeyRing> {
        let algorithm = Algorithm::from_name(&cfg.algorithm).ok_or_else(|| {
            Error::Config(format!(
                "algorithm: unknown algorithm '{}' (expected HS256, HS384, HS512, EdDSA, ES256 or RS256)",
                cfg.algorithm
            ))
        })?;
        let rng = SystemRandom::new();
        let (signer, primary) = signing_key(algorithm, &cfg.signing_key, &rng)?;
        let mut others = Vec::new();
        for (kid, key) in &cfg.verifying_keys {
            if cfg.key_id.as_deref() == Some(kid.as_str()) {
                return Err(Error::Config(format!(
                    "verifying_keys['{kid}']: this kid is already the signing key's key_id"
                )));
            }
            if kid.is_empty() {
                return Err(Error::Config(
                    "verifying_keys: a kid must not be empty".into(),
                ));
            }
            let v = verifying_key(algorithm, key)
                .map_err(|m| Error::Config(format!("verifying_keys['{kid}']: {m}")))?;
            others.push((kid.clone(), v));
        }
        Ok(KeyRing {
            algorithm,
            kid: cfg.key_id.clone(),
            signer,
            primary,
            others,
            rng,
        })
    }

    /// A ring of one raw HMAC secret, no `kid` (the JWS test seam; RFC secrets are binary).
    pub(crate) fn hmac(algorithm: Algorithm, secret: &[u8]) -> Result<KeyRing> {
        let h = algorithm
            .hmac()
            .ok_or_else(|| Error::Config("algorithm: not an HMAC algorithm".into()))?;
        Ok(KeyRing {
            algorithm,
            kid: None,
            signer: hmac_signer(algorithm, h, secret),
            primary: Verifier::Hmac(hmac::Key::new(h, secret)),
            others: Vec::new(),
            rng: SystemRandom::new(),
        })
    }

    /// The algorithm every key here is tied to.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The signing key's `kid`, if named.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Length in bytes of this ring's signatures.
    pub fn signature_len(&self) -> usize {
        match &self.signer {
            Signer::Hmac(key, _) => key.algorithm().digest_algorithm().output_len(),
            Signer::Ed25519(_) | Signer::Ecdsa(_) => 64,
            Signer::Rsa(kp) => kp.public().modulus_len(),
        }
    }

    /// Hash the whole blocks of `message_start` with the signing key once, now: signing or
    /// verifying (under the signing key) a message that starts with them resumes from there.
    /// Does nothing for a signature algorithm or a start shorter than one block.
    pub(crate) fn precompute_hmac(&mut self, message_start: &[u8]) {
        if let Signer::Hmac(_, resumed) = &mut self.signer {
            resumed.precompute(message_start);
        }
    }

    /// The signing key's resumable states, if it is an HMAC key. They are also the primary
    /// verifying key's: for HMAC, the signing key verifies.
    fn resumed(&self) -> Option<&Resumed> {
        match &self.signer {
            Signer::Hmac(_, resumed) => Some(resumed),
            _ => None,
        }
    }

    /// Whether a precomputed state covers `message`.
    #[cfg(test)]
    pub(crate) fn covered(&self, message: &[u8]) -> bool {
        self.resumed().is_some_and(|r| r.covered(message))
    }

    /// Sign two messages into `out_a` and `out_b`: the same signatures as [`KeyRing::sign_into`]
    /// gives each, and with HS256 from precomputed states, computed side by side; returns
    /// the signature length.
    pub fn sign_two_into(
        &self,
        (a, out_a): (&[u8], &mut [u8]),
        (b, out_b): (&[u8], &mut [u8]),
    ) -> Result<usize> {
        if let Signer::Hmac(_, resumed) = &self.signer {
            let n = self.signature_len();
            if out_a.len() >= n && out_b.len() >= n {
                if let Some((tag_a, tag_b)) = resumed.sign_two(a, b) {
                    out_a[..n].copy_from_slice(&tag_a);
                    out_b[..n].copy_from_slice(&tag_b);
                    return Ok(n);
                }
            }
        }
        self.sign_into(a, out_a)?;
        self.sign_into(b, out_b)
    }

    /// Sign `message` into `out` (at least [`KeyRing::signature_len`] bytes); returns the length.
    pub fn sign_into(&self, message: &[u8], out: &mut [u8]) -> Result<usize> {
        let n = self.signature_len();
        if out.len() < n {
            return Err(Error::BufferTooSmall { needed: n });
        }
        match &self.signer {
            Signer::Hmac(key, resumed) => {
                // From a precomputed state when one covers `message`, else ring from the key.
                match resumed.sign(message) {
                    Some(tag) => out[..n].copy_from_slice(&tag),
                    None => out[..n].copy_from_slice(hmac::sign(key, message).as_ref()),
                }
            }
            Signer::Ed25519(kp) => out[..n].copy_from_slice(kp.sign(message).as_ref()),
            Signer::Ecdsa(kp) => {
                let sig = kp
                    .sign(&self.rng, message)
                    .map_err(|_| Error::InvalidArgument("ECDSA signing failed".into()))?;
                out[..n].copy_from_slice(sig.as_ref());
            }
            Signer::Rsa(kp) => {
                kp.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &self.rng,
                    message,
                    &mut out[..n],
                )
                .map_err(|_| Error::InvalidArgument("RSA signing failed".into()))?;
            }
        }
        Ok(n)
    }

    /// Verify `sig` over `message`. With a `kid`, only that key is tried (unknown → `unknown_key`);
    /// without one, the signing key and then every verifying key, so old keys keep working.
    pub fn verify(&self, kid: Option<&str>, message: &[u8], sig: &[u8]) -> Result<()> {
        // The precomputed states are the signing key's, which is the primary verifying key.
        let primary = || match self.resumed().and_then(|r| r.verify(message, sig)) {
            Some(ok) => ok,
            None => self.primary.verify(message, sig),
        };
        let ok = match kid {
            Some(kid) => {
                if self.kid.as_deref() == Some(kid) {
                    primary()
                } else {
                    match self.others.iter().find(|(k, _)| k == kid) {
                        Some((_, v)) => v.verify(message, sig),
                        None => return Err(Error::UnknownKey),
                    }
                }
            }
            None => primary() || self.others.iter().any(|(_, v)| v.verify(message, sig)),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::BadSignature)
        }
    }
}

fn hmac_signer(alg: Algorithm, h: hmac::Algorithm, secret: &[u8]) -> Signer {
    // Resuming pays only where SHA-256 runs in hardware (see keys/prefix.rs).
    let resumed = Resumed::for_key(alg == Algorithm::HS256, secret);
    Signer::Hmac(hmac::Key::new(h, secret), resumed)
}

fn signing_key(
    alg: Algorithm,
    key: &KeyMaterial,
    rng: &SystemRandom,
) -> Result<(Signer, Verifier)> {
    let err = |m: &str| Error::Config(format!("signing_key: {m}"));
    if let Some(h) = alg.hmac() {
        let secret = key.as_bytes();
        if secret.len() < MIN_HMAC_KEY_BYTES {
            return Err(err(&format!(
                "an {} secret must be at least {MIN_HMAC_KEY_BYTES} bytes (got {})",
                alg.name(),
                secret.len()
            )));
        }
        if looks_like_pem(secret) {
            return Err(err(&format!(
                "a PEM key cannot be an {} secret; set algorithm to the key's algorithm",
                alg.name()
            )));
        }
        return Ok((
            hmac_signer(alg, h, secret),
            Verifier::Hmac(hmac::Key::new(h, secret)),
        ));
    }
    let (label, der) = parse_pem(key.as_bytes()).map_err(err)?;
    let misfit = || err(&format!("the key does not fit algorithm {}", alg.name()));
    match alg {
        Algorithm::EdDSA => {
            if label != "PRIVATE KEY" {
                return Err(err("EdDSA needs a PKCS#8 'PRIVATE KEY' PEM"));
            }
            let kp = signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                .map_err(|_| misfit())?;
            let public = kp.public_key().as_ref().to_vec();
            Ok((
                Signer::Ed25519(kp),
                Verifier::Public(signature::UnparsedPublicKey::new(
                    &signature::ED25519,
                    public,
                )),
            ))
        }
        Algorithm::ES256 => {
            if label != "PRIVATE KEY" {
                return Err(err("ES256 needs a PKCS#8 'PRIVATE KEY' PEM"));
            }
            let kp = signature::EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &der,
                rng,
            )
            .map_err(|_| misfit())?;
            let public = kp.public_key().as_ref().to_vec();
            Ok((
                Signer::Ecdsa(kp),
                Verifier::Public(signature::UnparsedPublicKey::new(
                    &signature::ECDSA_P256_SHA256_FIXED,
                    public,
                )),
            ))
        }
        Algorithm::RS256 => {
            let kp = match label.as_str() {
                "PRIVATE KEY" => signature::RsaKeyPair::from_pkcs8(&der),
                "RSA PRIVATE KEY" => signature::RsaKeyPair::from_der(&der),
                _ => return Err(err("RS256 needs a PKCS#8 or PKCS#1 private key PEM")),
            }
            .map_err(|_| misfit())?;
            let public = kp.public().as_ref().to_vec();
            Ok((
                Signer::Rsa(kp),
                Verifier::Public(signature::UnparsedPublicKey::new(
                    &signature::RSA_PKCS1_2048_8192_SHA256,
                    public,
                )),
            ))
        }
        _ => unreachable!("HMAC handled above"),
    }
}

fn verifying_key(alg: Algorithm, key: &KeyMaterial) -> std::result::Result<Verifier, String> {
    if let Some(h) = alg.hmac() {
        let secret = key.as_bytes();
        if secret.len() < MIN_HMAC_KEY_BYTES {
            return Err(format!(
                "an {} secret must be at least {MIN_HMAC_KEY_BYTES} bytes",
                alg.name()
            ));
        }
        if looks_like_pem(secret) {
            return Err(format!("a PEM key cannot be an {} secret", alg.name()));
        }
        return Ok(Verifier::Hmac(hmac::Key::new(h, secret)));
    }
    let (label, der) = parse_pem(key.as_bytes()).map_err(str::to_string)?;
    if label.ends_with("PRIVATE KEY") {
        // A private key verifies too: derive its public half.
        // Its complaint is about this verifying key, not the signing key.
        let (_, v) = signing_key(alg, key, &SystemRandom::new()).map_err(|e| match e {
            Error::Config(m) => m.trim_start_matches("signing_key: ").to_string(),
            other => other.to_string(),
        })?;
        return Ok(v);
    }
    let misfit = || format!("the key does not fit algorithm {}", alg.name());
    let (alg_oid, public): (&[u8], Vec<u8>) = match label.as_str() {
        "PUBLIC KEY" => spki(&der).ok_or_else(misfit)?,
        "RSA PUBLIC KEY" if alg == Algorithm::RS256 => (OID_RSA, der.clone()),
        _ => return Err(misfit()),
    };
    let params: &'static dyn signature::VerificationAlgorithm = match alg {
        Algorithm::EdDSA if contains(alg_oid, OID_ED25519) && public.len() == 32 => {
            &signature::ED25519
        }
        Algorithm::ES256
            if contains(alg_oid, OID_EC) && contains(alg_oid, OID_P256) && public.len() == 65 =>
        {
            &signature::ECDSA_P256_SHA256_FIXED
        }
        Algorithm::RS256 if contains(alg_oid, OID_RSA) => &signature::RSA_PKCS1_2048_8192_SHA256,
        _ => return Err(misfit()),
    };
    Ok(Verifier::Public(signature::UnparsedPublicKey::new(
        params, public,
    )))
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    contains(bytes, b"-----BEGIN ")
}

/// Decode one PEM block into its label and DER bytes.
fn parse_pem(text: &[u8]) -> std::result::Result<(String, Vec<u8>), &'static str> {
    let text = std::str::from_utf8(text).map_err(|_| "the key is not UTF-8 PEM text")?;
    let start = text
        .find("-----BEGIN ")
        .ok_or("expected a PEM key (-----BEGIN ...-----)")?;
    let rest = &text[start + 11..];
    let label_end = rest.find("-----").ok_or("malformed PEM header")?;
    let label = rest[..label_end].to_string();
    let body = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let body_end = body.find(&end_marker).ok_or("PEM END line missing")?;
    let b64: String = body[..body_end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = base64_simd::STANDARD
        .decode_to_vec(b64)
        .map_err(|_| "PEM body is not valid base64")?;
    Ok((label, der))
}

/// Read one DER TLV: (tag, content, rest).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | b as usize;
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// SubjectPublicKeyInfo → (algorithm identifier bytes, public key bytes).
fn spki(der: &[u8]) -> Option<(&[u8], Vec<u8>)> {
    let (tag, seq, _) = der_tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, alg_id, rest) = der_tlv(seq)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, bits, _) = der_tlv(rest)?;
    if tag != 0x03 || bits.first() != Some(&0) {
        return None;
    }
    Some((alg_id, bits[1..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_keys() {
        let cfg = Config::with_secret("super-secret-value-that-is-long-enough!!");
        let ring = KeyRing::from_config(&cfg).unwrap();
        let shown = format!("{ring:?} {cfg:?}");
        assert!(!shown.contains("super-secret"), "{shown}");
    }

    /// Resuming from a precomputed prefix gives exactly ring's HMAC, and verifying from it
    /// refuses every tag but that one. (Resumption is forced on, so this runs on any CPU.)
    #[cfg(feature = "resumed-hmac")]
    #[test]
    fn hmac_prefix_is_the_plain_hmac() {
        let secret = b"prefix-secret-0123456789abcdef0123456789abcdef";
        let plain_ring = KeyRing::hmac(Algorithm::HS256, secret).unwrap();
        force_resuming_on_this_thread();
        let mut ring = KeyRing::hmac(Algorithm::HS256, secret).unwrap();
        let block = 64;
        let message: Vec<u8> = (0..3 * block + 7).map(|i| b'a' + (i % 26) as u8).collect();
        let precomputed = |ring: &KeyRing| ring.resumed().map_or(0, |r| r.len());
        ring.precompute_hmac(&message[..block - 1]);
        assert_eq!(precomputed(&ring), 0, "under a block");
        ring.precompute_hmac(&message[..2 * block + 5]);
        ring.precompute_hmac(&message[..2 * block + 6]);
        assert_eq!(precomputed(&ring), 1, "one state per distinct prefix");
        let (mut plain, mut resumed) = ([0u8; 33], [0u8; 33]);
        for len in [2 * block, 2 * block + 1, message.len()] {
            let m = &message[..len];
            assert!(ring.covered(m));
            let n = plain_ring.sign_into(m, &mut plain).unwrap();
            assert_eq!(ring.sign_into(m, &mut resumed).unwrap(), n);
            assert_eq!(plain[..n], resumed[..n], "{len}");
            assert_eq!(ring.verify(None, m, &plain[..n]), Ok(()));
            let mut wrong = plain;
            wrong[n - 1] ^= 1;
            for tag in [&wrong[..n], &plain[..n - 1], &plain[..0], &plain[..n + 1]] {
                assert_eq!(ring.verify(None, m, tag), Err(Error::BadSignature), "{len}");
            }
        }
        // A message the prefix does not cover takes the plain HMAC.
        let mut other = message.clone();
        other[0] = b'Z';
        assert!(!ring.covered(&other));
        let n = ring.sign_into(&other, &mut resumed).unwrap();
        assert_eq!(plain_ring.verify(None, &other, &resumed[..n]), Ok(()));
    }

    /// Signing two messages at once gives each the tag it gets alone, for every HMAC
    /// algorithm, whether precomputed states cover both messages, one or neither.
    #[test]
    fn signing_two_at_once_is_signing_each() {
        let secret = b"prefix-secret-0123456789abcdef0123456789abcdef";
        force_resuming_on_this_thread();
        let a: Vec<u8> = (0..250).map(|i| b'a' + (i % 26) as u8).collect();
        let b: Vec<u8> = (0..190).map(|i| b'A' + (i % 26) as u8).collect();
        let mut uncovered = b.clone();
        uncovered[0] = b'!';
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let mut ring = KeyRing::hmac(alg, secret).unwrap();
            ring.precompute_hmac(&a[..70]);
            ring.precompute_hmac(&b[..130]);
            for (x, y) in [
                (&a, &b),
                (&b, &a),
                (&a, &uncovered),
                (&uncovered, &uncovered),
            ] {
                let (mut one, mut other) = ([0u8; 64], [0u8; 64]);
                let n = ring
                    .sign_two_into((x, &mut one[..]), (y, &mut other[..]))
                    .unwrap();
                let mut alone = [0u8; 64];
                assert_eq!(ring.sign_into(x, &mut alone).unwrap(), n);
                assert_eq!(one[..n], alone[..n], "{alg:?}");
                ring.sign_into(y, &mut alone).unwrap();
                assert_eq!(other[..n], alone[..n], "{alg:?}");
            }
            let mut short = [0u8; 8];
            let err = ring.sign_two_into((&a, &mut short[..]), (&b, &mut [0u8; 64][..]));
            assert!(matches!(err, Err(Error::BufferTooSmall { .. })), "{alg:?}");
        }
    }

    /// Only HS256 resumes, and only with hardware SHA-256.
    #[cfg(feature = "resumed-hmac")]
    #[test]
    fn only_hs256_on_hardware_sha256_resumes() {
        let secret = b"prefix-secret-0123456789abcdef0123456789abcdef";
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let mut ring = KeyRing::hmac(alg, secret).unwrap();
            ring.precompute_hmac(&[b'a'; 300]);
            let expected = alg == Algorithm::HS256 && prefix::hardware_sha256();
            assert_eq!(ring.covered(&[b'a'; 301]), expected, "{alg:?}");
        }
    }

    /// Without the `resumed-hmac` feature nothing is precomputed, on any CPU: every tag is
    /// ring's, and verifying takes ring's path.
    #[cfg(not(feature = "resumed-hmac"))]
    #[test]
    fn without_resuming_every_tag_is_rings() {
        let secret = b"prefix-secret-0123456789abcdef0123456789abcdef";
        let mut ring = KeyRing::hmac(Algorithm::HS256, secret).unwrap();
        let message = [b'a'; 301];
        ring.precompute_hmac(&message[..300]);
        assert!(!ring.covered(&message));
        let mut tag = [0u8; 32];
        assert_eq!(ring.sign_into(&message, &mut tag).unwrap(), 32);
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        assert_eq!(&tag[..], hmac::sign(&key, &message).as_ref());
        assert_eq!(ring.verify(None, &message, &tag), Ok(()));
        tag[0] ^= 1;
        assert_eq!(ring.verify(None, &message, &tag), Err(Error::BadSignature));
    }
}
