/* actions_ui.c — how the panes start actions: tags (Space), the checks made before asking
 * (read-only, targets the login cannot signal), the confirmation dialog (y/n, or typing "yes"
 * for the dangerous cases; Esc always backs out with nothing sent), and starting the jobs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "actions/job.h"
#include "actions/restore_test.h"
#include "tui/screen.h"

bool tag_has(const struct tui *t, const struct session_ref *r)
{
    for (size_t i = 0; i < t->ntags; i++)
        if (session_ref_eq(&t->tags[i], r))
            return true;
    return false;
}

bool tag_toggle(struct tui *t, const struct session_ref *r)
{
    for (size_t i = 0; i < t->ntags; i++)
        if (session_ref_eq(&t->tags[i], r)) {
            t->tags[i] = t->tags[--t->ntags];
            return false;
        }
    t->tags = xreallocarray(t->tags, t->ntags + 1, sizeof *t->tags);
    t->tags[t->ntags++] = *r;
    return true;
}

/* A tag lives only as long as its backend: drop the ones no longer in the activity samples. */
void tags_prune(struct tui *t)
{
    for (size_t i = 0; i < t->ntags;) {
        if (session_activity(t->m, &t->tags[i]))
            i++;
        else
            t->tags[i] = t->tags[--t->ntags];
    }
}

const char *ui_unsignalable(const struct tui *t, size_t server, const struct job_target *d)
{
    if (target_is_system(d) && !t->m->cfg->allow_system_backends)
        return "not a client session: never a target";
    return target_unsignalable(d, &t->m->servers[server].caps);
}

bool ui_request_action(struct tui *t, const struct action_class *cls, const struct ui_target *tg, size_t n)
{
    if (t->o.read_only) {
        tui_message(t, "read-only: %s is disabled", cls->name);
        return false;
    }
    if (!t->m->jobs || n == 0) {
        tui_message(t, "no session selected");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *why = ui_unsignalable(t, tg[i].server, tg[i].facts);
        if (why) {
            tui_message(t, "pid %d: %s", tg[i].facts->pid, why);
            return false;
        }
    }
    /* one job per server, all confirmed in one dialog */
    t->npending = 0;
    for (size_t i = 0; i < n; i++) {
        const struct server *s = &t->m->servers[tg[i].server];
        struct job *j = NULL;
        for (int k = 0; k < t->npending; k++)
            if (strcmp(t->pending[k]->server, s->conf->name) == 0)
                j = t->pending[k];
        if (!j) {
            if (t->npending == (int)ARRAY_LEN(t->pending)) {
                tui_message(t, "too many servers in one action");
                break;
            }
            j = job_new(t->m->jobs, cls, s->conf->name, s->conf->conninfo);
            t->pending[t->npending++] = j;
        }
        struct job_target d = *tg[i].facts;
        char pooler[160];
        if (pooler_of_backend(t->m, tg[i].server, d.pid, pooler, sizeof pooler))
            d.pooler = pooler;
        job_add_target(j, &d); /* copies every string */
    }
    for (int k = 0; k < t->npending; k++) {
        struct text why;
        text_init(&why);
        if (cls->precheck && cls->precheck(t->pending[k], &why) < 0) {
            tui_message(t, "%s", why.s);
            text_free(&why);
            for (int q = 0; q < t->npending; q++)
                job_discard(t->m->jobs, t->pending[q]);
            t->npending = 0;
            return false;
        }
        text_free(&why);
    }
    t->answer[0] = '\0';
    return true;
}

bool ui_request_restore_test(struct tui *t, size_t server)
{
    const struct server *s = &t->m->servers[server];
    if (t->o.read_only) {
        tui_message(t, "read-only: restore tests are disabled");
        return false;
    }
    if (!t->m->jobs)
        return false;
    if (s->kind != KIND_POSTGRES) {
        tui_message(t, "a pgBouncer holds no data: restore-test the servers behind it");
        return false;
    }
    size_t src = restore_pick_source(t->m, server);
    struct restore_request req = {
        .server = s->conf->name,
        .conninfo = s->conf->conninfo,
        .source = t->m->servers[src].conf->name,
        .source_conninfo = t->m->servers[src].conf->conninfo,
        .records_path = t->m->restore.path,
        .read_only = t->o.read_only,
    };
    restore_conf_resolve(t->m->cfg, s->conf, &req.conf);
    struct job *j = restore_test_new(t->m->jobs, &req);
    struct text why;
    text_init(&why);
    if (j->cls->precheck(j, &why) < 0) {
        tui_message(t, "%s", why.s);
        text_free(&why);
        job_discard(t->m->jobs, j);
        return false;
    }
    text_free(&why);
    t->pending[0] = j;
    t->npending = 1;
    t->answer[0] = '\0';
    return true;
}

void ui_quit_draw(struct tui *t, WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    werase(w);
    tv_title(w, "Quit pgfleet?", theme(TH_WARN) | A_REVERSE);
    struct tview v = {0};
    const struct job *j;
    TAILQ_FOREACH (j, &t->m->jobs->list, entry) {
        if (j->state != JOB_RUNNING || !restore_test_running(t->m->jobs, j->server) || j->cls != &action_restore_test)
            continue;
        char *srv = esc(j->server, 1), *prog = esc(j->progress, 1);
        char *l = xasprintf("A restore test of %s is running (job %u: %s).", srv, j->id, prog);
        tv_add(&v, A_NORMAL, 0, l);
        free(l);
        free(srv);
        free(prog);
    }
    tv_add(&v, A_NORMAL, 0, "");
    tv_add(&v, A_NORMAL, 0, "Quitting aborts it: its tool is stopped, its scratch server stopped and its");
    tv_add(&v, A_NORMAL, 0, "directory removed; the run is recorded as aborted.");
    tv_add(&v, A_NORMAL, 0, "");
    tv_add(&v, A_BOLD, 0, "y quit and abort     n / Esc stay");
    tv_draw(w, 2, 2, h - 3, wd - 4, &v, &t->modal_scroll);
    tv_free(&v);
}

bool ui_quit_key(struct tui *t, int key)
{
    if (key == 'y' || key == 'Y') {
        t->quit = true;
        return false;
    }
    return !(key == 'n' || key == 'N' || key == 27 || key == 'q');
}

static enum confirm strictest(const struct tui *t)
{
    enum confirm c = CONFIRM_YN;
    size_t targets = 0;
    for (int k = 0; k < t->npending; k++) {
        enum confirm ck = t->pending[k]->cls->confirm(t->pending[k]);
        if (ck > c)
            c = ck;
        targets += t->pending[k]->ntargets;
    }
    if (targets > 1 && c == CONFIRM_YN && t->npending > 1)
        c = CONFIRM_TYPE_YES;
    return c;
}

static void close_dialog(struct tui *t, bool go)
{
    for (int k = 0; k < t->npending; k++) {
        if (go)
            job_start(t->m->jobs, t->pending[k]);
        else
            job_discard(t->m->jobs, t->pending[k]);
    }
    if (go)
        tui_message(t, "%d job%s started: see pane 9 (Jobs)", t->npending, t->npending == 1 ? "" : "s");
    else
        tui_message(t, "backed out: nothing was sent");
    t->npending = 0;
    if (go)
        t->ntags = 0; /* the tagged sessions were acted on */
}

/* Returns false when the dialog is over (confirmed or backed out). */
bool ui_confirm_key(struct tui *t, int key)
{
    enum confirm c = strictest(t);
    if (key == 27) {
        close_dialog(t, false);
        return false;
    }
    if (c == CONFIRM_YN) {
        if (key == 'y' || key == 'Y')
            close_dialog(t, true);
        else if (key == 'n' || key == 'N' || key == 'q')
            close_dialog(t, false);
        else
            return true;
        return false;
    }
    size_t len = strlen(t->answer);
    if (key == '\n' || key == '\r' || key == KEY_ENTER) {
        if (confirm_answer_ok(c, t->answer)) { /* the rule the shell's prompt uses too */
            close_dialog(t, true);
            return false;
        }
        t->answer[0] = '\0';
    } else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (len)
            t->answer[len - 1] = '\0';
    } else if (key == KEY_UP || key == KEY_DOWN) {
        t->modal_scroll += key == KEY_UP ? -1 : 1;
    } else if (key >= 32 && key < 127 && len + 1 < sizeof t->answer) {
        t->answer[len] = (char)key;
        t->answer[len + 1] = '\0';
    }
    return true;
}

void ui_confirm_draw(struct tui *t, WINDOW *w)
{
    int h, wd;
    getmaxyx(w, h, wd);
    werase(w);
    if (!t->npending)
        return;
    const struct action_class *cls = t->pending[0]->cls;
    attr_t title = cls->risk == RISK_DANGEROUS ? theme(TH_CRIT) | A_REVERSE : theme(TH_TITLE);
    wattrset(w, title);
    mvwhline(w, 0, 0, ' ', wd);
    put_clipped(w, 0, 1, wd - 2, cls->title, title);
    struct text d;
    text_init(&d);
    for (int k = 0; k < t->npending; k++)
        t->pending[k]->cls->describe(t->pending[k], &d);
    struct tview v = {0};
    for (const char *p = d.s; p && *p;) { /* describe() escaped it */
        size_t len = strcspn(p, "\n");
        char *l = xstrndup(p, len);
        tv_add(&v, A_NORMAL, 0, l);
        free(l);
        p += len + (p[len] == '\n');
    }
    tv_draw(w, 2, 2, h - 5, wd - 4, &v, &t->modal_scroll);
    int y = 2 + (v.n < h - 5 ? v.n : h - 5);
    tv_free(&v);
    text_free(&d);
    enum confirm c = strictest(t);
    char prompt[128];
    if (c == CONFIRM_YN)
        snprintf(prompt, sizeof prompt, "Proceed? [y] yes   [n] no   (Esc backs out: nothing is sent)");
    else
        snprintf(prompt, sizeof prompt, "Type yes and Enter to proceed (Esc backs out): %s_", t->answer);
    put_clipped(w, h - 2 > y ? h - 2 : y, 2, wd - 4, prompt, A_BOLD);
}
