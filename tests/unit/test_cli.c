/* test_cli.c — unit tests for the command line (include/tui/cli.h): options before or after the
 * command, the messages for unknown or misplaced words and options (with "did you mean"), what a
 * server word is, duration options and the +/- steps, and --server/--tag choosing from a config
 * (include/tui/fleet_select.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/conn.h"
#include "core/util.h"
#include "tui/cli.h"
#include "tui/fleet_select.h"

#define ARGV(...) ((char *[]){"pgfleet", __VA_ARGS__, NULL})

static int count(char **v)
{
    int n = 0;
    while (v[n])
        n++;
    return n;
}

/* Parse v; must succeed. */
static void parse_ok(struct cli_line *cl, char **v)
{
    struct text err;
    text_init(&err);
    int rc = cli_parse(cl, count(v), v, &err);
    if (rc != 0)
        fail_msg("unexpected error: %s", err.s);
    assert_string_equal(err.s, "");
    text_free(&err);
}

/* Parse v; must fail with exactly msg (one line). */
static void parse_fails(char **v, const char *msg)
{
    struct cli_line cl;
    struct text err;
    text_init(&err);
    assert_int_equal(cli_parse(&cl, count(v), v, &err), -1);
    char want[600];
    snprintf(want, sizeof want, "%s\n", msg);
    assert_string_equal(err.s, want);
    text_free(&err);
    cli_line_free(&cl);
}

static void test_options_anywhere(void **state)
{
    (void)state;
    struct cli_line cl;
    parse_ok(&cl, ARGV("-c", "fleet.yaml", "snapshot", "--json"));
    assert_int_equal(cl.cmd, CLI_SNAPSHOT);
    assert_string_equal(cl.cmd_name, "snapshot");
    assert_string_equal(cl.o.config, "fleet.yaml");
    assert_true(cl.o.json);
    assert_int_equal(cl.nargs, 0);
    cli_line_free(&cl);

    parse_ok(&cl, ARGV("-d", "1s", "snapshot"));
    assert_int_equal(cl.cmd, CLI_SNAPSHOT);
    assert_string_equal(cl.o.delay, "1s");
    cli_line_free(&cl);

    parse_ok(&cl, ARGV("-c", "fleet.yaml", "cancel", "orders-1", "4242"));
    assert_int_equal(cl.cmd, CLI_CANCEL);
    assert_int_equal(cl.nargs, 2);
    assert_string_equal(cl.args[0], "orders-1");
    assert_string_equal(cl.args[1], "4242");
    cli_line_free(&cl);

    parse_ok(&cl, ARGV("terminate", "orders-1", "--yes", "4242", "--config=f.yaml", "--read-only"));
    assert_int_equal(cl.cmd, CLI_TERMINATE);
    assert_int_equal(cl.nargs, 2);
    assert_string_equal(cl.args[1], "4242");
    assert_true(cl.o.yes);
    assert_true(cl.o.read_only);
    assert_string_equal(cl.o.config, "f.yaml");
    cli_line_free(&cl);

    /* short values attached, long values after "=", prefixes as getopt allows */
    parse_ok(&cl,
             ARGV("-cf.yaml", "-d500ms", "--timeout=3s", "db1", "--serv", "a", "--server", "b", "--tag", "t", "--idle",
                  "--no-color"));
    assert_int_equal(cl.cmd, CLI_MONITOR);
    assert_null(cl.cmd_name);
    assert_string_equal(cl.o.config, "f.yaml");
    assert_string_equal(cl.o.delay, "500ms");
    assert_string_equal(cl.timeout, "3s");
    assert_int_equal(cl.o.nonly, 2);
    assert_string_equal(cl.o.only[0], "a");
    assert_string_equal(cl.o.only[1], "b");
    assert_int_equal(cl.ntags, 1);
    assert_string_equal(cl.tags[0], "t");
    assert_true(cl.o.idle && cl.o.no_color);
    assert_int_equal(cl.nargs, 1);
    assert_string_equal(cl.args[0], "db1");
    cli_line_free(&cl);

    parse_ok(&cl, ARGV("audit", "--since", "1d"));
    assert_int_equal(cl.cmd, CLI_AUDIT);
    assert_string_equal(cl.o.since, "1d");
    cli_line_free(&cl);
}

static void test_double_dash(void **state)
{
    (void)state;
    struct cli_line cl;
    /* after "--" a word is a server, even one spelt like a command */
    parse_ok(&cl, ARGV("--", "snapshot"));
    assert_int_equal(cl.cmd, CLI_MONITOR);
    assert_int_equal(cl.nargs, 1);
    assert_string_equal(cl.args[0], "snapshot");
    cli_line_free(&cl);
    parse_ok(&cl, ARGV("snapshot", "--json", "--", "audio", "--idle=x"));
    assert_int_equal(cl.cmd, CLI_SNAPSHOT);
    assert_false(cl.o.idle);
    assert_int_equal(cl.nargs, 2);
    assert_string_equal(cl.args[0], "audio");
    assert_string_equal(cl.args[1], "--idle=x"); /* a conninfo, as far as the parser knows */
    cli_line_free(&cl);
}

static void test_help_and_version_win(void **state)
{
    (void)state;
    struct cli_line cl;
    parse_ok(&cl, ARGV("snapshot", "--yes", "-h"));
    assert_true(cl.help);
    cli_line_free(&cl);
    parse_ok(&cl, ARGV("-V", "audit", "--idle"));
    assert_true(cl.version);
    cli_line_free(&cl);
    parse_ok(&cl, ARGV("-hV"));
    assert_true(cl.help && cl.version);
    cli_line_free(&cl);
}

static void test_unknown_words(void **state)
{
    (void)state;
    parse_fails(ARGV("snapshto"), "pgfleet: unknown command \"snapshto\" (did you mean \"snapshot\"?)");
    parse_fails(ARGV("-c", "f.yaml", "Terminat", "x", "1"),
                "pgfleet: unknown command \"Terminat\" (did you mean \"terminate\"?)");
    parse_fails(
        ARGV("db1", "snapshot"),
        "pgfleet: \"snapshot\" is a command: put it before the servers (pgfleet snapshot [OPTIONS] [SERVER...])");
    parse_fails(ARGV("foo bar"),
                "pgfleet: \"foo bar\" is not a command, a conninfo (\"host=db1 dbname=app\", "
                "postgresql://db1/app) or a host name; see pgfleet --help");
    /* what the user typed is escaped in the message */
    parse_fails(ARGV("snapshot", "x\033[2Jy"),
                "pgfleet: \"x\\033[2Jy\" is not a command, a conninfo (\"host=db1 "
                "dbname=app\", postgresql://db1/app) or a host name; see pgfleet --help");
    /* the misspelt command, not the options it would not take */
    parse_fails(ARGV("-c", "f.yaml", "snapshto", "--json"),
                "pgfleet: unknown command \"snapshto\" (did you mean \"snapshot\"?)");
    parse_fails(ARGV("audit", "x"), "pgfleet: audit takes no arguments (\"x\"); see pgfleet --help");
}

static void test_unknown_options(void **state)
{
    (void)state;
    parse_fails(ARGV("--hlep"), "pgfleet: unknown option \"--hlep\" (did you mean \"--help\"?); see pgfleet --help");
    parse_fails(ARGV("snapshot", "--jsno"),
                "pgfleet: unknown option \"--jsno\" (did you mean \"--json\"?); see pgfleet --help");
    parse_fails(ARGV("--frobnicate"), "pgfleet: unknown option \"--frobnicate\"; see pgfleet --help");
    parse_fails(ARGV("snapshot", "-json"),
                "pgfleet: unknown option \"-json\" (did you mean \"--json\"?); see pgfleet --help");
    parse_fails(ARGV("-x"), "pgfleet: unknown option \"-x\"; see pgfleet --help");
    parse_fails(ARGV("--s", "x"), "pgfleet: option \"--s\" is ambiguous (--server, --since); see pgfleet --help");
    parse_fails(ARGV("snapshot", "--json=yes"), "pgfleet: --json takes no value; see pgfleet --help");
    parse_fails(ARGV("snapshot", "-c"), "pgfleet: -c/--config needs a FILE; see pgfleet --help");
    parse_fails(ARGV("snapshot", "--timeout"), "pgfleet: --timeout needs a TIME; see pgfleet --help");
}

static void test_options_per_command(void **state)
{
    (void)state;
    parse_fails(
        ARGV("snapshot", "--yes"),
        "pgfleet: --yes does not apply to snapshot: it goes with cancel, terminate, restore-test and batch (see pgfleet --help)");
    parse_fails(ARGV("audit", "--idle"),
                "pgfleet: --idle does not apply to audit: it goes with the monitor and snapshot (see pgfleet --help)");
    /* the option may come before the command: still refused */
    parse_fails(
        ARGV("--json", "db1"),
        "pgfleet: --json does not apply to the monitor: it goes with snapshot, restore-test and batch (see pgfleet --help)");
    parse_fails(ARGV("-d", "1s", "cancel", "x", "1"),
                "pgfleet: -d/--delay does not apply to cancel: it goes with the monitor and snapshot (see pgfleet "
                "--help)");
    parse_fails(ARGV("snapshot", "--read-only"),
                "pgfleet: --read-only does not apply to snapshot: it goes with the "
                "monitor, cancel, terminate, restore-test and batch (see pgfleet --help)");
    parse_fails(ARGV("snapshot", "--since", "1h"),
                "pgfleet: --since does not apply to snapshot: it goes with audit (see pgfleet --help)");
    parse_fails(ARGV("-c", "a.yaml", "snapshot", "-c", "b.yaml"), "pgfleet: -c/--config is given twice; give one FILE");
    parse_fails(ARGV("snapshot", "--timeout", "1s", "--timeout=2s"),
                "pgfleet: --timeout is given twice; give one TIME");
}

static void test_word_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *w;
        enum word_kind k;
        const char *near;
    } cases[] = {
        {"db1", WORD_HOST, NULL},
        {"db1.example.com", WORD_HOST, NULL},
        {"orders-1", WORD_HOST, NULL},
        {"10.0.0.5", WORD_HOST, NULL},
        {"::1", WORD_HOST, NULL},
        {"/run/postgresql", WORD_HOST, NULL},
        {"audit.example.com", WORD_HOST, NULL}, /* dotted: a host, whatever it looks like */
        {"host=db1 dbname=app", WORD_CONNINFO, NULL},
        {"postgresql://db1/app", WORD_CONNINFO, NULL},
        {"snapshto", WORD_MISSPELT_COMMAND, "snapshot"},
        {"SNAPSHOT", WORD_MISSPELT_COMMAND, "snapshot"},
        {"cancle", WORD_MISSPELT_COMMAND, "cancel"},
        {"audti", WORD_MISSPELT_COMMAND, "audit"},
        {"db", WORD_HOST, NULL},
        {"foo bar", WORD_BAD, NULL},
        {"-", WORD_BAD, NULL},
        {"", WORD_BAD, NULL},
        {"db1;rm", WORD_BAD, NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const char *near;
        enum word_kind k = cli_word_kind(cases[i].w, &near);
        if (k != cases[i].k || (cases[i].near ? !near || strcmp(near, cases[i].near) != 0 : near != NULL))
            fail_msg("\"%s\": kind %d near %s (want %d %s)", cases[i].w, k, near ? near : "-", cases[i].k,
                     cases[i].near ? cases[i].near : "-");
    }
}

static void test_host_conninfo(void **state)
{
    (void)state;
    char *c = cli_host_conninfo("db1");
    assert_string_equal(c, "host='db1'");
    char *name = conn_display_name(c);
    assert_string_equal(name, "db1:5432");
    free(name);
    free(c);
    c = cli_host_conninfo("/run/my socket's");
    assert_string_equal(c, "host='/run/my socket\\'s'");
    char *err = NULL;
    assert_int_equal(conn_check_conninfo(c, &err), 0);
    free(c);
}

static void test_durations(void **state)
{
    (void)state;
    struct text err;
    text_init(&err);
    int64_t ms = 0;
    assert_int_equal(cli_duration("delay", "100ms", REFRESH_MIN_MS, REFRESH_MAX_MS, &ms, &err), 0);
    assert_int_equal(ms, 100);
    assert_int_equal(cli_duration("delay", "1h", REFRESH_MIN_MS, REFRESH_MAX_MS, &ms, &err), 0);
    assert_int_equal(ms, 3600000);
    assert_string_equal(err.s, "");
    assert_int_equal(cli_duration("delay", "50ms", REFRESH_MIN_MS, REFRESH_MAX_MS, &ms, &err), -1);
    assert_string_equal(err.s, "pgfleet: bad delay \"50ms\" (use e.g. 2s, 500ms; from 100ms to 1h)\n");
    text_clear(&err);
    assert_int_equal(cli_duration("timeout", "2x", TIMEOUT_MIN_MS, TIMEOUT_MAX_MS, &ms, &err), -1);
    assert_string_equal(err.s, "pgfleet: bad timeout \"2x\" (use e.g. 2s, 500ms; from 100ms to 1h)\n");
    text_clear(&err);
    assert_int_equal(cli_duration("timeout", "61m", TIMEOUT_MIN_MS, TIMEOUT_MAX_MS, &ms, &err), -1);
    assert_int_equal(cli_duration("x", "1", 1000, 600000, &ms, &err), 0);
    assert_int_equal(ms, 1000);
    text_clear(&err);
    assert_int_equal(cli_duration("x", "11m", 1000, 600000, &ms, &err), -1);
    assert_string_equal(err.s, "pgfleet: bad x \"11m\" (use e.g. 2s, 500ms; from 1s to 10m)\n");
    text_free(&err);
}

static void test_refresh_steps(void **state)
{
    (void)state;
    assert_int_equal(refresh_step(2000, +1), 5000);
    assert_int_equal(refresh_step(2000, -1), 1000);
    assert_int_equal(refresh_step(1500, +1), 2000); /* -d 1500ms: the next step either way */
    assert_int_equal(refresh_step(1500, -1), 1000);
    assert_int_equal(refresh_step(REFRESH_MIN_MS, -1), REFRESH_MIN_MS);
    assert_int_equal(refresh_step(REFRESH_MAX_MS, +1), REFRESH_MAX_MS);
    /* the keys cover the whole range of -d, in steps of at most 5x */
    int64_t v = REFRESH_MIN_MS, n = 0;
    while (v < REFRESH_MAX_MS && n++ < 100) {
        int64_t next = refresh_step(v, +1);
        assert_true(next > v && next <= 5 * v);
        v = next;
    }
    assert_int_equal(v, REFRESH_MAX_MS);
    while (v > REFRESH_MIN_MS && n-- > 0)
        v = refresh_step(v, -1);
    assert_int_equal(v, REFRESH_MIN_MS);
}

/* ---- fleet_select ---- */

static void add_server(struct config *cfg, const char *name, const char *tag)
{
    cfg->servers = xreallocarray(cfg->servers, cfg->nservers + 1, sizeof *cfg->servers);
    struct server_conf *s = &cfg->servers[cfg->nservers++];
    memset(s, 0, sizeof *s);
    s->name = xstrdup(name);
    s->conninfo = xasprintf("host=%s", name);
    if (tag) {
        s->tags = xcalloc(1, sizeof *s->tags);
        s->tags[s->ntags++] = xstrdup(tag);
    }
}

static void add_pooler(struct config *cfg, const char *name, const char *serves)
{
    cfg->poolers = xreallocarray(cfg->poolers, cfg->npoolers + 1, sizeof *cfg->poolers);
    struct pooler_conf *p = &cfg->poolers[cfg->npoolers++];
    memset(p, 0, sizeof *p);
    p->name = xstrdup(name);
    p->conninfo = xstrdup("host=bouncer");
    p->serves = xcalloc(1, sizeof *p->serves);
    p->serves[p->nserves++] = xstrdup(serves);
}

static void fleet(struct config *cfg)
{
    config_init(cfg);
    cfg->path = xstrdup("fleet.yaml");
    add_server(cfg, "orders-1", "orders");
    add_server(cfg, "orders-2", "orders");
    add_server(cfg, "billing", "billing");
    add_pooler(cfg, "bouncer-orders", "orders-1");
    add_pooler(cfg, "bouncer-billing", "billing");
}

/* "orders-1 orders-2 | bouncer-orders": what cfg holds now. */
static char *names(const struct config *cfg)
{
    struct text t;
    text_init(&t);
    for (size_t i = 0; i < cfg->nservers; i++)
        text_printf(&t, "%s%s", i ? " " : "", cfg->servers[i].name);
    text_add(&t, " |");
    for (size_t i = 0; i < cfg->npoolers; i++)
        text_printf(&t, " %s", cfg->poolers[i].name);
    return t.s;
}

static void expect_select(char **only, size_t nonly, const char **tags, size_t ntags, const char *want)
{
    struct config cfg;
    struct text err;
    fleet(&cfg);
    text_init(&err);
    assert_int_equal(fleet_select(&cfg, only, nonly, tags, ntags, &err), 0);
    char *got = names(&cfg);
    assert_string_equal(got, want);
    free(got);
    text_free(&err);
    config_free(&cfg);
}

static void expect_select_fails(char **only, size_t nonly, const char **tags, size_t ntags, const char *msg)
{
    struct config cfg;
    struct text err;
    fleet(&cfg);
    text_init(&err);
    assert_int_equal(fleet_select(&cfg, only, nonly, tags, ntags, &err), -1);
    assert_string_equal(err.s, msg);
    char *got = names(&cfg);
    assert_string_equal(got, "orders-1 orders-2 billing | bouncer-orders bouncer-billing");
    free(got);
    text_free(&err);
    config_free(&cfg);
}

static void test_select(void **state)
{
    (void)state;
    char *o1[] = {"orders-2"}, *o2[] = {"bouncer-orders"}, *o3[] = {"billing", "orders-1"};
    const char *t1[] = {"orders"}, *t2[] = {"billing"};
    expect_select(NULL, 0, NULL, 0, "orders-1 orders-2 billing | bouncer-orders bouncer-billing");
    expect_select(o1, 1, NULL, 0, "orders-2 |");        /* no pooler serves it */
    expect_select(o2, 1, NULL, 0, " | bouncer-orders"); /* a pooler alone */
    expect_select(o3, 2, NULL, 0, "orders-1 billing | bouncer-orders bouncer-billing");
    expect_select(NULL, 0, t1, 1, "orders-1 orders-2 | bouncer-orders"); /* with its pooler */
    expect_select(o1, 1, t2, 1, "orders-2 billing | bouncer-billing");   /* either chooses */
    char *bad[] = {"orders-3"}, *far[] = {"zzzzzzzz"};
    const char *badtag[] = {"order"};
    expect_select_fails(
        bad, 1, NULL, 0,
        "pgfleet: --server orders-3: no such server or pooler in fleet.yaml (did you mean \"orders-1\"?)\n");
    expect_select_fails(far, 1, NULL, 0, "pgfleet: --server zzzzzzzz: no such server or pooler in fleet.yaml\n");
    expect_select_fails(NULL, 0, badtag, 1,
                        "pgfleet: --tag order: no server has this tag in fleet.yaml (did you mean \"orders\"?)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_anywhere),
        cmocka_unit_test(test_double_dash),
        cmocka_unit_test(test_help_and_version_win),
        cmocka_unit_test(test_unknown_words),
        cmocka_unit_test(test_unknown_options),
        cmocka_unit_test(test_options_per_command),
        cmocka_unit_test(test_word_kinds),
        cmocka_unit_test(test_host_conninfo),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_refresh_steps),
        cmocka_unit_test(test_select),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
