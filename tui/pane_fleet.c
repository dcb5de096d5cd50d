/* pane_fleet.c — pane 1: one row per server, worst first, with the figures that tell at a
 * glance which server to look at. Enter scopes the Activity pane to the selected server. */
#include <stdlib.h>

#include "tui/screen.h"

static struct table_state ts = {.sort_col = -1};

static void fleet_draw(struct tui *t, WINDOW *w)
{
    struct model *m = t->m;
    size_t *order = calloc(m->n + 1, sizeof *order);
    cell_t *cells = calloc(m->n * FC_N + 1, sizeof *cells);
    enum sev *sev = calloc(m->n * FC_N + 1, sizeof *sev);
    if (!order || !cells || !sev)
        fatal("out of memory");
    fleet_order(m, order);
    for (size_t i = 0; i < m->n; i++)
        fleet_cells(m, &m->servers[order[i]], &cells[i * FC_N], &sev[i * FC_N]);
    table_draw(w, fleet_cols, FC_N, cells, sev, m->n, &ts, false);
    free(order);
    free(cells);
    free(sev);
}

static bool fleet_key(struct tui *t, enum command cmd)
{
    if (cmd != CMD_ENTER)
        return false;
    size_t *order = calloc(t->m->n + 1, sizeof *order);
    if (!order)
        fatal("out of memory");
    fleet_order(t->m, order);
    if (ts.sel >= 0 && (size_t)ts.sel < t->m->n) {
        t->scope = (long)order[ts.sel];
        t->pane = 1;
        pane_activity.ts->sel = 0;
    }
    free(order);
    return true;
}

static void fleet_text(const struct model *m, FILE *out)
{
    size_t *order = xcalloc(m->n + 1, sizeof *order);
    fleet_order(m, order);
    cell_t *cells = xcalloc(m->n * FC_N + 1, sizeof *cells);
    enum sev sev[FC_N];
    for (size_t i = 0; i < m->n; i++)
        fleet_cells(m, &m->servers[order[i]], &cells[i * FC_N], sev);
    fprintf(out, "FLEET\n");
    text_table(out, fleet_cols, FC_N, cells, m->n);
    free(cells);
    free(order);
}

const struct pane_class pane_fleet = {
    .name = "fleet",
    .title = "Fleet",
    .draw = fleet_draw,
    .key = fleet_key,
    .footer = "Enter sessions of server",
    .ts = &ts,
    .text = fleet_text,
};
