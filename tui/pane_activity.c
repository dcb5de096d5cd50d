/* pane_activity.c — pane 2: the sessions of every server (or of the scoped one), sortable by any
 * column and filtered by a substring; Enter opens every field and the whole query. */
#include <stdlib.h>
#include <string.h>

#include "screen.h"

static size_t current_view(struct tui *t, struct act_ref **refs)
{
    struct act_query q = {
        .filter = t->filter, .scope = t->scope, .sort_col = t->act_ts.sort_col,
        .desc = t->act_ts.desc, .idle = t->m->opts.idle,
    };
    return act_view(t->m, &q, refs);
}

static void act_draw(struct tui *t, WINDOW *w)
{
    struct act_ref *refs;
    size_t n = current_view(t, &refs);
    cell_t *cells = calloc(n * AC_N + 1, sizeof *cells);
    enum sev *sev = calloc(n * AC_N + 1, sizeof *sev);
    if (!cells || !sev)
        fatal("out of memory");
    for (size_t i = 0; i < n; i++)
        act_cells(t->m, &refs[i], &cells[i * AC_N], &sev[i * AC_N]);
    table_draw(w, act_cols, AC_N, cells, sev, n, &t->act_ts, true);
    if (n == 0) {
        int h, wd;
        getmaxyx(w, h, wd);
        const char *msg = t->filter[0] ? "no session matches the filter (Esc clears it)"
                          : t->m->opts.idle ? "no sessions" : "no active sessions (i shows idle ones)";
        put_clipped(w, h > 3 ? 2 : 1, 2, wd - 2, msg, theme(TH_DIM));
    }
    free(cells);
    free(sev);
    free(refs);
}

static bool act_key(struct tui *t, enum command cmd)
{
    switch (cmd) {
    case CMD_SORT_PREV:
    case CMD_SORT_NEXT: {
        int d = cmd == CMD_SORT_NEXT ? 1 : AC_N - 1;
        t->act_ts.sort_col = (t->act_ts.sort_col + d) % AC_N;
        t->act_ts.desc = act_cols[t->act_ts.sort_col].numeric; /* ages: longest first */
        return true;
    }
    case CMD_SORT_REVERSE:
        t->act_ts.desc = !t->act_ts.desc;
        return true;
    case CMD_ENTER: {
        struct act_ref *refs;
        size_t n = current_view(t, &refs);
        if (t->act_ts.sel >= 0 && (size_t)t->act_ts.sel < n) {
            const struct activity_row *r = act_row(t->m, &refs[t->act_ts.sel]);
            t->detail_server = refs[t->act_ts.sel].server;
            t->detail_pid = r->pid;
            snprintf(t->detail_bstart, sizeof t->detail_bstart, "%s", r->backend_start ? r->backend_start : "");
            t->modal = MODAL_DETAIL;
            t->modal_scroll = 0;
        }
        free(refs);
        return true;
    }
    default:
        return false;
    }
}

const struct pane_class pane_activity = {
    .name = "activity",
    .title = "Activity",
    .draw = act_draw,
    .key = act_key,
    .footer = "Enter details  / filter  <> sort  s reverse  i idle  S scope",
};
