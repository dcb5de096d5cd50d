/* job_proc.h — the child processes a job runs (a tool such as pg_basebackup, a scratch server's
 * pg_ctl, a hook): each in its own process group, stdin from /dev/null, stdout and stderr into
 * one pipe the loop reads without blocking. The job hands each line to its action (JEV_OUTPUT)
 * and, once the pipe is at its end and the child reaped, the exit (JEV_EXITED). */
#ifndef PGFLEET_JOB_PROC_H
#define PGFLEET_JOB_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/util.h"

/* How to start a child. Everything is prepared before fork: the child only calls what is safe
 * there (pgfleet has threads: asynchronous DNS). */
struct proc_spec {
    const char *const *argv; /* argv[0]: a path, or a name looked up in PATH */
    const char *const *env;  /* "NAME=value" set for the child (NULL-terminated; may be NULL) */
    const char *cwd;         /* NULL: "/" */
    bool as_user;            /* switch to uid/gid first (pgfleet runs as root) */
    uid_t uid;
    gid_t gid;
};

struct job_proc {
    pid_t pid; /* 0: none started */
    int fd;    /* the pipe's read end; -1 once at its end */
    bool reaped;
    int status;          /* wait status, once reaped */
    int64_t reaped_ms;   /* when it was reaped (a pipe still open after that is given up) */
    struct text partial; /* the line being read */
    char name[48];       /* the program's name, for messages */
};

void proc_init(struct job_proc *p);
/* Start it; -1 with the reason in err. */
int proc_spawn(struct job_proc *p, const struct proc_spec *s, char *err, size_t errlen);
/* Read what is there without blocking; on_line gets each line ended by \n or \r (progress
 * meters end theirs with \r), at most 4096 bytes each. Returns true once at the end of the pipe. */
bool proc_read(struct job_proc *p, void (*on_line)(void *ctx, const char *line), void *ctx);
/* Reap the child if it exited (never blocks); true once reaped. */
bool proc_reap(struct job_proc *p);
/* Whether it is done: reaped, and the pipe at its end or given up (a grandchild that kept it
 * open for longer than a second after the child's exit). */
bool proc_done(struct job_proc *p, int64_t now);
/* Stop the whole process group: SIGTERM, up to grace_ms for the child to exit, then SIGKILL to
 * the group; reaps it. Blocks, bounded by grace_ms plus a moment. */
void proc_kill(struct job_proc *p, int grace_ms);
/* Close the pipe and forget the child (after it was reaped or killed). */
void proc_close(struct job_proc *p);
/* A short description of an exit status: "exit status 1", "killed by signal 9". */
void proc_status_text(int status, char *out, size_t len);
/* Run a command to its end, blocking, bounded by timeout_ms (then killed): for clean-up on the
 * way out (stop a scratch server). Its output is appended to out (may be NULL). Returns the wait
 * status, or -1 if it could not start or was killed for the timeout. */
int proc_run_sync(const struct proc_spec *s, int timeout_ms, struct text *out);

#endif
