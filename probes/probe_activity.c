/* probe_activity.c — the activity probe: one row per client backend (non-idle by default, all
 * when the user asks for idle sessions), with ages computed on the server's clock and the exact
 * backend_start/query_start an action needs to guard against pid reuse. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/probe.h"
#include "probes/sample.h"
#include "probes/sec_locks.h"
#include "core/util.h"

#define ACTIVITY_SELECT                                                                            \
    "SELECT pid, datname, usename, application_name,"                                             \
    " coalesce(host(client_addr), CASE WHEN client_port = -1 THEN 'local' END) AS client,"        \
    " backend_type, state, wait_event_type, wait_event,"                                           \
    " extract(epoch FROM now() - xact_start) AS xact_age,"                                         \
    " extract(epoch FROM now() - query_start) AS query_age,"                                       \
    " extract(epoch FROM now() - state_change) AS state_age,"                                      \
    " " SQL_EPOCH_US("backend_start") " AS backend_start,"                                          \
    " " SQL_EPOCH_US("query_start") " AS query_start,"                                              \
    " 0 AS blocked_by," /* from the locks probe: pg_blocking_pids() is cubic in a queue */      \
    " left(query, 16384) AS query,"                                                                \
    /* one lookup of the superusers, not one per row */                                         \
    " usesysid IN (SELECT oid FROM pg_roles WHERE rolsuper) AS superuser"                         \
    " FROM pg_stat_activity"                                                                       \
    /* our own probe session, by its pid: never by a name anyone can set */                     \
    " WHERE pid <> pg_backend_pid()"                                                               \
    " AND backend_type IN ('client backend', 'autovacuum worker', 'parallel worker',"             \
    "   'background worker')"

/* Idle sessions are most of the rows on a busy server; ship them only when they are shown. */
static const char SQL_BUSY[] = ACTIVITY_SELECT " AND state IS DISTINCT FROM 'idle'";
static const char SQL_ALL[] = ACTIVITY_SELECT;

static const char *activity_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)caps, (void)why;
    return o && o->idle ? SQL_ALL : SQL_BUSY;
}

static void row_free(struct activity_row *r)
{
    free(r->datname);
    free(r->usename);
    free(r->application_name);
    free(r->client);
    free(r->backend_type);
    free(r->state);
    free(r->wait_event_type);
    free(r->wait_event);
    free(r->query);
    free(r->backend_start);
    free(r->query_start);
}

static void activity_free(void *p)
{
    struct s_activity *a = p;
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        row_free(&a->rows[i]);
    free(a->rows);
    free(a);
}

enum { C_PID, C_DAT, C_USE, C_APP, C_CLIENT, C_BTYPE, C_STATE, C_WTYPE, C_WEVENT, C_XAGE, C_QAGE,
       C_SAGE, C_BSTART, C_QSTART, C_BLOCKED, C_QUERY, C_N };
static const char *const cols[C_N] = {
    "pid", "datname", "usename", "application_name", "client", "backend_type", "state",
    "wait_event_type", "wait_event", "xact_age", "query_age", "state_age", "backend_start",
    "query_start", "blocked_by", "query",
};

static int activity_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[C_N];
    if (rowset_cols(rs, cols, c, C_N, err, errlen))
        return -1;
    int csuper = rowset_col(rs, "superuser");
    struct s_activity *a = xcalloc(1, sizeof *a);
    a->rows = xcalloc((size_t)rs->nrows + 1, sizeof *a->rows);
    for (int i = 0; i < rs->nrows; i++) {
#define V(k) rowset_get(rs, i, c[k])
        struct activity_row *r = &a->rows[a->n++];
        r->pid = (int)cell_i64(V(C_PID));
        r->datname = cell_dup(V(C_DAT));
        r->usename = cell_dup(V(C_USE));
        r->application_name = cell_dup(V(C_APP));
        r->client = cell_dup(V(C_CLIENT));
        r->backend_type = cell_dup(V(C_BTYPE));
        r->state = cell_dup(V(C_STATE));
        r->wait_event_type = cell_dup(V(C_WTYPE));
        r->wait_event = cell_dup(V(C_WEVENT));
        r->xact_age = cell_num(V(C_XAGE));
        r->query_age = cell_num(V(C_QAGE));
        r->state_age = cell_num(V(C_SAGE));
        r->backend_start = cell_dup(V(C_BSTART));
        r->query_start = cell_dup(V(C_QSTART));
        r->blocked_by = (int)cell_i64(V(C_BLOCKED));
        r->query = cell_dup(V(C_QUERY));
#undef V
        r->superuser = cell_bool(rowset_get(rs, i, csuper)); /* optional column */
    }
    out->sec[PROBE_ACTIVITY] = a;
    return 0;
}

/* blocked_by comes from the locks probe, which asks pg_blocking_pids() sparingly. */
static void activity_derive(const struct sample *prev, struct sample *cur)
{
    (void)prev;
    struct s_activity *a = cur->sec[PROBE_ACTIVITY];
    const struct s_locks *l = SAMPLE_LOCKS(cur);
    if (!a || !l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        if (!l->rows[i].nblockers)
            continue;
        for (size_t k = 0; k < a->n; k++)
            if (a->rows[k].pid == l->rows[i].pid)
                a->rows[k].blocked_by = (int)l->rows[i].nblockers;
    }
}

const struct probe_class probe_activity = {
    .name = "activity",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = activity_sql,
    .parse = activity_parse,
    .derive = activity_derive,
    .free_section = activity_free,
};
