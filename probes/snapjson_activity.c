/* snapjson_activity.c — the JSON snapshot's activity[]: one object per session of a PostgreSQL
 * server with the Activity pane's fields, server text raw (escaped only if not valid UTF-8). */
#include "probes/snapjson.h"

void snapjson_activity(const struct model *m, const struct server *s, json_t *o)
{
    (void)m;
    const struct s_activity *a = SAMPLE_ACTIVITY(s->cur);
    if (s->kind != KIND_POSTGRES || s->status == SRV_DOWN || !a)
        return;
    json_t *arr = json_array();
    for (size_t i = 0; i < a->n; i++) {
        const struct activity_row *r = &a->rows[i];
        json_t *j = json_object();
        json_object_set_new(j, "pid", json_integer(r->pid));
        json_object_set_new(j, "database", jstr(r->datname));
        json_object_set_new(j, "user", jstr(r->usename));
        json_object_set_new(j, "application_name", jstr(r->application_name));
        json_object_set_new(j, "client", jstr(r->client));
        json_object_set_new(j, "backend_type", jstr(r->backend_type));
        json_object_set_new(j, "state", jstr(r->state));
        json_object_set_new(j, "wait_event_type", jstr(r->wait_event_type));
        json_object_set_new(j, "wait_event", jstr(r->wait_event));
        json_object_set_new(j, "xact_age_s", jnum(r->xact_age));
        json_object_set_new(j, "query_age_s", jnum(r->query_age));
        json_object_set_new(j, "state_age_s", jnum(r->state_age));
        json_object_set_new(j, "blocked_by", json_integer(r->blocked_by));
        jtime_us(j, "backend_start", r->backend_start);
        jtime_us(j, "query_start", r->query_start);
        json_object_set_new(j, "query", jstr(r->query));
        json_array_append_new(arr, j);
    }
    json_object_set_new(o, "activity", arr);
}
