/* pane_fleet.c — pane 1: one row per server, worst first, with the figures that tell at a
 * glance which server to look at. Enter scopes the Activity pane to the selected server. */
#include <stdlib.h>

#include "tui/screen.h"

/* The pane's state: the table's place, and the selected server by its index in the model, so
 * the selection follows the server when the worst-first order changes. */
static struct fleet_pane {
    struct table_state ts;
    bool has_sel;
    size_t server;
} P = {.ts = {.sort_col = -1}};

/* The row of the selected server (ts.sel), or adopt the server under the cursor. */
static void sync(const struct model *m, const size_t *order)
{
    for (size_t i = 0; P.has_sel && i < m->n; i++)
        if (order[i] == P.server) {
            P.ts.sel = (int)i;
            return;
        }
    if (P.ts.sel >= (int)m->n)
        P.ts.sel = (int)m->n - 1;
    if (P.ts.sel < 0)
        P.ts.sel = 0;
    P.has_sel = m->n > 0;
    P.server = m->n ? order[P.ts.sel] : 0;
}

static void fleet_draw(struct tui *t, WINDOW *w)
{
    struct model *m = t->m;
    size_t *order = calloc(m->n + 1, sizeof *order);
    cell_t *cells = calloc(m->n * FC_N + 1, sizeof *cells);
    enum sev *sev = calloc(m->n * FC_N + 1, sizeof *sev);
    if (!order || !cells || !sev)
        fatal("out of memory");
    fleet_order(m, order);
    sync(m, order);
    for (size_t i = 0; i < m->n; i++)
        fleet_cells(m, &m->servers[order[i]], &cells[i * FC_N], &sev[i * FC_N]);
    table_draw(w, fleet_cols, FC_N, cells, sev, m->n, &P.ts, false);
    free(order);
    free(cells);
    free(sev);
}

static struct key_result fleet_key(struct tui *t, enum command cmd)
{
    bool move = cmd == CMD_UP || cmd == CMD_DOWN || cmd == CMD_PGUP || cmd == CMD_PGDN || cmd == CMD_HOME ||
                cmd == CMD_END;
    if (cmd != CMD_ENTER && !move)
        return KEY_DONE(false);
    size_t *order = xcalloc(t->m->n + 1, sizeof *order);
    fleet_order(t->m, order);
    sync(t->m, order);
    struct key_result r = KEY_DONE(true);
    if (move) {
        table_move(&P.ts, cmd, t->m->n, t->rows > 6 ? t->rows - 5 : 1);
        P.server = t->m->n ? order[P.ts.sel] : 0;
    } else if (P.has_sel) { /* the sessions of the selected server */
        r = (struct key_result){.act = KEY_SHOW_PANE, .pane = &pane_activity, .scope = (long)P.server};
    }
    free(order);
    return r;
}

/* Snapshot: the fleet row's figures as JSON keys of the server. */
static void fleet_json(const struct model *m, const struct server *s, json_t *o)
{
    (void)m;
    const struct s_server *ss = SAMPLE_SERVER(s->cur);
    json_object_set_new(o, "role", s->kind == KIND_PGBOUNCER || (ss && s->status != SRV_DOWN)
                                       ? json_string(srv_role(s)) : json_null());
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

const struct pane_class pane_fleet = {
    .name = "fleet",
    .title = "Fleet",
    .draw = fleet_draw,
    .key = fleet_key,
    .footer = "Enter sessions of server",
    .ts = &P.ts,
    .json = fleet_json,
};
