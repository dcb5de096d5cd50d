/* conn.h — one asynchronous libpq connection driven by the poll() loop: non-blocking connect
 * with our own deadline, a batch of statements sent in one round trip, results back as rowsets.
 * Used by the probes (one per server) and by actions (their own connections). Only conn.c and
 * rowset.c include libpq-fe.h. */
#ifndef PGFLEET_CONN_H
#define PGFLEET_CONN_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/rowset.h"
#include "core/util.h"

enum conn_state {
    CONN_CLOSED,     /* no connection; conn_start() begins one */
    CONN_RESOLVING,  /* the host names are being looked up (no socket yet) */
    CONN_CONNECTING, /* PQconnectPoll in progress */
    CONN_READY,      /* connected, nothing in flight */
    CONN_BUSY,       /* a batch is in flight */
};

enum conn_event {
    CONN_EV_NONE,      /* nothing to report yet */
    CONN_EV_CONNECTED, /* just became READY after connecting */
    CONN_EV_DONE,      /* the batch finished: conn_take_results() */
    CONN_EV_FAILED,    /* connection failed or broke: conn_error(); state is CLOSED */
};

/* How a batch is sent. PIPELINE: libpq pipeline mode with a sync after each statement, so each
 * is its own implicit transaction and one failing (a missing column on an old version) does
 * not abort the others, all in one round trip. SIMPLE: simple-protocol queries, one statement
 * per query sent one after another on the connection (a round trip each), for pgBouncer's admin
 * console, which speaks only the simple protocol and takes one command per query. */
enum conn_mode { CONN_PIPELINE, CONN_SIMPLE };

struct conn;

/* conninfo: string or URI, "" for libpq defaults. app_name overrides application_name. */
struct conn *conn_new(const char *conninfo, const char *app_name);
void conn_free(struct conn *c);

/* Settings every session of this connection has (e.g. statement_timeout): sent as the startup
 * packet's options, so none sticks to a pooled server connection; when a pooler refuses those
 * (pgBouncer), set transaction-locally in front of each statement instead. Names and values
 * are pgfleet's own (identifiers, numbers), never user text. Before conn_start. */
void conn_set_settings(struct conn *c, const char *const *names, const char *const *values, int n);
/* Settings made transaction-locally in front of the statements that conn_send_local marks: for a
 * setting only some roles may make (track_counts), which cannot be a startup option because the
 * role's rights are learnt after connecting and an option it may not set fails the connection.
 * Names and values are pgfleet's own. */
void conn_set_local_settings(struct conn *c, const char *const *names, const char *const *values, int n);

/* Begin connecting; the deadline (absolute, now_ms() clock) covers the whole connect. The host
 * names are looked up first without blocking (getaddrinfo_a), again before every connect (DNS
 * failover moves names), and each address found is tried in turn with a share of the deadline;
 * the addresses go to libpq as hostaddr, the name is kept for TLS and GSSAPI. Returns -1 on
 * immediate failure (conn_error() says why; state CLOSED). */
int conn_start(struct conn *c, int64_t deadline_ms);

enum conn_state conn_state(const struct conn *c);
/* The fd and events to poll for, or -1 when the connection has no socket to watch. */
int conn_pollfd(const struct conn *c, short *events);
/* Advance on socket readiness (revents may be 0 to just check the deadline). */
enum conn_event conn_step(struct conn *c, short revents, int64_t now);
/* The deadline that conn_step must be called at, or INT64_MAX. */
int64_t conn_deadline(const struct conn *c);

/* Send a batch (state must be READY). params may be NULL; with PIPELINE, nparams[i]/params[i]
 * give statement i's text parameters. Deadline is absolute. Returns -1 on failure. */
int conn_send(struct conn *c, enum conn_mode mode, const char *const *sql, int n, const int *nparams,
              const char *const *const *params, int64_t deadline_ms);
/* A PIPELINE batch of parameterless statements, the local settings in front of statement i when
 * local[i] (local may be NULL: none). */
int conn_send_local(struct conn *c, const char *const *sql, int n, const bool *local, int64_t deadline_ms);
/* The mark on the statements prepared by conn_use_prepared, right after their first word: there
 * every version keeps it in pg_stat_statements' text (18 drops what precedes the statement), and
 * pg_stat_activity and the server's log show it. */
#define CONN_TAG "/* pgfleet */"

/* Prepare each parameterless statement once per connection and run it by name afterwards
 * (probe connections: the same texts every tick, planned once instead of every refresh). */
void conn_use_prepared(struct conn *c, bool on);
/* After CONN_EV_DONE: n rowsets, one per statement (an error rowset for a failed statement);
 * the caller owns them. */
struct rowset **conn_take_results(struct conn *c, int *n);

/* Why the connection is down: short, classified ("connection refused", "authentication
 * failed", "timeout after 5.0s", …) followed by libpq's message; never holds a password. */
const char *conn_error(const struct conn *c);
/* Close now (never blocks). */
void conn_close(struct conn *c, const char *reason);

/* How many notifications (LISTEN) arrived since the last call; a connection that is READY is
 * read whenever its socket is (conn_pollfd asks for POLLIN), so they arrive while it idles. */
unsigned conn_take_notifications(struct conn *c);
/* The backend's process id, 0 when not connected. */
int conn_backend_pid(const struct conn *c);

int conn_server_version(const struct conn *c);
/* True when the connection is to pgBouncer's admin console (dbname=pgbouncer), not to a
 * PostgreSQL server: the console reports pgBouncer's own version as server_version
 * ("1.18.0/bouncer") and takes only its SHOW and admin commands, in the simple protocol. */
bool conn_is_pgbouncer_console(const struct conn *c);

/* Check a conninfo string/URI with libpq's parser; returns -1 and sets *err (malloc'd). */
int conn_check_conninfo(const char *conninfo, char **err);
/* A short display name for a conninfo: "host:port/dbname" with libpq's defaults filled in. */
char *conn_display_name(const char *conninfo);
/* True if the conninfo's host is this machine: a socket directory, localhost or loopback. */
bool conn_is_local(const char *conninfo);
/* True if the conninfo holds a password. */
bool conn_has_password(const char *conninfo);
/* Overwrite, in place, the password of a conninfo string or URI with x's: what main does to
 * its own argv once the conninfo is copied, so it does not stay visible in ps. */
void conn_scrub_password(char *conninfo);
/* The conninfo as a key=value string without its password (handed back apart in *password,
 * malloc'd, NULL when there is none; with password NULL it stays in the string), with the
 * database replaced when dbname is not NULL: for
 * the command lines of tools an action runs (any user can read argv) and for a connection to
 * another database of the same server. NULL when libpq cannot parse it. */
char *conn_rewrite(const char *conninfo, const char *dbname, char **password);

#endif
