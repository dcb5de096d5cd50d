/* job.c — the job list and the life of one job: its own connection driven by the loop, the
 * events handed to its action's step function, timers, abort, and the audit: an intent record
 * on disk before anything that acts is sent, an outcome record the moment it ends (before
 * anyone is shown the result). */
#include "actions/job.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/action.h"
#include "actions/audit.h"
#include "core/conn.h"

void jobs_init(struct jobs *js, const char *audit_path, int64_t timeout_ms)
{
    memset(js, 0, sizeof *js);
    TAILQ_INIT(&js->list);
    js->next_id = 1;
    js->audit_path = audit_path ? xstrdup(audit_path) : audit_default_path();
    if (!js->audit_path)
        snprintf(js->audit_error, sizeof js->audit_error,
                 "no audit log: HOME is not set and no home directory is known; set actions.audit_log");
    js->timeout_ms = timeout_ms;
    audit_identity_init();
}

void job_target_free(struct job_target *t)
{
    free(t->backend_start);
    free(t->query_start);
    free(t->user);
    free(t->database);
    free(t->application);
    free(t->client);
    free(t->state);
    free(t->backend_type);
    free(t->query);
    free(t->pooler);
    free(t->result);
}

static void job_free(struct job *j)
{
    proc_kill(&j->proc, 500); /* nothing it started outlives it */
    proc_close(&j->proc);
    text_free(&j->proc.partial);
    if (j->cls->cleanup)
        j->cls->cleanup(j);
    conn_free(j->conn);
    for (size_t i = 0; i < j->ntargets; i++)
        job_target_free(&j->targets[i]);
    free(j->targets);
    for (size_t i = 0; i < j->nsql; i++)
        free(j->sql[i]);
    free(j->sql);
    free(j->server);
    free(j->conninfo);
    text_free(&j->log);
    free(j);
}

void jobs_free(struct jobs *js)
{
    struct job *j;
    while ((j = TAILQ_FIRST(&js->list))) {
        TAILQ_REMOVE(&js->list, j, entry);
        job_free(j);
    }
    free(js->audit_path);
    js->audit_path = NULL;
}

const char *job_state_name(enum job_state s)
{
    switch (s) {
    case JOB_PENDING: return "pending";
    case JOB_RUNNING: return "running";
    case JOB_DONE: return "done";
    case JOB_FAILED: return "failed";
    case JOB_ABORTED: return "aborted";
    }
    return "?";
}

struct job *job_new(struct jobs *js, const struct action_class *cls, const char *server, const char *conninfo)
{
    struct job *j = xcalloc(1, sizeof *j);
    j->owner = js; /* numbered when started: backing out of its dialog leaves no gap */
    j->cls = cls;
    j->server = xstrdup(server);
    j->conninfo = xstrdup(conninfo ? conninfo : "");
    j->state = JOB_PENDING;
    j->timer_ms = INT64_MAX;
    j->timeout_ms = js->timeout_ms;
    j->allow_system = js->allow_system;
    text_init(&j->log);
    proc_init(&j->proc);
    TAILQ_INSERT_TAIL(&js->list, j, entry);
    js->n++;
    js->generation++;
    return j;
}

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

void job_add_target(struct job *j, const struct job_target *t)
{
    j->targets = xreallocarray(j->targets, j->ntargets + 1, sizeof *j->targets);
    struct job_target *d = &j->targets[j->ntargets++];
    *d = *t;
    d->backend_start = dup_or_null(t->backend_start);
    d->query_start = dup_or_null(t->query_start);
    d->user = dup_or_null(t->user);
    d->database = dup_or_null(t->database);
    d->application = dup_or_null(t->application);
    d->client = dup_or_null(t->client);
    d->state = dup_or_null(t->state);
    d->backend_type = dup_or_null(t->backend_type);
    d->query = dup_or_null(t->query);
    d->pooler = dup_or_null(t->pooler);
    d->result = dup_or_null(t->result);
}

void job_discard(struct jobs *js, struct job *j)
{
    TAILQ_REMOVE(&js->list, j, entry);
    js->n--;
    js->generation++;
    job_free(j);
}

void job_log(struct job *j, const char *fmt, ...)
{
    va_list ap;
    char stamp[16];
    double t = (double)(now_ms() - j->started_ms) / 1000;
    snprintf(stamp, sizeof stamp, "%+7.2fs  ", j->started_ms ? t : 0.0);
    text_add(&j->log, stamp);
    va_start(ap, fmt);
    text_vprintf(&j->log, fmt, ap);
    va_end(ap);
    text_add(&j->log, "\n");
}

void job_set_timer(struct job *j, int64_t at_ms) { j->timer_ms = at_ms; }

int job_connect(struct job *j)
{
    if (!j->conn) {
        j->conn = conn_new(j->conninfo, "pgfleet-action");
        /* a role's statement_timeout must not interrupt pg_terminate_backend(pid, timeout)
         * after the signal went out: the job bounds its own waits */
        const char *names[] = {"statement_timeout"}, *values[] = {"0"};
        conn_set_settings(j->conn, names, values, 1);
    }
    if (conn_start(j->conn, now_ms() + j->timeout_ms) < 0)
        return -1;
    return 0;
}

int job_query(struct job *j, const char *const *sql, int n, const int *nparams, const char *const *const *params)
{
    return conn_send(j->conn, CONN_PIPELINE, sql, n, nparams, params, now_ms() + j->timeout_ms);
}

/* No record, no action: the intent (j->sql so far) on disk before anything acts. */
static int record_intent(struct job *j)
{
    char err[256];
    const char *path = j->owner ? j->owner->audit_path : NULL;
    if (!path || audit_append(path, j, "intent", err, sizeof err) < 0) {
        if (!path)
            snprintf(err, sizeof err, "%s", j->owner ? j->owner->audit_error : "no audit log");
        if (j->owner)
            snprintf(j->owner->audit_error, sizeof j->owner->audit_error, "%s", err);
        job_log(j, "AUDIT LOG NOT WRITTEN: %s: nothing sent or run", err);
        snprintf(j->outcome, sizeof j->outcome,
                 "refused, nothing sent or run: the audit log cannot be written (%.180s)", err);
        return -2;
    }
    j->intent_written = true;
    return 0;
}

static void add_sql(struct job *j, char *s)
{
    j->sql = xreallocarray(j->sql, j->nsql + 1, sizeof *j->sql);
    j->sql[j->nsql++] = s;
}

int job_record_intent(struct job *j, const char *what)
{
    add_sql(j, xstrdup(what));
    return record_intent(j);
}

int job_act(struct job *j, const char *const *sql, int n, const int *nparams, const char *const *const *params)
{
    for (int i = 0; i < n; i++) {
        struct text t;
        text_init(&t);
        text_add(&t, sql[i]);
        int np = nparams ? nparams[i] : 0;
        if (np) {
            text_add(&t, "  -- with");
            for (int k = 0; k < np; k++)
                text_printf(&t, " $%d='%s'", k + 1, params[i][k] ? params[i][k] : "NULL");
        }
        add_sql(j, t.s);
    }
    if (record_intent(j) < 0)
        return -2;
    return conn_send(j->conn, CONN_PIPELINE, sql, n, nparams, params, now_ms() + j->timeout_ms);
}

int job_spawn(struct job *j, const struct proc_spec *s, char *err, size_t errlen)
{
    if (j->proc.pid && !j->proc.reaped) {
        snprintf(err, errlen, "%s is still running", j->proc.name);
        return -1;
    }
    proc_close(&j->proc);
    return proc_spawn(&j->proc, s, err, errlen);
}

int job_connect_to(struct job *j, const char *conninfo)
{
    conn_free(j->conn);
    j->conn = conn_new(conninfo, "pgfleet-action");
    const char *names[] = {"statement_timeout"}, *values[] = {"0"};
    conn_set_settings(j->conn, names, values, 1);
    return conn_start(j->conn, now_ms() + j->timeout_ms);
}

/* The end of a job: the audit line first, so no result is shown that is not on record. */
static void finish(struct jobs *js, struct job *j, enum job_state st)
{
    j->state = st;
    j->ended_ms = now_ms();
    j->timer_ms = INT64_MAX;
    if (j->conn)
        conn_close(j->conn, NULL);
    if (j->proc.pid && !j->proc.reaped) /* the action should have stopped it: make sure */
        proc_kill(&j->proc, 500);
    if (!j->outcome[0])
        snprintf(j->outcome, sizeof j->outcome, "%s", job_state_name(st));
    char err[256];
    if (!js->audit_path) {
        job_log(j, "AUDIT LOG NOT WRITTEN: %s", js->audit_error);
        j->audit_failed = true;
    } else if (audit_append(js->audit_path, j, "outcome", err, sizeof err) < 0) {
        snprintf(js->audit_error, sizeof js->audit_error, "%s", err);
        job_log(j, "AUDIT LOG NOT WRITTEN: %s", err);
        j->audit_failed = true;
    }
    job_log(j, "%s: %s", job_state_name(st), j->outcome);
}

static void dispatch(struct jobs *js, struct job *j, const struct job_event *ev)
{
    enum job_state st = j->cls->step(j, ev);
    js->generation++;
    if (st != JOB_RUNNING && st != JOB_PENDING)
        finish(js, j, st);
}

void job_start(struct jobs *js, struct job *j)
{
    j->id = js->next_id++;
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    host[strcspn(host, ".")] = '\0';
    snprintf(j->audit_id, sizeof j->audit_id, "%.20s-%ld-%lld-%u", host, (long)getpid(), (long long)time(NULL), j->id);
    j->state = JOB_RUNNING;
    j->started_ms = now_ms();
    j->started_wall = time(NULL);
    if (j->ntargets)
        job_log(j, "%s on %s: %zu target%s", j->cls->title, j->server, j->ntargets, j->ntargets == 1 ? "" : "s");
    struct job_event ev = {.kind = JEV_START};
    dispatch(js, j, &ev);
}

void job_confirm(struct jobs *js, struct job *j)
{
    if (j->state != JOB_RUNNING || !j->awaiting_confirm)
        return;
    job_log(j, "confirmed by the user");
    struct job_event ev = {.kind = JEV_CONFIRMED};
    dispatch(js, j, &ev);
}

void job_abort(struct jobs *js, struct job *j)
{
    if (j->state != JOB_RUNNING)
        return;
    job_log(j, "abort requested by the user");
    struct job_event ev = {.kind = JEV_ABORT};
    enum job_state st = j->cls->step(j, &ev);
    js->generation++;
    finish(js, j, st == JOB_RUNNING ? JOB_ABORTED : st);
}

int jobs_pollfds(struct jobs *js, struct pollfd *pfd, struct job **tag, int max)
{
    int n = 0;
    struct job *j;
    TAILQ_FOREACH (j, &js->list, entry) {
        if (n >= max)
            break;
        if (j->state != JOB_RUNNING)
            continue;
        short ev;
        int fd = j->conn ? conn_pollfd(j->conn, &ev) : -1;
        if (fd >= 0) {
            pfd[n].fd = fd;
            pfd[n].events = ev;
            pfd[n].revents = 0;
            tag[n++] = j;
        }
        if (j->proc.fd >= 0 && n < max) {
            pfd[n].fd = j->proc.fd;
            pfd[n].events = POLLIN;
            pfd[n].revents = 0;
            tag[n++] = j;
        }
    }
    return n;
}

static void step_conn(struct jobs *js, struct job *j, short revents, int64_t now)
{
    enum conn_event ce = conn_step(j->conn, revents, now);
    if (ce == CONN_EV_CONNECTED) {
        struct job_event ev = {.kind = JEV_CONNECTED};
        dispatch(js, j, &ev);
    } else if (ce == CONN_EV_FAILED) {
        struct job_event ev = {.kind = JEV_FAILED, .error = conn_error(j->conn)};
        dispatch(js, j, &ev);
    } else if (ce == CONN_EV_DONE) {
        int n;
        struct rowset **rs = conn_take_results(j->conn, &n);
        struct job_event ev = {.kind = JEV_RESULTS, .rs = rs, .nrs = n};
        dispatch(js, j, &ev);
        for (int i = 0; i < n; i++)
            rowset_free(rs[i]);
        free(rs);
    }
}

struct line_ctx {
    struct jobs *js;
    struct job *j;
};

static void on_line(void *p, const char *line)
{
    struct line_ctx *c = p;
    if (c->j->state != JOB_RUNNING)
        return;
    struct job_event ev = {.kind = JEV_OUTPUT, .line = line};
    dispatch(c->js, c->j, &ev);
}

/* The child's output (read whenever there is some: a non-blocking read), then its end. */
static void step_proc(struct jobs *js, struct job *j, int64_t now)
{
    struct line_ctx c = {js, j};
    proc_read(&j->proc, on_line, &c);
    if (j->state == JOB_RUNNING && j->proc.pid && proc_done(&j->proc, now)) {
        struct job_event ev = {.kind = JEV_EXITED, .status = j->proc.status};
        proc_close(&j->proc);
        dispatch(js, j, &ev);
    }
}

bool jobs_step(struct jobs *js, const struct pollfd *pfd, struct job *const *tag, int n, int64_t now)
{
    unsigned gen = js->generation;
    struct job *j, *tmp;
    TAILQ_FOREACH_SAFE (j, &js->list, entry, tmp) {
        if (j->state != JOB_RUNNING)
            continue;
        short rev = 0;
        for (int k = 0; k < n; k++)
            if (tag[k] == j)
                rev |= pfd[k].revents;
        if (j->conn && conn_state(j->conn) != CONN_CLOSED)
            step_conn(js, j, rev, now);
        if (j->state == JOB_RUNNING && j->proc.pid)
            step_proc(js, j, now);
        if (j->state == JOB_RUNNING && now >= j->timer_ms) {
            j->timer_ms = INT64_MAX;
            struct job_event ev = {.kind = JEV_TIMER};
            dispatch(js, j, &ev);
        }
    }
    return gen != js->generation;
}

int64_t jobs_next_deadline(const struct jobs *js)
{
    int64_t best = INT64_MAX;
    struct job *j;
    TAILQ_FOREACH (j, &js->list, entry) {
        if (j->state != JOB_RUNNING)
            continue;
        if (j->timer_ms < best)
            best = j->timer_ms;
        if (j->conn && conn_deadline(j->conn) < best)
            best = conn_deadline(j->conn);
        /* a child's exit is noticed by polling (its pipe may stay open in a grandchild) */
        if (j->proc.pid && now_ms() + 200 < best)
            best = now_ms() + 200;
    }
    return best;
}

bool jobs_busy(const struct jobs *js)
{
    struct job *j;
    TAILQ_FOREACH (j, &js->list, entry)
        if (j->state == JOB_RUNNING || j->state == JOB_PENDING)
            return true;
    return false;
}
