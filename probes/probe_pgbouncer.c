/* probe_pgbouncer.c — the pgBouncer probes, sent to a pooler's admin console: SHOW POOLS (clients
 * active and waiting, server connections, the longest wait), SHOW STATS (per-database
 * counters turned into transactions, queries and bytes per second and the mean wait over the
 * interval) and SHOW SERVERS (which backends are the pooler's own server connections). Column sets differ between pgBouncer versions, so columns are found by name and a
 * missing one is reported as unknown, never as an error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/health.h"
#include "probes/sec_connections.h"

static const char *pools_sql(const struct server_caps *c, const struct probe_opts *o, const char **why)
{
    (void)c, (void)o, (void)why;
    return "SHOW POOLS";
}

static const char *stats_sql(const struct server_caps *c, const struct probe_opts *o, const char **why)
{
    (void)c, (void)o, (void)why;
    return "SHOW STATS";
}

/* A count from an optional column: -1 when this pgBouncer has no such column. */
static long opt_long(const struct rowset *rs, int row, int col)
{
    if (col < 0)
        return -1;
    const char *v = rowset_get(rs, row, col);
    return v ? (long)cell_i64(v) : -1;
}

static int64_t opt_i64(const struct rowset *rs, int row, int col)
{
    if (col < 0)
        return -1;
    const char *v = rowset_get(rs, row, col);
    return v ? (int64_t)cell_i64(v) : -1;
}

/* ---- SHOW POOLS ---- */

static void pools_free(void *p)
{
    struct s_pools *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->rows[i].database);
        free(s->rows[i].user);
        free(s->rows[i].pool_mode);
    }
    free(s->rows);
    free(s);
}

enum {
    P_CL_ACTIVE,
    P_CL_WAITING,
    P_CL_ACT_CANCEL,
    P_CL_WAIT_CANCEL,
    P_SV_ACTIVE,
    P_SV_IDLE,
    P_SV_USED,
    P_SV_TESTED,
    P_SV_LOGIN,
    P_MAXWAIT,
    P_MAXWAIT_US,
    P_MODE,
    P_N
};
static const char *const pool_cols[P_N] = {
    "cl_active",
    "cl_waiting",
    "cl_active_cancel_req",
    "cl_waiting_cancel_req",
    "sv_active",
    "sv_idle",
    "sv_used",
    "sv_tested",
    "sv_login",
    "maxwait",
    "maxwait_us",
    "pool_mode",
};

static void pool_row_read(struct pool_row *r, const struct rowset *rs, int i, const int *c)
{
    r->cl_active = opt_long(rs, i, c[P_CL_ACTIVE]);
    r->cl_waiting = opt_long(rs, i, c[P_CL_WAITING]);
    r->cl_active_cancel_req = opt_long(rs, i, c[P_CL_ACT_CANCEL]);
    r->cl_waiting_cancel_req = opt_long(rs, i, c[P_CL_WAIT_CANCEL]);
    r->sv_active = opt_long(rs, i, c[P_SV_ACTIVE]);
    r->sv_idle = opt_long(rs, i, c[P_SV_IDLE]);
    r->sv_used = opt_long(rs, i, c[P_SV_USED]);
    r->sv_tested = opt_long(rs, i, c[P_SV_TESTED]);
    r->sv_login = opt_long(rs, i, c[P_SV_LOGIN]);
    /* maxwait is whole seconds; maxwait_us (1.8+) the microseconds to add to it. */
    long s = opt_long(rs, i, c[P_MAXWAIT]), us = opt_long(rs, i, c[P_MAXWAIT_US]);
    r->maxwait_s = s < 0 ? NAN : (double)s + (us > 0 ? (double)us / 1e6 : 0);
    r->pool_mode = c[P_MODE] >= 0 ? cell_dup(rowset_get(rs, i, c[P_MODE])) : NULL;
}

static int pools_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    static const char *const key[] = {"database", "user"};
    int k[2], c[P_N];
    if (rowset_cols(rs, key, k, 2, err, errlen))
        return -1;
    for (int j = 0; j < P_N; j++)
        c[j] = rowset_col(rs, pool_cols[j]);
    struct s_pools *s = xcalloc(1, sizeof *s);
    s->rows = xcalloc((size_t)rs->nrows + 1, sizeof *s->rows);
    for (int i = 0; i < rs->nrows; i++) {
        struct pool_row *r = &s->rows[s->n++];
        r->database = cell_dup(rowset_get(rs, i, k[0]));
        r->user = cell_dup(rowset_get(rs, i, k[1]));
        pool_row_read(r, rs, i, c);
    }
    out->sec[PROBE_POOLS] = s;
    return 0;
}

/* ---- SHOW STATS ---- */

static void poolstats_free(void *p)
{
    struct s_poolstats *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->rows[i].database);
    free(s->rows);
    free(s);
}

enum {
    S_XACT,
    S_QUERY,
    S_RECV,
    S_SENT,
    S_XACT_TIME,
    S_QUERY_TIME,
    S_WAIT_TIME,
    S_AVG_XACT,
    S_AVG_QUERY,
    S_AVG_RECV,
    S_AVG_SENT,
    S_AVG_XACT_TIME,
    S_AVG_QUERY_TIME,
    S_AVG_WAIT_TIME,
    S_N
};
static const char *const stat_cols[S_N] = {
    "total_xact_count", "total_query_count", "total_received", "total_sent",      "total_xact_time",
    "total_query_time", "total_wait_time",   "avg_xact_count", "avg_query_count", "avg_recv",
    "avg_sent",         "avg_xact_time",     "avg_query_time", "avg_wait_time",
};

static void stat_row_read(struct poolstat_row *r, const struct rowset *rs, int i, const int *c)
{
    int64_t *dst[S_N] = {
        &r->xact_count,     &r->query_count,    &r->received,        &r->sent,     &r->xact_time, &r->query_time,
        &r->wait_time,      &r->avg_xact_count, &r->avg_query_count, &r->avg_recv, &r->avg_sent,  &r->avg_xact_time,
        &r->avg_query_time, &r->avg_wait_time,
    };
    for (int j = 0; j < S_N; j++)
        *dst[j] = opt_i64(rs, i, c[j]);
    r->xacts_s = r->queries_s = r->recv_s = r->sent_s = NAN;
    r->xact_us = r->query_us = r->wait_us = NAN;
}

static int poolstats_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    static const char *const key[] = {"database"};
    int k, c[S_N];
    if (rowset_cols(rs, key, &k, 1, err, errlen))
        return -1;
    for (int j = 0; j < S_N; j++)
        c[j] = rowset_col(rs, stat_cols[j]);
    struct s_poolstats *s = xcalloc(1, sizeof *s);
    s->rows = xcalloc((size_t)rs->nrows + 1, sizeof *s->rows);
    /* Not a clock read: the time sched stamped on this sample when its answers arrived. */
    s->taken_ms = out->taken_ms;
    s->dt = NAN;
    for (int i = 0; i < rs->nrows; i++) {
        struct poolstat_row *r = &s->rows[s->n++];
        r->database = cell_dup(rowset_get(rs, i, k));
        stat_row_read(r, rs, i, c);
    }
    out->sec[PROBE_POOLSTATS] = s;
    return 0;
}

const struct poolstat_row *poolstats_find(const struct s_poolstats *st, const char *database)
{
    for (size_t i = 0; st && database && i < st->n; i++)
        if (st->rows[i].database && strcmp(st->rows[i].database, database) == 0)
            return &st->rows[i];
    return NULL;
}

bool pool_admin_db(const char *db) { return db && strcmp(db, "pgbouncer") == 0; }

static long pos(long v) { return v > 0 ? v : 0; }

struct pool_sum pool_totals(const struct s_pools *p)
{
    struct pool_sum t = {0};
    for (size_t i = 0; i < p->n; i++) {
        const struct pool_row *r = &p->rows[i];
        if (pool_admin_db(r->database))
            continue;
        t.cl_active += pos(r->cl_active);
        t.cl_waiting += pos(r->cl_waiting);
        t.sv_active += pos(r->sv_active);
        t.sv_idle += pos(r->sv_idle);
        t.sv_used += pos(r->sv_used);
        if (!isnan(r->maxwait_s) && r->maxwait_s > t.maxwait_s)
            t.maxwait_s = r->maxwait_s;
        if (health_pool(r) > t.worst)
            t.worst = health_pool(r);
    }
    return t;
}

/* A counter's rate, or NAN when either side lacks the column. */
static double rate(int64_t prev, int64_t cur, double dt)
{
    return prev < 0 || cur < 0 ? NAN : counter_rate(prev, cur, dt);
}

/* Mean of a time counter per event over the interval (e.g. µs per transaction); NAN when no
 * event happened or a counter went back. */
static double per_event(int64_t t0, int64_t t1, int64_t n0, int64_t n1)
{
    if (t0 < 0 || t1 < 0 || n0 < 0 || n1 < 0 || t1 < t0 || n1 <= n0)
        return NAN;
    return (double)(t1 - t0) / (double)(n1 - n0);
}

static void stat_row_derive(const struct poolstat_row *p, struct poolstat_row *c, double dt)
{
    /* A pgBouncer restart sets every counter back: no rate at all for that database then. */
    if (c->xact_count < p->xact_count || c->query_count < p->query_count || c->received < p->received ||
        c->sent < p->sent)
        return;
    c->xacts_s = rate(p->xact_count, c->xact_count, dt);
    c->queries_s = rate(p->query_count, c->query_count, dt);
    c->recv_s = rate(p->received, c->received, dt);
    c->sent_s = rate(p->sent, c->sent, dt);
    c->xact_us = per_event(p->xact_time, c->xact_time, p->xact_count, c->xact_count);
    c->query_us = per_event(p->query_time, c->query_time, p->query_count, c->query_count);
    /* Wait is counted when a client gets a server, once per transaction in transaction mode. */
    c->wait_us = per_event(p->wait_time, c->wait_time, p->xact_count, c->xact_count);
}

/* Rates over the local interval between the two samples' arrival (pgBouncer has no clock in
 * its SHOW output), per database matched by name; a database new in this sample has none. */
static void poolstats_derive(const struct sample *prev, struct sample *cur)
{
    const struct s_poolstats *p = SAMPLE_POOLSTATS(prev);
    struct s_poolstats *c = cur->sec[PROBE_POOLSTATS];
    if (!p || !c || p->taken_ms <= 0 || c->taken_ms <= p->taken_ms)
        return;
    c->dt = (double)(c->taken_ms - p->taken_ms) / 1000.0;
    for (size_t i = 0; i < c->n; i++) {
        const struct poolstat_row *pr = poolstats_find(p, c->rows[i].database);
        if (pr)
            stat_row_derive(pr, &c->rows[i], c->dt);
    }
}

/* SHOW POOLS is the pooler's main figure: if it fails, the pooler is STALE, not just a pane. */
const struct probe_class probe_pools = {
    .name = "pools",
    .kind = KIND_PGBOUNCER,
    .essential = true,
    .min_version = 0,
    .every_ticks = 1,
    .sql = pools_sql,
    .parse = pools_parse,
    .derive = NULL,
    .free_section = pools_free,
};

const struct probe_class probe_poolstats = {
    .name = "poolstats",
    .kind = KIND_PGBOUNCER,
    .min_version = 0,
    .every_ticks = 1,
    .sql = stats_sql,
    .parse = poolstats_parse,
    .derive = poolstats_derive,
    .free_section = poolstats_free,
};

/* ---- SHOW SERVERS ---- */

static const char *servers_sql(const struct server_caps *c, const struct probe_opts *o, const char **why)
{
    (void)c, (void)o, (void)why;
    return "SHOW SERVERS";
}

static void poolservers_free(void *p)
{
    struct s_poolservers *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->rows[i].database);
        free(s->rows[i].user);
        free(s->rows[i].state);
    }
    free(s->rows);
    free(s);
}

static int poolservers_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    static const char *const key[] = {"remote_pid"};
    int k;
    if (rowset_cols(rs, key, &k, 1, err, errlen))
        return -1;
    int cdb = rowset_col(rs, "database"), cuser = rowset_col(rs, "user"), cstate = rowset_col(rs, "state");
    struct s_poolservers *s = xcalloc(1, sizeof *s);
    s->rows = xcalloc((size_t)rs->nrows + 1, sizeof *s->rows);
    for (int i = 0; i < rs->nrows; i++) {
        struct poolserver_row *r = &s->rows[s->n++];
        r->remote_pid = (int)cell_i64(rowset_get(rs, i, k));
        r->database = cell_dup(rowset_get(rs, i, cdb));
        r->user = cell_dup(rowset_get(rs, i, cuser));
        r->state = cell_dup(rowset_get(rs, i, cstate));
    }
    out->sec[PROBE_POOLSERVERS] = s;
    return 0;
}

const struct probe_class probe_poolservers = {
    .name = "poolservers",
    .kind = KIND_PGBOUNCER,
    .min_version = 0,
    .every_ticks = 1,
    .sql = servers_sql,
    .parse = poolservers_parse,
    .free_section = poolservers_free,
};
