/* snapjson.c — the JSON snapshot document: {schema_version, pgfleet_version, taken_at,
 * refresh_s, servers[]}, the servers worst first, each object built by the section writers
 * (snapjson_*.c) in one fixed order, then the keys every server has; and the JSON helpers the
 * sections share. Reads the model only: no drawing code is linked into this path. */
#include "probes/snapjson.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "core/rowset.h"
#include "core/util.h"
#include "probes/health.h"

json_t *jnum(double v) { return isnan(v) || isinf(v) ? json_null() : json_real(v); }

/* Server text as it came, when it is valid UTF-8; escaped when it is not (a LATIN1 or SQL_ASCII
 * database): jansson refuses invalid UTF-8, and the key would silently go missing. */
json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    char *e = esc(s, 0);
    j = json_string(e);
    free(e);
    return j ? j : json_string("?");
}

void jtime_us(json_t *o, const char *key, const char *us)
{
    char ts[48], k[64];
    json_object_set_new(o, key, us ? json_string(fmt_epoch_us(ts, sizeof ts, us)) : json_null());
    snprintf(k, sizeof k, "%s_us", key);
    json_object_set_new(o, k, us ? json_integer(cell_i64(us)) : json_null());
}

/* The keys the README documents for each server object: present in every snapshot, null when
 * not known (a server DOWN, or a probe that failed: probe_errors says why), so a script never
 * has to tell a missing key from a missing fact. */
static const char *const postgres_keys[] = {
    "role",   "version",    "version_num",     "uptime_s",       "connections",
    "active", "blocked",    "longest_query_s", "longest_xact_s", "tps",
    "cache",  "interval_s", "activity",        "lock_tree",      "replication",
    "io",     "statements", "progress",        "probe_errors",   "restore_test",
};
static const char *const pooler_keys[] = {"serves", "pools", "stats", "probe_errors"};

static void fill_documented(const struct server *s, json_t *o)
{
    bool pg = s->kind == KIND_POSTGRES;
    const char *const *keys = pg ? postgres_keys : pooler_keys;
    size_t n = pg ? ARRAY_LEN(postgres_keys) : ARRAY_LEN(pooler_keys);
    for (size_t i = 0; i < n; i++)
        if (!json_object_get(o, keys[i]))
            json_object_set_new(o, keys[i], json_null());
}

/* The sections in the order their keys appear in a server's object. A section may add to an
 * object an earlier one made (cache, connections) or make it itself: none depends on another
 * having run. */
static void (*const sections[])(const struct model *, const struct server *, json_t *) = {
    snapjson_server,      snapjson_activity, snapjson_locks,      snapjson_replication,
    snapjson_connections, snapjson_io,       snapjson_statements, snapjson_restore,
};

json_t *snapjson_server_object(const struct model *m, const struct server *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", jstr(s->conf->name));
    json_t *tags = json_array();
    for (size_t i = 0; i < s->conf->ntags; i++)
        json_array_append_new(tags, jstr(s->conf->tags[i]));
    json_object_set_new(o, "tags", tags);
    json_object_set_new(o, "kind", json_string(s->kind == KIND_PGBOUNCER ? "pgbouncer" : "postgres"));
    json_object_set_new(o, "status", json_string(srv_status_name(s->status)));
    json_object_set_new(o, "reason", s->reason[0] ? jstr(s->reason) : json_null());
    json_object_set_new(o, "severity", json_integer(health_score(m, s)));
    json_object_set_new(o, "tick_ms", json_integer(s->tick_ms));
    for (size_t i = 0; i < ARRAY_LEN(sections); i++)
        sections[i](m, s, o);
    if (s->cur) {
        json_t *errs = json_object();
        for (int p = 0; p < PROBE_MAX; p++)
            if (s->cur->err[p])
                json_object_set_new(errs, probe_table[p]->name, jstr(s->cur->err[p]));
        json_object_set_new(o, "probe_errors", errs);
    }
    fill_documented(s, o);
    return o;
}

json_t *snapjson_document(const struct model *m)
{
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *root = json_object();
    json_object_set_new(root, "schema_version", json_integer(SNAPSHOT_SCHEMA_VERSION));
    json_object_set_new(root, "pgfleet_version", json_string(PGFLEET_VERSION));
    json_object_set_new(root, "taken_at", json_string(ts));
    json_object_set_new(root, "refresh_s", json_real((double)m->refresh_ms / 1000));
    json_t *arr = json_array();
    size_t *order = xcalloc(m->n + 1, sizeof *order);
    fleet_order(m, order);
    for (size_t i = 0; i < m->n; i++)
        json_array_append_new(arr, snapjson_server_object(m, &m->servers[order[i]]));
    free(order);
    json_object_set_new(root, "servers", arr);
    return root;
}

void snapjson_write(const struct model *m, FILE *out)
{
    json_t *root = snapjson_document(m);
    json_dumpf(root, out, JSON_INDENT(2));
    fputc('\n', out);
    json_decref(root);
}
