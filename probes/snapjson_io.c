/* snapjson_io.c — the JSON snapshot's Cache & IO figures of a PostgreSQL server: the per-database
 * cache and tuple rates (added to its "cache" object as databases[], all_databases, the shared
 * catalogs' shared_objects and own_reads_counted), and
 * "io": checkpointer, bgwriter, WAL, pg_stat_io, database sizes and, for a server on this
 * machine, its disk; each part null with its probe's reason under io.errors when missing. */
#include "probes/snapjson.h"

#include "core/util.h"
#include "probes/sec_io.h"

static void jset(json_t *o, const char *k, json_t *v) { json_object_set_new(o, k, v); }

static json_t *db_json(const struct db_stat *r, const struct s_sizes *z)
{
    json_t *j = json_object();
    jset(j, "name", jstr(r->datname));
    jset(j, "hit_pct", jnum(r->hit_pct));
    jset(j, "blks_read_per_s", jnum(r->reads_s));
    jset(j, "blks_hit_per_s", jnum(r->hits_s));
    jset(j, "temp_files_per_s", jnum(r->temp_files_s));
    jset(j, "temp_bytes_per_s", jnum(r->temp_bytes_s));
    jset(j, "read_time_ms_per_s", jnum(r->read_ms_s));
    jset(j, "write_time_ms_per_s", jnum(r->write_ms_s));
    jset(j, "tup_returned_per_s", jnum(r->returned_s));
    jset(j, "tup_fetched_per_s", jnum(r->fetched_s));
    jset(j, "tup_inserted_per_s", jnum(r->inserted_s));
    jset(j, "tup_updated_per_s", jnum(r->updated_s));
    jset(j, "tup_deleted_per_s", jnum(r->deleted_s));
    jset(j, "commits_per_s", jnum(r->commits_s));
    jset(j, "rollbacks_per_s", jnum(r->rollbacks_s));
    jset(j, "deadlocks_per_s", jnum(r->deadlocks_s));
    jset(j, "conflicts_per_s", jnum(r->conflicts_s));
    jset(j, "reset", json_boolean(r->reset));
    jset(j, "blks_hit", jnum(r->blks_hit));
    jset(j, "blks_read", jnum(r->blks_read));
    jset(j, "temp_files", jnum(r->temp_files));
    jset(j, "temp_bytes", jnum(r->temp_bytes));
    jset(j, "stats_reset", jstr(r->stats_reset));
    const struct db_size *sz = sizes_find(z, r->datname);
    jset(j, "size_bytes", sz ? jnum(sz->bytes) : json_null());
    return j;
}

static json_t *bgwriter_json(const struct s_bgwriter *b)
{
    json_t *c = json_object();
    jset(c, "timed", jnum(b->ckpt_timed));
    jset(c, "requested", jnum(b->ckpt_req));
    jset(c, "timed_in_interval", jnum(b->timed_d));
    jset(c, "requested_in_interval", jnum(b->req_d));
    jset(c, "requested_pct", jnum(b->req_pct));
    jset(c, "write_time_ms_per_s", jnum(b->write_ms_s));
    jset(c, "sync_time_ms_per_s", jnum(b->sync_ms_s));
    jset(c, "buffers_per_s", jnum(b->buf_checkpoint_s));
    jset(c, "stats_reset", jstr(b->ckpt_stats_reset));
    return c;
}

static json_t *wal_json(const struct s_wal *w)
{
    json_t *j = json_object();
    jset(j, "source", jstr(w->source));
    jset(j, "bytes_per_s", jnum(w->bytes_s));
    jset(j, "records_per_s", jnum(w->records_s));
    jset(j, "fpi_per_s", jnum(w->fpi_s));
    jset(j, "buffers_full_per_s", jnum(w->buffers_full_s));
    jset(j, "write_per_s", jnum(w->write_s));
    jset(j, "sync_per_s", jnum(w->sync_s));
    jset(j, "write_time_ms_per_s", jnum(w->write_ms_s));
    jset(j, "sync_time_ms_per_s", jnum(w->sync_ms_s));
    jset(j, "bytes", jnum(w->bytes));
    jset(j, "fpi", jnum(w->fpi));
    jset(j, "lsn_bytes", jnum(w->lsn));
    jset(j, "stats_reset", jstr(w->stats_reset));
    jset(j, "interval_s", jnum(w->dt));
    return j;
}

static json_t *statio_json(const struct s_statio *io)
{
    json_t *a = json_array();
    for (size_t i = 0; i < io->n; i++) {
        const struct io_row *r = &io->rows[i];
        json_t *j = json_object();
        jset(j, "backend_type", jstr(r->backend_type));
        jset(j, "object", jstr(r->object));
        jset(j, "context", jstr(r->context));
        jset(j, "reads_per_s", jnum(r->reads_s));
        jset(j, "read_bytes_per_s", jnum(r->read_bytes_s));
        jset(j, "writes_per_s", jnum(r->writes_s));
        jset(j, "write_bytes_per_s", jnum(r->write_bytes_s));
        jset(j, "extends_per_s", jnum(r->extends_s));
        jset(j, "extend_bytes_per_s", jnum(r->extend_bytes_s));
        jset(j, "hits_per_s", jnum(r->hits_s));
        jset(j, "evictions_per_s", jnum(r->evictions_s));
        jset(j, "fsyncs_per_s", jnum(r->fsyncs_s));
        jset(j, "read_time_ms_per_s", jnum(r->read_ms_s));
        jset(j, "write_time_ms_per_s", jnum(r->write_ms_s));
        json_array_append_new(a, j);
    }
    return a;
}

static json_t *sizes_json(const struct s_sizes *z, const struct s_databases *db)
{
    json_t *j = json_object();
    jset(j, "total_bytes", jnum(z->total));
    jset(j, "total_growth_bytes_per_s", jnum(z->total_growth_s));
    /* both taken in the same tick, the sizes a statement later: a hair's negative reads as 0 */
    jset(j, "age_s", db ? jnum(db->epoch - z->epoch < 0 ? 0 : db->epoch - z->epoch) : json_null());
    json_t *a = json_array();
    for (size_t i = 0; i < z->n; i++) {
        json_t *r = json_object();
        jset(r, "name", jstr(z->rows[i].datname));
        jset(r, "bytes", jnum(z->rows[i].bytes));
        jset(r, "growth_bytes_per_s", jnum(z->rows[i].growth_s));
        json_array_append_new(a, r);
    }
    jset(j, "databases", a);
    return j;
}

static json_t *disk_json(const struct server *s, const struct s_bgwriter *b)
{
    if (!s->local)
        return json_null();
    json_t *j = json_object();
    if (!b || !b->disk.tried || b->disk.why) {
        jset(j, "reason", jstr(b && b->disk.why ? b->disk.why : "no data yet"));
        return j;
    }
    const struct host_disk *k = &b->disk;
    jset(j, "device", jstr(k->device));
    jset(j, "major", json_integer(k->major));
    jset(j, "minor", json_integer(k->minor));
    jset(j, "reads_per_s", jnum(k->reads_s));
    jset(j, "writes_per_s", jnum(k->writes_s));
    jset(j, "read_bytes_per_s", jnum(k->read_bytes_s));
    jset(j, "write_bytes_per_s", jnum(k->write_bytes_s));
    jset(j, "util_pct", jnum(k->util_pct));
    jset(j, "await_ms", jnum(k->await_ms));
    jset(j, "interval_s", jnum(k->dt));
    return j;
}

/* Each part, or null plus its probe's one-line reason under "errors". */
void snapjson_io(const struct model *m, const struct server *s, json_t *o)
{
    (void)m;
    if (s->kind != KIND_POSTGRES || s->status == SRV_DOWN || !s->cur)
        return;
    const struct s_databases *db = SAMPLE_DATABASES(s->cur);
    const struct s_sizes *z = SAMPLE_SIZES(s->cur);
    /* snapjson_server wrote cache {hit_pct, interval_s} when it knew them; the databases join it */
    json_t *cache = json_object_get(o, "cache");
    if (!cache) {
        cache = json_object();
        jset(o, "cache", cache);
    }
    if (db) {
        json_t *a = json_array();
        for (size_t i = 0; i < db->n; i++)
            json_array_append_new(a, db_json(&db->rows[i], z));
        jset(cache, "databases", a);
        jset(cache, "all_databases", db_json(&db->total, NULL));
        jset(cache, "shared_objects", db_json(&db->shared, NULL));
    } else {
        jset(cache, "databases", json_null());
    }
    /* our probes' reads are in these figures when the role may not turn counting off */
    jset(cache, "own_reads_counted", s->caps.version ? json_boolean(!s->caps.set_track_counts) : json_null());

    json_t *io = json_object();
    jset(io, "track_io_timing", db ? json_boolean(db->track_io_timing) : json_null());
    const struct s_bgwriter *b = SAMPLE_BGWRITER(s->cur);
    if (b) {
        jset(io, "checkpointer", bgwriter_json(b));
        json_t *bw = json_object();
        jset(bw, "buffers_clean_per_s", jnum(b->buf_clean_s));
        jset(bw, "maxwritten_clean_per_s", jnum(b->maxwritten_clean_s));
        jset(bw, "buffers_alloc_per_s", jnum(b->buf_alloc_s));
        jset(bw, "buffers_backend_per_s", jnum(b->buf_backend_s));
        jset(bw, "buffers_backend_fsync_per_s", jnum(b->buf_backend_fsync_s));
        jset(bw, "backend_source", json_string(b->backend_from_io ? "pg_stat_io" : "pg_stat_bgwriter"));
        jset(bw, "stats_reset", jstr(b->stats_reset));
        jset(io, "bgwriter", bw);
    } else {
        jset(io, "checkpointer", json_null());
        jset(io, "bgwriter", json_null());
    }
    const struct s_wal *w = SAMPLE_WAL(s->cur);
    jset(io, "wal", w ? wal_json(w) : json_null());
    const struct s_statio *st = SAMPLE_STATIO(s->cur);
    jset(io, "stat_io", st ? statio_json(st) : json_null());
    jset(io, "sizes", z ? sizes_json(z, db) : json_null());
    jset(io, "disk", disk_json(s, b));
    json_t *errs = json_object();
    static const enum probe_id mine[] = {PROBE_DATABASES, PROBE_BGWRITER, PROBE_WAL, PROBE_IO, PROBE_SIZES};
    for (size_t i = 0; i < ARRAY_LEN(mine); i++)
        if (s->cur->err[mine[i]])
            jset(errs, probe_table[mine[i]]->name, jstr(s->cur->err[mine[i]]));
    if (s->caps.version && s->caps.version < 160000 && !json_object_get(errs, "io"))
        jset(errs, "io", json_string("pg_stat_io needs PostgreSQL 16"));
    jset(io, "errors", errs);
    jset(o, "io", io);
}
