/* fuzzutil.c — helpers shared by the libFuzzer targets (see fuzzutil.h). */
#include "fuzzutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/probe.h"
#include "probes/sched.h"

void fz_fail(const char *file, int line, const char *what, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "\n==FUZZ CHECK FAILED== %s:%d: %s\n  ", file, line, what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

void fz_dump(const char *label, const void *p, size_t n, size_t at)
{
    const unsigned char *s = p;
    size_t from = 0, to = n;
    if (at != SIZE_MAX && at > 256)
        from = at - 256;
    if (to - from > 512)
        to = from + 512;
    fprintf(stderr, "  %s (%zu bytes%s", label, n, at != SIZE_MAX ? ", bad at " : "");
    if (at != SIZE_MAX)
        fprintf(stderr, "%zu", at);
    fprintf(stderr, "): %s\"", from ? "..." : "");
    for (size_t i = from; i < to; i++) {
        if (i == at)
            fputs("<<HERE>>", stderr);
        if (s[i] == '\\' || s[i] == '"')
            fprintf(stderr, "\\%c", s[i]);
        else if (s[i] >= 0x20 && s[i] < 0x7f)
            fputc(s[i], stderr);
        else
            fprintf(stderr, "\\x%02x", s[i]);
    }
    fprintf(stderr, "\"%s\n", to < n ? "..." : "");
}

int fz_utf8(const unsigned char *p, size_t n, uint32_t *cp)
{
    if (!n)
        return 0;
    uint32_t c = p[0];
    int len;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, min = 0x80, c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, min = 0x800, c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if ((size_t)len > n)
        return 0;
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

bool fz_forbidden_cp(uint32_t c)
{
    /* General category Cf (format) of Unicode 15, the line/paragraph separators (Zl, Zp), the
     * fillers that render as blanks, the tag block's unassigned code points and noncharacters. */
    static const uint32_t ranges[][2] = {
        {0x0000, 0x001f},   {0x007f, 0x009f},   {0x00ad, 0x00ad},   {0x0600, 0x0605},   {0x061c, 0x061c},
        {0x06dd, 0x06dd},   {0x070f, 0x070f},   {0x0890, 0x0891},   {0x08e2, 0x08e2},   {0x115f, 0x1160},
        {0x180e, 0x180e},   {0x200b, 0x200f},   {0x2028, 0x202e},   {0x2060, 0x206f},   {0x3164, 0x3164},
        {0xfdd0, 0xfdef},   {0xfeff, 0xfeff},   {0xffa0, 0xffa0},   {0xfff9, 0xfffb},   {0x110bd, 0x110bd},
        {0x110cd, 0x110cd}, {0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0000, 0xe00ff},
        {0xe01f0, 0xe0fff},
    };
    if ((c & 0xfffe) == 0xfffe)
        return true;
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (c >= ranges[i][0] && c <= ranges[i][1])
            return true;
    return false;
}

const char *fz_unsafe_text(const char *s, size_t n, bool newlines, size_t *at)
{
    static char why[64];
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] >= 0x20 && p[i] < 0x7f) { /* printable ASCII: the common case */
            i++;
            continue;
        }
        uint32_t c;
        int len = fz_utf8(p + i, n - i, &c);
        *at = i;
        if (!len)
            return "invalid UTF-8";
        if (fz_forbidden_cp(c) && !(newlines && c == '\n')) {
            snprintf(why, sizeof why, "raw U+%04X (must be escaped)", (unsigned)c);
            return why;
        }
        i += (size_t)len;
    }
    return NULL;
}

/* ---- records ---------------------------------------------------------------------------------- */

void fz_in_init(struct fz_in *in, const uint8_t *p, size_t n)
{
    in->p = p;
    in->n = n;
    in->off = 0;
}

bool fz_peek(const struct fz_in *in, struct fz_rec *r)
{
    if (in->off >= in->n)
        return false;
    const uint8_t *s = in->p + in->off;
    size_t left = in->n - in->off;
    const uint8_t *z = memchr(s, 0, left);
    size_t len = z ? (size_t)(z - s) : left;
    r->tag = len ? s[0] : 0;
    r->body = len ? s + 1 : s;
    r->len = len ? len - 1 : 0;
    return true;
}

bool fz_next(struct fz_in *in, struct fz_rec *r)
{
    if (!fz_peek(in, r))
        return false;
    size_t len = (size_t)(r->body - (in->p + in->off)) + r->len;
    in->off += len + 1; /* and the NUL */
    return true;
}

/* Raw rows: cells split by 0x1f, rows by 0x1e, the first row names the columns. */
static struct rowset *raw_rowset(const uint8_t *b, size_t n)
{
    struct rowset *rs = NULL;
    size_t cap = 16;
    char **cells = xcalloc(cap, sizeof *cells);
    size_t pos = 0;
    while (pos <= n) {
        const uint8_t *e = memchr(b + pos, 0x1e, n - pos);
        size_t end = e ? (size_t)(e - b) : n;
        size_t nc = 0;
        for (size_t c = pos; c <= end;) {
            const uint8_t *f = memchr(b + c, 0x1f, end - c);
            size_t fe = f ? (size_t)(f - b) : end;
            if (nc == cap) {
                cap *= 2;
                cells = xreallocarray(cells, cap, sizeof *cells);
            }
            if (fe - c == 1 && b[c] == 0x1d)
                cells[nc++] = NULL;
            else
                cells[nc++] = xstrndup((const char *)b + c, fe - c);
            c = fe + 1;
        }
        if (!rs) {
            for (size_t i = 0; i < nc; i++)
                if (!cells[i])
                    cells[i] = xstrdup("");
            rs = rowset_new((int)nc, (const char *const *)cells);
        } else {
            /* a short row is padded with NULL, a long one cut: rows always have ncols cells */
            while (nc < (size_t)rs->ncols) {
                if (nc == cap) {
                    cap *= 2;
                    cells = xreallocarray(cells, cap, sizeof *cells);
                }
                cells[nc++] = NULL;
            }
            rowset_add_row(rs, (const char *const *)cells);
        }
        for (size_t i = 0; i < nc; i++)
            free(cells[i]);
        pos = end + 1;
    }
    free(cells);
    return rs;
}

/* "@name\n" at the start of a body names the probe (probe_table[]->name, or "caps"): seeds say
 * which probe they are for by name, so they survive a change of the probe ids. */
static int named_probe(const uint8_t **b, size_t *n)
{
    if (!*n || (*b)[0] != '@')
        return -1;
    const uint8_t *nl = memchr(*b, '\n', *n);
    if (!nl)
        return -1;
    size_t len = (size_t)(nl - *b) - 1;
    int p = -1;
    if (len == 4 && memcmp(*b + 1, "caps", 4) == 0)
        p = PROBE_MAX;
    for (int i = 0; i < PROBE_MAX && p < 0; i++)
        if (strlen(probe_table[i]->name) == len && memcmp(*b + 1, probe_table[i]->name, len) == 0)
            p = i;
    if (p >= 0) {
        *n -= (size_t)(nl + 1 - *b);
        *b = nl + 1;
    }
    return p;
}

int fz_rec_probe(const struct fz_rec *r)
{
    const uint8_t *b = r->body;
    size_t n = r->len;
    if ((r->tag & 0x80) && n)
        b++, n--;
    int p = named_probe(&b, &n);
    return p >= 0 ? p : ((r->tag & 0x1f) + PROBE_MAX) % (PROBE_MAX + 1);
}

struct rowset *fz_rowset(const struct fz_rec *r, int *probe, size_t *errlen)
{
    const uint8_t *b = r->body;
    size_t n = r->len;
    *probe = fz_rec_probe(r);
    *errlen = 300;
    if (r->tag & 0x80) {
        if (!n)
            return NULL;
        *errlen = 1 + b[0] % 64;
        b++, n--;
    }
    named_probe(&b, &n);
    if (r->tag & 0x20) {
        char state[6] = "";
        if (n >= 5) {
            memcpy(state, b, 5);
            b += 5, n -= 5;
        }
        char *msg = xstrndup((const char *)b, n);
        struct rowset *rs = rowset_new_error(n ? state : NULL, msg);
        free(msg);
        return rs;
    }
    if (r->tag & 0x40)
        return raw_rowset(b, n);
    char *text = xstrndup((const char *)b, n);
    const char *err = NULL;
    struct rowset *rs = rowset_parse_text(text, &err);
    free(text);
    return rs;
}

/* ---- the scheduler's absorb step, replayed ------------------------------------------------------ */

static void check_parse(int p, int rc, const struct sample *next, const char *err, size_t errlen,
                        const struct rowset *rs)
{
    const char *name = p < PROBE_MAX ? probe_table[p]->name : "caps";
    if (!memchr(err, '\0', errlen)) {
        fz_dump("error buffer", err, errlen, SIZE_MAX);
        fz_fail(__FILE__, __LINE__, "error NUL-terminated", "probe %s: error not terminated", name);
    }
    if (p < PROBE_MAX) {
        FZ_CHECK(rc == 0 || rc == -1, "probe %s: parse returned %d", name, rc);
        if (rc == 0 && !next->sec[p] && probe_table[p]->free_section) /* flush has no section */
            fz_fail(__FILE__, __LINE__, "section filled", "probe %s: parse returned 0 without a section (%d rows)",
                    name, rs->nrows);
        if (rc != 0 && next->sec[p])
            fz_fail(__FILE__, __LINE__, "no section after an error", "probe %s: parse failed (%s) but left a section",
                    name, err);
    }
    if (rc != 0) {
        if (errlen > 1 && !err[0])
            fz_fail(__FILE__, __LINE__, "a reason", "probe %s: parse failed without a reason", name);
        if (strchr(err, '\n')) {
            fz_dump("reason", err, strlen(err), (size_t)(strchr(err, '\n') - err));
            fz_fail(__FILE__, __LINE__, "one-line reason", "probe %s: the parse error is not one line", name);
        }
    }
}

static void check_rates(const struct sample *s)
{
    const struct s_server *ss = SAMPLE_SERVER(s);
    if (!ss)
        return;
    FZ_CHECK(isnan(ss->tps) || ss->tps >= 0, "server tps %g: negative", ss->tps);
    FZ_CHECK(isnan(ss->cache_hit_pct) || (ss->cache_hit_pct >= 0 && ss->cache_hit_pct <= 100),
             "server cache_hit_pct %g: outside 0..100", ss->cache_hit_pct);
}

static void end_tick(struct server *s, struct sample *next, bool *ran, bool with_idle, unsigned nrecs)
{
    for (int p = 0; p < PROBE_MAX; p++) {
        /* as sched.c: a section derived from the sessions section runs with it, shares its fate */
        if (probe_table[p]->sql || probe_table[p]->kind != s->kind || !ran[PROBE_SESSIONS])
            continue;
        ran[p] = true;
        if (next->err[PROBE_SESSIONS] && !next->err[p])
            next->err[p] = xstrdup(next->err[PROBE_SESSIONS]);
    }
    for (int p = 0; p < PROBE_MAX; p++) {
        if (probe_table[p]->kind != s->kind || ran[p] || !s->cur)
            continue;
        next->sec[p] = s->cur->sec[p];
        s->cur->sec[p] = NULL;
        if (s->cur->err[p])
            next->err[p] = xstrdup(s->cur->err[p]);
    }
    if (next->sec[PROBE_SERVER])
        ((struct s_server *)next->sec[PROBE_SERVER])->own_xacts = (int)nrecs + (s->ticks == 0 ? 1 : 0);
    if (next->sec[PROBE_SESSIONS])
        ((struct s_sessions *)next->sec[PROBE_SESSIONS])->with_idle = with_idle;
    for (int p = 0; p < PROBE_MAX; p++)
        if (probe_table[p]->derive && ran[p])
            probe_table[p]->derive(s->cur, next);
    check_rates(next);
    sample_free(s->prev);
    s->prev = s->cur;
    s->cur = next;
    s->ticks++;
}

#define MAX_TICKS 12

int fz_feed(struct fz_in *in, struct server *s, bool with_idle)
{
    struct sample *next = NULL;
    bool ran[PROBE_MAX];
    unsigned nrecs = 0;
    int ticks = 0;
    struct fz_rec r;
    while (fz_peek(in, &r) && r.tag != FZ_TAG_SERVER) {
        fz_next(in, &r);
        if (r.tag == FZ_TAG_TICK) {
            if (next) {
                end_tick(s, next, ran, with_idle, nrecs);
                ticks++;
                next = NULL;
            }
            continue;
        }
        if (r.tag >= 0xf0 || ticks >= MAX_TICKS)
            continue;
        int p;
        size_t errlen;
        struct rowset *rs = fz_rowset(&r, &p, &errlen);
        if (!rs)
            continue;
        if (!next) {
            next = sample_new();
            next->taken_ms = 1000000 + 1000 * (int64_t)s->ticks + (int64_t)(r.tag & 0x7) * 333;
            memset(ran, 0, sizeof ran);
            nrecs = 0;
        }
        char *err = xcalloc(1, errlen);
        if (p == PROBE_MAX) {
            /* the capability check of the connection's setup */
            if (s->kind == KIND_POSTGRES) {
                int rc = probe_parse_caps(rs, &s->caps, err, errlen);
                check_parse(p, rc, next, err, errlen, rs);
            }
        } else if (probe_table[p]->kind == s->kind && probe_table[p]->parse && !ran[p]) {
            ran[p] = true;
            nrecs++;
            if (rs->error) {
                next->err[p] = xasprintf("%s", rs->error);
            } else {
                int rc = probe_table[p]->parse(rs, next, err, errlen);
                check_parse(p, rc, next, err, errlen, rs);
                if (rc < 0)
                    next->err[p] = xstrdup(err);
                else if (probe_table[p]->refine && next->sec[p]) /* as sched.c */
                    probe_table[p]->refine(next, &s->caps);
            }
        }
        free(err);
        rowset_free(rs);
    }
    if (next) {
        end_tick(s, next, ran, with_idle, nrecs);
        ticks++;
    }
    return ticks;
}

/* ---- a fleet model ---------------------------------------------------------------------------- */

struct hdr {
    uint8_t flags, status, tick;
    const uint8_t *text; /* reason 0x1f tag 0x1f tag ... */
    size_t len;
    size_t off; /* where its records start */
};

static bool valid_utf8(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t c;
        int l = fz_utf8(p + i, n - i, &c);
        if (!l)
            return false;
        i += (size_t)l;
    }
    return true;
}

struct fz_world *fz_world_new(const uint8_t *data, size_t size)
{
    struct fz_world *w = xcalloc(1, sizeof *w);
    uint8_t g = size ? data[0] : 0;
    struct fz_in in;
    fz_in_init(&in, size ? data + 1 : data, size ? size - 1 : 0);

    /* the servers: a first PostgreSQL one, then one per 0xFE record */
    struct hdr h[FZ_MAX_SERVERS];
    size_t nh = 1;
    h[0] = (struct hdr){.text = (const uint8_t *)"", .off = 0};
    struct fz_rec r;
    while (fz_next(&in, &r)) {
        if (r.tag != FZ_TAG_SERVER)
            continue;
        if (nh == FZ_MAX_SERVERS)
            break;
        h[nh++] = (struct hdr){
            .flags = r.len > 0 ? r.body[0] : 0,
            .status = r.len > 1 ? r.body[1] : 0,
            .tick = r.len > 2 ? r.body[2] : 0,
            .text = r.len > 3 ? r.body + 3 : r.body,
            .len = r.len > 3 ? r.len - 3 : 0,
            .off = in.off,
        };
    }

    config_init(&w->cfg);
    w->cfg.refresh_ms = 500 * (1 + ((g >> 1) & 7));
    size_t npg = 0, npb = 0;
    for (size_t i = 0; i < nh; i++)
        (h[i].flags & 1) ? npb++ : npg++;
    w->cfg.servers = xcalloc(npg + 1, sizeof *w->cfg.servers);
    w->cfg.poolers = xcalloc(npb + 1, sizeof *w->cfg.poolers);
    size_t idx[FZ_MAX_SERVERS];
    for (size_t i = 0; i < nh; i++) {
        /* tags after the reason; a YAML file only ever holds valid UTF-8 and no NUL */
        char **tags = NULL;
        size_t ntags = 0;
        const uint8_t *t = memchr(h[i].text, 0x1f, h[i].len);
        while (t && ntags < 3) {
            const uint8_t *end = h[i].text + h[i].len;
            const uint8_t *s = t + 1;
            t = memchr(s, 0x1f, (size_t)(end - s));
            size_t l = (size_t)((t ? t : end) - s);
            if (l && valid_utf8(s, l)) {
                tags = xreallocarray(tags, ntags + 1, sizeof *tags);
                tags[ntags++] = xstrndup((const char *)s, l);
            }
        }
        bool local = h[i].flags & 4;
        const char *ci = local ? "host=/nonexistent/socket/dir dbname=fuzz" : "host=192.0.2.1 dbname=fuzz";
        if (h[i].flags & 1) {
            struct pooler_conf *pc = &w->cfg.poolers[w->cfg.npoolers];
            pc->name = xasprintf("pgb%zu", w->cfg.npoolers);
            pc->conninfo = xstrdup(ci);
            pc->line = 3 + (int)i, pc->col = 5;
            if (h[i].flags & 2) {
                pc->serves = xcalloc(npg + 1, sizeof *pc->serves);
                for (size_t k = 0; k < npg; k++)
                    pc->serves[pc->nserves++] = xasprintf("pg%zu", k);
            }
            for (size_t k = 0; k < ntags; k++) /* poolers have no tags: drop them */
                free(tags[k]);
            free(tags);
            idx[i] = npg + w->cfg.npoolers++;
        } else {
            struct server_conf *sc = &w->cfg.servers[w->cfg.nservers];
            sc->name = xasprintf("pg%zu", w->cfg.nservers);
            sc->conninfo = xstrdup(ci);
            sc->tags = tags;
            sc->ntags = ntags;
            sc->line = 3 + (int)i, sc->col = 5;
            idx[i] = w->cfg.nservers++;
        }
    }
    sched_init(&w->m, &w->cfg);
    w->m.opts.idle = g & 1;
    int64_t now = now_ms();

    for (size_t i = 0; i < nh; i++) {
        struct server *s = &w->m.servers[idx[i]];
        fz_in_init(&in, size ? data + 1 : data, size ? size - 1 : 0);
        in.off = h[i].off;
        fz_feed(&in, s, w->m.opts.idle);
        const uint8_t *sep = memchr(h[i].text, 0x1f, h[i].len);
        char *reason = xstrndup((const char *)h[i].text, sep ? (size_t)(sep - h[i].text) : h[i].len);
        s->tick_ms = (int64_t)h[i].tick * 37;
        s->status_since_ms = now - 1000 * (int64_t)h[i].tick;
        s->last_ok_ms = s->ticks ? now - 100 : 0;
        switch (h[i].status & 3) {
        case 0: { /* what sched.c's absorb step would say after these ticks */
            const char *broken = NULL;
            for (int p = 0; s->cur && p < PROBE_MAX && !broken; p++)
                if (probe_table[p]->essential && probe_table[p]->kind == s->kind && !s->cur->sec[p])
                    broken = s->cur->err[p] ? s->cur->err[p] : "no answer to its main probe";
            s->status = !s->ticks ? SRV_CONNECTING : broken ? SRV_STALE : SRV_UP;
            snprintf(s->reason, sizeof s->reason, "%s", broken ? broken : "");
            break;
        }
        case 1: /* its deadline passed, or the connection failed: what it last said stays */
            s->status = SRV_DOWN;
            s->ticks = 0;
            snprintf(s->reason, sizeof s->reason, "%s", reason);
            break;
        case 2: /* a tick is late */
            s->status = s->ticks ? SRV_STALE : SRV_CONNECTING;
            snprintf(s->reason, sizeof s->reason, "%s", reason);
            break;
        default: /* reconnecting after a failure */
            s->status = SRV_CONNECTING;
            s->ticks = 0;
            snprintf(s->reason, sizeof s->reason, "%s", reason);
            break;
        }
        free(reason);
    }
    w->m.generation++; /* as sched.c after a change: figures memoised per generation are redone */
    return w;
}

void fz_world_free(struct fz_world *w)
{
    if (!w)
        return;
    sched_free(&w->m);
    config_free(&w->cfg);
    free(w);
}
