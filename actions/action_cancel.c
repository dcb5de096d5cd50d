/* action_cancel.c — cancel the running query of sessions (pg_cancel_backend), only if each is
 * still the same backend running the same query the user saw: the guard is in the statement that
 * sends the signal. Then check, for a little while, whether the query actually stopped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/action_signal.h"
#include "probes/probe.h"

static void absorb(struct job_target *t, const struct rowset *r)
{
    bool alive = cell_bool(rowset_get(r, 0, 0)), same = cell_bool(rowset_get(r, 0, 1));
    const char *sent = rowset_get(r, 0, 2);
    /* columns 3 and 4: is a query running at all, and the session's state when it is not
     * (an idle session has nothing to cancel; one idle in transaction is named so) */
    bool running = r->ncols > 3 ? cell_bool(rowset_get(r, 0, 3)) : true;
    const char *state = r->ncols > 4 && rowset_get(r, 0, 4) ? rowset_get(r, 0, 4) : t->state;
    free(t->result);
    t->ok = false;
    if (!alive)
        t->result = xstrdup("already gone (nothing sent)");
    else if (!same)
        t->result = xstrdup("running a different query now (nothing sent)");
    else if (!running)
        t->result = xasprintf(
            "no query running (%s): nothing to cancel, nothing sent%s", state ? state : "idle",
            state && strncmp(state, "idle in transaction", 19) == 0 ? "; terminate would end its transaction" : "");
    else if (cell_bool(sent)) {
        t->result = xstrdup("sent");
        t->ok = true;
    } else
        t->result = xstrdup("not sent: pg_cancel_backend returned false");
}

static bool verified(struct job *j, struct job_target *t, bool still, bool last)
{
    free(t->result);
    if (!still) {
        t->result = xstrdup("sent; the query ended");
        job_log(j, "pid %d: the query ended", t->pid);
        return false;
    }
    t->result = xstrdup(last ? "sent; still running: terminate may be needed" : "sent; still running");
    if (last)
        job_log(j, "pid %d: still running after the cancel: terminate may be needed", t->pid);
    return true;
}

/* clang-format off */
static const struct signal_kind kind = {
    .verb = "cancel",
    .past = "cancelled",
    .sql = "SELECT a.alive, a.same_query,"
           " CASE WHEN a.same_query AND a.running THEN pg_cancel_backend($1::int) END AS sent,"
           " a.running, a.state"
           " FROM (SELECT count(*) > 0 AS alive,"
           "   coalesce(bool_or(" SQL_EPOCH_US("query_start") " IS NOT DISTINCT FROM $3::int8), false) AS same_query,"
           "   coalesce(bool_or(state IN ('active', 'fastpath function call')), false) AS running,"
           "   max(state) AS state"
           "   FROM pg_stat_activity WHERE pid = $1::int AND " SQL_EPOCH_US("backend_start") " = $2::int8"
           "   AND pid <> pg_backend_pid()) a",
    .guard_query = true,
    .absorb = absorb,
    .verify_sql = "SELECT count(*) > 0 FROM pg_stat_activity WHERE pid = $1::int"
                  " AND " SQL_EPOCH_US("backend_start") " = $2::int8"
                  " AND " SQL_EPOCH_US("query_start") " IS NOT DISTINCT FROM $3::int8 AND state = 'active'",
    .verify_delay_ms = 500,
    .verify_tries = 4,
    .verified = verified,
};
/* clang-format on */

static enum job_state step(struct job *j, const struct job_event *ev) { return signal_step(j, ev, &kind); }

static void describe(const struct job *j, struct text *out)
{
    signal_describe(j, out, "Cancel the running query of",
                    "\n(the session stays connected; its transaction is rolled back):\n\n");
    /* a session with no query running (idle, idle in transaction) is not touched by a cancel:
     * say so before the user counts on it to release a lock */
    for (size_t i = 0; i < j->ntargets; i++) {
        const struct job_target *t = &j->targets[i];
        if (!t->state || strcmp(t->state, "active") == 0 || strcmp(t->state, "fastpath function call") == 0)
            continue;
        char *st = esc(t->state, 1);
        text_printf(out,
                    "\npid %d is %s: no query is running, so cancel does nothing to it\n"
                    "(terminate ends the session and rolls its transaction back)\n",
                    t->pid, st);
        free(st);
    }
}

static enum confirm confirm(const struct job *j)
{
    (void)j;
    return CONFIRM_YN;
}

const struct action_class action_cancel = {
    .name = "cancel",
    .title = "Cancel query",
    .risk = RISK_DISRUPTIVE,
    .precheck = signal_precheck,
    .describe = describe,
    .confirm = confirm,
    .step = step,
};
