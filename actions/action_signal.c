/* action_signal.c — what cancel and terminate share: the steps of signalling sessions on the
 * job's own connection. Look the targets up when only a pid is known (the shell commands),
 * refuse the ones that may never be signalled, then act with the guard in the same statement
 * (pid AND backend_start [AND query_start]: zero rows means nothing was sent), then verify.
 *
 *   START → connect → [LOOKUP → CONFIRM] → ACT → VERIFY (polled, bounded) → done
 *
 * The acting statement goes out only after its intent record is on disk (job_act). Once it
 * has gone out, any failure (a lost connection, a timeout, an abort) leaves the result unknown:
 * the session may have been signalled, and the audit says so. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/action_signal.h"
#include "core/conn.h"
#include "probes/probe.h"

/* clang-format off */
static const char LOOKUP_SQL[] =
    "SELECT pid, " SQL_EPOCH_US("backend_start") ", " SQL_EPOCH_US("query_start") ","
    " usename, datname, application_name,"
    " coalesce(host(client_addr), 'local') AS client, state, backend_type, left(query, 16384),"
    " (SELECT rolsuper FROM pg_roles r WHERE r.oid = usesysid),"
    " extract(epoch FROM now() - query_start)"
    " FROM pg_stat_activity WHERE pid = $1::int";
/* clang-format on */

__attribute__((format(printf, 3, 4))) static void set_result(struct job_target *t, bool ok, const char *fmt, ...)
{
    va_list ap;
    struct text m;
    text_init(&m);
    va_start(ap, fmt);
    text_vprintf(&m, fmt, ap);
    va_end(ap);
    free(t->result);
    t->result = m.s;
    t->ok = ok;
}

static bool pending(const struct job_target *t) { return t->result == NULL; }

static char *pid_text(const struct job_target *t) { return xasprintf("%d", t->pid); }

/* Send one statement per still-pending target, parameters from fill(); acting statements are
 * audited first. Returns the count, -1 when the send failed, -2 when the audit refused it. */
static int send_per_target(struct job *j, const char *sql, int np,
                           void (*fill)(const struct job_target *, char **params), bool acting)
{
    size_t n = 0;
    const char **sqls = xcalloc(j->ntargets + 1, sizeof *sqls);
    int *nps = xcalloc(j->ntargets + 1, sizeof *nps);
    char ***params = xcalloc(j->ntargets + 1, sizeof *params);
    for (size_t i = 0; i < j->ntargets; i++) {
        if (!pending(&j->targets[i]))
            continue;
        sqls[n] = sql;
        nps[n] = np;
        params[n] = xcalloc(4, sizeof(char *));
        fill(&j->targets[i], params[n]);
        n++;
    }
    const char *const *const *p = (const char *const *const *)params;
    int rc = !n ? 0 : acting ? job_act(j, sqls, (int)n, nps, p) : job_query(j, sqls, (int)n, nps, p);
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 4; k++)
            free(params[i][k]);
        free(params[i]);
    }
    free(params);
    free(nps);
    free(sqls);
    return rc < 0 ? rc : (int)n;
}

static void fill_pid(const struct job_target *t, char **p) { p[0] = pid_text(t); }

static void fill_guard(const struct job_target *t, char **p)
{
    p[0] = pid_text(t);
    p[1] = xstrdup(t->backend_start ? t->backend_start : "");
    p[2] = t->query_start ? xstrdup(t->query_start) : NULL;
}

/* The pending targets in statement order, for matching results. */
static size_t pending_list(struct job *j, struct job_target **out)
{
    size_t n = 0;
    for (size_t i = 0; i < j->ntargets; i++)
        if (pending(&j->targets[i]))
            out[n++] = &j->targets[i];
    return n;
}

/* What a never-target session is, for the message: its backend type. */
static const char *system_kind(const struct job_target *t) { return t->backend_type ? t->backend_type : "?"; }

static void refuse_forbidden(struct job *j)
{
    for (size_t i = 0; i < j->ntargets; i++) {
        struct job_target *t = &j->targets[i];
        if (pending(t) && target_is_system(t) && !j->allow_system) {
            set_result(t, false, "not a client session (%s): never a target", system_kind(t));
            job_log(j, "pid %d: %s", t->pid, t->result);
        }
    }
}

static void absorb_lookup(struct job *j, struct rowset **rs, int nrs)
{
    struct job_target *list[j->ntargets + 1];
    size_t n = pending_list(j, list);
    for (size_t i = 0; i < n && (int)i < nrs; i++) {
        struct job_target *t = list[i];
        const struct rowset *r = rs[i];
        if (r->error) {
            set_result(t, false, "lookup failed: %s", r->error);
        } else if (r->nrows == 0) {
            set_result(t, false, "no such session (nothing sent)");
        } else {
#define C(k) rowset_get(r, 0, k)
            if (!C(1)) {
                /* pg_stat_activity hides other roles' sessions from a login without
                 * pg_read_all_stats: without backend_start there is no guard, so no signal. */
                set_result(t, false,
                           "permission denied: this login cannot see the session's details "
                           "(needs pg_read_all_stats or pg_monitor); nothing sent");
                job_log(j, "pid %d: %s", t->pid, t->result);
                continue;
            }
            t->backend_start = cell_dup(C(1));
            t->query_start = cell_dup(C(2));
            t->user = cell_dup(C(3));
            t->database = cell_dup(C(4));
            t->application = cell_dup(C(5));
            t->client = cell_dup(C(6));
            t->state = cell_dup(C(7));
            t->backend_type = cell_dup(C(8));
            t->query = cell_dup(C(9));
            t->superuser = cell_bool(C(10));
            t->age_s = cell_num(C(11));
#undef C
            continue;
        }
        job_log(j, "pid %d: %s", t->pid, t->result);
    }
}

static enum job_state summary(struct job *j, const char *verb)
{
    size_t ok = 0;
    for (size_t i = 0; i < j->ntargets; i++)
        ok += j->targets[i].ok;
    snprintf(j->outcome, sizeof j->outcome, "%s %zu of %zu", verb, ok, j->ntargets);
    if (j->ntargets == 1 && j->targets[0].result)
        snprintf(j->outcome, sizeof j->outcome, "pid %d: %s", j->targets[0].pid, j->targets[0].result);
    return ok ? JOB_DONE : JOB_FAILED;
}

static int act(struct job *j, const struct signal_kind *k)
{
    refuse_forbidden(j);
    int v = conn_server_version(j->conn);
    const char *sql = v >= 140000 || !k->sql_old ? k->sql : k->sql_old;
    int n = send_per_target(j, sql, k->guard_query ? 3 : 2, fill_guard, true);
    if (n > 0)
        /* not "sent": when the guard finds the session changed, no signal goes out */
        job_log(j, "%s: signalling %d session%s, only if still the one%s shown", k->verb, n, n == 1 ? "" : "s",
                n == 1 ? "" : "s");
    return n;
}

/* Every target still pending gets the same result. */
static void set_pending(struct job *j, const char *why)
{
    for (size_t i = 0; i < j->ntargets; i++)
        if (pending(&j->targets[i]))
            set_result(&j->targets[i], false, "%s", why);
}

/* After the acting statement may have left: nothing is known of the pending targets. */
static enum job_state unknown_after_send(struct job *j, const struct signal_kind *k, const char *why)
{
    char res[300];
    snprintf(res, sizeof res, "unknown (may have been signalled): %s after the statement was sent", why);
    set_pending(j, res);
    job_log(j, "%s", res);
    enum job_state st = summary(j, k->past);
    snprintf(j->outcome, sizeof j->outcome,
             "outcome unknown (may have been signalled): %s after the statement was sent", why);
    return st;
}

/* Send the acting statement; what its failure means depends on whether the audit let it go. */
static enum job_state do_act(struct job *j, const struct signal_kind *k)
{
    j->phase = P_ACT;
    int n = act(j, k);
    if (n == -2) { /* the intent could not be recorded: nothing was sent */
        set_pending(j, "not sent: the audit log cannot be written");
        return JOB_FAILED;
    }
    if (n < 0)
        return unknown_after_send(j, k, conn_error(j->conn));
    return n ? JOB_RUNNING : summary(j, k->past);
}

enum job_state signal_step(struct job *j, const struct job_event *ev, const struct signal_kind *k)
{
    struct job_target *list[j->ntargets + 1];
    switch (ev->kind) {
    case JEV_START:
        j->phase = P_CONNECT;
        if (job_connect(j) < 0) {
            snprintf(j->outcome, sizeof j->outcome, "cannot connect: %s", conn_error(j->conn));
            set_pending(j, "not sent: no connection");
            return JOB_FAILED;
        }
        job_log(j, "connecting to %s (own connection)", j->server);
        return JOB_RUNNING;
    case JEV_FAILED:
        if (j->phase == P_ACT)
            return unknown_after_send(j, k, ev->error);
        if (j->phase == P_VERIFY) {
            job_log(j, "verification stopped: %s", ev->error);
            return summary(j, k->past);
        }
        snprintf(j->outcome, sizeof j->outcome, "connection failed: %s", ev->error);
        for (size_t i = 0; i < j->ntargets; i++)
            if (pending(&j->targets[i]))
                set_result(&j->targets[i], false, "not sent: %s", ev->error);
        return JOB_FAILED;
    case JEV_ABORT:
        /* The audit must not say "not attempted" for a signal that may have been delivered. */
        set_pending(j,
                    j->phase == P_ACT ? "unknown (may have been signalled): aborted after the statement was sent"
                                      : "not sent: aborted");
        snprintf(j->outcome, sizeof j->outcome, "aborted by the user%s",
                 j->phase == P_ACT ? " while the signal statement was in flight: outcome unknown" : "");
        return JOB_ABORTED;
    case JEV_CONFIRMED:
        if (j->phase != P_CONFIRM)
            return JOB_RUNNING;
        j->awaiting_confirm = false;
        return do_act(j, k);
    case JEV_CONNECTED: {
        if (conn_is_pgbouncer_console(j->conn)) {
            /* it would refuse the look-up as "extended query protocol not supported" */
            snprintf(j->outcome, sizeof j->outcome,
                     "this is a pgBouncer console, not a PostgreSQL server: give the server's name or conninfo");
            set_pending(j, "nothing sent: this is a pgBouncer console");
            return JOB_FAILED;
        }
        bool need_lookup = j->confirm_after_lookup;
        for (size_t i = 0; i < j->ntargets; i++)
            need_lookup |= !j->targets[i].backend_start;
        if (need_lookup) {
            j->phase = P_LOOKUP;
            job_log(j, "looking the session%s up", j->ntargets == 1 ? "" : "s");
            if (send_per_target(j, LOOKUP_SQL, 1, fill_pid, false) < 0)
                goto send_failed;
            return JOB_RUNNING;
        }
        return do_act(j, k);
    }
    case JEV_RESULTS:
        if (j->phase == P_LOOKUP) {
            absorb_lookup(j, ev->rs, ev->nrs);
            refuse_forbidden(j);
            bool any = false;
            for (size_t i = 0; i < j->ntargets; i++)
                any |= pending(&j->targets[i]);
            if (any && j->confirm_after_lookup) {
                /* the shell shows what was found and asks; job_confirm() goes on */
                j->phase = P_CONFIRM;
                j->awaiting_confirm = true;
                return JOB_RUNNING;
            }
            return any ? do_act(j, k) : summary(j, k->past);
        }
        if (j->phase == P_ACT) {
            size_t n = pending_list(j, list);
            bool verify = false;
            for (size_t i = 0; i < n && (int)i < ev->nrs; i++) {
                struct job_target *t = list[i];
                const struct rowset *r = ev->rs[i];
                if (r->error) {
                    /* permission is checked before any signal goes out; any other error (a
                     * timeout during terminate's wait, say) may come after it did */
                    bool denied = strcmp(r->sqlstate, "42501") == 0;
                    set_result(t, false, denied ? "permission denied: %s" : "unknown (may have been signalled): %s",
                               r->error);
                } else {
                    k->absorb(t, r);
                    verify |= t->result && t->ok && k->verify_sql;
                }
                job_log(j, "pid %d: %s", t->pid, t->result ? t->result : "?");
            }
            if (verify) {
                j->phase = P_VERIFY;
                j->tries = 0;
                job_set_timer(j, now_ms() + k->verify_delay_ms);
                return JOB_RUNNING;
            }
            return summary(j, k->past);
        }
        if (j->phase == P_VERIFY) {
            bool again = false;
            size_t n = 0;
            for (size_t i = 0; i < j->ntargets; i++)
                if (j->targets[i].ok)
                    list[n++] = &j->targets[i];
            for (size_t i = 0; i < n && (int)i < ev->nrs; i++) {
                bool still = !ev->rs[i]->error && ev->rs[i]->nrows > 0 && cell_bool(rowset_get(ev->rs[i], 0, 0));
                again |= k->verified(j, list[i], still, j->tries >= k->verify_tries);
            }
            if (again && j->tries < k->verify_tries) {
                job_set_timer(j, now_ms() + k->verify_delay_ms);
                return JOB_RUNNING;
            }
            return summary(j, k->past);
        }
        return JOB_RUNNING;
    case JEV_OUTPUT:
    case JEV_EXITED: return JOB_RUNNING; /* no child processes here */
    case JEV_TIMER: {
        /* verify the targets the action reached: a read, not an action (not audited) */
        j->tries++;
        size_t n = 0;
        const char **sqls = xcalloc(j->ntargets + 1, sizeof *sqls);
        int *nps = xcalloc(j->ntargets + 1, sizeof *nps);
        char ***params = xcalloc(j->ntargets + 1, sizeof *params);
        for (size_t i = 0; i < j->ntargets; i++) {
            if (!j->targets[i].ok)
                continue;
            sqls[n] = k->verify_sql;
            nps[n] = k->guard_query ? 3 : 2;
            params[n] = xcalloc(4, sizeof(char *));
            fill_guard(&j->targets[i], params[n]);
            n++;
        }
        int rc = n ? job_query(j, sqls, (int)n, nps, (const char *const *const *)params) : 0;
        for (size_t i = 0; i < n; i++) {
            for (int q = 0; q < 4; q++)
                free(params[i][q]);
            free(params[i]);
        }
        free(params), free(nps), free(sqls);
        if (rc < 0) {
            job_log(j, "verification stopped: %s", conn_error(j->conn));
            return summary(j, k->past);
        }
        return n ? JOB_RUNNING : summary(j, k->past);
    }
    }
    return JOB_RUNNING;
send_failed:
    snprintf(j->outcome, sizeof j->outcome, "send failed: %s", conn_error(j->conn));
    set_pending(j, "not sent: the look-up failed");
    return JOB_FAILED;
}

int signal_precheck(const struct job *j, struct text *why)
{
    if (!j->ntargets) {
        text_add(why, "no session selected");
        return -1;
    }
    for (size_t i = 0; i < j->ntargets; i++)
        if (target_is_system(&j->targets[i]) && !j->allow_system && j->targets[i].backend_start) {
            text_printf(why, "pid %d is not a client session (%s): never a target", j->targets[i].pid,
                        system_kind(&j->targets[i]));
            return -1;
        }
    return 0;
}

void signal_describe(const struct job *j, struct text *out, const char *before, const char *after)
{
    char *srv = esc(j->server, 1);
    text_printf(out, "%s %zu session%s on %s%s", before, j->ntargets, j->ntargets == 1 ? "" : "s", srv, after);
    free(srv);
    describe_targets(j, out);
}
