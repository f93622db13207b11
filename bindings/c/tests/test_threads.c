/* 8 threads share one engine: independent sessions under load, 8 simultaneous refreshes of
 * one token (converging inside the grace window, exactly one winner without it), and
 * revocation racing validation. Workers record what they saw; the main thread checks it. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "check.h"

#define THREADS 8
#define ROUNDS 40

typedef struct {
    keyfob_engine *engine;
    pthread_barrier_t *start;
    int index;
    /* shared inputs */
    const char *token;
    const char *session_id;
    /* results */
    unsigned long ok;
    keyfob_status unexpected; /* first status that should not have happened, else KEYFOB_OK */
    int unexpected_step;
    keyfob_status status;
    keyfob_token_pair *pair;
    int saw_ok_after_revoked;
    unsigned long revoked_seen;
} worker;

static void note(worker *w, keyfob_status got, keyfob_status want, int step) {
    if (got == want) {
        w->ok++;
    } else if (w->unexpected == KEYFOB_OK) {
        w->unexpected = got;
        w->unexpected_step = step;
    }
}

static void wait_start(worker *w) {
    int rc = pthread_barrier_wait(w->start);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) abort();
}

/* Phase 1: each thread its own session; refresh chains, validation, stats and sweeps. */
static void *own_sessions(void *arg) {
    worker *w = arg;
    char user[32];
    keyfob_token_pair *pair = NULL, *next = NULL;
    keyfob_string *claims = NULL;
    keyfob_stats stats;
    int i;
    snprintf(user, sizeof user, "thread-%d", w->index);
    wait_start(w);
    note(w, keyfob_engine_login(w->engine, STR(user), NULL, 0, &pair), KEYFOB_OK, 1);
    if (!pair) return NULL;
    for (i = 0; i < ROUNDS; i++) {
        note(w, keyfob_engine_validate(w->engine, STR(access_of(pair)), &claims), KEYFOB_OK, 2);
        if (claims && !strstr(keyfob_string_ptr(claims), user)) note(w, KEYFOB_PANIC, KEYFOB_OK, 3);
        keyfob_string_free(claims);
        claims = NULL;
        note(w, keyfob_engine_verify(w->engine, STR(w->token), NULL), KEYFOB_OK, 4);
        note(w, keyfob_engine_refresh(w->engine, STR(refresh_of(pair)), &next), KEYFOB_OK, 5);
        if (!next) break;
        note(w, keyfob_engine_validate(w->engine, STR(access_of(next)), NULL), KEYFOB_OK, 6);
        keyfob_token_pair_free(pair);
        pair = next;
        next = NULL;
        if (w->index == 0) {
            note(w, keyfob_engine_stats(w->engine, &stats), KEYFOB_OK, 7);
            note(w, keyfob_engine_sweep(w->engine, NULL), KEYFOB_OK, 8);
        }
    }
    /* Logout, then the session is gone for this thread's tokens only. */
    note(w, keyfob_engine_revoke(w->engine, STR(refresh_of(pair))), KEYFOB_OK, 9);
    note(w, keyfob_engine_validate(w->engine, STR(access_of(pair)), NULL), KEYFOB_REVOKED, 10);
    keyfob_token_pair_free(pair);
    return NULL;
}

/* Phases 2 and 3: everyone refreshes the same refresh token at once. */
static void *same_refresh(void *arg) {
    worker *w = arg;
    wait_start(w);
    w->status = keyfob_engine_refresh(w->engine, STR(w->token), &w->pair);
    return NULL;
}

/* Phase 4: validate a shared token until revoked; thread 0 revokes the session midway. */
static void *validate_until_revoked(void *arg) {
    worker *w = arg;
    unsigned long i;
    bool was_live = false;
    wait_start(w);
    for (i = 0; i < 5000000 && w->revoked_seen < 20; i++) {
        keyfob_status s = keyfob_engine_validate(w->engine, STR(w->token), NULL);
        if (s == KEYFOB_OK) {
            w->ok++;
            if (w->revoked_seen) w->saw_ok_after_revoked = 1;
        } else if (s == KEYFOB_REVOKED) {
            w->revoked_seen++;
        } else if (w->unexpected == KEYFOB_OK) {
            w->unexpected = s;
            w->unexpected_step = 20;
        }
        if (w->index == 0 && i == 25) {
            note(w, keyfob_engine_revoke_session(w->engine, STR(w->session_id), &was_live), KEYFOB_OK, 21);
            if (!was_live) note(w, KEYFOB_PANIC, KEYFOB_OK, 22);
        }
    }
    return NULL;
}

static void run(worker *workers, void *(*body)(void *)) {
    pthread_t threads[THREADS];
    pthread_barrier_t start;
    int i;
    CHECK(pthread_barrier_init(&start, NULL, THREADS) == 0);
    for (i = 0; i < THREADS; i++) {
        workers[i].start = &start;
        CHECK(pthread_create(&threads[i], NULL, body, &workers[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) CHECK(pthread_join(threads[i], NULL) == 0);
    CHECK(pthread_barrier_destroy(&start) == 0);
    for (i = 0; i < THREADS; i++) {
        if (workers[i].unexpected != KEYFOB_OK) {
            fprintf(stderr, "thread %d, step %d: unexpected %s\n", i, workers[i].unexpected_step,
                    keyfob_status_name(workers[i].unexpected));
        }
        CHECK(workers[i].unexpected == KEYFOB_OK);
    }
}

static void prepare(worker *workers, keyfob_engine *engine, const keyfob_token_pair *shared,
                    const char *token) {
    int i;
    memset(workers, 0, sizeof(worker) * THREADS);
    for (i = 0; i < THREADS; i++) {
        workers[i].engine = engine;
        workers[i].index = i;
        workers[i].token = token;
        workers[i].session_id = keyfob_token_pair_session_id(shared, NULL);
    }
}

void test_threads(void) {
    keyfob_manual_clock *clock = NULL;
    keyfob_engine *graceful, *strict;
    keyfob_token_pair *shared, *target;
    worker workers[THREADS];
    int i, winners, reuses;
    keyfob_stats stats;

    /* A frozen clock: every thread sees the same second, so results are exact. */
    CHECK_OK(keyfob_manual_clock_new(T0, &clock));
    graceful = engine_on(clock, "{\"signing_key\": \"" SECRET "\", \"reuse_grace_s\": 30}");
    strict = engine_on(clock, "{\"signing_key\": \"" SECRET "\"}");

    /* Phase 1. */
    shared = login_as(graceful, "shared");
    prepare(workers, graceful, shared, access_of(shared));
    run(workers, own_sessions);
    for (i = 0; i < THREADS; i++) CHECK(workers[i].ok == 3 + 4 * ROUNDS + (i == 0 ? 2 * ROUNDS : 0));
    CHECK_OK(keyfob_engine_stats(graceful, &stats));
    CHECK(stats.revoked_sessions == THREADS);
    CHECK_OK(keyfob_engine_validate(graceful, STR(access_of(shared)), NULL));

    /* Phase 2: within the grace window all 8 refreshes succeed with the same refresh token. */
    target = login_as(graceful, "converge");
    prepare(workers, graceful, target, refresh_of(target));
    run(workers, same_refresh);
    for (i = 0; i < THREADS; i++) {
        CHECK_OK(workers[i].status);
        CHECK(strcmp(refresh_of(workers[i].pair), refresh_of(workers[0].pair)) == 0);
        CHECK_OK(keyfob_engine_validate(graceful, STR(access_of(workers[i].pair)), NULL));
    }
    for (i = 0; i < THREADS; i++) keyfob_token_pair_free(workers[i].pair);
    keyfob_token_pair_free(target);

    /* Phase 3: without grace exactly one refresh wins; the other 7 are replays, and the
     * session (the winner's tokens included) is revoked. */
    target = login_as(strict, "race");
    prepare(workers, strict, target, refresh_of(target));
    run(workers, same_refresh);
    winners = reuses = 0;
    for (i = 0; i < THREADS; i++) {
        if (workers[i].status == KEYFOB_OK) {
            winners++;
            CHECK(workers[i].pair != NULL);
            CHECK_STATUS(keyfob_engine_validate(strict, STR(access_of(workers[i].pair)), NULL), KEYFOB_REVOKED);
        } else {
            CHECK_STATUS(workers[i].status, KEYFOB_REUSE_DETECTED);
            CHECK(workers[i].pair == NULL);
            reuses++;
        }
        keyfob_token_pair_free(workers[i].pair);
    }
    CHECK(winners == 1 && reuses == THREADS - 1);
    keyfob_token_pair_free(target);

    /* Phase 4: once a thread has seen the revocation it never sees the token valid again. */
    target = login_as(strict, "victim");
    prepare(workers, strict, target, access_of(target));
    run(workers, validate_until_revoked);
    for (i = 0; i < THREADS; i++) {
        CHECK(workers[i].revoked_seen == 20);
        CHECK(!workers[i].saw_ok_after_revoked);
    }
    CHECK(workers[0].ok >= 25);
    keyfob_token_pair_free(target);

    keyfob_token_pair_free(shared);
    keyfob_engine_free(graceful);
    keyfob_engine_free(strict);
    keyfob_manual_clock_free(clock);
}
