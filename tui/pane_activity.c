/* pane_activity.c — pane 2: the sessions of every server (or of the scoped one), sortable by any
 * column and filtered by a substring; Enter opens every field and the whole query. */
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "tui/screen.h"

/* The pane's state: the table's place and order, and the selected session by identity, so the
 * selection stays on it across refreshes and re-sorts, and a key never acts on a neighbour that
 * slid under the cursor. Longest-running first, as top shows the busiest first. */
static struct activity_pane {
    struct table_state ts;
    bool has_sel; /* sel names the selected session (false: none, or no identity) */
    struct session_ref sel;
} P = {.ts = {.sort_col = AC_QAGE, .desc = true}};

static size_t current_view(struct tui *t, struct act_ref **refs)
{
    struct act_query q = {
        .filter = t->filter,
        .scope = t->scope,
        .sort_col = P.ts.sort_col,
        .desc = P.ts.desc,
        .idle = t->m->opts.idle,
    };
    return act_view(t->m, &q, refs);
}

static bool ref_of(const struct tui *t, const struct act_ref *a, struct session_ref *out)
{
    const struct activity_row *r = act_row(t->m, a);
    return session_ref_make(out, a->server, r->pid, r->backend_start);
}

/* Find the selected session's row again (ts.sel); lost when it is not listed. Only a frame
 * (adopt) takes the row under the cursor as the selection: what the user saw. */
static void sync(struct tui *t, const struct act_ref *refs, size_t n, bool adopt)
{
    P.ts.lost = false;
    if (P.has_sel) {
        struct session_ref r;
        for (size_t i = 0; i < n; i++)
            if (ref_of(t, &refs[i], &r) && session_ref_eq(&r, &P.sel)) {
                P.ts.sel = (int)i;
                return;
            }
        /* ended: keep the place and say so; still running but filtered or scoped out of the
         * list: the row now under the cursor is the selection */
        if (!adopt || !session_activity(t->m, &P.sel)) {
            P.ts.lost = true;
            return;
        }
    }
    if (!adopt)
        return;
    if (P.ts.sel >= (int)n)
        P.ts.sel = (int)n - 1;
    if (P.ts.sel < 0)
        P.ts.sel = 0;
    P.has_sel = (size_t)P.ts.sel < n && ref_of(t, &refs[P.ts.sel], &P.sel);
}

/* The selected row for a key, or NULL with the reason in the message line. */
static const struct act_ref *selected(struct tui *t, const struct act_ref *refs, size_t n)
{
    sync(t, refs, n, false);
    if (P.ts.lost) {
        char *e = esc(P.sel.server < t->m->n ? t->m->servers[P.sel.server].conf->name : "?", 1);
        tui_message(t, "session %d on %s %s: nothing done (select another)", P.sel.pid, e,
                    session_activity(t->m, &P.sel) ? "is no longer listed" : "has ended");
        free(e);
        return NULL;
    }
    return P.ts.sel >= 0 && (size_t)P.ts.sel < n ? &refs[P.ts.sel] : NULL;
}

static void act_draw(struct tui *t, WINDOW *w)
{
    struct act_ref *refs;
    size_t n = current_view(t, &refs);
    sync(t, refs, n, true);
    struct job_target facts;
    cell_t *cells = calloc(n * AC_N + 1, sizeof *cells);
    enum sev *sev = calloc(n * AC_N + 1, sizeof *sev);
    if (!cells || !sev)
        fatal("out of memory");
    for (size_t i = 0; i < n; i++) {
        act_cells(t->m, &refs[i], &cells[i * AC_N], &sev[i * AC_N]);
        const struct activity_row *r = act_row(t->m, &refs[i]);
        struct session_ref id;
        if (ref_of(t, &refs[i], &id) && tag_has(t, &id)) {
            /* tagged: a mark by the pid, like htop's */
            char tmp[CELL_MAX];
            snprintf(tmp, sizeof tmp, "*%s", cells[i * AC_N + AC_PID]);
            snprintf(cells[i * AC_N + AC_PID], CELL_MAX, "%s", tmp);
            for (int c = 0; c < AC_N; c++)
                if (sev[i * AC_N + c] == SEV_NONE || sev[i * AC_N + c] == SEV_DIM)
                    sev[i * AC_N + c] = SEV_OK;
        } else if (!t->o.read_only && (target_from_activity(&facts, r), ui_unsignalable(t, refs[i].server, &facts))) {
            for (int c = 0; c < AC_N; c++) /* cannot be acted on from here: dimmed */
                sev[i * AC_N + c] = SEV_DIM;
        }
    }
    int h = getmaxy(w);
    WINDOW *tw = P.ts.lost && h > 2 ? derwin(w, h - 1, getmaxx(w), 0, 0) : NULL;
    table_draw(tw ? tw : w, act_cols, AC_N, cells, sev, n, &P.ts, true);
    if (tw) {
        delwin(tw);
        char *e = esc(P.sel.server < t->m->n ? t->m->servers[P.sel.server].conf->name : "?", 1);
        char *note = xasprintf("session %d on %s ended: nothing selected (Up/Down selects another)", P.sel.pid, e);
        put_clipped(w, h - 1, 1, getmaxx(w) - 2, note, theme(TH_WARN));
        free(note);
        free(e);
    }
    if (n == 0) {
        int wd = getmaxx(w);
        const struct server *s = t->scope >= 0 && (size_t)t->scope < t->m->n ? &t->m->servers[t->scope] : NULL;
        char *down = s && s->status == SRV_DOWN ? esc(s->reason[0] ? s->reason : "no answer", 1) : NULL;
        char *why = down ? xasprintf("server is DOWN: %s", down) : NULL;
        const char *msg = why                  ? why
            : s && s->kind == KIND_PGBOUNCER   ? "a pooler has no sessions of its own: see its pools in Connections (5)"
            : s && s->status == SRV_CONNECTING ? "connecting: no answer yet"
            : t->filter[0]                     ? "no session matches the filter (Esc clears it)"
            : t->m->opts.idle                  ? "no sessions"
                                               : "no active sessions (i shows idle ones)";
        put_clipped(w, h > 3 ? 2 : 1, 2, wd - 2, msg, why ? theme(TH_CRIT) : theme(TH_DIM));
        free(why);
        free(down);
    }
    free(cells);
    free(sev);
    free(refs);
}

static struct key_result act_key(struct tui *t, enum command cmd)
{
    switch (cmd) {
    case CMD_SORT_PREV:
    case CMD_SORT_NEXT: {
        int d = cmd == CMD_SORT_NEXT ? 1 : AC_N - 1;
        P.ts.sort_col = (P.ts.sort_col + d) % AC_N;
        P.ts.desc = act_cols[P.ts.sort_col].numeric; /* ages: longest first */
        return KEY_DONE(true);
    }
    case CMD_SORT_REVERSE: P.ts.desc = !P.ts.desc; return KEY_DONE(true);
    case CMD_UP:
    case CMD_DOWN:
    case CMD_PGUP:
    case CMD_PGDN:
    case CMD_HOME:
    case CMD_END: {
        /* from the selected session's row now (or the place of one that ended) */
        struct act_ref *refs;
        size_t n = current_view(t, &refs);
        sync(t, refs, n, false);
        table_move(&P.ts, cmd, n, t->rows > 6 ? t->rows - 5 : 1);
        P.ts.lost = false;
        P.has_sel = P.ts.sel >= 0 && (size_t)P.ts.sel < n && ref_of(t, &refs[P.ts.sel], &P.sel);
        free(refs);
        return KEY_DONE(true);
    }
    case CMD_ENTER: {
        struct act_ref *refs;
        size_t n = current_view(t, &refs);
        const struct act_ref *a = selected(t, refs, n);
        bool open = a && ref_of(t, a, &t->detail);
        if (a && !open)
            tui_message(t, "pid %d: this login cannot see the session's details", act_row(t->m, a)->pid);
        free(refs);
        return open ? KEY_MODAL(MODAL_DETAIL) : KEY_DONE(true);
    }
    case CMD_TAG: {
        if (t->o.read_only) { /* tags only say what an action applies to */
            tui_message(t, "read-only: actions are disabled");
            return KEY_DONE(true);
        }
        struct act_ref *refs;
        size_t n = current_view(t, &refs);
        const struct act_ref *a = selected(t, refs, n);
        struct session_ref id;
        if (a && !ref_of(t, a, &id)) {
            /* a session this login cannot see: no identity to keep a tag by */
            tui_message(t, "pid %d: this login cannot see the session's details: cannot tag it", act_row(t->m, a)->pid);
        } else if (a) {
            bool on = tag_toggle(t, &id);
            tui_message(t, "%zu session%s tagged%s", t->ntags, t->ntags == 1 ? "" : "s",
                        on ? ": c cancels, K terminates them all" : "");
        }
        if (a) {
            table_move(&P.ts, CMD_DOWN, n, 1);
            P.has_sel = ref_of(t, &refs[P.ts.sel], &P.sel);
        }
        free(refs);
        return KEY_DONE(true);
    }
    case CMD_CANCEL:
    case CMD_TERMINATE: {
        struct act_ref *refs;
        size_t n = current_view(t, &refs);
        struct ui_target *tg = xcalloc(n + 1, sizeof *tg);
        struct job_target *facts = xcalloc(n + 1, sizeof *facts);
        size_t k = 0;
        struct session_ref id;
        for (size_t i = 0; i < n; i++) /* the tagged rows, if any */
            if (ref_of(t, &refs[i], &id) && tag_has(t, &id)) {
                target_from_activity(&facts[k], act_row(t->m, &refs[i]));
                tg[k] = (struct ui_target){refs[i].server, &facts[k]};
                k++;
            }
        const struct act_ref *a = k ? NULL : selected(t, refs, n); /* else the selected one */
        if (a) {
            target_from_activity(&facts[k], act_row(t->m, a));
            tg[k] = (struct ui_target){a->server, &facts[k]};
            k++;
        }
        bool ask =
            (k || !P.ts.lost) && ui_request_action(t, cmd == CMD_CANCEL ? &action_cancel : &action_terminate, tg, k);
        free(tg);
        free(facts);
        free(refs);
        return ask ? KEY_MODAL(MODAL_CONFIRM) : KEY_DONE(true);
    }
    default: return KEY_DONE(false);
    }
}

/* The filter or scope changed: the first row again. */
static void act_reset(void)
{
    P.ts.sel = 0;
    P.has_sel = P.ts.lost = false;
}

const struct pane_class pane_activity = {
    .name = "activity",
    .title = "Activity",
    .draw = act_draw,
    .key = act_key,
    .reset = act_reset,
    .footer = "Enter details  / filter  <> sort  i idle  S scope",
    .footer_actions = "c cancel  K terminate  Space tag",
    .filters = true,
    .ts = &P.ts,
};
