/* Hand-made tokens for the error tests: HS256 JWS over any header and payload, so the
 * tests can present what keyfob never mints (no sid, alg "none", a string exp, a kid). */
#ifndef KEYFOB_TEST_CRAFT_H
#define KEYFOB_TEST_CRAFT_H

#include <stddef.h>
#include <stdint.h>

/* HMAC-SHA256 of `msg` under `key` into `out` (32 bytes). */
void hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len,
                 uint8_t out[32]);

/* base64url(header) "." base64url(payload) "." base64url(HMAC-SHA256 under secret), in a
 * malloc'd NUL-terminated string the caller frees. */
char *craft_hs256(const char *secret, const char *header_json, const char *payload_json);

#endif
