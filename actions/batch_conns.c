/* batch_conns.c — the batch runner's two connections (work and watch) driven by one small poll
 * loop: a batch in flight on one while the other checks the limits, reads the control row and
 * hears NOTIFY, and SIGINT/SIGTERM seen at once (poll returns on the signal). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/batch_runner.h"
#include "core/conn.h"

volatile sig_atomic_t batch_stop;

void side_clear(struct side *s)
{
    for (int i = 0; i < s->nrs; i++)
        rowset_free(s->rs[i]);
    free(s->rs);
    s->rs = NULL;
    s->nrs = 0;
}

static void side_reset(struct side *s)
{
    side_clear(s);
    if (s->c)
        conn_free(s->c);
    s->c = NULL;
    s->busy = s->failed = false;
}

void side_close_both(struct runner *r, const char *why)
{
    (void)why;
    side_reset(&r->work);
    side_reset(&r->watch);
    r->backend = 0;
}

void side_pump(struct runner *r, int64_t until_ms)
{
    struct side *sides[2] = {&r->work, &r->watch};
    struct pollfd pfd[2];
    int64_t now = now_ms(), wake = until_ms;
    for (int i = 0; i < 2; i++) {
        short ev = 0;
        pfd[i].fd = sides[i]->c && !sides[i]->failed ? conn_pollfd(sides[i]->c, &ev) : -1;
        pfd[i].events = ev;
        pfd[i].revents = 0;
        if (sides[i]->c && !sides[i]->failed) {
            int64_t d = conn_deadline(sides[i]->c);
            if (d < wake)
                wake = d;
        }
    }
    if (batch_stop)
        return;
    int timeout = wake <= now ? 0 : wake - now > 1000 ? 1000 : (int)(wake - now);
    if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
        fatal("poll: %s", strerror(errno));
    now = now_ms();
    for (int i = 0; i < 2; i++) {
        struct side *s = sides[i];
        if (!s->c || s->failed)
            continue;
        enum conn_event e = conn_step(s->c, pfd[i].fd >= 0 ? pfd[i].revents : 0, now);
        if (e == CONN_EV_DONE) {
            side_clear(s);
            s->rs = conn_take_results(s->c, &s->nrs);
            s->busy = false;
        } else if (e == CONN_EV_FAILED) {
            s->failed = true;
            s->busy = false;
        } else if (e == CONN_EV_CONNECTED) {
            s->busy = false;
        }
        if (s->c && !s->failed)
            s->notify += conn_take_notifications(s->c);
    }
}

int side_connect_both(struct runner *r, int64_t timeout_ms)
{
    side_close_both(r, NULL);
    struct side *sides[2] = {&r->work, &r->watch};
    int64_t deadline = now_ms() + timeout_ms;
    for (int i = 0; i < 2; i++) {
        sides[i]->c = conn_new(r->conninfo, r->app);
        sides[i]->busy = true;
        if (conn_start(sides[i]->c, deadline) < 0) {
            snprintf(r->err, sizeof r->err, "%s", conn_error(sides[i]->c));
            side_close_both(r, NULL);
            return -1;
        }
    }
    while ((r->work.busy || r->watch.busy) && !r->work.failed && !r->watch.failed && !batch_stop)
        side_pump(r, deadline);
    for (int i = 0; i < 2; i++)
        if (sides[i]->failed || sides[i]->busy) {
            snprintf(r->err, sizeof r->err, "%s", batch_stop ? "interrupted" : conn_error(sides[i]->c));
            side_close_both(r, NULL);
            return -1;
        }
    r->backend = conn_backend_pid(r->work.c);
    return 0;
}

int side_send(struct runner *r, struct side *s, const char *const *sql, int n, const int *np,
              const char *const *const *pv, int64_t timeout_ms)
{
    side_clear(s);
    if (!s->c || s->failed || conn_send(s->c, CONN_PIPELINE, sql, n, np, pv, now_ms() + timeout_ms) < 0) {
        snprintf(r->err, sizeof r->err, "%s", s->c ? conn_error(s->c) : "not connected");
        s->failed = true;
        return -1;
    }
    s->busy = true;
    return 0;
}

static int side_wait(struct runner *r, struct side *s, char sqlstate[6]);

int side_exec_simple(struct runner *r, struct side *s, const char *const *sql, int n, int64_t timeout_ms)
{
    side_clear(s);
    if (!s->c || s->failed || conn_send(s->c, CONN_SIMPLE, sql, n, NULL, NULL, now_ms() + timeout_ms) < 0) {
        snprintf(r->err, sizeof r->err, "%s", s->c ? conn_error(s->c) : "not connected");
        return -1;
    }
    s->busy = true;
    return side_wait(r, s, NULL);
}

int side_exec(struct runner *r, struct side *s, const char *const *sql, int n, const int *np,
              const char *const *const *pv, int64_t timeout_ms, char sqlstate[6])
{
    if (sqlstate)
        sqlstate[0] = '\0';
    if (side_send(r, s, sql, n, np, pv, timeout_ms) < 0)
        return -1;
    return side_wait(r, s, sqlstate);
}

/* Until the answer: -1 with r->err when the connection broke or a statement failed. */
static int side_wait(struct runner *r, struct side *s, char sqlstate[6])
{
    while (s->busy && !s->failed)
        side_pump(r, INT64_MAX);
    if (s->failed) {
        snprintf(r->err, sizeof r->err, "%s", conn_error(s->c));
        return -1;
    }
    for (int i = 0; i < s->nrs; i++)
        if (s->rs[i]->error) {
            snprintf(r->err, sizeof r->err, "%s", s->rs[i]->error);
            if (sqlstate)
                memcpy(sqlstate, s->rs[i]->sqlstate, 6);
            return -1;
        }
    return 0;
}

bool side_nap(struct runner *r, int64_t until_ms)
{
    unsigned seen = r->watch.notify;
    while (now_ms() < until_ms && !batch_stop) {
        side_pump(r, until_ms);
        if (r->watch.notify != seen || r->watch.failed || r->work.failed)
            return true;
    }
    return batch_stop;
}
