/* probe_connections.c — the connections probe: how many slots of max_connections (minus the
 * reserved ones) the client backends take, who takes them (by state, database, user,
 * application, client address; the ten biggest of each), and the sessions that sit idle in a
 * transaction, oldest first, with how far back they hold the xmin horizon (the older of their
 * snapshot, backend_xmin, and their own transaction id, backend_xid: either stops vacuum).
 * Derived from the sessions section (probe_sessions.c): no SQL of its own. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/health.h"
#include "probes/sec_connections.h"

static const char *const breakdown_names[CB_N] = {
    [CB_STATE] = "state",   [CB_DATABASE] = "database", [CB_USER] = "user", [CB_APPLICATION] = "application",
    [CB_CLIENT] = "client",
};

const char *conn_breakdown_name(enum conn_breakdown b) { return b < CB_N ? breakdown_names[b] : "?"; }

int conn_usable(const struct s_connections *c)
{
    return health_usable(c->max_connections, c->superuser_reserved + c->reserved);
}

double conn_used_pct(const struct s_connections *c) { return health_used_pct(c->used, conn_usable(c)); }

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

/* Who takes a slot: client backends, and the sessions a role without pg_monitor sees of other
 * roles (backend_type and state NULL, but a database). */
static bool takes_slot(const struct activity_row *r)
{
    return (r->backend_type && strcmp(r->backend_type, "client backend") == 0) || (!r->backend_type && r->datname);
}

static bool idle_in_xact(const struct activity_row *r)
{
    return r->state && strncmp(r->state, "idle in transaction", 19) == 0;
}

/* NULL (hidden, or SQL NULL) after every name; names bytewise. */
static int cmp_name(const char *a, const char *b)
{
    if (!a || !b)
        return (a == NULL) - (b == NULL);
    return strcmp(a, b);
}

static int cmp_counts(const void *a, const void *b)
{
    const struct conn_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return cmp_name(x->name, y->name);
}

static const char *key_of(const struct activity_row *r, int b)
{
    switch (b) {
    case CB_STATE: return r->state;
    case CB_DATABASE: return r->datname;
    case CB_USER: return r->usename;
    case CB_APPLICATION: return r->application_name;
    default: return r->client;
    }
}

/* The CONN_TOP biggest values of one breakdown over the n sessions, most first. The values are
 * counted in a hash table (open addressing): a server has many sessions and few distinct
 * values, so only those few are sorted. */
static void group_by(struct conn_group *g, const struct activity_row *const *rows, size_t n, int b,
                     struct conn_count *slot, size_t cap)
{
    if (!n)
        return;
    size_t nall = 0;
    struct conn_count *all = xcalloc(n + 1, sizeof *all);
    size_t *used = xmalloc((n + 1) * sizeof *used), nused = 0;
    long nulls = 0;
    for (size_t i = 0; i < n; i++) {
        const char *k = key_of(rows[i], b);
        if (!k) {
            nulls++;
            continue;
        }
        uint32_t h = 2166136261u; /* FNV-1a */
        for (const unsigned char *p = (const unsigned char *)k; *p; p++)
            h = (h ^ *p) * 16777619u;
        size_t at = h & (cap - 1);
        while (slot[at].n && strcmp(slot[at].name, k) != 0)
            at = (at + 1) & (cap - 1);
        if (!slot[at].n)
            used[nused++] = at;
        slot[at].name = (char *)k;
        slot[at].n++;
    }
    /* the distinct values, and the table left empty for the next breakdown (the table is big,
     * the values few: clearing it whole was a measurable share of a tick) */
    for (size_t i = 0; i < nused; i++) {
        all[nall++] = slot[used[i]];
        slot[used[i]] = (struct conn_count){NULL, 0};
    }
    free(used);
    if (nulls)
        all[nall++] = (struct conn_count){NULL, nulls};
    qsort(all, nall, sizeof *all, cmp_counts);
    g->nkeys = (long)nall;
    g->ntop = nall < CONN_TOP ? nall : CONN_TOP;
    g->top = xcalloc(CONN_TOP, sizeof *g->top);
    for (size_t i = 0; i < g->ntop; i++)
        g->top[i] = (struct conn_count){cell_dup(all[i].name), all[i].n};
    free(all);
}

/* Oldest idle first: longest since its state changed (unknown last), then by pid. */
static int cmp_iit(const void *a, const void *b)
{
    const struct activity_row *x = *(const struct activity_row *const *)a, *y = *(const struct activity_row *const *)b;
    if (isnan(x->state_age) != isnan(y->state_age))
        return isnan(x->state_age) ? 1 : -1;
    if (x->state_age != y->state_age)
        return x->state_age > y->state_age ? -1 : 1;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

static void add_iit(struct s_connections *c, const struct activity_row *a)
{
    struct conn_iit *r = &c->iit[c->niit++];
    r->pid = a->pid;
    r->usename = cell_dup(a->usename);
    r->datname = cell_dup(a->datname);
    r->application_name = cell_dup(a->application_name);
    r->client = cell_dup(a->client);
    r->state = cell_dup(a->state);
    r->idle_s = a->state_age;
    r->xact_s = a->xact_age;
    r->xmin_age = a->xmin_age;
}

static void connections_derive(const struct sample *prev, struct sample *cur)
{
    (void)prev;
    const struct s_sessions *ss = SAMPLE_SESSIONS(cur);
    if (!ss)
        return;
    struct s_connections *c = xcalloc(1, sizeof *c);
    c->max_connections = ss->max_connections;
    c->superuser_reserved = ss->superuser_reserved;
    c->reserved = ss->reserved;
    const struct activity_row **others = xcalloc(ss->n + 1, sizeof *others);
    const struct activity_row **iit = xcalloc(ss->n + 1, sizeof *iit);
    for (size_t i = 0; i < ss->n; i++) {
        const struct activity_row *r = &ss->rows[i];
        if (!takes_slot(r))
            continue;
        c->used++;
        if (r->mine) {
            c->own++;
            continue;
        }
        others[c->sessions++] = r;
        c->waiting += r->wait_event_type && strcmp(r->wait_event_type, "Lock") == 0;
        if (idle_in_xact(r))
            iit[c->niit_total++] = r;
    }
    size_t cap = 16; /* the breakdowns' hash table: a power of two, at most half full */
    while (cap < 2 * (size_t)c->sessions)
        cap *= 2;
    struct conn_count *slot = xcalloc(cap, sizeof *slot);
    for (int b = 0; b < CB_N; b++) {
        group_by(&c->by[b], others, (size_t)c->sessions, b, slot, cap);
        /* What the top values leave out is "other"; every session has one value per breakdown. */
        long sum = 0;
        for (size_t i = 0; i < c->by[b].ntop; i++)
            sum += c->by[b].top[i].n;
        c->by[b].other = c->sessions > sum ? c->sessions - sum : 0;
    }
    qsort(iit, (size_t)c->niit_total, sizeof *iit, cmp_iit);
    if (c->niit_total)
        c->iit = xcalloc(CONN_IIT_MAX, sizeof *c->iit);
    for (long i = 0; i < c->niit_total && i < CONN_IIT_MAX; i++)
        add_iit(c, iit[i]);
    free(slot);
    free(others);
    free(iit);
    connections_free(cur->sec[PROBE_CONNECTIONS]);
    cur->sec[PROBE_CONNECTIONS] = c;
}

const struct probe_class probe_connections = {
    .name = "connections",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .derive = connections_derive,
    .free_section = connections_free,
};
