/* sched.c — the fleet engine. Each server is a small state machine over its probe connection:
 *
 *   DISCONNECTED --start--> CONNECTING --connected--> SETUP --caps--> WARMUP --> READY <-- TICK
 *        ^                      |  (lookup, then        |                |         |--due-->--^
 *        |                      |   each address)       |                |         |          |
 *        +---- backoff <--------+-------- failure ------+----------------+---------+----------+
 *
 * The warm-up batch is a tick whose results are dropped: a new connection parses and plans
 * every probe statement once and fills its caches from the catalogs (thousands of blocks read),
 * and that must be reported before the first sample, not inside the first interval. The first
 * sample of a connection is therefore taken warm.
 *
 * A tick sends every due probe in one round trip (conn.c's pipeline mode). A tick that is still
 * unanswered when the next one is due marks the server STALE; its deadline (the config's timeout)
 * drops the connection and marks it DOWN. Reconnects back off exponentially (1 s doubling up to
 * 30 s) with ±20% jitter so a fleet that lost its network does not reconnect in lockstep. */
#include "probes/sched.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conn.h"
#include "core/util.h"
#include "probes/health.h"

enum phase { PH_DISCONNECTED, PH_CONNECTING, PH_SETUP, PH_WARMUP, PH_READY, PH_TICK };

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

void sched_init(struct model *m, const struct config *cfg)
{
    memset(m, 0, sizeof *m);
    m->cfg = cfg;
    m->refresh_ms = cfg->refresh_ms;
    m->grid_ms = now_ms();
    m->n = cfg->nservers + cfg->npoolers;
    m->servers = xcalloc(m->n + 1, sizeof *m->servers);
    m->lag_memo = xcalloc(1, sizeof *m->lag_memo);
    m->lag_memo->bytes = xcalloc(m->n + 1, sizeof *m->lag_memo->bytes);
    m->lag_memo->seconds = xcalloc(m->n + 1, sizeof *m->lag_memo->seconds);
    m->health_memo = health_memo_new(m->n);
    m->pooler_confs = xcalloc(cfg->npoolers + 1, sizeof *m->pooler_confs);
    int64_t now = now_ms();
    for (size_t i = 0; i < m->n; i++) {
        struct server *s = &m->servers[i];
        if (i < cfg->nservers) {
            s->conf = &cfg->servers[i];
            s->kind = KIND_POSTGRES;
        } else {
            /* A pooler is watched like a server: same engine, its own probes. */
            const struct pooler_conf *pc = &cfg->poolers[i - cfg->nservers];
            struct server_conf *sc = &m->pooler_confs[i - cfg->nservers];
            sc->name = pc->name; /* borrowed from the config */
            sc->conninfo = pc->conninfo;
            sc->line = pc->line;
            sc->col = pc->col;
            s->conf = sc;
            s->pooler = pc;
            s->kind = KIND_PGBOUNCER;
        }
        s->local = conn_is_local(s->conf->conninfo);
        s->conn = conn_new(s->conf->conninfo, "pgfleet");
        conn_use_prepared(s->conn, true);
        if (s->kind == KIND_POSTGRES) {
            /* The server-side statement timeout is a little under our deadline, so a slow probe
             * is cancelled by the server and reported before we give up on the connection. */
            const char *names[4], *values[4];
            char buf[4][32];
            long st = (long)(cfg->timeout_ms * 8 / 10);
            int ns = probe_settings(names, buf, 4, st > 100 ? st : 100);
            for (int k = 0; k < ns; k++)
                values[k] = buf[k];
            conn_set_settings(s->conn, names, values, ns);
            /* made only when the role may (due_batch): its rights are learnt after connecting */
            const char *lnames[2], *lvalues[2];
            conn_set_local_settings(s->conn, lnames, lvalues, probe_local_settings(lnames, lvalues, 2));
        }
        s->status = SRV_CONNECTING;
        s->status_since_ms = now;
        s->retry_at_ms = now;
        s->phase = PH_DISCONNECTED;
    }
    srandom((unsigned)now);
}

void sched_free(struct model *m)
{
    for (size_t i = 0; i < m->n; i++) {
        struct server *s = &m->servers[i];
        conn_free(s->conn);
        sample_free(s->cur);
        sample_free(s->prev);
        caps_free(&s->caps);
    }
    free(m->servers);
    if (m->lag_memo) {
        free(m->lag_memo->bytes);
        free(m->lag_memo->seconds);
        free(m->lag_memo);
        m->lag_memo = NULL;
    }
    if (m->health_memo) {
        health_memo_free(m->health_memo);
        m->health_memo = NULL;
    }
    free(m->pooler_confs);
    model_restore_free(m);
    m->pooler_confs = NULL;
    m->servers = NULL;
    m->n = 0;
}

static void set_status(struct model *m, struct server *s, enum srv_status st, const char *reason)
{
    if (s->status != st)
        s->status_since_ms = now_ms();
    s->status = st;
    snprintf(s->reason, sizeof s->reason, "%s", reason ? reason : "");
    m->generation++;
}

static void fail(struct model *m, struct server *s, const char *why, int64_t now)
{
    conn_close(s->conn, NULL);
    set_status(m, s, SRV_DOWN, why);
    s->failures++;
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (s->backoff_ms > BACKOFF_MAX_MS)
        s->backoff_ms = BACKOFF_MAX_MS;
    double jitter = 0.8 + 0.4 * ((double)random() / RAND_MAX);
    int64_t wait = (int64_t)((double)s->backoff_ms * jitter);
    s->retry_at_ms = now + (wait > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : wait); /* the cap holds */
    s->phase = PH_DISCONNECTED;
    s->ticks = 0;
}

/* A pgBouncer admin console given as a server (command line or servers:) answers the
 * connection, then refuses every catalog query: recognised by the version it reports, it is
 * watched as the pooler it is from then on (serving no server of the fleet, as it was not
 * listed under poolers:), instead of going DOWN with the console's refusal. */
static void become_pooler(struct model *m, struct server *s)
{
    s->kind = KIND_PGBOUNCER;
    conn_set_settings(s->conn, NULL, NULL, 0); /* the console takes no settings */
    conn_use_prepared(s->conn, false);
    caps_free(&s->caps);
    sample_free(s->prev);
    sample_free(s->cur);
    s->prev = s->cur = NULL;
    m->generation++;
}

static void start_connect(struct model *m, struct server *s, int64_t now)
{
    if (conn_start(s->conn, now + m->cfg->timeout_ms) < 0) {
        fail(m, s, conn_error(s->conn), now);
        return;
    }
    s->phase = PH_CONNECTING;
}

static void send_setup(struct model *m, struct server *s, int64_t now)
{
    const char *sql[1] = {probe_caps_sql(conn_server_version(s->conn))};
    s->setup_stmts = 1;
    if (conn_send(s->conn, CONN_PIPELINE, sql, 1, NULL, NULL, now + m->cfg->timeout_ms) < 0) {
        fail(m, s, conn_error(s->conn), now);
        return;
    }
    s->phase = PH_SETUP;
}

/* The due probes' statements into sql (s->inflight says whose), and whether each runs with
 * the local settings (track_counts off: the role may set it and the probe is not .counted). */
static int due_batch(struct model *m, struct server *s, const char **sql, bool *local)
{
    struct server *f = s;
    f->ninflight = 0;
    for (int p = 0; p < PROBE_MAX; p++) {
        const struct probe_class *pc = probe_table[p];
        if (pc->kind != s->kind)
            continue;
        /* every probe runs on the first two ticks, so its rates exist after two refreshes
         * (the snapshot waits for exactly two) */
        unsigned every = pc->every ? pc->every(s->cur) : pc->every_ticks;
        if (s->tickno % (every ? every : 1) != 0 && s->tickno > 1)
            continue;
        if (!pc->sql || (s->caps.version && s->caps.version < pc->min_version))
            continue; /* derived from the sessions section, or too old a server */
        const char *why = NULL;
        const char *q = pc->sql(&s->caps, &m->opts, &why);
        if (!q)
            continue;
        f->inflight[f->ninflight] = p;
        local[f->ninflight] = s->caps.set_track_counts && !pc->counted;
        sql[f->ninflight++] = q;
    }
    return f->ninflight;
}

static int send_batch(struct model *m, struct server *s, const char **sql, const bool *local, int n, int64_t now)
{
    if (s->kind == KIND_PGBOUNCER)
        return conn_send(s->conn, CONN_SIMPLE, sql, n, NULL, NULL, now + m->cfg->timeout_ms);
    return conn_send_local(s->conn, sql, n, local, now + m->cfg->timeout_ms);
}

/* After the caps: every probe once, results dropped (see the top of this file). */
static void send_warmup(struct model *m, struct server *s, int64_t now)
{
    const char *sql[PROBE_MAX];
    bool local[PROBE_MAX];
    s->tickno = 0;
    int n = due_batch(m, s, sql, local);
    if (n > 0 && send_batch(m, s, sql, local, n, now) < 0) {
        fail(m, s, conn_error(s->conn), now);
        return;
    }
    s->phase = n > 0 ? PH_WARMUP : PH_READY;
    s->next_tick_ms = now;
}

static void send_tick(struct model *m, struct server *s, size_t idx, int64_t now)
{
    const char *sql[PROBE_MAX];
    bool local[PROBE_MAX];
    struct server *f = s;
    (void)idx;
    due_batch(m, s, sql, local);
    s->tickno++;
    s->sent_ms = now;
    int64_t next = s->next_tick_ms + m->refresh_ms;
    if (next <= now)
        next = now + m->refresh_ms; /* fell behind: keep the cadence from now */
    /* The fleet ticks on one grid (multiples of the refresh interval from the model's start), so
     * its answers come in as one round, drawn once, not a frame for each server's own phase (a
     * fleet's connections come up at scattered times). A server's first interval (its first
     * rates) stays a whole one; then its tick moves to the nearest point of the grid. */
    if (s->tickno > 1 && m->refresh_ms > 0) {
        next = m->grid_ms + (next - m->grid_ms + m->refresh_ms / 2) / m->refresh_ms * m->refresh_ms;
        if (next <= now)
            next += m->refresh_ms;
    }
    s->next_tick_ms = next;
    if (f->ninflight == 0) { /* nothing due: an empty tick; being connected is the news */
        s->phase = PH_READY;
        s->ticks++;
        s->last_ok_ms = now;
        if (s->status != SRV_UP)
            set_status(m, s, SRV_UP, NULL);
        return;
    }
    if (send_batch(m, s, sql, local, f->ninflight, now) < 0) {
        fail(m, s, conn_error(s->conn), now);
        return;
    }
    s->phase = PH_TICK;
}

/* Turn a finished tick's results into a new sample; rotate cur → prev. */
static void absorb_tick(struct model *m, struct server *s, size_t idx, struct rowset **rs, int n)
{
    struct sample *next = sample_new();
    struct server *f = s;
    (void)idx;
    next->taken_ms = now_ms();
    bool ran[PROBE_MAX] = {0};
    for (int i = 0; i < n && i < f->ninflight; i++) {
        int p = f->inflight[i];
        char err[300] = "";
        ran[p] = true;
        if (rs[i]->error)
            next->err[p] = xasprintf("%s", rs[i]->error);
        else if (probe_table[p]->parse(rs[i], next, err, sizeof err) < 0)
            next->err[p] = xstrdup(err);
        else if (probe_table[p]->refine && next->sec[p])
            probe_table[p]->refine(next, &s->caps);
    }
    for (int p = 0; p < PROBE_MAX; p++) {
        /* a section derived from the sessions section runs with it and shares its fate */
        if (probe_table[p]->sql || probe_table[p]->kind != s->kind || !ran[PROBE_SESSIONS])
            continue;
        ran[p] = true;
        if (next->err[PROBE_SESSIONS])
            next->err[p] = xstrdup(next->err[PROBE_SESSIONS]);
    }
    for (int p = 0; p < PROBE_MAX; p++)
        if (s->local && probe_table[p]->local && probe_table[p]->kind == s->kind)
            probe_table[p]->local(s->cur, next, &s->caps);
    for (int p = 0; p < PROBE_MAX; p++) {
        const struct probe_class *pc = probe_table[p];
        if (pc->kind != s->kind)
            continue;
        if (!ran[p] && s->cur) {
            /* Not due this tick: carry the last section forward (ownership moves). */
            next->sec[p] = s->cur->sec[p];
            s->cur->sec[p] = NULL;
            if (s->cur->err[p])
                next->err[p] = xstrdup(s->cur->err[p]);
        } else if (!ran[p] && s->caps.version && s->caps.version < pc->min_version && !next->err[p]) {
            next->err[p] = xasprintf("needs PostgreSQL %d or later", pc->min_version / 10000);
        }
    }
    if (next->sec[PROBE_SERVER])
        /* the first tick also carries the setup statements' transactions (flushed with it) */
        ((struct s_server *)next->sec[PROBE_SERVER])->own_xacts = f->ninflight + (s->tickno == 1 ? s->setup_stmts : 0);
    if (next->sec[PROBE_SESSIONS])
        ((struct s_sessions *)next->sec[PROBE_SESSIONS])->with_idle = m->opts.idle;
    for (int p = 0; p < PROBE_MAX; p++)
        if (probe_table[p]->derive && ran[p])
            probe_table[p]->derive(s->cur, next);
    sample_free(s->prev);
    s->prev = s->cur;
    s->cur = next;
    s->ticks++;
    s->last_ok_ms = now_ms();
    s->tick_ms = s->last_ok_ms - s->sent_ms;
    s->backoff_ms = 0;
    s->failures = 0;
    const char *broken = NULL;
    for (int p = 0; p < PROBE_MAX && !broken; p++)
        if (probe_table[p]->essential && probe_table[p]->kind == s->kind && !next->sec[p])
            broken = next->err[p] ? next->err[p] : "no answer to its main probe";
    set_status(m, s, broken ? SRV_STALE : SRV_UP, broken);
}

static void on_done(struct model *m, struct server *s, size_t idx, int64_t now)
{
    int n;
    struct rowset **rs = conn_take_results(s->conn, &n);
    if (s->phase == PH_SETUP) {
        char err[300];
        if (n < 1 || probe_parse_caps(rs[0], &s->caps, err, sizeof err) < 0) {
            snprintf(err, sizeof err, "setup failed: %s", n >= 1 && rs[0]->error ? rs[0]->error : "no result");
            fail(m, s, err, now);
        } else {
            send_warmup(m, s, now);
        }
    } else if (s->phase == PH_WARMUP) {
        /* From 15 on its flush probe reported the setup's and its own transactions before the
         * first sample; before 15 the collector gets them within 500 ms: the first interval's. */
        s->setup_stmts = s->caps.version >= 150000 ? 0 : s->setup_stmts + s->ninflight;
        s->phase = PH_READY;
        s->next_tick_ms = now;
        s->tickno = 0;
    } else if (s->phase == PH_TICK) {
        absorb_tick(m, s, idx, rs, n);
        s->phase = PH_READY;
    }
    for (int i = 0; i < n; i++)
        rowset_free(rs[i]);
    free(rs);
}

int sched_pollfds(struct model *m, struct pollfd *pfd, size_t *tag, int max)
{
    int n = 0;
    for (size_t i = 0; i < m->n && n < max; i++) {
        short ev;
        int fd = conn_pollfd(m->servers[i].conn, &ev);
        if (fd < 0)
            continue;
        pfd[n].fd = fd;
        pfd[n].events = ev;
        pfd[n].revents = 0;
        tag[n++] = i;
    }
    return n;
}

static void step_server(struct model *m, size_t i, short revents, int64_t now)
{
    struct server *s = &m->servers[i];
    if (s->phase == PH_DISCONNECTED) {
        if (now >= s->retry_at_ms)
            start_connect(m, s, now);
        return;
    }
    enum conn_event ev = conn_step(s->conn, revents, now);
    switch (ev) {
    case CONN_EV_FAILED: fail(m, s, conn_error(s->conn), now); return;
    case CONN_EV_CONNECTED:
        if (s->kind == KIND_POSTGRES && conn_is_pgbouncer_console(s->conn))
            become_pooler(m, s);
        if (s->kind == KIND_PGBOUNCER) {
            /* the admin console has no settings to make and no catalog to ask */
            s->phase = PH_READY;
            s->next_tick_ms = now;
            s->tickno = 0;
            break;
        }
        send_setup(m, s, now);
        return;
    case CONN_EV_DONE: on_done(m, s, i, now); break;
    case CONN_EV_NONE: break;
    }
    if (s->phase == PH_READY && now >= s->next_tick_ms && !m->paused)
        send_tick(m, s, i, now);
    else if (s->phase == PH_TICK && now >= s->sent_ms + m->refresh_ms && s->status == SRV_UP) {
        char why[96];
        snprintf(why, sizeof why, "no answer for %.1fs", (double)(now - s->sent_ms) / 1000);
        set_status(m, s, SRV_STALE, why);
    }
}

bool sched_step(struct model *m, const struct pollfd *pfd, const size_t *tag, int n, int64_t now)
{
    unsigned gen = m->generation;
    model_restore_poll(m, now); /* a stat per refresh interval at most */
    short *rev = xcalloc(m->n + 1, sizeof *rev);
    for (int k = 0; k < n; k++)
        rev[tag[k]] |= pfd[k].revents;
    for (size_t i = 0; i < m->n; i++)
        step_server(m, i, rev[i], now);
    free(rev);
    return gen != m->generation;
}

bool sched_ticking(const struct model *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->servers[i].phase == PH_TICK)
            return true;
    return false;
}

int64_t sched_next_deadline(const struct model *m)
{
    int64_t best = INT64_MAX;
    for (size_t i = 0; i < m->n; i++) {
        const struct server *s = &m->servers[i];
        int64_t d = INT64_MAX;
        switch (s->phase) {
        case PH_DISCONNECTED: d = s->retry_at_ms; break;
        case PH_READY: d = m->paused ? INT64_MAX : s->next_tick_ms; break;
        case PH_TICK:
            d = conn_deadline(s->conn);
            if (s->status == SRV_UP && s->sent_ms + m->refresh_ms < d)
                d = s->sent_ms + m->refresh_ms;
            break;
        default: d = conn_deadline(s->conn); break;
        }
        if (d < best)
            best = d;
    }
    return best;
}

void sched_refresh_now(struct model *m)
{
    int64_t now = now_ms();
    for (size_t i = 0; i < m->n; i++)
        if (m->servers[i].phase == PH_READY)
            m->servers[i].next_tick_ms = now;
}
