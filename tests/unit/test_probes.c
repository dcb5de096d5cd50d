/* test_probes.c — unit tests for the pure side of the probes: the rowset fixture parser and cell
 * conversions (probes/core/rowset.c), the server probe's parse and its derive step (TPS and cache hit
 * % over the measured interval, n/a on the first sample, after a reset or a restart), the activity
 * probe's parse (NULLs, raw control characters kept), the capability check and counter_rate.
 * Fixtures are $PGFLEET_TESTDATA/probes/NAME.rows (default tests/data, run from the top). */
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
#include "testutil.h"

/* ---- helpers ---- */

static const struct s_server *srv(const struct sample *s) { return SAMPLE_SERVER(s); }

#define assert_double_near(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* ---- rowset ---- */

static void test_rowset_parse_escapes(void **state)
{
    (void)state;
    struct rowset *rs = fixture_rows("rowset_escapes.rows");
    assert_null(rs->error);
    assert_int_equal(rs->ncols, 5);
    assert_int_equal(rs->nrows, 2);
    assert_string_equal(rs->names[0], "a");
    assert_string_equal(rs->names[1], "b|c");
    assert_string_equal(rs->names[4], "f");
    assert_int_equal(rowset_col(rs, "b|c"), 1);
    assert_int_equal(rowset_col(rs, "b"), -1);
    /* Row 0: NULL against empty strings; '#' inside a row is data. */
    assert_null(rowset_get(rs, 0, 0));
    assert_string_equal(rowset_get(rs, 0, 1), "");
    assert_string_equal(rowset_get(rs, 0, 2), "x#y");
    assert_string_equal(rowset_get(rs, 0, 3), " ");
    assert_string_equal(rowset_get(rs, 0, 4), "");
    /* Row 1: every escape. */
    assert_string_equal(rowset_get(rs, 1, 0), "pipe|in");
    assert_string_equal(rowset_get(rs, 1, 1), "back\\slash");
    assert_string_equal(rowset_get(rs, 1, 2), "nl\nand\ttab");
    assert_string_equal(rowset_get(rs, 1, 3), "esc\x1b[0m");
    assert_string_equal(rowset_get(rs, 1, 4), "\\N"); /* an escaped backslash, then N: not NULL */
    /* Out of range is NULL, never a crash. */
    assert_null(rowset_get(rs, 2, 0));
    assert_null(rowset_get(rs, -1, 0));
    assert_null(rowset_get(rs, 0, 5));
    assert_null(rowset_get(rs, 0, -1));
    rowset_free(rs);
    rowset_free(NULL);
}

static void test_rowset_parse_malformed(void **state)
{
    (void)state;
    char *text = fixture_text("rowset_bad_count.rows");
    const char *err = NULL;
    assert_null(rowset_parse_text(text, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "number of fields"));
    free(text);

    static const char *const empty[] = {"", "# only a comment\n", "\n\n# and blank lines\n\n"};
    for (size_t i = 0; i < ARRAY_LEN(empty); i++) {
        err = NULL;
        assert_null(rowset_parse_text(empty[i], &err));
        assert_non_null(err);
        assert_string_equal(err, "no header line");
    }

    /* No trailing newline, header only: a valid empty result. */
    err = NULL;
    struct rowset *rs = rowset_parse_text("x|y", &err);
    assert_non_null(rs);
    assert_null(err);
    assert_int_equal(rs->ncols, 2);
    assert_int_equal(rs->nrows, 0);
    rowset_free(rs);
    rs = rowset_parse_text("x|y\n1|2", &err);
    assert_non_null(rs);
    assert_int_equal(rs->nrows, 1);
    assert_string_equal(rowset_get(rs, 0, 1), "2");
    rowset_free(rs);
    /* A short row is as wrong as a long one. */
    assert_null(rowset_parse_text("x|y\n1\n", &err));
    assert_non_null(err);
}

static void test_rowset_build_and_cells(void **state)
{
    (void)state;
    static const char *const names[] = {"n", "b", "s"};
    struct rowset *rs = rowset_new(3, names);
    const char *r0[] = {"42", "t", "hello"};
    const char *r1[] = {NULL, "f", NULL};
    rowset_add_row(rs, r0);
    rowset_add_row(rs, r1);
    assert_int_equal(rs->nrows, 2);
    assert_string_equal(rowset_get(rs, 0, 2), "hello");
    assert_ptr_not_equal(rowset_get(rs, 0, 2), r0[2]); /* copied */
    assert_null(rowset_get(rs, 1, 0));

    int idx[3];
    char err[100] = "";
    static const char *const want[] = {"s", "n", "b"};
    assert_int_equal(rowset_cols(rs, want, idx, 3, err, sizeof err), 0);
    assert_int_equal(idx[0], 2);
    assert_int_equal(idx[1], 0);
    assert_int_equal(idx[2], 1);
    static const char *const missing[] = {"n", "nope", "also_not"};
    assert_int_equal(rowset_cols(rs, missing, idx, 3, err, sizeof err), -1);
    assert_string_equal(err, "result has no column \"nope\"");
    rowset_free(rs);

    assert_double_near(cell_num("3.25"), 3.25);
    assert_double_near(cell_num("-7"), -7);
    assert_true(isnan(cell_num(NULL)));
    assert_true(isnan(cell_num("")));
    assert_true(isnan(cell_num("12abc")));
    /* the fast path gives what strtod gives, bit for bit, and leaves it every other form */
    static const char *const nums[] = {"0",
                                       "-0",
                                       "1.",
                                       ".5",
                                       "0.1",
                                       "1733456789.123456",
                                       "1733456789123456",
                                       "9999999999999999999",
                                       "18446744073709551615",
                                       "123456789012345678901",
                                       "9007199254740993.5",
                                       "0.000000000000000000000123",
                                       "1e5",
                                       "-2.5E-3",
                                       "inf",
                                       "-Infinity",
                                       "NaN",
                                       " 7",
                                       "+7",
                                       "1.2.3",
                                       "-",
                                       ".",
                                       "0x10",
                                       "5 "};
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        char *end;
        double expect = strtod(nums[i], &end), got = cell_num(nums[i]);
        if (*end)
            assert_true(isnan(got));
        else if (isnan(expect))
            assert_true(isnan(got));
        else
            assert_memory_equal(&got, &expect, sizeof got);
    }
    srandom(7);
    for (int i = 0; i < 100000; i++) {
        char buf[40];
        snprintf(buf, sizeof buf, "%s%ld.%0*ld", i % 3 ? "" : "-", random() % 100000000, 1 + i % 9,
                 random() % 1000000000 % (long)pow(10, 1 + i % 9));
        double expect = strtod(buf, NULL), got = cell_num(buf);
        assert_memory_equal(&got, &expect, sizeof got);
    }
    assert_int_equal(cell_i64("9007199254740993"), 9007199254740993LL); /* beyond a double */
    static const char *const ints[] = {"0",
                                       "-0",
                                       "42",
                                       "-42",
                                       "123456789012345678",
                                       "-999999999999999999",
                                       "9223372036854775807",
                                       "-9223372036854775808",
                                       "99999999999999999999",
                                       "12abc",
                                       "",
                                       "-",
                                       " 7",
                                       "+7",
                                       "0x10"};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) /* the fast path reads as strtoll does */
        assert_int_equal(cell_i64(ints[i]), strtoll(ints[i], NULL, 10));
    assert_int_equal(cell_i64(NULL), 0);
    assert_true(cell_bool("t"));
    assert_true(cell_bool("true"));
    assert_true(cell_bool("1"));
    assert_false(cell_bool("f"));
    assert_false(cell_bool("false"));
    assert_false(cell_bool(NULL));
    assert_false(cell_bool(""));
    char *d = cell_dup("x");
    assert_string_equal(d, "x");
    free(d);
    assert_null(cell_dup(NULL));
}

static void test_rowset_error(void **state)
{
    (void)state;
    struct rowset *rs =
        rowset_new_error("42P01", "relation \"pg_stat_io\" does not exist\nLINE 1: SELECT * FROM pg_stat_io\n");
    assert_non_null(rs->error);
    assert_string_equal(rs->error, "relation \"pg_stat_io\" does not exist"); /* first line */
    assert_string_equal(rs->sqlstate, "42P01");
    assert_int_equal(rs->nrows, 0);
    assert_int_equal(rowset_col(rs, "epoch"), -1);
    assert_null(rowset_get(rs, 0, 0));

    /* Handed to a parser anyway, it fails cleanly and leaves no section. */
    struct sample *s = sample_new();
    char err[300] = "";
    assert_int_equal(probe_table[PROBE_SERVER]->parse(rs, s, err, sizeof err), -1);
    assert_true(err[0]);
    assert_null(s->sec[PROBE_SERVER]);
    err[0] = '\0';
    assert_int_equal(probe_table[PROBE_SESSIONS]->parse(rs, s, err, sizeof err), -1);
    assert_true(err[0]);
    assert_null(s->sec[PROBE_SESSIONS]);
    sample_free(s);
    rowset_free(rs);

    rs = rowset_new_error(NULL, NULL);
    assert_string_equal(rs->error, "unknown error");
    assert_string_equal(rs->sqlstate, "");
    rowset_free(rs);
    rs = rowset_new_error("57014", "");
    assert_string_equal(rs->error, "unknown error");
    rowset_free(rs);
}

/* ---- server probe: parse ---- */

static void test_server_parse_pg15(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_SERVER, "server_pg15.rows");
    const struct s_server *v = srv(s);
    assert_double_near(v->epoch, 1700000000.0);
    assert_double_near(v->started, 1699990000.5);
    assert_false(v->in_recovery);
    assert_int_equal(v->version_num, 150004);
    assert_string_equal(v->version, "15.4");
    assert_int_equal(v->max_connections, 100);
    assert_int_equal(v->reserved_connections, 3);
    assert_int_equal(v->conns, 42);
    assert_int_equal(v->active, 5);
    assert_int_equal(v->idle, 30);
    assert_int_equal(v->idle_in_xact, 2);
    assert_int_equal(v->waiting_lock, 0);
    assert_double_near(v->longest_query_s, 1.25);
    assert_double_near(v->longest_xact_s, 40.25);
    assert_int_equal(v->xacts, 1000000);
    assert_int_equal(v->blks_hit, 500000);
    assert_int_equal(v->blks_read, 20000);
    assert_string_equal(v->stats_reset, "2023-11-14 20:00:00.123456+00");
    /* Nothing derived yet. */
    assert_true(isnan(v->tps));
    assert_true(isnan(v->cache_hit_pct));
    assert_true(isnan(v->dt));
    /* An error string for another section is freed with the sample. */
    s->err[PROBE_ACTIVITY] = xstrdup("permission denied");
    sample_free(s);
}

static void test_server_parse_pg12_replica(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_SERVER, "server_pg12.rows");
    const struct s_server *v = srv(s);
    assert_true(v->in_recovery);
    assert_int_equal(v->version_num, 120017);
    assert_string_equal(v->version, "12.17");
    assert_int_equal(v->max_connections - v->reserved_connections, 195);
    assert_true(isnan(v->longest_query_s)); /* NULL: no active query */
    assert_true(isnan(v->longest_xact_s));
    assert_null(v->stats_reset);
    sample_free(s);

    s = fixture_parse(NULL, PROBE_SERVER, "server_pg16.rows");
    assert_int_equal(srv(s)->version_num, 160001);
    assert_int_equal(srv(s)->waiting_lock, 3);
    assert_int_equal(srv(s)->xacts, 7000000);
    sample_free(s);
}

static void expect_parse_error(enum probe_id id, const char *name, const char *want)
{
    char err[300];
    fixture_parse_fails(id, name, err, sizeof err);
    assert_string_equal(err, want);
}

static void test_server_parse_errors(void **state)
{
    (void)state;
    expect_parse_error(PROBE_SERVER, "server_missing_column.rows", "result has no column \"blks_read\"");
    expect_parse_error(PROBE_SERVER, "server_two_rows.rows", "server probe returned 2 rows");
    expect_parse_error(PROBE_SERVER, "server_no_clock.rows", "server probe returned no clock");
    expect_parse_error(PROBE_SERVER, "activity_pg15.rows", "result has no column \"epoch\"");
}

/* ---- server probe: derive ---- */

static void test_server_derive_rates(void **state)
{
    (void)state;
    /* Two samples 2.0 s apart by the server clock: +300 xacts, +950 hits, +50 reads. */
    struct sample *c = fixture_pair(PROBE_SERVER, "server_pg15.rows", "server_pg15_t2.rows");
    assert_double_near(srv(c)->dt, 2.0);
    assert_double_near(srv(c)->tps, 300 / 2.0);
    assert_double_near(srv(c)->cache_hit_pct, 100.0 * 950 / (950 + 50));
    sample_free(c);

    /* A late tick: the measured 2.5 s is what counts, not the refresh interval. NULL stats_reset
     * in both samples is no reset. */
    c = fixture_pair(PROBE_SERVER, "server_pg12.rows", "server_pg12_t2.rows");
    assert_double_near(srv(c)->dt, 2.5);
    assert_double_near(srv(c)->tps, 50 / 2.5);
    assert_double_near(srv(c)->cache_hit_pct, 100.0 * 300 / (300 + 100));
    sample_free(c);
}

static void test_server_derive_first_sample(void **state)
{
    (void)state;
    struct sample *c = fixture_parse(NULL, PROBE_SERVER, "server_pg15_t2.rows");
    probe_table[PROBE_SERVER]->derive(NULL, c);
    assert_true(isnan(srv(c)->tps));
    assert_true(isnan(srv(c)->cache_hit_pct));
    assert_true(isnan(srv(c)->dt));

    /* A previous sample without server facts (that probe failed last tick) is no better. */
    struct sample *p = sample_new();
    p->err[PROBE_SERVER] = xstrdup("canceling statement due to statement timeout");
    probe_table[PROBE_SERVER]->derive(p, c);
    assert_true(isnan(srv(c)->tps));
    assert_true(isnan(srv(c)->cache_hit_pct));
    sample_free(p);

    /* Nor is a current sample without them: derive must cope. */
    p = fixture_parse(NULL, PROBE_SERVER, "server_pg15.rows");
    struct sample *empty = sample_new();
    probe_table[PROBE_SERVER]->derive(p, empty);
    assert_null(empty->sec[PROBE_SERVER]);
    sample_free(empty);
    sample_free(p);
    sample_free(c);
}

static void expect_no_rates(const char *prev, const char *cur)
{
    struct sample *c = fixture_pair(PROBE_SERVER, prev, cur);
    double tps = srv(c)->tps, hit = srv(c)->cache_hit_pct;
    sample_free(c);
    if (!isnan(tps) || !isnan(hit))
        fail_msg("%s → %s: tps %g, cache hit %g; both should be n/a", prev, cur, tps, hit);
}

static void test_server_derive_resets(void **state)
{
    (void)state;
    /* Counters went backwards (a database was dropped). */
    expect_no_rates("server_pg15.rows", "server_pg15_dropped_db.rows");
    /* stats_reset changed although the counters grew past their old values. */
    expect_no_rates("server_pg15.rows", "server_pg15_stats_reset.rows");
    /* The postmaster restarted. */
    expect_no_rates("server_pg15.rows", "server_pg15_restarted.rows");
    /* The same sample twice: no time passed, nothing to divide by. */
    expect_no_rates("server_pg15.rows", "server_pg15.rows");
    /* Back in time (a clock step on the server). */
    expect_no_rates("server_pg15_t2.rows", "server_pg15.rows");
}

static void test_server_derive_no_blocks(void **state)
{
    (void)state;
    struct sample *c = fixture_pair(PROBE_SERVER, "server_pg15.rows", "server_pg15_no_io.rows");
    assert_double_near(srv(c)->tps, 10 / 2.0);
    assert_true(isnan(srv(c)->cache_hit_pct)); /* 0 hits of 0: no ratio, not 0 % nor 100 % */
    sample_free(c);
}

/* Our own probe statements are transactions too; the users' TPS leaves them out, and never
 * goes below zero. */
static void test_server_derive_own_xacts(void **state)
{
    (void)state;
    struct sample *p = fixture_parse(NULL, PROBE_SERVER, "server_pg15.rows");
    struct sample *c = fixture_parse(NULL, PROBE_SERVER, "server_pg15_t2.rows");
    /* the interval holds the PREVIOUS tick's probe transactions (flushed at its end) */
    ((struct s_server *)p->sec[PROBE_SERVER])->own_xacts = 4;
    ((struct s_server *)c->sec[PROBE_SERVER])->own_xacts = 77; /* this tick's: not yet counted */
    probe_table[PROBE_SERVER]->derive(p, c);
    assert_double_near(srv(c)->tps, (300 - 4) / 2.0);
    ((struct s_server *)p->sec[PROBE_SERVER])->own_xacts = 1000;
    probe_table[PROBE_SERVER]->derive(p, c);
    assert_double_near(srv(c)->tps, 0);
    sample_free(p);
    sample_free(c);
}

static void test_counter_rate(void **state)
{
    (void)state;
    assert_double_near(counter_rate(10, 30, 2.0), 10.0);
    assert_double_near(counter_rate(10, 10, 2.0), 0.0);
    assert_double_near(counter_rate(0, 1, 0.5), 2.0);
    assert_double_near(counter_rate(INT64_MAX - 100, INT64_MAX, 4.0), 25.0);
    assert_true(isnan(counter_rate(30, 10, 2.0))); /* went backwards: a reset */
    assert_true(isnan(counter_rate(10, 30, 0.0)));
    assert_true(isnan(counter_rate(10, 30, -1.0)));
    assert_true(isnan(counter_rate(10, 30, NAN)));
    assert_true(isnan(counter_rate(10, 30, -INFINITY)));
}

/* ---- activity probe ---- */

static void test_activity_parse(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_ACTIVITY, "activity_pg15.rows");
    const struct s_activity *a = SAMPLE_ACTIVITY(s);
    assert_int_equal(a->n, 7);

    const struct activity_row *r = &a->rows[0];
    assert_int_equal(r->pid, 4101);
    assert_string_equal(r->datname, "shop");
    assert_string_equal(r->usename, "app");
    assert_string_equal(r->application_name, "web-1");
    assert_string_equal(r->client, "10.0.0.5");
    assert_string_equal(r->backend_type, "client backend");
    assert_string_equal(r->state, "active");
    assert_null(r->wait_event_type);
    assert_null(r->wait_event);
    assert_double_near(r->xact_age, 3.5);
    assert_double_near(r->query_age, 3.25);
    assert_double_near(r->state_age, 3.25);
    assert_string_equal(r->backend_start, "2023-11-14 21:00:00.000001+00"); /* exact text */
    assert_string_equal(r->query_start, "2023-11-14 22:13:16.75+00");
    assert_int_equal(r->blocked_by, 0);
    assert_string_equal(r->query, "SELECT * FROM orders WHERE id = $1");

    r = &a->rows[1];
    assert_string_equal(r->state, "idle in transaction");
    assert_string_equal(r->wait_event_type, "Client");
    assert_string_equal(r->wait_event, "ClientRead");

    r = &a->rows[2];
    assert_string_equal(r->wait_event_type, "Lock");
    assert_string_equal(r->wait_event, "transactionid");
    assert_int_equal(r->blocked_by, 1);

    /* A background worker: NULL state, database, user, client and ages; empty query. */
    r = &a->rows[3];
    assert_int_equal(r->pid, 4104);
    assert_null(r->state);
    assert_null(r->datname);
    assert_null(r->usename);
    assert_string_equal(r->application_name, "");
    assert_null(r->client);
    assert_string_equal(r->backend_type, "background worker");
    assert_true(isnan(r->xact_age));
    assert_true(isnan(r->query_age));
    assert_true(isnan(r->state_age));
    assert_null(r->query_start);
    assert_string_equal(r->query, "");

    r = &a->rows[4];
    assert_string_equal(r->backend_type, "autovacuum worker");
    assert_null(r->usename);
    assert_null(r->client);

    r = &a->rows[5];
    assert_string_equal(r->state, "idle");
    assert_true(isnan(r->xact_age));
    assert_string_equal(r->client, "local");

    /* Server text is kept raw: escaping is the views' job, the full query is for Enter. */
    r = &a->rows[6];
    assert_string_equal(r->application_name, "evil\x1b[2Japp");
    assert_string_equal(r->query, "SELECT 1;\x1b]0;pwned\x1b\\\n\t-- a | pipe and a backslash \\ kept");
    sample_free(s);
}

/* ---- sessions probe: the one read of pg_stat_activity, and what is derived from it ---- */

static void test_sessions_derive(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_SERVER, "server_pg15.rows");
    fixture_parse(s, PROBE_SESSIONS, "conn_pg15.rows");
    const struct s_sessions *ss = SAMPLE_SESSIONS(s);
    assert_int_equal(ss->n, 19);
    assert_int_equal(ss->max_connections, 300); /* from our own row */
    assert_int_equal(ss->superuser_reserved, 3);
    assert_int_equal(sessions_find(ss, 26696)->xmin_age, 2);
    assert_int_equal(sessions_find(ss, 27001)->xmin_age, -1);
    assert_true(sessions_find(ss, 29700)->mine);
    assert_null(sessions_find(ss, 4242));
    assert_null(sessions_find(NULL, 1));

    /* the server's counts are the sessions', whatever the server probe sent */
    probe_table[PROBE_SESSIONS]->derive(NULL, s);
    const struct s_server *v = srv(s);
    assert_int_equal(v->conns, 16); /* ours included: it takes a slot */
    assert_int_equal(v->active, 3); /* neither ours nor the autovacuum worker */
    assert_int_equal(v->idle, 8);
    assert_int_equal(v->idle_in_xact, 4);
    assert_int_equal(v->waiting_lock, 0);
    assert_double_near(v->longest_query_s, 12.5);
    assert_double_near(v->longest_xact_s, 39.605413); /* not the worker's 100 s */

    /* Activity: not ours, no checkpointer or walsender; idle sessions only when shown */
    probe_table[PROBE_ACTIVITY]->derive(NULL, s);
    const struct s_activity *a = SAMPLE_ACTIVITY(s);
    assert_false(a->with_idle);
    assert_int_equal(a->n, 8);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_not_equal(a->rows[i].pid, 29700);
        assert_string_not_equal(a->rows[i].state, "idle");
    }
    assert_int_equal(a->rows[0].pid, 103); /* the autovacuum worker, in the server's order */
    ((struct s_sessions *)s->sec[PROBE_SESSIONS])->with_idle = true;
    probe_table[PROBE_ACTIVITY]->derive(NULL, s); /* replaces the section */
    assert_int_equal(SAMPLE_ACTIVITY(s)->n, 16);
    assert_true(SAMPLE_ACTIVITY(s)->with_idle);
    sample_free(s);

    /* derived sections send no SQL; the server probe no longer reads pg_stat_activity */
    struct server_caps caps = {.version = 150004};
    struct probe_opts o = {0};
    const char *why = NULL;
    assert_null(probe_table[PROBE_ACTIVITY]->sql);
    assert_null(probe_table[PROBE_CONNECTIONS]->sql);
    assert_null(strstr(probe_table[PROBE_SERVER]->sql(&caps, &o, &why), "pg_stat_activity"));
}

static void test_activity_parse_edges(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_ACTIVITY, "activity_empty.rows");
    assert_int_equal(SAMPLE_ACTIVITY(s)->n, 0);
    sample_free(s);
    expect_parse_error(PROBE_ACTIVITY, "activity_missing_column.rows", "result has no column \"wait_event\"");
    expect_parse_error(PROBE_ACTIVITY, "server_pg15.rows", "result has no column \"pid\"");
}

/* ---- capabilities and the probe table ---- */

static void test_caps(void **state)
{
    (void)state;
    struct server_caps caps;
    memset(&caps, 0, sizeof caps);
    char err[300] = "";

    struct rowset *rs = fixture_rows("caps_pg15_monitor.rows");
    assert_int_equal(probe_parse_caps(rs, &caps, err, sizeof err), 0);
    rowset_free(rs);
    assert_int_equal(caps.version, 150004);
    assert_false(caps.superuser);
    assert_true(caps.pg_monitor);
    assert_false(caps.signal_backend);
    assert_true(caps.has_pgss);
    assert_false(caps.has_stat_io);
    assert_string_equal(caps.current_user, "monitor");

    /* Parsing again into the same caps replaces (and frees) what was there. */
    rs = fixture_rows("caps_pg16_superuser.rows");
    assert_int_equal(probe_parse_caps(rs, &caps, err, sizeof err), 0);
    rowset_free(rs);
    assert_int_equal(caps.version, 160001);
    assert_true(caps.superuser);
    assert_true(caps.pg_monitor); /* a superuser can do what the roles allow */
    assert_true(caps.signal_backend);
    assert_false(caps.has_pgss);
    assert_true(caps.has_stat_io);
    assert_string_equal(caps.current_user, "postgres");

    rs = fixture_rows("caps_pg12_plain.rows");
    assert_int_equal(probe_parse_caps(rs, &caps, err, sizeof err), 0);
    rowset_free(rs);
    assert_int_equal(caps.version, 120017);
    assert_false(caps.superuser || caps.pg_monitor || caps.signal_backend || caps.has_pgss || caps.has_stat_io);
    assert_string_equal(caps.current_user, "app");
    caps_free(&caps);
    assert_null(caps.current_user);
    assert_int_equal(caps.version, 0);
    caps_free(&caps); /* twice is harmless */

    rs = fixture_rows("caps_no_row.rows");
    assert_int_equal(probe_parse_caps(rs, &caps, err, sizeof err), -1);
    assert_string_equal(err, "capability check returned 0 rows");
    rowset_free(rs);

    rs = rowset_new_error("42501", "permission denied for table pg_roles");
    assert_int_equal(probe_parse_caps(rs, &caps, err, sizeof err), -1);
    assert_string_equal(err, "capability check failed: permission denied for table pg_roles");
    rowset_free(rs);
    caps_free(&caps);
}

static void test_probe_table(void **state)
{
    (void)state;
    struct server_caps caps = {.version = 150004};
    struct probe_opts busy = {.idle = false}, all = {.idle = true};
    const char *why = NULL;
    assert_string_equal(probe_table[PROBE_SERVER]->name, "server");
    assert_string_equal(probe_table[PROBE_ACTIVITY]->name, "activity");
    for (int i = 0; i < PROBE_MAX; i++) { /* sample_free relies on these */
        assert_non_null(probe_table[i]);
        assert_non_null(probe_table[i]->name);
    }
    static const enum probe_id mine[] = {PROBE_SERVER, PROBE_SESSIONS};
    for (size_t i = 0; i < ARRAY_LEN(mine); i++) {
        assert_non_null(probe_table[mine[i]]->parse);
        assert_non_null(probe_table[mine[i]]->free_section);
    }
    const char *q_busy = probe_table[PROBE_SESSIONS]->sql(&caps, &busy, &why);
    const char *q_all = probe_table[PROBE_SESSIONS]->sql(&caps, &all, &why);
    assert_non_null(q_busy);
    assert_non_null(q_all);
    assert_string_not_equal(q_busy, q_all); /* idle sessions are shipped only when shown */
    assert_non_null(probe_table[PROBE_SERVER]->sql(&caps, &busy, &why));

    /* Our own sessions are left out by pid (pg_backend_pid()), never by application_name: a
     * session anyone names "pgfleet" must stay visible. Every probe, every variant. */
    struct server_caps vers[] = {{.version = 120000, .pg_monitor = true, .has_pgss = true},
                                 {.version = 180000, .pg_monitor = true, .has_pgss = true, .has_stat_io = true}};
    for (int p = 0; p < PROBE_MAX; p++)
        for (size_t v = 0; v < ARRAY_LEN(vers); v++)
            for (int idle = 0; idle < 2; idle++) {
                struct probe_opts po = {.idle = idle};
                const char *w = NULL, *text = probe_table[p]->sql ? probe_table[p]->sql(&vers[v], &po, &w) : NULL;
                if (text && strstr(text, "'pgfleet"))
                    fail_msg("probe %s leaves sessions out by their name", probe_table[p]->name);
            }

    /* settings go with the connection (startup options), never as a session-level SET */
    const char *names[4];
    char values[4][32];
    int n = probe_settings(names, values, 4, 5000);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "statement_timeout");
    assert_string_equal(values[0], "5000");
    assert_string_equal(names[1], "lock_timeout");
    assert_string_equal(names[2], "idle_in_transaction_session_timeout");
    assert_non_null(strstr(probe_caps_sql(0), "pg_monitor"));
    assert_int_equal(probe_settings(names, values, 2, 5000), 0);
}

/* Our own reads: track_counts off, transaction-locally, for a role that may set it (a superuser,
 * or one granted SET on 15+, where has_parameter_privilege exists); the flush probe alone keeps
 * counting, and what it reads is an empty catalog. */
static void test_own_reads_settings(void **state)
{
    (void)state;
    const char *names[2], *values[2];
    assert_int_equal(probe_local_settings(names, values, 2), 1);
    assert_string_equal(names[0], "track_counts");
    assert_string_equal(values[0], "off");
    assert_int_equal(probe_local_settings(names, values, 0), 0);
    assert_null(strstr(probe_caps_sql(140000), "has_parameter_privilege"));
    assert_non_null(strstr(probe_caps_sql(150000), "has_parameter_privilege('track_counts', 'SET')"));
    for (int p = 0; p < PROBE_MAX; p++)
        assert_int_equal(probe_table[p]->counted, p == PROBE_FLUSH);
    struct server_caps caps = {.version = 150000};
    const char *why = NULL;
    assert_non_null(strstr(probe_table[PROBE_FLUSH]->sql(&caps, NULL, &why), "FROM pg_catalog.pg_seclabel"));

    char err[200];
    const char *perr = NULL;
    struct rowset *rs = rowset_parse_text("version|superuser|pg_monitor|set_track_counts|current_user\n"
                                          "150004|f|t|t|mon\n",
                                          &perr);
    assert_int_equal(probe_parse_caps(rs, &caps, err, sizeof err), 0);
    assert_true(caps.set_track_counts);
    assert_false(caps.superuser);
    rowset_free(rs);
    rs = rowset_parse_text("version|superuser|pg_monitor|set_track_counts|current_user\n"
                           "140010|f|t|f|mon\n",
                           &perr);
    assert_int_equal(probe_parse_caps(rs, &caps, err, sizeof err), 0);
    assert_false(caps.set_track_counts);
    rowset_free(rs);
    caps_free(&caps);
}

/* Ages are taken against our statement's now(): a session that began after it reads a hair
 * negative on the server, which the section keeps as 0; an unknown age stays unknown. */
static void test_sessions_ages_not_negative(void **state)
{
    (void)state;
    static const char *const names[] = {"pid",          "datname",   "usename",         "application_name", "client",
                                        "backend_type", "state",     "wait_event_type", "wait_event",       "xact_age",
                                        "query_age",    "state_age", "backend_start",   "query_start",      "query"};
    struct rowset *rs = rowset_new(15, names);
    const char *row[15] = {"42",      "db", "u",  "app",       "local", "client backend",   "active",
                           NULL,      NULL, NULL, "-0.000113", "2.5",   "1764208273310586", "1764208273310586",
                           "SELECT 1"};
    rowset_add_row(rs, row);
    struct sample *s = sample_new();
    char err[200];
    assert_int_equal(probe_table[PROBE_SESSIONS]->parse(rs, s, err, sizeof err), 0);
    const struct s_sessions *ss = SAMPLE_SESSIONS(s);
    assert_true(isnan(ss->rows[0].xact_age));
    assert_true(ss->rows[0].query_age == 0);
    assert_true(fabs(ss->rows[0].state_age - 2.5) < 1e-9);
    rowset_free(rs);
    sample_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sessions_ages_not_negative),
        cmocka_unit_test(test_rowset_parse_escapes),
        cmocka_unit_test(test_own_reads_settings),
        cmocka_unit_test(test_rowset_parse_malformed),
        cmocka_unit_test(test_rowset_build_and_cells),
        cmocka_unit_test(test_rowset_error),
        cmocka_unit_test(test_server_parse_pg15),
        cmocka_unit_test(test_server_parse_pg12_replica),
        cmocka_unit_test(test_server_parse_errors),
        cmocka_unit_test(test_server_derive_rates),
        cmocka_unit_test(test_server_derive_first_sample),
        cmocka_unit_test(test_server_derive_resets),
        cmocka_unit_test(test_server_derive_no_blocks),
        cmocka_unit_test(test_server_derive_own_xacts),
        cmocka_unit_test(test_counter_rate),
        cmocka_unit_test(test_activity_parse),
        cmocka_unit_test(test_activity_parse_edges),
        cmocka_unit_test(test_sessions_derive),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_probe_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
