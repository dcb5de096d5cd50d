/* conn.c — one asynchronous libpq connection as a state machine stepped by the poll() loop:
 * PQconnectStartParams/PQconnectPoll under our own deadline (libpq ignores connect_timeout in
 * this mode), then batches of statements sent in one round trip, read back without ever
 * blocking. Probes and actions both use it; nothing else in pgfleet touches libpq. */
#include "conn.h"

#include <libpq-fe.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

struct resolver;

struct conn {
    char *conninfo;
    char *app_name;
    char *hostaddr;  /* resolved addresses, comma separated, one per host; NULL: let libpq */
    struct resolver *resolver; /* a lookup in flight (conn_resolve_start) */
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
    bool no_prepare;   /* the server refused them (e.g. behind a transaction pooler) */
    char **prep_sql;   /* texts prepared on this connection; the name is pgfleet_<index> */
    int nprep;
    bool *skip_prepare_result; /* per statement of the batch: a Prepare was sent before it */
    int *prep_index;   /* per statement: its prep_sql index, or -1 */
    int version, pid;
};

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
    free(c->skip_prepare_result);
    c->skip_prepare_result = NULL;
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
    if (c->resolver) /* still in flight: cancel it (or leave it to the resolver thread) */
        conn_resolve_poll(c, INT64_MAX);
    free(c->hostaddr);
    forget_prepared(c);
    free(c);
}

void conn_use_prepared(struct conn *c, bool on) { c->use_prepare = on; }

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
        {"server closed the connection unexpectedly", "connection lost"},
        {"terminating connection", "connection terminated"},
        {"Network is unreachable", "network unreachable"},
        {"No route to host", "no route to host"},
        {"SSL", "TLS error"},
    };
    for (size_t i = 0; i < ARRAY_LEN(kinds); i++)
        if (msg && strstr(msg, kinds[i].needle))
            return kinds[i].what;
    return "error";
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
    if (*d && strcasecmp(d, what) != 0)
        snprintf(c->err, sizeof c->err, "%s: %s", what, d);
    else
        snprintf(c->err, sizeof c->err, "%s", what);
}

static void drop(struct conn *c)
{
    if (c->pg)
        PQfinish(c->pg); /* nonblocking: the Terminate message is sent only if it fits */
    c->pg = NULL;
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

static void ignore_notice(void *arg, const char *message)
{
    (void)arg, (void)message;
}

int conn_start(struct conn *c, int64_t deadline_ms)
{
    const char *kw[8], *val[8];
    int n = 0;
    drop(c);
    c->err[0] = '\0';
    kw[n] = "dbname", val[n++] = c->conninfo; /* expanded: a conninfo string or URI */
    if (c->hostaddr)
        kw[n] = "hostaddr", val[n++] = c->hostaddr;
    if (c->app_name)
        kw[n] = "application_name", val[n++] = c->app_name;
    kw[n] = NULL, val[n] = NULL;
    c->pg = PQconnectStartParams(kw, val, 1);
    if (!c->pg) {
        snprintf(c->err, sizeof c->err, "out of memory");
        return -1;
    }
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        set_error(c, NULL, PQerrorMessage(c->pg));
        drop(c);
        return -1;
    }
    /* libpq prints notices (e.g. "terminating connection due to immediate shutdown") on
     * stderr, which is the user's screen: keep them out of it. */
    PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
    c->st = CONN_CONNECTING;
    c->poll = PGRES_POLLING_WRITING;
    c->deadline = deadline_ms;
    c->started = now_ms();
    return 0;
}

enum conn_state conn_state(const struct conn *c) { return c->st; }
int64_t conn_deadline(const struct conn *c) { return c->st == CONN_CLOSED || c->st == CONN_READY ? INT64_MAX : c->deadline; }
int conn_server_version(const struct conn *c) { return c->version; }
int conn_backend_pid(const struct conn *c) { return c->pid; }
const char *conn_error(const struct conn *c) { return c->err[0] ? c->err : "not connected"; }

int conn_pollfd(const struct conn *c, short *events)
{
    if (!c->pg || c->st == CONN_CLOSED)
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
    if (c->ndone < c->nstmt && !c->res[c->ndone])
        c->res[c->ndone] = rs;
    else
        rowset_free(rs); /* a second result for one statement: keep the first */
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

/* Read what has arrived; returns 1 when the batch is complete, -1 on a broken connection. */
static int read_results(struct conn *c)
{
    if (!PQconsumeInput(c->pg))
        return -1;
    while (c->ndone < c->nstmt && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (c->mode == CONN_SIMPLE) {
            if (r) {
                store(c, rowset_from_pg(r));
                PQclear(r);
                continue;
            }
            /* NULL: this statement is finished; send the next one on the same connection. */
            if (!c->res[c->ndone])
                c->res[c->ndone] = rowset_new_error("", "no result");
            if (++c->ndone < c->nstmt && send_simple(c) < 0)
                return -1;
            continue;
        }
        if (!r)
            continue; /* end of one statement's results in the pipeline; its sync follows */
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            if (!c->res[c->ndone])
                c->res[c->ndone] = rowset_new_error("", "no result");
            c->ndone++;
        } else if (c->skip_prepare_result && c->skip_prepare_result[c->ndone]) {
            /* the Prepare's own result: nothing to keep unless it failed */
            c->skip_prepare_result[c->ndone] = false;
            if (st != PGRES_COMMAND_OK) {
                store(c, rowset_from_pg(r));
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
    if (c->ndone < c->nstmt)
        return 0;
    if (c->mode == CONN_PIPELINE && PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF)
        PQexitPipelineMode(c->pg);
    return 1;
}

enum conn_event conn_step(struct conn *c, short revents, int64_t now)
{
    if (c->st == CONN_CLOSED)
        return CONN_EV_NONE;
    if (c->st == CONN_CONNECTING) {
        if (revents || c->poll == PGRES_POLLING_WRITING) {
            c->poll = PQconnectPoll(c->pg);
            if (c->poll == PGRES_POLLING_FAILED) {
                set_error(c, NULL, PQerrorMessage(c->pg));
                drop(c);
                return CONN_EV_FAILED;
            }
            if (c->poll == PGRES_POLLING_OK) {
                PQsetnonblocking(c->pg, 1);
                c->version = PQserverVersion(c->pg);
                c->pid = PQbackendPID(c->pg);
                c->st = CONN_READY;
                c->deadline = INT64_MAX;
                return CONN_EV_CONNECTED;
            }
        }
        if (now >= c->deadline) {
            char msg[64];
            snprintf(msg, sizeof msg, "timeout after %.1fs connecting", (double)(now - c->started) / 1000);
            conn_close(c, msg);
            return CONN_EV_FAILED;
        }
        return CONN_EV_NONE;
    }
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
            if (!PQconsumeInput(c->pg))
                goto broken;
            PGnotify *nt;
            while ((nt = PQnotifies(c->pg)))
                PQfreemem(nt);
            return CONN_EV_NONE;
        }
        int r = read_results(c);
        if (r < 0)
            goto broken;
        if (r == 1) {
            c->st = CONN_READY;
            c->deadline = INT64_MAX;
            return CONN_EV_DONE;
        }
    }
    if (c->st == CONN_BUSY && now >= c->deadline) {
        char msg[64];
        snprintf(msg, sizeof msg, "timeout: no answer after %.1fs", (double)(now - c->started) / 1000);
        conn_close(c, msg);
        return CONN_EV_FAILED;
    }
    return CONN_EV_NONE;
broken:
    set_error(c, "connection lost", PQerrorMessage(c->pg));
    drop(c);
    return CONN_EV_FAILED;
}

int conn_send(struct conn *c, enum conn_mode mode, const char *const *sql, int n,
              const int *nparams, const char *const *const *params, int64_t deadline_ms)
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
        c->skip_prepare_result = xcalloc((size_t)n, sizeof *c->skip_prepare_result);
        c->prep_index = xcalloc((size_t)n, sizeof *c->prep_index);
        for (int i = 0; ok && i < n; i++) {
            int np = nparams ? nparams[i] : 0;
            c->prep_index[i] = -1;
            if (c->use_prepare && !c->no_prepare && np == 0) {
                bool is_new;
                int k = prepared_index(c, sql[i], &is_new);
                char name[32];
                snprintf(name, sizeof name, "pgfleet_%d", k);
                c->prep_index[i] = k;
                if (is_new) {
                    /* tagged so the Statements pane can leave our own probes out */
                    bool tagged = strncmp(sql[i], "/* pgfleet */", 13) == 0;
                    char *text = tagged ? xstrdup(sql[i]) : xasprintf("/* pgfleet */ %s", sql[i]);
                    ok = PQsendPrepare(c->pg, name, text, 0, NULL);
                    free(text);
                    c->skip_prepare_result[i] = true;
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
        /* libpq quotes the text it choked on, which may be part of a password: when the
         * string holds one, keep the message but blank out what it quotes. */
        if (conninfo && (strcasestr(conninfo, "password") || strchr(conninfo, '@')))
            for (char *q = strchr(line, '"'); q; q = strchr(q, '"')) {
                char *end = strchr(q + 1, '"');
                if (!end)
                    break;
                if (end - q > 2 || (end - q == 2 && q[1] != '='))
                    memmove(q + 2, end, strlen(end) + 1), q[1] = '*';
                q = strchr(q + 1, '"') + 1;
            }
        *err = xstrdup(line);
        PQfreemem(msg);
        return -1;
    }
    PQconninfoFree(o);
    return 0;
}

static const char *opt(PQconninfoOption *o, const char *key)
{
    for (; o && o->keyword; o++)
        if (strcmp(o->keyword, key) == 0 && o->val && *o->val)
            return o->val;
    return NULL;
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
                         port ? port : "5432",
                         db ? "/" : "", db ? db : "");
    PQconninfoFree(o);
    return name;
}

/* ---- name resolution, without blocking: getaddrinfo_a before each (re)connect ---- */

/* One host of the conninfo's host list. */
struct lookup {
    struct gaicb cb;
    struct addrinfo hints;
    char *name;
    bool numeric;  /* an address already: it is its own hostaddr */
    bool socket;   /* a Unix socket directory: no hostaddr for this conn at all */
};

struct resolver {
    struct lookup *l;
    int n;
    int64_t deadline;
};

static void resolver_free(struct resolver *r)
{
    for (int i = 0; i < r->n; i++) {
        if (!r->l[i].numeric && !r->l[i].socket && gai_error(&r->l[i].cb) != EAI_INPROGRESS &&
            r->l[i].cb.ar_result)
            freeaddrinfo(r->l[i].cb.ar_result);
        free(r->l[i].name);
    }
    free(r->l);
    free(r);
}

int conn_resolve_start(struct conn *c, int64_t deadline_ms)
{
    free(c->hostaddr);
    c->hostaddr = NULL;
    PQconninfoOption *o = PQconninfoParse(c->conninfo, NULL);
    const char *host = opt(o, "host");
    if (!host)
        host = getenv("PGHOST");
    if (!o || !host || opt(o, "hostaddr") || getenv("PGHOSTADDR")) {
        PQconninfoFree(o);
        return 0; /* nothing to look up: libpq's defaults, sockets or given addresses */
    }
    struct resolver *r = xcalloc(1, sizeof *r);
    r->deadline = deadline_ms;
    char *copy = xstrdup(host), *save = NULL;
    for (char *h = strtok_r(copy, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
        r->l = xreallocarray(r->l, (size_t)r->n + 1, sizeof *r->l);
        struct lookup *l = &r->l[r->n++];
        memset(l, 0, sizeof *l);
        l->name = xstrdup(h);
        unsigned char bin[sizeof(struct in6_addr)];
        l->socket = h[0] == '/' || h[0] == '@' || h[0] == '\0';
        l->numeric = !l->socket && (inet_pton(AF_INET, h, bin) == 1 || inet_pton(AF_INET6, h, bin) == 1);
    }
    free(copy);
    PQconninfoFree(o);
    bool any = false;
    for (int i = 0; i < r->n; i++)
        any |= r->l[i].socket;
    struct gaicb **list = xcalloc((size_t)r->n + 1, sizeof *list);
    int nlist = 0;
    for (int i = 0; i < r->n && !any; i++) {
        struct lookup *l = &r->l[i]; /* r->l no longer moves: pointers into it are safe */
        if (l->numeric)
            continue;
        l->hints.ai_socktype = SOCK_STREAM;
        l->cb.ar_name = l->name;
        l->cb.ar_request = &l->hints;
        list[nlist++] = &l->cb;
    }
    if (any || nlist == 0) {
        /* a socket in the list (no hostaddr possible), or addresses only */
        if (!any) {
            struct text t;
            text_init(&t);
            for (int i = 0; i < r->n; i++)
                text_printf(&t, "%s%s", i ? "," : "", r->l[i].name);
            c->hostaddr = t.s;
        }
        free(list);
        resolver_free(r);
        return 0;
    }
    int e = getaddrinfo_a(GAI_NOWAIT, list, nlist, NULL);
    free(list);
    if (e != 0) {
        snprintf(c->err, sizeof c->err, "unknown host: cannot start the lookup: %s", gai_strerror(e));
        resolver_free(r);
        return -1;
    }
    c->resolver = r;
    return 1;
}

int conn_resolve_poll(struct conn *c, int64_t now)
{
    struct resolver *r = c->resolver;
    if (!r)
        return 1;
    int pending = -1;
    for (int i = 0; i < r->n; i++)
        if (!r->l[i].numeric && gai_error(&r->l[i].cb) == EAI_INPROGRESS)
            pending = i;
    if (pending >= 0 && now < r->deadline)
        return 0;
    c->resolver = NULL;
    if (pending >= 0) {
        snprintf(c->err, sizeof c->err, "unknown host: resolving %s timed out", r->l[pending].name);
        bool stuck = false;
        for (int i = 0; i < r->n; i++)
            if (!r->l[i].numeric && gai_error(&r->l[i].cb) == EAI_INPROGRESS &&
                gai_cancel(&r->l[i].cb) != EAI_CANCELED)
                stuck = true;
        if (!stuck)
            resolver_free(r);
        /* else the resolver thread still writes into r: leave it (rare, bounded by the fleet) */
        return -1;
    }
    struct text t;
    text_init(&t);
    int rc = 1;
    for (int i = 0; i < r->n && rc == 1; i++) {
        struct lookup *l = &r->l[i];
        char buf[INET6_ADDRSTRLEN] = "";
        const char *addr = l->name;
        if (!l->numeric) {
            int e = gai_error(&l->cb);
            struct addrinfo *ai = l->cb.ar_result;
            if (e != 0 || !ai) {
                snprintf(c->err, sizeof c->err, "unknown host: %s: %s", l->name, gai_strerror(e));
                rc = -1;
                break;
            }
            void *a = ai->ai_family == AF_INET6 ? (void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                                                : (void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
            inet_ntop(ai->ai_family, a, buf, sizeof buf);
            addr = buf;
        }
        text_printf(&t, "%s%s", i ? "," : "", addr);
    }
    if (rc == 1)
        c->hostaddr = t.s;
    else
        text_free(&t);
    resolver_free(r);
    return rc;
}
