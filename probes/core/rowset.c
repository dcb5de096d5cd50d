/* rowset.c — query results as plain strings (struct rowset), built from libpq results by conn.c
 * or from text fixtures by tests, so that probe parsers never see libpq. */
#include "core/rowset.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct rowset *rowset_new(int ncols, const char *const *names)
{
    struct rowset *rs = xcalloc(1, sizeof *rs);
    rs->affected = -1;
    rs->ncols = ncols;
    rs->names = xcalloc((size_t)ncols + 1, sizeof *rs->names);
    for (int i = 0; i < ncols; i++)
        rs->names[i] = xstrdup(names[i] ? names[i] : "");
    return rs;
}

void rowset_add_row(struct rowset *rs, const char *const *vals)
{
    size_t base = (size_t)rs->nrows * (size_t)rs->ncols;
    rs->cells = xreallocarray(rs->cells, base + (size_t)rs->ncols + 1, sizeof *rs->cells);
    for (int i = 0; i < rs->ncols; i++)
        rs->cells[base + (size_t)i] = vals[i] ? xstrdup(vals[i]) : NULL;
    rs->nrows++;
}

struct rowset *rowset_new_error(const char *sqlstate, const char *message)
{
    struct rowset *rs = xcalloc(1, sizeof *rs);
    rs->affected = -1;
    rs->error = xstrdup(message && *message ? message : "unknown error");
    /* Keep the first line only: libpq messages end in newlines and carry DETAIL lines. */
    rs->error[strcspn(rs->error, "\n")] = '\0';
    snprintf(rs->sqlstate, sizeof rs->sqlstate, "%s", sqlstate ? sqlstate : "");
    return rs;
}

void rowset_free(struct rowset *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; !rs->arena && i < (size_t)rs->nrows * (size_t)rs->ncols; i++)
        free(rs->cells[i]);
    free(rs->arena);
    for (int i = 0; i < rs->ncols; i++)
        free(rs->names[i]);
    free(rs->cells);
    free(rs->names);
    free(rs->error);
    free(rs);
}

int rowset_col(const struct rowset *rs, const char *name)
{
    for (int i = 0; i < rs->ncols; i++)
        if (strcmp(rs->names[i], name) == 0)
            return i;
    return -1;
}

int rowset_cols(const struct rowset *rs, const char *const *names, int *idx, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        /* a parser usually asks in the SELECT's order: try the same place first */
        if (i < rs->ncols && strcmp(rs->names[i], names[i]) == 0) {
            idx[i] = i;
            continue;
        }
        idx[i] = rowset_col(rs, names[i]);
        if (idx[i] < 0) {
            snprintf(err, errlen, "result has no column \"%s\"", names[i]);
            return -1;
        }
    }
    return 0;
}

/* The forms the server sends most, an integer or a plain decimal, without strtod (a tick parses
 * thousands of cells): exact, since an integer converts with one rounding, and a decimal's digits
 * (below 2^53) and its power of ten (up to 1e22) are exact doubles whose quotient is rounded
 * once. Anything else (exponents, inf, NaN, long mantissas) goes to strtod. */
static bool fast_num(const char *v, double *out)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *p = v + (*v == '-');
    uint64_t mant = 0;
    int digits = 0, frac = 0;
    bool dot = false;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (digits == 19)
                return false;
            mant = mant * 10 + (uint64_t)(*p - '0');
            digits++;
            frac += dot;
        } else if (*p == '.' && !dot) {
            dot = true;
        } else {
            return false;
        }
    }
    if (!digits || (frac && (mant > (1ULL << 53) || frac > 22)))
        return false;
    double d = frac ? (double)mant / p10[frac] : (double)mant;
    *out = *v == '-' ? -d : d;
    return true;
}

double cell_num(const char *v)
{
    char *end;
    if (!v || !*v)
        return NAN;
    double d;
    if (fast_num(v, &d))
        return d;
    d = strtod(v, &end);
    return *end ? NAN : d;
}

long long cell_i64(const char *v)
{
    if (!v)
        return 0;
    /* the common form, up to 18 digits, without strtoll; the rest as strtoll reads it */
    const char *p = v + (*v == '-');
    long long x = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 18; p++, digits++)
        x = x * 10 + (*p - '0');
    if (digits && !*p)
        return *v == '-' ? -x : x;
    return strtoll(v, NULL, 10);
}
int cell_bool(const char *v) { return v && (v[0] == 't' || v[0] == '1' || v[0] == 'y'); }
char *cell_dup(const char *v) { return v ? xstrdup(v) : NULL; }

/* Split one fixture line on unescaped '|'; fields are unescaped in place into a new string. */
static int split_line(const char *line, size_t len, char ***out, int *isnull_mask_n, int **isnull_out)
{
    int n = 0, cap = 8;
    char **f = xcalloc((size_t)cap, sizeof *f);
    int *nul = xcalloc((size_t)cap, sizeof *nul);
    struct text cur;
    int isnull = 0;
    text_init(&cur);
    for (size_t i = 0;; i++) {
        if (i == len || line[i] == '|') {
            if (n == cap) {
                cap *= 2;
                f = xreallocarray(f, (size_t)cap, sizeof *f);
                nul = xreallocarray(nul, (size_t)cap, sizeof *nul);
            }
            nul[n] = isnull;
            f[n++] = xstrdup(cur.s);
            isnull = 0;
            text_clear(&cur);
            if (i == len)
                break;
        } else if (line[i] == '\\' && i + 1 < len) {
            char c = line[++i];
            if (c == 'N' && cur.len == 0 && (i + 1 == len || line[i + 1] == '|'))
                isnull = 1; /* the whole field is \N */
            else if (c == 'N')
                text_add(&cur, "N");
            else if (c == 'n')
                text_add(&cur, "\n");
            else if (c == 't')
                text_add(&cur, "\t");
            else if (c == 'e')
                text_add(&cur, "\033");
            else
                text_addn(&cur, &c, 1);
        } else {
            text_addn(&cur, &line[i], 1);
        }
    }
    text_free(&cur);
    *out = f;
    *isnull_out = nul;
    *isnull_mask_n = n;
    return n;
}

struct rowset *rowset_parse_text(const char *text, const char **err)
{
    struct rowset *rs = NULL;
    const char *p = text;
    *err = NULL;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len && p[0] != '#') {
            char **fields;
            int *isnull, n;
            split_line(p, len, &fields, &n, &isnull);
            if (!rs) {
                rs = rowset_new(n, (const char *const *)fields);
            } else if (n != rs->ncols) {
                *err = "row has a different number of fields than the header";
            } else {
                for (int i = 0; i < n; i++)
                    if (isnull[i]) {
                        free(fields[i]);
                        fields[i] = NULL;
                    }
                rowset_add_row(rs, (const char *const *)fields);
            }
            for (int i = 0; i < n; i++)
                free(fields[i]);
            free(fields);
            free(isnull);
            if (*err) {
                rowset_free(rs);
                return NULL;
            }
        }
        p += len + (nl ? 1 : 0);
    }
    if (!rs)
        *err = "no header line";
    return rs;
}

/* The libpq side: the one place a PGresult becomes a rowset. */
#include <libpq-fe.h>

struct rowset *rowset_from_pg(const struct pg_result *cres)
{
    PGresult *res = (PGresult *)cres;
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && st != PGRES_SINGLE_TUPLE) {
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        if (st == PGRES_PIPELINE_ABORTED)
            msg = "not run: an earlier statement in the batch failed";
        return rowset_new_error(PQresultErrorField(res, PG_DIAG_SQLSTATE), msg ? msg : PQresultErrorMessage(res));
    }
    int nf = PQnfields(res), nt = PQntuples(res);
    const char **names = xcalloc((size_t)nf + 1, sizeof *names);
    for (int i = 0; i < nf; i++)
        names[i] = PQfname(res, i);
    struct rowset *rs = rowset_new(nf, names);
    free(names);
    size_t n = (size_t)nt * (size_t)nf;
    rs->cells = xmalloc((n + 1) * sizeof *rs->cells); /* every cell is set below */
    /* One allocation for all the cells (a 130-session tick has thousands of them), filled in one
     * pass: offsets first, since the arena may move as it grows. libpq gives a NULL a length of
     * 0, so only an empty value is asked whether it is NULL. */
    size_t *off = xmalloc((n + 1) * sizeof *off), cap = n * 8 + 64, used = 0;
    char *arena = xmalloc(cap);
    for (int r = 0; r < nt; r++)
        for (int c = 0; c < nf; c++) {
            size_t i = (size_t)r * (size_t)nf + (size_t)c, len = (size_t)PQgetlength(res, r, c);
            if (len == 0 && PQgetisnull(res, r, c)) {
                off[i] = SIZE_MAX;
                continue;
            }
            if (used + len + 1 > cap) {
                while (used + len + 1 > cap)
                    cap *= 2;
                arena = xrealloc(arena, cap);
            }
            memcpy(arena + used, PQgetvalue(res, r, c), len);
            arena[used + len] = '\0';
            off[i] = used;
            used += len + 1;
        }
    for (size_t i = 0; i < n; i++)
        rs->cells[i] = off[i] == SIZE_MAX ? NULL : arena + off[i];
    free(off);
    if (!used) /* never an empty arena: its copies (probe_sessions.c) allocate its length */
        arena[used++] = '\0';
    rs->arena = arena;
    rs->arena_len = used;
    rs->nrows = nt;
    const char *ct = PQcmdTuples(res);
    rs->affected = ct && *ct ? strtoll(ct, NULL, 10) : -1;
    return rs;
}
