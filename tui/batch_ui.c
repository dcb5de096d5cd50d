/* batch_ui.c — the controls of pane 8 (Batch jobs): pause, resume, cancel, cancel now and the
 * batch size of a batched migration, as audited jobs on the job's server. Pause, resume and
 * the size start at once (pause is the emergency brake); cancel and cancel now open the
 * confirmation dialog. */
#include <stdlib.h>

#include "actions/action.h"
#include "actions/job.h"
#include "tui/screen.h"

static const struct action_class *class_of(enum batch_ctl ctl)
{
    switch (ctl) {
    case BATCH_PAUSE: return &action_batch_pause;
    case BATCH_RESUME: return &action_batch_resume;
    case BATCH_CANCEL: return &action_batch_cancel;
    case BATCH_CANCEL_NOW: return &action_batch_cancel_now;
    case BATCH_GROW:
    case BATCH_SHRINK: return &action_batch_size;
    }
    return NULL;
}

bool ui_batch_control(struct tui *t, size_t server, const char *job, const char *source, enum batch_ctl ctl)
{
    const struct action_class *cls = class_of(ctl);
    if (!cls)
        return false;
    if (t->o.read_only) {
        tui_message(t, "read-only: %s is disabled", cls->name);
        return false;
    }
    if (!t->m->jobs || server >= t->m->n || !job || !job[0]) {
        tui_message(t, "no batch job selected");
        return false;
    }
    const struct server *s = &t->m->servers[server];
    if (s->kind != KIND_POSTGRES) {
        tui_message(t, "a pgBouncer has no batch jobs");
        return false;
    }
    struct job *j =
        batch_control_new(t->m->jobs, cls, s->conf->name, s->conf->conninfo, job, source, ctl == BATCH_SHRINK ? -1 : 1);
    struct text why;
    text_init(&why);
    if (cls->precheck(j, &why) < 0) {
        tui_message(t, "%s", why.s);
        text_free(&why);
        job_discard(t->m->jobs, j);
        return false;
    }
    text_free(&why);
    if (cls->risk != RISK_SAFE) { /* cancel: final, so the dialog asks */
        t->pending[0] = j;
        t->npending = 1;
        t->answer[0] = '\0';
        return true;
    }
    job_start(t->m->jobs, j);
    char *jn = esc(job, 1), *srv = esc(s->conf->name, 1);
    tui_message(t, "%s %s on %s: job %u started (see pane 9, Jobs)", cls->name, jn, srv, j->id);
    free(jn);
    free(srv);
    return false;
}
