/* widget_table.c — the table every list pane draws with: columns chosen by priority to fit the
 * width (the flex column, usually a query, takes the rest), a title row with the sort marker,
 * severity colours per cell, and a selection kept in view; and the text measures the panes that
 * lay out their own lines share (display width, clipping, the terminal's codeset). */
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui/screen.h"

bool utf8_locale(void) { return esc_locale_is_utf8(); }

void put_clipped(WINDOW *w, int y, int x, int width, const char *s, attr_t a)
{
    /* Every string drawn passes here: escaped once more, in case a caller forgot (escaped
     * text passes unchanged), and clipped by display width, never inside a character. */
    char buf[2048];
    if (width <= 0)
        return;
    esc_safe_cols(buf, sizeof buf, s, width);
    wattrset(w, a);
    mvwaddstr(w, y, x, buf);
    wattrset(w, A_NORMAL);
}

void table_move(struct table_state *st, enum command cmd, size_t nrows, int page)
{
    int n = (int)nrows;
    switch (cmd) {
    case CMD_UP: st->sel--; break;
    case CMD_DOWN: st->sel++; break;
    case CMD_PGUP: st->sel -= page; break;
    case CMD_PGDN: st->sel += page; break;
    case CMD_HOME: st->sel = 0; break;
    case CMD_END: st->sel = n - 1; break;
    default: break;
    }
    if (st->sel >= n)
        st->sel = n - 1;
    if (st->sel < 0)
        st->sel = 0;
}

/* Whether every cell of column c is empty (an optional column is then left out). */
static bool column_empty(const cell_t *cells, int ncols, size_t nrows, int c)
{
    for (size_t i = 0; i < nrows; i++)
        if (cells[i * (size_t)ncols + (size_t)c][0])
            return false;
    return true;
}

/* Where the laid-out row ends (one column of space after each): more than the width when the
 * columns table_fit could not drop do not fit. */
static int row_end(const int *x, const int *wd, int ncols)
{
    int end = 0;
    for (int c = 0; c < ncols; c++)
        if (x[c] >= 0 && x[c] + wd[c] + 1 > end)
            end = x[c] + wd[c] + 1;
    return end;
}

void table_draw(WINDOW *w, const struct colspec *cols, int ncols, const cell_t *cells, const enum sev *sev,
                size_t nrows, struct table_state *st, bool show_sort)
{
    int h, width;
    getmaxyx(w, h, width);
    /* Which columns fit: each column as wide as its content (up to its preferred width, at least
     * its title), then drop the lowest priority ones until the row fits; the flex column takes
     * what is left. */
    int x[32], wd[32];
    unsigned flex = 0;
    for (int c = 0; c < ncols; c++) {
        wd[c] = (int)strlen(cols[c].title) + (show_sort && c == st->sort_col);
        for (size_t i = 0; i < nrows && wd[c] < cols[c].width; i++) {
            int l = str_cols(cells[i * (size_t)ncols + (size_t)c]);
            if (l > wd[c])
                wd[c] = l;
        }
        int title = (int)strlen(cols[c].title) + (show_sort && c == st->sort_col); /* + the marker */
        if (wd[c] > cols[c].width && !cols[c].flex)
            wd[c] = cols[c].width > title ? cols[c].width : title;
        if (cols[c].flex) {
            wd[c] = cols[c].width;
            flex |= 1u << c;
        }
        if (cols[c].optional && column_empty(cells, ncols, nrows, c))
            wd[c] = -1; /* table_fit leaves it out */
    }
    /* columns that are never dropped (keep): when the flex column does not fit beside them it
     * goes; when they alone do not fit, the table says so rather than show rows without them */
    unsigned keep = 0;
    for (int c = 0; c < ncols; c++)
        keep |= cols[c].keep ? 1u << c : 0;
    int nat[32];
    memcpy(nat, wd, (size_t)ncols * sizeof *nat);
    table_fit(cols, ncols, width, flex | keep, true, 0, x, wd);
    if (keep && row_end(x, wd, ncols) > width) {
        memcpy(wd, nat, (size_t)ncols * sizeof *nat);
        table_fit(cols, ncols, width, keep, true, 0, x, wd);
    }
    if (keep && row_end(x, wd, ncols) > width) {
        werase(w);
        put_clipped(w, 0, 0, width, width >= 18 ? "terminal too small" : "too small", A_BOLD);
        char need[48];
        snprintf(need, sizeof need, "(%d columns needed)", row_end(x, wd, ncols));
        if (h > 1)
            put_clipped(w, 1, 0, width, need, A_NORMAL);
        return;
    }
    bool utf8 = utf8_locale();
    /* title row */
    wattrset(w, theme(TH_TITLE));
    mvwhline(w, 0, 0, ' ', width);
    for (int c = 0; c < ncols; c++) {
        if (x[c] < 0)
            continue;
        char t[64];
        const char *mark = "";
        if (show_sort && c == st->sort_col)
            mark = st->desc ? (utf8 ? "\xe2\x96\xbc" : "v") : (utf8 ? "\xe2\x96\xb2" : "^");
        if (cols[c].right)
            snprintf(t, sizeof t, "%*s%s", wd[c] - (mark[0] ? 1 : 0), cols[c].title, mark);
        else
            snprintf(t, sizeof t, "%s%s", cols[c].title, mark);
        put_clipped(w, 0, x[c], wd[c], t, theme(TH_TITLE) | (c == st->sort_col && show_sort ? A_BOLD : 0));
    }
    int body = h - 1;
    if (body < 1)
        return;
    if (st->sel >= (int)nrows)
        st->sel = (int)nrows - 1;
    if (st->sel < 0)
        st->sel = 0;
    if (st->top > st->sel)
        st->top = st->sel;
    if (st->sel >= st->top + body)
        st->top = st->sel - body + 1;
    if (st->top > 0 && st->top + body > (int)nrows)
        st->top = (int)nrows > body ? (int)nrows - body : 0;
    for (int r = 0; r < body; r++) {
        size_t i = (size_t)(st->top + r);
        wmove(w, r + 1, 0);
        wclrtoeol(w);
        if (i >= nrows)
            continue;
        bool sel = !st->lost && (int)i == st->sel;
        if (sel) {
            wattrset(w, theme(TH_SELECTED));
            mvwhline(w, r + 1, 0, ' ', width);
        }
        for (int c = 0; c < ncols; c++) {
            if (x[c] < 0)
                continue;
            const char *v = cells[i * (size_t)ncols + (size_t)c];
            attr_t a = sel ? theme(TH_SELECTED) : theme_sev(sev[i * (size_t)ncols + (size_t)c]);
            if (sel && sev[i * (size_t)ncols + (size_t)c] == SEV_CRIT)
                a |= A_BOLD;
            int vx = x[c];
            if (cols[c].right) {
                int l = (int)strlen(v);
                if (l < wd[c])
                    vx += wd[c] - l;
            }
            put_clipped(w, r + 1, vx, x[c] + wd[c] - vx, v, a);
        }
    }
}
