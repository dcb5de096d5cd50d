/* job.h — running actions. A job is one action on one server with its targets; the poll() loop
 * steps it on its events (connection ready, results, failure, timer, abort). Jobs use their own
 * connections, never the probe connection, and keep a live log. The audit log gets an intent
 * record, on disk, before any statement that acts is sent (no record, no action), and an
 * outcome record when the job ends. */
#ifndef PGFLEET_JOB_H
#define PGFLEET_JOB_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include "actions/job_proc.h"
#include "core/rowset.h"
#include "core/util.h"

struct conn;
struct action_class;

enum job_state { JOB_PENDING, JOB_RUNNING, JOB_DONE, JOB_FAILED, JOB_ABORTED };

/* A session an action aims at, with the facts that identify it (the guard) and the ones the
 * confirmation dialog and the audit show. Raw server text: escape before showing. */
struct job_target {
    int pid;
    char *backend_start, *query_start; /* guard against pid reuse and finished queries */
    char *user, *database, *application, *client, *state, *backend_type, *query;
    double age_s;   /* query age */
    int blocks;     /* how many sessions it blocks (Locks pane), 0 if unknown */
    bool superuser; /* the session's role is a superuser */
    char *pooler;   /* a pooler's server connection: "NAME (pool DB/USER)", else NULL */
    char *result;   /* per-target outcome, set by the action */
    bool ok;        /* the action did what was asked for this target */
};

enum job_event_kind {
    JEV_START,
    JEV_CONNECTED,
    JEV_RESULTS,
    JEV_FAILED,
    JEV_TIMER,
    JEV_ABORT,
    JEV_CONFIRMED,
    JEV_OUTPUT, /* a line from the job's child process */
    JEV_EXITED, /* the child process ended (its output all read) */
};

struct job_event {
    enum job_event_kind kind;
    struct rowset **rs; /* JEV_RESULTS: one per statement (owned by job.c, freed after step) */
    int nrs;
    const char *error; /* JEV_FAILED: why */
    const char *line;  /* JEV_OUTPUT: the line (raw: escape before showing) */
    int status;        /* JEV_EXITED: the wait status (proc_status_text) */
};

struct job {
    unsigned id;
    char audit_id[48]; /* ties the intent and outcome records: host, pid, time, id */
    struct jobs *owner;
    const struct action_class *cls;
    char *server;   /* the server's name */
    char *conninfo; /* never shown: may hold a password */
    struct job_target *targets;
    size_t ntargets;
    enum job_state state;
    int phase; /* the action's own step counter */
    struct conn *conn;
    int64_t timer_ms;   /* JEV_TIMER at this time (INT64_MAX: none) */
    int64_t timeout_ms; /* per-batch deadline for this job's connection */
    int tries;          /* the action's retry counter (e.g. polls until a backend exits) */
    bool allow_system;  /* config actions.allow_system_backends */
    struct text log;    /* the live log: one line per step, raw (escaped when shown) */
    char **sql;         /* every statement sent, for the audit */
    size_t nsql;
    char outcome[256];         /* one line summary when done */
    bool intent_written;       /* an intent record is on disk: something may have been sent */
    bool confirm_after_lookup; /* the shell: look the targets up, then wait for job_confirm() */
    bool awaiting_confirm;     /* looked up; waiting for the user's answer */
    bool audit_failed;         /* the outcome record could not be written */
    int64_t started_ms, ended_ms;
    time_t started_wall;
    struct job_proc proc; /* the child process of the current step, if any (job_spawn) */
    char progress[96];    /* a running job's progress for the Jobs pane, raw ("copy 42% …") */
    void *priv;           /* the action's own state, freed by its class's cleanup */
    TAILQ_ENTRY(job) entry;
};
TAILQ_HEAD(job_list, job);

struct jobs {
    struct job_list list;
    unsigned next_id;
    size_t n;
    char *audit_path; /* where jobs append their records; NULL: none could be chosen (no home),
                          * so every action is refused */
    int64_t timeout_ms;
    bool allow_system;     /* config actions.allow_system_backends, copied into each job */
    unsigned generation;   /* bumped when any job changed: the Jobs pane redraws */
    char audit_error[256]; /* the last failure to write the audit log, shown to the user */
};

void jobs_init(struct jobs *js, const char *audit_path, int64_t timeout_ms);
void jobs_free(struct jobs *js);

/* A new pending job (not started, id 0: it gets its number from job_start, so a job the user
 * backs out of uses none); targets are added with job_add_target (copied). */
struct job *job_new(struct jobs *js, const struct action_class *cls, const char *server, const char *conninfo);
void job_add_target(struct job *j, const struct job_target *t);
void job_start(struct jobs *js, struct job *j);
void job_abort(struct jobs *js, struct job *j);
/* The user confirmed a job that was awaiting it (confirm_after_lookup): go on and act. */
void job_confirm(struct jobs *js, struct job *j);
/* Remove a job that was never started (the user backed out of the dialog). */
void job_discard(struct jobs *js, struct job *j);

int jobs_pollfds(struct jobs *js, struct pollfd *pfd, struct job **tag, int max);
bool jobs_step(struct jobs *js, const struct pollfd *pfd, struct job *const *tag, int n, int64_t now);
int64_t jobs_next_deadline(const struct jobs *js);
bool jobs_busy(const struct jobs *js);

/* For actions: */
void job_log(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Open the job's own connection (async); JEV_CONNECTED or JEV_FAILED follows. */
int job_connect(struct job *j);
/* Send statements that act (signal a session, …) on the job's connection (pipeline, one sync
 * each); JEV_RESULTS follows. First the intent record (who, where, the targets, these statements
 * with their parameters) is appended to the audit log and flushed to disk: when that fails,
 * nothing is sent and it returns -2 with the reason in j->outcome. -1: the send failed (part
 * of it may have gone out). */
int job_act(struct job *j, const char *const *sql, int n, const int *nparams, const char *const *const *params);
/* Record the intent of an act that is not a statement (a child process that copies a server's
 * data, say), described by what (no secrets in it), before doing it: -2 with the reason in
 * j->outcome when the record cannot be written, and then it must not be done. */
int job_record_intent(struct job *j, const char *what);
/* Start the job's child process (one at a time); JEV_OUTPUT per line and JEV_EXITED follow.
 * -1 with the reason in err. */
int job_spawn(struct job *j, const struct proc_spec *s, char *err, size_t errlen);
/* Connect the job's connection to another conninfo (a scratch server, another database): the
 * old connection is closed; JEV_CONNECTED or JEV_FAILED follows. */
int job_connect_to(struct job *j, const char *conninfo);
/* Send statements that only read (look-ups, verification): not audited. */
int job_query(struct job *j, const char *const *sql, int n, const int *nparams, const char *const *const *params);
void job_set_timer(struct job *j, int64_t at_ms);
void job_target_free(struct job_target *t);
const char *job_state_name(enum job_state s);

#endif
