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
extern const struct action_class *const action_table[];
const struct action_class *action_find(const char *name);

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
