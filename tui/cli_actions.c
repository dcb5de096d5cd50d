/* cli_actions.c — `pgfleet cancel`, `pgfleet terminate` and `pgfleet audit` from the shell: the
 * same guarded jobs the monitor runs (look the session up, show it, ask, act, audit), driven by
 * the loop without a screen, and the audit log printed. */
#include "tui/cli_actions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/action.h"
#include "actions/audit.h"
#include "actions/job.h"
#include "core/config.h"
#include "core/conn.h"
#include "core/util.h"
#include "probes/model.h"
#include "tui/loop.h"
#include "tui/pooler_check.h"

/* Load the config for a subcommand (no servers needed); returns 2 on a config error. */
static int load_config_quiet(const struct cli *cli, struct config *cfg)
{
    struct text err, warn;
    text_init(&err);
    text_init(&warn);
    int rc = 0;
    char *path = config_find(cli->config);
    if (path && config_load(cfg, path, &err, &warn) < 0)
        rc = 2;
    fputs_safe(warn.s, stderr);
    fputs_safe(err.s, stderr);
    free(path);
    text_free(&err);
    text_free(&warn);
    return rc;
}

struct cli_job {
    struct jobs *js;
    struct job *j;
};

/* The loop of a shell action ends when the job does, or when it waits for the user's answer. */
static bool job_done(void *p, int64_t now)
{
    (void)now;
    struct cli_job *c = p;
    return !jobs_busy(c->js) || (c->j && c->j->awaiting_confirm);
}

/* Show what the look-up found (escaped) and ask; true to go on. --yes answers for the user.
 * What counts as yes is the monitor dialog's rule for the same session (action.h). */
static bool confirm_cli(const struct cli *cli, const struct job *j)
{
    struct text d;
    text_init(&d);
    j->cls->describe(j, &d);
    fputs(d.s, stderr);
    text_free(&d);
    if (cli->yes)
        return true;
    enum confirm c = j->cls->confirm(j);
    fputs(c == CONFIRM_YN ? "Proceed? [y/N] " : "Type yes and Enter to proceed: ", stderr);
    char line[32] = "";
    bool got = fgets(line, sizeof line, stdin) != NULL;
    if (!got)
        fputc('\n', stderr); /* end of input (Ctrl-D): the next message gets its own line */
    return got && confirm_answer_ok(c, line);
}

/* `pgfleet cancel|terminate SERVER PID`: the same guarded job the TUI runs, from the shell. */
int run_signal(const struct cli *cli, const char *cmd, int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "pgfleet: usage: pgfleet %s SERVER PID%s\n", cmd,
                strcmp(cmd, "terminate") == 0 ? " [--yes]" : "");
        return 2;
    }
    char *end;
    long pid = strtol(argv[1], &end, 10);
    if (*end || pid <= 0 || pid > 0x7fffffff) {
        fprintf(stderr, "pgfleet: %s: not a process id\n", argv[1]);
        return 2;
    }
    struct config cfg;
    config_init(&cfg);
    int rc = load_config_quiet(cli, &cfg);
    if (rc == 0 && (cli->read_only || cfg.read_only)) {
        fprintf(stderr, "pgfleet: read-only: %s is disabled\n", cmd);
        rc = 2;
    }
    const char *conninfo = NULL;
    char *name = xstrdup(argv[0]), *own_conninfo = NULL;
    for (size_t i = 0; rc == 0 && i < cfg.nservers; i++)
        if (strcmp(cfg.servers[i].name, argv[0]) == 0)
            conninfo = cfg.servers[i].conninfo;
    char *err = NULL;
    if (rc == 0 && !conninfo) {
        if (strchr(argv[0], '=') || strstr(argv[0], "://")) {
            if (conn_check_conninfo(argv[0], &err) < 0) {
                fprintf(stderr, "pgfleet: bad connection string: %s\n", err);
                free(err);
                rc = 2;
            }
            conninfo = own_conninfo = xstrdup(argv[0]);
            conn_scrub_password(argv[0]); /* not left visible in ps */
            free(name);                   /* never the conninfo itself: it may hold a password */
            name = conn_display_name(conninfo);
        } else {
            fprintf(stderr, "pgfleet: %s: no such server in the config (give a name from it, or a conninfo)\n",
                    argv[0]);
            rc = 2;
        }
    }
    const struct action_class *cls = action_find(cmd);
    if (rc == 0 && !cli->yes && !isatty(STDIN_FILENO)) {
        fprintf(stderr, "pgfleet: %s asks for confirmation; give --yes when not at a terminal\n", cmd);
        rc = 2;
    }
    if (rc) {
        free(name);
        free(own_conninfo);
        config_free(&cfg);
        return rc;
    }
    struct jobs js;
    jobs_init(&js, cfg.audit_log, cfg.timeout_ms);
    js.allow_system = cfg.allow_system_backends;
    struct job *j = job_new(&js, cls, name, conninfo);
    struct job_target t = {.pid = (int)pid};
    job_add_target(j, &t);
    /* look the session up first, show it, ask, then act (the acting statement re-checks it) */
    j->confirm_after_lookup = true;
    struct model m;
    memset(&m, 0, sizeof m);
    m.cfg = &cfg;
    m.jobs = &js;
    job_start(&js, j);
    struct cli_job cj = {&js, j};
    struct loop_hooks h = {.input_fd = -1, .done = job_done, .ctx = &cj};
    rc = loop_run(&m, &h);
    if (!rc && j->awaiting_confirm) {
        char pooler[160];
        if (!own_conninfo && pooler_check(&cfg, name, (int)pid, pooler, sizeof pooler, &rc))
            j->targets[0].pooler = xstrdup(pooler);
        bool go = !rc && confirm_cli(cli, j);
        if (go) {
            job_confirm(&js, j);
            rc = loop_run(&m, &h);
        } else {
            /* interrupted or not confirmed: nothing was sent, nothing to record; a runtime
             * outcome (1), not a usage error (2) */
            if (!rc)
                fprintf(stderr, "pgfleet: not confirmed; nothing sent\n");
            jobs_free(&js);
            free(name);
            free(own_conninfo);
            config_free(&cfg);
            return rc ? rc : 1;
        }
    }
    /* Interrupted while the job ran: abort it so its outcome is on record ("unknown" once the
     * statement may have left), as the monitor does when it quits. */
    if (j->state == JOB_RUNNING)
        job_abort(&js, j);
    /* the log, each line escaped: it holds server text */
    for (const char *p = j->log.s; *p;) {
        size_t len = strcspn(p, "\n");
        char *raw = xstrndup(p, len), *line = esc(raw, 1);
        printf("%s\n", line);
        free(raw);
        free(line);
        p += len + (p[len] == '\n');
    }
    if (js.audit_error[0]) {
        char *e = esc(js.audit_error, 1);
        fprintf(stderr, "pgfleet: the audit log was not written: %s\n", e);
        free(e);
    }
    /* an outcome that is not on record is a failure, whatever the outcome */
    if (!rc)
        rc = j->state == JOB_DONE && !j->audit_failed ? 0 : 1;
    jobs_free(&js);
    free(name);
    free(own_conninfo);
    config_free(&cfg);
    return rc;
}

int run_audit(const struct cli *cli)
{
    struct config cfg;
    config_init(&cfg);
    int rc = load_config_quiet(cli, &cfg);
    int64_t since = 0;
    if (rc == 0 && cli->since && parse_duration_ms(cli->since, &since) < 0) {
        fprintf(stderr, "pgfleet: bad duration \"%s\" for --since (use e.g. 30m, 2h, 7d)\n", cli->since);
        rc = 2;
    }
    if (rc == 0) {
        char *path = cfg.audit_log ? xstrdup(cfg.audit_log) : audit_default_path();
        rc = audit_print(path, since, stdout);
        free(path);
    }
    config_free(&cfg);
    return rc;
}
