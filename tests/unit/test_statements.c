/* test_statements.c — unit tests for the statements probe (probes/probe_statements.c): the SQL
 * chosen by server and extension version (and the reason when pg_stat_statements is missing),
 * parsing (header row, sorting by key, summing the entries a role may not see, cutting long
 * texts), and the rates over the interval: per-entry deltas, new entries, evicted and re-created
 * entries (n/a), a reset (n/a), the busiest-first order, texts carried from the previous sample;
 * and statements_unavailable's one-line reasons. Fixtures: tests/data/probes/pgss_*.rows. */
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
#include "probes/model.h"
#include "probes/own_statements.h"
#include "probes/sec_statements.h"
#include "testutil.h"

/* ---- helpers ---- */

/* A new sample holding what the statements probe parsed from rs (freed here); must succeed. */
static struct sample *parse_rs(struct rowset *rs)
{
    struct sample *s = sample_new();
    char err[300] = "";
    int rc = probe_table[PROBE_STATEMENTS]->parse(rs, s, err, sizeof err);
    rowset_free(rs);
    if (rc != 0)
        fail_msg("parse: %s", err);
    return s;
}

static struct sample *parse(const char *name) { return fixture_parse(NULL, PROBE_STATEMENTS, name); }

static struct s_statements *sec(struct sample *s) { return s->sec[PROBE_STATEMENTS]; }

static const struct stmt_row *find(const struct s_statements *st, long long qid, bool toplevel)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->rows[i].has_queryid && st->rows[i].queryid == qid && st->rows[i].toplevel == toplevel)
            return &st->rows[i];
    return NULL;
}

static const struct stmt_row *hidden(const struct s_statements *st)
{
    for (size_t i = 0; i < st->n; i++)
        if (!st->rows[i].has_queryid)
            return &st->rows[i];
    return NULL;
}

static void derive(struct sample *prev, struct sample *cur) { probe_table[PROBE_STATEMENTS]->derive(prev, cur); }

/* ---- SQL choice ---- */

static const char *sql_for(int version, int pgss, bool installed, const char **why)
{
    struct server_caps c = {.version = version, .has_pgss = installed, .pgss_version = pgss};
    struct probe_opts o = {0};
    *why = NULL;
    return probe_table[PROBE_STATEMENTS]->sql(&c, &o, why);
}

static void test_sql_not_installed(void **state)
{
    (void)state;
    const char *why;
    assert_null(sql_for(150000, 0, false, &why));
    assert_non_null(why);
    assert_non_null(strstr(why, "pg_stat_statements is not installed"));
    assert_non_null(strstr(why, "shared_preload_libraries"));
    assert_non_null(strstr(why, "CREATE EXTENSION pg_stat_statements"));
}

static void test_sql_by_version(void **state)
{
    (void)state;
    const char *why;
    const char *q12 = sql_for(120000, 107, true, &why);
    assert_non_null(strstr(q12, "total_time AS t"));
    assert_null(strstr(q12, "pg_stat_statements_info"));
    assert_null(strstr(q12, "toplevel AS toplevel"));
    const char *q13 = sql_for(130000, 108, true, &why);
    assert_non_null(strstr(q13, "total_exec_time AS t"));
    assert_null(strstr(q13, "toplevel AS toplevel"));
    const char *q15 = sql_for(150000, 110, true, &why);
    assert_non_null(strstr(q15, "total_exec_time AS t"));
    assert_non_null(strstr(q15, "toplevel AS toplevel"));
    assert_non_null(strstr(q15, "pg_stat_statements_info"));
    /* the extension's version wins: a PG 14 server still on 1.7 has the old columns */
    assert_ptr_equal(sql_for(140000, 107, true, &why), q12);
    /* unknown extension version: the server's stands in */
    assert_ptr_equal(sql_for(170000, 0, true, &why), q15);
    assert_ptr_equal(sql_for(130000, 0, true, &why), q13);
    /* texts only for the top, cut (one more character tells a cut); our own are told by the
     * beginning of the texts of our role in our database, never by a comment (18 drops it) */
    assert_non_null(strstr(q15, "LIMIT 200"));
    assert_non_null(strstr(q15, "left(s.query, 1000 + 1)"));
    assert_non_null(strstr(q15, "userid = (SELECT oid FROM pg_roles WHERE rolname = current_user)"));
    assert_non_null(strstr(q15, "OR query LIKE '%/* pgfleet */%' AS maybe_own"));
    assert_non_null(strstr(q15, "CASE WHEN s.maybe_own THEN left(s.query, 200) END"));
    assert_int_equal(strncmp(q15, "WITH s AS", 9), 0); /* conn.c marks it when preparing */
}

/* The capability check reads the extension's version ("1.10" is 110, not 101). */
static void test_caps_pgss_version(void **state)
{
    (void)state;
    static const char *const names[] = {"version", "superuser", "has_pgss", "pgss_version", "current_user"};
    const char *const cases[][2] = {{"1.10", "110"}, {"1.9", "109"}, {"1.11", "111"}, {NULL, "0"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rowset *rs = rowset_new(5, names);
        const char *row[5] = {"150004", "f", cases[i][0] ? "t" : "f", cases[i][0], "u"};
        rowset_add_row(rs, row);
        struct server_caps c;
        memset(&c, 0, sizeof c);
        char err[200];
        assert_int_equal(probe_parse_caps(rs, &c, err, sizeof err), 0);
        assert_int_equal(c.pgss_version, atoi(cases[i][1]));
        caps_free(&c);
        rowset_free(rs);
    }
}

/* ---- parse ---- */

static void test_parse_pg12(void **state)
{
    (void)state;
    struct sample *s = parse("pgss_pg12_t1.rows");
    struct s_statements *st = sec(s);
    assert_true(fabs(st->epoch - 1700000000.0) < 1e-6);
    assert_null(st->stats_reset);
    assert_int_equal(st->n, 4);
    /* sorted by key */
    for (size_t i = 1; i < st->n; i++)
        assert_true(st->rows[i - 1].queryid < st->rows[i].queryid);
    const struct stmt_row *r = find(st, 300, true);
    assert_non_null(r);
    assert_string_equal(r->datname, "app");
    assert_string_equal(r->rolname, "alice");
    assert_int_equal(r->calls, 1000);
    assert_true(fabs(r->total_ms - 2000.0) < 1e-9);
    assert_true(fabs(r->max_ms - 9.0) < 1e-9);
    assert_int_equal(r->hit, 5000);
    assert_int_equal(r->read, 100);
    assert_string_equal(r->query, "SELECT * FROM orders WHERE id = $1");
    assert_false(r->query_cut);
    assert_null(find(st, 200, true)->query); /* not fetched */
    assert_int_equal(find(st, 200, true)->temp, 40);
    /* no rates on the first sample */
    assert_true(isnan(r->calls_s) && isnan(r->load_ms_s) && isnan(r->mean_ms));
    assert_false(st->derived);
    sample_free(s);
}

static void test_parse_hidden_entries_summed(void **state)
{
    (void)state;
    struct sample *s = parse("pgss_pg15_t1.rows");
    struct s_statements *st = sec(s);
    assert_string_equal(st->stats_reset, "2023-11-01 00:00:00+00");
    assert_int_equal(st->n, 4); /* 5 entries, two of them summed */
    const struct stmt_row *h = hidden(st);
    assert_non_null(h);
    assert_int_equal(h->merged, 2);
    assert_int_equal(h->calls, 15);
    assert_true(fabs(h->total_ms - 3000.0) < 1e-9);
    assert_true(fabs(h->max_ms - 900.0) < 1e-9); /* max of the maxima, not a sum */
    assert_string_equal(h->query, "<insufficient privilege>");
    /* top level and nested are two entries */
    assert_non_null(find(st, 7, true));
    assert_non_null(find(st, 7, false));
    assert_string_equal(find(st, 7, false)->query, "SELECT $1 FROM inner_t");
    /* signed 64-bit queryid */
    assert_non_null(find(st, -9223372036854775807LL, true));
    sample_free(s);
}

static void test_parse_cuts_long_text(void **state)
{
    (void)state;
    static const char *const names[] = {"epoch", "stats_reset", "queryid",   "toplevel", "datname", "rolname",
                                        "calls", "total_us",    "max_us",    "rows",     "hit",     "rd",
                                        "tmp",   "query",       "maybe_own", "head"};
    struct rowset *rs = rowset_new(16, names);
    const char *hdr[16] = {"1700000000", NULL};
    rowset_add_row(rs, hdr);
    /* 1001 characters, the first 3 of them two bytes each: cut at 1000 characters */
    char *q = xmalloc(1100);
    strcpy(q, "\xc3\xa9\xc3\xa9\xc3\xa9");
    memset(q + 6, 'x', 998);
    q[1004] = '\0';
    const char *row[16] = {NULL, NULL, "1", "t", "d", "u", "1", "1", "1", "1", "1", "1", "0", q};
    rowset_add_row(rs, row);
    const char *row2[16] = {NULL, NULL, "2", "t", "d", "u", "1", "1", "1", "1", "1", "1", "0", "short"};
    rowset_add_row(rs, row2);
    struct sample *s = parse_rs(rs);
    const struct stmt_row *r = find(sec(s), 1, true);
    assert_true(r->query_cut);
    assert_int_equal(strlen(r->query), 1003); /* 3 x 2 bytes + 997 x 1 byte = 1000 characters */
    assert_false(find(sec(s), 2, true)->query_cut);
    free(q);
    sample_free(s);
}

static void test_parse_errors(void **state)
{
    (void)state;
    char err[300] = "";
    struct sample *s = sample_new();
    struct rowset *rs = fixture_rows("pgss_missing_column.rows");
    assert_int_equal(probe_table[PROBE_STATEMENTS]->parse(rs, s, err, sizeof err), -1);
    assert_non_null(strstr(err, "max_us"));
    rowset_free(rs);
    rs = fixture_rows("pgss_no_header.rows");
    assert_int_equal(probe_table[PROBE_STATEMENTS]->parse(rs, s, err, sizeof err), -1);
    assert_non_null(strstr(err, "clock"));
    assert_null(s->sec[PROBE_STATEMENTS]);
    rowset_free(rs);
    sample_free(s);
}

static void test_parse_empty(void **state)
{
    (void)state;
    struct sample *a = parse("pgss_empty.rows"), *b = parse("pgss_empty.rows");
    sec(b)->epoch += 5;
    assert_int_equal(sec(a)->n, 0);
    derive(a, b);
    assert_true(sec(b)->derived);
    assert_int_equal(sec(b)->ntop, 0);
    sample_free(a);
    sample_free(b);
}

/* ---- derive ---- */

static void test_derive_pg12(void **state)
{
    (void)state;
    struct sample *a = parse("pgss_pg12_t1.rows"), *b = parse("pgss_pg12_t2.rows");
    derive(a, b);
    struct s_statements *st = sec(b);
    assert_true(st->derived);
    assert_false(st->reset);
    assert_true(fabs(st->dt - 10.0) < 1e-9);
    const struct stmt_row *r = find(st, 300, true);
    assert_true(fabs(r->calls_s - 50.0) < 1e-9);    /* 500 calls / 10 s */
    assert_true(fabs(r->load_ms_s - 100.0) < 1e-9); /* 1000 ms / 10 s */
    assert_true(fabs(r->mean_ms - 2.0) < 1e-9);     /* 1000 ms / 500 calls */
    assert_true(fabs(r->rows_s - 50.0) < 1e-9);
    assert_true(fabs(r->hit_s - 200.0) < 1e-9);
    assert_true(fabs(r->read_s - 50.0) < 1e-9);
    assert_true(fabs(r->hit_pct - 80.0) < 1e-9); /* 2000 hit, 500 read */
    /* its text was not sent this time: carried from the previous sample */
    assert_string_equal(r->query, "SELECT * FROM orders WHERE id = $1");
    /* idle over the interval: zero rates, no mean, not listed */
    const struct stmt_row *idle = find(st, 100, true);
    assert_true(idle->calls_s == 0 && idle->load_ms_s == 0);
    assert_true(isnan(idle->mean_ms));
    /* temp blocks */
    const struct stmt_row *t = find(st, 200, true);
    assert_true(fabs(t->temp_s - 2.0) < 1e-9);
    assert_true(fabs(t->mean_ms - 10.0) < 1e-9);
    assert_null(t->query); /* never had a text */
    /* evicted and re-created: counters went down, n/a */
    const struct stmt_row *ev = find(st, 400, true);
    assert_true(isnan(ev->calls_s) && isnan(ev->load_ms_s));
    /* new in the interval: all of it counts */
    const struct stmt_row *nw = find(st, 500, true);
    assert_true(fabs(nw->calls_s - 2.0) < 1e-9);
    assert_true(fabs(nw->load_ms_s - 40.0) < 1e-9);
    assert_true(fabs(nw->mean_ms - 20.0) < 1e-9);
    /* busiest first: 300 (100 ms/s), 500 (40), 200 (5); idle and n/a ones are not listed */
    assert_int_equal(st->ntop, 3);
    assert_int_equal(st->rows[st->top[0]].queryid, 300);
    assert_int_equal(st->rows[st->top[1]].queryid, 500);
    assert_int_equal(st->rows[st->top[2]].queryid, 200);
    sample_free(a);
    sample_free(b);
}

static void test_derive_pg15_hidden_and_carry(void **state)
{
    (void)state;
    struct sample *a = parse("pgss_pg15_t1.rows"), *b = parse("pgss_pg15_t2.rows");
    derive(a, b);
    struct s_statements *st = sec(b);
    assert_true(fabs(st->dt - 2.0) < 1e-9);
    const struct stmt_row *h = hidden(st);
    assert_true(fabs(h->calls_s - 1.5) < 1e-9);     /* 3 calls / 2 s */
    assert_true(fabs(h->load_ms_s - 250.0) < 1e-9); /* 500 ms / 2 s */
    const struct stmt_row *neg = find(st, -9223372036854775807LL, true);
    assert_string_equal(neg->query, "SELECT min_id()");
    assert_true(fabs(neg->hit_pct - 0.0) < 1e-9);
    const struct stmt_row *nested = find(st, 7, false);
    assert_true(nested->load_ms_s == 0);
    assert_int_equal(st->ntop, 3);
    /* 250 ms/s (hidden), then 50 ms/s (7 top level), then 1 ms/s */
    assert_false(st->rows[st->top[0]].has_queryid);
    assert_int_equal(st->rows[st->top[1]].queryid, 7);
    sample_free(a);
    sample_free(b);
}

static void test_derive_reset(void **state)
{
    (void)state;
    struct sample *a = parse("pgss_pg16_t1.rows"), *b = parse("pgss_pg16_reset.rows");
    derive(a, b);
    struct s_statements *st = sec(b);
    assert_true(st->derived);
    assert_true(st->reset);
    assert_int_equal(st->ntop, 0);
    assert_true(isnan(find(st, 11, true)->calls_s));
    /* the next interval has rates again */
    struct sample *c = parse("pgss_pg16_reset.rows");
    sec(c)->epoch += 5;
    derive(b, c);
    assert_false(sec(c)->reset);
    assert_true(find(sec(c), 11, true)->calls_s == 0);
    sample_free(a);
    sample_free(b);
    sample_free(c);
}

static void test_derive_no_prev_or_clock(void **state)
{
    (void)state;
    struct sample *a = parse("pgss_pg16_t1.rows"), *b = parse("pgss_pg16_t1.rows");
    derive(NULL, b);
    assert_false(sec(b)->derived);
    derive(a, b); /* same clock: no interval, no rates */
    assert_true(sec(b)->derived);
    assert_int_equal(sec(b)->ntop, 0);
    assert_true(isnan(sec(b)->dt));
    struct sample *empty = sample_new();
    derive(a, empty); /* the statement failed this tick: nothing to do */
    sample_free(empty);
    sample_free(a);
    sample_free(b);
}

/* Many busy entries without text: only STMT_CARRY_MAX of them (busiest) keep one. */
static void test_derive_carry_bounded(void **state)
{
    (void)state;
    static const char *const names[] = {"epoch", "stats_reset", "queryid",   "toplevel", "datname", "rolname",
                                        "calls", "total_us",    "max_us",    "rows",     "hit",     "rd",
                                        "tmp",   "query",       "maybe_own", "head"};
    struct rowset *r1 = rowset_new(16, names), *r2 = rowset_new(16, names);
    const char *h1[16] = {"100", NULL}, *h2[16] = {"110", NULL};
    rowset_add_row(r1, h1);
    rowset_add_row(r2, h2);
    int n = STMT_CARRY_MAX + 100;
    for (int i = 1; i <= n; i++) {
        char id[16], t2[32];
        snprintf(id, sizeof id, "%d", i);
        snprintf(t2, sizeof t2, "%d", 1000 + i * 10); /* busier with i */
        const char *a[16] = {NULL, NULL, id, "t", "d", "u", "1", "1000", "1", "1", "1", "1", "0", "SELECT text"};
        const char *b[16] = {NULL, NULL, id, "t", "d", "u", "2", t2, "1", "1", "1", "1", "0", NULL};
        rowset_add_row(r1, a);
        rowset_add_row(r2, b);
    }
    struct sample *a = parse_rs(r1), *b = parse_rs(r2);
    derive(a, b);
    struct s_statements *st = sec(b);
    assert_int_equal(st->ntop, (size_t)n);
    int with_text = 0;
    for (size_t i = 0; i < st->n; i++)
        with_text += st->rows[i].query != NULL;
    assert_int_equal(with_text, STMT_CARRY_MAX);
    assert_non_null(st->rows[st->top[0]].query);        /* the busiest keeps it */
    assert_null(st->rows[st->top[st->ntop - 1]].query); /* the least busy does not */
    sample_free(a);
    sample_free(b);
}

/* ---- statements_unavailable ---- */

static void test_unavailable(void **state)
{
    (void)state;
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct model m;
    memset(&m, 0, sizeof m);
    m.cfg = &cfg;
    struct server s;
    memset(&s, 0, sizeof s);
    s.kind = KIND_POSTGRES;
    s.status = SRV_UP;
    assert_string_equal(statements_unavailable(&m, &s), "connecting");
    s.caps.version = 150000;
    assert_non_null(strstr(statements_unavailable(&m, &s), "is not installed"));
    s.caps.has_pgss = true;
    assert_string_equal(statements_unavailable(&m, &s), "collecting (two samples needed)");
    s.cur = sample_new();
    s.cur->err[PROBE_STATEMENTS] = xstrdup("pg_stat_statements must be loaded via shared_preload_libraries");
    assert_non_null(strstr(statements_unavailable(&m, &s), "shared_preload_libraries"));
    free(s.cur->err[PROBE_STATEMENTS]);
    s.cur->err[PROBE_STATEMENTS] = NULL;
    sample_free(s.cur);
    struct sample *a = parse("pgss_pg16_t1.rows");
    s.cur = parse("pgss_pg16_t1.rows");
    assert_string_equal(statements_unavailable(&m, &s), "collecting (two samples needed)");
    sec(s.cur)->epoch += 5;
    derive(a, s.cur);
    assert_null(statements_unavailable(&m, &s));
    sample_free(s.cur);
    s.cur = parse("pgss_pg16_reset.rows");
    derive(a, s.cur);
    assert_non_null(strstr(statements_unavailable(&m, &s), "reset"));
    sample_free(s.cur);
    sample_free(a);
    s.kind = KIND_PGBOUNCER;
    assert_non_null(statements_unavailable(&m, &s));
}

/* ---- our own statements ---- */

static const char *const own_cols[] = {"epoch", "stats_reset", "queryid",   "toplevel", "datname", "rolname",
                                       "calls", "total_us",    "max_us",    "rows",     "hit",     "rd",
                                       "tmp",   "query",       "maybe_own", "head"};

/* A row of entry ID of ROLE; one that may be ours (of our role, or with conn.c's mark) comes
 * with the first 200 characters of its text as head; the text itself as for a top entry. */
static void add_entry(struct rowset *rs, long long id, const char *role, bool maybe_own, const char *text,
                      bool with_query)
{
    char qid[24], head[OWN_HEAD_CHARS * 4 + 1] = "";
    snprintf(qid, sizeof qid, "%lld", id);
    size_t chars = 0, i = 0;
    for (; text[i] && !(((unsigned char)text[i] & 0xc0) != 0x80 && chars++ == OWN_HEAD_CHARS); i++)
        ;
    memcpy(head, text, i);
    head[i] = '\0';
    const char *row[16] = {NULL,
                           NULL,
                           qid,
                           "t",
                           "labdb",
                           role,
                           "5",
                           "500",
                           "100",
                           "5",
                           "5",
                           "0",
                           "0",
                           with_query ? text : NULL,
                           maybe_own ? "t" : "f",
                           maybe_own ? head : NULL};
    rowset_add_row(rs, row);
}

/* PostgreSQL 18 (the leading comment gone) and 12 (kept): our real statements as the server
 * stored them leave the list, of our role or marked as pgfleet's by another role; a statement of
 * our role that is not ours stays, and so does one of another role with exactly the text of ours
 * but not the mark (the probe's SQL did not find it may be ours). */
static void check_drop_own(const char *fixture)
{
    char *text = fixture_text(fixture);
    const char *sent[64];
    char *stored[64];
    size_t n = 0;
    for (char *line = strtok(text, "\n"); line && n < 64; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        *tab = '\0';
        sent[n] = line;
        stored[n++] = tab + 1;
    }
    struct rowset *rs = rowset_new(16, own_cols);
    const char *hdr[16] = {"1700000000", NULL};
    rowset_add_row(rs, hdr);
    for (size_t i = 0; i < n; i++)
        add_entry(rs, 1000 + (long long)i, "mx_monitor", true, stored[i], i % 2 == 0);
    add_entry(rs, 999, "other_monitor", true, stored[1], true);
    add_entry(rs, 1, "mx_monitor", true, "SELECT /* mx-same-role */ count(*) FROM ledger WHERE v >= $1", true);
    add_entry(rs, 2, "app", false, stored[0], true);
    /* whole (under 200 characters) but only the beginning of one of ours: not ours */
    char part[120];
    snprintf(part, sizeof part, "%.100s", stored[0]);
    add_entry(rs, 3, "mx_monitor", true, part, true);
    struct sample *s = parse_rs(rs);
    struct s_statements *st = sec(s);
    assert_int_equal(st->n, n + 4);
    statements_drop_own(st, sent, n);
    assert_int_equal(st->n, 3);
    assert_non_null(find(st, 1, true));
    assert_non_null(find(st, 2, true));
    assert_non_null(find(st, 3, true));
    for (size_t i = 0; i < st->n; i++)
        assert_null(st->rows[i].head); /* only needed to tell */
    sample_free(s);
    free(text);
}

static void test_drop_own_18(void **state)
{
    (void)state;
    check_drop_own("pgss_own_pg18.tsv");
}

static void test_drop_own_12(void **state)
{
    (void)state;
    check_drop_own("pgss_own_pg12.tsv");
}

/* The probe's refine step tells ours by every text pgfleet sends to a server of this version
 * (probe_texts): each probe's SQL with any privileges, the sessions probe's with and without idle
 * sessions, the setup statement. */
static void test_refine_uses_every_text(void **state)
{
    (void)state;
    struct server_caps caps = {
        .version = 180004, .has_pgss = true, .pgss_version = 112, .pg_monitor = true, .has_stat_io = true};
    const char *texts[PROBE_TEXTS_MAX];
    size_t nt = probe_texts(&caps, texts, ARRAY_LEN(texts));
    struct server_caps plain = caps; /* another pgfleet's role, without pg_monitor */
    plain.pg_monitor = false;
    struct probe_opts busy = {.idle = false}, all = {.idle = true};
    const char *why;
    const char *want[] = {probe_caps_sql(caps.version),
                          probe_table[PROBE_SERVER]->sql(&caps, &busy, &why),
                          probe_table[PROBE_SESSIONS]->sql(&caps, &busy, &why),
                          probe_table[PROBE_SESSIONS]->sql(&caps, &all, &why),
                          probe_table[PROBE_STATEMENTS]->sql(&caps, &busy, &why),
                          probe_table[PROBE_FLUSH]->sql(&caps, &busy, &why),
                          probe_table[PROBE_SESSIONS]->sql(&plain, &busy, &why),
                          probe_table[PROBE_REPLICATION]->sql(&plain, &busy, &why),
                          probe_table[PROBE_REPLICATION]->sql(&caps, &busy, &why)};
    for (size_t k = 0; k < ARRAY_LEN(want); k++) {
        bool found = false;
        for (size_t i = 0; i < nt; i++)
            found = found || texts[i] == want[k];
        assert_true(found);
    }
    for (size_t i = 0; i < nt; i++) /* each once */
        for (size_t k = i + 1; k < nt; k++)
            assert_string_not_equal(texts[i], texts[k]);
    struct rowset *rs = rowset_new(16, own_cols);
    const char *hdr[16] = {"1700000000", NULL};
    rowset_add_row(rs, hdr);
    for (size_t k = 0; k < ARRAY_LEN(want); k++)
        add_entry(rs, 100 + (long long)k, "mx_monitor", true, want[k], false);
    /* the transaction-local settings in front of a statement, as PostgreSQL 18 stores them */
    add_entry(rs, 200, "mx_monitor", true, "SELECT /* pgfleet */ set_config($1, $2, $3)", false);
    add_entry(rs, 201, "mx_monitor", true,
              "SELECT /* pgfleet */ set_config($1, $2, $3), set_config($4, $5, $6), set_config($7, $8, $9)", false);
    add_entry(rs, 1, "mx_monitor", true, "SELECT 1", true);
    struct sample *s = parse_rs(rs);
    probe_table[PROBE_STATEMENTS]->refine(s, &caps);
    assert_int_equal(sec(s)->n, 1);
    assert_non_null(find(sec(s), 1, true));
    sample_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sql_not_installed),
        cmocka_unit_test(test_sql_by_version),
        cmocka_unit_test(test_caps_pgss_version),
        cmocka_unit_test(test_parse_pg12),
        cmocka_unit_test(test_parse_hidden_entries_summed),
        cmocka_unit_test(test_parse_cuts_long_text),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_empty),
        cmocka_unit_test(test_derive_pg12),
        cmocka_unit_test(test_derive_pg15_hidden_and_carry),
        cmocka_unit_test(test_derive_reset),
        cmocka_unit_test(test_derive_no_prev_or_clock),
        cmocka_unit_test(test_derive_carry_bounded),
        cmocka_unit_test(test_unavailable),
        cmocka_unit_test(test_drop_own_18),
        cmocka_unit_test(test_drop_own_12),
        cmocka_unit_test(test_refine_uses_every_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
