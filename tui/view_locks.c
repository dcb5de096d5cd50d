/* view_locks.c — what pane 3, Locks, shows, free of curses: the lock forest of every server (or
 * of the scoped one). Each root blocker shows its state (idle in transaction is the classic
 * culprit, flagged loudly), its transaction age, what it holds and how many sessions it blocks;
 * its waiters are indented under it with the lock they want, the relation, how long they have
 * waited, their query, and DDL marked. The pane draws these lines; the text snapshot prints
 * them as an indented listing (the JSON `lock_tree` is probes/snapjson_locks.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tui/sections.h"
#include "tui/view_locks.h"

/* Deeper levels than these are drawn with a "+N" marker instead of more indentation: on screen
 * the tree column must keep room for the pid; the text listing has no such limit but stays
 * readable. */
#define MAX_INDENT 6
#define TEXT_MAX_INDENT 24

/* ------------------------------------------------------------------------------ the view */

static void push(struct lview *lv, enum lkind k, size_t server, size_t item, char *note, enum sev sev)
{
    if (lv->n == lv->cap) {
        lv->cap = lv->cap ? lv->cap * 2 : 32;
        lv->v = xreallocarray(lv->v, lv->cap, sizeof *lv->v);
    }
    lv->v[lv->n++] = (struct lline){k, server, item, note, sev};
    lv->nnodes += k == L_NODE;
}

void locks_view_free(struct lview *lv)
{
    for (size_t i = 0; i < lv->n; i++)
        free(lv->v[i].note);
    free(lv->v);
    memset(lv, 0, sizeof *lv);
}

const struct s_locks *locks_of(const struct server *s)
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
    text_printf(&t, "%s: %zu session%s waiting, %zu blocking tree%s", name, f->nwaiting, f->nwaiting == 1 ? "" : "s",
                f->nroots, f->nroots == 1 ? "" : "s");
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
    if (l->n > LOCKS_HEAVY)
        text_add(&t, "; this tree every other refresh (lighter on the server)");
    if (!s->caps.pg_monitor && !s->caps.superuser)
        text_add(&t, "; only this role's sessions are visible (grant pg_monitor)");
    return t.s;
}

/* A session's line matches the filter: any of its cells, its whole query, user, database or
 * application. */
static bool node_matches(const struct model *m, const struct s_locks *l, size_t item, const char *filter)
{
    const struct lock_row *r = lock_item_row(l, item);
    if (r &&
        (contains_ci(r->query, filter) || contains_ci(r->usename, filter) || contains_ci(r->datname, filter) ||
         contains_ci(r->application_name, filter)))
        return true;
    struct node_cells nc;
    locks_cells(m, l, item, false, &nc);
    for (int c = 0; c < LC_N; c++)
        if (contains_ci(nc.c[c], filter))
            return true;
    return false;
}

/* The trees of a server's forest that the filter keeps (a whole tree, from its root, when any
 * of its sessions matches: the chain is what explains a wait), pushed after its summary. */
static size_t push_trees(const struct model *m, size_t si, const struct s_locks *l, const char *filter,
                         struct lview *lv)
{
    const struct lock_forest *f = &l->forest;
    bool all = !filter || !*filter || server_matches(&m->servers[si], filter);
    size_t kept = 0;
    for (size_t i = 0; i < f->nitems;) {
        size_t end = i + 1;
        while (end < f->nitems && f->items[end].depth > 0)
            end++;
        bool keep = all;
        for (size_t k = i; k < end && !keep; k++)
            keep = node_matches(m, l, k, filter);
        if (keep) {
            if (!kept) {
                enum sev sev = SEV_WARN;
                char *summary = server_summary(&m->servers[si], l, &sev);
                push(lv, L_SERVER, si, 0, summary, sev);
            }
            for (size_t k = i; k < end; k++)
                push(lv, L_NODE, si, k, NULL, SEV_NONE);
            kept++;
        }
        i = end;
    }
    return kept;
}

void locks_view_build(const struct model *m, long scope, const char *filter, struct lview *lv)
{
    memset(lv, 0, sizeof *lv);
    size_t *order = xcalloc(m->n + 1, sizeof *order);
    fleet_order(m, order);
    struct text calm, nodata;
    text_init(&calm);
    text_init(&nodata);
    size_t ncalm = 0, hidden = 0;
    for (size_t k = 0; k < m->n; k++) {
        size_t si = order[k];
        const struct server *s = &m->servers[si];
        if ((scope >= 0 && (size_t)scope != si) || s->kind != KIND_POSTGRES)
            continue;
        const struct s_locks *l = locks_of(s);
        char *name = esc(s->conf->name, 1);
        if (!l) {
            const char *why = s->status == SRV_DOWN  ? srv_status_name(s->status)
                : s->cur && s->cur->err[PROBE_LOCKS] ? s->cur->err[PROBE_LOCKS]
                                                     : "no sample yet";
            char *e = esc(why, 1);
            text_printf(&nodata, "%s%s (%s)", nodata.len ? ", " : "", name, e);
            free(e);
        } else if (l->forest.nitems == 0) {
            text_printf(&calm, "%s%s", calm.len ? ", " : "", name);
            ncalm++;
        } else if (!push_trees(m, si, l, filter, lv)) {
            hidden++;
        }
        free(name);
    }
    if (hidden && lv->nnodes == 0)
        push(lv, L_NOTE, 0, 0, xstrdup("no lock wait matches the filter (Esc clears it)"), SEV_WARN);
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

size_t locks_node_line(const struct lview *lv, int n)
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

bool locks_node_ref(const struct model *m, const struct lline *ln, struct session_ref *out)
{
    const struct s_locks *l = ln->kind == L_NODE ? locks_of(&m->servers[ln->server]) : NULL;
    const struct lock_row *r = l ? lock_item_row(l, ln->item) : NULL;
    return r && r->known && session_ref_make(out, ln->server, r->pid, r->backend_start);
}

int locks_find(const struct model *m, const struct lview *lv, const struct session_ref *r)
{
    int k = 0;
    struct session_ref id;
    for (size_t i = 0; i < lv->n; i++) {
        if (lv->v[i].kind != L_NODE)
            continue;
        if (lv->v[i].server == r->server && locks_node_ref(m, &lv->v[i], &id) && session_ref_eq(&id, r))
            return k;
        k++;
    }
    return -1;
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
        int k = snprintf(dst + o, len - o, "%s%d",
                         shown                ? ", "
                             : parent_pid < 0 ? "blocked by "
                                              : "also blocked by ",
                         r->blockers[b]);
        if (k < 0 || (size_t)k >= len - o)
            break;
        o += (size_t)k;
        shown++;
    }
    if (more && o < len)
        snprintf(dst + o, len - o, " +%zu", more);
}

/* "4242, 4250, 4251 +3": at most 6 pids, then how many more, into t. */
static void pid_list(struct text *t, int pid, size_t *shown, size_t *more)
{
    if (*shown == 6) {
        (*more)++;
        return;
    }
    text_printf(t, "%s%d%s", *shown ? ", " : "", pid, pid == 0 ? " (a prepared transaction)" : "");
    (*shown)++;
}

char *locks_blockers_text(const struct s_locks *l, size_t item)
{
    const struct lock_row *r = lock_item_row(l, item);
    struct text t;
    text_init(&t);
    size_t shown = 0, more = 0;
    for (size_t b = 0; r && b < r->nblockers; b++)
        if (r->blockers[b] != r->pid)
            pid_list(&t, r->blockers[b], &shown, &more);
    if (more)
        text_printf(&t, " +%zu", more);
    return t.s;
}

char *locks_waiters_text(const struct s_locks *l, size_t item)
{
    const struct lt_item *it = &l->forest.items[item];
    struct text t;
    text_init(&t);
    size_t shown = 0, more = 0;
    for (size_t i = 0; i < l->n; i++) {
        const struct lock_row *w = &l->rows[i];
        for (size_t b = 0; w->pid != it->pid && b < w->nblockers; b++)
            if (w->blockers[b] == it->pid) {
                pid_list(&t, w->pid, &shown, &more);
                break;
            }
    }
    if (more)
        text_printf(&t, " +%zu", more);
    size_t all = it->parent == LT_NONE ? it->blocked : it->subtree;
    if (shown && all > shown + more)
        text_printf(&t, " (%zu sessions in all, waiting behind them)", all);
    return t.s;
}

/* ------------------------------------------------------------------------- the columns */

const struct colspec lock_cols[LC_N] = {
    [LC_TREE] = {.title = "PID", .width = 30, .prio = 100, .numeric = true},
    [LC_FLAG] = {.title = "FLAG", .width = 5, .prio = 97},
    [LC_STATE] = {.title = "STATE", .width = 19, .prio = 96},
    [LC_LOCK] = {.title = "LOCK", .width = 21, .prio = 94},
    [LC_ON] = {.title = "ON", .width = 18, .prio = 80},
    [LC_AGE] = {.title = "AGE", .width = 11, .prio = 95, .right = true, .numeric = true},
    [LC_BLOCKS] = {.title = "BLOCKS", .width = 6, .prio = 90, .right = true, .numeric = true},
    [LC_QUERY] = {.title = "QUERY", .width = 20, .prio = 99, .flex = true},
};

void locks_cells(const struct model *m, const struct s_locks *l, size_t item, bool utf8, struct node_cells *nc)
{
    const struct lock_forest *f = &l->forest;
    const struct lt_item *it = &f->items[item];
    const struct lock_row *r = lock_item_row(l, item);
    bool root = it->parent == LT_NONE;
    char age[32], pre[MAX_INDENT * 8 + 16];
    memset(nc, 0, sizeof *nc);
    tree_prefix(f, item, utf8, pre, sizeof pre);
    snprintf(nc->c[LC_TREE], CELL_MAX, "%s%d", pre, it->pid);
    nc->sev[LC_TREE] = root ? SEV_CRIT : SEV_NONE;
    bool ddl = r && r->is_ddl;
    snprintf(nc->c[LC_FLAG], CELL_MAX, "%s", ddl && it->in_cycle ? "DDL*" : ddl ? "DDL" : it->in_cycle ? "CYCLE" : "");
    nc->sev[LC_FLAG] = SEV_CRIT;
    state_text(r, it->pid, nc->c[LC_STATE], CELL_MAX);
    nc->sev[LC_STATE] = lock_row_idle_in_xact(r) || !r || !r->known ? SEV_CRIT : root ? SEV_WARN : SEV_NONE;
    if (root && !(r && r->mode)) {
        if (r)
            strongest_hold(r, nc->c[LC_LOCK], CELL_MAX, nc->c[LC_ON], CELL_MAX);
        double xa = r ? r->xact_age : NAN;
        if (!isnan(xa))
            snprintf(nc->c[LC_AGE], CELL_MAX, "xact %s", fmt_age(age, sizeof age, xa));
        nc->sev[LC_AGE] = !isnan(xa) && xa * 1000 >= (double)m->cfg->th.idle_in_transaction_ms ? SEV_CRIT : SEV_WARN;
    } else if (r) {
        short_mode(nc->c[LC_LOCK], CELL_MAX, r->mode ? r->mode : "");
        lock_target(r, nc->c[LC_ON], CELL_MAX);
        if (!isnan(r->wait_s))
            snprintf(nc->c[LC_AGE], CELL_MAX, "wait %s", fmt_age(age, sizeof age, r->wait_s));
        nc->sev[LC_AGE] =
            !isnan(r->wait_s) && r->wait_s * 1000 >= (double)m->cfg->th.slow_query_ms ? SEV_WARN : SEV_NONE;
    }
    nc->sev[LC_LOCK] = r && r->mode && strcmp(r->mode, "AccessExclusiveLock") == 0 ? SEV_CRIT : SEV_NONE;
    size_t blocked = root ? it->blocked : it->subtree;
    if (blocked)
        snprintf(nc->c[LC_BLOCKS], CELL_MAX, "%zu", blocked);
    nc->sev[LC_BLOCKS] = root ? SEV_CRIT : SEV_WARN;
    char also[160];
    also_text(r, lock_forest_parent_pid(f, item), also, sizeof also);
    int o = snprintf(nc->c[LC_QUERY], CELL_MAX, "%s%s", also, also[0] ? " | " : "");
    if (o >= 0 && o < CELL_MAX - 1)
        one_line(nc->c[LC_QUERY] + o, (size_t)(CELL_MAX - o), r ? r->query : "");
}

/* Column positions for this width: natural widths (capped by the spec), then drop the lowest
 * priority columns until the row fits; the query takes what is left. */
void locks_layout(const struct model *m, const struct lview *lv, bool utf8, int width, int *x, int *wd)
{
    int nat[LC_N];
    for (int c = 0; c < LC_N; c++)
        nat[c] = (int)strlen(lock_cols[c].title);
    for (size_t i = 0; i < lv->n; i++) {
        if (lv->v[i].kind != L_SERVER)
            continue;
        int tw = tree_width(locks_of(&m->servers[lv->v[i].server]));
        if (tw > nat[LC_TREE])
            nat[LC_TREE] = tw;
    }
    /* other columns: sample the node lines (bounded work on huge forests) */
    size_t seen = 0;
    for (size_t i = 0; i < lv->n && seen < 2000; i++) {
        if (lv->v[i].kind != L_NODE)
            continue;
        seen++;
        struct node_cells nc;
        locks_cells(m, locks_of(&m->servers[lv->v[i].server]), lv->v[i].item, utf8, &nc);
        for (int c = LC_FLAG; c < LC_QUERY; c++) {
            int w = str_cols(nc.c[c]);
            if (w > nat[c])
                nat[c] = w;
        }
    }
    for (int c = 0; c < LC_N; c++)
        wd[c] = c == LC_QUERY ? lock_cols[c].width : nat[c] < lock_cols[c].width ? nat[c] : lock_cols[c].width;
    table_fit(lock_cols, LC_N, width, (1u << LC_TREE) | (1u << LC_QUERY), true, 0, x, wd);
}

/* ---------------------------------------------------------------------------- snapshot */

static void text_node(const struct model *m, const struct s_locks *l, size_t item, FILE *out)
{
    const struct lt_item *it = &l->forest.items[item];
    const struct lock_row *r = lock_item_row(l, item);
    struct node_cells nc;
    locks_cells(m, l, item, false, &nc);
    unsigned d = it->depth > TEXT_MAX_INDENT ? TEXT_MAX_INDENT : it->depth;
    fprintf(out, "%*s", 2 + 2 * (int)d, "");
    if (it->depth > TEXT_MAX_INDENT)
        fprintf(out, "+%u ", it->depth - TEXT_MAX_INDENT);
    fprintf(out, "%d %s%s%s", it->pid, nc.c[LC_FLAG], nc.c[LC_FLAG][0] ? " " : "", nc.c[LC_STATE]);
    if (it->parent == LT_NONE && !(r && r->mode)) {
        if (nc.c[LC_AGE][0])
            fprintf(out, ", %s", nc.c[LC_AGE]);
        if (r && r->holds) {
            char *h = esc(r->holds, 1);
            fprintf(out, ", holds %s%s", h, r->holds_n > 4 ? ", ..." : "");
            free(h);
        }
        fprintf(out, ", blocks %zu", it->blocked);
    } else if (r) {
        char age[32], mode[64];
        esc_into(mode, sizeof mode, r->mode ? r->mode : "?", 1);
        fprintf(out, ", waits %s for %s on %s", isnan(r->wait_s) ? "?" : fmt_age(age, sizeof age, r->wait_s), mode,
                nc.c[LC_ON]);
        if (it->subtree)
            fprintf(out, ", blocks %zu", it->subtree);
    }
    fprintf(out, ": %s\n", nc.c[LC_QUERY]);
}

void locks_text(const struct model *m, FILE *out)
{
    struct lview lv;
    locks_view_build(m, -1, NULL, &lv);
    fprintf(out, "LOCKS\n");
    for (size_t i = 0; i < lv.n; i++) {
        const struct lline *ln = &lv.v[i];
        if (ln->kind == L_NODE)
            text_node(m, locks_of(&m->servers[ln->server]), ln->item, out);
        else
            fprintf(out, "%s\n", ln->note);
    }
    locks_view_free(&lv);
}
