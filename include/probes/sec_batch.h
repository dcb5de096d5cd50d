/* sec_batch.h — the batch probe's section (PROBE_BATCH): the batched migrations on a server, from
 * pgfleet's control table pgfleet.batch_job (read only where it exists; `pgfleet batch init`
 * creates it, `pgfleet batch run` writes it) and from third-party runners' status tables. */
#ifndef PGFLEET_SEC_BATCH_H
#define PGFLEET_SEC_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/model.h"
#include "probes/sample.h"

/* One job. Raw server text: escape before showing. */
struct batch_row {
    char *job;
    char *source;  /* NULL: pgfleet's own table; else the third-party source's name */
    char *desired; /* run, pause, cancel */
    char *state;   /* queued, running, throttled, paused, cancelled, done, failed */
    int64_t batch_size, batch_min, batch_max;
    int64_t cursor, cursor_start, cursor_end; /* INT64_MIN when NULL */
    int64_t rows_done, rows_estimated;        /* rows_estimated -1 when unknown */
    double pct;                               /* 0..100, NAN when unknown */
    double rows_per_sec;                      /* NAN when unknown */
    double eta_s;                             /* NAN when unknown */
    int64_t last_batch_ms;                    /* -1 when none yet */
    char *throttle_reason;                    /* NULL when not throttled */
    double throttled_s;                       /* how long it has been throttled; NAN */
    double heartbeat_age_s;                   /* NAN when never */
    char *runner_host;
    int runner_pid;     /* the runner process on runner_host, 0 when none */
    int runner_backend; /* the runner's backend pid on this server, 0 when none */
    bool runner_alive;  /* that backend is connected with application_name pgfleet-batch:JOB */
    bool stale;         /* running/throttled but its runner is gone or silent */
    char *error;
    char *sql; /* the batch statement */
};

struct s_batch {
    struct batch_row *rows;
    size_t n;
};

#define SAMPLE_BATCH(s) ((const struct s_batch *)((s) ? (s)->sec[PROBE_BATCH] : NULL))

#endif
