/* pane_fleet.c — pane 1: one row per server, worst first, with the figures that tell at a
 * glance which server to look at. Enter scopes the Activity pane to the selected server. */
#include <stdlib.h>

#include "tui/screen.h"

/* The pane's state: the table's place, and the selected server by its index in the model, so
 * the selection follows the server when the worst-first order changes. */
static struct fleet_pane {
    struct table_state ts;
    bool has_sel;
    size_t server;
} P = {.ts = {.sort_col = -1}};

/* The row of the selected server (ts.sel), or adopt the server under the cursor. */
static void sync(const struct model *m, const size_t *order)
{
    for (size_t i = 0; P.has_sel && i < m->n; i++)
        if (order[i] == P.server) {
            P.ts.sel = (int)i;
            return;
        }
    if (P.ts.sel >= (int)m->n)
        P.ts.sel = (int)m->n - 1;
    if (P.ts.sel < 0)
        P.ts.sel = 0;
    P.has_sel = m->n > 0;
    P.server = m->n ? order[P.ts.sel] : 0;
}

static void fleet_draw(struct tui *t, WINDOW *w)
{
    struct model *m = t->m;
    size_t *order = calloc(m->n + 1, sizeof *order);
    cell_t *cells = calloc(m->n * FC_N + 1, sizeof *cells);
    enum sev *sev = calloc(m->n * FC_N + 1, sizeof *sev);
    if (!order || !cells || !sev)
        fatal("out of memory");
    fleet_order(m, order);
    sync(m, order);
    for (size_t i = 0; i < m->n; i++)
        fleet_cells(m, &m->servers[order[i]], &cells[i * FC_N], &sev[i * FC_N]);
    table_draw(w, fleet_cols, FC_N, cells, sev, m->n, &P.ts, false);
    free(order);
    free(cells);
    free(sev);
}

static struct key_result fleet_key(struct tui *t, enum command cmd)
{
    bool move =
        cmd == CMD_UP || cmd == CMD_DOWN || cmd == CMD_PGUP || cmd == CMD_PGDN || cmd == CMD_HOME || cmd == CMD_END;
    if (cmd != CMD_ENTER && !move)
        return KEY_DONE(false);
    size_t *order = xcalloc(t->m->n + 1, sizeof *order);
    fleet_order(t->m, order);
    sync(t->m, order);
    struct key_result r = KEY_DONE(true);
    if (move) {
        table_move(&P.ts, cmd, t->m->n, t->rows > 6 ? t->rows - 5 : 1);
        P.server = t->m->n ? order[P.ts.sel] : 0;
    } else if (P.has_sel) { /* the sessions of the selected server */
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
    .footer = "Enter sessions of server",
    .ts = &P.ts,
};
