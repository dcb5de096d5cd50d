/* job_proc.c — starting, reading, reaping and stopping a job's child processes (job_proc.h).
 * The child gets its own process group, so stopping it stops what it started too (pg_basebackup's
 * WAL streamer, a hook's pipeline). */
#include "actions/job_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define PROC_LINE_MAX 4096
#define PROC_PIPE_GRACE_MS 1000

void proc_init(struct job_proc *p)
{
    memset(p, 0, sizeof *p);
    p->fd = -1;
    text_init(&p->partial);
}

/* The environment for the child: ours with spec's entries set (replacing ours of that name). */
static char **child_env(const struct proc_spec *s)
{
    size_t n = 0, extra = 0;
    while (environ[n])
        n++;
    while (s->env && s->env[extra])
        extra++;
    char **env = xcalloc(n + extra + 1, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool replaced = false;
        for (size_t e = 0; e < extra && !replaced; e++) {
            size_t len = strcspn(s->env[e], "=");
            replaced = strncmp(environ[i], s->env[e], len) == 0 && environ[i][len] == '=';
        }
        if (!replaced)
            env[k++] = environ[i];
    }
    for (size_t e = 0; e < extra; e++)
        env[k++] = (char *)s->env[e];
    return env;
}

/* In the child, between fork and exec: only async-signal-safe calls. Reports a failure on the
 * pipe (its stdout) and exits 127. */
static void child(const struct proc_spec *s, int out, char **env, pid_t parent)
{
    setpgid(0, 0);
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        _exit(127);
    close_range(3, ~0U, 0);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    const char *what = "chdir";
    if (chdir(s->cwd ? s->cwd : "/") < 0)
        goto fail;
    if (s->as_user) {
        what = "switch user";
        if (setgroups(1, &s->gid) < 0 || setgid(s->gid) < 0 || setuid(s->uid) < 0)
            goto fail;
    }
    /* the tool dies with pgfleet (kill -9 included), not on after it: set after the user switch,
     * which clears it; a parent gone already means now */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127);
    what = "exec";
    execvpe(s->argv[0], (char *const *)s->argv, env);
fail:;
    int e = errno;
    /* a message the parent logs as the child's output: "pgfleet: exec pg_basebackup: ..." */
    const char *parts[] = {"pgfleet: ", what, " ", s->argv[0], ": ", strerror(e), "\n"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        if (write(1, parts[i], strlen(parts[i])) < 0)
            break;
    _exit(127);
}

int proc_spawn(struct job_proc *p, const struct proc_spec *s, char *err, size_t errlen)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    char **env = child_env(s);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        free(env);
        return -1;
    }
    if (pid == 0)
        child(s, fds[1], env, parent);
    free(env);
    close(fds[1]);
    setpgid(pid, pid); /* also here: no race with a kill sent before the child ran */
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    text_free(&p->partial);
    proc_init(p);
    p->pid = pid;
    p->fd = fds[0];
    const char *base = strrchr(s->argv[0], '/');
    snprintf(p->name, sizeof p->name, "%s", base ? base + 1 : s->argv[0]);
    return 0;
}

static void flush_line(struct job_proc *p, void (*on_line)(void *, const char *), void *ctx)
{
    if (p->partial.len && on_line)
        on_line(ctx, p->partial.s);
    text_free(&p->partial);
    text_init(&p->partial);
}

bool proc_read(struct job_proc *p, void (*on_line)(void *ctx, const char *line), void *ctx)
{
    if (p->fd < 0)
        return true;
    char buf[4096];
    for (int rounds = 0; rounds < 16; rounds++) { /* a bounded share of the loop's turn */
        ssize_t n = read(p->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return false;
        if (n <= 0) {
            flush_line(p, on_line, ctx);
            close(p->fd);
            p->fd = -1;
            return true;
        }
        for (ssize_t i = 0; i < n; i++) {
            char c = buf[i];
            if (c == '\n' || c == '\r')
                flush_line(p, on_line, ctx);
            else if (p->partial.len < PROC_LINE_MAX)
                text_addn(&p->partial, &c, 1);
        }
    }
    return false;
}

bool proc_reap(struct job_proc *p)
{
    if (!p->pid || p->reaped)
        return p->reaped;
    int st;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid || (r < 0 && errno == ECHILD)) {
        p->reaped = true;
        p->status = r == p->pid ? st : -1;
        p->reaped_ms = now_ms();
    }
    return p->reaped;
}

bool proc_done(struct job_proc *p, int64_t now)
{
    if (!proc_reap(p))
        return false;
    if (p->fd >= 0 && now - p->reaped_ms >= PROC_PIPE_GRACE_MS) {
        close(p->fd); /* a grandchild kept our pipe: what it writes now is not this step's */
        p->fd = -1;
    }
    return p->fd < 0;
}

void proc_kill(struct job_proc *p, int grace_ms)
{
    if (!p->pid)
        return;
    if (!p->reaped) {
        kill(-p->pid, SIGTERM);
        for (int waited = 0; waited < grace_ms && !proc_reap(p); waited += 20)
            usleep(20 * 1000);
    }
    kill(-p->pid, SIGKILL); /* the group: whatever the child left behind */
    for (int waited = 0; waited < 2000 && !proc_reap(p); waited += 10)
        usleep(10 * 1000);
}

void proc_close(struct job_proc *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    p->pid = 0;
    p->reaped = false;
    text_free(&p->partial);
    text_init(&p->partial);
}

void proc_status_text(int status, char *out, size_t len)
{
    if (status < 0)
        snprintf(out, len, "status unknown");
    else if (WIFEXITED(status))
        snprintf(out, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, len, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(out, len, "wait status %d", status);
}

static void add_line(void *ctx, const char *line)
{
    if (ctx) {
        text_add(ctx, line);
        text_add(ctx, "\n");
    }
}

int proc_run_sync(const struct proc_spec *s, int timeout_ms, struct text *out)
{
    struct job_proc p;
    proc_init(&p);
    char err[256];
    if (proc_spawn(&p, s, err, sizeof err) < 0) {
        if (out)
            text_printf(out, "%s\n", err);
        text_free(&p.partial);
        return -1;
    }
    int64_t end = now_ms() + timeout_ms;
    while (!proc_done(&p, now_ms()) && now_ms() < end) {
        proc_read(&p, add_line, out);
        usleep(20 * 1000);
    }
    proc_read(&p, add_line, out);
    bool timed_out = !p.reaped;
    if (timed_out)
        proc_kill(&p, 200);
    int st = timed_out ? -1 : p.status;
    proc_close(&p);
    text_free(&p.partial);
    return st;
}
