/* validate through the C ABI, timed with the thread's CPU clock (like the Rust benches).
 *
 *   validate_bench [rounds iterations]   -> JSON medians on stdout
 *   validate_bench count N               -> N validates, nothing printed (for callgrind)
 *
 * Two forms: status only (claims_out NULL) and the claims copied into a caller buffer. */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyfob.h"

static const char CONFIG[] = "{\"signing_key\": \"bench-secret-0123456789abcdef0123456789abcdef\"}";

static uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void check(keyfob_status st, const char *what) {
    if (st != 0) {
        fprintf(stderr, "%s: %s\n", what, keyfob_status_name(st));
        exit(1);
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    keyfob_engine *engine = NULL;
    check(keyfob_engine_new((const uint8_t *)CONFIG, strlen(CONFIG), &engine), "engine_new");
    keyfob_token_pair *pair = NULL;
    check(keyfob_engine_login(engine, (const uint8_t *)"42", 2, NULL, 0, &pair), "login");
    size_t token_len = 0;
    const char *token = keyfob_token_pair_access(pair, &token_len);
    char claims[1024];
    size_t needed = 0;

    if (argc == 3 && strcmp(argv[1], "count") == 0) {
        long n = atol(argv[2]);
        for (long i = 0; i < n; i++)
            check(keyfob_engine_validate(engine, (const uint8_t *)token, token_len, NULL), "validate");
    } else {
        size_t rounds = argc == 3 ? (size_t)atol(argv[1]) : 101;
        size_t iters = argc == 3 ? (size_t)atol(argv[2]) : 2000;
        double *status_only = calloc(rounds, sizeof(double));
        double *into_buffer = calloc(rounds, sizeof(double));
        if (!status_only || !into_buffer) return 1;
        for (size_t r = 0; r < rounds; r++) {
            uint64_t t0 = cpu_ns();
            for (size_t i = 0; i < iters; i++)
                check(keyfob_engine_validate(engine, (const uint8_t *)token, token_len, NULL), "validate");
            uint64_t t1 = cpu_ns();
            for (size_t i = 0; i < iters; i++)
                check(keyfob_engine_validate_into(engine, (const uint8_t *)token, token_len, claims,
                                           sizeof claims, &needed),
                      "validate_into");
            uint64_t t2 = cpu_ns();
            status_only[r] = (double)(t1 - t0) / (double)iters;
            into_buffer[r] = (double)(t2 - t1) / (double)iters;
        }
        printf("{\"validate_ns\": %.1f, \"validate_into_ns\": %.1f, \"rounds\": %zu, "
               "\"iterations\": %zu}\n",
               median(status_only, rounds), median(into_buffer, rounds), rounds, iters);
        free(status_only);
        free(into_buffer);
    }
    keyfob_token_pair_free(pair);
    keyfob_engine_free(engine);
    return 0;
}
