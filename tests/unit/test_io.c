/* test_io.c — unit tests for the Cache & IO probes and pane: pg_stat_database parse and the
 * per-database rates (hit % over the interval, temp, IO time, tuples; resets by stats_reset and
 * by a counter going backwards; new databases; the totals), the bgwriter/checkpointer section on
 * 12–16 and 17+ column sets, WAL rates from pg_stat_wal and from the WAL position, pg_stat_io
 * with op_bytes (16–17) and byte columns (18+), database sizes and their growth, the SQL chosen
 * per version, the host disk helpers over a sample /proc/diskstats and mountinfo, and the pane's
 * JSON (extending the Fleet pane's `cache`) and text forms (escaped names).
 * Fixtures are $PGFLEET_TESTDATA/probes/NAME (default tests/data, run from the top). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/config.h"
#include "core/rowset.h"
#include "core/util.h"
#include "probes/model.h"
#include "probes/probe.h"
#include "probes/sample.h"
#include "probes/sec_io.h"
#include "probes/snapjson.h"
#include "testutil.h"
#include "tui/screen.h"
#include "tui/sections.h"

/* ---- helpers ---- */

#define near(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-6 * (1 + fabs((double)(b))))

static const struct db_stat *db_named(const struct s_databases *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->rows[i].datname && strcmp(d->rows[i].datname, name) == 0)
            return &d->rows[i];
    fail_msg("no database %s", name);
    return NULL;
}

/* ---- databases ---- */

static void test_db_parse_skips_templates_and_shared(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_DATABASES, "db_pg15_t1.rows");
    const struct s_databases *d = SAMPLE_DATABASES(s);
    assert_int_equal(d->n, 4); /* postgres, orders, reports, idle */
    assert_true(d->track_io_timing);
    near(d->epoch, 1700000000.0);
    for (size_t i = 0; i < d->n; i++) {
        assert_non_null(d->rows[i].datname);
        assert_false(d->rows[i].is_template);
        assert_true(isnan(d->rows[i].hit_pct)); /* first sample: no interval */
        assert_true(isnan(d->rows[i].reads_s));
    }
    /* the total counts every database, templates too; the shared objects are a row of their own */
    near(d->total.blks_hit, 300 + 0 + 8000 + 1000000 + 70000 + 100);
    near(d->total.blks_read, 20 + 0 + 200 + 50000 + 3000 + 10);
    assert_string_equal(d->shared.datname, "(shared)");
    near(d->shared.blks_hit, 5000);
    near(d->shared.tup_returned, 20000);
    near(db_named(d, "orders")->blk_read_time, 2000.25);
    assert_string_equal(db_named(d, "orders")->stats_reset, "2023-11-01 10:00:00.123456+00");
    /* derive without a previous sample leaves everything n/a */
    probe_table[PROBE_DATABASES]->derive(NULL, s);
    assert_true(isnan(d->dt));
    sample_free(s);
}

static void test_db_rates_over_interval(void **state)
{
    (void)state;
    struct sample *s = fixture_pair(PROBE_DATABASES, "db_pg15_t1.rows", "db_pg15_t2.rows");
    const struct s_databases *d = SAMPLE_DATABASES(s);
    near(d->dt, 2.0);
    const struct db_stat *o = db_named(d, "orders");
    assert_false(o->reset);
    /* 9000 hits and 1000 reads in the interval: 90 %, although 95 % since boot */
    near(o->hit_pct, 90.0);
    near(o->reads_s, 500);
    near(o->hits_s, 4500);
    near(o->temp_files_s, 1);
    near(o->temp_bytes_s, 1048576);
    near(o->read_ms_s, 50);
    near(o->write_ms_s, 5);
    near(o->returned_s, 50000);
    near(o->fetched_s, 200);
    near(o->inserted_s, 100);
    near(o->updated_s, 50);
    near(o->deleted_s, 5);
    near(o->commits_s, 50);
    near(o->rollbacks_s, 1);
    near(o->deadlocks_s, 0);
    /* the shared catalogs: 100 hits and 100 tuples in 2 s, no read */
    assert_false(d->shared.reset);
    near(d->shared.hits_s, 50);
    near(d->shared.returned_s, 50);
    near(d->shared.hit_pct, 100);
    sample_free(s);
}

static void test_db_resets_and_new(void **state)
{
    (void)state;
    struct sample *s = fixture_pair(PROBE_DATABASES, "db_pg15_t1.rows", "db_pg15_t2.rows");
    const struct s_databases *d = SAMPLE_DATABASES(s);
    /* stats_reset moved */
    const struct db_stat *r = db_named(d, "reports");
    assert_true(r->reset);
    assert_true(isnan(r->hit_pct) && isnan(r->reads_s) && isnan(r->temp_bytes_s));
    /* a counter went backwards without a new stats_reset */
    const struct db_stat *p = db_named(d, "postgres");
    assert_true(p->reset);
    assert_true(isnan(p->hits_s));
    /* nothing happened: rates are 0 and there is no ratio */
    const struct db_stat *i = db_named(d, "idle");
    assert_false(i->reset);
    near(i->reads_s, 0);
    near(i->hits_s, 0);
    assert_true(isnan(i->hit_pct));
    /* a database that was not there before has no rates yet, and is not a reset */
    const struct db_stat *n = db_named(d, "newdb");
    assert_false(n->reset);
    assert_true(isnan(n->reads_s));
    /* the totals went backwards (postgres and reports were reset): n/a as a whole */
    assert_true(d->total.reset);
    assert_true(isnan(d->total.hit_pct));
    sample_free(s);
}

static void test_db_total_rates(void **state)
{
    (void)state;
    /* the same sample twice, one second apart: every rate 0, no ratio, no reset */
    struct sample *p = fixture_parse(NULL, PROBE_DATABASES, "db_pg15_t1.rows");
    struct sample *c = fixture_parse(NULL, PROBE_DATABASES, "db_pg15_t1.rows");
    ((struct s_databases *)c->sec[PROBE_DATABASES])->epoch += 1;
    struct s_databases *cd = c->sec[PROBE_DATABASES];
    cd->total.blks_hit += 300; /* 300 hits, 100 reads */
    cd->total.blks_read += 100;
    probe_table[PROBE_DATABASES]->derive(p, c);
    assert_false(cd->total.reset);
    near(cd->total.hit_pct, 75.0);
    near(cd->total.reads_s, 100);
    sample_free(p);
    sample_free(c);
}

static void test_db_bad_results(void **state)
{
    (void)state;
    const char *perr = NULL;
    struct rowset *rs = rowset_parse_text("epoch|datid|datname\n1|2|x\n", &perr);
    struct sample *s = sample_new();
    char err[200] = "";
    assert_int_equal(probe_table[PROBE_DATABASES]->parse(rs, s, err, sizeof err), -1);
    assert_non_null(strstr(err, "track_io_timing"));
    assert_null(s->sec[PROBE_DATABASES]);
    rowset_free(rs);
    sample_free(s);
    /* a result with no rows (no statistics visible) is an empty section, not an error */
    s = fixture_parse(NULL, PROBE_DATABASES, "db_pg12_notiming.rows");
    assert_false(SAMPLE_DATABASES(s)->track_io_timing);
    sample_free(s);
}

/* ---- bgwriter / checkpointer ---- */

static void test_bgwriter_pg15(void **state)
{
    (void)state;
    struct sample *s = fixture_pair(PROBE_BGWRITER, "io_bgwriter_pg15_t1.rows", "io_bgwriter_pg15_t2.rows");
    const struct s_bgwriter *b = SAMPLE_BGWRITER(s);
    assert_string_equal(b->data_directory, "/var/lib/postgresql/15/main");
    assert_false(b->backend_from_io);
    near(b->dt, 4);
    near(b->timed_d, 0);
    near(b->req_d, 1);
    near(b->req_pct, 100.0 * 11 / 111);
    near(b->write_ms_s, 1000);
    near(b->sync_ms_s, 2);
    near(b->buf_checkpoint_s, 1000);
    near(b->buf_clean_s, 100);
    near(b->maxwritten_clean_s, 0);
    near(b->buf_backend_s, 200);
    near(b->buf_backend_fsync_s, 0.5);
    near(b->buf_alloc_s, 1000);
    /* no local hook ran: no disk figures, no reason */
    assert_false(b->disk.tried);
    assert_null(b->disk.why);
    sample_free(s);
}

static void test_bgwriter_pg17_reset(void **state)
{
    (void)state;
    struct sample *s = fixture_pair(PROBE_BGWRITER, "io_bgwriter_pg17_t1.rows", "io_bgwriter_pg17_t2.rows");
    const struct s_bgwriter *b = SAMPLE_BGWRITER(s);
    assert_null(b->data_directory);
    assert_true(b->backend_from_io);
    /* pg_stat_checkpointer was reset: the whole section is n/a for this interval */
    assert_true(isnan(b->req_d) && isnan(b->write_ms_s) && isnan(b->buf_backend_s));
    assert_true(isnan(b->req_pct)); /* no checkpoint since the reset */
    sample_free(s);

    s = fixture_pair(PROBE_BGWRITER, "io_bgwriter_pg17_noio.rows", "io_bgwriter_pg17_noio.rows");
    b = SAMPLE_BGWRITER(s);
    assert_true(isnan(b->buf_backend));
    assert_true(isnan(b->buf_backend_s)); /* missing on both sides */
    near(b->req_pct, 0);
    sample_free(s);
}

/* ---- SQL per version ---- */

static const char *sql_for(enum probe_id id, int version, bool stat_io, const char **why)
{
    struct server_caps caps = {.version = version, .has_stat_io = stat_io, .superuser = true};
    struct probe_opts o = {0};
    *why = NULL;
    return probe_table[id]->sql(&caps, &o, why);
}

static void test_sql_per_version(void **state)
{
    (void)state;
    const char *why, *q;
    q = sql_for(PROBE_DATABASES, 120000, false, &why);
    assert_non_null(strstr(q, "pg_stat_database"));
    assert_non_null(strstr(q, "track_io_timing"));

    q = sql_for(PROBE_BGWRITER, 120000, false, &why);
    assert_non_null(strstr(q, "checkpoints_timed"));
    assert_non_null(strstr(q, "buffers_backend"));
    assert_null(strstr(q, "pg_stat_checkpointer"));
    assert_non_null(strstr(q, "pg_read_all_settings")); /* data_directory only when allowed */
    assert_string_equal(q, sql_for(PROBE_BGWRITER, 160000, true, &why));
    q = sql_for(PROBE_BGWRITER, 170000, true, &why);
    assert_non_null(strstr(q, "pg_stat_checkpointer"));
    assert_non_null(strstr(q, "num_requested"));
    assert_null(strstr(q, "buffers_backend"));

    q = sql_for(PROBE_WAL, 130000, false, &why);
    assert_null(strstr(q, "pg_stat_wal"));
    assert_non_null(strstr(q, "pg_current_wal_lsn"));
    q = sql_for(PROBE_WAL, 140000, false, &why);
    assert_non_null(strstr(q, "FROM pg_stat_wal"));
    assert_non_null(strstr(q, " wal_write,"));
    assert_string_equal(q, sql_for(PROBE_WAL, 170000, true, &why));
    q = sql_for(PROBE_WAL, 180000, true, &why);
    assert_null(strstr(q, "NULL::bigint AS wal_write"));
    assert_non_null(strstr(q, "FROM pg_stat_io WHERE object = 'wal' AND context = 'normal'"));

    assert_null(sql_for(PROBE_IO, 150000, false, &why));
    assert_string_equal(why, "pg_stat_io needs PostgreSQL 16");
    q = sql_for(PROBE_IO, 160000, true, &why);
    assert_non_null(strstr(q, "op_bytes"));
    assert_non_null(strstr(q, "FROM pg_stat_io"));
    q = sql_for(PROBE_IO, 180000, true, &why);
    assert_null(strstr(q, "op_bytes"));
    assert_non_null(strstr(q, "read_bytes"));
    assert_int_equal(probe_table[PROBE_IO]->min_version, 160000);

    q = sql_for(PROBE_SIZES, 120000, false, &why);
    assert_non_null(strstr(q, "pg_database_size"));
    assert_non_null(strstr(q, "has_database_privilege"));
    assert_int_equal(probe_table[PROBE_SIZES]->every_ticks, 10);

    /* the disk is read once per server and tick: by one probe's hook only */
    int hooks = 0;
    for (int p = 0; p < PROBE_MAX; p++)
        hooks += probe_table[p]->local != NULL && (p >= PROBE_DATABASES && p <= PROBE_SIZES);
    assert_int_equal(hooks, 1);
    assert_non_null(probe_table[PROBE_BGWRITER]->local);
}

/* ---- WAL ---- */

static void test_wal_position_pg12(void **state)
{
    (void)state;
    struct sample *s = fixture_pair(PROBE_WAL, "io_wal_pg12_t1.rows", "io_wal_pg12_t2.rows");
    const struct s_wal *w = SAMPLE_WAL(s);
    assert_string_equal(w->source, "wal position");
    near(w->bytes_s, 3145728.0 / 2);
    assert_true(isnan(w->records_s));
    sample_free(s);

    s = fixture_pair(PROBE_WAL, "io_wal_pg12_replica.rows", "io_wal_pg12_replica.rows");
    w = SAMPLE_WAL(s);
    assert_null(w->source);
    assert_true(w->in_recovery);
    assert_true(isnan(w->bytes_s));
    sample_free(s);
}

static void test_wal_pg15_and_reset(void **state)
{
    (void)state;
    struct sample *s = fixture_pair(PROBE_WAL, "io_wal_pg15_t1.rows", "io_wal_pg15_t2.rows");
    const struct s_wal *w = SAMPLE_WAL(s);
    assert_string_equal(w->source, "pg_stat_wal");
    near(w->bytes_s, 1048576);
    near(w->records_s, 250);
    near(w->fpi_s, 25);
    near(w->buffers_full_s, 0.5);
    near(w->write_s, 30);
    near(w->sync_s, 25);
    near(w->write_ms_s, 1);
    near(w->sync_ms_s, 5);
    sample_free(s);

    s = fixture_pair(PROBE_WAL, "io_wal_pg15_t1.rows", "io_wal_pg15_reset.rows");
    w = SAMPLE_WAL(s);
    assert_true(isnan(w->bytes_s));
    assert_true(isnan(w->records_s));
    sample_free(s);

    s = fixture_pair(PROBE_WAL, "io_wal_pg18.rows", "io_wal_pg18.rows");
    w = SAMPLE_WAL(s);
    assert_string_equal(w->source, "pg_stat_wal");
    assert_true(isnan(w->write));
    assert_true(isnan(w->write_s));
    assert_true(isnan(w->bytes_s)); /* same clock on both sides: no interval */
    sample_free(s);
}

static void test_wal_for_fleet(void **state)
{
    (void)state;
    struct server srv;
    memset(&srv, 0, sizeof srv);
    assert_true(isnan(io_wal_bytes_per_s(&srv)));
    assert_true(isnan(io_wal_bytes_per_s(NULL)));
    srv.cur = fixture_pair(PROBE_WAL, "io_wal_pg15_t1.rows", "io_wal_pg15_t2.rows");
    near(io_wal_bytes_per_s(&srv), 1048576);
    sample_free(srv.cur);
}

/* ---- pg_stat_io ---- */

static const struct io_row *io_named(const struct s_statio *s, const char *bt, const char *ctx)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->rows[i].backend_type, bt) == 0 && strcmp(s->rows[i].context, ctx) == 0)
            return &s->rows[i];
    fail_msg("no pg_stat_io row %s/%s", bt, ctx);
    return NULL;
}

static void test_statio_pg16(void **state)
{
    (void)state;
    struct sample *s = fixture_pair(PROBE_IO, "io_statio_pg16_t1.rows", "io_statio_pg16_t2.rows");
    const struct s_statio *io = SAMPLE_STATIO(s);
    assert_int_equal(io->n, 4);
    near(io->dt, 2);
    const struct io_row *r = io_named(io, "client backend", "bulkread");
    near(r->reads_s, 1000);
    near(r->read_bytes_s, 1000 * 8192.0);
    near(r->read_ms_s, 20);
    near(r->evictions_s, 0);
    r = io_named(io, "client backend", "normal");
    near(r->hits_s, 100);
    near(r->fsyncs_s, 0); /* NULL: an operation this row cannot do counts as 0 */
    r = io_named(io, "checkpointer", "normal");
    near(r->writes_s, 0);
    near(r->reads, 0);
    /* absent from the previous sample: it was all zeros then */
    r = io_named(io, "autovacuum worker", "vacuum");
    near(r->reads_s, 32);
    near(r->read_bytes_s, 32 * 8192.0);
    sample_free(s);
}

static void test_statio_pg18_and_empty(void **state)
{
    (void)state;
    struct sample *s = fixture_parse(NULL, PROBE_IO, "io_statio_pg18.rows");
    const struct s_statio *io = SAMPLE_STATIO(s);
    assert_int_equal(io->n, 2);
    near(io_named(io, "client backend", "normal")->read_bytes, 81920);
    near(io_named(io, "client backend", "normal")->extend_bytes, 16384);
    near(io_named(io, "walwriter", "normal")->write_bytes, 245760);
    assert_true(isnan(io_named(io, "walwriter", "normal")->writes_s));
    sample_free(s);

    const char *perr = NULL;
    struct rowset *rs = rowset_parse_text("epoch|backend_type|object|context|reads|read_time|writes|"
                                          "write_time|extends|hits|evictions|fsyncs|op_bytes|stats_reset\n",
                                          &perr);
    s = sample_new();
    char err[200] = "";
    assert_int_equal(probe_table[PROBE_IO]->parse(rs, s, err, sizeof err), 0);
    assert_int_equal(SAMPLE_STATIO(s)->n, 0);
    rowset_free(rs);
    sample_free(s);
}

/* ---- sizes ---- */

static void test_sizes_growth(void **state)
{
    (void)state;
    struct sample *s = fixture_pair(PROBE_SIZES, "io_sizes_t1.rows", "io_sizes_t2.rows");
    const struct s_sizes *z = SAMPLE_SIZES(s);
    assert_int_equal(z->n, 2);
    near(z->total, 6951424.0 + 1020971520.0);
    near(z->dt, 20);
    near(z->rows[1].growth_s, 1048576);
    near(z->rows[0].growth_s, -52428.8);
    near(z->total_growth_s, (20971520.0 - 1048576.0) / 20);
    sample_free(s);
}

/* ---- host disk ---- */

static void test_diskstats_find(void **state)
{
    (void)state;
    char *text = fixture_text("io_diskstats.txt");
    char name[64];
    struct disk_counters c;
    assert_int_equal(diskstats_find(text, 259, 2, name, sizeof name, &c), 0);
    assert_string_equal(name, "nvme0n1p2");
    near(c.reads, 119000);
    near(c.sectors_read, 9590000);
    near(c.writes, 79990);
    near(c.sectors_written, 12799920);
    near(c.in_flight, 2);
    near(c.io_ticks, 69800);
    assert_int_equal(diskstats_find(text, 253, 0, name, sizeof name, &c), 0);
    assert_string_equal(name, "dm-0");
    /* the 14-field format of older kernels */
    assert_int_equal(diskstats_find(text, 8, 16, name, sizeof name, &c), 0);
    near(c.weighted_ms, 250);
    assert_int_equal(diskstats_find(text, 8, 0, name, sizeof name, &c), -1);
    assert_int_equal(diskstats_find("", 8, 0, name, sizeof name, &c), -1);
    assert_int_equal(diskstats_find("garbage\n\n 8 0\n", 8, 0, name, sizeof name, &c), -1);
    free(text);
}

static void test_mountinfo_source(void **state)
{
    (void)state;
    char *text = fixture_text("io_mountinfo.txt");
    char src[256], fs[64];
    assert_int_equal(mountinfo_source(text, 0, 45, src, sizeof src, fs, sizeof fs), 0);
    assert_string_equal(src, "/dev/mapper/vg-pg");
    assert_string_equal(fs, "btrfs");
    assert_int_equal(mountinfo_source(text, 0, 46, src, sizeof src, fs, sizeof fs), 0);
    assert_string_equal(fs, "overlay");
    assert_string_equal(src, "overlay");
    assert_int_equal(mountinfo_source(text, 259, 2, src, sizeof src, fs, sizeof fs), 0);
    assert_string_equal(src, "/dev/nvme0n1p2");
    assert_int_equal(mountinfo_source(text, 0, 99, src, sizeof src, fs, sizeof fs), -1);
    free(text);
}

static void test_disk_derive(void **state)
{
    (void)state;
    struct host_disk p, c;
    memset(&p, 0, sizeof p);
    memset(&c, 0, sizeof c);
    p.mono_ms = 1000;
    c.mono_ms = 3000;
    p.c.reads = 100, c.c.reads = 300;
    p.c.writes = 50, c.c.writes = 250;
    p.c.sectors_read = 0, c.c.sectors_read = 4096;
    p.c.sectors_written = 0, c.c.sectors_written = 8192;
    p.c.read_ms = 0, c.c.read_ms = 100;
    p.c.write_ms = 0, c.c.write_ms = 300;
    p.c.io_ticks = 500, c.c.io_ticks = 1500;
    disk_derive(&p, &c);
    near(c.dt, 2);
    near(c.reads_s, 100);
    near(c.writes_s, 100);
    near(c.read_bytes_s, 2048 * 512.0);
    near(c.write_bytes_s, 4096 * 512.0);
    near(c.util_pct, 50);
    near(c.await_ms, 1);
    /* io_ticks can run ahead of the wall clock by a tick: never above 100 % */
    c.c.io_ticks = 500 + 2100;
    disk_derive(&p, &c);
    near(c.util_pct, 100);
}

static void test_host_disk_read(void **state)
{
    (void)state;
    struct host_disk a, b;
    memset(&a, 0, sizeof a);
    host_disk_read(NULL, NULL, &a);
    assert_true(a.tried);
    assert_non_null(strstr(a.why, "pg_read_all_settings"));
    free(a.why);

    memset(&a, 0, sizeof a);
    host_disk_read("/nonexistent/pgfleet/data", NULL, &a);
    assert_non_null(strstr(a.why, "cannot stat"));
    free(a.why);

    /* A device already known to have no disk is not looked up again. */
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    struct stat st;
    assert_int_equal(stat("/", &st), 0);
    a.tried = a.no_disk = true;
    a.st_dev = (unsigned long long)st.st_dev;
    a.why = xstrdup("the data directory is on overlay (overlay), not on a disk");
    host_disk_read("/", &a, &b);
    assert_true(b.no_disk);
    assert_string_equal(b.why, a.why);
    free(a.why);
    free(b.why);

    /* This machine's root: either a disk with figures, or a one-line reason (containers). */
    memset(&a, 0, sizeof a);
    host_disk_read("/", NULL, &a);
    assert_true(a.tried);
    assert_true(isnan(a.reads_s)); /* first reading */
    if (a.why) {
        assert_null(strchr(a.why, '\n'));
        free(a.why);
        return;
    }
    assert_true(a.device[0] != '\0');
    a.mono_ms -= 1000; /* as if read a second ago */
    memset(&b, 0, sizeof b);
    host_disk_read("/", &a, &b);
    assert_null(b.why);
    assert_string_equal(a.device, b.device);
    assert_true(b.dt >= 1.0 && b.dt < 30);
    assert_true(b.reads_s >= 0 && b.writes_s >= 0 && b.util_pct >= 0 && b.util_pct <= 100);
}

/* ---- the snapshot forms (JSON: probes/snapjson_*.c; text: the pane) ---- */

/* Two servers: "shop" (PostgreSQL 15, two samples of every probe of this pane) and "old"
 * (PostgreSQL 12, first sample, track_io_timing off, a database name with control bytes). */
static int setup(void **state)
{
    struct world *w = world_new(2);
    w->cfg.servers[0].name = xstrdup("shop");
    w->cfg.servers[0].conninfo = xstrdup("host=shop.example.com");
    w->cfg.servers[1].name = xstrdup("old");
    w->cfg.servers[1].conninfo = xstrdup("host=old.example.com");
    struct server *s = &w->m.servers[0];
    s->caps.version = 150004;
    s->caps.set_track_counts = true; /* our own reads left out */
    s->prev = sample_new();
    s->cur = sample_new();
    static const struct {
        enum probe_id id;
        const char *t1, *t2;
    } f[] = {
        {PROBE_SERVER, "server_pg15.rows", "server_pg15_t2.rows"},
        {PROBE_DATABASES, "db_pg15_t1.rows", "db_pg15_t2.rows"},
        {PROBE_BGWRITER, "io_bgwriter_pg15_t1.rows", "io_bgwriter_pg15_t2.rows"},
        {PROBE_WAL, "io_wal_pg15_t1.rows", "io_wal_pg15_t2.rows"},
        {PROBE_SIZES, "io_sizes_t1.rows", "io_sizes_t2.rows"},
    };
    for (size_t i = 0; i < ARRAY_LEN(f); i++) {
        fixture_parse(s->prev, f[i].id, f[i].t1);
        fixture_parse(s->cur, f[i].id, f[i].t2);
        probe_table[f[i].id]->derive(s->prev, s->cur);
    }
    s->cur->err[PROBE_IO] = xstrdup("needs PostgreSQL 16 or later");
    s = &w->m.servers[1];
    s->caps.version = 120017;
    s->cur = sample_new();
    fixture_parse(s->cur, PROBE_SERVER, "server_pg12.rows");
    fixture_parse(s->cur, PROBE_DATABASES, "db_pg12_notiming.rows");
    fixture_parse(s->cur, PROBE_WAL, "io_wal_pg12_replica.rows");
    s->cur->err[PROBE_BGWRITER] = xstrdup("permission denied for view pg_stat_bgwriter");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_free(*state);
    return 0;
}

static void test_pane_json(void **state)
{
    struct world *w = *state;
    json_t *o = json_object();
    snapjson_server(&w->m, &w->m.servers[0], o);
    snapjson_io(&w->m, &w->m.servers[0], o);
    json_t *cache = json_object_get(o, "cache");
    assert_non_null(cache);
    assert_non_null(json_object_get(cache, "hit_pct")); /* snapjson_server's keys are kept */
    json_t *dbs = json_object_get(cache, "databases");
    assert_true(json_is_array(dbs));
    assert_int_equal(json_array_size(dbs), 5);
    bool found = false;
    for (size_t i = 0; i < json_array_size(dbs); i++) {
        json_t *d = json_array_get(dbs, i);
        if (strcmp(json_string_value(json_object_get(d, "name")), "orders") != 0)
            continue;
        found = true;
        near(json_real_value(json_object_get(d, "hit_pct")), 90.0);
        near(json_real_value(json_object_get(d, "temp_bytes_per_s")), 1048576);
        near(json_real_value(json_object_get(d, "size_bytes")), 1020971520.0);
    }
    assert_true(found);
    json_t *io = json_object_get(o, "io");
    assert_true(json_is_true(json_object_get(io, "track_io_timing")));
    near(json_real_value(json_object_get(json_object_get(io, "checkpointer"), "requested")), 11);
    near(json_real_value(json_object_get(json_object_get(io, "wal"), "bytes_per_s")), 1048576);
    assert_string_equal(json_string_value(json_object_get(json_object_get(io, "wal"), "source")), "pg_stat_wal");
    assert_true(json_is_null(json_object_get(io, "stat_io")));
    assert_non_null(json_object_get(json_object_get(io, "errors"), "io"));
    assert_true(json_is_null(json_object_get(io, "disk"))); /* not on this machine */
    assert_int_equal(json_array_size(json_object_get(json_object_get(io, "sizes"), "databases")), 2);
    /* the shared catalogs apart from the databases' total; our own reads left out */
    json_t *sh = json_object_get(cache, "shared_objects");
    near(json_real_value(json_object_get(sh, "blks_hit_per_s")), 50);
    assert_string_equal(json_string_value(json_object_get(sh, "name")), "(shared)");
    assert_true(json_is_false(json_object_get(cache, "own_reads_counted")));
    json_decref(o);

    /* without snapjson_server's object, the section makes its own; a missing part is null */
    o = json_object();
    snapjson_io(&w->m, &w->m.servers[1], o);
    io = json_object_get(o, "io");
    assert_true(json_is_false(json_object_get(io, "track_io_timing")));
    assert_true(json_is_null(json_object_get(io, "checkpointer")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(io, "errors"), "bgwriter")),
                        "permission denied for view pg_stat_bgwriter");
    assert_true(json_is_array(json_object_get(json_object_get(o, "cache"), "databases")));
    assert_true(json_is_true(json_object_get(json_object_get(o, "cache"), "own_reads_counted")));
    json_decref(o);

    /* DOWN servers get no keys */
    w->m.servers[1].status = SRV_DOWN;
    o = json_object();
    snapjson_io(&w->m, &w->m.servers[1], o);
    assert_null(json_object_get(o, "io"));
    json_decref(o);
    w->m.servers[1].status = SRV_UP;
}

static void test_pane_text(void **state)
{
    struct world *w = *state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    io_text(&w->m, f);
    fclose(f);
    assert_non_null(strstr(buf, "CACHE & IO"));
    assert_non_null(strstr(buf, "orders"));
    assert_non_null(strstr(buf, " 90.0 "));
    assert_non_null(strstr(buf, "track_io_timing is off"));
    assert_non_null(strstr(buf, "pg_stat_io needs PostgreSQL 16"));
    assert_non_null(strstr(buf, "permission denied for view pg_stat_bgwriter"));
    assert_non_null(strstr(buf, "(pg_stat_wal)"));
    /* orders (500 reads/s) is listed before idle (0) */
    assert_true(strstr(buf, "orders") < strstr(buf, "idle "));
    /* untrusted names are escaped: no raw ESC byte, the escape visible */
    assert_null(strchr(buf, '\033'));
    assert_non_null(strstr(buf, "evil\\033[2Jdb x"));
    /* the shared catalogs' row; "old" (12, not a superuser) counts our own reads and says so */
    assert_non_null(strstr(buf, "(shared)        100.0      0    50 "));
    assert_non_null(strstr(buf,
                           "own reads    pgfleet's own reads are counted here:  only a superuser may set "
                           "track_counts before PostgreSQL 15"));
    assert_true(strstr(buf, "own reads") > strstr(buf, "old"));
    free(buf);

    /* 15+: how to leave them out, the role quoted as SQL wants it; none when they are left out */
    struct server *s = &w->m.servers[0];
    s->caps.set_track_counts = false;
    s->caps.current_user = xstrdup("Mon \"x\"");
    f = open_memstream(&buf, &len);
    io_text(&w->m, f);
    fclose(f);
    assert_non_null(strstr(buf,
                           "pgfleet's own reads are counted here:  GRANT SET ON PARAMETER track_counts TO "
                           "\"Mon \"\"x\"\"\"  leaves them out"));
    free(buf);
    s->caps.set_track_counts = true;
    w->m.servers[1].caps.version = 0; /* caps unknown: nothing said */
    f = open_memstream(&buf, &len);
    io_text(&w->m, f);
    fclose(f);
    assert_null(strstr(buf, "own reads"));
    free(buf);
    w->m.servers[1].caps.version = 120017;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_parse_skips_templates_and_shared),
        cmocka_unit_test(test_db_rates_over_interval),
        cmocka_unit_test(test_db_resets_and_new),
        cmocka_unit_test(test_db_total_rates),
        cmocka_unit_test(test_db_bad_results),
        cmocka_unit_test(test_bgwriter_pg15),
        cmocka_unit_test(test_bgwriter_pg17_reset),
        cmocka_unit_test(test_sql_per_version),
        cmocka_unit_test(test_wal_position_pg12),
        cmocka_unit_test(test_wal_pg15_and_reset),
        cmocka_unit_test(test_wal_for_fleet),
        cmocka_unit_test(test_statio_pg16),
        cmocka_unit_test(test_statio_pg18_and_empty),
        cmocka_unit_test(test_sizes_growth),
        cmocka_unit_test(test_diskstats_find),
        cmocka_unit_test(test_mountinfo_source),
        cmocka_unit_test(test_disk_derive),
        cmocka_unit_test(test_host_disk_read),
        cmocka_unit_test_setup_teardown(test_pane_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pane_text, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
