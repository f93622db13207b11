/* DPoP proofs signed with OpenSSL 3 keys (see dpop_key.h). Signing ES256 or Ed25519 by hand
 * is out of proportion for a test, so the tests borrow libcrypto for it. */
#include "dpop_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "craft.h"

struct dpop_key {
    dpop_alg alg;
    EVP_PKEY *pkey;
    char jwk[192];
};

static void need(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "dpop_key: OpenSSL failed: %s\n", what);
        exit(1);
    }
}

/* base64url of `n` bytes as a NUL-terminated string in `out` (room for 4 * ceil(n / 3) + 1). */
static void b64url_str(const uint8_t *in, size_t n, char *out) {
    out[b64url(in, n, out)] = '\0';
}

dpop_key *dpop_key_new(dpop_alg alg) {
    dpop_key *key = calloc(1, sizeof *key);
    uint8_t pub[65];
    size_t pub_len = sizeof pub;
    char x[48], y[48];
    int n;
    need(key != NULL, "calloc");
    key->alg = alg;
    if (alg == DPOP_ES256) {
        key->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        need(key->pkey != NULL, "P-256 keygen");
        /* The uncompressed point: 0x04 || x || y. */
        need(EVP_PKEY_get_octet_string_param(key->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                             pub, sizeof pub, &pub_len) == 1 &&
                 pub_len == 65 && pub[0] == 4,
             "P-256 public point");
        b64url_str(pub + 1, 32, x);
        b64url_str(pub + 33, 32, y);
        n = snprintf(key->jwk, sizeof key->jwk,
                     "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x, y);
    } else {
        key->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        need(key->pkey != NULL, "Ed25519 keygen");
        pub_len = 32;
        need(EVP_PKEY_get_raw_public_key(key->pkey, pub, &pub_len) == 1 && pub_len == 32,
             "Ed25519 public key");
        b64url_str(pub, 32, x);
        n = snprintf(key->jwk, sizeof key->jwk, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}",
                     x);
    }
    need(n > 0 && (size_t)n < sizeof key->jwk, "JWK fits");
    return key;
}

void dpop_key_free(dpop_key *key) {
    if (key) {
        EVP_PKEY_free(key->pkey);
        free(key);
    }
}

const char *dpop_key_alg(const dpop_key *key) {
    return key->alg == DPOP_ES256 ? "ES256" : "EdDSA";
}

const char *dpop_key_jwk(const dpop_key *key) {
    return key->jwk;
}

/* The JWS signature over `input`: r || s (32 bytes each) for ES256, as JOSE wants it
 * (OpenSSL answers DER), or the 64-byte Ed25519 signature. */
static void sign(const dpop_key *key, const char *input, size_t len, uint8_t out[64]) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t sig_len = sizeof der;
    need(ctx != NULL, "EVP_MD_CTX_new");
    need(EVP_DigestSignInit(ctx, NULL, key->alg == DPOP_ES256 ? EVP_sha256() : NULL, NULL,
                            key->pkey) == 1,
         "EVP_DigestSignInit");
    need(EVP_DigestSign(ctx, der, &sig_len, (const uint8_t *)input, len) == 1, "EVP_DigestSign");
    EVP_MD_CTX_free(ctx);
    if (key->alg == DPOP_ES256) {
        const uint8_t *p = der;
        const BIGNUM *r, *s;
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
        need(sig != NULL, "d2i_ECDSA_SIG");
        ECDSA_SIG_get0(sig, &r, &s);
        need(BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(s, out + 32, 32) == 32, "r || s");
        ECDSA_SIG_free(sig);
    } else {
        need(sig_len == 64, "Ed25519 signature length");
        memcpy(out, der, 64);
    }
}

char *dpop_proof(const dpop_key *key, const char *htm, const char *htu, int64_t iat,
                 const char *access_token) {
    static unsigned long proofs_made = 0;
    char header[320], payload[1024], ath[48] = "";
    uint8_t digest[32], sig[64];
    size_t cap, n;
    char *proof;
    int hl, pl;
    if (access_token) {
        sha256((const uint8_t *)access_token, strlen(access_token), digest);
        b64url_str(digest, 32, ath);
    }
    hl = snprintf(header, sizeof header, "{\"typ\":\"dpop+jwt\",\"alg\":\"%s\",\"jwk\":%s}",
                  dpop_key_alg(key), key->jwk);
    pl = snprintf(payload, sizeof payload,
                  "{\"jti\":\"c-test-proof-%lu\",\"htm\":\"%s\",\"htu\":\"%s\",\"iat\":%lld%s%s%s}",
                  ++proofs_made, htm, htu, (long long)iat, access_token ? ",\"ath\":\"" : "",
                  ath, access_token ? "\"" : "");
    need(hl > 0 && (size_t)hl < sizeof header && pl > 0 && (size_t)pl < sizeof payload,
         "proof fits");
    cap = ((size_t)hl + (size_t)pl + 64) * 4 / 3 + 16;
    proof = malloc(cap);
    need(proof != NULL, "malloc");
    n = b64url((const uint8_t *)header, (size_t)hl, proof);
    proof[n++] = '.';
    n += b64url((const uint8_t *)payload, (size_t)pl, proof + n);
    sign(key, proof, n, sig);
    proof[n++] = '.';
    n += b64url(sig, 64, proof + n);
    proof[n] = '\0';
    return proof;
}
