/* probe_io.c — the server-wide IO probes: checkpointer and background writer (bgwriter), WAL
 * generation (wal), pg_stat_io (io, 16+), database sizes (sizes, every 10th tick: sizing walks
 * every file of every database), and, for servers on this machine, the disk holding the data
 * directory from /proc/diskstats (the bgwriter probe's local hook). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/util.h"
#include "probes/model.h"
#include "probes/sec_io.h"

static bool same_str(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

/* Only a member of pg_read_all_settings (superusers and pg_monitor are) may read
 * data_directory; asking anyway would fail the whole statement, so ask only when allowed. */
/* clang-format off */
#define DATA_DIR_SQL                                                                   \
    " CASE WHEN pg_has_role(current_user, 'pg_read_all_settings', 'MEMBER')"           \
    " THEN current_setting('data_directory') END AS data_directory,"
/* clang-format on */

/* ------------------------------------------------------------------------------------ bgwriter */

/* 12–16: everything in pg_stat_bgwriter. */
static const char BGW_SQL_12[] = "SELECT extract(epoch FROM now()) AS epoch," DATA_DIR_SQL
                                 " checkpoints_timed AS ckpt_timed, checkpoints_req AS ckpt_req,"
                                 " checkpoint_write_time AS ckpt_write_ms, checkpoint_sync_time AS ckpt_sync_ms,"
                                 " buffers_checkpoint AS buf_checkpoint, buffers_clean AS buf_clean, maxwritten_clean,"
                                 " buffers_backend AS buf_backend, buffers_backend_fsync AS buf_backend_fsync,"
                                 " buffers_alloc AS buf_alloc, false AS backend_from_io,"
                                 " stats_reset::text AS stats_reset, stats_reset::text AS ckpt_stats_reset"
                                 " FROM pg_stat_bgwriter";

/* 17+: the checkpoint columns moved to pg_stat_checkpointer and buffers_backend is gone; its
 * equivalent is the shared-buffer writes of every backend type but the two writers in
 * pg_stat_io. */
static const char BGW_SQL_17[] =
    "SELECT extract(epoch FROM now()) AS epoch," DATA_DIR_SQL " c.num_timed AS ckpt_timed, c.num_requested AS ckpt_req,"
    " c.write_time AS ckpt_write_ms, c.sync_time AS ckpt_sync_ms,"
    " c.buffers_written AS buf_checkpoint, b.buffers_clean AS buf_clean, b.maxwritten_clean,"
    " io.writes AS buf_backend, io.fsyncs AS buf_backend_fsync, b.buffers_alloc AS buf_alloc,"
    " true AS backend_from_io,"
    " b.stats_reset::text AS stats_reset, c.stats_reset::text AS ckpt_stats_reset"
    " FROM pg_stat_bgwriter b, pg_stat_checkpointer c,"
    " (SELECT sum(writes) AS writes, sum(fsyncs) AS fsyncs FROM pg_stat_io"
    "  WHERE object = 'relation' AND backend_type NOT IN ('checkpointer', 'background writer')) io";

static const char *bgw_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)o, (void)why;
    return caps->version >= 170000 ? BGW_SQL_17 : BGW_SQL_12;
}

static void bgw_free(void *p)
{
    struct s_bgwriter *b = p;
    if (!b)
        return;
    free(b->data_directory);
    free(b->stats_reset);
    free(b->ckpt_stats_reset);
    free(b->disk.why);
    free(b);
}

enum {
    B_EPOCH,
    B_DATADIR,
    B_TIMED,
    B_REQ,
    B_WMS,
    B_SMS,
    B_BCKPT,
    B_BCLEAN,
    B_MAXW,
    B_BBACK,
    B_BFSYNC,
    B_ALLOC,
    B_FROMIO,
    B_RESET,
    B_CRESET,
    B_N
};
static const char *const bgw_cols[B_N] = {
    "epoch",           "data_directory", "ckpt_timed",       "ckpt_req",    "ckpt_write_ms",     "ckpt_sync_ms",
    "buf_checkpoint",  "buf_clean",      "maxwritten_clean", "buf_backend", "buf_backend_fsync", "buf_alloc",
    "backend_from_io", "stats_reset",    "ckpt_stats_reset",
};

static void disk_nan(struct host_disk *d)
{
    d->dt = d->reads_s = d->writes_s = d->read_bytes_s = d->write_bytes_s = NAN;
    d->util_pct = d->await_ms = NAN;
}

static int bgw_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[B_N];
    if (rowset_cols(rs, bgw_cols, c, B_N, err, errlen))
        return -1;
    if (rs->nrows != 1) {
        snprintf(err, errlen, "bgwriter probe returned %d rows", rs->nrows);
        return -1;
    }
#define V(i) rowset_get(rs, 0, c[i])
    struct s_bgwriter *b = xcalloc(1, sizeof *b);
    b->epoch = cell_num(V(B_EPOCH));
    b->data_directory = cell_dup(V(B_DATADIR));
    b->ckpt_timed = cell_num(V(B_TIMED));
    b->ckpt_req = cell_num(V(B_REQ));
    b->ckpt_write_ms = cell_num(V(B_WMS));
    b->ckpt_sync_ms = cell_num(V(B_SMS));
    b->buf_checkpoint = cell_num(V(B_BCKPT));
    b->buf_clean = cell_num(V(B_BCLEAN));
    b->maxwritten_clean = cell_num(V(B_MAXW));
    b->buf_backend = cell_num(V(B_BBACK));
    b->buf_backend_fsync = cell_num(V(B_BFSYNC));
    b->buf_alloc = cell_num(V(B_ALLOC));
    b->backend_from_io = cell_bool(V(B_FROMIO));
    b->stats_reset = cell_dup(V(B_RESET));
    b->ckpt_stats_reset = cell_dup(V(B_CRESET));
#undef V
    b->dt = b->timed_d = b->req_d = b->write_ms_s = b->sync_ms_s = NAN;
    b->buf_checkpoint_s = b->buf_clean_s = b->maxwritten_clean_s = b->buf_backend_s = NAN;
    b->buf_backend_fsync_s = b->buf_alloc_s = NAN;
    double all = b->ckpt_timed + b->ckpt_req;
    b->req_pct = all > 0 ? 100.0 * b->ckpt_req / all : NAN;
    disk_nan(&b->disk);
    if (isnan(b->epoch)) {
        bgw_free(b);
        snprintf(err, errlen, "bgwriter probe returned no clock");
        return -1;
    }
    out->sec[PROBE_BGWRITER] = b;
    return 0;
}

static void bgw_derive(const struct sample *prev, struct sample *cur)
{
    const struct s_bgwriter *p = SAMPLE_BGWRITER(prev);
    struct s_bgwriter *c = cur->sec[PROBE_BGWRITER];
    if (!c || !p)
        return;
    /* a reset of either view makes every rate of this section n/a: they are read together */
    if (!same_str(p->stats_reset, c->stats_reset) || !same_str(p->ckpt_stats_reset, c->ckpt_stats_reset))
        return;
    double dt = c->dt = c->epoch - p->epoch;
    if (!(dt > 0))
        return;
    if (c->ckpt_timed >= p->ckpt_timed)
        c->timed_d = c->ckpt_timed - p->ckpt_timed;
    if (c->ckpt_req >= p->ckpt_req)
        c->req_d = c->ckpt_req - p->ckpt_req;
    c->write_ms_s = io_rate(p->ckpt_write_ms, c->ckpt_write_ms, dt);
    c->sync_ms_s = io_rate(p->ckpt_sync_ms, c->ckpt_sync_ms, dt);
    c->buf_checkpoint_s = io_rate(p->buf_checkpoint, c->buf_checkpoint, dt);
    c->buf_clean_s = io_rate(p->buf_clean, c->buf_clean, dt);
    c->maxwritten_clean_s = io_rate(p->maxwritten_clean, c->maxwritten_clean, dt);
    c->buf_backend_s = io_rate(p->buf_backend, c->buf_backend, dt);
    c->buf_backend_fsync_s = io_rate(p->buf_backend_fsync, c->buf_backend_fsync, dt);
    c->buf_alloc_s = io_rate(p->buf_alloc, c->buf_alloc, dt);
}

/* The local hook: the disk under this server's data directory, read on this machine. */
static void bgw_local(const struct sample *prev, struct sample *cur, const struct server_caps *caps)
{
    (void)caps;
    struct s_bgwriter *b = cur->sec[PROBE_BGWRITER];
    if (!b)
        return;
    const struct s_bgwriter *p = SAMPLE_BGWRITER(prev);
    host_disk_read(b->data_directory, p ? &p->disk : NULL, &b->disk);
}

/* ----------------------------------------------------------------------------------------- wal */

/* The WAL position is asked on every version: it is the only source on 12–13, and a primary
 * is where WAL is generated (pg_current_wal_lsn() fails during recovery, hence the CASE). */
/* clang-format off */
#define WAL_HEAD                                                                           \
    "SELECT extract(epoch FROM now()) AS epoch, pg_is_in_recovery() AS in_recovery,"       \
    " CASE WHEN pg_is_in_recovery() THEN NULL"                                             \
    " ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') END AS lsn,"
/* clang-format on */

static const char WAL_SQL_12[] =
    WAL_HEAD " NULL::bigint AS wal_records, NULL::bigint AS wal_fpi, NULL::numeric AS wal_bytes,"
             " NULL::bigint AS wal_buffers_full, NULL::bigint AS wal_write, NULL::bigint AS wal_sync,"
             " NULL::float8 AS wal_write_time, NULL::float8 AS wal_sync_time, NULL::text AS stats_reset";

static const char WAL_SQL_14[] =
    WAL_HEAD " wal_records, wal_fpi, wal_bytes, wal_buffers_full, wal_write, wal_sync, wal_write_time,"
             " wal_sync_time, stats_reset::text AS stats_reset FROM pg_stat_wal";

/* 18 moved the write and sync counters to pg_stat_io (object wal; context normal is what
 * pg_stat_wal counted, init the writes that fill new segments). */
static const char WAL_SQL_18[] =
    WAL_HEAD " wal_records, wal_fpi, wal_bytes, wal_buffers_full, io.wal_write, io.wal_sync, io.wal_write_time,"
             " io.wal_sync_time, w.stats_reset::text AS stats_reset FROM pg_stat_wal w,"
             " (SELECT sum(writes)::bigint AS wal_write, sum(fsyncs)::bigint AS wal_sync,"
             " sum(write_time)::float8 AS wal_write_time, sum(fsync_time)::float8 AS wal_sync_time"
             " FROM pg_stat_io WHERE object = 'wal' AND context = 'normal') io";

static const char *wal_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)o, (void)why;
    return caps->version >= 180000 ? WAL_SQL_18 : caps->version >= 140000 ? WAL_SQL_14 : WAL_SQL_12;
}

static void wal_free(void *p)
{
    struct s_wal *w = p;
    if (!w)
        return;
    free(w->stats_reset);
    free(w);
}

enum { W_EPOCH, W_RECOVERY, W_LSN, W_RECORDS, W_FPI, W_BYTES, W_FULL, W_WRITE, W_SYNC, W_WMS, W_SMS, W_RESET, W_N };
static const char *const wal_cols[W_N] = {
    "epoch",         "in_recovery",      "lsn",       "wal_records", "wal_fpi",
    "wal_bytes",     "wal_buffers_full", "wal_write", "wal_sync",    "wal_write_time",
    "wal_sync_time", "stats_reset",
};

static int wal_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[W_N];
    if (rowset_cols(rs, wal_cols, c, W_N, err, errlen))
        return -1;
    if (rs->nrows != 1) {
        snprintf(err, errlen, "wal probe returned %d rows", rs->nrows);
        return -1;
    }
#define V(i) rowset_get(rs, 0, c[i])
    struct s_wal *w = xcalloc(1, sizeof *w);
    w->epoch = cell_num(V(W_EPOCH));
    w->in_recovery = cell_bool(V(W_RECOVERY));
    w->lsn = cell_num(V(W_LSN));
    w->records = cell_num(V(W_RECORDS));
    w->fpi = cell_num(V(W_FPI));
    w->bytes = cell_num(V(W_BYTES));
    w->buffers_full = cell_num(V(W_FULL));
    w->write = cell_num(V(W_WRITE));
    w->sync = cell_num(V(W_SYNC));
    w->write_ms = cell_num(V(W_WMS));
    w->sync_ms = cell_num(V(W_SMS));
    w->stats_reset = cell_dup(V(W_RESET));
#undef V
    w->dt = w->bytes_s = w->records_s = w->fpi_s = w->buffers_full_s = NAN;
    w->write_s = w->sync_s = w->write_ms_s = w->sync_ms_s = NAN;
    w->source = !isnan(w->bytes) ? "pg_stat_wal" : !isnan(w->lsn) ? "wal position" : NULL;
    if (isnan(w->epoch)) {
        wal_free(w);
        snprintf(err, errlen, "wal probe returned no clock");
        return -1;
    }
    out->sec[PROBE_WAL] = w;
    return 0;
}

static void wal_derive(const struct sample *prev, struct sample *cur)
{
    const struct s_wal *p = SAMPLE_WAL(prev);
    struct s_wal *c = cur->sec[PROBE_WAL];
    if (!c || !p)
        return;
    double dt = c->dt = c->epoch - p->epoch;
    if (!isnan(c->bytes)) {
        if (!same_str(p->stats_reset, c->stats_reset))
            return;
        c->bytes_s = io_rate(p->bytes, c->bytes, dt);
        c->records_s = io_rate(p->records, c->records, dt);
        c->fpi_s = io_rate(p->fpi, c->fpi, dt);
        c->buffers_full_s = io_rate(p->buffers_full, c->buffers_full, dt);
        c->write_s = io_rate(p->write, c->write, dt);
        c->sync_s = io_rate(p->sync, c->sync, dt);
        c->write_ms_s = io_rate(p->write_ms, c->write_ms, dt);
        c->sync_ms_s = io_rate(p->sync_ms, c->sync_ms, dt);
    } else {
        /* 12–13: the distance the insert position moved; only a primary has one */
        c->bytes_s = io_rate(p->lsn, c->lsn, dt);
    }
}

double io_wal_bytes_per_s(const struct server *s)
{
    const struct s_wal *w = s ? SAMPLE_WAL(s->cur) : NULL;
    return w ? w->bytes_s : NAN;
}

/* ------------------------------------------------------------------------------------------ io */

/* Only rows that ever saw activity: the view has a row for every backend type, object and
 * context, most of them empty. A row absent from the previous sample was all zeros then. */
/* clang-format off */
#define IO_HEAD                                                                            \
    "SELECT extract(epoch FROM now()) AS epoch, backend_type, object, context,"            \
    " reads, read_time, writes, write_time, extends, hits, evictions, fsyncs,"
/* clang-format on */
/* clang-format off */
#define IO_WHERE                                                                           \
    " stats_reset::text AS stats_reset FROM pg_stat_io"                                    \
    " WHERE coalesce(reads, 0) + coalesce(writes, 0) + coalesce(extends, 0) + coalesce(hits, 0)" \
    " + coalesce(evictions, 0) + coalesce(fsyncs, 0) > 0"
/* clang-format on */

static const char IO_SQL_16[] = IO_HEAD " op_bytes," IO_WHERE;
/* 18 dropped op_bytes for byte counters of its own. */
static const char IO_SQL_18[] = IO_HEAD " read_bytes, write_bytes, extend_bytes," IO_WHERE;

static const char *io_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)o;
    if (caps->version < 160000 || !caps->has_stat_io) {
        *why = "pg_stat_io needs PostgreSQL 16";
        return NULL;
    }
    return caps->version >= 180000 ? IO_SQL_18 : IO_SQL_16;
}

static void io_row_clear(struct io_row *r)
{
    free(r->backend_type);
    free(r->object);
    free(r->context);
    free(r->stats_reset);
}

static void io_free(void *p)
{
    struct s_statio *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        io_row_clear(&s->rows[i]);
    free(s->rows);
    free(s);
}

enum {
    I_EPOCH,
    I_BTYPE,
    I_OBJECT,
    I_CONTEXT,
    I_READS,
    I_RTIME,
    I_WRITES,
    I_WTIME,
    I_EXTENDS,
    I_HITS,
    I_EVICT,
    I_FSYNC,
    I_RESET,
    I_N
};
static const char *const io_cols[I_N] = {
    "epoch",      "backend_type", "object", "context",   "reads",  "read_time",   "writes",
    "write_time", "extends",      "hits",   "evictions", "fsyncs", "stats_reset",
};

/* A NULL counter is an operation that cannot happen for that row: 0, not unknown. */
static double num0(const char *v)
{
    double d = cell_num(v);
    return isnan(d) ? 0 : d;
}

static void io_nan(struct io_row *r)
{
    r->reads_s = r->writes_s = r->extends_s = r->hits_s = r->evictions_s = r->fsyncs_s = NAN;
    r->read_ms_s = r->write_ms_s = r->read_bytes_s = r->write_bytes_s = r->extend_bytes_s = NAN;
}

static int io_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[I_N];
    if (rowset_cols(rs, io_cols, c, I_N, err, errlen))
        return -1;
    int c_op = rowset_col(rs, "op_bytes"), c_rb = rowset_col(rs, "read_bytes");
    int c_wb = rowset_col(rs, "write_bytes"), c_eb = rowset_col(rs, "extend_bytes");
    struct s_statio *s = xcalloc(1, sizeof *s);
    s->rows = xcalloc((size_t)rs->nrows + 1, sizeof *s->rows);
    s->epoch = s->dt = NAN;
    for (int i = 0; i < rs->nrows; i++) {
        struct io_row *r = &s->rows[s->n++];
#define V(k) rowset_get(rs, i, c[k])
        if (i == 0)
            s->epoch = cell_num(V(I_EPOCH));
        r->backend_type = cell_dup(V(I_BTYPE));
        r->object = cell_dup(V(I_OBJECT));
        r->context = cell_dup(V(I_CONTEXT));
        r->reads = num0(V(I_READS));
        r->read_ms = num0(V(I_RTIME));
        r->writes = num0(V(I_WRITES));
        r->write_ms = num0(V(I_WTIME));
        r->extends = num0(V(I_EXTENDS));
        r->hits = num0(V(I_HITS));
        r->evictions = num0(V(I_EVICT));
        r->fsyncs = num0(V(I_FSYNC));
        r->stats_reset = cell_dup(V(I_RESET));
#undef V
        /* up to 17 every operation moves op_bytes (a block); NULL there means "not counted" */
        double op = c_op >= 0 ? cell_num(rowset_get(rs, i, c_op)) : NAN;
        if (isnan(op))
            op = 8192;
        r->read_bytes = c_rb >= 0 ? num0(rowset_get(rs, i, c_rb)) : r->reads * op;
        r->write_bytes = c_wb >= 0 ? num0(rowset_get(rs, i, c_wb)) : r->writes * op;
        r->extend_bytes = c_eb >= 0 ? num0(rowset_get(rs, i, c_eb)) : r->extends * op;
        io_nan(r);
    }
    if (rs->nrows > 0 && isnan(s->epoch)) {
        io_free(s);
        snprintf(err, errlen, "io probe returned no clock");
        return -1;
    }
    out->sec[PROBE_IO] = s;
    return 0;
}

static const struct io_row *io_find(const struct s_statio *s, const struct io_row *r)
{
    for (size_t i = 0; i < s->n; i++)
        if (same_str(s->rows[i].backend_type, r->backend_type) && same_str(s->rows[i].object, r->object) &&
            same_str(s->rows[i].context, r->context))
            return &s->rows[i];
    return NULL;
}

static void io_derive_row(const struct io_row *p, struct io_row *c, double dt)
{
    c->reads_s = io_rate(p->reads, c->reads, dt);
    c->writes_s = io_rate(p->writes, c->writes, dt);
    c->extends_s = io_rate(p->extends, c->extends, dt);
    c->hits_s = io_rate(p->hits, c->hits, dt);
    c->evictions_s = io_rate(p->evictions, c->evictions, dt);
    c->fsyncs_s = io_rate(p->fsyncs, c->fsyncs, dt);
    c->read_ms_s = io_rate(p->read_ms, c->read_ms, dt);
    c->write_ms_s = io_rate(p->write_ms, c->write_ms, dt);
    c->read_bytes_s = io_rate(p->read_bytes, c->read_bytes, dt);
    c->write_bytes_s = io_rate(p->write_bytes, c->write_bytes, dt);
    c->extend_bytes_s = io_rate(p->extend_bytes, c->extend_bytes, dt);
}

static void io_derive(const struct sample *prev, struct sample *cur)
{
    const struct s_statio *p = SAMPLE_STATIO(prev);
    struct s_statio *c = cur->sec[PROBE_IO];
    if (!c || !p)
        return;
    c->dt = c->epoch - p->epoch;
    /* The view is reset as a whole: any previous row tells the reset time of the rows that
     * were all zeros (and so left out) then. */
    const char *p_reset = p->n ? p->rows[0].stats_reset : NULL;
    for (size_t i = 0; i < c->n; i++) {
        struct io_row *r = &c->rows[i];
        const struct io_row *pr = io_find(p, r);
        if (pr) {
            if (same_str(pr->stats_reset, r->stats_reset))
                io_derive_row(pr, r, c->dt);
        } else if (!p->n || same_str(p_reset, r->stats_reset)) {
            struct io_row zero;
            memset(&zero, 0, sizeof zero);
            io_derive_row(&zero, r, c->dt);
        }
    }
}

/* --------------------------------------------------------------------------------------- sizes */

static const char SIZES_SQL[] = "SELECT extract(epoch FROM now()) AS epoch, datname, pg_database_size(oid) AS bytes"
                                " FROM pg_database WHERE NOT datistemplate AND has_database_privilege(oid, 'CONNECT')";

static const char *sizes_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)caps, (void)o, (void)why;
    return SIZES_SQL;
}

static void sizes_free(void *p)
{
    struct s_sizes *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->rows[i].datname);
    free(s->rows);
    free(s);
}

static int sizes_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    static const char *const names[] = {"epoch", "datname", "bytes"};
    int c[3];
    if (rowset_cols(rs, names, c, 3, err, errlen))
        return -1;
    struct s_sizes *s = xcalloc(1, sizeof *s);
    s->rows = xcalloc((size_t)rs->nrows + 1, sizeof *s->rows);
    s->epoch = s->dt = s->total_growth_s = NAN;
    for (int i = 0; i < rs->nrows; i++) {
        struct db_size *d = &s->rows[s->n++];
        if (i == 0)
            s->epoch = cell_num(rowset_get(rs, 0, c[0]));
        d->datname = cell_dup(rowset_get(rs, i, c[1]));
        d->bytes = cell_num(rowset_get(rs, i, c[2]));
        d->growth_s = NAN;
        if (!isnan(d->bytes))
            s->total += d->bytes;
    }
    out->sec[PROBE_SIZES] = s;
    return 0;
}

/* Growth since the previous size sample (about ten ticks back): may be negative. */
static void sizes_derive(const struct sample *prev, struct sample *cur)
{
    const struct s_sizes *p = SAMPLE_SIZES(prev);
    struct s_sizes *c = cur->sec[PROBE_SIZES];
    if (!c || !p)
        return;
    c->dt = c->epoch - p->epoch;
    if (!(c->dt > 0))
        return;
    bool same_set = c->n == p->n;
    for (size_t i = 0; i < c->n; i++) {
        bool found = false;
        for (size_t j = 0; j < p->n; j++)
            if (same_str(c->rows[i].datname, p->rows[j].datname)) {
                c->rows[i].growth_s = (c->rows[i].bytes - p->rows[j].bytes) / c->dt;
                found = true;
                break;
            }
        same_set = same_set && found;
    }
    /* a database created or dropped meanwhile is not growth */
    if (same_set)
        c->total_growth_s = (c->total - p->total) / c->dt;
}

const struct db_size *sizes_find(const struct s_sizes *z, const char *datname)
{
    for (size_t i = 0; z && datname && i < z->n; i++)
        if (z->rows[i].datname && strcmp(z->rows[i].datname, datname) == 0)
            return &z->rows[i];
    return NULL;
}

/* ---------------------------------------------------------------------------------- host disk */

int diskstats_find(const char *text, unsigned major, unsigned minor, char *name, size_t namelen,
                   struct disk_counters *out)
{
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        unsigned ma, mi;
        char dev[64];
        struct disk_counters d;
        /* the device numbers first: sscanf'ing every line of a machine's disks, for every server
         * of a fleet, was a measurable share of a refresh */
        char *end;
        unsigned long ma0 = strtoul(line, &end, 10), mi0 = strtoul(end, &end, 10);
        if (ma0 != major || mi0 != minor) {
            line = nl ? nl + 1 : NULL;
            continue;
        }
        int n = sscanf(line, " %u %u %63s %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf", &ma, &mi, dev, &d.reads,
                       &d.reads_merged, &d.sectors_read, &d.read_ms, &d.writes, &d.writes_merged, &d.sectors_written,
                       &d.write_ms, &d.in_flight, &d.io_ticks, &d.weighted_ms);
        if (n == 14 && ma == major && mi == minor) {
            snprintf(name, namelen, "%s", dev);
            *out = d;
            return 0;
        }
        line = nl ? nl + 1 : NULL;
    }
    return -1;
}

int mountinfo_source(const char *text, unsigned major, unsigned minor, char *src, size_t srclen, char *fstype,
                     size_t fslen)
{
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        unsigned ma, mi;
        /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS" */
        if (sscanf(line, "%*u %*u %u:%u", &ma, &mi) == 2 && ma == major && mi == minor) {
            const char *sep = strstr(line, " - ");
            char fs[64], so[256];
            if (sep && (!nl || sep < nl) && sscanf(sep + 3, "%63s %255s", fs, so) == 2) {
                snprintf(src, srclen, "%s", so);
                snprintf(fstype, fslen, "%s", fs);
                return 0;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return -1;
}

void disk_derive(const struct host_disk *p, struct host_disk *c)
{
    double dt = (double)(c->mono_ms - p->mono_ms) / 1000.0;
    c->dt = dt;
    if (!(dt > 0))
        return;
    c->reads_s = io_rate(p->c.reads, c->c.reads, dt);
    c->writes_s = io_rate(p->c.writes, c->c.writes, dt);
    double rs = io_rate(p->c.sectors_read, c->c.sectors_read, dt);
    double ws = io_rate(p->c.sectors_written, c->c.sectors_written, dt);
    c->read_bytes_s = rs * 512; /* the kernel counts 512-byte sectors whatever the device's */
    c->write_bytes_s = ws * 512;
    double busy = io_rate(p->c.io_ticks, c->c.io_ticks, dt); /* ms busy per second */
    c->util_pct = isnan(busy) ? NAN : fmin(100.0, busy / 10.0);
    double ops = (c->c.reads - p->c.reads) + (c->c.writes - p->c.writes);
    double ms = (c->c.read_ms - p->c.read_ms) + (c->c.write_ms - p->c.write_ms);
    c->await_ms = ops > 0 && ms >= 0 ? ms / ops : NAN;
}

/* A small procfs file in one go (procfs files have no size to ask for). */
static char *read_proc(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct text t;
    text_init(&t);
    char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0 && t.len < (1u << 22))
        text_addn(&t, buf, (size_t)n);
    close(fd);
    if (n < 0) {
        text_free(&t);
        return NULL;
    }
    return t.s ? t.s : xstrdup("");
}

/* Device numbers with major 0 belong to no disk (btrfs subvolumes, overlay, tmpfs): the
 * mount's source names the block device, when there is one. */
static int resolve_device(dev_t dev, struct host_disk *d)
{
    d->major = major(dev);
    d->minor = minor(dev);
    if (d->major != 0)
        return 0;
    char *mi = read_proc("/proc/self/mountinfo");
    char src[256] = "", fs[64] = "";
    int rc = mi ? mountinfo_source(mi, d->major, d->minor, src, sizeof src, fs, sizeof fs) : -1;
    free(mi);
    struct stat st;
    if (rc == 0 && src[0] == '/' && stat(src, &st) == 0 && S_ISBLK(st.st_mode)) {
        d->major = major(st.st_rdev);
        d->minor = minor(st.st_rdev);
        return 0;
    }
    d->why = rc == 0 ? xasprintf("the data directory is on %s (%s), not on a disk", fs, src)
                     : xasprintf("no disk found for device %u:%u", d->major, d->minor);
    return -1;
}

/* /proc/diskstats as read at most once per DISKSTATS_REUSE_MS: a fleet of local servers ends its
 * ticks together, and each would read the same file (it lists every disk) within milliseconds.
 * *at gets when it was read. The text lives until the next read (and until exit). */
#define DISKSTATS_REUSE_MS 200
static const char *diskstats_text(int64_t *at)
{
    static char *text;
    static int64_t read_ms;
    int64_t now = now_ms();
    if (!text || now - read_ms >= DISKSTATS_REUSE_MS || now < read_ms) {
        free(text);
        text = read_proc("/proc/diskstats");
        read_ms = now;
    }
    *at = read_ms;
    return text;
}

void host_disk_read(const char *dir, const struct host_disk *prev, struct host_disk *cur)
{
    cur->tried = true;
    disk_nan(cur);
    if (!dir) {
        cur->why = xstrdup("data_directory is hidden from this role (needs pg_read_all_settings)");
        return;
    }
    struct stat st;
    if (stat(dir, &st) != 0) {
        cur->why = xasprintf("cannot stat the data directory here: %s", strerror(errno));
        return;
    }
    cur->st_dev = (unsigned long long)st.st_dev;
    if (prev && prev->no_disk && prev->st_dev == cur->st_dev) {
        /* the mount table is not read again every tick to learn the same thing */
        cur->no_disk = true;
        cur->why = xstrdup(prev->why ? prev->why : "no disk found");
        return;
    }
    bool known = prev && prev->tried && !prev->why && prev->st_dev == cur->st_dev;
    if (known) {
        cur->major = prev->major;
        cur->minor = prev->minor;
    } else if (resolve_device(st.st_dev, cur) < 0) {
        cur->no_disk = true;
        return;
    }
    int64_t read_at;
    const char *text = diskstats_text(&read_at);
    if (!text) {
        cur->why = xasprintf("cannot read /proc/diskstats: %s", strerror(errno));
        return;
    }
    if (diskstats_find(text, cur->major, cur->minor, cur->device, sizeof cur->device, &cur->c) < 0) {
        cur->why = xasprintf("device %u:%u is not in /proc/diskstats", cur->major, cur->minor);
        return;
    }
    cur->mono_ms = read_at; /* when the counters were read, so the rates stay exact */
    if (known)
        disk_derive(prev, cur);
}

/* ----------------------------------------------------------------------------------- classes */

const struct probe_class probe_bgwriter = {
    .name = "bgwriter",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = bgw_sql,
    .parse = bgw_parse,
    .derive = bgw_derive,
    .free_section = bgw_free,
    .local = bgw_local,
};

const struct probe_class probe_wal = {
    .name = "wal",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = wal_sql,
    .parse = wal_parse,
    .derive = wal_derive,
    .free_section = wal_free,
};

const struct probe_class probe_io = {
    .name = "io",
    .kind = KIND_POSTGRES,
    .min_version = 160000,
    .every_ticks = 1,
    .sql = io_sql,
    .parse = io_parse,
    .derive = io_derive,
    .free_section = io_free,
};

/* Sizing stats every file of every database: every 10th tick, carried forward in between. */
const struct probe_class probe_sizes = {
    .name = "sizes",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 10,
    .sql = sizes_sql,
    .parse = sizes_parse,
    .derive = sizes_derive,
    .free_section = sizes_free,
};
