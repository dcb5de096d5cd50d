/* probe_statements.c — the statements probe: pg_stat_statements' counters for every entry, and
 * the rates over the interval between two samples that the Statements pane ranks by ("what is
 * the server busy with now", not "what was it busy with since the last reset").
 *
 * Cost. The view holds up to pg_stat_statements.max entries (5000 by default) and their texts
 * (kilobytes each) live in a file the server reads whole whenever texts are asked for. So:
 * - the probe runs every STATEMENTS_EVERY ticks, not every refresh;
 * - counters come for every entry (a delta needs both ends), as integers (microseconds), with
 *   names in place of oids and the clock sent once, in a header row;
 * - texts come only for the STMT_TEXT_TOP entries with the most lifetime time, cut at
 *   STMT_TEXT_CHARS characters. A busy entry outside that top keeps the text an earlier sample
 *   brought (derive carries it); one that never was in the top shows its queryid instead. Asking
 *   for the texts of exactly the entries we show would need a second, parameterised round trip.
 * Rates: deltas per entry by merging two samples sorted by key (O(n log n)); an entry that is new
 * counts whole (it was created in the interval); one whose counters went down was evicted and
 * re-created: n/a. A reset of pg_stat_statements (stats_reset, 14+) makes the interval n/a.
 * Our own probe statements are left out (statements_drop_own) by their normalised text, not by
 * a leading comment, which PostgreSQL 18 no longer keeps. The first OWN_HEAD_CHARS characters
 * of the text come for the entries that may be ours: of our own role (a dedicated monitoring
 * role keeps those few) or with conn.c's mark inside (another pgfleet, another role). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conn.h"
#include "core/util.h"
#include "probes/own_statements.h"
#include "probes/sec_statements.h"

#define STATEMENTS_EVERY 5

#define STR_(x) #x
#define STR(x) STR_(x)

/* TOTAL/MAX: the time columns (renamed in 1.8); TOPLEVEL: the column or a constant (1.9);
 * RESET: the reset time (pg_stat_statements_info, 1.9). `maybe_own`: an entry that may be one of
 * pgfleet's own statements: of our own role, or carrying the mark conn.c puts in every prepared
 * probe statement (CONN_TAG; another pgfleet's, another role's); `head`: the beginning of its
 * text, enough to tell by the text's shape (statements_drop_own). */
/* clang-format off */
#define STMT_SQL(TOTAL, MAX, TOPLEVEL, RESET)                                                      \
    "WITH s AS (SELECT queryid, userid, dbid, " TOPLEVEL " AS toplevel, calls, " TOTAL " AS t,"    \
    "   " MAX " AS mx, rows, shared_blks_hit AS hit, shared_blks_read AS rd,"                      \
    "   temp_blks_read + temp_blks_written AS tmp, query,"                                         \
    "   userid = (SELECT oid FROM pg_roles WHERE rolname = current_user)"                          \
    "   OR query LIKE '%" CONN_TAG "%' AS maybe_own"                                               \
    "   FROM pg_stat_statements),"                                                                 \
    " cut AS (SELECT coalesce(min(t), 0) AS t"                                                     \
    "   FROM (SELECT t FROM s ORDER BY t DESC LIMIT " STR(STMT_TEXT_TOP) ") x)"                    \
    " SELECT extract(epoch FROM now())::float8 AS epoch, " RESET " AS stats_reset,"               \
    " NULL::int8 AS queryid, NULL::bool AS toplevel, NULL::text AS datname, NULL::text AS rolname," \
    " NULL::int8 AS calls, NULL::int8 AS total_us, NULL::int8 AS max_us, NULL::int8 AS rows,"       \
    " NULL::int8 AS hit, NULL::int8 AS rd, NULL::int8 AS tmp, NULL::text AS query,"                \
    " NULL::bool AS maybe_own, NULL::text AS head"                                                      \
    " UNION ALL"                                                                                   \
    " SELECT NULL, NULL, s.queryid, s.toplevel, coalesce(d.datname::text, s.dbid::text),"         \
    " coalesce(r.rolname::text, s.userid::text), s.calls, (s.t * 1000)::int8, (s.mx * 1000)::int8," \
    " s.rows, s.hit, s.rd, s.tmp,"                                                                 \
    " CASE WHEN s.t >= cut.t THEN left(s.query, " STR(STMT_TEXT_CHARS) " + 1) END, s.maybe_own,"        \
    " CASE WHEN s.maybe_own THEN left(s.query, " STR(OWN_HEAD_CHARS) ") END"                            \
    " FROM s CROSS JOIN cut LEFT JOIN pg_database d ON d.oid = s.dbid"                             \
    " LEFT JOIN pg_roles r ON r.oid = s.userid"
/* clang-format on */

static const char SQL_1_7[] = STMT_SQL("total_time", "max_time", "true", "NULL::text");
static const char SQL_1_8[] = STMT_SQL("total_exec_time", "max_exec_time", "true", "NULL::text");
static const char SQL_1_9[] =
    STMT_SQL("total_exec_time", "max_exec_time", "toplevel", "(SELECT stats_reset::text FROM pg_stat_statements_info)");

static const char NOT_INSTALLED[] =
    "pg_stat_statements is not installed: add it to shared_preload_libraries, restart, then "
    "CREATE EXTENSION pg_stat_statements";

/* The extension's version decides the columns (a server upgraded without ALTER EXTENSION ...
 * UPDATE keeps the old ones); the server's version stands in when it is unknown. */
static const char *stmt_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)o;
    if (!caps->has_pgss) {
        *why = NOT_INSTALLED;
        return NULL;
    }
    int v = caps->pgss_version;
    if (!v)
        v = caps->version >= 140000 ? 109 : caps->version >= 130000 ? 108 : 107;
    return v >= 109 ? SQL_1_9 : v >= 108 ? SQL_1_8 : SQL_1_7;
}

static void stmt_free(void *p)
{
    struct s_statements *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->rows[i].datname);
        free(s->rows[i].rolname);
        free(s->rows[i].query);
        free(s->rows[i].head);
    }
    free(s->rows);
    free(s->top);
    free(s->stats_reset);
    free(s);
}

static int cmp_str(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : ""); }

/* The key: queryid (absent ones first), toplevel, database, user. */
static int key_cmp(const struct stmt_row *a, const struct stmt_row *b)
{
    if (a->has_queryid != b->has_queryid)
        return a->has_queryid ? 1 : -1;
    if (a->has_queryid && a->queryid != b->queryid)
        return a->queryid < b->queryid ? -1 : 1;
    if (a->toplevel != b->toplevel)
        return a->toplevel ? 1 : -1;
    int d = cmp_str(a->datname, b->datname);
    return d ? d : cmp_str(a->rolname, b->rolname);
}

static int key_qsort(const void *a, const void *b) { return key_cmp(a, b); }

/* Entries we may not see (no queryid) share a key per database and user: sum them, so the
 * merge meets each key once and their load still counts. */
static void merge_same_keys(struct s_statements *s)
{
    size_t o = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct stmt_row *r = &s->rows[i];
        if (o > 0 && key_cmp(&s->rows[o - 1], r) == 0) {
            struct stmt_row *d = &s->rows[o - 1];
            d->calls += r->calls;
            d->rows += r->rows;
            d->hit += r->hit;
            d->read += r->read;
            d->temp += r->temp;
            d->total_ms += r->total_ms;
            d->max_ms = fmax(d->max_ms, r->max_ms);
            d->merged += r->merged;
            if (!d->query) {
                d->query = r->query;
                r->query = NULL;
            }
            free(r->datname);
            free(r->rolname);
            free(r->query);
            free(r->head);
            continue;
        }
        s->rows[o++] = *r;
    }
    s->n = o;
}

/* Cut a text of more than STMT_TEXT_CHARS characters (the SQL sends one more to tell). */
static void cut_text(struct stmt_row *r)
{
    size_t chars = 0;
    for (char *p = r->query; p && *p; p++)
        if (((unsigned char)*p & 0xc0) != 0x80 && ++chars > STMT_TEXT_CHARS) {
            *p = '\0';
            r->query_cut = true;
            return;
        }
}

enum {
    C_EPOCH,
    C_RESET,
    C_QID,
    C_TOP,
    C_DAT,
    C_ROL,
    C_CALLS,
    C_TOTAL,
    C_MAX,
    C_ROWS,
    C_HIT,
    C_READ,
    C_TMP,
    C_QUERY,
    C_MAYBE_OWN,
    C_HEAD,
    C_N
};
static const char *const cols[C_N] = {
    "epoch",  "stats_reset", "queryid", "toplevel", "datname", "rolname", "calls",     "total_us",
    "max_us", "rows",        "hit",     "rd",       "tmp",     "query",   "maybe_own", "head",
};

static void parse_row(const struct rowset *rs, int i, const int *c, struct stmt_row *r)
{
#define V(k) rowset_get(rs, i, c[k])
    r->has_queryid = V(C_QID) != NULL;
    r->queryid = cell_i64(V(C_QID));
    r->toplevel = V(C_TOP) ? cell_bool(V(C_TOP)) : true;
    r->datname = cell_dup(V(C_DAT));
    r->rolname = cell_dup(V(C_ROL));
    r->calls = cell_i64(V(C_CALLS));
    r->total_ms = (double)cell_i64(V(C_TOTAL)) / 1000;
    r->max_ms = (double)cell_i64(V(C_MAX)) / 1000;
    r->rows = cell_i64(V(C_ROWS));
    r->hit = cell_i64(V(C_HIT));
    r->read = cell_i64(V(C_READ));
    r->temp = cell_i64(V(C_TMP));
    r->query = cell_dup(V(C_QUERY));
    r->maybe_own = V(C_MAYBE_OWN) && cell_bool(V(C_MAYBE_OWN));
    r->head = r->maybe_own ? cell_dup(V(C_HEAD)) : NULL;
    r->merged = 1;
#undef V
    cut_text(r);
    r->calls_s = r->load_ms_s = r->mean_ms = r->rows_s = NAN;
    r->hit_s = r->read_s = r->temp_s = r->hit_pct = NAN;
}

static int stmt_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[C_N];
    if (rowset_cols(rs, cols, c, C_N, err, errlen))
        return -1;
    struct s_statements *s = xcalloc(1, sizeof *s);
    s->epoch = s->dt = NAN;
    s->rows = xcalloc((size_t)rs->nrows + 1, sizeof *s->rows);
    bool header = false;
    for (int i = 0; i < rs->nrows; i++) {
        const char *epoch = rowset_get(rs, i, c[C_EPOCH]);
        if (epoch) { /* the header row: the clock and the reset time, sent once */
            header = true;
            s->epoch = cell_num(epoch);
            free(s->stats_reset);
            s->stats_reset = cell_dup(rowset_get(rs, i, c[C_RESET]));
            continue;
        }
        parse_row(rs, i, c, &s->rows[s->n++]);
    }
    if (!header || isnan(s->epoch)) {
        stmt_free(s);
        snprintf(err, errlen, "statements probe returned no clock");
        return -1;
    }
    qsort(s->rows, s->n, sizeof *s->rows, key_qsort);
    merge_same_keys(s);
    out->sec[PROBE_STATEMENTS] = s;
    return 0;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

void statements_drop_own(struct s_statements *s, const char *const *texts, size_t n)
{
    const struct own_shapes *own = own_shapes_cached(texts, n);
    size_t o = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct stmt_row *r = &s->rows[i];
        /* the SQL sends at most OWN_HEAD_CHARS characters: that many may be a cut */
        bool ours = r->maybe_own && own_shapes_match(own, r->head, utf8_chars(r->head) >= OWN_HEAD_CHARS);
        free(r->head);
        r->head = NULL;
        if (ours) {
            free(r->datname);
            free(r->rolname);
            free(r->query);
            continue;
        }
        s->rows[o++] = *r;
    }
    s->n = o;
}

static void stmt_refine(struct sample *cur, const struct server_caps *caps)
{
    const char *texts[PROBE_TEXTS_MAX];
    statements_drop_own(cur->sec[PROBE_STATEMENTS], texts, probe_texts(caps, texts, ARRAY_LEN(texts)));
}

static int same_str(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

/* Rates of one entry from its counters' growth d over dt seconds. */
static void set_rates(struct stmt_row *r, const struct stmt_row *d, double dt)
{
    r->calls_s = (double)d->calls / dt;
    r->load_ms_s = d->total_ms / dt;
    r->mean_ms = d->calls > 0 ? d->total_ms / (double)d->calls : NAN;
    r->rows_s = (double)d->rows / dt;
    r->hit_s = (double)d->hit / dt;
    r->read_s = (double)d->read / dt;
    r->temp_s = (double)d->temp / dt;
    r->hit_pct = d->hit + d->read > 0 ? 100.0 * (double)d->hit / (double)(d->hit + d->read) : NAN;
}

/* The growth of c's counters since p; false if any went down (evicted and re-created). */
static bool growth(const struct stmt_row *p, const struct stmt_row *c, struct stmt_row *d)
{
    d->calls = c->calls - p->calls;
    d->rows = c->rows - p->rows;
    d->hit = c->hit - p->hit;
    d->read = c->read - p->read;
    d->temp = c->temp - p->temp;
    d->total_ms = c->total_ms - p->total_ms;
    return d->calls >= 0 && d->rows >= 0 && d->hit >= 0 && d->read >= 0 && d->temp >= 0 && d->total_ms > -0.001;
}

static const struct s_statements *top_ctx; /* for the qsort below: derive runs on one thread */

static int load_desc(const void *a, const void *b)
{
    const struct stmt_row *x = &top_ctx->rows[*(const size_t *)a], *y = &top_ctx->rows[*(const size_t *)b];
    if (x->load_ms_s != y->load_ms_s)
        return x->load_ms_s < y->load_ms_s ? 1 : -1;
    if (x->calls_s != y->calls_s)
        return x->calls_s < y->calls_s ? 1 : -1;
    return key_cmp(x, y);
}

/* Busy entries without a text get the one an earlier sample brought, busiest first. */
static void carry_texts(struct s_statements *c, const struct s_statements *p, const size_t *match)
{
    size_t carried = 0;
    for (size_t k = 0; k < c->ntop && carried < STMT_CARRY_MAX; k++) {
        struct stmt_row *r = &c->rows[c->top[k]];
        size_t j = match[c->top[k]];
        if (r->query || j == SIZE_MAX || !p->rows[j].query)
            continue;
        r->query = xstrdup(p->rows[j].query);
        r->query_cut = p->rows[j].query_cut;
        carried++;
    }
}

static void stmt_derive(const struct sample *prev, struct sample *cur)
{
    const struct s_statements *p = SAMPLE_STATEMENTS(prev);
    struct s_statements *c = cur->sec[PROBE_STATEMENTS];
    if (!c || !p)
        return;
    c->derived = true;
    c->reset = !same_str(p->stats_reset, c->stats_reset);
    double dt = c->epoch - p->epoch;
    if (c->reset || !(dt > 0))
        return;
    c->dt = dt;
    /* merge: both sorted by key */
    size_t *match = xmalloc((c->n + 1) * sizeof *match);
    c->top = xmalloc((c->n + 1) * sizeof *c->top);
    size_t j = 0;
    for (size_t i = 0; i < c->n; i++) {
        struct stmt_row *r = &c->rows[i], d;
        while (j < p->n && key_cmp(&p->rows[j], r) < 0)
            j++;
        match[i] = j < p->n && key_cmp(&p->rows[j], r) == 0 ? j : SIZE_MAX;
        if (match[i] == SIZE_MAX)
            set_rates(r, r, dt); /* new: created during the interval, all of it counts */
        else if (growth(&p->rows[match[i]], r, &d))
            set_rates(r, &d, dt);
        if (r->calls_s > 0 || r->load_ms_s > 0)
            c->top[c->ntop++] = i;
    }
    top_ctx = c;
    qsort(c->top, c->ntop, sizeof *c->top, load_desc);
    top_ctx = NULL;
    carry_texts(c, p, match);
    free(match);
}

const char *statements_unavailable(const struct model *m, const struct server *s)
{
    const char *why = NULL;
    if (s->kind != KIND_POSTGRES)
        return "not a PostgreSQL server";
    if (!s->caps.version)
        return "connecting";
    if (!probe_table[PROBE_STATEMENTS]->sql(&s->caps, &m->opts, &why))
        return why ? why : "cannot run here";
    if (s->cur && s->cur->err[PROBE_STATEMENTS])
        return s->cur->err[PROBE_STATEMENTS];
    const struct s_statements *st = SAMPLE_STATEMENTS(s->cur);
    if (!st || !st->derived)
        return "collecting (two samples needed)";
    if (st->reset)
        return "pg_stat_statements was reset during the interval: rates from the next sample";
    return NULL;
}

const struct probe_class probe_statements = {
    .name = "statements",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = STATEMENTS_EVERY,
    .sql = stmt_sql,
    .parse = stmt_parse,
    .derive = stmt_derive,
    .free_section = stmt_free,
    .refine = stmt_refine,
};
