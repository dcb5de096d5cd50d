/* action.h — the action classes: one file per action under actions/, listed in action_table.c.
 * Common to all: precheck → describe → confirm → run (steps logged live) → verify → audit. */
#ifndef PGFLEET_ACTION_H
#define PGFLEET_ACTION_H

#include <stdbool.h>

#include "actions/job.h"
#include "core/util.h"

enum risk { RISK_SAFE, RISK_DISRUPTIVE, RISK_DANGEROUS };

/* How the user confirms: a y/n key, or typing a word ("yes", or the target's name). */
enum confirm { CONFIRM_YN, CONFIRM_TYPE_YES, CONFIRM_TYPE_NAME };
/* Whether an answer confirms at that strength, the rule of the monitor's dialog: y (or yes),
 * either case, for CONFIRM_YN; exactly "yes" for CONFIRM_TYPE_YES. Surrounding blanks and the
 * line's newline do not count (the shell reads a line; the dialog takes y as a key). */
bool confirm_answer_ok(enum confirm c, const char *answer);

struct action_class {
    const char *name;  /* "cancel": subcommand and audit name */
    const char *title; /* "Cancel query" */
    enum risk risk;
    /* Before the dialog: can this job run at all (targets allowed, privileges)? Returns 0, or
     * -1 with the reason in why. Live facts are re-checked again in the acting statement. */
    int (*precheck)(const struct job *, struct text *why);
    void (*describe)(const struct job *, struct text *out); /* the dialog's text (escaped) */
    enum confirm (*confirm)(const struct job *);
    /* One step on an event; returns the new state (RUNNING until done). */
    enum job_state (*step)(struct job *, const struct job_event *);
    /* Optional: free j->priv when the job is freed (after its last step). */
    void (*cleanup)(struct job *);
};

extern const struct action_class action_cancel, action_terminate, action_restore_test;
/* The controls of a batched migration (actions/action_batch.c): its row in the control table
 * pgfleet.batch_job of its server. Pause, resume and the size need no confirmation (pause is
 * the emergency brake); cancel and cancel now ask for a typed yes. */
extern const struct action_class action_batch_pause, action_batch_resume, action_batch_cancel, action_batch_cancel_now,
    action_batch_size;
extern const struct action_class *const action_table[];
const struct action_class *action_find(const char *name);

/* A new pending control of the batch job named job on server (source: a third-party runner's
 * job, which is refused by precheck; NULL for pgfleet's own). size_dir: batch-size's direction
 * (+1 double, -1 halve, within the job's bounds). The job has one target: the runner's sessions
 * (application pgfleet-batch:JOB; its backend pid once known). */
struct job *batch_control_new(struct jobs *js, const struct action_class *cls, const char *server, const char *conninfo,
                              const char *job, const char *source, int size_dir);
/* The acting statements' results of a batch control (pure; the unit tests feed it): the
 * target's result and the job's outcome ("JOB: paused (...)", "JOB: no such job on S", ...). */
struct rowset;
enum job_state batch_ctl_absorb(struct job *j, struct rowset *const *rs, int n);

/* A target's facts from a session's row in the activity sample or, for a session only the
 * locks probe saw (idle, holding a lock), in the lock sample. The strings are borrowed. */
struct activity_row;
struct lock_row;
void target_from_activity(struct job_target *d, const struct activity_row *r);
void target_from_lock(struct job_target *d, const struct lock_row *r);

/* The rules shared by cancel and terminate: which sessions may never be targets. */
struct server_caps;
bool target_is_system(const struct job_target *t);
/* Why the login cannot signal this session, or NULL if it can. */
const char *target_unsignalable(const struct job_target *t, const struct server_caps *caps);
/* The dialog's table of targets, escaped. */
void describe_targets(const struct job *j, struct text *out);

#endif
