/* batch_run.c — `pgfleet batch run`: runs a batched migration to its end. One transaction per
 * batch holds the batch and the control row's cursor, so a crash, a cancel or a failover resumes
 * exactly where the last committed batch ended. Before each batch it reads what operators want
 * (desired: run/pause/cancel, batch_size), and holds back while replicas lag or sessions wait on
 * its locks; it halves the batch on a lock or statement timeout and steers its size toward the
 * target duration; a lost connection is reconnected (read-write) and the run goes on. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/batch_runner.h"
#include "core/conn.h"

#define CTL_TIMEOUT_MS 10000
#define HEARTBEAT_MS 5000
#define CHECK_EVERY_MS 500
#define MAX_TIMEOUTS 50 /* lock or statement timeouts in a row at the smallest size: give up */

static const char SQL_CONTROL[] = "SELECT desired, batch_size FROM pgfleet.batch_job WHERE job = $1";
/* Replica lag as the primary sees it: what pg_stat_replication says its standbys have replayed. */
static const char SQL_LAG[] =
    "SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0)::int8 AS bytes,"
    " coalesce(max(extract(epoch FROM replay_lag) * 1000), 0)::int8 AS ms FROM pg_stat_replication";
static const char SQL_BLOCKED[] =
    "SELECT count(*) AS n FROM pg_stat_activity WHERE $1::int4 = ANY (pg_blocking_pids(pid))";
static const char SQL_CANCEL_WORK[] = "SELECT pg_cancel_backend($1::int4)";
static const char SQL_STATE[] =
    "UPDATE pgfleet.batch_job SET state = $2, throttle_reason = nullif($3, ''),"
    " throttled_since = CASE WHEN $3 = '' THEN NULL ELSE coalesce(throttled_since, now()) END,"
    " heartbeat = now(), error = nullif($4, ''),"
    " finished = CASE WHEN $2 IN ('done', 'failed', 'cancelled') THEN now() END,"
    " runner_backend = CASE WHEN $2 IN ('running', 'throttled', 'paused') THEN runner_backend END"
    " WHERE job = $1";
/* clang-format off */
static const char SQL_ADVANCE[] =
    "UPDATE pgfleet.batch_job SET cursor = $2::int8, rows_done = rows_done + $3::int8, batches = batches + 1,"
    " last_batch_ms = $4::int8, last_batch_at = now(), heartbeat = now(), rows_per_sec = $5::float8,"
    " batch_size = CASE WHEN batch_size = $6::int8 THEN $7::int8 ELSE batch_size END,"
    " state = 'running', throttle_reason = NULL, throttled_since = NULL, error = NULL"
    " WHERE job = $1 AND cursor IS NOT DISTINCT FROM $8::int8 AND runner_backend = pg_backend_pid()"
    " RETURNING desired";
/* clang-format on */

static void say(struct runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct runner *r, const char *fmt, ...)
{
    if (r->bar_shown)
        fputc('\n', r->out);
    r->bar_shown = false;
    va_list ap;
    va_start(ap, fmt);
    fprintf(r->out, "%s: ", r->jf->job);
    vfprintf(r->out, fmt, ap);
    va_end(ap);
    fputc('\n', r->out);
    fflush(r->out);
}

static double pct(const struct runner *r)
{
    if (r->range && r->end > r->start)
        return 100.0 * (double)(r->cursor - r->start) / (double)(r->end - r->start);
    if (r->rows_est > 0)
        return 100.0 * (double)r->rows_done / (double)r->rows_est;
    return NAN;
}

static double eta_s(const struct runner *r)
{
    double p = pct(r);
    double el = (double)(now_ms() - r->run_started_ms) / 1000;
    double done_here = (double)(r->rows_done - r->run_rows_base);
    if (isnan(p) || p <= 0 || done_here <= 0 || el <= 0)
        return NAN;
    if (r->range) {
        /* the share of the range covered in this run, at the pace of this run */
        double covered = p - r->run_pct_base;
        return covered > 0 ? el * (100 - p) / covered : NAN;
    }
    return r->rate > 0 ? (double)(r->rows_est - r->rows_done) / r->rate : NAN;
}

static void progress(struct runner *r, int64_t rows, int64_t took_ms)
{
    char rate[16], eta[16], p[16];
    double pc = pct(r), e = eta_s(r);
    fmt_count(rate, sizeof rate, r->rate);
    if (isnan(e))
        snprintf(eta, sizeof eta, "?");
    else
        fmt_age(eta, sizeof eta, e);
    if (isnan(pc))
        snprintf(p, sizeof p, "?");
    else
        snprintf(p, sizeof p, "%.1f%%", pc > 100 ? 100 : pc);
    if (r->tty) {
        char bar[31];
        int fill = isnan(pc) ? 0 : (int)(pc > 100 ? 30 : pc * 30 / 100);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(r->out, "\r%s [%s] %6s  %lld rows  %s rows/s  ETA %s  batch %lld   ", r->jf->job, bar, p,
                (long long)r->rows_done, rate, eta, (long long)r->size);
        r->bar_shown = true;
        fflush(r->out);
    } else {
        say(r, "batch %lld: cursor %lld, %lld rows in %lld ms, %s rows/s, %s, ETA %s, next size %lld",
            (long long)r->batches, (long long)r->cursor, (long long)rows, (long long)took_ms, rate, p, eta,
            (long long)r->size);
    }
}

/* Write the state (and the throttle reason, "" for none; the error, "" for none). */
static int set_state(struct runner *r, const char *state, const char *reason, const char *error)
{
    const char *pv[] = {r->jf->job, state, reason, error};
    const char *const *pp[] = {pv};
    int np[] = {4};
    const char *sql[] = {SQL_STATE};
    bool changed = strcmp(r->state, state) != 0 || strcmp(r->reason, reason) != 0;
    if (side_exec(r, &r->watch, sql, 1, np, pp, CTL_TIMEOUT_MS, NULL) < 0)
        return -1;
    snprintf(r->state, sizeof r->state, "%s", state);
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    if (changed && strcmp(state, "running") != 0)
        say(r, "%s%s%s", state, *reason ? ": " : "", reason);
    return 0;
}

/* desired and the operators' batch size; -1 when the row cannot be read. */
static int read_control(struct runner *r, char desired[16])
{
    const char *pv[] = {r->jf->job};
    const char *const *pp[] = {pv};
    int np[] = {1};
    const char *sql[] = {SQL_CONTROL};
    if (side_exec(r, &r->watch, sql, 1, np, pp, CTL_TIMEOUT_MS, NULL) < 0)
        return -1;
    const struct rowset *rs = r->watch.rs[0];
    if (rs->nrows != 1) {
        snprintf(r->err, sizeof r->err, "the job's row in pgfleet.batch_job is gone");
        return -1;
    }
    snprintf(desired, 16, "%s", rowset_get(rs, 0, 0) ? rowset_get(rs, 0, 0) : "run");
    long long size = cell_i64(rowset_get(rs, 0, 1));
    if (size > 0 && size != r->size) {
        say(r, "batch size set to %lld by an operator", size);
        r->size = size;
    }
    return 0;
}

/* Why the runner should hold back now ("" when it need not): replica lag over the limits. */
static int check_lag(struct runner *r, char *why, size_t len)
{
    why[0] = '\0';
    if (r->jf->max_lag_bytes <= 0 && r->jf->max_lag_ms <= 0)
        return 0;
    const char *sql[] = {SQL_LAG};
    if (side_exec(r, &r->watch, sql, 1, NULL, NULL, CTL_TIMEOUT_MS, NULL) < 0)
        return -1;
    long long bytes = cell_i64(rowset_get(r->watch.rs[0], 0, 0)), ms = cell_i64(rowset_get(r->watch.rs[0], 0, 1));
    char a[16], b[16];
    if (r->jf->max_lag_bytes > 0 && bytes > r->jf->max_lag_bytes)
        snprintf(why, len, "replica lag %s > %s", fmt_bytes(a, sizeof a, (double)bytes),
                 fmt_bytes(b, sizeof b, (double)r->jf->max_lag_bytes));
    else if (r->jf->max_lag_ms > 0 && ms > r->jf->max_lag_ms)
        snprintf(why, len, "replica lag %s > %s", fmt_age(a, sizeof a, (double)ms / 1000),
                 fmt_age(b, sizeof b, (double)r->jf->max_lag_ms / 1000));
    return 0;
}

enum batch_outcome { B_OK, B_RETRY, B_LOST, B_STOPPED, B_FAILED };

/* Ask the watch side to cancel the work side's statement (it rolls back). */
static void cancel_work(struct runner *r)
{
    char pid[16];
    snprintf(pid, sizeof pid, "%d", r->backend);
    const char *pv[] = {pid};
    const char *const *pp[] = {pv};
    int np[] = {1};
    const char *sql[] = {SQL_CANCEL_WORK};
    side_exec(r, &r->watch, sql, 1, np, pp, CTL_TIMEOUT_MS, NULL);
}

/* While the batch runs: every CHECK_EVERY_MS, how many sessions wait on its locks; past the
 * limit (or on a signal) the batch is cancelled. Returns the count that cancelled it, or 0. */
static long long watch_batch(struct runner *r)
{
    char pid[16];
    snprintf(pid, sizeof pid, "%d", r->backend);
    const char *pv[] = {pid};
    const char *const *pp[] = {pv};
    int np[] = {1};
    const char *sql[] = {SQL_BLOCKED};
    int64_t next = now_ms() + CHECK_EVERY_MS;
    bool cancelled = false;
    long long blocked = 0;
    while (r->work.busy && !r->work.failed) {
        side_pump(r, next);
        if (batch_stop && !cancelled) {
            cancel_work(r);
            cancelled = true;
        }
        if (r->watch.failed)
            break; /* the work side will tell */
        if (!r->watch.busy && r->watch.rs && r->watch.nrs == 1 && !r->watch.rs[0]->error &&
            r->watch.rs[0]->ncols == 1 && strcmp(r->watch.rs[0]->names[0], "n") == 0) {
            long long n = cell_i64(rowset_get(r->watch.rs[0], 0, 0));
            side_clear(&r->watch);
            if (r->jf->max_blocked > 0 && n > r->jf->max_blocked && !cancelled) {
                blocked = n;
                cancel_work(r);
                cancelled = true;
            }
        }
        if (now_ms() >= next && !r->watch.busy && !cancelled) {
            side_send(r, &r->watch, sql, 1, np, pp, CTL_TIMEOUT_MS);
            next = now_ms() + CHECK_EVERY_MS;
        }
    }
    while (r->watch.busy && !r->watch.failed) /* leave the watch side idle */
        side_pump(r, INT64_MAX);
    side_clear(&r->watch);
    return blocked;
}

static void rollback(struct runner *r)
{
    const char *sql[] = {"ROLLBACK"};
    side_exec(r, &r->work, sql, 1, NULL, NULL, CTL_TIMEOUT_MS, NULL);
}

/* One batch: BEGIN, the timeouts, the statement; then the control row and COMMIT. */
static enum batch_outcome one_batch(struct runner *r)
{
    char lt[24], st[24], cur[24], size[24];
    snprintf(lt, sizeof lt, "%lldms", (long long)r->jf->lock_timeout_ms);
    snprintf(st, sizeof st, "%lldms", (long long)r->jf->statement_timeout_ms);
    snprintf(cur, sizeof cur, "%lld", (long long)r->cursor);
    snprintf(size, sizeof size, "%lld", (long long)r->size);
    const char *set[] = {lt, st}, *bind[] = {cur, size};
    const char *const *pp[] = {NULL, set, bind};
    int np[] = {0, 2, 2};
    const char *sql[] = {"BEGIN",
                         "SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)",
                         r->jf->bound};
    int64_t t0 = now_ms();
    if (side_send(r, &r->work, sql, 3, np, pp, r->jf->statement_timeout_ms + CTL_TIMEOUT_MS) < 0)
        return B_LOST;
    long long blocked = watch_batch(r);
    if (r->work.failed)
        return B_LOST;
    int64_t took = now_ms() - t0;
    const struct rowset *rs = r->work.nrs == 3 ? r->work.rs[2] : NULL;
    if (!rs || rs->error) {
        char state[6] = "", msg[256];
        snprintf(msg, sizeof msg, "%s", rs && rs->error ? rs->error : "no result");
        if (rs)
            memcpy(state, rs->sqlstate, 6);
        for (int i = 0; i < r->work.nrs && !rs; i++)
            if (r->work.rs[i]->error)
                snprintf(msg, sizeof msg, "%s", r->work.rs[i]->error);
        rollback(r);
        if (r->work.failed)
            return B_LOST;
        if (batch_stop)
            return B_STOPPED;
        bool lock = strcmp(state, "55P03") == 0, stmt = strcmp(state, "57014") == 0;
        if (blocked) {
            r->size = batch_halve(r->size, r->min);
            char why[96];
            snprintf(why, sizeof why, "%lld sessions blocked by the batch > %lld", blocked,
                     (long long)r->jf->max_blocked);
            set_state(r, "throttled", why, "");
            return B_RETRY;
        }
        if (lock || stmt || strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
            if (stmt) { /* an operator's "cancel now" cancels the statement too */
                char desired[16];
                if (read_control(r, desired) == 0 && strcmp(desired, "run") != 0)
                    return B_RETRY;
            }
            if (lock || stmt) {
                r->size = batch_halve(r->size, r->min);
                if (++r->timeouts > MAX_TIMEOUTS && r->size == r->min) {
                    snprintf(r->err, sizeof r->err, "%d %s timeouts in a row at the smallest batch (%lld): %s",
                             r->timeouts, lock ? "lock" : "statement", (long long)r->min, msg);
                    return B_FAILED;
                }
            }
            char why[200];
            snprintf(why, sizeof why, "%.150s, batch halved to %lld",
                     lock       ? "lock timeout"
                         : stmt ? "statement timeout"
                                : msg,
                     (long long)r->size);
            set_state(r, "throttled", why, "");
            return B_RETRY;
        }
        snprintf(r->err, sizeof r->err, "the batch failed: %s%s%s", msg, state[0] ? " (SQLSTATE " : "",
                 state[0] ? state : "");
        if (state[0])
            strcat(r->err, ")");
        return B_FAILED;
    }
    /* how far it got */
    int64_t rows = rs->affected >= 0 ? rs->affected : rs->nrows, next = r->cursor + r->size;
    bool finished = false;
    if (!r->range) {
        int kc = rowset_col(rs, r->jf->key);
        if (kc < 0) {
            rollback(r);
            snprintf(
                r->err, sizeof r->err,
                "without end: the batch must return the key column \"%s\" (RETURNING %s), so the cursor can follow it",
                r->jf->key, r->jf->key);
            return B_FAILED;
        }
        next = r->cursor;
        for (int i = 0; i < rs->nrows; i++) {
            long long k = cell_i64(rowset_get(rs, i, kc));
            if (k > next)
                next = k;
        }
        finished = rs->nrows == 0;
    }
    /* rows/s over batch and sleep, smoothed */
    double pace = (double)rows * 1000.0 / (double)(took + r->jf->sleep_ms > 0 ? took + r->jf->sleep_ms : 1);
    r->rate = r->batches && r->rate > 0 ? 0.7 * r->rate + 0.3 * pace : pace;
    int64_t newsize = batch_next_size(r->size, took, r->jf->target_ms, r->min, r->max);
    char nx[24], rw[24], tk[24], rt[32], os[24], ns[24], oc[24];
    snprintf(nx, sizeof nx, "%lld", (long long)next);
    snprintf(rw, sizeof rw, "%lld", (long long)rows);
    snprintf(tk, sizeof tk, "%lld", (long long)took);
    snprintf(rt, sizeof rt, "%.3f", r->rate);
    snprintf(os, sizeof os, "%lld", (long long)r->size);
    snprintf(ns, sizeof ns, "%lld", (long long)newsize);
    snprintf(oc, sizeof oc, "%lld", (long long)r->cursor);
    const char *adv[] = {r->jf->job, nx, rw, tk, rt, os, ns, oc};
    const char *const *pp2[] = {adv};
    int np2[] = {8};
    const char *sql2[] = {SQL_ADVANCE};
    if (side_exec(r, &r->work, sql2, 1, np2, pp2, CTL_TIMEOUT_MS, NULL) < 0 || r->work.rs[0]->nrows != 1) {
        if (r->work.failed)
            return B_LOST;
        char why[sizeof r->err];
        snprintf(why, sizeof why, "%s",
                 r->work.rs && r->work.rs[0]->error ? r->err : "its row no longer names this runner");
        rollback(r);
        snprintf(r->err, sizeof r->err, "cannot record the batch (rolled back): %.400s", why);
        return B_FAILED;
    }
    const char *commit[] = {"COMMIT"};
    if (side_exec(r, &r->work, commit, 1, NULL, NULL, CTL_TIMEOUT_MS, NULL) < 0)
        return r->work.failed ? B_LOST : B_FAILED; /* lost: committed or not, the cursor in the table says */
    r->cursor = next;
    r->rows_done += rows;
    r->batches++;
    r->timeouts = 0;
    r->size = newsize;
    snprintf(r->state, sizeof r->state, "running");
    r->reason[0] = '\0';
    r->keyset_done = finished;
    progress(r, rows, took);
    return B_OK;
}

/* A job file's start: or end: value: a number as it is, else a query's single value. */
static int value_of(struct runner *r, const char *text, int64_t *out, bool *null)
{
    char *end;
    long long v = strtoll(text, &end, 10);
    *null = false;
    if (end != text && !*end) {
        *out = v;
        return 0;
    }
    const char *sql[] = {text};
    if (side_exec(r, &r->work, sql, 1, NULL, NULL, r->jf->statement_timeout_ms + CTL_TIMEOUT_MS, NULL) < 0)
        return -1;
    const struct rowset *rs = r->work.rs[0];
    if (rs->nrows != 1 || rs->ncols != 1) {
        snprintf(r->err, sizeof r->err, "\"%.60s\" must return one value, returned %d rows of %d columns", text,
                 rs->nrows, rs->ncols);
        return -1;
    }
    *null = !rowset_get(rs, 0, 0);
    *out = cell_i64(rowset_get(rs, 0, 0));
    return 0;
}

/* The control table (created when missing), the job's lock, its row (made on the first run,
 * read on every one: the cursor there is the truth), this runner's claim on it, and LISTEN. */
static int setup(struct runner *r, int *exit_code)
{
    *exit_code = 1;
    const struct batch_jobfile *jf = r->jf;
    const char *exists[] = {"SELECT to_regclass('pgfleet.batch_job') IS NOT NULL"};
    if (side_exec(r, &r->watch, exists, 1, NULL, NULL, CTL_TIMEOUT_MS, NULL) < 0)
        return -1;
    if (!cell_bool(rowset_get(r->watch.rs[0], 0, 0))) {
        say(r, "creating the control table pgfleet.batch_job (pgfleet batch init)");
        const char *ddl[] = {batch_schema_sql()};
        if (side_exec_simple(r, &r->watch, ddl, 1, CTL_TIMEOUT_MS) < 0) {
            char why[sizeof r->err];
            snprintf(why, sizeof why, "%s", r->err);
            snprintf(r->err, sizeof r->err,
                     "cannot create pgfleet.batch_job (%.400s): run `pgfleet batch init` as its owner", why);
            return -1;
        }
    }
    const char *jobp[] = {jf->job};
    /* A runner killed with -9 leaves its session until the statement it ran ends (the server
     * notices a gone client only when it answers): wait for it as long as a batch may last. */
    char wait[24];
    snprintf(wait, sizeof wait, "%lldms", (long long)(jf->statement_timeout_ms + CTL_TIMEOUT_MS));
    const char *lp[] = {wait};
    const char *const *pl[] = {NULL, lp, jobp, NULL};
    int nl[] = {0, 1, 1, 0};
    const char *lock[] = {"BEGIN", "SELECT set_config('lock_timeout', $1, true)",
                          "SELECT pg_advisory_lock(hashtext('pgfleet.batch_job'), hashtext($1))", "COMMIT"};
    char lstate[6];
    if (side_exec(r, &r->work, lock, 4, nl, pl, jf->statement_timeout_ms + 2 * CTL_TIMEOUT_MS, lstate) < 0) {
        if (strcmp(lstate, "55P03") == 0) {
            snprintf(r->err, sizeof r->err,
                     "another runner is running job %s on this server (see `pgfleet batch list`)", jf->job);
            *exit_code = 2;
        }
        if (!r->work.failed)
            rollback(r);
        return -1;
    }
    char v[11][24];
    int64_t nums[] = {
        r->size,           jf->min,        jf->max,         jf->target_ms,       jf->sleep_ms,
        jf->max_lag_bytes, jf->max_lag_ms, jf->max_blocked, jf->lock_timeout_ms, jf->statement_timeout_ms};
    for (size_t i = 0; i < ARRAY_LEN(nums); i++)
        snprintf(v[i], sizeof v[i], "%lld", (long long)nums[i]);
    const char *ins[] = {jf->job, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], jf->sql};
    const char *const *pi[] = {ins, jobp};
    int ni[] = {12, 1};
    /* clang-format off */
    const char *upsert[] = {
        "INSERT INTO pgfleet.batch_job (job, batch_size, batch_min, batch_max, target_ms, sleep_ms, max_lag_bytes,"
        " max_lag_ms, max_blocked, lock_timeout_ms, statement_timeout_ms, sql)"
        " VALUES ($1, $2::int8, $3::int8, $4::int8, $5::int8, $6::int8, nullif($7::int8, 0), nullif($8::int8, 0),"
        " nullif($9::int4, 0), $10::int8, $11::int8, $12) ON CONFLICT (job) DO UPDATE SET"
        " batch_min = EXCLUDED.batch_min, batch_max = EXCLUDED.batch_max, target_ms = EXCLUDED.target_ms,"
        " sleep_ms = EXCLUDED.sleep_ms, max_lag_bytes = EXCLUDED.max_lag_bytes, max_lag_ms = EXCLUDED.max_lag_ms,"
        " max_blocked = EXCLUDED.max_blocked, lock_timeout_ms = EXCLUDED.lock_timeout_ms,"
        " statement_timeout_ms = EXCLUDED.statement_timeout_ms"
        " WHERE pgfleet.batch_job.state NOT IN ('done', 'cancelled')",
        "SELECT state, desired, cursor, cursor_start, cursor_end, rows_done, rows_estimated, batch_size, sql, batches"
        " FROM pgfleet.batch_job WHERE job = $1"};
    /* clang-format on */
    if (side_exec(r, &r->work, upsert, 2, ni, pi, CTL_TIMEOUT_MS, NULL) < 0)
        return -1;
    const struct rowset *row = r->work.rs[1];
    const char *state = rowset_get(row, 0, 0), *cursor = rowset_get(row, 0, 2), *sql = rowset_get(row, 0, 8);
    if (state && strcmp(state, "done") == 0) {
        say(r,
            "already done (%s rows); to run it again, delete its row: DELETE FROM pgfleet.batch_job WHERE job = '%s'",
            rowset_get(row, 0, 5), jf->job);
        *exit_code = 0;
        return -1;
    }
    if (state && strcmp(state, "cancelled") == 0) {
        snprintf(
            r->err, sizeof r->err,
            "job %s was cancelled; to start it again from the beginning, DELETE FROM pgfleet.batch_job WHERE job = "
            "'%s', or give the job another name",
            jf->job, jf->job);
        *exit_code = 2;
        return -1;
    }
    if (cursor && sql && strcmp(sql, jf->sql) != 0) {
        snprintf(r->err, sizeof r->err,
                 "job %s was started with another statement (at cursor %s): finish it with that one, or give this one "
                 "another job name",
                 jf->job, cursor);
        *exit_code = 2;
        return -1;
    }
    r->range = jf->end_sql != NULL;
    r->rows_done = cell_i64(rowset_get(row, 0, 5));
    r->batches = cell_i64(rowset_get(row, 0, 9));
    r->size = cell_i64(rowset_get(row, 0, 7));
    r->rows_est = rowset_get(row, 0, 6) ? cell_i64(rowset_get(row, 0, 6)) : -1;
    bool null;
    if (cursor) {
        r->cursor = cell_i64(cursor);
        r->start = cell_i64(rowset_get(row, 0, 3));
        r->end = cell_i64(rowset_get(row, 0, 4));
    } else {
        r->start = 0;
        if (jf->start_sql && value_of(r, jf->start_sql, &r->start, &null) < 0)
            return -1;
        r->cursor = r->start;
        if (r->range && value_of(r, jf->end_sql, &r->end, &null) < 0)
            return -1;
        if (r->range && null)
            r->end = r->start; /* an empty table: nothing to do */
        if (jf->estimate_sql && value_of(r, jf->estimate_sql, &r->rows_est, &null) < 0)
            return -1;
    }
    char cur[24], st[24], en[24], est[24], pid[16];
    snprintf(cur, sizeof cur, "%lld", (long long)r->cursor);
    snprintf(st, sizeof st, "%lld", (long long)r->start);
    snprintf(en, sizeof en, "%lld", (long long)r->end);
    snprintf(est, sizeof est, "%lld", (long long)r->rows_est);
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    const char *cv[] = {jf->job, r->host, pid, cur, st, r->range ? en : NULL, est};
    const char *const *pc[] = {cv};
    int nc[] = {7};
    /* clang-format off */
    const char *claim[] = {
        "UPDATE pgfleet.batch_job SET runner_host = $2, runner_pid = $3::int4, runner_backend = pg_backend_pid(),"
        " state = 'running', heartbeat = now(), error = NULL, finished = NULL, started = coalesce(started, now()),"
        " cursor = coalesce(cursor, $4::int8), cursor_start = coalesce(cursor_start, $5::int8),"
        " cursor_end = coalesce(cursor_end, $6::int8), rows_estimated = coalesce(rows_estimated, nullif($7::int8, -1)),"
        " throttle_reason = NULL, throttled_since = NULL WHERE job = $1"};
    /* clang-format on */
    if (side_exec(r, &r->work, claim, 1, nc, pc, CTL_TIMEOUT_MS, NULL) < 0)
        return -1;
    const char *listen[] = {"LISTEN " BATCH_CHANNEL};
    if (side_exec(r, &r->watch, listen, 1, NULL, NULL, CTL_TIMEOUT_MS, NULL) < 0)
        return -1;
    snprintf(r->state, sizeof r->state, "running");
    r->reason[0] = '\0';
    r->run_rows_base = r->rows_done;
    r->run_started_ms = now_ms();
    r->run_pct_base = pct(r);
    if (isnan(r->run_pct_base))
        r->run_pct_base = 0;
    return 0;
}

/* After a lost connection: connect again (read-write: after a failover, to the new primary),
 * with backoff, for up to ten minutes; then setup again from the table's cursor. */
static int reconnect(struct runner *r, int *exit_code)
{
    say(r, "connection lost (%s); reconnecting", r->err);
    int64_t give_up = now_ms() + 600000, wait = 500;
    while (!batch_stop) {
        if (side_connect_both(r, 10000) == 0) {
            if (setup(r, exit_code) == 0) {
                say(r, "reconnected; going on from cursor %lld", (long long)r->cursor);
                return 0;
            }
            if (!r->work.failed && !r->watch.failed)
                return -1; /* not the connection: setup's own refusal */
        }
        if (now_ms() + wait > give_up) {
            *exit_code = 1;
            return -1;
        }
        side_nap(r, now_ms() + wait);
        wait = wait * 2 > 30000 ? 30000 : wait * 2;
    }
    *exit_code = 3;
    return -1;
}

static int finish(struct runner *r, const char *state, const char *error, int code)
{
    if (set_state(r, state, "", error) < 0 && strcmp(state, "failed") != 0)
        say(r, "could not record state %s: %s", state, r->err);
    if (strcmp(state, "done") == 0) {
        char rate[16], took[16];
        double s = (double)(now_ms() - r->run_started_ms) / 1000;
        fmt_count(rate, sizeof rate, s > 0 ? (double)(r->rows_done - r->run_rows_base) / s : 0);
        say(r, "%lld rows in %lld batches; this run %s, %s rows/s", (long long)r->rows_done, (long long)r->batches,
            fmt_age(took, sizeof took, s), rate);
    }
    return code;
}

int batch_run(struct runner *r)
{
    int code = 1;
    r->min = r->jf->min;
    r->max = r->jf->max;
    r->size = r->jf->size;
    if (side_connect_both(r, 10000) < 0 || setup(r, &code) < 0) {
        if (code != 0 && r->err[0])
            fprintf(stderr, "pgfleet: batch %s: %s\n", r->jf->job, r->err);
        return code;
    }
    say(r, "running from cursor %lld%s (%lld rows done), batch %lld", (long long)r->cursor, r->range ? "" : " (keyset)",
        (long long)r->rows_done, (long long)r->size);
    for (;;) {
        char desired[16] = "run", why[160];
        int64_t nap_until = 0;
        if (batch_stop)
            return finish(r, "paused", "", 3);
        if (read_control(r, desired) < 0 || check_lag(r, why, sizeof why) < 0) {
            if (!r->watch.failed && !r->work.failed)
                return finish(r, "failed", r->err, 1);
            if (reconnect(r, &code) < 0)
                return code == 3 ? 3 : (fprintf(stderr, "pgfleet: batch %s: %s\n", r->jf->job, r->err), code);
            continue;
        }
        if (strcmp(desired, "cancel") == 0)
            return finish(r, "cancelled", "", 3);
        if (strcmp(desired, "pause") == 0) {
            set_state(r, "paused", "", "");
            side_nap(r, now_ms() + HEARTBEAT_MS);
            continue;
        }
        if (why[0]) {
            set_state(r, "throttled", why, "");
            side_nap(r, now_ms() + 1000);
            continue;
        }
        if (r->range && r->cursor >= r->end) {
            bool null;
            int64_t end = r->end;
            if (value_of(r, r->jf->end_sql, &end, &null) == 0 && !null && end > r->end) {
                say(r, "the end moved from %lld to %lld: going on", (long long)r->end, (long long)end);
                r->end = end;
                char en[24];
                snprintf(en, sizeof en, "%lld", (long long)end);
                const char *pv[] = {r->jf->job, en};
                const char *const *pp[] = {pv};
                int np[] = {2};
                const char *sql[] = {"UPDATE pgfleet.batch_job SET cursor_end = $2::int8 WHERE job = $1"};
                side_exec(r, &r->watch, sql, 1, np, pp, CTL_TIMEOUT_MS, NULL);
                continue;
            }
            return finish(r, "done", "", 0);
        }
        if (r->keyset_done)
            return finish(r, "done", "", 0);
        switch (one_batch(r)) {
        case B_OK: nap_until = now_ms() + r->jf->sleep_ms; break;
        case B_RETRY: nap_until = now_ms() + (r->jf->sleep_ms > 1000 ? r->jf->sleep_ms : 1000); break;
        case B_STOPPED: return finish(r, "paused", "", 3);
        case B_FAILED: say(r, "failed: %s", r->err); return finish(r, "failed", r->err, 1);
        case B_LOST:
            if (reconnect(r, &code) < 0) {
                if (code != 3)
                    fprintf(stderr, "pgfleet: batch %s: %s\n", r->jf->job, r->err);
                return code;
            }
            continue;
        }
        if (r->jf->sleep_ms > 0 || nap_until > now_ms())
            side_nap(r, nap_until);
    }
}
