/* sec_progress.h — the progress probe's section (PROBE_PROGRESS): one row per running VACUUM,
 * ANALYZE, CREATE INDEX, CLUSTER, BASE BACKUP or COPY from pg_stat_progress_*, with how far its
 * current phase is and, from two samples, its speed and the time its phase has left. */
#ifndef PGFLEET_SEC_PROGRESS_H
#define PGFLEET_SEC_PROGRESS_H

#include <stddef.h>

#include "probes/model.h"
#include "probes/sample.h"

struct progress_row {
    int pid;
    char *command;  /* "VACUUM", "CREATE INDEX CONCURRENTLY", "COPY FROM", … */
    char *phase;    /* the view's phase text; NULL without the privilege to see it */
    char *relation; /* name (schema-qualified when not on the search path), "#oid" for a
                      * relation of another database, NULL for none */
    char *datname;
    char *unit;         /* what done/total count: "blocks", "tuples", "bytes", "lockers", "indexes" */
    double done, total; /* NAN when unknown */
    double pct;         /* 100 * done / total; NAN when the total is unknown */
    /* over the interval, for the same phase of the same command (derive) */
    double rate;  /* units per second; NAN when unknown */
    double eta_s; /* seconds this phase has left at that rate; NAN when unknown */
};

struct s_progress {
    double epoch;
    struct progress_row *rows;
    size_t n;
};

#define SAMPLE_PROGRESS(s) ((const struct s_progress *)((s) ? (s)->sec[PROBE_PROGRESS] : NULL))

/* How many commands report progress on this server now (0 when unknown or down). */
int progress_count(const struct server *s);
/* One line of raw text (escape it before showing) about backend pid's progress, e.g.
 * "CREATE INDEX, building index: scanning table, public.big, 1200/5000 blocks (24.0%),
 * 310 blocks/s, ETA 12s"; returns its length, 0 when pid reports none. */
size_t progress_describe(const struct server *s, int pid, char *buf, size_t len);
/* The same description of one row. */
size_t progress_row_describe(const struct progress_row *r, char *buf, size_t len);

#endif
