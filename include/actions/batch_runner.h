/* batch_runner.h — the runner of a batched migration (`pgfleet batch run`), inside the actions
 * layer: its two connections (work: the batches; watch: control, limits, LISTEN) pumped by one
 * small poll loop of its own (batch_conns.c), and the run itself (batch_run.c). */
#ifndef PGFLEET_BATCH_RUNNER_H
#define PGFLEET_BATCH_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "actions/batch.h"
#include "core/rowset.h"

/* One of the runner's connections and the answer to what was last sent on it. */
struct side {
    struct conn *c;
    struct rowset **rs;
    int nrs;
    bool busy;       /* something was sent, no answer yet */
    bool failed;     /* the connection broke (conn_error says why) */
    unsigned notify; /* notifications seen (watch: LISTEN) */
};

struct runner {
    const struct batch_jobfile *jf;
    char *conninfo; /* where, with target_session_attrs=read-write: never printed */
    char app[96];
    struct side work, watch;
    int backend; /* the work connection's backend pid */
    int64_t size, min, max;
    bool range;
    int64_t cursor, start, end, rows_done, rows_est, batches;
    double rate; /* rows per second, smoothed */
    int64_t started_ms, run_rows_base, run_started_ms;
    double run_pct_base; /* where this run started, for its ETA */
    bool keyset_done;    /* keyset mode: the last batch found no rows */
    int timeouts;        /* lock or statement timeouts in a row */
    char state[16];      /* as last written */
    char reason[160];    /* throttle reason as last written */
    bool tty;            /* stdout is a terminal: a progress bar */
    bool bar_shown;      /* a bar is on the line: end it before printing a line */
    char host[128];
    FILE *out;
    char err[512];
};

extern volatile sig_atomic_t batch_stop; /* SIGINT/SIGTERM seen */

/* Connect both sides (deadline ms from now); 0, or -1 with r->err. */
int side_connect_both(struct runner *r, int64_t timeout_ms);
void side_close_both(struct runner *r, const char *why);
/* Send on a side (pipeline, one sync per statement). -1 with r->err. */
int side_send(struct runner *r, struct side *s, const char *const *sql, int n, const int *np,
              const char *const *const *pv, int64_t timeout_ms);
/* Poll both sides once, at most until until_ms (the monotonic clock); returns early on any
 * answer, notification or signal. */
void side_pump(struct runner *r, int64_t until_ms);
/* Send and wait for the answer (n results in s->rs). -1 with r->err when the connection broke
 * or a statement failed (its message in r->err, its SQLSTATE in *sqlstate when not NULL). */
int side_exec(struct runner *r, struct side *s, const char *const *sql, int n, const int *np,
              const char *const *const *pv, int64_t timeout_ms, char sqlstate[6]);
/* The same for a script (several statements in one text: the DDL), in the simple protocol. */
int side_exec_simple(struct runner *r, struct side *s, const char *const *sql, int n, int64_t timeout_ms);
void side_clear(struct side *s);
/* Sleep until until_ms, waking early on a notification or a signal: true when woken so. */
bool side_nap(struct runner *r, int64_t until_ms);

/* Run the job to its end: 0 done, 1 failed, 3 stopped (paused by a signal, or cancelled). */
int batch_run(struct runner *r);

#endif
