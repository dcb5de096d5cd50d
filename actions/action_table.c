/* action_table.c — the registry of actions, and the rules every action on a session shares:
 * which sessions are never targets, which the login cannot signal, and the dialog's target list. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "actions/action.h"
#include "probes/probe.h"
#include "probes/sample.h"
#include "probes/sec_locks.h"

const struct action_class *const action_table[] = {&action_cancel,           &action_terminate,    &action_restore_test,
                                                   &action_batch_pause,      &action_batch_resume, &action_batch_cancel,
                                                   &action_batch_cancel_now, &action_batch_size,   NULL};

const struct action_class *action_find(const char *name)
{
    for (size_t i = 0; action_table[i]; i++)
        if (strcmp(action_table[i]->name, name) == 0)
            return action_table[i];
    return NULL;
}

bool confirm_answer_ok(enum confirm c, const char *answer)
{
    while (*answer == ' ' || *answer == '\t')
        answer++;
    size_t n = strlen(answer);
    while (n && strchr(" \t\r\n", answer[n - 1]))
        n--;
    if (c == CONFIRM_YN)
        return (n == 1 && (answer[0] == 'y' || answer[0] == 'Y')) || (n == 3 && strncasecmp(answer, "yes", 3) == 0);
    /* no action asks for a name yet: only "yes" is a word to type */
    return c == CONFIRM_TYPE_YES && n == 3 && strncmp(answer, "yes", 3) == 0;
}

void target_from_activity(struct job_target *d, const struct activity_row *r)
{
    memset(d, 0, sizeof *d);
    d->pid = r->pid;
    d->backend_start = r->backend_start;
    d->query_start = r->query_start;
    d->user = r->usename;
    d->database = r->datname;
    d->application = r->application_name;
    d->client = r->client;
    d->state = r->state;
    d->backend_type = r->backend_type;
    d->query = r->query;
    d->age_s = r->query_age;
    d->superuser = r->superuser;
}

void target_from_lock(struct job_target *d, const struct lock_row *r)
{
    memset(d, 0, sizeof *d);
    d->pid = r->pid;
    d->backend_start = r->backend_start; /* no query_start: the guard is the backend start */
    d->user = r->usename;
    d->database = r->datname;
    d->application = r->application_name;
    d->state = r->state;
    d->backend_type = r->backend_type;
    d->query = r->query;
    d->age_s = NAN;
}

/* Background processes (autovacuum, walsenders, the checkpointer…). */
bool target_is_system(const struct job_target *t)
{
    /* Never by application_name: anyone can call a session "pgfleet" to hide from us. Our own
     * sessions are left out by their pids (the probes' and the acting statement's
     * pg_backend_pid()). */
    return t->backend_type && strcmp(t->backend_type, "client backend") != 0;
}

const char *target_unsignalable(const struct job_target *t, const struct server_caps *caps)
{
    if (!caps || caps->superuser)
        return NULL;
    if (t->superuser)
        return "a superuser's session: only a superuser may signal it";
    if (caps->signal_backend)
        return NULL;
    if (t->user && caps->current_user && strcmp(t->user, caps->current_user) == 0)
        return NULL;
    return "another role's session: needs pg_signal_backend (or membership in that role)";
}

void describe_targets(const struct job *j, struct text *out)
{
    char age[32];
    for (size_t i = 0; i < j->ntargets; i++) {
        const struct job_target *t = &j->targets[i];
        char *user = esc(t->user ? t->user : "?", 1), *db = esc(t->database ? t->database : "?", 1);
        char *app = esc(t->application ? t->application : "", 1);
        char *client = esc(t->client ? t->client : "", 1), *state = esc(t->state ? t->state : "", 1);
        char q[121];
        esc_into(q, sizeof q, t->query ? t->query : "", 1);
        text_printf(out, "pid %d  %s@%s  app %s  client %s  %s %s%s\n", t->pid, user, db, app[0] ? app : "-",
                    client[0] ? client : "-", state, isnan(t->age_s) ? "" : fmt_age(age, sizeof age, t->age_s),
                    t->superuser ? "  SUPERUSER" : "");
        if (t->blocks > 0)
            text_printf(out, "    blocks %d session%s\n", t->blocks, t->blocks == 1 ? "" : "s");
        if (t->pooler) {
            char *p = esc(t->pooler, 1);
            text_printf(out,
                        "    a SERVER CONNECTION of pgBouncer %s: whichever client's transaction\n"
                        "    runs on it now is the one hit, not a client of your choosing\n",
                        p);
            free(p);
        }
        text_printf(out, "    %s\n", q);
        free(user), free(db), free(app), free(client), free(state);
    }
}
