/* pane_connections.c — pane 5, Connections: per server (all, or the scoped one) a bar of the
 * client backends against max_connections minus the reserved slots, who holds them (by state,
 * database, user, application and client: small tables side by side as the width allows), and
 * the sessions idle in a transaction with their ages; under each server, the pgBouncers that
 * serve it, with their pools (clients active and waiting, server connections, longest wait) and
 * per-database rates. The pane is a document built from the model and scrolled; the text
 * snapshot prints the same document at a fixed width. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tui/screen.h"
#include "probes/sec_connections.h"

/* ts.sel is the first line shown: the pane scrolls, it has no row to act on. */
static struct table_state ts = {.sort_col = -1};

#define TEXT_WIDTH 120    /* the text snapshot's page width */
#define GROUP_MIN_W 22    /* narrowest breakdown table */
#define GROUP_GAP 2
#define TOP_ALL 5         /* values per breakdown when every server is shown */

/* Styles of a segment: a severity (enum sev), or one of these. */
enum { ST_HEAD = 10, ST_COLS = 11 };

struct seg {
    int x, style;
    char *s;
};

struct dline {
    struct seg *seg;
    int n, cap;
};

struct doc {
    struct dline *l;
    size_t n, cap;
    int width;
    int top;              /* values shown per breakdown */
    const struct thresholds *th;
};

/* ------------------------------------------------------------------------------ the document */

/* A copy of s cut to at most w columns, never inside a character. */
static char *clip(const char *s, int w) { return xstrndup(s, str_fit(s, w)); }

static struct dline *line_at(struct doc *d, size_t y)
{
    while (d->n <= y) {
        if (d->n == d->cap) {
            d->cap = d->cap ? d->cap * 2 : 64;
            d->l = xreallocarray(d->l, d->cap, sizeof *d->l);
        }
        memset(&d->l[d->n++], 0, sizeof *d->l);
    }
    return &d->l[y];
}

/* Text s (already escaped) at column x of line y, cut to w columns and to the page. */
static void put(struct doc *d, size_t y, int x, int w, int style, const char *s)
{
    struct dline *l = line_at(d, y);
    if (x >= d->width || w <= 0)
        return;
    if (x + w > d->width)
        w = d->width - x;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->seg = xreallocarray(l->seg, (size_t)l->cap, sizeof *l->seg);
    }
    l->seg[l->n++] = (struct seg){x, style, clip(s, w)};
}

static void put_r(struct doc *d, size_t y, int x, int w, int style, const char *s)
{
    int sw = str_cols(s);
    put(d, y, sw < w ? x + w - sw : x, w, style, s);
}

/* Appends to line y after what it holds; returns the column after the text. */
static int add(struct doc *d, size_t y, int x, int style, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int add(struct doc *d, size_t y, int x, int style, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    put(d, y, x, d->width - x, style, buf);
    return x + str_cols(buf);
}

static void doc_free(struct doc *d)
{
    for (size_t i = 0; i < d->n; i++) {
        for (int k = 0; k < d->l[i].n; k++)
            free(d->l[i].seg[k].s);
        free(d->l[i].seg);
    }
    free(d->l);
}

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
 * is left. x[c] < 0 for a dropped column. */
static void fit(const struct colspec *cols, int n, int width, int *x, int *wd)
{
    unsigned flex = 0;
    for (int c = 0; c < n; c++) {
        wd[c] = cols[c].width;
        flex |= cols[c].flex ? 1u << c : 0;
    }
    /* a space between columns, none after the last: as if the row were one column wider */
    table_fit(cols, n, width + 1, flex, true, 0, x, wd);
}

/* The title row of a table as one segment (titles are ASCII), so that the text form, which
 * places segments side by side, prints it whole. */
static void put_head(struct doc *d, size_t y, int x0, int width, const struct colspec *cols, int n,
                     const int *x, const int *wd)
{
    char bar[512];
    width = width < 511 ? width : 511;
    memset(bar, ' ', (size_t)width);
    bar[width] = '\0';
    for (int c = 0; c < n; c++) {
        if (x[c] < 0)
            continue;
        int len = (int)strlen(cols[c].title), at = x[c];
        if (len > wd[c])
            len = wd[c];
        if (cols[c].right)
            at += wd[c] - len;
        if (at + len <= width)
            memcpy(bar + at, cols[c].title, (size_t)len);
    }
    put(d, y, x0, width, ST_COLS, bar);
}

static void put_row(struct doc *d, size_t y, int x0, const struct colspec *cols, int n, const int *x,
                    const int *wd, char (*cells)[128], const enum sev *sev)
{
    for (int c = 0; c < n; c++)
        if (x[c] >= 0)
            (cols[c].right ? put_r : put)(d, y, x0 + x[c], wd[c], sev[c], cells[c]);
}

/* Severities are health.c's; an idle session's age is coloured only once it is at fault. */
static enum sev idle_sev(double s, const struct thresholds *th)
{
    enum sev l = health_age(s, th->idle_in_transaction_ms);
    return l == SEV_OK ? SEV_NONE : l;
}

/* pgBouncer's own console shows up as a pool "pgbouncer"; it is no one's workload. */
static bool admin_db(const char *db) { return db && strcmp(db, "pgbouncer") == 0; }

/* ------------------------------------------------------------------------ server section */

static void server_title(struct doc *d, const struct server *s)
{
    size_t y = d->n;
    char name[128];
    esc_into(name, sizeof name, s->conf->name, 1);
    int x = add(d, y, 0, ST_HEAD, "%s", name);
    const struct s_server *ss = SAMPLE_SERVER(s->cur);
    if (s->kind == KIND_PGBOUNCER)
        x = add(d, y, x + 2, SEV_NONE, "pgbouncer");
    else if (ss) {
        char v[64];
        esc_into(v, sizeof v, ss->version, 1);
        x = add(d, y, x + 2, SEV_NONE, "%s %s", srv_role(s), v);
    }
    x = add(d, y, x + 2, health_status(s->status), "%s", srv_status_name(s->status));
    if (s->reason[0]) {
        char why[320];
        esc_into(why, sizeof why, s->reason, 1);
        add(d, y, x + 2, health_status(s->status), "%s", why);
    }
}

/* "used 12/297 [####......] 4%" and the figures beside it. */
static void usage_line(struct doc *d, const struct s_connections *c)
{
    size_t y = d->n;
    int usable = conn_usable(c);
    double pct = conn_used_pct(c);
    enum sev sv = health_conns(pct, d->th);
    int x = add(d, y, 2, SEV_NONE, "used");
    x = add(d, y, x + 1, sv, "%ld/%d", c->used, usable);
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
    x = add(d, y, x + 1, SEV_NONE, "[");
    x = add(d, y, x, sv, "%s", hashes);
    x = add(d, y, x, SEV_DIM, "%s", dots);
    x = add(d, y, x, SEV_NONE, "]");
    if (isnan(pct))
        x = add(d, y, x + 1, SEV_DIM, "n/a");
    else
        x = add(d, y, x + 1, sv, "%.0f%%", pct);
    x = add(d, y, x + 3, c->waiting ? SEV_WARN : SEV_NONE, "waiting on locks %ld", c->waiting);
    x = add(d, y, x + 3, SEV_DIM, "max %d - reserved %d", c->max_connections,
            c->superuser_reserved + c->reserved);
    add(d, y, x + 3, SEV_DIM, "ours %ld", c->own);
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
static int group_table(struct doc *d, size_t y0, int x, int w, enum conn_breakdown b,
                       const struct conn_group *g)
{
    char title[32];
    snprintf(title, sizeof title, "%s", conn_breakdown_name(b));
    for (char *p = title; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    char bar[128];
    snprintf(bar, sizeof bar, "%-*s%5s", w - 5 > 0 ? w - 5 : 0, title, "N");
    put(d, y0, x, w, ST_COLS, bar);
    size_t shown = g->ntop < (size_t)d->top ? g->ntop : (size_t)d->top;
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
        put(d, y0 + (size_t)h, x, w - 6, g->top[i].name ? SEV_NONE : SEV_DIM, name);
        put_r(d, y0 + (size_t)h, x + w - 5, 5, SEV_NONE, n);
    }
    if (other > 0) {
        char label[64], n[24];
        long more = g->nkeys - (long)shown;
        if (more > 0)
            snprintf(label, sizeof label, "other (%ld value%s)", more, more == 1 ? "" : "s");
        else
            snprintf(label, sizeof label, "other");
        snprintf(n, sizeof n, "%ld", other);
        put(d, y0 + (size_t)h, x, w - 6, SEV_DIM, label);
        put_r(d, y0 + (size_t)h, x + w - 5, 5, SEV_DIM, n);
        h++;
    }
    return h;
}

/* The five breakdowns side by side, as many per row as the width holds. */
static void breakdowns(struct doc *d, const struct s_connections *c)
{
    int width = d->width - 2;
    int k = (width + GROUP_GAP) / (GROUP_MIN_W + GROUP_GAP);
    k = k < 1 ? 1 : k > CB_N ? CB_N : k;
    int tw = (width - GROUP_GAP * (k - 1)) / k;
    for (int b0 = 0; b0 < CB_N; b0 += k) {
        size_t y0 = d->n;
        int hmax = 0;
        for (int b = b0; b < b0 + k && b < CB_N; b++) {
            int h = group_table(d, y0, 2 + (b - b0) * (tw + GROUP_GAP), tw, (enum conn_breakdown)b,
                                &c->by[b]);
            hmax = h > hmax ? h : hmax;
        }
        line_at(d, y0 + (size_t)hmax); /* a blank line under the row of tables */
    }
}

enum { I_PID, I_USER, I_DB, I_APP, I_CLIENT, I_STATE, I_IDLE, I_XACT, I_XMIN, I_N };
static const struct colspec iit_cols[I_N] = {
    [I_PID] = {"PID", 7, 100, true, false, true},
    [I_USER] = {"USER", 14, 80, false, false, false},
    [I_DB] = {"DATABASE", 14, 70, false, false, false},
    [I_APP] = {"APPLICATION", 18, 60, false, true, false},
    [I_CLIENT] = {"CLIENT", 15, 40, false, false, false},
    [I_STATE] = {"STATE", 7, 30, false, false, false},
    [I_IDLE] = {"IDLE", 8, 99, true, false, true},
    [I_XACT] = {"XACT AGE", 8, 90, true, false, true},
    [I_XMIN] = {"XMIN AGE", 8, 50, true, false, true},
};

static void iit_row(struct doc *d, size_t y, const int *x, const int *wd, const struct conn_iit *r)
{
    char cells[I_N][128];
    enum sev sev[I_N];
    enum sev sv = idle_sev(r->idle_s, d->th);
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
    sev[I_XACT] = idle_sev(r->xact_s, d->th);
    put_row(d, y, 2, iit_cols, I_N, x, wd, cells, sev);
}

static void iit_list(struct doc *d, const struct s_connections *c)
{
    if (c->niit_total == 0) {
        add(d, d->n, 2, SEV_DIM, "no session idle in a transaction");
        return;
    }
    add(d, d->n, 2, ST_HEAD, "idle in transaction: %ld session%s%s", c->niit_total,
        c->niit_total == 1 ? "" : "s", c->niit_total > 1 ? ", oldest first" : "");
    int x[I_N], wd[I_N];
    fit(iit_cols, I_N, d->width - 2, x, wd);
    put_head(d, d->n, 2, d->width - 2, iit_cols, I_N, x, wd);
    for (size_t i = 0; i < c->niit; i++)
        iit_row(d, d->n, x, wd, &c->iit[i]);
    if (c->niit_total > (long)c->niit)
        add(d, d->n, 2, SEV_DIM, "... and %ld more", c->niit_total - (long)c->niit);
}

static void server_section(struct doc *d, const struct server *s)
{
    server_title(d, s);
    const struct s_connections *c = SAMPLE_CONNECTIONS(s->cur);
    if (s->status == SRV_DOWN || s->status == SRV_CONNECTING)
        return;
    if (!c) {
        const char *why = s->cur ? s->cur->err[PROBE_CONNECTIONS] : NULL;
        char e[300];
        esc_into(e, sizeof e, why ? why : "no data yet", 1);
        add(d, d->n, 2, SEV_DIM, "connections: %s", e);
        return;
    }
    usage_line(d, c);
    if (c->sessions == 0) { /* five empty tables say less than one line */
        add(d, d->n, 2, SEV_DIM, "no client session besides ours");
        return;
    }
    line_at(d, d->n);
    breakdowns(d, c);
    iit_list(d, c);
}

/* ------------------------------------------------------------------------ pooler section */

enum { P_POOL, P_CLA, P_CLW, P_SVA, P_SVI, P_SVU, P_SVT, P_SVL, P_MAXW, P_MODE, P_N };
static const struct colspec pool_cols[P_N] = {
    [P_POOL] = {"POOL (DATABASE/USER)", 22, 100, false, true, false},
    [P_CLA] = {"CL_ACT", 6, 95, true, false, true},
    [P_CLW] = {"CL_WAIT", 7, 99, true, false, true},
    [P_SVA] = {"SV_ACT", 6, 90, true, false, true},
    [P_SVI] = {"SV_IDLE", 7, 85, true, false, true},
    [P_SVU] = {"SV_USED", 7, 70, true, false, true},
    [P_SVT] = {"SV_TEST", 7, 40, true, false, true},
    [P_SVL] = {"SV_LOGIN", 8, 45, true, false, true},
    [P_MAXW] = {"MAXWAIT", 7, 98, true, false, true},
    [P_MODE] = {"MODE", 11, 50, false, false, false},
};

enum { Q_DB, Q_XACT, Q_QUERY, Q_IN, Q_OUT, Q_XT, Q_QT, Q_WAIT, Q_N };
static const struct colspec stat_cols[Q_N] = {
    [Q_DB] = {"DATABASE", 22, 100, false, true, false},
    [Q_XACT] = {"XACT/s", 8, 99, true, false, true},
    [Q_QUERY] = {"QUERY/s", 8, 95, true, false, true},
    [Q_IN] = {"IN/s", 8, 80, true, false, true},
    [Q_OUT] = {"OUT/s", 8, 80, true, false, true},
    [Q_XT] = {"XACT AVG", 8, 60, true, false, true},
    [Q_QT] = {"QUERY AVG", 9, 55, true, false, true},
    [Q_WAIT] = {"WAIT AVG", 8, 90, true, false, true},
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

/* A pooler's pools added up, the console's left out; worst is the most severe pool's severity. */
struct pool_sum {
    long cl_active, cl_waiting, sv_active, sv_idle, sv_used;
    double maxwait_s;
    enum sev worst;
};

static long pos(long v) { return v > 0 ? v : 0; }

static struct pool_sum pool_totals(const struct s_pools *p)
{
    struct pool_sum t = {0};
    for (size_t i = 0; i < p->n; i++) {
        const struct pool_row *r = &p->rows[i];
        if (admin_db(r->database))
            continue;
        t.cl_active += pos(r->cl_active);
        t.cl_waiting += pos(r->cl_waiting);
        t.sv_active += pos(r->sv_active);
        t.sv_idle += pos(r->sv_idle);
        t.sv_used += pos(r->sv_used);
        if (!isnan(r->maxwait_s) && r->maxwait_s > t.maxwait_s)
            t.maxwait_s = r->maxwait_s;
        if (health_pool(r) > t.worst)
            t.worst = health_pool(r);
    }
    return t;
}

/* "clients 8 active 3 waiting  servers 5 active 0 idle 0 used  maxwait 2.1s" */
static void pooler_summary(struct doc *d, const struct s_pools *p)
{
    struct pool_sum t = pool_totals(p);
    size_t y = d->n;
    char age[32];
    int x = add(d, y, 4, SEV_NONE, "clients %ld active", t.cl_active);
    x = add(d, y, x + 1, t.worst, "%ld waiting", t.cl_waiting);
    x = add(d, y, x + 2, SEV_NONE, "servers %ld active %ld idle %ld used", t.sv_active, t.sv_idle,
            t.sv_used);
    add(d, y, x + 2, t.worst, "maxwait %s", fmt_age(age, sizeof age, t.maxwait_s));
}

static void pools_table(struct doc *d, const struct s_pools *p)
{
    int x[P_N], wd[P_N];
    fit(pool_cols, P_N, d->width - 4, x, wd);
    put_head(d, d->n, 4, d->width - 4, pool_cols, P_N, x, wd);
    size_t shown = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (admin_db(p->rows[i].database))
            continue;
        char cells[P_N][128];
        enum sev sev[P_N];
        pool_row_cells(&p->rows[i], cells, sev);
        put_row(d, d->n, 4, pool_cols, P_N, x, wd, cells, sev);
        shown++;
    }
    if (!shown)
        add(d, d->n, 4, SEV_DIM, "no pools yet (a pool appears with its first client)");
}

static void stats_table(struct doc *d, const struct s_poolstats *st)
{
    int x[Q_N], wd[Q_N];
    size_t any = 0;
    for (size_t i = 0; i < st->n; i++)
        any += !admin_db(st->rows[i].database);
    if (!any)
        return;
    fit(stat_cols, Q_N, d->width - 4, x, wd);
    put_head(d, d->n, 4, d->width - 4, stat_cols, Q_N, x, wd);
    for (size_t i = 0; i < st->n; i++) {
        const struct poolstat_row *r = &st->rows[i];
        if (admin_db(r->database))
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
        put_row(d, d->n, 4, stat_cols, Q_N, x, wd, cells, sev);
    }
}

static void pooler_section(struct doc *d, const struct model *m, const struct server *s)
{
    size_t y = d->n;
    char name[128];
    esc_into(name, sizeof name, s->conf->name, 1);
    int x = add(d, y, 2, ST_HEAD, "%s", name);
    x = add(d, y, x + 2, SEV_NONE, "pgbouncer");
    x = add(d, y, x + 2, health_status(s->status), "%s", srv_status_name(s->status));
    if (s->pooler && s->pooler->nserves) {
        struct text t;
        text_init(&t);
        for (size_t i = 0; i < s->pooler->nserves; i++) {
            char e[128];
            esc_into(e, sizeof e, s->pooler->serves[i], 1);
            text_printf(&t, "%s%s", i ? ", " : "", e);
        }
        x = add(d, y, x + 2, SEV_DIM, "serves %s", t.s);
        text_free(&t);
    }
    if (s->reason[0]) {
        char why[320];
        esc_into(why, sizeof why, s->reason, 1);
        add(d, y, x + 2, health_status(s->status), "%s", why);
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
        add(d, d->n, 4, SEV_DIM, "SHOW POOLS: %s", e);
        return;
    }
    pooler_summary(d, p);
    pools_table(d, p);
    if (st)
        stats_table(d, st);
    else if (s->cur && s->cur->err[PROBE_POOLSTATS]) {
        char e[300];
        esc_into(e, sizeof e, s->cur->err[PROBE_POOLSTATS], 1);
        add(d, d->n, 4, SEV_DIM, "SHOW STATS: %s", e);
    }
}

/* ---------------------------------------------------------------------------- the fleet */

static bool serves(const struct server *pooler, const char *name)
{
    for (size_t i = 0; pooler->pooler && i < pooler->pooler->nserves; i++)
        if (strcmp(pooler->pooler->serves[i], name) == 0)
            return true;
    return false;
}

/* The first server in the fleet (config order) that the pooler serves, or -1. */
static long home_of(const struct model *m, const struct server *pooler)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->servers[i].kind == KIND_POSTGRES && serves(pooler, m->servers[i].conf->name))
            return (long)i;
    return -1;
}

static void blank(struct doc *d)
{
    if (d->n)
        line_at(d, d->n);
}

/* Every server in config order, each followed by the poolers that serve it (a pooler serving
 * several shows under the first); poolers that serve none of them come last. With a scope: that
 * server and its poolers, or that pooler alone. */
static void build(const struct model *m, long scope, struct doc *d)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct server *s = &m->servers[i];
        if (s->kind != KIND_POSTGRES)
            continue;
        if (scope >= 0 && (size_t)scope != i)
            continue;
        blank(d);
        server_section(d, s);
        for (size_t k = 0; k < m->n; k++) {
            const struct server *p = &m->servers[k];
            if (p->kind != KIND_PGBOUNCER)
                continue;
            if (scope >= 0 ? !serves(p, s->conf->name) : home_of(m, p) != (long)i)
                continue;
            line_at(d, d->n);
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
        add(d, 0, 2, SEV_DIM, "no server in scope");
}

/* -------------------------------------------------------------------------------- drawing */

static attr_t style_attr(int style)
{
    if (style == ST_HEAD)
        return theme(TH_HEADER);
    if (style == ST_COLS)
        return theme(TH_TITLE);
    return theme_sev((enum sev)style);
}

static void conn_draw(struct tui *t, WINDOW *w)
{
    int h, width;
    getmaxyx(w, h, width);
    bool all = t->scope < 0;
    struct doc d = {.width = width, .top = all && t->m->n > 1 ? TOP_ALL : CONN_TOP, .th = &t->m->cfg->th};
    build(t->m, t->scope, &d);
    int last = (int)d.n > h ? (int)d.n - h : 0;
    if (ts.sel > last)
        ts.sel = last;
    if (ts.sel < 0)
        ts.sel = 0;
    for (int y = 0; y < h && (size_t)(ts.sel + y) < d.n; y++) {
        const struct dline *l = &d.l[ts.sel + y];
        for (int k = 0; k < l->n; k++)
            put_clipped(w, y, l->seg[k].x, width - l->seg[k].x, l->seg[k].s, style_attr(l->seg[k].style));
    }
    if (ts.sel > 0 || (size_t)(ts.sel + h) < d.n) {
        char more[48];
        snprintf(more, sizeof more, " %d-%d/%zu ", ts.sel + 1, ts.sel + h < (int)d.n ? ts.sel + h : (int)d.n, d.n);
        put_clipped(w, 0, width - (int)strlen(more), (int)strlen(more), more, theme(TH_DIM));
    }
    doc_free(&d);
}

/* ----------------------------------------------------------------------------- snapshots */

static void conn_text(const struct model *m, FILE *out)
{
    struct doc d = {.width = TEXT_WIDTH, .top = CONN_TOP, .th = &m->cfg->th};
    build(m, -1, &d);
    fprintf(out, "CONNECTIONS\n");
    for (size_t i = 0; i < d.n; i++) {
        const struct dline *l = &d.l[i];
        struct text t;
        text_init(&t);
        int col = 0;
        /* segments may come in any order (tables side by side): place them by column */
        for (int pass = 0; pass < l->n; pass++) {
            int best = -1;
            for (int k = 0; k < l->n; k++)
                if (l->seg[k].x >= col && (best < 0 || l->seg[k].x < l->seg[best].x))
                    best = k;
            if (best < 0)
                break;
            text_printf(&t, "%*s%s", l->seg[best].x - col, "", l->seg[best].s);
            col = l->seg[best].x + str_cols(l->seg[best].s);
        }
        while (t.len && t.s[t.len - 1] == ' ')
            t.s[--t.len] = '\0';
        fprintf(out, "%s\n", t.s ? t.s : "");
        text_free(&t);
    }
    doc_free(&d);
}

static json_t *group_json(const struct conn_group *g)
{
    json_t *a = json_array();
    for (size_t i = 0; i < g->ntop; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "name", jstr(g->top[i].name));
        json_object_set_new(e, "count", json_integer(g->top[i].n));
        json_array_append_new(a, e);
    }
    if (g->other > 0) {
        json_t *e = json_object();
        json_object_set_new(e, "name", json_null());
        json_object_set_new(e, "other", json_true());
        json_object_set_new(e, "values", json_integer(g->nkeys - (long)g->ntop));
        json_object_set_new(e, "count", json_integer(g->other));
        json_array_append_new(a, e);
    }
    return a;
}

static json_t *iit_json(const struct conn_iit *r)
{
    json_t *e = json_object();
    json_object_set_new(e, "pid", json_integer(r->pid));
    json_object_set_new(e, "user", jstr(r->usename));
    json_object_set_new(e, "database", jstr(r->datname));
    json_object_set_new(e, "application_name", jstr(r->application_name));
    json_object_set_new(e, "client", jstr(r->client));
    json_object_set_new(e, "state", jstr(r->state));
    json_object_set_new(e, "idle_s", jnum(r->idle_s));
    json_object_set_new(e, "xact_age_s", jnum(r->xact_s));
    json_object_set_new(e, "xmin_age", r->xmin_age >= 0 ? json_integer(r->xmin_age) : json_null());
    return e;
}

/* Adds to the "connections" object the Fleet pane wrote (its pane's JSON runs first). */
static void server_json(const struct model *m, const struct server *s, json_t *o)
{
    const struct s_connections *c = SAMPLE_CONNECTIONS(s->cur);
    if (!c || s->status == SRV_DOWN)
        return;
    json_t *j = json_object_get(o, "connections");
    if (!j) {
        j = json_object();
        json_object_set_new(o, "connections", j);
    }
    static const char *const keys[CB_N] = {
        [CB_STATE] = "by_state", [CB_DATABASE] = "by_database", [CB_USER] = "by_user",
        [CB_APPLICATION] = "by_application", [CB_CLIENT] = "by_client",
    };
    json_object_set_new(j, "superuser_reserved_connections", json_integer(c->superuser_reserved));
    json_object_set_new(j, "reserved_connections", json_integer(c->reserved));
    json_object_set_new(j, "usable_by_users", json_integer(conn_usable(c)));
    json_object_set_new(j, "own", json_integer(c->own));
    json_object_set_new(j, "sessions", json_integer(c->sessions));
    for (int b = 0; b < CB_N; b++)
        json_object_set_new(j, keys[b], group_json(&c->by[b]));
    json_t *a = json_array();
    for (size_t i = 0; i < c->niit; i++)
        json_array_append_new(a, iit_json(&c->iit[i]));
    json_object_set_new(j, "idle_in_transaction_sessions", a);
    json_object_set_new(j, "idle_in_transaction_total", json_integer(c->niit_total));
    json_t *pl = json_array();
    for (size_t k = 0; k < m->n; k++)
        if (m->servers[k].kind == KIND_PGBOUNCER && serves(&m->servers[k], s->conf->name))
            json_array_append_new(pl, jstr(m->servers[k].conf->name));
    json_object_set_new(j, "poolers", pl);
}

static json_t *count_json(long v) { return v < 0 ? json_null() : json_integer(v); }
static json_t *i64_json(int64_t v) { return v < 0 ? json_null() : json_integer(v); }

static json_t *pool_json(const struct pool_row *r)
{
    json_t *e = json_object();
    json_object_set_new(e, "database", jstr(r->database));
    json_object_set_new(e, "user", jstr(r->user));
    json_object_set_new(e, "cl_active", count_json(r->cl_active));
    json_object_set_new(e, "cl_waiting", count_json(r->cl_waiting));
    json_object_set_new(e, "cl_active_cancel_req", count_json(r->cl_active_cancel_req));
    json_object_set_new(e, "cl_waiting_cancel_req", count_json(r->cl_waiting_cancel_req));
    json_object_set_new(e, "sv_active", count_json(r->sv_active));
    json_object_set_new(e, "sv_idle", count_json(r->sv_idle));
    json_object_set_new(e, "sv_used", count_json(r->sv_used));
    json_object_set_new(e, "sv_tested", count_json(r->sv_tested));
    json_object_set_new(e, "sv_login", count_json(r->sv_login));
    json_object_set_new(e, "maxwait_s", jnum(r->maxwait_s));
    json_object_set_new(e, "pool_mode", jstr(r->pool_mode));
    json_object_set_new(e, "severity", json_string(health_pool(r) == SEV_CRIT ? "CRIT"
                                                   : health_pool(r) == SEV_WARN ? "WARN" : "OK"));
    return e;
}

static json_t *poolstat_json(const struct poolstat_row *r)
{
    json_t *e = json_object();
    json_object_set_new(e, "database", jstr(r->database));
    const struct { const char *k; int64_t v; } tot[] = {
        {"total_xact_count", r->xact_count}, {"total_query_count", r->query_count},
        {"total_received", r->received}, {"total_sent", r->sent},
        {"total_xact_time", r->xact_time}, {"total_query_time", r->query_time},
        {"total_wait_time", r->wait_time}, {"avg_xact_count", r->avg_xact_count},
        {"avg_query_count", r->avg_query_count}, {"avg_recv", r->avg_recv},
        {"avg_sent", r->avg_sent}, {"avg_xact_time", r->avg_xact_time},
        {"avg_query_time", r->avg_query_time}, {"avg_wait_time", r->avg_wait_time},
    };
    for (size_t i = 0; i < ARRAY_LEN(tot); i++)
        json_object_set_new(e, tot[i].k, i64_json(tot[i].v));
    json_object_set_new(e, "xacts_per_s", jnum(r->xacts_s));
    json_object_set_new(e, "queries_per_s", jnum(r->queries_s));
    json_object_set_new(e, "received_bytes_per_s", jnum(r->recv_s));
    json_object_set_new(e, "sent_bytes_per_s", jnum(r->sent_s));
    json_object_set_new(e, "xact_time_us", jnum(r->xact_us));
    json_object_set_new(e, "query_time_us", jnum(r->query_us));
    json_object_set_new(e, "wait_us_per_xact", jnum(r->wait_us));
    return e;
}

static void pooler_json(const struct server *s, json_t *o)
{
    json_t *sv = json_array();
    for (size_t i = 0; s->pooler && i < s->pooler->nserves; i++)
        json_array_append_new(sv, jstr(s->pooler->serves[i]));
    json_object_set_new(o, "serves", sv);
    const struct s_pools *p = SAMPLE_POOLS(s->cur);
    const struct s_poolstats *st = SAMPLE_POOLSTATS(s->cur);
    if (s->status == SRV_DOWN)
        return;
    if (p) {
        json_t *a = json_array();
        for (size_t i = 0; i < p->n; i++)
            json_array_append_new(a, pool_json(&p->rows[i]));
        json_object_set_new(o, "pools", a);
        struct pool_sum t = pool_totals(p);
        json_t *j = json_object();
        json_object_set_new(j, "cl_active", json_integer(t.cl_active));
        json_object_set_new(j, "cl_waiting", json_integer(t.cl_waiting));
        json_object_set_new(j, "sv_active", json_integer(t.sv_active));
        json_object_set_new(j, "sv_idle", json_integer(t.sv_idle));
        json_object_set_new(j, "sv_used", json_integer(t.sv_used));
        json_object_set_new(j, "maxwait_s", json_real(t.maxwait_s));
        json_object_set_new(o, "pool_totals", j);
    }
    if (st) {
        json_t *a = json_array();
        for (size_t i = 0; i < st->n; i++)
            json_array_append_new(a, poolstat_json(&st->rows[i]));
        json_object_set_new(o, "stats", a);
        json_object_set_new(o, "stats_interval_s", jnum(st->dt));
    }
}

static void conn_json(const struct model *m, const struct server *s, json_t *o)
{
    if (s->kind == KIND_PGBOUNCER)
        pooler_json(s, o);
    else
        server_json(m, s, o);
}

const struct pane_class pane_connections = {
    .name = "connections",
    .title = "Connections",
    .draw = conn_draw,
    .footer = "S scope  Up/Down scroll",
    .ts = &ts,
    .json = conn_json,
    .text = conn_text,
};
