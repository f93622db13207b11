/* The Redis store through the C library (built with the "redis" feature): a Redis that
 * cannot be reached fails every call closed with KEYFOB_STORE_UNAVAILABLE, never accepting
 * a token it could not check; and, when KEYFOB_TEST_REDIS_URL names a running Redis
 * (scripts/test-redis.sh sets it), two engines on it share sessions, revocations and
 * spent DPoP proofs. */
#include "check.h"
#include "dpop_key.h"

#define TOKEN_URL "https://api.example.com/token"
#define DOWN KEYFOB_STORE_UNAVAILABLE

/* Nothing listens on port 1: connecting is refused at once. */
#define UNREACHABLE_CONFIG                                                     \
    "{\"signing_key\": \"" SECRET "\", \"store\": \"redis://127.0.0.1:1/0\"," \
    " \"store_timeout_ms\": 200}"

static void test_unreachable_redis_fails_closed(void) {
    keyfob_engine *memory = NULL, *redis = SENTINEL(keyfob_engine);
    keyfob_token_pair *pair = NULL, *p = SENTINEL(keyfob_token_pair);
    keyfob_string *claims = SENTINEL(keyfob_string);
    keyfob_stats stats;
    size_t n = 0;
    bool was_live = false;

    /* The store connects lazily: the engine starts while Redis is down... */
    CHECK_OK(keyfob_engine_new(STR(UNREACHABLE_CONFIG), &redis));
    CHECK(redis != NULL && redis != SENTINEL(keyfob_engine));
    /* ... and the first call that needs the store reports it. */
    CHECK_STATUS(keyfob_engine_login(redis, STR("alice"), NULL, 0, &p), DOWN);
    CHECK(p == NULL);

    /* A token with a good signature (same key, minted elsewhere) is still not accepted. */
    CHECK_OK(keyfob_engine_new(STR("{\"signing_key\": \"" SECRET "\"}"), &memory));
    CHECK_OK(keyfob_engine_login(memory, STR("alice"), NULL, 0, &pair));
    CHECK_STATUS(keyfob_engine_validate(redis, STR(access_of(pair)), &claims), DOWN);
    CHECK(claims == NULL);
    CHECK_STATUS(keyfob_engine_validate_bound(redis, STR(access_of(pair)), NULL, NULL), DOWN);
    CHECK_STATUS(keyfob_engine_verify(redis, STR(access_of(pair)), NULL), DOWN);
    p = SENTINEL(keyfob_token_pair);
    CHECK_STATUS(keyfob_engine_refresh(redis, STR(refresh_of(pair)), &p), DOWN);
    CHECK(p == NULL);
    CHECK_STATUS(keyfob_engine_refresh_bound(redis, STR(refresh_of(pair)), NULL, &p), DOWN);
    CHECK_STATUS(keyfob_engine_revoke(redis, STR(refresh_of(pair))), DOWN);
    CHECK_STATUS(keyfob_engine_revoke_session(redis, STR(keyfob_token_pair_session_id(pair, NULL)),
                                       &was_live),
                 DOWN);
    CHECK_STATUS(keyfob_engine_revoke_user(redis, STR("alice"), &n), DOWN);
    CHECK_STATUS(keyfob_engine_stats(redis, &stats), DOWN);
    /* Token-level failures are still reported as such: they need no store. */
    CHECK_STATUS(keyfob_engine_validate(redis, STR("not.a.token"), NULL), KEYFOB_MALFORMED);

    keyfob_token_pair_free(pair);
    keyfob_engine_free(memory);
    keyfob_engine_free(redis);
}

/* Two engines on the Redis at `url`, under a key prefix no other run uses. */
static void test_shared_redis(const char *url) {
    keyfob_engine *memory = NULL, *a = NULL, *b = NULL;
    keyfob_token_pair *pair = NULL, *next = NULL, *p = SENTINEL(keyfob_token_pair);
    dpop_key *key = dpop_key_new(DPOP_ES256);
    keyfob_presentation presented = {NULL, 0, NULL, 0, NULL, 0, NULL, 0};
    char config[512], prefix[128], *proof;
    int64_t now = 0;
    int n;

    /* A fresh random session id makes the prefix unique. */
    CHECK_OK(keyfob_engine_new(STR("{\"signing_key\": \"" SECRET "\"}"), &memory));
    pair = login_as(memory, "prefix");
    n = snprintf(config, sizeof config,
                 "{\"signing_key\": \"" SECRET "\", \"store\": \"%s\","
                 " \"store_prefix\": \"keyfob-c-test:%s:\", \"store_timeout_ms\": 5000}",
                 url, keyfob_token_pair_session_id(pair, NULL));
    CHECK(n > 0 && (size_t)n < sizeof config);
    n = snprintf(prefix, sizeof prefix, "keyfob-c-test:%s:", keyfob_token_pair_session_id(pair, NULL));
    CHECK(n > 0 && (size_t)n < sizeof prefix);
    keyfob_token_pair_free(pair);
    keyfob_engine_free(memory);

    CHECK_OK(keyfob_engine_new(STR(config), &a));
    CHECK_OK(keyfob_engine_new(STR(config), &b));

    /* The session-management suite, on Redis. */
    test_sessions_on(url, prefix);

    /* A login on one engine is known to the other; a logout on one is seen by the other. */
    CHECK_OK(keyfob_engine_login(a, STR("alice"), NULL, 0, &pair));
    CHECK_OK(keyfob_engine_validate(b, STR(access_of(pair)), NULL));
    CHECK_OK(keyfob_engine_refresh(b, STR(refresh_of(pair)), &next));
    CHECK_STATUS(keyfob_engine_refresh(a, STR(refresh_of(pair)), &p), KEYFOB_REUSE_DETECTED);
    CHECK(p == NULL);
    CHECK_STATUS(keyfob_engine_validate(a, STR(access_of(next)), NULL), KEYFOB_REVOKED);
    keyfob_token_pair_free(next);
    keyfob_token_pair_free(pair);

    /* Client binding: a mismatch on one engine revokes for both. */
    presented.client_id = (const uint8_t *)"app";
    presented.client_id_len = 3;
    CHECK_OK(keyfob_engine_login_bound(a, STR("bob"), NULL, 0, &presented, &pair));
    CHECK_STATUS(keyfob_engine_refresh_bound(b, STR(refresh_of(pair)), NULL, &p),
                 KEYFOB_CLIENT_MISMATCH);
    CHECK_STATUS(keyfob_engine_refresh_bound(a, STR(refresh_of(pair)), &presented, &p), KEYFOB_REVOKED);
    keyfob_token_pair_free(pair);

    /* DPoP: a proof spent on one engine is replayed on the other. */
    CHECK_OK(keyfob_engine_now(a, &now));
    proof = dpop_proof(key, "POST", TOKEN_URL, now, NULL);
    presented.client_id = NULL;
    presented.client_id_len = 0;
    presented.dpop_proof = (const uint8_t *)proof;
    presented.dpop_proof_len = strlen(proof);
    presented.http_method = (const uint8_t *)"POST";
    presented.http_method_len = 4;
    presented.http_url = (const uint8_t *)TOKEN_URL;
    presented.http_url_len = strlen(TOKEN_URL);
    CHECK_OK(keyfob_engine_login_bound(a, STR("carol"), NULL, 0, &presented, &pair));
    CHECK_STATUS(keyfob_engine_login_bound(b, STR("carol"), NULL, 0, &presented, &p),
                 KEYFOB_DPOP_REPLAYED);
    free(proof);
    proof = dpop_proof(key, "POST", TOKEN_URL, now, NULL);
    presented.dpop_proof = (const uint8_t *)proof;
    presented.dpop_proof_len = strlen(proof);
    CHECK_OK(keyfob_engine_refresh_bound(b, STR(refresh_of(pair)), &presented, &next));
    CHECK_STATUS(keyfob_engine_refresh_bound(a, STR(refresh_of(next)), &presented, &p),
                 KEYFOB_DPOP_REPLAYED);
    CHECK_STATUS(keyfob_engine_refresh_bound(a, STR(refresh_of(next)), NULL, &p), KEYFOB_DPOP_INVALID);
    free(proof);
    keyfob_token_pair_free(next);
    keyfob_token_pair_free(pair);

    dpop_key_free(key);
    keyfob_engine_free(b);
    keyfob_engine_free(a);
}

int test_redis(void) {
    const char *url = getenv("KEYFOB_TEST_REDIS_URL");
    test_unreachable_redis_fails_closed();
    if (url == NULL || *url == '\0') {
        return 0;
    }
    test_shared_redis(url);
    return 1;
}
