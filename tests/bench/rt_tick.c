/* rt_tick.c — bench helper: does a running restore test slow the monitor down? Watches the
 * fleet of CONFIG with pgfleet's own engine for BASE seconds, then starts a restore test of
 * SERVER as the B key does and keeps watching until it ends, recording every server's tick time
 * (send to last result) in both stretches. Prints one line per stretch, then the job's outcome:
 *   base N ticks median MS p95 MS max MS
 *   test N ticks median MS p95 MS max MS
 *   job done|failed|aborted SECONDS OUTCOME
 * Usage: rt_tick CONFIG SERVER [BASE_SECONDS]. Exit 0 when the test passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/job.h"
#include "actions/restore_test.h"
#include "core/config.h"
#include "core/util.h"
#include "probes/model.h"
#include "probes/restore_record.h"
#include "probes/sched.h"
#include "tui/loop.h"

struct ticks {
    int64_t *v;
    size_t n, cap;
};

struct ctx {
    struct model *m;
    unsigned *seen; /* each server's tick count last looked at */
    struct ticks *into;
    struct job *j;
    int64_t until;
};

static void add(struct ticks *t, int64_t v)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->v = xreallocarray(t->v, t->cap, sizeof *t->v);
    }
    t->v[t->n++] = v;
}

static void frame(void *p, bool changed)
{
    (void)changed;
    struct ctx *c = p;
    for (size_t i = 0; i < c->m->n; i++) {
        const struct server *s = &c->m->servers[i];
        if (s->ticks != c->seen[i] && s->status == SRV_UP)
            add(c->into, s->tick_ms);
        c->seen[i] = s->ticks;
    }
}

static bool done(void *p, int64_t now)
{
    struct ctx *c = p;
    return c->j ? c->j->state != JOB_RUNNING : now >= c->until;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, struct ticks *t)
{
    if (!t->n) {
        printf("%s 0 ticks\n", name);
        return;
    }
    qsort(t->v, t->n, sizeof *t->v, cmp);
    printf("%s %zu ticks median %lld p95 %lld max %lld\n", name, t->n, (long long)t->v[t->n / 2],
           (long long)t->v[t->n * 95 / 100], (long long)t->v[t->n - 1]);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: rt_tick CONFIG SERVER [BASE_SECONDS]\n");
        return 2;
    }
    struct config cfg;
    config_init(&cfg);
    struct text err, warn;
    text_init(&err);
    text_init(&warn);
    if (config_load(&cfg, argv[1], &err, &warn) < 0) {
        fputs(err.s, stderr);
        return 2;
    }
    struct model m;
    sched_init(&m, &cfg);
    struct jobs js;
    jobs_init(&js, cfg.audit_log, cfg.timeout_ms);
    m.jobs = &js;
    struct ticks base = {0}, during = {0};
    struct ctx c = {.m = &m, .seen = xcalloc(m.n + 1, sizeof *c.seen), .into = &base};
    /* warm up (connect, first samples), then the baseline */
    c.until = now_ms() + 3000;
    struct loop_hooks h = {.input_fd = -1, .done = done, .frame = frame, .ctx = &c};
    loop_run(&m, &h);
    base.n = 0;
    c.until = now_ms() + 1000 * (argc > 3 ? atoi(argv[3]) : 10);
    loop_run(&m, &h);
    size_t idx = 0;
    while (idx < m.n && strcmp(m.servers[idx].conf->name, argv[2]) != 0)
        idx++;
    if (idx == m.n) {
        fprintf(stderr, "rt_tick: no server %s\n", argv[2]);
        return 2;
    }
    size_t src = restore_pick_source(&m, idx);
    char *records = restore_records_default_path();
    struct restore_request req = {
        .server = m.servers[idx].conf->name,
        .conninfo = m.servers[idx].conf->conninfo,
        .source = m.servers[src].conf->name,
        .source_conninfo = m.servers[src].conf->conninfo,
        .records_path = records,
    };
    restore_conf_resolve(&cfg, m.servers[idx].conf, &req.conf);
    c.j = restore_test_new(&js, &req);
    c.into = &during;
    job_start(&js, c.j);
    loop_run(&m, &h);
    report("base", &base);
    report("test", &during);
    printf("job %s %.1f %s\n", job_state_name(c.j->state), (double)(c.j->ended_ms - c.j->started_ms) / 1000,
           c.j->outcome);
    int rc = c.j->state == JOB_DONE ? 0 : 1;
    if (rc)
        fputs(c.j->log.s, stderr);
    jobs_free(&js);
    m.jobs = NULL;
    sched_free(&m);
    free(records);
    free(c.seen);
    free(base.v);
    free(during.v);
    text_free(&err);
    text_free(&warn);
    config_free(&cfg);
    return rc;
}
