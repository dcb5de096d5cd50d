/* sec_locks.h — the locks probe's section of a sample (PROBE_LOCKS): one row per session taking
 * part in a lock wait (waiters, and their blockers even when those are idle in transaction),
 * and the forest built over them. Raw server text: escape before showing. */
#ifndef PGFLEET_SEC_LOCKS_H
#define PGFLEET_SEC_LOCKS_H

#include <stdbool.h>
#include <stddef.h>

#include "probes/lock_tree.h"
#include "probes/sample.h"

struct lock_row {
    int pid;
    bool known; /* it had a pg_stat_activity row (false: ended since, or pid 0,
                                 * which pg_blocking_pids uses for a prepared transaction) */
    char *state, *usename, *datname, *application_name, *backend_type;
    char *backend_start; /* epoch microseconds (SQL_EPOCH_US), for the guard */
    char *query;
    double xact_age, state_age; /* seconds; NAN if NULL */
    /* the lock it waits for: NULL when it does not wait */
    char *locktype, *mode, *relation; /* relation: regclass text; for a transactionid wait, the
                                       * relation of the row lock it holds */
    double wait_s;                    /* since waitstart (14+) or since its state changed; NAN */
    int *blockers;                    /* pg_blocking_pids order, duplicates removed */
    size_t nblockers;
    bool inferred;  /* far back in a long queue: blockers taken from a waiter ahead
                                 * of it in the same queue, not asked (see probe_locks.c) */
    char *holds;    /* blockers only: "RowExclusiveLock on accounts, …", strongest
                                 * first, at most 4; NULL for a session that blocks nobody */
    int holds_n;    /* relations (and advisory locks) it holds, all of them */
    bool holds_ael; /* holds an AccessExclusiveLock on a relation */
    bool is_ddl;    /* lt_is_ddl() */
};

struct s_locks {
    struct lock_row *rows;
    size_t n;
    struct lock_forest forest; /* items' node indexes point into rows */
};

/* Above this many sessions in lock waits the forest is collected every other tick: its cost
 * grows with the queues (about 5 ms of server time at 1 000 waiters) while the server is the
 * one drowning; the sessions and their counts stay fresh every tick. */
#define LOCKS_HEAVY 256

#define SAMPLE_LOCKS(s) ((const struct s_locks *)((s) ? (s)->sec[PROBE_LOCKS] : NULL))

/* True for "idle in transaction" and "idle in transaction (aborted)". */
bool lock_row_idle_in_xact(const struct lock_row *r);

/* The row of a forest item, or NULL for a blocker that had no row. */
const struct lock_row *lock_item_row(const struct s_locks *l, size_t item);

#endif
