//! The key ring's public keys as a JWK Set (RFC 7517), for verifiers elsewhere: gateways,
//! other services, other languages. Every key that verifies is published (the signing key
//! first, then each verifying key by `kid`), so tokens signed before a key rotation keep
//! verifying wherever the set is fetched.
//!
//! The parameters come from the public key bytes ring verifies with, whatever the key was
//! parsed from (PKCS#8 or PKCS#1 private key, SPKI or PKCS#1 public key): Ed25519's 32 bytes
//! as `x` (RFC 8037), P-256's uncompressed point split into `x` and `y` (RFC 7518 §6.2), and
//! RSA's modulus and exponent read from the PKCS#1 `RSAPublicKey` DER (RFC 7518 §6.3).
//! HMAC keys are secrets: asking for their set is an error, never a publication.

use base64_simd::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::{der_tlv, Algorithm, KeyRing, Verifier};
use crate::error::{Error, Result};

/// A JWK Set (RFC 7517 §5): `{"keys": [...]}`, from [`crate::Engine::jwks`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwks {
    keys: Vec<Jwk>,
}

impl Jwks {
    /// The keys: the signing key first, then each verifying key in `kid` order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// The set as JSON text, ready to serve (e.g. at `/.well-known/jwks.json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a JWK Set is plain strings")
    }
}

/// One public key (RFC 7517 §4), always with `kid`, `alg` and `"use": "sig"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Jwk {
    /// `kty` and the key's own parameters.
    #[serde(flatten)]
    pub params: JwkParams,
    /// The key id tokens signed by this key carry in their `kid` header.
    pub kid: String,
    /// Always `"sig"`: the key verifies signatures.
    #[serde(rename = "use")]
    pub key_use: &'static str,
    /// The JWS algorithm the key is for: `EdDSA`, `ES256` or `RS256`.
    pub alg: &'static str,
}

/// A public key's type (`kty`) and parameters, base64url without padding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kty")]
#[non_exhaustive]
pub enum JwkParams {
    /// An Ed25519 key (RFC 8037): `crv` is `"Ed25519"`, `x` the 32-byte public key.
    #[serde(rename = "OKP")]
    Okp {
        /// The curve.
        crv: &'static str,
        /// The public key.
        x: String,
    },
    /// A P-256 key (RFC 7518 §6.2): `crv` is `"P-256"`, `x` and `y` the point's coordinates.
    #[serde(rename = "EC")]
    Ec {
        /// The curve.
        crv: &'static str,
        /// The x coordinate (32 bytes).
        x: String,
        /// The y coordinate (32 bytes).
        y: String,
    },
    /// An RSA key (RFC 7518 §6.3): modulus `n` and public exponent `e`, big-endian without
    /// leading zero bytes.
    #[serde(rename = "RSA")]
    Rsa {
        /// The modulus.
        n: String,
        /// The public exponent.
        e: String,
    },
}

impl KeyRing {
    /// The public keys of this ring as a JWK Set. An HMAC ring has none to publish (its keys
    /// are secrets), and a signing key without a `key_id` could not be told apart by
    /// verifiers: both are `config` errors that say so.
    pub fn jwks(&self) -> Result<Jwks> {
        if self.algorithm.hmac().is_some() {
            return Err(Error::Config(format!(
                "jwks: {} keys are shared secrets and are never published; a JWK Set needs \
                 an asymmetric algorithm (EdDSA, ES256 or RS256)",
                self.algorithm.name()
            )));
        }
        let kid = self.kid.as_deref().ok_or_else(|| {
            Error::Config(
                "jwks: the signing key has no key_id; set key_id so that tokens name their key \
                 in a 'kid' header, which verifiers look up in the JWK Set"
                    .into(),
            )
        })?;
        let mut keys = Vec::with_capacity(1 + self.others.len());
        keys.push(jwk(self.algorithm, kid, &self.primary)?);
        for (kid, verifier) in &self.others {
            keys.push(jwk(self.algorithm, kid, verifier)?);
        }
        Ok(Jwks { keys })
    }
}

fn jwk(alg: Algorithm, kid: &str, verifier: &Verifier) -> Result<Jwk> {
    let Verifier::Public(key) = verifier else {
        unreachable!("an asymmetric ring holds only public verifiers");
    };
    let params = params(alg, key.as_ref()).map_err(|why| {
        Error::Config(format!(
            "jwks: the key '{kid}' cannot be written as a JWK: {why}"
        ))
    })?;
    Ok(Jwk {
        params,
        kid: kid.to_string(),
        key_use: "sig",
        alg: alg.name(),
    })
}

/// The JWK parameters of `public`, the bytes ring verifies `alg` signatures with.
fn params(alg: Algorithm, public: &[u8]) -> std::result::Result<JwkParams, &'static str> {
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode_to_string(bytes);
    match alg {
        Algorithm::EdDSA => {
            if public.len() != 32 {
                return Err("an Ed25519 public key is 32 bytes");
            }
            Ok(JwkParams::Okp {
                crv: "Ed25519",
                x: b64(public),
            })
        }
        Algorithm::ES256 => match public {
            [0x04, point @ ..] if point.len() == 64 => Ok(JwkParams::Ec {
                crv: "P-256",
                x: b64(&point[..32]),
                y: b64(&point[32..]),
            }),
            _ => Err("a P-256 public key must be an uncompressed point (65 bytes, 0x04 first)"),
        },
        Algorithm::RS256 => {
            let (n, e) = rsa_public_key(public).ok_or("not a PKCS#1 RSAPublicKey")?;
            Ok(JwkParams::Rsa {
                n: b64(n),
                e: b64(e),
            })
        }
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Err("an HMAC key is a secret"),
    }
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017 A.1.1)
/// → (modulus, exponent) as unsigned big-endian bytes. Nothing may follow either.
fn rsa_public_key(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (tag, seq, rest) = der_tlv(der)?;
    if tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let (tag, n, rest) = der_tlv(seq)?;
    if tag != 0x02 {
        return None;
    }
    let (tag, e, rest) = der_tlv(rest)?;
    if tag != 0x02 || !rest.is_empty() {
        return None;
    }
    Some((unsigned(n)?, unsigned(e)?))
}

/// A positive DER INTEGER's magnitude: without the zero bytes that keep its sign bit clear
/// (a JWK's `n` and `e` have no leading zeros). `None` for a negative or empty integer.
fn unsigned(int: &[u8]) -> Option<&[u8]> {
    if int.first()? & 0x80 != 0 {
        return None;
    }
    let start = int.iter().position(|&b| b != 0).unwrap_or(int.len() - 1);
    Some(&int[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_integers_lose_their_sign_padding_only() {
        // SEQUENCE { INTEGER 0x00 0x80 0x01, INTEGER 0x01 0x00 0x01 }
        let der = [
            0x30, 0x0a, 0x02, 0x03, 0x00, 0x80, 0x01, 0x02, 0x03, 0x01, 0x00, 0x01,
        ];
        assert_eq!(
            rsa_public_key(&der),
            Some((&[0x80, 0x01][..], &[0x01, 0x00, 0x01][..]))
        );
        // Trailing bytes after the sequence, or after the exponent, are refused.
        let mut trailing = der.to_vec();
        trailing.push(0);
        assert_eq!(rsa_public_key(&trailing), None);
        let mut inner = der.to_vec();
        inner[1] += 1;
        inner.insert(12, 0);
        assert_eq!(rsa_public_key(&inner), None);
        // A negative modulus, a wrong tag, truncation: refused.
        assert_eq!(unsigned(&[0x80]), None);
        assert_eq!(unsigned(&[]), None);
        assert_eq!(unsigned(&[0x00]), Some(&[0x00][..]));
        let mut wrong_tag = der;
        wrong_tag[2] = 0x04;
        assert_eq!(rsa_public_key(&wrong_tag), None);
        assert_eq!(rsa_public_key(&der[..der.len() - 1]), None);
    }

    #[test]
    fn points_and_keys_of_the_wrong_shape_are_refused() {
        assert!(params(Algorithm::EdDSA, &[0; 31]).is_err());
        assert!(params(Algorithm::ES256, &[0x02; 33]).is_err());
        let mut point = [7u8; 65];
        assert!(params(Algorithm::ES256, &point).is_err());
        point[0] = 0x04;
        let Ok(JwkParams::Ec { x, y, .. }) = params(Algorithm::ES256, &point) else {
            panic!("an uncompressed point");
        };
        assert_eq!((x.len(), y.len()), (43, 43));
        assert!(params(Algorithm::HS256, &[0; 32]).is_err());
    }

    #[test]
    fn the_json_has_the_members_verifiers_read() {
        let set = Jwks {
            keys: vec![Jwk {
                params: JwkParams::Okp {
                    crv: "Ed25519",
                    x: "AQ".into(),
                },
                kid: "k1".into(),
                key_use: "sig",
                alg: "EdDSA",
            }],
        };
        assert_eq!(
            set.to_json(),
            r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AQ","kid":"k1","use":"sig","alg":"EdDSA"}]}"#
        );
    }
}
