/* rowset.h — a query result as plain strings, detached from libpq, so parsers are pure and unit
 * tests feed them fixtures. One rowset per statement: either rows or an error. */
#ifndef PGFLEET_ROWSET_H
#define PGFLEET_ROWSET_H

#include <stddef.h>

struct rowset {
    int nrows, ncols;
    char **names; /* ncols column names */
    char **cells; /* nrows * ncols values, NULL for SQL NULL */
    char *arena;  /* when set, every cell points into it (one allocation for a whole result) */
    size_t arena_len;
    long long affected; /* rows the command processed (INSERT/UPDATE/DELETE/SELECT), -1 unknown */
    char *error;        /* non-NULL: the statement failed; primary message (unescaped server text) */
    char sqlstate[6];
};

/* From a libpq result (PGresult is struct pg_result); only conn.c calls it. */
struct pg_result;
struct rowset *rowset_from_pg(const struct pg_result *res);

struct rowset *rowset_new(int ncols, const char *const *names);
/* Append a row of ncols values (copied; NULL stays NULL). */
void rowset_add_row(struct rowset *rs, const char *const *vals);
struct rowset *rowset_new_error(const char *sqlstate, const char *message);
void rowset_free(struct rowset *rs);

/* Column index by name, or -1. */
int rowset_col(const struct rowset *rs, const char *name);
/* Cell by row and column index; NULL for SQL NULL or out of range. */
static inline const char *rowset_get(const struct rowset *rs, int row, int col)
{
    if (row < 0 || row >= rs->nrows || col < 0 || col >= rs->ncols)
        return NULL;
    return rs->cells[(size_t)row * (size_t)rs->ncols + (size_t)col];
}

/* Find each named column; returns -1 and names the first missing one in err. */
int rowset_cols(const struct rowset *rs, const char *const *names, int *idx, int n, char *err, size_t errlen);
/* Cell conversions: NULL (or garbage) gives NAN / 0 / false; strings are copied (NULL stays NULL). */
double cell_num(const char *v);
long long cell_i64(const char *v);
int cell_bool(const char *v);
char *cell_dup(const char *v);

/* Fixture format for tests (tests/data/probes/NAME.rows): first line column names separated by '|',
 * then one row per line, '|' separated, "\N" for NULL, "\|" and "\\" escaped. Lines starting
 * with '#' are comments. Returns NULL and sets *err on a malformed file. */
struct rowset *rowset_parse_text(const char *text, const char **err);

#endif
