/* batch_jobfile.c — reads a batch job file (YAML) into struct batch_jobfile, strictly: every
 * problem as FILE:LINE:COL: message (core/yaml_load.c), a statement without both placeholders
 * refused, nothing guessed. */
#include <stdlib.h>
#include <string.h>

#include "actions/batch.h"
#include "core/conn.h"
#include "core/yaml_load.h"

static const char *const top_keys[] = {"job",   "server", "conninfo", "database", "key",   "sql",
                                       "start", "end",    "estimate", "batch",    "sleep", "limits"};
enum { K_JOB, K_SERVER, K_CONNINFO, K_DATABASE, K_KEY, K_SQL, K_START, K_END, K_ESTIMATE, K_BATCH, K_SLEEP, K_LIMITS };
static const char *const batch_keys[] = {"size", "min", "max", "target"};
static const char *const limit_keys[] = {"replica_lag_bytes", "replica_lag", "blocked_sessions", "lock_timeout",
                                         "statement_timeout"};

#define DAY_MS (24LL * 3600 * 1000)

static bool valid_name(const char *s)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");
    return n > 0 && s[n] == '\0' && n <= 63;
}

/* A whole number of at least min. */
static void get_count(struct yload *ld, yaml_node_t *v, const char *what, int64_t *out, int64_t min)
{
    const char *s = yl_scalar(ld, v, what, "a whole number");
    if (!s)
        return;
    char *end;
    long long n = strtoll(s, &end, 10);
    if (end == s || *end || n < min) {
        char *e = yl_show(s);
        yl_err(ld, v, "%s must be a whole number of at least %lld, got \"%s\"", what, (long long)min, e);
        free(e);
        return;
    }
    *out = n;
}

static void batch_pair(struct yload *ld, size_t key, yaml_node_t *v, void *ctx)
{
    struct batch_jobfile *jf = ctx;
    switch (key) {
    case 0: get_count(ld, v, "batch.size", &jf->size, 1); break;
    case 1: get_count(ld, v, "batch.min", &jf->min, 1); break;
    case 2: get_count(ld, v, "batch.max", &jf->max, 1); break;
    case 3: yl_duration(ld, v, "batch.target", &jf->target_ms, 10, "10ms", DAY_MS, "1d"); break;
    }
}

static void limit_pair(struct yload *ld, size_t key, yaml_node_t *v, void *ctx)
{
    struct batch_jobfile *jf = ctx;
    switch (key) {
    case 0: yl_size(ld, v, "limits.replica_lag_bytes", &jf->max_lag_bytes); break;
    case 1: yl_duration(ld, v, "limits.replica_lag", &jf->max_lag_ms, 0, NULL, 0, NULL); break;
    case 2: get_count(ld, v, "limits.blocked_sessions", &jf->max_blocked, 0); break;
    case 3: yl_duration(ld, v, "limits.lock_timeout", &jf->lock_timeout_ms, 1, "1ms", DAY_MS, "1d"); break;
    case 4: yl_duration(ld, v, "limits.statement_timeout", &jf->statement_timeout_ms, 1, "1ms", DAY_MS, "1d"); break;
    }
}

/* The node of each key seen, for checks that need several (placeholders, server or conninfo). */
struct seen {
    struct batch_jobfile *jf;
    yaml_node_t *at[ARRAY_LEN(top_keys)];
};

static void top_pair(struct yload *ld, size_t key, yaml_node_t *v, void *ctx)
{
    struct seen *sn = ctx;
    struct batch_jobfile *jf = sn->jf;
    sn->at[key] = v;
    const char *s;
    char **str[] = {[K_JOB] = &jf->job,           [K_SERVER] = &jf->server, [K_CONNINFO] = &jf->conninfo,
                    [K_DATABASE] = &jf->database, [K_KEY] = &jf->key,       [K_SQL] = &jf->sql,
                    [K_START] = &jf->start_sql,   [K_END] = &jf->end_sql,   [K_ESTIMATE] = &jf->estimate_sql};
    switch (key) {
    case K_BATCH: yl_walk_map(ld, v, "batch", batch_keys, ARRAY_LEN(batch_keys), batch_pair, jf); return;
    case K_LIMITS: yl_walk_map(ld, v, "limits", limit_keys, ARRAY_LEN(limit_keys), limit_pair, jf); return;
    case K_SLEEP: yl_duration(ld, v, "sleep", &jf->sleep_ms, 0, "0s", DAY_MS, "1d"); return;
    default: break;
    }
    if (!(s = yl_text(ld, v, top_keys[key], key == K_SQL ? "a statement" : "a string")))
        return;
    if ((key == K_JOB || key == K_SERVER) && !valid_name(s)) {
        char *e = yl_show(s);
        yl_err(ld, v, "bad %s name \"%s\" (use 1 to 63 of A-Z a-z 0-9 _ . -)", top_keys[key], e);
        free(e);
        return;
    }
    if (key == K_CONNINFO) {
        char *msg = NULL;
        if (conn_check_conninfo(s, &msg) != 0) { /* never echo it: it may hold a password */
            yl_err(ld, v, "bad conninfo: %s", msg && *msg ? msg : "rejected by libpq");
            free(msg);
            return;
        }
        free(msg);
    }
    free(*str[key]);
    *str[key] = xstrdup(s);
}

int batch_jobfile_load(struct batch_jobfile *jf, const char *path, struct text *err)
{
    *jf = (struct batch_jobfile){
        .path = xstrdup(path),
        .size = 1000,
        .min = 10,
        .max = 100000,
        .target_ms = 500,
        .sleep_ms = 100,
        .max_lag_bytes = 64LL << 20,
        .max_lag_ms = 30000,
        .max_blocked = 5,
        .lock_timeout_ms = 2000,
        .statement_timeout_ms = 30000,
    };
    struct yload ld;
    bool loose;
    yaml_node_t *root;
    if (yl_open(&ld, path, err, &loose, &root) < 0)
        return -1;
    struct seen sn = {.jf = jf};
    if (!root || yl_is_null(root)) {
        text_printf(err, "%s:1:1: the job file is empty: it needs job:, server: (or conninfo:), key: and sql:\n", path);
        ld.nerr++;
    } else if (root->type != YAML_MAPPING_NODE) {
        yl_err(&ld, root, "the top level must be a map (job:, server:, sql:, ...), not %s", yl_kind(root));
    } else {
        yl_walk_map(&ld, root, NULL, top_keys, ARRAY_LEN(top_keys), top_pair, &sn);
        static const int required[] = {K_JOB, K_KEY, K_SQL};
        for (size_t i = 0; i < ARRAY_LEN(required); i++)
            if (!sn.at[required[i]])
                yl_err(&ld, root, "%s: is missing", top_keys[required[i]]);
        if (!sn.at[K_SERVER] == !sn.at[K_CONNINFO])
            yl_err(&ld, sn.at[K_CONNINFO] ? sn.at[K_CONNINFO] : root,
                   "give one of server: (a server of the fleet config) and conninfo:");
        if (jf->sql) {
            char why[200];
            jf->bound = batch_bind(jf->sql, why, sizeof why);
            if (!jf->bound)
                yl_err(&ld, sn.at[K_SQL], "sql: %s", why);
        }
        if (jf->min > jf->max)
            yl_err(&ld, root, "batch.min (%lld) is more than batch.max (%lld)", (long long)jf->min, (long long)jf->max);
        else if (jf->size < jf->min || jf->size > jf->max)
            yl_err(&ld, root, "batch.size (%lld) must be between batch.min (%lld) and batch.max (%lld)",
                   (long long)jf->size, (long long)jf->min, (long long)jf->max);
        if (loose && jf->conninfo && conn_has_password(jf->conninfo))
            yl_err(&ld, sn.at[K_CONNINFO], "the file holds a password and others may read it: chmod 600 %s", path);
    }
    int nerr = ld.nerr;
    yl_close(&ld);
    return nerr ? -1 : 0;
}

void batch_jobfile_free(struct batch_jobfile *jf)
{
    free(jf->path);
    free(jf->job);
    free(jf->server);
    free(jf->conninfo);
    free(jf->database);
    free(jf->key);
    free(jf->sql);
    free(jf->bound);
    free(jf->start_sql);
    free(jf->end_sql);
    free(jf->estimate_sql);
    memset(jf, 0, sizeof *jf);
}
