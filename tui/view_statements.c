/* view_statements.c — what pane 7, Statements, lists, free of curses: the statements that kept
 * the fleet's servers busiest over the last interval (pg_stat_statements deltas, not lifetime
 * totals), across the fleet or for the scoped server, filtered and sorted; their cells; the
 * one-line reason of each server without figures (not installed, no privilege, collecting); a
 * statement's identity; and the text snapshot's STATEMENTS and PROGRESS sections (JSON
 * `statements[]` and `progress[]`: probes/snapjson_statements.c). The pane draws the list. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/sec_progress.h"
#include "tui/doc.h"
#include "tui/sections.h"
#include "tui/view_statements.h"

#define TEXT_TOP 50 /* statements per server in the text snapshot */

const struct colspec stmt_cols[SC_N] = {
    [SC_SERVER] = {.title = "SERVER", .width = 14, .prio = 90},
    [SC_DB] = {.title = "DB", .width = 10, .prio = 60},
    [SC_USER] = {.title = "USER", .width = 10, .prio = 55},
    [SC_LOAD] = {.title = "LOAD", .width = 6, .prio = 100, .right = true, .numeric = true},
    [SC_CALLS] = {.title = "CALLS/s", .width = 7, .prio = 95, .right = true, .numeric = true},
    [SC_MEAN] = {.title = "MEAN", .width = 7, .prio = 92, .right = true, .numeric = true},
    [SC_MAX] = {.title = "LIFEMAX", .width = 7, .prio = 40, .right = true, .numeric = true},
    [SC_ROWS] = {.title = "ROWS/s", .width = 6, .prio = 50, .right = true, .numeric = true},
    [SC_HIT] = {.title = "HIT%", .width = 5, .prio = 65, .right = true, .numeric = true},
    [SC_READ] = {.title = "READ/s", .width = 6, .prio = 70, .right = true, .numeric = true},
    [SC_TEMP] = {.title = "TEMP/s", .width = 6, .prio = 45, .right = true, .numeric = true},
    [SC_QUERY] = {.title = "QUERY", .width = 24, .prio = 99, .flex = true},
};

const struct stmt_row *stmt_ref_row(const struct model *m, const struct stmt_ref *r)
{
    const struct s_statements *st = r->server < m->n ? SAMPLE_STATEMENTS(m->servers[r->server].cur) : NULL;
    return st && r->row < st->n ? &st->rows[r->row] : NULL;
}

/* ---- figures as text ---- */

char *stmt_fmt_ms(char *buf, size_t len, double ms)
{
    if (!isfinite(ms))
        snprintf(buf, len, "n/a");
    else if (ms > 0 && ms < 0.01)
        snprintf(buf, len, "<0.01ms");
    else if (ms < 10)
        snprintf(buf, len, "%.2fms", ms);
    else if (ms < 1000)
        snprintf(buf, len, "%.0fms", ms);
    else
        fmt_age(buf, len, ms / 1000);
    return buf;
}

/* Load as a share of one core: 1000 ms of statement time per second is 100%. */
char *stmt_fmt_load(char *buf, size_t len, double ms_s)
{
    if (!isfinite(ms_s))
        snprintf(buf, len, "n/a");
    else
        snprintf(buf, len, ms_s >= 9995 ? "%.0f%%" : "%.1f%%", ms_s / 10);
    return buf;
}

char *stmt_fmt_rate(char *buf, size_t len, double v)
{
    if (isfinite(v) && v > 0 && v < 0.05) { /* rare but not never */
        snprintf(buf, len, "<0.1");
        return buf;
    }
    return fmt_count(buf, len, v);
}

void stmt_query_label(const struct stmt_row *r, char *buf, size_t len)
{
    if (!r->has_queryid)
        snprintf(buf, len,
                 "<insufficient privilege> (%d entr%s of other users; pg_read_all_stats"
                 " shows them)",
                 r->merged, r->merged == 1 ? "y" : "ies");
    else if (!r->query)
        snprintf(buf, len, "queryid %lld (text not fetched: outside the top %d by lifetime time)", r->queryid,
                 STMT_TEXT_TOP);
    else
        snprintf(buf, len, "%s%.*s", r->toplevel ? "" : "(nested) ", CELL_MAX, r->query);
}

void stmt_cells(const struct model *m, const struct stmt_ref *ref, cell_t *c, enum sev *sev)
{
    const struct thresholds *th = &m->cfg->th;
    const struct stmt_row *r = stmt_ref_row(m, ref);
    char raw[CELL_MAX + 64];
    for (int i = 0; i < SC_N; i++) {
        c[i][0] = '\0';
        sev[i] = SEV_NONE;
    }
    if (!r)
        return;
    one_line(c[SC_SERVER], CELL_MAX, m->servers[ref->server].conf->name);
    one_line(c[SC_DB], CELL_MAX, r->datname);
    one_line(c[SC_USER], CELL_MAX, r->rolname);
    stmt_fmt_load(c[SC_LOAD], CELL_MAX, r->load_ms_s);
    sev[SC_LOAD] = r->load_ms_s >= 1000 ? SEV_CRIT : r->load_ms_s >= 250 ? SEV_WARN : SEV_NONE;
    stmt_fmt_rate(c[SC_CALLS], CELL_MAX, r->calls_s);
    stmt_fmt_ms(c[SC_MEAN], CELL_MAX, r->mean_ms);
    double slow = (double)th->slow_query_ms;
    sev[SC_MEAN] = r->mean_ms >= 2 * slow ? SEV_CRIT : r->mean_ms >= slow ? SEV_WARN : SEV_NONE;
    stmt_fmt_ms(c[SC_MAX], CELL_MAX, r->max_ms);
    sev[SC_MAX] = r->max_ms >= slow ? SEV_WARN : SEV_NONE;
    stmt_fmt_rate(c[SC_ROWS], CELL_MAX, r->rows_s);
    if (isnan(r->hit_pct))
        snprintf(c[SC_HIT], CELL_MAX, "-");
    else
        snprintf(c[SC_HIT], CELL_MAX, "%.1f", r->hit_pct);
    sev[SC_HIT] = r->hit_pct < th->cache_hit_pct ? SEV_WARN : SEV_NONE;
    stmt_fmt_rate(c[SC_READ], CELL_MAX, r->read_s);
    stmt_fmt_rate(c[SC_TEMP], CELL_MAX, r->temp_s);
    sev[SC_TEMP] = r->temp_s > 0 ? SEV_WARN : SEV_NONE; /* sorts and hashes spilling to disk */
    stmt_query_label(r, raw, sizeof raw);
    one_line(c[SC_QUERY], CELL_MAX, raw);
    if (!r->has_queryid || !r->query)
        sev[SC_QUERY] = SEV_DIM;
}

/* ---- the view: which rows, filtered and sorted ---- */

struct sort_ctx {
    const struct model *m;
    int col;
    bool desc;
};

static double num_key(const struct stmt_row *r, int col)
{
    switch (col) {
    case SC_LOAD: return r->load_ms_s;
    case SC_CALLS: return r->calls_s;
    case SC_MEAN: return r->mean_ms;
    case SC_MAX: return r->max_ms;
    case SC_ROWS: return r->rows_s;
    case SC_HIT: return r->hit_pct;
    case SC_READ: return r->read_s;
    case SC_TEMP: return r->temp_s;
    default: return NAN;
    }
}

static const char *str_key(const struct model *m, const struct stmt_ref *ref, const struct stmt_row *r, int col)
{
    switch (col) {
    case SC_SERVER: return m->servers[ref->server].conf->name;
    case SC_DB: return r->datname;
    case SC_USER: return r->rolname;
    case SC_QUERY: return r->query;
    default: return NULL;
    }
}

static int cmp_ref(const struct sort_ctx *cx, const struct stmt_ref *a, const struct stmt_ref *b)
{
    const struct stmt_row *ra = stmt_ref_row(cx->m, a), *rb = stmt_ref_row(cx->m, b);
    int d = 0;
    if (stmt_cols[cx->col].numeric) {
        double x = num_key(ra, cx->col), y = num_key(rb, cx->col);
        if (isnan(x) != isnan(y)) /* unknowns last, whichever the direction */
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
    if (d == 0) /* stable between refreshes: busiest first, then server order */
        d = ra->load_ms_s != rb->load_ms_s ? (ra->load_ms_s < rb->load_ms_s ? 1 : -1)
            : a->server != b->server       ? (a->server < b->server ? -1 : 1)
                                           : (a->row > b->row) - (a->row < b->row);
    return d;
}

static int cmp_any(const void *a, const void *b, const void *cx) { return cmp_ref(cx, a, b); }

static bool matches(const struct model *m, const struct stmt_ref *ref, const struct stmt_row *r, const char *f)
{
    if (!f || !*f)
        return true;
    char label[CELL_MAX + 64];
    stmt_query_label(r, label, sizeof label);
    return server_matches(&m->servers[ref->server], f) || contains_ci(r->datname, f) || contains_ci(r->rolname, f) ||
        contains_ci(r->query, f) || contains_ci(label, f);
}

static bool shows(const struct model *m, const struct server *s)
{
    return s->kind == KIND_POSTGRES && s->status != SRV_DOWN && !statements_unavailable(m, s);
}

size_t stmt_view(const struct model *m, const struct stmt_query *q, struct stmt_ref **out)
{
    size_t n = 0, cap = 64;
    struct stmt_ref *v = xmalloc(cap * sizeof *v);
    for (size_t i = 0; i < m->n; i++) {
        const struct server *s = &m->servers[i];
        if ((q->scope >= 0 && (size_t)q->scope != i) || !shows(m, s))
            continue;
        const struct s_statements *st = SAMPLE_STATEMENTS(s->cur);
        for (size_t k = 0; k < st->ntop && k < q->per_server; k++) {
            struct stmt_ref ref = {i, st->top[k]};
            if (!matches(m, &ref, &st->rows[ref.row], q->filter))
                continue;
            if (n == cap)
                v = xreallocarray(v, cap *= 2, sizeof *v);
            v[n++] = ref;
        }
    }
    struct sort_ctx cx = {m, q->sort_col >= 0 && q->sort_col < SC_N ? q->sort_col : SC_LOAD, q->desc};
    sort_stable(v, n, sizeof *v, cmp_any, &cx);
    *out = v;
    return n;
}

/* ---- identity ---- */

static bool row_is(const struct stmt_id *id, const struct stmt_row *r)
{
    return r->has_queryid == id->has_queryid && r->queryid == id->queryid && r->toplevel == id->toplevel &&
        strcmp(r->datname ? r->datname : "", id->datname) == 0 &&
        strcmp(r->rolname ? r->rolname : "", id->rolname) == 0;
}

void stmt_id_of(const struct model *m, const struct stmt_ref *ref, struct stmt_id *out)
{
    const struct stmt_row *r = stmt_ref_row(m, ref);
    memset(out, 0, sizeof *out);
    out->server = ref->server;
    if (!r)
        return;
    out->has_queryid = r->has_queryid;
    out->queryid = r->queryid;
    out->toplevel = r->toplevel;
    snprintf(out->datname, sizeof out->datname, "%s", r->datname ? r->datname : "");
    snprintf(out->rolname, sizeof out->rolname, "%s", r->rolname ? r->rolname : "");
}

bool stmt_id_is(const struct model *m, const struct stmt_id *id, const struct stmt_ref *ref)
{
    const struct stmt_row *r = stmt_ref_row(m, ref);
    return r && ref->server == id->server && row_is(id, r);
}

const struct stmt_row *stmt_find(const struct model *m, const struct stmt_id *id)
{
    const struct s_statements *st = id->server < m->n ? SAMPLE_STATEMENTS(m->servers[id->server].cur) : NULL;
    for (size_t i = 0; st && i < st->n; i++)
        if (row_is(id, &st->rows[i]))
            return &st->rows[i];
    return NULL;
}

/* ---- servers without figures ---- */

int stmt_notes(const struct model *m, long scope, char (*out)[CELL_MAX], int max)
{
    int n = 0;
    for (size_t i = 0; i < m->n && n < max; i++) {
        const struct server *s = &m->servers[i];
        if ((scope >= 0 && (size_t)scope != i) || s->kind != KIND_POSTGRES)
            continue;
        const char *why = s->status == SRV_DOWN ? "server is DOWN" : statements_unavailable(m, s);
        if (!why)
            continue;
        char *raw = xasprintf("%s: %s", s->conf->name, why);
        one_line(out[n++], CELL_MAX, raw);
        free(raw);
    }
    return n;
}

/* ---- the text snapshot's sections ---- */

static void text_notes(const struct model *m, FILE *out)
{
    char(*note)[CELL_MAX] = xcalloc(m->n + 1, sizeof *note);
    int nn = stmt_notes(m, -1, note, (int)m->n);
    for (int i = 0; i < nn; i++)
        fprintf(out, "  %s\n", note[i]);
    free(note);
}

enum { PC_SERVER, PC_PID, PC_COMMAND, PC_PHASE, PC_RELATION, PC_PROGRESS, PC_PCT, PC_ETA, PC_N };
static const struct colspec pcols[PC_N] = {
    [PC_SERVER] = {.title = "SERVER", .width = 14, .prio = 90},
    [PC_PID] = {.title = "PID", .width = 7, .prio = 100, .right = true, .numeric = true},
    [PC_COMMAND] = {.title = "COMMAND", .width = 12, .prio = 95},
    [PC_PHASE] = {.title = "PHASE", .width = 20, .prio = 80},
    [PC_RELATION] = {.title = "RELATION", .width = 20, .prio = 70},
    [PC_PROGRESS] = {.title = "DONE/TOTAL", .width = 16, .prio = 60, .right = true},
    [PC_PCT] = {.title = "%", .width = 5, .prio = 85, .right = true, .numeric = true},
    [PC_ETA] = {.title = "PHASE ETA", .width = 9, .prio = 50, .right = true, .numeric = true},
};

static void progress_cells(const struct model *m, size_t si, const struct progress_row *r, cell_t *c)
{
    char a[32], b[32];
    bool bytes = r->unit && strcmp(r->unit, "bytes") == 0;
    one_line(c[PC_SERVER], CELL_MAX, m->servers[si].conf->name);
    snprintf(c[PC_PID], CELL_MAX, "%d", r->pid);
    one_line(c[PC_COMMAND], CELL_MAX, r->command);
    one_line(c[PC_PHASE], CELL_MAX, r->phase ? r->phase : "?");
    one_line(c[PC_RELATION], CELL_MAX, r->relation ? r->relation : "");
    if (isnan(r->done))
        snprintf(c[PC_PROGRESS], CELL_MAX, "-");
    else {
        char unit[48];
        esc_cols(unit, sizeof unit, bytes || !r->unit ? "" : r->unit, 1, 10);
        snprintf(c[PC_PROGRESS], CELL_MAX, "%s/%s %s",
                 bytes ? fmt_bytes(a, sizeof a, r->done) : fmt_count(a, sizeof a, r->done),
                 r->total > 0 ? (bytes ? fmt_bytes(b, sizeof b, r->total) : fmt_count(b, sizeof b, r->total)) : "?",
                 unit);
    }
    if (isnan(r->pct))
        snprintf(c[PC_PCT], CELL_MAX, "-");
    else
        snprintf(c[PC_PCT], CELL_MAX, "%.1f", r->pct);
    snprintf(c[PC_ETA], CELL_MAX, "%s", isnan(r->eta_s) ? "-" : fmt_age(a, sizeof a, r->eta_s));
}

static void progress_text(const struct model *m, FILE *out)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++)
        n += (size_t)progress_count(&m->servers[i]);
    fprintf(out, "PROGRESS (%zu)\n", n);
    cell_t *cells = xcalloc(n * PC_N + 1, sizeof *cells);
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        const struct s_progress *p = progress_count(&m->servers[i]) ? SAMPLE_PROGRESS(m->servers[i].cur) : NULL;
        for (size_t j = 0; p && j < p->n && k < n; j++)
            progress_cells(m, i, &p->rows[j], &cells[k++ * PC_N]);
    }
    text_table(out, pcols, PC_N, cells, k);
    free(cells);
}

void stmt_text(const struct model *m, FILE *out)
{
    struct stmt_query q = {.scope = -1, .sort_col = SC_LOAD, .desc = true, .per_server = TEXT_TOP};
    struct stmt_ref *refs;
    size_t n = stmt_view(m, &q, &refs);
    fprintf(out, "STATEMENTS (%zu, busiest over the interval; LOAD is %% of one core, LIFEMAX the lifetime maximum)\n",
            n);
    cell_t *cells = xcalloc(n * SC_N + 1, sizeof *cells);
    enum sev sev[SC_N];
    for (size_t i = 0; i < n; i++)
        stmt_cells(m, &refs[i], &cells[i * SC_N], sev);
    text_table(out, stmt_cols, SC_N, cells, n);
    text_notes(m, out);
    free(cells);
    free(refs);
    fputc('\n', out);
    progress_text(m, out);
}
