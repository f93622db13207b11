/* Everything a caller can get wrong: NULL for each pointer argument, bytes that are not
 * UTF-8, embedded NUL bytes, oversized tokens, bad JSON, bad configs. Each call answers a
 * status (and resets its handle out-parameters to NULL); none crashes or leaks. */
#include "check.h"

#define CONFIG "{\"signing_key\": \"" SECRET "\"}"
#define BAD KEYFOB_INVALID_ARGUMENT

static const uint8_t NOT_UTF8[] = {'a', 0xff, 0xfe, 'b'};
static const uint8_t WITH_NUL[] = {'a', 'l', 0, 'i', 'c', 'e'};

static void test_null_clock_arguments(keyfob_manual_clock *clock) {
    keyfob_manual_clock *c = SENTINEL(keyfob_manual_clock);
    int64_t now;
    CHECK_STATUS(keyfob_manual_clock_new(T0, NULL), BAD);
    CHECK_STATUS(keyfob_manual_clock_set(NULL, T0), BAD);
    CHECK_STATUS(keyfob_manual_clock_advance(NULL, 1), BAD);
    CHECK_STATUS(keyfob_manual_clock_now(NULL, &now), BAD);
    CHECK_STATUS(keyfob_manual_clock_now(clock, NULL), BAD);
    CHECK_OK(keyfob_manual_clock_new(T0, &c));
    CHECK(c != NULL && c != SENTINEL(keyfob_manual_clock));
    keyfob_manual_clock_free(c);
}

static void test_null_engine_construction(keyfob_manual_clock *clock) {
    keyfob_engine *e = SENTINEL(keyfob_engine);
    CHECK_STATUS(keyfob_engine_new(NULL, 10, &e), BAD);
    CHECK(e == NULL);
    CHECK_STATUS(keyfob_engine_new(STR(CONFIG), NULL), BAD);
    e = SENTINEL(keyfob_engine);
    CHECK_STATUS(keyfob_engine_new_with_clock(NULL, 0, clock, &e), BAD);
    CHECK(e == NULL);
    e = SENTINEL(keyfob_engine);
    CHECK_STATUS(keyfob_engine_new_with_clock(STR(CONFIG), NULL, &e), BAD);
    CHECK(e == NULL);
    CHECK_STATUS(keyfob_engine_new_with_clock(STR(CONFIG), clock, NULL), BAD);
}

static void test_null_engine_calls(keyfob_engine *engine, const keyfob_token_pair *pair) {
    const char *access = access_of(pair), *refresh = refresh_of(pair);
    const char *sid = keyfob_token_pair_session_id(pair, NULL);
    keyfob_token_pair *p = SENTINEL(keyfob_token_pair);
    keyfob_string *s = SENTINEL(keyfob_string), *s2 = SENTINEL(keyfob_string);
    keyfob_stats stats;
    size_t n = 0;
    int64_t now;
    char buf[16];

    /* login */
    CHECK_STATUS(keyfob_engine_login(NULL, STR("u"), NULL, 0, &p), BAD);
    CHECK(p == NULL);
    p = SENTINEL(keyfob_token_pair);
    CHECK_STATUS(keyfob_engine_login(engine, NULL, 1, NULL, 0, &p), BAD);
    CHECK(p == NULL);
    CHECK_STATUS(keyfob_engine_login(engine, STR("u"), NULL, 0, NULL), BAD);
    /* validate / validate_sliding / verify: claims_out is optional */
    s = SENTINEL(keyfob_string);
    CHECK_STATUS(keyfob_engine_validate(NULL, STR(access), &s), BAD);
    CHECK(s == NULL);
    s = SENTINEL(keyfob_string);
    CHECK_STATUS(keyfob_engine_validate(engine, NULL, 5, &s), BAD);
    CHECK(s == NULL);
    CHECK_OK(keyfob_engine_validate(engine, STR(access), NULL));
    CHECK_STATUS(keyfob_engine_validate_sliding(NULL, STR(access), NULL), BAD);
    CHECK_STATUS(keyfob_engine_validate_sliding(engine, NULL, 5, NULL), BAD);
    CHECK_STATUS(keyfob_engine_verify(NULL, STR(access), NULL), BAD);
    CHECK_STATUS(keyfob_engine_verify(engine, NULL, 5, NULL), BAD);
    CHECK_OK(keyfob_engine_verify(engine, STR(access), NULL));
    /* validate_into */
    CHECK_STATUS(keyfob_engine_validate_into(NULL, STR(access), buf, sizeof buf, &n), BAD);
    CHECK_STATUS(keyfob_engine_validate_into(engine, NULL, 5, buf, sizeof buf, &n), BAD);
    CHECK_STATUS(keyfob_engine_validate_into(engine, STR(access), buf, sizeof buf, NULL), BAD);
    CHECK_STATUS(keyfob_engine_validate_into(engine, STR(access), NULL, 4096, &n), BAD);
    CHECK(n > 0);
    /* refresh (on a spent-free path: every call below fails before touching the session) */
    p = SENTINEL(keyfob_token_pair);
    CHECK_STATUS(keyfob_engine_refresh(NULL, STR(refresh), &p), BAD);
    CHECK(p == NULL);
    CHECK_STATUS(keyfob_engine_refresh(engine, NULL, 3, &p), BAD);
    CHECK_STATUS(keyfob_engine_refresh(engine, STR(refresh), NULL), BAD);
    /* login_sliding / refresh_sliding: session_id_out is optional */
    s = SENTINEL(keyfob_string);
    s2 = SENTINEL(keyfob_string);
    CHECK_STATUS(keyfob_engine_login_sliding(NULL, STR("u"), NULL, 0, &s, &s2), BAD);
    CHECK(s == NULL && s2 == NULL);
    CHECK_STATUS(keyfob_engine_login_sliding(engine, NULL, 1, NULL, 0, &s, &s2), BAD);
    CHECK_STATUS(keyfob_engine_login_sliding(engine, STR("u"), NULL, 0, NULL, &s2), BAD);
    CHECK(s2 == NULL);
    CHECK_STATUS(keyfob_engine_refresh_sliding(NULL, STR(access), &s, &s2), BAD);
    CHECK_STATUS(keyfob_engine_refresh_sliding(engine, NULL, 1, &s, &s2), BAD);
    CHECK_STATUS(keyfob_engine_refresh_sliding(engine, STR(access), NULL, &s2), BAD);
    CHECK(s == NULL && s2 == NULL);
    /* revocation */
    CHECK_STATUS(keyfob_engine_revoke(NULL, STR(access)), BAD);
    CHECK_STATUS(keyfob_engine_revoke(engine, NULL, 10), BAD);
    CHECK_STATUS(keyfob_engine_revoke_session(NULL, STR(sid), NULL), BAD);
    CHECK_STATUS(keyfob_engine_revoke_session(engine, NULL, 32, NULL), BAD);
    CHECK_STATUS(keyfob_engine_revoke_user(NULL, STR("u"), &n), BAD);
    CHECK_STATUS(keyfob_engine_revoke_user(engine, NULL, 1, &n), BAD);
    /* sweep, stats, now */
    CHECK_STATUS(keyfob_engine_sweep(NULL, &n), BAD);
    CHECK_STATUS(keyfob_engine_stats(NULL, &stats), BAD);
    CHECK_STATUS(keyfob_engine_stats(engine, NULL), BAD);
    CHECK_STATUS(keyfob_engine_now(NULL, &now), BAD);
    CHECK_STATUS(keyfob_engine_now(engine, NULL), BAD);
    /* Nothing above touched the session. */
    CHECK_OK(keyfob_engine_validate(engine, STR(access), NULL));
}

static void test_null_accessors(void) {
    size_t len = 99;
    CHECK(keyfob_string_ptr(NULL) == NULL);
    CHECK(keyfob_string_len(NULL) == 0);
    CHECK(keyfob_token_pair_access(NULL, &len) == NULL && len == 0);
    len = 99;
    CHECK(keyfob_token_pair_refresh(NULL, &len) == NULL && len == 0);
    len = 99;
    CHECK(keyfob_token_pair_session_id(NULL, &len) == NULL && len == 0);
    CHECK(keyfob_token_pair_access(NULL, NULL) == NULL);
}

static void test_encodings(keyfob_engine *engine, const keyfob_token_pair *pair) {
    keyfob_token_pair *p = NULL;
    keyfob_string *s = NULL;
    const char *access = access_of(pair);
    size_t alen = strlen(access);
    char *with_nul = malloc(alen + 2);
    CHECK(with_nul != NULL);

    /* Tokens: not UTF-8, empty, or with a NUL are malformed tokens. */
    CHECK_STATUS(keyfob_engine_validate(engine, NOT_UTF8, sizeof NOT_UTF8, NULL), KEYFOB_MALFORMED);
    CHECK_STATUS(keyfob_engine_verify(engine, NOT_UTF8, sizeof NOT_UTF8, NULL), KEYFOB_MALFORMED);
    CHECK_STATUS(keyfob_engine_refresh(engine, NOT_UTF8, sizeof NOT_UTF8, &p), KEYFOB_MALFORMED);
    CHECK_STATUS(keyfob_engine_revoke(engine, NOT_UTF8, sizeof NOT_UTF8), KEYFOB_MALFORMED);
    CHECK_STATUS(keyfob_engine_refresh_sliding(engine, NOT_UTF8, sizeof NOT_UTF8, &s, NULL),
                 KEYFOB_MALFORMED);
    CHECK_STATUS(keyfob_engine_validate(engine, (const uint8_t *)"", 0, NULL), KEYFOB_MALFORMED);
    memcpy(with_nul, access, alen);
    with_nul[alen] = '\0';
    with_nul[alen + 1] = 'x';
    /* The token followed by its NUL and one more byte: not the token. */
    CHECK_STATUS(keyfob_engine_validate(engine, (const uint8_t *)with_nul, alen + 2, NULL),
                 KEYFOB_MALFORMED);
    /* A NUL inside the header segment: not base64url. */
    with_nul[5] = '\0';
    CHECK_STATUS(keyfob_engine_validate(engine, (const uint8_t *)with_nul, alen, NULL), KEYFOB_MALFORMED);
    /* A NUL inside the payload segment: the signature covers those exact bytes. */
    memcpy(with_nul, access, alen);
    with_nul[strchr(access, '.') - access + 3] = '\0';
    CHECK_STATUS(keyfob_engine_validate(engine, (const uint8_t *)with_nul, alen, NULL),
                 KEYFOB_BAD_SIGNATURE);
    /* The length decides, not a NUL: the exact bytes of the token still pass. */
    CHECK_OK(keyfob_engine_validate(engine, (const uint8_t *)access, alen, NULL));
    free(with_nul);

    /* Other strings: not UTF-8 or with a NUL are invalid arguments. */
    CHECK_STATUS(keyfob_engine_login(engine, NOT_UTF8, sizeof NOT_UTF8, NULL, 0, &p), BAD);
    CHECK_STATUS(keyfob_engine_login(engine, WITH_NUL, sizeof WITH_NUL, NULL, 0, &p), BAD);
    /* An empty user id logs in (as simplejwt issues tokens to a user whose id is empty). */
    CHECK_OK(keyfob_engine_login(engine, (const uint8_t *)"", 0, NULL, 0, &p));
    keyfob_token_pair_free(p);
    p = NULL;
    CHECK_STATUS(keyfob_engine_login(engine, STR("u"), NOT_UTF8, sizeof NOT_UTF8, &p), BAD);
    /* NULL extra claims with a length: a caller bug, not "no claims". */
    CHECK_STATUS(keyfob_engine_login(engine, STR("u"), NULL, 5, &p), BAD);
    CHECK(p == NULL);
    CHECK_STATUS(keyfob_engine_login_sliding(engine, WITH_NUL, sizeof WITH_NUL, NULL, 0, &s, NULL), BAD);
    CHECK_STATUS(keyfob_engine_revoke_user(engine, NOT_UTF8, sizeof NOT_UTF8, NULL), BAD);
    CHECK_STATUS(keyfob_engine_revoke_user(engine, WITH_NUL, sizeof WITH_NUL, NULL), BAD);
    CHECK_STATUS(keyfob_engine_revoke_user(engine, (const uint8_t *)"", 0, NULL), BAD);
    CHECK_STATUS(keyfob_engine_revoke_session(engine, NOT_UTF8, sizeof NOT_UTF8, NULL), BAD);
    CHECK_STATUS(keyfob_engine_revoke_session(engine, STR("not-a-session-id"), NULL), BAD);
    CHECK_STATUS(keyfob_engine_revoke_session(engine, STR("0123456789ABCDEF0123456789ABCDEF"), NULL), BAD);
    CHECK_STATUS(keyfob_engine_revoke_session(engine, STR("0123456789abcdef0123456789abcdef"), NULL),
                 KEYFOB_SESSION_UNKNOWN);
    CHECK(p == NULL && s == NULL);
}

static void test_extra_claims(keyfob_engine *engine) {
    keyfob_token_pair *p = SENTINEL(keyfob_token_pair);
    const char *bad[] = {"[1,2]", "\"text\"", "42", "null", "{\"a\":", "{} trailing", "",
                         "{\"exp\": 1}", "{\"user_id\": \"mallory\"}", "{\"sid\": \"x\"}",
                         "{\"token_type\": \"refresh\"}", "{\"jti\": \"x\"}"};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = SENTINEL(keyfob_token_pair);
        CHECK_STATUS(keyfob_engine_login(engine, STR("u"), STR(bad[i]), &p), BAD);
        CHECK(p == NULL);
    }
    /* An extra claims JSON holding an escaped NUL is fine: it stays escaped in the token. */
    CHECK_OK(keyfob_engine_login(engine, STR("u"), STR("{\"note\":\"a\\u0000b\"}"), &p));
    keyfob_token_pair_free(p);
}

static void test_oversized_tokens(keyfob_engine *engine) {
    /* Just over max_token_bytes (8192 by default), and far over the largest allowed cap. */
    size_t sizes[] = {8193, 70000, (size_t)2 << 20};
    size_t i;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *big = malloc(sizes[i]);
        keyfob_token_pair *p = SENTINEL(keyfob_token_pair);
        size_t n = 5;
        CHECK(big != NULL);
        memset(big, 'A', sizes[i]);
        big[100] = '.';
        big[200] = '.';
        CHECK_STATUS(keyfob_engine_validate(engine, (const uint8_t *)big, sizes[i], NULL), KEYFOB_MALFORMED);
        CHECK_STATUS(keyfob_engine_verify(engine, (const uint8_t *)big, sizes[i], NULL), KEYFOB_MALFORMED);
        CHECK_STATUS(keyfob_engine_refresh(engine, (const uint8_t *)big, sizes[i], &p), KEYFOB_MALFORMED);
        CHECK(p == NULL);
        CHECK_STATUS(keyfob_engine_revoke(engine, (const uint8_t *)big, sizes[i]), KEYFOB_MALFORMED);
        CHECK_STATUS(keyfob_engine_validate_into(engine, (const uint8_t *)big, sizes[i], NULL, 0, &n),
                     KEYFOB_MALFORMED);
        CHECK(n == 0);
        free(big);
    }
    /* A length no object can have is refused without reading. */
    CHECK_STATUS(keyfob_engine_validate(engine, (const uint8_t *)"x", (size_t)-1, NULL), KEYFOB_MALFORMED);
    {
        keyfob_token_pair *p = SENTINEL(keyfob_token_pair);
        CHECK_STATUS(keyfob_engine_login(engine, (const uint8_t *)"x", (size_t)-1, NULL, 0, &p), BAD);
        CHECK(p == NULL);
    }
}

static void test_bad_configs(keyfob_manual_clock *clock) {
    const char *bad[] = {
        "",
        "not json",
        "[]",
        "{}",                                                       /* no signing key */
        "{\"signing_key\": \"short\"}",                             /* HS256 needs 32 bytes */
        "{\"signing_key\": \"" SECRET "\", \"colour\": \"blue\"}",  /* unknown field */
        "{\"signing_key\": \"" SECRET "\", \"access_lifetime_s\": 0}",
        "{\"signing_key\": \"" SECRET "\", \"idle_timeout_s\": -5}",
        "{\"signing_key\": \"" SECRET "\", \"algorithm\": \"none\"}",
        "{\"signing_key\": \"" SECRET "\", \"store\": \"redis\"}",
        "{\"signing_key\": \"" SECRET "\", \"max_token_bytes\": 10}",
        "{\"signing_key\": \"" SECRET "\", \"user_id_claim\": \"exp\"}",
        "{\"signing_key\": \"" SECRET "\", \"algorithm\": \"EdDSA\"}", /* a secret is no Ed25519 key */
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        keyfob_engine *e = SENTINEL(keyfob_engine);
        CHECK_STATUS(keyfob_engine_new(STR(bad[i]), &e), KEYFOB_CONFIG);
        CHECK(e == NULL);
        e = SENTINEL(keyfob_engine);
        CHECK_STATUS(keyfob_engine_new_with_clock(STR(bad[i]), clock, &e), KEYFOB_CONFIG);
        CHECK(e == NULL);
    }
    {
        keyfob_engine *e = SENTINEL(keyfob_engine);
        CHECK_STATUS(keyfob_engine_new(NOT_UTF8, sizeof NOT_UTF8, &e), BAD);
        CHECK(e == NULL);
    }
}

/* Clock values at the edges of int64_t: every call still answers a defined status. */
static void test_extreme_times(void) {
    const int64_t times[] = {INT64_MAX, INT64_MAX - 1, INT64_MIN, INT64_MIN + 1, 0, -1};
    keyfob_manual_clock *clock = NULL;
    keyfob_engine *engine;
    size_t i;
    CHECK_OK(keyfob_manual_clock_new(T0, &clock));
    engine = engine_on(clock, "{\"signing_key\": \"" SECRET "\", \"leeway_s\": 60}");
    for (i = 0; i < sizeof times / sizeof times[0]; i++) {
        keyfob_token_pair *pair = NULL, *next = NULL;
        keyfob_status s;
        CHECK_OK(keyfob_manual_clock_set(clock, times[i]));
        s = keyfob_engine_login(engine, STR("edge"), NULL, 0, &pair);
        CHECK(s <= KEYFOB_DPOP_REPLAYED && s != KEYFOB_PANIC);
        CHECK((s == KEYFOB_OK) == (pair != NULL));
        if (pair) {
            s = keyfob_engine_validate(engine, STR(access_of(pair)), NULL);
            CHECK(s <= KEYFOB_DPOP_REPLAYED && s != KEYFOB_PANIC);
            CHECK_OK(keyfob_manual_clock_advance(clock, 1));
            s = keyfob_engine_refresh(engine, STR(refresh_of(pair)), &next);
            CHECK(s <= KEYFOB_DPOP_REPLAYED && s != KEYFOB_PANIC);
            CHECK((s == KEYFOB_OK) == (next != NULL));
        }
        s = keyfob_engine_sweep(engine, NULL);
        CHECK(s == KEYFOB_OK);
        keyfob_token_pair_free(next);
        keyfob_token_pair_free(pair);
    }
    keyfob_engine_free(engine);
    keyfob_manual_clock_free(clock);
}

void test_arguments(void) {
    keyfob_manual_clock *clock = NULL;
    keyfob_engine *engine;
    keyfob_token_pair *pair;

    CHECK_OK(keyfob_manual_clock_new(T0, &clock));
    engine = engine_on(clock, CONFIG);
    pair = login_as(engine, "args");

    test_null_clock_arguments(clock);
    test_null_engine_construction(clock);
    test_null_engine_calls(engine, pair);
    test_null_accessors();
    test_encodings(engine, pair);
    test_extra_claims(engine);
    test_oversized_tokens(engine);
    test_bad_configs(clock);
    test_extreme_times();

    keyfob_token_pair_free(pair);
    keyfob_engine_free(engine);
    keyfob_manual_clock_free(clock);
}
