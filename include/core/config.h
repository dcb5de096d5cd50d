/* config.h — the fleet configuration: what fleet.yaml (DESIGN.md §8) or the command line says
 * to watch, and how. Loading is strict: every problem is reported as FILE:LINE:COL: message. */
#ifndef PGFLEET_CONFIG_H
#define PGFLEET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

struct thresholds {
    int64_t slow_query_ms;          /* default 5s */
    int64_t idle_in_transaction_ms; /* default 30s */
    int64_t repl_lag_bytes;         /* default 16MB */
    int64_t repl_lag_ms;            /* default 30s */
    double connections_pct;         /* default 80 */
    double cache_hit_pct;           /* default 95 */
};

/* restore_test: a canary query whose value the restored server must reach (at least the value
 * read from the source just before the copy). */
struct canary_conf {
    char *database; /* NULL: the server's own */
    char *query;
};

/* restore_test: fleet-wide, and per server (a server's keys override the fleet's one by one;
 * restore_conf_resolve). NULL / -1 / 0 mean "not set here". */
struct restore_conf {
    char *method;            /* basebackup, logical, pgbackrest, hook */
    char *scratch_dir;       /* where restores go; default $TMPDIR or /var/tmp */
    int keep_on_failure;     /* keep a failed test's scratch directory to look at */
    int amcheck;             /* run pg_amcheck on the restored server */
    char *run_as;            /* OS user for the tools and the scratch server (needed as root) */
    char *bindir;            /* PostgreSQL binaries, "{major}" replaced; NULL: the usual places */
    char *source;            /* basebackup: the fleet server to copy from; NULL: a replica, else itself */
    char *stanza;            /* pgbackrest */
    char *pgbackrest_config; /* pgbackrest --config */
    char *hook;              /* method hook: the command ({datadir} {server} {major} {target_time}) */
    char *target_time;       /* pgbackrest and hook: recover to this time, not the end of the WAL */
    char *max_rate;          /* basebackup: pg_basebackup --max-rate (e.g. 50M): spare the source */
    struct canary_conf *canaries;
    size_t ncanaries;
    int64_t timeout_ms;          /* the whole test; default 6h */
    int source_line, source_col; /* where source: was given (checked once every server is read) */
};

struct server_conf {
    char *name;
    char *conninfo; /* as given: key=value string or URI; may hold a password, never print it */
    char **tags;
    size_t ntags;
    int line, col;                /* where it was defined in the file; 0 for the command line */
    struct restore_conf *restore; /* its own restore_test: keys, or NULL */
};

struct pooler_conf {
    char *name;
    char *conninfo;
    char **serves; /* server names */
    size_t nserves;
    int line, col;
};

struct config {
    char *path;         /* the file loaded, or NULL */
    int64_t refresh_ms; /* refresh: default 2s */
    int64_t timeout_ms; /* timeout: per-server deadline for connect and for a tick; default 5s */
    struct thresholds th;
    struct server_conf *servers;
    size_t nservers;
    struct pooler_conf *poolers;
    size_t npoolers;
    char **escalation;
    size_t nescalation;
    bool read_only;
    /* actions: */
    bool allow_system_backends; /* let cancel/terminate target background processes */
    char *audit_log;            /* default $XDG_STATE_HOME/pgfleet/audit.jsonl */
    int restore_max_age_days;   /* restore_test.max_age_days: default 90 */
    struct restore_conf restore;
    /* failover: is accepted and kept for the action to come. */
    int64_t failover_max_lag_bytes; /* default 1MB */
    char *failover_pooler_db_file;  /* may be NULL */
};

/* The restore_test settings for one server: its own keys over the fleet's, over the defaults
 * (method basebackup, timeout 6h). The strings are borrowed from cfg. */
void restore_conf_resolve(const struct config *cfg, const struct server_conf *s, struct restore_conf *out);

/* Fill cfg with defaults and no servers. */
void config_init(struct config *cfg);
void config_free(struct config *cfg);

/* Load a YAML file into cfg (which config_init prepared). On error returns -1 and appends one
 * or more lines "FILE:LINE:COL: message\n" to err; cfg is then to be freed, not used.
 * Warnings (e.g. a password in a file others can read) are appended to warn; they are not errors. */
int config_load(struct config *cfg, const char *path, struct text *err, struct text *warn);

/* Add a server from the command line (a conninfo string or URI; "" means libpq's defaults).
 * The name is derived from the target (host:port/db) and made unique. Returns -1 and fills err
 * if libpq rejects the conninfo. */
int config_add_server_arg(struct config *cfg, const char *conninfo, struct text *err);

/* The file to load: the --config flag if given, else $PGFLEET_CONFIG, else
 * $XDG_CONFIG_HOME/pgfleet/fleet.yaml (or ~/.config/…) if that file exists; NULL for none.
 * Returns a malloc'd path. */
char *config_find(const char *flag_path);

#endif
