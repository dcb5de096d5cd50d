/* pane_connections.c — placeholder for the connections pane: not written yet. */
#include "screen.h"

static void draw(struct tui *t, WINDOW *w)
{
    (void)t;
    put_clipped(w, 1, 2, getmaxx(w) - 4, "This pane is not built yet.", theme(TH_DIM));
}

const struct pane_class pane_connections = {
    .name = "connections",
    .title = "Connections",
    .draw = draw,
    .footer = "",
};
