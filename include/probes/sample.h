/* sample.h — one tick's facts about one server, one section per probe, and the sections' types.
 * Sections are owned by the sample; a probe that did not run this tick has its section moved
 * forward from the previous sample. Rates live in the section they were derived for. */
#ifndef PGFLEET_SAMPLE_H
#define PGFLEET_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/probe.h"

/* PROBE_SERVER: the server's identity, size and cluster-wide counters (the session counts are
 * filled from PROBE_SESSIONS by its derive step). */
struct s_server {
    double epoch;   /* server now() as Unix seconds: the clock rates divide by */
    double started; /* pg_postmaster_start_time() as Unix seconds */
    bool in_recovery;
    int version_num;
    char *version; /* "15.4" */
    int max_connections, reserved_connections;
    int conns; /* client backends */
    int active, idle, idle_in_xact, waiting_lock;
    double longest_query_s; /* oldest active query; NAN if none */
    double longest_xact_s;  /* oldest open transaction; NAN if none */
    int64_t xacts;          /* sum of commits + rollbacks over all databases */
    int64_t blks_hit, blks_read;
    char *stats_reset; /* newest stats_reset of pg_stat_database, text; may be NULL */
    int64_t xid_age;   /* oldest datfrozenxid age: how close to wraparound */
    int own_xacts;     /* transactions our own probes made in this tick (not the users') */
    /* derived from the previous sample (NAN until two samples exist, or after a reset) */
    double tps;
    double cache_hit_pct; /* over the interval; NAN if no block was read or hit */
    double dt;            /* the measured interval, seconds */
};

/* PROBE_SESSIONS: one row per backend of pg_stat_activity (ours included), the one read of it
 * per tick; PROBE_ACTIVITY: the rows of it shown in the Activity pane. Raw server text: escape. */
struct activity_row {
    int pid;
    char *datname, *usename, *application_name, *client, *backend_type, *state;
    char *wait_event_type, *wait_event;
    char *query;
    char *backend_start, *query_start;     /* epoch microseconds (SQL_EPOCH_US), for the guard */
    double xact_age, query_age, state_age; /* seconds; NAN if NULL */
    int blocked_by;                        /* number of pids blocking it (0 unless waiting) */
    bool superuser;                        /* the session's role is a superuser */
    bool mine;                             /* our own probe session (by pid) */
    long xmin_age;                         /* idle in a transaction: age of the older of
                                            * backend_xmin and backend_xid; -1 otherwise */
};

struct s_sessions {
    struct activity_row *rows; /* as the server sent them */
    size_t n;
    size_t *by_pid; /* row indexes sorted by pid: sessions_find() */
    bool with_idle; /* idle sessions' query text was asked for */
    /* the slots (from our own row): max_connections, superuser_reserved_connections and
     * reserved_connections (16+; 0 before) */
    int max_connections, superuser_reserved, reserved;
    char *arena; /* when set, the rows' strings point into it (a copy of the result's cells) */
};

struct s_activity {
    struct activity_row *rows;
    size_t n;
    bool with_idle;
};

struct sample {
    void *sec[PROBE_MAX];
    char *err[PROBE_MAX]; /* why a section is missing or stale: one line, raw server text */
    /* now_ms() when the tick's results arrived (set by sched before parse): the clock of rates
     * for targets whose answers carry no server clock (pgBouncer's SHOW output). */
    int64_t taken_ms;
};

#define SAMPLE_SERVER(s) ((const struct s_server *)((s) ? (s)->sec[PROBE_SERVER] : NULL))
#define SAMPLE_SESSIONS(s) ((const struct s_sessions *)((s) ? (s)->sec[PROBE_SESSIONS] : NULL))
#define SAMPLE_ACTIVITY(s) ((const struct s_activity *)((s) ? (s)->sec[PROBE_ACTIVITY] : NULL))

/* The session with this pid, or NULL. */
const struct activity_row *sessions_find(const struct s_sessions *ss, int pid);
/* A deep copy of a session row (into *dst) and the freeing of one. */
void activity_row_copy(struct activity_row *dst, const struct activity_row *src);
void activity_row_free(struct activity_row *r);

struct sample *sample_new(void);
void sample_free(struct sample *s);

/* Counter maths shared by derive steps: the rate of a counter over dt, or NAN when there is no
 * previous value, dt is not positive, or the counter went backwards (a reset). */
double counter_rate(int64_t prev, int64_t cur, double dt);

#endif
