/* cli_restore.c — `pgfleet restore-test`: one server's restore test (SERVER), every server whose
 * last good test is too old (--due, for cron), or the record of past runs (--history). The same
 * job the monitor's B key starts, driven by the loop without a screen; its log is printed as it
 * goes. Exit status: 0 every test passed, 1 one failed (or none was due with a failure), 2
 * usage or config error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actions/action.h"
#include "actions/restore_test.h"
#include "core/config.h"
#include "probes/health.h"
#include "probes/model.h"
#include "probes/restore_record.h"
#include "probes/sched.h"
#include "tui/cli_actions.h"
#include "tui/loop.h"

struct rt_cli {
    struct model *m;
    struct job *j;
    size_t printed; /* bytes of the job's log already printed */
    int64_t give_up;
};

/* Print what the log gained since the last call, each line escaped (it holds server text). */
static void print_log(struct rt_cli *c)
{
    const char *s = c->j->log.s ? c->j->log.s : "";
    while (c->printed < c->j->log.len) {
        const char *p = s + c->printed;
        size_t len = strcspn(p, "\n");
        if (!p[len])
            break; /* a line not ended yet */
        char *raw = xstrndup(p, len), *line = esc(raw, 1);
        printf("%s\n", line);
        free(raw);
        free(line);
        c->printed += len + 1;
    }
    fflush(stdout);
}

static void rt_frame(void *p, bool changed)
{
    (void)changed;
    print_log(p);
}

static bool rt_done(void *p, int64_t now)
{
    (void)now;
    struct rt_cli *c = p;
    return c->j->state != JOB_RUNNING;
}

/* The model's first answers: enough to know the fleet's replicas (a source to copy from). */
static bool first_round(void *p, int64_t now)
{
    struct rt_cli *c = p;
    if (now >= c->give_up)
        return true;
    for (size_t i = 0; i < c->m->n; i++)
        if (c->m->servers[i].status != SRV_DOWN && c->m->servers[i].ticks < 1)
            return false;
    return true;
}

static int64_t first_deadline(void *p) { return ((struct rt_cli *)p)->give_up; }

static bool ask(const struct cli *cli, const struct job *j)
{
    struct text d;
    text_init(&d);
    j->cls->describe(j, &d);
    fputs(d.s, stderr);
    text_free(&d);
    if (cli->yes || !isatty(STDIN_FILENO)) /* from cron: the command itself is the decision */
        return true;
    fputs("Proceed? [y/N] ", stderr);
    char line[32] = "";
    bool got = fgets(line, sizeof line, stdin) != NULL;
    if (!got)
        fputc('\n', stderr);
    return got && confirm_answer_ok(CONFIRM_YN, line);
}

/* One server's test, to its end. Returns 0 passed, 1 failed or not done, 130/143 interrupted. */
static int test_one(const struct cli *cli, struct model *m, size_t idx, const char *records)
{
    const struct server *s = &m->servers[idx];
    size_t src = restore_pick_source(m, idx);
    struct restore_request req = {
        .server = s->conf->name,
        .conninfo = s->conf->conninfo,
        .source = m->servers[src].conf->name,
        .source_conninfo = m->servers[src].conf->conninfo,
        .records_path = records,
        .read_only = cli->read_only || m->cfg->read_only,
    };
    restore_conf_resolve(m->cfg, s->conf, &req.conf);
    struct job *j = restore_test_new(m->jobs, &req);
    struct text why;
    text_init(&why);
    if (j->cls->precheck(j, &why) < 0) {
        char *e = esc(why.s, 1), *n = esc(s->conf->name, 1);
        fprintf(stderr, "pgfleet: restore test of %s refused: %s\n", n, e);
        free(e);
        free(n);
        text_free(&why);
        job_discard(m->jobs, j);
        return 1;
    }
    text_free(&why);
    if (!ask(cli, j)) {
        fprintf(stderr, "pgfleet: not confirmed; nothing done\n");
        job_discard(m->jobs, j);
        return 1;
    }
    job_start(m->jobs, j);
    struct rt_cli c = {.m = m, .j = j};
    struct loop_hooks h = {.input_fd = -1, .done = rt_done, .frame = rt_frame, .ctx = &c};
    int rc = loop_run(m, &h);
    if (j->state == JOB_RUNNING) /* interrupted: stop it, remove what it made, record it */
        job_abort(m->jobs, j);
    print_log(&c);
    if (m->jobs->audit_error[0]) {
        char *e = esc(m->jobs->audit_error, 1);
        fprintf(stderr, "pgfleet: the audit log was not written: %s\n", e);
        free(e);
    }
    return rc ? rc : j->state == JOB_DONE && !j->audit_failed ? 0 : 1;
}

int run_restore_test(const struct cli *cli, int argc, char **argv)
{
    if (cli->history) {
        if (argc > 1) {
            fprintf(stderr, "pgfleet: usage: pgfleet restore-test --history [SERVER] [--json]\n");
            return 2;
        }
        char *path = restore_records_default_path();
        int rc = restore_history_print(path, argc ? argv[0] : NULL, cli->json, stdout);
        free(path);
        return rc;
    }
    if (cli->json || (cli->due ? argc != 0 : argc != 1)) {
        fprintf(stderr, "pgfleet: usage: pgfleet restore-test SERVER [--yes] | --due | --history [SERVER] [--json]\n");
        return 2;
    }
    struct config cfg;
    config_init(&cfg);
    struct text err, warn;
    text_init(&err);
    text_init(&warn);
    char *path = config_find(cli->config);
    int rc = 0;
    if (!path) {
        fprintf(stderr,
                "pgfleet: restore-test needs a config naming the servers (give -c FILE or set "
                "PGFLEET_CONFIG)\n");
        rc = 2;
    } else if (config_load(&cfg, path, &err, &warn) < 0) {
        rc = 2;
    }
    fputs_safe(warn.s, stderr);
    fputs_safe(err.s, stderr);
    text_free(&err);
    text_free(&warn);
    free(path);
    if (rc == 0 && (cli->read_only || cfg.read_only)) {
        fprintf(stderr, "pgfleet: read-only: restore-test is disabled\n");
        rc = 2;
    }
    long target = -1;
    for (size_t i = 0; rc == 0 && !cli->due && i < cfg.nservers; i++)
        if (strcmp(cfg.servers[i].name, argv[0]) == 0)
            target = (long)i;
    if (rc == 0 && !cli->due && target < 0) {
        char *e = esc(argv[0], 1);
        fprintf(stderr, "pgfleet: %s: no such server in the config (restore tests are filed by server name)\n", e);
        free(e);
        rc = 2;
    }
    if (rc) {
        config_free(&cfg);
        return rc;
    }
    char *records = restore_records_default_path();
    struct model m;
    sched_init(&m, &cfg);
    struct jobs js;
    jobs_init(&js, cfg.audit_log, cfg.timeout_ms);
    m.jobs = &js;
    /* one round of the fleet first: which servers are replicas of which */
    struct rt_cli c = {.m = &m, .give_up = now_ms() + cfg.timeout_ms + 1000};
    struct loop_hooks h = {.input_fd = -1, .done = first_round, .deadline = first_deadline, .ctx = &c};
    rc = loop_run(&m, &h);
    size_t ran = 0, failed = 0;
    if (!rc && cli->due) {
        time_t now = time(NULL);
        for (size_t i = 0; i < cfg.nservers && !rc; i++) {
            const struct restore_status *st = model_restore_status(&m, &m.servers[i]);
            if (health_restore(st, cfg.restore_max_age_days, now) == SEV_OK)
                continue;
            char *n = esc(cfg.servers[i].name, 1);
            printf("== restore test of %s (due: %s)\n", n,
                   !st || !st->any       ? "never tested"
                       : st->last_failed ? "the last one failed"
                                         : "too old");
            free(n);
            int r = test_one(cli, &m, i, records);
            ran++;
            failed += r != 0;
            if (r > 1)
                rc = r;
        }
        if (!rc && !ran)
            printf("no restore test is due (every server's last good test is under %d days old)\n",
                   cfg.restore_max_age_days);
    } else if (!rc) {
        int r = test_one(cli, &m, (size_t)target, records);
        failed += r != 0;
        if (r > 1)
            rc = r;
    }
    jobs_free(&js);
    m.jobs = NULL;
    sched_free(&m);
    free(records);
    config_free(&cfg);
    return rc ? rc : failed ? 1 : 0;
}
