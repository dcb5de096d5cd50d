/* restore_preflight.c — what the restore test checks: before the copy, on the source (version,
 * privileges, size, databases, binaries, scratch space, the canaries' values, copies a killed
 * pgfleet left), then the scratch directory and the intent on record; after the start, on the
 * copy (out of recovery, every database present, the recovery target, the canaries). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "actions/action.h"
#include "actions/restore_job.h"
#include "core/conn.h"
#include "probes/restore_record.h"

/* ------------------------------------------------------------------------------ preflight */

/* clang-format off */
const char RT_PREFLIGHT_SQL[] =
    "SELECT current_setting('server_version_num')::int, r.rolsuper, r.rolreplication,"
    " EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'pg_read_all_data'"
    "   AND pg_has_role(current_user, g.oid, 'member')),"
    " (SELECT sum(pg_database_size(oid))::int8 FROM pg_database WHERE datallowconn),"
    " (SELECT rolname FROM pg_roles WHERE oid = 10)"
    " FROM pg_roles r WHERE r.rolname = current_user";
const char RT_DBS_SQL[] =
    "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1";
/* clang-format on */

static bool in_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ":");
        char f[700];
        snprintf(f, sizeof f, "%.*s/%s", (int)len, p, name);
        if (len && access(f, X_OK) == 0)
            return true;
        p += len + (p[len] == ':');
    }
    return false;
}

/* Everything checked before a byte is copied; a refusal says what and how to fix it. */
enum job_state rt_preflight(struct job *j, struct rowset **rs, int nrs)
{
    struct rt *r = RT(j);
    if (nrs < 2 || rs[0]->error || rs[0]->nrows < 1)
        return rt_fail(j, PH_PREFLIGHT, "cannot read the server's facts: %s",
                       nrs && rs[0]->error ? rs[0]->error : "no answer");
    int version = (int)cell_num(rowset_get(rs[0], 0, 0));
    r->major = version >= 100000 ? version / 10000 : version / 100;
    r->super = cell_bool(rowset_get(rs[0], 0, 1));
    r->replication = cell_bool(rowset_get(rs[0], 0, 2));
    r->read_all = cell_bool(rowset_get(rs[0], 0, 3));
    r->src_bytes = cell_i64(rowset_get(rs[0], 0, 4));
    r->superuser = cell_dup(rowset_get(rs[0], 0, 5));
    if (!r->superuser)
        r->superuser = xstrdup("postgres");
    if (!rs[1]->error)
        for (int i = 0; i < rs[1]->nrows && r->ndbs < RT_MAX_DBS; i++) {
            r->dbs = xreallocarray(r->dbs, r->ndbs + 1, sizeof *r->dbs);
            r->dbs[r->ndbs++] = cell_dup(rowset_get(rs[1], i, 0));
        }
    char b[32];
    job_log(j, "preflight: PostgreSQL %d, %s in %zu database%s, login %s%s", r->major,
            fmt_bytes(b, sizeof b, (double)r->src_bytes), r->ndbs, r->ndbs == 1 ? "" : "s",
            r->super             ? "superuser"
                : r->replication ? "with REPLICATION"
                                 : "without REPLICATION",
            r->read_all ? ", pg_read_all_data" : "");
    const char *m = r->req.conf.method;
    if (strcmp(m, "basebackup") == 0 && !r->super && !r->replication)
        return rt_fail(j, PH_PREFLIGHT,
                       "no replication privilege: the login cannot take a base backup (ALTER ROLE ... REPLICATION, "
                       "and a replication line in pg_hba.conf)");
    if (strcmp(m, "logical") == 0 && !r->super && !r->read_all)
        return rt_fail(j, PH_PREFLIGHT, "the login cannot read every table for a dump (superuser or pg_read_all_data)");
    char why[700];
    if (restore_find_bindir(r->req.conf.bindir, r->major, r->bindir, sizeof r->bindir, why, sizeof why) < 0)
        return rt_fail(j, PH_PREFLIGHT, "%s", why);
    static const char *const need_bb[] = {"pg_basebackup", "pg_verifybackup", "postgres", NULL};
    static const char *const need_lg[] = {"initdb", "pg_dump", "pg_dumpall", "pg_restore", "psql", "postgres", NULL};
    static const char *const need_any[] = {"postgres", NULL};
    const char *const *need = strcmp(m, "basebackup") == 0 ? need_bb : strcmp(m, "logical") == 0 ? need_lg : need_any;
    for (size_t i = 0; need[i]; i++) {
        char f[700];
        rt_tool(r, need[i], f, sizeof f);
        if (strcmp(need[i], "pg_verifybackup") == 0 && r->major < 13)
            continue;
        if (access(f, X_OK) != 0)
            return rt_fail(j, PH_PREFLIGHT, "no %s in %s (the PostgreSQL %d binaries)", need[i], r->bindir, r->major);
    }
    if (r->req.conf.amcheck && r->major < 14)
        return rt_fail(j, PH_PREFLIGHT, "amcheck: pg_amcheck needs PostgreSQL 14 or later (this is %d)", r->major);
    if (strcmp(m, "pgbackrest") == 0 && (!r->req.conf.stanza || !in_path("pgbackrest")))
        return rt_fail(j, PH_PREFLIGHT, "%s",
                       !r->req.conf.stanza ? "method pgbackrest needs restore_test.stanza"
                                           : "pgbackrest is not installed here (not in PATH)");
    if (strcmp(m, "hook") == 0 && !r->req.conf.hook)
        return rt_fail(j, PH_PREFLIGHT,
                       "method hook needs restore_test.hook (a command; {datadir} is where to restore)");
    /* who runs the tools and the copy: the server will not run as root */
    if (geteuid() == 0) {
        if (!r->req.conf.run_as)
            return rt_fail(j, PH_PREFLIGHT,
                           "pgfleet runs as root and PostgreSQL will not: set restore_test.run_as (e.g. postgres)");
        struct passwd *pw = getpwnam(r->req.conf.run_as);
        if (!pw)
            return rt_fail(j, PH_PREFLIGHT, "restore_test.run_as: no such user \"%s\"", r->req.conf.run_as);
        r->as_user = pw->pw_uid != 0;
        if (!r->as_user)
            return rt_fail(j, PH_PREFLIGHT, "restore_test.run_as must not be root");
        r->uid = pw->pw_uid;
        r->gid = pw->pw_gid;
    }
    const char *base = rt_scratch_base(r);
    if (!restore_path_plain(base))
        return rt_fail(j, PH_PREFLIGHT, "scratch directory %s: use an absolute path of letters, digits, / _ . - only",
                       base);
    if (access(base, W_OK | X_OK) != 0)
        return rt_fail(j, PH_PREFLIGHT, "scratch directory %s is not writable: %s", base, strerror(errno));
    struct text swept;
    text_init(&swept);
    if (restore_sweep_stale(base, &swept) > 0) /* before the space is counted: it frees some */
        for (const char *p = swept.s; *p;) {
            size_t len = strcspn(p, "\n");
            job_log(j, "stale copy %.*s", (int)len, p);
            p += len + (p[len] == '\n');
        }
    text_free(&swept);
    struct statvfs vfs;
    if (statvfs(base, &vfs) == 0) {
        double free_b = (double)vfs.f_bavail * (double)vfs.f_frsize, need_b = (double)r->src_bytes * 1.2;
        if (free_b < need_b) {
            char fb[32], nb[32], sb[32];
            return rt_fail(j, PH_PREFLIGHT, "not enough space in %s: %s free, needs %s (1.2 x the source's %s)", base,
                           fmt_bytes(fb, sizeof fb, free_b), fmt_bytes(nb, sizeof nb, need_b),
                           fmt_bytes(sb, sizeof sb, (double)r->src_bytes));
        }
    }
    if (r->req.conf.ncanaries) {
        r->canary_src = xcalloc(r->req.conf.ncanaries, sizeof *r->canary_src);
        r->canary_i = 0;
        return rt_go_canary(j, false);
    }
    return JOB_RUNNING; /* the caller goes on to rt_begin() */
}

/* After the preflight: the scratch directory, the intent on record, then the method's first step. */
enum job_state rt_begin(struct job *j)
{
    struct rt *r = RT(j);
    conn_close(j->conn, NULL);
    const char *base = rt_scratch_base(r);
    snprintf(r->scratch, sizeof r->scratch, "%s/pgfleet-rt-XXXXXX", base);
    if (!mkdtemp(r->scratch))
        return rt_fail(j, PH_PREFLIGHT, "cannot make a directory in %s: %s", base, strerror(errno));
    r->scratch_made = true;
    if (restore_mark_owner(r->scratch) < 0)
        return rt_fail(j, PH_PREFLIGHT, "cannot write in %s: %s", r->scratch, strerror(errno));
    if (r->as_user && chown(r->scratch, r->uid, r->gid) < 0)
        return rt_fail(j, PH_PREFLIGHT, "cannot give %s to %s: %s", r->scratch, r->req.conf.run_as, strerror(errno));
    snprintf(r->data, sizeof r->data, "%s/data", r->scratch);
    snprintf(r->sock, sizeof r->sock, "%s/sock", r->scratch);
    snprintf(r->log, sizeof r->log, "%s/server.log", r->scratch);
    char *pw = NULL, *ci = conn_rewrite(r->req.source_conninfo, NULL, &pw);
    free(ci);
    if (pw) { /* the password goes to the tools in a passfile, never on a command line */
        struct text t;
        text_init(&t);
        text_add(&t, "*:*:*:*:");
        for (const char *p = pw; *p; p++)
            text_printf(&t, "%s%c", *p == ':' || *p == '\\' ? "\\" : "", *p);
        text_add(&t, "\n");
        char path[700];
        snprintf(path, sizeof path, "%s/.pgpass", r->scratch);
        int rc = rt_write_file(r, path, t.s, 0600);
        text_free(&t);
        r->password = pw;
        if (rc < 0)
            return rt_fail(j, PH_PREFLIGHT, "cannot write the passfile: %s", strerror(errno));
    }
    char *what = xasprintf("restore test of %s by %s from %s into %s", r->req.server, r->req.conf.method, r->req.source,
                           r->scratch);
    int rc = job_record_intent(j, what);
    free(what);
    if (rc < 0) {
        snprintf(r->error, sizeof r->error, "%s", j->outcome);
        snprintf(r->failed_phase, sizeof r->failed_phase, "preflight");
        rt_teardown_now(j);
        r->recorded = true; /* nothing was done: no run to record */
        return JOB_FAILED;
    }
    r->intent = true;
    return rt_go_copy(j);
}

/* ------------------------------------------------------------------------------- results */

/* The first value of a result, as text ("" for NULL). */
static const char *first_value(const struct rowset *rs)
{
    return rs && !rs->error && rs->nrows > 0 && rs->ncols > 0 && rowset_get(rs, 0, 0) ? rowset_get(rs, 0, 0) : NULL;
}

enum job_state rt_canary_result(struct job *j, struct rowset **rs, int nrs, bool on_copy)
{
    struct rt *r = RT(j);
    const struct canary_conf *c = &r->req.conf.canaries[r->canary_i];
    if (nrs < 1 || rs[0]->error)
        return rt_fail(j, on_copy ? PH_CHECK : PH_PREFLIGHT, "canary %zu (%s) failed on the %s: %s", r->canary_i + 1,
                       c->query, on_copy ? "restored copy" : "source", nrs ? rs[0]->error : "no answer");
    const char *v = first_value(rs[0]);
    if (!on_copy) {
        r->canary_src[r->canary_i] = xstrdup(v ? v : "");
        job_log(j, "canary %zu on the source: %s", r->canary_i + 1, r->canary_src[r->canary_i]);
    } else {
        const char *want = r->canary_src[r->canary_i];
        double a = cell_num(v), b = cell_num(want);
        bool good = !isnan(a) && !isnan(b) ? a >= b : strcmp(v ? v : "", want) == 0;
        if (!good)
            return rt_fail(j, PH_CHECK, "canary %zu (%s): the copy says %s, the source said %s before the copy",
                           r->canary_i + 1, c->query, v ? v : "NULL", want);
        rt_add_check(r, "canary %s: %s %s %s", c->query, v ? v : "", !isnan(a) && !isnan(b) ? ">=" : "=", want);
        job_log(j, "canary %zu on the copy: %s (source %s): ok", r->canary_i + 1, v ? v : "", want);
    }
    conn_close(j->conn, NULL);
    if (++r->canary_i < r->req.conf.ncanaries)
        return rt_go_canary(j, on_copy);
    r->canary_i = 0;
    return on_copy ? rt_go_amcheck_or_stop(j) : rt_begin(j);
}

/* clang-format off */
const char RT_CHECK_SQL[] =
    "SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp()::text,"
    " CASE WHEN $1 = '' THEN NULL ELSE pg_last_xact_replay_timestamp() <= $1::timestamptz END";
/* clang-format on */

enum job_state rt_check_result(struct job *j, struct rowset **rs, int nrs)
{
    struct rt *r = RT(j);
    if (nrs < 2 || rs[0]->error || rs[1]->error)
        return rt_fail(j, PH_CHECK, "the checks failed: %s",
                       nrs && rs[0]->error           ? rs[0]->error
                           : nrs > 1 && rs[1]->error ? rs[1]->error
                                                     : "no answer");
    if (cell_bool(rowset_get(rs[0], 0, 0)))
        return rt_fail(j, PH_CHECK, "the restored server is still in recovery");
    rt_add_check(r, "out of recovery, accepting connections");
    if (r->req.conf.target_time) {
        const char *le = rowset_get(rs[0], 0, 2);
        if (le && !cell_bool(le))
            return rt_fail(j, PH_CHECK, "recovery went past the target %s (last transaction %s)",
                           r->req.conf.target_time, rowset_get(rs[0], 0, 1));
        rt_add_check(r, "recovery stopped at or before %s (last transaction %s)", r->req.conf.target_time,
                     rowset_get(rs[0], 0, 1) ? rowset_get(rs[0], 0, 1) : "unknown");
    }
    size_t missing = 0;
    struct text miss;
    text_init(&miss);
    for (size_t i = 0; i < r->ndbs; i++) {
        bool found = false;
        for (int k = 0; k < rs[1]->nrows && !found; k++)
            found = rowset_get(rs[1], k, 0) && strcmp(rowset_get(rs[1], k, 0), r->dbs[i]) == 0;
        if (!found)
            text_printf(&miss, "%s%s", missing++ ? ", " : "", r->dbs[i]);
    }
    if (missing) {
        enum job_state s =
            rt_fail(j, PH_CHECK, "%zu database%s missing from the copy: %s", missing, missing == 1 ? "" : "s", miss.s);
        text_free(&miss);
        return s;
    }
    text_free(&miss);
    rt_add_check(r, "all %zu databases of the source present", r->ndbs);
    job_log(j, "all %zu databases of the source are present", r->ndbs);
    conn_close(j->conn, NULL);
    if (r->req.conf.ncanaries) {
        r->canary_i = 0;
        return rt_go_canary(j, true);
    }
    return rt_go_amcheck_or_stop(j);
}
