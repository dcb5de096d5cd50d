/* fuzz_lock_tree.c — the lock forest builder (lock_tree.h) on arbitrary "pid waits for these
 * pids" inputs: cycles, self-blocking, duplicate rows and blockers, blockers without a row, and
 * (from a few bytes) chains, rings and fans of thousands of waiters. It never crashes or hangs
 * (libFuzzer's -timeout), and the forest is what the header promises, checked against facts
 * computed here: a preorder of every waiter and blocker once each, depths, child counts,
 * subtree sizes, the "last" marks, each waiter under its first blocker unless it is part of a
 * cycle, in_cycle and ncycles equal to the cycles in the graph, the blocker pids that had no
 * row, roots ordered by sessions blocked (which is every session waiting on the root through any
 * chain), siblings by wait. Also lt_query_is_ddl: leading white space and comments change nothing.
 * Input: flags (bit 0: pids of two bytes), then operations (see next_op). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fuzzutil.h"
#include "probes/lock_tree.h"

#define MAX_ROWS 20000
#define MAX_EDGES 60000
#define SMALL 300 /* quadratic checks up to this many nodes */

struct rows {
    struct lt_input *in;
    size_t n, cap;
    int *pool; /* blockers of every row, in order; in[i].blockers set at the end */
    size_t *off;
    size_t npool, poolcap;
};

struct rd {
    const uint8_t *p;
    size_t n, i;
    bool wide;
};

static unsigned byte(struct rd *r) { return r->i < r->n ? r->p[r->i++] : 0; }
static unsigned u16(struct rd *r) { return byte(r) | byte(r) << 8; }
static int pid(struct rd *r) { return r->wide ? (int)(int16_t)u16(r) : (int)byte(r); }

static double secs(unsigned b) { return b == 0xff ? NAN : b == 0xfe ? INFINITY : b / 4.0; }

static bool add_row(struct rows *R, int p, const int *bl, size_t nb, double wait, double age)
{
    if (R->n >= MAX_ROWS || R->npool + nb > MAX_EDGES)
        return false;
    if (R->n == R->cap) {
        R->cap = R->cap ? R->cap * 2 : 64;
        R->in = xreallocarray(R->in, R->cap, sizeof *R->in);
        R->off = xreallocarray(R->off, R->cap + 1, sizeof *R->off);
    }
    if (R->npool + nb > R->poolcap) {
        R->poolcap = (R->npool + nb) * 2 + 64;
        R->pool = xreallocarray(R->pool, R->poolcap, sizeof *R->pool);
    }
    R->off[R->n] = R->npool;
    if (nb)
        memcpy(R->pool + R->npool, bl, nb * sizeof *bl);
    R->npool += nb;
    R->in[R->n++] = (struct lt_input){.pid = p, .nblockers = nb, .wait_s = wait, .age_s = age};
    return true;
}

/* One operation: 0 a row (pid, up to 5 blockers, wait, age), 1 a chain or ring, 2 a fan under
 * one or two roots, 3 a dense tangle of small pids, 4 the previous pid again (a duplicate row),
 * 5 the rest is a query for lt_query_is_ddl. Returns false when done. */
static bool next_op(struct rd *r, struct rows *R, const char **query, size_t *qlen)
{
    if (r->i >= r->n)
        return false;
    unsigned op = byte(r) % 6;
    int bl[8];
    switch (op) {
    case 0: {
        int p = pid(r);
        size_t nb = byte(r) % 6;
        for (size_t k = 0; k < nb; k++)
            bl[k] = pid(r);
        double w = secs(byte(r)), a = secs(byte(r));
        return add_row(R, p, bl, nb, w, a);
    }
    case 1: {
        unsigned count = u16(r) % 4096 + 1, ring = byte(r) & 1;
        int base = pid(r);
        for (unsigned k = 0; k < count; k++) {
            bl[0] = base + (int)k + 1;
            bool last = k + 1 == count;
            if (last)
                bl[0] = base;
            if (!add_row(R, base + (int)k, bl, last && !ring ? 0 : 1, (double)(count - k), (double)k))
                return false;
        }
        return true;
    }
    case 2: {
        unsigned count = u16(r) % 4096 + 1, two = byte(r) & 1;
        int root = pid(r), root2 = pid(r);
        for (unsigned k = 0; k < count; k++) {
            bl[0] = root, bl[1] = root2;
            if (!add_row(R, root + 1 + (int)k, bl, two ? 2 : 1, (double)(k % 7), NAN))
                return false;
        }
        return true;
    }
    case 3: {
        unsigned count = byte(r) % 64 + 1, span = byte(r) % 64 + 1, x = byte(r) * 2654435761u + 1;
        for (unsigned k = 0; k < count; k++) {
            x = x * 1103515245u + 12345u;
            int p = (int)((x >> 16) % span);
            x = x * 1103515245u + 12345u;
            size_t nb = (x >> 16) % 4;
            for (size_t b = 0; b < nb; b++) {
                x = x * 1103515245u + 12345u;
                bl[b] = (int)((x >> 16) % span);
            }
            if (!add_row(R, p, bl, nb, secs((x >> 8) & 0xff), secs(x & 0xff)))
                return false;
        }
        return true;
    }
    case 4: {
        if (!R->n)
            return true;
        int p = R->in[R->n - 1].pid;
        size_t nb = byte(r) % 3;
        for (size_t k = 0; k < nb; k++)
            bl[k] = pid(r);
        return add_row(R, p, bl, nb, secs(byte(r)), secs(byte(r)));
    }
    default:
        *query = (const char *)r->p + r->i;
        *qlen = r->n - r->i;
        r->i = r->n;
        return false;
    }
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static double key(double v) { return isnan(v) ? -1 : v; }

/* The facts about the input, computed plainly. */
struct facts {
    int *pids; /* distinct node pids: first rows, then missing blockers */
    size_t npids;
    size_t *row;      /* node -> its first input row, or SIZE_MAX (missing) */
    size_t *first_bl; /* node -> node of its first blocker that is not itself, or SIZE_MAX */
    bool *waits;      /* has a blocker other than itself */
    bool *self_only;  /* blockers, all itself */
    bool *self_loop;  /* itself among its blockers */
    bool *blocks;     /* someone else waits for it */
};

static size_t node_of(const struct facts *F, size_t n_first, int p)
{
    /* pids[0..n_first) are sorted, as are pids[n_first..) */
    int *h = bsearch(&p, F->pids, n_first, sizeof *F->pids, cmp_int);
    if (h)
        return (size_t)(h - F->pids);
    h = bsearch(&p, F->pids + n_first, F->npids - n_first, sizeof *F->pids, cmp_int);
    return h ? (size_t)(h - F->pids) : SIZE_MAX;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    struct rd r = {data + 1, size - 1, 0, data[0] & 1};
    struct rows R = {0};
    const char *query = NULL;
    size_t qlen = 0;
    while (next_op(&r, &R, &query, &qlen))
        ;
    for (size_t i = 0; i < R.n; i++)
        R.in[i].blockers = R.in[i].nblockers ? R.pool + R.off[i] : NULL;

    struct lock_forest f;
    lock_forest_build(R.in, R.n, &f);

    /* facts: nodes are the distinct pids of the rows (first row wins) and the blockers without one */
    struct facts F = {0};
    size_t n = R.n;
    int *rp = xcalloc(n + 1, sizeof *rp);
    for (size_t i = 0; i < n; i++)
        rp[i] = R.in[i].pid;
    qsort(rp, n, sizeof *rp, cmp_int);
    size_t nu = 0;
    for (size_t i = 0; i < n; i++)
        if (!nu || rp[nu - 1] != rp[i])
            rp[nu++] = rp[i];
    /* the first row of each pid */
    size_t *first = xcalloc(nu + 1, sizeof *first);
    for (size_t i = 0; i < nu; i++)
        first[i] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t u = (size_t)((int *)bsearch(&R.in[i].pid, rp, nu, sizeof *rp, cmp_int) - rp);
        if (first[u] == SIZE_MAX)
            first[u] = i;
    }
    int *miss = xcalloc(R.npool + 1, sizeof *miss);
    size_t nmiss = 0;
    for (size_t u = 0; u < nu; u++) {
        const struct lt_input *x = &R.in[first[u]];
        for (size_t b = 0; b < x->nblockers; b++)
            if (!bsearch(&x->blockers[b], rp, nu, sizeof *rp, cmp_int))
                miss[nmiss++] = x->blockers[b];
    }
    qsort(miss, nmiss, sizeof *miss, cmp_int);
    size_t nm = 0;
    for (size_t i = 0; i < nmiss; i++)
        if (!nm || miss[nm - 1] != miss[i])
            miss[nm++] = miss[i];
    F.npids = nu + nm;
    F.pids = xcalloc(F.npids + 1, sizeof *F.pids);
    memcpy(F.pids, rp, nu * sizeof *rp);
    memcpy(F.pids + nu, miss, nm * sizeof *miss);
    F.row = xcalloc(F.npids + 1, sizeof *F.row);
    F.first_bl = xcalloc(F.npids + 1, sizeof *F.first_bl);
    F.waits = xcalloc(F.npids + 1, sizeof *F.waits);
    F.self_only = xcalloc(F.npids + 1, sizeof *F.self_only);
    F.blocks = xcalloc(F.npids + 1, sizeof *F.blocks);
    F.self_loop = xcalloc(F.npids + 1, sizeof *F.self_loop);
    size_t nwaiting = 0, nwaiting_any = 0;
    for (size_t v = 0; v < F.npids; v++) {
        F.row[v] = v < nu ? first[v] : SIZE_MAX;
        F.first_bl[v] = SIZE_MAX;
        if (v >= nu)
            continue;
        const struct lt_input *x = &R.in[F.row[v]];
        for (size_t b = 0; b < x->nblockers; b++) {
            if (x->blockers[b] == x->pid) {
                F.self_loop[v] = true;
                continue;
            }
            size_t w = node_of(&F, nu, x->blockers[b]);
            if (F.first_bl[v] == SIZE_MAX)
                F.first_bl[v] = w;
            F.waits[v] = true;
            F.blocks[w] = true;
        }
        F.self_only[v] = x->nblockers > 0 && !F.waits[v];
        nwaiting += F.waits[v];
        nwaiting_any += x->nblockers > 0;
    }

    /* missing: exactly the blockers without a row */
    FZ_CHECK(f.nmissing == nm, "nmissing %zu, expected %zu", f.nmissing, nm);
    for (size_t i = 0; i < nm; i++)
        FZ_CHECK(f.missing[i] == miss[i], "missing[%zu] = %d, expected %d", i, f.missing[i], miss[i]);
    FZ_CHECK(f.nwaiting >= nwaiting && f.nwaiting <= nwaiting_any, "nwaiting %zu, expected %zu..%zu", f.nwaiting,
             nwaiting, nwaiting_any);

    /* the items: each waiter and each blocker once */
    size_t *item_of = xcalloc(F.npids + 1, sizeof *item_of);
    for (size_t v = 0; v < F.npids; v++)
        item_of[v] = SIZE_MAX;
    size_t nroots = 0, ncyc_items = 0;
    for (size_t i = 0; i < f.nitems; i++) {
        const struct lt_item *it = &f.items[i];
        size_t v = node_of(&F, nu, it->pid);
        FZ_CHECK(v != SIZE_MAX, "item %zu: pid %d is neither a row nor a blocker", i, it->pid);
        FZ_CHECK(item_of[v] == SIZE_MAX, "pid %d shown twice (items %zu and %zu)", it->pid, item_of[v], i);
        item_of[v] = i;
        FZ_CHECK(F.waits[v] || F.blocks[v] || F.self_only[v], "pid %d neither waits nor blocks but is shown", it->pid);
        if (v < nu)
            FZ_CHECK(it->node == F.row[v], "pid %d: node %zu, its first row is %zu", it->pid, it->node, F.row[v]);
        else
            FZ_CHECK(it->node == LT_NONE, "missing blocker %d: node %zu", it->pid, it->node);
        if (it->parent == LT_NONE) {
            FZ_CHECK(it->depth == 0, "root %zu at depth %u", i, it->depth);
            nroots++;
        } else {
            FZ_CHECK(it->parent < i, "item %zu: parent %zu is not before it", i, it->parent);
            FZ_CHECK(it->depth == f.items[it->parent].depth + 1, "item %zu: depth %u under depth %u", i, it->depth,
                     f.items[it->parent].depth);
            FZ_CHECK(it->blocked == it->subtree, "waiter %zu: blocked %zu != subtree %zu", i, it->blocked, it->subtree);
        }
        /* under its first blocker, unless a cycle had to be cut there */
        int ppid = it->parent == LT_NONE ? -1 : f.items[it->parent].pid;
        size_t pv = it->parent == LT_NONE ? SIZE_MAX : node_of(&F, nu, ppid);
        if (!it->in_cycle)
            FZ_CHECK(pv == F.first_bl[v], "pid %d hangs under %d, its first blocker is %d", it->pid, ppid,
                     F.first_bl[v] == SIZE_MAX ? -1 : F.pids[F.first_bl[v]]);
        else if (pv != SIZE_MAX) {
            bool among = false;
            const struct lt_input *x = &R.in[F.row[v]];
            for (size_t b = 0; b < x->nblockers; b++)
                among = among || (x->blockers[b] == ppid && ppid != it->pid);
            FZ_CHECK(among, "pid %d (in a cycle) hangs under %d, not one of its blockers", it->pid, ppid);
        }
        FZ_CHECK(lock_forest_parent_pid(&f, i) == (it->parent == LT_NONE ? -1 : ppid), "parent pid of item %zu", i);
        ncyc_items += it->in_cycle;
        /* preorder: the next item is a child of this one, or a sibling of it or of an ancestor */
        if (i + 1 < f.nitems) {
            const struct lt_item *nx = &f.items[i + 1];
            FZ_CHECK(nx->depth <= it->depth + 1, "item %zu at depth %u after depth %u", i + 1, nx->depth, it->depth);
            if (nx->depth == it->depth + 1)
                FZ_CHECK(nx->parent == i, "item %zu is deeper than %zu but not its child", i + 1, i);
        }
    }
    /* subtree sizes, child counts, the last child and sibling order, in one pass from the end */
    size_t *sub = xcalloc(f.nitems + 1, sizeof *sub), *kids = xcalloc(f.nitems + 1, sizeof *kids);
    size_t *nextkid = xcalloc(f.nitems + 1, sizeof *nextkid); /* the child after, seen so far */
    for (size_t i = 0; i < f.nitems; i++)
        nextkid[i] = SIZE_MAX;
    for (size_t i = f.nitems; i-- > 0;) {
        const struct lt_item *it = &f.items[i];
        FZ_CHECK(it->subtree == sub[i], "item %zu: subtree %zu, %zu items under it", i, it->subtree, sub[i]);
        FZ_CHECK(it->nchildren == kids[i], "item %zu: nchildren %zu, %zu children", i, it->nchildren, kids[i]);
        if (it->parent == LT_NONE)
            continue;
        size_t p = it->parent;
        FZ_CHECK(i <= p + f.items[p].subtree, "item %zu lies outside its parent %zu's subtree", i, p);
        sub[p] += sub[i] + 1;
        kids[p]++;
        size_t after = nextkid[p];
        FZ_CHECK(it->last == (after == SIZE_MAX), "item %zu: last is %d, %s child after it", i, it->last,
                 after == SIZE_MAX ? "no" : "a");
        if (after != SIZE_MAX) {
            const struct lt_item *b = &f.items[after];
            FZ_CHECK(it->node != LT_NONE && b->node != LT_NONE, "a waiter without a row under item %zu", p);
            double wa = key(R.in[it->node].wait_s), wb = key(R.in[b->node].wait_s);
            FZ_CHECK(wa > wb || (wa == wb && it->pid < b->pid), "siblings %d (wait %g) before %d (wait %g)", it->pid,
                     wa, b->pid, wb);
        }
        nextkid[p] = i;
    }
    free(sub), free(kids), free(nextkid);
    for (size_t v = 0; v < F.npids; v++)
        if (F.waits[v] || F.blocks[v])
            FZ_CHECK(item_of[v] != SIZE_MAX, "pid %d waits or blocks but is not shown", F.pids[v]);
    FZ_CHECK(f.nroots == nroots, "nroots %zu, %zu items without a parent", f.nroots, nroots);
    for (size_t k = 0; k < f.nroots; k++) {
        FZ_CHECK(f.roots[k] < f.nitems && f.items[f.roots[k]].parent == LT_NONE, "roots[%zu] is not a root", k);
        FZ_CHECK(!k || f.roots[k] > f.roots[k - 1], "roots[] out of display order at %zu", k);
        const struct lt_item *it = &f.items[f.roots[k]];
        FZ_CHECK(it->blocked >= it->subtree, "root %d blocks %zu but has %zu under it", it->pid, it->blocked,
                 it->subtree);
        if (k) {
            const struct lt_item *a = &f.items[f.roots[k - 1]];
            double aa = a->node == LT_NONE ? -1 : key(R.in[a->node].age_s);
            double ab = it->node == LT_NONE ? -1 : key(R.in[it->node].age_s);
            FZ_CHECK(a->blocked > it->blocked ||
                         (a->blocked == it->blocked && (aa > ab || (aa == ab && a->pid < it->pid))),
                     "root %d (blocks %zu, age %g) before root %d (blocks %zu, age %g)", a->pid, a->blocked, aa,
                     it->pid, it->blocked, ab);
        }
    }
    FZ_CHECK((f.ncycles > 0) == (ncyc_items > 0), "ncycles %zu with %zu items in a cycle", f.ncycles, ncyc_items);
    for (size_t k = 0; k < 8 && k < n; k++) {
        int p = R.in[(k * 7919) % n].pid;
        size_t v = node_of(&F, nu, p);
        FZ_CHECK(lock_forest_find(&f, p) == item_of[v], "lock_forest_find(%d)", p);
    }
    FZ_CHECK(lock_forest_parent_pid(&f, f.nitems) == -1, "parent pid past the end");

    /* cycles and sessions blocked, by plain reachability (small inputs) */
    size_t V = F.npids;
    if (V <= SMALL) {
        bool *reach = xcalloc(V * V + 1, sizeof *reach); /* reach[a*V+b]: a waits for b through a chain */
        size_t *queue = xcalloc(V + 1, sizeof *queue);
        for (size_t a = 0; a < V; a++) {
            size_t h = 0, t = 0;
            queue[t++] = a;
            while (h < t) {
                size_t x = queue[h++];
                if (F.row[x] == SIZE_MAX)
                    continue;
                const struct lt_input *in = &R.in[F.row[x]];
                for (size_t b = 0; b < in->nblockers; b++) {
                    if (in->blockers[b] == in->pid)
                        continue;
                    size_t y = node_of(&F, nu, in->blockers[b]);
                    if (!reach[a * V + y]) {
                        reach[a * V + y] = true;
                        queue[t++] = y;
                    }
                }
            }
        }
        size_t groups = 0;
        bool *cyc = xcalloc(V + 1, sizeof *cyc);
        for (size_t a = 0; a < V; a++)
            cyc[a] = reach[a * V + a] || F.self_loop[a];
        for (size_t a = 0; a < V; a++) {
            if (!cyc[a])
                continue;
            bool seen = false;
            for (size_t b = 0; b < a && !seen; b++)
                seen = cyc[b] && reach[a * V + b] && reach[b * V + a];
            groups += !seen;
            if (item_of[a] != SIZE_MAX)
                FZ_CHECK(f.items[item_of[a]].in_cycle, "pid %d is in a cycle, not marked", F.pids[a]);
        }
        for (size_t a = 0; a < V; a++)
            if (item_of[a] != SIZE_MAX && f.items[item_of[a]].in_cycle)
                FZ_CHECK(cyc[a], "pid %d marked in a cycle, it is not", F.pids[a]);
        FZ_CHECK(f.ncycles == groups, "ncycles %zu, the graph has %zu", f.ncycles, groups);
        for (size_t k = 0; k < f.nroots; k++) {
            const struct lt_item *it = &f.items[f.roots[k]];
            size_t v = node_of(&F, nu, it->pid), cnt = 0;
            for (size_t a = 0; a < V; a++)
                cnt += a != v && reach[a * V + v];
            FZ_CHECK(it->blocked == cnt, "root %d blocks %zu, %zu sessions wait for it", it->pid, it->blocked, cnt);
        }
        free(cyc);
        free(queue);
        free(reach);
    }

    if (query) {
        char *q = xstrndup(query, qlen);
        bool d = lt_query_is_ddl(q);
        char *q1 = xasprintf(" \n\t%s", q), *q2 = xasprintf("/* a /* nested */ comment */ -- and a line\n%s", q);
        FZ_CHECK(lt_query_is_ddl(q1) == d, "white space before the query changes lt_query_is_ddl");
        FZ_CHECK(lt_query_is_ddl(q2) == d, "a comment before the query changes lt_query_is_ddl");
        FZ_CHECK(lt_is_ddl(q, NULL, false) == d, "lt_is_ddl(q) != lt_query_is_ddl(q)");
        FZ_CHECK(lt_is_ddl(q, "AccessExclusiveLock", false) && lt_is_ddl(q, NULL, true), "AccessExclusiveLock is DDL");
        free(q), free(q1), free(q2);
    }

    lock_forest_free(&f);
    free(item_of);
    free(F.pids), free(F.row), free(F.first_bl), free(F.waits), free(F.self_only), free(F.blocks), free(F.self_loop);
    free(miss), free(first), free(rp);
    free(R.in), free(R.pool), free(R.off);
    return 0;
}
