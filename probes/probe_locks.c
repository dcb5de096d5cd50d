/* probe_locks.c — the locks probe: every session taking part in a lock wait, with what it waits
 * for, whom it waits for and what it holds, then the lock forest over them (lock_tree.c).
 *
 * Cost, measured (see the closing note of issue 3): with no waiter the statement reads
 * pg_stat_activity once and stops (an InitPlan gate keeps pg_locks unread). With waiters,
 * pg_locks is read once into a CTE and everything else is hashes and sorts over it.
 * pg_blocking_pids() is the expensive part: each call copies the lock's holders and, for every
 * waiter in the same queue, searches the queue ahead of it, so a queue of n mutually conflicting
 * waiters (1 000 UPDATEs of one row, or LOCK TABLE behind LOCK TABLE) costs O(n³) if every
 * waiter is asked: 190 ms at n = 1 000. So only the first RESOLVE_PER_QUEUE waiters of each lock
 * (by wait start) are asked; a later waiter of the same lock takes the blockers of the last one
 * asked that wants the same mode (else of the last one asked), marked "inferred". Both the
 * holders and the head of the queue are always among the answers asked for, so the roots are
 * exact; only who-is-behind-whom deep in one long queue is approximated. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/probe.h"
#include "probes/sec_locks.h"

#define RESOLVE_PER_QUEUE "32"

/* Lock modes weakest to strongest; array_position gives a rank to sort and aggregate by. */
/* clang-format off */
#define LT_MODES                                                                                   \
    "'{AccessShareLock,RowShareLock,RowExclusiveLock,ShareUpdateExclusiveLock,ShareLock,"          \
    "ShareRowExclusiveLock,ExclusiveLock,AccessExclusiveLock}'::text[]"
/* clang-format on */

/* A relation's name is only known in the database we are connected to (and for shared
 * catalogs, database 0); elsewhere the oid is all there is. */
#define LT_MYDB "(SELECT oid FROM pg_database WHERE datname = current_database())"
/* clang-format off */
#define LT_RELNAME(DB, REL)                                                                        \
    "CASE WHEN " REL " IS NULL THEN NULL WHEN " DB " IN (0, " LT_MYDB ") THEN " REL                 \
    "::regclass::text ELSE " REL "::text END"
/* clang-format on */

/* a0: the lock waiters; lk: the lock table, read only when someone waits; q: each waiter's
 * queue (the lock it waits for) and place in it; r: the waiters asked; w: every waiter with its
 * blockers, asked or inferred; b: the blockers; wl, tl: the lock a waiter waits for (and for a
 * row lock, the row's relation from the tuple lock it holds); hr, hn, h: what a blocker holds,
 * strongest first, indexes left out unless locked harder than for writing. */
/* clang-format off */
#define LOCKS_SQL(WAITSTART)                                                                       \
    "WITH a0 AS MATERIALIZED ("                                                                    \
    " SELECT pid, state_change FROM pg_stat_activity"                                              \
    " WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"                                  \
    "), lk AS MATERIALIZED ("                                                                      \
    " SELECT l.pid, l.locktype, l.mode, l.granted, " WAITSTART " AS waitstart, l.database,"        \
    " l.relation, l.classid, l.objid, concat_ws('/', l.locktype, l.database, l.relation, l.page,"  \
    " l.tuple, l.virtualxid, l.transactionid, l.classid, l.objid, l.objsubid) AS qk"               \
    " FROM pg_locks l WHERE EXISTS (SELECT 1 FROM a0) AND l.pid IS NOT NULL"                       \
    "), q AS MATERIALIZED ("                                                                       \
    " SELECT pid, mode, qk, row_number() OVER (PARTITION BY qk ORDER BY ws, pid) AS pos FROM ("    \
    "  SELECT k.pid, k.mode, k.qk, coalesce(k.waitstart, a0.state_change) AS ws"                   \
    "  FROM lk k JOIN a0 ON a0.pid = k.pid WHERE NOT k.granted) x"                                 \
    "), r AS MATERIALIZED ("                                                                       \
    " SELECT pid, mode, qk, pos, pg_blocking_pids(pid) AS blockers FROM q"                         \
    " WHERE pos <= " RESOLVE_PER_QUEUE                                                             \
    "), w AS MATERIALIZED ("                                                                       \
    " SELECT pid, blockers, false AS inferred FROM r"                                              \
    " UNION ALL"                                                                                   \
    " SELECT q.pid, coalesce(rm.b, rq.b), true FROM q"                                             \
    " LEFT JOIN (SELECT DISTINCT ON (qk, mode) qk, mode, blockers[1:8] AS b FROM r"                \
    "  ORDER BY qk, mode, pos DESC) rm ON rm.qk = q.qk AND rm.mode = q.mode"                       \
    " LEFT JOIN (SELECT DISTINCT ON (qk) qk, blockers[1:8] AS b FROM r"                            \
    "  ORDER BY qk, pos DESC) rq ON rq.qk = q.qk"                                                  \
    " WHERE q.pos > " RESOLVE_PER_QUEUE                                                            \
    "), b AS MATERIALIZED ("                                                                       \
    " SELECT DISTINCT unnest(blockers) AS pid FROM w"                                              \
    "), p AS ("                                                                                    \
    " SELECT pid FROM w UNION SELECT pid FROM b"                                                   \
    "), wl AS ("                                                                                   \
    " SELECT DISTINCT ON (pid) pid, locktype, mode, database, relation, waitstart FROM lk"         \
    " WHERE NOT granted AND pid IN (SELECT pid FROM w) ORDER BY pid, locktype = 'relation' DESC"   \
    "), tl AS ("                                                                                   \
    " SELECT DISTINCT ON (pid) pid, database, relation FROM lk"                                    \
    " WHERE granted AND locktype = 'tuple' AND pid IN (SELECT pid FROM w) ORDER BY pid"            \
    "), hr AS ("                                                                                   \
    " SELECT pid, database, relation, classid, objid,"                                             \
    "  max(array_position(" LT_MODES ", mode::text)) AS rank FROM lk"                              \
    " WHERE granted AND locktype IN ('relation', 'advisory') AND pid IN (SELECT pid FROM b)"       \
    " GROUP BY 1, 2, 3, 4, 5"                                                                      \
    "), hn AS ("                                                                                   \
    " SELECT pid, rank, coalesce(" LT_RELNAME("database", "relation") ","                          \
    "  'advisory ' || classid || ':' || objid) AS what,"                                           \
    "  relation IS NOT NULL AND rank = 8 AS ael FROM hr"                                           \
    " WHERE NOT (rank <= 3 AND relation IS NOT NULL AND database = " LT_MYDB                       \
    "  AND (SELECT c.relkind FROM pg_class c WHERE c.oid = relation) IN ('i', 'I'))"               \
    "), h AS ("                                                                                    \
    " SELECT pid, count(*) AS holds_n, bool_or(ael) AS holds_ael,"                                 \
    "  array_to_string((array_agg((" LT_MODES ")[rank] || ' on ' || what"                          \
    "   ORDER BY rank DESC, what))[1:4], ', ') AS holds"                                           \
    " FROM hn GROUP BY pid"                                                                        \
    ")"                                                                                            \
    " SELECT p.pid, a.pid IS NOT NULL AS known, a.state, a.usename, a.datname,"                    \
    " a.application_name, a.backend_type,"                                                         \
    " extract(epoch FROM now() - a.xact_start) AS xact_age,"                                       \
    " extract(epoch FROM now() - a.state_change) AS state_age,"                                    \
    " " SQL_EPOCH_US("a.backend_start") " AS backend_start,"                                        \
    " array_to_string(w.blockers, ',') AS blockers, coalesce(w.inferred, false) AS inferred,"      \
    " wl.locktype, wl.mode::text AS mode,"                                                         \
    " " LT_RELNAME("coalesce(wl.database, tl.database)", "coalesce(wl.relation, tl.relation)")     \
    "  AS relation,"                                                                               \
    " CASE WHEN wl.pid IS NOT NULL"                                                                \
    "  THEN extract(epoch FROM now() - coalesce(wl.waitstart, a.state_change)) END AS wait_s,"     \
    " h.holds, coalesce(h.holds_n, 0) AS holds_n, coalesce(h.holds_ael, false) AS holds_ael,"      \
    /* far back in a long queue, the start of the query is enough (DDL is told by it) */          \
    " left(a.query, CASE WHEN w.inferred THEN 256 ELSE 4096 END) AS query"                        \
    " FROM p LEFT JOIN pg_stat_activity a ON a.pid = p.pid"                                        \
    " LEFT JOIN w ON w.pid = p.pid LEFT JOIN wl ON wl.pid = p.pid"                                 \
    " LEFT JOIN tl ON tl.pid = p.pid LEFT JOIN h ON h.pid = p.pid"                                 \
    " ORDER BY p.pid"
/* clang-format on */

/* pg_locks.waitstart is 14+; before it, the time the waiting statement's state changed (its
 * start, for an active backend) is the best estimate of the wait and of the queue order. */
static const char SQL_14[] = LOCKS_SQL("l.waitstart");
static const char SQL_12[] = LOCKS_SQL("NULL::timestamptz");

static const char *locks_sql(const struct server_caps *caps, const struct probe_opts *o, const char **why)
{
    (void)o, (void)why;
    return caps->version >= 140000 ? SQL_14 : SQL_12;
}

bool lock_row_idle_in_xact(const struct lock_row *r)
{
    return r && r->state && strncmp(r->state, "idle in transaction", 19) == 0;
}

const struct lock_row *lock_item_row(const struct s_locks *l, size_t item)
{
    if (!l || item >= l->forest.nitems || l->forest.items[item].node == LT_NONE)
        return NULL;
    return &l->rows[l->forest.items[item].node];
}

static void row_free(struct lock_row *r)
{
    free(r->state);
    free(r->usename);
    free(r->datname);
    free(r->application_name);
    free(r->backend_type);
    free(r->backend_start);
    free(r->query);
    free(r->locktype);
    free(r->mode);
    free(r->relation);
    free(r->blockers);
    free(r->holds);
}

static void locks_free(void *p)
{
    struct s_locks *l = p;
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        row_free(&l->rows[i]);
    free(l->rows);
    lock_forest_free(&l->forest);
    free(l);
}

/* "123,456" → pids in order. */
static int *parse_pids(const char *v, size_t *n)
{
    *n = 0;
    if (!v || !*v)
        return NULL;
    size_t cap = 1;
    for (const char *c = v; *c; c++)
        cap += *c == ',';
    int *out = xcalloc(cap, sizeof *out);
    for (const char *c = v; *c && *n < cap;) {
        char *end;
        long x = strtol(c, &end, 10);
        if (end == c)
            break;
        out[(*n)++] = (int)x;
        c = *end == ',' ? end + 1 : end;
    }
    return out;
}

static int cmp_pos(const void *a, const void *b)
{
    const int *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* pg_blocking_pids may repeat a pid (parallel workers of one leader): keep the first of each,
 * in order. Sorting positions keeps a waiter behind thousands of readers at n log n. */
static void dedupe_pids(int *pids, size_t *n)
{
    if (*n < 2)
        return;
    int(*pos)[2] = xcalloc(*n, sizeof *pos);
    bool *drop = xcalloc(*n, sizeof *drop);
    for (size_t i = 0; i < *n; i++)
        pos[i][0] = pids[i], pos[i][1] = (int)i;
    qsort(pos, *n, sizeof *pos, cmp_pos);
    for (size_t i = 1; i < *n; i++)
        if (pos[i][0] == pos[i - 1][0])
            drop[pos[i][1]] = true;
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (!drop[i])
            pids[k++] = pids[i];
    *n = k;
    free(pos);
    free(drop);
}

enum {
    C_PID,
    C_KNOWN,
    C_STATE,
    C_USE,
    C_DAT,
    C_APP,
    C_BTYPE,
    C_XAGE,
    C_SAGE,
    C_BSTART,
    C_BLOCKERS,
    C_INFERRED,
    C_LTYPE,
    C_MODE,
    C_REL,
    C_WAIT,
    C_HOLDS,
    C_HOLDSN,
    C_AEL,
    C_QUERY,
    C_N
};
static const char *const cols[C_N] = {
    "pid",          "known",    "state",     "usename",       "datname",  "application_name",
    "backend_type", "xact_age", "state_age", "backend_start", "blockers", "inferred",
    "locktype",     "mode",     "relation",  "wait_s",        "holds",    "holds_n",
    "holds_ael",    "query",
};

static void parse_row(const struct rowset *rs, int i, const int *c, struct lock_row *r)
{
#define V(k) rowset_get(rs, i, c[k])
    r->pid = (int)cell_i64(V(C_PID));
    r->known = cell_bool(V(C_KNOWN));
    r->state = cell_dup(V(C_STATE));
    r->usename = cell_dup(V(C_USE));
    r->datname = cell_dup(V(C_DAT));
    r->application_name = cell_dup(V(C_APP));
    r->backend_type = cell_dup(V(C_BTYPE));
    r->xact_age = cell_num(V(C_XAGE));
    r->state_age = cell_num(V(C_SAGE));
    r->backend_start = cell_dup(V(C_BSTART));
    r->blockers = parse_pids(V(C_BLOCKERS), &r->nblockers);
    dedupe_pids(r->blockers, &r->nblockers);
    r->inferred = cell_bool(V(C_INFERRED));
    r->locktype = cell_dup(V(C_LTYPE));
    r->mode = cell_dup(V(C_MODE));
    r->relation = cell_dup(V(C_REL));
    r->wait_s = cell_num(V(C_WAIT));
    r->holds = cell_dup(V(C_HOLDS));
    r->holds_n = (int)cell_i64(V(C_HOLDSN));
    r->holds_ael = cell_bool(V(C_AEL));
    r->query = cell_dup(V(C_QUERY));
    r->is_ddl = lt_is_ddl(r->query, r->mode, r->holds_ael);
#undef V
}

static int locks_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[C_N];
    if (rowset_cols(rs, cols, c, C_N, err, errlen))
        return -1;
    struct s_locks *l = xcalloc(1, sizeof *l);
    l->rows = xcalloc((size_t)rs->nrows + 1, sizeof *l->rows);
    struct lt_input *in = xcalloc((size_t)rs->nrows + 1, sizeof *in);
    for (int i = 0; i < rs->nrows; i++) {
        struct lock_row *r = &l->rows[l->n++];
        parse_row(rs, i, c, r);
        in[i] = (struct lt_input){r->pid, r->blockers, r->nblockers, r->wait_s, r->xact_age};
    }
    lock_forest_build(in, l->n, &l->forest);
    free(in);
    out->sec[PROBE_LOCKS] = l;
    return 0;
}

const struct probe_class probe_locks = {
    .name = "locks",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .sql = locks_sql,
    .parse = locks_parse,
    .derive = NULL,
    .free_section = locks_free,
};
