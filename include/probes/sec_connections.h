/* sec_connections.h — the sections of the Connections pane: PROBE_CONNECTIONS (a server's client
 * backends against max_connections, broken down by state, database, user, application and
 * client, and its idle-in-transaction sessions) and the pgBouncer probes PROBE_POOLS (SHOW POOLS)
 * and PROBE_POOLSTATS (SHOW STATS, with rates). Raw server text: escape before showing. */
#ifndef PGFLEET_SEC_CONNECTIONS_H
#define PGFLEET_SEC_CONNECTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/sample.h"
#include "probes/sev.h"

/* ---- PROBE_CONNECTIONS ---- */

enum conn_breakdown { CB_STATE, CB_DATABASE, CB_USER, CB_APPLICATION, CB_CLIENT, CB_N };

/* One value of a breakdown and how many sessions have it. name NULL: the server hid it (a
 * session of another role, seen without pg_monitor) or it is SQL NULL. */
struct conn_count {
    char *name;
    long n;
};

struct conn_group {
    struct conn_count *top; /* most sessions first, at most CONN_TOP */
    size_t ntop;
    long other; /* sessions whose value is not in top */
    long nkeys; /* distinct values, top and other together */
};
#define CONN_TOP 10
#define CONN_IIT_MAX 20

/* An idle-in-transaction session: it holds its snapshot (backend_xmin) and its locks while
 * the client does nothing. */
struct conn_iit {
    int pid;
    char *usename, *datname, *application_name, *client, *state;
    double idle_s; /* since state_change; NAN if unknown */
    double xact_s; /* since xact_start; NAN if unknown */
    long xmin_age; /* transactions since the oldest xid it holds back (backend_xmin or
                      * backend_xid, the older); -1 if it holds neither */
};

struct s_connections {
    int max_connections;
    int superuser_reserved; /* superuser_reserved_connections */
    int reserved;           /* reserved_connections (16+), 0 before */
    long used;              /* client backends, ours included: they take a slot too */
    long own;               /* of which ours */
    long sessions;          /* client backends that are not ours: what the breakdowns count */
    long waiting;           /* of those, waiting for a lock */
    struct conn_group by[CB_N];
    struct conn_iit *iit; /* oldest idle first, at most CONN_IIT_MAX */
    size_t niit;
    long niit_total; /* idle-in-transaction sessions, all of them */
};

/* clang-format off */
#define SAMPLE_CONNECTIONS(s) \
    ((const struct s_connections *)((s) ? (s)->sec[PROBE_CONNECTIONS] : NULL))
/* clang-format on */

/* The slots ordinary roles can take: health_usable() of max_connections and both reserves. */
int conn_usable(const struct s_connections *c);
/* used as a percentage of usable; NAN when usable is not positive. */
double conn_used_pct(const struct s_connections *c);
/* "state", "database", "user", "application", "client" */
const char *conn_breakdown_name(enum conn_breakdown b);

/* ---- PROBE_POOLS: SHOW POOLS, one row per (database, user) pool ---- */

/* Counts are -1 when this pgBouncer version has no such column. */
struct pool_row {
    char *database, *user, *pool_mode;
    long cl_active, cl_waiting, cl_active_cancel_req, cl_waiting_cancel_req;
    long sv_active, sv_idle, sv_used, sv_tested, sv_login;
    double maxwait_s; /* maxwait + maxwait_us; NAN if neither column exists */
};

struct s_pools {
    struct pool_row *rows;
    size_t n;
};

#define SAMPLE_POOLS(s) ((const struct s_pools *)((s) ? (s)->sec[PROBE_POOLS] : NULL))

/* pgBouncer's own console shows up as a pool "pgbouncer"; it is no one's workload. */
bool pool_admin_db(const char *db);
/* A pooler's pools added up, the console's left out; worst is the worst pool's health_pool(). */
struct pool_sum {
    long cl_active, cl_waiting, sv_active, sv_idle, sv_used;
    double maxwait_s;
    enum sev worst;
};
struct pool_sum pool_totals(const struct s_pools *p);

/* ---- PROBE_POOLSTATS: SHOW STATS, one row per database, with rates over the interval ---- */

/* Totals are -1 when the column is missing (older pgBouncers name them differently). Times
 * are microseconds, as pgBouncer reports them. */
struct poolstat_row {
    char *database;
    int64_t xact_count, query_count, received, sent, xact_time, query_time, wait_time;
    int64_t avg_xact_count, avg_query_count, avg_recv, avg_sent, avg_xact_time, avg_query_time, avg_wait_time;
    /* derived over the interval; NAN on the first sample, after a reset or when missing */
    double xacts_s, queries_s, recv_s, sent_s;
    double xact_us, query_us; /* mean transaction / query time over the interval */
    double wait_us;           /* client wait per transaction over the interval */
};

/* pgBouncer has no clock in its SHOW output: the interval is the local monotonic time at which
 * the samples arrived (struct sample's taken_ms, copied here by parse). */
struct s_poolstats {
    struct poolstat_row *rows;
    size_t n;
    int64_t taken_ms;
    double dt; /* the interval the rates divide by, seconds; NAN at first */
};

#define SAMPLE_POOLSTATS(s) ((const struct s_poolstats *)((s) ? (s)->sec[PROBE_POOLSTATS] : NULL))

const struct poolstat_row *poolstats_find(const struct s_poolstats *st, const char *database);

/* ---- PROBE_POOLSERVERS: SHOW SERVERS, the pooler's connections to its servers ---- */

/* remote_pid is the backend's pid on the server (0 when unknown): how a session in Activity is
 * known to be a pooler's server connection, which the action dialogs say before a terminate. */
struct poolserver_row {
    char *database, *user, *state;
    int remote_pid;
};

struct s_poolservers {
    struct poolserver_row *rows;
    size_t n;
};

#define SAMPLE_POOLSERVERS(s) ((const struct s_poolservers *)((s) ? (s)->sec[PROBE_POOLSERVERS] : NULL))

#endif
