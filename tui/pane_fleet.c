/* pane_fleet.c — pane 1: one row per server, worst first, with the figures that tell at a
 * glance which server to look at; / keeps the servers with a cell or a tag that holds it.
 * Enter scopes the other panes to the selected server; under a scope its row is marked and a
 * line under the table says so (S next server, Esc all servers). */
#include <stdlib.h>

#include "tui/screen.h"

/* The pane's state: the table's place, and the selected server by its index in the model, so
 * the selection follows the server when the worst-first order changes; the scope it last drew
 * (a new scope moves the selection onto its server). */
static struct fleet_pane {
    struct table_state ts;
    bool has_sel;
    size_t server;
    long scope_seen;
} P = {.ts = {.sort_col = -1}, .scope_seen = -1};

/* The row of the selected server (ts.sel), or adopt the server under the cursor. */
static void sync(const size_t *order, size_t n)
{
    for (size_t i = 0; P.has_sel && i < n; i++)
        if (order[i] == P.server) {
            P.ts.sel = (int)i;
            return;
        }
    if (P.ts.sel >= (int)n)
        P.ts.sel = (int)n - 1;
    if (P.ts.sel < 0)
        P.ts.sel = 0;
    P.has_sel = n > 0;
    P.server = n ? order[P.ts.sel] : 0;
}

static size_t view(struct tui *t, size_t *order)
{
    size_t n = fleet_view(t->m, t->filter, order);
    if (t->scope != P.scope_seen) {
        P.scope_seen = t->scope;
        if (t->scope >= 0 && (size_t)t->scope < t->m->n) {
            P.server = (size_t)t->scope;
            P.has_sel = true;
        }
    }
    sync(order, n);
    return n;
}

static void fleet_draw(struct tui *t, WINDOW *w)
{
    struct model *m = t->m;
    size_t *order = xcalloc(m->n + 1, sizeof *order);
    cell_t *cells = xcalloc(m->n * FC_N + 1, sizeof *cells);
    enum sev *sev = xcalloc(m->n * FC_N + 1, sizeof *sev);
    size_t n = view(t, order);
    for (size_t i = 0; i < n; i++) {
        cell_t *c = &cells[i * FC_N];
        fleet_cells(m, &m->servers[order[i]], c, &sev[i * FC_N]);
        if ((long)order[i] == t->scope) { /* the scoped server, marked */
            char tmp[CELL_MAX];
            snprintf(tmp, sizeof tmp, "> %s", c[FC_SERVER]);
            snprintf(c[FC_SERVER], CELL_MAX, "%s", tmp);
        }
    }
    int h = getmaxy(w), wd = getmaxx(w);
    bool scoped = t->scope >= 0 && (size_t)t->scope < m->n;
    /* no server named and libpq's default one not up: say how to name servers, on screen */
    bool hint = !scoped && t->o.fallback && m->n == 1 && m->servers[0].status != SRV_UP;
    WINDOW *tw = (scoped || hint) && h > 2 ? derwin(w, h - 1, wd, 0, 0) : NULL;
    table_draw(tw ? tw : w, fleet_cols, FC_N, cells, sev, n, &P.ts, false);
    if (tw && scoped) {
        char *e = esc(m->servers[t->scope].conf->name, 1);
        char *note = xasprintf("scope: %s (>): the other panes show only it; S next server, Esc all servers", e);
        put_clipped(w, h - 1, 1, wd - 2, note, theme(TH_WARN));
        free(note);
        free(e);
    } else if (tw) {
        put_clipped(w, h - 1, 1, wd - 2,
                    "no servers were named, so this is libpq's default server: name them with pgfleet HOST..., "
                    "pgfleet -c FILE, or PGHOST",
                    theme(TH_WARN));
    }
    if (tw)
        delwin(tw);
    if (n == 0 && t->filter[0])
        put_clipped(w, h > 3 ? 2 : 1, 2, wd - 2, "no server matches the filter (Esc clears it)", theme(TH_DIM));
    free(order);
    free(cells);
    free(sev);
}

static struct key_result fleet_key(struct tui *t, enum command cmd)
{
    bool move =
        cmd == CMD_UP || cmd == CMD_DOWN || cmd == CMD_PGUP || cmd == CMD_PGDN || cmd == CMD_HOME || cmd == CMD_END;
    if (cmd != CMD_ENTER && cmd != CMD_RESTORE_TEST && !move)
        return KEY_DONE(false);
    size_t *order = xcalloc(t->m->n + 1, sizeof *order);
    size_t n = view(t, order);
    struct key_result r = KEY_DONE(true);
    if (move) {
        table_move(&P.ts, cmd, n, t->rows > 6 ? t->rows - 5 : 1);
        P.has_sel = n > 0;
        P.server = n ? order[P.ts.sel] : 0;
    } else if (cmd == CMD_RESTORE_TEST) {
        if (!P.has_sel || !n)
            tui_message(t, "no server selected");
        else if (ui_request_restore_test(t, P.server))
            r = KEY_MODAL(MODAL_CONFIRM);
    } else if (P.has_sel && n) { /* the sessions of the selected server */
        r = (struct key_result){.act = KEY_SHOW_PANE, .pane = &pane_activity, .scope = (long)P.server};
    }
    free(order);
    return r;
}

const struct pane_class pane_fleet = {
    .name = "fleet",
    .title = "Fleet",
    .draw = fleet_draw,
    .key = fleet_key,
    .footer = "Enter sessions of server  / filter",
    .footer_actions = "B restore test",
    .filters = true,
    .ts = &P.ts,
};
