/* view_io.c — what pane 6, Cache & IO, shows, as a document (doc.h), free of curses: per
 * server (all, or the scoped one) a line per database with its cache hit % over the last
 * interval, block reads and hits, temp files, IO time, tuples and size, busiest reader first;
 * then the server's checkpoints, buffer writers, WAL rate, pg_stat_io's busiest lines (16+)
 * and, for a server on this machine, its disk. The pane draws the document; the text snapshot
 * prints it. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/sec_io.h"
#include "tui/sections.h"

#define SEG_MAX 12
#define SEG_LEN 96
#define LABEL_W 13 /* width of the labels of the server lines ("checkpoints", "WAL", …) */
#define IO_TOP 6   /* pg_stat_io lines shown per server */

enum lkind { LK_TITLE, LK_DB_HEAD, LK_DB, LK_IO_HEAD, LK_IO, LK_TEXT, LK_BLANK };

struct seg {
    char t[SEG_LEN];
    enum sev sev;
};

struct line {
    enum lkind kind;
    int n;
    struct seg s[SEG_MAX];
};

struct iodoc {
    struct line *l;
    size_t n, cap;
};

enum db_col { D_NAME, D_HIT, D_READS, D_HITS, D_TMPF, D_TMPB, D_RMS, D_WMS, D_TUPR, D_TUPW, D_SIZE, D_N };
static const struct colspec db_cols[D_N] = {
    [D_NAME] = {.title = "DATABASE", .width = 30, .prio = 100, .flex = true},
    [D_HIT] = {.title = "HIT%", .width = 6, .prio = 99, .right = true, .numeric = true},
    [D_READS] = {.title = "READ/s", .width = 7, .prio = 98, .right = true, .numeric = true},
    [D_HITS] = {.title = "HIT/s", .width = 7, .prio = 90, .right = true, .numeric = true},
    [D_TMPF] = {.title = "TMPF/s", .width = 6, .prio = 70, .right = true, .numeric = true},
    [D_TMPB] = {.title = "TMP B/s", .width = 8, .prio = 95, .right = true, .numeric = true},
    [D_RMS] = {.title = "RD ms/s", .width = 7, .prio = 80, .right = true, .numeric = true},
    [D_WMS] = {.title = "WR ms/s", .width = 7, .prio = 60, .right = true, .numeric = true},
    [D_TUPR] = {.title = "TUP RD/s", .width = 8, .prio = 75, .right = true, .numeric = true},
    [D_TUPW] = {.title = "TUP WR/s", .width = 8, .prio = 65, .right = true, .numeric = true},
    [D_SIZE] = {.title = "SIZE", .width = 7, .prio = 85, .right = true, .numeric = true},
};

enum io_col { O_WHO, O_READS, O_RBYTES, O_WRITES, O_WBYTES, O_EXT, O_HITS, O_EVICT, O_FSYNC, O_RMS, O_WMS, O_N };
static const struct colspec io_cols[O_N] = {
    [O_WHO] = {.title = "PG_STAT_IO: BACKEND OBJECT CONTEXT", .width = 44, .prio = 100, .flex = true},
    [O_READS] = {.title = "READ/s", .width = 7, .prio = 98, .right = true, .numeric = true},
    [O_RBYTES] = {.title = "RD B/s", .width = 7, .prio = 80, .right = true, .numeric = true},
    [O_WRITES] = {.title = "WRITE/s", .width = 7, .prio = 97, .right = true, .numeric = true},
    [O_WBYTES] = {.title = "WR B/s", .width = 7, .prio = 79, .right = true, .numeric = true},
    [O_EXT] = {.title = "EXT/s", .width = 6, .prio = 70, .right = true, .numeric = true},
    [O_HITS] = {.title = "HIT/s", .width = 7, .prio = 90, .right = true, .numeric = true},
    [O_EVICT] = {.title = "EVICT/s", .width = 7, .prio = 75, .right = true, .numeric = true},
    [O_FSYNC] = {.title = "FSYNC/s", .width = 7, .prio = 65, .right = true, .numeric = true},
    [O_RMS] = {.title = "RD ms/s", .width = 7, .prio = 60, .right = true, .numeric = true},
    [O_WMS] = {.title = "WR ms/s", .width = 7, .prio = 55, .right = true, .numeric = true},
};

/* ----------------------------------------------------------------------------- building */

static struct line *add_line(struct iodoc *d, enum lkind k)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 32;
        d->l = xreallocarray(d->l, d->cap, sizeof *d->l);
    }
    struct line *l = &d->l[d->n++];
    memset(l, 0, sizeof *l);
    l->kind = k;
    return l;
}

static void seg(struct line *l, enum sev sev, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seg(struct line *l, enum sev sev, const char *fmt, ...)
{
    if (l->n >= SEG_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->s[l->n].t, SEG_LEN, fmt, ap);
    va_end(ap);
    l->s[l->n++].sev = sev;
}

/* Untrusted server text into a segment, escaped. */
static void seg_esc(struct line *l, enum sev sev, const char *raw)
{
    if (l->n >= SEG_MAX)
        return;
    esc_into(l->s[l->n].t, SEG_LEN, raw ? raw : "", 1);
    l->s[l->n++].sev = sev;
}

static struct line *text_line(struct iodoc *d, const char *label)
{
    struct line *l = add_line(d, LK_TEXT);
    char pad[LABEL_W * 4];
    seg(l, SEV_NONE, "%s", str_pad(pad, sizeof pad, label, LABEL_W - 1, 0));
    return l;
}

static const char *count(char *b, size_t n, double v) { return fmt_count(b, n, v); }

static const char *rate_bytes(char *b, size_t n, double v)
{
    char t[32];
    fmt_bytes(t, sizeof t, v);
    snprintf(b, n, isfinite(v) ? "%s/s" : "%s", t);
    return b;
}

static enum sev hit_sev(double pct, double th)
{
    if (isnan(pct))
        return SEV_NONE;
    return pct < th - 10 ? SEV_CRIT : pct < th ? SEV_WARN : SEV_OK;
}

static void db_line(struct iodoc *d, const struct db_stat *r, const struct s_sizes *z, double th)
{
    struct line *l = add_line(d, LK_DB);
    char b[32];
    seg_esc(l, SEV_NONE, r->datname);
    /* n/a: no interval yet or a reset; "-": nothing was read or hit, so no ratio */
    if (isnan(r->hit_pct))
        seg(l, SEV_DIM, "%s", r->reset ? "reset" : isnan(r->hits_s) ? "n/a" : "-");
    else
        seg(l, hit_sev(r->hit_pct, th), "%.1f", r->hit_pct);
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->reads_s));
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->hits_s));
    seg(l, r->temp_files_s > 0 ? SEV_WARN : SEV_NONE, "%s", count(b, sizeof b, r->temp_files_s));
    char t[32];
    seg(l, r->temp_bytes_s > 0 ? SEV_WARN : SEV_NONE, "%s", fmt_bytes(t, sizeof t, r->temp_bytes_s));
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->read_ms_s));
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->write_ms_s));
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->returned_s + r->fetched_s));
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->inserted_s + r->updated_s + r->deleted_s));
    const struct db_size *sz = sizes_find(z, r->datname);
    seg(l, SEV_NONE, "%s", sz ? fmt_bytes(t, sizeof t, sz->bytes) : "");
}

static double nan_low(double v) { return isnan(v) ? -1 : v; }

/* Busiest reader first: that is where the cache misses come from. */
static int cmp_db(const void *a, const void *b)
{
    const struct db_stat *x = *(const struct db_stat *const *)a, *y = *(const struct db_stat *const *)b;
    double dx = nan_low(x->reads_s), dy = nan_low(y->reads_s);
    if (dx != dy)
        return dx < dy ? 1 : -1;
    dx = nan_low(x->hits_s), dy = nan_low(y->hits_s);
    if (dx != dy)
        return dx < dy ? 1 : -1;
    return strcmp(x->datname ? x->datname : "", y->datname ? y->datname : "");
}

/* A role name as it must be written in SQL: double-quoted unless plain lower case. */
static const char *sql_ident(char *out, size_t n, const char *name)
{
    name = name ? name : "";
    bool plain = *name && !(*name >= '0' && *name <= '9');
    for (const char *p = name; *p; p++)
        plain = plain && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
    if (plain) {
        snprintf(out, n, "%s", name);
        return out;
    }
    size_t o = 0;
    out[o++] = '"';
    for (const char *p = name; *p && o + 3 < n; p++) {
        if (*p == '"')
            out[o++] = '"';
        out[o++] = *p;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* Our probes run with track_counts off when the role may set it (probe_table.c); otherwise
 * their reads are in the figures above (after the warm-up, mostly the shared catalogs'): say so,
 * and how to leave them out. */
static void own_reads_part(struct iodoc *d, const struct server *s)
{
    if (!s->caps.version || s->caps.set_track_counts)
        return;
    struct line *l = text_line(d, "own reads");
    seg(l, SEV_WARN, "pgfleet's own reads are counted here:");
    if (s->caps.version < 150000) {
        seg(l, SEV_DIM, "only a superuser may set track_counts before PostgreSQL 15");
        return;
    }
    char ident[SEG_LEN], who[SEG_LEN];
    esc_into(who, sizeof who, sql_ident(ident, sizeof ident, s->caps.current_user), 1);
    seg(l, SEV_DIM, "GRANT SET ON PARAMETER track_counts TO %.48s", who);
    seg(l, SEV_DIM, "leaves them out");
}

static void databases_part(struct iodoc *d, const struct server *s, double th)
{
    const struct s_databases *db = SAMPLE_DATABASES(s->cur);
    if (!db) {
        struct line *l = text_line(d, "databases");
        seg_esc(l, SEV_WARN, s->cur && s->cur->err[PROBE_DATABASES] ? s->cur->err[PROBE_DATABASES] : "no data yet");
        return;
    }
    const struct s_sizes *z = SAMPLE_SIZES(s->cur);
    const struct db_stat **rows = xcalloc(db->n + 1, sizeof *rows);
    for (size_t i = 0; i < db->n; i++)
        rows[i] = &db->rows[i];
    qsort(rows, db->n, sizeof *rows, cmp_db);
    add_line(d, LK_DB_HEAD);
    for (size_t i = 0; i < db->n; i++)
        db_line(d, rows[i], z, th);
    if (db->n > 1)
        db_line(d, &db->total, NULL, th); /* every database, templates too */
    db_line(d, &db->shared, NULL, th);    /* the shared catalogs: start-ups and monitoring */
    free(rows);
    own_reads_part(d, s);
}

static void checkpoint_part(struct iodoc *d, const struct s_bgwriter *b)
{
    char x[32], y[32];
    struct line *l = text_line(d, "checkpoints");
    seg(l, SEV_NONE, "timed %s (+%s)", count(x, sizeof x, b->ckpt_timed), count(y, sizeof y, b->timed_d));
    /* Requested checkpoints (max_wal_size reached, or CHECKPOINT) should be the exception;
     * a handful after start-up or a base backup is not a pattern, hence the minimum. */
    bool many = b->req_pct > 50 && b->ckpt_req >= 5;
    seg(l, many ? SEV_WARN : SEV_NONE, "requested %s (+%s)", count(x, sizeof x, b->ckpt_req),
        count(y, sizeof y, b->req_d));
    if (!isnan(b->req_pct))
        seg(l, many ? SEV_WARN : SEV_NONE, "%.0f%% requested", b->req_pct);
    seg(l, SEV_NONE, "write %s ms/s", count(x, sizeof x, b->write_ms_s));
    seg(l, SEV_NONE, "sync %s ms/s", count(y, sizeof y, b->sync_ms_s));

    l = text_line(d, "buffers/s");
    seg(l, SEV_NONE, "checkpointer %s", count(x, sizeof x, b->buf_checkpoint_s));
    seg(l, SEV_NONE, "bgwriter %s", count(x, sizeof x, b->buf_clean_s));
    seg(l, SEV_NONE, "backends%s %s", b->backend_from_io ? " (pg_stat_io)" : "", count(x, sizeof x, b->buf_backend_s));
    /* backends doing their own fsync means the checkpointer's request queue was full */
    seg(l, b->buf_backend_fsync_s > 0 ? SEV_WARN : SEV_NONE, "backend fsync %s",
        count(x, sizeof x, b->buf_backend_fsync_s));
    seg(l, SEV_NONE, "alloc %s", count(x, sizeof x, b->buf_alloc_s));
    seg(l, b->maxwritten_clean_s > 0 ? SEV_WARN : SEV_NONE, "maxwritten %s", count(x, sizeof x, b->maxwritten_clean_s));
}

static void wal_part(struct iodoc *d, const struct server *s)
{
    const struct s_wal *w = SAMPLE_WAL(s->cur);
    struct line *l = text_line(d, "WAL");
    char x[32];
    if (!w) {
        seg_esc(l, SEV_DIM, s->cur && s->cur->err[PROBE_WAL] ? s->cur->err[PROBE_WAL] : "no data yet");
        return;
    }
    if (!w->source) {
        seg(l, SEV_DIM, "n/a: a replica before PostgreSQL 14 has no WAL rate of its own");
        return;
    }
    seg(l, SEV_NONE, "%s", rate_bytes(x, sizeof x, w->bytes_s));
    seg(l, SEV_DIM, "(%s)", w->source);
    if (!isnan(w->records)) {
        seg(l, SEV_NONE, "records %s/s", count(x, sizeof x, w->records_s));
        seg(l, SEV_NONE, "FPI %s/s", count(x, sizeof x, w->fpi_s));
        /* WAL buffers full: backends wrote WAL themselves; wal_buffers is too small */
        seg(l, w->buffers_full_s > 0 ? SEV_WARN : SEV_NONE, "buffers full %s/s", count(x, sizeof x, w->buffers_full_s));
    }
    if (!isnan(w->write)) {
        seg(l, SEV_NONE, "write %s/s", count(x, sizeof x, w->write_s));
        seg(l, SEV_NONE, "sync %s/s", count(x, sizeof x, w->sync_s));
    }
}

static double io_weight(const struct io_row *r)
{
    double v = 0;
    const double parts[] = {r->read_bytes_s, r->write_bytes_s, r->extend_bytes_s};
    for (size_t i = 0; i < ARRAY_LEN(parts); i++)
        v += isnan(parts[i]) ? 0 : parts[i];
    /* hits cost no IO: they only order rows that did none */
    return v + (isnan(r->hits_s) ? 0 : r->hits_s * 1e-6);
}

static int cmp_io(const void *a, const void *b)
{
    double x = io_weight(*(const struct io_row *const *)a), y = io_weight(*(const struct io_row *const *)b);
    return x < y ? 1 : x > y ? -1 : 0;
}

static void io_line(struct iodoc *d, const struct io_row *r)
{
    struct line *l = add_line(d, LK_IO);
    char who[200], b[32];
    snprintf(who, sizeof who, "%s %s %s", r->backend_type ? r->backend_type : "?", r->object ? r->object : "?",
             r->context ? r->context : "?");
    seg_esc(l, SEV_NONE, who);
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->reads_s));
    seg(l, SEV_NONE, "%s", fmt_bytes(b, sizeof b, r->read_bytes_s));
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->writes_s));
    seg(l, SEV_NONE, "%s", fmt_bytes(b, sizeof b, r->write_bytes_s));
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->extends_s));
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->hits_s));
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->evictions_s));
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->fsyncs_s));
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->read_ms_s));
    seg(l, SEV_NONE, "%s", count(b, sizeof b, r->write_ms_s));
}

static void statio_part(struct iodoc *d, const struct server *s)
{
    if (s->caps.version && s->caps.version < 160000) {
        struct line *l = add_line(d, LK_TEXT);
        seg(l, SEV_DIM, "pg_stat_io needs PostgreSQL 16");
        return;
    }
    const struct s_statio *io = SAMPLE_STATIO(s->cur);
    if (!io) {
        const char *e = s->cur && s->cur->err[PROBE_IO] ? s->cur->err[PROBE_IO] : "no data yet";
        seg_esc(text_line(d, "pg_stat_io"), SEV_DIM, e);
        return;
    }
    const struct io_row **rows = xcalloc(io->n + 1, sizeof *rows);
    size_t n = 0;
    for (size_t i = 0; i < io->n; i++)
        if (io_weight(&io->rows[i]) > 0)
            rows[n++] = &io->rows[i];
    qsort(rows, n, sizeof *rows, cmp_io);
    if (n == 0) {
        seg(text_line(d, "pg_stat_io"), SEV_DIM,
            isnan(io->dt) ? "rates after the next refresh" : "no IO in the interval");
    } else {
        add_line(d, LK_IO_HEAD);
        for (size_t i = 0; i < n && i < IO_TOP; i++)
            io_line(d, rows[i]);
    }
    free(rows);
}

static void disk_part(struct iodoc *d, const struct server *s)
{
    const struct s_bgwriter *b = SAMPLE_BGWRITER(s->cur);
    if (!s->local || !b || !b->disk.tried)
        return;
    const struct host_disk *k = &b->disk;
    char label[80], x[32], y[32];
    if (k->why) {
        seg_esc(text_line(d, "disk"), SEV_DIM, k->why);
        return;
    }
    snprintf(label, sizeof label, "disk %s", k->device);
    struct line *l = add_line(d, LK_TEXT);
    char e[LABEL_W * 4], pad[LABEL_W * 4];
    esc_into(e, sizeof e, label, 1);
    seg(l, SEV_NONE, "%s", str_pad(pad, sizeof pad, e, LABEL_W - 1, 0));
    seg(l, SEV_NONE, "reads %s/s %s", count(x, sizeof x, k->reads_s), rate_bytes(y, sizeof y, k->read_bytes_s));
    seg(l, SEV_NONE, "writes %s/s %s", count(x, sizeof x, k->writes_s), rate_bytes(y, sizeof y, k->write_bytes_s));
    if (isnan(k->util_pct))
        seg(l, SEV_NONE, "util n/a");
    else
        seg(l, k->util_pct >= 90 ? SEV_WARN : SEV_NONE, "util %.0f%%", k->util_pct);
    if (!isnan(k->await_ms))
        seg(l, SEV_NONE, "await %.1fms", k->await_ms);
}

static void sizes_part(struct iodoc *d, const struct server *s)
{
    const struct s_sizes *z = SAMPLE_SIZES(s->cur);
    const struct s_databases *db = SAMPLE_DATABASES(s->cur);
    struct line *l = text_line(d, "sizes");
    char x[32], y[32];
    if (!z) {
        seg_esc(l, SEV_DIM, s->cur && s->cur->err[PROBE_SIZES] ? s->cur->err[PROBE_SIZES] : "not measured yet");
        return;
    }
    seg(l, SEV_NONE, "total %s", fmt_bytes(x, sizeof x, z->total));
    if (!isnan(z->total_growth_s))
        seg(l, SEV_NONE, "(%s%s)", z->total_growth_s >= 0 ? "+" : "-",
            rate_bytes(y, sizeof y, fabs(z->total_growth_s)));
    seg(l, SEV_DIM, "%zu database%s", z->n, z->n == 1 ? "" : "s");
    /* sizes are measured every few ticks: say how old they are, on the server's clock */
    if (db && !isnan(db->epoch) && !isnan(z->epoch))
        seg(l, SEV_DIM, "measured %s ago", fmt_age(x, sizeof x, fmax(0, db->epoch - z->epoch)));
}

static void server_part(struct iodoc *d, const struct server *s, double th)
{
    struct line *l = add_line(d, LK_TITLE);
    seg_esc(l, SEV_NONE, s->conf->name);
    const struct s_server *ss = SAMPLE_SERVER(s->cur);
    const struct s_databases *db = SAMPLE_DATABASES(s->cur);
    if (s->status == SRV_DOWN || !s->cur) {
        seg(l, s->status == SRV_DOWN ? SEV_CRIT : SEV_DIM, "%s", srv_status_name(s->status));
        if (s->reason[0])
            seg_esc(l, SEV_DIM, s->reason);
        return;
    }
    char ver[64];
    esc_into(ver, sizeof ver, ss && ss->version ? ss->version : "", 1);
    seg(l, SEV_NONE, "%s %s", srv_role(s), ver);
    if (s->status != SRV_UP)
        seg(l, SEV_WARN, "%s", srv_status_name(s->status));
    char b[32];
    if (db)
        seg(l, SEV_DIM, "interval %s", isnan(db->dt) ? "n/a" : fmt_age(b, sizeof b, db->dt));
    if (db && !db->track_io_timing)
        seg(l, SEV_WARN, "track_io_timing is off");
    databases_part(d, s, th);
    const struct s_bgwriter *bw = SAMPLE_BGWRITER(s->cur);
    if (bw)
        checkpoint_part(d, bw);
    else
        seg_esc(text_line(d, "checkpoints"), SEV_DIM,
                s->cur->err[PROBE_BGWRITER] ? s->cur->err[PROBE_BGWRITER] : "no data yet");
    wal_part(d, s);
    statio_part(d, s);
    disk_part(d, s);
    sizes_part(d, s);
}

/* The whole pane for the servers in scope (-1: all); poolers have no cache or IO figures. */
static void build(const struct model *m, long scope, struct iodoc *d)
{
    double th = m->cfg ? m->cfg->th.cache_hit_pct : 95;
    bool any = false;
    for (size_t i = 0; i < m->n; i++) {
        const struct server *s = &m->servers[i];
        if ((scope >= 0 && (size_t)scope != i) || s->kind != KIND_POSTGRES)
            continue;
        if (any)
            add_line(d, LK_BLANK);
        server_part(d, s, th);
        any = true;
    }
    if (!any)
        seg(add_line(d, LK_TEXT), SEV_DIM, "%s",
            scope >= 0 ? "a pgBouncer has no cache or IO figures (S changes the scope)" : "no PostgreSQL servers");
}

/* Server lines longer than the screen continue on the next line, under their figures, split
 * between figures (never inside one): at 80 columns nothing is cut off. */
static void wrap(const struct iodoc *in, int width, struct iodoc *out)
{
    for (size_t i = 0; i < in->n; i++) {
        const struct line *l = &in->l[i];
        struct line *cur = add_line(out, l->kind);
        if (l->kind != LK_TEXT || l->n < 2) {
            *cur = *l;
            continue;
        }
        cur->s[cur->n++] = l->s[0];
        int x = 2 + str_cols(l->s[0].t) + 1;
        for (int k = 1; k < l->n; k++) {
            int w = str_cols(l->s[k].t);
            if (x + w > width && cur->n > 1) {
                cur = add_line(out, LK_TEXT);
                seg(cur, SEV_NONE, "%-*s", LABEL_W - 1, "");
                x = 2 + LABEL_W;
            }
            cur->s[cur->n++] = l->s[k];
            x += w + 2;
        }
    }
}

/* ----------------------------------------------------------------------------- layout */

struct layout {
    int x[SEG_MAX], w[SEG_MAX];
};

/* Columns as wide as their content (at most their preferred width, at least the title); the
 * lowest priority ones are dropped until the row fits. Every server's rows share a layout so
 * the columns line up down the pane. */
static void fit(const struct iodoc *d, enum lkind row, const struct colspec *cols, int ncols, int width,
                struct layout *lo)
{
    int *nat = lo->w;
    unsigned flex = 0;
    for (int c = 0; c < ncols; c++) {
        nat[c] = (int)strlen(cols[c].title);
        for (size_t i = 0; i < d->n; i++)
            if (d->l[i].kind == row && c < d->l[i].n) {
                int w = str_cols(d->l[i].s[c].t);
                if (w > nat[c])
                    nat[c] = w;
            }
        if (nat[c] > cols[c].width && nat[c] > (int)strlen(cols[c].title))
            nat[c] = cols[c].width > (int)strlen(cols[c].title) ? cols[c].width : (int)strlen(cols[c].title);
        flex |= cols[c].flex ? 1u << c : 0;
    }
    /* rows sit under their server's title; the flex column keeps its width */
    table_fit(cols, ncols, width, flex, false, 2, lo->x, lo->w);
}

/* A table row's cells at their columns; in the text form no cell is cut. */
static void put_cells(struct doc *d, size_t y, const struct layout *lo, const struct colspec *cols, int ncols,
                      const struct line *l, bool text)
{
    for (int c = 0; c < ncols; c++) {
        if (lo->x[c] < 0)
            continue;
        const char *v = c < l->n ? l->s[c].t : "";
        int x = lo->x[c], len = str_cols(v);
        if (cols[c].right && len < lo->w[c])
            x += lo->w[c] - len;
        doc_put(d, y, x, text ? d->width - x : lo->x[c] + lo->w[c] - x, l->s[c].sev, v);
    }
}

/* The figures of a line, label first: one space after the label, two between figures. */
static void put_text(struct doc *d, size_t y, const struct line *l)
{
    int x = l->kind == LK_TEXT ? 2 : 0;
    for (int i = 0; i < l->n && x < d->width; i++) {
        doc_put(d, y, x, d->width - x, l->kind == LK_TITLE && i == 0 ? DS_HEAD : (int)l->s[i].sev, l->s[i].t);
        x += str_cols(l->s[i].t) + (l->kind == LK_TITLE ? 2 : 1);
        if (l->kind == LK_TEXT && i > 0)
            x += 1;
    }
}

void io_view(const struct model *m, long scope, bool text, struct doc *out)
{
    struct iodoc raw = {0}, wrapped = {0};
    build(m, scope, &raw);
    if (!text)
        wrap(&raw, out->width, &wrapped);
    const struct iodoc *d = text ? &raw : &wrapped;
    struct layout dbl, iol;
    fit(d, LK_DB, db_cols, D_N, out->width - 2, &dbl);
    fit(d, LK_IO, io_cols, O_N, out->width - 2, &iol);
    out->trim = true;
    for (size_t i = 0; i < d->n; i++) {
        const struct line *l = &d->l[i];
        size_t y = out->n;
        doc_line(out, y);
        switch (l->kind) {
        case LK_DB_HEAD: doc_head(out, y, 0, db_cols, D_N, dbl.x, dbl.w); break;
        case LK_IO_HEAD: doc_head(out, y, 0, io_cols, O_N, iol.x, iol.w); break;
        case LK_DB: put_cells(out, y, &dbl, db_cols, D_N, l, text); break;
        case LK_IO: put_cells(out, y, &iol, io_cols, O_N, l, text); break;
        case LK_TITLE:
        case LK_TEXT: put_text(out, y, l); break;
        case LK_BLANK: break;
        }
    }
    free(raw.l);
    free(wrapped.l);
}

void io_text(const struct model *m, FILE *out)
{
    struct doc d = {.width = 1000};
    io_view(m, -1, true, &d);
    fprintf(out, "CACHE & IO\n");
    doc_write(&d, out);
    doc_free(&d);
}
