/* restore_scratch.c — copies a killed pgfleet left behind. Each scratch directory holds an owner
 * file naming the pgfleet that made it (pid and the process's start time, so a reused pid is not
 * taken for it). The next restore test in the same scratch directory stops the copy of one whose
 * owner is gone (SIGQUIT to its postmaster, PostgreSQL's immediate shutdown) and removes it. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/job_proc.h"
#include "actions/restore_test.h"

#define OWNER_FILE "pgfleet.owner"

/* A process's start time in clock ticks since boot (field 22 of /proc/PID/stat); 0 if gone. */
static unsigned long long start_time(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long t = 0;
    for (int field = 2; p && *p && field < 22; p++)
        if (*p == ' ')
            field++;
    if (p)
        t = strtoull(p, NULL, 10);
    return t;
}

int restore_mark_owner(const char *scratch)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/" OWNER_FILE, scratch);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "%ld %llu\n", (long)getpid(), start_time((long)getpid()));
    return fclose(f) == 0 ? 0 : -1;
}

void restore_release_owner(const char *scratch)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/" OWNER_FILE, scratch);
    unlink(path);
}

/* The postmaster of data dir, if one runs: its pid from postmaster.pid, checked to be a process
 * whose working directory is that data directory (where a postmaster lives). */
static long running_postmaster(const char *data)
{
    char path[PATH_MAX + 32], cwd[PATH_MAX], real[PATH_MAX];
    snprintf(path, sizeof path, "%s/postmaster.pid", data);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    if (pid <= 0 || !realpath(data, real))
        return 0;
    snprintf(path, sizeof path, "/proc/%ld/cwd", pid);
    ssize_t n = readlink(path, cwd, sizeof cwd - 1);
    if (n <= 0)
        return 0;
    cwd[n] = '\0';
    return strcmp(cwd, real) == 0 ? pid : 0;
}

/* Stop every process whose command line names dir (a tool the dead pgfleet started: a child of
 * pg_basebackup streaming WAL outlives its parent). The directory's name is random: nothing else
 * names it. Returns how many were signalled. */
static int stop_users_of(const char *dir)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    long pids[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 1 || pid == (long)getpid())
            continue;
        char path[64], buf[4096];
        snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t i = 0; i < len; i++)
            if (!buf[i])
                buf[i] = ' ';
        buf[len] = '\0';
        if (strstr(buf, dir))
            pids[n++] = pid;
    }
    closedir(d);
    for (int i = 0; i < n; i++)
        kill((pid_t)pids[i], SIGTERM);
    for (int t = 0; t < 100; t++) {
        bool any = false;
        for (int i = 0; i < n; i++)
            any |= kill((pid_t)pids[i], 0) == 0 && start_time(pids[i]) != 0;
        if (!any)
            break;
        usleep(20 * 1000);
    }
    for (int i = 0; i < n; i++)
        kill((pid_t)pids[i], SIGKILL);
    return n;
}

int restore_sweep_stale(const char *base, struct text *log)
{
    DIR *d = opendir(base);
    if (!d)
        return 0;
    int swept = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "pgfleet-rt-", 11) != 0)
            continue;
        char dir[PATH_MAX], owner[PATH_MAX + 32], data[PATH_MAX + 16];
        snprintf(dir, sizeof dir, "%s/%s", base, e->d_name);
        snprintf(owner, sizeof owner, "%s/" OWNER_FILE, dir);
        FILE *f = fopen(owner, "r");
        long pid = 0;
        unsigned long long started = 0;
        if (!f)
            continue; /* not ours to judge: no owner file */
        if (fscanf(f, "%ld %llu", &pid, &started) != 2)
            pid = 0;
        fclose(f);
        if (pid <= 0 || (start_time(pid) == started && started != 0))
            continue; /* its pgfleet still runs: its copy is in use */
        snprintf(data, sizeof data, "%s/data", dir);
        long pm = running_postmaster(data);
        if (pm > 0) {
            kill((pid_t)pm, SIGQUIT);
            for (int i = 0; i < 250 && kill((pid_t)pm, 0) == 0; i++)
                usleep(20 * 1000);
        }
        int tools = stop_users_of(dir);
        const char *argv[] = {"rm", "-rf", "--", dir, NULL};
        struct proc_spec s = {.argv = argv, .cwd = "/"};
        int st = proc_run_sync(&s, 300000, NULL);
        text_printf(log, "%s: left by pgfleet pid %ld, which is gone:%s%s %s\n", dir, pid,
                    pm > 0 ? " its copy stopped," : "", tools ? " its tools stopped," : "",
                    st == 0 ? "removed" : "could not be removed");
        swept++;
    }
    closedir(d);
    return swept;
}
