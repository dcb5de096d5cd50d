/* pane_jobs.c — pane 9: every action, running or done (newest first), with its state, server,
 * targets, duration and outcome, filtered and scoped like the other lists; Enter opens a job's
 * full live log, x aborts a running job. */
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "actions/job.h"
#include "tui/screen.h"

enum { JC_ID, JC_ACTION, JC_SERVER, JC_STATE, JC_TARGETS, JC_AGE, JC_TOOK, JC_OUTCOME, JC_N };
static const struct colspec cols[JC_N] = {
    [JC_ID] = {.title = "JOB", .width = 4, .prio = 100, .right = true, .numeric = true},
    [JC_ACTION] = {.title = "ACTION", .width = 12, .prio = 95},
    [JC_SERVER] = {.title = "SERVER", .width = 14, .prio = 90},
    [JC_STATE] = {.title = "STATE", .width = 8, .prio = 99},
    [JC_TARGETS] = {.title = "TARGETS", .width = 7, .prio = 40, .right = true, .numeric = true},
    [JC_AGE] = {.title = "STARTED", .width = 8, .prio = 50, .right = true, .numeric = true},
    [JC_TOOK] = {.title = "TOOK", .width = 7, .prio = 45, .right = true, .numeric = true},
    [JC_OUTCOME] = {.title = "OUTCOME", .width = 20, .prio = 98, .flex = true},
};

/* The pane's state: the table's place, and the selected job by its id, so the selection stays
 * on it when newer jobs are listed above it. */
static struct jobs_pane {
    struct table_state ts;
    unsigned job; /* 0: none yet */
} P;

/* The row of the selected job (ts.sel), or adopt the job under the cursor. */
static void sync(struct job *const *list, size_t n)
{
    for (size_t i = 0; P.job && i < n; i++)
        if (list[i]->id == P.job) {
            P.ts.sel = (int)i;
            return;
        }
    if (P.ts.sel >= (int)n)
        P.ts.sel = (int)n - 1;
    if (P.ts.sel < 0)
        P.ts.sel = 0;
    P.job = n ? list[P.ts.sel]->id : 0;
}

/* A job is listed under the scope when it ran on the scoped server, and under the filter when
 * its number, action, server, state or outcome holds it, or one of its targets' pid, user,
 * database, application or query does (or a tag of its server). */
static bool listed(const struct tui *t, const struct job *j)
{
    if (j->state == JOB_PENDING)
        return false;
    if (t->scope >= 0 && (size_t)t->scope < t->m->n && strcmp(j->server, t->m->servers[t->scope].conf->name) != 0)
        return false;
    const char *f = t->filter;
    if (!f[0])
        return true;
    char id[16];
    snprintf(id, sizeof id, "%u", j->id);
    if (contains_ci(id, f) || contains_ci(j->cls->name, f) || contains_ci(j->server, f) ||
        contains_ci(job_state_name(j->state), f) || contains_ci(j->outcome, f))
        return true;
    for (size_t i = 0; i < t->m->n; i++)
        if (strcmp(t->m->servers[i].conf->name, j->server) == 0 && server_matches(&t->m->servers[i], f))
            return true;
    for (size_t i = 0; i < j->ntargets; i++) {
        const struct job_target *g = &j->targets[i];
        snprintf(id, sizeof id, "%d", g->pid);
        if (contains_ci(id, f) || contains_ci(g->user, f) || contains_ci(g->database, f) ||
            contains_ci(g->application, f) || contains_ci(g->query, f))
            return true;
    }
    return false;
}

/* The jobs newest first, the order the pane shows them in. */
static size_t jobs_in_order(struct tui *t, struct job ***out)
{
    struct jobs *js = t->m->jobs;
    size_t n = 0;
    *out = xcalloc((js ? js->n : 0) + 1, sizeof **out);
    struct job *j;
    if (js)
        TAILQ_FOREACH_REVERSE(j, &js->list, job_list, entry)
    if (listed(t, j))
        (*out)[n++] = j;
    return n;
}

static void draw(struct tui *t, WINDOW *w)
{
    struct job **list;
    size_t n = jobs_in_order(t, &list);
    sync(list, n);
    cell_t *cells = xcalloc(n * JC_N + 1, sizeof *cells);
    enum sev *sev = xcalloc(n * JC_N + 1, sizeof *sev);
    int64_t now = now_ms();
    char tmp[64];
    for (size_t i = 0; i < n; i++) {
        const struct job *j = list[i];
        cell_t *c = &cells[i * JC_N];
        enum sev *sv = &sev[i * JC_N];
        snprintf(c[JC_ID], CELL_MAX, "%u", j->id);
        snprintf(c[JC_ACTION], CELL_MAX, "%s", j->cls->name);
        esc_into(c[JC_SERVER], CELL_MAX, j->server, 1);
        snprintf(c[JC_STATE], CELL_MAX, "%s", job_state_name(j->state));
        sv[JC_STATE] = j->state == JOB_RUNNING ? SEV_WARN : j->state == JOB_DONE ? SEV_OK : SEV_CRIT;
        if (j->ntargets)
            snprintf(c[JC_TARGETS], CELL_MAX, "%zu", j->ntargets);
        else
            snprintf(c[JC_TARGETS], CELL_MAX, "-");
        snprintf(c[JC_AGE], CELL_MAX, "%s ago", fmt_age(tmp, sizeof tmp, (double)(now - j->started_ms) / 1000));
        int64_t end = j->ended_ms ? j->ended_ms : now;
        snprintf(c[JC_TOOK], CELL_MAX, "%s", fmt_age(tmp, sizeof tmp, (double)(end - j->started_ms) / 1000));
        esc_into(c[JC_OUTCOME], CELL_MAX,
                 j->state != JOB_RUNNING ? j->outcome
                     : j->progress[0]    ? j->progress
                                         : "running…",
                 1);
    }
    table_draw(w, cols, JC_N, cells, sev, n, &P.ts, false);
    if (n == 0)
        put_clipped(w, 2, 2, getmaxx(w) - 4,
                    t->o.read_only      ? "read-only: actions are disabled"
                        : t->filter[0]  ? "no job matches the filter (Esc clears it)"
                        : t->scope >= 0 ? "no actions on this server yet (Esc: all servers)"
                                        : "no actions yet (c cancel, K terminate in Activity)",
                    theme(TH_DIM));
    if (t->m->jobs && t->m->jobs->audit_error[0]) {
        char *e = esc(t->m->jobs->audit_error, 1);
        char *line = xasprintf("AUDIT LOG NOT WRITTEN: %s", e);
        put_clipped(w, getmaxy(w) - 1, 0, getmaxx(w), line, theme(TH_CRIT));
        free(line);
        free(e);
    }
    free(cells);
    free(sev);
    free(list);
}

static struct job *selected(struct tui *t)
{
    struct job **list;
    size_t n = jobs_in_order(t, &list);
    sync(list, n);
    struct job *j = P.ts.sel >= 0 && (size_t)P.ts.sel < n ? list[P.ts.sel] : NULL;
    free(list);
    return j;
}

static struct key_result key(struct tui *t, enum command cmd)
{
    if (cmd == CMD_UP || cmd == CMD_DOWN || cmd == CMD_PGUP || cmd == CMD_PGDN || cmd == CMD_HOME || cmd == CMD_END) {
        struct job **list;
        size_t n = jobs_in_order(t, &list);
        sync(list, n);
        table_move(&P.ts, cmd, n, t->rows > 6 ? t->rows - 5 : 1);
        P.job = n ? list[P.ts.sel]->id : 0;
        free(list);
        return KEY_DONE(true);
    }
    struct job *j = selected(t);
    if (cmd == CMD_ENTER && j) {
        t->joblog_id = j->id;
        return KEY_MODAL(MODAL_JOBLOG);
    }
    if (cmd == CMD_ABORT) {
        if (j && j->state == JOB_RUNNING)
            job_abort(t->m->jobs, j);
        else
            tui_message(t, "no running job selected");
        return KEY_DONE(true);
    }
    return KEY_DONE(false);
}

/* The whole log of one job, each line escaped (it holds server text). */
void joblog_draw(struct tui *t, WINDOW *w)
{
    struct job *j = NULL, *it;
    if (t->m->jobs)
        TAILQ_FOREACH (it, &t->m->jobs->list, entry)
            if (it->id == t->joblog_id)
                j = it;
    int h, wd;
    getmaxyx(w, h, wd);
    werase(w);
    wattrset(w, theme(TH_TITLE));
    mvwhline(w, 0, 0, ' ', wd);
    if (!j)
        return;
    char title[200];
    char *srv = esc(j->server, 1);
    snprintf(title, sizeof title, "Job %u: %s on %s: %s", j->id, j->cls->title, srv, job_state_name(j->state));
    free(srv);
    put_clipped(w, 0, 1, wd - 2, title, theme(TH_TITLE));
    struct tview v = {0};
    tv_text(&v, A_NORMAL, 0, j->log.s);
    for (size_t i = 0; i < j->ntargets; i++) {
        char *r = esc(j->targets[i].result ? j->targets[i].result : "pending", 1);
        char *l = xasprintf("pid %d: %s", j->targets[i].pid, r);
        tv_add(&v, j->targets[i].ok ? theme(TH_OK) : theme(TH_WARN), 2, l);
        free(l);
        free(r);
    }
    tv_draw(w, 1, 1, h - 1, wd - 2, &v, &t->modal_scroll);
    tv_free(&v);
}

const struct pane_class pane_jobs = {
    .name = "jobs",
    .title = "Jobs",
    .draw = draw,
    .key = key,
    .footer = "Enter log  x abort  / filter  S scope",
    .filters = true,
    .ts = &P.ts,
};
