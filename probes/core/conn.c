/* conn.c — one asynchronous libpq connection as a state machine stepped by the poll() loop:
 * PQconnectStartParams/PQconnectPoll under our own deadline (libpq ignores connect_timeout in
 * this mode), then batches of statements sent in one round trip, read back without ever
 * blocking. Probes and actions both use it; nothing else in pgfleet touches libpq. */
#include "core/conn.h"

#include "core/conn_addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct conn {
    char *conninfo;
    char *app_name;
    unsigned notifications; /* LISTEN notifications not yet taken (conn_take_notifications) */
    /* Session settings (conn_set_settings): sent as the startup packet's options, or, when a
     * pooler refuses those, set transaction-locally in front of every statement, so that nothing
     * sticks to a server connection a transaction pooler hands to an application next. */
    char *options;   /* "-c name=value ..." (the conninfo's own options first) */
    char *local_set; /* "SELECT set_config(name, value, true), ..." */
    bool options_refused;
    /* Settings made transaction-locally in front of the statements a batch marks
     * (conn_set_local_settings, conn_send_local): the same form as local_set. */
    char *marked_set;
    /* Where to connect: the conninfo's hosts looked up again before every connect, one attempt
     * per address, each with a share of the deadline. */
    struct addr_lookup *lookup;
    struct conn_target *targets;
    int ntargets, cur_target;
    int64_t attempt_deadline;
    char first_err[512];
    PGconn *pg;
    enum conn_state st;
    PostgresPollingStatusType poll;
    int64_t deadline;
    int64_t started;
    char err[512];
    /* the batch in flight */
    enum conn_mode mode;
    int nstmt, ndone;
    struct rowset **res;
    bool need_flush;
    bool have_current; /* a result was stored for statement ndone (simple/pipeline) */
    char **simple_sql; /* SIMPLE: the batch's statements, sent one after another */
    /* Prepared statements (probe connections): the same texts run every tick, so each is
     * parsed and planned once per connection instead of every refresh. */
    bool use_prepare;
    bool no_prepare; /* the server refused them (e.g. behind a transaction pooler) */
    char **prep_sql; /* texts prepared on this connection; the name is pgfleet_<index> */
    int nprep;
    int *skip;       /* per statement of the batch: results of our own to pass over first (the
                        * transaction-local settings, a Prepare) */
    bool *prep_new;  /* per statement: a Prepare was sent for it in this batch */
    int *prep_index; /* per statement: its prep_sql index, or -1 */
    int version;
};

static const char *opt(PQconninfoOption *o, const char *key)
{
    for (; o && o->keyword; o++)
        if (strcmp(o->keyword, key) == 0 && o->val && *o->val)
            return o->val;
    return NULL;
}

struct conn *conn_new(const char *conninfo, const char *app_name)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->conninfo = xstrdup(conninfo ? conninfo : "");
    c->app_name = app_name ? xstrdup(app_name) : NULL;
    c->deadline = INT64_MAX;
    return c;
}

static void free_simple(struct conn *c)
{
    for (int i = 0; c->simple_sql && i < c->nstmt; i++)
        free(c->simple_sql[i]);
    free(c->simple_sql);
    c->simple_sql = NULL;
}

static void free_results(struct conn *c)
{
    free_simple(c);
    free(c->skip);
    c->skip = NULL;
    free(c->prep_new);
    c->prep_new = NULL;
    free(c->prep_index);
    c->prep_index = NULL;
    for (int i = 0; i < c->nstmt; i++)
        rowset_free(c->res ? c->res[i] : NULL);
    free(c->res);
    c->res = NULL;
    c->nstmt = c->ndone = 0;
}

static void forget_prepared(struct conn *c)
{
    for (int i = 0; i < c->nprep; i++)
        free(c->prep_sql[i]);
    free(c->prep_sql);
    c->prep_sql = NULL;
    c->nprep = 0;
}

void conn_free(struct conn *c)
{
    if (!c)
        return;
    if (c->pg)
        PQfinish(c->pg);
    free_results(c);
    free(c->conninfo);
    free(c->app_name);
    free(c->options);
    free(c->local_set);
    free(c->marked_set);
    addr_lookup_free(c->lookup);
    conn_targets_free(c->targets, c->ntargets);
    forget_prepared(c);
    free(c);
}

void conn_use_prepared(struct conn *c, bool on) { c->use_prepare = on; }

/* "SELECT set_config(name, value, true), ..." for n settings: transaction-local, so nothing
 * outlives the statement's transaction. Tagged like our prepared statements, so the Statements
 * pane leaves it out. Names and values are ours (identifiers and numbers), never user text. */
static char *set_config_sql(const char *const *names, const char *const *values, int n)
{
    struct text l;
    text_init(&l);
    text_add(&l, "SELECT " CONN_TAG " ");
    for (int i = 0; i < n; i++)
        text_printf(&l, "%sset_config('%s', '%s', true)", i ? ", " : "", names[i], values[i]);
    return l.s;
}

void conn_set_settings(struct conn *c, const char *const *names, const char *const *values, int n)
{
    free(c->options);
    free(c->local_set);
    c->options = c->local_set = NULL;
    c->options_refused = false;
    if (n <= 0)
        return;
    struct text o;
    text_init(&o);
    /* the conninfo's own options come first: ours are added, not a replacement */
    PQconninfoOption *co = PQconninfoParse(c->conninfo, NULL);
    const char *theirs = opt(co, "options");
    if (!theirs)
        theirs = getenv("PGOPTIONS");
    if (theirs && *theirs)
        text_printf(&o, "%s ", theirs);
    PQconninfoFree(co);
    for (int i = 0; i < n; i++)
        text_printf(&o, "%s-c %s=%s", i ? " " : "", names[i], values[i]);
    c->options = o.s;
    c->local_set = set_config_sql(names, values, n);
}

void conn_set_local_settings(struct conn *c, const char *const *names, const char *const *values, int n)
{
    free(c->marked_set);
    c->marked_set = n > 0 ? set_config_sql(names, values, n) : NULL;
}

/* First line of a libpq message, without the trailing newline. */
static void first_line(char *dst, size_t len, const char *msg)
{
    snprintf(dst, len, "%s", msg ? msg : "");
    dst[strcspn(dst, "\n")] = '\0';
}

/* A short classification first, so a narrow DOWN cell still says what matters. */
static const char *classify(const char *msg)
{
    static const struct {
        const char *needle, *what;
    } kinds[] = {
        {"Connection refused", "connection refused"},
        {"password authentication failed", "authentication failed"},
        {"no password supplied", "authentication failed (no password)"},
        {"authentication failed", "authentication failed"},
        {"no pg_hba.conf entry", "rejected by pg_hba.conf"},
        {"could not translate host name", "unknown host"},
        {"Name or service not known", "unknown host"},
        {"No such file or directory", "no server socket"},
        {"the database system is starting up", "starting up"},
        {"the database system is shutting down", "shutting down"},
        {"the database system is in recovery mode", "in crash recovery"},
        {"too many clients", "too many connections"},
        {"remaining connection slots are reserved", "too many connections"},
        {"does not exist", "does not exist"},
        {"terminating connection", "connection terminated"},
        {"server closed the connection unexpectedly", "connection lost"},
        {"Network is unreachable", "network unreachable"},
        {"No route to host", "no route to host"},
        {"lost synchronization with server", "protocol error"},
        {"unexpected message type", "protocol error"},
        {"message contents do not agree with length", "protocol error"},
        {"unexpected response from server", "protocol error"},
        {"invalid message", "protocol error"},
        {"server sent data", "protocol error"},
        {"unsupported startup parameter", "rejected by the server or pooler"},
        {"SSL", "TLS error"},
    };
    for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
        if (msg && strstr(msg, kinds[i].needle))
            return kinds[i].what;
    return NULL;
}

static void set_error(struct conn *c, const char *what, const char *detail)
{
    char line[400];
    first_line(line, sizeof line, detail);
    /* libpq prefixes with 'connection to server at "h" (a), port p failed: '; keep only the
     * tail when it exists, the address is already in the server's row. */
    const char *tail = strstr(line, "failed: ");
    const char *d = tail ? tail + 8 : line;
    if (!what)
        what = classify(detail);
    if (!what)
        what = "error";
    /* A socket is not in the row ("local:5432"): name the one tried, as psql does. */
    const char *sock = tail ? strstr(line, "on socket \"") : NULL;
    int socklen = sock ? (int)strcspn(sock + 11, "\"") : 0;
    if (sock && strcmp(what, "error") != 0)
        snprintf(c->err, sizeof c->err, "%s: %.*s", what, socklen, sock + 11);
    else if (sock)
        snprintf(c->err, sizeof c->err, "%s: %s: %.*s", what, d, socklen, sock + 11);
    else if (*d && strcasecmp(d, what) != 0)
        snprintf(c->err, sizeof c->err, "%s: %s", what, d);
    else
        snprintf(c->err, sizeof c->err, "%s", what);
}

static void drop(struct conn *c)
{
    if (c->pg)
        PQfinish(c->pg); /* nonblocking: the Terminate message is sent only if it fits */
    c->pg = NULL;
    addr_lookup_free(c->lookup);
    c->lookup = NULL;
    forget_prepared(c); /* they lived in the server session that just ended */
    c->st = CONN_CLOSED;
    c->deadline = INT64_MAX;
    free_results(c);
}

void conn_close(struct conn *c, const char *reason)
{
    if (reason)
        snprintf(c->err, sizeof c->err, "%s", reason);
    drop(c);
}

static void ignore_notice(void *arg, const char *message) { (void)arg, (void)message; }

/* Start libpq on the current target (or the conninfo as it is when there is none). */
static int start_attempt(struct conn *c, int64_t now)
{
    const char *kw[10], *val[10];
    int n = 0;
    const struct conn_target *t = c->targets && c->cur_target < c->ntargets ? &c->targets[c->cur_target] : NULL;
    kw[n] = "dbname", val[n++] = c->conninfo; /* expanded: a conninfo string or URI */
    if (t && t->host)
        kw[n] = "host", val[n++] = t->host;
    if (t && t->hostaddr)
        kw[n] = "hostaddr", val[n++] = t->hostaddr;
    if (t && t->port)
        kw[n] = "port", val[n++] = t->port;
    if (c->app_name)
        kw[n] = "application_name", val[n++] = c->app_name;
    if (c->options && !c->options_refused)
        kw[n] = "options", val[n++] = c->options;
    kw[n] = "client_encoding", val[n++] = "UTF8"; /* server text arrives as UTF-8 (or escaped) */
    kw[n] = NULL, val[n] = NULL;
    if (c->pg)
        PQfinish(c->pg);
    c->pg = PQconnectStartParams(kw, val, 1);
    if (!c->pg) {
        snprintf(c->err, sizeof c->err, "out of memory");
        return -1;
    }
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        set_error(c, NULL, PQerrorMessage(c->pg));
        return -1;
    }
    /* libpq prints notices (e.g. "terminating connection due to immediate shutdown") on
     * stderr, which is the user's screen: keep them out of it. */
    PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
    c->st = CONN_CONNECTING;
    c->poll = PGRES_POLLING_WRITING;
    /* each address gets a share of what is left, so a black-holed first one leaves time for
     * the next */
    int left = c->ntargets - c->cur_target;
    int64_t share = left > 1 ? (c->deadline - now) / left : c->deadline - now;
    int64_t floor_ms = c->deadline - now < 2000 ? c->deadline - now : 2000;
    c->attempt_deadline = now + (share > floor_ms ? share : floor_ms);
    return 0;
}

/* The conninfo's host and port lists (or the environment's), for the lookup. */
static void host_and_port(const char *conninfo, char **host, char **port, bool *given_addr)
{
    PQconninfoOption *o = PQconninfoParse(conninfo, NULL);
    const char *h = opt(o, "host"), *p = opt(o, "port");
    *given_addr = opt(o, "hostaddr") || (getenv("PGHOSTADDR") && *getenv("PGHOSTADDR"));
    if (!h)
        h = getenv("PGHOST");
    if (!p)
        p = getenv("PGPORT");
    *host = h && *h ? xstrdup(h) : NULL;
    *port = p && *p ? xstrdup(p) : NULL;
    PQconninfoFree(o);
}

int conn_start(struct conn *c, int64_t deadline_ms)
{
    drop(c);
    c->err[0] = c->first_err[0] = '\0';
    c->deadline = deadline_ms;
    c->started = now_ms();
    conn_targets_free(c->targets, c->ntargets);
    c->targets = NULL;
    c->ntargets = c->cur_target = 0;
    addr_lookup_free(c->lookup);
    c->lookup = NULL;
    char *host, *port;
    bool given_addr;
    host_and_port(c->conninfo, &host, &port, &given_addr);
    /* Names are looked up again before every connect (DNS-based failover moves them) without
     * blocking; addresses given by the user (hostaddr) and libpq's defaults need no lookup. */
    bool plain = !host || given_addr || strstr(host, ",,") || host[0] == ',' || host[strlen(host) - 1] == ',';
    if (!plain) {
        c->lookup = addr_lookup_start(host, port, deadline_ms, c->err, sizeof c->err);
        if (!c->lookup) {
            free(host);
            free(port);
            return -1;
        }
    }
    free(host);
    free(port);
    if (c->lookup) {
        c->st = CONN_RESOLVING;
        return 0;
    }
    if (start_attempt(c, c->started) < 0) {
        drop(c);
        return -1;
    }
    return 0;
}

enum conn_state conn_state(const struct conn *c) { return c->st; }
/* How often a lookup in flight is checked: getaddrinfo_a has no descriptor to poll. */
#define RESOLVE_POLL_MS 20

int64_t conn_deadline(const struct conn *c)
{
    switch (c->st) {
    case CONN_CLOSED:
    case CONN_READY: return INT64_MAX;
    case CONN_RESOLVING: {
        int64_t soon = now_ms() + RESOLVE_POLL_MS;
        return soon < c->deadline ? soon : c->deadline;
    }
    case CONN_CONNECTING: return c->attempt_deadline < c->deadline ? c->attempt_deadline : c->deadline;
    case CONN_BUSY: break;
    }
    return c->deadline;
}
int conn_server_version(const struct conn *c) { return c->version; }

unsigned conn_take_notifications(struct conn *c)
{
    if (c->pg && c->st != CONN_CLOSED) { /* those that came with results are queued in libpq */
        PGnotify *nt;
        while ((nt = PQnotifies(c->pg))) {
            c->notifications++;
            PQfreemem(nt);
        }
    }
    unsigned n = c->notifications;
    c->notifications = 0;
    return n;
}

int conn_backend_pid(const struct conn *c)
{
    return c->pg && (c->st == CONN_READY || c->st == CONN_BUSY) ? PQbackendPID(c->pg) : 0;
}

bool conn_is_pgbouncer_console(const struct conn *c)
{
    const char *v = c->pg && c->st >= CONN_READY ? PQparameterStatus(c->pg, "server_version") : NULL;
    return v && strstr(v, "/bouncer") != NULL;
}
const char *conn_error(const struct conn *c) { return c->err[0] ? c->err : "not connected"; }

int conn_pollfd(const struct conn *c, short *events)
{
    if (!c->pg || c->st == CONN_CLOSED || c->st == CONN_RESOLVING)
        return -1;
    int fd = PQsocket(c->pg);
    if (fd < 0)
        return -1;
    if (c->st == CONN_CONNECTING)
        *events = c->poll == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    else if (c->st == CONN_BUSY)
        *events = (short)(POLLIN | (c->need_flush ? POLLOUT : 0));
    else
        *events = POLLIN; /* READY: notice a server that closes the connection */
    return fd;
}

static void store(struct conn *c, struct rowset *rs)
{
    if (c->ndone < c->nstmt && !c->res[c->ndone]) {
        c->res[c->ndone] = rs;
    } else if (c->ndone < c->nstmt && rs->error && !c->res[c->ndone]->error) {
        rowset_free(c->res[c->ndone]); /* a script (several statements in one query): its error wins */
        c->res[c->ndone] = rs;
    } else {
        rowset_free(rs); /* a second result for one statement: keep the first */
    }
}

/* SIMPLE: send statement ndone. One statement per query string, because pgBouncer's admin
 * console rejects "SHOW POOLS;SHOW STATS;" as one invalid command. */
static int send_simple(struct conn *c)
{
    if (!PQsendQuery(c->pg, c->simple_sql[c->ndone]))
        return -1;
    int f = PQflush(c->pg);
    if (f < 0)
        return -1;
    c->need_flush = f == 1;
    return 0;
}

/* A statement with CONN_TAG after its first word (unless it has it already). */
static char *tagged_text(const char *sql)
{
    if (strstr(sql, CONN_TAG))
        return xstrdup(sql);
    size_t w = strspn(sql, " \t\n");
    w += strcspn(sql + w, " \t\n(");
    return xasprintf("%.*s " CONN_TAG "%s%s", (int)w, sql, sql[w] == '(' ? " " : "", sql + w);
}

/* Forget a prepared text whose Prepare failed (a missing column on this version, say): the
 * next tick prepares it again, or fails the same way with its own error. */
static void unprepare(struct conn *c, int stmt)
{
    int k = c->prep_index ? c->prep_index[stmt] : -1;
    if (k < 0 || k >= c->nprep || !c->prep_sql[k])
        return;
    free(c->prep_sql[k]);
    c->prep_sql[k] = NULL;
}

/* The index of a prepared text, preparing it (in the same pipeline) when new. */
static int prepared_index(struct conn *c, const char *sql, bool *is_new)
{
    int free_slot = -1;
    for (int k = 0; k < c->nprep; k++) {
        if (c->prep_sql[k] && strcmp(c->prep_sql[k], sql) == 0) {
            *is_new = false;
            return k;
        }
        if (!c->prep_sql[k] && free_slot < 0)
            free_slot = k;
    }
    *is_new = true;
    if (free_slot < 0) {
        c->prep_sql = xreallocarray(c->prep_sql, (size_t)c->nprep + 1, sizeof *c->prep_sql);
        free_slot = c->nprep++;
    }
    c->prep_sql[free_slot] = xstrdup(sql);
    return free_slot;
}

/* Read what has arrived; returns 1 when the batch is complete, 0 to wait for more, -1 on a
 * broken connection (libpq says why), -2 past the deadline, -3 on a protocol error (c->err). Every pass of the loop checks
 * the connection and the deadline: a server that sends a malformed message makes libpq drop the
 * connection, after which PQgetResult() returns NULL forever; that must end the batch, never
 * spin. */
static int read_results(struct conn *c)
{
    if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD)
        return -1;
    int nulls = 0;
    while (c->ndone < c->nstmt) {
        if (PQstatus(c->pg) == CONNECTION_BAD)
            return -1;
        if (now_ms() >= c->deadline)
            return -2;
        if (PQisBusy(c->pg))
            return 0;
        PGresult *r = PQgetResult(c->pg);
        if (!r) {
            if (c->mode == CONN_SIMPLE) {
                /* this statement is finished; send the next one on the same connection */
                if (!c->res[c->ndone])
                    c->res[c->ndone] = rowset_new_error("", "no result");
                if (++c->ndone < c->nstmt && send_simple(c) < 0)
                    return -1;
                continue;
            }
            /* The end of one statement's results in the pipeline (its sync follows). Twice in a
             * row means libpq has nothing left to give: the server broke the protocol. */
            if (++nulls > 1) {
                snprintf(c->err, sizeof c->err, "protocol error: the server ended the batch early");
                return -3;
            }
            continue;
        }
        nulls = 0;
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COPY_OUT || st == PGRES_COPY_IN || st == PGRES_COPY_BOTH) {
            /* no probe copies: libpq would hand this result back forever */
            PQclear(r);
            snprintf(c->err, sizeof c->err, "protocol error: the server started a COPY nobody asked for");
            return -3;
        }
        if (st == PGRES_PIPELINE_SYNC) {
            if (!c->res[c->ndone])
                c->res[c->ndone] = rowset_new_error("", "no result");
            c->ndone++;
        } else if (c->mode == CONN_PIPELINE && c->skip && c->skip[c->ndone] > 0) {
            /* our own result in front of the statement's (settings, a Prepare): nothing to keep
             * unless it failed */
            c->skip[c->ndone]--;
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
                /* "already exists": a pooled server connection still holds another client's
                 * statement of that name; preparing is not safe here */
                if (state && strcmp(state, "42P05") == 0)
                    c->no_prepare = true;
                store(c, rowset_from_pg(r));
                if (c->prep_new[c->ndone])
                    unprepare(c, c->ndone);
            }
        } else {
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (state && strcmp(state, "26000") == 0 && c->prep_index && c->prep_index[c->ndone] >= 0) {
                /* "prepared statement does not exist": a pooler between us and the server
                 * moved us to another session; stop preparing on this connection. */
                c->no_prepare = true;
                unprepare(c, c->ndone);
            }
            store(c, rowset_from_pg(r));
        }
        PQclear(r);
    }
    if (c->mode == CONN_PIPELINE && PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF)
        PQexitPipelineMode(c->pg);
    return 1;
}

/* A connection attempt failed: try the next address, or give up with the first real error. */
static enum conn_event attempt_failed(struct conn *c, const char *why, int64_t now)
{
    if (!c->first_err[0])
        snprintf(c->first_err, sizeof c->first_err, "%s", why);
    /* a pooler that does not take startup options: the same address again, without them (the
     * settings are then made transaction-local in front of each statement) */
    if (c->options && !c->options_refused && strstr(why, "unsupported startup parameter")) {
        /* only a pooler refuses options: there, successive statements may run on different
         * server connections, which other clients used before, so nothing is prepared */
        c->options_refused = true;
        c->no_prepare = true;
        c->first_err[0] = '\0';
        if (now < c->deadline && start_attempt(c, now) == 0)
            return CONN_EV_NONE;
    } else if (c->cur_target + 1 < c->ntargets && now < c->deadline) {
        c->cur_target++;
        if (start_attempt(c, now) == 0)
            return CONN_EV_NONE;
    }
    if (c->ntargets > 1) {
        char tail[64];
        snprintf(tail, sizeof tail, " (%d addresses tried)", c->ntargets);
        snprintf(c->err, sizeof c->err, "%.*s%s", (int)(sizeof c->err - sizeof tail), c->first_err, tail);
    } else {
        snprintf(c->err, sizeof c->err, "%s", c->first_err);
    }
    drop(c);
    return CONN_EV_FAILED;
}

static enum conn_event step_connecting(struct conn *c, short revents, int64_t now)
{
    if (c->st == CONN_RESOLVING) {
        int r = addr_lookup_poll(c->lookup, now, &c->targets, &c->ntargets, c->err, sizeof c->err);
        if (r == 0)
            return CONN_EV_NONE;
        addr_lookup_free(c->lookup);
        c->lookup = NULL;
        if (r < 0 || start_attempt(c, now) < 0) {
            drop(c);
            return CONN_EV_FAILED;
        }
        return CONN_EV_NONE;
    }
    if (revents || c->poll == PGRES_POLLING_WRITING) {
        c->poll = PQconnectPoll(c->pg);
        if (c->poll == PGRES_POLLING_FAILED) {
            set_error(c, NULL, PQerrorMessage(c->pg));
            char why[sizeof c->err];
            snprintf(why, sizeof why, "%s", c->err);
            return attempt_failed(c, why, now);
        }
        if (c->poll == PGRES_POLLING_OK) {
            PQsetnonblocking(c->pg, 1);
            c->version = PQserverVersion(c->pg);
            c->st = CONN_READY;
            c->deadline = INT64_MAX;
            return CONN_EV_CONNECTED;
        }
    }
    if (now >= c->attempt_deadline || now >= c->deadline) {
        char msg[64];
        snprintf(msg, sizeof msg, "timeout after %.1fs connecting", (double)(now - c->started) / 1000);
        return attempt_failed(c, msg, now);
    }
    return CONN_EV_NONE;
}

enum conn_event conn_step(struct conn *c, short revents, int64_t now)
{
    if (c->st == CONN_CLOSED)
        return CONN_EV_NONE;
    if (c->st == CONN_RESOLVING || c->st == CONN_CONNECTING)
        return step_connecting(c, revents, now);
    if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
        /* Let libpq read the final error message first, if any. */
        revents |= POLLIN;
    }
    if (c->st == CONN_BUSY && c->need_flush && (revents & POLLOUT)) {
        int f = PQflush(c->pg);
        if (f < 0)
            goto broken;
        c->need_flush = f == 1;
    }
    if (revents & POLLIN) {
        if (c->st == CONN_READY) {
            /* Nothing was asked: the server sent a notice or closed the connection. */
            if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD)
                goto broken;
            PGnotify *nt;
            while ((nt = PQnotifies(c->pg))) {
                c->notifications++;
                PQfreemem(nt);
            }
            return CONN_EV_NONE;
        }
        int r = read_results(c);
        if (r == -2)
            goto timeout;
        if (r == -3) {
            drop(c);
            return CONN_EV_FAILED;
        }
        if (r < 0)
            goto broken;
        if (r == 1) {
            c->st = CONN_READY;
            c->deadline = INT64_MAX;
            return CONN_EV_DONE;
        }
    }
    if (c->st == CONN_BUSY && now >= c->deadline)
        goto timeout;
    return CONN_EV_NONE;
timeout : {
    char msg[64];
    snprintf(msg, sizeof msg, "timeout: no answer after %.1fs", (double)(now - c->started) / 1000);
    conn_close(c, msg);
    return CONN_EV_FAILED;
}
broken : {
    const char *msg = PQerrorMessage(c->pg);
    const char *what = classify(msg);
    set_error(c, what ? what : "connection lost", msg);
    drop(c);
    return CONN_EV_FAILED;
}
}

/* Send a batch; statement i gets the marked settings in front when local && local[i]. */
static int send_batch(struct conn *c, enum conn_mode mode, const char *const *sql, int n, const int *nparams,
                      const char *const *const *params, const bool *local, int64_t deadline_ms)
{
    if (c->st != CONN_READY || n <= 0)
        return -1;
    free_results(c);
    c->mode = mode;
    c->nstmt = n;
    c->ndone = 0;
    c->res = xcalloc((size_t)n, sizeof *c->res);
    int ok = 1;
    if (mode == CONN_SIMPLE) {
        c->simple_sql = xcalloc((size_t)n, sizeof *c->simple_sql);
        for (int i = 0; i < n; i++)
            c->simple_sql[i] = xstrdup(sql[i]);
        ok = PQsendQuery(c->pg, c->simple_sql[0]);
    } else {
        ok = PQenterPipelineMode(c->pg);
        c->skip = xcalloc((size_t)n, sizeof *c->skip);
        c->prep_new = xcalloc((size_t)n, sizeof *c->prep_new);
        c->prep_index = xcalloc((size_t)n, sizeof *c->prep_index);
        for (int i = 0; ok && i < n; i++) {
            int np = nparams ? nparams[i] : 0;
            c->prep_index[i] = -1;
            /* in the same implicit transaction as the statement: gone at its end */
            if (c->options_refused && c->local_set) {
                ok = PQsendQueryParams(c->pg, c->local_set, 0, NULL, NULL, NULL, NULL, 0);
                c->skip[i]++;
            }
            if (ok && local && local[i] && c->marked_set) {
                ok = PQsendQueryParams(c->pg, c->marked_set, 0, NULL, NULL, NULL, NULL, 0);
                c->skip[i]++;
            }
            if (ok && c->use_prepare && !c->no_prepare && np == 0) {
                bool is_new;
                int k = prepared_index(c, sql[i], &is_new);
                char name[32];
                snprintf(name, sizeof name, "pgfleet_%d", k);
                c->prep_index[i] = k;
                if (is_new) {
                    char *text = tagged_text(sql[i]);
                    ok = PQsendPrepare(c->pg, name, text, 0, NULL);
                    free(text);
                    c->skip[i]++;
                    c->prep_new[i] = true;
                }
                ok = ok && PQsendQueryPrepared(c->pg, name, 0, NULL, NULL, NULL, 0) && PQpipelineSync(c->pg);
                continue;
            }
            ok = PQsendQueryParams(c->pg, sql[i], np, NULL, np ? params[i] : NULL, NULL, NULL, 0) &&
                PQpipelineSync(c->pg);
        }
    }
    if (!ok) {
        set_error(c, "send failed", PQerrorMessage(c->pg));
        drop(c);
        return -1;
    }
    int f = PQflush(c->pg);
    if (f < 0) {
        set_error(c, "connection lost", PQerrorMessage(c->pg));
        drop(c);
        return -1;
    }
    c->need_flush = f == 1;
    c->st = CONN_BUSY;
    c->deadline = deadline_ms;
    c->started = now_ms();
    return 0;
}

int conn_send(struct conn *c, enum conn_mode mode, const char *const *sql, int n, const int *nparams,
              const char *const *const *params, int64_t deadline_ms)
{
    return send_batch(c, mode, sql, n, nparams, params, NULL, deadline_ms);
}

int conn_send_local(struct conn *c, const char *const *sql, int n, const bool *local, int64_t deadline_ms)
{
    return send_batch(c, CONN_PIPELINE, sql, n, NULL, NULL, local, deadline_ms);
}

struct rowset **conn_take_results(struct conn *c, int *n)
{
    struct rowset **r = c->res;
    *n = c->nstmt;
    free_simple(c);
    c->res = NULL;
    c->nstmt = c->ndone = 0;
    return r;
}

/* ---- conninfo helpers (pure libpq parsing, no connection) ---- */

int conn_check_conninfo(const char *conninfo, char **err)
{
    char *msg = NULL;
    PQconninfoOption *o = PQconninfoParse(conninfo ? conninfo : "", &msg);
    if (!o) {
        char line[300];
        first_line(line, sizeof line, msg ? msg : "invalid connection string");
        /* libpq quotes the text it choked on, which may be part of a password. When the string
         * may hold one, everything from the first quote to the last goes: a quote inside the
         * password cannot end the masking early. */
        char *q1 = strchr(line, '"'), *q2 = strrchr(line, '"');
        if (conninfo && (strcasestr(conninfo, "password") || strchr(conninfo, '@')) && q1) {
            char tail[300];
            snprintf(tail, sizeof tail, "%s", q2 > q1 ? q2 + 1 : "");
            snprintf(q1, sizeof line - (size_t)(q1 - line), "\"...\"%s (the rest is hidden: it may hold a password)",
                     tail);
        }
        *err = xstrdup(line);
        PQfreemem(msg);
        return -1;
    }
    PQconninfoFree(o);
    return 0;
}

/* Overwrite the bytes of [from, to) with 'x'. */
static void blank(char *from, const char *to)
{
    for (; from < to; from++)
        *from = 'x';
}

/* Whether a URI query key (percent-encoded as libpq allows) is "password". */
static bool key_is_password(const char *k, size_t n)
{
    static const char want[] = "password";
    size_t w = 0;
    for (size_t i = 0; i < n; i++, w++) {
        int c = (unsigned char)k[i];
        if (c == '%' && i + 2 < n && isxdigit((unsigned char)k[i + 1]) && isxdigit((unsigned char)k[i + 2])) {
            char hex[3] = {k[i + 1], k[i + 2], 0};
            c = (int)strtol(hex, NULL, 16);
            i += 2;
        }
        if (w >= sizeof want - 1 || tolower(c) != want[w])
            return false;
    }
    return w == sizeof want - 1;
}

void conn_scrub_password(char *s)
{
    if (!s)
        return;
    if (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0) {
        char *p = strstr(s, "://") + 3;
        char *end = p + strcspn(p, "@/"); /* libpq ends the user info only there */
        if (*end == '@') {                /* user:password@ */
            char *colon = memchr(p, ':', (size_t)(end - p));
            if (colon)
                blank(colon + 1, end);
        }
        for (char *q = strchr(s, '?'); q && *q; q += strcspn(q, "&")) {
            q++;
            size_t klen = strcspn(q, "=&");
            if (q[klen] == '=' && key_is_password(q, klen))
                blank(q + klen + 1, q + klen + 1 + strcspn(q + klen + 1, "&"));
        }
        return;
    }
    /* key = value pairs; values may be single-quoted, with backslash escapes; libpq separates
     * them by any white space */
    for (char *p = s; *p;) {
        while (isspace((unsigned char)*p))
            p++;
        char *key = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p))
            p++;
        size_t klen = (size_t)(p - key);
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '=')
            return; /* not a conninfo libpq would take: nothing to scrub */
        p++;
        while (isspace((unsigned char)*p))
            p++;
        bool quoted = *p == '\'';
        char *v = quoted ? ++p : p;
        while (*p && (quoted ? *p != '\'' : !isspace((unsigned char)*p))) {
            if (*p == '\\' && p[1])
                p++;
            p++;
        }
        if (klen == 8 && strncmp(key, "password", 8) == 0)
            blank(v, p);
        if (quoted && *p)
            p++;
    }
}

bool conn_has_password(const char *conninfo)
{
    PQconninfoOption *o = PQconninfoParse(conninfo ? conninfo : "", NULL);
    bool has = o && opt(o, "password");
    PQconninfoFree(o);
    return has;
}

bool conn_is_local(const char *conninfo)
{
    PQconninfoOption *o = PQconninfoParse(conninfo ? conninfo : "", NULL);
    const char *host = opt(o, "hostaddr");
    if (!host)
        host = opt(o, "host");
    if (!host)
        host = getenv("PGHOST");
    bool local = !host || host[0] == '/' || host[0] == '@' || strcmp(host, "localhost") == 0 ||
        strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
    PQconninfoFree(o);
    return local;
}

char *conn_display_name(const char *conninfo)
{
    PQconninfoOption *o = PQconninfoParse(conninfo ? conninfo : "", NULL);
    const char *host = opt(o, "host"), *port = opt(o, "port"), *db = opt(o, "dbname");
    const char *svc = opt(o, "service");
    if (!host)
        host = getenv("PGHOST");
    /* libpq connects to hostaddr when there is no host name: a remote server is not "local" */
    if (!host || !*host)
        host = opt(o, "hostaddr");
    if (!host || !*host)
        host = getenv("PGHOSTADDR");
    if (!port)
        port = getenv("PGPORT");
    if (!db)
        db = getenv("PGDATABASE");
    if (!svc)
        svc = getenv("PGSERVICE");
    char *name;
    if (svc && !opt(o, "host"))
        name = xasprintf("%s", svc);
    else
        name = xasprintf("%s:%s%s%s", host && *host && *host != '/' && *host != '@' ? host : "local",
                         port ? port : "5432", db ? "/" : "", db ? db : "");
    PQconninfoFree(o);
    return name;
}

/* One value in conninfo quoting: single quotes, with \\ and \' escaped. */
static void add_quoted(struct text *t, const char *key, const char *val)
{
    text_printf(t, "%s%s='", t->len ? " " : "", key);
    for (const char *p = val; *p; p++) {
        if (*p == '\\' || *p == '\'')
            text_add(t, "\\");
        text_printf(t, "%c", *p);
    }
    text_add(t, "'");
}

char *conn_rewrite(const char *conninfo, const char *dbname, char **password)
{
    if (password)
        *password = NULL;
    PQconninfoOption *o = PQconninfoParse(conninfo ? conninfo : "", NULL);
    if (!o)
        return NULL;
    struct text t;
    text_init(&t);
    for (PQconninfoOption *p = o; p->keyword; p++) {
        if (!p->val || !*p->val)
            continue;
        if (strcmp(p->keyword, "password") == 0 && password)
            *password = xstrdup(p->val);
        else if (strcmp(p->keyword, "dbname") != 0 || !dbname)
            add_quoted(&t, p->keyword, p->val);
    }
    if (dbname)
        add_quoted(&t, "dbname", dbname);
    PQconninfoFree(o);
    return t.s;
}
