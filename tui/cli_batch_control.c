/* cli_batch_control.c — `pgfleet batch pause|resume|cancel [--now] [--yes] SERVER JOB`: the
 * controls of pane 8 from the shell, the same audited action classes driven by the loop without
 * a screen. Cancel looks the job up, shows it and asks (--yes without a terminal); pause and
 * resume act at once. Exit 0 done, 1 failed (no such job, not confirmed, the audit log not
 * written), 2 usage or config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/action.h"
#include "actions/job.h"
#include "core/config.h"
#include "core/conn.h"
#include "core/util.h"
#include "probes/model.h"
#include "tui/cli_actions.h"
#include "tui/loop.h"

struct ctl_run {
    struct jobs *js;
    struct job *j;
};

static bool ended_or_asking(void *p, int64_t now)
{
    (void)now;
    struct ctl_run *c = p;
    return !jobs_busy(c->js) || c->j->awaiting_confirm;
}

static bool ask(const struct cli *cli, const struct job *j)
{
    struct text d;
    text_init(&d);
    j->cls->describe(j, &d); /* escaped */
    fputs(d.s, stderr);
    text_free(&d);
    if (cli->yes)
        return true;
    enum confirm c = j->cls->confirm(j);
    fputs(c == CONFIRM_YN ? "Proceed? [y/N] " : "Type yes and Enter to proceed: ", stderr);
    char line[32] = "";
    bool got = fgets(line, sizeof line, stdin) != NULL;
    if (!got)
        fputc('\n', stderr);
    return got && confirm_answer_ok(c, line);
}

/* The config's conninfo for SERVER, or SERVER itself when it is a conninfo; 2 on an error. */
static int resolve(const struct config *cfg, const char *word, const char **conninfo, char **name, char **own)
{
    for (size_t i = 0; i < cfg->nservers; i++)
        if (strcmp(cfg->servers[i].name, word) == 0) {
            *conninfo = cfg->servers[i].conninfo;
            *name = xstrdup(word);
            return 0;
        }
    if (!strchr(word, '=') && !strstr(word, "://")) {
        char *w = esc(word, 1);
        fprintf(stderr, "pgfleet: %s: no such server in the config (give a name from it, or a conninfo)\n", w);
        free(w);
        return 2;
    }
    char *err = NULL;
    if (conn_check_conninfo(word, &err) < 0) {
        char *e = esc(err, 1);
        fprintf(stderr, "pgfleet: bad connection string: %s\n", e);
        free(e);
        free(err);
        return 2;
    }
    *conninfo = *own = xstrdup(word);
    *name = conn_display_name(word); /* never the conninfo itself: it may hold a password */
    return 0;
}

static void print_log(const struct job *j)
{
    for (const char *p = j->log.s; *p;) {
        size_t len = strcspn(p, "\n");
        char *raw = xstrndup(p, len), *line = esc(raw, 1);
        printf("%s\n", line);
        free(raw);
        free(line);
        p += len + (p[len] == '\n');
    }
}

int run_batch_control(const struct cli *cli, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "";
    bool cancel = strcmp(verb, "cancel") == 0;
    if (argc != 3 || (cli->now && !cancel)) {
        fprintf(stderr,
                "pgfleet: usage: pgfleet batch pause|resume SERVER JOB, pgfleet batch cancel [--now] [--yes] "
                "SERVER JOB\n");
        return 2;
    }
    const struct action_class *cls = strcmp(verb, "pause") == 0 ? &action_batch_pause
        : strcmp(verb, "resume") == 0                           ? &action_batch_resume
        : cli->now                                              ? &action_batch_cancel_now
                                                                : &action_batch_cancel;
    struct config cfg;
    config_init(&cfg);
    int rc = 0;
    struct text err, warn;
    text_init(&err);
    text_init(&warn);
    char *path = config_find(cli->config);
    if (path && config_load(&cfg, path, &err, &warn) < 0)
        rc = 2;
    fputs_safe(warn.s, stderr);
    fputs_safe(err.s, stderr);
    free(path);
    text_free(&err);
    text_free(&warn);
    if (rc == 0 && (cli->read_only || cfg.read_only)) {
        fprintf(stderr, "pgfleet: read-only: batch %s is disabled\n", verb);
        rc = 2;
    }
    const char *conninfo = NULL;
    char *name = NULL, *own = NULL;
    if (rc == 0)
        rc = resolve(&cfg, argv[1], &conninfo, &name, &own);
    if (own)
        conn_scrub_password(argv[1]); /* not left visible in ps */
    bool asks = cls->risk != RISK_SAFE;
    if (rc == 0 && asks && !cli->yes && !isatty(STDIN_FILENO)) {
        fprintf(stderr, "pgfleet: batch cancel asks for confirmation; give --yes when not at a terminal\n");
        rc = 2;
    }
    if (rc) {
        free(name);
        free(own);
        config_free(&cfg);
        return rc;
    }
    struct jobs js;
    jobs_init(&js, cfg.audit_log, cfg.timeout_ms);
    struct job *j = batch_control_new(&js, cls, name, conninfo, argv[2], NULL, 1);
    struct text why;
    text_init(&why);
    if (cls->precheck(j, &why) < 0) {
        fprintf(stderr, "pgfleet: %s\n", why.s);
        rc = 2;
    }
    text_free(&why);
    /* cancel: look the job up and show it before asking (the act re-checks it) */
    j->confirm_after_lookup = asks;
    struct model m;
    memset(&m, 0, sizeof m);
    m.cfg = &cfg;
    m.jobs = &js;
    struct ctl_run cr = {&js, j};
    struct loop_hooks h = {.input_fd = -1, .done = ended_or_asking, .ctx = &cr};
    if (rc == 0) {
        job_start(&js, j);
        rc = loop_run(&m, &h);
    }
    if (rc == 0 && j->awaiting_confirm) {
        if (ask(cli, j)) {
            job_confirm(&js, j);
            rc = loop_run(&m, &h);
        } else {
            /* nothing was sent, nothing to record (as pgfleet cancel) */
            fprintf(stderr, "pgfleet: not confirmed; nothing sent\n");
            jobs_free(&js);
            free(name);
            free(own);
            config_free(&cfg);
            return 1;
        }
    }
    /* interrupted: the job ends on record (outcome unknown once the statement may have left) */
    if (j->state == JOB_RUNNING)
        job_abort(&js, j);
    if (j->state != JOB_PENDING) {
        print_log(j);
        if (js.audit_error[0]) {
            char *e = esc(js.audit_error, 1);
            fprintf(stderr, "pgfleet: the audit log was not written: %s\n", e);
            free(e);
        }
        if (j->state != JOB_DONE) {
            char *o = esc(j->outcome, 1);
            fprintf(stderr, "pgfleet: %s\n", o);
            free(o);
        }
        if (!rc)
            rc = j->state == JOB_DONE && !j->audit_failed ? 0 : 1;
    } else {
        job_discard(&js, j);
    }
    jobs_free(&js);
    free(name);
    free(own);
    config_free(&cfg);
    return rc;
}
