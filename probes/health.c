/* health.c — the one severity policy (see health.h): each figure's level and a short reason,
 * and the score the fleet is sorted by, worst first. Pure: the panes, the header and the
 * snapshot ask it; the unit tests judge figures made by hand. */
#include "probes/health.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

static bool eq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

int health_usable(int max_connections, int reserved) { return max_connections - reserved; }

double health_used_pct(long used, int usable) { return usable > 0 ? 100.0 * (double)used / usable : NAN; }

enum sev health_status(enum srv_status st) { return st == SRV_UP ? SEV_OK : st == SRV_DOWN ? SEV_CRIT : SEV_WARN; }

enum sev health_conns(double used_pct, const struct thresholds *th)
{
    if (isnan(used_pct))
        return SEV_NONE;
    if (used_pct >= HEALTH_CONNS_CRIT_PCT)
        return SEV_CRIT;
    return used_pct >= th->connections_pct ? SEV_WARN : SEV_OK;
}

enum sev health_age(double seconds, int64_t warn_ms)
{
    if (isnan(seconds))
        return SEV_NONE;
    double ms = seconds * 1000;
    if (ms >= 2.0 * (double)warn_ms)
        return SEV_CRIT;
    return ms >= (double)warn_ms ? SEV_WARN : SEV_OK;
}

enum sev health_lag(double bytes, double seconds, const struct thresholds *th)
{
    double tb = (double)th->repl_lag_bytes, ts = (double)th->repl_lag_ms / 1000;
    if (!isfinite(bytes) && !isfinite(seconds))
        return SEV_NONE;
    if ((isfinite(bytes) && bytes >= 4 * tb) || (isfinite(seconds) && seconds >= 4 * ts))
        return SEV_CRIT;
    if ((isfinite(bytes) && bytes >= tb) || (isfinite(seconds) && seconds >= ts))
        return SEV_WARN;
    return SEV_OK;
}

enum sev health_slot(const struct slot_row *r, const struct thresholds *th)
{
    if (eq(r->wal_status, "lost") || eq(r->wal_status, "unreserved") || r->conflicting)
        return SEV_CRIT;
    if (!r->active && isfinite(r->retained_b) && r->retained_b > 0)
        return r->retained_b >= (double)th->repl_lag_bytes ? SEV_CRIT : SEV_WARN;
    if (eq(r->wal_status, "extended"))
        return SEV_WARN;
    return r->active ? SEV_OK : SEV_NONE;
}

enum sev health_pool(const struct pool_row *p)
{
    if (p->cl_waiting <= 0)
        return SEV_NONE;
    return !isnan(p->maxwait_s) && p->maxwait_s > HEALTH_POOL_WAIT_CRIT_S ? SEV_CRIT : SEV_WARN;
}

enum sev health_cache_hit(double pct, const struct thresholds *th)
{
    if (isnan(pct))
        return SEV_NONE;
    return pct < th->cache_hit_pct ? SEV_WARN : SEV_OK;
}

enum sev health_xid_age(int64_t age)
{
    if (age >= 1500000000)
        return SEV_CRIT;
    return age >= 500000000 ? SEV_WARN : SEV_OK;
}

int health_restore_age_days(const struct restore_status *st, time_t now)
{
    if (!st || st->last_ok <= 0)
        return -1;
    return now > st->last_ok ? (int)((now - st->last_ok) / 86400) : 0;
}

enum sev health_restore_why(const struct restore_status *st, int max_age_days, time_t now, char *why, size_t len)
{
    char a[32];
    if (max_age_days <= 0) {
        snprintf(why, len, "restore tests not judged (max_age_days %d)", max_age_days);
        return SEV_NONE;
    }
    if (!st || !st->any) {
        snprintf(why, len, "never restore-tested");
        return SEV_CRIT;
    }
    if (st->last_failed) {
        snprintf(why, len, "last restore test failed %s ago", fmt_age_coarse(a, sizeof a, difftime(now, st->last_run)));
        return SEV_CRIT;
    }
    if (st->last_ok <= 0) {
        snprintf(why, len, "no restore test ever succeeded");
        return SEV_CRIT;
    }
    double age = difftime(now, st->last_ok);
    snprintf(why, len, "last good restore test %s ago", fmt_age_coarse(a, sizeof a, age));
    if (age >= (double)max_age_days * 86400) {
        size_t n = strlen(why);
        snprintf(why + n, len - n, " (limit %dd)", max_age_days);
        return SEV_WARN;
    }
    return SEV_OK;
}

enum sev health_restore(const struct restore_status *st, int max_age_days, time_t now)
{
    char why[VERDICT_REASON];
    return health_restore_why(st, max_age_days, now, why, sizeof why);
}

/* ---- a whole server ---- */

static bool bad(enum sev l) { return l == SEV_WARN || l == SEV_CRIT; }

/* Set a figure's verdict; the reason only when it is at WARN or worse. Returns whether it is. */
static bool judge(struct health *h, enum health_fig f, enum sev level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool judge(struct health *h, enum health_fig f, enum sev level, const char *fmt, ...)
{
    h->v[f].level = level;
    h->v[f].reason[0] = '\0';
    if (!bad(level))
        return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->v[f].reason, sizeof h->v[f].reason, fmt, ap);
    va_end(ap);
    return true;
}

static int capped(long n) { return n > 50 ? 50 : n < 0 ? 0 : (int)n; }

static int judge_pooler(const struct health_in *in, struct health *h)
{
    long w = in->pool_waiting;
    enum sev l = w > 0 ? (bad(in->pool_level) ? in->pool_level : SEV_WARN) : SEV_OK;
    if (!judge(h, HF_POOL_WAIT, l, "%ld client%s waiting for a server connection", w, w == 1 ? "" : "s"))
        return 0;
    return 200 + capped(w);
}

static int judge_postgres(const struct health_in *in, const struct thresholds *th, struct health *h)
{
    char a[32], b[32];
    int score = 0;
    double pct = health_used_pct(in->conns_used, in->conns_usable);
    if (judge(h, HF_CONNS, health_conns(pct, th), "%ld/%d connections (%.0f%%)", in->conns_used, in->conns_usable, pct))
        score += 150;
    if (judge(h, HF_BLOCKED, in->blocked > 0 ? SEV_CRIT : SEV_OK, "%d blocked", in->blocked))
        score += 200 + capped(in->blocked);
    judge(h, HF_IDLE_XACT, in->idle_in_xact > 0 ? SEV_WARN : SEV_OK, "%d idle in transaction", in->idle_in_xact);
    if (judge(h, HF_LONGEST, health_age(in->longest_query_s, th->slow_query_ms), "query running %s",
              fmt_age(a, sizeof a, in->longest_query_s)))
        score += 100;
    if (judge(h, HF_LAG, health_lag(in->lag_bytes, in->lag_s, th), "replication lag %s%s%s",
              isfinite(in->lag_bytes) ? fmt_bytes(a, sizeof a, in->lag_bytes) : "",
              isfinite(in->lag_bytes) && isfinite(in->lag_s) ? " " : "",
              isfinite(in->lag_s) ? fmt_age(b, sizeof b, in->lag_s) : ""))
        score += 120;
    if (judge(h, HF_CACHE, health_cache_hit(in->cache_hit_pct, th), "cache hit %.1f%% < %g%%", in->cache_hit_pct,
              th->cache_hit_pct))
        score += 50;
    if (judge(h, HF_XID, health_xid_age(in->xid_age), "xid age %s", fmt_count(a, sizeof a, (double)in->xid_age)))
        score += 60;
    if (judge(h, HF_ARCHIVER, in->archiver_failing ? SEV_CRIT : SEV_OK, "archiver failing"))
        score += 80; /* WAL piles up on disk and backups go stale */
    return score;
}

/* Restore tests: whether the server is live or not (a DOWN server's backups matter as much). */
static int judge_restore(const struct health_in *in, struct health *h)
{
    if (!in->restore_judged || in->pooler)
        return 0;
    char why[VERDICT_REASON];
    enum sev l = health_restore_why(in->restore, in->restore_max_age_days, in->now, why, sizeof why);
    if (!judge(h, HF_RESTORE, l, "%s", why))
        return 0;
    return l == SEV_CRIT ? 20 : 10;
}

void health_judge(const struct health_in *in, const struct thresholds *th, struct health *out)
{
    memset(out, 0, sizeof *out);
    out->in = *in;
    judge(out, HF_STATUS, health_status(in->status), "%s", srv_status_name(in->status));
    int score = judge_restore(in, out);
    if (in->live)
        score += in->pooler ? judge_pooler(in, out) : judge_postgres(in, th, out);
    /* DOWN outranks everything, then STALE, then a server still connecting */
    out->score = in->status == SRV_DOWN ? 1000
        : in->status == SRV_STALE       ? 900
        : in->status == SRV_CONNECTING  ? 800
                                        : score;
}

/* pgBouncer's own console shows up as a pool "pgbouncer"; it is no one's workload. */
static bool admin_db(const char *db) { return eq(db, "pgbouncer"); }

static void pooler_figures(const struct server *s, struct health_in *in)
{
    const struct s_pools *p = SAMPLE_POOLS(s->cur);
    in->live = p && s->status != SRV_DOWN;
    for (size_t i = 0; in->live && i < p->n; i++) {
        const struct pool_row *r = &p->rows[i];
        if (admin_db(r->database))
            continue;
        in->pool_waiting += r->cl_waiting > 0 ? r->cl_waiting : 0;
        enum sev l = health_pool(r);
        if (l > in->pool_level)
            in->pool_level = l;
    }
}

static void judge_server(const struct model *m, const struct server *s, struct health *out)
{
    struct health_in in = {
        .status = s->status,
        .pooler = s->kind == KIND_PGBOUNCER,
        .conns_used = -1,
        .blocked = -1,
        .idle_in_xact = -1,
        .longest_query_s = NAN,
        .cache_hit_pct = NAN,
        .lag_bytes = NAN,
        .lag_s = NAN,
        .xid_age = -1,
        .pool_waiting = 0,
        .pool_level = SEV_NONE,
        .restore_judged = m->restore.judged && s->kind != KIND_PGBOUNCER,
        .restore = model_restore_status(m, s),
        .restore_max_age_days = m->cfg->restore_max_age_days,
        .now = time(NULL),
    };
    const struct s_server *ss = SAMPLE_SERVER(s->cur);
    if (in.pooler) {
        pooler_figures(s, &in);
    } else if (ss && s->status != SRV_DOWN) {
        in.live = true;
        in.conns_used = ss->conns;
        in.conns_usable = health_usable(ss->max_connections, ss->reserved_connections);
        in.blocked = ss->waiting_lock;
        in.idle_in_xact = ss->idle_in_xact;
        in.longest_query_s = ss->longest_query_s;
        in.cache_hit_pct = ss->cache_hit_pct;
        in.lag_bytes = repl_worst_lag_bytes(m, s);
        in.lag_s = repl_lag_seconds(m, s);
        in.xid_age = ss->xid_age;
        in.archiver_failing = archiver_failing(s);
    }
    health_judge(&in, &m->cfg->th, out);
}

struct health_memo *health_memo_new(size_t n)
{
    struct health_memo *memo = xcalloc(1, sizeof *memo);
    memo->h = xcalloc(n + 1, sizeof *memo->h);
    return memo;
}

void health_memo_free(struct health_memo *memo)
{
    if (memo)
        free(memo->h);
    free(memo);
}

/* A frame asks for every server several times (its row, the sort, the header): judge the fleet
 * once per generation of the model (without a memo, as in tests, on every call). */
void health_of(const struct model *m, const struct server *s, struct health *out)
{
    struct health_memo *memo = m->health_memo;
    if (!memo) {
        judge_server(m, s, out);
        return;
    }
    if (!memo->valid || memo->generation != m->generation) {
        for (size_t i = 0; i < m->n; i++)
            judge_server(m, &m->servers[i], &memo->h[i]);
        memo->valid = true;
        memo->generation = m->generation;
    }
    *out = memo->h[s - m->servers];
}

int health_score(const struct model *m, const struct server *s)
{
    struct health h;
    health_of(m, s, &h);
    return h.score;
}
