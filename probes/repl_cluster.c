/* repl_cluster.c — replication clusters across the fleet: servers with the same
 * system_identifier are one cluster; inside it each replica is tied to the server it streams from
 * and to its row in that server's pg_stat_replication, by the strongest evidence there is (the
 * slot both sides name, then the application_name the replica presents, then addresses and
 * ports). Lag of a replica is measured against its primary's current LSN when the primary is in
 * the fleet. Pure: reads the model, never queries. */
#include "probes/repl_cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static const struct s_replication *repl_of(const struct server *s)
{
    return s->kind == KIND_POSTGRES ? SAMPLE_REPL(s->cur) : NULL;
}

static bool eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static bool is_primary(const struct model *m, const struct repl_node *n)
{
    const struct s_replication *r = repl_of(&m->servers[n->server]);
    return r && !r->in_recovery;
}

static void add_node(struct repl_cluster *c, size_t server)
{
    c->nodes = xreallocarray(c->nodes, c->n + 1, sizeof *c->nodes);
    c->nodes[c->n++] = (struct repl_node){.server = server, .upstream = -1, .sender = -1};
}

/* Why a server is a group of its own: no identifier, or no replication sample at all. */
static const char *lone_why(const struct server *s)
{
    const struct s_replication *r = repl_of(s);
    if (r)
        return r->sysid_why ? r->sysid_why : "no system_identifier";
    if (s->cur && s->cur->err[PROBE_REPLICATION])
        return s->cur->err[PROBE_REPLICATION];
    if (s->status == SRV_DOWN || s->status == SRV_STALE)
        return s->reason[0] ? s->reason : srv_status_name(s->status);
    return "no replication sample yet";
}

/* ---- matching replicas to WAL sender rows */

/* How sure we are that replica a is row k of server b's pg_stat_replication: 0 when nothing
 * ties them; otherwise the slot name both sides use (4), the application_name the replica
 * presents (2: its conninfo's, else cluster_name, else PostgreSQL's default), and weaker hints:
 * the row's client address is the replica's address (1), the replica's receiver points at b's
 * port (1). Without a slot or name match, addresses alone are not enough (one host often runs
 * several servers). */
static int match_score(const struct model *m, size_t a, size_t b, size_t k)
{
    const struct s_replication *ra = repl_of(&m->servers[a]), *rb = repl_of(&m->servers[b]);
    const struct s_walreceiver *w = SAMPLE_WALRCV(m->servers[a].cur);
    const struct repl_sender *row = &rb->senders[k];
    if (eq(row->slot_type, "logical"))
        return 0;
    int s = 0;
    if (w && w->present && eq(w->slot_name, row->slot_name))
        s += 4;
    const char *app = w && w->present && w->app_name && *w->app_name ? w->app_name
        : ra->cluster_name && *ra->cluster_name                      ? ra->cluster_name
                                                                     : "walreceiver";
    if (eq(app, row->application_name))
        s += 2;
    if (s == 0)
        return 0;
    if (eq(ra->server_addr, row->client_addr))
        s += 1;
    if (w && w->present && rb->server_port && w->sender_port == rb->server_port)
        s += 1;
    return s;
}

struct cand {
    int score;
    size_t a, b, k; /* node indexes a, b; row k */
};

static int cand_cmp(const void *x, const void *y)
{
    const struct cand *p = x, *q = y;
    if (p->score != q->score)
        return q->score - p->score;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return p->k < q->k ? -1 : p->k > q->k;
}

/* Would making b the upstream of a close a loop? */
static bool makes_cycle(const struct repl_cluster *c, size_t a, size_t b)
{
    for (int x = (int)b, steps = 0; x >= 0 && steps <= (int)c->n; x = c->nodes[x].upstream, steps++)
        if ((size_t)x == a)
            return true;
    return false;
}

static bool claimed(const struct repl_cluster *c, size_t b, size_t k)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->nodes[i].upstream == (int)b && c->nodes[i].sender == (int)k)
            return true;
    return false;
}

/* Strongest ties first, each replica and each row used once. */
static void match_rows(const struct model *m, struct repl_cluster *c)
{
    struct cand *cd = NULL;
    size_t nc = 0;
    for (size_t a = 0; a < c->n; a++) {
        if (is_primary(m, &c->nodes[a]) || !repl_of(&m->servers[c->nodes[a].server]))
            continue;
        for (size_t b = 0; b < c->n; b++) {
            const struct s_replication *rb = repl_of(&m->servers[c->nodes[b].server]);
            if (b == a || !rb)
                continue;
            for (size_t k = 0; k < rb->nsenders; k++) {
                int s = match_score(m, c->nodes[a].server, c->nodes[b].server, k);
                if (s <= 0)
                    continue;
                cd = xreallocarray(cd, nc + 1, sizeof *cd);
                cd[nc++] = (struct cand){s, a, b, k};
            }
        }
    }
    if (nc)
        qsort(cd, nc, sizeof *cd, cand_cmp);
    for (size_t i = 0; i < nc; i++) {
        struct repl_node *na = &c->nodes[cd[i].a];
        if (na->upstream >= 0 || claimed(c, cd[i].b, cd[i].k) || makes_cycle(c, cd[i].a, cd[i].b))
            continue;
        na->upstream = (int)cd[i].b;
        na->sender = (int)cd[i].k;
    }
    free(cd);
}

/* A replica with no matching row (its receiver is down, or rows are hidden without pg_monitor)
 * still belongs under something: the server its receiver points at, else the only primary. */
static void fallback_upstreams(const struct model *m, struct repl_cluster *c)
{
    int only_primary = -1;
    for (size_t i = 0; i < c->n; i++)
        if (is_primary(m, &c->nodes[i]))
            only_primary = c->nprimaries == 1 ? (int)i : -1;
    for (size_t a = 0; a < c->n; a++) {
        struct repl_node *na = &c->nodes[a];
        if (na->upstream >= 0 || is_primary(m, na) || !repl_of(&m->servers[na->server]))
            continue;
        const struct s_walreceiver *w = SAMPLE_WALRCV(m->servers[na->server].cur);
        for (size_t b = 0; b < c->n && w && w->present; b++) {
            const struct s_replication *rb = repl_of(&m->servers[c->nodes[b].server]);
            if (b != a && rb && rb->server_port && rb->server_port == w->sender_port &&
                eq(rb->server_addr, w->sender_host) && !makes_cycle(c, a, b)) {
                na->upstream = (int)b;
                break;
            }
        }
        if (na->upstream < 0 && only_primary >= 0 && only_primary != (int)a)
            na->upstream = only_primary;
    }
}

/* Reorder nodes into tree order (roots: primaries first), with depths. */
static void order_tree(const struct model *m, struct repl_cluster *c)
{
    size_t n = c->n;
    struct repl_node *out = xcalloc(n + 1, sizeof *out);
    int *newidx = xcalloc(n + 1, sizeof *newidx);
    bool *done = xcalloc(n + 1, sizeof *done);
    int *stack = xcalloc(n + 1, sizeof *stack);
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t r = 0; r < n; r++) {
            if (done[r] || c->nodes[r].upstream >= 0 || is_primary(m, &c->nodes[r]) != (pass == 0))
                continue;
            size_t sp = 0;
            stack[sp++] = (int)r;
            while (sp) {
                int x = stack[--sp];
                done[x] = true;
                newidx[x] = (int)k;
                out[k] = c->nodes[x];
                out[k].depth = c->nodes[x].upstream >= 0 ? out[newidx[c->nodes[x].upstream]].depth + 1 : 0;
                k++;
                /* children pushed in reverse so they come out in config order */
                for (size_t ch = n; ch-- > 0;)
                    if (!done[ch] && c->nodes[ch].upstream == x)
                        stack[sp++] = (int)ch;
            }
        }
    }
    /* Anything not reached (a loop in bad data) becomes a root rather than vanishing. */
    for (size_t r = 0; r < n; r++)
        if (!done[r]) {
            newidx[r] = (int)k;
            out[k] = c->nodes[r];
            out[k].upstream = -1;
            out[k].sender = -1;
            out[k++].depth = 0;
        }
    for (size_t i = 0; i < n; i++)
        if (out[i].upstream >= 0)
            out[i].upstream = newidx[out[i].upstream];
    free(c->nodes);
    c->nodes = out;
    free(newidx);
    free(done);
    free(stack);
}

static void link_cluster(const struct model *m, struct repl_cluster *c)
{
    c->nprimaries = 0;
    for (size_t i = 0; i < c->n; i++)
        c->nprimaries += is_primary(m, &c->nodes[i]);
    match_rows(m, c);
    fallback_upstreams(m, c);
    order_tree(m, c);
}

size_t repl_clusters(const struct model *m, long scope, struct repl_cluster **out)
{
    struct repl_cluster *cs = xcalloc(m->n + 1, sizeof *cs);
    size_t nc = 0;
    long want = -1; /* the cluster of the scoped server */
    for (size_t i = 0; i < m->n; i++) {
        const struct server *s = &m->servers[i];
        if (s->kind != KIND_POSTGRES)
            continue;
        const struct s_replication *r = repl_of(s);
        size_t ci = nc;
        if (r && r->system_identifier)
            for (ci = 0; ci < nc && !eq(cs[ci].sysid, r->system_identifier); ci++)
                ;
        if (ci == nc) {
            cs[nc].sysid = r ? r->system_identifier : NULL;
            cs[nc].why = cs[nc].sysid ? NULL : lone_why(s);
            nc++;
        }
        add_node(&cs[ci], i);
        if (scope >= 0 && (size_t)scope == i)
            want = (long)ci;
    }
    if (scope >= 0) {
        /* keep only the scoped server's cluster (none if it is a pooler); the Fleet pane asks
         * this for every row, so the others are not linked at all */
        for (size_t i = 0; i < nc; i++)
            if ((long)i != want)
                free(cs[i].nodes);
        if (want >= 0) {
            cs[0] = cs[want];
            nc = 1;
        } else {
            nc = 0;
        }
    }
    for (size_t i = 0; i < nc; i++)
        link_cluster(m, &cs[i]);
    *out = cs;
    return nc;
}

void repl_clusters_free(struct repl_cluster *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].nodes);
    free(c);
}

int repl_cluster_find(const struct repl_cluster *c, size_t server)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->nodes[i].server == server)
            return (int)i;
    return -1;
}

bool repl_sender_claimed(const struct repl_cluster *c, size_t upstream_node, size_t row)
{
    return claimed(c, upstream_node, row);
}

/* ---- lag */

/* The primary a replica's lag is measured against: the root of its chain, or the cluster's only
 * primary; NULL when none is known and answering. */
static const struct s_replication *primary_of(const struct model *m, const struct repl_cluster *c, size_t node)
{
    int x = (int)node;
    for (size_t steps = 0; c->nodes[x].upstream >= 0 && steps <= c->n; steps++)
        x = c->nodes[x].upstream;
    const struct repl_node *root = &c->nodes[x];
    if (!is_primary(m, root)) {
        root = NULL;
        for (size_t i = 0; i < c->n && c->nprimaries == 1; i++)
            if (is_primary(m, &c->nodes[i]))
                root = &c->nodes[i];
    }
    if (!root || m->servers[root->server].status == SRV_DOWN)
        return NULL;
    const struct s_replication *p = repl_of(&m->servers[root->server]);
    return p && p->current_lsn ? p : NULL;
}

void repl_node_lag(const struct model *m, const struct repl_cluster *c, size_t node, struct repl_lag *out)
{
    const struct repl_node *nd = &c->nodes[node];
    const struct server *s = &m->servers[nd->server];
    const struct s_replication *r = repl_of(s);
    *out = (struct repl_lag){.bytes = NAN, .seconds = NAN};
    if (!r || !r->in_recovery || s->status == SRV_DOWN)
        return;
    const struct repl_sender *row = NULL;
    if (nd->upstream >= 0 && nd->sender >= 0) {
        const struct s_replication *u = repl_of(&m->servers[c->nodes[nd->upstream].server]);
        if (u && (size_t)nd->sender < u->nsenders)
            row = &u->senders[nd->sender];
    }
    out->hist = row ? &row->hist : &r->hist;
    const struct s_replication *p = primary_of(m, c, node);
    out->seconds = r->local_lag_s;
    if (row && isfinite(row->replay_lag_s) && !(out->seconds >= row->replay_lag_s))
        out->seconds = row->replay_lag_s;
    if (p && r->replay_lsn) {
        out->from_primary = true;
        out->bytes = p->current_lsn > r->replay_lsn ? (double)(p->current_lsn - r->replay_lsn) : 0;
        if (out->bytes == 0) {
            out->seconds = 0; /* replayed all the primary has: nothing to wait for */
        } else {
            /* how long ago the primary passed the replay position, on the primary's clock */
            bool older;
            double t = lsn_hist_passed(&p->wal_hist, r->replay_lsn, &older);
            double age = isfinite(t) ? p->epoch - t : NAN;
            if (isfinite(age) && (!older || !(out->seconds > age)))
                out->seconds = age; /* older than the history: at least that old */
        }
    } else {
        out->bytes = r->local_lag_b;
    }
}

/* Worst lag (bytes or seconds) of node me of cluster c, whose server is s: its own as a replica;
 * as a primary, the worst of the fleet replicas measured against it and of its own sender rows
 * no fleet server claims. */
static double worst_in(const struct model *m, const struct repl_cluster *c, int me, const struct server *s,
                       bool seconds)
{
    const struct s_replication *r = repl_of(s);
    if (!r || s->status == SRV_DOWN || me < 0)
        return NAN;
    double worst = NAN;
    if (r->in_recovery) {
        struct repl_lag l;
        repl_node_lag(m, c, (size_t)me, &l);
        return seconds ? l.seconds : l.bytes;
    }
    for (size_t i = 0; i < c->n; i++) {
        if ((int)i == me || is_primary(m, &c->nodes[i]) || primary_of(m, c, i) != r)
            continue;
        struct repl_lag l;
        repl_node_lag(m, c, i, &l);
        double v = seconds ? l.seconds : l.bytes;
        if (isfinite(v) && !(worst >= v))
            worst = v;
    }
    for (size_t k = 0; k < r->nsenders; k++) {
        const struct repl_sender *row = &r->senders[k];
        double v = seconds ? row->replay_lag_s : row->replay_lag_b;
        if (eq(row->slot_type, "logical") || claimed(c, (size_t)me, k) || !isfinite(v))
            continue;
        if (!(worst >= v))
            worst = v;
    }
    return worst;
}

/* The Fleet pane asks for every row, its sort and the header, each frame: link the clusters
 * once per generation of the model and keep every server's figures (without a memo, only the
 * asking server's cluster is linked). */
static double worst_lag(const struct model *m, const struct server *s, bool seconds)
{
    size_t idx = (size_t)(s - m->servers);
    struct lag_memo *memo = m->lag_memo;
    struct repl_cluster *cs;
    if (!memo) {
        size_t nc = repl_clusters(m, (long)idx, &cs);
        double v = nc ? worst_in(m, &cs[0], repl_cluster_find(&cs[0], idx), s, seconds) : NAN;
        repl_clusters_free(cs, nc);
        return v;
    }
    if (!memo->valid || memo->generation != m->generation) {
        for (size_t i = 0; i < m->n; i++)
            memo->bytes[i] = memo->seconds[i] = NAN;
        size_t nc = repl_clusters(m, -1, &cs);
        for (size_t k = 0; k < nc; k++)
            for (size_t i = 0; i < cs[k].n; i++) {
                size_t srv = cs[k].nodes[i].server;
                memo->bytes[srv] = worst_in(m, &cs[k], (int)i, &m->servers[srv], false);
                memo->seconds[srv] = worst_in(m, &cs[k], (int)i, &m->servers[srv], true);
            }
        repl_clusters_free(cs, nc);
        memo->valid = true;
        memo->generation = m->generation;
    }
    return seconds ? memo->seconds[idx] : memo->bytes[idx];
}

double repl_worst_lag_bytes(const struct model *m, const struct server *s) { return worst_lag(m, s, false); }

double repl_lag_seconds(const struct model *m, const struct server *s) { return worst_lag(m, s, true); }

int archiver_failing(const struct server *s)
{
    const struct s_archiver *a = s->kind == KIND_POSTGRES ? SAMPLE_ARCHIVER(s->cur) : NULL;
    return a && a->failing && s->status != SRV_DOWN ? 1 : 0;
}
