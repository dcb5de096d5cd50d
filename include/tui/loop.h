/* loop.h — the one poll() loop: waits on every server socket, the terminal and a self-pipe for
 * signals, with the nearest deadline as its timeout. The TUI and the snapshot writer both run
 * it; they differ only in the hooks. */
#ifndef PGFLEET_LOOP_H
#define PGFLEET_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "probes/model.h"

struct loop_hooks {
    int input_fd;                                 /* terminal fd, or -1 */
    bool (*on_input)(void *ctx);                  /* returns false to quit */
    void (*on_signal)(void *ctx, int sig);        /* SIGWINCH and friends */
    void (*frame)(void *ctx, bool model_changed); /* draw once per loop pass */
    bool (*done)(void *ctx, int64_t now);         /* true: leave the loop */
    int64_t (*deadline)(void *ctx);               /* the hooks' own next deadline */
    void *ctx;
};

/* Runs until done() or on_input() says stop, or SIGINT/SIGTERM arrives (then returns 130/143).
 * Returns 0 otherwise. */
int loop_run(struct model *m, const struct loop_hooks *h);
/* An async-signal-safe function that puts the terminal back (the TUI's), run when a quit signal
 * comes twice or the loop has not ended one second after one: then pgfleet exits at once. */
void loop_set_emergency(void (*restore)(void));

#endif
