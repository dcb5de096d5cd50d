/* snapshot.c — `pgfleet snapshot [--json]`: runs the same loop as the TUI without a terminal,
 * waits for two samples of every reachable server (rates need two), then writes every pane's
 * data once. Servers that are down are reported with their reason; that is not a failure. */
#include "snapshot.h"

#include <jansson.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "loop.h"
#include "util.h"
#include "views.h"

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

static json_t *num_or_null(double v) { return isnan(v) || isinf(v) ? json_null() : json_real(v); }
static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static void utc_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *activity_json(const struct s_activity *a)
{
    json_t *arr = json_array();
    for (size_t i = 0; a && i < a->n; i++) {
        const struct activity_row *r = &a->rows[i];
        json_t *o = json_object();
        json_object_set_new(o, "pid", json_integer(r->pid));
        json_object_set_new(o, "database", str_or_null(r->datname));
        json_object_set_new(o, "user", str_or_null(r->usename));
        json_object_set_new(o, "application_name", str_or_null(r->application_name));
        json_object_set_new(o, "client", str_or_null(r->client));
        json_object_set_new(o, "backend_type", str_or_null(r->backend_type));
        json_object_set_new(o, "state", str_or_null(r->state));
        json_object_set_new(o, "wait_event_type", str_or_null(r->wait_event_type));
        json_object_set_new(o, "wait_event", str_or_null(r->wait_event));
        json_object_set_new(o, "xact_age_s", num_or_null(r->xact_age));
        json_object_set_new(o, "query_age_s", num_or_null(r->query_age));
        json_object_set_new(o, "state_age_s", num_or_null(r->state_age));
        json_object_set_new(o, "blocked_by", json_integer(r->blocked_by));
        json_object_set_new(o, "backend_start", str_or_null(r->backend_start));
        json_object_set_new(o, "query_start", str_or_null(r->query_start));
        json_object_set_new(o, "query", str_or_null(r->query));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *server_json(const struct model *m, const struct server *s)
{
    json_t *o = json_object();
    const struct s_server *ss = SAMPLE_SERVER(s->cur);
    bool live = ss && s->status != SRV_DOWN;
    json_object_set_new(o, "name", json_string(s->conf->name));
    json_t *tags = json_array();
    for (size_t i = 0; i < s->conf->ntags; i++)
        json_array_append_new(tags, json_string(s->conf->tags[i]));
    json_object_set_new(o, "tags", tags);
    json_object_set_new(o, "status", json_string(srv_status_name(s->status)));
    json_object_set_new(o, "reason", s->reason[0] ? json_string(s->reason) : json_null());
    json_object_set_new(o, "severity", json_integer(srv_severity(s, &m->cfg->th)));
    if (!live) {
        json_object_set_new(o, "role", json_null());
        return o;
    }
    json_object_set_new(o, "role", json_string(ss->in_recovery ? "replica" : "primary"));
    json_object_set_new(o, "version", str_or_null(ss->version));
    json_object_set_new(o, "version_num", json_integer(ss->version_num));
    json_object_set_new(o, "uptime_s", num_or_null(ss->epoch - ss->started));
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
    json_object_set_new(o, "longest_query_s", num_or_null(ss->longest_query_s));
    json_object_set_new(o, "longest_xact_s", num_or_null(ss->longest_xact_s));
    json_object_set_new(o, "tps", num_or_null(ss->tps));
    json_t *cache = json_object();
    json_object_set_new(cache, "hit_pct", num_or_null(ss->cache_hit_pct));
    json_object_set_new(cache, "interval_s", num_or_null(ss->dt));
    json_object_set_new(o, "cache", cache);
    json_object_set_new(o, "interval_s", num_or_null(ss->dt));
    json_object_set_new(o, "tick_ms", json_integer(s->tick_ms));
    json_object_set_new(o, "activity", activity_json(SAMPLE_ACTIVITY(s->cur)));
    json_t *errs = json_object();
    for (int p = 0; p < PROBE_MAX; p++)
        if (s->cur->err[p])
            json_object_set_new(errs, probe_table[p]->name, json_string(s->cur->err[p]));
    json_object_set_new(o, "probe_errors", errs);
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

/* Print a table: widths from the content (capped), the flex column last and uncut. */
static void text_table(FILE *out, const struct colspec *cols, int ncols, cell_t *cells, size_t nrows)
{
    int w[32] = {0};
    for (int c = 0; c < ncols; c++) {
        w[c] = (int)strlen(cols[c].title);
        for (size_t r = 0; r < nrows; r++) {
            int l = (int)strlen(cells[r * (size_t)ncols + (size_t)c]);
            if (l > w[c])
                w[c] = l > 40 && !cols[c].flex ? 40 : l;
        }
    }
    for (int c = 0; c < ncols; c++) {
        if (c == ncols - 1)
            fprintf(out, "%s\n", cols[c].title);
        else
            fprintf(out, cols[c].right ? "%*s  " : "%-*s  ", w[c], cols[c].title);
    }
    for (size_t r = 0; r < nrows; r++)
        for (int c = 0; c < ncols; c++) {
            const char *v = cells[r * (size_t)ncols + (size_t)c];
            if (c == ncols - 1)
                fprintf(out, "%s\n", v);
            else
                fprintf(out, cols[c].right ? "%*.*s  " : "%-*.*s  ", w[c], w[c], v);
        }
}

void snapshot_write_text(const struct model *m, FILE *out)
{
    char ts[32];
    utc_now(ts, sizeof ts);
    size_t *order = xcalloc(m->n + 1, sizeof *order);
    fleet_order(m, order);
    size_t up = 0;
    for (size_t i = 0; i < m->n; i++)
        up += m->servers[i].status == SRV_UP;
    fprintf(out, "pgfleet %s  %s  servers: %zu, up: %zu, down/stale: %zu\n\n", PGFLEET_VERSION, ts, m->n, up, m->n - up);
    cell_t *cells = xcalloc(m->n * FC_N + 1, sizeof *cells);
    enum sev sev[FC_N];
    for (size_t i = 0; i < m->n; i++)
        fleet_cells(m, &m->servers[order[i]], &cells[i * FC_N], sev);
    text_table(out, fleet_cols, FC_N, cells, m->n);
    free(cells);
    free(order);

    struct act_query q = {.filter = NULL, .scope = -1, .sort_col = AC_QAGE, .desc = true, .idle = m->opts.idle};
    struct act_ref *refs;
    size_t n = act_view(m, &q, &refs);
    fprintf(out, "\nACTIVITY (%zu)\n", n);
    cells = xcalloc(n * AC_N + 1, sizeof *cells);
    enum sev asev[AC_N];
    for (size_t i = 0; i < n; i++)
        act_cells(m, &refs[i], &cells[i * AC_N], asev);
    text_table(out, act_cols, AC_N, cells, n);
    free(cells);
    free(refs);
}
