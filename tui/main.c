/* main.c — the command line: options, the config (file, arguments or libpq's defaults), and
 * dispatch to the TUI or a subcommand. Exit status: 0 ok, 1 runtime failure, 2 usage/config. */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/conn.h"
#include "core/util.h"
#include "probes/sched.h"
#include "tui/cli_actions.h"
#include "tui/snapshot.h"
#include "tui/tui.h"

static void usage(FILE *f)
{
    fputs("Usage: pgfleet [OPTIONS] [CONNINFO...]          full-screen monitor\n"
          "       pgfleet snapshot [--json] [OPTIONS] [CONNINFO...]\n"
          "       pgfleet cancel SERVER PID [--yes]   show the session, ask, cancel its query\n"
          "       pgfleet terminate SERVER PID [--yes] show the session, ask, terminate it\n"
          "       pgfleet audit [--since DURATION]     print the audit log\n"
          "\n"
          "Watches a fleet of PostgreSQL servers: the servers of a config file, the conninfo\n"
          "strings or URIs given (\"host=db1 dbname=app\", postgresql://db2/app), or the one\n"
          "server libpq's defaults point at (PGHOST, PGPORT, PGSERVICE, ~/.pgpass), as psql would.\n"
          "\n"
          "Options:\n"
          "  -c, --config FILE   fleet config (YAML); default $PGFLEET_CONFIG, then\n"
          "                      $XDG_CONFIG_HOME/pgfleet/fleet.yaml when it exists\n"
          "  -d, --delay TIME    refresh interval (2s, 500ms, 1m; bare number = seconds)\n"
          "      --server NAME   only this server of the config (repeatable)\n"
          "      --read-only     disable every action\n"
          "      --no-color      monochrome screen (also when NO_COLOR is set)\n"
          "      --idle          include idle sessions in the activity list\n"
          "      --json          (snapshot) print JSON instead of text\n"
          "      --yes           (cancel, terminate) do not ask; needed without a terminal\n"
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
          "\n"
          "Keys (press h or F1 in the monitor for all): 1 Fleet  2 Activity  3 Locks\n"
          "  4 Replication  5 Connections  6 Cache & IO  7 Statements  9 Jobs  Tab next pane\n"
          "  arrows/j/k/PgUp/PgDn/Home/End move   Enter details   / filter   < > sort column\n"
          "  s reverse sort   i idle sessions   S scope to one server   Esc all servers\n"
          "  + - refresh interval   z freeze   c cancel query   K terminate session\n"
          "  Space tag rows   q/F10 quit\n"
          "\n"
          "Exit status: 0 ok, 1 runtime failure (an action not sent, or its outcome not\n"
          "recorded), 2 usage or config error (also: an action refused by --read-only or not\n"
          "confirmed).\n"
          "Files: fleet.yaml (see pgfleet(1) and examples/fleet.yaml);\n"
          "       audit log $XDG_STATE_HOME/pgfleet/audit.jsonl (~/.local/state/pgfleet/…).\n",
          f);
}

/* Keep only the servers named with --server; unknown names are a usage error. */
static int filter_servers(struct config *cfg, const struct cli *cli)
{
    if (!cli->nonly)
        return 0;
    for (size_t k = 0; k < cli->nonly; k++) {
        bool found = false;
        for (size_t i = 0; i < cfg->nservers; i++)
            found |= strcmp(cfg->servers[i].name, cli->only[k]) == 0;
        if (!found) {
            fprintf(stderr, "pgfleet: --server %s: no such server in the config\n", cli->only[k]);
            return -1;
        }
    }
    size_t o = 0;
    for (size_t i = 0; i < cfg->nservers; i++) {
        bool keep = false;
        for (size_t k = 0; k < cli->nonly; k++)
            keep |= strcmp(cfg->servers[i].name, cli->only[k]) == 0;
        if (keep) {
            struct server_conf tmp = cfg->servers[o];
            cfg->servers[o++] = cfg->servers[i];
            cfg->servers[i] = tmp;
        }
    }
    /* the dropped ones stay allocated past nservers? no: free them now */
    struct config drop;
    config_init(&drop);
    drop.servers = cfg->servers + o;
    drop.nservers = cfg->nservers - o;
    for (size_t i = 0; i < drop.nservers; i++) {
        free(drop.servers[i].name);
        free(drop.servers[i].conninfo);
        for (size_t t = 0; t < drop.servers[i].ntags; t++)
            free(drop.servers[i].tags[t]);
        free(drop.servers[i].tags);
    }
    drop.servers = NULL;
    drop.nservers = 0;
    config_free(&drop);
    cfg->nservers = o;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"delay", required_argument, NULL, 'd'},
        {"server", required_argument, NULL, 1},
        {"read-only", no_argument, NULL, 2},
        {"no-color", no_argument, NULL, 3},
        {"json", no_argument, NULL, 4},
        {"idle", no_argument, NULL, 5},
        {"help", no_argument, NULL, 'h'},
        {"yes", no_argument, NULL, 6},
        {"since", required_argument, NULL, 7},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    /* A terminal whose locale is not UTF-8 gets every non-ASCII character escaped (its bytes
     * could read as C1 controls there); files and pipes get UTF-8. */
    setlocale(LC_CTYPE, "");
    if (!esc_locale_is_utf8() && (isatty(STDOUT_FILENO) || isatty(STDERR_FILENO)))
        esc_set_ascii_only(true);
    struct cli cli = {0};
    const char *cmd = NULL;
    static const char *const commands[] = {"snapshot", "cancel", "terminate", "audit"};
    for (size_t i = 0; argc > 1 && i < ARRAY_LEN(commands); i++)
        if (strcmp(argv[1], commands[i]) == 0) {
            cmd = argv[1];
            argv++, argc--;
            break;
        }
    int ch;
    while ((ch = getopt_long(argc, argv, "c:d:hV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': cli.config = optarg; break;
        case 'd': cli.delay = optarg; break;
        case 1:
            cli.only = xreallocarray(cli.only, cli.nonly + 1, sizeof *cli.only);
            cli.only[cli.nonly++] = optarg;
            break;
        case 2: cli.read_only = true; break;
        case 3: cli.no_color = true; break;
        case 4: cli.json = true; break;
        case 5: cli.idle = true; break;
        case 6: cli.yes = true; break;
        case 7: cli.since = optarg; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("pgfleet %s\n", PGFLEET_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (cli.json && (!cmd || strcmp(cmd, "snapshot") != 0)) {
        fputs("pgfleet: --json goes with the snapshot command\n", stderr);
        return 2;
    }
    if (cmd && (strcmp(cmd, "cancel") == 0 || strcmp(cmd, "terminate") == 0))
        return run_signal(&cli, cmd, argc - optind, argv + optind);
    if (cmd && strcmp(cmd, "audit") == 0)
        return run_audit(&cli);

    struct config cfg;
    struct text err, warn;
    config_init(&cfg);
    text_init(&err);
    text_init(&warn);
    int rc = 0;
    /* Servers named on the command line win over a config found in the environment. */
    char *path = optind < argc && !cli.config ? NULL : config_find(cli.config);
    if (path && config_load(&cfg, path, &err, &warn) < 0)
        rc = 2;
    for (int i = optind; rc == 0 && i < argc; i++)
        if (config_add_server_arg(&cfg, argv[i], &err) < 0)
            rc = 2;
    /* the config holds its own copies: passwords given on the command line leave ps now */
    for (int i = optind; i < argc; i++)
        conn_scrub_password(argv[i]);
    if (rc == 0 && cfg.nservers == 0 && config_add_server_arg(&cfg, "", &err) < 0)
        rc = 2;
    if (rc == 0 && cli.delay) {
        int64_t ms;
        if (parse_duration_ms(cli.delay, &ms) < 0 || ms < 100 || ms > 3600000) {
            text_printf(&err, "pgfleet: bad delay \"%s\" (use e.g. 2s, 500ms; from 100ms to 1h)\n", cli.delay);
            rc = 2;
        } else {
            cfg.refresh_ms = ms;
        }
    }
    if (rc == 0 && filter_servers(&cfg, &cli) < 0)
        rc = 2;
    fputs_safe(warn.s, stderr);
    if (rc) {
        fputs_safe(err.s, stderr);
    } else {
        struct model m;
        sched_init(&m, &cfg);
        m.opts.idle = cli.idle;
        if (cmd) {
            rc = snapshot_run(&m, stdout, cli.json);
        } else if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
            fputs("pgfleet: the monitor needs a terminal; use `pgfleet snapshot` in scripts\n", stderr);
            rc = 2;
        } else {
            struct tui_opts o = {
                .color = !cli.no_color && !(getenv("NO_COLOR") && *getenv("NO_COLOR")),
                .read_only = cli.read_only || cfg.read_only,
            };
            rc = tui_run(&m, &o);
        }
        sched_free(&m);
    }
    free(path);
    free(cli.only);
    text_free(&err);
    text_free(&warn);
    config_free(&cfg);
    return rc;
}
