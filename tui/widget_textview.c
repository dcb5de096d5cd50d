/* widget_textview.c — the one scrollable text view of the modals (help, session detail, job
 * log, confirmation, statement detail): lines of (attribute, escaped text) collected first,
 * untrusted text escaped on the way in and wrapped by display columns (wrap_text: never inside
 * a character), then drawn from a scroll offset clamped here and nowhere else. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tui/screen.h"

void tv_add(struct tview *v, attr_t a, int x, const char *escaped)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 32;
        v->l = xreallocarray(v->l, (size_t)v->cap, sizeof *v->l);
    }
    v->l[v->n++] = (struct tv_line){a, x, xstrdup(escaped)};
}

void tv_field(struct tview *v, int namew, const char *name, const char *raw)
{
    char *e = esc(raw ? raw : "", 1);
    char *line = xasprintf("%-*s %s", namew, name, e);
    tv_add(v, A_NORMAL, 0, line);
    free(line);
    free(e);
}

struct wrap_ctx {
    struct tview *v;
    attr_t a;
    int x;
};

static void wrap_line(void *p, const char *piece)
{
    struct wrap_ctx *c = p;
    tv_add(c->v, c->a, c->x, piece);
}

void tv_wrap(struct tview *v, attr_t a, int x, const char *raw, int width)
{
    struct wrap_ctx c = {v, a, x};
    wrap_text(raw, width, wrap_line, &c);
}

void tv_text(struct tview *v, attr_t a, int x, const char *raw)
{
    for (const char *p = raw ? raw : ""; *p;) {
        size_t len = strcspn(p, "\n");
        char *r = xstrndup(p, len), *e = esc(r, 1);
        tv_add(v, a, x, e);
        free(r);
        free(e);
        p += len + (p[len] == '\n');
    }
}

void tv_title(WINDOW *w, const char *title, attr_t a)
{
    int wd = getmaxx(w);
    wattrset(w, a);
    mvwhline(w, 0, 0, ' ', wd);
    wattrset(w, A_NORMAL);
    put_clipped(w, 0, 1, wd - 2, title, a);
}

void tv_draw(WINDOW *w, int y0, int x0, int h, int width, const struct tview *v, int *scroll)
{
    *scroll = scroll_clamp(*scroll, v->n, h);
    for (int r = 0; r < h && *scroll + r < v->n; r++) {
        const struct tv_line *l = &v->l[*scroll + r];
        put_clipped(w, y0 + r, x0 + l->x, width - l->x, l->s, l->a);
    }
}

void tv_free(struct tview *v)
{
    for (int i = 0; i < v->n; i++)
        free(v->l[i].s);
    free(v->l);
    memset(v, 0, sizeof *v);
}
