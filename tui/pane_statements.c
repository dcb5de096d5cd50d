/* pane_statements.c — pane 7: the slow-query log. The statements that kept the fleet's servers
 * busiest over the last interval (from pg_stat_statements deltas, not lifetime totals), across
 * the fleet or for the scoped server, sortable and filtered; Enter opens the whole statement in
 * a view this pane draws itself (so screen.c needs no new modal). Servers without figures get a
 * one-line reason under the table (not installed, no privilege, collecting). The text snapshot
 * sections live here too (JSON `statements[]` and `progress[]`: probes/snapjson_statements.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tui/screen.h"
#include "tui/sections.h"
#include "probes/sec_progress.h"
#include "probes/sec_statements.h"

enum { SC_SERVER, SC_DB, SC_USER, SC_LOAD, SC_CALLS, SC_MEAN, SC_MAX, SC_ROWS, SC_HIT, SC_READ,
       SC_TEMP, SC_QUERY, SC_N };

static const struct colspec cols[SC_N] = {
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

/* Rows considered per server (busiest first) and shown in all: bounds the work of a frame
 * when thousands of entries were busy. */
#define PER_SERVER_MAX 500
#define VIEW_MAX 1000
#define TEXT_TOP 50

/* Busiest first, as top does. */
static struct table_state ts = {.sort_col = SC_LOAD, .desc = true};

struct sref {
    size_t server, row;
};

/* The statement view (Enter): which entry, found again by its key on every refresh. */
static struct {
    bool open;
    size_t server;
    bool has_queryid, toplevel;
    long long queryid;
    char datname[128], rolname[128];
    int scroll;
} det;

static const struct stmt_row *ref_row(const struct model *m, const struct sref *r)
{
    const struct s_statements *st = SAMPLE_STATEMENTS(m->servers[r->server].cur);
    return st && r->row < st->n ? &st->rows[r->row] : NULL;
}

/* ---- cells ---- */

static char *fmt_ms(char *buf, size_t len, double ms)
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
static char *fmt_load(char *buf, size_t len, double ms_s)
{
    if (!isfinite(ms_s))
        snprintf(buf, len, "n/a");
    else
        snprintf(buf, len, ms_s >= 9995 ? "%.0f%%" : "%.1f%%", ms_s / 10);
    return buf;
}

static char *fmt_rate(char *buf, size_t len, double v)
{
    if (isfinite(v) && v > 0 && v < 0.05) { /* rare but not never */
        snprintf(buf, len, "<0.1");
        return buf;
    }
    return fmt_count(buf, len, v);
}

/* What the QUERY cell says: the text, or why there is none. Raw (not escaped). */
static void query_label(const struct stmt_row *r, char *buf, size_t len)
{
    if (!r->has_queryid)
        snprintf(buf, len, "<insufficient privilege> (%d entr%s of other users; pg_read_all_stats"
                 " shows them)", r->merged, r->merged == 1 ? "y" : "ies");
    else if (!r->query)
        snprintf(buf, len, "queryid %lld (text not fetched: outside the top %d by lifetime time)",
                 r->queryid, STMT_TEXT_TOP);
    else
        snprintf(buf, len, "%s%.*s", r->toplevel ? "" : "(nested) ", CELL_MAX, r->query);
}

static void stmt_cells(const struct model *m, const struct sref *ref, cell_t *c, enum sev *sev)
{
    const struct thresholds *th = &m->cfg->th;
    const struct stmt_row *r = ref_row(m, ref);
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
    fmt_load(c[SC_LOAD], CELL_MAX, r->load_ms_s);
    sev[SC_LOAD] = r->load_ms_s >= 1000 ? SEV_CRIT : r->load_ms_s >= 250 ? SEV_WARN : SEV_NONE;
    fmt_rate(c[SC_CALLS], CELL_MAX, r->calls_s);
    fmt_ms(c[SC_MEAN], CELL_MAX, r->mean_ms);
    double slow = (double)th->slow_query_ms;
    sev[SC_MEAN] = r->mean_ms >= 2 * slow ? SEV_CRIT : r->mean_ms >= slow ? SEV_WARN : SEV_NONE;
    fmt_ms(c[SC_MAX], CELL_MAX, r->max_ms);
    sev[SC_MAX] = r->max_ms >= slow ? SEV_WARN : SEV_NONE;
    fmt_rate(c[SC_ROWS], CELL_MAX, r->rows_s);
    if (isnan(r->hit_pct))
        snprintf(c[SC_HIT], CELL_MAX, "-");
    else
        snprintf(c[SC_HIT], CELL_MAX, "%.1f", r->hit_pct);
    sev[SC_HIT] = r->hit_pct < th->cache_hit_pct ? SEV_WARN : SEV_NONE;
    fmt_rate(c[SC_READ], CELL_MAX, r->read_s);
    fmt_rate(c[SC_TEMP], CELL_MAX, r->temp_s);
    sev[SC_TEMP] = r->temp_s > 0 ? SEV_WARN : SEV_NONE; /* sorts and hashes spilling to disk */
    query_label(r, raw, sizeof raw);
    one_line(c[SC_QUERY], CELL_MAX, raw);
    if (!r->has_queryid || !r->query)
        sev[SC_QUERY] = SEV_DIM;
}

/* ---- the view: which rows, filtered and sorted ---- */

struct view_ctx {
    const struct model *m;
    int col;
    bool desc;
};
static struct view_ctx vctx; /* for qsort: one thread */

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

static const char *str_key(const struct model *m, const struct sref *ref, const struct stmt_row *r, int col)
{
    switch (col) {
    case SC_SERVER: return m->servers[ref->server].conf->name;
    case SC_DB: return r->datname;
    case SC_USER: return r->rolname;
    case SC_QUERY: return r->query;
    default: return NULL;
    }
}

static int cmp_sref(const void *pa, const void *pb)
{
    const struct sref *a = pa, *b = pb;
    const struct stmt_row *ra = ref_row(vctx.m, a), *rb = ref_row(vctx.m, b);
    int d = 0;
    if (cols[vctx.col].numeric) {
        double x = num_key(ra, vctx.col), y = num_key(rb, vctx.col);
        if (isnan(x) != isnan(y)) /* unknowns last, whichever the direction */
            return isnan(x) ? 1 : -1;
        d = x < y ? -1 : x > y;
    } else {
        const char *x = str_key(vctx.m, a, ra, vctx.col), *y = str_key(vctx.m, b, rb, vctx.col);
        if (!x != !y)
            return !x - !y;
        d = x ? strcasecmp(x, y) : 0;
    }
    if (vctx.desc)
        d = -d;
    if (d == 0) /* stable between refreshes: busiest first, then server order */
        d = ra->load_ms_s != rb->load_ms_s ? (ra->load_ms_s < rb->load_ms_s ? 1 : -1)
            : a->server != b->server      ? (a->server < b->server ? -1 : 1)
                                          : (a->row > b->row) - (a->row < b->row);
    return d;
}

static bool matches(const struct model *m, const struct sref *ref, const struct stmt_row *r, const char *f)
{
    if (!f || !*f)
        return true;
    char label[CELL_MAX + 64];
    query_label(r, label, sizeof label);
    return contains_ci(m->servers[ref->server].conf->name, f) || contains_ci(r->datname, f) ||
           contains_ci(r->rolname, f) || contains_ci(r->query, f) || contains_ci(label, f);
}

static bool shows(const struct model *m, const struct server *s)
{
    return s->kind == KIND_POSTGRES && s->status != SRV_DOWN && !statements_unavailable(m, s);
}

static size_t stmt_view(const struct model *m, const char *filter, long scope, int col, bool desc,
                        size_t per_server, struct sref **out)
{
    size_t n = 0, cap = 64;
    struct sref *v = xmalloc(cap * sizeof *v);
    for (size_t i = 0; i < m->n; i++) {
        const struct server *s = &m->servers[i];
        if ((scope >= 0 && (size_t)scope != i) || !shows(m, s))
            continue;
        const struct s_statements *st = SAMPLE_STATEMENTS(s->cur);
        for (size_t k = 0; k < st->ntop && k < per_server; k++) {
            struct sref ref = {i, st->top[k]};
            if (!matches(m, &ref, &st->rows[ref.row], filter))
                continue;
            if (n == cap)
                v = xreallocarray(v, cap *= 2, sizeof *v);
            v[n++] = ref;
        }
    }
    vctx = (struct view_ctx){m, col >= 0 && col < SC_N ? col : SC_LOAD, desc};
    qsort(v, n, sizeof *v, cmp_sref);
    *out = v;
    return n;
}

static size_t current_view(struct tui *t, struct sref **refs)
{
    size_t n = stmt_view(t->m, t->filter, t->scope, ts.sort_col, ts.desc, PER_SERVER_MAX, refs);
    return n > VIEW_MAX ? VIEW_MAX : n;
}

/* ---- the statement view (Enter) ---- */

static const struct stmt_row *find_det(const struct model *m)
{
    if (det.server >= m->n)
        return NULL;
    const struct s_statements *st = SAMPLE_STATEMENTS(m->servers[det.server].cur);
    for (size_t i = 0; st && i < st->n; i++) {
        const struct stmt_row *r = &st->rows[i];
        if (r->has_queryid == det.has_queryid && r->queryid == det.queryid && r->toplevel == det.toplevel &&
            strcmp(r->datname ? r->datname : "", det.datname) == 0 &&
            strcmp(r->rolname ? r->rolname : "", det.rolname) == 0)
            return r;
    }
    return NULL;
}

static void det_lines(const struct model *m, const struct stmt_row *r, int width, struct tview *l)
{
    const struct s_statements *st = SAMPLE_STATEMENTS(m->servers[det.server].cur);
    char a[48], b[48], line[160];
    tv_field(l, 15, "database", r->datname);
    tv_field(l, 15, "user", r->rolname);
    snprintf(line, sizeof line, "%lld", r->queryid);
    tv_field(l, 15, "queryid", r->has_queryid ? line : "not visible (needs pg_read_all_stats)");
    tv_field(l, 15, "level", r->toplevel ? "top level" : "nested (run inside a function)");
    tv_add(l, A_NORMAL, 0, "");
    snprintf(line, sizeof line, "Over the last %s", st && isfinite(st->dt) ? fmt_age(a, sizeof a, st->dt) : "interval");
    tv_add(l, theme(TH_HEADER), 0, line);
    snprintf(line, sizeof line, "%s of one core (%s ms/s)", fmt_load(a, sizeof a, r->load_ms_s), fmt_count(b, sizeof b, r->load_ms_s));
    tv_field(l, 15, "  load", line);
    snprintf(line, sizeof line, "%s/s, mean %s", fmt_rate(a, sizeof a, r->calls_s), fmt_ms(b, sizeof b, r->mean_ms));
    tv_field(l, 15, "  calls", line);
    snprintf(line, sizeof line, "%s/s", fmt_rate(a, sizeof a, r->rows_s));
    tv_field(l, 15, "  rows", line);
    snprintf(line, sizeof line, "hit %s/s, read %s/s, hit ratio %s", fmt_rate(a, sizeof a, r->hit_s),
             fmt_rate(b, sizeof b, r->read_s), isnan(r->hit_pct) ? "-" : "");
    if (!isnan(r->hit_pct))
        snprintf(line + strlen(line), sizeof line - strlen(line), "%.1f%%", r->hit_pct);
    tv_field(l, 15, "  shared bufs", line);
    snprintf(line, sizeof line, "%s/s (read + written: sorts and hashes spilling to disk)", fmt_rate(a, sizeof a, r->temp_s));
    tv_field(l, 15, "  temp blocks", line);
    tv_add(l, A_NORMAL, 0, "");
    tv_add(l, theme(TH_HEADER), 0, "Since the entry was created (or pg_stat_statements reset)");
    snprintf(line, sizeof line, "%s, total %s, mean %s", fmt_count(a, sizeof a, (double)r->calls),
             fmt_ms(b, sizeof b, r->total_ms), "");
    fmt_ms(a, sizeof a, r->calls > 0 ? r->total_ms / (double)r->calls : NAN);
    snprintf(line + strlen(line), sizeof line - strlen(line), "%s", a);
    tv_field(l, 15, "  calls", line);
    snprintf(line, sizeof line, "%s (the view keeps only the lifetime maximum)", fmt_ms(a, sizeof a, r->max_ms));
    tv_field(l, 15, "  max", line);
    tv_add(l, A_NORMAL, 0, "");
    if (!r->has_queryid || !r->query) {
        query_label(r, line, sizeof line);
        tv_add(l, theme(TH_HEADER), 0, "Statement");
        tv_wrap(l, A_NORMAL, 2, line, width - 2);
    } else {
        tv_add(l, theme(TH_HEADER), 0, r->query_cut ? "Statement (its first 1000 characters)" : "Statement");
        tv_wrap(l, A_NORMAL, 2, r->query, width - 2);
    }
}

static void det_draw(struct tui *t, WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    struct tview l = {0};
    const struct stmt_row *r = find_det(t->m);
    char *sname = esc(t->m->servers[det.server < t->m->n ? det.server : 0].conf->name, 1);
    char title[200];
    snprintf(title, sizeof title, "Statement on %s", sname);
    free(sname);
    if (r)
        det_lines(t->m, r, wd - 2, &l);
    else
        tv_add(&l, theme(TH_WARN), 0, "This statement is gone (pg_stat_statements evicted or reset it).");
    wattrset(w, theme(TH_TITLE));
    mvwhline(w, 0, 0, ' ', wd);
    put_clipped(w, 0, 1, wd - 2, title, theme(TH_TITLE));
    tv_draw(w, 1, 1, h - 2, wd - 2, &l, &det.scroll); /* title, then the closing hint */
    if (h > 2)
        put_clipped(w, h - 1, 1, wd - 2, "Up/Down scroll, Esc, Enter or q closes.", theme(TH_DIM));
    tv_free(&l);
}

static void det_open(const struct sref *ref, const struct stmt_row *r)
{
    det.open = true;
    det.server = ref->server;
    det.has_queryid = r->has_queryid;
    det.queryid = r->queryid;
    det.toplevel = r->toplevel;
    snprintf(det.datname, sizeof det.datname, "%s", r->datname ? r->datname : "");
    snprintf(det.rolname, sizeof det.rolname, "%s", r->rolname ? r->rolname : "");
    det.scroll = 0;
}

/* Keys while the statement is open: it takes the ones a modal takes; pane switches close it. */
static bool det_key(enum command cmd)
{
    switch (cmd) {
    case CMD_ESC: case CMD_ENTER: case CMD_QUIT:
        det.open = false;
        return true;
    case CMD_UP: det.scroll--; return true;
    case CMD_DOWN: det.scroll++; return true;
    case CMD_PGUP: det.scroll -= 10; return true;
    case CMD_PGDN: det.scroll += 10; return true;
    case CMD_HOME: det.scroll = 0; return true;
    case CMD_END: det.scroll = 1 << 20; return true;
    case CMD_FILTER: case CMD_SORT_PREV: case CMD_SORT_NEXT: case CMD_SORT_REVERSE:
    case CMD_LEFT: case CMD_RIGHT:
        return true;
    case CMD_NEXT_PANE: case CMD_PREV_PANE: case CMD_PANE1: case CMD_PANE2: case CMD_PANE3:
    case CMD_PANE4: case CMD_PANE5: case CMD_PANE6: case CMD_PANE7: case CMD_PANE8: case CMD_PANE9:
    case CMD_SCOPE:
        det.open = false;
        return false;
    default:
        return false;
    }
}

/* ---- the pane ---- */

/* One line per server in scope that has no figures, and why (escaped). */
static int notes(const struct model *m, long scope, char (*out)[CELL_MAX], int max)
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

static void stmt_draw(struct tui *t, WINDOW *w)
{
    if (det.open) {
        det_draw(t, w);
        return;
    }
    int h, wd;
    getmaxyx(w, h, wd);
    char (*note)[CELL_MAX] = xcalloc(t->m->n + 1, sizeof *note);
    int nn = notes(t->m, t->scope, note, (int)t->m->n);
    int room = h > 6 ? h / 3 : 1, shown = nn > room ? room : nn;
    struct sref *refs;
    size_t n = current_view(t, &refs);
    cell_t *cells = xcalloc(n * SC_N + 1, sizeof *cells);
    enum sev *sev = xcalloc(n * SC_N + 1, sizeof *sev);
    for (size_t i = 0; i < n; i++)
        stmt_cells(t->m, &refs[i], &cells[i * SC_N], &sev[i * SC_N]);
    WINDOW *tw = derwin(w, h - shown > 1 ? h - shown : 1, wd, 0, 0);
    if (tw) {
        table_draw(tw, cols, SC_N, cells, sev, n, &ts, true);
        delwin(tw);
    }
    if (n == 0 && h - shown > 2) {
        const char *msg = t->filter[0] ? "no statement matches the filter (Esc clears it)"
                          : nn && (size_t)nn >= (t->scope >= 0 ? 1 : t->m->n) ? "no statement figures (see below)"
                                                                           : "no statement ran during the interval";
        put_clipped(w, 2, 2, wd - 2, msg, theme(TH_DIM));
    }
    for (int i = 0; i < shown; i++) {
        bool more = i == shown - 1 && nn > shown;
        char buf[CELL_MAX + 48];
        if (more)
            snprintf(buf, sizeof buf, "... and %d more servers without statement figures", nn - shown + 1);
        put_clipped(w, h - shown + i, 1, wd - 2, more ? buf : note[i], theme(TH_WARN));
    }
    free(note);
    free(cells);
    free(sev);
    free(refs);
}

static struct key_result stmt_key(struct tui *t, enum command cmd)
{
    if (det.open)
        return KEY_DONE(det_key(cmd));
    switch (cmd) {
    case CMD_SORT_PREV:
    case CMD_SORT_NEXT:
        ts.sort_col = (ts.sort_col + (cmd == CMD_SORT_NEXT ? 1 : SC_N - 1)) % SC_N;
        ts.desc = cols[ts.sort_col].numeric; /* numbers: biggest first */
        return KEY_DONE(true);
    case CMD_SORT_REVERSE:
        ts.desc = !ts.desc;
        return KEY_DONE(true);
    case CMD_ENTER: {
        struct sref *refs;
        size_t n = current_view(t, &refs);
        if (ts.sel >= 0 && (size_t)ts.sel < n)
            det_open(&refs[ts.sel], ref_row(t->m, &refs[ts.sel]));
        free(refs);
        return KEY_DONE(true);
    }
    default:
        return KEY_DONE(false);
    }
}

/* ---- snapshot forms ---- */

static void text_notes(const struct model *m, FILE *out)
{
    char (*note)[CELL_MAX] = xcalloc(m->n + 1, sizeof *note);
    int nn = notes(m, -1, note, (int)m->n);
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
        snprintf(c[PC_PROGRESS], CELL_MAX, "%s/%s %s", bytes ? fmt_bytes(a, sizeof a, r->done) : fmt_count(a, sizeof a, r->done),
                 r->total > 0 ? (bytes ? fmt_bytes(b, sizeof b, r->total) : fmt_count(b, sizeof b, r->total)) : "?", unit);
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
    struct sref *refs;
    size_t n = stmt_view(m, NULL, -1, SC_LOAD, true, TEXT_TOP, &refs);
    fprintf(out, "STATEMENTS (%zu, busiest over the interval; LOAD is %% of one core, LIFEMAX the lifetime maximum)\n", n);
    cell_t *cells = xcalloc(n * SC_N + 1, sizeof *cells);
    enum sev sev[SC_N];
    for (size_t i = 0; i < n; i++)
        stmt_cells(m, &refs[i], &cells[i * SC_N], sev);
    text_table(out, cols, SC_N, cells, n);
    text_notes(m, out);
    free(cells);
    free(refs);
    fputc('\n', out);
    progress_text(m, out);
}

const struct pane_class pane_statements = {
    .name = "statements",
    .title = "Statements",
    .draw = stmt_draw,
    .key = stmt_key,
    .footer = "Enter statement  / filter  <> sort  s reverse  S scope  LOAD=% of a core",
    .ts = &ts,
};
