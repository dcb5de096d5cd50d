/* action_restore_test.c — the restore-test job: preflight (privileges, binaries, space, canary
 * values read from the source), then the method's steps as child processes driven by the loop,
 * then the restored server started on a private socket and checked, stopped and removed, and
 * one record written. Every step is timed; the time from the start to a checked server is the
 * measured RTO. Abort kills the step's process group, stops the scratch server, removes the
 * scratch directory.
 *
 *   preflight → [canaries on the source] → intent recorded →
 *     basebackup: pg_basebackup → pg_verifybackup → start → check
 *     logical:    initdb → start → roles → (pg_dump → pg_restore) per database → check
 *     pgbackrest: pgbackrest restore → start (recovery) → check
 *     hook:       the command → start → check
 *   → [pg_amcheck] → stop → remove → record */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "actions/action.h"
#include "actions/restore_job.h"
#include "core/conn.h"
#include "probes/restore_record.h"

/* ------------------------------------------------------------------------------- the class */

static enum job_state rt_step(struct job *j, const struct job_event *ev)
{
    struct rt *r = RT(j);
    switch (ev->kind) {
    case JEV_START:
        rt_phase_begin(r, PH_PREFLIGHT);
        r->step = RT_CONNECT;
        rt_set_progress(j, "preflight");
        r->deadline_ms = now_ms() + r->req.conf.timeout_ms;
        job_set_timer(j, r->deadline_ms);
        job_log(j, "restore test of %s by %s from %s", r->req.server, r->req.conf.method, r->req.source);
        if (job_connect(j) < 0)
            return rt_fail(j, PH_PREFLIGHT, "cannot connect to %s: %s", r->req.server, conn_error(j->conn));
        return JOB_RUNNING;
    case JEV_CONNECTED: {
        if (r->step == RT_CONNECT) {
            r->step = RT_PREFLIGHT;
            const char *sql[] = {RT_PREFLIGHT_SQL, RT_DBS_SQL};
            if (job_query(j, sql, 2, NULL, NULL) < 0)
                return rt_fail(j, PH_PREFLIGHT, "cannot query %s: %s", r->req.server, conn_error(j->conn));
        } else if (r->step == RT_CANARY_SRC || r->step == RT_CANARY_DST) {
            const char *sql[] = {r->req.conf.canaries[r->canary_i].query};
            if (job_query(j, sql, 1, NULL, NULL) < 0)
                return rt_fail(j, r->step == RT_CANARY_SRC ? PH_PREFLIGHT : PH_CHECK, "canary %zu: %s", r->canary_i + 1,
                               conn_error(j->conn));
        } else if (r->step == RT_CHECK) {
            r->retry_check = false;
            const char *sql[] = {RT_CHECK_SQL, RT_DBS_SQL};
            const char *t = r->req.conf.target_time ? r->req.conf.target_time : "";
            const char *p0[] = {t};
            const char *const *params[] = {p0, NULL};
            int np[] = {1, 0};
            if (job_query(j, sql, 2, np, params) < 0)
                return rt_fail(j, PH_CHECK, "cannot query the restored server: %s", conn_error(j->conn));
        }
        return JOB_RUNNING;
    }
    case JEV_RESULTS:
        if (r->step == RT_PREFLIGHT) {
            enum job_state s = rt_preflight(j, ev->rs, ev->nrs);
            if (s != JOB_RUNNING || r->step != RT_PREFLIGHT)
                return s;
            return rt_begin(j);
        }
        if (r->step == RT_CANARY_SRC || r->step == RT_CANARY_DST)
            return rt_canary_result(j, ev->rs, ev->nrs, r->step == RT_CANARY_DST);
        if (r->step == RT_CHECK)
            return rt_check_result(j, ev->rs, ev->nrs);
        return JOB_RUNNING;
    case JEV_FAILED:
        if (r->step == RT_CONNECT || r->step == RT_PREFLIGHT || r->step == RT_CANARY_SRC)
            return rt_fail(j, PH_PREFLIGHT, "%s: %s", r->req.server, ev->error);
        if (r->step == RT_CHECK &&
            (strstr(ev->error, "not accepting connections") || strstr(ev->error, "starting up") ||
             strstr(ev->error, "recovery mode"))) {
            /* pg_ctl says "started" once a recovering server runs; it accepts logins at the end */
            if (!r->retry_check)
                job_log(j, "recovery still running: waiting for the end of it");
            r->retry_check = true;
            rt_set_progress(j, "recovering (replaying WAL)");
            job_set_timer(j, now_ms() + 500 < r->deadline_ms ? now_ms() + 500 : r->deadline_ms);
            return JOB_RUNNING;
        }
        if (r->step == RT_CHECK || r->step == RT_CANARY_DST)
            return rt_fail(j, PH_CHECK, "the restored server: %s", ev->error);
        return JOB_RUNNING; /* a connection closed between steps */
    case JEV_OUTPUT: rt_on_output(j, ev->line); return JOB_RUNNING;
    case JEV_EXITED: return rt_on_exit_step(j, ev->status);
    case JEV_TIMER: {
        if (r->retry_check && now_ms() < r->deadline_ms) {
            r->retry_check = false;
            job_set_timer(j, r->deadline_ms);
            char *ci = rt_copy_conninfo(r, r->ndbs ? r->dbs[0] : "postgres");
            int rc = job_connect_to(j, ci);
            free(ci);
            if (rc < 0)
                return rt_fail(j, PH_CHECK, "cannot connect to the restored server: %s", conn_error(j->conn));
            r->retry_check = true; /* until it connects: a failure retries again */
            return JOB_RUNNING;
        }
        char t[32];
        return rt_fail(j, r->phase >= 0 ? r->phase : PH_COPY, "timed out after %s (restore_test.timeout)",
                       fmt_age(t, sizeof t, (double)r->req.conf.timeout_ms / 1000));
    }
    case JEV_ABORT:
        if (!r->failed_phase[0] && r->phase >= 0)
            snprintf(r->failed_phase, sizeof r->failed_phase, "%s", rt_phase_names[r->phase]);
        snprintf(r->error, sizeof r->error, "aborted by the user");
        rt_teardown_now(j);
        if (r->intent)
            rt_write_record(j, "aborted");
        snprintf(j->outcome, sizeof j->outcome, "aborted%s%s: nothing left behind", r->failed_phase[0] ? " at " : "",
                 r->failed_phase);
        j->progress[0] = '\0';
        return JOB_ABORTED;
    case JEV_CONFIRMED: return JOB_RUNNING;
    }
    return JOB_RUNNING;
}

static int rt_precheck(const struct job *j, struct text *why)
{
    const struct rt *r = j->priv;
    if (r->req.read_only) {
        text_add(why, "read-only: restore tests are disabled");
        return -1;
    }
    if (!r->req.records_path) {
        text_add(why, "no record file: HOME is not set and no home directory is known (set XDG_STATE_HOME)");
        return -1;
    }
    if (j->owner) {
        const struct job *o;
        TAILQ_FOREACH (o, &j->owner->list, entry)
            if (o != j && o->cls == &action_restore_test && o->state == JOB_RUNNING &&
                strcmp(o->server, j->server) == 0) {
                text_printf(why, "a restore test of this server is running already (job %u)", o->id);
                return -1;
            }
    }
    return 0;
}

static void rt_describe(const struct job *j, struct text *out)
{
    const struct rt *r = j->priv;
    char *srv = esc(r->req.server, 1), *src = esc(r->req.source, 1), *base = esc(rt_scratch_base(r), 1);
    text_printf(out, "Restore test of %s by %s", srv, r->req.conf.method);
    if (strcmp(r->req.conf.method, "basebackup") == 0 || strcmp(r->req.conf.method, "logical") == 0)
        text_printf(out, ", copied from %s%s", src, strcmp(r->req.source, r->req.server) ? " (a replica)" : "");
    text_printf(out, ",\ninto a scratch directory under %s, started on a private socket, checked\n", base);
    text_printf(out, "(databases present%s%s), stopped and removed.\n", r->req.conf.ncanaries ? ", canary queries" : "",
                r->req.conf.amcheck ? ", pg_amcheck" : "");
    text_add(out, "It reads the whole server: expect load on the source while it copies.\n");
    free(srv);
    free(src);
    free(base);
}

static enum confirm rt_confirm(const struct job *j)
{
    (void)j;
    return CONFIRM_YN;
}

static void rt_cleanup(struct job *j)
{
    struct rt *r = j->priv;
    if (!r)
        return;
    if (r->scratch_made || r->started_server) /* freed while running: nothing left behind */
        rt_teardown_now(j);
    free(r->superuser);
    for (size_t i = 0; i < r->ndbs; i++)
        free(r->dbs[i]);
    free(r->dbs);
    for (size_t i = 0; r->canary_src && i < r->req.conf.ncanaries; i++)
        free(r->canary_src[i]);
    free(r->canary_src);
    for (size_t i = 0; i < r->nchecks; i++)
        free(r->checks[i]);
    free(r->password);
    free(r);
    j->priv = NULL;
}

const struct action_class action_restore_test = {
    .name = "restore-test",
    .title = "Restore test",
    .risk = RISK_SAFE,
    .precheck = rt_precheck,
    .describe = rt_describe,
    .confirm = rt_confirm,
    .step = rt_step,
    .cleanup = rt_cleanup,
};

struct job *restore_test_new(struct jobs *js, const struct restore_request *req)
{
    struct job *j = job_new(js, &action_restore_test, req->server, req->conninfo);
    struct rt *r = xcalloc(1, sizeof *r);
    r->req = *req;
    r->phase = -1;
    j->priv = r;
    return j;
}

bool restore_test_running(const struct jobs *js, const char *server)
{
    const struct job *j;
    TAILQ_FOREACH (j, &js->list, entry)
        if (j->cls == &action_restore_test && j->state == JOB_RUNNING && (!server || strcmp(j->server, server) == 0))
            return true;
    return false;
}

bool restore_test_any_running(const struct jobs *js) { return restore_test_running(js, NULL); }

bool restore_test_recorded(const struct job *j)
{
    return j->cls == &action_restore_test && j->priv && ((const struct rt *)j->priv)->recorded;
}
