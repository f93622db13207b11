//! The peer of the Rust comparisons: jsonwebtoken 9, signing and checking exactly the claims
//! keyfob wrote in one of its access tokens, with the same header and key, so the peer's
//! token has the same shape and length as keyfob's.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use keyfob::Engine;
use serde::{Deserialize, Serialize};

/// The secret every Rust bench signs with, keyfob and peer alike.
pub const SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef";

/// The claims of a keyfob access token, as a jsonwebtoken user would declare them.
#[derive(Serialize, Deserialize)]
pub struct AccessClaims {
    token_type: String,
    exp: i64,
    iat: i64,
    jti: String,
    user_id: String,
    sid: String,
}

pub struct Peer {
    pub claims: AccessClaims,
    /// The peer's own token of those claims.
    #[allow(dead_code)] // not every bench decodes
    pub token: String,
    enc_key: EncodingKey,
    dec_key: DecodingKey,
    validation: Validation,
}

impl Peer {
    /// The peer of `access`, an access token `engine` minted (and still accepts).
    pub fn of(engine: &Engine, access: &str) -> Peer {
        let claims = engine
            .verify(access)
            .expect("a fresh access token verifies");
        // Read back through the payload JSON: the claims exactly as keyfob wrote them.
        let claims: AccessClaims =
            serde_json::from_str(claims.to_json()).expect("keyfob access-token claims");
        let enc_key = EncodingKey::from_secret(SECRET.as_bytes());
        let token = jsonwebtoken::encode(&Header::default(), &claims, &enc_key).unwrap();
        assert_eq!(
            token.len(),
            access.len(),
            "the peer's token has keyfob's shape"
        );
        Peer {
            claims,
            token,
            enc_key,
            dec_key: DecodingKey::from_secret(SECRET.as_bytes()),
            validation: Validation::new(Algorithm::HS256),
        }
    }

    /// `jsonwebtoken::encode` of the claims, as a login with jsonwebtoken would call it.
    #[inline]
    pub fn encode(&self, claims: &AccessClaims) -> String {
        jsonwebtoken::encode(&Header::default(), claims, &self.enc_key).unwrap()
    }

    /// `jsonwebtoken::decode` of `token`, checking signature and expiry.
    #[allow(dead_code)] // not every bench decodes
    #[inline]
    pub fn decode(&self, token: &str) -> AccessClaims {
        jsonwebtoken::decode::<AccessClaims>(token, &self.dec_key, &self.validation)
            .unwrap()
            .claims
    }
}
