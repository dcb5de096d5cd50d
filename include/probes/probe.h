/* probe.h — the probe classes: each probes/probe_*.c gives the SQL for one kind of facts (chosen
 * by the server's version and capabilities), a pure parser from rowset to its section of a
 * sample, and a pure derive step that turns two samples into rates. probe_table.c lists them. */
#ifndef PGFLEET_PROBE_H
#define PGFLEET_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/rowset.h"

/* A timestamp column as epoch microseconds (an int8): how sessions are identified and guarded.
 * Never the timestamp's text, whose form depends on the session's DateStyle and time zone (an
 * ambiguous zone abbreviation would not even read back). date_part's float8 is exact here: the
 * microseconds (below 2^53) divided by 1e6 and multiplied back stay within 0.5 of the integer
 * until about 2041, and the cast rounds; it costs less per row than extract's numeric, and every
 * side of a guard uses this same expression. */
#define SQL_EPOCH_US(col) "(date_part('epoch', " col ") * 1000000)::int8"

/* What a connection can do, detected once per connection. */
struct server_caps {
    int version; /* PQserverVersion form, e.g. 150004 */
    bool superuser;
    bool pg_monitor;     /* member of pg_monitor (or superuser): sees every query text */
    bool signal_backend; /* member of pg_signal_backend (or superuser) */
    bool has_pgss;       /* pg_stat_statements installed in the connected database */
    int pgss_version;    /* its extension version as major*100+minor (1.10 -> 110); 0 unknown */
    bool has_stat_io;    /* pg_stat_io exists (16+) */
    /* may set track_counts (superuser, or GRANT SET ON PARAMETER on 15+): our probes then run
     * with it off, so that their own reads stay out of the statistics they report */
    bool set_track_counts;
    char *current_user;
};

/* What the user interface asks the probes to collect beyond the defaults. */
struct probe_opts {
    bool idle; /* include idle sessions in the activity list */
};

/* One id per probe; each probe's section type lives in its own header (include/sec_*.h) or in
 * sample.h for the first two. */
enum probe_id {
    PROBE_SERVER,
    PROBE_SESSIONS,
    PROBE_ACTIVITY,
    PROBE_LOCKS,
    PROBE_REPLICATION,
    PROBE_SLOTS,
    PROBE_WALRECEIVER,
    PROBE_ARCHIVER,
    PROBE_SUBSCRIPTIONS,
    PROBE_CONNECTIONS,
    PROBE_POOLS,
    PROBE_POOLSTATS,
    PROBE_POOLSERVERS,
    PROBE_DATABASES,
    PROBE_BGWRITER,
    PROBE_WAL,
    PROBE_IO,
    PROBE_SIZES,
    PROBE_STATEMENTS,
    PROBE_PROGRESS,
    PROBE_FLUSH, /* last: flushes our own statistics so TPS can leave them out exactly */
    PROBE_MAX
};

/* What a probe talks to: a PostgreSQL server, or a pgBouncer admin console (simple protocol,
 * SHOW commands only). */
enum target_kind { KIND_POSTGRES, KIND_PGBOUNCER };

struct sample;

struct probe_class {
    const char *name;
    enum target_kind kind;
    bool essential;       /* a failure of this probe makes the server STALE, not just a pane */
    int min_version;      /* below it the probe is skipped, with a reason */
    unsigned every_ticks; /* 1 = each refresh */
    /* Optional: the cadence, given the last sample (NULL before the first), for a probe whose
     * cost grows with what it finds; overrides every_ticks. */
    unsigned (*every)(const struct sample *last);
    /* runs with our statistics counted even when the others run with track_counts off (the flush
     * probe: see probe_local_settings) */
    bool counted;
    /* The SQL text for this server; NULL when the probe cannot run there (reason in *why). A
     * probe without sql (and parse) has no statement of its own: its section is built by its
     * derive step from the sessions section (PROBE_SESSIONS), runs when that ran and inherits
     * its error. */
    const char *(*sql)(const struct server_caps *, const struct probe_opts *, const char **why);
    /* Parse a result into the sample's section (allocated by parse). Returns 0, or -1 with a
     * one-line reason in err. Pure: no I/O. */
    int (*parse)(const struct rowset *, struct sample *, char *err, size_t errlen);
    /* Compute rates from the previous sample (NULL on the first), in place in cur. */
    void (*derive)(const struct sample *prev, struct sample *cur);
    void (*free_section)(void *section);
    /* Optional: facts read on this machine, not over SQL (e.g. /proc/diskstats), for a server
     * whose host is this machine; called after the tick's results were parsed. */
    void (*local)(const struct sample *prev, struct sample *cur, const struct server_caps *caps);
    /* Optional: a pure step on a section just parsed that needs the server's capabilities (the
     * statements probe leaves out our own statements, told by the texts we send to it). */
    void (*refine)(struct sample *cur, const struct server_caps *caps);
};

extern const struct probe_class *const probe_table[PROBE_MAX];

/* The settings of every probe session (sent with the connection: conn_set_settings); returns
 * how many of max were filled. */
int probe_settings(const char **names, char values[][32], int max, long statement_timeout_ms);
/* The settings made transaction-locally in front of each probe statement (conn_set_local_settings)
 * when the role may (caps.set_track_counts); returns how many of max were filled. */
int probe_local_settings(const char **names, const char **values, int max);
/* The setup statement sent once after connecting (version: the connection's, 0 unknown):
 * capability detection. */
const char *probe_caps_sql(int version);
/* Every statement text pgfleet sends to a server of this version: each probe's SQL for these
 * capabilities with any privileges (another pgfleet may log in as another role), with and without
 * idle sessions, and the setup statement, each once; at most max, returns how many. */
#define PROBE_TEXTS_MAX (8 * PROBE_MAX + 3)
size_t probe_texts(const struct server_caps *caps, const char **texts, size_t max);
int probe_parse_caps(const struct rowset *rs, struct server_caps *caps, char *err, size_t errlen);
void caps_free(struct server_caps *caps);

#endif
