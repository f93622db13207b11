/* Hand-made tokens for the error tests: HS256 JWS over any header and payload, so the
 * tests can present what keyfob never mints (no sid, alg "none", a string exp, a kid);
 * its SHA-256 and base64url also serve the DPoP proofs (dpop_key.h). */
#ifndef KEYFOB_TEST_CRAFT_H
#define KEYFOB_TEST_CRAFT_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256 of `msg` into `out` (32 bytes). */
void sha256(const uint8_t *msg, size_t msg_len, uint8_t out[32]);

/* HMAC-SHA256 of `msg` under `key` into `out` (32 bytes). */
void hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                 uint8_t out[32]);

/* Append base64url (no padding) of `in` at `out` (room for 4 * ceil(n / 3) characters);
 * returns the characters written, with no NUL. */
size_t b64url(const uint8_t *in, size_t n, char *out);

/* base64url(header) "." base64url(payload) "." base64url(HMAC-SHA256 under secret), in a
 * malloc'd NUL-terminated string the caller frees. */
char *craft_hs256(const char *secret, const char *header_json, const char *payload_json);

#endif
