/* delayproxy.c — TCP proxy for the benchmark (tests/bench/run) that adds a fixed latency: every
 * chunk read from either side is forwarded DELAY_MS after it was read (a timestamped queue per
 * direction, so a pipelined burst stays a burst). One thread, one poll() loop, many connections.
 *
 *   delayproxy LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS
 *
 * Listens on 127.0.0.1 only; LISTEN_PORT 0 picks a free port. Prints "listening PORT" on stdout
 * once it accepts connections. Half-closes are forwarded (after the delay too); an error on either
 * side drops both. Runs until killed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_MAX (64 * 1024)
#define QUEUE_MAX (8u * 1024 * 1024) /* stop reading a side while this much waits to go out */

struct chunk {
    struct chunk *next;
    int64_t due_us; /* monotonic time at which it may be forwarded */
    size_t len, off;
    bool eof; /* marker: the source half-closed; forward as shutdown(SHUT_WR) */
    char data[];
};

/* One direction: read from fd[src], queue, write to fd[1 - src]. */
struct dir {
    struct chunk *head, *tail;
    size_t queued;
    bool read_eof; /* source said EOF (marker queued) */
    bool done;     /* EOF forwarded */
};

/* fd[0] is the client, fd[1] the target; d[0] goes client → target, d[1] target → client. */
struct pair {
    int fd[2];
    bool connecting;
    struct dir d[2];
};

static int64_t delay_us;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what)
{
    fprintf(stderr, "delayproxy: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fputs("delayproxy: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void enqueue(struct dir *d, const char *buf, size_t len, bool eof, int64_t now)
{
    struct chunk *c = xmalloc(sizeof *c + len);
    c->next = NULL;
    c->due_us = now + delay_us;
    c->len = len;
    c->off = 0;
    c->eof = eof;
    if (len)
        memcpy(c->data, buf, len);
    if (d->tail)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
    d->queued += len;
}

static void pop(struct dir *d)
{
    struct chunk *c = d->head;
    d->head = c->next;
    if (!d->head)
        d->tail = NULL;
    d->queued -= c->len;
    free(c);
}

static void pair_free(struct pair *p)
{
    for (int i = 0; i < 2; i++) {
        while (p->d[i].head)
            pop(&p->d[i]);
        if (p->fd[i] >= 0)
            close(p->fd[i]);
    }
    free(p);
}

static bool wants_read(const struct pair *p, int side)
{
    const struct dir *d = &p->d[side];
    return !d->read_eof && d->queued < QUEUE_MAX && !(side == 1 && p->connecting);
}

/* Read what side has for us; false when the pair must be dropped. */
static bool pump_in(struct pair *p, int side, int64_t now)
{
    static char buf[READ_MAX];
    for (int k = 0; k < 16 && wants_read(p, side); k++) {
        ssize_t n = read(p->fd[side], buf, sizeof buf);
        if (n > 0) {
            enqueue(&p->d[side], buf, (size_t)n, false, now);
        } else if (n == 0) {
            enqueue(&p->d[side], NULL, 0, true, now);
            p->d[side].read_eof = true;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return true;
        } else if (errno != EINTR) {
            return false;
        }
    }
    return true;
}

/* Forward the due chunks of direction i; false when the pair must be dropped. */
static bool pump_out(struct pair *p, int i, int64_t now)
{
    struct dir *d = &p->d[i];
    int to = p->fd[1 - i];
    if (p->connecting)
        return true;
    while (d->head && d->head->due_us <= now) {
        struct chunk *c = d->head;
        if (c->eof) {
            shutdown(to, SHUT_WR);
            d->done = true;
            pop(d);
            continue;
        }
        ssize_t n = send(to, c->data + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true;
            if (errno == EINTR)
                continue;
            return false;
        }
        c->off += (size_t)n;
        if (c->off < c->len)
            return true;
        pop(d);
    }
    return true;
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
        die("bind");
    if (listen(fd, 512) < 0)
        die("listen");
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        die("getsockname");
    printf("listening %d\n", ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

/* Accept one client and start connecting to the target; NULL when nothing (more) to accept. */
static struct pair *accept_one(int lfd, const struct addrinfo *target, bool *again)
{
    *again = false;
    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) {
        if (errno == ECONNABORTED || errno == EINTR)
            *again = true;
        return NULL;
    }
    *again = true;
    int t = socket(target->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (t < 0) {
        close(c);
        return NULL;
    }
    set_nodelay(c);
    set_nodelay(t);
    bool connecting = false;
    if (connect(t, target->ai_addr, target->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            close(c);
            close(t);
            return NULL;
        }
        connecting = true;
    }
    struct pair *p = xmalloc(sizeof *p);
    memset(p, 0, sizeof *p);
    p->fd[0] = c;
    p->fd[1] = t;
    p->connecting = connecting;
    return p;
}

static long parse_num(const char *s, long lo, long hi, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "delayproxy: bad %s \"%s\" (%ld..%ld)\n", what, s, lo, hi);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fputs("usage: delayproxy LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS\n", stderr);
        return 2;
    }
    int lport = (int)parse_num(argv[1], 0, 65535, "LISTEN_PORT");
    parse_num(argv[3], 1, 65535, "TARGET_PORT");
    delay_us = parse_num(argv[4], 0, 600000, "DELAY_MS") * 1000;

    struct addrinfo hints, *target;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(argv[2], argv[3], &hints, &target);
    if (gai) {
        fprintf(stderr, "delayproxy: %s: %s\n", argv[2], gai_strerror(gai));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);

    /* Two descriptors per connection: take all the descriptors we may. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    size_t max_pairs = 4096;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 2 * max_pairs + 16)
        max_pairs = rl.rlim_cur > 32 ? (size_t)(rl.rlim_cur - 16) / 2 : 1;

    int lfd = listen_on(lport);
    struct pair **pairs = xmalloc(max_pairs * sizeof *pairs);
    struct pollfd *pfd = xmalloc((2 * max_pairs + 1) * sizeof *pfd);
    size_t n = 0;

    for (;;) {
        int64_t now = mono_us();
        int64_t next_due = INT64_MAX;
        pfd[0].fd = n < max_pairs ? lfd : -1;
        pfd[0].events = POLLIN;
        for (size_t i = 0; i < n; i++) {
            struct pair *p = pairs[i];
            for (int side = 0; side < 2; side++) {
                short ev = 0;
                if (wants_read(p, side))
                    ev |= POLLIN;
                const struct chunk *out = p->d[1 - side].head; /* what goes to this side */
                if (side == 1 && p->connecting)
                    ev |= POLLOUT;
                else if (out && out->due_us <= now)
                    ev |= POLLOUT; /* due yet still queued: the last send was short */
                else if (out && out->due_us < next_due)
                    next_due = out->due_us;
                /* Nothing wanted from it: leave it out, or a hung-up socket would spin us. */
                pfd[1 + 2 * i + (size_t)side].fd = ev ? p->fd[side] : -1;
                pfd[1 + 2 * i + (size_t)side].events = ev;
                pfd[1 + 2 * i + (size_t)side].revents = 0;
            }
        }
        int timeout = -1;
        if (next_due != INT64_MAX) {
            int64_t ms = (next_due - now + 999) / 1000;
            timeout = ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
        }
        int r = poll(pfd, 1 + 2 * n, timeout);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        now = mono_us();

        size_t old_n = n;
        for (size_t i = old_n; i-- > 0;) {
            struct pair *p = pairs[i];
            bool ok = true;
            short rev0 = pfd[1 + 2 * i].revents, rev1 = pfd[2 + 2 * i].revents;
            if (p->connecting && rev1) {
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(p->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
                    ok = false;
                else if (rev1 & POLLOUT)
                    p->connecting = false;
            }
            if (ok && (rev0 & (POLLIN | POLLHUP | POLLERR)))
                ok = pump_in(p, 0, now);
            if (ok && !p->connecting && (rev1 & (POLLIN | POLLHUP | POLLERR)))
                ok = pump_in(p, 1, now);
            if (ok)
                ok = pump_out(p, 0, now) && pump_out(p, 1, now);
            if (!ok || (p->d[0].done && p->d[1].done)) {
                pair_free(p);
                pairs[i] = pairs[--n]; /* order does not matter; pfd is rebuilt next pass */
            }
        }

        if (pfd[0].revents & POLLIN) {
            bool again = true;
            while (again && n < max_pairs) {
                struct pair *p = accept_one(lfd, target, &again);
                if (p)
                    pairs[n++] = p;
            }
        }
    }
}
