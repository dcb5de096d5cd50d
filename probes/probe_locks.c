/* probe_locks.c — the locks probe: every session taking part in a lock wait, with what it waits
 * for, whom it waits for and what it holds, then the lock forest over them (lock_tree.c).
 *
 * Cost, measured (closing notes of issues 3 and 8): pg_locks is read once into a CTE and
 * everything else is hashes and sorts over it (over nothing when no one waits). It does not read
 * pg_stat_activity: who each session is comes from the sessions section of the same tick
 * (locks_derive), the tick's one read of it.
 * pg_blocking_pids() is the expensive part: each call copies the lock's holders and, for every
 * waiter in the same queue, searches the queue ahead of it, so a queue of n mutually conflicting
 * waiters (1 000 UPDATEs of one row, or LOCK TABLE behind LOCK TABLE) costs O(n³) if every
 * waiter is asked: 190 ms at n = 1 000. So only the first RESOLVE_PER_QUEUE (16) waiters of each lock
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
#include "probes/sample.h"
#include "probes/sec_locks.h"

#define RESOLVE_PER_QUEUE "16"

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

/* lk: the lock table, ours left out; q: the waiters, each with the lock it waits for (a backend
 * waits for one lock at a time), its queue and place in it; r: the waiters asked; b: their
 * blockers; w: every waiter with its blockers, asked or inferred; tl: for a row lock, the row's
 * relation from the tuple lock the waiter holds; hr, hn, h: what a blocker holds, strongest
 * first, indexes left out unless locked harder than for writing (so of the granted locks, only
 * those on relations, rows and advisory ones are kept). With no waiter, q is empty and
 * so is everything after it. Who each session is (user, state, query, ages) comes from the
 * sessions section (locks_derive), except the query of an idle blocker (only a session-level
 * advisory lock outlives a transaction), which the sessions probe does not ship: it is looked
 * up here, by pid, for a blocker holding an advisory lock. WS orders a queue:
 * pg_locks.waitstart (14+), else the time the waiter's state changed, looked up in one join
 * (WSJOIN). */
/* clang-format off */
#define LOCKS_SQL(WS, WSJOIN, WAITSTART)                                                           \
    "WITH lk AS MATERIALIZED ("                                                                    \
    " SELECT l.pid, l.locktype, l.mode, l.granted, " WAITSTART " AS waitstart, l.database,"        \
    " l.relation, l.page, l.tuple, l.virtualxid, l.transactionid, l.classid, l.objid, l.objsubid"  \
    " FROM pg_locks l WHERE l.pid IS NOT NULL AND l.pid <> pg_backend_pid()"                       \
    "  AND (NOT l.granted OR l.locktype IN ('relation', 'tuple', 'advisory'))"                    \
    "), q AS MATERIALIZED ("                                                                       \
    " SELECT pid, locktype, mode, database, relation, waitstart, qk,"                              \
    "  row_number() OVER (PARTITION BY qk ORDER BY ws, pid) AS pos FROM ("                         \
    "  SELECT k.pid, k.locktype, k.mode, k.database, k.relation, k.waitstart, " WS " AS ws,"       \
    "  concat_ws('/', k.locktype, k.database, k.relation, k.page, k.tuple, k.virtualxid,"          \
    "  k.transactionid, k.classid, k.objid, k.objsubid) AS qk"                                     \
    "  FROM lk k" WSJOIN " WHERE NOT k.granted) x"                                                 \
    "), r AS MATERIALIZED ("                                                                       \
    " SELECT pid, mode, qk, pos, pg_blocking_pids(pid) AS blockers FROM q"                         \
    " WHERE pos <= " RESOLVE_PER_QUEUE                                                             \
    "), b AS MATERIALIZED ("                                                                       \
    " SELECT DISTINCT unnest(blockers) AS pid FROM r"                                              \
    "), w AS ("                                                                                    \
    " SELECT q.*, coalesce(r.blockers, rm.b, rq.b) AS blockers, r.pid IS NULL AS inferred FROM q"  \
    " LEFT JOIN r ON r.pid = q.pid"                                                                \
    " LEFT JOIN (SELECT DISTINCT ON (qk, mode) qk, mode, blockers[1:8] AS b FROM r"                \
    "  ORDER BY qk, mode, pos DESC) rm ON rm.qk = q.qk AND rm.mode = q.mode"                       \
    " LEFT JOIN (SELECT DISTINCT ON (qk) qk, blockers[1:8] AS b FROM r"                            \
    "  ORDER BY qk, pos DESC) rq ON rq.qk = q.qk"                                                  \
    "), tl AS ("                                                                                   \
    " SELECT DISTINCT ON (pid) pid, database, relation FROM lk"                                    \
    " WHERE granted AND locktype = 'tuple' AND pid IN (SELECT pid FROM q) ORDER BY pid"            \
    "), hr AS ("                                                                                   \
    " SELECT pid, database, relation, classid, objid,"                                             \
    "  max(array_position(" LT_MODES ", mode::text)) AS rank FROM lk"                              \
    " WHERE granted AND locktype IN ('relation', 'advisory') AND pid IN (SELECT pid FROM b)"       \
    " GROUP BY 1, 2, 3, 4, 5"                                                                      \
    "), hn AS ("                                                                                   \
    " SELECT pid, rank, coalesce(" LT_RELNAME("database", "relation") ","                          \
    "  'advisory ' || classid || ':' || objid) AS what,"                                           \
    "  relation IS NOT NULL AND rank = 8 AS ael, relation IS NULL AS adv FROM hr"                 \
    " WHERE NOT (rank <= 3 AND relation IS NOT NULL AND database = " LT_MYDB                       \
    "  AND (SELECT c.relkind FROM pg_class c WHERE c.oid = relation) IN ('i', 'I'))"               \
    "), h AS ("                                                                                    \
    " SELECT pid, count(*) AS holds_n, bool_or(ael) AS holds_ael, bool_or(adv) AS holds_adv,"      \
    "  array_to_string((array_agg((" LT_MODES ")[rank] || ' on ' || what"                          \
    "   ORDER BY rank DESC, what))[1:4], ', ') AS holds"                                           \
    " FROM hn GROUP BY pid"                                                                        \
    ")"                                                                                            \
    " SELECT w.pid, array_to_string(w.blockers, ',') AS blockers, w.inferred, w.locktype,"         \
    " w.mode::text AS mode, "                                                                      \
    LT_RELNAME("coalesce(w.database, tl.database)", "coalesce(w.relation, tl.relation)")           \
    "  AS relation,"                                                                               \
    " date_part('epoch', now() - w.waitstart) AS wait_s, h.holds,"                                 \
    " coalesce(h.holds_n, 0) AS holds_n, coalesce(h.holds_ael, false) AS holds_ael,"               \
    " NULL AS query"                                                                               \
    " FROM w LEFT JOIN tl ON tl.pid = w.pid LEFT JOIN h ON h.pid = w.pid"                          \
    " UNION ALL"                                                                                   \
    " SELECT b.pid, NULL, false, NULL, NULL, NULL, NULL, h.holds,"                                 \
    " coalesce(h.holds_n, 0), coalesce(h.holds_ael, false),"                                       \
    " CASE WHEN h.holds_adv THEN (SELECT left(a.query, 4096)"                                     \
    "  FROM pg_stat_get_activity(b.pid) a WHERE a.state = 'idle') END"                             \
    " FROM b LEFT JOIN h ON h.pid = b.pid WHERE b.pid NOT IN (SELECT pid FROM q)"
/* clang-format on */

/* pg_locks.waitstart is 14+; before it, the time the waiting statement's state changed (its
 * start, for an active backend) is the best estimate of the queue order, and locks_derive takes
 * the wait from the session's state age. */
static const char SQL_14[] = LOCKS_SQL("k.waitstart", "", "l.waitstart");
static const char SQL_12[] =
    LOCKS_SQL("a.state_change", " LEFT JOIN pg_stat_get_activity(NULL) a ON a.pid = k.pid", "NULL::timestamptz");

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

enum { C_PID, C_BLOCKERS, C_INFERRED, C_LTYPE, C_MODE, C_REL, C_WAIT, C_HOLDS, C_HOLDSN, C_AEL, C_N };
static const char *const cols[C_N] = {
    "pid", "blockers", "inferred", "locktype", "mode", "relation", "wait_s", "holds", "holds_n", "holds_ael",
};
/* Who the session is: filled from the sessions section by locks_derive. A rowset may carry them
 * itself (the fixtures, taken when this probe still read pg_stat_activity); then they are used
 * as they are unless the sessions section knows the pid. */
enum { S_KNOWN, S_STATE, S_USE, S_DAT, S_APP, S_BTYPE, S_XAGE, S_SAGE, S_BSTART, S_QUERY, S_N };
static const char *const scols[S_N] = {
    "known",        "state",    "usename",   "datname",       "application_name",
    "backend_type", "xact_age", "state_age", "backend_start", "query",
};

static void parse_row(const struct rowset *rs, int i, const int *c, const int *sc, struct lock_row *r)
{
#define V(k) rowset_get(rs, i, c[k])
#define S(k) rowset_get(rs, i, sc[k])
    r->pid = (int)cell_i64(V(C_PID));
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
    r->known = cell_bool(S(S_KNOWN));
    r->state = cell_dup(S(S_STATE));
    r->usename = cell_dup(S(S_USE));
    r->datname = cell_dup(S(S_DAT));
    r->application_name = cell_dup(S(S_APP));
    r->backend_type = cell_dup(S(S_BTYPE));
    r->xact_age = cell_num(S(S_XAGE));
    r->state_age = cell_num(S(S_SAGE));
    r->backend_start = cell_dup(S(S_BSTART));
    r->query = cell_dup(S(S_QUERY));
    r->is_ddl = lt_is_ddl(r->query, r->mode, r->holds_ael);
#undef V
#undef S
}

static void build_forest(struct s_locks *l)
{
    struct lt_input *in = xcalloc(l->n + 1, sizeof *in);
    for (size_t i = 0; i < l->n; i++) {
        const struct lock_row *r = &l->rows[i];
        in[i] = (struct lt_input){r->pid, r->blockers, r->nblockers, r->wait_s, r->xact_age};
    }
    lock_forest_free(&l->forest);
    lock_forest_build(in, l->n, &l->forest);
    free(in);
}

static int locks_parse(const struct rowset *rs, struct sample *out, char *err, size_t errlen)
{
    int c[C_N], sc[S_N];
    if (rowset_cols(rs, cols, c, C_N, err, errlen))
        return -1;
    for (int k = 0; k < S_N; k++)
        sc[k] = rowset_col(rs, scols[k]);
    struct s_locks *l = xcalloc(1, sizeof *l);
    l->rows = xcalloc((size_t)rs->nrows + 1, sizeof *l->rows);
    for (int i = 0; i < rs->nrows; i++)
        parse_row(rs, i, c, sc, &l->rows[l->n++]);
    build_forest(l);
    out->sec[PROBE_LOCKS] = l;
    return 0;
}

/* A copy of at most max bytes of s, not cut inside a UTF-8 character. */
static char *dup_prefix(const char *s, size_t max)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return xstrndup(s, n);
}

static void replace(char **dst, char *src)
{
    free(*dst);
    *dst = src;
}

/* Who each session is, from this tick's sessions section: one look-up per row. A waiter far back
 * in a long queue keeps only the start of its query (DDL is told by it). */
static void locks_derive(const struct sample *prev, struct sample *cur)
{
    (void)prev;
    struct s_locks *l = cur->sec[PROBE_LOCKS];
    const struct s_sessions *ss = SAMPLE_SESSIONS(cur);
    if (!l || !ss)
        return;
    for (size_t i = 0; i < l->n; i++) {
        struct lock_row *r = &l->rows[i];
        const struct activity_row *a = sessions_find(ss, r->pid);
        if (!a)
            continue;
        r->known = true;
        replace(&r->state, cell_dup(a->state));
        replace(&r->usename, cell_dup(a->usename));
        replace(&r->datname, cell_dup(a->datname));
        replace(&r->application_name, cell_dup(a->application_name));
        replace(&r->backend_type, cell_dup(a->backend_type));
        replace(&r->backend_start, cell_dup(a->backend_start));
        if (a->query) /* else an idle blocker's, from this probe */
            replace(&r->query, dup_prefix(a->query, r->inferred ? 256 : 4096));
        r->xact_age = a->xact_age;
        r->state_age = a->state_age;
        if (r->locktype && isnan(r->wait_s))
            r->wait_s = a->state_age;
        r->is_ddl = lt_is_ddl(r->query, r->mode, r->holds_ael);
    }
    build_forest(l);
}

static unsigned locks_every(const struct sample *last)
{
    const struct s_locks *l = SAMPLE_LOCKS(last);
    return l && l->n > LOCKS_HEAVY ? 2 : 1;
}

const struct probe_class probe_locks = {
    .name = "locks",
    .kind = KIND_POSTGRES,
    .min_version = 120000,
    .every_ticks = 1,
    .every = locks_every,
    .sql = locks_sql,
    .parse = locks_parse,
    .derive = locks_derive,
    .free_section = locks_free,
};
