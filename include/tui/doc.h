/* doc.h — the document widget's model, free of curses: lines of positioned, styled segments of
 * escaped text that a pane's view builder makes from the model at a given width, drawn by
 * widget_doc.c (scrolled, clamped, one line selectable) or printed by doc_write (the text
 * snapshot). Also the plain-text helpers of the snapshot's sections: column fitting, padded
 * fields, tables, the one whitespace-collapse-and-escape and the one query wrapper. */
#ifndef PGFLEET_DOC_H
#define PGFLEET_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "probes/health.h"
#include "tui/views.h"

/* A segment's style: a severity (enum sev), or one of these. */
enum {
    DS_HEAD = 10, /* a section title */
    DS_COLS = 11  /* a table's column titles */
};

struct dseg {
    int x, style;
    char *s; /* escaped, cut to its width */
};

struct dline {
    struct dseg *seg;
    int n, cap;
    int fill_x, fill_style; /* with fill_style > 0, the line is painted in it from fill_x on */
};

struct doc {
    struct dline *l;
    size_t n, cap;
    int width; /* segments are cut to it */
    bool trim; /* doc_write drops the spaces that end a line */
};

struct dline *doc_line(struct doc *d, size_t y); /* line y, adding empty lines up to it */
/* Text s (already escaped) at column x of line y, cut to w columns and to the page. */
void doc_put(struct doc *d, size_t y, int x, int w, int style, const char *s);
void doc_put_r(struct doc *d, size_t y, int x, int w, int style, const char *s); /* right-aligned */
/* Appends to line y at column x, cut to the page; returns the column after the text. */
int doc_add(struct doc *d, size_t y, int x, int style, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A table's title row in line y: the titles at their columns, the line painted from x0 on. */
void doc_head(struct doc *d, size_t y, int x0, const struct colspec *cols, int n, const int *x, const int *wd);
void doc_free(struct doc *d);
/* The document as text: segments placed at their columns (one that starts inside the previous
 * one follows it), a line per line, through esc_safe. */
void doc_write(const struct doc *d, FILE *out);

/* The first line to show of n lines in h rows, top clamped so that the last page is full. */
int scroll_clamp(int top, int n, int h);

/* Fit a row of columns to width: wd[c] holds column c's width. While the columns left, each with
 * a space after it, are wider than width, the one of lowest priority goes (the first of equals),
 * never one whose bit (1u << c) is set in keep. The columns left are placed from x0 on and, with
 * grow, a flex column takes what the row leaves over; a dropped column gets x -1 and width 0, and
 * so does one given a negative width (left out before fitting: an empty optional column). */
void table_fit(const struct colspec *cols, int ncols, int width, unsigned keep, bool grow, int x0, int *x, int *wd);
/* s in a field of cols display columns, cut to fit (never half a character). */
void fput_pad(FILE *out, const char *s, int cols, bool right);
/* The text snapshot's form of a table: widths from the content, two spaces between columns. */
void text_table(FILE *out, const struct colspec *cols, int ncols, const cell_t *cells, size_t nrows);

/* Untrusted text for one line (a table cell): runs of white space become one space, ends
 * trimmed, at most CELL_MAX bytes of it, then escaped into dst. */
void one_line(char *dst, size_t len, const char *src);
/* Untrusted text (a query) as lines at most width columns wide: its own line breaks kept, each
 * line escaped, cut at a space in its second half when there is one, never inside a character.
 * Calls line(ctx, piece) for each (escaped, NUL-terminated); returns the number of lines. */
int wrap_text(const char *raw, int width, void (*line)(void *ctx, const char *piece), void *ctx);

/* Sparklines (widget_spark.c): the last `width` of n values as block characters scaled to the
 * larger of max and the largest value shown; NAN is a blank. UTF-8 blocks or, without utf8,
 * ASCII. */
char *spark_text(char *buf, size_t len, const double *v, size_t n, int width, double max, bool utf8);

#endif
