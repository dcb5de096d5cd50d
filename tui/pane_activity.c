/* pane_activity.c — pane 2: the sessions of every server (or of the scoped one), sortable by any
 * column and filtered by a substring; Enter opens every field and the whole query. */
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "tui/screen.h"

/* Longest-running first, as top shows the busiest first. */
static struct table_state ts = {.sort_col = AC_QAGE, .desc = true};

static size_t current_view(struct tui *t, struct act_ref **refs)
{
    struct act_query q = {
        .filter = t->filter, .scope = t->scope, .sort_col = ts.sort_col,
        .desc = ts.desc, .idle = t->m->opts.idle,
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
    for (size_t i = 0; i < n; i++) {
        act_cells(t->m, &refs[i], &cells[i * AC_N], &sev[i * AC_N]);
        const struct activity_row *r = act_row(t->m, &refs[i]);
        if (tag_has(t, refs[i].server, r)) {
            /* tagged: a mark by the pid, like htop's */
            char tmp[CELL_MAX];
            snprintf(tmp, sizeof tmp, "*%s", cells[i * AC_N + AC_PID]);
            snprintf(cells[i * AC_N + AC_PID], CELL_MAX, "%s", tmp);
            for (int c = 0; c < AC_N; c++)
                if (sev[i * AC_N + c] == SEV_NONE || sev[i * AC_N + c] == SEV_DIM)
                    sev[i * AC_N + c] = SEV_OK;
        } else if (!t->o.read_only && ui_unsignalable(t, refs[i].server, r)) {
            for (int c = 0; c < AC_N; c++) /* cannot be acted on from here: dimmed */
                sev[i * AC_N + c] = SEV_DIM;
        }
    }
    table_draw(w, act_cols, AC_N, cells, sev, n, &ts, true);
    if (n == 0) {
        int h, wd;
        getmaxyx(w, h, wd);
        bool pooler = t->scope >= 0 && (size_t)t->scope < t->m->n && t->m->servers[t->scope].kind == KIND_PGBOUNCER;
        const char *msg = pooler ? "a pooler has no sessions of its own: see its pools in Connections (5)"
                          : t->filter[0] ? "no session matches the filter (Esc clears it)"
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
        ts.sort_col = (ts.sort_col + d) % AC_N;
        ts.desc = act_cols[ts.sort_col].numeric; /* ages: longest first */
        return true;
    }
    case CMD_SORT_REVERSE:
        ts.desc = !ts.desc;
        return true;
    case CMD_ENTER: {
        struct act_ref *refs;
        size_t n = current_view(t, &refs);
        if (ts.sel >= 0 && (size_t)ts.sel < n) {
            const struct activity_row *r = act_row(t->m, &refs[ts.sel]);
            t->detail_server = refs[ts.sel].server;
            t->detail_pid = r->pid;
            snprintf(t->detail_bstart, sizeof t->detail_bstart, "%s", r->backend_start ? r->backend_start : "");
            t->modal = MODAL_DETAIL;
            t->modal_scroll = 0;
        }
        free(refs);
        return true;
    }
    case CMD_TAG: {
        struct act_ref *refs;
        size_t n = current_view(t, &refs);
        if (ts.sel >= 0 && (size_t)ts.sel < n) {
            const struct activity_row *r = act_row(t->m, &refs[ts.sel]);
            bool on = tag_toggle(t, refs[ts.sel].server, r);
            if (!r->backend_start)
                tui_message(t, "pid %d: this login cannot see the session's details: cannot tag it", r->pid);
            else
                tui_message(t, "%zu session%s tagged%s", t->ntags, t->ntags == 1 ? "" : "s",
                            on ? ": c cancels, k terminates them all" : "");
            ts.sel++;
        }
        free(refs);
        return true;
    }
    case CMD_CANCEL:
    case CMD_TERMINATE: {
        struct act_ref *refs;
        size_t n = current_view(t, &refs);
        struct ui_target *tg = xcalloc(n + 1, sizeof *tg);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) /* the tagged rows, if any */
            if (tag_has(t, refs[i].server, act_row(t->m, &refs[i])))
                tg[k++] = (struct ui_target){refs[i].server, act_row(t->m, &refs[i]), 0};
        if (!k && ts.sel >= 0 && (size_t)ts.sel < n) /* else the selected one */
            tg[k++] = (struct ui_target){refs[ts.sel].server, act_row(t->m, &refs[ts.sel]), 0};
        ui_request_action(t, cmd == CMD_CANCEL ? &action_cancel : &action_terminate, tg, k);
        free(tg);
        free(refs);
        return true;
    }
    default:
        return false;
    }
}

static void act_text(const struct model *m, FILE *out)
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

const struct pane_class pane_activity = {
    .name = "activity",
    .title = "Activity",
    .draw = act_draw,
    .key = act_key,
    .footer = "Enter details  c cancel  k terminate  Space tag  / filter  <> sort  i idle  S scope",
    .ts = &ts,
    .text = act_text,
};
