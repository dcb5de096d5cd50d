/* lock_tree.c — builds one server's lock forest from pg_blocking_pids edges (see lock_tree.h).
 * Everything is iterative and index based: a 10 000 long chain must not exhaust the C stack,
 * and a cycle in the answers must neither hang nor crash. Pure: no I/O. */
#include "probes/lock_tree.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

/* ---------------------------------------------------------------- pid lookup (sorted pairs) */

struct pid_ix {
    int pid;
    size_t ix;
};

static int cmp_pid_ix(const void *a, const void *b)
{
    const struct pid_ix *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->ix < y->ix ? -1 : x->ix > y->ix;
}

static size_t lookup(const struct pid_ix *map, size_t n, int pid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (map[mid].pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && map[lo].pid == pid ? map[lo].ix : LT_NONE;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* ------------------------------------------------------------------------- working graph */

struct graph {
    size_t n_in; /* input rows; nodes [n_in, n) stand for blockers without a row */
    size_t n;
    int *pid;
    bool *dup; /* a repeated input row: ignored */
    double *wait, *age;
    size_t *off, *adj;   /* node -> its blockers (CSR), self edges left out */
    size_t *roff, *radj; /* node -> its waiters (CSR) */
    bool *self_loop;
    size_t *parent;
    bool *in_forest, *in_cycle;
    size_t ncycles;
};

/* Inputs sorted by pid; a later row of a pid already seen is a duplicate. */
static struct pid_ix *input_map(const struct lt_input *in, size_t n, bool *dup, size_t *nmap)
{
    struct pid_ix *map = xcalloc(n + 1, sizeof *map);
    for (size_t i = 0; i < n; i++)
        map[i] = (struct pid_ix){in[i].pid, i};
    qsort(map, n, sizeof *map, cmp_pid_ix);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && map[k - 1].pid == map[i].pid) {
            dup[map[i].ix] = true;
            continue;
        }
        map[k++] = map[i];
    }
    *nmap = k;
    return map;
}

/* Blocker pids that have no row of their own, sorted and unique. */
static int *missing_pids(const struct lt_input *in, const bool *dup, size_t n, const struct pid_ix *map, size_t nmap,
                         size_t *nmissing)
{
    size_t cap = 0, k = 0;
    int *v = NULL;
    for (size_t i = 0; i < n; i++) {
        if (dup[i])
            continue;
        for (size_t b = 0; b < in[i].nblockers; b++) {
            if (lookup(map, nmap, in[i].blockers[b]) != LT_NONE)
                continue;
            if (k == cap) {
                cap = cap ? cap * 2 : 8;
                v = xreallocarray(v, cap, sizeof *v);
            }
            v[k++] = in[i].blockers[b];
        }
    }
    if (k)
        qsort(v, k, sizeof *v, cmp_int);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || v[u - 1] != v[i])
            v[u++] = v[i];
    *nmissing = u;
    return v;
}

static size_t node_of(const struct graph *g, const struct pid_ix *map, size_t nmap, const int *missing, size_t nmissing,
                      int pid)
{
    size_t ix = lookup(map, nmap, pid);
    if (ix != LT_NONE)
        return ix;
    const int *m = nmissing ? bsearch(&pid, missing, nmissing, sizeof *missing, cmp_int) : NULL;
    return m ? g->n_in + (size_t)(m - missing) : LT_NONE;
}

/* Edges both ways as CSR arrays; the parent is the first blocker that is not the node itself. */
static void build_edges(struct graph *g, const struct lt_input *in, const struct pid_ix *map, size_t nmap,
                        const int *missing, size_t nmissing)
{
    size_t ne = 0;
    for (size_t i = 0; i < g->n_in; i++)
        if (!g->dup[i])
            ne += in[i].nblockers;
    g->off = xcalloc(g->n + 1, sizeof *g->off);
    g->adj = xcalloc(ne + 1, sizeof *g->adj);
    g->roff = xcalloc(g->n + 2, sizeof *g->roff);
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++) {
        g->off[i] = k;
        g->parent[i] = LT_NONE;
        if (i >= g->n_in || g->dup[i])
            continue;
        for (size_t b = 0; b < in[i].nblockers; b++) {
            size_t j = node_of(g, map, nmap, missing, nmissing, in[i].blockers[b]);
            if (j == i) {
                g->self_loop[i] = true;
                continue;
            }
            if (g->parent[i] == LT_NONE)
                g->parent[i] = j;
            g->adj[k++] = j;
            g->roff[j + 2]++;
        }
        g->in_forest[i] = in[i].nblockers > 0;
    }
    g->off[g->n] = k;
    /* reverse CSR by counting */
    for (size_t i = 0; i < g->n; i++)
        g->roff[i + 2] += g->roff[i + 1];
    g->radj = xcalloc(k + 1, sizeof *g->radj);
    for (size_t i = 0; i < g->n; i++)
        for (size_t e = g->off[i]; e < g->off[i + 1]; e++) {
            g->radj[g->roff[g->adj[e] + 1]++] = i;
            g->in_forest[g->adj[e]] = true;
        }
}

/* ------------------------------------------------------------------------------ cycles */

/* Strongly connected groups of the full wait graph (Tarjan, iterative): every member of a group
 * of two or more, or of a self loop, is in a cycle. */
static void mark_cycles(struct graph *g)
{
    size_t n = g->n, counter = 0, sp = 0, cs = 0;
    size_t *index = xcalloc(n + 1, sizeof *index), *low = xcalloc(n + 1, sizeof *low);
    size_t *stack = xcalloc(n + 1, sizeof *stack), *call = xcalloc(n + 1, sizeof *call);
    size_t *edge = xcalloc(n + 1, sizeof *edge);
    bool *on = xcalloc(n + 1, sizeof *on);
    for (size_t s = 0; s < n; s++) {
        if (index[s])
            continue;
        call[cs++] = s;
        index[s] = low[s] = ++counter;
        edge[s] = g->off[s];
        stack[sp++] = s, on[s] = true;
        while (cs) {
            size_t v = call[cs - 1];
            if (edge[v] < g->off[v + 1]) {
                size_t w = g->adj[edge[v]++];
                if (!index[w]) {
                    index[w] = low[w] = ++counter;
                    edge[w] = g->off[w];
                    stack[sp++] = w, on[w] = true;
                    call[cs++] = w;
                } else if (on[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            cs--;
            if (cs && low[v] < low[call[cs - 1]])
                low[call[cs - 1]] = low[v];
            if (low[v] != index[v])
                continue;
            size_t start = sp;
            do
                start--;
            while (stack[start] != v);
            bool cyc = sp - start > 1 || g->self_loop[v];
            for (size_t k = start; k < sp; k++) {
                on[stack[k]] = false;
                g->in_cycle[stack[k]] = cyc;
            }
            g->ncycles += cyc;
            sp = start;
        }
    }
    free(index), free(low), free(stack), free(call), free(edge), free(on);
}

/* The parent links form a graph where each node has at most one out edge; a loop in it would
 * leave its members without a root. Cut each loop at the member that has waited longest. */
static void break_parent_loops(struct graph *g)
{
    unsigned char *state = xcalloc(g->n + 1, 1); /* 0 new, 1 on the current walk, 2 done */
    size_t *path = xcalloc(g->n + 1, sizeof *path);
    for (size_t s = 0; s < g->n; s++) {
        size_t len = 0, j = s;
        while (j != LT_NONE && state[j] == 0) {
            state[j] = 1;
            path[len++] = j;
            j = g->parent[j];
        }
        if (j != LT_NONE && state[j] == 1) {
            size_t cut = j;
            for (size_t k = len; k-- > 0 && path[k] != j;) {
                size_t c = path[k];
                double wc = isnan(g->wait[c]) ? -1 : g->wait[c], wb = isnan(g->wait[cut]) ? -1 : g->wait[cut];
                if (wc > wb || (wc == wb && g->pid[c] < g->pid[cut]))
                    cut = c;
            }
            g->parent[cut] = LT_NONE;
        }
        for (size_t k = 0; k < len; k++)
            state[path[k]] = 2;
    }
    free(state);
    free(path);
}

/* --------------------------------------------------------------------- children and roots */

struct kid {
    size_t parent, node;
    double wait;
    int pid;
};

/* Siblings: longest waiting first; unknown waits last; then by pid. */
static int cmp_kid(const void *a, const void *b)
{
    const struct kid *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    double wx = isnan(x->wait) ? -1 : x->wait, wy = isnan(y->wait) ? -1 : y->wait;
    if (wx != wy)
        return wx > wy ? -1 : 1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

struct kids {
    size_t *off;  /* node -> first index in list */
    size_t *list; /* children of each node, in display order */
};

static void build_kids(const struct graph *g, struct kids *k)
{
    struct kid *v = xcalloc(g->n + 1, sizeof *v);
    size_t m = 0;
    for (size_t i = 0; i < g->n; i++)
        if (g->in_forest[i] && g->parent[i] != LT_NONE)
            v[m++] = (struct kid){g->parent[i], i, g->wait[i], g->pid[i]};
    qsort(v, m, sizeof *v, cmp_kid);
    k->off = xcalloc(g->n + 1, sizeof *k->off);
    k->list = xcalloc(m + 1, sizeof *k->list);
    for (size_t i = 0; i < m; i++) {
        k->list[i] = v[i].node;
        k->off[v[i].parent + 1]++;
    }
    for (size_t i = 0; i < g->n; i++)
        k->off[i + 1] += k->off[i];
    free(v);
}

/* Sessions under each node in the tree: children are listed after their parent in a preorder,
 * so summing in reverse preorder sees every child before its parent. */
static void subtree_sizes(const struct graph *g, const struct kids *k, size_t *sub)
{
    size_t *order = xcalloc(g->n + 1, sizeof *order), *stack = xcalloc(g->n + 1, sizeof *stack);
    size_t m = 0;
    for (size_t r = 0; r < g->n; r++) {
        if (!g->in_forest[r] || g->parent[r] != LT_NONE)
            continue;
        size_t sp = 0;
        stack[sp++] = r;
        while (sp) {
            size_t v = stack[--sp];
            order[m++] = v;
            for (size_t c = k->off[v]; c < k->off[v + 1]; c++)
                stack[sp++] = k->list[c];
        }
    }
    for (size_t i = m; i-- > 0;) {
        size_t v = order[i];
        if (g->parent[v] != LT_NONE)
            sub[g->parent[v]] += sub[v] + 1;
    }
    free(order);
    free(stack);
}

/* How many sessions each root blocks through any chain of waits, not only the tree's first
 * blocker links. One walk per root; if the walks grow beyond a budget (many roots sharing huge
 * waiter sets), the tree counts stand instead, so the build stays fast on any input. */
static void transitive_counts(const struct graph *g, const size_t *roots, size_t nroots, const size_t *sub,
                              size_t *blocked)
{
    size_t budget = 4000000 + 8 * (g->n + g->off[g->n]), work = 0;
    size_t *stamp = xcalloc(g->n + 1, sizeof *stamp), *queue = xcalloc(g->n + 1, sizeof *queue);
    bool over = false;
    for (size_t r = 0; r < nroots && !over; r++) {
        size_t root = roots[r], head = 0, tail = 0, count = 0;
        stamp[root] = r + 1;
        queue[tail++] = root;
        while (head < tail && !over) {
            size_t v = queue[head++];
            for (size_t e = g->roff[v]; e < g->roff[v + 1]; e++) {
                size_t w = g->radj[e];
                if (++work > budget) {
                    over = true;
                    break;
                }
                if (stamp[w] == r + 1)
                    continue;
                stamp[w] = r + 1;
                queue[tail++] = w;
                count++;
            }
        }
        blocked[root] = count;
    }
    if (over)
        for (size_t r = 0; r < nroots; r++)
            blocked[roots[r]] = sub[roots[r]];
    free(stamp);
    free(queue);
}

/* Roots are ordered by the sort below; it needs the graph, so it is passed in a file static
 * (qsort has no context argument in C11). The build is not reentrant across threads, and
 * pgfleet has one thread. */
static const struct graph *sort_g;
static const size_t *sort_blocked;

static int cmp_root(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (sort_blocked[x] != sort_blocked[y])
        return sort_blocked[x] > sort_blocked[y] ? -1 : 1;
    double ax = isnan(sort_g->age[x]) ? -1 : sort_g->age[x], ay = isnan(sort_g->age[y]) ? -1 : sort_g->age[y];
    if (ax != ay)
        return ax > ay ? -1 : 1;
    return (sort_g->pid[x] > sort_g->pid[y]) - (sort_g->pid[x] < sort_g->pid[y]);
}

/* The display order: each root, then its waiters depth first, children in sibling order. */
static void emit(const struct graph *g, const struct kids *k, const size_t *roots, size_t nroots, const size_t *sub,
                 const size_t *blocked, struct lock_forest *f)
{
    size_t cap = 0;
    for (size_t i = 0; i < g->n; i++)
        cap += g->in_forest[i];
    f->items = xcalloc(cap + 1, sizeof *f->items);
    f->roots = xcalloc(nroots + 1, sizeof *f->roots);
    size_t *stack = xcalloc(cap + 1, sizeof *stack), *sparent = xcalloc(cap + 1, sizeof *sparent);
    bool *slast = xcalloc(cap + 1, sizeof *slast);
    for (size_t r = 0; r < nroots; r++) {
        size_t sp = 0;
        stack[sp] = roots[r], sparent[sp] = LT_NONE, slast[sp++] = true;
        f->roots[f->nroots++] = f->nitems;
        while (sp) {
            sp--;
            size_t v = stack[sp], pi = sparent[sp], ix = f->nitems++;
            struct lt_item *it = &f->items[ix];
            it->node = v < g->n_in ? v : LT_NONE;
            it->pid = g->pid[v];
            it->parent = pi;
            it->depth = pi == LT_NONE ? 0 : f->items[pi].depth + 1;
            it->last = slast[sp];
            it->in_cycle = g->in_cycle[v];
            it->nchildren = k->off[v + 1] - k->off[v];
            it->subtree = sub[v];
            it->blocked = pi == LT_NONE ? blocked[v] : sub[v];
            for (size_t c = k->off[v + 1]; c-- > k->off[v];) {
                stack[sp] = k->list[c], sparent[sp] = ix, slast[sp++] = c + 1 == k->off[v + 1];
            }
        }
    }
    free(stack);
    free(sparent);
    free(slast);
}

void lock_forest_build(const struct lt_input *in, size_t n, struct lock_forest *out)
{
    memset(out, 0, sizeof *out);
    struct graph g = {.n_in = n};
    g.dup = xcalloc(n + 1, sizeof *g.dup);
    size_t nmap, nmissing;
    struct pid_ix *map = input_map(in, n, g.dup, &nmap);
    int *missing = missing_pids(in, g.dup, n, map, nmap, &nmissing);
    g.n = n + nmissing;
    g.pid = xcalloc(g.n + 1, sizeof *g.pid);
    g.wait = xcalloc(g.n + 1, sizeof *g.wait);
    g.age = xcalloc(g.n + 1, sizeof *g.age);
    g.self_loop = xcalloc(g.n + 1, sizeof *g.self_loop);
    g.parent = xcalloc(g.n + 1, sizeof *g.parent);
    g.in_forest = xcalloc(g.n + 1, sizeof *g.in_forest);
    g.in_cycle = xcalloc(g.n + 1, sizeof *g.in_cycle);
    for (size_t i = 0; i < g.n; i++) {
        g.pid[i] = i < n ? in[i].pid : missing[i - n];
        g.wait[i] = i < n ? in[i].wait_s : NAN;
        g.age[i] = i < n ? in[i].age_s : NAN;
        if (i < n && !g.dup[i])
            out->nwaiting += in[i].nblockers > 0;
    }
    build_edges(&g, in, map, nmap, missing, nmissing);
    for (size_t i = 0; i < n; i++)
        g.in_forest[i] = g.in_forest[i] && !g.dup[i];
    mark_cycles(&g);
    break_parent_loops(&g);

    struct kids k;
    build_kids(&g, &k);
    size_t *sub = xcalloc(g.n + 1, sizeof *sub), *blocked = xcalloc(g.n + 1, sizeof *blocked);
    subtree_sizes(&g, &k, sub);
    size_t *roots = xcalloc(g.n + 1, sizeof *roots), nroots = 0;
    for (size_t i = 0; i < g.n; i++)
        if (g.in_forest[i] && g.parent[i] == LT_NONE)
            roots[nroots++] = i;
    transitive_counts(&g, roots, nroots, sub, blocked);
    sort_g = &g;
    sort_blocked = blocked;
    qsort(roots, nroots, sizeof *roots, cmp_root);
    sort_g = NULL;
    sort_blocked = NULL;
    emit(&g, &k, roots, nroots, sub, blocked, out);

    out->missing = missing;
    out->nmissing = nmissing;
    out->ncycles = g.ncycles;
    free(roots), free(sub), free(blocked), free(k.off), free(k.list), free(map);
    free(g.dup), free(g.pid), free(g.wait), free(g.age), free(g.off), free(g.adj), free(g.roff);
    free(g.radj), free(g.self_loop), free(g.parent), free(g.in_forest), free(g.in_cycle);
}

void lock_forest_free(struct lock_forest *f)
{
    if (!f)
        return;
    free(f->items);
    free(f->roots);
    free(f->missing);
    memset(f, 0, sizeof *f);
}

size_t lock_forest_find(const struct lock_forest *f, int pid)
{
    for (size_t i = 0; i < f->nitems; i++)
        if (f->items[i].pid == pid)
            return i;
    return LT_NONE;
}

int lock_forest_parent_pid(const struct lock_forest *f, size_t item)
{
    if (item >= f->nitems || f->items[item].parent == LT_NONE)
        return -1;
    return f->items[f->items[item].parent].pid;
}

/* ---------------------------------------------------------------------------------- DDL */

/* Skip white space and SQL comments (-- to the end of the line, nested block comments). */
static const char *skip_blank(const char *p)
{
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
        } else if (p[0] == '/' && p[1] == '*') {
            int depth = 1;
            p += 2;
            while (*p && depth) {
                if (p[0] == '/' && p[1] == '*')
                    depth++, p += 2;
                else if (p[0] == '*' && p[1] == '/')
                    depth--, p += 2;
                else
                    p++;
            }
        } else {
            return p;
        }
    }
}

/* If p starts with the word w (any case, then a non-identifier character), the text after it. */
static const char *word(const char *p, const char *w)
{
    size_t n = strlen(w);
    if (strncasecmp(p, w, n) != 0)
        return NULL;
    unsigned char c = (unsigned char)p[n];
    if (isalnum(c) || c == '_' || c == '$')
        return NULL;
    return p + n;
}

/* VACUUM FULL, or VACUUM (…, FULL, …). */
static bool vacuum_full(const char *p)
{
    p = skip_blank(p);
    if (word(p, "FULL"))
        return true;
    if (*p != '(')
        return false;
    for (p++; *p && *p != ')';) {
        p = skip_blank(p);
        if (word(p, "FULL")) {
            const char *q = skip_blank(word(p, "FULL"));
            return !(word(q, "false") || word(q, "off") || word(q, "0"));
        }
        while (*p && *p != ',' && *p != ')')
            p++;
        if (*p == ',')
            p++;
    }
    return false;
}

bool lt_query_is_ddl(const char *query)
{
    if (!query)
        return false;
    const char *p = skip_blank(query), *q;
    static const char *const plain[] = {"ALTER", "DROP", "TRUNCATE", "REINDEX", "CLUSTER", "LOCK"};
    for (size_t i = 0; i < ARRAY_LEN(plain); i++)
        if (word(p, plain[i]))
            return true;
    if ((q = word(p, "CREATE"))) {
        q = skip_blank(q);
        if (word(q, "UNIQUE"))
            q = skip_blank(word(q, "UNIQUE"));
        return word(q, "INDEX") != NULL;
    }
    if ((q = word(p, "VACUUM")))
        return vacuum_full(q);
    return false;
}

bool lt_is_ddl(const char *query, const char *wait_mode, bool holds_access_exclusive)
{
    return holds_access_exclusive || (wait_mode && strcmp(wait_mode, "AccessExclusiveLock") == 0) ||
        lt_query_is_ddl(query);
}
