/* probe_table.c — the registry of probe classes, and the per-connection setup: session
 * settings that keep our probes harmless, and the capability detection probes choose SQL by. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/probe.h"

extern const struct probe_class probe_server, probe_sessions, probe_activity, probe_locks, probe_replication,
    probe_slots, probe_walreceiver, probe_archiver, probe_subscriptions, probe_connections, probe_pools,
    probe_poolstats, probe_poolservers, probe_databases, probe_bgwriter, probe_wal, probe_io, probe_sizes,
    probe_statements, probe_progress, probe_flush;

const struct probe_class *const probe_table[PROBE_MAX] = {
    [PROBE_SERVER] = &probe_server,
    [PROBE_SESSIONS] = &probe_sessions,
    [PROBE_ACTIVITY] = &probe_activity,
    [PROBE_LOCKS] = &probe_locks,
    [PROBE_REPLICATION] = &probe_replication,
    [PROBE_SLOTS] = &probe_slots,
    [PROBE_WALRECEIVER] = &probe_walreceiver,
    [PROBE_ARCHIVER] = &probe_archiver,
    [PROBE_SUBSCRIPTIONS] = &probe_subscriptions,
    [PROBE_CONNECTIONS] = &probe_connections,
    [PROBE_POOLS] = &probe_pools,
    [PROBE_POOLSTATS] = &probe_poolstats,
    [PROBE_POOLSERVERS] = &probe_poolservers,
    [PROBE_DATABASES] = &probe_databases,
    [PROBE_BGWRITER] = &probe_bgwriter,
    [PROBE_WAL] = &probe_wal,
    [PROBE_IO] = &probe_io,
    [PROBE_SIZES] = &probe_sizes,
    [PROBE_STATEMENTS] = &probe_statements,
    [PROBE_PROGRESS] = &probe_progress,
    [PROBE_FLUSH] = &probe_flush,
};

/* The settings of every probe session, sent with the connection (conn_set_settings), never
 * as a session-level SET that a transaction pooler would leave on a server connection for an
 * application: statement_timeout bounds every probe on the server side too; lock_timeout keeps a
 * probe from queueing behind an AccessExclusiveLock (a migration) and so from blocking others. */
int probe_settings(const char **names, char values[][32], int max, long statement_timeout_ms)
{
    static const char *const n[] = {"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"};
    if (max < 3)
        return 0;
    for (int i = 0; i < 3; i++)
        names[i] = n[i];
    snprintf(values[0], 32, "%ld", statement_timeout_ms);
    snprintf(values[1], 32, "1000");
    snprintf(values[2], 32, "60000");
    return 3;
}

/* Our own reads. Every refresh reads catalogs and statistics views, and a new connection first
 * fills its caches from the catalogs (thousands of blocks): counted, these would be most of what
 * an idle server's Cache & IO pane shows (hits, tuples, a 100 % hit ratio) and grow with the
 * refresh rate. With track_counts off a backend counts no table or index access, so neither
 * pg_stat_database's blks_hit/blks_read/tup_* nor the tables' statistics see ours. It is a
 * superuser's setting (or, 15+, granted with SET ON PARAMETER), known once connected, so it goes
 * transaction-locally in front of each statement (never a session SET, which a transaction
 * pooler would hand to an application), and only to a role that may make it: others get their
 * reads counted and the pane says so. What it does not stop: pg_stat_io (16+) still counts our
 * buffer hits, and our transactions (xact_commit) still count, which TPS leaves out by their
 * number, once they are reported. On 15 a backend that counted nothing else has nothing to
 * report, so its transactions would wait and land all at once later: the flush probe therefore
 * runs with counting on and scans one empty catalog (see probe_server.c). */
int probe_local_settings(const char **names, const char **values, int max)
{
    if (max < 1)
        return 0;
    names[0] = "track_counts";
    values[0] = "off";
    return 1;
}

/* has_parameter_privilege exists from 15 on; a superuser may set anything anyway. */
/* clang-format off */
#define CAPS_SQL(SET_TRACK_COUNTS)                                                            \
    "SELECT current_setting('server_version_num')::int AS version,"                          \
    " r.rolsuper AS superuser,"                                                               \
    " pg_has_role(current_user, 'pg_monitor', 'MEMBER') AS pg_monitor,"                       \
    " pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS signal_backend,"            \
    " EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS has_pgss,"  \
    " (SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements') AS pgss_version," \
    " to_regclass('pg_catalog.pg_stat_io') IS NOT NULL AS has_stat_io,"                       \
    " r.rolsuper OR " SET_TRACK_COUNTS " AS set_track_counts,"                               \
    " current_user AS current_user"                                                           \
    " FROM pg_roles r WHERE r.rolname = current_user"
/* clang-format on */

const char *probe_caps_sql(int version)
{
    return version >= 150000 ? CAPS_SQL("has_parameter_privilege('track_counts', 'SET')") : CAPS_SQL("false");
}

size_t probe_texts(const struct server_caps *caps, const char **texts, size_t max)
{
    size_t n = 0;
    const char *cand[PROBE_TEXTS_MAX];
    size_t nc = 0;
    cand[nc++] = probe_caps_sql(caps->version);
    /* the transaction-local settings sent in front of a statement (conn.c's set_config_sql):
     * one setting (track_counts; an action's statement_timeout) or the three of probe_settings */
    cand[nc++] = "SELECT set_config('track_counts', 'off', true)";
    cand[nc++] = "SELECT set_config('statement_timeout', '0', true), set_config('lock_timeout', '0', true),"
                 " set_config('idle_in_transaction_session_timeout', '0', true)";
    /* another pgfleet on the server may log in with other privileges: every variant */
    for (int priv = 0; priv < 4; priv++) {
        struct server_caps c = *caps;
        c.superuser = priv & 1;
        c.pg_monitor = c.superuser || (priv & 2);
        c.signal_backend = c.superuser;
        for (int idle = 0; idle <= 1; idle++) {
            struct probe_opts o = {.idle = idle};
            for (int p = 0; p < PROBE_MAX; p++) {
                const struct probe_class *pc = probe_table[p];
                const char *why = NULL;
                if (pc->kind != KIND_POSTGRES || !pc->sql || (c.version && c.version < pc->min_version))
                    continue;
                cand[nc++] = pc->sql(&c, &o, &why);
            }
        }
    }
    for (size_t i = 0; i < nc && n < max; i++) {
        bool seen = !cand[i];
        for (size_t k = 0; k < n && !seen; k++) /* mostly the same static text: its address */
            seen = texts[k] == cand[i];
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp(texts[k], cand[i]) == 0;
        if (!seen)
            texts[n++] = cand[i];
    }
    return n;
}

static bool truthy(const char *v) { return v && (v[0] == 't' || v[0] == '1'); }

int probe_parse_caps(const struct rowset *rs, struct server_caps *caps, char *err, size_t errlen)
{
    if (rs->error) {
        snprintf(err, errlen, "capability check failed: %s", rs->error);
        return -1;
    }
    if (rs->nrows != 1) {
        snprintf(err, errlen, "capability check returned %d rows", rs->nrows);
        return -1;
    }
    caps_free(caps);
    const char *v = rowset_get(rs, 0, rowset_col(rs, "version"));
    caps->version = v ? atoi(v) : 0;
    caps->superuser = truthy(rowset_get(rs, 0, rowset_col(rs, "superuser")));
    caps->pg_monitor = caps->superuser || truthy(rowset_get(rs, 0, rowset_col(rs, "pg_monitor")));
    caps->signal_backend = caps->superuser || truthy(rowset_get(rs, 0, rowset_col(rs, "signal_backend")));
    caps->has_pgss = truthy(rowset_get(rs, 0, rowset_col(rs, "has_pgss")));
    /* "1.10" -> 110: its columns changed with its versions, not only with the server's */
    v = rowset_get(rs, 0, rowset_col(rs, "pgss_version"));
    if (v && strchr(v, '.'))
        caps->pgss_version = atoi(v) * 100 + atoi(strchr(v, '.') + 1);
    caps->has_stat_io = truthy(rowset_get(rs, 0, rowset_col(rs, "has_stat_io")));
    caps->set_track_counts = truthy(rowset_get(rs, 0, rowset_col(rs, "set_track_counts")));
    v = rowset_get(rs, 0, rowset_col(rs, "current_user"));
    caps->current_user = xstrdup(v ? v : "");
    return 0;
}

void caps_free(struct server_caps *caps)
{
    free(caps->current_user);
    memset(caps, 0, sizeof *caps);
}
