/* test_progress.c — unit tests for the progress probe (probes/probe_progress.c): the UNION ALL
 * statement per server version (which pg_stat_progress_* views it reads), parsing with the
 * percentage (unknown and zero totals, done past total), the speed and phase ETA over the
 * interval (same command and phase only), progress_count and the one-line description the
 * Activity pane's detail shows. Fixtures: tests/data/probes/progress_*.rows. */
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
#include "probes/sec_progress.h"
#include "testutil.h"

static struct sample *parse(const char *name) { return fixture_parse(NULL, PROBE_PROGRESS, name); }

static const struct progress_row *by_pid(const struct sample *s, int pid)
{
    const struct s_progress *p = SAMPLE_PROGRESS(s);
    for (size_t i = 0; p && i < p->n; i++)
        if (p->rows[i].pid == pid)
            return &p->rows[i];
    return NULL;
}

static const char *sql_for(int version)
{
    struct server_caps c = {.version = version};
    struct probe_opts o = {0};
    const char *why = NULL;
    const char *q = probe_table[PROBE_PROGRESS]->sql(&c, &o, &why);
    assert_non_null(q);
    return q;
}

static void test_sql_by_version(void **state)
{
    (void)state;
    const char *q12 = sql_for(120000);
    assert_non_null(strstr(q12, "pg_stat_progress_vacuum"));
    assert_non_null(strstr(q12, "pg_stat_progress_create_index"));
    assert_non_null(strstr(q12, "pg_stat_progress_cluster"));
    assert_null(strstr(q12, "pg_stat_progress_analyze"));
    assert_null(strstr(q12, "pg_stat_progress_basebackup"));
    assert_null(strstr(q12, "pg_stat_progress_copy"));
    assert_null(strstr(q12, "indexes_processed"));
    const char *q13 = sql_for(130000);
    assert_non_null(strstr(q13, "pg_stat_progress_analyze"));
    assert_non_null(strstr(q13, "pg_stat_progress_basebackup"));
    assert_null(strstr(q13, "pg_stat_progress_copy"));
    const char *q15 = sql_for(150000);
    assert_non_null(strstr(q15, "pg_stat_progress_copy"));
    assert_null(strstr(q15, "indexes_processed"));
    assert_ptr_equal(sql_for(160000), q15);
    const char *q17 = sql_for(170000);
    assert_non_null(strstr(q17, "indexes_processed"));
    assert_non_null(strstr(q17, "pg_stat_progress_copy"));
    /* never ourselves; relations of other databases are not looked up in ours */
    assert_non_null(strstr(q15, "pid <> pg_backend_pid()"));
    assert_non_null(strstr(q15, "current_database()"));
}

static void test_parse_pg12(void **state)
{
    (void)state;
    struct sample *s = parse("progress_pg12.rows");
    const struct s_progress *p = SAMPLE_PROGRESS(s);
    assert_int_equal(p->n, 4);
    assert_true(fabs(p->epoch - 1700000000) < 1e-6);
    const struct progress_row *v = by_pid(s, 101);
    assert_string_equal(v->command, "VACUUM");
    assert_string_equal(v->phase, "scanning heap");
    assert_string_equal(v->relation, "public.orders");
    assert_string_equal(v->datname, "app");
    assert_string_equal(v->unit, "blocks");
    assert_true(fabs(v->pct - 25.0) < 1e-9);
    assert_true(isnan(v->rate) && isnan(v->eta_s));
    assert_true(fabs(by_pid(s, 102)->pct - 100.0 / 3) < 1e-9);
    assert_true(isnan(by_pid(s, 103)->pct)); /* no total */
    assert_true(isnan(by_pid(s, 104)->pct)); /* a total of 0 is not known yet */
    assert_string_equal(by_pid(s, 104)->relation, "#16390");
    sample_free(s);
}

static void test_parse_noprivs_and_cap(void **state)
{
    (void)state;
    struct sample *s = parse("progress_pg16_noprivs.rows");
    const struct progress_row *r = by_pid(s, 301);
    assert_null(r->phase);
    assert_true(isnan(r->done) && isnan(r->pct));
    assert_true(fabs(by_pid(s, 302)->pct - 100.0) < 1e-9);
    char buf[300];
    progress_row_describe(r, buf, sizeof buf);
    assert_non_null(strstr(buf, "VACUUM"));
    assert_non_null(strstr(buf, "pg_read_all_stats"));
    sample_free(s);
}

static void test_parse_empty_and_error(void **state)
{
    (void)state;
    struct sample *s = parse("progress_empty.rows");
    assert_int_equal(SAMPLE_PROGRESS(s)->n, 0);
    sample_free(s);
    static const char *const names[] = {"pid", "command"};
    struct rowset *rs = rowset_new(2, names);
    struct sample *t = sample_new();
    char err[200] = "";
    assert_int_equal(probe_table[PROBE_PROGRESS]->parse(rs, t, err, sizeof err), -1);
    assert_non_null(strstr(err, "epoch"));
    rowset_free(rs);
    sample_free(t);
}

static void test_derive_rates(void **state)
{
    (void)state;
    struct sample *a = parse("progress_pg15_t1.rows"), *b = parse("progress_pg15_t2.rows");
    probe_table[PROBE_PROGRESS]->derive(a, b);
    const struct progress_row *v = by_pid(b, 201);
    assert_true(fabs(v->rate - 50.0) < 1e-9);
    assert_true(fabs(v->eta_s - 5.0) < 1e-9);
    assert_true(fabs(v->pct - 75.0) < 1e-9);
    const struct progress_row *ci = by_pid(b, 202); /* new phase: no speed yet */
    assert_true(isnan(ci->rate) && isnan(ci->eta_s));
    assert_string_equal(ci->unit, "tuples");
    const struct progress_row *cp = by_pid(b, 203); /* no total: speed, no ETA */
    assert_true(fabs(cp->rate - 2000.0) < 1e-9);
    assert_true(isnan(cp->eta_s));
    const struct progress_row *bb = by_pid(b, 204);
    assert_true(fabs(bb->rate - 107374182.4) < 1e-3);
    assert_true(fabs(bb->eta_s - 20.0) < 1e-9);
    assert_null(bb->relation);
    const struct progress_row *re = by_pid(b, 205); /* reused pid, other command */
    assert_true(isnan(re->rate));
    /* described for the Activity pane's detail */
    char buf[300];
    assert_true(progress_row_describe(v, buf, sizeof buf) > 0);
    assert_string_equal(buf,
                        "VACUUM, scanning heap, public.orders, 750/1.0k blocks (75.0%), 50 blocks/s, phase ETA 5.0s");
    progress_row_describe(bb, buf, sizeof buf);
    assert_string_equal(buf, "BASE BACKUP, streaming database files, 2.0GB/4.0GB (50.0%), 102MB/s, phase ETA 20s");
    progress_row_describe(cp, buf, sizeof buf);
    assert_string_equal(buf, "COPY FROM, PIPE, public.imports, 21k tuples, 2.0k tuples/s");
    /* no previous sample or no interval: nothing derived, nothing breaks */
    probe_table[PROBE_PROGRESS]->derive(NULL, b);
    probe_table[PROBE_PROGRESS]->derive(b, b);
    sample_free(a);
    sample_free(b);
}

static void test_count_and_describe(void **state)
{
    (void)state;
    struct server s;
    memset(&s, 0, sizeof s);
    s.kind = KIND_POSTGRES;
    s.status = SRV_UP;
    char buf[300];
    assert_int_equal(progress_count(&s), 0);
    assert_int_equal(progress_describe(&s, 201, buf, sizeof buf), 0);
    s.cur = parse("progress_pg15_t1.rows");
    assert_int_equal(progress_count(&s), 5);
    assert_true(progress_describe(&s, 202, buf, sizeof buf) > 0);
    assert_non_null(
        strstr(buf, "CREATE INDEX CONCURRENTLY, building index: scanning table, public.big, 100/400 blocks (25.0%)"));
    assert_int_equal(progress_describe(&s, 999, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    /* a small buffer is cut, not overrun */
    char small[10];
    assert_int_equal(progress_describe(&s, 202, small, sizeof small), 9);
    s.status = SRV_DOWN; /* what we last knew is not "now" */
    assert_int_equal(progress_count(&s), 0);
    sample_free(s.cur);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sql_by_version),        cmocka_unit_test(test_parse_pg12),
        cmocka_unit_test(test_parse_noprivs_and_cap), cmocka_unit_test(test_parse_empty_and_error),
        cmocka_unit_test(test_derive_rates),          cmocka_unit_test(test_count_and_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
