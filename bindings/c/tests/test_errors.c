/* Every token error status the engine can return, provoked through the C ABI: with tokens
 * from the engine, from a second engine with another key or config, or crafted here. */
#include "check.h"
#include "craft.h"

#include <stdarg.h>

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define JTI "0123456789abcdef0123456789abcdef"
#define SID "fedcba9876543210fedcba9876543210"
#define OTHER_SECRET "another-secret-of-at-least-thirty-two-bytes"

/* A signed token over a printf-built payload; the caller frees it. */
static char *crafted(const char *secret, const char *header, const char *payload_fmt, ...) {
    char payload[1024];
    va_list ap;
    va_start(ap, payload_fmt);
    vsnprintf(payload, sizeof payload, payload_fmt, ap);
    va_end(ap);
    return craft_hs256(secret, header, payload);
}

/* Expect `status` from validate and from verify for a NUL-terminated token, then free it. */
static void expect_and_free(keyfob_engine *engine, char *token, keyfob_status status, int line) {
    keyfob_status v = keyfob_engine_validate(engine, STR(token), NULL);
    keyfob_status w = keyfob_engine_verify(engine, STR(token), NULL);
    if (v != status || w != status) {
        fprintf(stderr, "test_errors.c:%d: validate %s, verify %s, want %s\n", line,
                keyfob_status_name(v), keyfob_status_name(w), keyfob_status_name(status));
    }
    CHECK(v == status && w == status);
    free(token);
}
#define EXPECT(engine, token, status) expect_and_free(engine, token, status, __LINE__)

static keyfob_manual_clock *clock_at_t0(void) {
    keyfob_manual_clock *clock = NULL;
    CHECK_OK(keyfob_manual_clock_new(T0, &clock));
    return clock;
}

static void test_self_check_of_the_crafting(keyfob_engine *engine) {
    /* RFC 4231 test case 2, so a crafting bug cannot pass for an engine bug. */
    static const uint8_t want[32] = {0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
                                     0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
                                     0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    uint8_t mac[32];
    const char *msg = "what do ya want for nothing?";
    hmac_sha256((const uint8_t *)"Jefe", 4, (const uint8_t *)msg, strlen(msg), mac);
    CHECK(memcmp(mac, want, 32) == 0);
    /* A well-formed crafted token gets past every token check and stops at the session. */
    EXPECT(engine,
           crafted(SECRET, HS256,
                   "{\"token_type\":\"access\",\"exp\":%lld,\"iat\":%lld,\"jti\":\"" JTI
                   "\",\"user_id\":\"7\",\"sid\":\"" SID "\"}",
                   (long long)T0 + 300, (long long)T0),
           KEYFOB_SESSION_UNKNOWN);
}

static void test_malformed(keyfob_engine *engine) {
    const char *bad[] = {"abc", "a.b", "a.b.c", "a.b.c.d", "..", "eyJhbGciOiJIUzI1NiJ9..sig",
                         "!!!.???.***"};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(keyfob_engine_validate(engine, STR(bad[i]), NULL), KEYFOB_MALFORMED);
    }
    /* Signed correctly, but the payload is not a JSON object / has a duplicate claim. */
    EXPECT(engine, crafted(SECRET, HS256, "not json"), KEYFOB_MALFORMED);
    EXPECT(engine, crafted(SECRET, HS256, "[1,2,3]"), KEYFOB_MALFORMED);
    EXPECT(engine,
           crafted(SECRET, HS256,
                   "{\"token_type\":\"access\",\"exp\":%lld,\"exp\":%lld,\"jti\":\"" JTI
                   "\",\"user_id\":\"7\",\"sid\":\"" SID "\"}",
                   (long long)T0 + 300, (long long)T0 + 300),
           KEYFOB_MALFORMED);
    /* A header that is not JSON, and a crit header. */
    EXPECT(engine, crafted(SECRET, "{alg:HS256}", "{}"), KEYFOB_MALFORMED);
    EXPECT(engine, crafted(SECRET, "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", "{}"),
           KEYFOB_MALFORMED);
}

static void test_signature_algorithm_and_key(keyfob_engine *engine, keyfob_manual_clock *clock) {
    keyfob_engine *other_key = engine_on(clock, "{\"signing_key\": \"" OTHER_SECRET "\"}");
    keyfob_engine *hs512 =
        engine_on(clock, "{\"signing_key\": \"" SECRET "\", \"algorithm\": \"HS512\"}");
    keyfob_engine *with_kid =
        engine_on(clock, "{\"signing_key\": \"" SECRET "\", \"key_id\": \"k-2024\"}");
    keyfob_token_pair *p, *out;
    char *token;
    size_t len;

    /* Another engine's key. */
    p = login_as(other_key, "7");
    out = SENTINEL(keyfob_token_pair);
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(p)), NULL), KEYFOB_BAD_SIGNATURE);
    CHECK_STATUS(keyfob_engine_refresh(engine, STR(refresh_of(p)), &out), KEYFOB_BAD_SIGNATURE);
    CHECK(out == NULL);
    keyfob_token_pair_free(p);
    /* A crafted token under the wrong secret, and one with a flipped signature byte. */
    EXPECT(engine, crafted(OTHER_SECRET, HS256, "{}"), KEYFOB_BAD_SIGNATURE);
    token = crafted(SECRET, HS256, "{\"token_type\":\"access\"}");
    len = strlen(token);
    token[len - 10] = token[len - 10] == 'A' ? 'B' : 'A';
    EXPECT(engine, token, KEYFOB_BAD_SIGNATURE);

    /* Algorithms: none, another HMAC size, an engine on HS512. */
    EXPECT(engine, crafted(SECRET, "{\"alg\":\"none\",\"typ\":\"JWT\"}", "{}"),
           KEYFOB_ALGORITHM_NOT_ALLOWED);
    EXPECT(engine, crafted(SECRET, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", "{}"),
           KEYFOB_ALGORITHM_NOT_ALLOWED);
    p = login_as(hs512, "7");
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(p)), NULL), KEYFOB_ALGORITHM_NOT_ALLOWED);
    keyfob_token_pair_free(p);

    /* Key ids: a kid the key ring does not know. */
    EXPECT(engine, crafted(SECRET, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"nope\"}", "{}"),
           KEYFOB_UNKNOWN_KEY);
    p = login_as(with_kid, "7");
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(p)), NULL), KEYFOB_UNKNOWN_KEY);
    CHECK_OK(keyfob_engine_validate(with_kid, STR(access_of(p)), NULL));
    keyfob_token_pair_free(p);

    keyfob_engine_free(other_key);
    keyfob_engine_free(hs512);
    keyfob_engine_free(with_kid);
}

static void test_time(void) {
    keyfob_manual_clock *clock = clock_at_t0();
    keyfob_engine *engine = engine_on(clock, "{\"signing_key\": \"" SECRET "\"}");
    keyfob_token_pair *p = login_as(engine, "7");
    keyfob_token_pair *out = NULL;

    /* exp passed: access lifetime is 300 s. */
    CHECK_OK(keyfob_manual_clock_advance(clock, 299));
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(p)), NULL));
    CHECK_OK(keyfob_manual_clock_advance(clock, 1));
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(p)), NULL), KEYFOB_EXPIRED);
    /* The refresh token lives on and mints a fresh access token. */
    CHECK_OK(keyfob_engine_refresh(engine, STR(refresh_of(p)), &out));
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(out)), NULL));
    keyfob_token_pair_free(out);
    CHECK_OK(keyfob_manual_clock_set(clock, T0));

    EXPECT(engine,
           crafted(SECRET, HS256,
                   "{\"token_type\":\"access\",\"exp\":%lld,\"jti\":\"" JTI "\",\"user_id\":\"7\"}",
                   (long long)T0 - 1),
           KEYFOB_EXPIRED);
    /* iat or nbf in the future. */
    EXPECT(engine,
           crafted(SECRET, HS256,
                   "{\"token_type\":\"access\",\"exp\":%lld,\"iat\":%lld,\"jti\":\"" JTI
                   "\",\"user_id\":\"7\"}",
                   (long long)T0 + 900, (long long)T0 + 600),
           KEYFOB_NOT_YET_VALID);
    EXPECT(engine,
           crafted(SECRET, HS256,
                   "{\"token_type\":\"access\",\"exp\":%lld,\"nbf\":%lld,\"jti\":\"" JTI
                   "\",\"user_id\":\"7\"}",
                   (long long)T0 + 900, (long long)T0 + 600),
           KEYFOB_NOT_YET_VALID);
    keyfob_token_pair_free(p);
    keyfob_engine_free(engine);
    keyfob_manual_clock_free(clock);
}

static void test_types_and_claims(keyfob_engine *engine, keyfob_manual_clock *clock) {
    keyfob_engine *issuer_a =
        engine_on(clock, "{\"signing_key\": \"" SECRET "\", \"issuer\": \"auth-a\"}");
    keyfob_engine *issuer_b =
        engine_on(clock, "{\"signing_key\": \"" SECRET "\", \"issuer\": \"auth-b\"}");
    keyfob_token_pair *p = login_as(engine, "7");
    keyfob_token_pair *q = login_as(issuer_b, "7");
    keyfob_token_pair *out = SENTINEL(keyfob_token_pair);
    keyfob_string *s = NULL;

    /* A token of the wrong type for the operation. */
    CHECK_STATUS(keyfob_engine_validate(engine, STR(refresh_of(p)), NULL), KEYFOB_WRONG_TYPE);
    CHECK_STATUS(keyfob_engine_validate_sliding(engine, STR(access_of(p)), NULL), KEYFOB_WRONG_TYPE);
    CHECK_STATUS(keyfob_engine_refresh(engine, STR(access_of(p)), &out), KEYFOB_WRONG_TYPE);
    CHECK(out == NULL);
    CHECK_STATUS(keyfob_engine_refresh_sliding(engine, STR(refresh_of(p)), &s, NULL), KEYFOB_WRONG_TYPE);

    /* Missing claims: exp, user id, token type; iss where an issuer is required. */
    EXPECT(engine,
           crafted(SECRET, HS256,
                   "{\"token_type\":\"access\",\"jti\":\"" JTI "\",\"user_id\":\"7\",\"sid\":\"" SID "\"}"),
           KEYFOB_MISSING_CLAIM);
    EXPECT(engine,
           crafted(SECRET, HS256,
                   "{\"token_type\":\"access\",\"exp\":%lld,\"jti\":\"" JTI "\",\"sid\":\"" SID "\"}",
                   (long long)T0 + 300),
           KEYFOB_MISSING_CLAIM);
    EXPECT(engine,
           crafted(SECRET, HS256,
                   "{\"exp\":%lld,\"jti\":\"" JTI "\",\"user_id\":\"7\",\"sid\":\"" SID "\"}",
                   (long long)T0 + 300),
           KEYFOB_MISSING_CLAIM);
    CHECK_STATUS(keyfob_engine_validate(issuer_a, STR(access_of(p)), NULL), KEYFOB_MISSING_CLAIM);

    /* Invalid claims: a string exp, an unknown token type, a sid that is not an id, another issuer. */
    EXPECT(engine,
           crafted(SECRET, HS256,
                   "{\"token_type\":\"access\",\"exp\":\"%lld\",\"jti\":\"" JTI
                   "\",\"user_id\":\"7\",\"sid\":\"" SID "\"}",
                   (long long)T0 + 300),
           KEYFOB_INVALID_CLAIM);
    EXPECT(engine,
           crafted(SECRET, HS256,
                   "{\"token_type\":\"bearer\",\"exp\":%lld,\"jti\":\"" JTI
                   "\",\"user_id\":\"7\",\"sid\":\"" SID "\"}",
                   (long long)T0 + 300),
           KEYFOB_INVALID_CLAIM);
    EXPECT(engine,
           crafted(SECRET, HS256,
                   "{\"token_type\":\"access\",\"exp\":%lld,\"jti\":\"" JTI
                   "\",\"user_id\":\"7\",\"sid\":\"not-hex\"}",
                   (long long)T0 + 300),
           KEYFOB_INVALID_CLAIM);
    CHECK_STATUS(keyfob_engine_validate(issuer_a, STR(access_of(q)), NULL), KEYFOB_INVALID_CLAIM);
    CHECK_OK(keyfob_engine_validate(issuer_b, STR(access_of(q)), NULL));

    keyfob_token_pair_free(p);
    keyfob_token_pair_free(q);
    keyfob_engine_free(issuer_a);
    keyfob_engine_free(issuer_b);
}

static void test_sessions(void) {
    keyfob_manual_clock *clock = clock_at_t0();
    keyfob_engine *engine =
        engine_on(clock, "{\"signing_key\": \"" SECRET "\", \"idle_timeout_s\": 60}");
    keyfob_engine *short_lived = engine_on(
        clock, "{\"signing_key\": \"" SECRET "\", \"refresh_lifetime_s\": 100,"
               " \"idle_timeout_s\": 1000, \"leeway_s\": 10}");
    keyfob_engine *elsewhere = engine_on(clock, "{\"signing_key\": \"" SECRET "\"}");
    keyfob_token_pair *p, *q, *out = NULL, *again = SENTINEL(keyfob_token_pair);

    /* Revoked: logout, then every token of the session. */
    p = login_as(engine, "7");
    CHECK_OK(keyfob_engine_revoke(engine, STR(refresh_of(p))));
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(p)), NULL), KEYFOB_REVOKED);
    CHECK_STATUS(keyfob_engine_revoke(engine, STR(access_of(p))), KEYFOB_REVOKED);
    CHECK_STATUS(keyfob_engine_refresh(engine, STR(refresh_of(p)), &out), KEYFOB_REVOKED);
    keyfob_token_pair_free(p);

    /* Idle: 60 s without activity, while the access token itself is still unexpired. */
    p = login_as(engine, "7");
    CHECK_OK(keyfob_manual_clock_advance(clock, 59));
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(p)), NULL)); /* slides to +119 */
    CHECK_OK(keyfob_manual_clock_advance(clock, 59));
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(p)), NULL));
    CHECK_OK(keyfob_manual_clock_advance(clock, 60));
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(p)), NULL), KEYFOB_SESSION_IDLE);
    CHECK_STATUS(keyfob_engine_refresh(engine, STR(refresh_of(p)), &out), KEYFOB_SESSION_IDLE);
    keyfob_token_pair_free(p);
    CHECK_OK(keyfob_manual_clock_set(clock, T0));

    /* Expired session: the absolute lifetime (100 s) passes; leeway keeps the token itself. */
    p = login_as(short_lived, "7");
    CHECK_OK(keyfob_manual_clock_advance(clock, 99));
    CHECK_OK(keyfob_engine_validate(short_lived, STR(access_of(p)), NULL));
    CHECK_OK(keyfob_manual_clock_advance(clock, 1));
    CHECK_STATUS(keyfob_engine_validate(short_lived, STR(access_of(p)), NULL), KEYFOB_SESSION_EXPIRED);
    CHECK_STATUS(keyfob_engine_refresh(short_lived, STR(refresh_of(p)), &out), KEYFOB_SESSION_EXPIRED);
    keyfob_token_pair_free(p);
    CHECK_OK(keyfob_manual_clock_set(clock, T0));

    /* Unknown session: same key, another engine's store. */
    p = login_as(elsewhere, "7");
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(p)), NULL), KEYFOB_SESSION_UNKNOWN);
    CHECK_STATUS(keyfob_engine_revoke(engine, STR(access_of(p))), KEYFOB_SESSION_UNKNOWN);
    keyfob_token_pair_free(p);

    /* Session required: a valid token without a sid. */
    EXPECT(engine,
           crafted(SECRET, HS256,
                   "{\"token_type\":\"access\",\"exp\":%lld,\"iat\":%lld,\"jti\":\"" JTI
                   "\",\"user_id\":\"7\"}",
                   (long long)T0 + 300, (long long)T0),
           KEYFOB_SESSION_REQUIRED);

    /* Reuse: a spent refresh token revokes the session; the rotated one dies with it. */
    p = login_as(engine, "7");
    CHECK_OK(keyfob_engine_refresh(engine, STR(refresh_of(p)), &out));
    CHECK_STATUS(keyfob_engine_refresh(engine, STR(refresh_of(p)), &again), KEYFOB_REUSE_DETECTED);
    CHECK(again == NULL);
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(out)), NULL), KEYFOB_REVOKED);
    CHECK_STATUS(keyfob_engine_refresh(engine, STR(refresh_of(out)), &again), KEYFOB_REVOKED);
    q = login_as(engine, "7"); /* a new login is unaffected */
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(q)), NULL));
    keyfob_token_pair_free(q);
    keyfob_token_pair_free(out);
    keyfob_token_pair_free(p);

    keyfob_engine_free(engine);
    keyfob_engine_free(short_lived);
    keyfob_engine_free(elsewhere);
    keyfob_manual_clock_free(clock);
}

static void test_sessionless_accepted(void) {
    keyfob_manual_clock *clock = clock_at_t0();
    keyfob_engine *engine = engine_on(
        clock, "{\"signing_key\": \"" SECRET "\", \"accept_sessionless\": true}");
    keyfob_engine *no_rotation = engine_on(
        clock, "{\"signing_key\": \"" SECRET "\", \"accept_sessionless\": true,"
               " \"rotate_refresh\": false}");
    const char *fmt = "{\"token_type\":\"%s\",\"exp\":%lld,\"iat\":%lld,\"jti\":\"%s\",\"user_id\":\"%s\"}";
    char *access = crafted(SECRET, HS256, fmt, "access", (long long)T0 + 300, (long long)T0 - 5,
                           JTI, "7");
    char *other = crafted(SECRET, HS256, fmt, "access", (long long)T0 + 300, (long long)T0 - 5,
                          "11111111111111111111111111111111", "8");
    char *refresh = crafted(SECRET, HS256, fmt, "refresh", (long long)T0 + 3600,
                            (long long)T0 - 5, "22222222222222222222222222222222", "9");
    keyfob_token_pair *pair = NULL;
    size_t len = 99;

    /* Checked statelessly, then the jti denylist. */
    CHECK_OK(keyfob_engine_validate(engine, STR(access), NULL));
    CHECK_OK(keyfob_engine_revoke(engine, STR(access)));
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access), NULL), KEYFOB_REVOKED);
    CHECK_STATUS(keyfob_engine_revoke(engine, STR(access)), KEYFOB_REVOKED);
    /* The user's not-before epoch. */
    CHECK_OK(keyfob_engine_validate(engine, STR(other), NULL));
    CHECK_OK(keyfob_engine_revoke_user(engine, STR("8"), NULL));
    CHECK_STATUS(keyfob_engine_validate(engine, STR(other), NULL), KEYFOB_REVOKED);
    /* Without rotation a sessionless refresh gives an access token only, and no session id. */
    CHECK_OK(keyfob_engine_refresh(no_rotation, STR(refresh), &pair));
    CHECK(keyfob_token_pair_refresh(pair, &len) == NULL && len == 0);
    CHECK(strcmp(keyfob_token_pair_session_id(pair, &len), "") == 0 && len == 0);
    CHECK_OK(keyfob_engine_validate(no_rotation, STR(access_of(pair)), NULL));
    keyfob_token_pair_free(pair);
    /* With rotation it is upgraded to a session, and cannot be used twice. */
    CHECK_OK(keyfob_engine_refresh(engine, STR(refresh), &pair));
    CHECK(refresh_of(pair) != NULL && strlen(keyfob_token_pair_session_id(pair, NULL)) == 32);
    keyfob_token_pair_free(pair);
    CHECK_STATUS(keyfob_engine_refresh(engine, STR(refresh), &pair), KEYFOB_REVOKED);

    free(access);
    free(other);
    free(refresh);
    keyfob_engine_free(engine);
    keyfob_engine_free(no_rotation);
    keyfob_manual_clock_free(clock);
}

static void test_caller_statuses(keyfob_engine *engine) {
    keyfob_engine *e = NULL;
    size_t needed = 0;
    keyfob_token_pair *p = login_as(engine, "7");
    CHECK_STATUS(keyfob_engine_validate(NULL, STR(access_of(p)), NULL), KEYFOB_INVALID_ARGUMENT);
    CHECK_STATUS(keyfob_engine_new(STR("{\"signing_key\": \"short\"}"), &e), KEYFOB_CONFIG);
    CHECK_STATUS(keyfob_engine_validate_into(engine, STR(access_of(p)), NULL, 0, &needed),
                 KEYFOB_BUFFER_TOO_SMALL);
    keyfob_token_pair_free(p);
}

void test_token_errors(void) {
    keyfob_manual_clock *clock = clock_at_t0();
    keyfob_engine *engine = engine_on(clock, "{\"signing_key\": \"" SECRET "\"}");

    test_self_check_of_the_crafting(engine);
    test_malformed(engine);
    test_signature_algorithm_and_key(engine, clock);
    test_time();
    test_types_and_claims(engine, clock);
    test_sessions();
    test_sessionless_accepted();
    test_caller_statuses(engine);

    keyfob_engine_free(engine);
    keyfob_manual_clock_free(clock);
}
