/* view_statements.h — what pane 7, Statements, lists, free of curses: the statements of the
 * servers in scope, busiest over the interval first (or by any column), filtered; their cells
 * and figures as text; which servers have no figures and why; and a statement's identity (its
 * pg_stat_statements key on its server), by which the pane keeps its selection and its detail
 * across refreshes. The text snapshot's section (stmt_text, sections.h) is built from the same. */
#ifndef PGFLEET_VIEW_STATEMENTS_H
#define PGFLEET_VIEW_STATEMENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "probes/model.h"
#include "probes/sec_statements.h"
#include "tui/views.h"

enum stmt_col {
    SC_SERVER,
    SC_DB,
    SC_USER,
    SC_LOAD,
    SC_CALLS,
    SC_MEAN,
    SC_MAX,
    SC_ROWS,
    SC_HIT,
    SC_READ,
    SC_TEMP,
    SC_QUERY,
    SC_N
};
extern const struct colspec stmt_cols[SC_N];

/* One listed statement: row `row` of server `server`'s sample. */
struct stmt_ref {
    size_t server, row;
};
struct stmt_query {
    const char *filter; /* case-insensitive substring of server (or a tag), database, user or query */
    long scope;         /* server index, or -1 for every server */
    int sort_col;       /* enum stmt_col */
    bool desc;
    size_t per_server; /* the busiest this many of each server are considered */
};
/* The rows (freed by the caller), sorted; ties: busiest first, then server order. */
size_t stmt_view(const struct model *m, const struct stmt_query *q, struct stmt_ref **out);
const struct stmt_row *stmt_ref_row(const struct model *m, const struct stmt_ref *r);
void stmt_cells(const struct model *m, const struct stmt_ref *r, cell_t *cells, enum sev *sev);

/* A statement by its key on its server (what pg_stat_statements keys it by, names for oids). */
struct stmt_id {
    size_t server;
    bool has_queryid, toplevel;
    long long queryid;
    char datname[128], rolname[128];
};
void stmt_id_of(const struct model *m, const struct stmt_ref *r, struct stmt_id *out);
bool stmt_id_is(const struct model *m, const struct stmt_id *id, const struct stmt_ref *r);
/* Its row in the current sample, or NULL when it is gone (evicted, reset, server down). */
const struct stmt_row *stmt_find(const struct model *m, const struct stmt_id *id);

/* Figures as text: a time ("4.20ms", "1m05s"), a load as % of one core, a rate ("<0.1"). */
char *stmt_fmt_ms(char *buf, size_t len, double ms);
char *stmt_fmt_load(char *buf, size_t len, double ms_s);
char *stmt_fmt_rate(char *buf, size_t len, double v);
/* What the QUERY cell says: the text, or why there is none. Raw (not escaped). */
void stmt_query_label(const struct stmt_row *r, char *buf, size_t len);
/* One escaped line per server in scope that has no figures, and why; returns how many. */
int stmt_notes(const struct model *m, long scope, char (*out)[CELL_MAX], int max);

#endif
