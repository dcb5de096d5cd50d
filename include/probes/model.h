/* model.h — the fleet as the user interface and the snapshot writers see it: every server's
 * status, its latest samples and derived rates. Written only by the scheduler (sched.c);
 * panes, snapshots and runbooks read it. */
#ifndef PGFLEET_MODEL_H
#define PGFLEET_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "probes/probe.h"
#include "probes/sample.h"

enum srv_status { SRV_CONNECTING, SRV_UP, SRV_STALE, SRV_DOWN };

struct server {
    const struct server_conf *conf; /* name, conninfo, tags (poolers get one made from theirs) */
    enum target_kind kind;
    const struct pooler_conf *pooler; /* KIND_PGBOUNCER: its config (serves: …) */
    bool local;                       /* the server runs on this machine (loopback or socket) */
    enum srv_status status;
    char reason[320]; /* why DOWN or STALE; raw text (escape before showing) */
    int64_t status_since_ms;
    struct server_caps caps;
    struct sample *cur, *prev;
    unsigned ticks;     /* completed samples since connecting */
    int64_t last_ok_ms; /* now_ms() of the last complete sample, 0 if none */
    int64_t tick_ms;    /* how long the last tick took, send to last result */
    /* scheduling (sched.c) */
    struct conn *conn;
    int phase; /* sched.c's state machine */
    int64_t next_tick_ms;
    int64_t retry_at_ms;
    int64_t backoff_ms;
    int64_t sent_ms;
    int failures;
    unsigned tickno;
    int inflight[PROBE_MAX]; /* the probe of each statement of the batch in flight */
    int ninflight;
    int setup_stmts; /* statements of the connection's setup batch */
};

struct jobs;
struct restore_book;
struct restore_status;

/* The restore tests' record as the model holds it (restore_watch.c): the book read from the
 * file, reloaded when the file changed, checked by one stat() per refresh interval at most. */
struct restore_watch {
    bool on;                   /* a file is watched (the loop sets it up; tests may not) */
    char *path;                /* owned; NULL: no home directory, nothing recorded */
    struct restore_book *book; /* NULL: not loaded (no file, or not watched) */
    bool judged;               /* some server of the fleet has records: restore tests are judged */
    /* the file as last read: a change of any of these reloads it */
    bool seen_exists;
    int64_t seen_size, seen_mtime_ns;
    uint64_t seen_ino;
    int64_t checked_ms; /* now_ms() of the last stat */
    char err[200];      /* the last read error (raw text), "" if none: the previous book is kept */
};

struct model {
    const struct config *cfg;
    struct jobs *jobs;      /* running and finished actions (actions/job.c), may be NULL */
    struct server *servers; /* the config's servers, then its poolers */
    size_t n;
    struct server_conf *pooler_confs; /* owned: the server_conf view of each pooler */
    struct probe_opts opts;
    int64_t refresh_ms;
    int64_t grid_ms;     /* the servers' ticks fall on grid_ms + k * refresh_ms (sched.c) */
    bool paused;         /* frozen by the user: no new ticks */
    unsigned generation; /* bumped whenever anything visible changed */
    /* Figures derived across servers, computed once per generation (repl_cluster.c); NULL in a
     * model not made by sched_init (tests), which then computes them on every call. */
    struct lag_memo *lag_memo;
    struct health_memo *health_memo; /* every server's health_of, likewise (health.c) */
    struct restore_watch restore;
};

/* Each server's worst replication lag, valid for one generation of the model. */
struct lag_memo {
    bool valid;
    unsigned generation;
    double *bytes, *seconds; /* m->n of each */
};

/* Every server's health (health.h), valid for one generation of the model: a frame asks for it
 * per row, for the sort and for the header. */
struct health;
struct health_memo {
    bool valid;
    unsigned generation;
    struct health *h; /* m->n of them */
};

const char *srv_status_name(enum srv_status s);
const char *srv_role(const struct server *s); /* "primary", "replica" or "?" */
/* The servers' order, worst first (by health_score, then name): order gets m->n indexes. */
void fleet_order(const struct model *m, size_t *order);
/* ---- restore tests (restore_watch.c) ---- */
/* Watch the record file at path (taken; NULL: none) and load it now. */
void model_restore_watch(struct model *m, char *path);
/* Called by the scheduler on every step: stats the file at most once per refresh interval (not
 * while paused) and reloads it when it changed (a run recorded by another pgfleet, cron). True
 * when the book changed (the generation was bumped). */
bool model_restore_poll(struct model *m, int64_t now);
/* Reload at once: the restore-test action calls it after appending its record. */
void model_restore_reload(struct model *m);
/* Put a book in place (taken; the old one is freed) and judge whether the fleet is tested. */
void model_restore_set_book(struct model *m, struct restore_book *b);
void model_restore_free(struct model *m);
/* The server's restore status, NULL when none is recorded (or nothing is watched). */
const struct restore_status *model_restore_status(const struct model *m, const struct server *s);

/* Whether pooler (a KIND_PGBOUNCER server) serves the server of that config name. */
bool pooler_serves(const struct server *pooler, const char *name);
/* Whether backend pid of server is a server connection of a pgBouncer of the fleet that serves
 * it (SHOW SERVERS' remote_pid): then out gets "NAME (pool DB/USER)", raw text. */
bool pooler_of_backend(const struct model *m, size_t server, int pid, char *out, size_t len);
/* The same for a server known by its config name (it need not be in the model itself). */
bool pooler_of_backend_named(const struct model *m, const char *name, int pid, char *out, size_t len);

#endif
