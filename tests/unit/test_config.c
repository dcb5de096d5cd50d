/* test_config.c — unit tests for the fleet.yaml loader (probes/core/config.c): every kind of error
 * with its exact FILE:LINE:COL message, full configs in block and flow style, the password
 * warning, servers from the command line and where the config file is looked for.
 * Fixtures live in $PGFLEET_TESTDATA/config (default tests/data/config, run from the top). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/conn.h"
#include "core/util.h"
#include "testutil.h"

/* text_init may leave s NULL until something is added. */
static const char *str(const struct text *t) { return t->s ? t->s : ""; }

/* Loads a fixture that must fail and compares the whole error text with lines, each given as
 * "LINE:COL: message" (the file name is prefixed here, as the loader does). */
static void expect_errors(const char *name, const char *const *lines, size_t n)
{
    char *path = fixture_path("config", name);
    struct config cfg;
    struct text err, warn, want;
    config_init(&cfg);
    text_init(&err);
    text_init(&warn);
    text_init(&want);
    for (size_t i = 0; i < n; i++)
        text_printf(&want, "%s:%s\n", path, lines[i]);
    assert_int_equal(config_load(&cfg, path, &err, &warn), -1);
    assert_string_equal(str(&err), str(&want));
    config_free(&cfg);
    text_free(&err);
    text_free(&warn);
    text_free(&want);
    free(path);
}

/* clang-format off */
#define EXPECT_ERRORS(name, ...)                                                                   \
    do {                                                                                           \
        static const char *const lines_[] = {__VA_ARGS__};                                         \
        expect_errors(name, lines_, ARRAY_LEN(lines_));                                            \
    } while (0)
/* clang-format on */

/* Loads a fixture that must succeed with exactly these notes, each given as "LINE:COL: note: …"
 * (the file name is prefixed here, as the loader does). */
static void load_noted(const char *name, struct config *cfg, const char *const *notes, size_t n)
{
    char *path = fixture_path("config", name);
    struct text err, warn, want;
    text_init(&err);
    text_init(&warn);
    text_init(&want);
    for (size_t i = 0; i < n; i++)
        text_printf(&want, "%s:%s\n", path, notes[i]);
    config_init(cfg);
    int rc = config_load(cfg, path, &err, &warn);
    assert_string_equal(str(&err), "");
    assert_int_equal(rc, 0);
    assert_string_equal(str(&warn), str(&want));
    assert_string_equal(cfg->path, path);
    text_free(&err);
    text_free(&warn);
    text_free(&want);
    free(path);
}

/* Loads a fixture that must succeed without warnings or notes. */
static void load_ok(const char *name, struct config *cfg) { load_noted(name, cfg, NULL, 0); }

#define NOT_USED " is not used by this version of pgfleet (it is read and checked only)"

/* A temporary file with the given content and mode; returns its malloc'd path. */
static char *write_temp(const char *content, mode_t mode)
{
    const char *tmp = getenv("TMPDIR");
    char *path = xasprintf("%s/pgfleet-test-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(content);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return path;
}

/* ---- defaults and good files -------------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    struct config cfg;
    config_init(&cfg);
    assert_null(cfg.path);
    assert_int_equal(cfg.refresh_ms, 2000);
    assert_int_equal(cfg.timeout_ms, 5000);
    assert_int_equal(cfg.th.slow_query_ms, 5000);
    assert_int_equal(cfg.th.idle_in_transaction_ms, 30000);
    assert_int_equal(cfg.th.repl_lag_bytes, 16 * 1024 * 1024);
    assert_int_equal(cfg.th.repl_lag_ms, 30000);
    assert_true(cfg.th.connections_pct == 80);
    assert_true(cfg.th.cache_hit_pct == 95);
    assert_int_equal(cfg.nservers, 0);
    assert_int_equal(cfg.npoolers, 0);
    assert_int_equal(cfg.nescalation, 0);
    assert_false(cfg.read_only);
    assert_int_equal(cfg.restore_max_age_days, 90);
    assert_null(cfg.restore.scratch_dir);
    assert_null(cfg.restore.method);
    assert_int_equal(cfg.restore.ncanaries, 0);
    assert_int_equal(cfg.failover_max_lag_bytes, 1024 * 1024);
    assert_null(cfg.failover_pooler_db_file);
    config_free(&cfg);
}

static void test_good_block(void **state)
{
    (void)state;
    struct config cfg;
    /* the sections of features not there yet are checked, and each gets a note at its key */
    static const char *const notes[] = {
        "36:1: note: failover" NOT_USED,
        "39:1: note: escalation" NOT_USED,
    };
    load_noted("good_block.yaml", &cfg, notes, ARRAY_LEN(notes));
    assert_int_equal(cfg.refresh_ms, 500);
    assert_int_equal(cfg.timeout_ms, 10000);
    assert_int_equal(cfg.th.slow_query_ms, 3000);
    assert_int_equal(cfg.th.idle_in_transaction_ms, 60000);
    assert_int_equal(cfg.th.repl_lag_ms, 45000);
    assert_int_equal(cfg.th.repl_lag_bytes, 32 * 1024 * 1024);
    assert_true(cfg.th.connections_pct == 75.5);
    assert_true(cfg.th.cache_hit_pct == 99);

    assert_int_equal(cfg.nservers, 3);
    assert_string_equal(cfg.servers[0].name, "orders-1");
    assert_string_equal(cfg.servers[0].conninfo, "host=10.0.0.1 dbname=orders user=monitor");
    assert_int_equal(cfg.servers[0].ntags, 2);
    assert_string_equal(cfg.servers[0].tags[0], "orders");
    assert_string_equal(cfg.servers[0].tags[1], "primary");
    assert_int_equal(cfg.servers[0].line, 12);
    assert_int_equal(cfg.servers[0].col, 5);
    assert_string_equal(cfg.servers[1].name, "orders-2");
    assert_string_equal(cfg.servers[1].conninfo, "service=orders-2");
    assert_int_equal(cfg.servers[1].ntags, 0);
    assert_int_equal(cfg.servers[1].line, 17);
    assert_string_equal(cfg.servers[2].name, "billing_db.eu");
    assert_string_equal(cfg.servers[2].conninfo, "postgresql://monitor@db.example.com:5433/billing");
    assert_int_equal(cfg.servers[2].ntags, 0);

    assert_int_equal(cfg.npoolers, 1);
    assert_string_equal(cfg.poolers[0].name, "orders-bouncer");
    assert_string_equal(cfg.poolers[0].conninfo, "host=10.0.0.9 port=6432 dbname=pgbouncer user=monitor");
    assert_int_equal(cfg.poolers[0].nserves, 2);
    assert_string_equal(cfg.poolers[0].serves[0], "orders-1");
    assert_string_equal(cfg.poolers[0].serves[1], "orders-2");
    assert_int_equal(cfg.poolers[0].line, 23);
    assert_int_equal(cfg.poolers[0].col, 5);

    assert_int_equal(cfg.restore_max_age_days, 30);
    assert_string_equal(cfg.restore.scratch_dir, "/var/tmp/pgfleet-rt");
    assert_string_equal(cfg.restore.method, "pgbackrest");
    assert_string_equal(cfg.restore.stanza, "main");
    assert_int_equal(cfg.restore.ncanaries, 2);
    assert_string_equal(cfg.restore.canaries[0].database, "orders");
    assert_string_equal(cfg.restore.canaries[0].query, "SELECT max(id) FROM orders");
    assert_null(cfg.restore.canaries[1].database);
    assert_string_equal(cfg.restore.canaries[1].query, "SELECT count(*) FROM pg_class");
    assert_int_equal(cfg.failover_max_lag_bytes, 512 * 1024);
    assert_string_equal(cfg.failover_pooler_db_file, "/etc/pgbouncer/databases.ini");
    assert_int_equal(cfg.nescalation, 2);
    assert_string_equal(cfg.escalation[0], "DBA on call: +1 555 0100");
    assert_string_equal(cfg.escalation[1], "#db-incidents on chat");
    assert_true(cfg.read_only);
    config_free(&cfg);
}

static void test_good_flow(void **state)
{
    (void)state;
    struct config cfg;
    static const char *const notes[] = {
        "12:1: note: failover" NOT_USED,
        "13:1: note: escalation" NOT_USED,
    };
    load_noted("good_flow.yaml", &cfg, notes, ARRAY_LEN(notes));
    assert_int_equal(cfg.refresh_ms, 2000); /* bare number = seconds */
    assert_int_equal(cfg.timeout_ms, 5000); /* not given: default */
    assert_int_equal(cfg.th.slow_query_ms, 5000);
    assert_int_equal(cfg.th.idle_in_transaction_ms, 30000);
    assert_int_equal(cfg.th.repl_lag_bytes, 16 * 1024 * 1024);
    assert_int_equal(cfg.th.repl_lag_ms, 30000);
    assert_true(cfg.th.connections_pct == 80);
    assert_true(cfg.th.cache_hit_pct == 95);

    assert_int_equal(cfg.nservers, 2);
    assert_string_equal(cfg.servers[0].name, "orders-1");
    assert_string_equal(cfg.servers[0].conninfo, "host=10.0.0.1 dbname=orders user=monitor");
    assert_int_equal(cfg.servers[0].ntags, 1);
    assert_string_equal(cfg.servers[0].tags[0], "orders");
    assert_int_equal(cfg.servers[0].line, 6);
    assert_int_equal(cfg.servers[0].col, 5);
    assert_string_equal(cfg.servers[1].name, "orders-2");
    assert_string_equal(cfg.servers[1].conninfo, "service=orders-2");
    assert_int_equal(cfg.servers[1].ntags, 1); /* through the alias *orders */
    assert_string_equal(cfg.servers[1].tags[0], "orders");

    assert_int_equal(cfg.npoolers, 1);
    assert_string_equal(cfg.poolers[0].name, "orders-bouncer");
    assert_string_equal(cfg.poolers[0].conninfo, "host=10.0.0.9 port=6432 dbname=pgbouncer user=monitor");
    assert_int_equal(cfg.poolers[0].nserves, 1);
    assert_string_equal(cfg.poolers[0].serves[0], "orders-1");

    assert_int_equal(cfg.restore_max_age_days, 90);
    assert_string_equal(cfg.restore.scratch_dir, "/var/tmp/pgfleet-rt");
    assert_string_equal(cfg.restore.method, "basebackup");
    assert_int_equal(cfg.restore.ncanaries, 0);
    assert_int_equal(cfg.failover_max_lag_bytes, 1024 * 1024);
    assert_string_equal(cfg.failover_pooler_db_file, "/etc/pgbouncer/databases.ini");
    assert_int_equal(cfg.nescalation, 1);
    assert_string_equal(cfg.escalation[0], "DBA on call: +1 555 0100");
    assert_false(cfg.read_only);
    config_free(&cfg);
}

static void test_empty_file(void **state)
{
    (void)state;
    struct config cfg;
    load_ok("empty.yaml", &cfg);
    assert_int_equal(cfg.refresh_ms, 2000);
    assert_int_equal(cfg.nservers, 0);
    config_free(&cfg);
}

static void test_no_servers(void **state)
{
    (void)state;
    struct config cfg;
    load_ok("no_servers.yaml", &cfg); /* [] and empty values are empty lists */
    assert_int_equal(cfg.refresh_ms, 1000);
    assert_int_equal(cfg.nservers, 0);
    assert_int_equal(cfg.npoolers, 0);
    assert_int_equal(cfg.nescalation, 0);
    config_free(&cfg);
}

static void test_read_only_spellings(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool val;
    } cases[] = {{"true", true},   {"yes", true}, {"on", true},   {"True", true},
                 {"false", false}, {"no", false}, {"off", false}, {"OFF", false}};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *yaml = xasprintf("read_only: %s\n", cases[i].text);
        char *path = write_temp(yaml, 0600);
        struct config cfg;
        struct text err, warn;
        config_init(&cfg);
        cfg.read_only = !cases[i].val;
        text_init(&err);
        text_init(&warn);
        assert_int_equal(config_load(&cfg, path, &err, &warn), 0);
        assert_int_equal(cfg.read_only, cases[i].val);
        config_free(&cfg);
        text_free(&err);
        text_free(&warn);
        unlink(path);
        free(path);
        free(yaml);
    }
}

/* ---- one test per kind of error ----------------------------------------------------------- */

static void test_missing_file(void **state)
{
    (void)state;
    char *path = fixture_path("config", "does-not-exist.yaml");
    struct config cfg;
    struct text err, warn;
    config_init(&cfg);
    text_init(&err);
    text_init(&warn);
    assert_int_equal(config_load(&cfg, path, &err, &warn), -1);
    char *want = xasprintf("%s: cannot open: No such file or directory\n", path);
    assert_string_equal(str(&err), want);
    free(want);

    /* A directory opens fine but cannot be read as a file. */
    char *dir = fixture_path("config", "");
    text_clear(&err);
    assert_int_equal(config_load(&cfg, dir, &err, &warn), -1);
    want = xasprintf("%s: cannot read: is a directory\n", dir);
    assert_string_equal(str(&err), want);
    free(want);
    free(dir);
    config_free(&cfg);
    text_free(&err);
    text_free(&warn);
    free(path);
}

static void test_syntax_error(void **state)
{
    (void)state;
    EXPECT_ERRORS("syntax.yaml",
                  "6:1: YAML syntax error: found unexpected end of stream "
                  "(while scanning a quoted scalar at 4:15)");
    EXPECT_ERRORS("syntax2.yaml",
                  "4:4: YAML syntax error: did not find expected '-' indicator "
                  "(while parsing a block collection at 3:3)");
}

static void test_unknown_key(void **state)
{
    (void)state;
    EXPECT_ERRORS("unknown_key.yaml", "1:1: unknown key \"refersh\" (did you mean \"refresh\"?)");
}

static void test_unknown_key_no_suggestion(void **state)
{
    (void)state;
    EXPECT_ERRORS("unknown_key_far.yaml",
                  "2:1: unknown key \"colour\" (valid keys: refresh, timeout, thresholds, "
                  "servers, poolers, restore_test, failover, escalation, read_only, actions)");
}

static void test_unknown_key_nested(void **state)
{
    (void)state;
    EXPECT_ERRORS("unknown_key_nested.yaml",
                  "2:3: unknown key \"slow_querry\" in thresholds (did you mean \"slow_query\"?)",
                  "4:36: unknown key \"tag\" in server (did you mean \"tags\"?)");
}

static void test_wrong_type(void **state)
{
    (void)state;
    EXPECT_ERRORS("wrong_type.yaml", "2:3: servers must be a list, not a map");
    EXPECT_ERRORS("wrong_type2.yaml", "1:10: refresh must be a duration, not a list",
                  "2:13: thresholds must be a map, not a single value", "4:26: conninfo must be a string, not a map",
                  "5:5: each server must be a map (name:, conninfo:, tags:), not a single value",
                  "6:13: escalation must be a list, not a single value");
}

static void test_missing_required(void **state)
{
    (void)state;
    EXPECT_ERRORS("missing_required.yaml", "2:5: server is missing required key \"name\"",
                  "3:5: server \"b\" is missing required key \"conninfo\"",
                  "4:5: server is missing required key \"name\"", "4:5: server is missing required key \"conninfo\"");
}

static void test_duplicate_server(void **state)
{
    (void)state;
    EXPECT_ERRORS("duplicate_server.yaml", "5:13: duplicate server name \"orders-1\" (first defined at 2:5)");
}

static void test_duplicate_pooler(void **state)
{
    (void)state;
    EXPECT_ERRORS("duplicate_pooler.yaml", "5:13: duplicate pooler name \"bouncer\" (first defined at 4:5)",
                  "6:5: pooler is missing required key \"name\"");
}

static void test_bad_conninfo(void **state)
{
    (void)state;
    /* The wording is libpq's (through conn.c); what we own is where and how it is wrapped. */
    char *msg = NULL;
    assert_int_equal(conn_check_conninfo("host=a bogus=1", &msg), -1);
    assert_non_null(msg);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    char *line = xasprintf("3:15: conninfo rejected by libpq: %s", msg);
    const char *lines[] = {line};
    expect_errors("bad_conninfo.yaml", lines, 1);
    free(line);
    free(msg);
}

static void test_bad_conninfo_hides_password(void **state)
{
    (void)state;
    char *path = write_temp("servers:\n  - { name: a, conninfo: \"host=a password=hunter2 "
                            "bogus=1\" }\n  - { name: a, conninfo: \"password=hunter2\" }\n",
                            0600);
    struct config cfg;
    struct text err, warn;
    config_init(&cfg);
    text_init(&err);
    text_init(&warn);
    assert_int_equal(config_load(&cfg, path, &err, &warn), -1);
    assert_non_null(strstr(str(&err), "conninfo rejected by libpq"));
    assert_null(strstr(str(&err), "hunter2"));
    config_free(&cfg);
    text_free(&err);
    text_free(&warn);
    unlink(path);
    free(path);
}

static void test_bad_duration(void **state)
{
    (void)state;
    EXPECT_ERRORS("bad_duration.yaml", "1:10: bad duration \"2x\" for refresh (use e.g. 2s, 500ms, 1m)");
}

static void test_bad_size(void **state)
{
    (void)state;
    EXPECT_ERRORS("bad_size.yaml", "2:19: bad size \"16QB\" for repl_lag_bytes (use e.g. 16MB, 512kB, 1GB)",
                  "3:28: bad size \"lots\" for max_lag_bytes (use e.g. 16MB, 512kB, 1GB)");
}

static void test_out_of_range(void **state)
{
    (void)state;
    EXPECT_ERRORS("out_of_range.yaml", "1:10: refresh must be between 100ms and 1h, got \"50ms\"",
                  "2:10: timeout must be between 100ms and 1h, got \"2h\"",
                  "3:32: connections_pct must be between 0 and 100, got \"150\"",
                  "3:52: cache_hit_pct must be between 0 and 100, got \"-1\"",
                  "4:31: max_age_days must be between 1 and 36500, got \"0\"");
}

static void test_unknown_pooler_server(void **state)
{
    (void)state;
    EXPECT_ERRORS("unknown_pooler_server.yaml",
                  "4:24: pooler \"bouncer\" serves unknown server \"orders-3\" "
                  "(did you mean \"orders-1\"?)");
}

static void test_duplicate_key(void **state)
{
    (void)state;
    EXPECT_ERRORS("duplicate_key.yaml", "3:1: duplicate key \"refresh\" (first defined at 1:1)",
                  "5:36: duplicate key \"name\" (first defined at 5:7)");
}

static void test_bad_name(void **state)
{
    (void)state;
    EXPECT_ERRORS("bad_name.yaml", "2:13: bad name \"orders 1\" (use 1 to 63 of A-Z a-z 0-9 _ . -)");
}

static void test_restore_conf(void **state)
{
    (void)state;
    struct config cfg;
    load_noted("restore.yaml", &cfg, NULL, 0);
    struct restore_conf a, b;
    restore_conf_resolve(&cfg, &cfg.servers[0], &a);
    restore_conf_resolve(&cfg, &cfg.servers[1], &b);
    assert_string_equal(a.method, "basebackup");
    assert_true(a.keep_on_failure);
    assert_false(a.amcheck);
    assert_int_equal(a.ncanaries, 1);
    assert_int_equal(a.timeout_ms, 6LL * 3600 * 1000); /* the default */
    assert_null(a.source);
    assert_string_equal(b.method, "pgbackrest"); /* its own over the fleet's */
    assert_string_equal(b.stanza, "main");
    assert_string_equal(b.source, "a");
    assert_string_equal(b.run_as, "postgres"); /* the fleet's, not overridden */
    assert_string_equal(b.scratch_dir, "/var/tmp/rt");
    assert_false(b.keep_on_failure); /* false overrides the fleet's true */
    assert_true(b.amcheck);
    assert_int_equal(b.ncanaries, 1); /* none of its own: the fleet's */
    assert_int_equal(b.timeout_ms, 2LL * 3600 * 1000);
    assert_string_equal(b.max_rate, "50M");
    assert_int_equal(cfg.restore_max_age_days, 30);
    config_free(&cfg);
    EXPECT_ERRORS("restore_bad.yaml",
                  "4:35: max_age_days is set for the whole fleet (restore_test: at the top), not per server",
                  "4:64: a canary needs a query (e.g. query: SELECT max(id) FROM orders)",
                  "4:46: restore_test source \"nope\" is not a server of this config");
}

static void test_bad_values(void **state)
{
    (void)state;
    EXPECT_ERRORS("bad_values.yaml", "1:12: bad value \"maybe\" for read_only (use true or false)",
                  "3:11: bad method \"tape\" for restore_test (use basebackup, logical, "
                  "pgbackrest or hook)",
                  "4:17: bad whole number \"soon\" for max_age_days", "5:13: canaries must be a list, not a map",
                  "6:32: bad number \"lots\" for connections_pct");
}

static void test_nul_in_value(void **state)
{
    (void)state;
    EXPECT_ERRORS("nul.yaml", "1:10: refresh must not contain a NUL character");
}

static void test_top_level_not_a_map(void **state)
{
    (void)state;
    EXPECT_ERRORS("not_a_map.yaml", "1:1: the top level must be a map (refresh:, servers:, ...), not a list");
}

static void test_two_documents(void **state)
{
    (void)state;
    EXPECT_ERRORS("two_documents.yaml", "3:1: only one YAML document is allowed, found a second one");
}

static void test_keeps_going(void **state)
{
    (void)state;
    EXPECT_ERRORS("many_errors.yaml", "2:1: unknown key \"refersh\" (did you mean \"refresh\"?)",
                  "3:10: bad duration \"1x\" for timeout (use e.g. 2s, 500ms, 1m)",
                  "6:13: duplicate server name \"a\" (first defined at 5:5)",
                  "7:5: server is missing required key \"name\"",
                  "8:12: bad value \"perhaps\" for read_only (use true or false)");
}

static void test_alias_bomb(void **state)
{
    (void)state;
    char *path = fixture_path("config", "alias_bomb.yaml");
    struct config cfg;
    struct text err, warn;
    config_init(&cfg);
    text_init(&err);
    text_init(&warn);
    assert_int_equal(config_load(&cfg, path, &err, &warn), -1);
    /* The budget stops the walk long before the 60 copies are made. */
    char *last = xasprintf("%s:3:175: too much data after expanding aliases\n", path);
    size_t n = strlen(last);
    assert_true(err.len >= n);
    assert_string_equal(err.s + err.len - n, last);
    assert_true(cfg.nservers < 60);
    free(last);
    config_free(&cfg);
    text_free(&err);
    text_free(&warn);
    free(path);
}

/* libyaml's cost grows with the square of the nesting depth, so depth and size are capped with
 * a FILE:LINE:COL error before any of that work starts. */
static void load_generated(const char *text, size_t len, const char *want_tail)
{
    char path[] = "/tmp/pgfleet-test-config.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    struct config cfg;
    struct text err, warn;
    config_init(&cfg);
    text_init(&err);
    text_init(&warn);
    int64_t t0 = now_ms();
    assert_int_equal(config_load(&cfg, path, &err, &warn), -1);
    assert_true(now_ms() - t0 < 5000); /* a generous bound: minutes before the cap */
    char *want = xasprintf("%s:%s\n", path, want_tail);
    assert_string_equal(str(&err), want);
    free(want);
    config_free(&cfg);
    text_free(&err);
    text_free(&warn);
    unlink(path);
}

static void test_limits(void **state)
{
    (void)state;
    size_t deep = 200000, n = 0;
    char *t = xmalloc(2 * deep + 16);
    n += (size_t)sprintf(t, "servers: ");
    memset(t + n, '[', deep), n += deep;
    memset(t + n, ']', deep), n += deep;
    t[n++] = '\n';
    load_generated(t, n, "1:73: nested more than 64 levels deep: refused");
    free(t);

    struct text b;
    text_init(&b);
    text_add(&b, "servers:\n");
    for (int i = 0; i < 100; i++)
        text_printf(&b, "%*s- x:\n", 2 * i + 2, "");
    load_generated(b.s, b.len, "33:67: nested more than 64 levels deep: refused");
    text_free(&b);

    size_t big = (1u << 20) + 10;
    t = xmalloc(big);
    memset(t, '#', big);
    load_generated(t, big, "1:1048577: the file is larger than 1048576 bytes: refused (is it the right file?)");
    free(t);
}

/* ---- password warning --------------------------------------------------------------------- */

static void check_warning(const char *yaml, mode_t mode, bool warned)
{
    char *path = write_temp(yaml, mode);
    struct config cfg;
    struct text err, warn;
    config_init(&cfg);
    text_init(&err);
    text_init(&warn);
    assert_int_equal(config_load(&cfg, path, &err, &warn), 0);
    if (warned) {
        char *want = xasprintf("%s: warning: file holds a password and is readable by group or "
                               "others; chmod 600 %s\n",
                               path, path);
        assert_string_equal(str(&warn), want);
        free(want);
    } else {
        assert_string_equal(str(&warn), "");
    }
    assert_null(strstr(str(&warn), "secret"));
    config_free(&cfg);
    text_free(&err);
    text_free(&warn);
    unlink(path);
    free(path);
}

static void test_password_warning(void **state)
{
    (void)state;
    const char *in_server = "servers:\n  - { name: a, conninfo: \"host=a password=secret\" }\n";
    const char *in_pooler = "poolers:\n  - { name: p, conninfo: "
                            "\"postgresql://u:secret@p:6432/pgbouncer\" }\n";
    const char *none = "servers:\n  - { name: a, conninfo: \"host=a user=u\" }\n";
    check_warning(in_server, 0644, true);
    check_warning(in_server, 0640, true);
    check_warning(in_server, 0600, false);
    check_warning(in_server, 0400, false);
    check_warning(in_pooler, 0604, true);
    check_warning(none, 0644, false);
}

/* An empty section of a feature not there yet says nothing, so it gets no note; the example
 * config gets one for each such section, and nothing else. */
static void test_not_yet_notes(void **state)
{
    (void)state;
    char *path = write_temp("servers: []\nrestore_test: {}\nfailover:\nescalation: []\n", 0600);
    struct config cfg;
    struct text err, warn;
    config_init(&cfg);
    text_init(&err);
    text_init(&warn);
    assert_int_equal(config_load(&cfg, path, &err, &warn), 0);
    assert_string_equal(str(&warn), "");
    config_free(&cfg);
    unlink(path);
    free(path);

    /* a mistake inside one is still an error, and the note still comes (once) */
    path = write_temp("escalation: [a]\nfailover: { max_lag_bytes: lots }\n", 0600);
    text_free(&warn);
    text_init(&warn);
    config_init(&cfg);
    assert_int_equal(config_load(&cfg, path, &err, &warn), -1);
    assert_non_null(strstr(str(&err), ":2:28: bad size"));
    char *want = xasprintf("%s:1:1: note: escalation" NOT_USED "\n%s:2:1: note: failover" NOT_USED "\n", path, path);
    assert_string_equal(str(&warn), want);
    free(want);
    config_free(&cfg);
    unlink(path);
    free(path);

    path = fixture_path("config", "../../../examples/fleet.yaml");
    text_free(&err);
    text_free(&warn);
    text_init(&err);
    text_init(&warn);
    config_init(&cfg);
    assert_int_equal(config_load(&cfg, path, &err, &warn), 0);
    const char *w = str(&warn);
    assert_non_null(strstr(w, ": note: failover" NOT_USED "\n"));
    assert_non_null(strstr(w, ": note: escalation" NOT_USED "\n"));
    size_t lines = 0;
    for (const char *p = w; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    config_free(&cfg);
    free(path);
    text_free(&err);
    text_free(&warn);
}

/* ---- command line servers ----------------------------------------------------------------- */

static void test_add_server_arg(void **state)
{
    (void)state;
    struct config cfg;
    struct text err;
    config_init(&cfg);
    text_init(&err);
    const char *ci = "host=db1 port=5433 dbname=app";
    char *base = conn_display_name(ci);
    char *other = conn_display_name("host=db2 dbname=app");
    assert_string_not_equal(base, other);

    assert_int_equal(config_add_server_arg(&cfg, ci, &err), 0);
    assert_int_equal(config_add_server_arg(&cfg, "host=db2 dbname=app", &err), 0);
    assert_int_equal(config_add_server_arg(&cfg, ci, &err), 0);
    assert_int_equal(config_add_server_arg(&cfg, ci, &err), 0);
    assert_int_equal(config_add_server_arg(&cfg, "", &err), 0); /* libpq's defaults */
    assert_string_equal(str(&err), "");
    assert_int_equal(cfg.nservers, 5);

    char *n2 = xasprintf("%s#2", base), *n3 = xasprintf("%s#3", base);
    assert_string_equal(cfg.servers[0].name, base);
    assert_string_equal(cfg.servers[1].name, other);
    assert_string_equal(cfg.servers[2].name, n2);
    assert_string_equal(cfg.servers[3].name, n3);
    assert_string_equal(cfg.servers[0].conninfo, ci);
    assert_string_equal(cfg.servers[3].conninfo, ci);
    assert_string_equal(cfg.servers[4].conninfo, "");
    assert_int_equal(cfg.servers[0].line, 0);
    assert_int_equal(cfg.servers[0].ntags, 0);

    /* libpq rejects it: an error, nothing added, and the conninfo is not echoed. */
    assert_int_equal(config_add_server_arg(&cfg, "host=x password=hunter2 bogus=1", &err), -1);
    assert_int_equal(cfg.nservers, 5);
    assert_true(err.len > 0);
    assert_string_equal(str(&err) + err.len - 1, "\n");
    assert_null(strstr(str(&err), "hunter2"));

    free(n2);
    free(n3);
    free(base);
    free(other);
    text_free(&err);
    config_free(&cfg);
}

/* ---- finding the file --------------------------------------------------------------------- */

static char *make_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *d = xasprintf("%s/pgfleet-test-find-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(d));
    return d;
}

/* Creates base/sub/pgfleet/fleet.yaml; returns its path. */
static char *make_config_in(const char *base, const char *sub)
{
    char *dir = xasprintf("%s/%s", base, sub);
    assert_int_equal(mkdir(dir, 0700), 0);
    char *pdir = xasprintf("%s/pgfleet", dir);
    assert_int_equal(mkdir(pdir, 0700), 0);
    char *file = xasprintf("%s/fleet.yaml", pdir);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    close(fd);
    free(dir);
    free(pdir);
    return file;
}

static void assert_found(const char *flag, const char *want)
{
    char *got = config_find(flag);
    if (!want) {
        assert_null(got);
    } else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
    free(got);
}

static void test_config_find(void **state)
{
    (void)state;
    char *base = make_dir();
    char *xdg_file = make_config_in(base, "xdg");
    char *home = xasprintf("%s/home", base);
    assert_int_equal(mkdir(home, 0700), 0);
    char *home_file = make_config_in(home, ".config");
    char *xdg = xasprintf("%s/xdg", base);
    char *empty_xdg = xasprintf("%s/home", base); /* has no pgfleet/ directly under it */

    setenv("HOME", home, 1);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    setenv("PGFLEET_CONFIG", "/env/fleet.yaml", 1);

    assert_found("/flag/fleet.yaml", "/flag/fleet.yaml"); /* the flag wins */
    assert_found(NULL, "/env/fleet.yaml");                /* then the environment */
    setenv("PGFLEET_CONFIG", "", 1);                      /* empty counts as unset */
    assert_found(NULL, xdg_file);
    unsetenv("PGFLEET_CONFIG");
    assert_found(NULL, xdg_file);
    setenv("XDG_CONFIG_HOME", empty_xdg, 1); /* XDG set: ~/.config is not consulted */
    assert_found(NULL, NULL);
    setenv("XDG_CONFIG_HOME", "relative/dir", 1); /* ignored, as the XDG spec says */
    assert_found(NULL, home_file);
    unsetenv("XDG_CONFIG_HOME");
    assert_found(NULL, home_file);
    assert_int_equal(unlink(home_file), 0);
    assert_found(NULL, NULL); /* no file anywhere: none */
    unsetenv("HOME");
    assert_found(NULL, NULL);

    unlink(xdg_file);
    char *d;
    d = xasprintf("%s/xdg/pgfleet", base), rmdir(d), free(d);
    d = xasprintf("%s/xdg", base), rmdir(d), free(d);
    d = xasprintf("%s/.config/pgfleet", home), rmdir(d), free(d);
    d = xasprintf("%s/.config", home), rmdir(d), free(d);
    rmdir(home);
    rmdir(base);
    free(base);
    free(xdg_file);
    free(home_file);
    free(home);
    free(xdg);
    free(empty_xdg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_good_block),
        cmocka_unit_test(test_good_flow),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_no_servers),
        cmocka_unit_test(test_read_only_spellings),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_unknown_key_no_suggestion),
        cmocka_unit_test(test_unknown_key_nested),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_duplicate_server),
        cmocka_unit_test(test_duplicate_pooler),
        cmocka_unit_test(test_bad_conninfo),
        cmocka_unit_test(test_bad_conninfo_hides_password),
        cmocka_unit_test(test_bad_duration),
        cmocka_unit_test(test_bad_size),
        cmocka_unit_test(test_out_of_range),
        cmocka_unit_test(test_unknown_pooler_server),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_bad_name),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_restore_conf),
        cmocka_unit_test(test_nul_in_value),
        cmocka_unit_test(test_top_level_not_a_map),
        cmocka_unit_test(test_two_documents),
        cmocka_unit_test(test_keeps_going),
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_password_warning),
        cmocka_unit_test(test_not_yet_notes),
        cmocka_unit_test(test_add_server_arg),
        cmocka_unit_test(test_config_find),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
