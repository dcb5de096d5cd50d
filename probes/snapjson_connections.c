/* snapjson_connections.c — the JSON snapshot's connection breakdown: for a PostgreSQL server the
 * reserved slots and the by_state/by_database/by_user/by_application/by_client groups, the
 * sessions idle in a transaction and the poolers that serve it (added to its "connections"
 * object); for a pgBouncer what it serves, its pools[] with their totals and its stats[]. */
#include "probes/snapjson.h"

#include "core/util.h"
#include "probes/health.h"
#include "probes/sec_connections.h"

static json_t *group_json(const struct conn_group *g)
{
    json_t *a = json_array();
    for (size_t i = 0; i < g->ntop; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "name", jstr(g->top[i].name));
        json_object_set_new(e, "count", json_integer(g->top[i].n));
        json_array_append_new(a, e);
    }
    if (g->other > 0) {
        json_t *e = json_object();
        json_object_set_new(e, "name", json_null());
        json_object_set_new(e, "other", json_true());
        json_object_set_new(e, "values", json_integer(g->nkeys - (long)g->ntop));
        json_object_set_new(e, "count", json_integer(g->other));
        json_array_append_new(a, e);
    }
    return a;
}

static json_t *iit_json(const struct conn_iit *r)
{
    json_t *e = json_object();
    json_object_set_new(e, "pid", json_integer(r->pid));
    json_object_set_new(e, "user", jstr(r->usename));
    json_object_set_new(e, "database", jstr(r->datname));
    json_object_set_new(e, "application_name", jstr(r->application_name));
    json_object_set_new(e, "client", jstr(r->client));
    json_object_set_new(e, "state", jstr(r->state));
    json_object_set_new(e, "idle_s", jnum(r->idle_s));
    json_object_set_new(e, "xact_age_s", jnum(r->xact_s));
    json_object_set_new(e, "xmin_age", r->xmin_age >= 0 ? json_integer(r->xmin_age) : json_null());
    return e;
}

/* Adds to the server's "connections" object (snapjson_server's), or makes it. */
static void server_json(const struct model *m, const struct server *s, json_t *o)
{
    const struct s_connections *c = SAMPLE_CONNECTIONS(s->cur);
    if (!c || s->status == SRV_DOWN)
        return;
    json_t *j = json_object_get(o, "connections");
    if (!j) {
        j = json_object();
        json_object_set_new(o, "connections", j);
    }
    static const char *const keys[CB_N] = {
        [CB_STATE] = "by_state",   [CB_DATABASE] = "by_database",
        [CB_USER] = "by_user",     [CB_APPLICATION] = "by_application",
        [CB_CLIENT] = "by_client",
    };
    json_object_set_new(j, "superuser_reserved_connections", json_integer(c->superuser_reserved));
    json_object_set_new(j, "reserved_connections", json_integer(c->reserved));
    json_object_set_new(j, "usable_by_users", json_integer(conn_usable(c)));
    json_object_set_new(j, "own", json_integer(c->own));
    json_object_set_new(j, "sessions", json_integer(c->sessions));
    for (int b = 0; b < CB_N; b++)
        json_object_set_new(j, keys[b], group_json(&c->by[b]));
    json_t *a = json_array();
    for (size_t i = 0; i < c->niit; i++)
        json_array_append_new(a, iit_json(&c->iit[i]));
    json_object_set_new(j, "idle_in_transaction_sessions", a);
    json_object_set_new(j, "idle_in_transaction_total", json_integer(c->niit_total));
    json_t *pl = json_array();
    for (size_t k = 0; k < m->n; k++)
        if (m->servers[k].kind == KIND_PGBOUNCER && pooler_serves(&m->servers[k], s->conf->name))
            json_array_append_new(pl, jstr(m->servers[k].conf->name));
    json_object_set_new(j, "poolers", pl);
}

static json_t *count_json(long v) { return v < 0 ? json_null() : json_integer(v); }
static json_t *i64_json(int64_t v) { return v < 0 ? json_null() : json_integer(v); }

static json_t *pool_json(const struct pool_row *r)
{
    json_t *e = json_object();
    json_object_set_new(e, "database", jstr(r->database));
    json_object_set_new(e, "user", jstr(r->user));
    json_object_set_new(e, "cl_active", count_json(r->cl_active));
    json_object_set_new(e, "cl_waiting", count_json(r->cl_waiting));
    json_object_set_new(e, "cl_active_cancel_req", count_json(r->cl_active_cancel_req));
    json_object_set_new(e, "cl_waiting_cancel_req", count_json(r->cl_waiting_cancel_req));
    json_object_set_new(e, "sv_active", count_json(r->sv_active));
    json_object_set_new(e, "sv_idle", count_json(r->sv_idle));
    json_object_set_new(e, "sv_used", count_json(r->sv_used));
    json_object_set_new(e, "sv_tested", count_json(r->sv_tested));
    json_object_set_new(e, "sv_login", count_json(r->sv_login));
    json_object_set_new(e, "maxwait_s", jnum(r->maxwait_s));
    json_object_set_new(e, "pool_mode", jstr(r->pool_mode));
    json_object_set_new(e, "severity",
                        json_string(health_pool(r) == SEV_CRIT       ? "CRIT"
                                        : health_pool(r) == SEV_WARN ? "WARN"
                                                                     : "OK"));
    return e;
}

static json_t *poolstat_json(const struct poolstat_row *r)
{
    json_t *e = json_object();
    json_object_set_new(e, "database", jstr(r->database));
    const struct {
        const char *k;
        int64_t v;
    } tot[] = {
        {"total_xact_count", r->xact_count},
        {"total_query_count", r->query_count},
        {"total_received", r->received},
        {"total_sent", r->sent},
        {"total_xact_time", r->xact_time},
        {"total_query_time", r->query_time},
        {"total_wait_time", r->wait_time},
        {"avg_xact_count", r->avg_xact_count},
        {"avg_query_count", r->avg_query_count},
        {"avg_recv", r->avg_recv},
        {"avg_sent", r->avg_sent},
        {"avg_xact_time", r->avg_xact_time},
        {"avg_query_time", r->avg_query_time},
        {"avg_wait_time", r->avg_wait_time},
    };
    for (size_t i = 0; i < ARRAY_LEN(tot); i++)
        json_object_set_new(e, tot[i].k, i64_json(tot[i].v));
    json_object_set_new(e, "xacts_per_s", jnum(r->xacts_s));
    json_object_set_new(e, "queries_per_s", jnum(r->queries_s));
    json_object_set_new(e, "received_bytes_per_s", jnum(r->recv_s));
    json_object_set_new(e, "sent_bytes_per_s", jnum(r->sent_s));
    json_object_set_new(e, "xact_time_us", jnum(r->xact_us));
    json_object_set_new(e, "query_time_us", jnum(r->query_us));
    json_object_set_new(e, "wait_us_per_xact", jnum(r->wait_us));
    return e;
}

static void pooler_json(const struct server *s, json_t *o)
{
    json_t *sv = json_array();
    for (size_t i = 0; s->pooler && i < s->pooler->nserves; i++)
        json_array_append_new(sv, jstr(s->pooler->serves[i]));
    json_object_set_new(o, "serves", sv);
    const struct s_pools *p = SAMPLE_POOLS(s->cur);
    const struct s_poolstats *st = SAMPLE_POOLSTATS(s->cur);
    if (s->status == SRV_DOWN)
        return;
    if (p) {
        json_t *a = json_array();
        for (size_t i = 0; i < p->n; i++)
            json_array_append_new(a, pool_json(&p->rows[i]));
        json_object_set_new(o, "pools", a);
        struct pool_sum t = pool_totals(p);
        json_t *j = json_object();
        json_object_set_new(j, "cl_active", json_integer(t.cl_active));
        json_object_set_new(j, "cl_waiting", json_integer(t.cl_waiting));
        json_object_set_new(j, "sv_active", json_integer(t.sv_active));
        json_object_set_new(j, "sv_idle", json_integer(t.sv_idle));
        json_object_set_new(j, "sv_used", json_integer(t.sv_used));
        json_object_set_new(j, "maxwait_s", json_real(t.maxwait_s));
        json_object_set_new(o, "pool_totals", j);
    }
    if (st) {
        json_t *a = json_array();
        for (size_t i = 0; i < st->n; i++)
            json_array_append_new(a, poolstat_json(&st->rows[i]));
        json_object_set_new(o, "stats", a);
        json_object_set_new(o, "stats_interval_s", jnum(st->dt));
    }
}

void snapjson_connections(const struct model *m, const struct server *s, json_t *o)
{
    if (s->kind == KIND_PGBOUNCER)
        pooler_json(s, o);
    else
        server_json(m, s, o);
}
