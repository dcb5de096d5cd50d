/* doc.c — the document widget's curses-free half: building a document of positioned segments
 * (doc.h), printing it as text for the snapshot, clamping a scroll offset, and the plain-text
 * helpers every section of the text snapshot shares (column fitting, padded fields, tables,
 * one-line cells, the query wrapper). Nothing here draws. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tui/doc.h"

/* ------------------------------------------------------------------------------- building */

struct dline *doc_line(struct doc *d, size_t y)
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

void doc_put(struct doc *d, size_t y, int x, int w, int style, const char *s)
{
    struct dline *l = doc_line(d, y);
    if (x < 0 || x >= d->width || w <= 0)
        return;
    if (x + w > d->width)
        w = d->width - x;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->seg = xreallocarray(l->seg, (size_t)l->cap, sizeof *l->seg);
    }
    l->seg[l->n++] = (struct dseg){x, style, xstrndup(s, str_fit(s, w))};
}

void doc_put_r(struct doc *d, size_t y, int x, int w, int style, const char *s)
{
    int sw = str_cols(s);
    doc_put(d, y, sw < w ? x + w - sw : x, w, style, s);
}

int doc_add(struct doc *d, size_t y, int x, int style, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    doc_put(d, y, x, d->width - x, style, buf);
    return x + str_cols(buf);
}

void doc_head(struct doc *d, size_t y, int x0, const struct colspec *cols, int n, const int *x, const int *wd)
{
    struct dline *l = doc_line(d, y);
    l->fill_x = x0;
    l->fill_style = DS_COLS;
    for (int c = 0; c < n; c++)
        if (x[c] >= 0)
            (cols[c].right ? doc_put_r : doc_put)(d, y, x[c], wd[c], DS_COLS, cols[c].title);
}

void doc_free(struct doc *d)
{
    for (size_t i = 0; i < d->n; i++) {
        for (int k = 0; k < d->l[i].n; k++)
            free(d->l[i].seg[k].s);
        free(d->l[i].seg);
    }
    free(d->l);
    d->l = NULL;
    d->n = d->cap = 0;
}

/* --------------------------------------------------------------------------------- as text */

void doc_write(const struct doc *d, FILE *out)
{
    struct text t;
    text_init(&t);
    for (size_t i = 0; i < d->n; i++) {
        const struct dline *l = &d->l[i];
        text_clear(&t);
        int col = 0;
        /* segments may come in any order (tables side by side): take them by column */
        bool *done = xcalloc((size_t)l->n + 1, sizeof *done);
        for (int pass = 0; pass < l->n; pass++) {
            int best = -1;
            for (int k = 0; k < l->n; k++)
                if (!done[k] && (best < 0 || l->seg[k].x < l->seg[best].x))
                    best = k;
            done[best] = true;
            if (l->seg[best].x > col)
                text_printf(&t, "%*s", l->seg[best].x - col, "");
            text_add(&t, l->seg[best].s);
            col = (l->seg[best].x > col ? l->seg[best].x : col) + str_cols(l->seg[best].s);
        }
        free(done);
        if (d->trim)
            while (t.len && t.s[t.len - 1] == ' ')
                t.s[--t.len] = '\0';
        fprintf(out, "%s\n", t.s ? t.s : "");
    }
    text_free(&t);
}

int scroll_clamp(int top, int n, int h)
{
    int last = n > h ? n - h : 0;
    return top > last ? last : top < 0 ? 0 : top;
}

/* ---------------------------------------------------------------------------- plain text */

void table_fit(const struct colspec *cols, int ncols, int width, unsigned keep, bool grow, int x0, int *x, int *wd)
{
    bool on[32];
    int total = 0;
    for (int c = 0; c < ncols; c++) {
        on[c] = wd[c] >= 0; /* a negative width: left out already (an empty optional column) */
        total += on[c] ? wd[c] + 1 : 0;
    }
    while (total > width) {
        int drop = -1;
        for (int c = 0; c < ncols; c++)
            if (on[c] && !((keep >> c) & 1u) && (drop < 0 || cols[c].prio < cols[drop].prio))
                drop = c;
        if (drop < 0)
            break;
        on[drop] = false;
        total -= wd[drop] + 1;
    }
    int pos = x0;
    for (int c = 0; c < ncols; c++) {
        if (!on[c]) {
            x[c] = -1;
            wd[c] = 0;
            continue;
        }
        if (grow && cols[c].flex && total < width)
            wd[c] += width - total;
        x[c] = pos;
        pos += wd[c] + 1;
    }
}

void fput_pad(FILE *out, const char *s, int cols, bool right)
{
    struct text t;
    text_init(&t);
    text_pad(&t, s, cols, right);
    fputs(t.s, out);
    text_free(&t);
}

void text_table(FILE *out, const struct colspec *cols, int ncols, const cell_t *cells, size_t nrows)
{
    int w[32] = {0};
    bool shown[32];
    for (int c = 0; c < ncols; c++) {
        w[c] = str_cols(cols[c].title);
        shown[c] = !cols[c].optional;
        for (size_t r = 0; r < nrows; r++) {
            int l = str_cols(cells[r * (size_t)ncols + (size_t)c]);
            shown[c] |= l > 0;
            if (l > w[c])
                w[c] = l > 40 && !cols[c].flex ? 40 : l;
        }
    }
    for (int c = 0; c < ncols; c++) {
        if (!shown[c])
            continue; /* an optional column with nothing in it */
        if (c == ncols - 1)
            fprintf(out, "%s\n", cols[c].title);
        else
            fput_pad(out, cols[c].title, w[c], cols[c].right), fputs("  ", out);
    }
    for (size_t r = 0; r < nrows; r++)
        for (int c = 0; c < ncols; c++) {
            const char *v = cells[r * (size_t)ncols + (size_t)c];
            if (!shown[c])
                continue;
            if (c == ncols - 1)
                fprintf(out, "%s\n", v);
            else
                fput_pad(out, v, w[c], cols[c].right), fputs("  ", out);
        }
}

void one_line(char *dst, size_t len, const char *src)
{
    char tmp[CELL_MAX + 1];
    size_t o = 0;
    bool space = false;
    for (const char *p = src ? src : ""; *p && o < CELL_MAX; p++) {
        bool ws = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
        if (ws && (space || o == 0))
            continue;
        space = ws;
        tmp[o++] = ws ? ' ' : *p;
    }
    while (o > 0 && tmp[o - 1] == ' ')
        o--;
    tmp[o] = '\0';
    esc_into(dst, len, tmp, 1);
}

/* Bytes of the character p starts (p is escaped: valid UTF-8). */
static size_t char_len(const char *p)
{
    unsigned char c = (unsigned char)*p;
    size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    for (size_t i = 1; i < n; i++)
        if (!p[i])
            return i;
    return n;
}

int wrap_text(const char *raw, int width, void (*line)(void *ctx, const char *piece), void *ctx)
{
    int n = 0;
    if (width < 2)
        width = 2;
    for (const char *q = raw ? raw : ""; *q;) {
        size_t len = strcspn(q, "\n");
        char *r = xstrndup(q, len);
        char *e = esc(r, 1);
        const char *p = e;
        do {
            size_t bytes = str_fit(p, width);
            if (p[bytes] && p[bytes] != ' ') {
                /* cut after the last space in the second half of the piece, if there is one */
                int cols = 0;
                size_t space = 0;
                for (size_t b = 0; b < bytes;) {
                    size_t cl = char_len(p + b);
                    if (p[b] == ' ' && cols > width / 2)
                        space = b + 1;
                    char one[8] = {0};
                    memcpy(one, p + b, cl);
                    cols += str_cols(one);
                    b += cl;
                }
                if (space)
                    bytes = space;
            }
            char *piece = xstrndup(p, bytes);
            line(ctx, piece);
            free(piece);
            n++;
            p += bytes;
        } while (*p);
        free(r);
        free(e);
        q += len + (q[len] == '\n');
    }
    return n;
}
