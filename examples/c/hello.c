/*
 * The whole flow through the C ABI:
 *   login (POST /api/token/) -> validate (GET /api/hello/) -> refresh (POST /api/token/refresh/)
 *   -> logout (revoke) -> validate again: refused with KEYFOB_REVOKED.
 *
 * Build against an installed keyfob (`make install`):
 *   cc -std=c99 hello.c $(pkg-config --cflags --libs keyfob)
 * or from the build tree: cc -std=c99 hello.c -Iinclude -Ltarget/release -lkeyfob
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyfob.h"

static const char CONFIG[] =
    "{\"signing_key\": \"hello-example-secret-of-at-least-32-bytes\","
    " \"access_lifetime_s\": 300, \"idle_timeout_s\": 1800}";

/* Print a failed step with keyfob's name and message for the status, and stop. */
static void fail(const char *step, keyfob_status status) {
    fprintf(stderr, "%s failed: %s (%s)\n", step, keyfob_status_name(status),
            keyfob_status_message(status));
    exit(1);
}

static const uint8_t *bytes(const char *s) { return (const uint8_t *)s; }

/* The last characters of a token (its signature), enough to tell tokens apart. */
static const char *tail(const char *token, size_t len) { return len > 16 ? token + len - 16 : token; }

int main(void) {
    keyfob_engine *engine = NULL;
    keyfob_token_pair *login = NULL, *refreshed = NULL;
    keyfob_string *claims = NULL;
    size_t access_len = 0, refresh_len = 0;
    const char *access, *refresh;
    keyfob_status status;

    printf("keyfob %s\n", keyfob_version());
    status = keyfob_engine_new(bytes(CONFIG), strlen(CONFIG), &engine);
    if (status != KEYFOB_OK) fail("engine_new", status);

    /* 1. Login: the user's credentials were checked by the application. */
    status = keyfob_engine_login(engine, bytes("42"), 2, bytes("{\"username\":\"admin\"}"),
                          strlen("{\"username\":\"admin\"}"), &login);
    if (status != KEYFOB_OK) fail("login", status);
    access = keyfob_token_pair_access(login, &access_len);
    refresh = keyfob_token_pair_refresh(login, &refresh_len);
    printf("1. login     -> session %s\n   access  ...%s (%zu bytes)\n"
           "   refresh ...%s (%zu bytes)\n",
           keyfob_token_pair_session_id(login, NULL), tail(access, access_len), access_len,
           tail(refresh, refresh_len), refresh_len);

    /* 2. An authenticated request presents the access token. */
    status = keyfob_engine_validate(engine, bytes(access), access_len, &claims);
    if (status != KEYFOB_OK) fail("validate", status);
    printf("2. validate  -> ok, claims %s\n", keyfob_string_ptr(claims));
    keyfob_string_free(claims);
    claims = NULL;

    /* 3. Refresh: a new access token and a rotated refresh token. */
    status = keyfob_engine_refresh(engine, bytes(refresh), refresh_len, &refreshed);
    if (status != KEYFOB_OK) fail("refresh", status);
    access = keyfob_token_pair_access(refreshed, &access_len);
    refresh = keyfob_token_pair_refresh(refreshed, &refresh_len);
    printf("3. refresh   -> new access ...%s, new refresh ...%s\n", tail(access, access_len),
           tail(refresh, refresh_len));
    status = keyfob_engine_validate(engine, bytes(access), access_len, NULL);
    if (status != KEYFOB_OK) fail("validate new access", status);
    printf("   validate  -> ok with the new access token\n");

    /* 4. Logout revokes the whole session. */
    status = keyfob_engine_revoke(engine, bytes(refresh), refresh_len);
    if (status != KEYFOB_OK) fail("logout", status);
    printf("4. logout    -> session revoked\n");

    /* 5. The still-unexpired access token is refused at once. */
    status = keyfob_engine_validate(engine, bytes(access), access_len, NULL);
    printf("5. validate  -> %s (%s)\n", keyfob_status_name(status), keyfob_status_message(status));

    keyfob_token_pair_free(refreshed);
    keyfob_token_pair_free(login);
    keyfob_engine_free(engine);
    if (status != KEYFOB_REVOKED) {
        fprintf(stderr, "expected revoked after logout\n");
        return 1;
    }
    printf("ok: the flow ends with the token refused\n");
    return 0;
}
