/* test_views.c — unit tests for tui/views.c over a model built by hand from fixtures: the
 * Activity list (sorting by every column, missing values last, stable ties, filter, scope, idle
 * toggle, DOWN servers left out), escaping of the cells, and the Fleet table (worst-first order,
 * n/a rates, connections against max minus reserved, status names).
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
#include <time.h>

#include "core/config.h"
#include "core/rowset.h"
#include "core/util.h"
#include "probes/model.h"
#include "probes/probe.h"
#include "probes/restore_record.h"
#include "probes/sample.h"
#include "testutil.h"
#include "tui/doc.h"
#include "tui/views.h"

/* ---- the model ---- */

enum { ALPHA, BETA, GAMMA, ACME, NSERVERS };

/* Four servers, in this index order:
 *   alpha  UP, two server samples 2 s apart (150 TPS, 95.0 % hit), activity views_alpha.rows
 *   beta   UP, first sample of a busy PostgreSQL 16 (rates n/a, 3 blocked), views_beta.rows
 *   gamma  DOWN, with its last known facts and activity (views_gamma.rows)
 *   acme   UP, a quiet PostgreSQL 12 replica without an activity section */
static int setup(void **state)
{
    static const char *const names[NSERVERS] = {"alpha", "beta", "gamma", "acme"};
    struct world *w = world_new(NSERVERS);
    w->m.refresh_ms = w->cfg.refresh_ms;
    for (size_t i = 0; i < NSERVERS; i++) {
        w->cfg.servers[i].name = xstrdup(names[i]);
        w->cfg.servers[i].conninfo = xasprintf("host=%s.example.com dbname=shop", names[i]);
        w->m.servers[i].cur = sample_new();
    }
    struct server *s = w->m.servers;
    s[ALPHA].prev = sample_new();
    fixture_parse(s[ALPHA].prev, PROBE_SERVER, "server_pg15.rows");
    fixture_parse(s[ALPHA].cur, PROBE_SERVER, "server_pg15_t2.rows");
    probe_table[PROBE_SERVER]->derive(s[ALPHA].prev, s[ALPHA].cur);
    fixture_parse(s[ALPHA].cur, PROBE_ACTIVITY, "views_alpha.rows");

    fixture_parse(s[BETA].cur, PROBE_SERVER, "server_pg16.rows");
    probe_table[PROBE_SERVER]->derive(NULL, s[BETA].cur);
    fixture_parse(s[BETA].cur, PROBE_ACTIVITY, "views_beta.rows");

    fixture_parse(s[GAMMA].cur, PROBE_SERVER, "server_pg15.rows");
    fixture_parse(s[GAMMA].cur, PROBE_ACTIVITY, "views_gamma.rows");
    s[GAMMA].status = SRV_DOWN;
    snprintf(s[GAMMA].reason, sizeof s[GAMMA].reason, "%s",
             "connection refused\n\x1b[2J\tIs the server running on host \"gamma\"?");

    fixture_parse(s[ACME].cur, PROBE_SERVER, "server_pg12.rows");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_free(*state);
    return 0;
}

/* The activity section of server i, writable (tests tweak rows). */
static struct s_activity *act_of(struct world *w, size_t i) { return w->m.servers[i].cur->sec[PROBE_ACTIVITY]; }

/* ---- activity: listing ---- */

/* Runs act_view and compares the pids listed with want (n of them). */
static void expect_pids(const struct model *m, const struct act_query *q, const int *want, size_t n, const char *what)
{
    struct act_ref *refs = NULL;
    size_t got = act_view(m, q, &refs);
    char gots[400] = "", wants[400] = "";
    bool same = got == n;
    for (size_t i = 0; i < got; i++) {
        const struct activity_row *r = act_row(m, &refs[i]);
        int pid = r ? r->pid : -1;
        snprintf(gots + strlen(gots), sizeof gots - strlen(gots), " %d", pid);
        if (i < n && pid != want[i])
            same = false;
    }
    for (size_t i = 0; i < n; i++)
        snprintf(wants + strlen(wants), sizeof wants - strlen(wants), " %d", want[i]);
    free(refs);
    if (!same)
        fail_msg("%s: got%s, want%s", what, gots, wants);
}

/* clang-format off */
#define EXPECT_PIDS(m, q, what, ...)                                                               \
    do {                                                                                           \
        static const int want_[] = {__VA_ARGS__};                                                  \
        expect_pids(m, q, want_, ARRAY_LEN(want_), what);                                          \
    } while (0)
/* clang-format on */

#define EXPECT_NONE(m, q, what) expect_pids(m, q, NULL, 0, what)

static struct act_query query(int col, bool desc)
{
    struct act_query q = {.filter = NULL, .scope = -1, .sort_col = col, .desc = desc, .idle = false};
    return q;
}

/* Visible by default (idle hidden, gamma DOWN): alpha 300 200 55 400, beta 150 60 250. */
static void test_act_sort_each_column(void **state)
{
    struct world *w = *state;
    const struct model *m = &w->m;
    struct act_query q;

    q = query(AC_PID, false);
    EXPECT_PIDS(m, &q, "PID asc", 55, 60, 150, 200, 250, 300, 400);
    q.desc = true;
    EXPECT_PIDS(m, &q, "PID desc", 400, 300, 250, 200, 150, 60, 55);

    /* Ties (same server) are broken by server, then pid, in both directions. */
    q = query(AC_SERVER, false);
    EXPECT_PIDS(m, &q, "SERVER asc", 55, 200, 300, 400, 60, 150, 250);
    q.desc = true;
    EXPECT_PIDS(m, &q, "SERVER desc", 60, 150, 250, 55, 200, 300, 400);

    /* Text sorts case-insensitively; NULL (a background worker's) is last either way. */
    q = query(AC_DB, false);
    EXPECT_PIDS(m, &q, "DB asc", 150, 200, 300, 400, 250, 55, 60);
    q.desc = true;
    EXPECT_PIDS(m, &q, "DB desc", 300, 400, 250, 200, 150, 55, 60);

    q = query(AC_USER, false);
    EXPECT_PIDS(m, &q, "USER asc", 300, 400, 200, 150, 250, 55, 60);
    q.desc = true;
    EXPECT_PIDS(m, &q, "USER desc", 250, 150, 200, 300, 400, 55, 60);

    q = query(AC_APP, false);
    EXPECT_PIDS(m, &q, "APP asc", 400, 250, 200, 150, 300, 55, 60);
    q.desc = true;
    EXPECT_PIDS(m, &q, "APP desc", 300, 150, 200, 250, 400, 55, 60);

    q = query(AC_CLIENT, false);
    EXPECT_PIDS(m, &q, "CLIENT asc", 300, 400, 150, 250, 200, 55, 60);
    q.desc = true;
    EXPECT_PIDS(m, &q, "CLIENT desc", 200, 250, 150, 400, 300, 55, 60);

    /* STATE falls back to the backend type when there is no state. */
    q = query(AC_STATE, false);
    EXPECT_PIDS(m, &q, "STATE asc", 300, 400, 150, 250, 55, 60, 200);
    q.desc = true;
    EXPECT_PIDS(m, &q, "STATE desc", 200, 55, 60, 300, 400, 150, 250);

    q = query(AC_WAIT, false);
    EXPECT_PIDS(m, &q, "WAIT asc", 55, 60, 200, 400, 300, 150, 250);
    q.desc = true;
    EXPECT_PIDS(m, &q, "WAIT desc", 400, 200, 55, 60, 300, 150, 250);

    /* Numbers sort as numbers (9 < 40 although "9" > "40"); NAN last in both directions. */
    q = query(AC_XACT, false);
    EXPECT_PIDS(m, &q, "XACT asc", 250, 300, 400, 150, 200, 55, 60);
    q.desc = true;
    EXPECT_PIDS(m, &q, "XACT desc", 200, 150, 400, 300, 250, 55, 60);

    /* 300 (alpha) and 150 (beta) both have a 2 s query: alpha first in both directions. */
    q = query(AC_QAGE, false);
    EXPECT_PIDS(m, &q, "QUERY AGE asc", 250, 300, 150, 400, 200, 55, 60);
    q.desc = true;
    EXPECT_PIDS(m, &q, "QUERY AGE desc", 200, 400, 300, 150, 250, 55, 60);

    /* An empty query is a value (background workers have ""), not a missing one. */
    q = query(AC_QUERY, false);
    EXPECT_PIDS(m, &q, "QUERY asc", 55, 60, 400, 250, 300, 150, 200);
    q.desc = true;
    EXPECT_PIDS(m, &q, "QUERY desc", 200, 150, 300, 250, 400, 55, 60);
}

/* Two missing values are a tie like any other: server, then pid. With idle sessions shown,
 * alpha's idle pid 100 (listed first in the fixture) and its background worker 55 both lack an
 * XACT age; likewise two NULL databases. */
static void test_act_sort_missing_ties_by_pid(void **state)
{
    struct world *w = *state;
    struct act_query q = query(AC_XACT, false);
    q.idle = true;
    EXPECT_PIDS(&w->m, &q, "XACT asc, idle shown", 250, 300, 400, 150, 200, 55, 100, 60);
    q.desc = true;
    EXPECT_PIDS(&w->m, &q, "XACT desc, idle shown", 200, 150, 400, 300, 250, 55, 100, 60);

    /* pid 300 (alpha's first row) loses its database name: NULL like pid 55's. */
    struct activity_row *r = &act_of(w, ALPHA)->rows[0];
    assert_int_equal(r->pid, 300);
    free(r->datname);
    r->datname = NULL;
    q = query(AC_DB, false);
    EXPECT_PIDS(&w->m, &q, "DB asc, two NULLs in alpha", 150, 200, 400, 250, 55, 300, 60);
}

static void test_act_filter(void **state)
{
    struct world *w = *state;
    const struct model *m = &w->m;
    struct act_query q = query(AC_PID, false);

    q.filter = "orders";
    EXPECT_PIDS(m, &q, "filter orders", 300, 400);
    q.filter = "CAROL"; /* case-insensitive */
    EXPECT_PIDS(m, &q, "filter CAROL", 150);
    q.filter = "report";
    EXPECT_PIDS(m, &q, "filter report", 150);
    /* Past the cell width: the whole query text is searched. */
    q.filter = "needle-BEYOND";
    EXPECT_PIDS(m, &q, "filter needle", 150);
    q.filter = "beta"; /* the server's name is a cell too */
    EXPECT_PIDS(m, &q, "filter beta", 60, 150, 250);
    q.filter = "10.0.0";
    EXPECT_PIDS(m, &q, "filter client", 300, 400);
    q.filter = "logicallauncher"; /* the wait column */
    EXPECT_PIDS(m, &q, "filter wait", 55, 60);
    q.filter = "pwned";
    EXPECT_PIDS(m, &q, "filter pwned", 250);
    q.filter = "zzz-nothing";
    EXPECT_NONE(m, &q, "filter nothing");
    q.filter = "ClientRead"; /* pid 100 matches too but is idle */
    EXPECT_PIDS(m, &q, "filter ClientRead", 200);
    q.idle = true;
    EXPECT_PIDS(m, &q, "filter ClientRead with idle", 100, 200);
    q.idle = false;
    q.filter = "";
    EXPECT_PIDS(m, &q, "empty filter", 55, 60, 150, 200, 250, 300, 400);
    q.filter = "gamma"; /* a DOWN server's rows match nothing */
    EXPECT_NONE(m, &q, "filter gamma");
}

/* Tags: a Fleet column, and / matches them in the Fleet, Activity (and the other lists, through
 * server_matches); the Fleet filter keeps the servers with a cell that holds the text. */
static void test_fleet_tags_filter(void **state)
{
    struct world *w = *state;
    struct model *m = &w->m;
    struct server_conf *a = &w->cfg.servers[ALPHA];
    a->tags = xcalloc(2, sizeof *a->tags);
    a->tags[0] = xstrdup("orders");
    a->tags[1] = xstrdup("eu-\033west");
    a->ntags = 2;
    cell_t c[FC_N];
    enum sev sev[FC_N];
    fleet_cells(m, &m->servers[ALPHA], c, sev);
    assert_string_equal(c[FC_TAGS], "orders,eu-\\033west"); /* config text is escaped too */
    fleet_cells(m, &m->servers[BETA], c, sev);
    assert_string_equal(c[FC_TAGS], "");
    assert_true(server_matches(&m->servers[ALPHA], "EU-"));
    assert_false(server_matches(&m->servers[BETA], "eu-"));
    assert_true(server_matches(&m->servers[BETA], "bet")); /* the name */

    size_t order[NSERVERS + 1];
    assert_int_equal(fleet_view(m, NULL, order), NSERVERS);
    assert_int_equal(fleet_view(m, "", order), NSERVERS);
    assert_int_equal(fleet_view(m, "eu-", order), 1);
    assert_int_equal(order[0], ALPHA);
    assert_int_equal(fleet_view(m, "down", order), 1); /* the STATUS cell */
    assert_int_equal(order[0], GAMMA);
    assert_int_equal(fleet_view(m, "connection refused", order), 1); /* the NOTE */
    assert_int_equal(order[0], GAMMA);
    assert_int_equal(fleet_view(m, "zzz", order), 0);
    assert_int_equal(fleet_view(m, "primary", order), 3); /* the ROLE: gamma's last known role too */

    struct act_query q = query(AC_PID, false);
    q.filter = "orders"; /* alpha's tag: every session of alpha now, as well as the queries */
    EXPECT_PIDS(m, &q, "filter by a tag", 55, 200, 300, 400);
    q.filter = "eu-";
    EXPECT_PIDS(m, &q, "filter by another tag", 55, 200, 300, 400);
}

static void test_act_scope_idle_down(void **state)
{
    struct world *w = *state;
    struct model *m = &w->m;
    struct act_query q = query(AC_PID, false);

    q.scope = BETA;
    EXPECT_PIDS(m, &q, "scope beta", 60, 150, 250);
    q.scope = ALPHA;
    EXPECT_PIDS(m, &q, "scope alpha", 55, 200, 300, 400);
    q.idle = true;
    EXPECT_PIDS(m, &q, "scope alpha with idle", 55, 100, 200, 300, 400);
    q.scope = GAMMA; /* DOWN: its last known rows are not listed */
    EXPECT_NONE(m, &q, "scope gamma");
    q.scope = ACME; /* no activity section */
    EXPECT_NONE(m, &q, "scope acme");
    q.scope = -1;
    EXPECT_PIDS(m, &q, "all with idle", 55, 60, 100, 150, 200, 250, 300, 400);

    /* gamma comes back: its rows show; then beta goes DOWN and its rows go. */
    m->servers[GAMMA].status = SRV_UP;
    EXPECT_PIDS(m, &q, "gamma up", 55, 60, 100, 150, 200, 250, 300, 400, 999);
    m->servers[BETA].status = SRV_DOWN;
    EXPECT_PIDS(m, &q, "beta down", 55, 100, 200, 300, 400, 999);
    m->servers[GAMMA].status = SRV_DOWN;
    m->servers[BETA].status = SRV_UP;

    /* Only state 'idle' is hidden: "idle in transaction" stays (pid 200). */
    q.idle = false;
    q.scope = -1;
    q.filter = "idle";
    EXPECT_PIDS(m, &q, "filter idle", 200);
}

/* ---- activity: cells ---- */

/* No C0 control, no DEL, no C1 control (as c2 80..9f), and well-formed UTF-8. */
static bool terminal_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned char c = *p;
        if (c < 0x20 || c == 0x7f)
            return false;
        size_t n = c < 0x80            ? 1
            : (c >= 0xc2 && c <= 0xdf) ? 2
            : (c >= 0xe0 && c <= 0xef) ? 3
            : (c >= 0xf0 && c <= 0xf4) ? 4
                                       : 0;
        if (!n)
            return false;
        for (size_t k = 1; k < n; k++)
            if ((p[k] & 0xc0) != 0x80)
                return false;
        if (c == 0xc2 && p[1] < 0xa0)
            return false;
        p += n;
    }
    return true;
}

static bool no_double_space(const char *s)
{
    size_t n = strlen(s);
    return !strstr(s, "  ") && (n == 0 || (s[0] != ' ' && s[n - 1] != ' '));
}

/* Finds the ref of pid in the unfiltered, idle-included list. */
static struct act_ref ref_of(const struct model *m, int pid)
{
    struct act_query q = query(AC_PID, false);
    q.idle = true;
    struct act_ref *refs = NULL, found = {SIZE_MAX, SIZE_MAX};
    size_t n = act_view(m, &q, &refs);
    for (size_t i = 0; i < n; i++)
        if (act_row(m, &refs[i])->pid == pid)
            found = refs[i];
    free(refs);
    if (found.server == SIZE_MAX)
        fail_msg("pid %d not listed", pid);
    return found;
}

static void test_act_cells_escaping(void **state)
{
    struct world *w = *state;
    const struct model *m = &w->m;
    cell_t cells[AC_N];
    enum sev sev[AC_N];

    struct act_ref r = ref_of(m, 250);
    act_cells(m, &r, cells, sev);
    assert_string_equal(cells[AC_SERVER], "beta");
    assert_string_equal(cells[AC_PID], "250");
    assert_string_equal(cells[AC_USER], "mallory");
    assert_string_equal(cells[AC_APP], "evil\\033[31mapp x");
    assert_string_equal(cells[AC_QUERY], "SELECT 1; \\033]0;pwned\\033\\\\ -- x");

    /* Every byte a terminal must not see, and runs of white space, in two text columns. */
    struct activity_row *row = &act_of(w, BETA)->rows[r.row];
    free(row->application_name);
    row->application_name = xstrdup("  a\x07"
                                    "b\rc\bd\x7f"
                                    "e\xc2\x9b"
                                    "f\n\n\t  g\x1b  ");
    free(row->query);
    row->query = xstrdup("\n\tSELECT  é,\t日本\r\n  FROM\x1b[2J t\xff  ");
    act_cells(m, &r, cells, sev);
    assert_string_equal(cells[AC_APP], "a\\ab c\\bd\\177e\\xc2\\x9bf g\\033");
    assert_string_equal(cells[AC_QUERY], "SELECT é, 日本 FROM\\033[2J t\\xff");

    /* All cells of all rows, idle included. */
    struct act_query q = query(AC_PID, false);
    q.idle = true;
    struct act_ref *refs = NULL;
    size_t n = act_view(m, &q, &refs);
    assert_int_equal(n, 8);
    for (size_t i = 0; i < n; i++) {
        act_cells(m, &refs[i], cells, sev);
        for (int c = 0; c < AC_N; c++) {
            if (!terminal_safe(cells[c]) || !no_double_space(cells[c])) {
                int pid = act_row(m, &refs[i])->pid;
                free(refs);
                fail_msg("pid %d column %s: unsafe or uncollapsed cell", pid, act_cols[c].title);
            }
        }
    }
    free(refs);
}

static void test_act_cells_content(void **state)
{
    struct world *w = *state;
    const struct model *m = &w->m;
    cell_t cells[AC_N];
    enum sev sev[AC_N];

    struct act_ref r = ref_of(m, 400);
    act_cells(m, &r, cells, sev);
    assert_string_equal(cells[AC_SERVER], "alpha");
    assert_string_equal(cells[AC_DB], "shop");
    assert_string_equal(cells[AC_CLIENT], "10.0.0.9");
    assert_string_equal(cells[AC_STATE], "active");
    assert_string_equal(cells[AC_WAIT], "Lock:relation");
    assert_int_equal(sev[AC_WAIT], SEV_CRIT);
    assert_string_equal(cells[AC_XACT], "8.0s");
    assert_string_equal(cells[AC_QAGE], "7.5s");
    assert_int_equal(sev[AC_QAGE], SEV_WARN); /* past slow_query (5s), below twice it */
    assert_string_equal(cells[AC_QUERY], "ALTER TABLE orders ADD COLUMN note text");

    /* A background worker: the backend type stands in for the state; missing text is blank. */
    r = ref_of(m, 55);
    act_cells(m, &r, cells, sev);
    assert_string_equal(cells[AC_STATE], "background worker");
    assert_string_equal(cells[AC_DB], "");
    assert_string_equal(cells[AC_USER], "");
    assert_string_equal(cells[AC_CLIENT], "");
    assert_string_equal(cells[AC_XACT], "");
    assert_string_equal(cells[AC_QAGE], "");
    assert_string_equal(cells[AC_WAIT], "Activity:LogicalLauncherMain");

    /* The long report query is cut to a cell, terminated. */
    r = ref_of(m, 150);
    act_cells(m, &r, cells, sev);
    assert_true(strlen(cells[AC_QUERY]) < CELL_MAX);
    assert_null(strstr(cells[AC_QUERY], "NEEDLE"));
    assert_memory_equal(cells[AC_QUERY], "select count(*) from events", 27);

    /* Idle in transaction is shortened; idle sessions are dimmed. */
    r = ref_of(m, 200);
    act_cells(m, &r, cells, sev);
    assert_string_equal(cells[AC_STATE], "idle in txn");
    assert_int_not_equal(sev[AC_STATE], SEV_NONE);
    r = ref_of(m, 100);
    act_cells(m, &r, cells, sev);
    assert_string_equal(cells[AC_STATE], "idle");
    assert_int_equal(sev[AC_STATE], SEV_DIM);

    /* A ref past the rows gives blank cells and no row. */
    struct act_ref bad = {ALPHA, 99};
    assert_null(act_row(m, &bad));
    act_cells(m, &bad, cells, sev);
    for (int c = 0; c < AC_N; c++)
        assert_string_equal(cells[c], "");

    assert_true(contains_ci("SELECT Foo", "foo"));
    assert_true(contains_ci("abc", ""));
    assert_true(contains_ci("abc", NULL));
    assert_true(contains_ci(NULL, NULL));
    assert_false(contains_ci(NULL, "a"));
    assert_false(contains_ci("abc", "abcd"));
}

/* A cell is cut to CELL_MAX - 1 bytes; the cut must fall between characters and escapes, or
 * the terminal gets a broken UTF-8 sequence (or a misleading half escape). */
static void test_act_cells_cut_on_boundary(void **state)
{
    struct world *w = *state;
    const struct model *m = &w->m;
    cell_t cells[AC_N];
    enum sev sev[AC_N];
    struct act_ref r = ref_of(m, 300);
    struct activity_row *row = &act_of(w, ALPHA)->rows[r.row];

    struct text t;
    text_init(&t);
    for (int i = 0; i < 200; i++)
        text_add(&t, "é"); /* 2 bytes each: CELL_MAX - 1 = 255 is odd */
    free(row->query);
    row->query = t.s;
    act_cells(m, &r, cells, sev);
    bool utf8_ok = terminal_safe(cells[AC_QUERY]);
    size_t len_utf8 = strlen(cells[AC_QUERY]);

    text_init(&t);
    for (int i = 0; i < 252; i++)
        text_add(&t, "x");
    text_add(&t, "\x1b[0m"); /* "\033" would need bytes 253..256 */
    free(row->query);
    row->query = t.s;
    act_cells(m, &r, cells, sev);
    const char *tail = cells[AC_QUERY] + 252;
    bool esc_ok = strcmp(tail, "") == 0 || strncmp(tail, "\\033", 4) == 0;

    if (!utf8_ok || !esc_ok)
        fail_msg("long cells cut mid-sequence:%s%s", utf8_ok ? "" : " UTF-8 (200 x é gave a broken last character)",
                 esc_ok ? "" : " escape (\\033 cut to a partial escape)");
    assert_true(len_utf8 <= CELL_MAX - 1);
}

/* ---- fleet ---- */

static void test_fleet_order(void **state)
{
    struct world *w = *state;
    struct model *m = &w->m;
    size_t order[NSERVERS];

    /* gamma DOWN; beta has blocked sessions (and more); alpha and acme are fine: by name. */
    fleet_order(m, order);
    assert_int_equal(order[0], GAMMA);
    assert_int_equal(order[1], BETA);
    assert_int_equal(order[2], ACME);
    assert_int_equal(order[3], ALPHA);

    /* Connecting and stale servers come before any live one, after DOWN. */
    m->servers[ACME].status = SRV_STALE;
    fleet_order(m, order);
    assert_int_equal(order[0], GAMMA);
    assert_int_equal(order[1], ACME);
    assert_int_equal(order[2], BETA);
    assert_int_equal(order[3], ALPHA);

    /* Two DOWN servers: by name. */
    m->servers[ACME].status = SRV_DOWN;
    fleet_order(m, order);
    assert_int_equal(order[0], ACME);
    assert_int_equal(order[1], GAMMA);

    /* Blocked sessions alone are enough to go first among the live ones. */
    m->servers[ACME].status = SRV_UP;
    m->servers[GAMMA].status = SRV_UP;
    struct s_server *beta = m->servers[BETA].cur->sec[PROBE_SERVER];
    beta->conns = 10;
    beta->longest_query_s = NAN;
    fleet_order(m, order);
    assert_int_equal(order[0], BETA);
    assert_int_equal(order[1], ACME);
    assert_int_equal(order[2], ALPHA);
    assert_int_equal(order[3], GAMMA);

    /* An xid age past 500M, said in the note, counts in the order too (health.c). */
    struct s_server *gamma = m->servers[GAMMA].cur->sec[PROBE_SERVER];
    gamma->xid_age = 600000000;
    fleet_order(m, order);
    assert_int_equal(order[0], BETA);
    assert_int_equal(order[1], GAMMA);
    assert_int_equal(order[2], ACME);
    assert_int_equal(order[3], ALPHA);
}

static void test_fleet_cells(void **state)
{
    struct world *w = *state;
    struct model *m = &w->m;
    cell_t c[FC_N];
    enum sev sev[FC_N];

    fleet_cells(m, &m->servers[ALPHA], c, sev);
    assert_string_equal(c[FC_SERVER], "alpha");
    assert_string_equal(c[FC_ROLE], "primary");
    assert_string_equal(c[FC_VERSION], "15.4");
    assert_string_equal(c[FC_STATUS], "UP");
    assert_int_equal(sev[FC_STATUS], SEV_OK);
    assert_string_equal(c[FC_CONNS], "43/97"); /* used / (max_connections - reserved) */
    assert_int_equal(sev[FC_CONNS], SEV_NONE);
    assert_string_equal(c[FC_ACTIVE], "6");
    assert_string_equal(c[FC_WAITING], "0");
    assert_string_equal(c[FC_IDLEX], "2");
    assert_string_equal(c[FC_LONGEST], "0.5s");
    assert_string_equal(c[FC_TPS], "150");
    assert_string_equal(c[FC_HIT], "95.0");
    assert_int_equal(sev[FC_HIT], SEV_NONE);
    assert_string_equal(c[FC_REASON], "");

    /* First sample: rates n/a. 90 of 97 slots, 3 blocked, a 30 s query. */
    fleet_cells(m, &m->servers[BETA], c, sev);
    assert_string_equal(c[FC_VERSION], "16.1");
    assert_string_equal(c[FC_TPS], "n/a");
    assert_string_equal(c[FC_HIT], "n/a");
    assert_string_equal(c[FC_CONNS], "90/97");
    assert_int_equal(sev[FC_CONNS], SEV_WARN);
    assert_string_equal(c[FC_WAITING], "3");
    assert_int_equal(sev[FC_WAITING], SEV_CRIT);
    assert_string_equal(c[FC_LONGEST], "30s");
    assert_int_equal(sev[FC_LONGEST], SEV_CRIT);
    /* 95 % of the usable slots is critical even when connections_pct is set higher (health.c:
     * the Fleet cell used to stay plain below connections_pct while the Connections pane said CRIT) */
    struct s_server *bss = m->servers[BETA].cur->sec[PROBE_SERVER];
    int keep_conns = bss->conns;
    w->cfg.th.connections_pct = 97;
    bss->conns = 94;
    fleet_cells(m, &m->servers[BETA], c, sev);
    assert_string_equal(c[FC_CONNS], "94/97");
    assert_int_equal(sev[FC_CONNS], SEV_CRIT);
    bss->conns = keep_conns;
    w->cfg.th.connections_pct = 80;

    fleet_cells(m, &m->servers[ACME], c, sev);
    assert_string_equal(c[FC_ROLE], "replica");
    assert_string_equal(c[FC_CONNS], "7/195");
    assert_string_equal(c[FC_LONGEST], "-");
    assert_string_equal(c[FC_TPS], "n/a");
    assert_string_equal(c[FC_HIT], "n/a");

    /* DOWN: status and the escaped reason; last known role dimmed, no live figures. */
    fleet_cells(m, &m->servers[GAMMA], c, sev);
    assert_string_equal(c[FC_STATUS], "DOWN");
    assert_int_equal(sev[FC_STATUS], SEV_CRIT);
    assert_string_equal(c[FC_REASON], "connection refused \\033[2J Is the server running on host \"gamma\"?");
    assert_string_equal(c[FC_ROLE], "primary");
    assert_int_equal(sev[FC_ROLE], SEV_DIM);
    assert_string_equal(c[FC_TPS], "");
    assert_string_equal(c[FC_CONNS], "");
    for (int i = 0; i < FC_N; i++)
        assert_true(terminal_safe(c[i]));

    /* Every status by name. */
    static const struct {
        enum srv_status st;
        const char *name;
    } names[] = {{SRV_CONNECTING, "CONNECTING"}, {SRV_UP, "UP"}, {SRV_STALE, "STALE"}, {SRV_DOWN, "DOWN"}};
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        assert_string_equal(srv_status_name(names[i].st), names[i].name);
        m->servers[ACME].status = names[i].st;
        snprintf(m->servers[ACME].reason, sizeof m->servers[ACME].reason, "timeout after 5.0s");
        fleet_cells(m, &m->servers[ACME], c, sev);
        assert_string_equal(c[FC_STATUS], names[i].name);
        if (names[i].st == SRV_STALE || names[i].st == SRV_DOWN)
            assert_string_equal(c[FC_REASON], "timeout after 5.0s");
    }
    m->servers[ACME].status = SRV_UP;

    /* A server that never answered: nothing but its name and status. */
    struct sample *keep = m->servers[ACME].cur;
    m->servers[ACME].cur = NULL;
    m->servers[ACME].status = SRV_CONNECTING;
    fleet_cells(m, &m->servers[ACME], c, sev);
    assert_string_equal(c[FC_SERVER], "acme");
    assert_string_equal(c[FC_STATUS], "CONNECTING");
    assert_string_equal(c[FC_ROLE], "");
    assert_string_equal(c[FC_TPS], "");
    assert_string_equal(srv_role(&m->servers[ACME]), "?");
    m->servers[ACME].cur = keep;
    m->servers[ACME].status = SRV_UP;

    /* UP, but the activity probe failed: said in the note. */
    m->servers[ALPHA].cur->err[PROBE_ACTIVITY] = xstrdup("permission denied for\nview x");
    fleet_cells(m, &m->servers[ALPHA], c, sev);
    assert_string_equal(c[FC_REASON], "activity: permission denied for view x");
    assert_int_equal(sev[FC_REASON], SEV_WARN);
}

/* RESTORE: empty (and the column left out of the text table) while the fleet has no record;
 * then the age of the last good test, "FAILED <age>", or "never", coloured by health. */
static void test_fleet_restore(void **state)
{
    struct world *w = *state;
    struct model *m = &w->m;
    cell_t *c = xcalloc(m->n * FC_N, sizeof *c);
    enum sev sev[FC_N];
    for (size_t i = 0; i < m->n; i++) {
        fleet_cells(m, &m->servers[i], &c[i * FC_N], sev);
        assert_string_equal(c[i * FC_N + FC_RESTORE], "");
        assert_int_equal(sev[FC_RESTORE], SEV_NONE);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    text_table(out, fleet_cols, FC_N, c, m->n);
    fclose(out);
    assert_null(strstr(buf, "RESTORE"));
    free(buf);

    time_t now = time(NULL);
    struct text t;
    text_init(&t);
    text_printf(&t, "{\"server\":\"alpha\",\"outcome\":\"ok\",\"started_epoch\":%lld}\n", (long long)now - 100 * 86400);
    text_printf(&t, "{\"server\":\"beta\",\"outcome\":\"ok\",\"started_epoch\":%lld}\n", (long long)now - 5 * 3600);
    text_printf(&t, "{\"server\":\"beta\",\"outcome\":\"failed\",\"started_epoch\":%lld}\n",
                (long long)now - 2 * 86400);
    model_restore_set_book(m, restore_book_parse(t.s, t.len));
    text_free(&t);
    struct {
        size_t server;
        const char *cell;
        enum sev sev;
    } want[] = {{ALPHA, "100d", SEV_WARN}, {BETA, "5h", SEV_NONE}, {GAMMA, "never", SEV_CRIT}};
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        fleet_cells(m, &m->servers[want[i].server], &c[want[i].server * FC_N], sev);
        assert_string_equal(c[want[i].server * FC_N + FC_RESTORE], want[i].cell);
        assert_int_equal(sev[FC_RESTORE], want[i].sev);
    }
    /* a newer failure: FAILED with its age */
    text_init(&t);
    text_printf(&t, "{\"server\":\"beta\",\"outcome\":\"failed\",\"started_epoch\":%lld}\n",
                (long long)now - 2 * 86400);
    model_restore_set_book(m, restore_book_parse(t.s, t.len));
    text_free(&t);
    fleet_cells(m, &m->servers[BETA], &c[BETA * FC_N], sev);
    assert_string_equal(c[BETA * FC_N + FC_RESTORE], "FAILED 2d");
    assert_int_equal(sev[FC_RESTORE], SEV_CRIT);
    out = open_memstream(&buf, &len);
    text_table(out, fleet_cols, FC_N, c, m->n);
    fclose(out);
    assert_non_null(strstr(buf, "RESTORE"));
    free(buf);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_act_sort_each_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_act_sort_missing_ties_by_pid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_act_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fleet_tags_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_act_scope_idle_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_act_cells_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_act_cells_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_act_cells_cut_on_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fleet_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fleet_cells, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fleet_restore, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
