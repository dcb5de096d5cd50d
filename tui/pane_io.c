/* pane_io.c — placeholder for the io pane: not written yet. */
#include "screen.h"

static void draw(struct tui *t, WINDOW *w)
{
    (void)t;
    put_clipped(w, 1, 2, getmaxx(w) - 4, "This pane is not built yet.", theme(TH_DIM));
}

const struct pane_class pane_io = {
    .name = "io",
    .title = "Cache & IO",
    .draw = draw,
    .footer = "",
};
