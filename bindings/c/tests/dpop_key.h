/* DPoP client keys for the tests, through OpenSSL's libcrypto (linked by the tests only,
 * never by keyfob): ES256 (P-256) and EdDSA (Ed25519) key pairs, their public JWKs, and
 * RFC 9449 proofs signed with them. */
#ifndef KEYFOB_TEST_DPOP_KEY_H
#define KEYFOB_TEST_DPOP_KEY_H

#include <stdint.h>

typedef enum { DPOP_ES256, DPOP_EDDSA } dpop_alg;

/* A fresh random key pair; stops the test on failure. Free with dpop_key_free. */
typedef struct dpop_key dpop_key;
dpop_key *dpop_key_new(dpop_alg alg);
void dpop_key_free(dpop_key *key);

/* The key's JOSE algorithm name ("ES256" or "EdDSA"). */
const char *dpop_key_alg(const dpop_key *key);

/* The public JWK as JSON text (borrowed from the key). */
const char *dpop_key_jwk(const dpop_key *key);

/* A proof for a request: header {"typ":"dpop+jwt","alg","jwk"}, payload {"jti" (unique per
 * call), "htm", "htu", "iat"} plus "ath" = base64url(SHA-256(access_token)) when
 * access_token is not NULL. A malloc'd NUL-terminated string the caller frees. */
char *dpop_proof(const dpop_key *key, const char *htm, const char *htu, int64_t iat,
                 const char *access_token);

#endif
