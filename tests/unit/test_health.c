/* test_health.c — unit tests for probes/health.c, the one severity policy: table-driven cases
 * for each figure's level at its boundaries (exactly at the threshold, just below, unknown),
 * the reasons, the fleet sort score (status first, then the sum of what is at fault), poolers,
 * and health_of over a model built from fixtures (a primary, a DOWN server, a pgBouncer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/util.h"
#include "probes/health.h"
#include "probes/model.h"
#include "probes/restore_record.h"
#include "probes/sec_connections.h"
#include "probes/sec_replication.h"
#include "testutil.h"

#define MB (1024.0 * 1024.0)

/* ---- one figure at a time ---- */

static void test_single_figures(void **state)
{
    (void)state;
    struct config cfg;
    config_init(&cfg); /* slow_query 5s, idle 30s, lag 16MB/30s, connections 80 %, hit 95 % */
    const struct thresholds *th = &cfg.th;

    /* usable connections: max_connections minus both reserves; the share of it in use */
    assert_int_equal(health_usable(100, 3), 97);
    assert_int_equal(health_usable(200, 3 + 2), 195);
    assert_int_equal(health_usable(3, 3), 0);
    assert_true(isnan(health_used_pct(1, 0)));
    assert_true(isnan(health_used_pct(1, -2)));
    assert_true(health_used_pct(50, 200) == 25.0);

    static const struct {
        enum srv_status st;
        enum sev want;
    } status[] = {
        {SRV_UP, SEV_OK},
        {SRV_DOWN, SEV_CRIT},
        {SRV_STALE, SEV_WARN},
        {SRV_CONNECTING, SEV_WARN},
    };
    for (size_t i = 0; i < ARRAY_LEN(status); i++)
        assert_int_equal(health_status(status[i].st), status[i].want);

    static const struct {
        double pct;
        enum sev want;
    } conns[] = {
        {NAN, SEV_NONE},   {0, SEV_OK},    {79.99, SEV_OK}, {80, SEV_WARN},
        {94.99, SEV_WARN}, {95, SEV_CRIT}, {120, SEV_CRIT},
    };
    for (size_t i = 0; i < ARRAY_LEN(conns); i++)
        if (health_conns(conns[i].pct, th) != conns[i].want)
            fail_msg("health_conns(%g) = %d, want %d", conns[i].pct, health_conns(conns[i].pct, th), conns[i].want);
    /* 95 % is critical whatever connections_pct says (the Connections pane's rule won) */
    struct thresholds high = *th;
    high.connections_pct = 97;
    assert_int_equal(health_conns(96, &high), SEV_CRIT);
    assert_int_equal(health_conns(94, &high), SEV_OK);

    static const struct {
        double s;
        int64_t ms;
        enum sev want;
    } ages[] = {
        {NAN, 5000, SEV_NONE},   {0, 5000, SEV_OK},    {4.999, 5000, SEV_OK}, {5, 5000, SEV_WARN},
        {9.999, 5000, SEV_WARN}, {10, 5000, SEV_CRIT}, {29.9, 30000, SEV_OK}, {60, 30000, SEV_CRIT},
    };
    for (size_t i = 0; i < ARRAY_LEN(ages); i++)
        if (health_age(ages[i].s, ages[i].ms) != ages[i].want)
            fail_msg("health_age(%g, %lld) = %d, want %d", ages[i].s, (long long)ages[i].ms,
                     health_age(ages[i].s, ages[i].ms), ages[i].want);

    static const struct {
        double bytes, seconds;
        enum sev want;
    } lags[] = {
        {NAN, NAN, SEV_NONE},     {INFINITY, NAN, SEV_NONE},  {0, 0, SEV_OK},         {16 * MB - 1, NAN, SEV_OK},
        {16 * MB, NAN, SEV_WARN}, {64 * MB - 1, 0, SEV_WARN}, {64 * MB, 0, SEV_CRIT}, {NAN, 29.99, SEV_OK},
        {NAN, 30, SEV_WARN},      {NAN, 31, SEV_WARN},        {0, 120, SEV_CRIT},     {1, 119.9, SEV_WARN},
    };
    for (size_t i = 0; i < ARRAY_LEN(lags); i++)
        if (health_lag(lags[i].bytes, lags[i].seconds, th) != lags[i].want)
            fail_msg("health_lag(%g, %g) = %d, want %d", lags[i].bytes, lags[i].seconds,
                     health_lag(lags[i].bytes, lags[i].seconds, th), lags[i].want);

    static const struct {
        long waiting;
        double maxwait;
        enum sev want;
    } pools[] = {
        {-1, NAN, SEV_NONE}, {0, 5, SEV_NONE},   {1, NAN, SEV_WARN},
        {3, 0, SEV_WARN},    {3, 1.0, SEV_WARN}, {3, 1.01, SEV_CRIT},
    };
    for (size_t i = 0; i < ARRAY_LEN(pools); i++) {
        struct pool_row r = {.cl_waiting = pools[i].waiting, .maxwait_s = pools[i].maxwait};
        if (health_pool(&r) != pools[i].want)
            fail_msg("health_pool(waiting %ld, maxwait %g) = %d, want %d", pools[i].waiting, pools[i].maxwait,
                     health_pool(&r), pools[i].want);
    }

    static const struct {
        double pct;
        enum sev want;
    } hits[] = {
        {NAN, SEV_NONE},
        {94.99, SEV_WARN},
        {95, SEV_OK},
        {100, SEV_OK},
    };
    for (size_t i = 0; i < ARRAY_LEN(hits); i++)
        assert_int_equal(health_cache_hit(hits[i].pct, th), hits[i].want);

    static const struct {
        int64_t age;
        enum sev want;
    } xids[] = {
        {0, SEV_OK}, {499999999, SEV_OK}, {500000000, SEV_WARN}, {1499999999, SEV_WARN}, {1500000000, SEV_CRIT},
    };
    for (size_t i = 0; i < ARRAY_LEN(xids); i++)
        assert_int_equal(health_xid_age(xids[i].age), xids[i].want);

    static const struct {
        const char *wal;
        bool active, conflicting;
        double kept;
        enum sev want;
    } slots[] = {
        {"reserved", true, false, 1 * MB, SEV_OK},    {"reserved", false, false, 0, SEV_NONE},
        {"reserved", false, false, 1 * MB, SEV_WARN}, {"reserved", false, false, 16 * MB, SEV_CRIT},
        {"extended", true, false, 1 * MB, SEV_WARN},  {"unreserved", true, false, 0, SEV_CRIT},
        {"lost", false, false, NAN, SEV_CRIT},        {NULL, true, true, 0, SEV_CRIT},
    };
    for (size_t i = 0; i < ARRAY_LEN(slots); i++) {
        struct slot_row r = {.wal_status = (char *)slots[i].wal,
                             .active = slots[i].active,
                             .conflicting = slots[i].conflicting,
                             .retained_b = slots[i].kept};
        if (health_slot(&r, th) != slots[i].want)
            fail_msg("slot %zu: health_slot = %d, want %d", i, health_slot(&r, th), slots[i].want);
    }
    config_free(&cfg);
}

/* ---- a whole server ---- */

#define NOW ((time_t)1800000000)
#define DAY 86400
static struct restore_status rst; /* the status CH_RESTORE_* set up, for the case being run */
/* the quiet servers' own: a good test yesterday */
static const struct restore_status fresh = {.any = true, .last_ok = NOW - DAY, .last_run = NOW - DAY};

/* A quiet primary, UP: every figure known and fine. */
static struct health_in quiet(void)
{
    return (struct health_in){
        .status = SRV_UP,
        .live = true,
        .conns_used = 10,
        .conns_usable = 100,
        .blocked = 0,
        .idle_in_xact = 0,
        .longest_query_s = 0.5,
        .cache_hit_pct = 99.5,
        .lag_bytes = 0,
        .lag_s = 0,
        .xid_age = 1000,
        .archiver_failing = false,
        .restore_judged = true,
        .restore = &fresh,
        .restore_max_age_days = 90,
        .now = NOW,
    };
}

/* A quiet pgBouncer, UP. */
static struct health_in quiet_pooler(void)
{
    return (struct health_in){.status = SRV_UP,
                              .pooler = true,
                              .live = true,
                              .conns_used = -1,
                              .blocked = -1,
                              .idle_in_xact = -1,
                              .longest_query_s = NAN,
                              .cache_hit_pct = NAN,
                              .lag_bytes = NAN,
                              .lag_s = NAN,
                              .xid_age = -1,
                              .restore_judged = true,
                              .restore_max_age_days = 90,
                              .now = NOW};
}

enum change {
    CH_NONE,
    CH_DOWN,
    CH_STALE,
    CH_CONNECTING,
    CH_USED,
    CH_USABLE,
    CH_BLOCKED,
    CH_IDLEX,
    CH_LONGEST,
    CH_LAG_B,
    CH_LAG_S,
    CH_HIT,
    CH_XID,
    CH_ARCHIVER,
    CH_WAITING,
    CH_POOL_CRIT,
    /* restore tests (the fleet has records, the limit is 90 days, now is NOW) */
    CH_RESTORE_OK_DAYS,  /* the last good test v days ago, the last run good */
    CH_RESTORE_FAILED,   /* a good test 1 day ago, then a failed one v days ago */
    CH_RESTORE_NEVER,    /* no record for this server */
    CH_RESTORE_NOTHING,  /* no record for the whole fleet: not judged */
    CH_RESTORE_ABORTED,  /* a good test v days ago, then an aborted one: still good */
    CH_RESTORE_NEVER_OK, /* only aborted runs */
    CH_RESTORE_LIMIT,    /* max_age_days = v */
};

struct jcase {
    const char *name;
    bool pooler;
    enum change ch[3]; /* up to three changes to the quiet server */
    double v[3];
    enum health_fig fig; /* the figure to check */
    enum sev level;
    const char *reason; /* NULL: not checked */
    int score;
};

static void apply(struct health_in *in, enum change ch, double v)
{
    switch (ch) {
    case CH_NONE: break;
    case CH_DOWN:
        in->status = SRV_DOWN;
        in->live = false;
        break;
    case CH_STALE: in->status = SRV_STALE; break;
    case CH_CONNECTING:
        in->status = SRV_CONNECTING;
        in->live = false;
        break;
    case CH_USED: in->conns_used = (long)v; break;
    case CH_USABLE: in->conns_usable = (int)v; break;
    case CH_BLOCKED: in->blocked = (int)v; break;
    case CH_IDLEX: in->idle_in_xact = (int)v; break;
    case CH_LONGEST: in->longest_query_s = v; break;
    case CH_LAG_B: in->lag_bytes = v; break;
    case CH_LAG_S: in->lag_s = v; break;
    case CH_HIT: in->cache_hit_pct = v; break;
    case CH_XID: in->xid_age = (int64_t)v; break;
    case CH_ARCHIVER: in->archiver_failing = v != 0; break;
    case CH_WAITING:
        in->pool_waiting = (long)v;
        in->pool_level = v > 0 ? SEV_WARN : SEV_NONE;
        break;
    case CH_POOL_CRIT: in->pool_level = SEV_CRIT; break;
    case CH_RESTORE_OK_DAYS:
        rst = (struct restore_status){
            .any = true, .last_ok = NOW - (time_t)(v * DAY), .last_run = NOW - (time_t)(v * DAY)};
        in->restore = &rst;
        break;
    case CH_RESTORE_FAILED:
        rst = (struct restore_status){
            .any = true, .last_ok = NOW - DAY, .last_run = NOW - (time_t)(v * DAY), .last_failed = true};
        in->restore = &rst;
        break;
    case CH_RESTORE_NEVER: in->restore = NULL; break;
    case CH_RESTORE_NOTHING: in->restore_judged = false; break;
    case CH_RESTORE_ABORTED:
        rst = (struct restore_status){.any = true, .last_ok = NOW - (time_t)(v * DAY), .last_run = NOW - 60};
        in->restore = &rst;
        break;
    case CH_RESTORE_NEVER_OK:
        rst = (struct restore_status){.any = true, .last_run = NOW - 60};
        in->restore = &rst;
        break;
    case CH_RESTORE_LIMIT: in->restore_max_age_days = (int)v; break;
    }
}

static const struct jcase jcases[] = {
    {"quiet primary", false, {CH_NONE}, {0}, HF_STATUS, SEV_OK, "", 0},
    {"quiet: connections fine", false, {CH_NONE}, {0}, HF_CONNS, SEV_OK, "", 0},
    /* status outranks every figure */
    {"DOWN", false, {CH_DOWN}, {0}, HF_STATUS, SEV_CRIT, "DOWN", 1000},
    {"DOWN: figures not judged", false, {CH_DOWN, CH_BLOCKED}, {0, 5}, HF_BLOCKED, SEV_NONE, "", 1000},
    {"STALE, figures still judged", false, {CH_STALE, CH_BLOCKED}, {0, 5}, HF_BLOCKED, SEV_CRIT, "5 blocked", 900},
    {"CONNECTING", false, {CH_CONNECTING}, {0}, HF_STATUS, SEV_WARN, "CONNECTING", 800},
    /* connections: WARN exactly at connections_pct, CRIT at 95 %, unknown without usable slots */
    {"conns just below", false, {CH_USED}, {79}, HF_CONNS, SEV_OK, "", 0},
    {"conns at warn", false, {CH_USED}, {80}, HF_CONNS, SEV_WARN, "80/100 connections (80%)", 150},
    {"conns at crit", false, {CH_USED}, {95}, HF_CONNS, SEV_CRIT, "95/100 connections (95%)", 150},
    {"conns no usable slot", false, {CH_USABLE, CH_USED}, {0, 3}, HF_CONNS, SEV_NONE, "", 0},
    /* blocked sessions: any is critical; the score grows with them up to 50 */
    {"one blocked", false, {CH_BLOCKED}, {1}, HF_BLOCKED, SEV_CRIT, "1 blocked", 201},
    {"many blocked", false, {CH_BLOCKED}, {80}, HF_BLOCKED, SEV_CRIT, "80 blocked", 250},
    /* idle in transaction: shown, not sorted by */
    {"idle in transaction", false, {CH_IDLEX}, {2}, HF_IDLE_XACT, SEV_WARN, "2 idle in transaction", 0},
    /* the longest query against slow_query (5 s): CRIT at twice */
    {"query just below", false, {CH_LONGEST}, {4.99}, HF_LONGEST, SEV_OK, "", 0},
    {"query at warn", false, {CH_LONGEST}, {5}, HF_LONGEST, SEV_WARN, "query running 5.0s", 100},
    {"query at crit", false, {CH_LONGEST}, {10}, HF_LONGEST, SEV_CRIT, "query running 10s", 100},
    {"no query", false, {CH_LONGEST}, {NAN}, HF_LONGEST, SEV_NONE, "", 0},
    /* lag: bytes or time, CRIT at four times; unknown is no verdict */
    {"lag unknown", false, {CH_LAG_B, CH_LAG_S}, {NAN, NAN}, HF_LAG, SEV_NONE, "", 0},
    {"lag bytes just below", false, {CH_LAG_B}, {16 * MB - 1}, HF_LAG, SEV_OK, "", 0},
    {"lag bytes at warn", false, {CH_LAG_B}, {16 * MB}, HF_LAG, SEV_WARN, "replication lag 16MB 0.0s", 120},
    {"lag bytes at crit", false, {CH_LAG_B}, {64 * MB}, HF_LAG, SEV_CRIT, NULL, 120},
    {"lag time only", false, {CH_LAG_B, CH_LAG_S}, {NAN, 30}, HF_LAG, SEV_WARN, "replication lag 30s", 120},
    {"lag time crit", false, {CH_LAG_S}, {120}, HF_LAG, SEV_CRIT, NULL, 120},
    /* cache hit below cache_hit_pct */
    {"hit at threshold", false, {CH_HIT}, {95}, HF_CACHE, SEV_OK, "", 0},
    {"hit below", false, {CH_HIT}, {90}, HF_CACHE, SEV_WARN, "cache hit 90.0% < 95%", 50},
    {"hit unknown", false, {CH_HIT}, {NAN}, HF_CACHE, SEV_NONE, "", 0},
    /* wraparound: the Fleet note's text; now part of the order too */
    {"xid just below", false, {CH_XID}, {499999999}, HF_XID, SEV_OK, "", 0},
    {"xid at warn", false, {CH_XID}, {500000000}, HF_XID, SEV_WARN, "xid age 500M", 60},
    {"xid at crit", false, {CH_XID}, {1500000000}, HF_XID, SEV_CRIT, "xid age 1.5G", 60},
    {"archiver failing", false, {CH_ARCHIVER}, {1}, HF_ARCHIVER, SEV_CRIT, "archiver failing", 80},
    /* everything at once adds up */
    {"sum", false, {CH_BLOCKED, CH_USED, CH_LONGEST}, {3, 90, 30}, HF_CONNS, SEV_WARN, NULL, 203 + 150 + 100},
    /* poolers: only clients waiting for a server connection count */
    {"quiet pooler", true, {CH_NONE}, {0}, HF_POOL_WAIT, SEV_OK, "", 0},
    {"pooler one waiting",
     true,
     {CH_WAITING},
     {1},
     HF_POOL_WAIT,
     SEV_WARN,
     "1 client waiting for a server connection",
     201},
    {"pooler waiting long",
     true,
     {CH_WAITING, CH_POOL_CRIT},
     {3, 0},
     HF_POOL_WAIT,
     SEV_CRIT,
     "3 clients waiting for a server connection",
     203},
    {"pooler many waiting", true, {CH_WAITING}, {70}, HF_POOL_WAIT, SEV_WARN, NULL, 250},
    {"pooler: no connections verdict", true, {CH_WAITING}, {0}, HF_CONNS, SEV_NONE, "", 0},
    {"pooler DOWN", true, {CH_DOWN, CH_WAITING}, {0, 4}, HF_POOL_WAIT, SEV_NONE, "", 1000},
    {"postgres: no pooler verdict", false, {CH_NONE}, {0}, HF_POOL_WAIT, SEV_NONE, "", 0},
    /* restore tests: OK under the limit, WARN from it, CRIT failed or never; a small score only,
     * under every live figure (cache hit's 50 is the smallest) */
    {"restore fresh", false, {CH_RESTORE_OK_DAYS}, {3}, HF_RESTORE, SEV_OK, "", 0},
    {"restore just under the limit", false, {CH_RESTORE_OK_DAYS}, {89.99}, HF_RESTORE, SEV_OK, "", 0},
    {"restore at the limit",
     false,
     {CH_RESTORE_OK_DAYS},
     {90},
     HF_RESTORE,
     SEV_WARN,
     "last good restore test 90d ago (limit 90d)",
     10},
    {"restore old", false, {CH_RESTORE_OK_DAYS}, {100}, HF_RESTORE, SEV_WARN, NULL, 10},
    {"restore old, other limit", false, {CH_RESTORE_OK_DAYS, CH_RESTORE_LIMIT}, {100, 120}, HF_RESTORE, SEV_OK, "", 0},
    {"restore failed", false, {CH_RESTORE_FAILED}, {2}, HF_RESTORE, SEV_CRIT, "last restore test failed 2d ago", 20},
    {"restore never", false, {CH_RESTORE_NEVER}, {0}, HF_RESTORE, SEV_CRIT, "never restore-tested", 20},
    {"restore aborted keeps good", false, {CH_RESTORE_ABORTED}, {5}, HF_RESTORE, SEV_OK, "", 0},
    {"restore only aborted",
     false,
     {CH_RESTORE_NEVER_OK},
     {0},
     HF_RESTORE,
     SEV_CRIT,
     "no restore test ever succeeded",
     20},
    {"restore: fleet untested, not judged", false, {CH_RESTORE_NOTHING}, {0}, HF_RESTORE, SEV_NONE, "", 0},
    {"restore: limit 0, not judged", false, {CH_RESTORE_NEVER, CH_RESTORE_LIMIT}, {0, 0}, HF_RESTORE, SEV_NONE, "", 0},
    {"restore: a pooler is never judged", true, {CH_RESTORE_NEVER}, {0}, HF_RESTORE, SEV_NONE, "", 0},
    {"restore + live figure", false, {CH_RESTORE_NEVER, CH_HIT}, {0, 90}, HF_CACHE, SEV_WARN, NULL, 70},
    {"restore: DOWN still judged", false, {CH_DOWN, CH_RESTORE_FAILED}, {0, 1}, HF_RESTORE, SEV_CRIT, NULL, 1000},
};

static void test_judge_table(void **state)
{
    (void)state;
    struct config cfg;
    config_init(&cfg);
    for (size_t i = 0; i < ARRAY_LEN(jcases); i++) {
        const struct jcase *c = &jcases[i];
        struct health_in in = c->pooler ? quiet_pooler() : quiet();
        for (int k = 0; k < 3; k++)
            apply(&in, c->ch[k], c->v[k]);
        struct health h;
        health_judge(&in, &cfg.th, &h);
        if (h.v[c->fig].level != c->level)
            fail_msg("%s: level %d, want %d", c->name, h.v[c->fig].level, c->level);
        if (c->reason && strcmp(h.v[c->fig].reason, c->reason) != 0)
            fail_msg("%s: reason \"%s\", want \"%s\"", c->name, h.v[c->fig].reason, c->reason);
        if (h.score != c->score)
            fail_msg("%s: score %d, want %d", c->name, h.score, c->score);
    }
    config_free(&cfg);
}

/* ---- health_of over a model ---- */

enum { PRIMARY, GONE, BOUNCER, NSERVERS };

static void test_health_of(void **state)
{
    (void)state;
    struct world *w = world_new(NSERVERS);
    static const char *const names[NSERVERS] = {"primary", "gone", "bouncer"};
    for (size_t i = 0; i < NSERVERS; i++) {
        w->cfg.servers[i].name = xstrdup(names[i]);
        w->cfg.servers[i].conninfo = xstrdup("host=x");
        w->m.servers[i].cur = sample_new();
    }
    struct server *s = w->m.servers;
    fixture_parse(s[PRIMARY].cur, PROBE_SERVER, "server_pg15.rows");
    fixture_parse(s[GONE].cur, PROBE_SERVER, "server_pg15.rows");
    s[GONE].status = SRV_DOWN;
    s[BOUNCER].kind = KIND_PGBOUNCER;
    fixture_parse(s[BOUNCER].cur, PROBE_POOLS, "pgb_pools_118.rows");

    /* the primary's figures are the server probe's; usable = max_connections - both reserves */
    struct health h;
    health_of(&w->m, &s[PRIMARY], &h);
    const struct s_server *ss = SAMPLE_SERVER(s[PRIMARY].cur);
    assert_true(h.in.live);
    assert_int_equal(h.in.conns_used, ss->conns);
    assert_int_equal(h.in.conns_usable, ss->max_connections - ss->reserved_connections);
    assert_int_equal(h.v[HF_STATUS].level, SEV_OK);
    assert_int_equal(h.v[HF_LAG].level, SEV_NONE); /* no replication section: unknown */
    assert_int_equal(h.score, health_score(&w->m, &s[PRIMARY]));

    /* DOWN: its last sample is not judged */
    health_of(&w->m, &s[GONE], &h);
    assert_false(h.in.live);
    assert_int_equal(h.v[HF_STATUS].level, SEV_CRIT);
    assert_int_equal(h.v[HF_CONNS].level, SEV_NONE);
    assert_int_equal(h.score, 1000);

    /* the pgBouncer: 3 clients wait in labdb/postgres for 4 s (critical); the admin console's
     * own pool is no one's workload */
    health_of(&w->m, &s[BOUNCER], &h);
    assert_int_equal(h.in.pool_waiting, 3);
    assert_int_equal(h.v[HF_POOL_WAIT].level, SEV_CRIT);
    assert_string_equal(h.v[HF_POOL_WAIT].reason, "3 clients waiting for a server connection");
    assert_int_equal(h.score, 203);
    struct s_pools *p = s[BOUNCER].cur->sec[PROBE_POOLS];
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->rows[i].database, "pgbouncer") == 0)
            p->rows[i].cl_waiting = 100;
    health_of(&w->m, &s[BOUNCER], &h);
    assert_int_equal(h.in.pool_waiting, 3);
    assert_int_equal(h.score, 203);
    world_free(w);
}

/* ---- restore tests over a model: the fleet is judged once a record names one of its servers;
 * the record file is watched (a run appended elsewhere shows after one poll) ---- */

static void test_restore_of(void **state)
{
    (void)state;
    struct world *w = world_new(3);
    static const char *const names[] = {"alpha", "beta", "bouncer"};
    for (size_t i = 0; i < 3; i++)
        w->cfg.servers[i].name = xstrdup(names[i]);
    w->m.servers[2].kind = KIND_PGBOUNCER;
    struct health h;
    /* nothing watched, nothing recorded: not judged, no score */
    for (size_t i = 0; i < 3; i++) {
        health_of(&w->m, &w->m.servers[i], &h);
        assert_int_equal(h.v[HF_RESTORE].level, SEV_NONE);
        assert_int_equal(h.score, 0);
    }
    /* records of another fleet's servers only: still not judged */
    time_t now = time(NULL);
    char line[512];
    snprintf(line, sizeof line, "{\"server\":\"elsewhere\",\"outcome\":\"ok\",\"started_epoch\":%lld}\n",
             (long long)now - 3600);
    model_restore_set_book(&w->m, restore_book_parse(line, strlen(line)));
    assert_false(w->m.restore.judged);
    health_of(&w->m, &w->m.servers[1], &h);
    assert_int_equal(h.v[HF_RESTORE].level, SEV_NONE);

    /* a file with alpha's good test: alpha OK, beta never tested (CRIT, a small score), the
     * pooler not judged; read through the watch, as the loop does */
    char dir[] = "/tmp/pgfleet-rw.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/restore_tests.jsonl", dir);
    model_restore_watch(&w->m, xstrdup(path));
    assert_false(w->m.restore.judged); /* no file yet */
    char err[256];
    struct restore_run r = {.server = "alpha",
                            .method = "basebackup",
                            .outcome = "ok",
                            .started = now - 3 * 86400,
                            .rto_s = 60,
                            .bytes = -1};
    assert_int_equal(restore_record_append(path, &r, err, sizeof err), 0);
    unsigned gen = w->m.generation;
    w->m.refresh_ms = 1000;
    assert_false(model_restore_poll(&w->m, w->m.restore.checked_ms + 10)); /* not before the interval */
    assert_true(model_restore_poll(&w->m, w->m.restore.checked_ms + 1000));
    assert_true(w->m.generation != gen);
    assert_false(model_restore_poll(&w->m, w->m.restore.checked_ms + 2000)); /* unchanged: no reload */
    assert_true(w->m.restore.judged);
    health_of(&w->m, &w->m.servers[0], &h);
    assert_int_equal(h.v[HF_RESTORE].level, SEV_OK);
    assert_int_equal(h.score, 0);
    health_of(&w->m, &w->m.servers[1], &h);
    assert_int_equal(h.v[HF_RESTORE].level, SEV_CRIT);
    assert_string_equal(h.v[HF_RESTORE].reason, "never restore-tested");
    assert_int_equal(h.score, 20);
    health_of(&w->m, &w->m.servers[2], &h);
    assert_int_equal(h.v[HF_RESTORE].level, SEV_NONE);
    /* worst first: beta (never tested) before alpha, the pooler last by name */
    size_t order[4];
    fleet_order(&w->m, order);
    assert_int_equal(order[0], 1);
    /* beta fails now: a forced reload (what the action calls after appending) shows it */
    r.server = "beta", r.outcome = "failed", r.failed_phase = "verify", r.error = "checksum mismatch";
    r.started = now - 7200;
    assert_int_equal(restore_record_append(path, &r, err, sizeof err), 0);
    model_restore_reload(&w->m);
    health_of(&w->m, &w->m.servers[1], &h);
    assert_string_equal(h.v[HF_RESTORE].reason, "last restore test failed 2h ago");
    /* the limit from the config */
    w->cfg.restore_max_age_days = 2;
    health_of(&w->m, &w->m.servers[0], &h);
    assert_int_equal(h.v[HF_RESTORE].level, SEV_WARN);
    assert_string_equal(h.v[HF_RESTORE].reason, "last good restore test 3d ago (limit 2d)");
    assert_int_equal(health_restore_age_days(model_restore_status(&w->m, &w->m.servers[0]), now), 3);
    assert_int_equal(health_restore_age_days(NULL, now), -1);
    /* the file removed: not judged again (but not while the user froze the screen) */
    unlink(path);
    w->m.paused = true;
    assert_false(model_restore_poll(&w->m, w->m.restore.checked_ms + 1000));
    assert_true(w->m.restore.judged);
    w->m.paused = false;
    assert_true(model_restore_poll(&w->m, w->m.restore.checked_ms + 1000));
    assert_false(w->m.restore.judged);
    rmdir(dir);
    free(path);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_figures),
        cmocka_unit_test(test_judge_table),
        cmocka_unit_test(test_health_of),
        cmocka_unit_test(test_restore_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
