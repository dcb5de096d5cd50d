/* faultproxy.c — TCP proxy for the fault tests (tests/integ/faults.sh, the soak) that speaks
 * enough of the PostgreSQL wire protocol to break it at exact points: it follows the startup
 * packet, SSLRequest/GSSENCRequest and their one-byte answer, then the typed messages (type byte,
 * int32 length) in both directions, and injects the fault its mode names. One thread, one poll()
 * loop, many connections; no libpq.
 *
 *   faultproxy --listen PORT --to HOST:PORT --mode MODE [--after N] [--conn K] [--log FILE]
 *              [--count FILE] [--len L] [--seed S] [--watch FILE] [--verbose]
 *
 * Modes (N is --after, default 1; only the K-th accepted connection is faulty with --conn K,
 * every one without it):
 *   pass       forward untouched
 *   badlen     the N-th DataRow from the server gets length L (--len, default 3; 0x7ffffff0 too)
 *   truncate   forward exactly N bytes from the server (N may be 0), then close both sides
 *   stall      forward until the N-th DataRow, send half of it, then nothing more; both sockets
 *              stay open and the client is still read (its messages go on to the server)
 *   fatal      after the N-th ReadyForQuery (a Sync's answer in a pipeline) inject an
 *              ErrorResponse FATAL 57P01, then close both sides
 *   garbage    after N bytes from the server, random bytes instead of the server's (as many)
 *   dropact    when a client Parse or Query holds pg_cancel_backend or pg_terminate_backend,
 *              forward it (up to its Sync) and close the client side at once; the server's
 *              answer is read and dropped
 *   dropafter  close both sides after the N-th ReadyForQuery from the server
 *   copy       after the N-th ReadyForQuery inject a CopyOutResponse nobody asked for, then
 *              send nothing more (libpq hands back a COPY result on every call after that)
 *
 * Listens on 127.0.0.1 only; --listen 0 picks a free port. Prints "listening PORT" on stdout once
 * it accepts connections. Logs one line per accepted connection, per injected fault and per
 * closed connection to --log (appended) or stderr; --count FILE always holds the number of
 * connections accepted so far; --watch FILE adds FILE's size at that moment to each fault's line
 * (did an audit record reach the disk before the statement went by?); --verbose logs every
 * ReadyForQuery with its offset in the server's stream (to choose --after values). A TLS or GSS-encrypted session is passed through untouched (the
 * log says so). Exits 0 on SIGTERM or SIGINT. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READ_MAX (64 * 1024)
#define OUT_MAX (4u * 1024 * 1024)  /* stop reading a side while this much waits to go out */
#define HOLD_MAX (1u * 1024 * 1024) /* dropact: client messages up to this size are checked */
#define FLUSH_MS 2000               /* a closing pair gets this long to flush what it owes */
#define LINGER_MS 5000              /* dropact: how long the server side stays after the drop */

#define CODE_CANCEL 80877102u
#define CODE_SSL 80877103u
#define CODE_GSSENC 80877104u

enum mode { M_PASS, M_BADLEN, M_TRUNCATE, M_STALL, M_FATAL, M_GARBAGE, M_DROPACT, M_DROPAFTER, M_COPY };
static const char *const mode_names[] = {"pass",    "badlen",  "truncate",  "stall", "fatal",
                                         "garbage", "dropact", "dropafter", "copy"};

enum phase { PH_STARTUP, PH_TYPED, PH_OPAQUE };

struct buf {
    uint8_t *p;
    size_t len, cap;
};

/* Where one direction's parser is: the message being passed on, and its framing. */
struct parser {
    enum phase phase;
    uint8_t type; /* the current message's type (0 for the startup packet) */
    size_t left;  /* bytes of the current message still to pass on */
};

/* fd[0] is the client, fd[1] the server. in[s] holds bytes read from side s not yet passed on
 * (an incomplete header, a held message); out[s] the bytes waiting to be written to side s. */
struct pair {
    unsigned id;
    bool faulty;
    int fd[2];
    bool connecting;
    struct buf in[2], out[2];
    struct parser ps[2];   /* ps[0]: client → server, ps[1]: server → client */
    int answers_owed;      /* SSL/GSS requests the server has yet to answer with one byte */
    uint64_t server_bytes; /* bytes of the server's stream passed on to the client */
    unsigned long ndata, nready;
    long stall_budget; /* stall: bytes of the stalled DataRow still to send; -1 when unset */
    bool stalled;      /* stall: nothing more goes to the client */
    bool act_armed;    /* dropact: the signal statement went by; drop at its Sync */
    bool client_gone;  /* dropact: the client side is closed; the server lingers */
    bool closing;      /* flush what is owed, then close both sides */
    int64_t close_by;  /* ms: closing or lingering ends here at the latest */
    const char *why;   /* for the closing log line */
};

static enum mode mode = M_PASS;
static unsigned long after = 1;
static unsigned long only_conn; /* 0: every connection */
static uint32_t bad_len = 3;
static FILE *logfp;
static const char *count_path;
static const char *watch_path;
static bool verbose;
static unsigned accepted;
static uint64_t rng;
static int64_t t0;
static volatile sig_atomic_t stop;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 1, 2))) static void logln(const char *fmt, ...)
{
    va_list ap;
    int64_t t = mono_ms() - t0;
    fprintf(logfp, "%lld.%03lld faultproxy: ", (long long)(t / 1000), (long long)(t % 1000));
    va_start(ap, fmt);
    vfprintf(logfp, fmt, ap);
    va_end(ap);
    fputc('\n', logfp);
    fflush(logfp);
}

static void die(const char *what)
{
    fprintf(stderr, "faultproxy: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fputs("faultproxy: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

static uint8_t rand_byte(void)
{
    /* xorshift64*: reproducible with --seed */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint8_t)((rng * 2685821657736338717ull) >> 56);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void buf_add(struct buf *b, const void *d, size_t n)
{
    if (!n)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void buf_drop(struct buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static void buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static void write_count(void)
{
    if (!count_path)
        return;
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", count_path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "%u\n", accepted);
    if (fclose(f) == 0)
        rename(tmp, count_path);
}

/* " (FILE: N bytes)" for the fault lines, with --watch; "" without. */
static const char *watched(void)
{
    static char out[PATH_MAX + 64];
    struct stat st;
    if (!watch_path)
        return "";
    if (stat(watch_path, &st) < 0)
        snprintf(out, sizeof out, " (%s: %s)", watch_path, strerror(errno));
    else
        snprintf(out, sizeof out, " (%s: %lld bytes)", watch_path, (long long)st.st_size);
    return out;
}

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static bool fault(const struct pair *p, enum mode m) { return p->faulty && mode == m; }

static void start_closing(struct pair *p, const char *why)
{
    if (p->closing)
        return;
    p->closing = true;
    p->why = why;
    p->close_by = mono_ms() + FLUSH_MS;
}

/* ---- server → client */

/* Pass bytes of the server's stream on to the client, through the byte-level faults. */
static void to_client(struct pair *p, const uint8_t *d, size_t n)
{
    if (p->stalled || p->client_gone || p->closing || !n)
        return;
    if (p->stall_budget >= 0) {
        if (n > (size_t)p->stall_budget)
            n = (size_t)p->stall_budget;
        p->stall_budget -= (long)n;
        if (p->stall_budget == 0) {
            p->stalled = true;
            p->stall_budget = -1;
            logln("conn %u: stall: DataRow #%lu cut after %llu bytes of the stream; nothing more goes to the "
                  "client",
                  p->id, p->ndata, (unsigned long long)(p->server_bytes + n));
        }
    }
    if (fault(p, M_TRUNCATE) && p->server_bytes + n >= after) {
        n = (size_t)(after - p->server_bytes);
        buf_add(&p->out[0], d, n);
        p->server_bytes += n;
        logln("conn %u: truncate: closing after %lu bytes from the server", p->id, after);
        start_closing(p, "truncated");
        return;
    }
    if (fault(p, M_GARBAGE) && p->server_bytes + n > after) {
        size_t keep = p->server_bytes >= after ? 0 : (size_t)(after - p->server_bytes);
        if (p->server_bytes <= after)
            logln("conn %u: garbage: random bytes from byte %lu of the server's stream on", p->id, after);
        buf_add(&p->out[0], d, keep);
        for (size_t i = keep; i < n; i++) {
            uint8_t r = rand_byte();
            buf_add(&p->out[0], &r, 1);
        }
    } else {
        buf_add(&p->out[0], d, n);
    }
    p->server_bytes += n;
}

static void inject_fatal(struct pair *p)
{
    static const char msg[] = "terminating connection due to administrator command (injected by faultproxy)";
    struct buf e = {0};
    uint8_t hdr[5] = {'E', 0, 0, 0, 0};
    buf_add(&e, hdr, sizeof hdr);
    buf_add(&e, "SFATAL", 7);
    buf_add(&e, "VFATAL", 7);
    buf_add(&e, "C57P01", 7);
    buf_add(&e, "M", 1);
    buf_add(&e, msg, sizeof msg);
    buf_add(&e, "", 1);
    put_be32(e.p + 1, (uint32_t)(e.len - 1));
    to_client(p, e.p, e.len);
    buf_free(&e);
}

static void inject_copy(struct pair *p)
{
    uint8_t h[] = {'H', 0, 0, 0, 7, 0, 0, 0}; /* CopyOutResponse: text format, no columns */
    to_client(p, h, sizeof h);
    p->stalled = true;
}

/* A whole message from the server went by. */
static void server_msg_end(struct pair *p, uint8_t type)
{
    if (type != 'Z')
        return;
    p->nready++;
    if (verbose)
        logln("conn %u: ReadyForQuery #%lu ends at byte %llu of the server's stream", p->id, p->nready,
              (unsigned long long)p->server_bytes);
    if (p->client_gone) {
        logln("conn %u: dropact: the server answered the signal statement; closing its side", p->id);
        start_closing(p, "dropact: server answered");
        return;
    }
    if (fault(p, M_FATAL) && p->nready == after) {
        logln("conn %u: fatal: FATAL 57P01 injected after ReadyForQuery #%lu", p->id, p->nready);
        inject_fatal(p);
        start_closing(p, "fatal injected");
    } else if (fault(p, M_COPY) && p->nready == after) {
        logln("conn %u: copy: CopyOutResponse injected after ReadyForQuery #%lu", p->id, p->nready);
        inject_copy(p);
    } else if (fault(p, M_DROPAFTER) && p->nready == after) {
        logln("conn %u: dropafter: closing after ReadyForQuery #%lu", p->id, p->nready);
        start_closing(p, "dropped");
    }
}

/* A server message starts: its 5-byte header, which the faults may change. */
static void server_msg_start(struct pair *p, uint8_t *hdr)
{
    uint32_t len = be32(hdr + 1);
    if (hdr[0] != 'D')
        return;
    p->ndata++;
    if (fault(p, M_BADLEN) && p->ndata == after) {
        put_be32(hdr + 1, bad_len);
        logln("conn %u: badlen: DataRow #%lu length %u -> %u (0x%x)", p->id, p->ndata, len, bad_len, bad_len);
    } else if (fault(p, M_STALL) && p->ndata == after) {
        p->stall_budget = (long)((1 + (uint64_t)len) / 2);
        logln("conn %u: stall: DataRow #%lu of %u bytes: sending %ld of them, then nothing", p->id, p->ndata, 1 + len,
              p->stall_budget);
    }
}

static void go_opaque(struct pair *p, const char *why)
{
    if (p->ps[0].phase != PH_OPAQUE || p->ps[1].phase != PH_OPAQUE)
        logln("conn %u: %s: passing the rest through untouched", p->id, why);
    p->ps[0].phase = p->ps[1].phase = PH_OPAQUE;
    p->ps[0].left = p->ps[1].left = 0;
}

static void process_server(struct pair *p)
{
    struct buf *in = &p->in[1];
    struct parser *ps = &p->ps[1];
    size_t off = 0;
    while (off < in->len && !p->closing) {
        const uint8_t *d = in->p + off;
        size_t avail = in->len - off;
        if (ps->phase == PH_OPAQUE) {
            to_client(p, d, avail);
            off += avail;
        } else if (ps->left) {
            size_t n = avail < ps->left ? avail : ps->left;
            to_client(p, d, n);
            off += n;
            ps->left -= n;
            if (!ps->left)
                server_msg_end(p, ps->type);
        } else if (p->answers_owed > 0 && d[0] != 'E') {
            /* the one-byte answer to an SSLRequest or GSSENCRequest */
            p->answers_owed--;
            to_client(p, d, 1);
            off++;
            if (d[0] == 'S' || d[0] == 'G')
                go_opaque(p, d[0] == 'S' ? "TLS" : "GSS encryption");
        } else {
            if (avail < 5)
                break;
            uint8_t hdr[5];
            memcpy(hdr, d, 5);
            p->answers_owed = 0;
            uint32_t len = be32(hdr + 1);
            if (len < 4) {
                go_opaque(p, "the server's stream is not the protocol");
                continue;
            }
            ps->type = hdr[0];
            server_msg_start(p, hdr);
            to_client(p, hdr, 5);
            off += 5;
            ps->left = len - 4;
            if (!ps->left)
                server_msg_end(p, ps->type);
        }
    }
    if (p->closing)
        off = in->len; /* nothing after the fault goes anywhere */
    buf_drop(in, off);
}

/* ---- client → server */

static void client_msg_end(struct pair *p, uint8_t type)
{
    if (p->act_armed && (type == 'S' || type == 'Q')) {
        logln("conn %u: dropact: signal statement forwarded; closing the client side without its answer", p->id);
        p->act_armed = false;
        p->client_gone = true;
        close(p->fd[0]);
        p->fd[0] = -1;
        p->out[0].len = 0;
        p->close_by = mono_ms() + LINGER_MS;
    }
}

static void process_client(struct pair *p)
{
    struct buf *in = &p->in[0];
    struct parser *ps = &p->ps[0];
    size_t off = 0;
    while (off < in->len && !p->client_gone) {
        const uint8_t *d = in->p + off;
        size_t avail = in->len - off;
        if (ps->phase == PH_OPAQUE) {
            buf_add(&p->out[1], d, avail);
            off += avail;
        } else if (ps->left) {
            size_t n = avail < ps->left ? avail : ps->left;
            buf_add(&p->out[1], d, n);
            off += n;
            ps->left -= n;
            if (!ps->left) {
                if (ps->phase == PH_STARTUP)
                    ps->phase = PH_TYPED;
                else
                    client_msg_end(p, ps->type);
            }
        } else if (ps->phase == PH_STARTUP) {
            if (d[0] == 0x16) { /* a TLS ClientHello straight away (sslnegotiation=direct) */
                go_opaque(p, "direct TLS");
                continue;
            }
            if (avail < 8)
                break;
            uint32_t len = be32(d), code = be32(d + 4);
            if (len < 8 || len > 10000) {
                go_opaque(p, "the client's startup packet is not the protocol");
                continue;
            }
            if (code == CODE_SSL || code == CODE_GSSENC) {
                if (avail < len)
                    break;
                p->answers_owed++;
                buf_add(&p->out[1], d, len);
                off += len;
            } else if (code == CODE_CANCEL) {
                logln("conn %u: a CancelRequest", p->id);
                go_opaque(p, "CancelRequest");
            } else {
                ps->type = 0;
                ps->left = len;
            }
        } else {
            if (avail < 5)
                break;
            uint8_t type = d[0];
            uint32_t len = be32(d + 1);
            if (len < 4) {
                go_opaque(p, "the client's stream is not the protocol");
                continue;
            }
            ps->type = type;
            if (fault(p, M_DROPACT) && (type == 'P' || type == 'Q') && len <= HOLD_MAX) {
                if (avail < 1 + (size_t)len)
                    break; /* held until whole */
                if (memmem(d, 1 + (size_t)len, "pg_cancel_backend", 17) ||
                    memmem(d, 1 + (size_t)len, "pg_terminate_backend", 20)) {
                    logln("conn %u: dropact: a %s holding a signal function; the client side goes after its %s%s",
                          p->id, type == 'Q' ? "Query" : "Parse", type == 'Q' ? "Query" : "Sync", watched());
                    p->act_armed = true;
                }
                buf_add(&p->out[1], d, 1 + (size_t)len);
                off += 1 + (size_t)len;
                client_msg_end(p, type);
                continue;
            }
            buf_add(&p->out[1], d, 5);
            off += 5;
            ps->left = len - 4;
            if (!ps->left)
                client_msg_end(p, type);
        }
    }
    if (p->client_gone)
        off = in->len;
    buf_drop(in, off);
}

/* ---- connections */

static void pair_free(struct pair *p)
{
    logln("conn %u: closed (%s; %llu bytes from the server passed on)", p->id, p->why ? p->why : "?",
          (unsigned long long)p->server_bytes);
    for (int i = 0; i < 2; i++) {
        if (p->fd[i] >= 0)
            close(p->fd[i]);
        buf_free(&p->in[i]);
        buf_free(&p->out[i]);
    }
    free(p);
}

/* Read what side has; false when the pair must go at once. */
static bool pump_in(struct pair *p, int side)
{
    static uint8_t rbuf[READ_MAX];
    for (int k = 0; k < 16; k++) {
        if (p->fd[side] < 0 || p->closing || p->out[1 - side].len >= OUT_MAX)
            return true;
        ssize_t n = read(p->fd[side], rbuf, sizeof rbuf);
        if (n > 0) {
            if (side == 1 && p->stalled)
                continue; /* read and dropped */
            buf_add(&p->in[side], rbuf, (size_t)n);
            if (side == 0)
                process_client(p);
            else
                process_server(p);
        } else if (n == 0) {
            if (side == 0) {
                /* the client went: what it sent last (Terminate) goes on, nothing comes back */
                close(p->fd[0]);
                p->fd[0] = -1;
                p->out[0].len = 0;
                start_closing(p, "client closed");
            } else {
                start_closing(p, p->client_gone ? "dropact: server closed" : "server closed");
            }
            return true;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return true;
        } else if (errno != EINTR) {
            p->why = side == 0 ? "client read error" : "server read error";
            return false;
        }
    }
    return true;
}

/* Write what side is owed; false when the pair must go at once. */
static bool pump_out(struct pair *p, int side)
{
    struct buf *b = &p->out[side];
    if (p->fd[side] < 0 || (side == 1 && p->connecting)) {
        if (p->fd[side] < 0)
            b->len = 0;
        return true;
    }
    while (b->len) {
        ssize_t n = send(p->fd[side], b->p, b->len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true;
            if (errno == EINTR)
                continue;
            p->why = side == 0 ? "client write error" : "server write error";
            return false;
        }
        buf_drop(b, (size_t)n);
    }
    return true;
}

static int listen_on(int *port)
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
    a.sin_port = htons((uint16_t)*port);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
        die("bind");
    if (listen(fd, 512) < 0)
        die("listen");
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        die("getsockname");
    *port = ntohs(a.sin_port);
    printf("listening %d\n", *port);
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
    accepted++;
    write_count();
    bool faulty = mode != M_PASS && (!only_conn || only_conn == accepted);
    logln("conn %u: accepted (%s)", accepted, faulty ? mode_names[mode] : "pass");
    int t = socket(target->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (t < 0) {
        logln("conn %u: socket: %s", accepted, strerror(errno));
        close(c);
        return NULL;
    }
    set_nodelay(c);
    set_nodelay(t);
    bool connecting = false;
    if (connect(t, target->ai_addr, target->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            logln("conn %u: connect to the server: %s", accepted, strerror(errno));
            close(c);
            close(t);
            return NULL;
        }
        connecting = true;
    }
    struct pair *p = xrealloc(NULL, sizeof *p);
    memset(p, 0, sizeof *p);
    p->id = accepted;
    p->faulty = faulty;
    p->fd[0] = c;
    p->fd[1] = t;
    p->connecting = connecting;
    p->stall_budget = -1;
    return p;
}

static unsigned long parse_num(const char *s, unsigned long hi, const char *what)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || end == s || *end || *s == '-' || v > hi) {
        fprintf(stderr, "faultproxy: bad %s \"%s\" (0..%lu)\n", what, s, hi);
        exit(2);
    }
    return v;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(void)
{
    fputs("usage: faultproxy --listen PORT --to HOST:PORT --mode MODE [--after N] [--conn K]\n"
          "                  [--log FILE] [--count FILE] [--len L] [--seed S] [--watch FILE] [--verbose]\n"
          "modes: pass badlen truncate stall fatal garbage dropact dropafter copy\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *listen_arg = NULL, *to = NULL, *log_path = NULL;
    bool have_mode = false;
    unsigned long seed = (unsigned long)time(NULL) ^ (unsigned long)getpid();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--verbose")) {
            verbose = true;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--listen"))
            listen_arg = v;
        else if (!strcmp(a, "--to"))
            to = v;
        else if (!strcmp(a, "--after"))
            after = parse_num(v, ULONG_MAX / 2, "--after");
        else if (!strcmp(a, "--conn"))
            only_conn = parse_num(v, UINT_MAX, "--conn");
        else if (!strcmp(a, "--log"))
            log_path = v;
        else if (!strcmp(a, "--count"))
            count_path = v;
        else if (!strcmp(a, "--len"))
            bad_len = (uint32_t)parse_num(v, UINT32_MAX, "--len");
        else if (!strcmp(a, "--watch"))
            watch_path = v;
        else if (!strcmp(a, "--seed"))
            seed = parse_num(v, ULONG_MAX, "--seed");
        else if (!strcmp(a, "--mode")) {
            size_t m = 0;
            while (m < sizeof mode_names / sizeof *mode_names && strcmp(mode_names[m], v))
                m++;
            if (m == sizeof mode_names / sizeof *mode_names) {
                fprintf(stderr, "faultproxy: unknown mode \"%s\"\n", v);
                usage();
            }
            mode = (enum mode)m;
            have_mode = true;
        } else {
            usage();
        }
    }
    if (!listen_arg || !to || !have_mode)
        usage();
    int lport = (int)parse_num(listen_arg, 65535, "--listen");

    /* HOST:PORT, or [HOST]:PORT for an IPv6 address */
    char host[256];
    const char *colon = strrchr(to, ':');
    if (!colon || colon == to || (size_t)(colon - to) >= sizeof host)
        usage();
    const char *h = to;
    size_t hlen = (size_t)(colon - to);
    if (h[0] == '[' && hlen > 2 && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    parse_num(colon + 1, 65535, "target port");

    logfp = stderr;
    if (log_path) {
        logfp = fopen(log_path, "a");
        if (!logfp)
            die(log_path);
    }
    t0 = mono_ms();
    rng = seed * 0x9E3779B97F4A7C15ull + 1;

    struct addrinfo hints, *target;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(host, colon + 1, &hints, &target);
    if (gai) {
        fprintf(stderr, "faultproxy: %s: %s\n", host, gai_strerror(gai));
        return 1;
    }

    /* SIGTERM and SIGINT are taken only inside ppoll(), so none is lost between passes */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t block, during;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &during);
    sigdelset(&during, SIGTERM);
    sigdelset(&during, SIGINT);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    size_t max_pairs = 4096;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 2 * max_pairs + 16)
        max_pairs = rl.rlim_cur > 32 ? (size_t)(rl.rlim_cur - 16) / 2 : 1;

    int lfd = listen_on(&lport);
    write_count();
    logln("listening on 127.0.0.1:%d for %s, mode %s, after %lu%s", lport, to, mode_names[mode], after,
          only_conn ? " (one connection only)" : "");
    struct pair **pairs = xrealloc(NULL, max_pairs * sizeof *pairs);
    struct pollfd *pfd = xrealloc(NULL, (2 * max_pairs + 1) * sizeof *pfd);
    size_t n = 0;

    while (!stop) {
        int64_t now = mono_ms(), next = INT64_MAX;
        pfd[0].fd = n < max_pairs ? lfd : -1;
        pfd[0].events = POLLIN;
        pfd[0].revents = 0;
        for (size_t i = 0; i < n; i++) {
            struct pair *p = pairs[i];
            if (p->closing || p->client_gone)
                next = p->close_by < next ? p->close_by : next;
            for (int side = 0; side < 2; side++) {
                short ev = 0;
                if (!p->closing && p->out[1 - side].len < OUT_MAX && !(side == 1 && p->connecting))
                    ev |= POLLIN;
                if (p->out[side].len || (side == 1 && p->connecting))
                    ev |= POLLOUT;
                struct pollfd *f = &pfd[1 + 2 * i + (size_t)side];
                f->fd = ev && p->fd[side] >= 0 ? p->fd[side] : -1;
                f->events = ev;
                f->revents = 0;
            }
        }
        struct timespec ts, *tsp = NULL;
        if (next != INT64_MAX) {
            int64_t ms = next > now ? next - now : 0;
            ts.tv_sec = (time_t)(ms / 1000);
            ts.tv_nsec = (long)(ms % 1000) * 1000000;
            tsp = &ts;
        }
        int r = ppoll(pfd, 1 + 2 * n, tsp, &during);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        now = mono_ms();

        size_t old_n = n;
        for (size_t i = old_n; i-- > 0;) {
            struct pair *p = pairs[i];
            bool ok = true;
            short rev0 = pfd[1 + 2 * i].revents, rev1 = pfd[2 + 2 * i].revents;
            if (p->connecting && rev1) {
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(p->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
                    logln("conn %u: connect to the server: %s", p->id, strerror(err ? err : errno));
                    p->why = "server unreachable";
                    ok = false;
                } else if (rev1 & POLLOUT) {
                    p->connecting = false;
                }
            }
            if (ok && (rev0 & (POLLIN | POLLHUP | POLLERR)))
                ok = pump_in(p, 0);
            if (ok && !p->connecting && (rev1 & (POLLIN | POLLHUP | POLLERR)))
                ok = pump_in(p, 1);
            if (ok)
                ok = pump_out(p, 0) && pump_out(p, 1);
            bool done = !ok;
            if (ok && p->closing && !p->out[0].len && (!p->out[1].len || p->fd[1] < 0 || p->connecting))
                done = true;
            if (ok && (p->closing || p->client_gone) && now >= p->close_by) {
                if (!p->closing)
                    p->why = "dropact: linger over";
                done = true;
            }
            if (done) {
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

    logln("exiting on a signal: %u connections accepted, %zu open", accepted, n);
    for (size_t i = 0; i < n; i++) {
        pairs[i]->why = "proxy exiting";
        pair_free(pairs[i]);
    }
    free(pairs);
    free(pfd);
    close(lfd);
    freeaddrinfo(target);
    if (logfp != stderr)
        fclose(logfp);
    return 0;
}
