/* widget_doc.c — the document widget's curses half: draws a document (doc.h) a pane's view
 * builder made, from a scroll offset clamped here, either scrolled as a whole (a " 3-40/97 "
 * mark says where) or with one line selected and kept in view. */
#include <string.h>

#include "tui/screen.h"

static attr_t style_attr(int style)
{
    if (style == DS_HEAD)
        return theme(TH_HEADER);
    if (style == DS_COLS)
        return theme(TH_TITLE);
    return theme_sev((enum sev)style);
}

static void draw_line(WINDOW *w, int y, int width, const struct dline *l, bool sel)
{
    if (sel || l->fill_style > 0) {
        int x0 = sel ? 0 : l->fill_x;
        wattrset(w, sel ? theme(TH_SELECTED) : style_attr(l->fill_style));
        mvwhline(w, y, x0, ' ', width - x0);
        wattrset(w, A_NORMAL);
    }
    for (int k = 0; k < l->n; k++) {
        const struct dseg *s = &l->seg[k];
        if (s->x < width)
            put_clipped(w, y, s->x, width - s->x, s->s, sel ? theme(TH_SELECTED) : style_attr(s->style));
    }
}

void doc_draw(WINDOW *w, const struct doc *d, struct table_state *ts, bool select)
{
    int h, width;
    getmaxyx(w, h, width);
    int n = (int)d->n;
    if (select) {
        ts->sel = ts->sel >= n ? n - 1 : ts->sel < 0 ? 0 : ts->sel;
        if (ts->top > ts->sel)
            ts->top = ts->sel;
        if (ts->sel >= ts->top + h)
            ts->top = ts->sel - h + 1;
        ts->top = scroll_clamp(ts->top, n, h);
    } else {
        ts->sel = ts->top = scroll_clamp(ts->sel, n, h); /* sel is the first line shown */
    }
    for (int y = 0; y < h && ts->top + y < n; y++)
        draw_line(w, y, width, &d->l[ts->top + y], select && ts->top + y == ts->sel);
    if (!select && (ts->top > 0 || ts->top + h < n)) {
        char more[48];
        snprintf(more, sizeof more, " %d-%d/%d ", ts->top + 1, ts->top + h < n ? ts->top + h : n, n);
        put_clipped(w, 0, width - (int)strlen(more), (int)strlen(more), more, theme(TH_DIM));
    }
}
