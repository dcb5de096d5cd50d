/* test_lock_tree.c — unit tests for the lock forest builder (probes/lock_tree.c): chains, fans,
 * diamonds, roots ordered by what they block, cycles and self loops (no hang, reported),
 * blockers without a row, duplicates, 10 000 sessions in every shape; the DDL recogniser; the
 * locks probe's SQL choice and its parse of PostgreSQL 12 and 15 fixtures; and the Locks pane's
 * snapshot forms (lock_tree JSON, the indented text listing with server text escaped). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rowset.h"
#include "core/util.h"
#include "probes/lock_tree.h"
#include "probes/model.h"
#include "probes/sec_locks.h"
#include "probes/snapjson.h"
#include "testutil.h"
#include "tui/screen.h"
#include "tui/sections.h"
#include "tui/view_locks.h"

/* ---- helpers ---- */

#define MAXB 8
struct spec {
    int pid;
    int b[MAXB]; /* blockers, ended by 0 … except that pid 0 is a real blocker: use -1 to end */
    double wait, age;
};

/* Inputs from specs; blockers end at the first -1 (0 is a valid pid: a prepared transaction). */
static struct lt_input *inputs(const struct spec *s, size_t n)
{
    struct lt_input *in = xcalloc(n + 1, sizeof *in);
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < MAXB && s[i].b[k] != -1)
            k++;
        in[i] = (struct lt_input){s[i].pid, s[i].b, k, s[i].wait, s[i].age};
    }
    return in;
}

static void build(const struct spec *s, size_t n, struct lock_forest *f)
{
    struct lt_input *in = inputs(s, n);
    lock_forest_build(in, n, f);
    free(in);
}

#define E -1 /* end of a blocker list */
#define NOB \
    {       \
        E   \
    }

/* "pid@depth pid@depth …" of the forest, to compare whole shapes at once. */
static char *shape(const struct lock_forest *f)
{
    struct text t;
    text_init(&t);
    for (size_t i = 0; i < f->nitems; i++)
        text_printf(&t, "%s%d@%u", i ? " " : "", f->items[i].pid, f->items[i].depth);
    if (!t.s)
        text_add(&t, "");
    return t.s;
}

static void assert_shape(const struct lock_forest *f, const char *want)
{
    char *got = shape(f);
    if (strcmp(got, want) != 0) {
        print_error("shape: got  '%s'\n       want '%s'\n", got, want);
        free(got);
        fail();
    }
    free(got);
}

static const struct lt_item *item_of(const struct lock_forest *f, int pid)
{
    size_t i = lock_forest_find(f, pid);
    assert_true(i != LT_NONE);
    return &f->items[i];
}

/* ---- builder ---- */

static void test_empty(void **state)
{
    (void)state;
    struct lock_forest f;
    lock_forest_build(NULL, 0, &f);
    assert_int_equal(f.nitems, 0);
    assert_int_equal(f.nroots, 0);
    lock_forest_free(&f);
    /* a waiter whose blockers went away before pg_blocking_pids ran is no part of any tree */
    struct spec s[] = {{10, NOB, 1, 1}};
    build(s, 1, &f);
    assert_int_equal(f.nitems, 0);
    assert_int_equal(f.nwaiting, 0);
    lock_forest_free(&f);
}

static void test_chain(void **state)
{
    (void)state;
    /* given out of order: the builder must not rely on the probe's row order */
    struct spec s[] = {
        {4, {3, E}, 1, 4},
        {2, {1, E}, 3, 6},
        {1, NOB, NAN, 100},
        {3, {2, E}, 2, 5},
    };
    struct lock_forest f;
    build(s, 4, &f);
    assert_shape(&f, "1@0 2@1 3@2 4@3");
    assert_int_equal(f.nroots, 1);
    assert_int_equal(f.nwaiting, 3);
    assert_int_equal(f.ncycles, 0);
    assert_int_equal(f.items[0].blocked, 3);
    assert_int_equal(f.items[0].subtree, 3);
    assert_int_equal(f.items[1].subtree, 2);
    assert_int_equal(f.items[3].subtree, 0);
    assert_true(f.items[3].last);
    assert_int_equal(lock_forest_parent_pid(&f, 0), -1);
    assert_int_equal(lock_forest_parent_pid(&f, 2), 2);
    assert_true(f.items[0].node != LT_NONE && f.items[0].pid == s[f.items[0].node].pid);
    lock_forest_free(&f);
}

static void test_fan_ordered_by_wait(void **state)
{
    (void)state;
    struct spec s[] = {
        {1, NOB, NAN, 50}, {2, {1, E}, 5, 5},     {3, {1, E}, 10, 10},
        {4, {1, E}, 1, 1}, {5, {1, E}, NAN, NAN}, {6, {1, E}, 5, 5},
    };
    struct lock_forest f;
    build(s, 6, &f);
    /* longest wait first; equal waits by pid; unknown waits last */
    assert_shape(&f, "1@0 3@1 2@1 6@1 4@1 5@1");
    assert_int_equal(f.items[0].nchildren, 5);
    assert_int_equal(f.items[0].blocked, 5);
    for (size_t i = 1; i < 5; i++)
        assert_false(f.items[i].last);
    assert_true(f.items[5].last);
    assert_true(f.items[0].last); /* a root stands alone */
    lock_forest_free(&f);
}

static void test_diamond(void **state)
{
    (void)state;
    /* A blocks B and C; D waits for both: under its first blocker (C), also blocked by B */
    struct spec s[] = {{1, NOB, NAN, 9}, {2, {1, E}, 8, 8}, {3, {1, E}, 7, 7}, {4, {3, 2, E}, 1, 1}};
    struct lock_forest f;
    build(s, 4, &f);
    assert_shape(&f, "1@0 2@1 3@1 4@2");
    assert_int_equal(lock_forest_parent_pid(&f, lock_forest_find(&f, 4)), 3);
    assert_int_equal(f.items[0].blocked, 3); /* D counted once */
    assert_int_equal(item_of(&f, 3)->subtree, 1);
    assert_int_equal(item_of(&f, 2)->subtree, 0);
    lock_forest_free(&f);
}

static void test_roots_by_blocked_count(void **state)
{
    (void)state;
    /* root 10 blocks one session directly; root 20 blocks three through a chain; root 30
     * blocks nobody under itself but is the second blocker of 21 and so of 22 and 23 too */
    struct spec s[] = {
        {10, NOB, NAN, 500}, {11, {10, E}, 1, 1}, {20, NOB, NAN, 5}, {21, {20, 30, E}, 3, 3},
        {22, {21, E}, 2, 2}, {23, {22, E}, 1, 1}, {30, NOB, NAN, 1},
    };
    struct lock_forest f;
    build(s, 7, &f);
    assert_shape(&f, "20@0 21@1 22@2 23@3 30@0 10@0 11@1");
    assert_int_equal(f.nroots, 3);
    assert_int_equal(f.items[f.roots[0]].pid, 20);
    assert_int_equal(item_of(&f, 20)->blocked, 3);
    assert_int_equal(item_of(&f, 30)->blocked, 3); /* transitively, though shown under 20 */
    assert_int_equal(item_of(&f, 30)->subtree, 0);
    assert_int_equal(item_of(&f, 10)->blocked, 1);
    lock_forest_free(&f);

    /* equal counts: the older transaction first, then the lower pid */
    struct spec t[] = {{1, NOB, NAN, 5},   {2, {1, E}, 1, 1}, {3, NOB, NAN, 50},  {4, {3, E}, 1, 1},
                       {5, NOB, NAN, NAN}, {6, {5, E}, 1, 1}, {0, NOB, NAN, NAN}, {7, {0, E}, 1, 1}};
    build(t, 8, &f);
    assert_shape(&f, "3@0 4@1 1@0 2@1 0@0 7@1 5@0 6@1");
    lock_forest_free(&f);
}

static void test_cycle(void **state)
{
    (void)state;
    /* 1 and 2 wait for each other (a deadlock before the detector runs); 3 waits behind 1 */
    struct spec s[] = {{1, {2, E}, 4, 4}, {2, {1, E}, 9, 9}, {3, {1, E}, 1, 1}};
    struct lock_forest f;
    build(s, 3, &f);
    assert_int_equal(f.ncycles, 1);
    assert_int_equal(f.nitems, 3);
    assert_int_equal(f.nroots, 1);
    /* cut at the member that waited longest: 2 stands at the top */
    assert_shape(&f, "2@0 1@1 3@2");
    assert_true(item_of(&f, 1)->in_cycle);
    assert_true(item_of(&f, 2)->in_cycle);
    assert_false(item_of(&f, 3)->in_cycle);
    assert_int_equal(item_of(&f, 2)->blocked, 2);
    lock_forest_free(&f);

    /* a cycle that the first-blocker links do not show: 1 hangs under root 9 but also waits
     * for 2, which waits for 1; it is still reported */
    struct spec t[] = {{9, NOB, NAN, 1}, {1, {9, 2, E}, 3, 3}, {2, {1, E}, 2, 2}};
    build(t, 3, &f);
    assert_shape(&f, "9@0 1@1 2@2");
    assert_int_equal(f.ncycles, 1);
    assert_true(item_of(&f, 1)->in_cycle && item_of(&f, 2)->in_cycle);
    assert_false(item_of(&f, 9)->in_cycle);
    lock_forest_free(&f);

    /* two separate cycles of three, equal waits: the lower pid is cut */
    struct spec u[] = {{1, {2, E}, 1, 1}, {2, {3, E}, 1, 1}, {3, {1, E}, 1, 1},
                       {7, {8, E}, 1, 1}, {8, {9, E}, 1, 1}, {9, {7, E}, 1, 1}};
    build(u, 6, &f);
    assert_int_equal(f.ncycles, 2);
    assert_int_equal(f.nroots, 2);
    assert_shape(&f, "1@0 3@1 2@2 7@0 9@1 8@2");
    lock_forest_free(&f);
}

static void test_self_loop(void **state)
{
    (void)state;
    struct spec s[] = {{5, {5, E}, 2, 2}, {6, {6, 5, E}, 1, 1}};
    struct lock_forest f;
    build(s, 2, &f);
    assert_int_equal(f.ncycles, 2);
    assert_shape(&f, "5@0 6@1");
    assert_true(f.items[0].in_cycle);
    assert_int_equal(lock_forest_parent_pid(&f, 1), 5);
    lock_forest_free(&f);
}

static void test_missing_blockers(void **state)
{
    (void)state;
    /* 777 ended before its row was read; 0 is a prepared transaction; both become roots */
    struct spec s[] = {{1, {777, E}, 3, 3}, {2, {777, 0, E}, 2, 2}, {3, {0, E}, 1, 1}};
    struct lock_forest f;
    build(s, 3, &f);
    assert_int_equal(f.nmissing, 2);
    assert_int_equal(f.missing[0], 0);
    assert_int_equal(f.missing[1], 777);
    /* both block two sessions (0 blocks 2 as its second blocker): the lower pid first */
    assert_shape(&f, "0@0 3@1 777@0 1@1 2@1");
    assert_true(f.items[0].node == LT_NONE);
    assert_int_equal(item_of(&f, 0)->blocked, 2);
    assert_int_equal(item_of(&f, 0)->subtree, 1);
    assert_int_equal(item_of(&f, 1)->node, 0);
    lock_forest_free(&f);
}

static void test_duplicates(void **state)
{
    (void)state;
    /* a pid twice (the first row counts), a blocker listed twice */
    struct spec s[] = {{1, NOB, NAN, 1}, {2, {1, 1, E}, 2, 2}, {2, {3, E}, 9, 9}, {3, {1, E}, 1, 1}};
    struct lock_forest f;
    build(s, 4, &f);
    assert_shape(&f, "1@0 2@1 3@1");
    assert_int_equal(f.nwaiting, 2);
    assert_int_equal(f.items[0].blocked, 2);
    lock_forest_free(&f);
}

static double secs_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

#define BIG 10000

/* Every shape with 10 000 sessions: built in well under a second (sanitizer build included),
 * every session listed once, no recursion on a 10 000 deep chain. */
static void test_ten_thousand(void **state)
{
    (void)state;
    int *bl = xcalloc(BIG * 2, sizeof *bl);
    struct lt_input *in = xcalloc(BIG, sizeof *in);
    struct lock_forest f;
    struct timespec t0;
    for (int shape_no = 0; shape_no < 5; shape_no++) {
        for (int i = 0; i < BIG; i++) {
            in[i] = (struct lt_input){.pid = 1000 + i, .blockers = &bl[2 * i], .wait_s = i % 97, .age_s = i};
            switch (shape_no) {
            case 0: /* chain */ bl[2 * i] = 1000 + i - 1, in[i].nblockers = i > 0; break;
            case 1: /* fan */ bl[2 * i] = 1000, in[i].nblockers = i > 0; break;
            case 2: /* ring: one big cycle */ bl[2 * i] = 1000 + (i + 1) % BIG, in[i].nblockers = 1; break;
            case 3: /* binary heap shaped tree with a second blocker: diamonds everywhere */
                bl[2 * i] = 1000 + (i - 1) / 2, bl[2 * i + 1] = 1000 + (i > 2 ? (i - 3) / 2 : 0);
                in[i].nblockers = i > 0 ? 2 : 0;
                break;
            case 4: /* 100 roots, each waiter blocked by two pseudo random roots */
                bl[2 * i] = 1000 + (int)((unsigned)i * 2654435761u % 100u);
                bl[2 * i + 1] = 1000 + (int)((unsigned)i * 40503u % 100u);
                in[i].nblockers = i >= 100 ? 2 : 0;
                break;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        lock_forest_build(in, BIG, &f);
        double took = secs_since(&t0);
        if (took > 1.0)
            fail_msg("shape %d: %.3f s for %d sessions", shape_no, took, BIG);
        assert_int_equal(f.nitems, BIG);
        size_t sum = 0;
        for (size_t r = 0; r < f.nroots; r++)
            sum += f.items[f.roots[r]].subtree + 1;
        assert_int_equal(sum, BIG); /* every session shown once, under exactly one root */
        if (shape_no == 0)
            assert_int_equal(f.items[BIG - 1].depth, BIG - 1);
        if (shape_no == 2) {
            assert_int_equal(f.ncycles, 1);
            assert_int_equal(f.nroots, 1);
        }
        if (shape_no == 4)
            assert_int_equal(f.nroots, 100);
        lock_forest_free(&f);
    }
    free(bl);
    free(in);
}

/* ---- DDL ---- */

static void test_ddl(void **state)
{
    (void)state;
    const char *yes[] = {
        "ALTER TABLE accounts ADD COLUMN x int",
        "  \n\talter table t drop column y",
        "/* migration 42 */ ALTER TABLE t",
        "/* nested /* comment */ still */ -- and a line\n  DROP TABLE t",
        "CREATE INDEX ON t (a)",
        "create unique index concurrently i on t (a)",
        "CREATE /* x */ UNIQUE INDEX i ON t (a)",
        "TRUNCATE t",
        "REINDEX TABLE t",
        "CLUSTER t USING i",
        "VACUUM FULL t",
        "vacuum (verbose, full) t",
        "VACUUM (FULL true) t",
        "LOCK TABLE t IN ACCESS EXCLUSIVE MODE",
        "lock t",
    };
    const char *no[] = {
        NULL,
        "",
        "   ",
        "-- only a comment",
        "/* unterminated",
        "SELECT * FROM t",
        "UPDATE t SET altered = 1",
        "ALTERX",
        "CREATE TABLE t (a int)",
        "CREATE VIEW v AS SELECT 1",
        "VACUUM t",
        "VACUUM (VERBOSE) t",
        "VACUUM (FULL false) t",
        "LOCKED",
        "dropped",
        "WITH x AS (SELECT 1) SELECT 1",
        "INSERT INTO t VALUES ('ALTER TABLE')",
    };
    for (size_t i = 0; i < ARRAY_LEN(yes); i++)
        if (!lt_query_is_ddl(yes[i]))
            fail_msg("not seen as DDL: %s", yes[i]);
    for (size_t i = 0; i < ARRAY_LEN(no); i++)
        if (lt_query_is_ddl(no[i]))
            fail_msg("seen as DDL: %s", no[i] ? no[i] : "(null)");
    assert_true(lt_is_ddl("SELECT 1", "AccessExclusiveLock", false));
    assert_true(lt_is_ddl("BEGIN", NULL, true));
    assert_false(lt_is_ddl("SELECT 1", "AccessShareLock", false));
    assert_false(lt_is_ddl(NULL, NULL, false));
}

/* ---- the probe: SQL and parse ---- */

static void test_sql_by_version(void **state)
{
    (void)state;
    struct server_caps c = {.version = 120000, .pg_monitor = true};
    struct probe_opts o = {0};
    const char *why = NULL;
    const char *q12 = probe_table[PROBE_LOCKS]->sql(&c, &o, &why);
    c.version = 170002;
    const char *q17 = probe_table[PROBE_LOCKS]->sql(&c, &o, &why);
    assert_non_null(q12);
    assert_non_null(q17);
    assert_null(strstr(q12, ", l.waitstart AS"));
    assert_non_null(strstr(q17, ", l.waitstart AS"));
    /* pg_stat_activity is the sessions probe's to read: here only (before 14) one join for the
     * waiters' queue order; pg_blocking_pids only for the head of each lock's queue, our own
     * sessions left out */
    assert_null(strstr(q17, "pg_stat_activity"));
    assert_null(strstr(q17, "pg_stat_get_activity(NULL)"));
    assert_null(strstr(q12, "pg_stat_activity"));
    assert_non_null(strstr(q12, "LEFT JOIN pg_stat_get_activity(NULL) a ON a.pid = k.pid"));
    assert_non_null(strstr(q17, "pg_blocking_pids(pid) AS blockers FROM q WHERE pos <= 16"));
    assert_non_null(strstr(q17, "pg_backend_pid()"));
    assert_null(strstr(q17, "'pgfleet'")); /* by pid, never by a name anyone can set */
    assert_int_equal(probe_table[PROBE_LOCKS]->min_version, 120000);
}

static void test_parse_pg15_scenario(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_LOCKS, "locks_pg15.rows");
    const struct s_locks *l = SAMPLE_LOCKS(s);
    const struct lock_forest *f = &l->forest;
    assert_int_equal(l->n, 5);
    /* A; B under A; C under B (its first blocker) also blocked by A; D and E under C */
    assert_shape(f, "9979@0 10005@1 10022@2 10099@3 10102@3");
    assert_int_equal(f->items[0].blocked, 4);
    const struct lock_row *a = lock_item_row(l, 0), *b = lock_item_row(l, 1), *c = lock_item_row(l, 2);
    assert_true(lock_row_idle_in_xact(a));
    assert_string_equal(a->holds, "RowExclusiveLock on locks_t");
    assert_string_equal(a->backend_start, "2026-11-27 01:51:13.310586+00");
    assert_null(a->mode);
    assert_true(isnan(a->wait_s));
    assert_false(a->is_ddl);
    assert_string_equal(b->locktype, "transactionid");
    assert_string_equal(b->relation, "locks_t");
    assert_false(b->is_ddl);
    assert_true(c->is_ddl);
    assert_string_equal(c->mode, "AccessExclusiveLock");
    assert_int_equal(c->nblockers, 2);
    assert_int_equal(c->blockers[0], 10005);
    assert_int_equal(c->blockers[1], 9979);
    assert_true(fabs(c->wait_s - 132.204823) < 1e-6);
    assert_false(lock_item_row(l, 3)->is_ddl);
    assert_true(lock_item_row(l, 3)->known);
    sample_free(s);
}

static void test_parse_pg12(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_LOCKS, "locks_pg12.rows");
    const struct s_locks *l = SAMPLE_LOCKS(s);
    assert_shape(&l->forest, "300@0 301@1 302@1");
    const struct lock_row *root = lock_item_row(l, 0);
    assert_true(root->is_ddl); /* LOCK TABLE, and it holds an AccessExclusiveLock */
    assert_true(root->holds_ael);
    assert_int_equal(root->holds_n, 2);
    assert_true(lock_item_row(l, 2)->is_ddl); /* create unique index after a comment */
    assert_false(lock_item_row(l, 1)->is_ddl);
    assert_true(fabs(lock_item_row(l, 1)->wait_s - 12) < 1e-9);
    sample_free(s);
}

static void test_parse_odd(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_LOCKS, "locks_odd.rows");
    const struct s_locks *l = SAMPLE_LOCKS(s);
    const struct lock_forest *f = &l->forest;
    assert_shape(f, "402@0 403@1 404@1 406@0 405@1 407@1 0@0 400@1 777@0 401@1");
    assert_int_equal(f->ncycles, 1);
    assert_int_equal(f->nmissing, 1);
    assert_int_equal(f->missing[0], 777);
    assert_null(lock_item_row(l, lock_forest_find(f, 777)));
    const struct lock_row *prep = lock_item_row(l, lock_forest_find(f, 0));
    assert_non_null(prep);
    assert_false(prep->known);
    const struct lock_row *r407 = lock_item_row(l, lock_forest_find(f, 407));
    assert_int_equal(r407->nblockers, 1); /* 406 listed twice */
    assert_true(lock_item_row(l, lock_forest_find(f, 404))->inferred);
    assert_false(lock_item_row(l, lock_forest_find(f, 403))->inferred);
    const struct lock_row *r405 = lock_item_row(l, lock_forest_find(f, 405));
    assert_non_null(strchr(r405->query, '\033')); /* raw here; escaped when shown */
    sample_free(s);
}

/* Who each session is comes from the sessions section: filled by the derive step, one look-up
 * per row; a pid with no session row stays unknown; an idle blocker keeps the query the locks
 * probe found for it; a wait with no waitstart takes the session's state age; a waiter far back
 * in a queue keeps only the start of its query, not cut inside a character. */
static void test_derive_from_sessions(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_SESSIONS, "sessions_for_locks.rows");
    fixture_parse(s, PROBE_LOCKS, "locks_bare.rows");
    const struct s_locks *l = SAMPLE_LOCKS(s);
    assert_int_equal(l->n, 4);
    assert_false(l->rows[0].known);
    assert_null(l->rows[1].usename);
    probe_table[PROBE_LOCKS]->derive(NULL, s);
    const struct lock_row *hold = &l->rows[0], *w = &l->rows[1], *late = &l->rows[2], *gone = &l->rows[3];
    assert_true(hold->known);
    assert_string_equal(hold->usename, "alice");
    assert_string_equal(hold->state, "idle");
    assert_string_equal(hold->backend_start, "1764208273310586");
    assert_string_equal(hold->query, "SELECT pg_advisory_lock(1, 2)");
    assert_string_equal(w->application_name, "waiter");
    assert_true(fabs(w->wait_s - 7.25) < 1e-9);
    assert_true(fabs(w->xact_age - 7.5) < 1e-9);
    assert_true(fabs(late->wait_s - 12.5) < 1e-9);
    assert_int_equal(strlen(late->query), 255);
    assert_int_equal((unsigned char)late->query[254], 0xA9);
    assert_false(gone->known);
    assert_null(gone->usename);
    /* the forest is built again over the filled rows: 900 at the root, 901 and 902 under it
     * (902 first: it blocks 903 too) */
    assert_shape(&l->forest, "900@0 902@1 903@2 901@1");
    sample_free(s);
}

/* Under a pile-up the forest is collected every other tick; otherwise every tick. */
static void test_cadence(void **state)
{
    (void)state;
    unsigned (*every)(const struct sample *) = probe_table[PROBE_LOCKS]->every;
    assert_non_null(every);
    assert_int_equal(every(NULL), 1);
    struct sample *s = fixture_parse(NULL, PROBE_LOCKS, "locks_pg15.rows");
    assert_int_equal(every(s), 1);
    struct s_locks *l = s->sec[PROBE_LOCKS];
    size_t n = l->n;
    l->n = LOCKS_HEAVY + 1; /* only the count is read */
    assert_int_equal(every(s), 2);
    l->n = n;
    sample_free(s);
}

static void test_parse_empty_and_bad(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_LOCKS, "locks_empty.rows");
    assert_int_equal(SAMPLE_LOCKS(s)->n, 0);
    assert_int_equal(SAMPLE_LOCKS(s)->forest.nitems, 0);
    sample_free(s);
    char err[300];
    fixture_parse_fails(PROBE_LOCKS, "locks_missing_column.rows", err, sizeof err);
    assert_non_null(strstr(err, "blockers"));
}

/* ---- the snapshot forms (JSON: probes/snapjson_*.c; text: the pane) ---- */

struct fake {
    struct config cfg;
    struct server_conf conf;
    struct server srv;
    struct model m;
};

static void fake_model(struct fake *fk, const char *fixture)
{
    memset(fk, 0, sizeof *fk);
    fk->cfg.th.idle_in_transaction_ms = 30000;
    fk->cfg.th.slow_query_ms = 5000;
    fk->conf.name = "db\033one";
    fk->srv.conf = &fk->conf;
    fk->srv.kind = KIND_POSTGRES;
    fk->srv.status = SRV_UP;
    fk->srv.caps.pg_monitor = true;
    fk->srv.cur = fixture_parse(NULL, PROBE_LOCKS, fixture);
    fk->m.cfg = &fk->cfg;
    fk->m.servers = &fk->srv;
    fk->m.n = 1;
}

/* The pids of a node line, in the lines' order (the filter keeps whole trees). */
static void view_pids(struct fake *fk, const char *filter, char *out, size_t len)
{
    const struct s_locks *l = SAMPLE_LOCKS(fk->srv.cur);
    struct lview lv;
    locks_view_build(&fk->m, -1, filter, &lv);
    out[0] = '\0';
    for (size_t i = 0; i < lv.n; i++) {
        size_t o = strlen(out);
        if (lv.v[i].kind == L_NODE)
            snprintf(out + o, len - o, "%s%d", o ? " " : "", l->forest.items[lv.v[i].item].pid);
        else if (lv.v[i].kind == L_NOTE)
            snprintf(out + o, len - o, "%s[%s]", o ? " " : "", lv.v[i].note);
    }
    locks_view_free(&lv);
}

/* The Locks filter keeps the trees with a session that matches, whole from their root; the
 * session detail names blockers and waiters by pid. */
static void test_filter_and_pid_lists(void **state)
{
    (void)state;
    struct fake fk;
    char got[400];
    fake_model(&fk, "locks_odd.rows");
    view_pids(&fk, NULL, got, sizeof got);
    assert_string_equal(got, "402 403 404 406 405 407 0 400 777 401");
    view_pids(&fk, "advisory", got, sizeof got); /* 405's wait, 406's hold: the tree of 406 */
    assert_string_equal(got, "406 405 407");
    view_pids(&fk, "UPDATE b", got, sizeof got); /* 403's query: its cycle's tree */
    assert_string_equal(got, "402 403 404");
    view_pids(&fk, "ORDERS", got, sizeof got); /* the relation 400 waits on, any case */
    assert_string_equal(got, "0 400");
    view_pids(&fk, "zzz", got, sizeof got);
    assert_string_equal(got, "[no lock wait matches the filter (Esc clears it)]");
    view_pids(&fk, "one", got, sizeof got); /* the server's name: everything */
    assert_string_equal(got, "402 403 404 406 405 407 0 400 777 401");
    const struct s_locks *l = SAMPLE_LOCKS(fk.srv.cur);
    char *b = locks_blockers_text(l, lock_forest_find(&l->forest, 400));
    assert_string_equal(b, "0 (a prepared transaction)");
    free(b);
    b = locks_waiters_text(l, lock_forest_find(&l->forest, 406));
    assert_string_equal(b, "405, 407");
    free(b);
    sample_free(fk.srv.cur);

    fake_model(&fk, "locks_pg15.rows");
    l = SAMPLE_LOCKS(fk.srv.cur);
    const struct lock_forest *f = &l->forest;
    struct {
        int pid;
        const char *blockers, *waiters;
    } want[] = {
        {9979, "", "10005, 10022 (4 sessions in all, waiting behind them)"},
        {10005, "9979", "10022 (3 sessions in all, waiting behind them)"},
        {10022, "10005, 9979", "10099, 10102"},
        {10099, "10022", ""},
    };
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        size_t item = lock_forest_find(f, want[i].pid);
        char *bl = locks_blockers_text(l, item), *wa = locks_waiters_text(l, item);
        assert_string_equal(bl, want[i].blockers);
        assert_string_equal(wa, want[i].waiters);
        free(bl);
        free(wa);
    }
    sample_free(fk.srv.cur);
}

static void test_json(void **state)
{
    (void)state;
    struct fake fk;
    fake_model(&fk, "locks_pg15.rows");
    json_t *o = json_object();
    snapjson_locks(&fk.m, &fk.srv, o);
    json_t *tree = json_object_get(o, "lock_tree");
    assert_true(json_is_array(tree));
    assert_int_equal(json_array_size(tree), 1);
    json_t *a = json_array_get(tree, 0);
    assert_int_equal(json_integer_value(json_object_get(a, "pid")), 9979);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "idle in transaction");
    assert_true(json_is_true(json_object_get(a, "idle_in_transaction")));
    assert_int_equal(json_integer_value(json_object_get(a, "blocked_count")), 4);
    assert_string_equal(json_string_value(json_object_get(a, "holds")), "RowExclusiveLock on locks_t");
    assert_string_equal(json_string_value(json_object_get(a, "user")), "postgres");
    json_t *b = json_array_get(json_object_get(a, "waiters"), 0);
    assert_int_equal(json_integer_value(json_object_get(b, "pid")), 10005);
    assert_string_equal(json_string_value(json_object_get(b, "mode")), "ShareLock");
    json_t *c = json_array_get(json_object_get(b, "waiters"), 0);
    assert_int_equal(json_integer_value(json_object_get(c, "pid")), 10022);
    assert_true(json_is_true(json_object_get(c, "is_ddl")));
    assert_int_equal(json_array_size(json_object_get(c, "also_blocked_by")), 1);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(c, "also_blocked_by"), 0)), 9979);
    assert_int_equal(json_array_size(json_object_get(c, "waiters")), 2);
    assert_string_equal(json_string_value(json_object_get(c, "relation")), "locks_t");
    assert_true(json_is_real(json_object_get(c, "wait_s")));
    json_decref(o);
    sample_free(fk.srv.cur);
}

static char *text_of(struct fake *fk);

/* A chain 300 deep, built as the probe would get it: the JSON nests no deeper than its limit
 * (64 levels of waiters) and lists the rest flat with the pid they wait under; the text
 * listing caps its indentation. */
static struct sample *deep_chain(int n)
{
    static const char *const names[] = {
        "pid",          "known",    "state",     "usename",       "datname",  "application_name",
        "backend_type", "xact_age", "state_age", "backend_start", "blockers", "inferred",
        "locktype",     "mode",     "relation",  "wait_s",        "holds",    "holds_n",
        "holds_ael",    "query",
    };
    struct rowset *rs = rowset_new(20, names);
    for (int i = 0; i < n; i++) {
        char pid[16], blk[16], wait[16];
        snprintf(pid, sizeof pid, "%d", 100 + i);
        snprintf(blk, sizeof blk, "%d", 99 + i);
        snprintf(wait, sizeof wait, "%d", n - i);
        const char *row[20] = {pid,
                               "t",
                               i ? "active" : "idle in transaction",
                               "u",
                               "d",
                               "a",
                               "client backend",
                               "9",
                               "9",
                               "2020-01-01",
                               i ? blk : NULL,
                               "f",
                               i ? "tuple" : NULL,
                               i ? "ExclusiveLock" : NULL,
                               i ? "t" : NULL,
                               i ? wait : NULL,
                               NULL,
                               "0",
                               "f",
                               "UPDATE t SET v = 1"};
        rowset_add_row(rs, row);
    }
    struct sample *s = sample_new();
    char err[200];
    assert_int_equal(probe_table[PROBE_LOCKS]->parse(rs, s, err, sizeof err), 0);
    rowset_free(rs);
    return s;
}

static int json_depth(json_t *node)
{
    int best = 0;
    size_t i;
    json_t *w;
    json_array_foreach (json_object_get(node, "waiters"), i, w) {
        int d = 1 + json_depth(w);
        if (d > best)
            best = d;
    }
    return best;
}

static void test_deep_chain_forms(void **state)
{
    (void)state;
    struct fake fk;
    memset(&fk, 0, sizeof fk);
    fk.conf.name = "deep";
    fk.srv = (struct server){.conf = &fk.conf, .kind = KIND_POSTGRES, .status = SRV_UP, .cur = deep_chain(300)};
    fk.srv.caps.pg_monitor = true;
    fk.m = (struct model){.cfg = &fk.cfg, .servers = &fk.srv, .n = 1};
    json_t *o = json_object();
    snapjson_locks(&fk.m, &fk.srv, o);
    json_t *root = json_array_get(json_object_get(o, "lock_tree"), 0);
    assert_int_equal(json_integer_value(json_object_get(root, "blocked_count")), 299);
    assert_int_equal(json_depth(root), 64);
    size_t count = 0;
    json_t *n = root;
    for (int d = 0; d < 63; d++)
        n = json_array_get(json_object_get(n, "waiters"), 0);
    json_t *flat = json_object_get(n, "waiters"); /* level 64: itself and everything deeper */
    count = json_array_size(flat);
    assert_int_equal(count, 300 - 64);
    assert_null(json_object_get(json_array_get(flat, 0), "under_pid"));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(flat, 1), "under_pid")), 100 + 64);
    json_decref(o);
    char *t = text_of(&fk);
    assert_non_null(strstr(t,
                           "\n"
                           "                                                  +1 125 active"));
    assert_non_null(strstr(t, "+275 399 active"));
    free(t);
    sample_free(fk.srv.cur);
}

static char *text_of(struct fake *fk)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    locks_text(&fk->m, out);
    fclose(out);
    return buf;
}

static void test_text(void **state)
{
    (void)state;
    struct fake fk;
    fake_model(&fk, "locks_pg15.rows");
    char *t = text_of(&fk);
    assert_non_null(strstr(t, "LOCKS\n"));
    assert_non_null(strstr(t, "db\\033one: 4 sessions waiting, 1 blocking tree"));
    assert_non_null(
        strstr(t, "\n  9979 IDLE IN TRANSACTION, xact 2m13s, holds RowExclusiveLock on locks_t, blocks 4: UPDATE"));
    assert_non_null(strstr(t, "\n    10005 active, waits 2m12s for ShareLock on locks_t (row), blocks 3: UPDATE"));
    assert_non_null(strstr(
        t,
        "\n      10022 DDL active, waits 2m12s for AccessExclusiveLock on locks_t, blocks 2: also blocked by 9979 | /* migration */ ALTER TABLE"));
    assert_non_null(strstr(t, "\n        10099 active, waits"));
    free(t);
    sample_free(fk.srv.cur);

    fake_model(&fk, "locks_odd.rows");
    t = text_of(&fk);
    assert_null(strchr(t, '\033'));
    assert_non_null(strstr(t, "\\033[31m"));
    assert_non_null(strstr(t, "CYCLE"));
    assert_non_null(strstr(t, "pid 0 is a prepared transaction"));
    assert_non_null(strstr(t, "  0 prepared xact"));
    assert_non_null(strstr(t, "  777 ended"));
    assert_non_null(strstr(t, "1 deep in long queues: blockers inferred"));
    free(t);
    sample_free(fk.srv.cur);

    fake_model(&fk, "locks_empty.rows");
    t = text_of(&fk);
    assert_string_equal(t, "LOCKS\nno lock waits: db\\033one\n");
    free(t);
    sample_free(fk.srv.cur);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_fan_ordered_by_wait),
        cmocka_unit_test(test_diamond),
        cmocka_unit_test(test_roots_by_blocked_count),
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_self_loop),
        cmocka_unit_test(test_missing_blockers),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_ten_thousand),
        cmocka_unit_test(test_ddl),
        cmocka_unit_test(test_sql_by_version),
        cmocka_unit_test(test_parse_pg15_scenario),
        cmocka_unit_test(test_parse_pg12),
        cmocka_unit_test(test_derive_from_sessions),
        cmocka_unit_test(test_cadence),
        cmocka_unit_test(test_parse_odd),
        cmocka_unit_test(test_parse_empty_and_bad),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_filter_and_pid_lists),
        cmocka_unit_test(test_deep_chain_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
