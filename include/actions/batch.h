/* batch.h — batched migrations: the control table that runners and operators share
 * (pgfleet.batch_job, created by `pgfleet batch init`), the job file that `pgfleet batch run`
 * reads, and the pure helpers of the runner (placeholders, batch sizing). */
#ifndef PGFLEET_BATCH_H
#define PGFLEET_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

/* The channel the control table's trigger notifies (payload: the job's name) when an operator
 * changes desired or batch_size; runners LISTEN on it. */
#define BATCH_CHANNEL "pgfleet_batch"
/* The application_name of a runner's sessions is this followed by the job's name. */
#define BATCH_APP_PREFIX "pgfleet-batch:"

/* The DDL of schema pgfleet and table pgfleet.batch_job with its trigger: idempotent, one
 * transaction, works on PostgreSQL 12 and later. */
const char *batch_schema_sql(void);

/* A job file (YAML). Durations in ms, sizes in bytes; -1: not set (no limit). */
struct batch_jobfile {
    char *path;
    char *job;
    char *server;       /* a server of the fleet config, or NULL when conninfo is given */
    char *conninfo;     /* may hold a password: never print it */
    char *database;     /* NULL: the server's own */
    char *key;          /* the key column */
    char *sql;          /* the batch statement as written, with :cursor and :batch */
    char *bound;        /* the same with $1 (cursor) and $2 (batch size) in their place */
    char *end_sql;      /* range mode: the cursor's end (a query, or a number); NULL: keyset mode */
    char *estimate_sql; /* rows to do, for % and ETA; NULL: none */
    char *start_sql;    /* the cursor's first value (a query, or a number); NULL: 0 */
    int64_t size, min, max, target_ms, sleep_ms;
    int64_t max_lag_bytes, max_lag_ms, max_blocked;
    int64_t lock_timeout_ms, statement_timeout_ms;
};

/* Load and check a job file; every problem is one line "FILE:LINE:COL: message" in err, and
 * -1 is returned (the job is then to be freed, not used). */
int batch_jobfile_load(struct batch_jobfile *jf, const char *path, struct text *err);
void batch_jobfile_free(struct batch_jobfile *jf);

/* The statement with its placeholders :cursor and :batch replaced by $1::int8 and $2::int8
 * (parameters, never values spliced in). Quotes, dollar quotes, comments and :: casts are left
 * alone. NULL with the reason in why (a placeholder missing, an unknown one such as :curosr). */
char *batch_bind(const char *sql, char *why, size_t whylen);

/* The next batch size: toward the target duration (at most doubling or halving per batch),
 * within [min, max]. took_ms <= 0 keeps the size. */
int64_t batch_next_size(int64_t size, int64_t took_ms, int64_t target_ms, int64_t min, int64_t max);
/* After a lock or statement timeout: half, at least min. */
int64_t batch_halve(int64_t size, int64_t min);

#endif
