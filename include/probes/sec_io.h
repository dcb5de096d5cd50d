/* sec_io.h — the sections of the Cache & IO probes (probes/probe_cache.c, probes/probe_io.c):
 * per-database counters and their rates over the interval, the checkpointer and background
 * writer, WAL generation, pg_stat_io, database sizes and the host's disk statistics. Counters
 * are doubles so that a column a version lacks is NAN rather than a second shape; rates are
 * NAN on the first sample, after a stats reset or when a counter went backwards. */
#ifndef PGFLEET_SEC_IO_H
#define PGFLEET_SEC_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/sample.h"

/* PROBE_DATABASES: one pg_stat_database row. */
struct db_stat {
    double datid;
    char *datname; /* raw server text; NULL for the shared-objects row (datid 0) */
    bool is_template;
    double blks_hit, blks_read, temp_files, temp_bytes;
    double blk_read_time, blk_write_time; /* ms since the reset; meaningful with track_io_timing */
    double tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted;
    double xact_commit, xact_rollback, deadlocks, conflicts;
    char *stats_reset;
    /* derived over the interval */
    bool reset;     /* stats_reset moved or a counter went backwards: rates are n/a */
    double hit_pct; /* NAN also when no block was read or hit in the interval */
    double hits_s, reads_s, temp_files_s, temp_bytes_s, read_ms_s, write_ms_s;
    double returned_s, fetched_s, inserted_s, updated_s, deleted_s;
    double commits_s, rollbacks_s, deadlocks_s, conflicts_s;
};

struct s_databases {
    double epoch; /* server clock */
    bool track_io_timing;
    struct db_stat *rows; /* user databases: no templates, no shared-objects row */
    size_t n;
    struct db_stat total;  /* every database summed (templates too) */
    struct db_stat shared; /* the shared-objects row (datid 0): reads of the shared catalogs */
    double dt;             /* measured interval, NAN on the first sample */
};

/* Host disk statistics of the device holding the data directory (servers on this machine). */
struct disk_counters {
    double reads, reads_merged, sectors_read, read_ms;
    double writes, writes_merged, sectors_written, write_ms;
    double in_flight, io_ticks, weighted_ms;
};

struct host_disk {
    bool tried;      /* the local hook ran for this sample */
    char *why;       /* why there are no figures (one line, our text), or NULL */
    char device[64]; /* as /proc/diskstats names it: "sda1", "dm-0" */
    unsigned major, minor;
    unsigned long long st_dev; /* of the data directory: a changed device is a fresh start */
    bool no_disk;              /* st_dev maps to no block device: not looked up again */
    struct disk_counters c;
    int64_t mono_ms; /* now_ms() when read: the interval of local figures */
    double dt;
    double reads_s, writes_s, read_bytes_s, write_bytes_s, util_pct, await_ms;
};

/* PROBE_BGWRITER: checkpointer and background writer (pg_stat_checkpointer on 17+), plus the
 * data directory the local hook needs and the host disk figures that hook fills in. */
struct s_bgwriter {
    double epoch;
    char *data_directory; /* NULL when the role may not read it */
    double ckpt_timed, ckpt_req, ckpt_write_ms, ckpt_sync_ms, buf_checkpoint;
    double buf_clean, maxwritten_clean, buf_backend, buf_backend_fsync, buf_alloc;
    bool backend_from_io; /* 17+: buffers written by backends summed from pg_stat_io */
    char *stats_reset, *ckpt_stats_reset;
    /* derived */
    double dt;
    double timed_d, req_d; /* checkpoints in the interval */
    double req_pct;        /* requested share of all checkpoints since the reset */
    double write_ms_s, sync_ms_s;
    double buf_checkpoint_s, buf_clean_s, maxwritten_clean_s, buf_backend_s, buf_backend_fsync_s, buf_alloc_s;
    struct host_disk disk;
};

/* PROBE_WAL: pg_stat_wal (14+) and the current WAL position (primaries). */
struct s_wal {
    double epoch;
    bool in_recovery;
    double lsn; /* bytes since 0/0 of pg_current_wal_lsn(); NAN on a replica */
    double records, fpi, bytes, buffers_full, write, sync, write_ms, sync_ms; /* NAN: missing */
    char *stats_reset;
    /* derived */
    double dt;
    const char *source; /* "pg_stat_wal", "wal position" or NULL: where bytes_s came from */
    double bytes_s, records_s, fpi_s, buffers_full_s, write_s, sync_s, write_ms_s, sync_ms_s;
};

/* PROBE_IO: pg_stat_io (16+), only the rows that ever saw activity. */
struct io_row {
    char *backend_type, *object, *context;
    double reads, writes, extends, hits, evictions, fsyncs, read_ms, write_ms;
    double read_bytes, write_bytes, extend_bytes; /* 18+ from the view, else ops × op_bytes */
    char *stats_reset;
    double reads_s, writes_s, extends_s, hits_s, evictions_s, fsyncs_s, read_ms_s, write_ms_s;
    double read_bytes_s, write_bytes_s, extend_bytes_s;
};

struct s_statio {
    double epoch;
    struct io_row *rows;
    size_t n;
    double dt;
};

/* PROBE_SIZES: pg_database_size() of the databases we may connect to, every few ticks. */
struct db_size {
    char *datname;
    double bytes;
    double growth_s; /* bytes per second since the previous size sample */
};

struct s_sizes {
    double epoch;
    struct db_size *rows;
    size_t n;
    double total, total_growth_s;
    double dt;
};

#define SAMPLE_DATABASES(s) ((const struct s_databases *)((s) ? (s)->sec[PROBE_DATABASES] : NULL))
#define SAMPLE_BGWRITER(s) ((const struct s_bgwriter *)((s) ? (s)->sec[PROBE_BGWRITER] : NULL))
#define SAMPLE_WAL(s) ((const struct s_wal *)((s) ? (s)->sec[PROBE_WAL] : NULL))
#define SAMPLE_STATIO(s) ((const struct s_statio *)((s) ? (s)->sec[PROBE_IO] : NULL))
#define SAMPLE_SIZES(s) ((const struct s_sizes *)((s) ? (s)->sec[PROBE_SIZES] : NULL))

/* The size row of database datname, or NULL (no sizes, or not listed). */
const struct db_size *sizes_find(const struct s_sizes *z, const char *datname);

/* The rate of a counter held as a double: NAN when either side is missing, dt is not positive
 * or the counter went backwards. */
double io_rate(double prev, double cur, double dt);

/* WAL bytes per second of a server's latest sample (the Fleet pane's WAL/s), or NAN. */
struct server;
double io_wal_bytes_per_s(const struct server *s);

/* Pure pieces of the local disk hook, for the tests. */
/* Find the line of device major:minor in /proc/diskstats text; 0 and its counters, or -1. */
int diskstats_find(const char *text, unsigned major, unsigned minor, char *name, size_t namelen,
                   struct disk_counters *out);
/* The mount source and file system type of device major:minor in /proc/self/mountinfo text
 * (for a data directory on a device number with no disk of its own, e.g. btrfs). 0 or -1. */
int mountinfo_source(const char *text, unsigned major, unsigned minor, char *src, size_t srclen, char *fstype,
                     size_t fslen);
/* Rates of cur over prev (same device, read on the monotonic clock). */
void disk_derive(const struct host_disk *prev, struct host_disk *cur);
/* Fill cur from the data directory: stat, device, one read of /proc/diskstats, rates. */
void host_disk_read(const char *data_directory, const struct host_disk *prev, struct host_disk *cur);

#endif
