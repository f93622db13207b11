/* Sessions bound to their client through the C ABI: the client binding value, DPoP proofs
 * made here with real ES256 and Ed25519 keys (dpop_key.h), a stolen refresh token failing
 * without the key, with another key, replayed, or for another method or URL; and every
 * new pointer argument given NULL or bytes that are not UTF-8. */
#include "check.h"
#include "dpop_key.h"

#define CONFIG "{\"signing_key\": \"" SECRET "\"}"
#define TOKEN_URL "https://api.example.com/token"
#define API_URL "https://api.example.com/things"
#define BAD KEYFOB_INVALID_ARGUMENT

static const uint8_t NOT_UTF8[] = {'a', 0xff, 0xfe, 'b'};

/* A presentation of the given members; NULL leaves a member absent. */
static keyfob_presentation present(const char *client_id, const char *proof, const char *method,
                                   const char *url) {
    keyfob_presentation p = {NULL, 0, NULL, 0, NULL, 0, NULL, 0};
    if (client_id) {
        p.client_id = (const uint8_t *)client_id;
        p.client_id_len = strlen(client_id);
    }
    if (proof) {
        p.dpop_proof = (const uint8_t *)proof;
        p.dpop_proof_len = strlen(proof);
    }
    if (method) {
        p.http_method = (const uint8_t *)method;
        p.http_method_len = strlen(method);
    }
    if (url) {
        p.http_url = (const uint8_t *)url;
        p.http_url_len = strlen(url);
    }
    return p;
}

/* keyfob_engine_refresh_bound / keyfob_engine_validate_bound with one fresh proof (freed here). */
static keyfob_status refresh_with_proof(keyfob_engine *engine, const char *refresh,
                                        const dpop_key *key, const char *htm, const char *htu,
                                        int64_t iat, const char *method, const char *url,
                                        keyfob_token_pair **pair_out) {
    char *proof = dpop_proof(key, htm, htu, iat, NULL);
    keyfob_presentation p = present(NULL, proof, method, url);
    keyfob_status status = keyfob_engine_refresh_bound(engine, STR(refresh), &p, pair_out);
    free(proof);
    return status;
}

static keyfob_status validate_with_proof(keyfob_engine *engine, const char *access,
                                         const dpop_key *key, const char *ath_of,
                                         keyfob_string **claims_out) {
    char *proof = dpop_proof(key, "GET", API_URL, T0, ath_of);
    keyfob_presentation p = present(NULL, proof, "GET", API_URL);
    keyfob_status status = keyfob_engine_validate_bound(engine, STR(access), &p, claims_out);
    free(proof);
    return status;
}

static void test_client_id_binding(keyfob_manual_clock *clock) {
    keyfob_engine *engine = engine_on(clock, CONFIG);
    keyfob_presentation app = present("mobile-app", NULL, NULL, NULL);
    keyfob_presentation other = present("web-app", NULL, NULL, NULL);
    keyfob_token_pair *pair = NULL, *next = NULL, *p = SENTINEL(keyfob_token_pair);
    keyfob_string *claims = NULL;

    CHECK_OK(keyfob_engine_login_bound(engine, STR("alice"), NULL, 0, &app, &pair));
    /* The value itself is never written into a token. */
    CHECK_OK(keyfob_engine_verify(engine, STR(refresh_of(pair)), &claims));
    CHECK(strstr(keyfob_string_ptr(claims), "mobile-app") == NULL);
    keyfob_string_free(claims);
    /* Validate does not ask for the client unless bind_validate is on. */
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(pair)), NULL));
    CHECK_OK(keyfob_engine_validate_bound(engine, STR(access_of(pair)), &other, NULL));
    /* The same client refreshes. */
    CHECK_OK(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &app, &next));
    keyfob_token_pair_free(pair);
    pair = next;
    /* Another client, or none, is a mismatch, and by default revokes the session. */
    CHECK_STATUS(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &other, &p),
                 KEYFOB_CLIENT_MISMATCH);
    CHECK(p == NULL);
    CHECK_STATUS(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &app, &p), KEYFOB_REVOKED);
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(pair)), NULL), KEYFOB_REVOKED);
    keyfob_token_pair_free(pair);

    /* Plain keyfob_engine_refresh presents no client: a mismatch too. */
    CHECK_OK(keyfob_engine_login_bound(engine, STR("alice"), NULL, 0, &app, &pair));
    CHECK_STATUS(keyfob_engine_refresh(engine, STR(refresh_of(pair)), &p), KEYFOB_CLIENT_MISMATCH);
    CHECK_STATUS(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &app, &p), KEYFOB_REVOKED);
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(pair)), NULL), KEYFOB_REVOKED);
    keyfob_token_pair_free(pair);

    /* An unbound session ignores a presented client. */
    pair = login_as(engine, "bob");
    CHECK_OK(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &other, &next));
    CHECK_OK(keyfob_engine_validate_bound(engine, STR(access_of(next)), &app, NULL));
    keyfob_token_pair_free(next);
    keyfob_token_pair_free(pair);
    keyfob_engine_free(engine);
}

static void test_client_id_options(keyfob_manual_clock *clock) {
    keyfob_engine *engine = engine_on(
        clock, "{\"signing_key\": \"" SECRET "\", \"client_mismatch_revokes\": false,"
               " \"bind_validate\": true}");
    keyfob_presentation app = present("device-42", NULL, NULL, NULL);
    keyfob_presentation other = present("device-43", NULL, NULL, NULL);
    keyfob_token_pair *pair = NULL, *next = NULL, *p = NULL;

    CHECK_OK(keyfob_engine_login_bound(engine, STR("carol"), NULL, 0, &app, &pair));
    /* bind_validate: the access token needs its client too. */
    CHECK_OK(keyfob_engine_validate_bound(engine, STR(access_of(pair)), &app, NULL));
    CHECK_STATUS(keyfob_engine_validate_bound(engine, STR(access_of(pair)), &other, NULL),
                 KEYFOB_CLIENT_MISMATCH);
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(pair)), NULL), KEYFOB_CLIENT_MISMATCH);
    /* Without client_mismatch_revokes the rightful client carries on. */
    CHECK_STATUS(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &other, &p),
                 KEYFOB_CLIENT_MISMATCH);
    CHECK_OK(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &app, &next));
    CHECK_OK(keyfob_engine_validate_bound(engine, STR(access_of(next)), &app, NULL));
    keyfob_token_pair_free(next);
    keyfob_token_pair_free(pair);
    keyfob_engine_free(engine);
}

/* The whole DPoP flow with one kind of key: `mine` is the client's, `thief` anyone else's. */
static void test_dpop_flow(keyfob_manual_clock *clock, dpop_alg alg) {
    keyfob_engine *engine = engine_on(clock, CONFIG);
    dpop_key *mine = dpop_key_new(alg), *thief = dpop_key_new(alg);
    keyfob_token_pair *pair = NULL, *next = NULL, *p = SENTINEL(keyfob_token_pair);
    keyfob_string *jkt = NULL, *claims = SENTINEL(keyfob_string);
    char *login_proof = dpop_proof(mine, "POST", TOKEN_URL, T0, NULL), *proof;
    keyfob_presentation login = present(NULL, login_proof, "POST", TOKEN_URL);
    keyfob_presentation presented;
    char expected_cnf[96];

    /* Login binds the session to the key: every token carries cnf.jkt, its thumbprint. */
    CHECK_OK(keyfob_engine_login_bound(engine, STR("dave"), STR("{\"role\": \"admin\"}"), &login, &pair));
    CHECK_OK(keyfob_jwk_thumbprint(STR(dpop_key_jwk(mine)), &jkt));
    CHECK(keyfob_string_len(jkt) == 43);
    sprintf(expected_cnf, "\"cnf\":{\"jkt\":\"%s\"}", keyfob_string_ptr(jkt));
    CHECK_OK(keyfob_engine_verify(engine, STR(access_of(pair)), &claims));
    CHECK(strstr(keyfob_string_ptr(claims), expected_cnf) != NULL);
    keyfob_string_free(claims);
    CHECK_OK(keyfob_engine_verify(engine, STR(refresh_of(pair)), &claims));
    CHECK(strstr(keyfob_string_ptr(claims), expected_cnf) != NULL);
    keyfob_string_free(claims);
    /* The login proof cannot log in a second time. */
    CHECK_STATUS(keyfob_engine_login_bound(engine, STR("dave"), NULL, 0, &login, &p),
                 KEYFOB_DPOP_REPLAYED);
    CHECK(p == NULL);

    /* Validate: a proof from the key over this request, with ath = the token's hash. */
    claims = SENTINEL(keyfob_string);
    CHECK_OK(validate_with_proof(engine, access_of(pair), mine, access_of(pair), &claims));
    CHECK(strstr(keyfob_string_ptr(claims), expected_cnf) != NULL);
    CHECK(strstr(keyfob_string_ptr(claims), "\"role\":\"admin\"") != NULL);
    keyfob_string_free(claims);
    claims = SENTINEL(keyfob_string);
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(pair)), &claims), KEYFOB_DPOP_INVALID);
    CHECK(claims == NULL);
    CHECK_STATUS(keyfob_engine_validate_bound(engine, STR(access_of(pair)), NULL, NULL),
                 KEYFOB_DPOP_INVALID);
    CHECK_STATUS(validate_with_proof(engine, access_of(pair), mine, NULL, NULL),
                 KEYFOB_DPOP_INVALID); /* no ath */
    CHECK_STATUS(validate_with_proof(engine, access_of(pair), mine, refresh_of(pair), NULL),
                 KEYFOB_DPOP_INVALID); /* ath of another token */
    CHECK_STATUS(validate_with_proof(engine, access_of(pair), thief, access_of(pair), NULL),
                 KEYFOB_DPOP_INVALID);

    /* A stolen refresh token: no proof, the thief's key, a wrong method or URL, a stale
     * or future iat, a method in another case. None of these rotates or revokes. */
    p = SENTINEL(keyfob_token_pair);
    CHECK_STATUS(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), NULL, &p),
                 KEYFOB_DPOP_INVALID);
    CHECK(p == NULL);
    CHECK_STATUS(keyfob_engine_refresh(engine, STR(refresh_of(pair)), &p), KEYFOB_DPOP_INVALID);
    CHECK_STATUS(refresh_with_proof(engine, refresh_of(pair), thief, "POST", TOKEN_URL, T0,
                                    "POST", TOKEN_URL, &p),
                 KEYFOB_DPOP_INVALID);
    CHECK_STATUS(refresh_with_proof(engine, refresh_of(pair), mine, "GET", TOKEN_URL, T0, "POST",
                                    TOKEN_URL, &p),
                 KEYFOB_DPOP_INVALID);
    CHECK_STATUS(refresh_with_proof(engine, refresh_of(pair), mine, "POST", API_URL, T0, "POST",
                                    TOKEN_URL, &p),
                 KEYFOB_DPOP_INVALID);
    CHECK_STATUS(refresh_with_proof(engine, refresh_of(pair), mine, "POST",
                                    "https://evil.example.com/token", T0, "POST", TOKEN_URL, &p),
                 KEYFOB_DPOP_INVALID);
    CHECK_STATUS(refresh_with_proof(engine, refresh_of(pair), mine, "POST", TOKEN_URL, T0 - 3600,
                                    "POST", TOKEN_URL, &p),
                 KEYFOB_DPOP_INVALID);
    CHECK_STATUS(refresh_with_proof(engine, refresh_of(pair), mine, "POST", TOKEN_URL, T0 + 3600,
                                    "POST", TOKEN_URL, &p),
                 KEYFOB_DPOP_INVALID);
    CHECK_STATUS(refresh_with_proof(engine, refresh_of(pair), mine, "post", TOKEN_URL, T0, "POST",
                                    TOKEN_URL, &p),
                 KEYFOB_DPOP_INVALID);
    CHECK(p == NULL);

    /* The rightful client refreshes; htu is compared after normalization (case of scheme
     * and host, default port, query ignored). */
    CHECK_OK(refresh_with_proof(engine, refresh_of(pair), mine, "POST",
                                "HTTPS://API.example.com:443/token", T0, "POST",
                                TOKEN_URL "?grant=refresh", &next));
    CHECK(strcmp(refresh_of(next), refresh_of(pair)) != 0);
    CHECK_OK(validate_with_proof(engine, access_of(next), mine, access_of(next), NULL));

    /* A replayed proof is refused, even with the current refresh token. */
    proof = dpop_proof(mine, "POST", TOKEN_URL, T0, NULL);
    presented = present(NULL, proof, "POST", TOKEN_URL);
    keyfob_token_pair_free(pair);
    pair = next;
    CHECK_OK(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &presented, &next));
    keyfob_token_pair_free(pair);
    pair = next;
    CHECK_STATUS(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &presented, &p),
                 KEYFOB_DPOP_REPLAYED);
    CHECK(p == NULL);
    free(proof);
    /* ... and a replayed validate proof too. */
    proof = dpop_proof(mine, "GET", API_URL, T0, access_of(pair));
    presented = present(NULL, proof, "GET", API_URL);
    CHECK_OK(keyfob_engine_validate_bound(engine, STR(access_of(pair)), &presented, NULL));
    CHECK_STATUS(keyfob_engine_validate_bound(engine, STR(access_of(pair)), &presented, NULL),
                 KEYFOB_DPOP_REPLAYED);
    free(proof);

    /* The session survived every failure; logout still ends it. */
    CHECK_OK(refresh_with_proof(engine, refresh_of(pair), mine, "POST", TOKEN_URL, T0, "POST",
                                TOKEN_URL, &next));
    CHECK_OK(keyfob_engine_revoke(engine, STR(refresh_of(next))));
    CHECK_STATUS(validate_with_proof(engine, access_of(next), mine, access_of(next), NULL),
                 KEYFOB_REVOKED);

    keyfob_token_pair_free(next);
    keyfob_token_pair_free(pair);
    keyfob_string_free(jkt);
    free(login_proof);
    dpop_key_free(thief);
    dpop_key_free(mine);
    keyfob_engine_free(engine);
}

/* Both bindings at once: the client id and the key must each match. */
static void test_client_id_and_dpop(keyfob_manual_clock *clock) {
    keyfob_engine *engine = engine_on(clock, CONFIG);
    dpop_key *key = dpop_key_new(DPOP_EDDSA);
    char *proof = dpop_proof(key, "POST", TOKEN_URL, T0, NULL);
    keyfob_presentation login = present("cli", proof, "POST", TOKEN_URL);
    keyfob_token_pair *pair = NULL, *next = NULL;
    char *refresh_proof;
    keyfob_presentation no_client, both;

    CHECK_OK(keyfob_engine_login_bound(engine, STR("erin"), NULL, 0, &login, &pair));
    refresh_proof = dpop_proof(key, "POST", TOKEN_URL, T0, NULL);
    no_client = present(NULL, refresh_proof, "POST", TOKEN_URL);
    CHECK_STATUS(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &no_client, &next),
                 KEYFOB_CLIENT_MISMATCH);
    free(refresh_proof);
    refresh_proof = dpop_proof(key, "POST", TOKEN_URL, T0, NULL);
    both = present("cli", refresh_proof, "POST", TOKEN_URL);
    CHECK_STATUS(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &both, &next),
                 KEYFOB_REVOKED);
    keyfob_token_pair_free(pair);
    free(refresh_proof);
    free(proof);

    proof = dpop_proof(key, "POST", TOKEN_URL, T0, NULL);
    login = present("cli", proof, "POST", TOKEN_URL);
    CHECK_OK(keyfob_engine_login_bound(engine, STR("erin"), NULL, 0, &login, &pair));
    free(proof);
    proof = dpop_proof(key, "POST", TOKEN_URL, T0, NULL);
    login = present("cli", proof, "POST", TOKEN_URL);
    CHECK_OK(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &login, &next));
    keyfob_token_pair_free(next);
    keyfob_token_pair_free(pair);
    free(proof);
    dpop_key_free(key);
    keyfob_engine_free(engine);
}

static void test_jwk_thumbprint(void) {
    /* RFC 7638 §3.1. */
    static const char rfc_jwk[] =
        "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\",\"n\":\""
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
        "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
        "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
        "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\"}";
    keyfob_string *t = SENTINEL(keyfob_string);
    CHECK_OK(keyfob_jwk_thumbprint(STR(rfc_jwk), &t));
    CHECK(strcmp(keyfob_string_ptr(t), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs") == 0);
    keyfob_string_free(t);

    t = SENTINEL(keyfob_string);
    CHECK_STATUS(keyfob_jwk_thumbprint(NULL, 4, &t), BAD);
    CHECK(t == NULL);
    t = SENTINEL(keyfob_string);
    CHECK_STATUS(keyfob_jwk_thumbprint(NOT_UTF8, sizeof NOT_UTF8, &t), BAD);
    CHECK(t == NULL);
    CHECK_STATUS(keyfob_jwk_thumbprint(STR("not json"), &t), BAD);
    CHECK_STATUS(keyfob_jwk_thumbprint(STR("[1]"), &t), BAD);
    CHECK_STATUS(keyfob_jwk_thumbprint(STR("{\"kty\":\"EC\",\"crv\":\"P-256\"}"), &t), BAD);
    CHECK_STATUS(keyfob_jwk_thumbprint(STR(rfc_jwk), NULL), BAD);
}

/* A presentation member that is NULL with a length, not UTF-8, or otherwise unusable, and
 * the status each bound call answers for it. */
typedef struct {
    const char *what;
    keyfob_presentation presentation;
    keyfob_status status;
} bad_presentation;

static void expect_bad_presentations(keyfob_engine *engine, const keyfob_token_pair *pair,
                                     const char *proof) {
    const uint8_t *bytes = (const uint8_t *)proof;
    const uint8_t *post = (const uint8_t *)"POST", *url = (const uint8_t *)TOKEN_URL;
    const size_t proof_len = strlen(proof), url_len = strlen(TOKEN_URL);
    static const uint8_t WITH_NUL[] = {'c', 'l', 0, 'i'};
    /* Just over max_token_bytes (8192 by default), and over the largest allowed cap. */
    const size_t big_len = (size_t)2 << 20;
    uint8_t *big = malloc(big_len);
    size_t i;
    CHECK(big != NULL);
    memset(big, 'A', big_len);
    {
        const bad_presentation cases[] = {
            {"client_id NULL with a length", {NULL, 3, NULL, 0, NULL, 0, NULL, 0}, BAD},
            {"client_id not UTF-8", {NOT_UTF8, sizeof NOT_UTF8, NULL, 0, NULL, 0, NULL, 0}, BAD},
            {"client_id with a NUL", {WITH_NUL, sizeof WITH_NUL, NULL, 0, NULL, 0, NULL, 0}, BAD},
            {"client_id empty", {post, 0, NULL, 0, NULL, 0, NULL, 0}, BAD},
            {"dpop_proof NULL with a length", {NULL, 0, NULL, 9, post, 4, url, url_len}, BAD},
            {"dpop_proof not UTF-8",
             {NULL, 0, NOT_UTF8, sizeof NOT_UTF8, post, 4, url, url_len},
             KEYFOB_DPOP_INVALID},
            {"dpop_proof over max_token_bytes",
             {NULL, 0, big, 8193, post, 4, url, url_len},
             KEYFOB_DPOP_INVALID},
            {"dpop_proof over any cap",
             {NULL, 0, big, big_len, post, 4, url, url_len},
             KEYFOB_DPOP_INVALID},
            {"dpop_proof garbage", {NULL, 0, post, 4, post, 4, url, url_len}, KEYFOB_DPOP_INVALID},
            {"http_method NULL", {NULL, 0, bytes, proof_len, NULL, 0, url, url_len}, BAD},
            {"http_method not UTF-8",
             {NULL, 0, bytes, proof_len, NOT_UTF8, sizeof NOT_UTF8, url, url_len},
             BAD},
            {"http_method empty", {NULL, 0, bytes, proof_len, post, 0, url, url_len}, BAD},
            {"http_url NULL", {NULL, 0, bytes, proof_len, post, 4, NULL, 0}, BAD},
            {"http_url not UTF-8",
             {NULL, 0, bytes, proof_len, post, 4, NOT_UTF8, sizeof NOT_UTF8},
             BAD},
            {"http_url relative",
             {NULL, 0, bytes, proof_len, post, 4, (const uint8_t *)"/token", 6},
             BAD},
        };
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const bad_presentation *c = &cases[i];
            keyfob_token_pair *p = SENTINEL(keyfob_token_pair);
            keyfob_string *s = SENTINEL(keyfob_string);
            keyfob_status login, refresh, validate;
            login = keyfob_engine_login_bound(engine, STR("frank"), NULL, 0, &c->presentation, &p);
            CHECK(p == NULL);
            p = SENTINEL(keyfob_token_pair);
            refresh = keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &c->presentation, &p);
            CHECK(p == NULL);
            validate = keyfob_engine_validate_bound(engine, STR(access_of(pair)), &c->presentation, &s);
            CHECK(s == NULL);
            if (login != c->status || refresh != c->status || validate != c->status) {
                fprintf(stderr, "%s: login %s, refresh %s, validate %s; want %s\n", c->what,
                        keyfob_status_name(login), keyfob_status_name(refresh),
                        keyfob_status_name(validate), keyfob_status_name(c->status));
            }
            CHECK_STATUS(login, c->status);
            CHECK_STATUS(refresh, c->status);
            CHECK_STATUS(validate, c->status);
        }
    }
    free(big);
}

static void test_arguments_of_bound_calls(keyfob_manual_clock *clock) {
    keyfob_engine *engine = engine_on(clock, CONFIG);
    dpop_key *key = dpop_key_new(DPOP_ES256);
    char *proof = dpop_proof(key, "POST", TOKEN_URL, T0, NULL);
    keyfob_presentation login = present("cli", proof, "POST", TOKEN_URL);
    keyfob_presentation none = present(NULL, NULL, NULL, NULL);
    keyfob_presentation method_only = present(NULL, NULL, "\xff", "/not absolute");
    keyfob_token_pair *pair = NULL, *next = NULL, *p = SENTINEL(keyfob_token_pair);
    keyfob_string *s = SENTINEL(keyfob_string);

    /* NULL engine, inputs and required outputs. */
    CHECK_STATUS(keyfob_engine_login_bound(NULL, STR("u"), NULL, 0, &login, &p), BAD);
    CHECK(p == NULL);
    p = SENTINEL(keyfob_token_pair);
    CHECK_STATUS(keyfob_engine_login_bound(engine, NULL, 1, NULL, 0, &login, &p), BAD);
    CHECK(p == NULL);
    CHECK_STATUS(keyfob_engine_login_bound(engine, NOT_UTF8, sizeof NOT_UTF8, NULL, 0, &login, &p), BAD);
    CHECK_STATUS(keyfob_engine_login_bound(engine, STR("u"), STR("[]"), &login, &p), BAD);
    CHECK_STATUS(keyfob_engine_login_bound(engine, STR("u"), STR("{\"cnf\": 1}"), &login, &p), BAD);
    CHECK_STATUS(keyfob_engine_login_bound(engine, STR("u"), NULL, 0, &login, NULL), BAD);
    /* None of those consumed the proof: it still logs in, once. */
    CHECK_OK(keyfob_engine_login_bound(engine, STR("u"), NULL, 0, &login, &pair));

    p = SENTINEL(keyfob_token_pair);
    CHECK_STATUS(keyfob_engine_refresh_bound(NULL, STR(refresh_of(pair)), &none, &p), BAD);
    CHECK(p == NULL);
    CHECK_STATUS(keyfob_engine_refresh_bound(engine, NULL, 4, &none, &p), BAD);
    CHECK_STATUS(keyfob_engine_refresh_bound(engine, NOT_UTF8, sizeof NOT_UTF8, &none, &p),
                 KEYFOB_MALFORMED);
    CHECK_STATUS(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &none, NULL), BAD);

    CHECK_STATUS(keyfob_engine_validate_bound(NULL, STR(access_of(pair)), &none, &s), BAD);
    CHECK(s == NULL);
    s = SENTINEL(keyfob_string);
    CHECK_STATUS(keyfob_engine_validate_bound(engine, NULL, 4, &none, &s), BAD);
    CHECK(s == NULL);
    CHECK_STATUS(keyfob_engine_validate_bound(engine, NOT_UTF8, sizeof NOT_UTF8, &none, NULL),
                 KEYFOB_MALFORMED);
    keyfob_token_pair_free(pair);
    free(proof);

    /* Without a proof, method and URL are not read, whatever they hold. */
    pair = login_as(engine, "grace");
    CHECK_OK(keyfob_engine_refresh_bound(engine, STR(refresh_of(pair)), &method_only, &next));
    CHECK_OK(keyfob_engine_validate_bound(engine, STR(access_of(next)), &method_only, NULL));
    /* An unbound token ignores a proof, but bytes that cannot be one are refused at once,
     * and an empty client id is a caller mistake whatever the session. */
    {
        keyfob_presentation garbage = present(NULL, "not-a-proof", "POST", "/not absolute");
        keyfob_presentation not_utf8 = present(NULL, NULL, "POST", TOKEN_URL);
        keyfob_presentation empty_client = present("", NULL, NULL, NULL);
        not_utf8.dpop_proof = NOT_UTF8;
        not_utf8.dpop_proof_len = sizeof NOT_UTF8;
        CHECK_OK(keyfob_engine_validate_bound(engine, STR(access_of(next)), &garbage, NULL));
        CHECK_STATUS(keyfob_engine_validate_bound(engine, STR(access_of(next)), &not_utf8, NULL),
                     KEYFOB_DPOP_INVALID);
        CHECK_STATUS(keyfob_engine_validate_bound(engine, STR(access_of(next)), &empty_client, NULL),
                     BAD);
    }
    keyfob_token_pair_free(next);
    keyfob_token_pair_free(pair);

    /* Each member of a presentation, wrong, against a DPoP-bound session. */
    proof = dpop_proof(key, "POST", TOKEN_URL, T0, NULL);
    login = present(NULL, proof, "POST", TOKEN_URL);
    CHECK_OK(keyfob_engine_login_bound(engine, STR("heidi"), NULL, 0, &login, &pair));
    expect_bad_presentations(engine, pair, proof);
    /* ... after which the session is intact. */
    CHECK_OK(refresh_with_proof(engine, refresh_of(pair), key, "POST", TOKEN_URL, T0, "POST",
                                TOKEN_URL, &next));
    keyfob_token_pair_free(next);
    keyfob_token_pair_free(pair);
    free(proof);
    dpop_key_free(key);
    keyfob_engine_free(engine);
}

void test_binding(void) {
    keyfob_manual_clock *clock = NULL;
    CHECK_OK(keyfob_manual_clock_new(T0, &clock));
    test_client_id_binding(clock);
    test_client_id_options(clock);
    test_dpop_flow(clock, DPOP_ES256);
    test_dpop_flow(clock, DPOP_EDDSA);
    test_client_id_and_dpop(clock);
    test_jwk_thumbprint();
    test_arguments_of_bound_calls(clock);
    keyfob_manual_clock_free(clock);
}
