/* probe_server.c — the server probe: identity (version, role, uptime), connection counts against
 * max_connections, the oldest query and transaction, and cluster-wide counters that the Fleet
 * pane turns into TPS and cache hit % over the interval. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/sample.h"

/* One statement, one row. The session counts are the sessions probe's (its derive step fills
 * them in): pg_stat_activity is read once per tick. */
static const char SQL[] = "SELECT extract(epoch FROM now()) AS epoch,"
                          " extract(epoch FROM pg_postmaster_start_time()) AS started,"
                          " pg_is_in_recovery() AS in_recovery,"
                          " current_setting('server_version_num')::int AS version_num,"
                          " split_part(current_setting('server_version'), ' ', 1) AS version,"
                          " current_setting('max_connections')::int AS max_connections,"
                          " current_setting('superuser_reserved_connections')::int"
                          "   + coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0)"
                          "   AS reserved_connections," /* 16+ reserves slots for pg_use_reserved_connections too */
                          " d.*, x.*"
                          " FROM"
                          " (SELECT max(age(datfrozenxid)) AS xid_age FROM pg_database) x,"
                          " (SELECT sum(xact_commit + xact_rollback) AS xacts, sum(blks_hit) AS blks_hit,"
                          "   sum(blks_read) AS blks_read, max(stats_reset)::text AS stats_reset"
                          "  FROM pg_stat_database WHERE datid <> 0) d"; /* the databases' (probe_cache.c) */

static const char *server_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)caps, (void)o, (void)why;
    return SQL;
}

static void server_free(void *p)
{
    struct s_server *s = p;
    if (!s)
        return;
    free(s->version);
    free(s->stats_reset);
    free(s);
}

enum { C_EPOCH, C_STARTED, C_RECOVERY, C_VNUM, C_VERSION, C_MAXCONN, C_RESERVED, C_XACTS, C_HIT, C_READ, C_RESET, C_N };
static const char *const cols[C_N] = {
    "epoch", "started",  "in_recovery", "version_num", "version", "max_connections", "reserved_connections",
    "xacts", "blks_hit", "blks_read",   "stats_reset",
};

static int server_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[C_N];
    if (rowset_cols(rs, cols, c, C_N, err, errlen))
        return -1;
    if (rs->nrows != 1) {
        snprintf(err, errlen, "server probe returned %d rows", rs->nrows);
        return -1;
    }
#define V(i) rowset_get(rs, 0, c[i])
    struct s_server *s = xcalloc(1, sizeof *s);
    s->epoch = cell_num(V(C_EPOCH));
    s->started = cell_num(V(C_STARTED));
    s->in_recovery = cell_bool(V(C_RECOVERY));
    s->version_num = (int)cell_i64(V(C_VNUM));
    s->version = cell_dup(V(C_VERSION));
    s->max_connections = (int)cell_i64(V(C_MAXCONN));
    s->reserved_connections = (int)cell_i64(V(C_RESERVED));
    s->xacts = cell_i64(V(C_XACTS));
    s->blks_hit = cell_i64(V(C_HIT));
    s->blks_read = cell_i64(V(C_READ));
    s->stats_reset = cell_dup(V(C_RESET));
#undef V
    /* optional: an older fixture or a future variant may lack it */
    s->xid_age = cell_i64(rowset_get(rs, 0, rowset_col(rs, "xid_age")));
    /* the session counts come from the sessions section; fixtures may still carry them */
#define OPT(name) rowset_get(rs, 0, rowset_col(rs, name))
    s->conns = (int)cell_i64(OPT("conns"));
    s->active = (int)cell_i64(OPT("active"));
    s->idle = (int)cell_i64(OPT("idle"));
    s->idle_in_xact = (int)cell_i64(OPT("idle_in_xact"));
    s->waiting_lock = (int)cell_i64(OPT("waiting_lock"));
    s->longest_query_s = cell_num(OPT("longest_query"));
    s->longest_xact_s = cell_num(OPT("longest_xact"));
#undef OPT
    s->tps = s->cache_hit_pct = s->dt = NAN;
    if (isnan(s->epoch)) {
        server_free(s);
        snprintf(err, errlen, "server probe returned no clock");
        return -1;
    }
    out->sec[PROBE_SERVER] = s;
    return 0;
}

static int same_str(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

/* Rates over the measured interval between the two samples' server clocks. A restart
 * (postmaster start time moved) or a stats reset makes the interval meaningless: n/a. */
static void server_derive(const struct sample *prev, struct sample *cur)
{
    const struct s_server *p = SAMPLE_SERVER(prev);
    struct s_server *c = cur->sec[PROBE_SERVER];
    if (!c || !p)
        return;
    if (fabs(p->started - c->started) > 0.001 || !same_str(p->stats_reset, c->stats_reset))
        return;
    c->dt = c->epoch - p->epoch;
    /* Each probe statement is a transaction of its own: leave ours out of the users' TPS. The
     * interval holds the previous tick's statements (this tick's server probe runs first, and
     * on 15+ the flush probe makes the previous tick's counts land before it). */
    c->tps = counter_rate(p->xacts, c->xacts, c->dt);
    if (!isnan(c->tps))
        c->tps = fmax(0, c->tps - p->own_xacts / c->dt);
    double hit = counter_rate(p->blks_hit, c->blks_hit, c->dt);
    double rd = counter_rate(p->blks_read, c->blks_read, c->dt);
    if (!isnan(hit) && !isnan(rd) && hit + rd > 0)
        c->cache_hit_pct = 100.0 * hit / (hit + rd);
}

const struct probe_class probe_server = {
    .name = "server",
    .kind = KIND_POSTGRES,
    .essential = true,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = server_sql,
    .parse = server_parse,
    .derive = server_derive,
    .free_section = server_free,
};

/* The flush probe: the last statement of a tick asks the backend to flush its statistics at
 * once (15+; before that the stats collector is sent them every 500 ms anyway), so the next
 * tick's counters hold exactly this tick's probe transactions, which TPS then leaves out.
 * It runs with counting on (.counted) while the other probes may run with track_counts off
 * (probe_local_settings): a backend flushes only when it has something pending, and on 15 one
 * that counted no table has nothing, so its transactions would wait and land all at once, a
 * false burst of TPS. Scanning pg_seclabel, which only SELinux labels fill and so has no block
 * to read, gives it one scan to report and adds nothing to the databases' block or tuple
 * counters. Its parsing and planning read catalogs once per connection, in the warm-up batch
 * (sched.c), before the first sample. */
static const char *flush_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)o;
    if (caps->version && caps->version < 150000) {
        *why = "not needed before PostgreSQL 15";
        return NULL;
    }
    return "SELECT pg_stat_force_next_flush(), (SELECT count(*) FROM pg_catalog.pg_seclabel) AS seclabels";
}

static int flush_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    (void)rs, (void)out, (void)err, (void)errlen;
    return 0;
}

const struct probe_class probe_flush = {
    .name = "flush",
    .kind = KIND_POSTGRES,
    .min_version = 120000, /* before 15 its sql() is NULL: not needed there, and so no error */
    .every_ticks = 1,
    .counted = true,
    .sql = flush_sql,
    .parse = flush_parse,
};
