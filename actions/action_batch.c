/* action_batch.c — the controls of a batched migration: pause, resume, cancel, cancel now and
 * the batch size, written into the job's row of the control table pgfleet.batch_job on its
 * server (the trigger there notifies the runner). One guarded, audited UPDATE each; cancel now
 * then cancels the runner's batch in flight, the guard (its backend, its application_name, not
 * ours) inside that statement. The job's name is in j->priv and in the job's one target
 * (application pgfleet-batch:JOB), so the Jobs pane and the audit record name it.
 *
 *   START → connect → [LOOKUP → CONFIRM (the shell)] → ACT → done */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/action.h"
#include "actions/batch.h"
#include "core/conn.h"

enum { P_CONNECT = 1, P_LOOKUP, P_CONFIRM, P_ACT };

struct bctl {
    char *job, *source;
    int dir; /* batch-size: +1 grow, -1 shrink */
    /* what the look-up found (the shell asks with it): state NULL when not looked up */
    char *state, *desired;
    long long rows_done, batch_size;
    bool runner;
};
#define BC(j) ((struct bctl *)(j)->priv)

/* The acting statement: $1 the job, $2 changed_by. One row always: the row before (state NULL:
 * no such job), the row after (NULL: nothing changed), whether its runner is connected. */
/* clang-format off */
#define ACT_SQL(SET, WHERE)                                                                         \
    "WITH u AS (UPDATE pgfleet.batch_job SET " SET ", changed_by = $2"                             \
    " WHERE job = $1 AND state NOT IN ('done', 'failed', 'cancelled')" WHERE                       \
    " RETURNING job, desired, batch_size)"                                                         \
    " SELECT b.state, b.desired, u.desired AS now_desired, b.batch_size, u.batch_size AS now_size," \
    " EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = b.runner_backend"                     \
    "   AND a.application_name = '" BATCH_APP_PREFIX "' || b.job) AS runner, b.runner_backend"      \
    " FROM (SELECT 1) o LEFT JOIN pgfleet.batch_job b ON b.job = $1 LEFT JOIN u ON true"

/* Cancel now's second statement, after the first committed (so the runner, its batch rolled
 * back, reads desired = cancel): the runner's backend only, named so, never ours. */
#define CANCEL_BATCH_SQL                                                                           \
    "SELECT a.pid, a.state, CASE WHEN a.state = 'active' THEN pg_cancel_backend(a.pid) END AS sent" \
    " FROM pgfleet.batch_job b JOIN pg_stat_activity a ON a.pid = b.runner_backend"                \
    "   AND a.application_name = '" BATCH_APP_PREFIX "' || b.job"                                   \
    " WHERE b.job = $1 AND b.desired = 'cancel' AND b.state NOT IN ('done', 'failed', 'cancelled')" \
    "   AND a.pid <> pg_backend_pid()"

#define LOOKUP_SQL                                                                                 \
    "SELECT b.state, b.desired, b.rows_done, b.batch_size, EXISTS (SELECT 1 FROM pg_stat_activity a" \
    "   WHERE a.pid = b.runner_backend AND a.application_name = '" BATCH_APP_PREFIX "' || b.job),"  \
    " b.runner_backend FROM pgfleet.batch_job b WHERE b.job = $1"

#define NOT_CANCELLING " AND desired <> 'cancel'"
static const char SQL_PAUSE[] = ACT_SQL("desired = 'pause'", NOT_CANCELLING);
static const char SQL_RESUME[] = ACT_SQL("desired = 'run'", NOT_CANCELLING);
static const char SQL_CANCEL[] = ACT_SQL("desired = 'cancel'", "");
static const char SQL_GROW[] = ACT_SQL(
    "batch_size = greatest(batch_min, CASE WHEN batch_size > batch_max / 2 THEN batch_max ELSE batch_size * 2 END)", "");
static const char SQL_SHRINK[] = ACT_SQL("batch_size = greatest(batch_min, least(batch_max, batch_size / 2))", "");
/* clang-format on */

static bool is(const struct job *j, const struct action_class *c) { return j->cls == c; }

static const char *verb(const struct job *j)
{
    if (is(j, &action_batch_pause))
        return "pause";
    if (is(j, &action_batch_resume))
        return "resume";
    if (is(j, &action_batch_cancel))
        return "cancel";
    if (is(j, &action_batch_cancel_now))
        return "cancel now";
    return j->priv && BC(j)->dir > 0 ? "grow the batch of" : "shrink the batch of";
}

static const char *act_sql(const struct job *j)
{
    if (is(j, &action_batch_pause))
        return SQL_PAUSE;
    if (is(j, &action_batch_resume))
        return SQL_RESUME;
    if (is(j, &action_batch_cancel) || is(j, &action_batch_cancel_now))
        return SQL_CANCEL;
    return BC(j)->dir > 0 ? SQL_GROW : SQL_SHRINK;
}

struct job *batch_control_new(struct jobs *js, const struct action_class *cls, const char *server, const char *conninfo,
                              const char *job, const char *source, int size_dir)
{
    struct job *j = job_new(js, cls, server, conninfo);
    struct bctl *b = xcalloc(1, sizeof *b);
    b->job = xstrdup(job ? job : "");
    b->source = source ? xstrdup(source) : NULL;
    b->dir = size_dir < 0 ? -1 : 1;
    j->priv = b;
    /* the job's one target: its runner's sessions (the backend, when known, after the look-up
     * or the act), so the Jobs pane's filter and the audit record name the job */
    char *app = xasprintf(BATCH_APP_PREFIX "%s", b->job);
    char *what = xasprintf("batch job %s%s%s", b->job, source ? " of " : "", source ? source : "");
    struct job_target t = {.application = app, .query = what, .backend_type = "client backend"};
    job_add_target(j, &t);
    free(app);
    free(what);
    return j;
}

static void cleanup(struct job *j)
{
    struct bctl *b = BC(j);
    if (!b)
        return;
    free(b->job), free(b->source), free(b->state), free(b->desired);
    free(b);
    j->priv = NULL;
}

static int precheck(const struct job *j, struct text *why)
{
    const struct bctl *b = BC(j);
    if (!b || !b->job[0]) {
        text_add(why, "no batch job selected");
        return -1;
    }
    if (b->source) {
        /* third-party runners are controlled through their own tools (or, later, the config's
         * templates): pgfleet writes only its own control table */
        char *jn = esc(b->job, 1), *src = esc(b->source, 1);
        text_printf(why, "%s is a job of %s: %s it with its own tool", jn, src,
                    is(j, &action_batch_pause)        ? "pause"
                        : is(j, &action_batch_resume) ? "resume"
                        : is(j, &action_batch_size)   ? "resize"
                                                      : "cancel");
        free(jn), free(src);
        return -1;
    }
    return 0;
}

static void describe(const struct job *j, struct text *out)
{
    const struct bctl *b = BC(j);
    char *jn = esc(b->job, 1), *srv = esc(j->server, 1);
    bool now = is(j, &action_batch_cancel_now), cancel = now || is(j, &action_batch_cancel);
    const char *v = verb(j);
    text_printf(out, "%c%s the batched migration %s on %s%s.\n", toupper((unsigned char)v[0]), v + 1, jn, srv,
                now ? ", and the batch in flight" : "");
    if (b->state) {
        char *st = esc(b->state, 1), *de = esc(b->desired ? b->desired : "?", 1);
        text_printf(out, "\nstate %s, desired %s, %lld rows done, batch size %lld, runner %s\n", st, de, b->rows_done,
                    b->batch_size, b->runner ? "connected" : "not connected");
        free(st), free(de);
    }
    if (cancel)
        text_add(out,
                 "\nThe runner stops before its next batch and the job ends as cancelled:\n"
                 "it cannot be resumed (its rows done stay done; a new job does the rest).\n");
    if (now)
        text_add(out, "The batch statement running now is cancelled too: it rolls back.\n");
    free(jn), free(srv);
}

static enum confirm confirm(const struct job *j)
{
    (void)j;
    return CONFIRM_TYPE_YES; /* a cancelled job is over: typing yes, not one key */
}

/* The target's result and the job's outcome, the job's name first. */
static enum job_state done(struct job *j, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static enum job_state done(struct job *j, bool ok, const char *fmt, ...)
{
    char msg[220];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(j->targets[0].result);
    j->targets[0].result = xstrdup(msg);
    j->targets[0].ok = ok;
    snprintf(j->outcome, sizeof j->outcome, "%.63s: %.185s", BC(j)->job, msg);
    return ok ? JOB_DONE : JOB_FAILED;
}

static enum job_state refused_by_server(struct job *j, const struct rowset *r, bool first)
{
    if (strcmp(r->sqlstate, "42P01") == 0 || strcmp(r->sqlstate, "3F000") == 0)
        return done(j, false, "no such job: no control table pgfleet.batch_job on %.60s (pgfleet batch init)",
                    j->server);
    return done(j, false, "%s: %.150s", first ? "nothing changed" : "the batch was not cancelled", r->error);
}

enum job_state batch_ctl_absorb(struct job *j, struct rowset *const *rs, int n)
{
    struct bctl *b = BC(j);
    if (n < 1 || !rs[0])
        return done(j, false, "no result");
    const struct rowset *r = rs[0];
    if (r->error)
        return refused_by_server(j, r, true);
    if (r->nrows < 1 || r->ncols < 7)
        return done(j, false, "unexpected result (%d rows, %d columns)", r->nrows, r->ncols);
#define C(c) rowset_get(r, 0, c)
    const char *state = C(0), *was = C(1), *now_desired = C(2);
    if (!state)
        return done(j, false, "no such job on %.60s", j->server);
    int backend = C(6) ? (int)cell_i64(C(6)) : 0;
    if (backend > 0)
        j->targets[0].pid = backend;
    bool runner = cell_bool(C(5));
    if (!now_desired) {
        if (!strcmp(state, "done") || !strcmp(state, "failed") || !strcmp(state, "cancelled"))
            return done(j, false, "job already %s: nothing changed", state);
        /* pause or resume of a job being cancelled: cancel is final */
        return done(j, false, "job is being cancelled (desired %s): nothing changed", was ? was : "?");
    }
    const char *later = runner ? "the runner acknowledges within one batch"
                               : "no runner connected: it takes effect when the runner starts";
    if (is(j, &action_batch_size)) {
        long long from = cell_i64(C(3)), to = cell_i64(C(4));
        if (from == to)
            return done(j, true, "batch size stays %lld (its %s)", to, b->dir > 0 ? "maximum" : "minimum");
        return done(j, true, "batch size %lld -> %lld (%s)", from, to, later);
    }
    if (is(j, &action_batch_pause))
        return done(j, true, "paused (%s)", later);
    if (is(j, &action_batch_resume))
        return done(j, true, "resumed (%s)", later);
    if (is(j, &action_batch_cancel))
        return done(j, true, "cancelled (%s)", later);
#undef C
    /* cancel now: the second statement's row, if the runner's backend was there */
    if (n < 2 || !rs[1])
        return done(j, true, "cancelled; whether the batch in flight was cancelled is unknown");
    r = rs[1];
    if (r->error) {
        refused_by_server(j, r, false);
        return done(j, true, "cancelled; the batch in flight was not: %.120s", r->error);
    }
    if (r->nrows < 1)
        return done(j, true, "cancelled; no runner connected, no batch in flight (%s)", later);
    const char *st = rowset_get(r, 0, 1), *sent = rowset_get(r, 0, 2);
    j->targets[0].pid = (int)cell_i64(rowset_get(r, 0, 0));
    if (cell_bool(sent))
        return done(j, true, "cancelled; the batch in flight was cancelled (it rolls back)");
    if (!sent)
        return done(j, true, "cancelled; no batch in flight (runner %.40s): it stops before its next batch",
                    st ? st : "idle");
    return done(j, true, "cancelled; the batch's cancel was not delivered (pg_cancel_backend returned false)");
}

static void set_changed_by(char *out, size_t len, const struct job *j)
{
    const char *user = getenv("USER");
    if (!user || !user[0])
        user = getenv("LOGNAME");
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    host[strcspn(host, ".")] = '\0';
    if (user && user[0])
        snprintf(out, len, "pgfleet %.40s@%s %s", user, host, j->audit_id);
    else
        snprintf(out, len, "pgfleet uid%u@%s %s", (unsigned)geteuid(), host, j->audit_id);
}

static enum job_state act(struct job *j)
{
    struct bctl *b = BC(j);
    char by[200];
    set_changed_by(by, sizeof by, j);
    j->phase = P_ACT;
    const char *p1[] = {b->job, by}, *p2[] = {b->job};
    const char *sql[] = {act_sql(j), CANCEL_BATCH_SQL};
    const char *const *params[] = {p1, p2};
    int np[] = {2, 1};
    int n = is(j, &action_batch_cancel_now) ? 2 : 1;
    int rc = job_act(j, sql, n, np, params);
    if (rc == -2) /* the intent is not on record: nothing was sent */
        return done(j, false, "not sent: the audit log cannot be written");
    if (rc < 0)
        return done(j, false, "outcome unknown (may have been changed): %.150s", conn_error(j->conn));
    job_log(j, "%s %s: the control row is updated only if the job is not over", verb(j), b->job);
    return JOB_RUNNING;
}

static enum job_state looked_up(struct job *j, struct rowset *const *rs, int n)
{
    struct bctl *b = BC(j);
    const struct rowset *r = n > 0 ? rs[0] : NULL;
    if (!r)
        return done(j, false, "no result");
    if (r->error) {
        if (strcmp(r->sqlstate, "42P01") == 0 || strcmp(r->sqlstate, "3F000") == 0)
            return done(j, false, "no such job: no control table pgfleet.batch_job on %.60s (pgfleet batch init)",
                        j->server);
        return done(j, false, "look-up failed: %.150s", r->error);
    }
    if (r->nrows < 1)
        return done(j, false, "no such job on %.60s: nothing sent", j->server);
    free(b->state), free(b->desired);
    b->state = cell_dup(rowset_get(r, 0, 0));
    b->desired = cell_dup(rowset_get(r, 0, 1));
    b->rows_done = cell_i64(rowset_get(r, 0, 2));
    b->batch_size = cell_i64(rowset_get(r, 0, 3));
    b->runner = cell_bool(rowset_get(r, 0, 4));
    if (rowset_get(r, 0, 5))
        j->targets[0].pid = (int)cell_i64(rowset_get(r, 0, 5));
    const char *s = b->state ? b->state : "";
    if (!strcmp(s, "done") || !strcmp(s, "failed") || !strcmp(s, "cancelled"))
        return done(j, false, "job already %s: nothing sent", s);
    j->phase = P_CONFIRM;
    j->awaiting_confirm = true;
    return JOB_RUNNING;
}

static enum job_state step(struct job *j, const struct job_event *ev)
{
    struct bctl *b = BC(j);
    switch (ev->kind) {
    case JEV_START:
        j->phase = P_CONNECT;
        snprintf(j->progress, sizeof j->progress, "%s %.60s", verb(j), b->job);
        if (job_connect(j) < 0)
            return done(j, false, "not sent: cannot connect: %.150s", conn_error(j->conn));
        job_log(j, "%s batch job %s on %s: connecting (own connection)", verb(j), b->job, j->server);
        return JOB_RUNNING;
    case JEV_CONNECTED:
        if (conn_is_pgbouncer_console(j->conn))
            return done(j, false, "nothing sent: this is a pgBouncer console, not the job's server");
        if (j->confirm_after_lookup) {
            j->phase = P_LOOKUP;
            const char *sql[] = {LOOKUP_SQL}, *p[] = {b->job};
            const char *const *params[] = {p};
            int np[] = {1};
            if (job_query(j, sql, 1, np, params) < 0)
                return done(j, false, "not sent: the look-up failed: %.150s", conn_error(j->conn));
            return JOB_RUNNING;
        }
        return act(j);
    case JEV_CONFIRMED:
        if (j->phase != P_CONFIRM)
            return JOB_RUNNING;
        j->awaiting_confirm = false;
        return act(j);
    case JEV_RESULTS:
        if (j->phase == P_LOOKUP)
            return looked_up(j, ev->rs, ev->nrs);
        if (j->phase == P_ACT) {
            enum job_state st = batch_ctl_absorb(j, ev->rs, ev->nrs);
            job_log(j, "%s", j->targets[0].result);
            return st;
        }
        return JOB_RUNNING;
    case JEV_FAILED:
        if (j->phase == P_ACT)
            return done(j, false, "outcome unknown (may have been changed): %.150s after the statement was sent",
                        ev->error);
        return done(j, false, "not sent: %.150s", ev->error);
    case JEV_ABORT:
        done(j, false,
             j->phase == P_ACT ? "aborted while the statement was in flight: outcome unknown"
                               : "aborted by the user: nothing sent");
        return JOB_ABORTED;
    case JEV_TIMER:
    case JEV_OUTPUT:
    case JEV_EXITED: return JOB_RUNNING;
    }
    return JOB_RUNNING;
}

static enum confirm no_confirm(const struct job *j)
{
    (void)j;
    return CONFIRM_YN;
}

/* Pause is the emergency brake: no dialog (still audited); so are resume and the size. */
const struct action_class action_batch_pause = {
    .name = "batch-pause",
    .title = "Pause batched migration",
    .risk = RISK_SAFE,
    .precheck = precheck,
    .describe = describe,
    .confirm = no_confirm,
    .step = step,
    .cleanup = cleanup,
};
const struct action_class action_batch_resume = {
    .name = "batch-resume",
    .title = "Resume batched migration",
    .risk = RISK_SAFE,
    .precheck = precheck,
    .describe = describe,
    .confirm = no_confirm,
    .step = step,
    .cleanup = cleanup,
};
const struct action_class action_batch_size = {
    .name = "batch-size",
    .title = "Resize batches of a migration",
    .risk = RISK_SAFE,
    .precheck = precheck,
    .describe = describe,
    .confirm = no_confirm,
    .step = step,
    .cleanup = cleanup,
};
const struct action_class action_batch_cancel = {
    .name = "batch-cancel",
    .title = "Cancel batched migration",
    .risk = RISK_DISRUPTIVE,
    .precheck = precheck,
    .describe = describe,
    .confirm = confirm,
    .step = step,
    .cleanup = cleanup,
};
const struct action_class action_batch_cancel_now = {
    .name = "batch-cancel-now",
    .title = "Cancel batched migration and its batch",
    .risk = RISK_DANGEROUS,
    .precheck = precheck,
    .describe = describe,
    .confirm = confirm,
    .step = step,
    .cleanup = cleanup,
};
