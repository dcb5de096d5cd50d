/* test_connections.c — unit tests for the Connections pane's probes: the connections section
 * derived from sessions rows on PostgreSQL 12, 15 (with and without pg_monitor) and 16 (totals,
 * breakdowns and "other", idle-in-transaction sessions, reserved slots), its caps and errors;
 * pgBouncer's SHOW POOLS across versions (1.7, 1.17, 1.18 column sets) and SHOW STATS with
 * rates over the local interval, first samples, restarts, new and vanished databases.
 * Fixtures are $PGFLEET_TESTDATA/probes/conn_*.rows and pgb_*.rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rowset.h"
#include "core/util.h"
#include "probes/probe.h"
#include "probes/sample.h"
#include "probes/sec_connections.h"
#include "testutil.h"

/* ---- helpers ---- */

/* Parse a fixture with probe id into a new sample stamped taken_ms; fails the test on error. */
static struct sample *parse_at(enum probe_id id, const char *name, int64_t taken_ms)
{
    struct sample *s = sample_new();
    s->taken_ms = taken_ms;
    return fixture_parse(s, id, name);
}

static struct sample *parse(enum probe_id id, const char *name) { return parse_at(id, name, 1000); }

/* The parse must fail, with err holding want. */
static void parse_fails(enum probe_id id, const char *name, const char *want)
{
    char err[300];
    fixture_parse_fails(id, name, err, sizeof err);
    if (!strstr(err, want))
        fail_msg("%s: error \"%s\" does not say \"%s\"", name, err, want);
}

static const struct conn_count *find_count(const struct conn_group *g, const char *name)
{
    for (size_t i = 0; i < g->ntop; i++)
        if ((!name && !g->top[i].name) || (name && g->top[i].name && strcmp(name, g->top[i].name) == 0))
            return &g->top[i];
    return NULL;
}

static long count_of(const struct conn_group *g, const char *name)
{
    const struct conn_count *c = find_count(g, name);
    return c ? c->n : -999;
}

static void assert_near(double got, double want)
{
    if (isnan(got) || fabs(got - want) > 1e-6 * (fabs(want) > 1 ? fabs(want) : 1))
        fail_msg("got %.9g, want %.9g", got, want);
}

/* ---- the connections probe ---- */

static void test_conn_pg15(void **state)
{
    (void)state;
    struct sample *s = parse(PROBE_CONNECTIONS, "conn_pg15.rows");
    const struct s_connections *c = SAMPLE_CONNECTIONS(s);
    assert_int_equal(c->max_connections, 300);
    assert_int_equal(c->superuser_reserved, 3);
    assert_int_equal(c->reserved, 0); /* NULL before 16 */
    assert_int_equal(conn_usable(c), 297);
    assert_int_equal(c->used, 16);
    assert_int_equal(c->own, 1);
    assert_int_equal(c->sessions, 15);
    assert_int_equal(c->waiting, 0);
    assert_near(conn_used_pct(c), 100.0 * 16 / 297);
    /* breakdowns, most first, as sent */
    assert_int_equal(c->by[CB_STATE].ntop, 4);
    assert_string_equal(c->by[CB_STATE].top[0].name, "idle");
    assert_int_equal(count_of(&c->by[CB_STATE], "idle in transaction"), 3);
    assert_int_equal(count_of(&c->by[CB_STATE], "idle in transaction (aborted)"), 1);
    assert_int_equal(c->by[CB_STATE].nkeys, 4);
    assert_int_equal(c->by[CB_STATE].other, 0);
    assert_int_equal(count_of(&c->by[CB_APPLICATION], "idle-app-2"), 2);
    assert_int_equal(c->by[CB_APPLICATION].ntop, 7);
    assert_int_equal(count_of(&c->by[CB_DATABASE], "labdb"), 15);
    assert_int_equal(count_of(&c->by[CB_USER], "lab_nosignal"), 2);
    assert_int_equal(count_of(&c->by[CB_CLIENT], "127.0.0.1"), 15);
    /* idle in transaction: oldest first, as sent */
    assert_int_equal(c->niit_total, 4);
    assert_int_equal(c->niit, 4);
    assert_int_equal(c->iit[0].pid, 26675);
    assert_string_equal(c->iit[0].usename, "postgres");
    assert_string_equal(c->iit[0].application_name, "iit-app");
    assert_string_equal(c->iit[0].client, "127.0.0.1");
    assert_near(c->iit[0].idle_s, 39.605095);
    assert_near(c->iit[0].xact_s, 39.605413);
    assert_int_equal(c->iit[0].xmin_age, 2);
    /* aborted: no transaction start, no xmin */
    assert_string_equal(c->iit[3].state, "idle in transaction (aborted)");
    assert_true(isnan(c->iit[3].xact_s));
    assert_int_equal(c->iit[3].xmin_age, -1);
    sample_free(s);
}

static void test_conn_no_monitor(void **state)
{
    (void)state;
    struct sample *s = parse(PROBE_CONNECTIONS, "conn_pg15_nomonitor.rows");
    const struct s_connections *c = SAMPLE_CONNECTIONS(s);
    /* hidden sessions still count, under a NULL name */
    assert_int_equal(c->sessions, 15);
    assert_int_equal(count_of(&c->by[CB_STATE], NULL), 13);
    assert_int_equal(count_of(&c->by[CB_CLIENT], NULL), 13);
    assert_int_equal(count_of(&c->by[CB_CLIENT], "127.0.0.1"), 2);
    assert_int_equal(c->niit_total, 2);
    assert_int_equal(c->niit, 2);
    sample_free(s);
}

static void test_conn_pg12(void **state)
{
    (void)state;
    struct sample *s = parse(PROBE_CONNECTIONS, "conn_pg12.rows");
    const struct s_connections *c = SAMPLE_CONNECTIONS(s);
    assert_int_equal(conn_usable(c), 97);
    assert_int_equal(c->used, 4);
    assert_int_equal(c->waiting, 1);
    assert_int_equal(count_of(&c->by[CB_APPLICATION], ""), 2); /* empty is not hidden */
    assert_null(find_count(&c->by[CB_APPLICATION], NULL));
    assert_int_equal(count_of(&c->by[CB_CLIENT], "local"), 1);
    assert_int_equal(c->niit_total, 0);
    assert_int_equal(c->niit, 0);
    assert_null(c->iit);
    sample_free(s);
}

static void test_conn_pg16_reserved(void **state)
{
    (void)state;
    struct sample *s = parse(PROBE_CONNECTIONS, "conn_pg16.rows");
    const struct s_connections *c = SAMPLE_CONNECTIONS(s);
    assert_int_equal(c->reserved, 5);
    assert_int_equal(conn_usable(c), 192);
    assert_near(conn_used_pct(c), 50.0);
    assert_int_equal(c->iit[0].xmin_age, 123456);
    assert_near(c->iit[0].idle_s, 3605.5);
    sample_free(s);
}

static void test_conn_caps_and_other(void **state)
{
    (void)state;
    struct sample *s = parse(PROBE_CONNECTIONS, "conn_many.rows");
    const struct s_connections *c = SAMPLE_CONNECTIONS(s);
    const struct conn_group *g = &c->by[CB_APPLICATION];
    assert_int_equal(g->ntop, CONN_TOP);
    assert_int_equal(g->nkeys, 12);
    /* 100 sessions, the ten shown hold 14+13+…+5 = 95 */
    assert_int_equal(g->other, 5);
    assert_string_equal(g->top[0].name, "app1");
    assert_string_equal(g->top[9].name, "app10");
    assert_int_equal(count_of(g, "app11"), -999);
    /* every session has a state: nothing is "other" */
    assert_int_equal(c->by[CB_STATE].ntop, 2);
    assert_int_equal(count_of(&c->by[CB_STATE], "idle"), 78);
    assert_int_equal(c->by[CB_STATE].other, 0);
    assert_int_equal(c->niit, CONN_IIT_MAX);
    assert_int_equal(c->niit_total, 22);
    assert_int_equal(c->iit[19].pid, 1020);
    sample_free(s);
}

static void test_conn_errors(void **state)
{
    (void)state;
    parse_fails(PROBE_CONNECTIONS, "conn_missing_column.rows", "\"state\"");
}

static void test_conn_helpers(void **state)
{
    (void)state;
    struct s_connections c = {.max_connections = 3, .superuser_reserved = 3, .used = 1};
    assert_int_equal(conn_usable(&c), 0);
    assert_true(isnan(conn_used_pct(&c)));
    assert_string_equal(conn_breakdown_name(CB_APPLICATION), "application");
    assert_string_equal(conn_breakdown_name(CB_CLIENT), "client");
}

/* ---- SHOW POOLS ---- */

static const struct pool_row *pool(const struct s_pools *p, const char *db, const char *user)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->rows[i].database, db) == 0 && strcmp(p->rows[i].user, user) == 0)
            return &p->rows[i];
    fail_msg("no pool %s/%s", db, user);
    return NULL;
}

static void test_pools_118(void **state)
{
    (void)state;
    struct sample *s = parse(PROBE_POOLS, "pgb_pools_118.rows");
    const struct s_pools *p = SAMPLE_POOLS(s);
    assert_int_equal(p->n, 3);
    const struct pool_row *r = pool(p, "labdb", "postgres");
    assert_int_equal(r->cl_active, 5);
    assert_int_equal(r->cl_waiting, 3);
    assert_int_equal(r->cl_active_cancel_req, 0);
    assert_int_equal(r->cl_waiting_cancel_req, 0);
    assert_int_equal(r->sv_active, 5);
    assert_int_equal(r->sv_idle, 0);
    assert_int_equal(r->sv_used, 0);
    assert_int_equal(r->sv_tested, 0);
    assert_int_equal(r->sv_login, 0);
    assert_near(r->maxwait_s, 4.005778);
    assert_string_equal(r->pool_mode, "transaction");
    assert_int_equal(pool(p, "labdb", "lab_monitor")->sv_idle, 1);
    assert_string_equal(pool(p, "pgbouncer", "pgbouncer")->pool_mode, "statement");
    sample_free(s);
}

static void test_pools_older(void **state)
{
    (void)state;
    struct sample *s = parse(PROBE_POOLS, "pgb_pools_117.rows");
    const struct pool_row *r = pool(SAMPLE_POOLS(s), "orders", "app");
    assert_int_equal(r->cl_waiting, 1);
    assert_int_equal(r->cl_active_cancel_req, -1); /* 1.17 has only cl_cancel_req */
    assert_int_equal(r->cl_waiting_cancel_req, -1);
    assert_near(r->maxwait_s, 0.25);
    assert_string_equal(r->pool_mode, "session");
    sample_free(s);

    s = parse(PROBE_POOLS, "pgb_pools_17.rows");
    r = pool(SAMPLE_POOLS(s), "orders", "app");
    assert_int_equal(r->sv_idle, 3);
    assert_near(r->maxwait_s, 7.0); /* no maxwait_us: whole seconds */
    assert_null(r->pool_mode);
    sample_free(s);
}

static void test_pools_errors(void **state)
{
    (void)state;
    parse_fails(PROBE_POOLS, "pgb_pools_no_user.rows", "user");
}

/* ---- SHOW STATS ---- */

static void test_stats_rates(void **state)
{
    (void)state;
    struct sample *a = parse_at(PROBE_POOLSTATS, "pgb_stats_118_t1.rows", 10000);
    struct sample *b = parse_at(PROBE_POOLSTATS, "pgb_stats_118_t2.rows", 12000);
    const struct s_poolstats *st = SAMPLE_POOLSTATS(a);
    assert_int_equal(st->taken_ms, 10000); /* copied from the sample, not read from a clock */
    const struct poolstat_row *r = poolstats_find(st, "labdb");
    assert_non_null(r);
    assert_int_equal(r->xact_count, 2416);
    assert_int_equal(r->wait_time, 74935158);
    assert_int_equal(r->avg_wait_time, 991140);
    assert_true(isnan(r->xacts_s)); /* nothing before it */
    probe_table[PROBE_POOLSTATS]->derive(NULL, a);
    assert_true(isnan(st->dt));

    probe_table[PROBE_POOLSTATS]->derive(a, b);
    st = SAMPLE_POOLSTATS(b);
    assert_near(st->dt, 2.0);
    r = poolstats_find(st, "labdb");
    assert_near(r->xacts_s, 200);
    assert_near(r->queries_s, 400);
    assert_near(r->recv_s, 5000);
    assert_near(r->sent_s, 10000);
    assert_near(r->xact_us, 200);
    assert_near(r->query_us, 50);
    assert_near(r->wait_us, 500);
    /* a database new in this sample: no rate yet */
    r = poolstats_find(st, "fresh");
    assert_non_null(r);
    assert_true(isnan(r->xacts_s));
    assert_null(poolstats_find(st, "gone"));
    r = poolstats_find(st, "pgbouncer");
    assert_near(r->xacts_s, 0.5);
    assert_near(r->xact_us, 0);
    sample_free(a);
    sample_free(b);
}

static void test_stats_no_interval(void **state)
{
    (void)state;
    /* the same arrival time twice (or none): no interval, no rates */
    struct sample *a = parse_at(PROBE_POOLSTATS, "pgb_stats_118_t1.rows", 5000);
    struct sample *b = parse_at(PROBE_POOLSTATS, "pgb_stats_118_t2.rows", 5000);
    probe_table[PROBE_POOLSTATS]->derive(a, b);
    assert_true(isnan(SAMPLE_POOLSTATS(b)->dt));
    assert_true(isnan(poolstats_find(SAMPLE_POOLSTATS(b), "labdb")->xacts_s));
    sample_free(a);
    sample_free(b);
    a = parse_at(PROBE_POOLSTATS, "pgb_stats_118_t1.rows", 0);
    b = parse_at(PROBE_POOLSTATS, "pgb_stats_118_t2.rows", 3000);
    probe_table[PROBE_POOLSTATS]->derive(a, b);
    assert_true(isnan(poolstats_find(SAMPLE_POOLSTATS(b), "labdb")->xacts_s));
    sample_free(a);
    sample_free(b);
}

static void test_stats_restart(void **state)
{
    (void)state;
    struct sample *a = parse_at(PROBE_POOLSTATS, "pgb_stats_118_t1.rows", 1000);
    struct sample *b = parse_at(PROBE_POOLSTATS, "pgb_stats_restarted.rows", 2000);
    probe_table[PROBE_POOLSTATS]->derive(a, b);
    const struct poolstat_row *r = poolstats_find(SAMPLE_POOLSTATS(b), "labdb");
    assert_true(isnan(r->xacts_s));
    assert_true(isnan(r->queries_s));
    assert_true(isnan(r->recv_s));
    assert_true(isnan(r->sent_s));
    assert_true(isnan(r->wait_us));
    sample_free(a);
    sample_free(b);
}

static void test_stats_old_columns(void **state)
{
    (void)state;
    struct sample *a = parse_at(PROBE_POOLSTATS, "pgb_stats_17_t1.rows", 1000);
    struct sample *b = parse_at(PROBE_POOLSTATS, "pgb_stats_17_t2.rows", 2000);
    probe_table[PROBE_POOLSTATS]->derive(a, b);
    const struct poolstat_row *r = poolstats_find(SAMPLE_POOLSTATS(b), "orders");
    assert_int_equal(r->xact_count, -1);
    assert_int_equal(r->wait_time, -1);
    assert_int_equal(r->query_time, 30000);
    assert_true(isnan(r->xacts_s));
    assert_true(isnan(r->queries_s));
    assert_near(r->recv_s, 500);
    assert_near(r->sent_s, 1000);
    assert_true(isnan(r->query_us)); /* time without a count */
    assert_true(isnan(r->wait_us));
    sample_free(a);
    sample_free(b);
}

static void test_probe_classes(void **state)
{
    (void)state;
    const struct probe_class *c = probe_table[PROBE_CONNECTIONS];
    struct server_caps v12 = {.version = 120000}, v17 = {.version = 170000};
    struct probe_opts o = {0};
    const char *why = NULL;
    assert_int_equal(c->kind, KIND_POSTGRES);
    assert_false(c->essential);
    /* derived from the sessions section: no SQL of its own */
    assert_null(c->sql);
    assert_null(c->parse);
    const struct probe_class *ses = probe_table[PROBE_SESSIONS];
    assert_true(ses->essential);
    assert_non_null(ses->sql(&v12, &o, &why));
    const char *q = ses->sql(&v17, &o, &why);
    assert_non_null(q);
    /* one statement, our own session known by pid, reserved_connections asked without failing
     * before 16 */
    assert_null(strchr(q, ';'));
    assert_non_null(strstr(q, "pg_backend_pid()"));
    assert_null(strstr(q, "'pgfleet'")); /* by pid, never by a name anyone can set */
    assert_non_null(strstr(q, "'reserved_connections', true"));
    struct server_caps none = {0};
    assert_int_equal(probe_table[PROBE_POOLS]->kind, KIND_PGBOUNCER);
    assert_true(probe_table[PROBE_POOLS]->essential); /* a failing SHOW POOLS makes it STALE */
    assert_string_equal(probe_table[PROBE_POOLS]->sql(&none, &o, &why), "SHOW POOLS");
    assert_int_equal(probe_table[PROBE_POOLSTATS]->kind, KIND_PGBOUNCER);
    assert_string_equal(probe_table[PROBE_POOLSTATS]->sql(&none, &o, &why), "SHOW STATS");
    assert_null(poolstats_find(NULL, "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conn_pg15),           cmocka_unit_test(test_conn_no_monitor),
        cmocka_unit_test(test_conn_pg12),           cmocka_unit_test(test_conn_pg16_reserved),
        cmocka_unit_test(test_conn_caps_and_other), cmocka_unit_test(test_conn_errors),
        cmocka_unit_test(test_conn_helpers),        cmocka_unit_test(test_pools_118),
        cmocka_unit_test(test_pools_older),         cmocka_unit_test(test_pools_errors),
        cmocka_unit_test(test_stats_rates),         cmocka_unit_test(test_stats_no_interval),
        cmocka_unit_test(test_stats_restart),       cmocka_unit_test(test_stats_old_columns),
        cmocka_unit_test(test_probe_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
