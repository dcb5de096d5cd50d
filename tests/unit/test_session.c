/* test_session.c — unit tests for probes/session.c: a session reference is (server, pid,
 * backend start); it is found again in the sessions, activity and lock samples by all three,
 * never by the pid alone (a reused pid is another session), and a row without a usable start
 * has none; the Locks pane's lines (view_locks.c) name their sessions the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "probes/probe.h"
#include "probes/sample.h"
#include "probes/session.h"
#include "testutil.h"
#include "tui/view_locks.h"

static int setup(void **state)
{
    struct world *w = world_new(2);
    for (size_t i = 0; i < 2; i++) {
        w->cfg.servers[i].name = xasprintf("srv%zu", i);
        w->cfg.servers[i].conninfo = xstrdup("host=x");
        w->m.servers[i].cur = sample_new();
    }
    fixture_parse(w->m.servers[1].cur, PROBE_ACTIVITY, "session_activity.rows");
    fixture_parse(w->m.servers[1].cur, PROBE_LOCKS, "session_locks.rows");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_free(*state);
    return 0;
}

static void test_make_and_eq(void **state)
{
    (void)state;
    struct session_ref a, b;
    assert_true(session_ref_make(&a, 1, 700, "1700000000000000"));
    assert_int_equal(a.server, 1);
    assert_int_equal(a.pid, 700);
    assert_true(a.backend_start_us == INT64_C(1700000000000000));
    assert_true(session_ref_make(&b, 1, 700, "1700000000000000"));
    assert_true(session_ref_eq(&a, &b));
    b.backend_start_us++; /* the same pid, started later: another session */
    assert_false(session_ref_eq(&a, &b));
    b = a;
    b.server = 0; /* the same pid and start on another server */
    assert_false(session_ref_eq(&a, &b));
    /* no identity without a start time that is a number */
    assert_false(session_ref_make(&b, 1, 701, NULL));
    assert_false(session_ref_make(&b, 1, 701, ""));
    assert_false(session_ref_make(&b, 1, 702, "17000x"));
    assert_true(session_is(&a, 1, 700, "1700000000000000"));
    assert_false(session_is(&a, 1, 700, NULL));
    assert_false(session_is(&a, 0, 700, "1700000000000000"));
}

static void test_activity(void **state)
{
    struct world *w = *state;
    struct session_ref r;
    assert_true(session_ref_make(&r, 1, 700, "1700000000000000"));
    const struct activity_row *row = session_activity(&w->m, &r);
    assert_non_null(row);
    assert_int_equal(row->pid, 700);
    r.backend_start_us -= 5000000; /* the session that had pid 700 before: gone */
    assert_null(session_activity(&w->m, &r));
    assert_true(session_ref_make(&r, 0, 700, "1700000000000000")); /* server 0 has no sample section */
    assert_null(session_activity(&w->m, &r));
    r.server = 7; /* not a server of the model */
    assert_null(session_activity(&w->m, &r));
}

static void test_row(void **state)
{
    struct world *w = *state;
    struct session_ref r;
    /* idle sessions hidden: 703 is not in the activity list, yet it has not ended */
    ((struct s_sessions *)w->m.servers[1].cur->sec[PROBE_SESSIONS])->with_idle = false;
    probe_table[PROBE_ACTIVITY]->derive(NULL, w->m.servers[1].cur);
    assert_true(session_ref_make(&r, 1, 703, "1700000300000000"));
    assert_null(session_activity(&w->m, &r));
    const struct activity_row *row = session_row(&w->m, &r);
    assert_non_null(row);
    assert_int_equal(row->pid, 703);
    r.backend_start_us++; /* pid 703 of another backend: ended */
    assert_null(session_row(&w->m, &r));
    assert_true(session_ref_make(&r, 0, 700, "1700000000000000")); /* server 0 has no sample */
    assert_null(session_row(&w->m, &r));
    r.server = 7;
    assert_null(session_row(&w->m, &r));
}

/* The Locks pane's lines: each session line names its session; one is found again by its
 * reference, never by the pid alone; a blocker that ended has no identity. */
static void test_locks_view(void **state)
{
    struct world *w = *state;
    struct lview lv;
    locks_view_build(&w->m, -1, NULL, &lv);
    assert_int_equal(lv.nnodes, 3);
    struct session_ref r, id;
    assert_true(session_ref_make(&r, 1, 801, "1700000200000000"));
    int k = locks_find(&w->m, &lv, &r);
    assert_true(k >= 0);
    assert_true(locks_node_ref(&w->m, &lv.v[locks_node_line(&lv, k)], &id));
    assert_true(session_ref_eq(&id, &r));
    r.backend_start_us = 1; /* pid 801 of another backend */
    assert_int_equal(locks_find(&w->m, &lv, &r), -1);
    r.server = 0; /* the same pid and start on the other server */
    r.backend_start_us = INT64_C(1700000200000000);
    assert_int_equal(locks_find(&w->m, &lv, &r), -1);
    int without = 0;
    for (size_t i = 0; i < lv.n; i++)
        if (lv.v[i].kind == L_NODE && !locks_node_ref(&w->m, &lv.v[i], &id)) {
            without++;
            assert_int_equal(locks_of(&w->m.servers[1])->forest.items[lv.v[i].item].pid, 802);
        }
    assert_int_equal(without, 1);
    locks_view_free(&lv);
}

static void test_locks(void **state)
{
    struct world *w = *state;
    struct session_ref r;
    size_t item = 99;
    assert_true(session_ref_make(&r, 1, 801, "1700000200000000"));
    const struct lock_row *lr = session_lock(&w->m, &r, &item);
    assert_non_null(lr);
    assert_int_equal(lr->pid, 801);
    assert_true(item < 3);
    assert_true(session_ref_make(&r, 1, 800, "1700000100000000"));
    assert_non_null(session_lock(&w->m, &r, NULL));
    r.backend_start_us = 1; /* pid 800 reused by a newer backend */
    assert_null(session_lock(&w->m, &r, NULL));
    /* a blocker that ended has no row to be found by */
    r = (struct session_ref){1, 802, 0};
    assert_null(session_lock(&w->m, &r, NULL));
    w->m.servers[1].status = SRV_DOWN; /* no lock data from a server that is down */
    assert_true(session_ref_make(&r, 1, 801, "1700000200000000"));
    assert_null(session_lock(&w->m, &r, NULL));
    w->m.servers[1].status = SRV_UP;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_and_eq),
        cmocka_unit_test_setup_teardown(test_activity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locks_view, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
