/* The C tests' tiny harness: CHECK stops at the first failure with file:line, and every
 * passing check is counted so the run ends with "N passed, 0 failed". */
#ifndef KEYFOB_TEST_CHECK_H
#define KEYFOB_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyfob.h"

/* Checks that passed so far (main thread only: worker threads report to the main thread). */
extern unsigned long check_passed;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) {                                                              \
            check_passed++;                                                      \
        } else {                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            fprintf(stderr, "%lu passed, 1 failed\n", check_passed);             \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

/* Expect a status; on mismatch print both by name. */
#define CHECK_STATUS(expr, want)                                                       \
    do {                                                                               \
        keyfob_status got_ = (expr);                                                   \
        keyfob_status want_ = (want);                                                  \
        if (got_ == want_) {                                                           \
            check_passed++;                                                            \
        } else {                                                                       \
            fprintf(stderr, "%s:%d: %s\n  got %s (%u), want %s (%u)\n", __FILE__,      \
                    __LINE__, #expr, keyfob_status_name(got_), (unsigned)got_,         \
                    keyfob_status_name(want_), (unsigned)want_);                       \
            fprintf(stderr, "%lu passed, 1 failed\n", check_passed);                   \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, KEYFOB_OK)

/* A C string literal or variable as keyfob's (ptr, len) input pair. */
#define STR(s) (const uint8_t *)(s), strlen(s)

/* A non-NULL pointer of any handle type that is never dereferenced: out-parameters are
 * preset to it to show that a failing call resets them to NULL. */
#define SENTINEL(type) ((type *)(void *)&check_passed)

/* The fixed start time of every manual clock in the tests. */
#define T0 ((int64_t)1700000000)

/* A secret every test engine shares unless a test needs another key. */
#define SECRET "c-tests-secret-of-at-least-thirty-two-bytes"

/* Build an engine on `clock` from a config JSON; stops the test on failure. */
keyfob_engine *engine_on(keyfob_manual_clock *clock, const char *config_json);

/* Log `user` in on `engine`; stops the test on failure. */
keyfob_token_pair *login_as(keyfob_engine *engine, const char *user);

/* Borrowed views of a pair's tokens. */
const char *access_of(const keyfob_token_pair *pair);
const char *refresh_of(const keyfob_token_pair *pair);

/* The suites, each in its own file. */
void test_api(void);
void test_arguments(void);
void test_token_errors(void);
void test_threads(void);
void test_binding(void);
void test_jwks(void);
void test_session_management(void);
/* The session-management suite on the memory store (`redis_url` NULL) or on the Redis at
 * `redis_url`, under keys starting with `prefix`. */
void test_sessions_on(const char *redis_url, const char *prefix);
/* Returns 1 when it also ran against a live Redis (KEYFOB_TEST_REDIS_URL), else 0. */
int test_redis(void);

#endif
