/* fuzz_snapshot_json.c — `pgfleet snapshot --json` (snapjson_write) on a fleet whose
 * servers hold samples parsed from fuzzed results (fuzzutil.h: fz_world_new): the document always
 * parses (jansson) and every server object has the keys the README's "Snapshot JSON" section
 * documents for it, whatever the server sent (text that is not valid UTF-8 included):
 *   every server: name, tags (one per configured tag), status, reason (a string when there is
 *     one), role, tick_ms; poolers: kind "pgbouncer", serves (one per configured name);
 *   a PostgreSQL server that is not DOWN and has a sample: probe_errors, replication, io,
 *     statements, progress, cache; with a server section (always when UP): version, version_num,
 *     uptime_s, connections {used, max_connections, reserved, usable, used_pct, active, idle,
 *     idle_in_transaction, waiting_on_locks}, active, blocked, longest_query_s, longest_xact_s,
 *     tps, cache.hit_pct, interval_s; with activity: activity[], one object per session with the
 *     pane's fields; with locks: lock_tree[] holding every forest item once (pid, waiters); with
 *     the connections section: connections.by_state/by_database/by_user/by_application/by_client
 *     and idle_in_transaction_sessions; with databases: cache.databases;
 *   a pooler that is not DOWN: pools[] with SHOW POOLS, stats[] with SHOW STATS.
 * Every documented key must be present for every server (null when unknown); FUZZ_STRICT_KEYS=1
 * also wants activity, lock_tree and the connections breakdown (pools and stats) to be arrays
 * for an UP server whose probe failed. FUZZ_ALLOW_INVALID_UTF8=1 lets a key go missing when the server's text for it is not
 * valid UTF-8 (jansson refuses it: a known defect), to look for other defects meanwhile. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fuzzutil.h"
#include "probes/sec_connections.h"
#include "probes/sec_io.h"
#include "probes/sec_locks.h"
#include "probes/snapjson.h"

static bool strict, allow_invalid_utf8;
static const char *doc_buf;
static size_t doc_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *e = getenv("FUZZ_STRICT_KEYS");
    strict = e && *e == '1';
    e = getenv("FUZZ_ALLOW_INVALID_UTF8");
    allow_invalid_utf8 = e && *e == '1';
    return 0;
}

static void need(const struct server *s, json_t *o, const char *path, const char *key, int type)
{
    json_t *v = json_object_get(o, key);
    bool ok = v &&
        (type < 0 || (int)json_typeof(v) == type || (type == JSON_REAL && (json_is_integer(v) || json_is_null(v))));
    if (!ok) {
        fz_dump("document", doc_buf, doc_len, SIZE_MAX);
        fz_fail(__FILE__, __LINE__, "every documented key", "server %s (%s, %s, %s): %s%s%s is %s", s->conf->name,
                s->kind == KIND_PGBOUNCER ? "pgbouncer" : "postgres", srv_status_name(s->status),
                s->reason[0] ? "with a reason" : "no reason", path, *path ? "." : "", key,
                v ? "of the wrong type" : "missing");
    }
}

/* A key holding server text: a string whenever the server sent one (raw is what it sent). */
static void need_text(const struct server *s, json_t *o, const char *path, const char *key, const char *raw)
{
    json_t *v = json_object_get(o, key);
    if (v && (raw ? json_is_string(v) : (json_is_string(v) || json_is_null(v))))
        return;
    size_t at = SIZE_MAX;
    const char *why = raw ? fz_unsafe_text(raw, strlen(raw), true, &at) : NULL;
    if (allow_invalid_utf8 && why && !strcmp(why, "invalid UTF-8"))
        return;
    if (raw)
        fz_dump("the server sent", raw, strlen(raw), why ? at : SIZE_MAX);
    fz_fail(__FILE__, __LINE__, "every documented key", "server %s (%s, %s): %s%s%s is %s; the server's text %s%s",
            s->conf->name, s->kind == KIND_PGBOUNCER ? "pgbouncer" : "postgres", srv_status_name(s->status), path,
            *path ? "." : "", key, v ? "of the wrong type" : "missing", raw ? "is " : "was NULL",
            !raw                                       ? ""
                : why && !strcmp(why, "invalid UTF-8") ? "not valid UTF-8"
                                                       : "valid UTF-8");
}

/* Every node of a lock tree level has a pid and its waiters; returns the nodes counted. */
static size_t tree_nodes(const struct server *s, json_t *arr, unsigned depth)
{
    size_t n = 0, i;
    json_t *e;
    json_array_foreach (arr, i, e) {
        need(s, e, "lock_tree[]", "pid", JSON_INTEGER);
        need(s, e, "lock_tree[]", "waiters", JSON_ARRAY);
        n += 1 + (depth < 10000 ? tree_nodes(s, json_object_get(e, "waiters"), depth + 1) : 0);
    }
    return n;
}

static void check_server(const struct model *m, const struct server *s, json_t *o)
{
    need(s, o, "", "name", JSON_STRING);
    need(s, o, "", "tags", JSON_ARRAY);
    for (size_t i = 0; i < s->conf->ntags && i < json_array_size(json_object_get(o, "tags")); i++)
        FZ_CHECK(json_is_string(json_array_get(json_object_get(o, "tags"), i)), "server %s: tag %zu", s->conf->name, i);
    FZ_CHECK(json_array_size(json_object_get(o, "tags")) == s->conf->ntags, "server %s: %zu tags of %zu", s->conf->name,
             json_array_size(json_object_get(o, "tags")), s->conf->ntags);
    need(s, o, "", "status", JSON_STRING);
    FZ_CHECK(strcmp(json_string_value(json_object_get(o, "status")), srv_status_name(s->status)) == 0,
             "server %s: status %s", s->conf->name, json_string_value(json_object_get(o, "status")));
    need_text(s, o, "", "reason", s->reason[0] ? s->reason : NULL);
    need(s, o, "", "role", -1);
    need(s, o, "", "tick_ms", JSON_INTEGER);
    /* Every documented key, whatever the server's state: null when the fact is unknown. */
    static const char *const pg_keys[] = {"role",   "version",    "version_num",     "uptime_s",       "connections",
                                          "active", "blocked",    "longest_query_s", "longest_xact_s", "tps",
                                          "cache",  "interval_s", "activity",        "lock_tree",      "replication",
                                          "io",     "statements", "progress",        "probe_errors"};
    static const char *const pool_keys[] = {"serves", "pools", "stats", "probe_errors"};
    bool pg = s->kind == KIND_POSTGRES;
    for (size_t i = 0; i < (pg ? ARRAY_LEN(pg_keys) : ARRAY_LEN(pool_keys)); i++)
        need(s, o, "", pg ? pg_keys[i] : pool_keys[i], -1);
    if (s->kind == KIND_PGBOUNCER) {
        need(s, o, "", "kind", JSON_STRING);
        FZ_CHECK(strcmp(json_string_value(json_object_get(o, "kind")), "pgbouncer") == 0, "pooler %s: kind %s",
                 s->conf->name, json_string_value(json_object_get(o, "kind")));
        need(s, o, "", "serves", JSON_ARRAY);
        FZ_CHECK(json_array_size(json_object_get(o, "serves")) == (s->pooler ? s->pooler->nserves : 0),
                 "pooler %s: serves", s->conf->name);
        if (s->status == SRV_DOWN)
            return;
        if (SAMPLE_POOLS(s->cur) || (strict && s->status == SRV_UP)) {
            need(s, o, "", "pools", JSON_ARRAY);
            if (SAMPLE_POOLS(s->cur))
                FZ_CHECK(json_array_size(json_object_get(o, "pools")) == SAMPLE_POOLS(s->cur)->n,
                         "pooler %s: %zu pools of %zu", s->conf->name, json_array_size(json_object_get(o, "pools")),
                         SAMPLE_POOLS(s->cur)->n);
        }
        if (SAMPLE_POOLSTATS(s->cur) || (strict && s->status == SRV_UP))
            need(s, o, "", "stats", JSON_ARRAY);
        return;
    }
    if (s->status == SRV_DOWN || !s->cur)
        return;
    need(s, o, "", "probe_errors", JSON_OBJECT);
    need(s, o, "", "replication", JSON_OBJECT);
    need(s, o, "", "io", JSON_OBJECT);
    need(s, o, "", "statements", JSON_ARRAY);
    need(s, o, "", "progress", -1);
    need(s, o, "", "cache", JSON_OBJECT);
    json_t *cache = json_object_get(o, "cache");
    if (SAMPLE_DATABASES(s->cur))
        need(s, cache, "cache", "databases", JSON_ARRAY);
    if (SAMPLE_SERVER(s->cur)) {
        static const char *const top[] = {"version",         "version_num",    "uptime_s", "active",    "blocked",
                                          "longest_query_s", "longest_xact_s", "tps",      "interval_s"};
        for (size_t i = 0; i < ARRAY_LEN(top); i++)
            need(s, o, "", top[i], -1);
        need(s, o, "", "connections", JSON_OBJECT);
        static const char *const conn[] = {
            "used", "max_connections",     "reserved",        "usable", "used_pct", "active",
            "idle", "idle_in_transaction", "waiting_on_locks"};
        for (size_t i = 0; i < ARRAY_LEN(conn); i++)
            need(s, json_object_get(o, "connections"), "connections", conn[i], -1);
        need(s, cache, "cache", "hit_pct", JSON_REAL);
        need_text(s, o, "", "version", SAMPLE_SERVER(s->cur)->version);
    }
    const struct s_activity *a = SAMPLE_ACTIVITY(s->cur);
    if (a || (strict && s->status == SRV_UP)) {
        need(s, o, "", "activity", JSON_ARRAY);
        json_t *arr = json_object_get(o, "activity");
        if (a)
            FZ_CHECK(json_array_size(arr) == a->n, "server %s: %zu sessions of %zu in activity[]", s->conf->name,
                     json_array_size(arr), a->n);
        for (size_t i = 0; a && i < a->n && i < json_array_size(arr); i++) {
            const struct activity_row *r = &a->rows[i];
            json_t *e = json_array_get(arr, i);
            const struct {
                const char *k;
                const char *v;
            } f[] = {{"database", r->datname},      {"user", r->usename}, {"application_name", r->application_name},
                     {"client", r->client},         {"state", r->state},  {"wait_event_type", r->wait_event_type},
                     {"wait_event", r->wait_event}, {"query", r->query}};
            need(s, e, "activity[]", "pid", JSON_INTEGER);
            for (size_t k = 0; k < ARRAY_LEN(f); k++)
                need_text(s, e, "activity[]", f[k].k, f[k].v);
            need(s, e, "activity[]", "xact_age_s", JSON_REAL);
            need(s, e, "activity[]", "query_age_s", JSON_REAL);
        }
    }
    const struct s_locks *l = SAMPLE_LOCKS(s->cur);
    if (l || (strict && s->status == SRV_UP)) {
        need(s, o, "", "lock_tree", JSON_ARRAY);
        size_t n = tree_nodes(s, json_object_get(o, "lock_tree"), 0);
        if (l)
            FZ_CHECK(n == l->forest.nitems, "server %s: lock_tree holds %zu nodes of %zu", s->conf->name, n,
                     l->forest.nitems);
    }
    if (SAMPLE_CONNECTIONS(s->cur) || (strict && s->status == SRV_UP)) {
        need(s, o, "", "connections", JSON_OBJECT);
        json_t *c = json_object_get(o, "connections");
        static const char *const by[] = {"by_state",       "by_database", "by_user",
                                         "by_application", "by_client",   "idle_in_transaction_sessions"};
        for (size_t i = 0; i < ARRAY_LEN(by); i++)
            need(s, c, "connections", by[i], JSON_ARRAY);
    }
    (void)m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_world *w = fz_world_new(data, size);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    FZ_CHECK(f != NULL, "open_memstream");
    snapjson_write(&w->m, f);
    fclose(f);
    if (getenv("FUZZ_DUMP")) /* FUZZ_DUMP=1 build/fuzz/fuzz_snapshot_json FILE shows the document */
        fwrite(buf, 1, len, stderr);
    doc_buf = buf;
    doc_len = len;

    json_error_t je;
    json_t *root = json_loadb(buf, len, 0, &je);
    if (!root) {
        fz_dump("document", buf, len, (size_t)je.position);
        fz_fail(__FILE__, __LINE__, "the document parses", "line %d column %d: %s", je.line, je.column, je.text);
    }
    FZ_CHECK(json_is_object(root), "the document is not an object");
    FZ_CHECK(json_is_string(json_object_get(root, "taken_at")), "taken_at");
    FZ_CHECK(json_is_number(json_object_get(root, "refresh_s")), "refresh_s");
    json_t *servers = json_object_get(root, "servers");
    FZ_CHECK(json_is_array(servers) && json_array_size(servers) == w->m.n, "servers[]: %zu of %zu",
             json_array_size(servers), w->m.n);
    bool *seen = xcalloc(w->m.n + 1, sizeof *seen);
    size_t i;
    json_t *o;
    json_array_foreach (servers, i, o) {
        FZ_CHECK(json_is_object(o), "servers[%zu] is not an object", i);
        const char *name = json_string_value(json_object_get(o, "name"));
        FZ_CHECK(name, "servers[%zu] has no name", i);
        size_t k = 0;
        while (k < w->m.n && strcmp(w->m.servers[k].conf->name, name) != 0)
            k++;
        FZ_CHECK(k < w->m.n && !seen[k], "servers[%zu]: name %s unknown or twice", i, name);
        seen[k] = true;
        check_server(&w->m, &w->m.servers[k], o);
    }
    free(seen);
    json_decref(root);
    free(buf);
    fz_world_free(w);
    return 0;
}
