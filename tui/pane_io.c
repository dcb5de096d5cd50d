/* pane_io.c — pane 6, Cache & IO: draws the document view_io.c builds (per server its
 * databases' cache hits and IO, checkpoints, buffer writers, WAL, pg_stat_io and disk),
 * scrolled. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "probes/sec_io.h"
#include "tui/screen.h"
#include "tui/sections.h"

/* P.ts.sel is the first line shown: the pane scrolls rather than selects (no row has an action). */
static struct io_pane {
    struct table_state ts;
} P = {.ts = {.sort_col = -1}};

static void io_draw(struct tui *t, WINDOW *w)
{
    struct doc d = {.width = getmaxx(w)};
    io_view(t->m, t->scope, false, &d);
    doc_draw(w, &d, &P.ts, false);
    doc_free(&d);
}

const struct pane_class pane_io = {
    .name = "io",
    .title = "Cache & IO",
    .draw = io_draw,
    .footer = "arrows/PgUp/PgDn scroll  S scope",
    .ts = &P.ts,
};
