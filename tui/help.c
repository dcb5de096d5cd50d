/* help.c — the modal views: the help screen, generated from the key table, and the detail of
 * one session (every field, who blocks it and whom it blocks by pid, and the whole query,
 * escaped, wrapped to the window). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/sec_progress.h"
#include "tui/screen.h"
#include "tui/view_locks.h"

/* A modal: its title bar, then its lines from the scroll offset. */
static void show(struct tui *t, WINDOW *w, struct tview *l, const char *title)
{
    int h, wd;
    getmaxyx(w, h, wd);
    werase(w);
    tv_title(w, title, theme(TH_TITLE));
    tv_draw(w, 1, 1, h - 1, wd - 2, l, &t->modal_scroll);
    tv_free(l);
}

void help_draw(struct tui *t, WINDOW *w)
{
    struct tview l = {0};
    char buf[256];
    tv_add(&l, theme(TH_HEADER), 0, "pgfleet: a top-like monitor for a fleet of PostgreSQL servers");
    tv_add(&l, A_NORMAL, 0, "");
    tv_add(&l, theme(TH_HEADER), 0, "Keys");
    for (size_t i = 0; i < keymap_len; i++) {
        if (!keymap[i].what)
            continue;
        snprintf(buf, sizeof buf, "  %-7s %s", keymap[i].keyname, keymap[i].what);
        tv_add(&l, A_NORMAL, 0, buf);
    }
    tv_add(&l, A_NORMAL, 0, "");
    tv_add(&l, theme(TH_HEADER), 0, "Status");
    tv_add(&l, A_NORMAL, 0, "  UP     answering on time");
    tv_add(&l, A_NORMAL, 0, "  STALE  the last refresh is late; figures shown are from the last answer");
    tv_add(&l, A_NORMAL, 0, "  DOWN   not reachable (reason shown); retried with backoff");
    tv_add(&l, A_NORMAL, 0, "");
    tv_add(&l, theme(TH_HEADER), 0, "Figures");
    tv_add(&l, A_NORMAL, 0, "  TPS and HIT% are rates over the last interval, measured on the server's clock;");
    tv_add(&l, A_NORMAL, 0, "  n/a until two samples exist or after a restart or statistics reset.");
    tv_add(&l, A_NORMAL, 0, "  CONNS is client connections / usable slots: max_connections");
    tv_add(&l, A_NORMAL, 0, "  - superuser_reserved_connections - reserved_connections (16+), as in Connections.");
    tv_add(&l, A_NORMAL, 0, "  Cache & IO leaves pgfleet's own reads out when the role may set track_counts");
    tv_add(&l, A_NORMAL, 0, "  (superuser, or GRANT SET ON PARAMETER track_counts, 15+); else it says they count.");
    tv_add(&l, A_NORMAL, 0, "  RESTORE (Fleet) is the age of the server's last good restore test (B, or");
    snprintf(buf, sizeof buf, "  pgfleet restore-test): WARN from restore_test.max_age_days (%d), CRIT when the",
             t->m->cfg->restore_max_age_days);
    tv_add(&l, A_NORMAL, 0, buf);
    tv_add(&l, A_NORMAL, 0, "  newest test failed (FAILED 2d) or none ever passed (never). The column shows once");
    tv_add(&l, A_NORMAL, 0, "  a server of the fleet has a record; it is the first to go on a narrow screen.");
    tv_add(&l, A_NORMAL, 0, "");
    tv_add(&l, A_DIM, 0, "Up/Down or j/k scroll, Esc or q closes.");
    show(t, w, &l, "Help");
}

static void field(struct tview *l, const char *name, const char *raw) { tv_field(l, 16, name, raw); }

static void age_field(struct tview *l, const char *name, double v)
{
    char b[32];
    field(l, name, isnan(v) ? "" : fmt_age(b, sizeof b, v));
}

void detail_draw(struct tui *t, WINDOW *w)
{
    struct tview l = {0};
    const struct activity_row *r = session_activity(t->m, &t->detail);
    int wd = getmaxx(w) - 2;
    char title[160];
    char *sname = esc(t->m->servers[t->detail.server < t->m->n ? t->detail.server : 0].conf->name, 1);
    snprintf(title, sizeof title, "Session %d on %s", t->detail.pid, sname);
    free(sname);
    if (!r) {
        tv_add(&l, theme(TH_WARN), 0, "This session has ended (or is no longer shown).");
        show(t, w, &l, title);
        return;
    }
    char pid[16];
    snprintf(pid, sizeof pid, "%d", r->pid);
    /* who it waits for and who waits for it, by pid, from the locks sample of the same tick
     * (the activity row only counts its blockers) */
    size_t item;
    const struct lock_row *lr = session_lock(t->m, &t->detail, &item);
    const struct s_locks *lk = lr ? SAMPLE_LOCKS(t->m->servers[t->detail.server].cur) : NULL;
    char *blockers = lk ? locks_blockers_text(lk, item) : NULL, *waiters = lk ? locks_waiters_text(lk, item) : NULL;
    if (!lk && r->blocked_by > 0 && r->wait_event_type && strcmp(r->wait_event_type, "Lock") == 0)
        blockers = xasprintf("%d session%s (see Locks, 3)", r->blocked_by, r->blocked_by == 1 ? "" : "s");
    field(&l, "pid", pid);
    field(&l, "database", r->datname);
    field(&l, "user", r->usename);
    field(&l, "application", r->application_name);
    field(&l, "client", r->client);
    field(&l, "backend type", r->backend_type);
    field(&l, "state", r->state);
    field(&l, "wait event", r->wait_event_type ? r->wait_event_type : "");
    field(&l, "  detail", r->wait_event);
    field(&l, "blocked by", blockers ? blockers : "");
    field(&l, "blocks", waiters ? waiters : "");
    free(blockers);
    free(waiters);
    age_field(&l, "transaction age", r->xact_age);
    age_field(&l, "query age", r->query_age);
    age_field(&l, "state age", r->state_age);
    char ts[48];
    field(&l, "backend start", fmt_epoch_us(ts, sizeof ts, r->backend_start));
    field(&l, "query start", fmt_epoch_us(ts, sizeof ts, r->query_start));
    char prog[300];
    if (progress_describe(&t->m->servers[t->detail.server], r->pid, prog, sizeof prog))
        field(&l, "progress", prog);
    tv_add(&l, A_NORMAL, 0, "");
    tv_add(&l, theme(TH_HEADER), 0, "Query");
    /* the query's own line breaks kept, each line escaped and wrapped */
    tv_wrap(&l, A_NORMAL, 2, r->query, wd - 2);
    tv_add(&l, A_NORMAL, 0, "");
    tv_add(&l, A_DIM, 0, "Up/Down or j/k scroll, Esc or q closes.");
    show(t, w, &l, title);
}
