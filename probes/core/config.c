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

/* Past this many errors the rest are noise (usually one mistake repeated). */
#define MAX_ERRORS 100
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
    const char *path;
    struct config *cfg;
    yaml_document_t *doc;
    struct text *err;
    int nerr;
    bool stop;   /* too many errors, or the alias budget is spent: walk no further */
    long budget; /* nodes + bytes we may still visit; bounds alias expansion ("billion laughs") */
    struct serve_ref *refs;
    size_t nrefs;
};

static void errf(struct loader *ld, const yaml_node_t *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void errf(struct loader *ld, const yaml_node_t *at, const char *fmt, ...)
{
    if (ld->stop)
        return;
    int line = (int)at->start_mark.line + 1, col = (int)at->start_mark.column + 1;
    if (++ld->nerr > MAX_ERRORS) {
        text_printf(ld->err, "%s:%d:%d: too many errors, giving up\n", ld->path, line, col);
        ld->stop = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    text_printf(ld->err, "%s:%d:%d: ", ld->path, line, col);
    text_vprintf(ld->err, fmt, ap);
    text_add(ld->err, "\n");
    va_end(ap);
}

/* A value from the file, made safe to print: escaped, and cut short if long. Never used on
 * conninfo, which may hold a password. */
static char *show(const char *s)
{
    char *cut = xstrndup(s, 60);
    char *e = esc(cut, 1);
    free(cut);
    if (strlen(s) > 60) {
        char *l = xasprintf("%s...", e);
        free(e);
        e = l;
    }
    return e;
}

static yaml_node_t *node_at(struct loader *ld, int index) { return yaml_document_get_node(ld->doc, index); }

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static const char *kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a map";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_SCALAR_NODE: return is_null(n) ? "empty" : "a single value";
    default: return "nothing";
    }
}

/* Every node we visit costs its size: through aliases a small file can name the same big list
 * many times over, and we copy what we visit. */
static bool charge(struct loader *ld, const yaml_node_t *n)
{
    if (ld->stop)
        return false;
    ld->budget -= 1 + (n->type == YAML_SCALAR_NODE ? (long)n->data.scalar.length : 0);
    if (ld->budget < 0) {
        errf(ld, n, "too much data after expanding aliases");
        ld->stop = true;
        return false;
    }
    return true;
}

/* The text of a scalar, or NULL after saying why there is none. what names the value in the
 * message ("refresh", "each tag"), want says what it should be ("a duration"). */
static const char *get_scalar(struct loader *ld, yaml_node_t *n, const char *what, const char *want)
{
    if (!charge(ld, n))
        return NULL;
    if (n->type != YAML_SCALAR_NODE || is_null(n)) {
        errf(ld, n, "%s must be %s, not %s", what, want, kind(n));
        return NULL;
    }
    const char *v = (const char *)n->data.scalar.value;
    /* A "\0" escape would cut the string short without anyone noticing. */
    if (strlen(v) != n->data.scalar.length) {
        errf(ld, n, "%s must not contain a NUL character", what);
        return NULL;
    }
    return v;
}

/* Like get_scalar, for values where "" makes no sense (paths, tags, commands). */
static const char *get_text(struct loader *ld, yaml_node_t *n, const char *what, const char *want)
{
    const char *v = get_scalar(ld, n, what, want);
    if (v && !*v) {
        errf(ld, n, "%s must not be empty", what);
        return NULL;
    }
    return v;
}

/* The items of a list; an empty value counts as an empty list (e.g. every entry commented
 * out). Returns the count, 0 after an error. */
static size_t get_seq(struct loader *ld, yaml_node_t *n, const char *what, yaml_node_item_t **items)
{
    *items = NULL;
    if (!charge(ld, n) || is_null(n))
        return 0;
    if (n->type != YAML_SEQUENCE_NODE) {
        errf(ld, n, "%s must be a list, not %s", what, kind(n));
        return 0;
    }
    *items = n->data.sequence.items.start;
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

/* A list of non-empty strings, appended to *v. */
static void get_str_list(struct loader *ld, yaml_node_t *n, const char *what, const char *each, char ***v, size_t *nv)
{
    yaml_node_item_t *items;
    size_t k = get_seq(ld, n, what, &items);
    for (size_t i = 0; i < k && !ld->stop; i++) {
        const char *s = get_text(ld, node_at(ld, items[i]), each, "a string");
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
    const char *s = get_scalar(ld, n, "name", "a name");
    if (s && !valid_name(s)) {
        char *e = show(s);
        errf(ld, n, "bad name \"%s\" (use 1 to %d of A-Z a-z 0-9 _ . -)", e, MAX_NAME);
        free(e);
        return NULL;
    }
    return s;
}

/* Duration with an optional range (min_txt/max_txt are how the limits read in a message). */
static void get_duration(struct loader *ld, yaml_node_t *n, const char *what, int64_t *out, int64_t min,
                         const char *min_txt, int64_t max, const char *max_txt)
{
    const char *s = get_scalar(ld, n, what, "a duration");
    if (!s)
        return;
    int64_t ms;
    char *e = show(s);
    if (parse_duration_ms(s, &ms) != 0 || ms < 0)
        errf(ld, n, "bad duration \"%s\" for %s (use e.g. 2s, 500ms, 1m)", e, what);
    else if (min_txt && (ms < min || ms > max))
        errf(ld, n, "%s must be between %s and %s, got \"%s\"", what, min_txt, max_txt, e);
    else
        *out = ms;
    free(e);
}

static void get_size(struct loader *ld, yaml_node_t *n, const char *what, int64_t *out)
{
    const char *s = get_scalar(ld, n, what, "a size");
    if (!s)
        return;
    int64_t b;
    if (parse_size_bytes(s, &b) != 0 || b < 0) {
        char *e = show(s);
        errf(ld, n, "bad size \"%s\" for %s (use e.g. 16MB, 512kB, 1GB)", e, what);
        free(e);
        return;
    }
    *out = b;
}

static void get_pct(struct loader *ld, yaml_node_t *n, const char *what, double *out)
{
    const char *s = get_scalar(ld, n, what, "a number");
    if (!s)
        return;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    char *e = show(s);
    if (end == s || *end || errno == ERANGE)
        errf(ld, n, "bad number \"%s\" for %s", e, what);
    else if (!(d >= 0 && d <= 100)) /* also catches nan */
        errf(ld, n, "%s must be between 0 and 100, got \"%s\"", what, e);
    else
        *out = d;
    free(e);
}

static void get_int(struct loader *ld, yaml_node_t *n, const char *what, int *out, long min, long max)
{
    const char *s = get_scalar(ld, n, what, "a whole number");
    if (!s)
        return;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    char *e = show(s);
    if (end == s || *end || errno == ERANGE)
        errf(ld, n, "bad whole number \"%s\" for %s", e, what);
    else if (v < min || v > max)
        errf(ld, n, "%s must be between %ld and %ld, got \"%s\"", what, min, max, e);
    else
        *out = (int)v;
    free(e);
}

static void get_bool(struct loader *ld, yaml_node_t *n, const char *what, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    const char *s = get_scalar(ld, n, what, "true or false");
    if (!s)
        return;
    for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return;
        }
    }
    char *e = show(s);
    errf(ld, n, "bad value \"%s\" for %s (use true or false)", e, what);
    free(e);
}

/* Checks a key of pair i of map: a scalar, not seen before in the map. Returns its text. */
static const char *map_key(struct loader *ld, yaml_node_t *map, size_t i)
{
    yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
    yaml_node_t *k = node_at(ld, pairs[i].key);
    if (!charge(ld, k))
        return NULL;
    if (k->type != YAML_SCALAR_NODE || is_null(k)) {
        errf(ld, k, "a key must be a name, not %s", kind(k));
        return NULL;
    }
    const char *name = (const char *)k->data.scalar.value;
    for (size_t j = 0; j < i; j++) {
        yaml_node_t *o = node_at(ld, pairs[j].key);
        if (o->type == YAML_SCALAR_NODE && strcmp((const char *)o->data.scalar.value, name) == 0) {
            char *e = show(name);
            errf(ld, k, "duplicate key \"%s\" (first defined at %d:%d)", e, (int)o->start_mark.line + 1,
                 (int)o->start_mark.column + 1);
            free(e);
            return NULL;
        }
    }
    return name;
}

/* Calls fn for each pair of a map whose key is one of keys (by index); reports the others.
 * where names the map in messages (NULL at the top level). An empty value is an empty map. */
typedef void pair_fn(struct loader *ld, size_t key, yaml_node_t *val, void *ctx);

static void walk_map(struct loader *ld, yaml_node_t *map, const char *where, const char *const *keys, size_t nkeys,
                     pair_fn *fn, void *ctx)
{
    if (!charge(ld, map) || is_null(map))
        return;
    if (map->type != YAML_MAPPING_NODE) {
        errf(ld, map, "%s must be a map, not %s", where, kind(map));
        return;
    }
    yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
    size_t n = (size_t)(map->data.mapping.pairs.top - pairs);
    for (size_t i = 0; i < n && !ld->stop; i++) {
        const char *name = map_key(ld, map, i);
        if (!name)
            continue;
        size_t k = 0;
        while (k < nkeys && strcmp(keys[k], name) != 0)
            k++;
        if (k < nkeys) {
            fn(ld, k, node_at(ld, pairs[i].value), ctx);
            continue;
        }
        yaml_node_t *kn = node_at(ld, pairs[i].key);
        char *e = show(name);
        const char *near = nearest_word(name, keys, nkeys);
        struct text t;
        text_init(&t);
        text_printf(&t, "unknown key \"%s\"", e);
        if (where)
            text_printf(&t, " in %s", where);
        if (near) {
            text_printf(&t, " (did you mean \"%s\"?)", near);
        } else {
            text_add(&t, " (valid keys:");
            for (size_t j = 0; j < nkeys; j++)
                text_printf(&t, "%s %s", j ? "," : "", keys[j]);
            text_add(&t, ")");
        }
        errf(ld, kn, "%s", t.s);
        text_free(&t);
        free(e);
    }
}

/* ---- sections ----------------------------------------------------------------------------- */

static const char *const threshold_keys[] = {"slow_query",     "idle_in_transaction", "repl_lag",
                                             "repl_lag_bytes", "connections_pct",     "cache_hit_pct"};

static void threshold_pair(struct loader *ld, size_t key, yaml_node_t *v, void *ctx)
{
    struct thresholds *th = ctx;
    const char *what = threshold_keys[key];
    switch (key) {
    case 0: get_duration(ld, v, what, &th->slow_query_ms, 0, NULL, 0, NULL); break;
    case 1: get_duration(ld, v, what, &th->idle_in_transaction_ms, 0, NULL, 0, NULL); break;
    case 2: get_duration(ld, v, what, &th->repl_lag_ms, 0, NULL, 0, NULL); break;
    case 3: get_size(ld, v, what, &th->repl_lag_bytes); break;
    case 4: get_pct(ld, v, what, &th->connections_pct); break;
    case 5: get_pct(ld, v, what, &th->cache_hit_pct); break;
    }
}

/* A servers: or poolers: entry while its map is walked. */
/* restore_test: keys 1.. are also a server's own (max_age_days is the fleet's only). */
static const char *const restore_keys[] = {
    "max_age_days", "scratch_dir",       "method", "keep_on_failure", "amcheck",  "run_as",  "bindir",  "source",
    "stanza",       "pgbackrest_config", "hook",   "target_time",     "canaries", "timeout", "max_rate"};

static const char *const canary_keys[] = {"database", "query"};

static void canary_pair(struct loader *ld, size_t key, yaml_node_t *v, void *ctx)
{
    struct canary_conf *c = ctx;
    const char *s = get_text(ld, v, key ? "query" : "database", key ? "an SQL query" : "a database name");
    if (s)
        set_str(key ? &c->query : &c->database, s);
}

static void get_canaries(struct loader *ld, yaml_node_t *v, struct restore_conf *r)
{
    yaml_node_item_t *items;
    size_t n = get_seq(ld, v, "canaries", &items);
    for (size_t i = 0; i < n && !ld->stop; i++) {
        yaml_node_t *it = node_at(ld, items[i]);
        r->canaries = xreallocarray(r->canaries, r->ncanaries + 1, sizeof *r->canaries);
        struct canary_conf *c = &r->canaries[r->ncanaries++];
        memset(c, 0, sizeof *c);
        walk_map(ld, it, "a canary", canary_keys, ARRAY_LEN(canary_keys), canary_pair, c);
        if (!ld->stop && it && it->type == YAML_MAPPING_NODE && !c->query)
            errf(ld, it, "a canary needs a query (e.g. query: SELECT max(id) FROM orders)");
    }
}

static void get_tristate(struct loader *ld, yaml_node_t *v, const char *what, int *out)
{
    bool b = false;
    int before = ld->nerr;
    get_bool(ld, v, what, &b);
    if (ld->nerr == before)
        *out = b;
}

static void restore_pair(struct loader *ld, size_t key, yaml_node_t *v, void *ctx)
{
    struct restore_conf *r = ctx;
    const char *s;
    char **str = NULL;
    switch (key) {
    case 0:
        if (r != &ld->cfg->restore)
            errf(ld, v, "max_age_days is set for the whole fleet (restore_test: at the top), not per server");
        else
            get_int(ld, v, "max_age_days", &ld->cfg->restore_max_age_days, 1, 36500);
        return;
    case 1: str = &r->scratch_dir; break;
    case 2:
        s = get_scalar(ld, v, "method", "a method name");
        if (!s)
            return;
        for (size_t i = 0; i < ARRAY_LEN(restore_methods); i++)
            if (strcmp(s, restore_methods[i]) == 0) {
                set_str(&r->method, s);
                return;
            }
        char *e = show(s);
        errf(ld, v, "bad method \"%s\" for restore_test (use basebackup, logical, pgbackrest or hook)", e);
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
    case 13: get_duration(ld, v, "timeout", &r->timeout_ms, 1000, "1s", 7 * 24 * 3600 * 1000LL, "7d"); return;
    }
    s = get_text(ld, v, restore_keys[key], "a string");
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
    walk_map(ld, v, "a server's restore_test", restore_keys, ARRAY_LEN(restore_keys), restore_pair, sv->restore);
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
        errf(ld, v, "conninfo rejected by libpq: %s", e);
        free(e);
    }
    free(msg);
}

static void entry_pair(struct loader *ld, size_t key, yaml_node_t *v, void *ctx)
{
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
            errf(ld, v, "duplicate %s name \"%s\" (also given on the command line)", kind_name, s);
        else
            errf(ld, v, "duplicate %s name \"%s\" (first defined at %d:%d)", kind_name, s, line, col);
    } else if (key == 1) {
        en->seen_conninfo = true;
        const char *s = get_scalar(ld, v, "conninfo", "a string");
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
        size_t k = get_seq(ld, v, "serves", &items);
        for (size_t i = 0; i < k && !ld->stop; i++) {
            yaml_node_t *it = node_at(ld, items[i]);
            const char *s = get_text(ld, it, "each serves entry", "a server name");
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
    size_t k = get_seq(ld, v, what, &items);
    for (size_t i = 0; i < k && !ld->stop; i++) {
        yaml_node_t *m = node_at(ld, items[i]);
        if (m->type != YAML_MAPPING_NODE) {
            errf(ld, m, "each %s must be a map (name:, conninfo:, %s), not %s", each,
                 is_pooler ? "serves:" : "tags:", kind(m));
            continue;
        }
        struct entry en = {.is_pooler = is_pooler};
        int line = (int)m->start_mark.line + 1, col = (int)m->start_mark.column + 1;
        if (is_pooler) {
            cfg->poolers = xreallocarray(cfg->poolers, cfg->npoolers + 1, sizeof(*cfg->poolers));
            en.index = cfg->npoolers++;
            cfg->poolers[en.index] = (struct pooler_conf){.line = line, .col = col};
            walk_map(ld, m, each, pooler_keys, ARRAY_LEN(pooler_keys), entry_pair, &en);
        } else {
            cfg->servers = xreallocarray(cfg->servers, cfg->nservers + 1, sizeof(*cfg->servers));
            en.index = cfg->nservers++;
            cfg->servers[en.index] = (struct server_conf){.line = line, .col = col};
            walk_map(ld, m, each, server_keys, ARRAY_LEN(server_keys), entry_pair, &en);
        }
        if (ld->stop)
            break;
        const char *name = is_pooler ? cfg->poolers[en.index].name : cfg->servers[en.index].name;
        if (!en.seen_name)
            errf(ld, m, "%s is missing required key \"name\"", each);
        if (!en.seen_conninfo) {
            if (name)
                errf(ld, m, "%s \"%s\" is missing required key \"conninfo\"", each, name);
            else
                errf(ld, m, "%s is missing required key \"conninfo\"", each);
        }
    }
}

static const char *const failover_keys[] = {"max_lag_bytes", "pooler_db_file"};

static void failover_pair(struct loader *ld, size_t key, yaml_node_t *v, void *ctx)
{
    struct config *cfg = ld->cfg;
    (void)ctx;
    if (key == 0) {
        get_size(ld, v, "max_lag_bytes", &cfg->failover_max_lag_bytes);
    } else {
        const char *s = get_text(ld, v, "pooler_db_file", "a path");
        if (s)
            set_str(&cfg->failover_pooler_db_file, s);
    }
}

static const char *const action_keys[] = {"allow_system_backends", "audit_log"};

static void action_pair(struct loader *ld, size_t key, yaml_node_t *v, void *ctx)
{
    struct config *cfg = ld->cfg;
    (void)ctx;
    if (key == 0) {
        get_bool(ld, v, "allow_system_backends", &cfg->allow_system_backends);
    } else {
        const char *s = get_text(ld, v, "audit_log", "a path");
        if (s)
            set_str(&cfg->audit_log, s);
    }
}

static const char *const top_keys[] = {"refresh",      "timeout",  "thresholds", "servers",   "poolers",
                                       "restore_test", "failover", "escalation", "read_only", "actions"};

static void top_pair(struct loader *ld, size_t key, yaml_node_t *v, void *ctx)
{
    struct config *cfg = ld->cfg;
    (void)ctx;
    switch (key) {
    case 0: /* below 100ms we would spend more time probing than the servers spend working */
        get_duration(ld, v, "refresh", &cfg->refresh_ms, 100, "100ms", 3600000, "1h");
        break;
    case 1: get_duration(ld, v, "timeout", &cfg->timeout_ms, 100, "100ms", 3600000, "1h"); break;
    case 2: walk_map(ld, v, "thresholds", threshold_keys, ARRAY_LEN(threshold_keys), threshold_pair, &cfg->th); break;
    case 3: load_entries(ld, v, false); break;
    case 4: load_entries(ld, v, true); break;
    case 5: walk_map(ld, v, "restore_test", restore_keys, ARRAY_LEN(restore_keys), restore_pair, &cfg->restore); break;
    case 6: walk_map(ld, v, "failover", failover_keys, ARRAY_LEN(failover_keys), failover_pair, NULL); break;
    case 7: get_str_list(ld, v, "escalation", "each escalation entry", &cfg->escalation, &cfg->nescalation); break;
    case 8: get_bool(ld, v, "read_only", &cfg->read_only); break;
    case 9: walk_map(ld, v, "actions", action_keys, ARRAY_LEN(action_keys), action_pair, NULL); break;
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
        yaml_node_t *k = node_at(ld, pairs[i].key), *v = node_at(ld, pairs[i].value);
        if (!k || !v || k->type != YAML_SCALAR_NODE || is_null(v))
            continue;
        if ((v->type == YAML_SEQUENCE_NODE && v->data.sequence.items.top == v->data.sequence.items.start) ||
            (v->type == YAML_MAPPING_NODE && v->data.mapping.pairs.top == v->data.mapping.pairs.start))
            continue;
        for (size_t f = 0; f < ARRAY_LEN(not_yet); f++)
            if (strcmp((const char *)k->data.scalar.value, not_yet[f]) == 0)
                text_printf(
                    warn, "%s:%zu:%zu: note: %s is not used by this version of pgfleet (it is read and checked only)\n",
                    ld->path, k->start_mark.line + 1, k->start_mark.column + 1, not_yet[f]);
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
    for (size_t i = 0; i < ld->nrefs && !ld->stop; i++) {
        struct serve_ref *r = &ld->refs[i];
        struct pooler_conf *p = &cfg->poolers[r->pooler];
        const char *s = p->serves[r->serve];
        if (find_server(cfg, s))
            continue;
        /* errf wants a node for the position; a stand-in carries the saved mark. */
        yaml_node_t at = {.start_mark = {.line = (size_t)r->line - 1, .column = (size_t)r->col - 1}};
        char *e = show(s);
        const char *near = nearest_word(s, names, nn);
        if (near)
            errf(ld, &at, "pooler \"%s\" serves unknown server \"%s\" (did you mean \"%s\"?)", p->name ? p->name : "?",
                 e, near);
        else
            errf(ld, &at, "pooler \"%s\" serves unknown server \"%s\"", p->name ? p->name : "?", e);
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
    for (size_t i = 0; i < n && !ld->stop; i++) {
        if (!all[i]->source || find_server(cfg, all[i]->source))
            continue;
        yaml_node_t at = {
            .start_mark = {.line = (size_t)all[i]->source_line - 1, .column = (size_t)all[i]->source_col - 1}};
        char *e = show(all[i]->source);
        errf(ld, &at, "restore_test source \"%s\" is not a server of this config", e);
        free(e);
    }
}

static void syntax_error(struct loader *ld, yaml_parser_t *p)
{
    yaml_mark_t m = p->problem_mark;
    if (p->error == YAML_READER_ERROR) /* the reader sets only an offset; use where we got to */
        m = p->mark;
    text_printf(ld->err, "%s:%zu:%zu: YAML syntax error: %s", ld->path, m.line + 1, m.column + 1,
                p->problem ? p->problem : "unknown problem");
    if (p->context)
        text_printf(ld->err, " (%s at %zu:%zu)", p->context, p->context_mark.line + 1, p->context_mark.column + 1);
    text_add(ld->err, "\n");
    ld->nerr++;
}

/* What walking the document may cost: each node once, plus a generous margin for aliases. */
static long doc_budget(yaml_document_t *doc)
{
    long cost = 0;
    for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++)
        cost += 1 + (n->type == YAML_SCALAR_NODE ? (long)n->data.scalar.length : 0);
    return 8 * cost + 4096;
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

/* Limits on what the config file may be: libyaml's cost grows with the square of the nesting
 * depth (a 400 kB file nested 200 000 deep takes minutes), and nothing real comes close. */
#define CONFIG_MAX_BYTES (1L << 20)
#define CONFIG_MAX_DEPTH 64

/* The whole file, read once (a pipe such as -c <(envsubst < fleet.yaml) cannot be read twice),
 * at most CONFIG_MAX_BYTES. Returns NULL with the error reported. */
static unsigned char *read_capped(struct loader *ld, FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    unsigned char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap)
            buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > CONFIG_MAX_BYTES) {
            size_t line = 1, col = 1;
            for (size_t i = 0; i < CONFIG_MAX_BYTES; i++)
                buf[i] == '\n' ? (line++, col = 1) : col++;
            text_printf(ld->err, "%s:%zu:%zu: the file is larger than %ld bytes: refused (is it the right file?)\n",
                        ld->path, line, col, CONFIG_MAX_BYTES);
            ld->nerr++;
            free(buf);
            return NULL;
        }
        if (got == 0) {
            if (ferror(f)) {
                text_printf(ld->err, "%s: cannot read: %s\n", ld->path, strerror(errno));
                ld->nerr++;
                free(buf);
                return NULL;
            }
            break;
        }
    }
    *len = n;
    return buf;
}

/* A first pass over the events only, stopping at the first one nested too deep, so the
 * quadratic work never starts. Returns 0, or -1 with the error reported. */
static int check_depth(struct loader *ld, const unsigned char *buf, size_t len)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        fatal("out of memory");
    yaml_parser_set_input_string(&p, buf, len);
    int depth = 0, rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev))
            break; /* a syntax error: the real load reports it with its context */
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT)
            depth++;
        else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
            depth--;
        if (depth > CONFIG_MAX_DEPTH) {
            text_printf(ld->err, "%s:%zu:%zu: nested more than %d levels deep: refused\n", ld->path,
                        ev.start_mark.line + 1, ev.start_mark.column + 1, CONFIG_MAX_DEPTH);
            ld->nerr++;
            rc = -1;
        }
        yaml_event_delete(&ev);
        if (rc || t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    return rc;
}

int config_load(struct config *cfg, const char *path, struct text *err, struct text *warn)
{
    struct loader ld = {.path = path, .cfg = cfg, .err = err};
    set_str(&cfg->path, path);

    FILE *f = fopen(path, "rb");
    if (!f) {
        text_printf(err, "%s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    /* fstat the open file, not the name, so the check is about what we actually read. */
    struct stat st;
    bool have_st = fstat(fileno(f), &st) == 0;
    bool loose = have_st && (st.st_mode & 077) != 0;
    if (have_st && S_ISDIR(st.st_mode)) { /* fopen accepts one; reading it would be a baffling "input error" */
        text_printf(err, "%s: cannot read: is a directory\n", path);
        fclose(f);
        return -1;
    }

    size_t len = 0;
    unsigned char *buf = read_capped(&ld, f, &len);
    fclose(f);
    if (!buf || check_depth(&ld, buf, len) < 0) {
        free(buf);
        return -1;
    }

    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        fatal("out of memory");
    yaml_parser_set_input_string(&parser, buf, len);
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_error(&ld, &parser);
        yaml_parser_delete(&parser);
        free(buf);
        return -1;
    }

    /* A second document would be ignored silently, which is never what was meant. */
    yaml_document_t extra;
    if (!yaml_parser_load(&parser, &extra)) {
        syntax_error(&ld, &parser);
    } else {
        yaml_node_t *r = yaml_document_get_root_node(&extra);
        if (r)
            errf(&ld, r, "only one YAML document is allowed, found a second one");
        yaml_document_delete(&extra);
    }
    yaml_parser_delete(&parser);
    free(buf);

    ld.doc = &doc;
    ld.budget = doc_budget(&doc);
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    /* An empty file (or only comments) means all defaults. */
    if (root && !ld.nerr && !is_null(root)) {
        if (root->type != YAML_MAPPING_NODE)
            errf(&ld, root, "the top level must be a map (refresh:, servers:, ...), not %s", kind(root));
        else {
            walk_map(&ld, root, NULL, top_keys, ARRAY_LEN(top_keys), top_pair, NULL);
            note_not_yet(&ld, root, warn);
        }
        check_serves(&ld);
        check_sources(&ld);
    }
    yaml_document_delete(&doc);
    free(ld.refs);

    if (loose && any_password(cfg))
        text_printf(warn,
                    "%s: warning: file holds a password and is readable by group or others; "
                    "chmod 600 %s\n",
                    path, path);
    return ld.nerr ? -1 : 0;
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
