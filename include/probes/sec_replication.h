/* sec_replication.h — the sample sections of the replication probes (PROBE_REPLICATION,
 * PROBE_WALRECEIVER, PROBE_SLOTS, PROBE_ARCHIVER, PROBE_SUBSCRIPTIONS), the lag history ring
 * the Replication pane's sparkline reads, LSN helpers, and the figures the Fleet pane shows
 * (worst replica lag, archiver failing). All raw server text; escape it before showing it. */
#ifndef PGFLEET_SEC_REPLICATION_H
#define PGFLEET_SEC_REPLICATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/sample.h"

/* A WAL position. 0 is InvalidXLogRecPtr, which no real position is: it stands for SQL NULL. */
typedef uint64_t lsn_t;

/* "16/B374D848" → position; NULL, empty or malformed text → 0. */
lsn_t lsn_parse(const char *text);
/* Position → "16/B374D848" (PostgreSQL's own form), "-" for 0. Returns buf. */
char *lsn_format(char *buf, size_t len, lsn_t lsn);

/* The last LAG_RING_N values of a figure, one per tick: the sparkline's data. It lives inside
 * a section and is carried from one sample to the next by the probe's derive step, because the
 * model keeps only two samples. At a 1-2 s refresh, 120 points are the last 2-4 minutes. */
#define LAG_RING_N 120
struct lag_ring {
    double v[LAG_RING_N];
    unsigned n, head; /* n values stored; head is where the next one goes */
};
void lag_ring_push(struct lag_ring *r, double v);
/* Copy the values out, oldest first; returns how many (at most max). */
size_t lag_ring_values(const struct lag_ring *r, double *out, size_t max);

/* A primary's WAL position over the last ticks: when was position X written? A replica's time
 * lag is then "how long ago did the primary pass the replica's replay position", which stays
 * right while replay is paused or the primary is quiet, unlike the age of the last replayed
 * commit. */
struct lsn_hist {
    double t[LAG_RING_N]; /* server epoch of each sample */
    lsn_t lsn[LAG_RING_N];
    unsigned n, head;
};
void lsn_hist_push(struct lsn_hist *h, double t, lsn_t lsn);
/* The time of the first sample past pos: WAL at pos was written no later than that. NAN when
 * no sample is past pos. *older is set when even the oldest sample is past pos (the WAL is
 * older than the history: its age is then at least now minus the time returned). */
double lsn_hist_passed(const struct lsn_hist *h, lsn_t pos, bool *older);

/* PROBE_REPLICATION: who this server is in its cluster, where its WAL stands, and (on a
 * primary or a cascading replica) one row per WAL sender from pg_stat_replication. */
struct repl_sender {
    int pid;
    char *application_name, *client_addr, *state, *sync_state;
    char *slot_name, *slot_type; /* the slot this sender uses, if any (logical or physical) */
    int client_port, sync_priority;
    lsn_t sent_lsn, write_lsn, flush_lsn, replay_lsn;
    /* bytes behind this server's current position (pg_wal_lsn_diff); NAN when unknown */
    double sent_lag_b, write_lag_b, flush_lag_b, replay_lag_b;
    /* seconds, from the primary's own measurement; NULL (NAN) when the standby is idle */
    double write_lag_s, flush_lag_s, replay_lag_s;
    double reply_age_s;   /* since the standby's last status message */
    struct lag_ring hist; /* replay_lag_b over the last ticks, as the primary sees it */
};

struct s_replication {
    double epoch; /* server now(), Unix seconds */
    bool in_recovery;
    char *system_identifier;       /* text: a 64-bit number (JSON doubles would round it); NULL if unknown */
    char *sysid_why;               /* why system_identifier is NULL (from the SQL chosen by privileges) */
    int timeline;                  /* 0 if unknown */
    char *cluster_name;            /* the cluster_name setting; "" when unset */
    int server_port;               /* inet_server_port(); 0 over a unix socket */
    char *server_addr;             /* host(inet_server_addr()); NULL over a unix socket */
    lsn_t current_lsn;             /* primary: pg_current_wal_lsn() */
    lsn_t receive_lsn, replay_lsn; /* replica */
    char *pause_state;             /* replica: "not paused", "pause requested", "paused" */
    bool replay_paused;            /* paused or pause requested */
    double last_replay_age_s;      /* now() - pg_last_xact_replay_timestamp(); NAN if none */
    struct repl_sender *senders;
    size_t nsenders;
    /* derived */
    double wal_rate;      /* bytes/s: WAL written (primary) or replayed (replica); NAN on the first sample */
    double local_lag_b;   /* replica: received but not replayed yet */
    double local_lag_s;   /* replica: 0 when all received WAL is replayed, else the age of the last replayed commit */
    struct lag_ring hist; /* replica: local_lag_b over the last ticks */
    struct lsn_hist wal_hist; /* primary: current_lsn over the last ticks */
};

/* PROBE_WALRECEIVER: the replica's WAL receiver (pg_stat_wal_receiver); present is false when
 * there is none (a primary, or a replica that is not streaming). */
struct s_walreceiver {
    bool present;
    int pid;
    char *status, *sender_host, *slot_name;
    char *app_name; /* application_name it presents to the primary (from its conninfo) */
    int sender_port, received_tli;
    lsn_t written_lsn, flushed_lsn, latest_end_lsn; /* written_lsn is 13+; 12 has received_lsn (= flushed) */
    double last_msg_age_s, latest_end_age_s;
};

/* PROBE_SLOTS: pg_replication_slots with the WAL each one keeps. */
struct slot_row {
    char *slot_name, *slot_type, *plugin, *database, *wal_status, *invalidation_reason;
    bool active, temporary, conflicting;
    int active_pid;
    lsn_t restart_lsn, confirmed_flush_lsn;
    double retained_b;      /* WAL kept for it: current (replica: replay) position - restart_lsn */
    double confirmed_lag_b; /* logical: current position - confirmed_flush_lsn */
    double safe_wal_size;   /* 13+: bytes before it is lost; NAN when unlimited or unknown */
    double xmin_age;        /* the older of xmin and catalog_xmin, in transactions; NAN if none */
};

struct s_slots {
    struct slot_row *rows;
    size_t n;
};

/* PROBE_ARCHIVER: pg_stat_archiver and archive_mode. */
struct s_archiver {
    double epoch;
    char *archive_mode;
    int64_t archived_count, failed_count;
    char *last_archived_wal, *last_failed_wal, *stats_reset;
    double last_archived_time, last_failed_time; /* Unix seconds; NAN if never */
    double last_archived_age_s, last_failed_age_s;
    int64_t ready_count; /* WAL files waiting to be archived; -1 when unknown (needs pg_monitor) */
    /* derived */
    double archived_rate, failed_rate; /* per second over the interval; NAN first/after a reset */
    bool failing;                      /* the last attempt failed: last failure newer than last success */
};

/* PROBE_SUBSCRIPTIONS: logical replication seen from this server: its subscriptions (apply
 * workers, pg_stat_subscription) and the publications of the connected database. */
struct sub_row {
    char *name, *database, *slot_name;
    bool enabled;
    int pid; /* 0: no apply worker running */
    lsn_t received_lsn, latest_end_lsn;
    double last_msg_age_s, latest_end_age_s;
    int sync_workers;                  /* table synchronisation workers running */
    int64_t apply_errors, sync_errors; /* 15+ (pg_stat_subscription_stats); -1 when unknown */
};

struct pub_row {
    char *name;
    bool all_tables;
    int64_t tables;
};

struct s_subscriptions {
    struct sub_row *subs;
    size_t nsubs;
    struct pub_row *pubs;
    size_t npubs;
};

#define SAMPLE_REPL(s) ((const struct s_replication *)((s) ? (s)->sec[PROBE_REPLICATION] : NULL))
#define SAMPLE_WALRCV(s) ((const struct s_walreceiver *)((s) ? (s)->sec[PROBE_WALRECEIVER] : NULL))
#define SAMPLE_SLOTS(s) ((const struct s_slots *)((s) ? (s)->sec[PROBE_SLOTS] : NULL))
#define SAMPLE_ARCHIVER(s) ((const struct s_archiver *)((s) ? (s)->sec[PROBE_ARCHIVER] : NULL))
#define SAMPLE_SUBS(s) ((const struct s_subscriptions *)((s) ? (s)->sec[PROBE_SUBSCRIPTIONS] : NULL))

/* ---- figures for the Fleet pane (pure, over the model; implemented in probes/repl_cluster.c)
 * Servers are related by system_identifier: a replica's lag is measured against the primary
 * of its cluster when that primary is in the fleet (its current LSN minus the replica's replay
 * LSN; the two samples are up to one refresh apart, so under a write load the figure may be
 * that much too high), else against what the replica itself received. */
struct model;
struct server;

/* Replay lag in bytes. For a primary: the worst of its replicas (its pg_stat_replication rows
 * and the replicas of its cluster in the fleet). For a replica: its own. NAN when there is
 * nothing to measure (no replicas, a server down, a probe not answered). */
double repl_worst_lag_bytes(const struct model *m, const struct server *s);
/* Replay lag in seconds, the same way. The byte lag is the truth; time lag is 0 when the
 * replica has replayed all it received and the primary sent nothing newer, and otherwise the
 * age of the last replayed commit (which keeps growing while replay is paused). */
double repl_lag_seconds(const struct model *m, const struct server *s);
/* 1 when the server's archiver is failing (its last failure is newer than its last success),
 * else 0 (also when unknown). */
int archiver_failing(const struct server *s);

#endif
