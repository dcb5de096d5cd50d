/* config.c — loads fleet.yaml (DESIGN.md §8) into struct config, adds servers named on the
 * command line and finds the config file. Loading is strict so that a typo never silently
 * changes what is watched: every problem is reported as FILE:LINE:COL: message, and we keep
 * going after a semantic error so one run shows them all. */
#include "core/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "core/conn.h"
#include "core/yaml_load.h"

/* Longest name we accept: it has to fit a table column and a --server argument. */
#define MAX_NAME 63

#define DEFAULT_METHOD "basebackup"
#define DEFAULT_RESTORE_TIMEOUT_MS (6LL * 3600 * 1000)

static const char *const restore_methods[] = {"basebackup", "logical", "pgbackrest", "hook"};

void config_init(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->refresh_ms = 2000;
    cfg->timeout_ms = 5000;
    cfg->th.slow_query_ms = 5000;
    cfg->th.idle_in_transaction_ms = 30000;
    cfg->th.repl_lag_bytes = 16LL * 1024 * 1024;
    cfg->th.repl_lag_ms = 30000;
    cfg->th.connections_pct = 80;
    cfg->th.cache_hit_pct = 95;
    cfg->read_only = false;
    cfg->restore_max_age_days = 90;
    cfg->restore.keep_on_failure = cfg->restore.amcheck = -1;
    cfg->failover_max_lag_bytes = 1024LL * 1024;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void restore_conf_free(struct restore_conf *r)
{
    char **strs[] = {&r->max_rate, &r->method, &r->scratch_dir,       &r->run_as, &r->bindir,
                     &r->source,   &r->stanza, &r->pgbackrest_config, &r->hook,   &r->target_time};
    for (size_t i = 0; i < ARRAY_LEN(strs); i++)
        free(*strs[i]);
    for (size_t i = 0; i < r->ncanaries; i++) {
        free(r->canaries[i].database);
        free(r->canaries[i].query);
    }
    free(r->canaries);
    memset(r, 0, sizeof *r);
}

#define PICK(f) out->f = s && s->restore && s->restore->f ? s->restore->f : cfg->restore.f
void restore_conf_resolve(const struct config *cfg, const struct server_conf *s, struct restore_conf *out)
{
    memset(out, 0, sizeof *out);
    PICK(method);
    PICK(scratch_dir);
    PICK(run_as);
    PICK(bindir);
    PICK(source);
    PICK(stanza);
    PICK(pgbackrest_config);
    PICK(hook);
    PICK(target_time);
    PICK(max_rate);
    PICK(timeout_ms);
    const struct restore_conf *own = s ? s->restore : NULL;
    out->keep_on_failure = own && own->keep_on_failure >= 0 ? own->keep_on_failure : cfg->restore.keep_on_failure;
    out->amcheck = own && own->amcheck >= 0 ? own->amcheck : cfg->restore.amcheck;
    out->keep_on_failure = out->keep_on_failure > 0;
    out->amcheck = out->amcheck > 0;
    const struct restore_conf *c = own && own->ncanaries ? own : &cfg->restore;
    out->canaries = c->canaries;
    out->ncanaries = c->ncanaries;
    if (!out->method)
        out->method = DEFAULT_METHOD;
    if (!out->timeout_ms)
        out->timeout_ms = DEFAULT_RESTORE_TIMEOUT_MS;
}
#undef PICK

void config_free(struct config *cfg)
{
    free(cfg->path);
    for (size_t i = 0; i < cfg->nservers; i++) {
        free(cfg->servers[i].name);
        free(cfg->servers[i].conninfo);
        free_strv(cfg->servers[i].tags, cfg->servers[i].ntags);
        if (cfg->servers[i].restore)
            restore_conf_free(cfg->servers[i].restore);
        free(cfg->servers[i].restore);
    }
    free(cfg->servers);
    for (size_t i = 0; i < cfg->npoolers; i++) {
        free(cfg->poolers[i].name);
        free(cfg->poolers[i].conninfo);
        free_strv(cfg->poolers[i].serves, cfg->poolers[i].nserves);
    }
    free(cfg->poolers);
    free_strv(cfg->escalation, cfg->nescalation);
    restore_conf_free(&cfg->restore);
    free(cfg->failover_pooler_db_file);
    free(cfg->audit_log);
    memset(cfg, 0, sizeof(*cfg));
}

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = xstrdup(s);
}

static void push_str(char ***v, size_t *n, const char *s)
{
    *v = xreallocarray(*v, *n + 1, sizeof(**v));
    (*v)[(*n)++] = xstrdup(s);
}

static struct server_conf *find_server(struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nservers; i++)
        if (cfg->servers[i].name && strcmp(cfg->servers[i].name, name) == 0)
            return &cfg->servers[i];
    return NULL;
}

/* libpq's messages end in a newline and may span lines; ours are one line each. */
static void one_line(char *m)
{
    size_t n = strlen(m);
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == '\r' || m[n - 1] == ' '))
        m[--n] = '\0';
    for (char *p = m; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

/* ---- loading ------------------------------------------------------------------------------ */

/* A "serves:" entry, checked once every server is known (servers may come after poolers). */
struct serve_ref {
    size_t pooler, serve;
    int line, col;
};

struct loader {
    struct yload y; /* first: the callbacks of yl_walk_map get &ld->y back */
    struct config *cfg;
    struct serve_ref *refs;
    size_t nrefs;
};

static void get_str_list(struct loader *ld, yaml_node_t *n, const char *what, const char *each, char ***v, size_t *nv)
{
    yaml_node_item_t *items;
    size_t k = yl_seq(&ld->y, n, what, &items);
    for (size_t i = 0; i < k && !ld->y.stop; i++) {
        const char *s = yl_text(&ld->y, yl_node(&ld->y, items[i]), each, "a string");
        if (s)
            push_str(v, nv, s);
    }
}

static bool valid_name(const char *s)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");
    return n > 0 && s[n] == '\0' && n <= MAX_NAME;
}

static const char *get_name(struct loader *ld, yaml_node_t *n)
{
    const char *s = yl_scalar(&ld->y, n, "name", "a name");
    if (s && !valid_name(s)) {
        char *e = yl_show(s);
        yl_err(&ld->y, n, "bad name \"%s\" (use 1 to %d of A-Z a-z 0-9 _ . -)", e, MAX_NAME);
        free(e);
        return NULL;
    }
    return s;
}

static const char *const threshold_keys[] = {"slow_query",     "idle_in_transaction", "repl_lag",
                                             "repl_lag_bytes", "connections_pct",     "cache_hit_pct"};

static void threshold_pair(struct yload *yl, size_t key, yaml_node_t *v, void *ctx)
{
    struct loader *ld = (struct loader *)yl;
    struct thresholds *th = ctx;
    const char *what = threshold_keys[key];
    switch (key) {
    case 0: yl_duration(&ld->y, v, what, &th->slow_query_ms, 0, NULL, 0, NULL); break;
    case 1: yl_duration(&ld->y, v, what, &th->idle_in_transaction_ms, 0, NULL, 0, NULL); break;
    case 2: yl_duration(&ld->y, v, what, &th->repl_lag_ms, 0, NULL, 0, NULL); break;
    case 3: yl_size(&ld->y, v, what, &th->repl_lag_bytes); break;
    case 4: yl_pct(&ld->y, v, what, &th->connections_pct); break;
    case 5: yl_pct(&ld->y, v, what, &th->cache_hit_pct); break;
    }
}

/* A servers: or poolers: entry while its map is walked. */
/* restore_test: keys 1.. are also a server's own (max_age_days is the fleet's only). */
static const char *const restore_keys[] = {
    "max_age_days", "scratch_dir",       "method", "keep_on_failure", "amcheck",  "run_as",  "bindir",  "source",
    "stanza",       "pgbackrest_config", "hook",   "target_time",     "canaries", "timeout", "max_rate"};

static const char *const canary_keys[] = {"database", "query"};

static void canary_pair(struct yload *yl, size_t key, yaml_node_t *v, void *ctx)
{
    struct loader *ld = (struct loader *)yl;
    struct canary_conf *c = ctx;
    const char *s = yl_text(&ld->y, v, key ? "query" : "database", key ? "an SQL query" : "a database name");
    if (s)
        set_str(key ? &c->query : &c->database, s);
}

static void get_canaries(struct loader *ld, yaml_node_t *v, struct restore_conf *r)
{
    yaml_node_item_t *items;
    size_t n = yl_seq(&ld->y, v, "canaries", &items);
    for (size_t i = 0; i < n && !ld->y.stop; i++) {
        yaml_node_t *it = yl_node(&ld->y, items[i]);
        r->canaries = xreallocarray(r->canaries, r->ncanaries + 1, sizeof *r->canaries);
        struct canary_conf *c = &r->canaries[r->ncanaries++];
        memset(c, 0, sizeof *c);
        yl_walk_map(&ld->y, it, "a canary", canary_keys, ARRAY_LEN(canary_keys), canary_pair, c);
        if (!ld->y.stop && it && it->type == YAML_MAPPING_NODE && !c->query)
            yl_err(&ld->y, it, "a canary needs a query (e.g. query: SELECT max(id) FROM orders)");
    }
}

static void get_tristate(struct loader *ld, yaml_node_t *v, const char *what, int *out)
{
    bool b = false;
    int before = ld->y.nerr;
    yl_bool(&ld->y, v, what, &b);
    if (ld->y.nerr == before)
        *out = b;
}

static void restore_pair(struct yload *yl, size_t key, yaml_node_t *v, void *ctx)
{
    struct loader *ld = (struct loader *)yl;
    struct restore_conf *r = ctx;
    const char *s;
    char **str = NULL;
    switch (key) {
    case 0:
        if (r != &ld->cfg->restore)
            yl_err(&ld->y, v, "max_age_days is set for the whole fleet (restore_test: at the top), not per server");
        else
            yl_int(&ld->y, v, "max_age_days", &ld->cfg->restore_max_age_days, 1, 36500);
        return;
    case 1: str = &r->scratch_dir; break;
    case 2:
        s = yl_scalar(&ld->y, v, "method", "a method name");
        if (!s)
            return;
        for (size_t i = 0; i < ARRAY_LEN(restore_methods); i++)
            if (strcmp(s, restore_methods[i]) == 0) {
                set_str(&r->method, s);
                return;
            }
        char *e = yl_show(s);
        yl_err(&ld->y, v, "bad method \"%s\" for restore_test (use basebackup, logical, pgbackrest or hook)", e);
        free(e);
        return;
    case 3: get_tristate(ld, v, "keep_on_failure", &r->keep_on_failure); return;
    case 4: get_tristate(ld, v, "amcheck", &r->amcheck); return;
    case 5: str = &r->run_as; break;
    case 6: str = &r->bindir; break;
    case 7:
        str = &r->source;
        r->source_line = (int)v->start_mark.line + 1;
        r->source_col = (int)v->start_mark.column + 1;
        break;
    case 8: str = &r->stanza; break;
    case 9: str = &r->pgbackrest_config; break;
    case 10: str = &r->hook; break;
    case 11: str = &r->target_time; break;
    case 12: get_canaries(ld, v, r); return;
    case 14: str = &r->max_rate; break;
    case 13: yl_duration(&ld->y, v, "timeout", &r->timeout_ms, 1000, "1s", 7 * 24 * 3600 * 1000LL, "7d"); return;
    }
    s = yl_text(&ld->y, v, restore_keys[key], "a string");
    if (s)
        set_str(str, s);
}

/* A server's own restore_test: (every key but max_age_days). */
static void server_restore(struct loader *ld, yaml_node_t *v, struct server_conf *sv)
{
    if (!sv->restore) {
        sv->restore = xcalloc(1, sizeof *sv->restore);
        sv->restore->keep_on_failure = sv->restore->amcheck = -1;
    }
    yl_walk_map(&ld->y, v, "a server's restore_test", restore_keys, ARRAY_LEN(restore_keys), restore_pair, sv->restore);
}

struct entry {
    bool is_pooler;
    size_t index; /* into cfg->servers or cfg->poolers */
    bool seen_name, seen_conninfo;
};

static const char *const server_keys[] = {"name", "conninfo", "tags", "restore_test"};
static const char *const pooler_keys[] = {"name", "conninfo", "serves"};

static void check_conninfo(struct loader *ld, yaml_node_t *v, const char *s)
{
    char *msg = NULL;
    if (conn_check_conninfo(s, &msg) != 0) {
        if (msg)
            one_line(msg);
        char *e = esc(msg && *msg ? msg : "invalid", 1); /* it quotes the user's text */
        yl_err(&ld->y, v, "conninfo rejected by libpq: %s", e);
        free(e);
    }
    free(msg);
}

static void entry_pair(struct yload *yl, size_t key, yaml_node_t *v, void *ctx)
{
    struct loader *ld = (struct loader *)yl;
    struct entry *en = ctx;
    struct config *cfg = ld->cfg;
    char **name = en->is_pooler ? &cfg->poolers[en->index].name : &cfg->servers[en->index].name;
    char **conninfo = en->is_pooler ? &cfg->poolers[en->index].conninfo : &cfg->servers[en->index].conninfo;

    if (key == 0) {
        en->seen_name = true;
        const char *s = get_name(ld, v);
        if (!s)
            return;
        /* Where the name was first used: line 0 means the command line. */
        bool taken = false;
        int line = 0, col = 0;
        if (!en->is_pooler) {
            struct server_conf *o = find_server(cfg, s);
            if (o)
                taken = true, line = o->line, col = o->col;
        } else {
            for (size_t i = 0; i < cfg->npoolers && !taken; i++)
                if (cfg->poolers[i].name && strcmp(cfg->poolers[i].name, s) == 0)
                    taken = true, line = cfg->poolers[i].line, col = cfg->poolers[i].col;
        }
        const char *kind_name = en->is_pooler ? "pooler" : "server";
        if (!taken)
            set_str(name, s);
        else if (line == 0)
            yl_err(&ld->y, v, "duplicate %s name \"%s\" (also given on the command line)", kind_name, s);
        else
            yl_err(&ld->y, v, "duplicate %s name \"%s\" (first defined at %d:%d)", kind_name, s, line, col);
    } else if (key == 1) {
        en->seen_conninfo = true;
        const char *s = yl_scalar(&ld->y, v, "conninfo", "a string");
        if (!s)
            return;
        check_conninfo(ld, v, s);
        set_str(conninfo, s);
    } else if (!en->is_pooler && key == 3) {
        server_restore(ld, v, &cfg->servers[en->index]);
    } else if (!en->is_pooler) {
        struct server_conf *sv = &cfg->servers[en->index];
        get_str_list(ld, v, "tags", "each tag", &sv->tags, &sv->ntags);
    } else {
        struct pooler_conf *p = &cfg->poolers[en->index];
        yaml_node_item_t *items;
        size_t k = yl_seq(&ld->y, v, "serves", &items);
        for (size_t i = 0; i < k && !ld->y.stop; i++) {
            yaml_node_t *it = yl_node(&ld->y, items[i]);
            const char *s = yl_text(&ld->y, it, "each serves entry", "a server name");
            if (!s)
                continue;
            push_str(&p->serves, &p->nserves, s);
            ld->refs = xreallocarray(ld->refs, ld->nrefs + 1, sizeof(*ld->refs));
            ld->refs[ld->nrefs++] = (struct serve_ref){
                .pooler = en->index,
                .serve = p->nserves - 1,
                .line = (int)it->start_mark.line + 1,
                .col = (int)it->start_mark.column + 1,
            };
        }
    }
}

static void load_entries(struct loader *ld, yaml_node_t *v, bool is_pooler)
{
    struct config *cfg = ld->cfg;
    const char *what = is_pooler ? "poolers" : "servers";
    const char *each = is_pooler ? "pooler" : "server";
    yaml_node_item_t *items;
    size_t k = yl_seq(&ld->y, v, what, &items);
    for (size_t i = 0; i < k && !ld->y.stop; i++) {
        yaml_node_t *m = yl_node(&ld->y, items[i]);
        if (m->type != YAML_MAPPING_NODE) {
            yl_err(&ld->y, m, "each %s must be a map (name:, conninfo:, %s), not %s", each,
                   is_pooler ? "serves:" : "tags:", yl_kind(m));
            continue;
        }
        struct entry en = {.is_pooler = is_pooler};
        int line = (int)m->start_mark.line + 1, col = (int)m->start_mark.column + 1;
        if (is_pooler) {
            cfg->poolers = xreallocarray(cfg->poolers, cfg->npoolers + 1, sizeof(*cfg->poolers));
            en.index = cfg->npoolers++;
            cfg->poolers[en.index] = (struct pooler_conf){.line = line, .col = col};
            yl_walk_map(&ld->y, m, each, pooler_keys, ARRAY_LEN(pooler_keys), entry_pair, &en);
        } else {
            cfg->servers = xreallocarray(cfg->servers, cfg->nservers + 1, sizeof(*cfg->servers));
            en.index = cfg->nservers++;
            cfg->servers[en.index] = (struct server_conf){.line = line, .col = col};
            yl_walk_map(&ld->y, m, each, server_keys, ARRAY_LEN(server_keys), entry_pair, &en);
        }
        if (ld->y.stop)
            break;
        const char *name = is_pooler ? cfg->poolers[en.index].name : cfg->servers[en.index].name;
        if (!en.seen_name)
            yl_err(&ld->y, m, "%s is missing required key \"name\"", each);
        if (!en.seen_conninfo) {
            if (name)
                yl_err(&ld->y, m, "%s \"%s\" is missing required key \"conninfo\"", each, name);
            else
                yl_err(&ld->y, m, "%s is missing required key \"conninfo\"", each);
        }
    }
}

static const char *const failover_keys[] = {"max_lag_bytes", "pooler_db_file"};

static void failover_pair(struct yload *yl, size_t key, yaml_node_t *v, void *ctx)
{
    struct loader *ld = (struct loader *)yl;
    struct config *cfg = ld->cfg;
    (void)ctx;
    if (key == 0) {
        yl_size(&ld->y, v, "max_lag_bytes", &cfg->failover_max_lag_bytes);
    } else {
        const char *s = yl_text(&ld->y, v, "pooler_db_file", "a path");
        if (s)
            set_str(&cfg->failover_pooler_db_file, s);
    }
}

static const char *const action_keys[] = {"allow_system_backends", "audit_log"};

static void action_pair(struct yload *yl, size_t key, yaml_node_t *v, void *ctx)
{
    struct loader *ld = (struct loader *)yl;
    struct config *cfg = ld->cfg;
    (void)ctx;
    if (key == 0) {
        yl_bool(&ld->y, v, "allow_system_backends", &cfg->allow_system_backends);
    } else {
        const char *s = yl_text(&ld->y, v, "audit_log", "a path");
        if (s)
            set_str(&cfg->audit_log, s);
    }
}

static const char *const top_keys[] = {"refresh",      "timeout",  "thresholds", "servers",   "poolers",
                                       "restore_test", "failover", "escalation", "read_only", "actions"};

static void top_pair(struct yload *yl, size_t key, yaml_node_t *v, void *ctx)
{
    struct loader *ld = (struct loader *)yl;
    struct config *cfg = ld->cfg;
    (void)ctx;
    switch (key) {
    case 0: /* below 100ms we would spend more time probing than the servers spend working */
        yl_duration(&ld->y, v, "refresh", &cfg->refresh_ms, 100, "100ms", 3600000, "1h");
        break;
    case 1: yl_duration(&ld->y, v, "timeout", &cfg->timeout_ms, 100, "100ms", 3600000, "1h"); break;
    case 2:
        yl_walk_map(&ld->y, v, "thresholds", threshold_keys, ARRAY_LEN(threshold_keys), threshold_pair, &cfg->th);
        break;
    case 3: load_entries(ld, v, false); break;
    case 4: load_entries(ld, v, true); break;
    case 5:
        yl_walk_map(&ld->y, v, "restore_test", restore_keys, ARRAY_LEN(restore_keys), restore_pair, &cfg->restore);
        break;
    case 6: yl_walk_map(&ld->y, v, "failover", failover_keys, ARRAY_LEN(failover_keys), failover_pair, NULL); break;
    case 7: get_str_list(ld, v, "escalation", "each escalation entry", &cfg->escalation, &cfg->nescalation); break;
    case 8: yl_bool(&ld->y, v, "read_only", &cfg->read_only); break;
    case 9: yl_walk_map(&ld->y, v, "actions", action_keys, ARRAY_LEN(action_keys), action_pair, NULL); break;
    }
}

/* Sections for features this version does not have yet: read and checked like the rest (a
 * typo is still an error), but nothing uses them, and a silence would read as "it works". */
static const char *const not_yet[] = {"failover", "escalation"};

/* One note per such section that says something (not empty), at its key. */
static void note_not_yet(struct loader *ld, yaml_node_t *root, struct text *warn)
{
    yaml_node_pair_t *pairs = root->data.mapping.pairs.start;
    size_t n = (size_t)(root->data.mapping.pairs.top - pairs);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *k = yl_node(&ld->y, pairs[i].key), *v = yl_node(&ld->y, pairs[i].value);
        if (!k || !v || k->type != YAML_SCALAR_NODE || yl_is_null(v))
            continue;
        if ((v->type == YAML_SEQUENCE_NODE && v->data.sequence.items.top == v->data.sequence.items.start) ||
            (v->type == YAML_MAPPING_NODE && v->data.mapping.pairs.top == v->data.mapping.pairs.start))
            continue;
        for (size_t f = 0; f < ARRAY_LEN(not_yet); f++)
            if (strcmp((const char *)k->data.scalar.value, not_yet[f]) == 0)
                text_printf(
                    warn, "%s:%zu:%zu: note: %s is not used by this version of pgfleet (it is read and checked only)\n",
                    ld->y.path, k->start_mark.line + 1, k->start_mark.column + 1, not_yet[f]);
    }
}

/* Poolers may be listed before the servers they serve, so this runs after the walk. */
static void check_serves(struct loader *ld)
{
    struct config *cfg = ld->cfg;
    const char **names = xcalloc(cfg->nservers + 1, sizeof(*names));
    size_t nn = 0;
    for (size_t i = 0; i < cfg->nservers; i++)
        if (cfg->servers[i].name)
            names[nn++] = cfg->servers[i].name;
    for (size_t i = 0; i < ld->nrefs && !ld->y.stop; i++) {
        struct serve_ref *r = &ld->refs[i];
        struct pooler_conf *p = &cfg->poolers[r->pooler];
        const char *s = p->serves[r->serve];
        if (find_server(cfg, s))
            continue;
        /* yl_err wants a node for the position; a stand-in carries the saved mark. */
        yaml_node_t at = {.start_mark = {.line = (size_t)r->line - 1, .column = (size_t)r->col - 1}};
        char *e = yl_show(s);
        const char *near = nearest_word(s, names, nn);
        if (near)
            yl_err(&ld->y, &at, "pooler \"%s\" serves unknown server \"%s\" (did you mean \"%s\"?)",
                   p->name ? p->name : "?", e, near);
        else
            yl_err(&ld->y, &at, "pooler \"%s\" serves unknown server \"%s\"", p->name ? p->name : "?", e);
        free(e);
    }
    free(names);
}

/* restore_test.source names a server of the config (any entry may come later in the file). */
static void check_sources(struct loader *ld)
{
    struct config *cfg = ld->cfg;
    const struct restore_conf *all[cfg->nservers + 1];
    size_t n = 0;
    all[n++] = &cfg->restore;
    for (size_t i = 0; i < cfg->nservers; i++)
        if (cfg->servers[i].restore)
            all[n++] = cfg->servers[i].restore;
    for (size_t i = 0; i < n && !ld->y.stop; i++) {
        if (!all[i]->source || find_server(cfg, all[i]->source))
            continue;
        yaml_node_t at = {
            .start_mark = {.line = (size_t)all[i]->source_line - 1, .column = (size_t)all[i]->source_col - 1}};
        char *e = yl_show(all[i]->source);
        yl_err(&ld->y, &at, "restore_test source \"%s\" is not a server of this config", e);
        free(e);
    }
}

static bool any_password(const struct config *cfg)
{
    for (size_t i = 0; i < cfg->nservers; i++)
        if (cfg->servers[i].conninfo && conn_has_password(cfg->servers[i].conninfo))
            return true;
    for (size_t i = 0; i < cfg->npoolers; i++)
        if (cfg->poolers[i].conninfo && conn_has_password(cfg->poolers[i].conninfo))
            return true;
    return false;
}

int config_load(struct config *cfg, const char *path, struct text *err, struct text *warn)
{
    struct loader ld = {.cfg = cfg};
    set_str(&cfg->path, path);
    bool loose = false;
    yaml_node_t *root;
    if (yl_open(&ld.y, path, err, &loose, &root) < 0)
        return -1;
    /* An empty file (or only comments) means all defaults. */
    if (root && !ld.y.nerr && !yl_is_null(root)) {
        if (root->type != YAML_MAPPING_NODE)
            yl_err(&ld.y, root, "the top level must be a map (refresh:, servers:, ...), not %s", yl_kind(root));
        else {
            yl_walk_map(&ld.y, root, NULL, top_keys, ARRAY_LEN(top_keys), top_pair, NULL);
            note_not_yet(&ld, root, warn);
        }
        check_serves(&ld);
        check_sources(&ld);
    }
    yl_close(&ld.y);
    free(ld.refs);

    if (loose && any_password(cfg))
        text_printf(warn,
                    "%s: warning: file holds a password and is readable by group or others; "
                    "chmod 600 %s\n",
                    path, path);
    return ld.y.nerr ? -1 : 0;
}

/* ---- command line and file discovery ------------------------------------------------------ */

int config_add_server_arg(struct config *cfg, const char *conninfo, struct text *err)
{
    char *msg = NULL;
    if (!conninfo)
        conninfo = "";
    if (conn_check_conninfo(conninfo, &msg) != 0) {
        if (msg)
            one_line(msg);
        text_printf(err, "bad connection string: %s\n", msg && *msg ? msg : "rejected by libpq");
        free(msg);
        return -1;
    }
    free(msg);
    char *base = conn_display_name(conninfo);
    if (!base)
        base = xstrdup("server");
    /* Two arguments can point at the same target (e.g. different users); keep both. */
    char *name = xstrdup(base);
    for (int k = 2; find_server(cfg, name); k++) {
        free(name);
        name = xasprintf("%s#%d", base, k);
    }
    free(base);
    cfg->servers = xreallocarray(cfg->servers, cfg->nservers + 1, sizeof(*cfg->servers));
    cfg->servers[cfg->nservers++] = (struct server_conf){.name = name, .conninfo = xstrdup(conninfo)};
    return 0;
}

char *config_find(const char *flag_path)
{
    if (flag_path)
        return xstrdup(flag_path);
    const char *env = getenv("PGFLEET_CONFIG");
    if (env && *env)
        return xstrdup(env);
    /* The XDG spec says to ignore a relative XDG_CONFIG_HOME. */
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char *p;
    if (xdg && xdg[0] == '/')
        p = xasprintf("%s/pgfleet/fleet.yaml", xdg);
    else if (home && *home)
        p = xasprintf("%s/.config/pgfleet/fleet.yaml", home);
    else
        return NULL;
    if (access(p, F_OK) == 0)
        return p;
    free(p);
    return NULL;
}
