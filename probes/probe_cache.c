/* probe_cache.c — the databases probe: pg_stat_database per database, turned into the cache hit
 * ratio over the last interval (not since boot: a since-boot ratio hides today's problem behind
 * months of good days), block reads and hits, temp files, IO time and tuples per second. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/sec_io.h"

/* One row per database, and the shared-objects row (datid 0). The same columns exist from 12
 * to 17. track_io_timing says whether the time columns mean anything. */
static const char SQL[] =
    "SELECT extract(epoch FROM now()) AS epoch,"
    " current_setting('track_io_timing')::bool AS track_io_timing,"
    " d.datid, d.datname, coalesce(b.datistemplate, false) AS is_template,"
    " d.blks_hit, d.blks_read, d.temp_files, d.temp_bytes, d.blk_read_time, d.blk_write_time,"
    " d.tup_returned, d.tup_fetched, d.tup_inserted, d.tup_updated, d.tup_deleted,"
    " d.xact_commit, d.xact_rollback, d.deadlocks, d.conflicts, d.stats_reset::text AS stats_reset"
    " FROM pg_stat_database d LEFT JOIN pg_database b ON b.oid = d.datid";

static const char *db_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)caps, (void)o, (void)why;
    return SQL;
}

static void db_stat_clear(struct db_stat *d)
{
    free(d->datname);
    free(d->stats_reset);
}

static void db_free(void *p)
{
    struct s_databases *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        db_stat_clear(&s->rows[i]);
    free(s->rows);
    db_stat_clear(&s->total);
    db_stat_clear(&s->shared);
    free(s);
}

enum {
    C_EPOCH,
    C_TRACK,
    C_DATID,
    C_DATNAME,
    C_TEMPLATE,
    C_HIT,
    C_READ,
    C_TFILES,
    C_TBYTES,
    C_RTIME,
    C_WTIME,
    C_RET,
    C_FETCH,
    C_INS,
    C_UPD,
    C_DEL,
    C_COMMIT,
    C_ROLLBACK,
    C_DEADLOCKS,
    C_CONFLICTS,
    C_RESET,
    C_N
};
static const char *const cols[C_N] = {
    "epoch",       "track_io_timing", "datid",         "datname",        "is_template",  "blks_hit",    "blks_read",
    "temp_files",  "temp_bytes",      "blk_read_time", "blk_write_time", "tup_returned", "tup_fetched", "tup_inserted",
    "tup_updated", "tup_deleted",     "xact_commit",   "xact_rollback",  "deadlocks",    "conflicts",   "stats_reset",
};

/* The counters of a row, in one place so that parsing, summing and rates agree. */
/* clang-format off */
#define DB_COUNTERS(X)                                                                           \
    X(blks_hit, C_HIT) X(blks_read, C_READ) X(temp_files, C_TFILES) X(temp_bytes, C_TBYTES)     \
    X(blk_read_time, C_RTIME) X(blk_write_time, C_WTIME) X(tup_returned, C_RET)                \
    X(tup_fetched, C_FETCH) X(tup_inserted, C_INS) X(tup_updated, C_UPD) X(tup_deleted, C_DEL) \
    X(xact_commit, C_COMMIT) X(xact_rollback, C_ROLLBACK) X(deadlocks, C_DEADLOCKS)            \
    X(conflicts, C_CONFLICTS)
/* clang-format on */

static void nan_rates(struct db_stat *d)
{
    d->hit_pct = d->hits_s = d->reads_s = d->temp_files_s = d->temp_bytes_s = NAN;
    d->read_ms_s = d->write_ms_s = d->returned_s = d->fetched_s = d->inserted_s = NAN;
    d->updated_s = d->deleted_s = d->commits_s = d->rollbacks_s = d->deadlocks_s = NAN;
    d->conflicts_s = NAN;
}

static void parse_row(const struct rowset *rs, int r, const int *c, struct db_stat *d)
{
    d->datid = cell_num(rowset_get(rs, r, c[C_DATID]));
    d->datname = cell_dup(rowset_get(rs, r, c[C_DATNAME]));
    d->is_template = cell_bool(rowset_get(rs, r, c[C_TEMPLATE]));
    d->stats_reset = cell_dup(rowset_get(rs, r, c[C_RESET]));
#define PARSE(field, col) d->field = cell_num(rowset_get(rs, r, c[col]));
    DB_COUNTERS(PARSE)
#undef PARSE
    nan_rates(d);
}

/* A NULL counter (never happens for these columns, but a NULL time column would) counts as 0
 * in the total rather than making the whole total unknown. */
static void add_to_total(struct db_stat *t, const struct db_stat *d)
{
#define SUM(field, col) t->field += isnan(d->field) ? 0 : d->field;
    DB_COUNTERS(SUM)
#undef SUM
    /* the newest reset of any row: a reset of one database changes it */
    if (d->stats_reset && (!t->stats_reset || strcmp(d->stats_reset, t->stats_reset) > 0)) {
        free(t->stats_reset);
        t->stats_reset = xstrdup(d->stats_reset);
    }
}

static int db_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[C_N];
    if (rowset_cols(rs, cols, c, C_N, err, errlen))
        return -1;
    struct s_databases *s = xcalloc(1, sizeof *s);
    s->rows = xcalloc((size_t)rs->nrows + 1, sizeof *s->rows);
    s->epoch = NAN;
    s->dt = NAN;
    s->total.datname = xstrdup("(all)");
    nan_rates(&s->total);
    s->shared.datname = xstrdup("(shared)");
    nan_rates(&s->shared);
    for (int r = 0; r < rs->nrows; r++) {
        struct db_stat d;
        memset(&d, 0, sizeof d);
        if (r == 0) {
            s->epoch = cell_num(rowset_get(rs, 0, c[C_EPOCH]));
            s->track_io_timing = cell_bool(rowset_get(rs, 0, c[C_TRACK]));
        }
        parse_row(rs, r, c, &d);
        /* The shared catalogs (pg_database, pg_authid, …) are read by every connection's
         * start-up and by monitoring, ours included when it may not turn counting off: a row
         * of their own, not in the databases' total (nor in the Fleet's hit ratio). */
        if (d.datid == 0) {
            add_to_total(&s->shared, &d);
            db_stat_clear(&d);
            continue;
        }
        add_to_total(&s->total, &d);
        if (d.is_template || !d.datname)
            db_stat_clear(&d); /* in the total only */
        else
            s->rows[s->n++] = d;
    }
    if (rs->nrows > 0 && isnan(s->epoch)) {
        db_free(s);
        snprintf(err, errlen, "databases probe returned no clock");
        return -1;
    }
    out->sec[PROBE_DATABASES] = s;
    return 0;
}

static bool same_str(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

/* Rates of one database over dt; any counter that went backwards or a moved stats_reset makes
 * the whole row n/a (a partial answer after a reset would mislead). */
static void derive_row(const struct db_stat *p, struct db_stat *c, double dt)
{
    nan_rates(c);
    c->reset = !same_str(p->stats_reset, c->stats_reset);
#define BACKWARDS(field, col) \
    if (c->field < p->field)  \
        c->reset = true;
    DB_COUNTERS(BACKWARDS)
#undef BACKWARDS
    if (c->reset || !(dt > 0))
        return;
    c->hits_s = io_rate(p->blks_hit, c->blks_hit, dt);
    c->reads_s = io_rate(p->blks_read, c->blks_read, dt);
    if (c->hits_s + c->reads_s > 0)
        c->hit_pct = 100.0 * c->hits_s / (c->hits_s + c->reads_s);
    c->temp_files_s = io_rate(p->temp_files, c->temp_files, dt);
    c->temp_bytes_s = io_rate(p->temp_bytes, c->temp_bytes, dt);
    c->read_ms_s = io_rate(p->blk_read_time, c->blk_read_time, dt);
    c->write_ms_s = io_rate(p->blk_write_time, c->blk_write_time, dt);
    c->returned_s = io_rate(p->tup_returned, c->tup_returned, dt);
    c->fetched_s = io_rate(p->tup_fetched, c->tup_fetched, dt);
    c->inserted_s = io_rate(p->tup_inserted, c->tup_inserted, dt);
    c->updated_s = io_rate(p->tup_updated, c->tup_updated, dt);
    c->deleted_s = io_rate(p->tup_deleted, c->tup_deleted, dt);
    c->commits_s = io_rate(p->xact_commit, c->xact_commit, dt);
    c->rollbacks_s = io_rate(p->xact_rollback, c->xact_rollback, dt);
    c->deadlocks_s = io_rate(p->deadlocks, c->deadlocks, dt);
    c->conflicts_s = io_rate(p->conflicts, c->conflicts, dt);
}

/* Databases are matched by OID: a database dropped and created again under the same name is a
 * new one, and its first sample has no rates. */
static void db_derive(const struct sample *prev, struct sample *cur)
{
    const struct s_databases *p = SAMPLE_DATABASES(prev);
    struct s_databases *c = cur->sec[PROBE_DATABASES];
    if (!c || !p)
        return;
    c->dt = c->epoch - p->epoch;
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = 0; j < p->n; j++)
            if (p->rows[j].datid == c->rows[i].datid) {
                derive_row(&p->rows[j], &c->rows[i], c->dt);
                break;
            }
    derive_row(&p->total, &c->total, c->dt);
    derive_row(&p->shared, &c->shared, c->dt);
}

double io_rate(double prev, double cur, double dt)
{
    if (isnan(prev) || isnan(cur) || !(dt > 0) || cur < prev)
        return NAN;
    return (cur - prev) / dt;
}

const struct probe_class probe_databases = {
    .name = "databases",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = db_sql,
    .parse = db_parse,
    .derive = db_derive,
    .free_section = db_free,
};
