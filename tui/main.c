/* main.c — the command line: options, the config (file, arguments or libpq's defaults), and
 * dispatch to the TUI or a subcommand. Exit status: 0 ok, 1 runtime failure, 2 usage/config. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/conn.h"
#include "core/util.h"
#include "probes/model.h"
#include "probes/sched.h"
#include "tui/cli.h"
#include "tui/cli_actions.h"
#include "tui/fleet_select.h"
#include "tui/snapshot.h"
#include "tui/tui.h"

static void usage(FILE *f)
{
    fputs("Usage: pgfleet [OPTIONS] [SERVER...]            full-screen monitor\n"
          "       pgfleet snapshot [--json] [OPTIONS] [SERVER...]\n"
          "       pgfleet cancel SERVER PID [--yes]   show the session, ask, cancel its query\n"
          "       pgfleet terminate SERVER PID [--yes] show the session, ask, terminate it\n"
          "       pgfleet audit [--since DURATION]     print the audit log\n"
          "       pgfleet restore-test SERVER [--yes] | --due | --history [SERVER] [--json]\n"
          "       pgfleet batch init SERVER [--print] | run JOB.yaml | list [SERVER] [JOB] [--json]\n"
          "       pgfleet batch pause|resume|cancel [--now] SERVER JOB\n"
          "\n"
          "Watches a fleet of PostgreSQL servers: the servers of a config file, or the SERVERs\n"
          "given: conninfo strings or URIs (\"host=db1 dbname=app\", postgresql://db2/app) or host\n"
          "names (db1, 10.0.0.5, /run/postgresql); with neither, the one server libpq's defaults\n"
          "point at (PGHOST, PGPORT, PGSERVICE, ~/.pgpass), as psql would. Servers given ignore a\n"
          "config found in the environment (not one given with -c). A config listing no server is\n"
          "an error. Options may come before or after the command. A word close to a command name\n"
          "(snapshto) is taken for a misspelt command: write host=NAME, or -- before it, for a host.\n"
          "\n"
          "Options:\n"
          "  -c, --config FILE   fleet config (YAML); default $PGFLEET_CONFIG, then\n"
          "                      $XDG_CONFIG_HOME/pgfleet/fleet.yaml when it exists\n"
          "  -d, --delay TIME    refresh interval (2s, 500ms, 1m; bare number = seconds;\n"
          "                      100ms to 1h, as + and - in the monitor)\n"
          "      --timeout TIME  per-server deadline for connecting and each refresh (default\n"
          "                      5s; 100ms to 1h); overrides the config's timeout\n"
          "      --server NAME   only this server or pooler of the config (repeatable)\n"
          "      --tag TAG       only the servers of the config tagged TAG (repeatable); the\n"
          "                      poolers serving a chosen server come along\n"
          "      --read-only     disable every action\n"
          "      --no-color      monochrome screen (also when NO_COLOR is set)\n"
          "      --idle          include idle sessions in the activity list\n"
          "      --json          (snapshot, restore-test --history) print JSON instead of text\n"
          "      --yes           (cancel, terminate, restore-test) do not ask; cancel and\n"
          "                      terminate need it without a terminal\n"
          "      --since TIME    (audit) only actions of the last TIME (1h, 2d)\n"
          "  -h, --help          this help\n"
          "  -V, --version       print the version\n"
          "\n"
          "Commands:\n"
          "  (none)              the interactive monitor\n"
          "  snapshot            take two samples one interval apart and print every pane once\n"
          "  cancel SERVER PID   cancel the query of session PID on SERVER (a config name or a\n"
          "                      conninfo): shown, confirmed, audited before it is sent, and\n"
          "                      sent only if it is still the same backend and query\n"
          "  terminate SERVER PID  terminate the session, waiting until it has exited\n"
          "  audit               the actions taken, from the audit log\n"
          "  restore-test SERVER   prove SERVER's backups restore (restore_test: in the config:\n"
          "                      basebackup, logical, pgbackrest or hook): copy, start on a\n"
          "                      private socket, check, stop, remove; record the run and its RTO\n"
          "  restore-test --due    the tests of every server whose last good one is older than\n"
          "                      restore_test.max_age_days (or failed, or never ran); for cron\n"
          "  restore-test --history [SERVER]  the recorded runs\n"
          "  batch init SERVER   create the control table pgfleet.batch_job (--print: show the\n"
          "                      DDL instead)\n"
          "  batch run JOB.yaml  run a batched migration: one transaction per batch, the cursor\n"
          "                      saved in it; throttles on replica lag and blocked sessions;\n"
          "                      paused, resumed and cancelled through the control table\n"
          "  batch list [SERVER] [JOB]  the batched migrations of the fleet\n"
          "  batch pause|resume|cancel SERVER JOB  tell a job's runner (audited); cancel --now\n"
          "                      also cancels the batch in flight, which rolls back\n"
          "\n"
          "Keys (press h or F1 in the monitor for all): 1 Fleet  2 Activity  3 Locks\n"
          "  4 Replication  5 Connections  6 Cache & IO  7 Statements  9 Jobs  Tab next pane\n"
          "  arrows/j/k/PgUp/PgDn/Home/End move   Enter details   / filter   < > sort column\n"
          "  s reverse sort   i idle sessions   S scope to one server   Esc all servers\n"
          "  + - refresh interval   z freeze   c cancel query   K terminate session\n"
          "  Space tag rows   B restore test (Fleet)   x abort a job (Jobs)   q/F10 quit\n"
          "\n"
          "Exit status: 0 ok, 1 runtime failure (an action not confirmed or not sent, or its\n"
          "outcome not recorded), 2 usage or config error (also: an action refused by\n"
          "--read-only).\n"
          "Files: fleet.yaml (see pgfleet(1) and examples/fleet.yaml);\n"
          "       audit log $XDG_STATE_HOME/pgfleet/audit.jsonl (~/.local/state/pgfleet/…);\n"
          "       restore tests $XDG_STATE_HOME/pgfleet/restore_tests.jsonl.\n",
          f);
}

/* The fleet's servers come from the config, from the words on the command line (conninfos and
 * host names), or, with neither, from libpq's defaults. Returns 0, or 2 with err filled. */
static int load_fleet(const struct cli_line *cl, struct config *cfg, bool *fallback, struct text *err,
                      struct text *warn)
{
    char *path = config_find(cl->o.config);
    if (path && !cl->o.config && cl->nargs > 0) {
        /* Servers named on the command line win over a config found in the environment (with
         * --server or --tag, the error below says it). */
        const char *env = getenv("PGFLEET_CONFIG");
        if (!cl->o.nonly && !cl->ntags)
            text_printf(
                warn,
                "pgfleet: not reading the config %s%s: servers are named on the command line (give -c to read it too)\n",
                path, env && *env ? " ($PGFLEET_CONFIG)" : "");
        free(path);
        path = NULL;
    }
    int rc = 0;
    if (path && config_load(cfg, path, err, warn) < 0)
        rc = 2;
    if (rc == 0 && path && cfg->nservers == 0 && cfg->npoolers == 0 && cl->nargs == 0) {
        text_printf(err, "pgfleet: no servers to watch: the config %s lists none\n", path);
        rc = 2;
    }
    for (int i = 0; rc == 0 && i < cl->nargs; i++) {
        const char *near;
        bool conninfo = cli_word_kind(cl->args[i], &near) == WORD_CONNINFO;
        char *c = conninfo ? cl->args[i] : cli_host_conninfo(cl->args[i]);
        struct text e;
        text_init(&e);
        if (config_add_server_arg(cfg, c, &e) < 0) {
            text_printf(err, "pgfleet: %s", e.s);
            rc = 2;
        }
        text_free(&e);
        if (!conninfo)
            free(c);
    }
    /* the config holds its own copies: passwords given on the command line leave ps now */
    for (int i = 0; i < cl->nargs; i++)
        conn_scrub_password(cl->args[i]);
    *fallback = rc == 0 && cfg->nservers == 0 && cfg->npoolers == 0;
    if (*fallback && config_add_server_arg(cfg, "", err) < 0)
        rc = 2;
    if (rc == 0 && (cl->o.nonly || cl->ntags) && !path) {
        char *e = esc(cl->o.nonly ? cl->o.only[0] : cl->tags[0], 1);
        if (cl->nargs)
            text_printf(
                err,
                "pgfleet: %s %s: --server and --tag choose from a config, which is not read when servers are named on the command line (give -c FILE)\n",
                cl->o.nonly ? "--server" : "--tag", e);
        else
            text_printf(err, "pgfleet: %s %s: no config was found (give -c FILE or set PGFLEET_CONFIG)\n",
                        cl->o.nonly ? "--server" : "--tag", e);
        free(e);
        rc = 2;
    }
    if (rc == 0 && fleet_select(cfg, cl->o.only, cl->o.nonly, cl->tags, cl->ntags, err) < 0)
        rc = 2;
    if (rc == 0 && cl->o.delay &&
        cli_duration("delay", cl->o.delay, REFRESH_MIN_MS, REFRESH_MAX_MS, &cfg->refresh_ms, err) < 0)
        rc = 2;
    if (rc == 0 && cl->timeout &&
        cli_duration("timeout", cl->timeout, TIMEOUT_MIN_MS, TIMEOUT_MAX_MS, &cfg->timeout_ms, err) < 0)
        rc = 2;
    free(path);
    return rc;
}

/* With no server named, the one of libpq's defaults was watched: when it was not up, say what
 * was tried and how to name servers (the monitor's screen is gone by now, the snapshot's
 * reader may not look at the reason). */
static void fallback_hint(const struct model *m)
{
    const struct server *s = &m->servers[0];
    if (s->status == SRV_UP)
        return;
    char *name = esc(s->conf->name, 1), *why = esc(s->reason[0] ? s->reason : "not connected", 1);
    fprintf(
        stderr,
        "pgfleet: no servers were named, so pgfleet watched libpq's default server %s: %s, %s\n"
        "pgfleet: name the servers to watch: pgfleet HOST..., pgfleet -c FILE (or $PGFLEET_CONFIG), or set PGHOST\n",
        name, srv_status_name(s->status), why);
    free(name);
    free(why);
}

/* The monitor and snapshot: load the fleet, watch it. */
static int watch(const struct cli_line *cl)
{
    struct config cfg;
    struct text err, warn;
    config_init(&cfg);
    text_init(&err);
    text_init(&warn);
    bool fallback = false;
    int rc = load_fleet(cl, &cfg, &fallback, &err, &warn);
    fputs_safe(warn.s, stderr);
    if (rc) {
        fputs_safe(err.s, stderr);
    } else {
        struct model m;
        sched_init(&m, &cfg);
        m.opts.idle = cl->o.idle;
        if (cl->cmd == CLI_SNAPSHOT) {
            rc = snapshot_run(&m, stdout, cl->o.json);
        } else if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
            fputs("pgfleet: the monitor needs a terminal; use `pgfleet snapshot` in scripts\n", stderr);
            rc = 2;
        } else {
            struct tui_opts o = {
                .color = !cl->o.no_color && !(getenv("NO_COLOR") && *getenv("NO_COLOR")),
                .read_only = cl->o.read_only || cfg.read_only,
                .fallback = fallback,
            };
            rc = tui_run(&m, &o);
        }
        if (fallback && rc != 2)
            fallback_hint(&m);
        sched_free(&m);
    }
    text_free(&err);
    text_free(&warn);
    config_free(&cfg);
    return rc;
}

/* cancel and terminate look SERVER up in the config: with none, say so rather than "no such
 * server". Returns 2 when that is the case. */
static int need_config(const struct cli_line *cl)
{
    if (cl->nargs != 2 || strchr(cl->args[0], '=') || strstr(cl->args[0], "://"))
        return 0;
    char *path = config_find(cl->o.config);
    free(path);
    if (path)
        return 0;
    char *e = esc(cl->args[0], 1);
    fprintf(stderr,
            "pgfleet: %s: no config was found to look server \"%s\" up in (give -c FILE or set PGFLEET_CONFIG, or "
            "name the server by conninfo: \"host=%s dbname=…\")\n",
            cl->cmd_name, e, e);
    free(e);
    return 2;
}

int main(int argc, char **argv)
{
    /* A terminal whose locale is not UTF-8 gets every non-ASCII character escaped (its bytes
     * could read as C1 controls there); files and pipes get UTF-8. */
    setlocale(LC_CTYPE, "");
    if (!esc_locale_is_utf8() && (isatty(STDOUT_FILENO) || isatty(STDERR_FILENO)))
        esc_set_ascii_only(true);
    struct cli_line cl;
    struct text err;
    text_init(&err);
    int rc = 0;
    if (cli_parse(&cl, argc, argv, &err) < 0) {
        fputs(err.s, stderr); /* every word quoted in it is escaped */
        rc = 2;
    } else if (cl.help) {
        usage(stdout);
    } else if (cl.version) {
        printf("pgfleet %s\n", PGFLEET_VERSION);
    } else if (cl.cmd == CLI_CANCEL || cl.cmd == CLI_TERMINATE) {
        rc = need_config(&cl);
        if (rc == 0)
            rc = run_signal(&cl.o, cl.cmd_name, cl.nargs, cl.args);
    } else if (cl.cmd == CLI_AUDIT) {
        rc = run_audit(&cl.o);
    } else if (cl.cmd == CLI_RESTORE_TEST) {
        rc = run_restore_test(&cl.o, cl.nargs, cl.args);
    } else if (cl.cmd == CLI_BATCH) {
        rc = run_batch(&cl.o, cl.nargs, cl.args);
    } else {
        rc = watch(&cl);
    }
    text_free(&err);
    cli_line_free(&cl);
    return rc;
}
