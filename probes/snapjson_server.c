/* snapjson_server.c — the JSON snapshot's server figures (the Fleet row's): role, version,
 * uptime, connections {used, max_connections, reserved, usable, …}, active, blocked, the
 * longest query and transaction, tps, cache {hit_pct, interval_s} and the interval. */
#include "probes/snapjson.h"

void snapjson_server(const struct model *m, const struct server *s, json_t *o)
{
    (void)m;
    const struct s_server *ss = SAMPLE_SERVER(s->cur);
    json_object_set_new(
        o, "role", s->kind == KIND_PGBOUNCER || (ss && s->status != SRV_DOWN) ? json_string(srv_role(s)) : json_null());
    if (!ss || s->status == SRV_DOWN)
        return;
    json_object_set_new(o, "version", jstr(ss->version));
    json_object_set_new(o, "version_num", json_integer(ss->version_num));
    json_object_set_new(o, "uptime_s", jnum(ss->epoch - ss->started));
    json_t *c = json_object();
    int usable = ss->max_connections - ss->reserved_connections;
    json_object_set_new(c, "used", json_integer(ss->conns));
    json_object_set_new(c, "max_connections", json_integer(ss->max_connections));
    json_object_set_new(c, "reserved", json_integer(ss->reserved_connections));
    json_object_set_new(c, "usable", json_integer(usable));
    json_object_set_new(c, "used_pct", usable > 0 ? json_real(100.0 * ss->conns / usable) : json_null());
    json_object_set_new(c, "active", json_integer(ss->active));
    json_object_set_new(c, "idle", json_integer(ss->idle));
    json_object_set_new(c, "idle_in_transaction", json_integer(ss->idle_in_xact));
    json_object_set_new(c, "waiting_on_locks", json_integer(ss->waiting_lock));
    json_object_set_new(o, "connections", c);
    json_object_set_new(o, "active", json_integer(ss->active));
    json_object_set_new(o, "blocked", json_integer(ss->waiting_lock));
    json_object_set_new(o, "longest_query_s", jnum(ss->longest_query_s));
    json_object_set_new(o, "longest_xact_s", jnum(ss->longest_xact_s));
    json_object_set_new(o, "tps", jnum(ss->tps));
    json_t *cache = json_object();
    json_object_set_new(cache, "hit_pct", jnum(ss->cache_hit_pct));
    json_object_set_new(cache, "interval_s", jnum(ss->dt));
    json_object_set_new(o, "cache", cache);
    json_object_set_new(o, "interval_s", jnum(ss->dt));
}
