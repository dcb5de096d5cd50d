/* session.h — one name for a session everywhere (tags, the selection of the Activity and Locks
 * panes, the detail view, action targets): its server, pid and backend start. A pid alone is
 * reused by the next backend; with the start time it names one session for its whole life, so a
 * reference dies with its backend and never moves to a newcomer or to a neighbouring row. */
#ifndef PGFLEET_SESSION_H
#define PGFLEET_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/model.h"
#include "probes/sample.h"
#include "probes/sec_locks.h"

struct session_ref {
    size_t server; /* index in the model */
    int pid;
    int64_t backend_start_us; /* epoch microseconds, as the probes carry it (SQL_EPOCH_US) */
};

/* The reference of a session seen as (server, pid, backend_start text): false when the start is
 * unknown or not a number (a session this login cannot see has no identity to keep). */
bool session_ref_make(struct session_ref *out, size_t server, int pid, const char *backend_start);
bool session_ref_eq(const struct session_ref *a, const struct session_ref *b);
/* Whether a row of server `server` (pid, backend_start text) is the session r names. */
bool session_is(const struct session_ref *r, size_t server, int pid, const char *backend_start);

/* The session's row in its server's current activity sample, or NULL (ended, or not listed). */
const struct activity_row *session_activity(const struct model *m, const struct session_ref *r);
/* The session's row in its server's current sessions sample (every backend, the idle ones
 * too), or NULL: it has ended (or the server sent no sample). */
const struct activity_row *session_row(const struct model *m, const struct session_ref *r);
/* The session's row in its server's current lock sample, or NULL; *item gets its forest item. */
const struct lock_row *session_lock(const struct model *m, const struct session_ref *r, size_t *item);

#endif
