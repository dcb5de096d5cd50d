/* pane_statements.c — pane 7, the slow-query log, on screen: the statements that kept the
 * fleet's servers busiest over the last interval (the list: view_statements.c), a one-line
 * reason under the table for each server without figures, and the statement's detail (Enter: a
 * modal of the screen's table, MODAL_STMT, every figure and the whole text). The selection and
 * the detail name a statement by its key, so both stay on it across refreshes and re-sorts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tui/screen.h"
#include "tui/view_statements.h"

/* Rows considered per server (busiest first) and shown in all: bounds the work of a frame
 * when thousands of entries were busy. */
#define PER_SERVER_MAX 500
#define VIEW_MAX 1000

/* The pane's state: the table's place and order (busiest first, as top does), the selected
 * statement by identity, and the one the detail shows. */
static struct stmt_pane {
    struct table_state ts;
    bool has_sel; /* sel names the selected statement (false: none yet) */
    struct stmt_id sel;
    struct stmt_id det; /* the statement of the detail (MODAL_STMT), found again on every frame */
} P = {.ts = {.sort_col = SC_LOAD, .desc = true}};

static size_t current_view(struct tui *t, struct stmt_ref **refs)
{
    struct stmt_query q = {.filter = t->filter,
                           .scope = t->scope,
                           .sort_col = P.ts.sort_col,
                           .desc = P.ts.desc,
                           .per_server = PER_SERVER_MAX};
    size_t n = stmt_view(t->m, &q, refs);
    return n > VIEW_MAX ? VIEW_MAX : n;
}

/* Find the selected statement's row again (ts.sel); when it is no longer listed, the row now at
 * its place is the selection. */
static void sync(struct tui *t, const struct stmt_ref *refs, size_t n)
{
    if (P.has_sel)
        for (size_t i = 0; i < n; i++)
            if (stmt_id_is(t->m, &P.sel, &refs[i])) {
                P.ts.sel = (int)i;
                return;
            }
    if (P.ts.sel >= (int)n)
        P.ts.sel = (int)n - 1;
    if (P.ts.sel < 0)
        P.ts.sel = 0;
    P.has_sel = (size_t)P.ts.sel < n;
    if (P.has_sel)
        stmt_id_of(t->m, &refs[P.ts.sel], &P.sel);
}

/* ---- the detail (MODAL_STMT) ---- */

static void det_lines(const struct model *m, const struct stmt_row *r, int width, struct tview *l)
{
    const struct s_statements *st = SAMPLE_STATEMENTS(m->servers[P.det.server].cur);
    char a[48], b[48], line[160];
    tv_field(l, 15, "database", r->datname);
    tv_field(l, 15, "user", r->rolname);
    snprintf(line, sizeof line, "%lld", r->queryid);
    tv_field(l, 15, "queryid", r->has_queryid ? line : "not visible (needs pg_read_all_stats)");
    tv_field(l, 15, "level", r->toplevel ? "top level" : "nested (run inside a function)");
    tv_add(l, A_NORMAL, 0, "");
    snprintf(line, sizeof line, "Over the last %s", st && isfinite(st->dt) ? fmt_age(a, sizeof a, st->dt) : "interval");
    tv_add(l, theme(TH_HEADER), 0, line);
    snprintf(line, sizeof line, "%s of one core (%s ms/s)", stmt_fmt_load(a, sizeof a, r->load_ms_s),
             fmt_count(b, sizeof b, r->load_ms_s));
    tv_field(l, 15, "  load", line);
    snprintf(line, sizeof line, "%s/s, mean %s", stmt_fmt_rate(a, sizeof a, r->calls_s),
             stmt_fmt_ms(b, sizeof b, r->mean_ms));
    tv_field(l, 15, "  calls", line);
    snprintf(line, sizeof line, "%s/s", stmt_fmt_rate(a, sizeof a, r->rows_s));
    tv_field(l, 15, "  rows", line);
    snprintf(line, sizeof line, "hit %s/s, read %s/s, hit ratio %s", stmt_fmt_rate(a, sizeof a, r->hit_s),
             stmt_fmt_rate(b, sizeof b, r->read_s), isnan(r->hit_pct) ? "-" : "");
    if (!isnan(r->hit_pct))
        snprintf(line + strlen(line), sizeof line - strlen(line), "%.1f%%", r->hit_pct);
    tv_field(l, 15, "  shared bufs", line);
    snprintf(line, sizeof line, "%s/s (read + written: sorts and hashes spilling to disk)",
             stmt_fmt_rate(a, sizeof a, r->temp_s));
    tv_field(l, 15, "  temp blocks", line);
    tv_add(l, A_NORMAL, 0, "");
    tv_add(l, theme(TH_HEADER), 0, "Since the entry was created (or pg_stat_statements reset)");
    snprintf(line, sizeof line, "%s, total %s, mean %s", fmt_count(a, sizeof a, (double)r->calls),
             stmt_fmt_ms(b, sizeof b, r->total_ms), "");
    stmt_fmt_ms(a, sizeof a, r->calls > 0 ? r->total_ms / (double)r->calls : NAN);
    snprintf(line + strlen(line), sizeof line - strlen(line), "%s", a);
    tv_field(l, 15, "  calls", line);
    snprintf(line, sizeof line, "%s (the view keeps only the lifetime maximum)", stmt_fmt_ms(a, sizeof a, r->max_ms));
    tv_field(l, 15, "  max", line);
    tv_add(l, A_NORMAL, 0, "");
    if (!r->has_queryid || !r->query) {
        stmt_query_label(r, line, sizeof line);
        tv_add(l, theme(TH_HEADER), 0, "Statement");
        tv_wrap(l, A_NORMAL, 2, line, width - 2);
    } else {
        tv_add(l, theme(TH_HEADER), 0, r->query_cut ? "Statement (its first 1000 characters)" : "Statement");
        tv_wrap(l, A_NORMAL, 2, r->query, width - 2);
    }
}

/* The modal's draw (screen.c's table; its keys are the scrolling ones of every modal). */
void stmt_detail_draw(struct tui *t, WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    struct tview l = {0};
    const struct stmt_row *r = stmt_find(t->m, &P.det);
    char *sname = esc(t->m->servers[P.det.server < t->m->n ? P.det.server : 0].conf->name, 1);
    char title[200];
    snprintf(title, sizeof title, "Statement on %s", sname);
    free(sname);
    if (r)
        det_lines(t->m, r, wd - 2, &l);
    else
        tv_add(&l, theme(TH_WARN), 0, "This statement is gone (pg_stat_statements evicted or reset it).");
    werase(w);
    tv_title(w, title, theme(TH_TITLE));
    tv_draw(w, 1, 1, h - 2, wd - 2, &l, &t->modal_scroll); /* title, then the closing hint */
    if (h > 2)
        put_clipped(w, h - 1, 1, wd - 2, "Up/Down scroll, Esc, Enter or q closes.", theme(TH_DIM));
    tv_free(&l);
}

/* ---- the pane ---- */

static void stmt_draw(struct tui *t, WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    char(*note)[CELL_MAX] = xcalloc(t->m->n + 1, sizeof *note);
    int nn = stmt_notes(t->m, t->scope, note, (int)t->m->n);
    int room = h > 6 ? h / 3 : 1, shown = nn > room ? room : nn;
    struct stmt_ref *refs;
    size_t n = current_view(t, &refs);
    sync(t, refs, n);
    cell_t *cells = xcalloc(n * SC_N + 1, sizeof *cells);
    enum sev *sev = xcalloc(n * SC_N + 1, sizeof *sev);
    for (size_t i = 0; i < n; i++)
        stmt_cells(t->m, &refs[i], &cells[i * SC_N], &sev[i * SC_N]);
    WINDOW *tw = derwin(w, h - shown > 1 ? h - shown : 1, wd, 0, 0);
    if (tw) {
        table_draw(tw, stmt_cols, SC_N, cells, sev, n, &P.ts, true);
        delwin(tw);
    }
    if (n == 0 && h - shown > 2) {
        const char *msg = t->filter[0]                          ? "no statement matches the filter (Esc clears it)"
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
    switch (cmd) {
    case CMD_SORT_PREV:
    case CMD_SORT_NEXT:
        P.ts.sort_col = (P.ts.sort_col + (cmd == CMD_SORT_NEXT ? 1 : SC_N - 1)) % SC_N;
        P.ts.desc = stmt_cols[P.ts.sort_col].numeric; /* numbers: biggest first */
        return KEY_DONE(true);
    case CMD_SORT_REVERSE: P.ts.desc = !P.ts.desc; return KEY_DONE(true);
    case CMD_UP:
    case CMD_DOWN:
    case CMD_PGUP:
    case CMD_PGDN:
    case CMD_HOME:
    case CMD_END: {
        /* from the selected statement's row now */
        struct stmt_ref *refs;
        size_t n = current_view(t, &refs);
        sync(t, refs, n);
        table_move(&P.ts, cmd, n, t->rows > 6 ? t->rows - 5 : 1);
        P.has_sel = P.ts.sel >= 0 && (size_t)P.ts.sel < n;
        if (P.has_sel)
            stmt_id_of(t->m, &refs[P.ts.sel], &P.sel);
        free(refs);
        return KEY_DONE(true);
    }
    case CMD_ENTER: {
        struct stmt_ref *refs;
        size_t n = current_view(t, &refs);
        sync(t, refs, n);
        bool open = P.has_sel;
        if (open)
            P.det = P.sel;
        free(refs);
        return open ? KEY_MODAL(MODAL_STMT) : KEY_DONE(true);
    }
    default: return KEY_DONE(false);
    }
}

/* The filter or scope changed: the first row again. */
static void stmt_reset(void)
{
    P.ts.sel = 0;
    P.has_sel = false;
}

const struct pane_class pane_statements = {
    .name = "statements",
    .title = "Statements",
    .draw = stmt_draw,
    .key = stmt_key,
    .reset = stmt_reset,
    .footer = "Enter statement  / filter  <> sort  s reverse  S scope  LOAD=% of a core",
    .filters = true,
    .ts = &P.ts,
};
