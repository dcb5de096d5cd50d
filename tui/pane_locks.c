/* pane_locks.c — pane 3, Locks: the lock forest of every server (or of the scoped one; the filter
 * keeps whole trees), whose lines view_locks.c builds, drawn as a table; the selection names a
 * session, not a line, and stays on it across refreshes while the forest's order changes. c
 * cancels and K terminates the selected session (a root: what it blocks goes on); Enter opens
 * the Activity pane's detail view of it. */
#include <stdlib.h>

#include "actions/action.h"
#include "tui/screen.h"
#include "tui/view_locks.h"

/* The pane's state: the table's place (ts.sel: the ordinal among the session lines) and the
 * selected session by identity, so a key never acts on a neighbour that slid under the cursor. */
static struct locks_pane {
    struct table_state ts;
    bool has_sel; /* sel names the selected session (false: none, or a line with no
                              * identity: a prepared transaction, a blocker already gone) */
    struct session_ref sel;
} P;

/* Find the selected session's line again (ts.sel); lost when it has ended. Only a frame (adopt)
 * takes the line under the cursor as the selection: what the user saw. A session still running
 * but no longer in the forest (its wait is over) or out of scope leaves the line now under the
 * cursor selected. */
static void sync(struct tui *t, const struct lview *lv, bool adopt)
{
    P.ts.lost = false;
    if (P.has_sel) {
        int k = locks_find(t->m, lv, &P.sel);
        if (k >= 0) {
            P.ts.sel = k;
            return;
        }
        if (!adopt || !session_row(t->m, &P.sel)) {
            P.ts.lost = true;
            return;
        }
    }
    if (!adopt)
        return;
    if (P.ts.sel >= (int)lv->nnodes)
        P.ts.sel = (int)lv->nnodes - 1;
    if (P.ts.sel < 0)
        P.ts.sel = 0;
    P.has_sel = lv->nnodes && locks_node_ref(t->m, &lv->v[locks_node_line(lv, P.ts.sel)], &P.sel);
}

static char *sel_server_name(const struct tui *t)
{
    return esc(P.sel.server < t->m->n ? t->m->servers[P.sel.server].conf->name : "?", 1);
}

/* The selected session's line for a key, or NULL with the reason in the message line. */
static const struct lline *selected(struct tui *t, const struct lview *lv)
{
    sync(t, lv, false);
    if (P.ts.lost) {
        char *e = sel_server_name(t);
        tui_message(t, "session %d on %s %s: nothing done (select another)", P.sel.pid, e,
                    session_row(t->m, &P.sel) ? "is no longer listed" : "has ended");
        free(e);
        return NULL;
    }
    if (lv->nnodes == 0) {
        tui_message(t, "no lock waits: nothing to act on");
        return NULL;
    }
    int k = P.ts.sel < 0 ? 0 : P.ts.sel >= (int)lv->nnodes ? (int)lv->nnodes - 1 : P.ts.sel;
    return &lv->v[locks_node_line(lv, k)];
}

/* ----------------------------------------------------------------------------- drawing */

static void draw_node(WINDOW *w, int y, const struct node_cells *nc, const int *x, const int *wd, bool sel)
{
    if (sel) {
        wattrset(w, theme(TH_SELECTED));
        mvwhline(w, y, 0, ' ', getmaxx(w));
    }
    for (int c = 0; c < LC_N; c++) {
        if (x[c] < 0)
            continue;
        attr_t a = sel ? theme(TH_SELECTED) | (nc->sev[c] == SEV_CRIT ? A_BOLD : 0) : theme_sev(nc->sev[c]);
        if (!nc->c[c][0])
            continue;
        int vx = x[c];
        if (lock_cols[c].right) {
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
    for (int c = 0; c < LC_N; c++) {
        if (x[c] < 0)
            continue;
        char t[64];
        if (lock_cols[c].right)
            snprintf(t, sizeof t, "%*s", wd[c], lock_cols[c].title);
        else
            snprintf(t, sizeof t, "%s", lock_cols[c].title);
        put_clipped(w, 0, x[c], wd[c], t, theme(TH_TITLE));
    }
}

static void locks_draw(struct tui *t, WINDOW *w)
{
    struct lview lv;
    locks_view_build(t->m, t->scope, t->filter, &lv);
    sync(t, &lv, true);
    int h, width;
    getmaxyx(w, h, width);
    bool utf8 = utf8_locale();
    int x[LC_N], wd[LC_N];
    locks_layout(t->m, &lv, utf8, width, x, wd);
    title_row(w, x, wd);
    bool note = P.ts.lost && h > 2; /* the last line says the selected session ended */
    int body = h - 1 - note;
    size_t sel_line = lv.nnodes ? locks_node_line(&lv, P.ts.sel) : 0;
    /* keep the selection in view, with its server's header when it is the first node */
    size_t want_top = sel_line > 0 && lv.v[sel_line - 1].kind == L_SERVER ? sel_line - 1 : sel_line;
    if (P.ts.top < 0 || (size_t)P.ts.top > want_top)
        P.ts.top = (int)want_top;
    if (body > 0 && sel_line >= (size_t)P.ts.top + (size_t)body)
        P.ts.top = (int)(sel_line - (size_t)body + 1);
    if (P.ts.top > 0 && (size_t)P.ts.top + (size_t)body > lv.n)
        P.ts.top = lv.n > (size_t)body ? (int)(lv.n - (size_t)body) : 0;
    int node_ix = 0;
    for (size_t i = 0; i < (size_t)P.ts.top && i < lv.n; i++)
        node_ix += lv.v[i].kind == L_NODE;
    for (int r = 0; r < body && (size_t)P.ts.top + (size_t)r < lv.n; r++) {
        const struct lline *ln = &lv.v[(size_t)P.ts.top + (size_t)r];
        if (ln->kind == L_NODE) {
            struct node_cells nc;
            locks_cells(t->m, locks_of(&t->m->servers[ln->server]), ln->item, utf8, &nc);
            draw_node(w, r + 1, &nc, x, wd, !P.ts.lost && node_ix == P.ts.sel);
            node_ix++;
        } else {
            attr_t a = ln->kind == L_SERVER ? theme(TH_HEADER) | theme_sev(ln->sev) : theme_sev(ln->sev);
            put_clipped(w, r + 1, ln->kind == L_SERVER ? 0 : 1, width - 1, ln->note, a);
        }
    }
    if (note) {
        char *e = sel_server_name(t);
        char *s = xasprintf("session %d on %s ended: nothing selected (Up/Down selects another)", P.sel.pid, e);
        put_clipped(w, h - 1, 1, width - 2, s, theme(TH_WARN));
        free(s);
        free(e);
    }
    locks_view_free(&lv);
}

/* ------------------------------------------------------------------------------------ keys */

/* c / k on the selected session, with how many it blocks. The activity row when there is one
 * (it has query_start, the cancel guard); else the lock row (a plain idle session holding a
 * lock is not in the activity list). */
static struct key_result act_on(struct tui *t, enum command cmd, const struct lline *ln)
{
    const struct s_locks *l = locks_of(&t->m->servers[ln->server]);
    const struct lt_item *it = &l->forest.items[ln->item];
    const struct lock_row *lr = lock_item_row(l, ln->item);
    struct session_ref id;
    if (!locks_node_ref(t->m, ln, &id)) {
        tui_message(t,
                    it->pid == 0          ? "pid 0 is a prepared transaction: COMMIT or ROLLBACK PREPARED it"
                        : lr && lr->known ? "pid %d: this login cannot see the session's details"
                                          : "session %d has ended",
                    it->pid);
        return KEY_DONE(true);
    }
    const struct activity_row *a = session_activity(t->m, &id);
    struct job_target facts;
    if (a)
        target_from_activity(&facts, a);
    else
        target_from_lock(&facts, lr);
    facts.blocks = (int)it->blocked;
    struct ui_target tg = {ln->server, &facts};
    return ui_request_action(t, cmd == CMD_CANCEL ? &action_cancel : &action_terminate, &tg, 1)
        ? KEY_MODAL(MODAL_CONFIRM)
        : KEY_DONE(true);
}

/* Enter: the detail view, which reads the activity sample; a plain idle session (holding a
 * session-level advisory lock, say) is only there when idle sessions are shown. */
static struct key_result open_detail(struct tui *t, const struct lline *ln)
{
    const struct s_locks *l = locks_of(&t->m->servers[ln->server]);
    const struct lock_row *lr = lock_item_row(l, ln->item);
    int pid = l->forest.items[ln->item].pid;
    struct session_ref id;
    if (!locks_node_ref(t->m, ln, &id)) {
        tui_message(t,
                    pid == 0              ? "pid 0 is a prepared transaction: see pg_prepared_xacts"
                        : lr && lr->known ? "pid %d: this login cannot see the session's details"
                                          : "session %d has ended",
                    pid);
        return KEY_DONE(true);
    }
    if (!session_activity(t->m, &id)) {
        tui_message(t,
                    t->m->opts.idle ? "session %d is not in the activity list yet (next refresh)"
                                    : "session %d is idle: press i to show idle sessions, then Enter",
                    pid);
        return KEY_DONE(true);
    }
    t->detail = id;
    return KEY_MODAL(MODAL_DETAIL);
}

static struct key_result locks_key(struct tui *t, enum command cmd)
{
    bool move =
        cmd == CMD_UP || cmd == CMD_DOWN || cmd == CMD_PGUP || cmd == CMD_PGDN || cmd == CMD_HOME || cmd == CMD_END;
    if (!move && cmd != CMD_CANCEL && cmd != CMD_TERMINATE && cmd != CMD_ENTER)
        return KEY_DONE(false);
    struct lview lv;
    locks_view_build(t->m, t->scope, t->filter, &lv);
    struct key_result r = KEY_DONE(true);
    if (move) {
        /* from the selected session's line now (or the place of one that ended) */
        sync(t, &lv, false);
        table_move(&P.ts, cmd, lv.nnodes, t->rows > 6 ? t->rows - 5 : 1);
        P.ts.lost = false;
        P.has_sel = lv.nnodes && locks_node_ref(t->m, &lv.v[locks_node_line(&lv, P.ts.sel)], &P.sel);
    } else {
        const struct lline *ln = selected(t, &lv);
        if (ln)
            r = cmd == CMD_ENTER ? open_detail(t, ln) : act_on(t, cmd, ln);
    }
    locks_view_free(&lv);
    return r;
}

/* The filter or scope changed: the first session again. */
static void locks_reset(void)
{
    P.ts.sel = P.ts.top = 0;
    P.has_sel = P.ts.lost = false;
}

const struct pane_class pane_locks = {
    .name = "locks",
    .title = "Locks",
    .draw = locks_draw,
    .key = locks_key,
    .reset = locks_reset,
    .footer = "Enter details  / filter  S scope",
    .footer_actions = "K terminate the selected (root: one key)  c cancel",
    .filters = true,
    .ts = &P.ts,
};
