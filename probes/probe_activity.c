/* probe_activity.c — the activity section: one row per backend shown in the Activity pane
 * (client backends and workers, not ours; the idle ones only when the user asks for them),
 * taken from the sessions section (probe_sessions.c) with no SQL of its own; blocked_by from
 * the locks section, which asks pg_blocking_pids() sparingly. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/probe.h"
#include "probes/sample.h"
#include "probes/sec_locks.h"

static void activity_free(void *p)
{
    struct s_activity *a = p;
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        activity_row_free(&a->rows[i]);
    free(a->rows);
    free(a);
}

static bool shown(const struct activity_row *r, bool with_idle)
{
    static const char *const types[] = {"client backend", "autovacuum worker", "parallel worker", "background worker"};
    if (r->mine || !r->backend_type || (!with_idle && r->state && strcmp(r->state, "idle") == 0))
        return false;
    for (size_t i = 0; i < ARRAY_LEN(types); i++)
        if (strcmp(r->backend_type, types[i]) == 0)
            return true;
    return false;
}

static void activity_derive(const struct sample *prev, struct sample *cur)
{
    (void)prev;
    const struct s_sessions *ss = SAMPLE_SESSIONS(cur);
    if (!ss)
        return;
    /* how many block each waiter, by session row: one lookup per waiter */
    int *nb = xcalloc(ss->n + 1, sizeof *nb);
    const struct s_locks *l = SAMPLE_LOCKS(cur);
    for (size_t i = 0; l && i < l->n; i++) {
        const struct activity_row *r = l->rows[i].nblockers ? sessions_find(ss, l->rows[i].pid) : NULL;
        if (r)
            nb[r - ss->rows] = (int)l->rows[i].nblockers;
    }
    struct s_activity *a = xcalloc(1, sizeof *a);
    a->rows = xcalloc(ss->n + 1, sizeof *a->rows);
    a->with_idle = ss->with_idle;
    for (size_t i = 0; i < ss->n; i++) {
        if (!shown(&ss->rows[i], ss->with_idle))
            continue;
        struct activity_row *r = &a->rows[a->n++];
        activity_row_copy(r, &ss->rows[i]);
        if (nb[i])
            r->blocked_by = nb[i];
    }
    free(nb);
    activity_free(cur->sec[PROBE_ACTIVITY]);
    cur->sec[PROBE_ACTIVITY] = a;
}

const struct probe_class probe_activity = {
    .name = "activity",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .derive = activity_derive,
    .free_section = activity_free,
};
