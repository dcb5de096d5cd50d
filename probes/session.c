/* session.c — session references (server, pid, backend start) and finding their rows again in
 * the current samples. */
#include <errno.h>
#include <stdlib.h>

#include "probes/session.h"

bool session_ref_make(struct session_ref *out, size_t server, int pid, const char *backend_start)
{
    if (!backend_start || !*backend_start)
        return false;
    char *end;
    errno = 0;
    long long us = strtoll(backend_start, &end, 10);
    if (errno || *end)
        return false;
    *out = (struct session_ref){server, pid, (int64_t)us};
    return true;
}

bool session_ref_eq(const struct session_ref *a, const struct session_ref *b)
{
    return a->server == b->server && a->pid == b->pid && a->backend_start_us == b->backend_start_us;
}

bool session_is(const struct session_ref *r, size_t server, int pid, const char *backend_start)
{
    struct session_ref o;
    return session_ref_make(&o, server, pid, backend_start) && session_ref_eq(r, &o);
}

const struct activity_row *session_activity(const struct model *m, const struct session_ref *r)
{
    if (r->server >= m->n)
        return NULL;
    const struct s_activity *a = SAMPLE_ACTIVITY(m->servers[r->server].cur);
    for (size_t i = 0; a && i < a->n; i++)
        if (session_is(r, r->server, a->rows[i].pid, a->rows[i].backend_start))
            return &a->rows[i];
    return NULL;
}

const struct activity_row *session_row(const struct model *m, const struct session_ref *r)
{
    const struct s_sessions *ss = r->server < m->n ? SAMPLE_SESSIONS(m->servers[r->server].cur) : NULL;
    const struct activity_row *a = ss ? sessions_find(ss, r->pid) : NULL;
    return a && session_is(r, r->server, a->pid, a->backend_start) ? a : NULL;
}

const struct lock_row *session_lock(const struct model *m, const struct session_ref *r, size_t *item)
{
    if (r->server >= m->n)
        return NULL;
    const struct server *s = &m->servers[r->server];
    const struct s_locks *l = s->kind == KIND_POSTGRES && s->status != SRV_DOWN ? SAMPLE_LOCKS(s->cur) : NULL;
    for (size_t i = 0; l && i < l->forest.nitems; i++) {
        const struct lock_row *lr = lock_item_row(l, i);
        if (lr && lr->known && session_is(r, r->server, lr->pid, lr->backend_start)) {
            if (item)
                *item = i;
            return lr;
        }
    }
    return NULL;
}
