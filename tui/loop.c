/* loop.c — the only poll() in pgfleet. Each pass: gather the server sockets, the terminal and
 * the signal self-pipe; wait until the nearest deadline; step the engine; let the hooks react;
 * draw once. Signals only write a byte to the self-pipe: their work happens here, in order.
 * SIGINT/SIGTERM/SIGHUP also arm a one-second watchdog: if pgfleet has not exited by then (a
 * defect that keeps the loop busy, a shutdown that hangs on a disk), or the signal comes twice,
 * the terminal is restored from the signal handler and pgfleet exits at once. Quitting never
 * depends on the loop being healthy. */
#include "tui/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/job.h"
#include "core/util.h"
#include "probes/restore_record.h"
#include "probes/sched.h"

static int sigpipe_fd[2] = {-1, -1};
static volatile sig_atomic_t stop_requested, quit_signal;
static void (*emergency_hook)(void);

void loop_set_emergency(void (*restore)(void)) { emergency_hook = restore; }

/* Async-signal-safe: restore the terminal and leave now. */
static void emergency_exit(int sig)
{
    if (emergency_hook)
        emergency_hook();
    _exit(128 + sig);
}

static void on_alarm(int sig)
{
    (void)sig;
    emergency_exit(quit_signal ? quit_signal : SIGTERM);
}

static void on_sig(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
        if (quit_signal)
            emergency_exit(sig); /* the second one: no more waiting */
        quit_signal = sig;
        stop_requested = 1;
        alarm(1);
    }
    if (sigpipe_fd[1] >= 0 && write(sigpipe_fd[1], &b, 1) < 0) {
        /* pipe full: the loop will wake for the earlier byte anyway */
    }
    errno = saved;
}

static void loop_shutdown(void);

/* Installed once, for the life of the process: a quit signal that comes between two loops (at
 * a prompt, while the monitor shuts down) is still bounded by the watchdog. */
static void setup_signals(void)
{
    if (sigpipe_fd[0] >= 0)
        return;
    atexit(loop_shutdown);
    if (pipe2(sigpipe_fd, O_NONBLOCK | O_CLOEXEC) < 0)
        fatal("pipe: %s", strerror(errno));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGWINCH, &sa, NULL);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* At exit (the sanitizers' exit-time checks run after this): the watchdog stands down. */
static void loop_shutdown(void)
{
    alarm(0);
    signal(SIGALRM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGWINCH, SIG_DFL);
    for (int i = 0; i < 2; i++) {
        if (sigpipe_fd[i] >= 0)
            close(sigpipe_fd[i]);
        sigpipe_fd[i] = -1;
    }
}

/* How long news may wait for the rest of its round before it is drawn: a quarter of the refresh
 * interval, 20 to 250 ms. A big fleet's ticks drift apart, so some server is always in flight:
 * at 100 ms that was ten full frames a second at a 1 s refresh. */
static int64_t coalesce_ms(const struct model *m)
{
    int64_t c = m->refresh_ms / 4;
    return c < 20 ? 20 : c > 250 ? 250 : c;
}

int loop_run(struct model *m, const struct loop_hooks *h)
{
    enum { MAX_JOB_FDS = 64 };
    int max = (int)m->n + 2 + MAX_JOB_FDS;
    struct pollfd *pfd = xcalloc((size_t)max, sizeof *pfd);
    size_t *tag = xcalloc((size_t)max, sizeof *tag);
    struct job *jtag[MAX_JOB_FDS];
    int rc = 0;
    bool changed = true;  /* draw the model again on the next pass */
    bool pending = false; /* new samples not drawn yet */
    int64_t pending_since = 0;
    setup_signals();
    stop_requested = quit_signal != 0; /* quitting already: one more loop would not wait */
    /* the restore tests' record, read before the first frame (a model without servers, as the
     * shell actions drive their job with, has nothing to judge) */
    if (!m->restore.on && m->n)
        model_restore_watch(m, restore_records_default_path());
    sched_step(m, NULL, NULL, 0, now_ms()); /* start connecting at once */
    for (;;) {
        if (h->frame)
            h->frame(h->ctx, changed);
        if (changed)
            pending = false;
        changed = false;
        int64_t now = now_ms();
        if (stop_requested || (h->done && h->done(h->ctx, now)))
            break;
        int n = sched_pollfds(m, pfd, tag, max - 2 - MAX_JOB_FDS);
        int nsrv = n, njob = 0;
        if (m->jobs) {
            njob = jobs_pollfds(m->jobs, pfd + n, jtag, MAX_JOB_FDS);
            n += njob;
        }
        int sig_i = n, in_i = -1;
        pfd[n].fd = sigpipe_fd[0], pfd[n].events = POLLIN, pfd[n].revents = 0, n++;
        if (h->input_fd >= 0) {
            in_i = n;
            pfd[n].fd = h->input_fd, pfd[n].events = POLLIN, pfd[n].revents = 0, n++;
        }
        int64_t deadline = sched_next_deadline(m);
        if (m->jobs && jobs_next_deadline(m->jobs) < deadline)
            deadline = jobs_next_deadline(m->jobs);
        if (h->deadline) {
            int64_t d = h->deadline(h->ctx);
            if (d < deadline)
                deadline = d;
        }
        if (pending && pending_since + coalesce_ms(m) < deadline)
            deadline = pending_since + coalesce_ms(m);
        int timeout = deadline == INT64_MAX ? 1000 : (int)(deadline - now);
        if (timeout < 0)
            timeout = 0;
        if (timeout > 1000)
            timeout = 1000; /* wake at least each second: the header clock, done() checks */
        int r = poll(pfd, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR)
            fatal("poll: %s", strerror(errno));
        now = now_ms();
        if (r > 0 && (pfd[sig_i].revents & POLLIN)) {
            unsigned char b;
            while (read(sigpipe_fd[0], &b, 1) == 1) {
                if (b == SIGINT || b == SIGTERM || b == SIGHUP) {
                    rc = b == SIGINT ? 130 : 128 + b;
                    stop_requested = 1;
                } else if (h->on_signal) {
                    h->on_signal(h->ctx, b);
                    changed = true;
                }
            }
        }
        bool news = sched_step(m, pfd, tag, nsrv, now);
        if (m->jobs)
            news |= jobs_step(m->jobs, pfd + nsrv, jtag, njob, now);
        if (news && !pending)
            pending = true, pending_since = now;
        /* A fleet's ticks end one after another: one frame for the round, drawn when its last
         * server answered or coalesce_ms after the first news, not one per server. */
        if (pending && (!sched_ticking(m) || now - pending_since >= coalesce_ms(m)))
            changed = true;
        if (in_i >= 0 && (pfd[in_i].revents & (POLLIN | POLLHUP | POLLERR))) {
            changed = true;
            if (!h->on_input(h->ctx))
                break;
        }
        if (stop_requested)
            break;
    }
    if (quit_signal && !rc) /* the handler set stop_requested before the pipe was read */
        rc = quit_signal == SIGINT ? 130 : 128 + quit_signal;
    free(pfd);
    free(tag);
    return rc;
}
