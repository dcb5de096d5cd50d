/* pane_locks.c — pane 3: the lock forest of every server (or of the scoped one). Each root
 * blocker shows its state (idle in transaction is the classic culprit, flagged loudly), its
 * transaction age, what it holds and how many sessions it blocks; its waiters are indented under
 * it with the lock they want, the relation, how long they have waited, their query, and DDL
 * marked. The selection moves over sessions and survives refreshes by pid; Enter opens the
 * Activity pane's detail view. Also this pane's text snapshot form: an indented listing (the
 * JSON `lock_tree` is probes/snapjson_locks.c). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "tui/screen.h"
#include "tui/sections.h"
#include "probes/sec_locks.h"

/* Deeper levels than these are drawn with a "+N" marker instead of more indentation: on screen
 * the tree column must keep room for the pid; the text listing has no such limit but stays
 * readable. */
#define MAX_INDENT 6
#define TEXT_MAX_INDENT 24

static struct table_state ts;
/* The selected session, found again by pid after each refresh (the forest's order changes). */
static size_t sel_server = SIZE_MAX;
static int sel_pid = -1;
static int drawn_sel = -1;

/* ------------------------------------------------------------------------------ the view */

enum lkind { L_SERVER, L_NODE, L_NOTE };

struct lline {
    enum lkind kind;
    size_t server, item;
    char *note;     /* L_SERVER, L_NOTE: escaped text */
    enum sev sev;
};

struct lview {
    struct lline *v;
    size_t n, cap, nnodes;
};

static void push(struct lview *lv, enum lkind k, size_t server, size_t item, char *note, enum sev sev)
{
    if (lv->n == lv->cap) {
        lv->cap = lv->cap ? lv->cap * 2 : 32;
        lv->v = xreallocarray(lv->v, lv->cap, sizeof *lv->v);
    }
    lv->v[lv->n++] = (struct lline){k, server, item, note, sev};
    lv->nnodes += k == L_NODE;
}

static void view_free(struct lview *lv)
{
    for (size_t i = 0; i < lv->n; i++)
        free(lv->v[i].note);
    free(lv->v);
    memset(lv, 0, sizeof *lv);
}

static const struct s_locks *server_locks(const struct server *s)
{
    if (s->kind != KIND_POSTGRES || s->status == SRV_DOWN)
        return NULL;
    return SAMPLE_LOCKS(s->cur);
}

/* "primary: 4 sessions wait, 1 blocker; cycle of waits; 1 blocker gone" */
static char *server_summary(const struct server *s, const struct s_locks *l, enum sev *sev)
{
    const struct lock_forest *f = &l->forest;
    struct text t;
    text_init(&t);
    char *name = esc(s->conf->name, 1);
    text_printf(&t, "%s: %zu session%s waiting, %zu blocking tree%s", name, f->nwaiting,
                f->nwaiting == 1 ? "" : "s", f->nroots, f->nroots == 1 ? "" : "s");
    free(name);
    *sev = SEV_WARN;
    if (f->ncycles) {
        text_printf(&t, "; %zu CYCLE%s of waits (deadlock in progress?)", f->ncycles, f->ncycles == 1 ? "" : "S");
        *sev = SEV_CRIT;
    }
    /* blockers with no session row: pid 0 stands for prepared transactions; others ended
     * between the probe's reads */
    size_t gone = 0, inferred = 0;
    bool prepared = false;
    for (size_t i = 0; i < f->nitems; i++) {
        const struct lock_row *r = lock_item_row(l, i);
        inferred += r && r->inferred;
        if (r && r->known)
            continue;
        if (f->items[i].pid == 0)
            prepared = true;
        else
            gone++;
    }
    if (prepared)
        text_add(&t, "; pid 0 is a prepared transaction (see pg_prepared_xacts)");
    if (gone)
        text_printf(&t, "; %zu blocker%s ended meanwhile", gone, gone == 1 ? "" : "s");
    if (inferred)
        text_printf(&t, "; %zu deep in long queues: blockers inferred", inferred);
    if (!s->caps.pg_monitor && !s->caps.superuser)
        text_add(&t, "; only this role's sessions are visible (grant pg_monitor)");
    return t.s;
}

static void view_build(const struct model *m, long scope, struct lview *lv)
{
    memset(lv, 0, sizeof *lv);
    size_t *order = xcalloc(m->n + 1, sizeof *order);
    fleet_order(m, order);
    struct text calm, nodata;
    text_init(&calm);
    text_init(&nodata);
    size_t ncalm = 0;
    for (size_t k = 0; k < m->n; k++) {
        size_t si = order[k];
        const struct server *s = &m->servers[si];
        if ((scope >= 0 && (size_t)scope != si) || s->kind != KIND_POSTGRES)
            continue;
        const struct s_locks *l = server_locks(s);
        char *name = esc(s->conf->name, 1);
        if (!l) {
            const char *why = s->status == SRV_DOWN ? srv_status_name(s->status)
                              : s->cur && s->cur->err[PROBE_LOCKS] ? s->cur->err[PROBE_LOCKS] : "no sample yet";
            char *e = esc(why, 1);
            text_printf(&nodata, "%s%s (%s)", nodata.len ? ", " : "", name, e);
            free(e);
        } else if (l->forest.nitems == 0) {
            text_printf(&calm, "%s%s", calm.len ? ", " : "", name);
            ncalm++;
        } else {
            enum sev sev = SEV_WARN;
            char *summary = server_summary(s, l, &sev);
            push(lv, L_SERVER, si, 0, summary, sev);
            for (size_t i = 0; i < l->forest.nitems; i++)
                push(lv, L_NODE, si, i, NULL, SEV_NONE);
        }
        free(name);
    }
    if (ncalm)
        push(lv, L_NOTE, 0, 0, xasprintf("no lock waits: %s", calm.s), SEV_DIM);
    if (nodata.len)
        push(lv, L_NOTE, 0, 0, xasprintf("no lock data: %s", nodata.s), SEV_WARN);
    if (lv->n == 0)
        push(lv, L_NOTE, 0, 0, xstrdup("no lock waits"), SEV_DIM);
    text_free(&calm);
    text_free(&nodata);
    free(order);
}

/* Line index of the n-th node line, or of the last one. */
static size_t node_line(const struct lview *lv, int n)
{
    size_t last = 0;
    for (size_t i = 0; i < lv->n; i++) {
        if (lv->v[i].kind != L_NODE)
            continue;
        last = i;
        if (n-- == 0)
            return i;
    }
    return last;
}

/* The ordinal among node lines of the session (server, pid), or -1. */
static int find_node(const struct model *m, const struct lview *lv, size_t server, int pid)
{
    int k = 0;
    for (size_t i = 0; i < lv->n; i++) {
        if (lv->v[i].kind != L_NODE)
            continue;
        const struct s_locks *l = server_locks(&m->servers[lv->v[i].server]);
        if (lv->v[i].server == server && l && l->forest.items[lv->v[i].item].pid == pid)
            return k;
        k++;
    }
    return -1;
}

/* Keep the selection on the same session across refreshes unless a key moved it. */
static void sync_selection(const struct model *m, const struct lview *lv)
{
    if (lv->nnodes == 0) {
        ts.sel = 0;
        drawn_sel = 0;
        return;
    }
    if (ts.sel == drawn_sel && sel_pid >= 0) {
        int k = find_node(m, lv, sel_server, sel_pid);
        if (k >= 0)
            ts.sel = k;
    }
    if (ts.sel >= (int)lv->nnodes)
        ts.sel = (int)lv->nnodes - 1;
    if (ts.sel < 0)
        ts.sel = 0;
    const struct lline *ln = &lv->v[node_line(lv, ts.sel)];
    sel_server = ln->server;
    sel_pid = server_locks(&m->servers[ln->server])->forest.items[ln->item].pid;
    drawn_sel = ts.sel;
}

/* ------------------------------------------------------------------------- node texts */

/* "├─ " and friends for an item, MAX_INDENT levels at most ("+N" says how many are hidden). */
static void tree_prefix(const struct lock_forest *f, size_t item, bool utf8, char *buf, size_t len)
{
    const char *bar = utf8 ? "\xe2\x94\x82  " : "|  ", *tee = utf8 ? "\xe2\x94\x9c\xe2\x94\x80 " : "|- ";
    const char *ell = utf8 ? "\xe2\x94\x94\xe2\x94\x80 " : "`- ";
    unsigned d = f->items[item].depth;
    buf[0] = '\0';
    if (d == 0)
        return;
    unsigned shown = d > MAX_INDENT ? MAX_INDENT : d;
    const char *part[MAX_INDENT];
    size_t it = item;
    for (unsigned k = shown; k-- > 0;) {
        bool last = f->items[it].last;
        part[k] = k == shown - 1 ? (last ? ell : tee) : (last ? "   " : bar);
        it = f->items[it].parent;
    }
    size_t o = 0;
    if (d > shown)
        o = (size_t)snprintf(buf, len, "+%u ", d - shown);
    for (unsigned k = 0; k < shown && o < len; k++)
        o += (size_t)snprintf(buf + o, len - o, "%s", part[k]);
}

/* Display width of the tree column: computed from depths alone, so it costs O(n). */
static int tree_width(const struct s_locks *l)
{
    int w = 3;
    for (size_t i = 0; i < l->forest.nitems; i++) {
        const struct lt_item *it = &l->forest.items[i];
        unsigned d = it->depth > MAX_INDENT ? MAX_INDENT : it->depth;
        int x = (int)d * 3 + snprintf(NULL, 0, "%d", it->pid);
        if (it->depth > MAX_INDENT)
            x += snprintf(NULL, 0, "+%u ", it->depth - MAX_INDENT);
        if (x > w)
            w = x;
    }
    return w;
}

/* "AccessExclusiveLock" → "AccessExclusive": the suffix repeats on every line. */
static void short_mode(char *dst, size_t len, const char *mode)
{
    size_t n = strlen(mode);
    if (n > 4 && strcmp(mode + n - 4, "Lock") == 0)
        n -= 4;
    char *raw = xstrndup(mode, n);
    esc_into(dst, len, raw, 1);
    free(raw);
}

/* The strongest held lock, split for the LOCK and ON columns: "RowExclusiveLock on x, …". */
static void strongest_hold(const struct lock_row *r, char *mode, size_t mlen, char *on, size_t olen)
{
    mode[0] = on[0] = '\0';
    if (!r->holds || !*r->holds)
        return;
    size_t first = strcspn(r->holds, ",");
    char *h = xstrndup(r->holds, first);
    char *sep = strstr(h, " on ");
    if (sep) {
        *sep = '\0';
        char m[64];
        short_mode(m, sizeof m, h);
        snprintf(mode, mlen, "holds %s", m);
        esc_into(on, olen, sep + 4, 1);
    } else {
        esc_into(on, olen, h, 1);
    }
    if (r->holds_n > 1) {
        size_t o = strlen(on);
        snprintf(on + o, olen - o, " +%d", r->holds_n - 1);
    }
    free(h);
}

/* What a waiter waits for: the relation; "(row)" when it waits for a row lock (a tuple, or the
 * transaction that holds the row); the lock type when there is no relation. */
static void lock_target(const struct lock_row *r, char *dst, size_t len)
{
    const char *lt = r->locktype ? r->locktype : "";
    bool row = strcmp(lt, "tuple") == 0 || strcmp(lt, "transactionid") == 0;
    char *raw = r->relation ? xasprintf("%s%s", r->relation, row ? " (row)" : "")
                            : xstrdup(strcmp(lt, "transactionid") == 0 ? "transaction" : lt);
    esc_into(dst, len, raw, 1);
    free(raw);
}

static const char *missing_state(int pid) { return pid == 0 ? "prepared xact" : "ended"; }

static void state_text(const struct lock_row *r, int pid, char *dst, size_t len)
{
    if (!r || !r->known) {
        snprintf(dst, len, "%s", missing_state(pid));
        return;
    }
    if (lock_row_idle_in_xact(r)) {
        size_t o = 0;
        for (const char *p = r->state; *p && o + 1 < len; p++)
            dst[o++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        dst[o] = '\0';
        return;
    }
    esc_into(dst, len, r->state ? r->state : "?", 1);
}

/* "also blocked by 1, 2, 3 +5" (raw pids, no escaping needed) into dst. */
static void also_text(const struct lock_row *r, int parent_pid, char *dst, size_t len)
{
    size_t o = 0, shown = 0, more = 0;
    dst[0] = '\0';
    for (size_t b = 0; r && b < r->nblockers; b++) {
        if (r->blockers[b] == parent_pid || r->blockers[b] == r->pid)
            continue;
        if (shown == 4) {
            more++;
            continue;
        }
        int k = snprintf(dst + o, len - o, "%s%d", shown ? ", " : parent_pid < 0 ? "blocked by " : "also blocked by ",
                         r->blockers[b]);
        if (k < 0 || (size_t)k >= len - o)
            break;
        o += (size_t)k;
        shown++;
    }
    if (more && o < len)
        snprintf(dst + o, len - o, " +%zu", more);
}

/* ------------------------------------------------------------------------- the columns */

enum lcol { K_TREE, K_FLAG, K_STATE, K_LOCK, K_ON, K_AGE, K_BLOCKS, K_QUERY, K_N };
static const struct colspec lcols[K_N] = {
    [K_TREE] = {.title = "PID", .width = 30, .prio = 100, .numeric = true},
    [K_FLAG] = {.title = "FLAG", .width = 5, .prio = 97},
    [K_STATE] = {.title = "STATE", .width = 19, .prio = 96},
    [K_LOCK] = {.title = "LOCK", .width = 21, .prio = 94},
    [K_ON] = {.title = "ON", .width = 18, .prio = 80},
    [K_AGE] = {.title = "AGE", .width = 11, .prio = 95, .right = true, .numeric = true},
    [K_BLOCKS] = {.title = "BLOCKS", .width = 6, .prio = 90, .right = true, .numeric = true},
    [K_QUERY] = {.title = "QUERY", .width = 20, .prio = 99, .flex = true},
};

struct node_cells {
    char c[K_N][CELL_MAX];
    enum sev sev[K_N];
};

static void node_cells(const struct model *m, const struct s_locks *l, size_t item, bool utf8,
                       struct node_cells *nc)
{
    const struct lock_forest *f = &l->forest;
    const struct lt_item *it = &f->items[item];
    const struct lock_row *r = lock_item_row(l, item);
    bool root = it->parent == LT_NONE;
    char age[32], pre[MAX_INDENT * 8 + 16];
    memset(nc, 0, sizeof *nc);
    tree_prefix(f, item, utf8, pre, sizeof pre);
    snprintf(nc->c[K_TREE], CELL_MAX, "%s%d", pre, it->pid);
    nc->sev[K_TREE] = root ? SEV_CRIT : SEV_NONE;
    bool ddl = r && r->is_ddl;
    snprintf(nc->c[K_FLAG], CELL_MAX, "%s", ddl && it->in_cycle ? "DDL*" : ddl ? "DDL" : it->in_cycle ? "CYCLE" : "");
    nc->sev[K_FLAG] = SEV_CRIT;
    state_text(r, it->pid, nc->c[K_STATE], CELL_MAX);
    nc->sev[K_STATE] = lock_row_idle_in_xact(r) || !r || !r->known ? SEV_CRIT : root ? SEV_WARN : SEV_NONE;
    if (root && !(r && r->mode)) {
        if (r)
            strongest_hold(r, nc->c[K_LOCK], CELL_MAX, nc->c[K_ON], CELL_MAX);
        double xa = r ? r->xact_age : NAN;
        if (!isnan(xa))
            snprintf(nc->c[K_AGE], CELL_MAX, "xact %s", fmt_age(age, sizeof age, xa));
        nc->sev[K_AGE] = !isnan(xa) && xa * 1000 >= (double)m->cfg->th.idle_in_transaction_ms ? SEV_CRIT : SEV_WARN;
    } else if (r) {
        short_mode(nc->c[K_LOCK], CELL_MAX, r->mode ? r->mode : "");
        lock_target(r, nc->c[K_ON], CELL_MAX);
        if (!isnan(r->wait_s))
            snprintf(nc->c[K_AGE], CELL_MAX, "wait %s", fmt_age(age, sizeof age, r->wait_s));
        nc->sev[K_AGE] = !isnan(r->wait_s) && r->wait_s * 1000 >= (double)m->cfg->th.slow_query_ms ? SEV_WARN : SEV_NONE;
    }
    nc->sev[K_LOCK] = r && r->mode && strcmp(r->mode, "AccessExclusiveLock") == 0 ? SEV_CRIT : SEV_NONE;
    size_t blocked = root ? it->blocked : it->subtree;
    if (blocked)
        snprintf(nc->c[K_BLOCKS], CELL_MAX, "%zu", blocked);
    nc->sev[K_BLOCKS] = root ? SEV_CRIT : SEV_WARN;
    char also[160];
    also_text(r, lock_forest_parent_pid(f, item), also, sizeof also);
    int o = snprintf(nc->c[K_QUERY], CELL_MAX, "%s%s", also, also[0] ? " | " : "");
    if (o >= 0 && o < CELL_MAX - 1)
        one_line(nc->c[K_QUERY] + o, (size_t)(CELL_MAX - o), r ? r->query : "");
}

/* Column positions for this width: natural widths (capped by the spec), then drop the lowest
 * priority columns until the row fits; the query takes what is left. */
static void layout(const struct model *m, const struct lview *lv, bool utf8, int width, int *x, int *wd)
{
    int nat[K_N];
    for (int c = 0; c < K_N; c++)
        nat[c] = (int)strlen(lcols[c].title);
    for (size_t i = 0; i < lv->n; i++) {
        if (lv->v[i].kind != L_SERVER)
            continue;
        int tw = tree_width(server_locks(&m->servers[lv->v[i].server]));
        if (tw > nat[K_TREE])
            nat[K_TREE] = tw;
    }
    /* other columns: sample the node lines (bounded work on huge forests) */
    size_t seen = 0;
    for (size_t i = 0; i < lv->n && seen < 2000; i++) {
        if (lv->v[i].kind != L_NODE)
            continue;
        seen++;
        struct node_cells nc;
        node_cells(m, server_locks(&m->servers[lv->v[i].server]), lv->v[i].item, utf8, &nc);
        for (int c = K_FLAG; c < K_QUERY; c++) {
            int w = str_cols(nc.c[c]);
            if (w > nat[c])
                nat[c] = w;
        }
    }
    for (int c = 0; c < K_N; c++)
        wd[c] = c == K_QUERY ? lcols[c].width : nat[c] < lcols[c].width ? nat[c] : lcols[c].width;
    table_fit(lcols, K_N, width, (1u << K_TREE) | (1u << K_QUERY), true, 0, x, wd);
}

/* ----------------------------------------------------------------------------- drawing */

static void draw_node(WINDOW *w, int y, const struct node_cells *nc, const int *x, const int *wd, bool sel)
{
    if (sel) {
        wattrset(w, theme(TH_SELECTED));
        mvwhline(w, y, 0, ' ', getmaxx(w));
    }
    for (int c = 0; c < K_N; c++) {
        if (x[c] < 0)
            continue;
        attr_t a = sel ? theme(TH_SELECTED) | (nc->sev[c] == SEV_CRIT ? A_BOLD : 0) : theme_sev(nc->sev[c]);
        if (!nc->c[c][0])
            continue;
        int vx = x[c];
        if (lcols[c].right) {
            int l = str_cols(nc->c[c]);
            if (l < wd[c])
                vx += wd[c] - l;
        }
        put_clipped(w, y, vx, x[c] + wd[c] - vx, nc->c[c], a);
    }
}

static void title_row(WINDOW *w, const int *x, const int *wd)
{
    int width = getmaxx(w);
    wattrset(w, theme(TH_TITLE));
    mvwhline(w, 0, 0, ' ', width);
    for (int c = 0; c < K_N; c++) {
        if (x[c] < 0)
            continue;
        char t[64];
        if (lcols[c].right)
            snprintf(t, sizeof t, "%*s", wd[c], lcols[c].title);
        else
            snprintf(t, sizeof t, "%s", lcols[c].title);
        put_clipped(w, 0, x[c], wd[c], t, theme(TH_TITLE));
    }
}

static void locks_draw(struct tui *t, WINDOW *w)
{
    struct lview lv;
    view_build(t->m, t->scope, &lv);
    sync_selection(t->m, &lv);
    int h, width;
    getmaxyx(w, h, width);
    bool utf8 = utf8_locale();
    int x[K_N], wd[K_N];
    layout(t->m, &lv, utf8, width, x, wd);
    title_row(w, x, wd);
    int body = h - 1;
    size_t sel_line = lv.nnodes ? node_line(&lv, ts.sel) : 0;
    /* keep the selection in view, with its server's header when it is the first node */
    size_t want_top = sel_line > 0 && lv.v[sel_line - 1].kind == L_SERVER ? sel_line - 1 : sel_line;
    if (ts.top < 0 || (size_t)ts.top > want_top)
        ts.top = (int)want_top;
    if (body > 0 && sel_line >= (size_t)ts.top + (size_t)body)
        ts.top = (int)(sel_line - (size_t)body + 1);
    if (ts.top > 0 && (size_t)ts.top + (size_t)body > lv.n)
        ts.top = lv.n > (size_t)body ? (int)(lv.n - (size_t)body) : 0;
    int node_ix = 0;
    for (size_t i = 0; i < (size_t)ts.top && i < lv.n; i++)
        node_ix += lv.v[i].kind == L_NODE;
    for (int r = 0; r < body && (size_t)ts.top + (size_t)r < lv.n; r++) {
        const struct lline *ln = &lv.v[(size_t)ts.top + (size_t)r];
        if (ln->kind == L_NODE) {
            struct node_cells nc;
            node_cells(t->m, server_locks(&t->m->servers[ln->server]), ln->item, utf8, &nc);
            draw_node(w, r + 1, &nc, x, wd, lv.nnodes && node_ix == ts.sel);
            node_ix++;
        } else {
            attr_t a = ln->kind == L_SERVER ? theme(TH_HEADER) | theme_sev(ln->sev) : theme_sev(ln->sev);
            put_clipped(w, r + 1, ln->kind == L_SERVER ? 0 : 1, width - 1, ln->note, a);
        }
    }
    view_free(&lv);
}

/* ------------------------------------------------------------------------ keys, selection */

/* What the user saw highlighted: the session drawn as selected, found again by pid in the
 * current sample (false if it has gone), unless a key moved the selection since the last
 * frame, in which case the moved-to line of the current view. */
static bool locks_selected(struct tui *t, size_t *server, int *pid, const char **backend_start)
{
    struct lview lv;
    view_build(t->m, t->scope, &lv);
    int sel = -1;
    if (lv.nnodes && ts.sel == drawn_sel && sel_pid >= 0)
        sel = find_node(t->m, &lv, sel_server, sel_pid);
    else if (lv.nnodes)
        sel = ts.sel < 0 ? 0 : ts.sel >= (int)lv.nnodes ? (int)lv.nnodes - 1 : ts.sel;
    if (sel >= 0) {
        const struct lline *ln = &lv.v[node_line(&lv, sel)];
        const struct s_locks *l = server_locks(&t->m->servers[ln->server]);
        const struct lock_row *r = lock_item_row(l, ln->item);
        *server = ln->server;
        *pid = l->forest.items[ln->item].pid;
        *backend_start = r && r->known ? r->backend_start : NULL;
    }
    view_free(&lv);
    return sel >= 0;
}

static bool in_activity(const struct model *m, size_t server, int pid, const char *bstart)
{
    const struct s_activity *a = SAMPLE_ACTIVITY(m->servers[server].cur);
    for (size_t i = 0; a && bstart && i < a->n; i++)
        if (a->rows[i].pid == pid && a->rows[i].backend_start && strcmp(a->rows[i].backend_start, bstart) == 0)
            return true;
    return false;
}

/* c / k on a node: the session the user sees highlighted, with how many it blocks. The
 * activity row when there is one (it has query_start, the cancel guard); else the lock row
 * (a plain idle session holding a lock is not in the activity list). */
static struct key_result act_on_node(struct tui *t, enum command cmd)
{
    size_t server;
    int pid;
    const char *bstart;
    if (!locks_selected(t, &server, &pid, &bstart)) {
        tui_message(t, "no lock waits: nothing to act on");
        return KEY_DONE(true);
    }
    if (!bstart) {
        tui_message(t, pid == 0 ? "pid 0 is a prepared transaction: COMMIT or ROLLBACK PREPARED it"
                                : "session %d has ended", pid);
        return KEY_DONE(true);
    }
    const struct s_locks *l = server_locks(&t->m->servers[server]);
    size_t item = l ? lock_forest_find(&l->forest, pid) : (size_t)-1;
    const struct lock_row *lr = l && item < l->forest.nitems ? lock_item_row(l, item) : NULL;
    int blocks = l && item < l->forest.nitems ? (int)l->forest.items[item].blocked : 0;
    const struct s_activity *a = SAMPLE_ACTIVITY(t->m->servers[server].cur);
    struct job_target facts;
    bool found = false;
    for (size_t i = 0; a && i < a->n && !found; i++)
        if (a->rows[i].pid == pid && a->rows[i].backend_start && strcmp(a->rows[i].backend_start, bstart) == 0) {
            target_from_activity(&facts, &a->rows[i]);
            found = true;
        }
    if (!found && lr) {
        target_from_lock(&facts, lr);
        found = true;
    }
    if (!found) {
        tui_message(t, "session %d: not in the current sample", pid);
        return KEY_DONE(true);
    }
    facts.blocks = blocks;
    struct ui_target tg = {server, &facts};
    return ui_request_action(t, cmd == CMD_CANCEL ? &action_cancel : &action_terminate, &tg, 1)
               ? KEY_MODAL(MODAL_CONFIRM) : KEY_DONE(true);
}

static struct key_result locks_key(struct tui *t, enum command cmd)
{
    if (cmd == CMD_CANCEL || cmd == CMD_TERMINATE)
        return act_on_node(t, cmd);
    if (cmd != CMD_ENTER)
        return KEY_DONE(false);
    size_t server;
    int pid;
    const char *bstart;
    if (!locks_selected(t, &server, &pid, &bstart))
        return KEY_DONE(true);
    if (!bstart) {
        tui_message(t, pid == 0 ? "pid 0 is a prepared transaction: see pg_prepared_xacts"
                                : "session %d has ended", pid);
        return KEY_DONE(true);
    }
    /* The detail view reads the activity sample; a plain idle session (holding a session-level
     * advisory lock, say) is only there when idle sessions are shown. */
    if (!in_activity(t->m, server, pid, bstart)) {
        tui_message(t, t->m->opts.idle ? "session %d is not in the activity list yet (next refresh)"
                                       : "session %d is idle: press i to show idle sessions, then Enter", pid);
        return KEY_DONE(true);
    }
    return session_ref_make(&t->detail, server, pid, bstart) ? KEY_MODAL(MODAL_DETAIL) : KEY_DONE(true);
}

/* ---------------------------------------------------------------------------- snapshot */

static void text_node(const struct model *m, const struct s_locks *l, size_t item, FILE *out)
{
    const struct lt_item *it = &l->forest.items[item];
    const struct lock_row *r = lock_item_row(l, item);
    struct node_cells nc;
    node_cells(m, l, item, false, &nc);
    unsigned d = it->depth > TEXT_MAX_INDENT ? TEXT_MAX_INDENT : it->depth;
    fprintf(out, "%*s", 2 + 2 * (int)d, "");
    if (it->depth > TEXT_MAX_INDENT)
        fprintf(out, "+%u ", it->depth - TEXT_MAX_INDENT);
    fprintf(out, "%d %s%s%s", it->pid, nc.c[K_FLAG], nc.c[K_FLAG][0] ? " " : "", nc.c[K_STATE]);
    if (it->parent == LT_NONE && !(r && r->mode)) {
        if (nc.c[K_AGE][0])
            fprintf(out, ", %s", nc.c[K_AGE]);
        if (r && r->holds) {
            char *h = esc(r->holds, 1);
            fprintf(out, ", holds %s%s", h, r->holds_n > 4 ? ", ..." : "");
            free(h);
        }
        fprintf(out, ", blocks %zu", it->blocked);
    } else if (r) {
        char age[32], mode[64];
        esc_into(mode, sizeof mode, r->mode ? r->mode : "?", 1);
        fprintf(out, ", waits %s for %s on %s", isnan(r->wait_s) ? "?" : fmt_age(age, sizeof age, r->wait_s),
                mode, nc.c[K_ON]);
        if (it->subtree)
            fprintf(out, ", blocks %zu", it->subtree);
    }
    fprintf(out, ": %s\n", nc.c[K_QUERY]);
}

void locks_text(const struct model *m, FILE *out)
{
    struct lview lv;
    view_build(m, -1, &lv);
    fprintf(out, "LOCKS\n");
    for (size_t i = 0; i < lv.n; i++) {
        const struct lline *ln = &lv.v[i];
        if (ln->kind == L_NODE)
            text_node(m, server_locks(&m->servers[ln->server]), ln->item, out);
        else
            fprintf(out, "%s\n", ln->note);
    }
    view_free(&lv);
}

const struct pane_class pane_locks = {
    .name = "locks",
    .title = "Locks",
    .draw = locks_draw,
    .key = locks_key,
    .footer = "k terminate the selected (root: one key)  c cancel  Enter details  S scope",
    .ts = &ts,
};
