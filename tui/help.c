/* help.c — the modal views: the help screen, generated from the key table, and the detail of
 * one session (every field and the whole query, escaped, wrapped to the window). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/screen.h"
#include "probes/sec_progress.h"

/* Lines of a modal are collected first, then drawn from the scroll offset. */
struct lines {
    char **v;
    int n;
    attr_t *a;
};

static void add(struct lines *l, attr_t a, const char *s)
{
    l->v = xreallocarray(l->v, (size_t)l->n + 1, sizeof *l->v);
    l->a = xreallocarray(l->a, (size_t)l->n + 1, sizeof *l->a);
    l->v[l->n] = xstrdup(s);
    l->a[l->n++] = a;
}

static void show(struct tui *t, WINDOW *w, struct lines *l, const char *title)
{
    int h, wd;
    getmaxyx(w, h, wd);
    werase(w);
    wattrset(w, theme(TH_TITLE));
    mvwhline(w, 0, 0, ' ', wd);
    put_clipped(w, 0, 1, wd - 2, title, theme(TH_TITLE));
    if (t->modal_scroll > l->n - (h - 1))
        t->modal_scroll = l->n - (h - 1);
    if (t->modal_scroll < 0)
        t->modal_scroll = 0;
    for (int r = 1; r < h && t->modal_scroll + r - 1 < l->n; r++) {
        int i = t->modal_scroll + r - 1;
        put_clipped(w, r, 1, wd - 2, l->v[i], l->a[i]);
    }
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    free(l->a);
}

void help_draw(struct tui *t, WINDOW *w)
{
    struct lines l = {0};
    char buf[256];
    add(&l, theme(TH_HEADER), "pgfleet: a top-like monitor for a fleet of PostgreSQL servers");
    add(&l, A_NORMAL, "");
    add(&l, theme(TH_HEADER), "Keys");
    for (size_t i = 0; i < keymap_len; i++) {
        if (!keymap[i].what)
            continue;
        snprintf(buf, sizeof buf, "  %-7s %s", keymap[i].keyname, keymap[i].what);
        add(&l, A_NORMAL, buf);
    }
    add(&l, A_NORMAL, "");
    add(&l, theme(TH_HEADER), "Status");
    add(&l, A_NORMAL, "  UP     answering on time");
    add(&l, A_NORMAL, "  STALE  the last refresh is late; figures shown are from the last answer");
    add(&l, A_NORMAL, "  DOWN   not reachable (reason shown); retried with backoff");
    add(&l, A_NORMAL, "");
    add(&l, theme(TH_HEADER), "Figures");
    add(&l, A_NORMAL, "  TPS and HIT% are rates over the last interval, measured on the server's clock;");
    add(&l, A_NORMAL, "  n/a until two samples exist or after a restart or statistics reset.");
    add(&l, A_NORMAL, "  CONNS is client connections / usable slots: max_connections");
    add(&l, A_NORMAL, "  - superuser_reserved_connections - reserved_connections (16+), as in Connections.");
    add(&l, A_NORMAL, "");
    add(&l, A_DIM, "Up/Down scroll, Esc or q closes.");
    show(t, w, &l, "Help");
}

static const struct activity_row *find_detail(struct tui *t)
{
    if (t->detail_server >= t->m->n)
        return NULL;
    const struct s_activity *a = SAMPLE_ACTIVITY(t->m->servers[t->detail_server].cur);
    for (size_t i = 0; a && i < a->n; i++)
        if (a->rows[i].pid == t->detail_pid && a->rows[i].backend_start &&
            strcmp(a->rows[i].backend_start, t->detail_bstart) == 0)
            return &a->rows[i];
    return NULL;
}

static void field(struct lines *l, const char *name, const char *raw)
{
    char *e = esc(raw ? raw : "", 1);
    char *line = xasprintf("%-16s %s", name, e);
    add(l, A_NORMAL, line);
    free(line);
    free(e);
}

static void age_field(struct lines *l, const char *name, double v)
{
    char b[32];
    field(l, name, isnan(v) ? "" : fmt_age(b, sizeof b, v));
}

void detail_draw(struct tui *t, WINDOW *w)
{
    struct lines l = {0};
    const struct activity_row *r = find_detail(t);
    int wd = getmaxx(w) - 2;
    char title[160];
    char *sname = esc(t->m->servers[t->detail_server < t->m->n ? t->detail_server : 0].conf->name, 1);
    snprintf(title, sizeof title, "Session %d on %s", t->detail_pid, sname);
    free(sname);
    if (!r) {
        add(&l, theme(TH_WARN), "This session has ended (or is no longer shown).");
        show(t, w, &l, title);
        return;
    }
    char pid[16], blk[16];
    snprintf(pid, sizeof pid, "%d", r->pid);
    snprintf(blk, sizeof blk, "%d", r->blocked_by);
    field(&l, "pid", pid);
    field(&l, "database", r->datname);
    field(&l, "user", r->usename);
    field(&l, "application", r->application_name);
    field(&l, "client", r->client);
    field(&l, "backend type", r->backend_type);
    field(&l, "state", r->state);
    field(&l, "wait event", r->wait_event_type ? r->wait_event_type : "");
    field(&l, "  detail", r->wait_event);
    field(&l, "blocked by", r->wait_event_type && strcmp(r->wait_event_type, "Lock") == 0 ? blk : "");
    age_field(&l, "transaction age", r->xact_age);
    age_field(&l, "query age", r->query_age);
    age_field(&l, "state age", r->state_age);
    char ts[48];
    field(&l, "backend start", fmt_epoch_us(ts, sizeof ts, r->backend_start));
    field(&l, "query start", fmt_epoch_us(ts, sizeof ts, r->query_start));
    char prog[300];
    if (progress_describe(&t->m->servers[t->detail_server], r->pid, prog, sizeof prog))
        field(&l, "progress", prog);
    add(&l, A_NORMAL, "");
    add(&l, theme(TH_HEADER), "Query");
    /* Keep the query's own line breaks; escape each line; wrap long lines. */
    const char *q = r->query ? r->query : "";
    while (*q) {
        size_t len = strcspn(q, "\n");
        char *raw = xstrndup(q, len);
        char *e = esc(raw, 1);
        size_t el = strlen(e);
        for (size_t off = 0; off < el || off == 0; off += (size_t)(wd > 10 ? wd - 2 : 8)) {
            char *piece = xstrndup(e + off, (size_t)(wd > 10 ? wd - 2 : 8));
            char *line = xasprintf("  %s", piece);
            add(&l, A_NORMAL, line);
            free(line);
            free(piece);
            if (el == 0)
                break;
        }
        free(raw);
        free(e);
        q += len + (q[len] == '\n');
    }
    add(&l, A_NORMAL, "");
    add(&l, A_DIM, "Up/Down scroll, Esc or q closes.");
    show(t, w, &l, title);
}
