/* view_replication.c — what pane 4, Replication, shows, as a document (doc.h), free of curses:
 * the fleet as replication clusters (servers grouped by system_identifier). Each cluster shows
 * its primary (WAL position and rate, archiver), under it every replica (fleet servers and
 * unknown ones by client address) with sent/write/flush/replay lag, time lag, sync state,
 * replay pause, its WAL receiver and a sparkline of its replay lag; then each server's slots
 * (inactive ones keeping WAL flagged), archiver and logical replication. The pane draws the
 * document with a line selected; the text snapshot prints it. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/health.h"
#include "probes/repl_cluster.h"
#include "tui/sections.h"

/* ---- the pane as a list of lines: free text (cluster headers, primaries, slots, archiver,
 * logical) and table rows (replicas) that share one column layout */

enum rc {
    RC_NAME,
    RC_STATE,
    RC_SYNC,
    RC_SENT,
    RC_WRITE,
    RC_FLUSH,
    RC_REPLAY,
    RC_LAG,
    RC_PAUSE,
    RC_RECV,
    RC_HIST,
    RC_N
};
static const struct colspec cols[RC_N] = {
    /* at 80 columns: name, state, replay lag (bytes, time), pause, receiver and the sparkline */
    [RC_NAME] = {.title = "REPLICA", .width = 22, .prio = 10},
    [RC_STATE] = {.title = "STATE", .width = 11, .prio = 8},
    [RC_SYNC] = {.title = "SYNC", .width = 9, .prio = 4},
    [RC_SENT] = {.title = "SENT", .width = 8, .prio = 3, .right = true, .numeric = true},
    [RC_WRITE] = {.title = "WRITE", .width = 8, .prio = 1, .right = true, .numeric = true},
    [RC_FLUSH] = {.title = "FLUSH", .width = 8, .prio = 2, .right = true, .numeric = true},
    [RC_REPLAY] = {.title = "REPLAY", .width = 8, .prio = 9, .right = true, .numeric = true},
    [RC_LAG] = {.title = "LAG", .width = 7, .prio = 9, .right = true, .numeric = true},
    [RC_PAUSE] = {.title = "PAUSE", .width = 8, .prio = 7},
    [RC_RECV] = {.title = "RECEIVER", .width = 14, .prio = 5},
    [RC_HIST] = {.title = "HISTORY", .width = 10, .prio = 6, .flex = true},
};

enum lkind { LK_TEXT, LK_HEAD, LK_ROW };
#define MAXSEG 14
struct seg {
    char s[CELL_MAX];
    enum sev sev;
};
struct rline {
    enum lkind kind;
    bool title;
    int indent;
    struct seg seg[MAXSEG];
    int nseg;
    cell_t cell[RC_N];
    enum sev sev[RC_N];
    double hist[LAG_RING_N];
    size_t nhist;
};

struct lines {
    struct rline *l;
    size_t n, cap;
    bool utf8;
    const struct model *m;
    const struct thresholds *th;
};

/* Format into a cell (CELL_MAX bytes); longer text is cut. */
static void cellf(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cellf(char *dst, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, CELL_MAX, fmt, ap);
    va_end(ap);
}

static struct rline *add_line(struct lines *L, enum lkind k, int indent)
{
    if (L->n == L->cap) {
        L->cap = L->cap ? 2 * L->cap : 32;
        L->l = xreallocarray(L->l, L->cap, sizeof *L->l);
    }
    struct rline *r = &L->l[L->n++];
    memset(r, 0, sizeof *r);
    r->kind = k;
    r->indent = indent;
    if (k == LK_HEAD)
        for (int c = 0; c < RC_N; c++)
            cellf(r->cell[c], "%s", cols[c].title);
    return r;
}

static void seg(struct rline *r, enum sev sev, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seg(struct rline *r, enum sev sev, const char *fmt, ...)
{
    if (r->nseg >= MAXSEG)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->seg[r->nseg].s, CELL_MAX, fmt, ap);
    va_end(ap);
    r->seg[r->nseg++].sev = sev;
}

/* Formatted figures for one format call: each in its own compound literal, which lives until
 * the end of the enclosing block, so any number may be used in one call (no static buffers). */
static const char *esc_cell(char *dst, const char *s)
{
    esc_into(dst, CELL_MAX, s ? s : "", 1);
    return dst;
}
#define E(s) esc_cell((char[CELL_MAX]){0}, (s))  /* escaped server text */
#define B(v) fmt_bytes((char[32]){0}, 32, (v))   /* bytes */
#define A(v) fmt_age((char[32]){0}, 32, (v))     /* age */
#define L_(v) lsn_format((char[32]){0}, 32, (v)) /* lsn */

static const struct s_replication *repl_of(const struct server *s) { return SAMPLE_REPL(s->cur); }
static bool streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* ---- building the lines */

static void primary_line(struct lines *L, const struct server *s, const struct repl_node *nd)
{
    const struct s_replication *r = repl_of(s);
    const struct s_server *ss = SAMPLE_SERVER(s->cur);
    struct rline *l = add_line(L, LK_TEXT, nd->depth);
    seg(l, SEV_NONE, "%s%s  ", L->utf8 ? "\xe2\x97\x8f " : "* ", E(s->conf->name));
    l->title = true;
    if (s->status == SRV_DOWN || s->status == SRV_STALE) {
        seg(l, SEV_CRIT, "%s: %s ", srv_status_name(s->status), E(s->reason));
        return;
    }
    const struct s_archiver *a = SAMPLE_ARCHIVER(s->cur);
    if (a && a->failing) /* first: on a narrow screen the end of the line is cut */
        seg(l, SEV_CRIT, "archiver FAILING  ");
    seg(l, SEV_DIM, "primary%s%s ", ss ? ", PG " : "", ss ? E(ss->version) : "");
    if (r->timeline)
        seg(l, SEV_NONE, " timeline %d ", r->timeline);
    seg(l, SEV_NONE, " LSN %s ", L_(r->current_lsn));
    seg(l, SEV_NONE, " WAL %s/s ", isfinite(r->wal_rate) ? B(r->wal_rate) : "n/a");
    if (a && !a->failing && !streq(a->archive_mode, "off"))
        seg(l, SEV_OK, " archiver ok ");
}

static void hist_into(struct rline *l, const struct lag_ring *h)
{
    l->nhist = h ? lag_ring_values(h, l->hist, LAG_RING_N) : 0;
}

/* The columns a WAL sender row fills (the primary's view of a replica). */
static void sender_cells(struct lines *L, struct rline *l, const struct repl_sender *row)
{
    bool hidden = !row->state; /* pg_stat_replication hides the details without pg_monitor */
    cellf(l->cell[RC_STATE], "%s", hidden ? "?" : E(row->state));
    l->sev[RC_STATE] = streq(row->state, "streaming") ? SEV_OK : hidden ? SEV_DIM : SEV_WARN;
    cellf(l->cell[RC_SYNC], "%s", row->sync_state ? E(row->sync_state) : "-");
    cellf(l->cell[RC_SENT], "%s", B(row->sent_lag_b));
    cellf(l->cell[RC_WRITE], "%s", B(row->write_lag_b));
    cellf(l->cell[RC_FLUSH], "%s", B(row->flush_lag_b));
    l->sev[RC_SENT] = health_lag(row->sent_lag_b, NAN, L->th);
}

static void replica_row(struct lines *L, const struct repl_cluster *c, size_t i)
{
    const struct model *m = L->m;
    const struct repl_node *nd = &c->nodes[i];
    const struct server *s = &m->servers[nd->server];
    const struct s_replication *r = repl_of(s);
    const struct s_walreceiver *w = SAMPLE_WALRCV(s->cur);
    struct rline *l = add_line(L, LK_ROW, 0);
    cellf(l->cell[RC_NAME], "%*s%s%s", 2 * (nd->depth > 0 ? nd->depth - 1 : 0), "",
          nd->depth > 0 ? (L->utf8 ? "\xe2\x94\x94 " : "`- ") : "", E(s->conf->name));
    for (int k = RC_STATE; k < RC_HIST; k++)
        cellf(l->cell[k], "-");
    if (s->status == SRV_DOWN || !r) {
        cellf(l->cell[RC_STATE], "%s", s->status == SRV_DOWN ? "DOWN" : "?");
        l->sev[RC_STATE] = s->status == SRV_DOWN ? SEV_CRIT : SEV_DIM;
        cellf(l->cell[RC_RECV], "%s", E(s->reason));
        return;
    }
    const struct repl_sender *row = NULL;
    if (nd->upstream >= 0 && nd->sender >= 0)
        row = &repl_of(&m->servers[c->nodes[nd->upstream].server])->senders[nd->sender];
    if (row)
        sender_cells(L, l, row);
    else if (w && w->present) {
        cellf(l->cell[RC_STATE], "%s", E(w->status));
        l->sev[RC_STATE] = SEV_WARN; /* receiving, but its upstream does not list it (yet) */
    }
    struct repl_lag lag;
    repl_node_lag(m, c, i, &lag);
    cellf(l->cell[RC_REPLAY], "%s", B(lag.bytes));
    cellf(l->cell[RC_LAG], "%s", A(lag.seconds));
    enum sev lsev = health_lag(lag.bytes, lag.seconds, L->th);
    l->sev[RC_REPLAY] = l->sev[RC_LAG] = lsev;
    if (r->replay_paused) {
        cellf(l->cell[RC_PAUSE], "%s", streq(r->pause_state, "paused") ? "PAUSED" : "PAUSING");
        l->sev[RC_PAUSE] = lag.bytes > 0 ? SEV_CRIT : SEV_WARN;
        if (l->sev[RC_REPLAY] < SEV_WARN && lag.bytes > 0)
            l->sev[RC_REPLAY] = SEV_WARN;
    }
    if (w && w->present) {
        cellf(l->cell[RC_RECV], "%s %s", E(w->status), A(w->last_msg_age_s));
        l->sev[RC_RECV] = streq(w->status, "streaming") ? SEV_OK : SEV_WARN;
    } else if (r->in_recovery) {
        cellf(l->cell[RC_RECV], "not running");
        l->sev[RC_RECV] = SEV_CRIT;
    }
    hist_into(l, lag.hist);
}

/* A sender row no fleet server claims: a replica we do not watch, shown by its address. */
static void stranger_row(struct lines *L, const struct repl_node *up, const struct repl_sender *row)
{
    struct rline *l = add_line(L, LK_ROW, 0);
    char who[CELL_MAX];
    bool logical = streq(row->slot_type, "logical");
    cellf(who, "%s%s%s%s", logical ? "logical " : "",
          row->client_addr ? E(row->client_addr)
              : row->state ? "local"
                           : "hidden",
          row->application_name ? " " : "", row->application_name ? E(row->application_name) : "");
    cellf(l->cell[RC_NAME], "%*s%s%s", 2 * up->depth, "", L->utf8 ? "\xe2\x94\x94 " : "`- ", who);
    sender_cells(L, l, row);
    cellf(l->cell[RC_REPLAY], "%s", B(row->replay_lag_b));
    cellf(l->cell[RC_LAG], "%s", A(row->replay_lag_s));
    l->sev[RC_REPLAY] = l->sev[RC_LAG] = health_lag(row->replay_lag_b, row->replay_lag_s, L->th);
    cellf(l->cell[RC_PAUSE], "?");
    cellf(l->cell[RC_RECV], "%s", row->state ? "not in fleet" : "needs pg_monitor");
    l->sev[RC_RECV] = l->sev[RC_PAUSE] = SEV_DIM;
    hist_into(l, &row->hist);
}

static void need_head(struct lines *L, bool *head)
{
    if (!*head)
        add_line(L, LK_HEAD, 0);
    *head = true;
}

static void slot_lines(struct lines *L, const struct server *s)
{
    const struct s_slots *sl = SAMPLE_SLOTS(s->cur);
    if (!sl || !sl->n)
        return;
    struct rline *l = add_line(L, LK_TEXT, 1);
    seg(l, SEV_NONE, "slots on %s:", E(s->conf->name));
    for (size_t i = 0; i < sl->n; i++) {
        const struct slot_row *r = &sl->rows[i];
        enum sev sv = health_slot(r, L->th);
        l = add_line(L, LK_TEXT, 2);
        seg(l, SEV_NONE, "%-20s %-8s ", E(r->slot_name), E(r->slot_type));
        seg(l, r->active ? SEV_OK : sv > SEV_OK ? sv : SEV_NONE, "%-8s ", r->active ? "active" : "INACTIVE");
        seg(l, sv > SEV_OK ? sv : SEV_NONE, "retains %-8s ", B(r->retained_b));
        if (r->wal_status)
            seg(l, streq(r->wal_status, "reserved") ? SEV_NONE : sv, "%s ", E(r->wal_status));
        if (isfinite(r->safe_wal_size))
            seg(l, SEV_NONE, " safe %s ", B(r->safe_wal_size));
        if (streq(r->slot_type, "logical"))
            seg(l, SEV_NONE, " %s/%s confirmed lag %s ", E(r->database), E(r->plugin), B(r->confirmed_lag_b));
        if (isfinite(r->xmin_age))
            seg(l, SEV_NONE, " xmin age %.0f ", r->xmin_age);
        if (r->conflicting || r->invalidation_reason)
            seg(l, SEV_CRIT, " invalidated%s%s ", r->invalidation_reason ? ": " : "", E(r->invalidation_reason));
    }
}

static void archiver_line(struct lines *L, const struct server *s)
{
    const struct s_archiver *a = SAMPLE_ARCHIVER(s->cur);
    if (!a || (streq(a->archive_mode, "off") && a->failed_count == 0 && a->archived_count == 0))
        return;
    /* what matters first: is it failing, on which file, since when */
    struct rline *l = add_line(L, LK_TEXT, 1);
    seg(l, SEV_NONE, "archiver on %s (archive_mode %s): ", E(s->conf->name), E(a->archive_mode));
    if (a->failing)
        seg(l, SEV_CRIT, "FAILING ");
    seg(l, a->failed_count ? SEV_WARN : SEV_NONE, "%lld failed", (long long)a->failed_count);
    if (a->last_failed_wal)
        seg(l, a->failing ? SEV_CRIT : SEV_NONE, ", last failure %s %s ago", E(a->last_failed_wal),
            A(a->last_failed_age_s));
    seg(l, SEV_NONE, ", %lld archived", (long long)a->archived_count);
    if (isfinite(a->archived_rate))
        seg(l, SEV_NONE, " (%.2f/s)", a->archived_rate);
    if (a->last_archived_wal)
        seg(l, SEV_NONE, ", last %s %s ago", E(a->last_archived_wal), A(a->last_archived_age_s));
    else
        seg(l, SEV_NONE, ", none yet");
    if (a->ready_count >= 0)
        seg(l, a->ready_count > 10 ? SEV_WARN : SEV_NONE, ", %lld waiting", (long long)a->ready_count);
}

/* A subscription's slot on a publisher in the fleet says how far behind it is in bytes. The
 * name alone may match slots on several servers: an active logical slot wins over an idle one,
 * then the first in the config. */
static const struct slot_row *publisher_slot(const struct model *m, const char *name, size_t *on)
{
    const struct slot_row *best = NULL;
    for (size_t k = 0; k < m->n && name; k++) {
        const struct s_slots *ps = m->servers[k].status == SRV_DOWN ? NULL : SAMPLE_SLOTS(m->servers[k].cur);
        for (size_t j = 0; ps && j < ps->n; j++) {
            const struct slot_row *c = &ps->rows[j];
            if (!streq(c->slot_name, name) || !streq(c->slot_type, "logical"))
                continue;
            if (!best || (c->active && !best->active)) {
                best = c;
                *on = k;
            }
        }
    }
    return best;
}

static void logical_lines(struct lines *L, const struct server *s)
{
    const struct s_subscriptions *sb = SAMPLE_SUBS(s->cur);
    const struct s_replication *rp = repl_of(s);
    /* A standby has its primary's catalogs (so the same publications and subscriptions) but
     * runs no subscription: listing them there again would only repeat the primary. */
    if (!sb || (rp && rp->in_recovery))
        return;
    if (sb->npubs) {
        struct rline *l = add_line(L, LK_TEXT, 1);
        seg(l, SEV_NONE, "publications on %s:", E(s->conf->name));
        for (size_t i = 0; i < sb->npubs; i++) {
            char what[48];
            if (sb->pubs[i].all_tables)
                snprintf(what, sizeof what, "all tables");
            else
                snprintf(what, sizeof what, "%lld table%s", (long long)sb->pubs[i].tables,
                         sb->pubs[i].tables == 1 ? "" : "s");
            seg(l, SEV_NONE, " %s (%s)%s", E(sb->pubs[i].name), what, i + 1 < sb->npubs ? "," : "");
        }
    }
    for (size_t i = 0; i < sb->nsubs; i++) {
        const struct sub_row *r = &sb->subs[i];
        struct rline *l = add_line(L, LK_TEXT, 1);
        seg(l, SEV_NONE, "subscription %s on %s (db %s): ", E(r->name), E(s->conf->name), E(r->database));
        if (!r->enabled)
            seg(l, SEV_WARN, "disabled ");
        else if (!r->pid)
            seg(l, SEV_CRIT, "no apply worker ");
        else
            seg(l, SEV_OK, "running,");
        size_t on;
        const struct slot_row *slot = publisher_slot(L->m, r->slot_name, &on);
        if (slot)
            seg(l, health_lag(slot->confirmed_lag_b, NAN, L->th), " lag %s (slot on %s),", B(slot->confirmed_lag_b),
                E(L->m->servers[on].conf->name));
        seg(l, SEV_NONE, " last message %s ago, received %s, reported %s ago", A(r->last_msg_age_s),
            L_(r->received_lsn), A(r->latest_end_age_s));
        if (r->sync_workers)
            seg(l, SEV_NONE, ", %d table syncs", r->sync_workers);
        if (r->apply_errors > 0 || r->sync_errors > 0)
            seg(l, SEV_WARN, ", errors: %lld apply, %lld sync", (long long)r->apply_errors, (long long)r->sync_errors);
    }
}

/* Probe errors of this pane's probes: one line each, so a missing privilege is visible. */
static void error_lines(struct lines *L, const struct server *s)
{
    static const int probes[] = {PROBE_REPLICATION, PROBE_WALRECEIVER, PROBE_SLOTS, PROBE_ARCHIVER,
                                 PROBE_SUBSCRIPTIONS};
    if (!s->cur || s->status == SRV_DOWN)
        return;
    for (size_t i = 0; i < ARRAY_LEN(probes); i++)
        if (s->cur->err[probes[i]]) {
            struct rline *l = add_line(L, LK_TEXT, 1);
            seg(l, SEV_WARN, "%s: %s: %s", E(s->conf->name), probe_table[probes[i]]->name, E(s->cur->err[probes[i]]));
        }
}

static void cluster_lines(struct lines *L, const struct repl_cluster *c)
{
    const struct model *m = L->m;
    struct rline *h = add_line(L, LK_TEXT, 0);
    h->title = true;
    if (c->sysid) {
        seg(h, SEV_NONE, "cluster %s", E(c->sysid));
        seg(h, SEV_NONE, "  (%zu server%s)", c->n, c->n == 1 ? "" : "s");
        if (c->nprimaries > 1)
            seg(h, SEV_CRIT, "  %d PRIMARIES with one system identifier", c->nprimaries);
        else if (c->nprimaries == 0)
            seg(h, SEV_DIM, "  primary not in the fleet");
    } else {
        seg(h, SEV_NONE, "%s", E(m->servers[c->nodes[0].server].conf->name));
        seg(h, SEV_DIM, "  not grouped: %s", E(c->why));
    }
    bool head = false;
    for (size_t i = 0; i < c->n; i++) {
        const struct server *s = &m->servers[c->nodes[i].server];
        const struct s_replication *r = repl_of(s);
        if (r && !r->in_recovery) {
            primary_line(L, s, &c->nodes[i]);
            head = false;
        } else {
            need_head(L, &head);
            replica_row(L, c, i);
        }
        for (size_t k = 0; r && s->status != SRV_DOWN && k < r->nsenders; k++)
            if (!repl_sender_claimed(c, i, k)) {
                need_head(L, &head);
                stranger_row(L, &c->nodes[i], &r->senders[k]);
            }
    }
    for (size_t i = 0; i < c->n; i++) {
        const struct server *s = &m->servers[c->nodes[i].server];
        if (s->status == SRV_DOWN)
            continue;
        slot_lines(L, s);
        archiver_line(L, s);
        logical_lines(L, s);
        error_lines(L, s);
    }
}

static void build(struct lines *L, const struct model *m, long scope, bool utf8)
{
    memset(L, 0, sizeof *L);
    L->m = m;
    L->th = &m->cfg->th;
    L->utf8 = utf8;
    struct repl_cluster *cs;
    size_t nc = repl_clusters(m, scope, &cs);
    for (size_t i = 0; i < nc; i++) {
        if (i)
            add_line(L, LK_TEXT, 0);
        cluster_lines(L, &cs[i]);
    }
    repl_clusters_free(cs, nc);
}

/* ---- the document */

#define TABLE_X 2 /* replica rows sit under their primary's line */

/* Column widths: as wide as the content (up to the preferred width), lowest priority dropped
 * until the row fits; the history column takes the rest. x[c] < 0: dropped. */
static void layout(const struct lines *L, int width, int *x, int *wd, bool capped)
{
    for (int c = 0; c < RC_N; c++) {
        wd[c] = (int)strlen(cols[c].title);
        for (size_t i = 0; i < L->n; i++) {
            if (L->l[i].kind != LK_ROW)
                continue;
            int w = str_cols(L->l[i].cell[c]);
            if (w > wd[c])
                wd[c] = w;
        }
        if (capped && wd[c] > cols[c].width && !cols[c].flex)
            wd[c] = cols[c].width;
        if (cols[c].flex)
            wd[c] = cols[c].width;
    }
    table_fit(cols, RC_N, width, 1u << RC_NAME, true, TABLE_X, x, wd);
}

static void put_segs(struct doc *d, size_t y, const struct rline *l)
{
    int x = 2 * l->indent;
    if (!l->nseg && x)
        doc_put(d, y, x, d->width - x, SEV_NONE, ""); /* the text form keeps the indent */
    for (int i = 0; i < l->nseg && x < d->width; i++) {
        doc_put(d, y, x, d->width - x, l->title && l->seg[i].sev == SEV_NONE ? DS_HEAD : (int)l->seg[i].sev,
                l->seg[i].s);
        x += str_cols(l->seg[i].s);
    }
}

/* Sparklines are scaled to the larger of their peak and the lag threshold: a full block means
 * "at or past the threshold", and a small steady lag stays low instead of filling the cell. The
 * text form has every column whole, two spaces apart, and 30 values of history. */
void repl_view(const struct model *m, long scope, bool text, bool utf8, struct doc *d)
{
    struct lines L;
    build(&L, m, scope, utf8);
    double spark_max = (double)m->cfg->th.repl_lag_bytes;
    int x[RC_N], wd[RC_N];
    layout(&L, text ? 100000 : d->width - TABLE_X, x, wd, !text);
    for (int c = 0, pos = TABLE_X; text && c < RC_N; pos += wd[c] + 2, c++)
        x[c] = pos;
    d->trim = false;
    for (size_t i = 0; i < L.n; i++) {
        const struct rline *l = &L.l[i];
        size_t y = d->n;
        doc_line(d, y);
        if (l->kind == LK_TEXT) {
            put_segs(d, y, l);
            continue;
        }
        if (l->kind == LK_HEAD) {
            doc_head(d, y, TABLE_X, cols, RC_N, x, wd);
            continue;
        }
        for (int c = 0; c < RC_N; c++) {
            if (x[c] < 0)
                continue;
            if (c == RC_HIST) {
                char sp[8 * 4 * 64 + 1];
                int w = text ? 30 : wd[c] > 8 * 64 ? 8 * 64 : wd[c];
                spark_text(sp, text ? LAG_RING_N + 1 : sizeof sp, l->hist, l->nhist, w, spark_max, utf8 && !text);
                doc_put(d, y, x[c], text ? d->width - x[c] : wd[c], SEV_NONE, sp);
                continue;
            }
            (cols[c].right ? doc_put_r : doc_put)(d, y, x[c], wd[c], l->sev[c], l->cell[c]);
        }
    }
    free(L.l);
}

void repl_text(const struct model *m, FILE *out)
{
    struct doc d = {.width = 100000};
    repl_view(m, -1, true, false, &d);
    fprintf(out, "REPLICATION\n");
    doc_write(&d, out);
    doc_free(&d);
}
