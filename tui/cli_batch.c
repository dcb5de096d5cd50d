/* cli_batch.c — `pgfleet batch ...`: the subcommands of batched migrations. init (the control
 * table) and run (the runner) are here; list and the controls have files of their own. Exit
 * status of run: 0 done, 1 failed, 2 a bad job file or a refusal, 3 stopped (paused by a signal,
 * or cancelled by an operator). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/batch.h"
#include "actions/batch_runner.h"
#include "core/config.h"
#include "core/conn.h"
#include "tui/cli_actions.h"

/* The conninfo of a server named in the config, or of a conninfo given as it is (copied: the
 * caller scrubs the password from argv). NULL after saying why. */
static char *server_conninfo(const struct cli *cli, const char *server, const char *where, bool *read_only)
{
    struct config cfg;
    struct text err, warn;
    config_init(&cfg);
    text_init(&err);
    text_init(&warn);
    char *path = config_find(cli->config), *out = NULL;
    if (path && config_load(&cfg, path, &err, &warn) < 0) {
        fputs_safe(err.s, stderr);
    } else {
        fputs_safe(warn.s, stderr);
        for (size_t i = 0; i < cfg.nservers && !out; i++)
            if (strcmp(cfg.servers[i].name, server) == 0)
                out = xstrdup(cfg.servers[i].conninfo);
        char *msg = NULL;
        if (!out && (strchr(server, '=') || strstr(server, "://"))) {
            if (conn_check_conninfo(server, &msg) < 0)
                fprintf(stderr, "pgfleet: bad connection string: %s\n", msg ? msg : "rejected by libpq");
            else
                out = xstrdup(server);
            free(msg);
        } else if (!out) {
            char *e = esc(server, 1);
            if (path)
                fprintf(stderr, "pgfleet: %s%sno server \"%s\" in the config %s\n", where ? where : "",
                        where ? ": " : "", e, path);
            else
                fprintf(stderr,
                        "pgfleet: %s%sno config was found to look server \"%s\" up in (give -c FILE or set "
                        "PGFLEET_CONFIG, or a conninfo)\n",
                        where ? where : "", where ? ": " : "", e);
            free(e);
        }
        *read_only = cfg.read_only;
    }
    free(path);
    text_free(&err);
    text_free(&warn);
    config_free(&cfg);
    return out;
}

static void on_signal(int sig)
{
    (void)sig;
    batch_stop = 1;
}

static int batch_init(const struct cli *cli, const char *server)
{
    bool ro = false;
    char *conninfo = server_conninfo(cli, server, NULL, &ro);
    if (!conninfo)
        return 2;
    if (strchr(server, '=') || strstr(server, "://"))
        conn_scrub_password((char *)server);
    struct runner r = {.out = stdout};
    r.conninfo = conninfo;
    snprintf(r.app, sizeof r.app, "pgfleet-batch-init");
    int rc = 1;
    const char *ddl[] = {batch_schema_sql()};
    char *e = esc(server, 1);
    if (side_connect_both(&r, 10000) < 0 || side_exec_simple(&r, &r.work, ddl, 1, 60000) < 0) {
        fprintf(stderr, "pgfleet: batch init %s: %s\n", e, r.err);
    } else {
        printf("pgfleet.batch_job is ready on %s (created, or it was there); grant operators SELECT and "
               "UPDATE (desired, batch_size) on it\n",
               e);
        rc = 0;
    }
    free(e);
    side_close_both(&r, NULL);
    free(conninfo);
    return rc;
}

static int batch_run_file(const struct cli *cli, const char *path)
{
    struct batch_jobfile jf;
    struct text err;
    text_init(&err);
    if (batch_jobfile_load(&jf, path, &err) < 0) {
        fputs_safe(err.s, stderr);
        text_free(&err);
        batch_jobfile_free(&jf);
        return 2;
    }
    text_free(&err);
    bool ro = false;
    char *where = xasprintf("%s", path);
    char *conninfo = jf.conninfo ? xstrdup(jf.conninfo) : server_conninfo(cli, jf.server, where, &ro);
    free(where);
    int rc = 2;
    if (conninfo && (cli->read_only || ro)) {
        fprintf(stderr, "pgfleet: read-only: batch run is disabled\n");
    } else if (conninfo) {
        char *target = conn_rewrite(conninfo, jf.database, NULL);
        struct runner r = {.jf = &jf, .out = stdout, .tty = isatty(STDOUT_FILENO)};
        r.conninfo = xasprintf("%s target_session_attrs=read-write", target ? target : conninfo);
        snprintf(r.app, sizeof r.app, "%s%s", BATCH_APP_PREFIX, jf.job);
        if (gethostname(r.host, sizeof r.host) != 0)
            snprintf(r.host, sizeof r.host, "?");
        r.host[sizeof r.host - 1] = '\0';
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        rc = batch_run(&r);
        if (r.bar_shown)
            fputc('\n', stdout);
        side_close_both(&r, NULL);
        free(r.conninfo);
        free(target);
    }
    free(conninfo);
    batch_jobfile_free(&jf);
    return rc;
}

int run_batch(const struct cli *cli, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "";
    if (strcmp(verb, "list") == 0)
        return run_batch_list(cli, argc - 1, argv + 1);
    if (strcmp(verb, "pause") == 0 || strcmp(verb, "resume") == 0 || strcmp(verb, "cancel") == 0)
        return run_batch_control(cli, argc, argv);
    if (strcmp(verb, "init") == 0 && cli->print && argc <= 2) {
        fputs(batch_schema_sql(), stdout);
        return 0;
    }
    if (strcmp(verb, "init") == 0 && argc == 2)
        return batch_init(cli, argv[1]);
    if (strcmp(verb, "run") == 0 && argc == 2)
        return batch_run_file(cli, argv[1]);
    fputs("pgfleet: batch needs one of: init SERVER [--print], run JOB.yaml, list [SERVER] [JOB], "
          "pause|resume|cancel SERVER JOB; see pgfleet --help\n",
          stderr);
    return 2;
}
