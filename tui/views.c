/* views.c — the cells of the Fleet and Activity tables (escaped text plus a severity each),
 * and the activity list's filter and sort. Pure: the panes and
 * the text snapshot call these, the unit tests too. */
#include "tui/views.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "core/versions.h"
#include "probes/sec_connections.h"
#include "probes/sec_io.h"
#include "probes/sec_progress.h"
#include "probes/sec_replication.h"
#include "tui/doc.h"

const struct colspec fleet_cols[FC_N] = {
    [FC_SERVER] = {.title = "SERVER", .width = 18, .prio = 100, .keep = true},
    [FC_ROLE] = {.title = "ROLE", .width = 9, .prio = 90},
    [FC_VERSION] = {.title = "VERSION", .width = 11, .prio = 40},
    [FC_STATUS] = {.title = "STATUS", .width = 10, .prio = 100, .keep = true},
    [FC_CONNS] = {.title = "CONNS", .width = 9, .prio = 80, .right = true, .numeric = true},
    [FC_ACTIVE] = {.title = "ACTIVE", .width = 6, .prio = 70, .right = true, .numeric = true},
    [FC_WAITING] = {.title = "BLOCKED", .width = 7, .prio = 85, .right = true, .numeric = true},
    [FC_IDLEX] = {.title = "IDLE-TX", .width = 7, .prio = 50, .right = true, .numeric = true},
    [FC_LONGEST] = {.title = "LONGEST", .width = 8, .prio = 75, .right = true, .numeric = true},
    [FC_LAG] = {.title = "REPL LAG", .width = 12, .prio = 78, .right = true, .numeric = true},
    [FC_TPS] = {.title = "TPS", .width = 7, .prio = 60, .right = true, .numeric = true},
    [FC_HIT] = {.title = "HIT%", .width = 6, .prio = 55, .right = true, .numeric = true},
    [FC_WAL] = {.title = "WAL/s", .width = 7, .prio = 35, .right = true, .numeric = true},
    [FC_PROGRESS] = {.title = "PROG", .width = 4, .prio = 20, .right = true, .numeric = true},
    /* the first to go on a narrow screen; absent while the fleet has no restore test record */
    [FC_RESTORE] = {.title = "RESTORE", .width = 10, .prio = 15, .optional = true},
    [FC_TAGS] = {.title = "TAGS", .width = 14, .prio = 45},
    [FC_REASON] = {.title = "NOTE", .width = 10, .prio = 95, .flex = true},
};

const struct colspec act_cols[AC_N] = {
    [AC_SERVER] = {.title = "SERVER", .width = 14, .prio = 90},
    [AC_PID] = {.title = "PID", .width = 7, .prio = 100, .right = true, .numeric = true},
    [AC_DB] = {.title = "DATABASE", .width = 10, .prio = 45},
    [AC_USER] = {.title = "USER", .width = 10, .prio = 70},
    [AC_APP] = {.title = "APP", .width = 14, .prio = 62},
    [AC_CLIENT] = {.title = "CLIENT", .width = 15, .prio = 30},
    [AC_STATE] = {.title = "STATE", .width = 13, .prio = 95},
    [AC_WAIT] = {.title = "WAIT", .width = 16, .prio = 80},
    [AC_XACT] = {.title = "XACT", .width = 7, .prio = 65, .right = true, .numeric = true},
    [AC_QAGE] = {.title = "QUERY AGE", .width = 9, .prio = 98, .right = true, .numeric = true},
    [AC_QUERY] = {.title = "QUERY", .width = 24, .prio = 99, .flex = true},
};

bool contains_ci(const char *hay, const char *needle)
{
    if (!needle || !*needle)
        return true;
    if (!hay)
        return false;
    return strcasestr(hay, needle) != NULL;
}

bool server_matches(const struct server *s, const char *filter)
{
    if (contains_ci(s->conf->name, filter))
        return true;
    for (size_t i = 0; i < s->conf->ntags; i++)
        if (contains_ci(s->conf->tags[i], filter))
            return true;
    return false;
}

/* Runs of white space collapsed (queries are often indented SQL), then escaped (doc.h). */
static void cell_text(char *dst, const char *src) { one_line(dst, CELL_MAX, src); }

/* A figure's cell is coloured only when health finds it at fault (WARN or CRIT). */
static enum sev alarm(enum sev l) { return l == SEV_WARN || l == SEV_CRIT ? l : SEV_NONE; }

static enum sev age_alarm(double s, int64_t warn_ms) { return alarm(health_age(s, warn_ms)); }

/* A pooler's row: its clients in CONNS, server connections in use in ACTIVE, clients waiting
 * for a server in BLOCKED (the pooler's own pile-up), the longest wait, transactions/s. */
static void pooler_cells(const struct server *s, const struct health *h, cell_t *c, enum sev *sev)
{
    char tmp[64];
    snprintf(c[FC_ROLE], CELL_MAX, "%s", "pgbouncer");
    const struct s_pools *p = SAMPLE_POOLS(s->cur);
    if (!p || s->status == SRV_DOWN)
        return;
    long clients = 0, waiting = 0, active = 0;
    double maxwait = NAN, tps = NAN;
    for (size_t i = 0; i < p->n; i++) {
        if (p->rows[i].database && strcmp(p->rows[i].database, "pgbouncer") == 0)
            continue; /* the admin console */
        clients += (p->rows[i].cl_active > 0 ? p->rows[i].cl_active : 0) +
            (p->rows[i].cl_waiting > 0 ? p->rows[i].cl_waiting : 0);
        waiting += p->rows[i].cl_waiting > 0 ? p->rows[i].cl_waiting : 0;
        active += p->rows[i].sv_active > 0 ? p->rows[i].sv_active : 0;
        if (!isnan(p->rows[i].maxwait_s) && (isnan(maxwait) || p->rows[i].maxwait_s > maxwait))
            maxwait = p->rows[i].maxwait_s;
    }
    const struct s_poolstats *st = SAMPLE_POOLSTATS(s->cur);
    for (size_t i = 0; st && i < st->n; i++)
        if (!isnan(st->rows[i].xacts_s) && strcmp(st->rows[i].database ? st->rows[i].database : "", "pgbouncer") != 0)
            tps = isnan(tps) ? st->rows[i].xacts_s : tps + st->rows[i].xacts_s;
    snprintf(c[FC_CONNS], CELL_MAX, "%ld", clients);
    snprintf(c[FC_ACTIVE], CELL_MAX, "%ld", active);
    snprintf(c[FC_WAITING], CELL_MAX, "%ld", waiting);
    sev[FC_WAITING] = alarm(h->v[HF_POOL_WAIT].level);
    if (!isnan(maxwait) && maxwait > 0)
        snprintf(c[FC_LONGEST], CELL_MAX, "%s", fmt_age(tmp, sizeof tmp, maxwait));
    snprintf(c[FC_TPS], CELL_MAX, "%s", isnan(tps) ? "n/a" : fmt_count(tmp, sizeof tmp, tps));
    if (sev[FC_WAITING] != SEV_NONE) {
        snprintf(c[FC_REASON], CELL_MAX, "%s", h->v[HF_POOL_WAIT].reason);
        sev[FC_REASON] = sev[FC_WAITING];
    }
}

/* RESTORE: the age of the last good restore test ("3d"), "FAILED 2d" when the newest failed,
 * "never"; empty when not judged (a pooler, a fleet without records). */
static void restore_cell(const struct health *h, cell_t c, enum sev *sev)
{
    const struct health_in *in = &h->in;
    enum sev l = h->v[HF_RESTORE].level;
    char a[32];
    if (l == SEV_NONE)
        return;
    const struct restore_status *st = in->restore;
    if (st && st->last_failed)
        snprintf(c, CELL_MAX, "FAILED %s", fmt_age_coarse(a, sizeof a, difftime(in->now, st->last_run)));
    else if (!st || st->last_ok <= 0)
        snprintf(c, CELL_MAX, "never");
    else
        snprintf(c, CELL_MAX, "%s", fmt_age_coarse(a, sizeof a, difftime(in->now, st->last_ok)));
    *sev = alarm(l);
}

void fleet_cells(const struct model *m, const struct server *s, cell_t *c, enum sev *sev)
{
    const struct s_server *ss = SAMPLE_SERVER(s->cur);
    bool live = ss && s->status != SRV_DOWN;
    char tmp[64];
    struct health h;
    health_of(m, s, &h);
    for (int i = 0; i < FC_N; i++) {
        c[i][0] = '\0';
        sev[i] = SEV_NONE;
    }
    cell_text(c[FC_SERVER], s->conf->name);
    struct text tags;
    text_init(&tags);
    for (size_t i = 0; i < s->conf->ntags; i++)
        text_printf(&tags, "%s%s", i ? "," : "", s->conf->tags[i]);
    cell_text(c[FC_TAGS], tags.s);
    text_free(&tags);
    snprintf(c[FC_STATUS], CELL_MAX, "%s", srv_status_name(s->status));
    sev[FC_STATUS] = h.v[HF_STATUS].level;
    restore_cell(&h, c[FC_RESTORE], &sev[FC_RESTORE]); /* a DOWN server's backups count too */
    if (s->status == SRV_DOWN || s->status == SRV_STALE) {
        cell_text(c[FC_REASON], s->reason);
        sev[FC_REASON] = sev[FC_STATUS];
    }
    if (s->kind == KIND_PGBOUNCER) {
        pooler_cells(s, &h, c, sev);
        return;
    }
    if (!live) {
        if (ss) /* what we last knew, dimmed */
            snprintf(c[FC_ROLE], CELL_MAX, "%s", ss->in_recovery ? "replica" : "primary");
        sev[FC_ROLE] = SEV_DIM;
        return;
    }
    snprintf(c[FC_ROLE], CELL_MAX, "%s", ss->in_recovery ? "replica" : "primary");
    cell_text(c[FC_VERSION], ss->version);
    if (pg_is_eol(ss->version_num, time(NULL))) {
        /* no more fixes, security ones included: say so where the version is */
        char v[24];
        esc_cols(v, sizeof v, ss->version ? ss->version : "?", 1, 20);
        snprintf(c[FC_VERSION], CELL_MAX, "%s EOL", v);
        sev[FC_VERSION] = SEV_WARN;
    }
    snprintf(c[FC_CONNS], CELL_MAX, "%ld/%d", h.in.conns_used, h.in.conns_usable);
    sev[FC_CONNS] = alarm(h.v[HF_CONNS].level);
    snprintf(c[FC_ACTIVE], CELL_MAX, "%d", ss->active);
    snprintf(c[FC_WAITING], CELL_MAX, "%d", ss->waiting_lock);
    sev[FC_WAITING] = alarm(h.v[HF_BLOCKED].level);
    snprintf(c[FC_IDLEX], CELL_MAX, "%d", ss->idle_in_xact);
    sev[FC_IDLEX] = alarm(h.v[HF_IDLE_XACT].level);
    snprintf(c[FC_LONGEST], CELL_MAX, "%s",
             isnan(ss->longest_query_s) ? "-" : fmt_age(tmp, sizeof tmp, ss->longest_query_s));
    sev[FC_LONGEST] = alarm(h.v[HF_LONGEST].level);
    snprintf(c[FC_TPS], CELL_MAX, "%s", isnan(ss->tps) ? "n/a" : fmt_count(tmp, sizeof tmp, ss->tps));
    if (isnan(ss->cache_hit_pct))
        snprintf(c[FC_HIT], CELL_MAX, "n/a");
    else
        snprintf(c[FC_HIT], CELL_MAX, "%.1f", ss->cache_hit_pct);
    sev[FC_HIT] = alarm(h.v[HF_CACHE].level);
    /* the worst replica's lag (a primary) or its own (a replica): bytes, and time */
    double lag = h.in.lag_bytes, lag_s = h.in.lag_s;
    if (!isnan(lag)) {
        char b[32], a[32];
        snprintf(c[FC_LAG], CELL_MAX, "%s%s%s", fmt_bytes(b, sizeof b, lag), isnan(lag_s) ? "" : " ",
                 isnan(lag_s) ? "" : fmt_age(a, sizeof a, lag_s));
        sev[FC_LAG] = alarm(h.v[HF_LAG].level);
    }
    double wal = io_wal_bytes_per_s(s);
    snprintf(c[FC_WAL], CELL_MAX, "%s", isnan(wal) ? "n/a" : fmt_bytes(tmp, sizeof tmp, wal));
    int prog = progress_count(s); /* vacuums, index builds, base backups… running now */
    if (prog > 0)
        snprintf(c[FC_PROGRESS], CELL_MAX, "%d", prog);
    /* the note: transaction ID wraparound, then a failing archiver, said over it */
    static const enum health_fig notes[] = {HF_XID, HF_ARCHIVER};
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++)
        if (alarm(h.v[notes[i]].level) != SEV_NONE) {
            snprintf(c[FC_REASON], CELL_MAX, "%s", h.v[notes[i]].reason);
            sev[FC_REASON] = h.v[notes[i]].level;
        }
    if (s->status == SRV_UP && s->cur->err[PROBE_ACTIVITY]) {
        char *raw = xasprintf("activity: %s", s->cur->err[PROBE_ACTIVITY]);
        cell_text(c[FC_REASON], raw);
        free(raw);
        sev[FC_REASON] = SEV_WARN;
    }
}

size_t fleet_view(const struct model *m, const char *filter, size_t *order)
{
    fleet_order(m, order);
    if (!filter || !*filter)
        return m->n;
    size_t n = 0;
    cell_t c[FC_N];
    enum sev sev[FC_N];
    for (size_t i = 0; i < m->n; i++) {
        const struct server *s = &m->servers[order[i]];
        bool hit = server_matches(s, filter);
        fleet_cells(m, s, c, sev);
        for (int k = 0; k < FC_N && !hit; k++)
            hit = contains_ci(c[k], filter);
        if (hit)
            order[n++] = order[i];
    }
    return n;
}

const struct activity_row *act_row(const struct model *m, const struct act_ref *r)
{
    const struct s_activity *a = SAMPLE_ACTIVITY(m->servers[r->server].cur);
    return a && r->row < a->n ? &a->rows[r->row] : NULL;
}

static const char *short_state(const char *st)
{
    if (!st)
        return "";
    if (strcmp(st, "idle in transaction") == 0)
        return "idle in txn";
    if (strcmp(st, "idle in transaction (aborted)") == 0)
        return "idle txn abrt";
    return st;
}

void act_cells(const struct model *m, const struct act_ref *ref, cell_t *c, enum sev *sev)
{
    const struct thresholds *th = &m->cfg->th;
    const struct activity_row *r = act_row(m, ref);
    char tmp[CELL_MAX];
    for (int i = 0; i < AC_N; i++) {
        c[i][0] = '\0';
        sev[i] = SEV_NONE;
    }
    if (!r)
        return;
    cell_text(c[AC_SERVER], m->servers[ref->server].conf->name);
    snprintf(c[AC_PID], CELL_MAX, "%d", r->pid);
    cell_text(c[AC_DB], r->datname);
    cell_text(c[AC_USER], r->usename);
    cell_text(c[AC_APP], r->application_name);
    cell_text(c[AC_CLIENT], r->client);
    if (r->state)
        cell_text(c[AC_STATE], short_state(r->state));
    else
        cell_text(c[AC_STATE], r->backend_type);
    bool idle_tx = r->state && strncmp(r->state, "idle in transaction", 19) == 0;
    if (idle_tx)
        sev[AC_STATE] = age_alarm(r->state_age, th->idle_in_transaction_ms) == SEV_NONE ? SEV_WARN : SEV_CRIT;
    else if (r->state && strcmp(r->state, "idle") == 0)
        sev[AC_STATE] = SEV_DIM;
    if (r->wait_event_type) {
        snprintf(tmp, sizeof tmp, "%s:%s", r->wait_event_type, r->wait_event ? r->wait_event : "");
        cell_text(c[AC_WAIT], tmp);
        if (strcmp(r->wait_event_type, "Lock") == 0)
            sev[AC_WAIT] = SEV_CRIT;
    }
    snprintf(c[AC_XACT], CELL_MAX, "%s", isnan(r->xact_age) ? "" : fmt_age(tmp, sizeof tmp, r->xact_age));
    sev[AC_XACT] = idle_tx ? age_alarm(r->xact_age, th->idle_in_transaction_ms) : SEV_NONE;
    bool active = r->state && strcmp(r->state, "active") == 0;
    snprintf(c[AC_QAGE], CELL_MAX, "%s", isnan(r->query_age) ? "" : fmt_age(tmp, sizeof tmp, r->query_age));
    if (active)
        sev[AC_QAGE] = age_alarm(r->query_age, th->slow_query_ms);
    cell_text(c[AC_QUERY], r->query);
}

/* ---- filter and sort ---- */

struct sort_ctx {
    const struct model *m;
    int col;
    bool desc;
};

static double num_key(const struct activity_row *r, int col)
{
    switch (col) {
    case AC_PID: return r->pid;
    case AC_XACT: return r->xact_age;
    case AC_QAGE: return r->query_age;
    default: return NAN;
    }
}

static const char *str_key(const struct model *m, const struct act_ref *ref, const struct activity_row *r, int col)
{
    switch (col) {
    case AC_SERVER: return m->servers[ref->server].conf->name;
    case AC_DB: return r->datname;
    case AC_USER: return r->usename;
    case AC_APP: return r->application_name;
    case AC_CLIENT: return r->client;
    case AC_STATE: return r->state ? r->state : r->backend_type;
    case AC_WAIT: return r->wait_event_type;
    case AC_QUERY: return r->query;
    default: return NULL;
    }
}

static int cmp_ref(const struct sort_ctx *cx, const struct act_ref *a, const struct act_ref *b)
{
    const struct activity_row *ra = act_row(cx->m, a), *rb = act_row(cx->m, b);
    int d = 0;
    if (act_cols[cx->col].numeric) {
        double x = num_key(ra, cx->col), y = num_key(rb, cx->col);
        /* missing values sort last whichever the direction; two missing ones tie */
        if (isnan(x) != isnan(y))
            return isnan(x) ? 1 : -1;
        d = x < y ? -1 : x > y;
    } else {
        const char *x = str_key(cx->m, a, ra, cx->col), *y = str_key(cx->m, b, rb, cx->col);
        if (!x != !y)
            return !x - !y;
        d = x ? strcasecmp(x, y) : 0;
    }
    if (cx->desc)
        d = -d;
    if (d == 0) /* stable tie-break: server, then pid */
        d = a->server != b->server ? (a->server < b->server ? -1 : 1) : (ra->pid > rb->pid) - (ra->pid < rb->pid);
    return d;
}

static int cmp_any(const void *a, const void *b, const void *cx) { return cmp_ref(cx, a, b); }

size_t act_view(const struct model *m, const struct act_query *q, struct act_ref **out)
{
    size_t n = 0, cap = 64;
    struct act_ref *v = xmalloc(cap * sizeof *v);
    for (size_t s = 0; s < m->n; s++) {
        if (q->scope >= 0 && (size_t)q->scope != s)
            continue;
        const struct server *srv = &m->servers[s];
        const struct s_activity *a = SAMPLE_ACTIVITY(srv->cur);
        if (!a || srv->status == SRV_DOWN)
            continue;
        for (size_t r = 0; r < a->n; r++) {
            const struct activity_row *row = &a->rows[r];
            if (!q->idle && row->state && strcmp(row->state, "idle") == 0)
                continue;
            struct act_ref ref = {s, r};
            if (q->filter && *q->filter) {
                cell_t cells[AC_N];
                enum sev sev[AC_N];
                bool hit = false;
                act_cells(m, &ref, cells, sev);
                /* the whole text, not the cell; and the server's name or tags */
                hit = contains_ci(row->query, q->filter) || server_matches(srv, q->filter);
                for (int c = 0; c < AC_N && !hit; c++)
                    hit = contains_ci(cells[c], q->filter);
                if (!hit)
                    continue;
            }
            if (n == cap) {
                cap *= 2;
                v = xreallocarray(v, cap, sizeof *v);
            }
            v[n++] = ref;
        }
    }
    struct sort_ctx cx = {m, q->sort_col >= 0 && q->sort_col < AC_N ? q->sort_col : AC_QAGE, q->desc};
    sort_stable(v, n, sizeof *v, cmp_any, &cx);
    *out = v;
    return n;
}
