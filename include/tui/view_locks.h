/* view_locks.h — what pane 3, Locks, shows, free of curses: the lines of the lock forest of
 * every server (or of the scoped one), the cells of a session's line, the columns that fit a
 * width, and which session a line names. The pane (pane_locks.c) draws and selects; the text
 * snapshot's section (locks_text, sections.h) prints the same lines. */
#ifndef PGFLEET_VIEW_LOCKS_H
#define PGFLEET_VIEW_LOCKS_H

#include <stdbool.h>
#include <stddef.h>

#include "probes/model.h"
#include "probes/sec_locks.h"
#include "probes/session.h"
#include "tui/views.h"

/* A line of the pane: a server's summary, a session of its forest, or a note. */
enum lkind { L_SERVER, L_NODE, L_NOTE };

struct lline {
    enum lkind kind;
    size_t server, item; /* L_NODE: the item of the server's forest */
    char *note;          /* L_SERVER, L_NOTE: escaped text */
    enum sev sev;
};

struct lview {
    struct lline *v;
    size_t n, cap, nnodes;
};

/* The lines for the servers in scope (-1: all), worst server first; with a filter (NULL or ""
 * for none), only the trees with a session that matches it (or all of a server whose name or a
 * tag matches), whole from their root; a note says when the filter hid every one. */
void locks_view_build(const struct model *m, long scope, const char *filter, struct lview *lv);
void locks_view_free(struct lview *lv);
/* A server's lock sample, or NULL (not PostgreSQL, down, or no sample yet). */
const struct s_locks *locks_of(const struct server *s);
/* Line index of the n-th node line, or of the last one. */
size_t locks_node_line(const struct lview *lv, int n);
/* The session a node line names; false when it has no identity (pid 0, a prepared transaction,
 * or a blocker that ended before the probe read its row). */
bool locks_node_ref(const struct model *m, const struct lline *ln, struct session_ref *out);
/* The ordinal among node lines of session r, or -1. */
int locks_find(const struct model *m, const struct lview *lv, const struct session_ref *r);

/* For the session detail: the pids item waits for, "4242, 4250" (pg_blocking_pids order; a
 * prepared transaction named so), and the pids waiting for it directly, with how many it blocks
 * in all when more wait behind them: "4250, 4251 (4 sessions in all, waiting behind them)".
 * "" when none; the caller frees. */
char *locks_blockers_text(const struct s_locks *l, size_t item);
char *locks_waiters_text(const struct s_locks *l, size_t item);

/* The columns of a session's line. */
enum lock_col { LC_TREE, LC_FLAG, LC_STATE, LC_LOCK, LC_ON, LC_AGE, LC_BLOCKS, LC_QUERY, LC_N };
extern const struct colspec lock_cols[LC_N];

struct node_cells {
    char c[LC_N][CELL_MAX]; /* escaped */
    enum sev sev[LC_N];
};
/* The cells of item `item` of a server's forest; utf8: tree lines in box characters. */
void locks_cells(const struct model *m, const struct s_locks *l, size_t item, bool utf8, struct node_cells *nc);
/* Column positions x[] and widths wd[] for this width (x -1: dropped); the query takes what is
 * left. */
void locks_layout(const struct model *m, const struct lview *lv, bool utf8, int width, int *x, int *wd);

#endif
