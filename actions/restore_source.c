/* restore_source.c — where a restore test copies from: the configured source, else the
 * least-lagging replica of the server that is up in the fleet (a base backup loads the server
 * it reads), else the server itself. */
#include <math.h>
#include <string.h>

#include "actions/restore_test.h"
#include "probes/repl_cluster.h"

size_t restore_pick_source(const struct model *m, size_t idx)
{
    const struct server *s = &m->servers[idx];
    const struct restore_conf *own = s->conf->restore;
    const char *named = own && own->source ? own->source : NULL;
    if (named) {
        for (size_t i = 0; i < m->n; i++)
            if (m->servers[i].kind == KIND_POSTGRES && strcmp(m->servers[i].conf->name, named) == 0)
                return i;
        return idx; /* a name the config check lets through only if it exists; be safe */
    }
    struct repl_cluster *cs;
    size_t nc = repl_clusters(m, (long)idx, &cs), best = idx;
    double best_lag = INFINITY;
    for (size_t k = 0; k < nc; k++) {
        int me = repl_cluster_find(&cs[k], idx);
        if (me < 0)
            continue;
        for (size_t i = 0; i < cs[k].n; i++) {
            const struct repl_node *nd = &cs[k].nodes[i];
            const struct server *r = &m->servers[nd->server];
            if ((int)i == me || nd->upstream < 0 || r->status != SRV_UP)
                continue;
            struct repl_lag lag;
            repl_node_lag(m, &cs[k], i, &lag);
            double v = isnan(lag.bytes) ? 1e18 : lag.bytes;
            if (v < best_lag)
                best_lag = v, best = nd->server;
        }
    }
    repl_clusters_free(cs, nc);
    return best;
}
