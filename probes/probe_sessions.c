/* probe_sessions.c — the sessions probe: the one read of pg_stat_activity per tick, every
 * backend (ours included, flagged) with what the Activity, Connections and Locks sections and
 * the server's session counts need; those are derived from it and send no SQL of their own.
 * An idle session's query text is shipped only when idle sessions are shown or someone waits
 * for a lock (an idle session may hold a session-level advisory lock). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/probe.h"
#include "probes/sample.h"

/* The slots are settings, sent once: on our own row only. */
#define OWN(x) "CASE WHEN pid = pg_backend_pid() THEN " x " END"
/* clang-format off */
#define SESSIONS_SELECT(QUERY_WHEN)                                                                \
    "SELECT pid, pid = pg_backend_pid() AS mine, datname, usename, application_name,"             \
    " coalesce(host(client_addr), CASE WHEN client_port = -1 THEN 'local' END) AS client,"        \
    " backend_type, state, wait_event_type, wait_event,"                                           \
    " date_part('epoch', now() - xact_start) AS xact_age,"                                         \
    " date_part('epoch', now() - query_start) AS query_age,"                                       \
    " date_part('epoch', now() - state_change) AS state_age,"                                      \
    " " SQL_EPOCH_US("backend_start") " AS backend_start,"                                          \
    " " SQL_EPOCH_US("query_start") " AS query_start,"                                              \
    /* one lookup of the superusers, not one per row */                                         \
    " usesysid IN (SELECT oid FROM pg_roles WHERE rolsuper) AS superuser,"                        \
    " CASE WHEN state LIKE 'idle in transaction%'"                                                 \
    "  THEN greatest(age(backend_xmin), age(backend_xid)) END AS xmin_age,"                        \
    " CASE WHEN " QUERY_WHEN " THEN left(query, 16384) END AS query,"                              \
    " " OWN("current_setting('max_connections')::int") " AS max_connections,"                      \
    " " OWN("current_setting('superuser_reserved_connections')::int") " AS superuser_reserved,"    \
    " " OWN("coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0)")         \
    "  AS reserved_connections"                                                                    \
    " FROM pg_stat_activity"
/* clang-format on */

static const char SQL_BUSY[] = SESSIONS_SELECT("state IS DISTINCT FROM 'idle'");
static const char SQL_ALL[] = SESSIONS_SELECT("true");

static const char *sessions_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)caps, (void)why;
    return o && o->idle ? SQL_ALL : SQL_BUSY;
}

void activity_row_free(struct activity_row *r)
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

void activity_row_copy(struct activity_row *dst, const struct activity_row *src)
{
    *dst = *src;
    dst->datname = cell_dup(src->datname);
    dst->usename = cell_dup(src->usename);
    dst->application_name = cell_dup(src->application_name);
    dst->client = cell_dup(src->client);
    dst->backend_type = cell_dup(src->backend_type);
    dst->state = cell_dup(src->state);
    dst->wait_event_type = cell_dup(src->wait_event_type);
    dst->wait_event = cell_dup(src->wait_event);
    dst->query = cell_dup(src->query);
    dst->backend_start = cell_dup(src->backend_start);
    dst->query_start = cell_dup(src->query_start);
}

static void sessions_free(void *p)
{
    struct s_sessions *ss = p;
    if (!ss)
        return;
    for (size_t i = 0; !ss->arena && i < ss->n; i++)
        activity_row_free(&ss->rows[i]);
    free(ss->arena);
    free(ss->rows);
    free(ss->by_pid);
    free(ss);
}

static const struct activity_row *sort_rows; /* qsort has no context argument */
static int cmp_pid(const void *a, const void *b)
{
    int x = sort_rows[*(const size_t *)a].pid, y = sort_rows[*(const size_t *)b].pid;
    return (x > y) - (x < y);
}

const struct activity_row *sessions_find(const struct s_sessions *ss, int pid)
{
    if (!ss)
        return NULL;
    size_t lo = 0, hi = ss->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int m = ss->rows[ss->by_pid[mid]].pid;
        if (m == pid)
            return &ss->rows[ss->by_pid[mid]];
        if (m < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

enum {
    C_PID,
    C_DAT,
    C_USE,
    C_APP,
    C_CLIENT,
    C_BTYPE,
    C_STATE,
    C_WTYPE,
    C_WEVENT,
    C_XAGE,
    C_QAGE,
    C_SAGE,
    C_BSTART,
    C_QSTART,
    C_QUERY,
    C_N
};
static const char *const cols[C_N] = {
    "pid",          "datname",   "usename",         "application_name", "client",
    "backend_type", "state",     "wait_event_type", "wait_event",       "xact_age",
    "query_age",    "state_age", "backend_start",   "query_start",      "query",
};

/* x, or floor when x is below it; NAN (unknown) stays NAN. */
static double fmax_nan(double x, double floor) { return x < floor ? floor : x; }

/* A cell of rs as a string the section owns: in its copy of the arena, else copied alone. */
static char *own_str(const struct s_sessions *ss, const struct rowset *rs, const char *v)
{
    if (!ss->arena)
        return cell_dup(v);
    return v ? ss->arena + (v - rs->arena) : NULL;
}

static int sessions_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[C_N];
    if (rowset_cols(rs, cols, c, C_N, err, errlen))
        return -1;
    /* optional: the fixtures of the activity probe that this one replaced lack them */
    int csuper = rowset_col(rs, "superuser"), cmine = rowset_col(rs, "mine"), cxmin = rowset_col(rs, "xmin_age"),
        cblocked = rowset_col(rs, "blocked_by"), cmax = rowset_col(rs, "max_connections"),
        csres = rowset_col(rs, "superuser_reserved"), cres = rowset_col(rs, "reserved_connections");
    struct s_sessions *ss = xcalloc(1, sizeof *ss);
    ss->rows = xcalloc((size_t)rs->nrows + 1, sizeof *ss->rows);
    /* Hundreds of rows of a dozen strings each: one copy of the result's cells, not a malloc
     * per string (a rowset built by hand, as the tests do, has no arena: strings are copied). */
    if (rs->arena) {
        ss->arena = xmalloc(rs->arena_len);
        memcpy(ss->arena, rs->arena, rs->arena_len);
    }
#define DUP(v) own_str(ss, rs, v)
    ss->by_pid = xcalloc((size_t)rs->nrows + 1, sizeof *ss->by_pid);
    for (int i = 0; i < rs->nrows; i++) {
#define V(k) rowset_get(rs, i, c[k])
        struct activity_row *r = &ss->rows[ss->n];
        r->pid = (int)cell_i64(V(C_PID));
        r->datname = DUP(V(C_DAT));
        r->usename = DUP(V(C_USE));
        r->application_name = DUP(V(C_APP));
        r->client = DUP(V(C_CLIENT));
        r->backend_type = DUP(V(C_BTYPE));
        r->state = DUP(V(C_STATE));
        r->wait_event_type = DUP(V(C_WTYPE));
        r->wait_event = DUP(V(C_WEVENT));
        /* ages against our statement's now(): a session that began after it reads a hair
         * negative, which is 0 */
        r->xact_age = fmax_nan(cell_num(V(C_XAGE)), 0);
        r->query_age = fmax_nan(cell_num(V(C_QAGE)), 0);
        r->state_age = fmax_nan(cell_num(V(C_SAGE)), 0);
        r->backend_start = DUP(V(C_BSTART));
        r->query_start = DUP(V(C_QSTART));
        r->query = DUP(V(C_QUERY));
#undef V
        r->superuser = cell_bool(rowset_get(rs, i, csuper));
        r->mine = cell_bool(rowset_get(rs, i, cmine));
        r->blocked_by = (int)cell_i64(rowset_get(rs, i, cblocked));
        const char *x = rowset_get(rs, i, cxmin);
        r->xmin_age = x ? (long)cell_i64(x) : -1;
        if (rowset_get(rs, i, cmax)) {
            ss->max_connections = (int)cell_i64(rowset_get(rs, i, cmax));
            ss->superuser_reserved = (int)cell_i64(rowset_get(rs, i, csres));
            ss->reserved = (int)cell_i64(rowset_get(rs, i, cres));
        }
        ss->by_pid[ss->n] = ss->n;
        ss->n++;
    }
#undef DUP
    sort_rows = ss->rows;
    qsort(ss->by_pid, ss->n, sizeof *ss->by_pid, cmp_pid);
    out->sec[PROBE_SESSIONS] = ss;
    return 0;
}

static bool is(const char *v, const char *want) { return v && strcmp(v, want) == 0; }

/* The server's session counts. Our own session is left out of the activity figures but still
 * counted as a connection: it uses a slot like anyone else. */
static void sessions_derive(const struct sample *prev, struct sample *cur)
{
    (void)prev;
    const struct s_sessions *ss = SAMPLE_SESSIONS(cur);
    struct s_server *s = cur->sec[PROBE_SERVER];
    if (!ss || !s)
        return;
    s->conns = s->active = s->idle = s->idle_in_xact = s->waiting_lock = 0;
    s->longest_query_s = s->longest_xact_s = NAN;
    for (size_t i = 0; i < ss->n; i++) {
        const struct activity_row *r = &ss->rows[i];
        bool client = is(r->backend_type, "client backend");
        s->conns += client;
        s->idle += is(r->state, "idle");
        if (r->mine)
            continue;
        s->idle_in_xact += r->state && strncmp(r->state, "idle in transaction", 19) == 0;
        s->waiting_lock += is(r->wait_event_type, "Lock");
        if (!client)
            continue;
        if (is(r->state, "active")) {
            s->active++;
            if (!isnan(r->query_age) && !(r->query_age <= s->longest_query_s))
                s->longest_query_s = r->query_age;
        }
        if (!isnan(r->xact_age) && !(r->xact_age <= s->longest_xact_s))
            s->longest_xact_s = r->xact_age;
    }
}

const struct probe_class probe_sessions = {
    .name = "sessions",
    .kind = KIND_POSTGRES,
    .essential = true,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = sessions_sql,
    .parse = sessions_parse,
    .derive = sessions_derive,
    .free_section = sessions_free,
};
