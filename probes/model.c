/* model.c — small read-only views of the model shared by panes, snapshots and runbooks: status
 * names, a server's role, the severity the fleet is sorted by (worst first) and that order, and
 * which pooler a backend belongs to. */
#include "probes/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/sec_connections.h"
#include "probes/sec_replication.h"

const char *srv_status_name(enum srv_status s)
{
    switch (s) {
    case SRV_CONNECTING: return "CONNECTING";
    case SRV_UP: return "UP";
    case SRV_STALE: return "STALE";
    case SRV_DOWN: return "DOWN";
    }
    return "?";
}

const char *srv_role(const struct server *s)
{
    if (s->kind == KIND_PGBOUNCER)
        return "pgbouncer";
    const struct s_server *ss = SAMPLE_SERVER(s->cur);
    if (!ss)
        return "?";
    return ss->in_recovery ? "replica" : "primary";
}

/* DOWN outranks everything; then blocked sessions, old queries, a full connection table and a
 * poor cache hit ratio, each by how far past its threshold the server is. */
int srv_severity(const struct model *m, const struct server *s)
{
    const struct thresholds *th = &m->cfg->th;
    if (s->status == SRV_DOWN)
        return 1000;
    if (s->status == SRV_STALE)
        return 900;
    if (s->status == SRV_CONNECTING)
        return 800;
    if (s->kind == KIND_PGBOUNCER) {
        /* clients queueing for a server connection: the pooler's own pile-up */
        const struct s_pools *p = SAMPLE_POOLS(s->cur);
        long waiting = 0;
        for (size_t i = 0; p && i < p->n; i++)
            waiting += p->rows[i].cl_waiting > 0 ? p->rows[i].cl_waiting : 0;
        return waiting > 0 ? 200 + (waiting > 50 ? 50 : (int)waiting) : 0;
    }
    const struct s_server *ss = SAMPLE_SERVER(s->cur);
    if (!ss)
        return 0;
    int sev = 0;
    if (ss->waiting_lock > 0)
        sev += 200 + (ss->waiting_lock > 50 ? 50 : ss->waiting_lock);
    if (!isnan(ss->longest_query_s) && ss->longest_query_s * 1000 >= (double)th->slow_query_ms)
        sev += 100;
    int usable = ss->max_connections - ss->reserved_connections;
    if (usable > 0 && 100.0 * ss->conns / usable >= th->connections_pct)
        sev += 150;
    if (!isnan(ss->cache_hit_pct) && ss->cache_hit_pct < th->cache_hit_pct)
        sev += 50;
    double lag = repl_worst_lag_bytes(m, s), lag_s = repl_lag_seconds(m, s);
    if ((!isnan(lag) && lag >= (double)th->repl_lag_bytes) || (!isnan(lag_s) && lag_s * 1000 >= (double)th->repl_lag_ms))
        sev += 120;
    if (archiver_failing(s))
        sev += 80; /* WAL piles up on disk and backups go stale */
    return sev;
}

static int cmp_name(const struct model *m, size_t a, size_t b)
{
    return strcmp(m->servers[a].conf->name, m->servers[b].conf->name);
}

void fleet_order(const struct model *m, size_t *order)
{
    int *sev = xcalloc(m->n + 1, sizeof *sev);
    for (size_t i = 0; i < m->n; i++) {
        order[i] = i;
        sev[i] = srv_severity(m, &m->servers[i]);
    }
    /* insertion sort: fleets are small and the order must be stable between refreshes */
    for (size_t i = 1; i < m->n; i++) {
        size_t v = order[i], j = i;
        while (j > 0 && (sev[order[j - 1]] < sev[v] ||
                         (sev[order[j - 1]] == sev[v] && cmp_name(m, order[j - 1], v) > 0))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    free(sev);
}

bool pooler_serves(const struct server *pooler, const char *name)
{
    for (size_t i = 0; pooler->pooler && i < pooler->pooler->nserves; i++)
        if (strcmp(pooler->pooler->serves[i], name) == 0)
            return true;
    return false;
}

bool pooler_of_backend(const struct model *m, size_t server, int pid, char *out, size_t len)
{
    return server < m->n && pooler_of_backend_named(m, m->servers[server].conf->name, pid, out, len);
}

bool pooler_of_backend_named(const struct model *m, const char *name, int pid, char *out, size_t len)
{
    if (pid <= 0 || !name)
        return false;
    for (size_t i = 0; i < m->n; i++) {
        const struct server *p = &m->servers[i];
        if (p->kind != KIND_PGBOUNCER || !p->pooler)
            continue;
        bool serves = false;
        for (size_t k = 0; k < p->pooler->nserves && !serves; k++)
            serves = strcmp(p->pooler->serves[k], name) == 0;
        const struct s_poolservers *sv = SAMPLE_POOLSERVERS(p->cur);
        for (size_t k = 0; serves && sv && k < sv->n; k++)
            if (sv->rows[k].remote_pid == pid) {
                snprintf(out, len, "%s (pool %s/%s)", p->conf->name, sv->rows[k].database ? sv->rows[k].database : "?",
                         sv->rows[k].user ? sv->rows[k].user : "?");
                return true;
            }
    }
    return false;
}
