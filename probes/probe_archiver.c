/* probe_archiver.c — the archiver probe: pg_stat_archiver (WAL archived and failed, the last of
 * each and when), archive_mode, and with pg_monitor the WAL files still waiting in
 * archive_status. Derives archived/failed per second over the interval and "failing": the last
 * failure is newer than the last success, i.e. archive_command is failing right now. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/sec_replication.h"

/* clang-format off */
#define ARCH_SQL(READY)                                                                            \
    "SELECT extract(epoch FROM now()) AS epoch, current_setting('archive_mode') AS archive_mode,"  \
    " archived_count, failed_count, last_archived_wal, last_failed_wal,"                           \
    " extract(epoch FROM last_archived_time) AS last_archived_time,"                               \
    " extract(epoch FROM last_failed_time) AS last_failed_time,"                                   \
    " extract(epoch FROM now() - last_archived_time) AS last_archived_age,"                        \
    " extract(epoch FROM now() - last_failed_time) AS last_failed_age,"                            \
    " stats_reset::text AS stats_reset, " READY " AS ready_count"                                  \
    " FROM pg_stat_archiver"
/* clang-format on */

/* Listing archive_status needs pg_monitor; the subquery runs only when archiving is on, and the
 * directory holds one small file per WAL segment not archived yet (few, unless it is failing). */
static const char SQL_PRIV[] =
    ARCH_SQL("CASE WHEN current_setting('archive_mode') <> 'off' THEN"
             " (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready') END");
static const char SQL_NOPRIV[] = ARCH_SQL("NULL::bigint");

static const char *arch_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)o, (void)why;
    return caps->superuser || caps->pg_monitor ? SQL_PRIV : SQL_NOPRIV;
}

static void arch_free(void *p)
{
    struct s_archiver *a = p;
    if (!a)
        return;
    free(a->archive_mode);
    free(a->last_archived_wal);
    free(a->last_failed_wal);
    free(a->stats_reset);
    free(a);
}

enum { C_EPOCH, C_MODE, C_ARCH, C_FAIL, C_LAWAL, C_LFWAL, C_LATIME, C_LFTIME, C_LAAGE, C_LFAGE, C_RESET, C_READY, C_N };
static const char *const cols[C_N] = {
    "epoch",           "archive_mode",       "archived_count",   "failed_count",      "last_archived_wal",
    "last_failed_wal", "last_archived_time", "last_failed_time", "last_archived_age", "last_failed_age",
    "stats_reset",     "ready_count",
};

static int arch_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[C_N];
    if (rowset_cols(rs, cols, c, C_N, err, errlen))
        return -1;
    if (rs->nrows != 1) {
        snprintf(err, errlen, "archiver probe returned %d rows", rs->nrows);
        return -1;
    }
#define V(k) rowset_get(rs, 0, c[k])
    struct s_archiver *a = xcalloc(1, sizeof *a);
    a->epoch = cell_num(V(C_EPOCH));
    a->archive_mode = cell_dup(V(C_MODE));
    a->archived_count = cell_i64(V(C_ARCH));
    a->failed_count = cell_i64(V(C_FAIL));
    a->last_archived_wal = cell_dup(V(C_LAWAL));
    a->last_failed_wal = cell_dup(V(C_LFWAL));
    a->last_archived_time = cell_num(V(C_LATIME));
    a->last_failed_time = cell_num(V(C_LFTIME));
    a->last_archived_age_s = cell_num(V(C_LAAGE));
    a->last_failed_age_s = cell_num(V(C_LFAGE));
    a->stats_reset = cell_dup(V(C_RESET));
    a->ready_count = V(C_READY) ? cell_i64(V(C_READY)) : -1;
#undef V
    /* A failure with no success since (or ever) means the archiver is stuck on that file. */
    a->failing =
        !isnan(a->last_failed_time) && (isnan(a->last_archived_time) || a->last_failed_time > a->last_archived_time);
    a->archived_rate = a->failed_rate = NAN;
    out->sec[PROBE_ARCHIVER] = a;
    return 0;
}

static bool same_str(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

static void arch_derive(const struct sample *prev, struct sample *cur)
{
    const struct s_archiver *p = SAMPLE_ARCHIVER(prev);
    struct s_archiver *c = cur->sec[PROBE_ARCHIVER];
    if (!c || !p || !same_str(p->stats_reset, c->stats_reset))
        return;
    double dt = c->epoch - p->epoch;
    c->archived_rate = counter_rate(p->archived_count, c->archived_count, dt);
    c->failed_rate = counter_rate(p->failed_count, c->failed_count, dt);
}

const struct probe_class probe_archiver = {
    .name = "archiver",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = arch_sql,
    .parse = arch_parse,
    .derive = arch_derive,
    .free_section = arch_free,
};
