/* restore_job.c — the restore-test job's state: its phases timed, its checks and progress, the
 * tools it runs (as the configured user, with the passfile), the record it writes at the end, and
 * how it ends: a failure tears down as steps (stop the copy, remove the scratch directory), an
 * abort or a quit at once (bounded). */
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

const char *const rt_phase_names[PH_N] = {"preflight", "copy", "verify", "start", "check", "amcheck", "stop", "clean"};

/* ---------------------------------------------------------------------------------- helpers */

void rt_phase_begin(struct rt *r, int ph)
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

void rt_add_check(struct rt *r, const char *fmt, ...)
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

void rt_set_progress(struct job *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->progress, sizeof j->progress, fmt, ap);
    va_end(ap);
}

/* Write a small file the scratch server reads, owned by the user it runs as. */
int rt_write_file(struct rt *r, const char *path, const char *content, mode_t mode)
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

int rt_make_dir(struct rt *r, const char *path)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -1;
    return r->as_user && chown(path, r->uid, r->gid) < 0 ? -1 : 0;
}

/* A free TCP port number (the copy listens on a socket file only; the number names the file,
 * and a free one keeps it from looking like a server of this machine). */
int rt_free_port(void)
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

const char *rt_scratch_base(const struct rt *r)
{
    if (r->req.conf.scratch_dir)
        return r->req.conf.scratch_dir;
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/var/tmp";
}

/* The spec of a child: as the configured user, with the passfile when there is a password. */
int rt_spawn(struct job *j, const char *const *argv, const char *what)
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

void rt_tool(const struct rt *r, const char *name, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", r->bindir, name);
}

/* ----------------------------------------------------------------------------- record, end */

void rt_write_record(struct job *j, const char *outcome)
{
    struct rt *r = RT(j);
    if (r->recorded)
        return;
    r->recorded = true;
    rt_phase_begin(r, -1);
    struct restore_phase ph[PH_N];
    size_t n = 0;
    for (int i = 0; i < PH_N; i++)
        if (r->ph_ms[i] > 0 || i == PH_PREFLIGHT)
            ph[n++] = (struct restore_phase){rt_phase_names[i], (double)r->ph_ms[i] / 1000};
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
void rt_teardown_now(struct job *j)
{
    struct rt *r = RT(j);
    proc_kill(&j->proc, 1000);
    proc_close(&j->proc);
    if (r->started_server) {
        char ctl[600];
        rt_tool(r, "pg_ctl", ctl, sizeof ctl);
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

enum job_state rt_finish_ok(struct job *j)
{
    struct rt *r = RT(j);
    rt_write_record(j, "ok");
    char rto[32], b[32];
    snprintf(j->outcome, sizeof j->outcome, "restored and checked in %s (%s)",
             fmt_age(rto, sizeof rto, (double)(r->checked_ms - j->started_ms) / 1000),
             r->bytes > 0 ? fmt_bytes(b, sizeof b, (double)r->bytes) : r->req.conf.method);
    j->progress[0] = '\0';
    return JOB_DONE;
}

enum job_state rt_finish_failed(struct job *j)
{
    struct rt *r = RT(j);
    rt_write_record(j, "failed");
    snprintf(j->outcome, sizeof j->outcome, "FAILED at %s: %.200s", r->failed_phase, r->error);
    j->progress[0] = '\0';
    return JOB_FAILED;
}

/* A failure: say where and why, then stop and remove what was made (the stop and removal run as
 * steps, the screen keeps refreshing). */
enum job_state rt_fail(struct job *j, int ph, const char *fmt, ...)
{
    struct rt *r = RT(j);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    if (!r->failing) {
        snprintf(r->failed_phase, sizeof r->failed_phase, "%s", rt_phase_names[ph]);
        job_log(j, "FAILED at %s: %s", rt_phase_names[ph], r->error);
    }
    r->failing = true;
    if (j->proc.pid && !j->proc.reaped) {
        proc_kill(&j->proc, 1000);
        proc_close(&j->proc);
    }
    if (r->started_server)
        return rt_go_stop(j);
    return rt_go_clean(j);
}
