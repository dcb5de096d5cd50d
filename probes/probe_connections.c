/* probe_connections.c — the connections probe: how many slots of max_connections (minus the
 * reserved ones) the client backends take, who takes them (by state, database, user,
 * application, client address; the ten biggest of each), and the sessions that sit idle in a
 * transaction, oldest first, with how far back they hold the xmin horizon (the older of their
 * snapshot, backend_xmin, and their own transaction id, backend_xid: either stops vacuum). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/sec_connections.h"
#include "core/util.h"
#include "probes/health.h"

/* One statement, one scan of pg_stat_activity (materialised once, then grouped by all five
 * keys at once with GROUPING SETS), so its cost grows with the number of sessions like
 * pg_activity's own query and not five times that. The result is a union of row kinds:
 *   totals               one row: slots and settings (reserved_connections is 16+: NULL before)
 *   state|database|user|application|client   the ten biggest values of each breakdown
 *   idle_in_transaction  the 20 sessions idle in a transaction for longest
 * A role without pg_monitor sees other roles' sessions with backend_type and state NULL; they
 * still take a slot, so a row with a database and no backend_type counts as a client. */
static const char SQL[] =
    "WITH a AS MATERIALIZED ("
    " SELECT pid, state, datname::text AS datname, usename::text AS usename, application_name,"
    "  coalesce(host(client_addr), CASE WHEN client_port = -1 THEN 'local' END) AS client,"
    "  wait_event_type, state_change, xact_start, backend_xmin, backend_xid,"
    "  pid = pg_backend_pid() AS mine"
    " FROM pg_stat_activity"
    " WHERE backend_type = 'client backend' OR (backend_type IS NULL AND datname IS NOT NULL)),"
    "g AS ("
    " SELECT CASE WHEN grouping(state) = 0 THEN 'state' WHEN grouping(datname) = 0 THEN 'database'"
    "   WHEN grouping(usename) = 0 THEN 'user' WHEN grouping(application_name) = 0"
    "   THEN 'application' ELSE 'client' END AS kind,"
    "  coalesce(state, datname, usename, application_name, client) AS key, count(*) AS n"
    " FROM a WHERE NOT mine"
    " GROUP BY GROUPING SETS ((state), (datname), (usename), (application_name), (client))),"
    "r AS ("
    " SELECT *, row_number() OVER (PARTITION BY kind ORDER BY n DESC, key) AS rank,"
    "  count(*) OVER (PARTITION BY kind) AS nkeys FROM g)"
    "SELECT 'totals' AS kind, NULL AS key, count(*) FILTER (WHERE NOT mine) AS n,"
    " NULL::bigint AS nkeys, count(*) AS used, count(*) FILTER (WHERE mine) AS own,"
    " count(*) FILTER (WHERE NOT mine AND wait_event_type = 'Lock') AS waiting,"
    " count(*) FILTER (WHERE NOT mine AND state LIKE 'idle in transaction%') AS idle_in_xact,"
    " current_setting('max_connections')::int AS max_connections,"
    " current_setting('superuser_reserved_connections')::int AS superuser_reserved,"
    " current_setting('reserved_connections', true)::int AS reserved_connections,"
    " NULL::int AS pid, NULL AS usename, NULL AS datname, NULL AS application_name,"
    " NULL AS client, NULL AS state, NULL::float8 AS idle_age, NULL::float8 AS xact_age,"
    " NULL::int AS xmin_age"
    " FROM a "
    "UNION ALL "
    "SELECT kind, key, n, nkeys, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
    " FROM r WHERE rank <= 10 "
    "UNION ALL "
    "(SELECT 'idle_in_transaction', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    "  pid, usename, datname, application_name, client, state,"
    "  extract(epoch FROM now() - state_change), extract(epoch FROM now() - xact_start),"
    "  greatest(age(backend_xmin), age(backend_xid))"
    " FROM a WHERE NOT mine AND state LIKE 'idle in transaction%'"
    " ORDER BY state_change LIMIT 20)";

static const char *connections_sql(const struct server_caps *caps, const struct probe_opts *o,
                                   const char **why)
{
    (void)caps, (void)o, (void)why;
    return SQL;
}

static const char *const breakdown_names[CB_N] = {
    [CB_STATE] = "state", [CB_DATABASE] = "database", [CB_USER] = "user",
    [CB_APPLICATION] = "application", [CB_CLIENT] = "client",
};

const char *conn_breakdown_name(enum conn_breakdown b)
{
    return b < CB_N ? breakdown_names[b] : "?";
}

int conn_usable(const struct s_connections *c)
{
    return health_usable(c->max_connections, c->superuser_reserved + c->reserved);
}

double conn_used_pct(const struct s_connections *c)
{
    return health_used_pct(c->used, conn_usable(c));
}

static void connections_free(void *p)
{
    struct s_connections *c = p;
    if (!c)
        return;
    for (int b = 0; b < CB_N; b++) {
        for (size_t i = 0; i < c->by[b].ntop; i++)
            free(c->by[b].top[i].name);
        free(c->by[b].top);
    }
    for (size_t i = 0; i < c->niit; i++) {
        struct conn_iit *r = &c->iit[i];
        free(r->usename);
        free(r->datname);
        free(r->application_name);
        free(r->client);
        free(r->state);
    }
    free(c->iit);
    free(c);
}

enum { C_KIND, C_KEY, C_N_, C_NKEYS, C_USED, C_OWN, C_WAITING, C_IIT, C_MAXCONN, C_SURES, C_RES,
       C_PID, C_USE, C_DAT, C_APP, C_CLIENT, C_STATE, C_IDLE, C_XACT, C_XMIN, C_N };
static const char *const cols[C_N] = {
    "kind", "key", "n", "nkeys", "used", "own", "waiting", "idle_in_xact", "max_connections",
    "superuser_reserved", "reserved_connections", "pid", "usename", "datname",
    "application_name", "client", "state", "idle_age", "xact_age", "xmin_age",
};

static int breakdown_of(const char *kind)
{
    for (int b = 0; b < CB_N; b++)
        if (strcmp(kind, breakdown_names[b]) == 0)
            return b;
    return -1;
}

static void add_count(struct conn_group *g, const char *name, long n, long nkeys)
{
    if (g->ntop >= CONN_TOP)
        return;
    if (!g->top)
        g->top = xcalloc(CONN_TOP, sizeof *g->top);
    g->top[g->ntop].name = cell_dup(name);
    g->top[g->ntop].n = n;
    g->ntop++;
    g->nkeys = nkeys;
}

static void add_iit(struct s_connections *c, const struct rowset *rs, int i, const int *col)
{
    if (c->niit >= CONN_IIT_MAX)
        return;
    if (!c->iit)
        c->iit = xcalloc(CONN_IIT_MAX, sizeof *c->iit);
#define V(k) rowset_get(rs, i, col[k])
    struct conn_iit *r = &c->iit[c->niit++];
    r->pid = (int)cell_i64(V(C_PID));
    r->usename = cell_dup(V(C_USE));
    r->datname = cell_dup(V(C_DAT));
    r->application_name = cell_dup(V(C_APP));
    r->client = cell_dup(V(C_CLIENT));
    r->state = cell_dup(V(C_STATE));
    r->idle_s = cell_num(V(C_IDLE));
    r->xact_s = cell_num(V(C_XACT));
    r->xmin_age = V(C_XMIN) ? (long)cell_i64(V(C_XMIN)) : -1;
#undef V
}

static void read_totals(struct s_connections *c, const struct rowset *rs, int i, const int *col)
{
#define V(k) rowset_get(rs, i, col[k])
    c->sessions = (long)cell_i64(V(C_N_));
    c->used = (long)cell_i64(V(C_USED));
    c->own = (long)cell_i64(V(C_OWN));
    c->waiting = (long)cell_i64(V(C_WAITING));
    c->niit_total = (long)cell_i64(V(C_IIT));
    c->max_connections = (int)cell_i64(V(C_MAXCONN));
    c->superuser_reserved = (int)cell_i64(V(C_SURES));
    c->reserved = (int)cell_i64(V(C_RES)); /* NULL before 16: 0 */
#undef V
}

static int connections_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[C_N];
    if (rowset_cols(rs, cols, c, C_N, err, errlen))
        return -1;
    struct s_connections *s = xcalloc(1, sizeof *s);
    bool totals = false;
    for (int i = 0; i < rs->nrows; i++) {
        const char *kind = rowset_get(rs, i, c[C_KIND]);
        if (!kind)
            continue;
        int b = breakdown_of(kind);
        if (strcmp(kind, "totals") == 0) {
            read_totals(s, rs, i, c);
            totals = true;
        } else if (strcmp(kind, "idle_in_transaction") == 0) {
            add_iit(s, rs, i, c);
        } else if (b >= 0) {
            add_count(&s->by[b], rowset_get(rs, i, c[C_KEY]), (long)cell_i64(rowset_get(rs, i, c[C_N_])),
                      (long)cell_i64(rowset_get(rs, i, c[C_NKEYS])));
        }
    }
    if (!totals) {
        connections_free(s);
        snprintf(err, errlen, "connections probe returned no totals row");
        return -1;
    }
    /* What the top values leave out is "other"; every session has one value per breakdown. */
    for (int b = 0; b < CB_N; b++) {
        long sum = 0;
        for (size_t i = 0; i < s->by[b].ntop; i++)
            sum += s->by[b].top[i].n;
        s->by[b].other = s->sessions > sum ? s->sessions - sum : 0;
    }
    out->sec[PROBE_CONNECTIONS] = s;
    return 0;
}

const struct probe_class probe_connections = {
    .name = "connections",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = connections_sql,
    .parse = connections_parse,
    .derive = NULL,
    .free_section = connections_free,
};
