/* view_connections.c — what pane 5, Connections, shows, as a document (doc.h), free of curses:
 * per server (all, or the scoped one) a bar of the client backends against max_connections
 * minus the reserved slots, who holds them (by state, database, user, application and client:
 * small tables side by side as the width allows), and the sessions idle in a transaction with
 * their ages; under each server, the pgBouncers that serve it, with their pools (clients active
 * and waiting, server connections, longest wait) and per-database rates. The pane draws this
 * document; the text snapshot prints it at a fixed width. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/health.h"
#include "tui/sections.h"

#define TEXT_WIDTH 120 /* the text snapshot's page width */
#define GROUP_MIN_W 22 /* narrowest breakdown table */
#define GROUP_GAP 2
#define TOP_ALL 5 /* values per breakdown when every server is shown */

/* What a build needs besides the document. */
struct cdoc {
    struct doc *d;
    int top; /* values shown per breakdown */
    const struct thresholds *th;
};

/* Server text for a cell: escaped; NULL is what the server would not show us. */
static void name_cell(char *out, size_t len, const char *raw)
{
    if (!raw)
        snprintf(out, len, "(hidden)");
    else if (!*raw)
        snprintf(out, len, "(empty)");
    else
        esc_into(out, len, raw, 1);
}

/* ------------------------------------------------------------------------- table columns */

/* Which columns fit in width: drop the lowest priority ones first; the flex column takes what
 * is left. Columns are placed from x0; x[c] < 0 for a dropped column. */
static void fit(const struct colspec *cols, int n, int x0, int width, int *x, int *wd)
{
    unsigned flex = 0;
    for (int c = 0; c < n; c++) {
        wd[c] = cols[c].width;
        flex |= cols[c].flex ? 1u << c : 0;
    }
    /* a space between columns, none after the last: as if the row were one column wider */
    table_fit(cols, n, width + 1, flex, true, x0, x, wd);
}

static void put_row(struct doc *d, size_t y, const struct colspec *cols, int n, const int *x, const int *wd,
                    char (*cells)[128], const enum sev *sev)
{
    for (int c = 0; c < n; c++)
        if (x[c] >= 0)
            (cols[c].right ? doc_put_r : doc_put)(d, y, x[c], wd[c], sev[c], cells[c]);
}

/* ---------------------------------------------------------------------------- severities */

/* An idle session's age is coloured only once it is at fault (the levels are health.c's). */
static enum sev idle_sev(double s, const struct thresholds *th)
{
    enum sev l = health_age(s, th->idle_in_transaction_ms);
    return l == SEV_OK ? SEV_NONE : l;
}

/* ------------------------------------------------------------------------ server section */

static void server_title(struct doc *d, const struct server *s)
{
    size_t y = d->n;
    char name[128];
    esc_into(name, sizeof name, s->conf->name, 1);
    int x = doc_add(d, y, 0, DS_HEAD, "%s", name);
    const struct s_server *ss = SAMPLE_SERVER(s->cur);
    if (s->kind == KIND_PGBOUNCER)
        x = doc_add(d, y, x + 2, SEV_NONE, "pgbouncer");
    else if (ss) {
        char v[64];
        esc_into(v, sizeof v, ss->version, 1);
        x = doc_add(d, y, x + 2, SEV_NONE, "%s %s", srv_role(s), v);
    }
    x = doc_add(d, y, x + 2, health_status(s->status), "%s", srv_status_name(s->status));
    if (s->reason[0]) {
        char why[320];
        esc_into(why, sizeof why, s->reason, 1);
        doc_add(d, y, x + 2, health_status(s->status), "%s", why);
    }
}

/* "used 12/297 [####......] 4%" and the figures beside it. */
static void usage_line(struct cdoc *cd, const struct s_connections *c)
{
    struct doc *d = cd->d;
    size_t y = d->n;
    int usable = conn_usable(c);
    double pct = conn_used_pct(c);
    enum sev sv = health_conns(pct, cd->th);
    int x = doc_add(d, y, 2, SEV_NONE, "used");
    x = doc_add(d, y, x + 1, sv, "%ld/%d", c->used, usable);
    int bw = (d->width - 2) / 3;
    bw = bw < 10 ? 10 : bw > 40 ? 40 : bw;
    int fill = isnan(pct) ? 0 : (int)lround(pct / 100.0 * bw);
    fill = fill < 0 ? 0 : fill > bw ? bw : fill;
    if (!isnan(pct) && pct > 0 && fill == 0)
        fill = 1; /* in use is never shown as empty */
    char hashes[64], dots[64];
    memset(hashes, '#', (size_t)fill);
    hashes[fill] = '\0';
    memset(dots, '.', (size_t)(bw - fill));
    dots[bw - fill] = '\0';
    x = doc_add(d, y, x + 1, SEV_NONE, "[");
    x = doc_add(d, y, x, sv, "%s", hashes);
    x = doc_add(d, y, x, SEV_DIM, "%s", dots);
    x = doc_add(d, y, x, SEV_NONE, "]");
    if (isnan(pct))
        x = doc_add(d, y, x + 1, SEV_DIM, "n/a");
    else
        x = doc_add(d, y, x + 1, sv, "%.0f%%", pct);
    x = doc_add(d, y, x + 3, c->waiting ? SEV_WARN : SEV_NONE, "waiting on locks %ld", c->waiting);
    x = doc_add(d, y, x + 3, SEV_DIM, "max %d - reserved %d", c->max_connections, c->superuser_reserved + c->reserved);
    doc_add(d, y, x + 3, SEV_DIM, "ours %ld", c->own);
}

/* "idle in transaction (aborted)" does not fit a narrow table; "xact" is how the other columns
 * of pgfleet say it. */
static void short_state(char *name, size_t len)
{
    const char *p = strstr(name, "idle in transaction");
    if (p == name) {
        char tmp[128];
        snprintf(tmp, sizeof tmp, "idle in xact%s", name + strlen("idle in transaction"));
        snprintf(name, len, "%s", tmp);
    }
}

/* One breakdown as a small table at (y0, x): title, values, "other". Returns its height. */
static int group_table(struct cdoc *cd, size_t y0, int x, int w, enum conn_breakdown b, const struct conn_group *g)
{
    struct doc *d = cd->d;
    char title[32];
    snprintf(title, sizeof title, "%s", conn_breakdown_name(b));
    for (char *p = title; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    char bar[128];
    snprintf(bar, sizeof bar, "%-*s%5s", w - 5 > 0 ? w - 5 : 0, title, "N");
    doc_put(d, y0, x, w, DS_COLS, bar);
    size_t shown = g->ntop < (size_t)cd->top ? g->ntop : (size_t)cd->top;
    long other = g->other;
    for (size_t i = shown; i < g->ntop; i++)
        other += g->top[i].n;
    int h = 1;
    for (size_t i = 0; i < shown; i++, h++) {
        char name[128], n[24];
        name_cell(name, sizeof name, g->top[i].name);
        if (b == CB_STATE)
            short_state(name, sizeof name);
        snprintf(n, sizeof n, "%ld", g->top[i].n);
        doc_put(d, y0 + (size_t)h, x, w - 6, g->top[i].name ? SEV_NONE : SEV_DIM, name);
        doc_put_r(d, y0 + (size_t)h, x + w - 5, 5, SEV_NONE, n);
    }
    if (other > 0) {
        char label[64], n[24];
        long more = g->nkeys - (long)shown;
        if (more > 0)
            snprintf(label, sizeof label, "other (%ld value%s)", more, more == 1 ? "" : "s");
        else
            snprintf(label, sizeof label, "other");
        snprintf(n, sizeof n, "%ld", other);
        doc_put(d, y0 + (size_t)h, x, w - 6, SEV_DIM, label);
        doc_put_r(d, y0 + (size_t)h, x + w - 5, 5, SEV_DIM, n);
        h++;
    }
    return h;
}

/* The five breakdowns side by side, as many per row as the width holds. */
static void breakdowns(struct cdoc *cd, const struct s_connections *c)
{
    struct doc *d = cd->d;
    int width = d->width - 2;
    int k = (width + GROUP_GAP) / (GROUP_MIN_W + GROUP_GAP);
    k = k < 1 ? 1 : k > CB_N ? CB_N : k;
    int tw = (width - GROUP_GAP * (k - 1)) / k;
    for (int b0 = 0; b0 < CB_N; b0 += k) {
        size_t y0 = d->n;
        int hmax = 0;
        for (int b = b0; b < b0 + k && b < CB_N; b++) {
            int h = group_table(cd, y0, 2 + (b - b0) * (tw + GROUP_GAP), tw, (enum conn_breakdown)b, &c->by[b]);
            hmax = h > hmax ? h : hmax;
        }
        doc_line(d, y0 + (size_t)hmax); /* a blank line under the row of tables */
    }
}

enum { I_PID, I_USER, I_DB, I_APP, I_CLIENT, I_STATE, I_IDLE, I_XACT, I_XMIN, I_N };
static const struct colspec iit_cols[I_N] = {
    [I_PID] = {.title = "PID", .width = 7, .prio = 100, .right = true, .numeric = true},
    [I_USER] = {.title = "USER", .width = 14, .prio = 80},
    [I_DB] = {.title = "DATABASE", .width = 14, .prio = 70},
    [I_APP] = {.title = "APPLICATION", .width = 18, .prio = 60, .flex = true},
    [I_CLIENT] = {.title = "CLIENT", .width = 15, .prio = 40},
    [I_STATE] = {.title = "STATE", .width = 7, .prio = 30},
    [I_IDLE] = {.title = "IDLE", .width = 8, .prio = 99, .right = true, .numeric = true},
    [I_XACT] = {.title = "XACT AGE", .width = 8, .prio = 90, .right = true, .numeric = true},
    [I_XMIN] = {.title = "XMIN AGE", .width = 8, .prio = 50, .right = true, .numeric = true},
};

static void iit_row(struct cdoc *cd, size_t y, const int *x, const int *wd, const struct conn_iit *r)
{
    struct doc *d = cd->d;
    char cells[I_N][128];
    enum sev sev[I_N];
    enum sev sv = idle_sev(r->idle_s, cd->th);
    for (int c = 0; c < I_N; c++)
        sev[c] = SEV_NONE;
    snprintf(cells[I_PID], 128, "%d", r->pid);
    name_cell(cells[I_USER], 128, r->usename);
    name_cell(cells[I_DB], 128, r->datname);
    name_cell(cells[I_APP], 128, r->application_name);
    name_cell(cells[I_CLIENT], 128, r->client);
    snprintf(cells[I_STATE], 128, "%s", r->state && strstr(r->state, "aborted") ? "aborted" : "idle");
    fmt_age(cells[I_IDLE], 128, r->idle_s);
    fmt_age(cells[I_XACT], 128, r->xact_s);
    if (r->xmin_age >= 0)
        fmt_count(cells[I_XMIN], 128, (double)r->xmin_age);
    else
        snprintf(cells[I_XMIN], 128, "-");
    sev[I_PID] = sev[I_IDLE] = sv;
    sev[I_XACT] = idle_sev(r->xact_s, cd->th);
    put_row(d, y, iit_cols, I_N, x, wd, cells, sev);
}

static void iit_list(struct cdoc *cd, const struct s_connections *c)
{
    struct doc *d = cd->d;
    if (c->niit_total == 0) {
        doc_add(d, d->n, 2, SEV_DIM, "no session idle in a transaction");
        return;
    }
    doc_add(d, d->n, 2, DS_HEAD, "idle in transaction: %ld session%s%s", c->niit_total, c->niit_total == 1 ? "" : "s",
            c->niit_total > 1 ? ", oldest first" : "");
    int x[I_N], wd[I_N];
    fit(iit_cols, I_N, 2, d->width - 2, x, wd);
    doc_head(d, d->n, 2, iit_cols, I_N, x, wd);
    for (size_t i = 0; i < c->niit; i++)
        iit_row(cd, d->n, x, wd, &c->iit[i]);
    if (c->niit_total > (long)c->niit)
        doc_add(d, d->n, 2, SEV_DIM, "... and %ld more", c->niit_total - (long)c->niit);
}

static void server_section(struct cdoc *cd, const struct server *s)
{
    struct doc *d = cd->d;
    server_title(d, s);
    const struct s_connections *c = SAMPLE_CONNECTIONS(s->cur);
    if (s->status == SRV_DOWN || s->status == SRV_CONNECTING)
        return;
    if (!c) {
        const char *why = s->cur ? s->cur->err[PROBE_CONNECTIONS] : NULL;
        char e[300];
        esc_into(e, sizeof e, why ? why : "no data yet", 1);
        doc_add(d, d->n, 2, SEV_DIM, "connections: %s", e);
        return;
    }
    usage_line(cd, c);
    if (c->sessions == 0) { /* five empty tables say less than one line */
        doc_add(d, d->n, 2, SEV_DIM, "no client session besides ours");
        return;
    }
    doc_line(d, d->n);
    breakdowns(cd, c);
    iit_list(cd, c);
}

/* ------------------------------------------------------------------------ pooler section */

enum { P_POOL, P_CLA, P_CLW, P_SVA, P_SVI, P_SVU, P_SVT, P_SVL, P_MAXW, P_MODE, P_N };
static const struct colspec pool_cols[P_N] = {
    [P_POOL] = {.title = "POOL (DATABASE/USER)", .width = 22, .prio = 100, .flex = true},
    [P_CLA] = {.title = "CL_ACT", .width = 6, .prio = 95, .right = true, .numeric = true},
    [P_CLW] = {.title = "CL_WAIT", .width = 7, .prio = 99, .right = true, .numeric = true},
    [P_SVA] = {.title = "SV_ACT", .width = 6, .prio = 90, .right = true, .numeric = true},
    [P_SVI] = {.title = "SV_IDLE", .width = 7, .prio = 85, .right = true, .numeric = true},
    [P_SVU] = {.title = "SV_USED", .width = 7, .prio = 70, .right = true, .numeric = true},
    [P_SVT] = {.title = "SV_TEST", .width = 7, .prio = 40, .right = true, .numeric = true},
    [P_SVL] = {.title = "SV_LOGIN", .width = 8, .prio = 45, .right = true, .numeric = true},
    [P_MAXW] = {.title = "MAXWAIT", .width = 7, .prio = 98, .right = true, .numeric = true},
    [P_MODE] = {.title = "MODE", .width = 11, .prio = 50},
};

enum { Q_DB, Q_XACT, Q_QUERY, Q_IN, Q_OUT, Q_XT, Q_QT, Q_WAIT, Q_N };
static const struct colspec stat_cols[Q_N] = {
    [Q_DB] = {.title = "DATABASE", .width = 22, .prio = 100, .flex = true},
    [Q_XACT] = {.title = "XACT/s", .width = 8, .prio = 99, .right = true, .numeric = true},
    [Q_QUERY] = {.title = "QUERY/s", .width = 8, .prio = 95, .right = true, .numeric = true},
    [Q_IN] = {.title = "IN/s", .width = 8, .prio = 80, .right = true, .numeric = true},
    [Q_OUT] = {.title = "OUT/s", .width = 8, .prio = 80, .right = true, .numeric = true},
    [Q_XT] = {.title = "XACT AVG", .width = 8, .prio = 60, .right = true, .numeric = true},
    [Q_QT] = {.title = "QUERY AVG", .width = 9, .prio = 55, .right = true, .numeric = true},
    [Q_WAIT] = {.title = "WAIT AVG", .width = 8, .prio = 90, .right = true, .numeric = true},
};

static void count_cell(char *out, long v)
{
    if (v < 0)
        snprintf(out, 128, "-");
    else
        snprintf(out, 128, "%ld", v);
}

/* Microseconds, as pgBouncer counts time: "850us", "12.5ms", "3.2s". */
static void us_cell(char *out, double us)
{
    if (isnan(us))
        snprintf(out, 128, "n/a");
    else if (us < 1000)
        snprintf(out, 128, "%.0fus", us);
    else if (us < 1e6)
        snprintf(out, 128, "%.1fms", us / 1000);
    else
        fmt_age(out, 128, us / 1e6);
}

static void pool_row_cells(const struct pool_row *p, char (*cells)[128], enum sev *sev)
{
    char db[64], user[64];
    name_cell(db, sizeof db, p->database);
    name_cell(user, sizeof user, p->user);
    snprintf(cells[P_POOL], 128, "%s/%s", db, user);
    count_cell(cells[P_CLA], p->cl_active);
    count_cell(cells[P_CLW], p->cl_waiting);
    count_cell(cells[P_SVA], p->sv_active);
    count_cell(cells[P_SVI], p->sv_idle);
    count_cell(cells[P_SVU], p->sv_used);
    count_cell(cells[P_SVT], p->sv_tested);
    count_cell(cells[P_SVL], p->sv_login);
    if (isnan(p->maxwait_s))
        snprintf(cells[P_MAXW], 128, "-");
    else
        fmt_age(cells[P_MAXW], 128, p->maxwait_s);
    if (p->pool_mode)
        esc_into(cells[P_MODE], 128, p->pool_mode, 1);
    else
        snprintf(cells[P_MODE], 128, "-");
    enum sev sv = health_pool(p);
    for (int c = 0; c < P_N; c++)
        sev[c] = SEV_NONE;
    sev[P_POOL] = sev[P_CLW] = sev[P_MAXW] = sv;
}

/* "clients 8 active 3 waiting  servers 5 active 0 idle 0 used  maxwait 2.1s" */
static void pooler_summary(struct doc *d, const struct s_pools *p)
{
    struct pool_sum t = pool_totals(p);
    size_t y = d->n;
    char age[32];
    int x = doc_add(d, y, 4, SEV_NONE, "clients %ld active", t.cl_active);
    x = doc_add(d, y, x + 1, t.worst, "%ld waiting", t.cl_waiting);
    x = doc_add(d, y, x + 2, SEV_NONE, "servers %ld active %ld idle %ld used", t.sv_active, t.sv_idle, t.sv_used);
    doc_add(d, y, x + 2, t.worst, "maxwait %s", fmt_age(age, sizeof age, t.maxwait_s));
}

static void pools_table(struct doc *d, const struct s_pools *p)
{
    int x[P_N], wd[P_N];
    fit(pool_cols, P_N, 4, d->width - 4, x, wd);
    doc_head(d, d->n, 4, pool_cols, P_N, x, wd);
    size_t shown = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (pool_admin_db(p->rows[i].database))
            continue;
        char cells[P_N][128];
        enum sev sev[P_N];
        pool_row_cells(&p->rows[i], cells, sev);
        put_row(d, d->n, pool_cols, P_N, x, wd, cells, sev);
        shown++;
    }
    if (!shown)
        doc_add(d, d->n, 4, SEV_DIM, "no pools yet (a pool appears with its first client)");
}

static void stats_table(struct doc *d, const struct s_poolstats *st)
{
    int x[Q_N], wd[Q_N];
    size_t any = 0;
    for (size_t i = 0; i < st->n; i++)
        any += !pool_admin_db(st->rows[i].database);
    if (!any)
        return;
    fit(stat_cols, Q_N, 4, d->width - 4, x, wd);
    doc_head(d, d->n, 4, stat_cols, Q_N, x, wd);
    for (size_t i = 0; i < st->n; i++) {
        const struct poolstat_row *r = &st->rows[i];
        if (pool_admin_db(r->database))
            continue;
        char cells[Q_N][128];
        enum sev sev[Q_N] = {0};
        name_cell(cells[Q_DB], 128, r->database);
        fmt_count(cells[Q_XACT], 128, r->xacts_s);
        fmt_count(cells[Q_QUERY], 128, r->queries_s);
        fmt_bytes(cells[Q_IN], 128, r->recv_s);
        fmt_bytes(cells[Q_OUT], 128, r->sent_s);
        us_cell(cells[Q_XT], r->xact_us);
        us_cell(cells[Q_QT], r->query_us);
        us_cell(cells[Q_WAIT], r->wait_us);
        if (!isnan(r->wait_us) && r->wait_us > HEALTH_POOL_WAIT_CRIT_S * 1e6)
            sev[Q_WAIT] = SEV_WARN;
        put_row(d, d->n, stat_cols, Q_N, x, wd, cells, sev);
    }
}

static void pooler_section(struct doc *d, const struct model *m, const struct server *s)
{
    size_t y = d->n;
    char name[128];
    esc_into(name, sizeof name, s->conf->name, 1);
    int x = doc_add(d, y, 2, DS_HEAD, "%s", name);
    x = doc_add(d, y, x + 2, SEV_NONE, "pgbouncer");
    x = doc_add(d, y, x + 2, health_status(s->status), "%s", srv_status_name(s->status));
    if (s->pooler && s->pooler->nserves) {
        struct text t;
        text_init(&t);
        for (size_t i = 0; i < s->pooler->nserves; i++) {
            char e[128];
            esc_into(e, sizeof e, s->pooler->serves[i], 1);
            text_printf(&t, "%s%s", i ? ", " : "", e);
        }
        x = doc_add(d, y, x + 2, SEV_DIM, "serves %s", t.s);
        text_free(&t);
    }
    if (s->reason[0]) {
        char why[320];
        esc_into(why, sizeof why, s->reason, 1);
        doc_add(d, y, x + 2, health_status(s->status), "%s", why);
    }
    (void)m;
    const struct s_pools *p = SAMPLE_POOLS(s->cur);
    const struct s_poolstats *st = SAMPLE_POOLSTATS(s->cur);
    if (s->status == SRV_DOWN || s->status == SRV_CONNECTING)
        return;
    if (!p) {
        const char *why = s->cur ? s->cur->err[PROBE_POOLS] : NULL;
        char e[300];
        esc_into(e, sizeof e, why ? why : "no data yet", 1);
        doc_add(d, d->n, 4, SEV_DIM, "SHOW POOLS: %s", e);
        return;
    }
    pooler_summary(d, p);
    pools_table(d, p);
    if (st)
        stats_table(d, st);
    else if (s->cur && s->cur->err[PROBE_POOLSTATS]) {
        char e[300];
        esc_into(e, sizeof e, s->cur->err[PROBE_POOLSTATS], 1);
        doc_add(d, d->n, 4, SEV_DIM, "SHOW STATS: %s", e);
    }
}

/* ---------------------------------------------------------------------------- the fleet */

/* The first server in the fleet (config order) that the pooler serves, or -1. */
static long home_of(const struct model *m, const struct server *pooler)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->servers[i].kind == KIND_POSTGRES && pooler_serves(pooler, m->servers[i].conf->name))
            return (long)i;
    return -1;
}

static void blank(struct doc *d)
{
    if (d->n)
        doc_line(d, d->n);
}

/* Every server in config order, each followed by the poolers that serve it (a pooler serving
 * several shows under the first); poolers that serve none of them come last. With a scope: that
 * server and its poolers, or that pooler alone. */
static void build(const struct model *m, long scope, struct cdoc *cd)
{
    struct doc *d = cd->d;
    for (size_t i = 0; i < m->n; i++) {
        const struct server *s = &m->servers[i];
        if (s->kind != KIND_POSTGRES)
            continue;
        if (scope >= 0 && (size_t)scope != i)
            continue;
        blank(d);
        server_section(cd, s);
        for (size_t k = 0; k < m->n; k++) {
            const struct server *p = &m->servers[k];
            if (p->kind != KIND_PGBOUNCER)
                continue;
            if (scope >= 0 ? !pooler_serves(p, s->conf->name) : home_of(m, p) != (long)i)
                continue;
            doc_line(d, d->n);
            pooler_section(d, m, p);
        }
    }
    for (size_t k = 0; k < m->n; k++) {
        const struct server *p = &m->servers[k];
        if (p->kind != KIND_PGBOUNCER)
            continue;
        if (scope >= 0 ? (size_t)scope != k : home_of(m, p) >= 0)
            continue;
        blank(d);
        pooler_section(d, m, p);
    }
    if (!d->n)
        doc_add(d, 0, 2, SEV_DIM, "no server in scope");
}

void conn_view(const struct model *m, long scope, bool text, struct doc *d)
{
    struct cdoc cd = {d, !text && scope < 0 && m->n > 1 ? TOP_ALL : CONN_TOP, &m->cfg->th};
    d->trim = true;
    build(m, scope, &cd);
}

void conn_text(const struct model *m, FILE *out)
{
    struct doc d = {.width = TEXT_WIDTH};
    conn_view(m, -1, true, &d);
    fprintf(out, "CONNECTIONS\n");
    doc_write(&d, out);
    doc_free(&d);
}
