/* action_terminate.c — terminate sessions (pg_terminate_backend): the connection is closed and
 * its transaction rolled back. Guarded by pid and backend_start in the acting statement; then
 * waits, bounded, until the backend has really exited. */
#include <stdio.h>
#include <stdlib.h>

#include "actions/action_signal.h"
#include "probes/probe.h"

static void absorb(struct job_target *t, const struct rowset *r)
{
    bool alive = cell_bool(rowset_get(r, 0, 0));
    const char *exited = rowset_get(r, 0, 1);
    free(t->result);
    t->ok = alive;
    if (!alive)
        t->result = xstrdup("already gone (nothing sent)");
    else
        t->result = xstrdup(cell_bool(exited) ? "terminated" : "sent; waiting for it to exit");
}

static bool verified(struct job *j, struct job_target *t, bool still, bool last)
{
    free(t->result);
    if (!still) {
        t->result = xstrdup("terminated");
        job_log(j, "pid %d: exited", t->pid);
        return false;
    }
    t->result = xstrdup(last ? "sent; still there after 5 s" : "sent; waiting for it to exit");
    return true;
}

/* clang-format off */
static const struct signal_kind kind = {
    .verb = "terminate",
    .past = "terminated",
    /* 14+: wait up to 5 s for the backend to exit, in the same statement */
    .sql = "SELECT a.alive, CASE WHEN a.alive THEN pg_terminate_backend($1::int, 5000) END AS exited"
           " FROM (SELECT count(*) > 0 AS alive FROM pg_stat_activity"
           "   WHERE pid = $1::int AND " SQL_EPOCH_US("backend_start") " = $2::int8 AND pid <> pg_backend_pid()) a",
    .sql_old = "SELECT a.alive, CASE WHEN a.alive THEN pg_terminate_backend($1::int) AND false END AS exited"
               " FROM (SELECT count(*) > 0 AS alive FROM pg_stat_activity"
               "   WHERE pid = $1::int AND " SQL_EPOCH_US("backend_start") " = $2::int8 AND pid <> pg_backend_pid()) a",
    .guard_query = false,
    .absorb = absorb,
    .verify_sql = "SELECT count(*) > 0 FROM pg_stat_activity WHERE pid = $1::int"
                  " AND " SQL_EPOCH_US("backend_start") " = $2::int8",
    .verify_delay_ms = 200,
    .verify_tries = 25,
    .verified = verified,
};
/* clang-format on */

static enum job_state step(struct job *j, const struct job_event *ev)
{
    if (ev->kind == JEV_START)
        j->timeout_ms += 6000; /* the statement itself may wait 5 s for the exit */
    return signal_step(j, ev, &kind);
}

static void describe(const struct job *j, struct text *out)
{
    signal_describe(j, out, "TERMINATE",
                    ": the connection is closed and its\ntransaction rolled back; the client sees an error:\n\n");
}

/* Typing "yes" for several sessions or a superuser's: a slip of one key must not do that. */
static enum confirm confirm(const struct job *j)
{
    bool super = false;
    for (size_t i = 0; i < j->ntargets; i++)
        super |= j->targets[i].superuser;
    return j->ntargets > 1 || super ? CONFIRM_TYPE_YES : CONFIRM_YN;
}

const struct action_class action_terminate = {
    .name = "terminate",
    .title = "Terminate session",
    .risk = RISK_DANGEROUS,
    .precheck = signal_precheck,
    .describe = describe,
    .confirm = confirm,
    .step = step,
};
