/* pane_connections.c — pane 5, Connections: draws the document view_connections.c builds
 * (per server its connection use and who holds them, sessions idle in a transaction, and the
 * pgBouncers that serve it), scrolled. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "probes/sec_connections.h"
#include "tui/screen.h"
#include "tui/sections.h"

/* P.ts.sel is the first line shown: the pane scrolls, it has no row to act on. */
static struct connections_pane {
    struct table_state ts;
} P = {.ts = {.sort_col = -1}};

static void conn_draw(struct tui *t, WINDOW *w)
{
    struct doc d = {.width = getmaxx(w)};
    conn_view(t->m, t->scope, false, &d);
    doc_draw(w, &d, &P.ts, false);
    doc_free(&d);
}

const struct pane_class pane_connections = {
    .name = "connections",
    .title = "Connections",
    .draw = conn_draw,
    .footer = "S scope  Up/Down scroll",
    .ts = &P.ts,
};
