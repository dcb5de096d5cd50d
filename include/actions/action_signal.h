/* action_signal.h — the shared engine of cancel and terminate (actions/action_signal.c); each
 * of the two describes itself with a signal_kind: its guarded SQL and how to read the result. */
#ifndef PGFLEET_ACTION_SIGNAL_H
#define PGFLEET_ACTION_SIGNAL_H

#include "actions/action.h"

/* The steps of a signal job (job->phase). */
enum signal_phase { P_CONNECT, P_LOOKUP, P_CONFIRM, P_ACT, P_VERIFY };

struct signal_kind {
    const char *verb, *past; /* "cancel", "cancelled" */
    const char *sql;         /* guarded act: $1 pid, $2 backend_start [, $3 query_start] */
    const char *sql_old;     /* the same for servers before 14, or NULL */
    bool guard_query;        /* the guard includes query_start */
    void (*absorb)(struct job_target *t, const struct rowset *r); /* sets result and ok */
    const char *verify_sql; /* one boolean: is the target still there (running)? */
    int verify_delay_ms, verify_tries;
    /* After a verify poll: update t's result; return true to poll again. */
    bool (*verified)(struct job *j, struct job_target *t, bool still, bool last);
};

enum job_state signal_step(struct job *j, const struct job_event *ev, const struct signal_kind *k);
int signal_precheck(const struct job *j, struct text *why);
/* The confirmation dialog's text: "BEFORE N session(s) on SERVER" and AFTER, then the sessions. */
void signal_describe(const struct job *j, struct text *out, const char *before, const char *after);

#endif
