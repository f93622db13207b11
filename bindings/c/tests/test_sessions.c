/* Session management through the C ABI: login with metadata, listing, one session,
 * revoke all but one, the per-user cap, update_session, metrics, and the event callback
 * with its context pointer (which calls back into the engine). Run on the memory store,
 * and on Redis when the Redis suite runs. */
#include "check.h"

/* What the event callback saw: the context the test hands to keyfob. */
typedef struct {
    keyfob_engine *engine;
    int events;
    int logins;
    int revoked;
    int refreshes;
    int reuse;
    char last_reason[32];
    char last_user[32];
    char last_label[32];
    /* Sessions the user had, listed from inside the callback. */
    size_t listed_len;
} seen_events;

static void on_event(const keyfob_event *event, void *ctx) {
    seen_events *seen = (seen_events *)ctx;
    keyfob_string *json = NULL;
    seen->events++;
    CHECK(event->kind_name != NULL && event->at > 0);
    switch (event->kind) {
    case KEYFOB_EVENT_LOGIN:
        seen->logins++;
        CHECK(strcmp(event->kind_name, "login") == 0);
        break;
    case KEYFOB_EVENT_SESSION_REVOKED:
        seen->revoked++;
        CHECK(event->reason != NULL);
        snprintf(seen->last_reason, sizeof seen->last_reason, "%s", event->reason);
        break;
    case KEYFOB_EVENT_REFRESH:
        seen->refreshes++;
        break;
    case KEYFOB_EVENT_REUSE_DETECTED:
        seen->reuse++;
        break;
    default:
        break;
    }
    snprintf(seen->last_user, sizeof seen->last_user, "%s", event->user_id ? event->user_id : "");
    snprintf(seen->last_label, sizeof seen->last_label, "%s", event->label ? event->label : "");
    /* No lock is held while the callback runs: calling the engine from here works. */
    if (event->user_id != NULL) {
        CHECK_OK(keyfob_engine_list_sessions(seen->engine, STR(event->user_id), &json));
        seen->listed_len = keyfob_string_len(json);
        keyfob_string_free(json);
    }
}

static int contains(const keyfob_string *s, const char *needle) {
    return strstr(keyfob_string_ptr(s), needle) != NULL;
}

/* Where a subtest's sessions live: memory, or Redis under a prefix of its own. */
typedef struct {
    const char *redis_url; /* NULL for the memory store */
    const char *prefix;
    const char *subtest;
} store_spec;

static keyfob_engine *engine_with(keyfob_manual_clock *clock, const store_spec *store,
                                  const char *more) {
    char config[1024];
    int n;
    if (store->redis_url == NULL) {
        n = snprintf(config, sizeof config, "{\"signing_key\": \"" SECRET "\"%s}", more);
    } else {
        n = snprintf(config, sizeof config,
                     "{\"signing_key\": \"" SECRET "\", \"store\": \"%s\","
                     " \"store_prefix\": \"%s%s:\", \"store_timeout_ms\": 5000%s}",
                     store->redis_url, store->prefix, store->subtest, more);
    }
    CHECK(n > 0 && (size_t)n < sizeof config);
    return engine_on(clock, config);
}

static void metadata_listing_and_info(keyfob_manual_clock *clock, store_spec *store) {
    store->subtest = "metadata_listing_and_info";
    keyfob_engine *engine = engine_with(clock, store, "");
    keyfob_token_pair *first = NULL, *second = NULL, *p = SENTINEL(keyfob_token_pair);
    keyfob_string *json = SENTINEL(keyfob_string);
    const char *meta = "{\"label\": \"phone\", \"ip\": \"203.0.113.7\", \"user_agent\": \"app/1\","
                       " \"data\": {\"device\": 7}}";
    const char *sid1, *sid2, *text;

    CHECK_OK(keyfob_engine_login_with(engine, STR("alice"), NULL, 0, STR(meta), NULL, &first));
    CHECK_OK(keyfob_manual_clock_advance(clock, 5));
    CHECK_OK(keyfob_engine_login_with(engine, STR("alice"), NULL, 0, NULL, 0, NULL, &second));
    sid1 = keyfob_token_pair_session_id(first, NULL);
    sid2 = keyfob_token_pair_session_id(second, NULL);

    CHECK_OK(keyfob_engine_list_sessions(engine, STR("alice"), &json));
    text = keyfob_string_ptr(json);
    CHECK(text[0] == '[');
    /* Newest first. */
    CHECK(strstr(text, sid2) != NULL && strstr(text, sid1) != NULL);
    CHECK(strstr(text, sid2) < strstr(text, sid1));
    CHECK(contains(json, "\"label\":\"phone\""));
    CHECK(contains(json, "\"ip\":\"203.0.113.7\""));
    CHECK(contains(json, "\"user_agent\":\"app/1\""));
    CHECK(contains(json, "\"data\":{\"device\":7}"));
    keyfob_string_free(json);

    CHECK_OK(keyfob_engine_session_info(engine, STR(sid1), &json));
    CHECK(contains(json, "\"user_id\":\"alice\""));
    CHECK(contains(json, "\"created_at\":"));
    CHECK(contains(json, "\"last_seen\":"));
    keyfob_string_free(json);

    /* An ended session, an unknown one and a malformed id. */
    CHECK_OK(keyfob_engine_revoke_session(engine, STR(sid2), NULL));
    json = SENTINEL(keyfob_string);
    CHECK_STATUS(keyfob_engine_session_info(engine, STR(sid2), &json), KEYFOB_SESSION_UNKNOWN);
    CHECK(json == NULL);
    CHECK_STATUS(keyfob_engine_session_info(engine, STR("0123456789abcdef0123456789abcdef"), &json),
                 KEYFOB_SESSION_UNKNOWN);
    CHECK_STATUS(keyfob_engine_session_info(engine, STR("nope"), &json), KEYFOB_INVALID_ARGUMENT);
    CHECK_STATUS(keyfob_engine_list_sessions(engine, STR("alice"), NULL), KEYFOB_INVALID_ARGUMENT);
    CHECK_OK(keyfob_engine_list_sessions(engine, STR("nobody"), &json));
    CHECK(strcmp(keyfob_string_ptr(json), "[]") == 0);
    keyfob_string_free(json);

    /* Bad metadata is refused and creates nothing. */
    CHECK_STATUS(keyfob_engine_login_with(engine, STR("bob"), NULL, 0, STR("{\"ip\": \"x\"}"),
                                          NULL, &p),
                 KEYFOB_INVALID_ARGUMENT);
    CHECK(p == NULL);
    CHECK_STATUS(keyfob_engine_login_with(engine, STR("bob"), NULL, 0, STR("{\"colour\": 1}"),
                                          NULL, &p),
                 KEYFOB_INVALID_ARGUMENT);
    CHECK_STATUS(keyfob_engine_login_with(engine, STR("bob"), NULL, 0, STR("[]"), NULL, &p),
                 KEYFOB_INVALID_ARGUMENT);
    CHECK_OK(keyfob_engine_list_sessions(engine, STR("bob"), &json));
    CHECK(strcmp(keyfob_string_ptr(json), "[]") == 0);
    keyfob_string_free(json);

    keyfob_token_pair_free(first);
    keyfob_token_pair_free(second);
    keyfob_engine_free(engine);
}

static void revoke_all_but_one_and_the_cap(keyfob_manual_clock *clock, store_spec *store) {
    store->subtest = "revoke_all_but_one_and_the_cap";
    keyfob_engine *engine = engine_with(clock, store, ", \"max_sessions_per_user\": 2");
    keyfob_token_pair *a = NULL, *b = NULL, *c = NULL;
    size_t revoked = 99;

    a = login_as(engine, "carol");
    CHECK_OK(keyfob_manual_clock_advance(clock, 1));
    b = login_as(engine, "carol");
    CHECK_OK(keyfob_manual_clock_advance(clock, 1));
    c = login_as(engine, "carol");
    /* The cap ended the oldest. */
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(a)), NULL), KEYFOB_REVOKED);
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(b)), NULL));

    CHECK_OK(keyfob_engine_revoke_user_except(engine, STR("carol"),
                                              STR(keyfob_token_pair_session_id(c, NULL)), &revoked));
    CHECK(revoked == 1);
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(b)), NULL), KEYFOB_REVOKED);
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(c)), NULL));
    CHECK_STATUS(keyfob_engine_revoke_user_except(engine, STR("carol"), STR("zz"), NULL),
                 KEYFOB_INVALID_ARGUMENT);
    CHECK_OK(keyfob_engine_revoke_user_except(engine, STR("carol"), NULL, 0, &revoked));
    CHECK(revoked == 1);
    CHECK_STATUS(keyfob_engine_validate(engine, STR(access_of(c)), NULL), KEYFOB_REVOKED);

    keyfob_token_pair_free(a);
    keyfob_token_pair_free(b);
    keyfob_token_pair_free(c);
    keyfob_engine_free(engine);
}

/* A role removed mid-session: gone on the next refresh, or at once with the option. */
static void claims_change_mid_session(keyfob_manual_clock *clock, store_spec *store) {
    store->subtest = "claims_change_mid_session";
    keyfob_engine *engine = engine_with(clock, store, "");
    keyfob_engine *at_once = engine_with(clock, store, ", \"session_claims_on_validate\": true");
    keyfob_token_pair *pair = NULL, *next = NULL;
    keyfob_string *claims = NULL;
    const char *sid;

    CHECK_OK(keyfob_engine_login(engine, STR("dave"), STR("{\"role\": \"admin\"}"), &pair));
    sid = keyfob_token_pair_session_id(pair, NULL);
    CHECK_OK(keyfob_engine_update_session(engine, STR(sid), STR("{\"role\": null, \"plan\": \"pro\"}")));
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(pair)), &claims));
    CHECK(contains(claims, "\"role\":\"admin\""));
    keyfob_string_free(claims);
    CHECK_OK(keyfob_engine_refresh(engine, STR(refresh_of(pair)), &next));
    CHECK_OK(keyfob_engine_validate(engine, STR(access_of(next)), &claims));
    CHECK(!contains(claims, "role"));
    CHECK(contains(claims, "\"plan\":\"pro\""));
    keyfob_string_free(claims);
    keyfob_token_pair_free(next);
    keyfob_token_pair_free(pair);

    CHECK_OK(keyfob_engine_login(at_once, STR("dave"), STR("{\"role\": \"admin\"}"), &pair));
    sid = keyfob_token_pair_session_id(pair, NULL);
    CHECK_OK(keyfob_engine_update_session(at_once, STR(sid), STR("{\"role\": null}")));
    CHECK_OK(keyfob_engine_validate(at_once, STR(access_of(pair)), &claims));
    CHECK(!contains(claims, "role"));
    CHECK(contains(claims, "\"user_id\":\"dave\""));
    keyfob_string_free(claims);

    CHECK_STATUS(keyfob_engine_update_session(at_once, STR(sid), STR("[1]")), KEYFOB_INVALID_ARGUMENT);
    CHECK_STATUS(keyfob_engine_update_session(at_once, STR(sid), STR("{\"exp\": 1}")),
                 KEYFOB_INVALID_ARGUMENT);
    CHECK_STATUS(keyfob_engine_update_session(at_once, STR("0123456789abcdef0123456789abcdef"),
                                              STR("{\"a\": 1}")),
                 KEYFOB_SESSION_UNKNOWN);
    CHECK_OK(keyfob_engine_revoke(at_once, STR(refresh_of(pair))));
    CHECK_STATUS(keyfob_engine_update_session(at_once, STR(sid), STR("{\"a\": 1}")), KEYFOB_REVOKED);
    keyfob_token_pair_free(pair);
    keyfob_engine_free(at_once);
    keyfob_engine_free(engine);
}

static void events_and_metrics(keyfob_manual_clock *clock, store_spec *store) {
    store->subtest = "events_and_metrics";
    keyfob_engine *engine = engine_with(clock, store, "");
    keyfob_token_pair *pair = NULL, *next = NULL, *p = NULL;
    keyfob_string *json = NULL;
    seen_events seen;
    memset(&seen, 0, sizeof seen);
    seen.engine = engine;

    CHECK_OK(keyfob_engine_set_event_callback(engine, on_event, &seen));
    CHECK_OK(keyfob_engine_login_with(engine, STR("erin"), NULL, 0, STR("{\"label\": \"laptop\"}"),
                                      NULL, &pair));
    CHECK(seen.logins == 1);
    CHECK(strcmp(seen.last_user, "erin") == 0);
    CHECK(strcmp(seen.last_label, "laptop") == 0);
    CHECK(seen.listed_len > 2); /* the callback listed erin's one session */
    CHECK_OK(keyfob_engine_refresh(engine, STR(refresh_of(pair)), &next));
    CHECK(seen.refreshes == 1);
    CHECK_STATUS(keyfob_engine_refresh(engine, STR(refresh_of(pair)), &p), KEYFOB_REUSE_DETECTED);
    CHECK(seen.reuse == 1 && seen.revoked == 1);
    CHECK(strcmp(seen.last_reason, "reuse") == 0);
    CHECK(seen.listed_len == 2); /* "[]": the session ended before the callback ran */
    keyfob_token_pair_free(next);
    keyfob_token_pair_free(pair);

    pair = login_as(engine, "erin");
    CHECK_OK(keyfob_engine_revoke_session(engine, STR(keyfob_token_pair_session_id(pair, NULL)), NULL));
    CHECK(strcmp(seen.last_reason, "admin") == 0);
    keyfob_token_pair_free(pair);
    pair = login_as(engine, "erin");
    CHECK_OK(keyfob_engine_revoke(engine, STR(access_of(pair))));
    CHECK(strcmp(seen.last_reason, "logout") == 0);
    keyfob_token_pair_free(pair);

    /* No callback, no events. */
    CHECK_OK(keyfob_engine_set_event_callback(engine, NULL, NULL));
    seen.events = 0;
    pair = login_as(engine, "erin");
    CHECK(seen.events == 0);
    keyfob_token_pair_free(pair);
    CHECK_STATUS(keyfob_engine_set_event_callback(NULL, on_event, &seen), KEYFOB_INVALID_ARGUMENT);

    CHECK_OK(keyfob_engine_metrics(engine, &json));
    CHECK(contains(json, "\"login\":4"));
    CHECK(contains(json, "\"refresh\":2"));
    CHECK(contains(json, "\"reuse_detected\":1"));
    CHECK(contains(json, "\"live_sessions\":1"));
    CHECK(contains(json, "\"store_latency\":{"));
    CHECK(contains(json, "\"revoke_session\":{\"buckets\":[["));
    CHECK(contains(json, "\"near_cache\":null") || contains(json, "\"near_cache\":{"));
    keyfob_string_free(json);
    CHECK_STATUS(keyfob_engine_metrics(engine, NULL), KEYFOB_INVALID_ARGUMENT);
    keyfob_engine_free(engine);
}

void test_sessions_on(const char *redis_url, const char *prefix) {
    keyfob_manual_clock *clock = NULL;
    store_spec store = {redis_url, prefix, ""};
    CHECK_OK(keyfob_manual_clock_new(T0, &clock));
    metadata_listing_and_info(clock, &store);
    revoke_all_but_one_and_the_cap(clock, &store);
    claims_change_mid_session(clock, &store);
    events_and_metrics(clock, &store);
    keyfob_manual_clock_free(clock);
}

void test_session_management(void) {
    test_sessions_on(NULL, NULL);
}
