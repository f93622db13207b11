/* keyfob_engine_jwks: the public JWK of keys made by OpenSSL, whose parameters OpenSSL
 * derives independently (Ed25519's raw key, P-256's point, RSA's n and e); a rotated-out key
 * stays published; HMAC keys are never published; NULLs are refused. */
#include "check.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "craft.h"

static void need(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "test_jwks: OpenSSL failed: %s\n", what);
        exit(1);
    }
}

/* The key's PKCS#8 PEM with its newlines escaped for a JSON string (malloc'd). */
static char *pem_for_json(EVP_PKEY *pkey) {
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem, *out;
    long len;
    size_t j = 0;
    need(bio != NULL && PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) == 1,
         "PKCS#8 PEM");
    len = BIO_get_mem_data(bio, &pem);
    out = malloc(2 * (size_t)len + 1);
    need(out != NULL, "malloc");
    for (long i = 0; i < len; i++) {
        if (pem[i] == '\n') {
            out[j++] = '\\';
            out[j++] = 'n';
        } else {
            out[j++] = pem[i];
        }
    }
    out[j] = '\0';
    BIO_free(bio);
    return out;
}

/* The engine's JWK Set JSON for `pkey` signing under `alg` with key_id `kid`, plus
 * `extra_config` (JSON members, may be ""); malloc'd. */
static char *jwks_of(EVP_PKEY *pkey, const char *alg, const char *kid, const char *extra_config) {
    char *pem = pem_for_json(pkey);
    size_t size = strlen(pem) + strlen(extra_config) + 128;
    char *config = malloc(size);
    keyfob_engine *engine = NULL;
    keyfob_string *jwks = SENTINEL(keyfob_string);
    char *out;
    need(config != NULL, "malloc");
    snprintf(config, size, "{\"algorithm\":\"%s\",\"key_id\":\"%s\",\"signing_key\":\"%s\"%s}",
             alg, kid, pem, extra_config);
    CHECK_OK(keyfob_engine_new(STR(config), &engine));
    CHECK_OK(keyfob_engine_jwks(engine, &jwks));
    CHECK(jwks != NULL && keyfob_string_len(jwks) == strlen(keyfob_string_ptr(jwks)));
    out = malloc(keyfob_string_len(jwks) + 1);
    need(out != NULL, "malloc");
    memcpy(out, keyfob_string_ptr(jwks), keyfob_string_len(jwks) + 1);
    keyfob_string_free(jwks);
    keyfob_engine_free(engine);
    free(config);
    free(pem);
    return out;
}

static void b64url_str(const uint8_t *in, size_t n, char *out) {
    out[b64url(in, n, out)] = '\0';
}

static void ed25519(void) {
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    uint8_t pub[32];
    size_t pub_len = sizeof pub;
    char x[48], want[160];
    char *jwks;
    need(pkey != NULL && EVP_PKEY_get_raw_public_key(pkey, pub, &pub_len) == 1, "Ed25519");
    b64url_str(pub, 32, x);
    snprintf(want, sizeof want,
             "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"kid\":\"ed-1\","
             "\"use\":\"sig\",\"alg\":\"EdDSA\"}]}",
             x);
    jwks = jwks_of(pkey, "EdDSA", "ed-1", "");
    CHECK(strcmp(jwks, want) == 0);
    free(jwks);
    EVP_PKEY_free(pkey);
}

static void p256_with_a_rotated_out_key(void) {
    EVP_PKEY *old_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *new_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    uint8_t point[65];
    size_t point_len = sizeof point;
    char x[48], y[48], want[200], *old_pem, *extra, *jwks;
    size_t size;
    need(old_key != NULL && new_key != NULL, "P-256 keygen");
    need(EVP_PKEY_get_octet_string_param(old_key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                         sizeof point, &point_len) == 1 &&
             point_len == 65,
         "P-256 point");
    b64url_str(point + 1, 32, x);
    b64url_str(point + 33, 32, y);
    snprintf(want, sizeof want,
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":\"ec-old\","
             "\"use\":\"sig\",\"alg\":\"ES256\"}]}",
             x, y);
    /* The old key verifies (and is published) under its kid; the new one signs. */
    old_pem = pem_for_json(old_key);
    size = strlen(old_pem) + 64;
    extra = malloc(size);
    need(extra != NULL, "malloc");
    snprintf(extra, size, ",\"verifying_keys\":{\"ec-old\":\"%s\"}", old_pem);
    jwks = jwks_of(new_key, "ES256", "ec-new", extra);
    CHECK(strncmp(jwks, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",", 35) == 0);
    CHECK(strstr(jwks, "\"kid\":\"ec-new\"") != NULL);
    /* The old key comes second, with OpenSSL's coordinates, and ends the set. */
    CHECK(strlen(jwks) > strlen(want) && strcmp(jwks + strlen(jwks) - strlen(want), want) == 0);
    free(jwks);
    free(extra);
    free(old_pem);
    EVP_PKEY_free(old_key);
    EVP_PKEY_free(new_key);
}

static void rsa(void) {
    FILE *f = fopen("tests/data/rsa2048_private.pem", "r");
    EVP_PKEY *pkey;
    BIGNUM *n = NULL, *e = NULL;
    uint8_t n_bytes[256], e_bytes[8];
    int e_len;
    char n_b64[360], e_b64[16], want[480], *jwks;
    need(f != NULL, "open tests/data/rsa2048_private.pem (run from the repository root)");
    pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    need(pkey != NULL, "read the RSA key");
    need(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
             EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1,
         "RSA n and e");
    need(BN_num_bytes(n) == 256 && BN_bn2bin(n, n_bytes) == 256, "n is 2048 bits");
    e_len = BN_bn2bin(e, e_bytes);
    b64url_str(n_bytes, 256, n_b64);
    b64url_str(e_bytes, (size_t)e_len, e_b64);
    snprintf(want, sizeof want,
             "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\",\"kid\":\"rsa-1\","
             "\"use\":\"sig\",\"alg\":\"RS256\"}]}",
             n_b64, e_b64);
    jwks = jwks_of(pkey, "RS256", "rsa-1", "");
    CHECK(strcmp(jwks, want) == 0);
    free(jwks);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(pkey);
}

static void refusals(void) {
    keyfob_engine *engine = NULL;
    keyfob_string *jwks = SENTINEL(keyfob_string);
    CHECK_OK(keyfob_engine_new(STR("{\"signing_key\":\"" SECRET "\",\"key_id\":\"k\"}"), &engine));
    /* HMAC keys are secrets: never published, and the out-parameter is reset. */
    CHECK_STATUS(keyfob_engine_jwks(engine, &jwks), KEYFOB_CONFIG);
    CHECK(jwks == NULL);
    CHECK_STATUS(keyfob_engine_jwks(engine, NULL), KEYFOB_INVALID_ARGUMENT);
    jwks = SENTINEL(keyfob_string);
    CHECK_STATUS(keyfob_engine_jwks(NULL, &jwks), KEYFOB_INVALID_ARGUMENT);
    CHECK(jwks == NULL);
    keyfob_engine_free(engine);
}

void test_jwks(void) {
    ed25519();
    p256_with_a_rotated_out_key();
    rsa();
    refusals();
}
