/* snapjson_locks.c — the JSON snapshot's lock_tree[]: the lock forest of a PostgreSQL server,
 * each root blocker with its state, what it holds and how many it blocks, its waiters nested
 * under it (the lock they want, the relation, how long they waited, DDL marked), and
 * lock_cycles. */
#include "probes/snapjson.h"

#include <math.h>

#include "probes/sec_locks.h"

/* The JSON nests waiters this deep; deeper ones are listed flat under the last nested level. */
#define MAX_JSON_DEPTH 64

static const struct s_locks *server_locks(const struct server *s)
{
    if (s->kind != KIND_POSTGRES || s->status == SRV_DOWN)
        return NULL;
    return SAMPLE_LOCKS(s->cur);
}

/* A forest item with no session row: pid 0 is a prepared transaction, else the backend ended. */
static const char *missing_state(int pid) { return pid == 0 ? "prepared xact" : "ended"; }

static json_t *pid_array(const struct lock_row *r, int skip)
{
    json_t *a = json_array();
    for (size_t b = 0; r && b < r->nblockers; b++)
        if (r->blockers[b] != skip && r->blockers[b] != r->pid)
            json_array_append_new(a, json_integer(r->blockers[b]));
    return a;
}

static json_t *root_json(const struct s_locks *l, size_t item)
{
    const struct lt_item *it = &l->forest.items[item];
    const struct lock_row *r = lock_item_row(l, item);
    json_t *j = json_object();
    json_object_set_new(j, "pid", json_integer(it->pid));
    json_object_set_new(j, "state", r && r->known ? jstr(r->state) : json_string(missing_state(it->pid)));
    json_object_set_new(j, "idle_in_transaction", json_boolean(lock_row_idle_in_xact(r)));
    json_object_set_new(j, "user", jstr(r ? r->usename : NULL));
    json_object_set_new(j, "database", jstr(r ? r->datname : NULL));
    json_object_set_new(j, "application_name", jstr(r ? r->application_name : NULL));
    json_object_set_new(j, "xact_age_s", jnum(r ? r->xact_age : NAN));
    json_object_set_new(j, "state_age_s", jnum(r ? r->state_age : NAN));
    json_object_set_new(j, "holds", jstr(r ? r->holds : NULL));
    json_object_set_new(j, "blocked_count", json_integer((json_int_t)it->blocked));
    json_object_set_new(j, "is_ddl", json_boolean(r && r->is_ddl));
    json_object_set_new(j, "in_cycle", json_boolean(it->in_cycle));
    /* a root that waits itself: the member of a cycle chosen to stand at the top */
    if (r && r->mode) {
        json_object_set_new(j, "mode", jstr(r->mode));
        json_object_set_new(j, "also_blocked_by", pid_array(r, -1));
    }
    json_object_set_new(j, "query", jstr(r ? r->query : NULL));
    jtime_us(j, "backend_start", r ? r->backend_start : NULL);
    json_object_set_new(j, "waiters", json_array());
    return j;
}

static json_t *waiter_json(const struct s_locks *l, size_t item)
{
    const struct lt_item *it = &l->forest.items[item];
    const struct lock_row *r = lock_item_row(l, item);
    json_t *j = json_object();
    json_object_set_new(j, "pid", json_integer(it->pid));
    json_object_set_new(j, "state", r && r->known ? jstr(r->state) : json_string(missing_state(it->pid)));
    json_object_set_new(j, "mode", jstr(r ? r->mode : NULL));
    json_object_set_new(j, "locktype", jstr(r ? r->locktype : NULL));
    json_object_set_new(j, "relation", jstr(r ? r->relation : NULL));
    json_object_set_new(j, "wait_s", jnum(r ? r->wait_s : NAN));
    json_object_set_new(j, "also_blocked_by", pid_array(r, lock_forest_parent_pid(&l->forest, item)));
    json_object_set_new(j, "inferred", json_boolean(r && r->inferred));
    json_object_set_new(j, "blocked_count", json_integer((json_int_t)it->subtree));
    json_object_set_new(j, "is_ddl", json_boolean(r && r->is_ddl));
    json_object_set_new(j, "in_cycle", json_boolean(it->in_cycle));
    json_object_set_new(j, "user", jstr(r ? r->usename : NULL));
    json_object_set_new(j, "database", jstr(r ? r->datname : NULL));
    json_object_set_new(j, "application_name", jstr(r ? r->application_name : NULL));
    json_object_set_new(j, "query", jstr(r ? r->query : NULL));
    jtime_us(j, "backend_start", r ? r->backend_start : NULL);
    json_object_set_new(j, "waiters", json_array());
    return j;
}

/* Iterative, as the forest is in preorder: an item's JSON parent is the open object one level
 * up. Levels past MAX_JSON_DEPTH are appended flat to the deepest nested level, with the pid
 * they wait under, so a pathological chain cannot make the document too deep to read. */
void snapjson_locks(const struct model *m, const struct server *s, json_t *o)
{
    (void)m;
    const struct s_locks *l = server_locks(s);
    if (!l)
        return;
    const struct lock_forest *f = &l->forest;
    json_t *arr = json_array();
    json_t *open[MAX_JSON_DEPTH + 1] = {0};
    for (size_t i = 0; i < f->nitems; i++) {
        const struct lt_item *it = &f->items[i];
        if (it->parent == LT_NONE) {
            open[0] = root_json(l, i);
            json_array_append_new(arr, open[0]);
            continue;
        }
        json_t *j = waiter_json(l, i);
        unsigned d = it->depth > MAX_JSON_DEPTH ? MAX_JSON_DEPTH : it->depth;
        if (it->depth > MAX_JSON_DEPTH)
            json_object_set_new(j, "under_pid", json_integer(lock_forest_parent_pid(f, i)));
        json_array_append_new(json_object_get(open[d - 1], "waiters"), j);
        if (it->depth <= MAX_JSON_DEPTH)
            open[d] = j;
    }
    json_object_set_new(o, "lock_tree", arr);
    json_object_set_new(o, "lock_cycles", json_integer((json_int_t)f->ncycles));
}
