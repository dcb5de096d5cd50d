/* pane_replication.c — pane 4: the fleet as replication clusters (servers grouped by
 * system_identifier). Each cluster shows its primary (WAL position and rate, archiver), under it
 * every replica (fleet servers and unknown ones by client address) with sent/write/flush/replay
 * lag, time lag, sync state, replay pause, its WAL receiver and a sparkline of its replay lag;
 * then each server's slots (inactive ones keeping WAL flagged), archiver and logical
 * replication. Also the `replication` object of the JSON snapshot and its text section. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "probes/repl_cluster.h"
#include "tui/screen.h"

static struct table_state ts = {.sort_col = -1};

/* ---- the pane as a list of lines: free text (cluster headers, primaries, slots, archiver,
 * logical) and table rows (replicas) that share one column layout */

enum rc { RC_NAME, RC_STATE, RC_SYNC, RC_SENT, RC_WRITE, RC_FLUSH, RC_REPLAY, RC_LAG, RC_PAUSE,
          RC_RECV, RC_HIST, RC_N };
static const struct colspec cols[RC_N] = {
    /* at 80 columns: name, state, replay lag (bytes, time), pause, receiver and the sparkline */
    [RC_NAME] = {"REPLICA", 22, 10, false, false, false},
    [RC_STATE] = {"STATE", 11, 8, false, false, false},
    [RC_SYNC] = {"SYNC", 9, 4, false, false, false},
    [RC_SENT] = {"SENT", 8, 3, true, false, true},
    [RC_WRITE] = {"WRITE", 8, 1, true, false, true},
    [RC_FLUSH] = {"FLUSH", 8, 2, true, false, true},
    [RC_REPLAY] = {"REPLAY", 8, 9, true, false, true},
    [RC_LAG] = {"LAG", 7, 9, true, false, true},
    [RC_PAUSE] = {"PAUSE", 8, 7, false, false, false},
    [RC_RECV] = {"RECEIVER", 14, 5, false, false, false},
    [RC_HIST] = {"HISTORY", 10, 6, false, true, false},
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

/* Escaped server text for one format call: up to 8 live at once. */
static const char *E(const char *s)
{
    static char buf[8][CELL_MAX];
    static int i;
    i = (i + 1) % 8;
    esc_into(buf[i], CELL_MAX, s ? s : "", 1);
    return buf[i];
}

static const char *B(double v) /* bytes */
{
    static char buf[8][32];
    static int i;
    i = (i + 1) % 8;
    return fmt_bytes(buf[i], sizeof buf[i], v);
}

static const char *A(double v) /* age */
{
    static char buf[8][32];
    static int i;
    i = (i + 1) % 8;
    return fmt_age(buf[i], sizeof buf[i], v);
}

static const char *L_(lsn_t v) /* lsn */
{
    static char buf[8][32];
    static int i;
    i = (i + 1) % 8;
    return lsn_format(buf[i], sizeof buf[i], v);
}

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
          row->client_addr ? E(row->client_addr) : row->state ? "local" : "hidden", row->application_name ? " " : "",
          row->application_name ? E(row->application_name) : "");
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
            seg(l, health_lag(slot->confirmed_lag_b, NAN, L->th), " lag %s (slot on %s),",
                B(slot->confirmed_lag_b), E(L->m->servers[on].conf->name));
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

/* ---- drawing */

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
    table_fit(cols, RC_N, width, 1u << RC_NAME, true, 0, x, wd);
}

/* Sparklines are scaled to the larger of their peak and the lag threshold: a full block means
 * "at or past the threshold", and a small steady lag stays low instead of filling the cell. */
static double spark_max;

static void draw_cells(WINDOW *w, int y, const struct rline *l, const int *x, const int *wd, attr_t base, bool sel)
{
    for (int c = 0; c < RC_N; c++) {
        if (x[c] < 0)
            continue;
        attr_t a = l->kind == LK_HEAD ? theme(TH_TITLE) : sel ? theme(TH_SELECTED) : theme_sev(l->sev[c]);
        if (l->kind == LK_ROW && c == RC_HIST) {
            spark_draw(w, y, x[c], wd[c], l->hist, l->nhist, spark_max, sel ? base : theme(TH_NORMAL));
            continue;
        }
        int vx = x[c];
        if (cols[c].right && l->kind == LK_ROW) {
            int tw = str_cols(l->cell[c]);
            if (tw < wd[c])
                vx += wd[c] - tw;
        }
        put_clipped(w, y, vx, x[c] + wd[c] - vx, l->cell[c], a);
    }
}

static void draw_text(WINDOW *w, int y, int width, const struct rline *l, bool sel)
{
    int x = 2 * l->indent;
    for (int i = 0; i < l->nseg && x < width; i++) {
        attr_t a = sel ? theme(TH_SELECTED) : theme_sev(l->seg[i].sev);
        if (l->title && l->seg[i].sev == SEV_NONE && !sel)
            a = theme(TH_HEADER);
        put_clipped(w, y, x, width - x, l->seg[i].s, a);
        x += str_cols(l->seg[i].s);
    }
}

static void repl_draw(struct tui *t, WINDOW *w)
{
    int h, width;
    getmaxyx(w, h, width);
    struct lines L;
    build(&L, t->m, t->scope, utf8_locale());
    if (L.n == 0) {
        put_clipped(w, 1, 2, width - 4, "no PostgreSQL server to show", theme(TH_DIM));
        free(L.l);
        return;
    }
    spark_max = (double)t->m->cfg->th.repl_lag_bytes;
    int x[RC_N], wd[RC_N];
    layout(&L, width - TABLE_X, x, wd, true);
    for (int c = 0; c < RC_N; c++)
        if (x[c] >= 0)
            x[c] += TABLE_X;
    int n = (int)L.n;
    if (ts.sel >= n)
        ts.sel = n - 1;
    if (ts.sel < 0)
        ts.sel = 0;
    if (ts.top > ts.sel)
        ts.top = ts.sel;
    if (ts.sel >= ts.top + h)
        ts.top = ts.sel - h + 1;
    if (ts.top > 0 && ts.top + h > n)
        ts.top = n > h ? n - h : 0;
    for (int r = 0; r < h && ts.top + r < n; r++) {
        const struct rline *l = &L.l[ts.top + r];
        bool sel = ts.top + r == ts.sel;
        if (sel) {
            wattrset(w, theme(TH_SELECTED));
            mvwhline(w, r, 0, ' ', width);
            wattrset(w, A_NORMAL);
        } else if (l->kind == LK_HEAD) {
            wattrset(w, theme(TH_TITLE));
            mvwhline(w, r, TABLE_X, ' ', width - TABLE_X);
            wattrset(w, A_NORMAL);
        }
        if (l->kind == LK_TEXT)
            draw_text(w, r, width, l, sel);
        else
            draw_cells(w, r, l, x, wd, theme(TH_SELECTED), sel);
    }
    free(L.l);
}

/* ---- text snapshot */

static void repl_text(const struct model *m, FILE *out)
{
    struct lines L;
    build(&L, m, -1, false);
    fprintf(out, "REPLICATION\n");
    int x[RC_N], wd[RC_N];
    layout(&L, 100000, x, wd, false);
    for (size_t i = 0; i < L.n; i++) {
        const struct rline *l = &L.l[i];
        if (l->kind == LK_TEXT) {
            fprintf(out, "%*s", 2 * l->indent, "");
            for (int k = 0; k < l->nseg; k++)
                fputs(l->seg[k].s, out);
            fputc('\n', out);
            continue;
        }
        fputs("  ", out);
        for (int c = 0; c < RC_N; c++) {
            if (c == RC_HIST) {
                char sp[LAG_RING_N + 1];
                fputs(l->kind == LK_HEAD ? l->cell[c] : spark_text(sp, sizeof sp, l->hist, l->nhist, 30, (double)m->cfg->th.repl_lag_bytes, false), out);
                continue;
            }
            fput_pad(out, l->cell[c], wd[c], cols[c].right);
            fputs("  ", out);
        }
        fputc('\n', out);
    }
    free(L.l);
}

/* ---- JSON snapshot */

static json_t *jlsn(lsn_t v)
{
    char b[32];
    return v ? json_string(lsn_format(b, sizeof b, v)) : json_null();
}

static json_t *jhist(const struct lag_ring *h)
{
    json_t *a = json_array();
    double v[LAG_RING_N];
    size_t n = h ? lag_ring_values(h, v, LAG_RING_N) : 0;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, jnum(v[i]));
    return a;
}

static json_t *sender_json(const struct model *m, const struct repl_cluster *c, int me, size_t k,
                           const struct repl_sender *r)
{
    json_t *j = json_object();
    const char *name = NULL;
    for (size_t i = 0; c && me >= 0 && i < c->n; i++)
        if (c->nodes[i].upstream == me && c->nodes[i].sender == (int)k)
            name = m->servers[c->nodes[i].server].conf->name;
    json_object_set_new(j, "server", jstr(name));
    json_object_set_new(j, "pid", json_integer(r->pid));
    json_object_set_new(j, "application_name", jstr(r->application_name));
    json_object_set_new(j, "client_addr", jstr(r->client_addr));
    json_object_set_new(j, "client_port", json_integer(r->client_port));
    json_object_set_new(j, "state", jstr(r->state));
    json_object_set_new(j, "sync_state", jstr(r->sync_state));
    json_object_set_new(j, "sync_priority", json_integer(r->sync_priority));
    json_object_set_new(j, "slot_name", jstr(r->slot_name));
    json_object_set_new(j, "slot_type", jstr(r->slot_type));
    json_object_set_new(j, "sent_lsn", jlsn(r->sent_lsn));
    json_object_set_new(j, "write_lsn", jlsn(r->write_lsn));
    json_object_set_new(j, "flush_lsn", jlsn(r->flush_lsn));
    json_object_set_new(j, "replay_lsn", jlsn(r->replay_lsn));
    json_object_set_new(j, "sent_lag_bytes", jnum(r->sent_lag_b));
    json_object_set_new(j, "write_lag_bytes", jnum(r->write_lag_b));
    json_object_set_new(j, "flush_lag_bytes", jnum(r->flush_lag_b));
    json_object_set_new(j, "replay_lag_bytes", jnum(r->replay_lag_b));
    json_object_set_new(j, "write_lag_s", jnum(r->write_lag_s));
    json_object_set_new(j, "flush_lag_s", jnum(r->flush_lag_s));
    json_object_set_new(j, "replay_lag_s", jnum(r->replay_lag_s));
    json_object_set_new(j, "reply_age_s", jnum(r->reply_age_s));
    json_object_set_new(j, "lag_history", jhist(&r->hist));
    return j;
}

static json_t *walrcv_json(const struct s_walreceiver *w)
{
    if (!w || !w->present)
        return json_null();
    json_t *j = json_object();
    json_object_set_new(j, "pid", json_integer(w->pid));
    json_object_set_new(j, "status", jstr(w->status));
    json_object_set_new(j, "sender_host", jstr(w->sender_host));
    json_object_set_new(j, "sender_port", json_integer(w->sender_port));
    json_object_set_new(j, "received_tli", json_integer(w->received_tli));
    json_object_set_new(j, "slot_name", jstr(w->slot_name));
    json_object_set_new(j, "application_name", jstr(w->app_name));
    json_object_set_new(j, "written_lsn", jlsn(w->written_lsn));
    json_object_set_new(j, "flushed_lsn", jlsn(w->flushed_lsn));
    json_object_set_new(j, "latest_end_lsn", jlsn(w->latest_end_lsn));
    json_object_set_new(j, "last_msg_age_s", jnum(w->last_msg_age_s));
    json_object_set_new(j, "latest_end_age_s", jnum(w->latest_end_age_s));
    return j;
}

static const char *sev_name(enum sev s)
{
    return s == SEV_CRIT ? "crit" : s == SEV_WARN ? "warn" : s == SEV_OK ? "ok" : "none";
}

static json_t *slots_json(const struct s_slots *sl, const struct thresholds *th)
{
    json_t *a = json_array();
    for (size_t i = 0; sl && i < sl->n; i++) {
        const struct slot_row *r = &sl->rows[i];
        json_t *j = json_object();
        json_object_set_new(j, "slot_name", jstr(r->slot_name));
        json_object_set_new(j, "slot_type", jstr(r->slot_type));
        json_object_set_new(j, "plugin", jstr(r->plugin));
        json_object_set_new(j, "database", jstr(r->database));
        json_object_set_new(j, "active", json_boolean(r->active));
        json_object_set_new(j, "active_pid", r->active_pid ? json_integer(r->active_pid) : json_null());
        json_object_set_new(j, "temporary", json_boolean(r->temporary));
        json_object_set_new(j, "wal_status", jstr(r->wal_status));
        json_object_set_new(j, "safe_wal_size", jnum(r->safe_wal_size));
        json_object_set_new(j, "restart_lsn", jlsn(r->restart_lsn));
        json_object_set_new(j, "confirmed_flush_lsn", jlsn(r->confirmed_flush_lsn));
        json_object_set_new(j, "retained_bytes", jnum(r->retained_b));
        json_object_set_new(j, "confirmed_lag_bytes", jnum(r->confirmed_lag_b));
        json_object_set_new(j, "xmin_age", jnum(r->xmin_age));
        json_object_set_new(j, "conflicting", json_boolean(r->conflicting));
        json_object_set_new(j, "invalidation_reason", jstr(r->invalidation_reason));
        json_object_set_new(j, "severity", json_string(sev_name(health_slot(r, th))));
        json_array_append_new(a, j);
    }
    return a;
}

static json_t *archiver_json(const struct s_archiver *a)
{
    if (!a)
        return json_null();
    json_t *j = json_object();
    json_object_set_new(j, "archive_mode", jstr(a->archive_mode));
    json_object_set_new(j, "archived_count", json_integer(a->archived_count));
    json_object_set_new(j, "failed_count", json_integer(a->failed_count));
    json_object_set_new(j, "last_archived_wal", jstr(a->last_archived_wal));
    json_object_set_new(j, "last_archived_age_s", jnum(a->last_archived_age_s));
    json_object_set_new(j, "last_failed_wal", jstr(a->last_failed_wal));
    json_object_set_new(j, "last_failed_age_s", jnum(a->last_failed_age_s));
    json_object_set_new(j, "stats_reset", jstr(a->stats_reset));
    json_object_set_new(j, "ready_count", a->ready_count >= 0 ? json_integer(a->ready_count) : json_null());
    json_object_set_new(j, "archived_per_s", jnum(a->archived_rate));
    json_object_set_new(j, "failed_per_s", jnum(a->failed_rate));
    json_object_set_new(j, "failing", json_boolean(a->failing));
    return j;
}

static void logical_json(const struct s_subscriptions *sb, json_t *o)
{
    json_t *subs = json_array(), *pubs = json_array();
    for (size_t i = 0; sb && i < sb->nsubs; i++) {
        const struct sub_row *r = &sb->subs[i];
        json_t *j = json_object();
        json_object_set_new(j, "name", jstr(r->name));
        json_object_set_new(j, "database", jstr(r->database));
        json_object_set_new(j, "slot_name", jstr(r->slot_name));
        json_object_set_new(j, "enabled", json_boolean(r->enabled));
        json_object_set_new(j, "pid", r->pid ? json_integer(r->pid) : json_null());
        json_object_set_new(j, "received_lsn", jlsn(r->received_lsn));
        json_object_set_new(j, "latest_end_lsn", jlsn(r->latest_end_lsn));
        json_object_set_new(j, "last_msg_age_s", jnum(r->last_msg_age_s));
        json_object_set_new(j, "latest_end_age_s", jnum(r->latest_end_age_s));
        json_object_set_new(j, "sync_workers", json_integer(r->sync_workers));
        json_object_set_new(j, "apply_error_count", r->apply_errors >= 0 ? json_integer(r->apply_errors) : json_null());
        json_object_set_new(j, "sync_error_count", r->sync_errors >= 0 ? json_integer(r->sync_errors) : json_null());
        json_array_append_new(subs, j);
    }
    for (size_t i = 0; sb && i < sb->npubs; i++) {
        json_t *j = json_object();
        json_object_set_new(j, "name", jstr(sb->pubs[i].name));
        json_object_set_new(j, "all_tables", json_boolean(sb->pubs[i].all_tables));
        json_object_set_new(j, "tables", json_integer(sb->pubs[i].tables));
        json_array_append_new(pubs, j);
    }
    json_object_set_new(o, "subscriptions", sb ? subs : (json_decref(subs), json_null()));
    json_object_set_new(o, "publications", sb ? pubs : (json_decref(pubs), json_null()));
}

static void repl_json(const struct model *m, const struct server *s, json_t *o)
{
    if (s->kind != KIND_POSTGRES || s->status == SRV_DOWN || !s->cur)
        return;
    const struct s_replication *r = repl_of(s);
    size_t idx = (size_t)(s - m->servers);
    struct repl_cluster *cs;
    size_t nc = repl_clusters(m, (long)idx, &cs);
    const struct repl_cluster *c = nc ? &cs[0] : NULL;
    int me = c ? repl_cluster_find(c, idx) : -1;
    json_t *j = json_object();
    json_object_set_new(j, "role", r ? json_string(r->in_recovery ? "replica" : "primary") : json_null());
    json_object_set_new(j, "system_identifier", jstr(r ? r->system_identifier : NULL));
    json_object_set_new(j, "system_identifier_why", jstr(r ? r->sysid_why : NULL));
    json_t *peers = json_array();
    for (size_t i = 0; c && c->sysid && i < c->n; i++)
        if ((int)i != me)
            json_array_append_new(peers, jstr(m->servers[c->nodes[i].server].conf->name));
    json_object_set_new(j, "cluster_peers", peers);
    if (r) {
        json_object_set_new(j, "timeline", r->timeline ? json_integer(r->timeline) : json_null());
        json_object_set_new(j, "cluster_name", jstr(r->cluster_name));
        json_object_set_new(j, "current_lsn", jlsn(r->current_lsn));
        json_object_set_new(j, "receive_lsn", jlsn(r->receive_lsn));
        json_object_set_new(j, "replay_lsn", jlsn(r->replay_lsn));
        json_object_set_new(j, "wal_bytes_per_s", jnum(r->wal_rate));
        json_object_set_new(j, "replay_paused", r->in_recovery ? json_boolean(r->replay_paused) : json_null());
        json_object_set_new(j, "pause_state", jstr(r->pause_state));
        json_object_set_new(j, "last_replay_age_s", jnum(r->last_replay_age_s));
        json_t *reps = json_array();
        for (size_t k = 0; k < r->nsenders; k++)
            json_array_append_new(reps, sender_json(m, c, me, k, &r->senders[k]));
        json_object_set_new(j, "replicas", reps);
        if (r->in_recovery && c && me >= 0) {
            struct repl_lag lag;
            repl_node_lag(m, c, (size_t)me, &lag);
            const struct repl_node *nd = &c->nodes[me];
            json_object_set_new(j, "upstream", nd->upstream >= 0
                                                   ? jstr(m->servers[c->nodes[nd->upstream].server].conf->name)
                                                   : json_null());
            json_object_set_new(j, "lag_bytes", jnum(lag.bytes));
            json_object_set_new(j, "lag_s", jnum(lag.seconds));
            json_object_set_new(j, "lag_source", json_string(lag.from_primary ? "primary" : "local"));
            json_object_set_new(j, "local_lag_bytes", jnum(r->local_lag_b));
            json_object_set_new(j, "local_lag_s", jnum(r->local_lag_s));
            json_object_set_new(j, "lag_history", jhist(&r->hist));
        }
    }
    json_object_set_new(j, "wal_receiver", walrcv_json(SAMPLE_WALRCV(s->cur)));
    json_object_set_new(j, "slots", SAMPLE_SLOTS(s->cur) ? slots_json(SAMPLE_SLOTS(s->cur), &m->cfg->th) : json_null());
    json_object_set_new(j, "archiver", archiver_json(SAMPLE_ARCHIVER(s->cur)));
    logical_json(SAMPLE_SUBS(s->cur), j);
    json_object_set_new(j, "worst_lag_bytes", jnum(repl_worst_lag_bytes(m, s)));
    json_object_set_new(j, "worst_lag_s", jnum(repl_lag_seconds(m, s)));
    json_object_set_new(j, "archiver_failing", json_boolean(archiver_failing(s)));
    repl_clusters_free(cs, nc);
    json_object_set_new(o, "replication", j);
}

const struct pane_class pane_replication = {
    .name = "replication",
    .title = "Replication",
    .draw = repl_draw,
    .footer = "arrows scroll  S scope",
    .ts = &ts,
    .json = repl_json,
    .text = repl_text,
};
