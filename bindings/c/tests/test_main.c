/* Runs every C ABI suite; the last line is "N passed, 0 failed" (CHECK exits on failure). */
#include "check.h"

unsigned long check_passed = 0;

keyfob_engine *engine_on(keyfob_manual_clock *clock, const char *config_json) {
    keyfob_engine *engine = NULL;
    CHECK_OK(keyfob_engine_new_with_clock(STR(config_json), clock, &engine));
    CHECK(engine != NULL);
    return engine;
}

keyfob_token_pair *login_as(keyfob_engine *engine, const char *user) {
    keyfob_token_pair *pair = NULL;
    CHECK_OK(keyfob_engine_login(engine, STR(user), NULL, 0, &pair));
    CHECK(pair != NULL);
    return pair;
}

const char *access_of(const keyfob_token_pair *pair) {
    return keyfob_token_pair_access(pair, NULL);
}

const char *refresh_of(const keyfob_token_pair *pair) {
    return keyfob_token_pair_refresh(pair, NULL);
}

int main(void) {
    printf("keyfob %s C ABI tests\n", keyfob_version());
    test_api();
    printf("api: ok\n");
    test_arguments();
    printf("arguments: ok\n");
    test_token_errors();
    printf("token errors: ok\n");
    test_threads();
    printf("threads: ok\n");
    test_binding();
    printf("client binding and DPoP: ok\n");
    test_jwks();
    printf("jwks: ok\n");
    test_session_management();
    printf("sessions, events and metrics: ok\n");
    if (test_redis()) {
        printf("redis store (unreachable and live): ok\n");
    } else {
        printf("redis store (unreachable): ok; live: not run, KEYFOB_TEST_REDIS_URL is unset\n");
    }
    printf("%lu passed, 0 failed\n", check_passed);
    return 0;
}
