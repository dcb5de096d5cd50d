/* tui.h — the full-screen interface: screen life cycle, panes, keys. */
#ifndef PGFLEET_TUI_H
#define PGFLEET_TUI_H

#include <stdbool.h>

#include "probes/model.h"

struct tui_opts {
    bool color;
    bool read_only;
    bool fallback; /* no server was named: the one server is libpq's default */
};

/* Run the interactive monitor until the user quits. Returns the exit status. */
int tui_run(struct model *m, const struct tui_opts *o);

#endif
