/* probe_subscriptions.c — the logical replication probe: this server's subscriptions (one row per
 * subscription, from its apply worker in pg_stat_subscription: what it received, when it last
 * heard from the publisher, errors on 15+) and the publications of the connected database. One
 * statement: subscriptions and publications are two kinds of rows of one UNION ALL. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/sec_replication.h"

/* relid IS NULL keeps the apply worker (tablesync workers have a relid); 16+ also runs parallel
 * apply workers, which have a leader_pid. pg_subscription is read for the columns every role may
 * read: not subconninfo, and before 14 not even its oid, so there a worker is matched by the
 * subscription's name (KEY: oid/subid or subname/subname). */
/* clang-format off */
#define SUBS_SQL(KEY, SKEY, ERRORS, STATS_JOIN, APPLY_ONLY)                                        \
    "SELECT 'sub' AS kind, su.subname AS name,"                                                    \
    " (SELECT datname FROM pg_database d WHERE d.oid = su.subdbid) AS database,"                   \
    " su.subslotname AS slot_name, su.subenabled AS enabled, s.pid,"                               \
    " s.received_lsn, s.latest_end_lsn,"                                                           \
    " extract(epoch FROM now() - s.last_msg_receipt_time) AS last_msg_age,"                        \
    " extract(epoch FROM now() - s.latest_end_time) AS latest_end_age,"                            \
    " (SELECT count(*) FROM pg_stat_subscription w WHERE w." SKEY " = su." KEY                     \
    "   AND w.relid IS NOT NULL) AS sync_workers, " ERRORS ","                                     \
    " NULL::bool AS all_tables, NULL::bigint AS tables"                                            \
    " FROM pg_subscription su"                                                                     \
    " LEFT JOIN pg_stat_subscription s ON s." SKEY " = su." KEY " AND s.relid IS NULL" APPLY_ONLY   \
    STATS_JOIN                                                                                     \
    " UNION ALL"                                                                                   \
    " SELECT 'pub', p.pubname, current_database(), NULL, NULL, NULL, NULL, NULL, NULL, NULL,"      \
    " NULL, NULL, NULL, p.puballtables,"                                                           \
    " (SELECT count(*) FROM pg_publication_rel r WHERE r.prpubid = p.oid)"                         \
    " FROM pg_publication p"                                                                       \
    " ORDER BY 1, 2"
/* clang-format on */

static const char SQL_12[] =
    SUBS_SQL("subname", "subname", "NULL::bigint AS apply_errors, NULL::bigint AS sync_errors", "", "");
static const char SQL_14[] =
    SUBS_SQL("oid", "subid", "NULL::bigint AS apply_errors, NULL::bigint AS sync_errors", "", "");
static const char SQL_15[] =
    SUBS_SQL("oid", "subid", "e.apply_error_count AS apply_errors, e.sync_error_count AS sync_errors",
             " LEFT JOIN pg_stat_subscription_stats e ON e.subid = su.oid", "");
static const char SQL_16[] =
    SUBS_SQL("oid", "subid", "e.apply_error_count AS apply_errors, e.sync_error_count AS sync_errors",
             " LEFT JOIN pg_stat_subscription_stats e ON e.subid = su.oid", " AND s.leader_pid IS NULL");

static const char *subs_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)o, (void)why;
    if (caps->version >= 160000)
        return SQL_16;
    if (caps->version >= 150000)
        return SQL_15;
    return caps->version >= 140000 ? SQL_14 : SQL_12;
}

static void subs_free(void *p)
{
    struct s_subscriptions *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->nsubs; i++) {
        free(s->subs[i].name);
        free(s->subs[i].database);
        free(s->subs[i].slot_name);
    }
    for (size_t i = 0; i < s->npubs; i++)
        free(s->pubs[i].name);
    free(s->subs);
    free(s->pubs);
    free(s);
}

enum {
    C_KIND,
    C_NAME,
    C_DB,
    C_SLOT,
    C_ENABLED,
    C_PID,
    C_RECV,
    C_END,
    C_MSGAGE,
    C_ENDAGE,
    C_SYNC,
    C_AERR,
    C_SERR,
    C_ALL,
    C_TABLES,
    C_N
};
static const char *const cols[C_N] = {
    "kind",         "name",         "database",       "slot_name",    "enabled",
    "pid",          "received_lsn", "latest_end_lsn", "last_msg_age", "latest_end_age",
    "sync_workers", "apply_errors", "sync_errors",    "all_tables",   "tables",
};

static void parse_sub(const struct rowset *rs, int i, const int *c, struct sub_row *r)
{
#define V(k) rowset_get(rs, i, c[k])
    r->name = cell_dup(V(C_NAME));
    r->database = cell_dup(V(C_DB));
    r->slot_name = cell_dup(V(C_SLOT));
    r->enabled = cell_bool(V(C_ENABLED));
    r->pid = (int)cell_i64(V(C_PID));
    r->received_lsn = lsn_parse(V(C_RECV));
    r->latest_end_lsn = lsn_parse(V(C_END));
    r->last_msg_age_s = cell_num(V(C_MSGAGE));
    r->latest_end_age_s = cell_num(V(C_ENDAGE));
    r->sync_workers = (int)cell_i64(V(C_SYNC));
    r->apply_errors = V(C_AERR) ? cell_i64(V(C_AERR)) : -1;
    r->sync_errors = V(C_SERR) ? cell_i64(V(C_SERR)) : -1;
#undef V
}

static int subs_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[C_N];
    if (rowset_cols(rs, cols, c, C_N, err, errlen))
        return -1;
    struct s_subscriptions *s = xcalloc(1, sizeof *s);
    s->subs = xcalloc((size_t)rs->nrows + 1, sizeof *s->subs);
    s->pubs = xcalloc((size_t)rs->nrows + 1, sizeof *s->pubs);
    for (int i = 0; i < rs->nrows; i++) {
        const char *kind = rowset_get(rs, i, c[C_KIND]);
        if (kind && strcmp(kind, "sub") == 0) {
            parse_sub(rs, i, c, &s->subs[s->nsubs++]);
        } else if (kind && strcmp(kind, "pub") == 0) {
            struct pub_row *p = &s->pubs[s->npubs++];
            p->name = cell_dup(rowset_get(rs, i, c[C_NAME]));
            p->all_tables = cell_bool(rowset_get(rs, i, c[C_ALL]));
            p->tables = cell_i64(rowset_get(rs, i, c[C_TABLES]));
        }
    }
    out->sec[PROBE_SUBSCRIPTIONS] = s;
    return 0;
}

const struct probe_class probe_subscriptions = {
    .name = "subscriptions",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = subs_sql,
    .parse = subs_parse,
    .derive = NULL,
    .free_section = subs_free,
};
