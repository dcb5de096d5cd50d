/* view_tables.c — the Fleet and Activity sections of the text snapshot: the same cells as the
 * panes' tables (views.c), printed as aligned text. Free of curses. */
#include <stdlib.h>

#include "core/util.h"
#include "tui/sections.h"
#include "tui/views.h"

void fleet_text(const struct model *m, FILE *out)
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

void act_text(const struct model *m, FILE *out)
{
    struct act_query q = {.filter = NULL, .scope = -1, .sort_col = AC_QAGE, .desc = true, .idle = m->opts.idle};
    struct act_ref *refs;
    size_t n = act_view(m, &q, &refs);
    fprintf(out, "ACTIVITY (%zu)\n", n);
    cell_t *cells = xcalloc(n * AC_N + 1, sizeof *cells);
    enum sev sev[AC_N];
    for (size_t i = 0; i < n; i++)
        act_cells(m, &refs[i], &cells[i * AC_N], sev);
    text_table(out, act_cols, AC_N, cells, n);
    free(cells);
    free(refs);
}
