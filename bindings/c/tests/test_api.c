/* The success path of every function, and the ownership of what each returns. */
#include "check.h"

#define CONFIG "{\"signing_key\": \"" SECRET "\", \"idle_timeout_s\": 600}"

static void test_version_and_status_texts(void) {
    const char *v = keyfob_version();
    CHECK(v != NULL && strlen(v) >= 5 && strchr(v, '.') != NULL);
    CHECK(strcmp(keyfob_status_name(KEYFOB_OK), "ok") == 0);
    CHECK(strcmp(keyfob_status_message(KEYFOB_OK), "success") == 0);
    CHECK(strcmp(keyfob_status_name(KEYFOB_MALFORMED), "malformed") == 0);
    CHECK(strcmp(keyfob_status_name(KEYFOB_REUSE_DETECTED), "reuse_detected") == 0);
    CHECK(strcmp(keyfob_status_message(KEYFOB_EXPIRED), "token is expired") == 0);
    CHECK(strcmp(keyfob_status_name(KEYFOB_DPOP_REPLAYED), "dpop_replayed") == 0);
    CHECK(strcmp(keyfob_status_name(24), "unknown") == 0);
    CHECK(strcmp(keyfob_status_message(24), "unknown") == 0);
    CHECK(strcmp(keyfob_status_name(0xFFFFFFFFu), "unknown") == 0);
    /* The numbers are part of the ABI. */
    CHECK(KEYFOB_OK == 0 && KEYFOB_MALFORMED == 1 && KEYFOB_REUSE_DETECTED == 15);
    CHECK(KEYFOB_INVALID_ARGUMENT == 16 && KEYFOB_CONFIG == 17 && KEYFOB_BUFFER_TOO_SMALL == 18);
    CHECK(KEYFOB_PANIC == 20 && KEYFOB_DPOP_REPLAYED == 23);
}

static void test_clock(void) {
    keyfob_manual_clock *clock = NULL;
    int64_t now = 0;
    CHECK_OK(keyfob_manual_clock_new(T0, &clock));
    CHECK_OK(keyfob_manual_clock_now(clock, &now));
    CHECK(now == T0);
    CHECK_OK(keyfob_manual_clock_advance(clock, 90));
    CHECK_OK(keyfob_manual_clock_now(clock, &now));
    CHECK(now == T0 + 90);
    CHECK_OK(keyfob_manual_clock_advance(clock, -30));
    CHECK_OK(keyfob_manual_clock_now(clock, &now));
    CHECK(now == T0 + 60);
    CHECK_OK(keyfob_manual_clock_set(clock, T0));
    CHECK_OK(keyfob_manual_clock_now(clock, &now));
    CHECK(now == T0);
    keyfob_manual_clock_free(clock);
}

static void test_wall_clock_engine(void) {
    keyfob_engine *engine = NULL;
    keyfob_token_pair *pair = NULL;
    int64_t now = 0;
    CHECK_OK(keyfob_engine_new(STR(CONFIG), &engine));
    CHECK(engine != NULL);
    CHECK_OK(keyfob_engine_now(engine, &now));
    CHECK(now > T0); /* the wall clock is past 2023 */
    CHECK_OK(keyfob_engine_login(engine, STR("wall"), NULL, 0, &pair));
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(pair)), NULL));
    keyfob_token_pair_free(pair);
    keyfob_engine_free(engine);
}

static void test_login_validate_verify(keyfob_engine *engine) {
    keyfob_token_pair *pair = NULL;
    keyfob_string *claims = NULL;
    size_t alen = 0, rlen = 0, slen = 0;
    const char *access, *refresh, *sid;
    const char *extra = "{\"role\":\"admin\",\"n\":[1,2]}";

    CHECK_OK(keyfob_engine_login(engine, STR("alice"), STR(extra), &pair));
    access = keyfob_token_pair_access(pair, &alen);
    refresh = keyfob_token_pair_refresh(pair, &rlen);
    sid = keyfob_token_pair_session_id(pair, &slen);
    CHECK(access != NULL && refresh != NULL && sid != NULL);
    CHECK(alen == strlen(access) && rlen == strlen(refresh));
    CHECK(slen == 32 && strlen(sid) == 32);
    CHECK(strcmp(access, refresh) != 0);

    CHECK_OK(keyfob_engine_validate(engine, (const uint8_t *)access, alen, &claims));
    CHECK(claims != NULL);
    CHECK(keyfob_string_len(claims) == strlen(keyfob_string_ptr(claims)));
    CHECK(strstr(keyfob_string_ptr(claims), "\"user_id\":\"alice\"") != NULL);
    CHECK(strstr(keyfob_string_ptr(claims), "\"token_type\":\"access\"") != NULL);
    CHECK(strstr(keyfob_string_ptr(claims), "\"role\":\"admin\"") != NULL);
    CHECK(strstr(keyfob_string_ptr(claims), sid) != NULL);
    keyfob_string_free(claims);

    /* verify takes any token type and slides nothing. */
    CHECK_OK(keyfob_engine_verify(engine, (const uint8_t *)refresh, rlen, &claims));
    CHECK(strstr(keyfob_string_ptr(claims), "\"token_type\":\"refresh\"") != NULL);
    keyfob_string_free(claims);
    CHECK_OK(keyfob_engine_verify(engine, (const uint8_t *)access, alen, NULL));
    CHECK_OK(keyfob_engine_validate(engine, (const uint8_t *)access, alen, NULL));
    keyfob_token_pair_free(pair);
}

static void test_validate_into(keyfob_engine *engine) {
    keyfob_token_pair *pair = login_as(engine, "bob");
    keyfob_string *claims = NULL;
    size_t needed = 0;
    char small[8], *big;
    memset(small, 'x', sizeof small);

    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(pair)), &claims));
    /* Ask for the size with an empty buffer. */
    CHECK_STATUS(keyfob_engine_validate_into(engine, STR(access_of(pair)), NULL, 0, &needed),
                 KEYFOB_BUFFER_TOO_SMALL);
    CHECK(needed == keyfob_string_len(claims) + 1);
    /* Too small: untouched, and the size is told again. */
    needed = 0;
    CHECK_STATUS(keyfob_engine_validate_into(engine, STR(access_of(pair)), small, sizeof small, &needed),
                 KEYFOB_BUFFER_TOO_SMALL);
    CHECK(needed == keyfob_string_len(claims) + 1);
    CHECK(small[0] == 'x' && small[7] == 'x');
    /* One byte short of the NUL is still too small. */
    big = malloc(needed);
    CHECK(big != NULL);
    CHECK_STATUS(keyfob_engine_validate_into(engine, STR(access_of(pair)), big, needed - 1, &needed),
                 KEYFOB_BUFFER_TOO_SMALL);
    /* Exactly enough. */
    CHECK_OK(keyfob_engine_validate_into(engine, STR(access_of(pair)), big, needed, &needed));
    CHECK(strcmp(big, keyfob_string_ptr(claims)) == 0);
    /* A token error wins over the buffer, and needed says 0. */
    CHECK_STATUS(keyfob_engine_validate_into(engine, STR("bad"), big, needed, &needed), KEYFOB_MALFORMED);
    CHECK(needed == 0);
    free(big);
    keyfob_string_free(claims);
    keyfob_token_pair_free(pair);
}

static void test_refresh_and_revoke(keyfob_engine *engine) {
    keyfob_token_pair *pair = login_as(engine, "carol");
    keyfob_token_pair *next = NULL, *after = NULL;
    char sid[33];

    strcpy(sid, keyfob_token_pair_session_id(pair, NULL));
    CHECK_OK(keyfob_engine_refresh(engine, STR(refresh_of(pair)), &next));
    CHECK(strcmp(keyfob_token_pair_session_id(next, NULL), sid) == 0);
    CHECK(strcmp(refresh_of(next), refresh_of(pair)) != 0);
    CHECK(strcmp(access_of(next), access_of(pair)) != 0);
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(next)), NULL));
    /* The session's older access token is still valid until logout. */
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(pair)), NULL));
    /* Logout with the access token revokes the whole session. */
    CHECK_OK(keyfob_engine_revoke(engine, STR(access_of(next))));
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(pair)), NULL), KEYFOB_REVOKED);
    after = SENTINEL(keyfob_token_pair);
    CHECK_STATUS(keyfob_engine_refresh(engine, STR(refresh_of(next)), &after), KEYFOB_REVOKED);
    CHECK(after == NULL);
    keyfob_token_pair_free(next);
    keyfob_token_pair_free(pair);
}

static void test_revoke_session_and_user(keyfob_engine *engine) {
    keyfob_token_pair *a = login_as(engine, "dave");
    keyfob_token_pair *b = login_as(engine, "dave");
    keyfob_token_pair *c = login_as(engine, "erin");
    bool was_live = false;
    size_t revoked = 99;

    CHECK_OK(keyfob_engine_revoke_session(engine, STR(keyfob_token_pair_session_id(a, NULL)), &was_live));
    CHECK(was_live);
    CHECK_OK(keyfob_engine_revoke_session(engine, STR(keyfob_token_pair_session_id(a, NULL)), &was_live));
    CHECK(!was_live);
    CHECK_OK(keyfob_engine_revoke_session(engine, STR(keyfob_token_pair_session_id(a, NULL)), NULL));
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(a)), NULL), KEYFOB_REVOKED);

    CHECK_OK(keyfob_engine_revoke_user(engine, STR("dave"), &revoked));
    CHECK(revoked == 1); /* b; a was already revoked */
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(b)), NULL), KEYFOB_REVOKED);
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(c)), NULL));
    CHECK_OK(keyfob_engine_revoke_user(engine, STR("nobody"), NULL));
    keyfob_token_pair_free(a);
    keyfob_token_pair_free(b);
    keyfob_token_pair_free(c);
}

static void test_sliding(keyfob_engine *engine, keyfob_manual_clock *clock) {
    keyfob_string *token = NULL, *sid = NULL, *renewed = NULL, *sid2 = NULL, *claims = NULL;

    CHECK_OK(keyfob_engine_login_sliding(engine, STR("frank"), STR("{\"plan\":\"pro\"}"), &token, &sid));
    CHECK(keyfob_string_len(sid) == 32);
    CHECK_OK(keyfob_engine_validate_sliding(engine, (const uint8_t *)keyfob_string_ptr(token),
                                     keyfob_string_len(token), &claims));
    CHECK(strstr(keyfob_string_ptr(claims), "\"token_type\":\"sliding\"") != NULL);
    CHECK(strstr(keyfob_string_ptr(claims), "\"refresh_exp\":") != NULL);
    CHECK(strstr(keyfob_string_ptr(claims), "\"plan\":\"pro\"") != NULL);
    keyfob_string_free(claims);
    /* A sliding token is not an access token. */
    CHECK_STATUS(keyfob_engine_validate(engine, STR(keyfob_string_ptr(token)), NULL), KEYFOB_WRONG_TYPE);

    CHECK_OK(keyfob_manual_clock_advance(clock, 100));
    CHECK_OK(keyfob_engine_refresh_sliding(engine, STR(keyfob_string_ptr(token)), &renewed, &sid2));
    CHECK(strcmp(keyfob_string_ptr(sid), keyfob_string_ptr(sid2)) == 0);
    CHECK(strcmp(keyfob_string_ptr(token), keyfob_string_ptr(renewed)) != 0);
    CHECK_OK(keyfob_engine_validate_sliding(engine, STR(keyfob_string_ptr(renewed)), NULL));
    keyfob_string_free(sid2);
    sid2 = NULL;
    /* The session id out-parameter is optional. */
    keyfob_string_free(token);
    token = NULL;
    CHECK_OK(keyfob_engine_refresh_sliding(engine, STR(keyfob_string_ptr(renewed)), &token, NULL));
    keyfob_string_free(renewed);
    renewed = NULL;
    CHECK_OK(keyfob_engine_login_sliding(engine, STR("grace"), NULL, 0, &renewed, NULL));
    CHECK_OK(keyfob_engine_revoke(engine, STR(keyfob_string_ptr(token))));
    CHECK_STATUS(keyfob_engine_validate_sliding(engine, STR(keyfob_string_ptr(token)), NULL),
                 KEYFOB_REVOKED);
    CHECK_OK(keyfob_engine_validate_sliding(engine, STR(keyfob_string_ptr(renewed)), NULL));
    keyfob_string_free(renewed);
    keyfob_string_free(token);
    keyfob_string_free(sid);
}

static void test_sweep_and_stats(keyfob_manual_clock *clock) {
    keyfob_engine *engine = engine_on(clock, "{\"signing_key\": \"" SECRET "\", \"idle_timeout_s\": 60}");
    keyfob_token_pair *a = login_as(engine, "u1");
    keyfob_token_pair *b = login_as(engine, "u2");
    keyfob_stats stats;
    size_t removed = 99;

    memset(&stats, 0xff, sizeof stats);
    CHECK_OK(keyfob_engine_stats(engine, &stats));
    CHECK(stats.sessions == 2 && stats.revoked_sessions == 0);
    CHECK(stats.denied_jtis == 0 && stats.user_epochs == 0);
    CHECK_OK(keyfob_engine_revoke(engine, STR(refresh_of(a))));
    CHECK_OK(keyfob_engine_revoke_user(engine, STR("u9"), NULL));
    CHECK_OK(keyfob_engine_stats(engine, &stats));
    CHECK(stats.sessions == 2 && stats.revoked_sessions == 1 && stats.user_epochs == 1);
    CHECK_OK(keyfob_engine_sweep(engine, &removed));
    CHECK(removed == 0); /* nothing has ended yet */
    CHECK_OK(keyfob_manual_clock_advance(clock, 61)); /* both sessions go idle */
    CHECK_OK(keyfob_engine_sweep(engine, &removed));
    CHECK(removed >= 2);
    CHECK_OK(keyfob_engine_stats(engine, &stats));
    CHECK(stats.sessions == 0);
    CHECK_OK(keyfob_engine_sweep(engine, NULL));
    keyfob_token_pair_free(a);
    keyfob_token_pair_free(b);
    keyfob_engine_free(engine);
}

static void test_rotation_off(keyfob_manual_clock *clock) {
    keyfob_engine *engine =
        engine_on(clock, "{\"signing_key\": \"" SECRET "\", \"rotate_refresh\": false}");
    keyfob_token_pair *pair = login_as(engine, "henry");
    keyfob_token_pair *next = NULL;
    size_t len = 99;

    CHECK_OK(keyfob_engine_refresh(engine, STR(refresh_of(pair)), &next));
    CHECK(keyfob_token_pair_refresh(next, &len) == NULL && len == 0);
    CHECK(strcmp(keyfob_token_pair_session_id(next, NULL), keyfob_token_pair_session_id(pair, NULL)) == 0);
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(next)), NULL));
    keyfob_token_pair_free(next);
    /* Without rotation the same refresh token keeps working. */
    CHECK_OK(keyfob_engine_refresh(engine, STR(refresh_of(pair)), &next));
    keyfob_token_pair_free(next);
    keyfob_token_pair_free(pair);
    keyfob_engine_free(engine);
}

static void test_clock_outlives_or_not(void) {
    keyfob_manual_clock *clock = NULL;
    keyfob_engine *engine;
    keyfob_token_pair *pair;
    CHECK_OK(keyfob_manual_clock_new(T0, &clock));
    engine = engine_on(clock, "{\"signing_key\": \"" SECRET "\"}");
    pair = login_as(engine, "ivy");
    /* The engine keeps its own reference to the clock's time. */
    keyfob_manual_clock_free(clock);
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(pair)), NULL));
    keyfob_token_pair_free(pair);
    keyfob_engine_free(engine);
}

void test_api(void) {
    keyfob_manual_clock *clock = NULL;
    keyfob_engine *engine;

    test_version_and_status_texts();
    test_clock();
    test_wall_clock_engine();

    CHECK_OK(keyfob_manual_clock_new(T0, &clock));
    engine = engine_on(clock, CONFIG);
    test_login_validate_verify(engine);
    test_validate_into(engine);
    test_refresh_and_revoke(engine);
    test_revoke_session_and_user(engine);
    test_sliding(engine, clock);
    keyfob_engine_free(engine);

    CHECK_OK(keyfob_manual_clock_set(clock, T0));
    test_sweep_and_stats(clock);
    CHECK_OK(keyfob_manual_clock_set(clock, T0));
    test_rotation_off(clock);
    keyfob_manual_clock_free(clock);
    test_clock_outlives_or_not();

    /* NULL frees are no-ops. */
    keyfob_engine_free(NULL);
    keyfob_token_pair_free(NULL);
    keyfob_string_free(NULL);
    keyfob_manual_clock_free(NULL);
}
