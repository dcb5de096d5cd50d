/* action_restore_test.c — the restore-test job: preflight (privileges, binaries, space, canary
 * values read from the source), then the method's steps as child processes driven by the loop,
 * then the restored server started on a private socket and checked, stopped and removed, and
 * one record written. Every step is timed; the time from the start to a checked server is the
 * measured RTO. Abort kills the step's process group, stops the scratch server, removes the
 * scratch directory.
 *
 *   preflight → [canaries on the source] → intent recorded →
 *     basebackup: pg_basebackup → pg_verifybackup → start → check
 *     logical:    initdb → start → roles → (pg_dump → pg_restore) per database → check
 *     pgbackrest: pgbackrest restore → start (recovery) → check
 *     hook:       the command → start → check
 *   → [pg_amcheck] → stop → remove → record */
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
#include "actions/restore_test.h"
#include "core/conn.h"
#include "probes/restore_record.h"

enum rt_step {
    RT_CONNECT,
    RT_PREFLIGHT,
    RT_CANARY_SRC,
    RT_COPY,
    RT_VERIFY,
    RT_INITDB,
    RT_START,
    RT_ROLES_DUMP,
    RT_ROLES_LOAD,
    RT_DUMP,
    RT_RESTORE,
    RT_CHECK,
    RT_CANARY_DST,
    RT_AMCHECK,
    RT_STOP,
    RT_CLEAN,
};

/* The phases of the record, each timed. */
enum rt_phase { PH_PREFLIGHT, PH_COPY, PH_VERIFY, PH_START, PH_CHECK, PH_AMCHECK, PH_STOP, PH_CLEAN, PH_N };
static const char *const phase_names[PH_N] = {"preflight", "copy",    "verify", "start",
                                              "check",     "amcheck", "stop",   "clean"};

#define RT_MAX_DBS 256
#define RT_MAX_CHECKS 64

struct rt {
    struct restore_request req;
    enum rt_step step;
    int phase; /* the phase now timed, -1 none */
    int64_t ph_start[PH_N], ph_ms[PH_N];
    int major;
    int64_t src_bytes;
    bool super, replication, read_all;
    char *superuser; /* the source's bootstrap superuser: the role to log in to the copy as */
    char **dbs;
    size_t ndbs, db_i;
    char **canary_src; /* the source's value of each canary, read before the copy */
    size_t canary_i;
    char bindir[512];
    char scratch[512], data[600], sock[600], log[600];
    int port;
    bool scratch_made, started_server, intent;
    bool as_user;
    uid_t uid;
    gid_t gid;
    char *password; /* for a passfile in the scratch directory; never in argv */
    bool failing;   /* tearing down after a failure */
    char failed_phase[16];
    char error[600];
    char *checks[RT_MAX_CHECKS];
    size_t nchecks;
    int64_t bytes;
    int64_t checked_ms;  /* when the checks passed: the RTO's end */
    int64_t deadline_ms; /* restore_test.timeout from the start */
    bool retry_check;    /* the timer is a retry of the check's connection, not the deadline */
    char last_out[300];  /* the step's last line of output: what a failing tool said */
    char last_err[300];  /* its last line that reads as an error (a tool may say more after it) */
    bool recorded;
};

static struct rt *RT(struct job *j) { return j->priv; }

/* ---------------------------------------------------------------------------------- helpers */

static void phase_begin(struct rt *r, int ph)
{
    int64_t now = now_ms();
    if (r->phase >= 0 && r->ph_start[r->phase])
        r->ph_ms[r->phase] += now - r->ph_start[r->phase];
    if (r->phase >= 0)
        r->ph_start[r->phase] = 0;
    r->phase = ph;
    if (ph >= 0)
        r->ph_start[ph] = now;
}

__attribute__((format(printf, 2, 3))) static void add_check(struct rt *r, const char *fmt, ...)
{
    if (r->nchecks >= RT_MAX_CHECKS)
        return;
    va_list ap;
    struct text t;
    text_init(&t);
    va_start(ap, fmt);
    text_vprintf(&t, fmt, ap);
    va_end(ap);
    r->checks[r->nchecks++] = t.s;
}

static void set_progress(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_progress(struct job *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->progress, sizeof j->progress, fmt, ap);
    va_end(ap);
}

/* Write a small file the scratch server reads, owned by the user it runs as. */
static int write_file(struct rt *r, const char *path, const char *content, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    size_t len = strlen(content);
    bool ok = write(fd, content, len) == (ssize_t)len;
    if (r->as_user && fchown(fd, r->uid, r->gid) < 0)
        ok = false;
    return close(fd) == 0 && ok ? 0 : -1;
}

static int make_dir(struct rt *r, const char *path)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -1;
    return r->as_user && chown(path, r->uid, r->gid) < 0 ? -1 : 0;
}

/* A free TCP port number (the copy listens on a socket file only; the number names the file,
 * and a free one keeps it from looking like a server of this machine). */
static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = 0;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port ? port : 54329;
}

static const char *scratch_base(const struct rt *r)
{
    if (r->req.conf.scratch_dir)
        return r->req.conf.scratch_dir;
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/var/tmp";
}

/* The spec of a child: as the configured user, with the passfile when there is a password. */
static int spawn(struct job *j, const char *const *argv, const char *what)
{
    struct rt *r = RT(j);
    char passfile[700], env_pass[720];
    snprintf(passfile, sizeof passfile, "%s/.pgpass", r->scratch);
    snprintf(env_pass, sizeof env_pass, "PGPASSFILE=%s", passfile);
    const char *env[] = {"PGAPPNAME=pgfleet-restore-test", "PGCONNECT_TIMEOUT=30", r->password ? env_pass : NULL, NULL};
    struct proc_spec s = {.argv = argv,
                          .env = env,
                          .cwd = r->scratch_made ? r->scratch : "/",
                          .as_user = r->as_user,
                          .uid = r->uid,
                          .gid = r->gid};
    struct text cmd;
    text_init(&cmd);
    for (size_t i = 0; argv[i]; i++) {
        bool plain = argv[i][0] &&
            strspn(argv[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.,:=+-") ==
                strlen(argv[i]);
        char *q = plain ? NULL : !strpbrk(argv[i], "\"$`\\") ? xasprintf("\"%s\"", argv[i]) : shell_quote(argv[i]);
        text_printf(&cmd, "%s%s", i ? " " : "", q ? q : argv[i]);
        free(q);
    }
    job_log(j, "%s: %s", what, cmd.s);
    text_free(&cmd);
    char err[256];
    if (job_spawn(j, &s, err, sizeof err) < 0) {
        job_log(j, "cannot start %s: %s", argv[0], err);
        return -1;
    }
    return 0;
}

static void tool(const struct rt *r, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", r->bindir, name);
}

/* ----------------------------------------------------------------------------- record, end */

static void write_record(struct job *j, const char *outcome)
{
    struct rt *r = RT(j);
    if (r->recorded)
        return;
    r->recorded = true;
    phase_begin(r, -1);
    struct restore_phase ph[PH_N];
    size_t n = 0;
    for (int i = 0; i < PH_N; i++)
        if (r->ph_ms[i] > 0 || i == PH_PREFLIGHT)
            ph[n++] = (struct restore_phase){phase_names[i], (double)r->ph_ms[i] / 1000};
    struct restore_run run = {
        .server = r->req.server,
        .method = r->req.conf.method,
        .source = r->req.source,
        .outcome = outcome,
        .failed_phase = strcmp(outcome, "ok") == 0 ? NULL
            : r->failed_phase[0]                   ? r->failed_phase
                                                   : NULL,
        .error = strcmp(outcome, "ok") == 0 ? NULL : r->error,
        .audit_id = j->audit_id,
        .started = j->started_wall,
        .rto_s = r->checked_ms ? (double)(r->checked_ms - j->started_ms) / 1000 : NAN,
        .bytes = r->bytes ? r->bytes : -1,
        .phases = ph,
        .nphases = n,
        .checks = (const char *const *)r->checks,
        .nchecks = r->nchecks,
    };
    char err[256];
    if (!r->req.records_path || restore_record_append(r->req.records_path, &run, err, sizeof err) < 0)
        job_log(j, "RESTORE RECORD NOT WRITTEN: %s", r->req.records_path ? err : "no record file (no home directory)");
    else
        job_log(j, "recorded in %s", r->req.records_path);
}

/* Stop a started copy and remove the scratch directory now, waiting (abort, quit). */
static void teardown_now(struct job *j)
{
    struct rt *r = RT(j);
    proc_kill(&j->proc, 1000);
    proc_close(&j->proc);
    if (r->started_server) {
        char ctl[600];
        tool(r, "pg_ctl", ctl, sizeof ctl);
        const char *argv[] = {ctl, "stop", "-D", r->data, "-m", "immediate", "-w", "-t", "20", NULL};
        struct proc_spec s = {.argv = argv, .cwd = "/", .as_user = r->as_user, .uid = r->uid, .gid = r->gid};
        int st = proc_run_sync(&s, 25000, NULL);
        job_log(j, "scratch server stopped (immediate)%s", st == 0 ? "" : ": pg_ctl stop did not say so");
        r->started_server = false;
    }
    if (r->scratch_made) {
        const char *argv[] = {"rm", "-rf", "--", r->scratch, NULL};
        struct proc_spec s = {.argv = argv, .cwd = "/"};
        proc_run_sync(&s, 300000, NULL);
        job_log(j, "scratch directory removed");
        r->scratch_made = false;
    }
}

static enum job_state finish_ok(struct job *j)
{
    struct rt *r = RT(j);
    write_record(j, "ok");
    char rto[32], b[32];
    snprintf(j->outcome, sizeof j->outcome, "restored and checked in %s (%s)",
             fmt_age(rto, sizeof rto, (double)(r->checked_ms - j->started_ms) / 1000),
             r->bytes > 0 ? fmt_bytes(b, sizeof b, (double)r->bytes) : r->req.conf.method);
    j->progress[0] = '\0';
    return JOB_DONE;
}

static enum job_state finish_failed(struct job *j)
{
    struct rt *r = RT(j);
    write_record(j, "failed");
    snprintf(j->outcome, sizeof j->outcome, "FAILED at %s: %.200s", r->failed_phase, r->error);
    j->progress[0] = '\0';
    return JOB_FAILED;
}

static enum job_state go_stop(struct job *j);
static enum job_state go_clean(struct job *j);

/* A failure: say where and why, then stop and remove what was made (the stop and removal run as
 * steps, the screen keeps refreshing). */
__attribute__((format(printf, 3, 4))) static enum job_state fail(struct job *j, int ph, const char *fmt, ...)
{
    struct rt *r = RT(j);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    if (!r->failing) {
        snprintf(r->failed_phase, sizeof r->failed_phase, "%s", phase_names[ph]);
        job_log(j, "FAILED at %s: %s", phase_names[ph], r->error);
    }
    r->failing = true;
    if (j->proc.pid && !j->proc.reaped) {
        proc_kill(&j->proc, 1000);
        proc_close(&j->proc);
    }
    if (r->started_server)
        return go_stop(j);
    return go_clean(j);
}

/* ------------------------------------------------------------------------------- the steps */

static enum job_state go_clean(struct job *j)
{
    struct rt *r = RT(j);
    if (!r->scratch_made)
        return r->failing ? finish_failed(j) : finish_ok(j);
    if (r->failing && r->req.conf.keep_on_failure) {
        job_log(j, "scratch directory kept for a look (keep_on_failure): %s", r->scratch);
        r->scratch_made = false;
        return finish_failed(j);
    }
    r->step = RT_CLEAN;
    phase_begin(r, PH_CLEAN);
    set_progress(j, "removing the scratch directory");
    const char *argv[] = {"rm", "-rf", "--", r->scratch, NULL};
    struct proc_spec s = {.argv = argv, .cwd = "/"};
    char err[256];
    if (job_spawn(j, &s, err, sizeof err) < 0) {
        teardown_now(j);
        return r->failing ? finish_failed(j) : finish_ok(j);
    }
    return JOB_RUNNING;
}

static enum job_state go_stop(struct job *j)
{
    struct rt *r = RT(j);
    r->step = RT_STOP;
    phase_begin(r, PH_STOP);
    set_progress(j, "stopping the restored server");
    char ctl[600];
    tool(r, "pg_ctl", ctl, sizeof ctl);
    const char *argv[] = {ctl, "stop", "-D", r->data, "-m", r->failing ? "immediate" : "fast", "-w", "-t", "120", NULL};
    if (spawn(j, argv, "stop") < 0) {
        teardown_now(j);
        return r->failing ? finish_failed(j) : finish_ok(j);
    }
    return JOB_RUNNING;
}

/* The options the copy starts with: on a private socket only, archiving and replication off. */
static char *server_options(const struct rt *r)
{
    struct text t;
    text_init(&t);
    text_printf(&t,
                "-c port=%d -c listen_addresses='' -c unix_socket_directories='%s'"
                " -c hba_file='%s/hba.conf' -c ident_file='%s/ident.conf'"
                " -c archive_mode=off -c max_wal_senders=0 -c hot_standby=off -c ssl=off"
                " -c shared_buffers=128MB -c logging_collector=off -c log_destination=stderr"
                " -c external_pid_file='' -c primary_conninfo='' -c cluster_name=pgfleet-restore-test",
                r->port, r->sock, r->scratch, r->scratch);
    if (r->major <= 14)
        text_add(&t, " -c stats_temp_directory=pg_stat_tmp");
    if (r->major >= 17)
        text_add(&t, " -c sync_replication_slots=off -c summarize_wal=off");
    return t.s;
}

static enum job_state go_start(struct job *j)
{
    struct rt *r = RT(j);
    r->step = RT_START;
    phase_begin(r, PH_START);
    set_progress(j, "starting the restored server (recovery)");
    /* a copy of a replica would wait for its primary: it is to become a server of its own */
    char path[700];
    if (strcmp(r->req.conf.method, "basebackup") == 0) {
        snprintf(path, sizeof path, "%s/standby.signal", r->data);
        unlink(path);
        snprintf(path, sizeof path, "%s/recovery.signal", r->data);
        unlink(path);
    } else if (strcmp(r->req.conf.method, "logical") != 0) {
        snprintf(path, sizeof path, "%s/standby.signal", r->data);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/postgresql.conf", r->data);
    struct stat st;
    if (stat(path, &st) < 0 && write_file(r, path, "# written by pgfleet's restore test\n", 0600) < 0)
        return fail(j, PH_START, "cannot write %s: %s", path, strerror(errno));
    char hba[700], ident[700];
    snprintf(hba, sizeof hba, "%s/hba.conf", r->scratch);
    snprintf(ident, sizeof ident, "%s/ident.conf", r->scratch);
    if (write_file(r, hba, "# the restored copy: its private socket only\nlocal all all trust\n", 0600) < 0 ||
        write_file(r, ident, "", 0600) < 0 || make_dir(r, r->sock) < 0)
        return fail(j, PH_START, "cannot prepare the scratch directory: %s", strerror(errno));
    r->port = free_port();
    char ctl[600], secs[32];
    tool(r, "pg_ctl", ctl, sizeof ctl);
    int64_t left = r->req.conf.timeout_ms - (now_ms() - 0);
    (void)left;
    snprintf(secs, sizeof secs, "%lld", (long long)(r->req.conf.timeout_ms / 1000));
    char *opts = server_options(r);
    const char *argv[] = {ctl, "start", "-w", "-t", secs, "-D", r->data, "-l", r->log, "-o", opts, NULL};
    r->started_server = true; /* from now on a stop is due, whatever pg_ctl says */
    int rc = spawn(j, argv, "start");
    free(opts);
    return rc < 0 ? fail(j, PH_START, "cannot run pg_ctl") : JOB_RUNNING;
}

/* The conninfo of the restored copy, on its socket. */
static char *copy_conninfo(const struct rt *r, const char *db)
{
    return xasprintf("host=%s port=%d user=%s dbname=%s", r->sock, r->port, r->superuser, db);
}

static enum job_state go_check(struct job *j)
{
    struct rt *r = RT(j);
    r->step = RT_CHECK;
    phase_begin(r, PH_CHECK);
    set_progress(j, "checking the restored server");
    char *ci = copy_conninfo(r, r->ndbs ? r->dbs[0] : "postgres");
    int rc = job_connect_to(j, ci);
    free(ci);
    return rc < 0 ? fail(j, PH_CHECK, "cannot connect to the restored server: %s", conn_error(j->conn)) : JOB_RUNNING;
}

/* Canary i on the source (before the copy) or on the copy: connect to its database. */
static enum job_state go_canary(struct job *j, bool on_copy)
{
    struct rt *r = RT(j);
    const struct canary_conf *c = &r->req.conf.canaries[r->canary_i];
    r->step = on_copy ? RT_CANARY_DST : RT_CANARY_SRC;
    char *ci;
    if (on_copy) {
        ci = copy_conninfo(r, c->database ? c->database : (r->ndbs ? r->dbs[0] : "postgres"));
    } else { /* our own connection: the password stays in its conninfo */
        ci = c->database ? conn_rewrite(r->req.conninfo, c->database, NULL) : xstrdup(r->req.conninfo);
    }
    int rc = ci ? job_connect_to(j, ci) : -1;
    free(ci);
    if (rc < 0)
        return fail(j, on_copy ? PH_CHECK : PH_PREFLIGHT, "canary %zu: cannot connect: %s", r->canary_i + 1,
                    conn_error(j->conn));
    return JOB_RUNNING;
}

static enum job_state go_amcheck_or_stop(struct job *j)
{
    struct rt *r = RT(j);
    r->checked_ms = now_ms();
    job_log(j, "checks passed: the restored server is usable (RTO so far %.1fs)",
            (double)(r->checked_ms - j->started_ms) / 1000);
    if (r->req.conf.amcheck) {
        r->step = RT_AMCHECK;
        phase_begin(r, PH_AMCHECK);
        set_progress(j, "pg_amcheck");
        char bin[600], port[16];
        tool(r, "pg_amcheck", bin, sizeof bin);
        snprintf(port, sizeof port, "%d", r->port);
        const char *argv[] = {bin, "-h", r->sock, "-p", port, "-U", r->superuser, "--all", "--install-missing", NULL};
        if (spawn(j, argv, "amcheck") < 0)
            return fail(j, PH_AMCHECK, "cannot run pg_amcheck");
        return JOB_RUNNING;
    }
    return go_stop(j);
}

/* logical: the next database to dump, or the checks when all are restored. */
static enum job_state go_dump(struct job *j)
{
    struct rt *r = RT(j);
    if (r->db_i >= r->ndbs)
        return go_check(j);
    r->step = RT_DUMP;
    phase_begin(r, PH_COPY);
    set_progress(j, "dump %zu/%zu", r->db_i + 1, r->ndbs);
    char bin[600], file[700];
    tool(r, "pg_dump", bin, sizeof bin);
    snprintf(file, sizeof file, "%s/db%zu.dump", r->scratch, r->db_i);
    char *pw = NULL, *ci = conn_rewrite(r->req.source_conninfo, r->dbs[r->db_i], &pw);
    free(pw);
    const char *argv[] = {bin, "-Fc", "-f", file, "-d", ci ? ci : "", NULL};
    int rc = spawn(j, argv, "dump");
    free(ci);
    return rc < 0 ? fail(j, PH_COPY, "cannot run pg_dump") : JOB_RUNNING;
}

static enum job_state go_copy(struct job *j)
{
    struct rt *r = RT(j);
    const char *m = r->req.conf.method;
    phase_begin(r, PH_COPY);
    r->step = RT_COPY;
    set_progress(j, "copy");
    char *pw = NULL, *src = conn_rewrite(r->req.source_conninfo, NULL, &pw);
    free(pw);
    int rc;
    if (strcmp(m, "basebackup") == 0) {
        char bin[600];
        tool(r, "pg_basebackup", bin, sizeof bin);
        const char *argv[] = {bin,
                              "-D",
                              r->data,
                              "-X",
                              "stream",
                              "-P",
                              "-c",
                              "fast",
                              "-d",
                              src ? src : "",
                              r->req.conf.max_rate ? "--max-rate" : NULL,
                              r->req.conf.max_rate,
                              NULL};
        rc = spawn(j, argv, "copy");
    } else if (strcmp(m, "logical") == 0) {
        r->step = RT_INITDB;
        char bin[600];
        tool(r, "initdb", bin, sizeof bin);
        const char *argv[] = {bin, "-D", r->data, "-U", r->superuser, "-A", "trust", "-E", "UTF8", NULL};
        rc = spawn(j, argv, "initdb");
    } else if (strcmp(m, "pgbackrest") == 0) {
        char stanza[300], cfg[700], path[700], target[300];
        snprintf(stanza, sizeof stanza, "--stanza=%s", r->req.conf.stanza);
        snprintf(cfg, sizeof cfg, "--config=%s", r->req.conf.pgbackrest_config ? r->req.conf.pgbackrest_config : "");
        snprintf(path, sizeof path, "--pg1-path=%s", r->data);
        snprintf(target, sizeof target, "--target=%s", r->req.conf.target_time ? r->req.conf.target_time : "");
        const char *argv[12];
        size_t n = 0;
        argv[n++] = "pgbackrest";
        if (r->req.conf.pgbackrest_config)
            argv[n++] = cfg;
        argv[n++] = stanza;
        argv[n++] = path;
        argv[n++] = "--log-level-console=detail";
        if (r->req.conf.target_time) {
            argv[n++] = "--type=time";
            argv[n++] = target;
            argv[n++] = "--target-action=promote";
        }
        argv[n++] = "restore";
        argv[n] = NULL;
        rc = spawn(j, argv, "copy");
    } else {
        char major[16];
        snprintf(major, sizeof major, "%d", r->major);
        const char *names[] = {"datadir", "server", "source", "major", "target_time", "bindir"};
        const char *values[] = {r->data, r->req.server, r->req.source, major, r->req.conf.target_time, r->bindir};
        char *cmd = hook_expand(r->req.conf.hook, names, values, sizeof names / sizeof *names);
        char e1[700], e2[300], e3[300], e4[32], e5[300], e6[600];
        snprintf(e1, sizeof e1, "PGFLEET_DATADIR=%s", r->data);
        snprintf(e2, sizeof e2, "PGFLEET_SERVER=%s", r->req.server);
        snprintf(e3, sizeof e3, "PGFLEET_SOURCE=%s", r->req.source);
        snprintf(e4, sizeof e4, "PGFLEET_MAJOR=%d", r->major);
        snprintf(e5, sizeof e5, "PGFLEET_TARGET_TIME=%s", r->req.conf.target_time ? r->req.conf.target_time : "");
        snprintf(e6, sizeof e6, "PGFLEET_BINDIR=%s", r->bindir);
        const char *env[] = {e1, e2, e3, e4, e5, e6, "PGAPPNAME=pgfleet-restore-test", NULL};
        const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        struct proc_spec s = {
            .argv = argv, .env = env, .cwd = r->scratch, .as_user = r->as_user, .uid = r->uid, .gid = r->gid};
        job_log(j, "copy: the hook: %s", cmd);
        char err[256];
        rc = job_spawn(j, &s, err, sizeof err);
        if (rc < 0)
            job_log(j, "cannot start the hook: %s", err);
        free(cmd);
    }
    free(src);
    return rc < 0 ? fail(j, PH_COPY, "cannot start the %s step", m) : JOB_RUNNING;
}

/* ------------------------------------------------------------------------------ preflight */

/* clang-format off */
static const char PREFLIGHT_SQL[] =
    "SELECT current_setting('server_version_num')::int, r.rolsuper, r.rolreplication,"
    " EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'pg_read_all_data'"
    "   AND pg_has_role(current_user, g.oid, 'member')),"
    " (SELECT sum(pg_database_size(oid))::int8 FROM pg_database WHERE datallowconn),"
    " (SELECT rolname FROM pg_roles WHERE oid = 10)"
    " FROM pg_roles r WHERE r.rolname = current_user";
static const char DBS_SQL[] =
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
static enum job_state preflight(struct job *j, struct rowset **rs, int nrs)
{
    struct rt *r = RT(j);
    if (nrs < 2 || rs[0]->error || rs[0]->nrows < 1)
        return fail(j, PH_PREFLIGHT, "cannot read the server's facts: %s",
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
        return fail(j, PH_PREFLIGHT,
                    "no replication privilege: the login cannot take a base backup (ALTER ROLE ... REPLICATION, "
                    "and a replication line in pg_hba.conf)");
    if (strcmp(m, "logical") == 0 && !r->super && !r->read_all)
        return fail(j, PH_PREFLIGHT, "the login cannot read every table for a dump (superuser or pg_read_all_data)");
    char why[700];
    if (restore_find_bindir(r->req.conf.bindir, r->major, r->bindir, sizeof r->bindir, why, sizeof why) < 0)
        return fail(j, PH_PREFLIGHT, "%s", why);
    static const char *const need_bb[] = {"pg_basebackup", "pg_verifybackup", "postgres", NULL};
    static const char *const need_lg[] = {"initdb", "pg_dump", "pg_dumpall", "pg_restore", "psql", "postgres", NULL};
    static const char *const need_any[] = {"postgres", NULL};
    const char *const *need = strcmp(m, "basebackup") == 0 ? need_bb : strcmp(m, "logical") == 0 ? need_lg : need_any;
    for (size_t i = 0; need[i]; i++) {
        char f[700];
        tool(r, need[i], f, sizeof f);
        if (strcmp(need[i], "pg_verifybackup") == 0 && r->major < 13)
            continue;
        if (access(f, X_OK) != 0)
            return fail(j, PH_PREFLIGHT, "no %s in %s (the PostgreSQL %d binaries)", need[i], r->bindir, r->major);
    }
    if (r->req.conf.amcheck && r->major < 14)
        return fail(j, PH_PREFLIGHT, "amcheck: pg_amcheck needs PostgreSQL 14 or later (this is %d)", r->major);
    if (strcmp(m, "pgbackrest") == 0 && (!r->req.conf.stanza || !in_path("pgbackrest")))
        return fail(j, PH_PREFLIGHT, "%s",
                    !r->req.conf.stanza ? "method pgbackrest needs restore_test.stanza"
                                        : "pgbackrest is not installed here (not in PATH)");
    if (strcmp(m, "hook") == 0 && !r->req.conf.hook)
        return fail(j, PH_PREFLIGHT, "method hook needs restore_test.hook (a command; {datadir} is where to restore)");
    /* who runs the tools and the copy: the server will not run as root */
    if (geteuid() == 0) {
        if (!r->req.conf.run_as)
            return fail(j, PH_PREFLIGHT,
                        "pgfleet runs as root and PostgreSQL will not: set restore_test.run_as (e.g. postgres)");
        struct passwd *pw = getpwnam(r->req.conf.run_as);
        if (!pw)
            return fail(j, PH_PREFLIGHT, "restore_test.run_as: no such user \"%s\"", r->req.conf.run_as);
        r->as_user = pw->pw_uid != 0;
        if (!r->as_user)
            return fail(j, PH_PREFLIGHT, "restore_test.run_as must not be root");
        r->uid = pw->pw_uid;
        r->gid = pw->pw_gid;
    }
    const char *base = scratch_base(r);
    if (!restore_path_plain(base))
        return fail(j, PH_PREFLIGHT, "scratch directory %s: use an absolute path of letters, digits, / _ . - only",
                    base);
    if (access(base, W_OK | X_OK) != 0)
        return fail(j, PH_PREFLIGHT, "scratch directory %s is not writable: %s", base, strerror(errno));
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
            return fail(j, PH_PREFLIGHT, "not enough space in %s: %s free, needs %s (1.2 x the source's %s)", base,
                        fmt_bytes(fb, sizeof fb, free_b), fmt_bytes(nb, sizeof nb, need_b),
                        fmt_bytes(sb, sizeof sb, (double)r->src_bytes));
        }
    }
    if (r->req.conf.ncanaries) {
        r->canary_src = xcalloc(r->req.conf.ncanaries, sizeof *r->canary_src);
        r->canary_i = 0;
        return go_canary(j, false);
    }
    return JOB_RUNNING; /* the caller goes on to begin() */
}

/* After the preflight: the scratch directory, the intent on record, then the method's first step. */
static enum job_state begin(struct job *j)
{
    struct rt *r = RT(j);
    conn_close(j->conn, NULL);
    const char *base = scratch_base(r);
    snprintf(r->scratch, sizeof r->scratch, "%s/pgfleet-rt-XXXXXX", base);
    if (!mkdtemp(r->scratch))
        return fail(j, PH_PREFLIGHT, "cannot make a directory in %s: %s", base, strerror(errno));
    r->scratch_made = true;
    if (restore_mark_owner(r->scratch) < 0)
        return fail(j, PH_PREFLIGHT, "cannot write in %s: %s", r->scratch, strerror(errno));
    if (r->as_user && chown(r->scratch, r->uid, r->gid) < 0)
        return fail(j, PH_PREFLIGHT, "cannot give %s to %s: %s", r->scratch, r->req.conf.run_as, strerror(errno));
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
        int rc = write_file(r, path, t.s, 0600);
        text_free(&t);
        r->password = pw;
        if (rc < 0)
            return fail(j, PH_PREFLIGHT, "cannot write the passfile: %s", strerror(errno));
    }
    char *what = xasprintf("restore test of %s by %s from %s into %s", r->req.server, r->req.conf.method, r->req.source,
                           r->scratch);
    int rc = job_record_intent(j, what);
    free(what);
    if (rc < 0) {
        snprintf(r->error, sizeof r->error, "%s", j->outcome);
        snprintf(r->failed_phase, sizeof r->failed_phase, "preflight");
        teardown_now(j);
        r->recorded = true; /* nothing was done: no run to record */
        return JOB_FAILED;
    }
    r->intent = true;
    return go_copy(j);
}

/* --------------------------------------------------------------------------- child output */

static void on_output(struct job *j, const char *line)
{
    struct rt *r = RT(j);
    double pct;
    int64_t done, total;
    if (restore_progress(line, &pct, &done, &total) && (r->step == RT_COPY || r->step == RT_DUMP)) {
        char a[32], b[32];
        if (done >= 0) {
            r->bytes = done;
            set_progress(j, "copy %.0f%% %s / %s", pct, fmt_bytes(a, sizeof a, (double)done),
                         fmt_bytes(b, sizeof b, (double)total));
        } else {
            set_progress(j, "copy %.0f%%", pct);
        }
        /* a progress meter's line, or pgBackRest's one line per file restored: shown in the pane,
         * not logged (a server of many files would make a log of as many lines) */
        if (r->step == RT_COPY &&
            (strcmp(r->req.conf.method, "pgbackrest") != 0 || strstr(line, "DETAIL: restore file ")))
            return;
    }
    if (*line) {
        job_log(j, "  %s", line);
        snprintf(r->last_out, sizeof r->last_out, "%s", line);
        /* pgBackRest says why ("ERROR: [075]: no backup set found to restore"), then logs "restore
         * command end: aborted with exception [075]": the reason is the error line, not the last */
        if (strstr(line, "ERROR:") || strstr(line, "FATAL:") || strstr(line, "error:"))
            snprintf(r->last_err, sizeof r->last_err, "%s", line);
    }
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* A step's process ended. */
static enum job_state on_exit_step(struct job *j, int status)
{
    struct rt *r = RT(j);
    char st[400];
    proc_status_text(status, st, sizeof st);
    const char *said = r->last_err[0] ? r->last_err : r->last_out;
    if (status != 0 && said[0]) /* its last error line, else what it said last, is the reason */
        snprintf(st + strlen(st), sizeof st - strlen(st), " (%.300s)", said);
    r->last_out[0] = r->last_err[0] = '\0';
    bool ok = status == 0;
    switch (r->step) {
    case RT_COPY:
        if (!ok)
            return fail(j, PH_COPY, "%s: %s", strcmp(r->req.conf.method, "hook") == 0 ? "the hook" : "the copy", st);
        char manifest[700];
        snprintf(manifest, sizeof manifest, "%s/backup_manifest", r->data);
        /* a base backup has a manifest (so has a hook's copy made by pg_basebackup): check it */
        if (r->major >= 13 && access(manifest, R_OK) == 0) {
            r->step = RT_VERIFY;
            phase_begin(r, PH_VERIFY);
            set_progress(j, "pg_verifybackup");
            char bin[600];
            tool(r, "pg_verifybackup", bin, sizeof bin);
            const char *argv[] = {bin, r->data, NULL};
            return spawn(j, argv, "verify") < 0 ? fail(j, PH_VERIFY, "cannot run pg_verifybackup") : JOB_RUNNING;
        }
        return go_start(j);
    case RT_VERIFY:
        if (!ok)
            return fail(j, PH_VERIFY, "pg_verifybackup: %s: the backup is damaged or incomplete", st);
        add_check(r, "pg_verifybackup: every file matches the manifest");
        return go_start(j);
    case RT_INITDB:
        if (!ok)
            return fail(j, PH_COPY, "initdb: %s", st);
        return go_start(j);
    case RT_START:
        if (!ok)
            return fail(j, PH_START, "the restored server did not start (%s); see %s", st, r->log);
        job_log(j, "the restored server is up on %s port %d", r->sock, r->port);
        if (strcmp(r->req.conf.method, "logical") == 0) {
            r->step = RT_ROLES_DUMP;
            phase_begin(r, PH_COPY);
            char bin[600], file[700];
            tool(r, "pg_dumpall", bin, sizeof bin);
            snprintf(file, sizeof file, "%s/roles.sql", r->scratch);
            char *pw = NULL, *ci = conn_rewrite(r->req.source_conninfo, NULL, &pw);
            free(pw);
            const char *argv[] = {bin, "--roles-only", "--no-role-passwords", "-f", file, "-d", ci ? ci : "", NULL};
            int rc = spawn(j, argv, "roles");
            free(ci);
            return rc < 0 ? fail(j, PH_COPY, "cannot run pg_dumpall") : JOB_RUNNING;
        }
        return go_check(j);
    case RT_ROLES_DUMP: {
        if (!ok)
            return fail(j, PH_COPY, "pg_dumpall --roles-only: %s", st);
        r->step = RT_ROLES_LOAD;
        char bin[600], file[700], port[16];
        tool(r, "psql", bin, sizeof bin);
        snprintf(file, sizeof file, "%s/roles.sql", r->scratch);
        snprintf(port, sizeof port, "%d", r->port);
        /* the bootstrap role exists already: that one error is expected */
        const char *argv[] = {bin,  "-X",         "-q", "-h",       r->sock, "-p", port,
                              "-U", r->superuser, "-d", "postgres", "-f",    file, NULL};
        return spawn(j, argv, "roles") < 0 ? fail(j, PH_COPY, "cannot run psql") : JOB_RUNNING;
    }
    case RT_ROLES_LOAD:
        if (!ok)
            return fail(j, PH_COPY, "loading the roles: %s", st);
        r->db_i = 0;
        return go_dump(j);
    case RT_DUMP: {
        if (!ok)
            return fail(j, PH_COPY, "pg_dump of %s: %s", r->dbs[r->db_i], st);
        char file[700], bin[600], port[16];
        snprintf(file, sizeof file, "%s/db%zu.dump", r->scratch, r->db_i);
        r->bytes += file_size(file);
        r->step = RT_RESTORE;
        set_progress(j, "restore %zu/%zu", r->db_i + 1, r->ndbs);
        tool(r, "pg_restore", bin, sizeof bin);
        snprintf(port, sizeof port, "%d", r->port);
        char *ci = xasprintf("host=%s port=%s user=%s dbname=template1", r->sock, port, r->superuser);
        const char *argv[] = {bin, "--create", "--clean", "--if-exists", "-d", ci, file, NULL};
        int rc = spawn(j, argv, "restore");
        free(ci);
        return rc < 0 ? fail(j, PH_COPY, "cannot run pg_restore") : JOB_RUNNING;
    }
    case RT_RESTORE: {
        if (!ok)
            return fail(j, PH_COPY, "pg_restore of %s: %s", r->dbs[r->db_i], st);
        char file[700];
        snprintf(file, sizeof file, "%s/db%zu.dump", r->scratch, r->db_i);
        unlink(file);
        r->db_i++;
        return go_dump(j);
    }
    case RT_AMCHECK:
        if (!ok)
            return fail(j, PH_AMCHECK, "pg_amcheck found corruption or could not check (%s)", st);
        add_check(r, "pg_amcheck: no corruption found");
        return go_stop(j);
    case RT_STOP:
        if (!ok)
            job_log(j, "pg_ctl stop: %s", st);
        r->started_server = false;
        return go_clean(j);
    case RT_CLEAN:
        r->scratch_made = false;
        if (!ok)
            job_log(j, "rm: %s: the scratch directory may be left at %s", st, r->scratch);
        return r->failing ? finish_failed(j) : finish_ok(j);
    default: return JOB_RUNNING;
    }
}

/* ------------------------------------------------------------------------------- results */

/* The first value of a result, as text ("" for NULL). */
static const char *first_value(const struct rowset *rs)
{
    return rs && !rs->error && rs->nrows > 0 && rs->ncols > 0 && rowset_get(rs, 0, 0) ? rowset_get(rs, 0, 0) : NULL;
}

static enum job_state canary_result(struct job *j, struct rowset **rs, int nrs, bool on_copy)
{
    struct rt *r = RT(j);
    const struct canary_conf *c = &r->req.conf.canaries[r->canary_i];
    if (nrs < 1 || rs[0]->error)
        return fail(j, on_copy ? PH_CHECK : PH_PREFLIGHT, "canary %zu (%s) failed on the %s: %s", r->canary_i + 1,
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
            return fail(j, PH_CHECK, "canary %zu (%s): the copy says %s, the source said %s before the copy",
                        r->canary_i + 1, c->query, v ? v : "NULL", want);
        add_check(r, "canary %s: %s %s %s", c->query, v ? v : "", !isnan(a) && !isnan(b) ? ">=" : "=", want);
        job_log(j, "canary %zu on the copy: %s (source %s): ok", r->canary_i + 1, v ? v : "", want);
    }
    conn_close(j->conn, NULL);
    if (++r->canary_i < r->req.conf.ncanaries)
        return go_canary(j, on_copy);
    r->canary_i = 0;
    return on_copy ? go_amcheck_or_stop(j) : begin(j);
}

/* clang-format off */
static const char CHECK_SQL[] =
    "SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp()::text,"
    " CASE WHEN $1 = '' THEN NULL ELSE pg_last_xact_replay_timestamp() <= $1::timestamptz END";
/* clang-format on */

static enum job_state check_result(struct job *j, struct rowset **rs, int nrs)
{
    struct rt *r = RT(j);
    if (nrs < 2 || rs[0]->error || rs[1]->error)
        return fail(j, PH_CHECK, "the checks failed: %s",
                    nrs && rs[0]->error           ? rs[0]->error
                        : nrs > 1 && rs[1]->error ? rs[1]->error
                                                  : "no answer");
    if (cell_bool(rowset_get(rs[0], 0, 0)))
        return fail(j, PH_CHECK, "the restored server is still in recovery");
    add_check(r, "out of recovery, accepting connections");
    if (r->req.conf.target_time) {
        const char *le = rowset_get(rs[0], 0, 2);
        if (le && !cell_bool(le))
            return fail(j, PH_CHECK, "recovery went past the target %s (last transaction %s)", r->req.conf.target_time,
                        rowset_get(rs[0], 0, 1));
        add_check(r, "recovery stopped at or before %s (last transaction %s)", r->req.conf.target_time,
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
            fail(j, PH_CHECK, "%zu database%s missing from the copy: %s", missing, missing == 1 ? "" : "s", miss.s);
        text_free(&miss);
        return s;
    }
    text_free(&miss);
    add_check(r, "all %zu databases of the source present", r->ndbs);
    job_log(j, "all %zu databases of the source are present", r->ndbs);
    conn_close(j->conn, NULL);
    if (r->req.conf.ncanaries) {
        r->canary_i = 0;
        return go_canary(j, true);
    }
    return go_amcheck_or_stop(j);
}

/* ------------------------------------------------------------------------------- the class */

static enum job_state rt_step(struct job *j, const struct job_event *ev)
{
    struct rt *r = RT(j);
    switch (ev->kind) {
    case JEV_START:
        phase_begin(r, PH_PREFLIGHT);
        r->step = RT_CONNECT;
        set_progress(j, "preflight");
        r->deadline_ms = now_ms() + r->req.conf.timeout_ms;
        job_set_timer(j, r->deadline_ms);
        job_log(j, "restore test of %s by %s from %s", r->req.server, r->req.conf.method, r->req.source);
        if (job_connect(j) < 0)
            return fail(j, PH_PREFLIGHT, "cannot connect to %s: %s", r->req.server, conn_error(j->conn));
        return JOB_RUNNING;
    case JEV_CONNECTED: {
        if (r->step == RT_CONNECT) {
            r->step = RT_PREFLIGHT;
            const char *sql[] = {PREFLIGHT_SQL, DBS_SQL};
            if (job_query(j, sql, 2, NULL, NULL) < 0)
                return fail(j, PH_PREFLIGHT, "cannot query %s: %s", r->req.server, conn_error(j->conn));
        } else if (r->step == RT_CANARY_SRC || r->step == RT_CANARY_DST) {
            const char *sql[] = {r->req.conf.canaries[r->canary_i].query};
            if (job_query(j, sql, 1, NULL, NULL) < 0)
                return fail(j, r->step == RT_CANARY_SRC ? PH_PREFLIGHT : PH_CHECK, "canary %zu: %s", r->canary_i + 1,
                            conn_error(j->conn));
        } else if (r->step == RT_CHECK) {
            r->retry_check = false;
            const char *sql[] = {CHECK_SQL, DBS_SQL};
            const char *t = r->req.conf.target_time ? r->req.conf.target_time : "";
            const char *p0[] = {t};
            const char *const *params[] = {p0, NULL};
            int np[] = {1, 0};
            if (job_query(j, sql, 2, np, params) < 0)
                return fail(j, PH_CHECK, "cannot query the restored server: %s", conn_error(j->conn));
        }
        return JOB_RUNNING;
    }
    case JEV_RESULTS:
        if (r->step == RT_PREFLIGHT) {
            enum job_state s = preflight(j, ev->rs, ev->nrs);
            if (s != JOB_RUNNING || r->step != RT_PREFLIGHT)
                return s;
            return begin(j);
        }
        if (r->step == RT_CANARY_SRC || r->step == RT_CANARY_DST)
            return canary_result(j, ev->rs, ev->nrs, r->step == RT_CANARY_DST);
        if (r->step == RT_CHECK)
            return check_result(j, ev->rs, ev->nrs);
        return JOB_RUNNING;
    case JEV_FAILED:
        if (r->step == RT_CONNECT || r->step == RT_PREFLIGHT || r->step == RT_CANARY_SRC)
            return fail(j, PH_PREFLIGHT, "%s: %s", r->req.server, ev->error);
        if (r->step == RT_CHECK &&
            (strstr(ev->error, "not accepting connections") || strstr(ev->error, "starting up") ||
             strstr(ev->error, "recovery mode"))) {
            /* pg_ctl says "started" once a recovering server runs; it accepts logins at the end */
            if (!r->retry_check)
                job_log(j, "recovery still running: waiting for the end of it");
            r->retry_check = true;
            set_progress(j, "recovering (replaying WAL)");
            job_set_timer(j, now_ms() + 500 < r->deadline_ms ? now_ms() + 500 : r->deadline_ms);
            return JOB_RUNNING;
        }
        if (r->step == RT_CHECK || r->step == RT_CANARY_DST)
            return fail(j, PH_CHECK, "the restored server: %s", ev->error);
        return JOB_RUNNING; /* a connection closed between steps */
    case JEV_OUTPUT: on_output(j, ev->line); return JOB_RUNNING;
    case JEV_EXITED: return on_exit_step(j, ev->status);
    case JEV_TIMER: {
        if (r->retry_check && now_ms() < r->deadline_ms) {
            r->retry_check = false;
            job_set_timer(j, r->deadline_ms);
            char *ci = copy_conninfo(r, r->ndbs ? r->dbs[0] : "postgres");
            int rc = job_connect_to(j, ci);
            free(ci);
            if (rc < 0)
                return fail(j, PH_CHECK, "cannot connect to the restored server: %s", conn_error(j->conn));
            r->retry_check = true; /* until it connects: a failure retries again */
            return JOB_RUNNING;
        }
        char t[32];
        return fail(j, r->phase >= 0 ? r->phase : PH_COPY, "timed out after %s (restore_test.timeout)",
                    fmt_age(t, sizeof t, (double)r->req.conf.timeout_ms / 1000));
    }
    case JEV_ABORT:
        if (!r->failed_phase[0] && r->phase >= 0)
            snprintf(r->failed_phase, sizeof r->failed_phase, "%s", phase_names[r->phase]);
        snprintf(r->error, sizeof r->error, "aborted by the user");
        teardown_now(j);
        if (r->intent)
            write_record(j, "aborted");
        snprintf(j->outcome, sizeof j->outcome, "aborted%s%s: nothing left behind", r->failed_phase[0] ? " at " : "",
                 r->failed_phase);
        j->progress[0] = '\0';
        return JOB_ABORTED;
    case JEV_CONFIRMED: return JOB_RUNNING;
    }
    return JOB_RUNNING;
}

static int rt_precheck(const struct job *j, struct text *why)
{
    const struct rt *r = j->priv;
    if (r->req.read_only) {
        text_add(why, "read-only: restore tests are disabled");
        return -1;
    }
    if (!r->req.records_path) {
        text_add(why, "no record file: HOME is not set and no home directory is known (set XDG_STATE_HOME)");
        return -1;
    }
    if (j->owner) {
        const struct job *o;
        TAILQ_FOREACH (o, &j->owner->list, entry)
            if (o != j && o->cls == &action_restore_test && o->state == JOB_RUNNING &&
                strcmp(o->server, j->server) == 0) {
                text_printf(why, "a restore test of this server is running already (job %u)", o->id);
                return -1;
            }
    }
    return 0;
}

static void rt_describe(const struct job *j, struct text *out)
{
    const struct rt *r = j->priv;
    char *srv = esc(r->req.server, 1), *src = esc(r->req.source, 1), *base = esc(scratch_base(r), 1);
    text_printf(out, "Restore test of %s by %s", srv, r->req.conf.method);
    if (strcmp(r->req.conf.method, "basebackup") == 0 || strcmp(r->req.conf.method, "logical") == 0)
        text_printf(out, ", copied from %s%s", src, strcmp(r->req.source, r->req.server) ? " (a replica)" : "");
    text_printf(out, ",\ninto a scratch directory under %s, started on a private socket, checked\n", base);
    text_printf(out, "(databases present%s%s), stopped and removed.\n", r->req.conf.ncanaries ? ", canary queries" : "",
                r->req.conf.amcheck ? ", pg_amcheck" : "");
    text_add(out, "It reads the whole server: expect load on the source while it copies.\n");
    free(srv);
    free(src);
    free(base);
}

static enum confirm rt_confirm(const struct job *j)
{
    (void)j;
    return CONFIRM_YN;
}

static void rt_cleanup(struct job *j)
{
    struct rt *r = j->priv;
    if (!r)
        return;
    if (r->scratch_made || r->started_server) /* freed while running: nothing left behind */
        teardown_now(j);
    free(r->superuser);
    for (size_t i = 0; i < r->ndbs; i++)
        free(r->dbs[i]);
    free(r->dbs);
    for (size_t i = 0; r->canary_src && i < r->req.conf.ncanaries; i++)
        free(r->canary_src[i]);
    free(r->canary_src);
    for (size_t i = 0; i < r->nchecks; i++)
        free(r->checks[i]);
    free(r->password);
    free(r);
    j->priv = NULL;
}

const struct action_class action_restore_test = {
    .name = "restore-test",
    .title = "Restore test",
    .risk = RISK_SAFE,
    .precheck = rt_precheck,
    .describe = rt_describe,
    .confirm = rt_confirm,
    .step = rt_step,
    .cleanup = rt_cleanup,
};

struct job *restore_test_new(struct jobs *js, const struct restore_request *req)
{
    struct job *j = job_new(js, &action_restore_test, req->server, req->conninfo);
    struct rt *r = xcalloc(1, sizeof *r);
    r->req = *req;
    r->phase = -1;
    j->priv = r;
    return j;
}

bool restore_test_running(const struct jobs *js, const char *server)
{
    const struct job *j;
    TAILQ_FOREACH (j, &js->list, entry)
        if (j->cls == &action_restore_test && j->state == JOB_RUNNING && (!server || strcmp(j->server, server) == 0))
            return true;
    return false;
}

bool restore_test_any_running(const struct jobs *js) { return restore_test_running(js, NULL); }

bool restore_test_recorded(const struct job *j)
{
    return j->cls == &action_restore_test && j->priv && ((const struct rt *)j->priv)->recorded;
}
