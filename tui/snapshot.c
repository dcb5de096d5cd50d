/* snapshot.c — `pgfleet snapshot [--json]`: runs the same loop as the TUI without a terminal,
 * waits for two samples of every reachable server (rates need two), then writes every pane's
 * data once. Servers that are down are reported with their reason; that is not a failure. */
#include "tui/snapshot.h"

#include <jansson.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "tui/loop.h"
#include "core/util.h"
#include "tui/screen.h"
#include "tui/views.h"

struct snap_ctx {
    struct model *m;
    int64_t give_up;
};

static bool snap_done(void *p, int64_t now)
{
    struct snap_ctx *cx = p;
    if (now >= cx->give_up)
        return true;
    for (size_t i = 0; i < cx->m->n; i++) {
        const struct server *s = &cx->m->servers[i];
        if (s->status == SRV_DOWN)
            continue;
        if (s->ticks < 2)
            return false;
    }
    return true;
}

static int64_t snap_deadline(void *p) { return ((struct snap_ctx *)p)->give_up; }

int snapshot_run(struct model *m, FILE *out, bool json)
{
    /* Two samples one interval apart; a server that has not answered by then has had its
     * whole deadline (timeout) to do so. */
    struct snap_ctx cx = {m, now_ms() + m->refresh_ms + m->cfg->timeout_ms};
    struct loop_hooks h = {.input_fd = -1, .done = snap_done, .deadline = snap_deadline, .ctx = &cx};
    int rc = loop_run(m, &h);
    if (rc)
        return rc;
    if (json)
        snapshot_write_json(m, out);
    else
        snapshot_write_text(m, out);
    return fflush(out) == 0 ? 0 : 1;
}

static void utc_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The keys the README documents for each server object: present in every snapshot, null when
 * not known (a server DOWN, or a probe that failed: probe_errors says why), so a script never
 * has to tell a missing key from a missing fact. */
static const char *const postgres_keys[] = {
    "role", "version", "version_num", "uptime_s", "connections", "active", "blocked",
    "longest_query_s", "longest_xact_s", "tps", "cache", "interval_s", "activity", "lock_tree",
    "replication", "io", "statements", "progress", "probe_errors",
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

/* The part of a server's object every pane shares; the panes add their own keys. */
static json_t *server_json(const struct model *m, const struct server *s)
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
    for (int i = 0; i < pane_count; i++)
        if (pane_list[i]->json)
            pane_list[i]->json(m, s, o);
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

void snapshot_write_json(const struct model *m, FILE *out)
{
    char ts[32];
    utc_now(ts, sizeof ts);
    json_t *root = json_object();
    json_object_set_new(root, "pgfleet_version", json_string(PGFLEET_VERSION));
    json_object_set_new(root, "taken_at", json_string(ts));
    json_object_set_new(root, "refresh_s", json_real((double)m->refresh_ms / 1000));
    json_t *arr = json_array();
    size_t *order = xcalloc(m->n + 1, sizeof *order);
    fleet_order(m, order);
    for (size_t i = 0; i < m->n; i++)
        json_array_append_new(arr, server_json(m, &m->servers[order[i]]));
    free(order);
    json_object_set_new(root, "servers", arr);
    json_dumpf(root, out, JSON_INDENT(2));
    fputc('\n', out);
    json_decref(root);
}


static void write_text(const struct model *m, FILE *out)
{
    char ts[32];
    utc_now(ts, sizeof ts);
    size_t up = 0;
    for (size_t i = 0; i < m->n; i++)
        up += m->servers[i].status == SRV_UP;
    fprintf(out, "pgfleet %s  %s  servers: %zu, up: %zu, down/stale: %zu\n", PGFLEET_VERSION, ts, m->n, up, m->n - up);
    for (int i = 0; i < pane_count; i++)
        if (pane_list[i]->text) {
            fputc('\n', out);
            pane_list[i]->text(m, out);
        }
}

/* The panes write their text, then every line passes the last line of defence: whatever a pane
 * forgot to escape, no control byte, bidi override or invalid UTF-8 reaches the output. */
void snapshot_write_text(const struct model *m, FILE *out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        fputs("pgfleet: out of memory\n", out);
        return;
    }
    write_text(m, mem);
    fclose(mem);
    for (char *p = buf; p && *p;) {
        size_t n = strcspn(p, "\n");
        char save = p[n];
        p[n] = '\0';
        char *line = esc_safe(p);
        fputs(line, out);
        fputc('\n', out);
        free(line);
        p += n + (save == '\n');
    }
    free(buf);
}
