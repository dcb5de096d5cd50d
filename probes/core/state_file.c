/* state_file.c — pgfleet's own files under $XDG_STATE_HOME/pgfleet: their place, and a line
 * appended the careful way (state_file.h). The audit log and the record of restore tests use it. */
#include "core/state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

char *state_file_path(const char *name)
{
    const char *state = getenv("XDG_STATE_HOME");
    if (state && state[0] == '/')
        return xasprintf("%s/pgfleet/%s", state, name);
    const char *home = getenv("HOME");
    if (!home || home[0] != '/') {
        struct passwd *pw = getpwuid(getuid());
        home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
    }
    if (!home)
        return NULL;
    return xasprintf("%s/.local/state/pgfleet/%s", home, name);
}

/* Make a new file's name durable: fsync the directory that holds it. */
static int sync_dir_of(const char *path)
{
    char *d = xstrdup(path);
    char *slash = strrchr(d, '/');
    if (slash)
        *(slash == d ? slash + 1 : slash) = '\0';
    int fd = open(slash ? d : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(d);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* mkdir -p for the log's directory, private to the user (it names servers and queries). */
static int make_dirs(const char *path)
{
    char *d = xstrdup(path);
    for (char *p = d + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(d, 0700) == 0) {
            sync_dir_of(d); /* the new directory's name, durable in its parent */
        } else if (errno != EEXIST) {
            free(d);
            return -1;
        }
        *p = '/';
    }
    free(d);
    return 0;
}

/* Open the log for appending, refusing what an attacker or an accident could put at the path:
 * a symbolic link, a file that is not regular, or someone else's file. An existing file that
 * others can read is made 0600. */
static int open_log(const char *path, char *err, size_t errlen)
{
    const int flags = O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
    bool created = false;
    int fd = open(path, flags);
    if (fd < 0 && errno == ENOENT) {
        if (make_dirs(path) < 0) {
            snprintf(err, errlen, "%s: cannot create its directory: %s", path, strerror(errno));
            return -1;
        }
        fd = open(path, flags | O_CREAT | O_EXCL, 0600);
        created = fd >= 0;
        if (fd < 0 && errno == EEXIST) /* another pgfleet made it just now */
            fd = open(path, flags);
    }
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, errno == ELOOP ? "is a symbolic link: refused" : strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        snprintf(err, errlen, "%s: %s", path,
                 !S_ISREG(st.st_mode) ? "not a regular file: refused" : "owned by another user: refused");
        close(fd);
        return -1;
    }
    if ((st.st_mode & 077) && fchmod(fd, 0600) < 0) {
        snprintf(err, errlen, "%s: cannot make it private (0600): %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (created && sync_dir_of(path) < 0) {
        snprintf(err, errlen, "%s: cannot sync its directory: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* write() all of buf, retrying short writes and interruptions. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

int state_file_append(const char *path, const char *line, char *err, size_t errlen)
{
    int fd = open_log(path, err, errlen);
    if (fd < 0)
        return -1;
    int rc = -1;
    /* A line left without its newline (a disk that filled up mid-write, a crash) must not
     * swallow this one: start on a line of our own. */
    struct stat st;
    char last = '\n';
    if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
        last = '\n';
    struct text t;
    text_init(&t);
    if (last != '\n')
        text_add(&t, "\n");
    text_add(&t, line);
    text_add(&t, "\n");
    /* One write() of the whole line when it fits (O_APPEND keeps concurrent pgfleets from
     * interleaving); a short one is continued, and a failure ends the line if it can. */
    if (write_all(fd, t.s, t.len) < 0) {
        int e = errno;
        if (write(fd, "\n", 1) < 0) {
            /* nothing more to do: the next line starts with a newline */
        }
        snprintf(err, errlen, "%s: %s", path, strerror(e));
    } else if (fdatasync(fd) < 0) {
        snprintf(err, errlen, "%s: cannot flush to disk: %s", path, strerror(errno));
    } else {
        rc = 0;
    }
    text_free(&t);
    close(fd);
    return rc;
}
