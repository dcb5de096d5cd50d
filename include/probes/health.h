/* health.h — the one severity policy: which figure of a server is OK/WARN/CRIT, why, and how
 * the fleet sorts worst first. The Fleet pane, the header, the Activity, Connections and
 * Replication panes and the snapshot ask it; none judges a figure itself. Pure: no curses,
 * no libpq. */
#ifndef PGFLEET_HEALTH_H
#define PGFLEET_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/config.h"
#include "probes/model.h"
#include "probes/restore_record.h"
#include "probes/sec_connections.h"
#include "probes/sec_replication.h"
#include "probes/sev.h"

/* Usable connections, the one formula every place uses and says: the slots ordinary roles can
 * take, max_connections - superuser_reserved_connections - reserved_connections (the latter
 * 16+, 0 before). reserved is the two reserves added up. */
int health_usable(int max_connections, int reserved);
/* used as a percentage of usable; NAN when usable is not positive. */
double health_used_pct(long used, int usable);

/* Connection use is critical from this share on, whatever the config's connections_pct. */
#define HEALTH_CONNS_CRIT_PCT 95.0
/* A pgBouncer client that waited longer than this for a server connection is critical. */
#define HEALTH_POOL_WAIT_CRIT_S 1.0

/* ---- one figure at a time (for rows of the panes); NAN or unknown input gives SEV_NONE ---- */

enum sev health_status(enum srv_status st);                          /* UP OK, DOWN CRIT, else WARN */
enum sev health_conns(double used_pct, const struct thresholds *th); /* WARN at th, CRIT at 95 */
/* An age in seconds against a threshold in ms: WARN at it, CRIT at twice it, else OK. */
enum sev health_age(double seconds, int64_t warn_ms);
/* Replication lag: WARN at the bytes or time threshold, CRIT at four times either. */
enum sev health_lag(double bytes, double seconds, const struct thresholds *th);
/* A replication slot: inactive and keeping WAL WARN, CRIT past the lag threshold or when the WAL
 * is about to be (unreserved) or has been (lost) removed or it conflicts; extended WARN. */
enum sev health_slot(const struct slot_row *r, const struct thresholds *th);
/* A pgBouncer pool: clients waiting WARN, CRIT once one waited over HEALTH_POOL_WAIT_CRIT_S. */
enum sev health_pool(const struct pool_row *p);
/* Cache hit ratio below the threshold: WARN. */
enum sev health_cache_hit(double pct, const struct thresholds *th);
/* Transaction ID age: WARN past 500M (freezing overdue), CRIT past 1.5B (heading for the
 * forced shutdown at 2^31). */
enum sev health_xid_age(int64_t age);
/* Restore tests (restore_record.h): OK when the last good test started less than max_age_days
 * ago, WARN when longer, CRIT when the newest test that was not aborted failed, or none ever
 * succeeded (st NULL: none recorded). max_age_days <= 0: SEV_NONE (not judged). A server is only
 * judged when its fleet has any record at all (health_of): see HF_RESTORE. */
enum sev health_restore(const struct restore_status *st, int max_age_days, time_t now);
/* The same with a short reason, always filled ("last good restore test 3d ago"), made of numbers
 * only (no server text). */
enum sev health_restore_why(const struct restore_status *st, int max_age_days, time_t now, char *why, size_t len);
/* Whole days since the last good test (rounded down), or -1 when there is none. */
int health_restore_age_days(const struct restore_status *st, time_t now);

/* ---- a whole server ---- */

/* The figures a server is judged on, as the model gives them (health_of fills them; tests
 * may fill them by hand). Unknown: NAN, or -1 for counts. */
struct health_in {
    enum srv_status status;
    bool pooler; /* a pgBouncer: only status and pool_waiting count */
    bool live;   /* a sample exists and the server is not DOWN */
    long conns_used;
    int conns_usable; /* health_usable() */
    int blocked;      /* sessions waiting on a lock */
    int idle_in_xact;
    double longest_query_s;
    double cache_hit_pct;
    double lag_bytes, lag_s; /* the worst replica's (a primary) or its own (a replica) */
    int64_t xid_age;
    bool archiver_failing;
    long pool_waiting;   /* pgBouncer: clients waiting for a server connection */
    enum sev pool_level; /* the worst pool's health_pool() */
    /* Restore tests: judged only when restore_judged (some server of the fleet has records, and
     * this one is not a pooler); restore is this server's status, NULL when none is recorded. */
    bool restore_judged;
    const struct restore_status *restore;
    int restore_max_age_days;
    time_t now;
};

enum health_fig {
    HF_STATUS,
    HF_CONNS,
    HF_BLOCKED,
    HF_IDLE_XACT,
    HF_LONGEST,
    HF_LAG,
    HF_CACHE,
    HF_XID,
    HF_ARCHIVER,
    HF_POOL_WAIT,
    HF_RESTORE,
    HF_N
};

#define VERDICT_REASON 64
struct verdict {
    enum sev level;              /* SEV_NONE: not judged (unknown, or not this kind of server) */
    char reason[VERDICT_REASON]; /* short, made of numbers only (no server text); "" if fine */
};

struct health {
    struct health_in in;
    struct verdict v[HF_N];
    int score; /* the fleet sorts by it, higher first */
};

/* Judge the figures. The score: DOWN 1000, STALE 900, CONNECTING 800; else the sum over the
 * figures at WARN or worse of blocked 200 (+1 a session, up to 50), connections 150, lag 120,
 * longest query 100, archiver 80, xid age 60, cache hit 50; a pooler's waiting clients 200
 * (+1 a client, up to 50); and the restore tests, below every live figure (a backup nobody
 * proved is a risk, not an incident): failed or never tested 20, too old 10. A fleet without any
 * restore test record is not judged on them at all (SEV_NONE: no one who does not use restore
 * tests is nagged). Idle-in-transaction counts are shown, not sorted by. */
void health_judge(const struct health_in *in, const struct thresholds *th, struct health *out);
/* Gather a server's figures from the model and judge them. */
void health_of(const struct model *m, const struct server *s, struct health *out);
/* The memo health_of answers from (model.h): made by sched_init, freed by sched_free. */
struct health_memo *health_memo_new(size_t n);
void health_memo_free(struct health_memo *memo);
/* health_of's score: higher is worse. */
int health_score(const struct model *m, const struct server *s);

#endif
