/* probe_progress.c — the progress probe: every pg_stat_progress_* view the server has (vacuum,
 * analyze 13+, create index, cluster, basebackup 13+, copy 14+) in one UNION ALL statement,
 * unified into rows of command, phase, relation and "done of total units" for the current
 * phase, and from two samples the phase's speed and the time it has left. The views are tiny
 * (one row per running command), so the probe runs every refresh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/sec_progress.h"

/* relid is an oid of the backend's database: its name can be looked up only when that is the
 * database we are connected to; elsewhere it is shown as #oid. */
/* clang-format off */
#define REL(relid)                                                                                 \
    "CASE WHEN " relid " IS NULL OR " relid " = 0 THEN NULL"                                     \
    " WHEN datname = current_database() THEN " relid "::regclass::text"                          \
    " ELSE '#' || " relid "::text END"
/* clang-format on */

/* VACUUM: heap blocks scanned, then vacuumed in the "vacuuming heap" phase; 17+ also counts
 * the indexes vacuumed (before it, an index phase has no measure). */
static const char VACUUM_17[] = "SELECT pid, 'VACUUM'::text AS command, phase, datname, " REL(
    "relid") " AS relation,"
             " CASE WHEN phase IN ('vacuuming indexes', 'cleaning up indexes') THEN 'indexes'"
             "  ELSE 'blocks' END AS unit,"
             " CASE WHEN phase IN ('vacuuming indexes', 'cleaning up indexes') THEN indexes_processed"
             "  WHEN phase = 'vacuuming heap' THEN heap_blks_vacuumed ELSE heap_blks_scanned END AS done,"
             " CASE WHEN phase IN ('vacuuming indexes', 'cleaning up indexes') THEN indexes_total"
             "  ELSE heap_blks_total END AS total"
             " FROM pg_stat_progress_vacuum";
static const char VACUUM_12[] = "SELECT pid, 'VACUUM'::text AS command, phase, datname, " REL(
    "relid") " AS relation,"
             " 'blocks'::text AS unit,"
             " CASE WHEN phase = 'vacuuming heap' THEN heap_blks_vacuumed ELSE heap_blks_scanned END AS done,"
             " heap_blks_total AS total"
             " FROM pg_stat_progress_vacuum";

/* CREATE INDEX / REINDEX: lockers while waiting, blocks while scanning the table, else tuples. */
static const char CREATE_INDEX[] = " UNION ALL SELECT pid, command, phase, datname, " REL(
    "relid") ","
             " CASE WHEN phase LIKE 'waiting%' THEN 'lockers'"
             "  WHEN phase LIKE '%scanning table%' OR tuples_total = 0 THEN 'blocks' ELSE 'tuples' END,"
             " CASE WHEN phase LIKE 'waiting%' THEN lockers_done"
             "  WHEN phase LIKE '%scanning table%' OR tuples_total = 0 THEN blocks_done ELSE tuples_done END,"
             " CASE WHEN phase LIKE 'waiting%' THEN lockers_total"
             "  WHEN phase LIKE '%scanning table%' OR tuples_total = 0 THEN blocks_total ELSE tuples_total END"
             " FROM pg_stat_progress_create_index";

/* CLUSTER / VACUUM FULL: blocks of a sequential scan; tuples written of those scanned. */
static const char CLUSTER[] = " UNION ALL SELECT pid, command, phase, datname, " REL(
    "relid") ","
             " CASE WHEN phase = 'seq scanning heap' THEN 'blocks' ELSE 'tuples' END,"
             " CASE WHEN phase = 'seq scanning heap' THEN heap_blks_scanned"
             "  WHEN phase = 'writing new heap' THEN heap_tuples_written ELSE heap_tuples_scanned END,"
             " CASE WHEN phase = 'seq scanning heap' THEN heap_blks_total"
             "  WHEN phase = 'writing new heap' THEN heap_tuples_scanned END"
             " FROM pg_stat_progress_cluster";

static const char ANALYZE[] = " UNION ALL SELECT pid, 'ANALYZE', phase, datname, " REL(
    "relid") ", 'blocks',"
             " sample_blks_scanned, sample_blks_total FROM pg_stat_progress_analyze";

/* A base backup's total is NULL when its size estimate was turned off. */
static const char BASEBACKUP[] = " UNION ALL SELECT pid, 'BASE BACKUP', phase, NULL, NULL, 'bytes', backup_streamed,"
                                 " backup_total FROM pg_stat_progress_basebackup";

/* COPY knows its size only from a file; from a client it counts tuples with no total. */
static const char COPY[] = " UNION ALL SELECT pid, command, type, datname, " REL(
    "relid") ","
             " CASE WHEN bytes_total > 0 THEN 'bytes' ELSE 'tuples' END,"
             " CASE WHEN bytes_total > 0 THEN bytes_processed ELSE tuples_processed END,"
             " CASE WHEN bytes_total > 0 THEN bytes_total END"
             " FROM pg_stat_progress_copy";

static char sql_12[4096], sql_13[4096], sql_14[4096], sql_17[4096];

static const char *build(char *buf, size_t len, int version)
{
    if (buf[0])
        return buf;
    snprintf(buf, len,
             "SELECT extract(epoch FROM now())::float8 AS epoch, p.* FROM (%s%s%s%s%s%s) p"
             " WHERE pid <> pg_backend_pid()",
             version >= 170000 ? VACUUM_17 : VACUUM_12, CREATE_INDEX, CLUSTER, version >= 130000 ? ANALYZE : "",
             version >= 130000 ? BASEBACKUP : "", version >= 140000 ? COPY : "");
    return buf;
}

static const char *progress_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)o, (void)why;
    if (caps->version >= 170000)
        return build(sql_17, sizeof sql_17, caps->version);
    if (caps->version >= 140000)
        return build(sql_14, sizeof sql_14, caps->version);
    if (caps->version >= 130000)
        return build(sql_13, sizeof sql_13, caps->version);
    return build(sql_12, sizeof sql_12, caps->version);
}

static void row_free(struct progress_row *r)
{
    free(r->command);
    free(r->phase);
    free(r->relation);
    free(r->datname);
    free(r->unit);
}

static void progress_free(void *p)
{
    struct s_progress *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        row_free(&s->rows[i]);
    free(s->rows);
    free(s);
}

enum { C_EPOCH, C_PID, C_CMD, C_PHASE, C_DAT, C_REL, C_UNIT, C_DONE, C_TOTAL, C_N };
static const char *const cols[C_N] = {
    "epoch", "pid", "command", "phase", "datname", "relation", "unit", "done", "total",
};

static int progress_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[C_N];
    if (rowset_cols(rs, cols, c, C_N, err, errlen))
        return -1;
    struct s_progress *s = xcalloc(1, sizeof *s);
    s->epoch = NAN;
    s->rows = xcalloc((size_t)rs->nrows + 1, sizeof *s->rows);
    for (int i = 0; i < rs->nrows; i++) {
#define V(k) rowset_get(rs, i, c[k])
        struct progress_row *r = &s->rows[s->n++];
        s->epoch = cell_num(V(C_EPOCH));
        r->pid = (int)cell_i64(V(C_PID));
        r->command = cell_dup(V(C_CMD));
        r->phase = cell_dup(V(C_PHASE));
        r->datname = cell_dup(V(C_DAT));
        r->relation = cell_dup(V(C_REL));
        r->unit = cell_dup(V(C_UNIT));
        r->done = cell_num(V(C_DONE));
        r->total = cell_num(V(C_TOTAL));
#undef V
        /* a total of 0 is "not known yet" (e.g. a phase that has not started counting) */
        r->pct = r->total > 0 && !isnan(r->done) ? fmin(100.0, 100.0 * r->done / r->total) : NAN;
        r->rate = r->eta_s = NAN;
    }
    out->sec[PROBE_PROGRESS] = s;
    return 0;
}

static int same_str(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

/* The same phase of the same command: a pid reused by another command, or a new phase counting
 * other units, has no speed yet. */
static const struct progress_row *find_prev(const struct s_progress *p, const struct progress_row *r)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct progress_row *q = &p->rows[i];
        if (q->pid == r->pid && same_str(q->command, r->command) && same_str(q->phase, r->phase) &&
            same_str(q->unit, r->unit) && same_str(q->relation, r->relation))
            return q;
    }
    return NULL;
}

static void progress_derive(const struct sample *prev, struct sample *cur)
{
    const struct s_progress *p = SAMPLE_PROGRESS(prev);
    struct s_progress *c = cur->sec[PROBE_PROGRESS];
    if (!c || !p || c->n == 0)
        return;
    double dt = c->epoch - p->epoch;
    if (!(dt > 0))
        return;
    for (size_t i = 0; i < c->n; i++) {
        struct progress_row *r = &c->rows[i];
        const struct progress_row *q = find_prev(p, r);
        if (!q || isnan(q->done) || isnan(r->done) || r->done < q->done)
            continue;
        r->rate = (r->done - q->done) / dt;
        if (r->rate > 0 && r->total > 0)
            r->eta_s = fmax(0, r->total - r->done) / r->rate;
    }
}

int progress_count(const struct server *s)
{
    const struct s_progress *p = SAMPLE_PROGRESS(s->cur);
    if (s->kind != KIND_POSTGRES || s->status == SRV_DOWN || !p)
        return 0;
    return (int)p->n;
}

size_t progress_row_describe(const struct progress_row *r, char *buf, size_t len)
{
    struct text t;
    char a[32], b[32];
    text_init(&t);
    text_add(&t, r->command ? r->command : "?");
    text_printf(&t, ", %s", r->phase ? r->phase : "phase not visible (needs pg_read_all_stats)");
    if (r->relation)
        text_printf(&t, ", %s", r->relation);
    bool bytes = r->unit && strcmp(r->unit, "bytes") == 0;
    if (!isnan(r->done)) {
        text_printf(&t, ", %s", bytes ? fmt_bytes(a, sizeof a, r->done) : fmt_count(a, sizeof a, r->done));
        if (r->total > 0)
            text_printf(&t, "/%s", bytes ? fmt_bytes(b, sizeof b, r->total) : fmt_count(b, sizeof b, r->total));
        if (!bytes && r->unit)
            text_printf(&t, " %s", r->unit);
        if (!isnan(r->pct))
            text_printf(&t, " (%.1f%%)", r->pct);
    }
    if (!isnan(r->rate) && bytes)
        text_printf(&t, ", %s/s", fmt_bytes(a, sizeof a, r->rate));
    else if (!isnan(r->rate))
        text_printf(&t, ", %s %s/s", fmt_count(a, sizeof a, r->rate), r->unit ? r->unit : "");
    if (!isnan(r->eta_s))
        text_printf(&t, ", phase ETA %s", fmt_age(a, sizeof a, r->eta_s));
    snprintf(buf, len, "%s", t.s);
    text_free(&t);
    return len ? strlen(buf) : 0;
}

size_t progress_describe(const struct server *s, int pid, char *buf, size_t len)
{
    const struct s_progress *p = SAMPLE_PROGRESS(s->cur);
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; p && s->status != SRV_DOWN && i < p->n; i++)
        if (p->rows[i].pid == pid)
            return progress_row_describe(&p->rows[i], buf, len);
    return 0;
}

const struct probe_class probe_progress = {
    .name = "progress",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = progress_sql,
    .parse = progress_parse,
    .derive = progress_derive,
    .free_section = progress_free,
};
