/* pane_replication.c — pane 4, Replication: draws the document view_replication.c builds (the
 * fleet as replication clusters: primaries, their replicas with lag and history, slots,
 * archivers, logical replication) with a line selected. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "probes/repl_cluster.h"
#include "tui/screen.h"
#include "tui/sections.h"

static struct replication_pane {
    struct table_state ts;
} P = {.ts = {.sort_col = -1}};

static void repl_draw(struct tui *t, WINDOW *w)
{
    struct doc d = {.width = getmaxx(w)};
    repl_view(t->m, t->scope, false, utf8_locale(), &d);
    if (d.n == 0)
        put_clipped(w, 1, 2, d.width - 4, "no PostgreSQL server to show", theme(TH_DIM));
    else
        doc_draw(w, &d, &P.ts, true);
    doc_free(&d);
}

const struct pane_class pane_replication = {
    .name = "replication",
    .title = "Replication",
    .draw = repl_draw,
    .footer = "arrows scroll  S scope",
    .ts = &P.ts,
};
