/* probe_slots.c — the slots probe: every replication slot (pg_replication_slots) with the WAL it
 * keeps on disk, measured against the server's current position (a replica's replay position),
 * and for a logical slot how far its consumer has confirmed. An inactive slot keeping WAL is
 * how disks fill up; wal_status and safe_wal_size (13+) tell how close it is to being lost. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/sec_replication.h"

/* clang-format off */
#define SLOTS_SQL(EXTRA)                                                                           \
    "SELECT slot_name, slot_type, plugin, database, temporary, active, active_pid,"                \
    " restart_lsn, confirmed_flush_lsn,"                                                           \
    " pg_wal_lsn_diff(x.ref, restart_lsn) AS retained_b,"                                          \
    " pg_wal_lsn_diff(x.ref, confirmed_flush_lsn) AS confirmed_lag_b,"                             \
    " greatest(age(xmin), age(catalog_xmin)) AS xmin_age" EXTRA                                    \
    " FROM pg_replication_slots,"                                                                  \
    " (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"                         \
    "   ELSE pg_current_wal_lsn() END AS ref) x"                                                   \
    " ORDER BY slot_name"
/* clang-format on */

/* wal_status and safe_wal_size came in 13, conflicting in 16 (logical slots on a standby),
 * invalidation_reason in 17. */
static const char SQL_12[] = SLOTS_SQL("");
static const char SQL_13[] = SLOTS_SQL(", wal_status, safe_wal_size");
static const char SQL_16[] = SLOTS_SQL(", wal_status, safe_wal_size, conflicting");
static const char SQL_17[] = SLOTS_SQL(", wal_status, safe_wal_size, conflicting, invalidation_reason");

static const char *slots_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)o, (void)why;
    if (caps->version >= 170000)
        return SQL_17;
    if (caps->version >= 160000)
        return SQL_16;
    return caps->version >= 130000 ? SQL_13 : SQL_12;
}

static void slots_free(void *p)
{
    struct s_slots *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        struct slot_row *r = &s->rows[i];
        free(r->slot_name);
        free(r->slot_type);
        free(r->plugin);
        free(r->database);
        free(r->wal_status);
        free(r->invalidation_reason);
    }
    free(s->rows);
    free(s);
}

enum {
    C_NAME,
    C_TYPE,
    C_PLUGIN,
    C_DB,
    C_TEMP,
    C_ACTIVE,
    C_APID,
    C_RESTART,
    C_CONFIRMED,
    C_RETAINED,
    C_CLAG,
    C_XMIN,
    C_N
};
static const char *const cols[C_N] = {
    "slot_name",   "slot_type",           "plugin",     "database",        "temporary", "active", "active_pid",
    "restart_lsn", "confirmed_flush_lsn", "retained_b", "confirmed_lag_b", "xmin_age",
};

/* A column that only some versions have: the cell, or NULL when the column is absent. */
static const char *opt(const struct rowset *rs, int row, int col) { return col < 0 ? NULL : rowset_get(rs, row, col); }

static int slots_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[C_N];
    if (rowset_cols(rs, cols, c, C_N, err, errlen))
        return -1;
    int ws = rowset_col(rs, "wal_status"), safe = rowset_col(rs, "safe_wal_size");
    int confl = rowset_col(rs, "conflicting"), inval = rowset_col(rs, "invalidation_reason");
    struct s_slots *s = xcalloc(1, sizeof *s);
    s->rows = xcalloc((size_t)rs->nrows + 1, sizeof *s->rows);
    for (int i = 0; i < rs->nrows; i++) {
#define V(k) rowset_get(rs, i, c[k])
        struct slot_row *r = &s->rows[s->n++];
        r->slot_name = cell_dup(V(C_NAME));
        r->slot_type = cell_dup(V(C_TYPE));
        r->plugin = cell_dup(V(C_PLUGIN));
        r->database = cell_dup(V(C_DB));
        r->temporary = cell_bool(V(C_TEMP));
        r->active = cell_bool(V(C_ACTIVE));
        r->active_pid = (int)cell_i64(V(C_APID));
        r->restart_lsn = lsn_parse(V(C_RESTART));
        r->confirmed_flush_lsn = lsn_parse(V(C_CONFIRMED));
        r->retained_b = cell_num(V(C_RETAINED));
        r->confirmed_lag_b = cell_num(V(C_CLAG));
        r->xmin_age = cell_num(V(C_XMIN));
#undef V
        r->wal_status = cell_dup(opt(rs, i, ws));
        r->safe_wal_size = cell_num(opt(rs, i, safe));
        r->conflicting = cell_bool(opt(rs, i, confl));
        r->invalidation_reason = cell_dup(opt(rs, i, inval));
    }
    out->sec[PROBE_SLOTS] = s;
    return 0;
}

const struct probe_class probe_slots = {
    .name = "slots",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = slots_sql,
    .parse = slots_parse,
    .derive = NULL,
    .free_section = slots_free,
};
