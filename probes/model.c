/* model.c — small read-only views of the model shared by panes, snapshots and runbooks: status
 * names, a server's role, the fleet's worst-first order (the score is health.c's), and which
 * pooler a backend belongs to. */
#include "probes/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/health.h"
#include "probes/sec_connections.h"

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

static int cmp_name(const struct model *m, size_t a, size_t b)
{
    return strcmp(m->servers[a].conf->name, m->servers[b].conf->name);
}

void fleet_order(const struct model *m, size_t *order)
{
    int *sev = xcalloc(m->n + 1, sizeof *sev);
    for (size_t i = 0; i < m->n; i++) {
        order[i] = i;
        sev[i] = health_score(m, &m->servers[i]);
    }
    /* insertion sort: fleets are small and the order must be stable between refreshes */
    for (size_t i = 1; i < m->n; i++) {
        size_t v = order[i], j = i;
        while (j > 0 &&
               (sev[order[j - 1]] < sev[v] || (sev[order[j - 1]] == sev[v] && cmp_name(m, order[j - 1], v) > 0))) {
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
