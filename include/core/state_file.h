/* state_file.h — pgfleet's own files under $XDG_STATE_HOME/pgfleet (the audit log, the record of
 * restore tests): where they are, and how a line is appended to one safely. */
#ifndef PGFLEET_STATE_FILE_H
#define PGFLEET_STATE_FILE_H

#include <stddef.h>

/* $XDG_STATE_HOME/pgfleet/NAME, else ~/.local/state/pgfleet/NAME (malloc'd); NULL when there is no
 * home directory (never a shared place such as /tmp: anyone could plant the file there first). */
char *state_file_path(const char *name);

/* Append one line (without its newline) and flush it to disk. The directories are made 0700; the
 * file is made 0600, and an existing one others may read is made so; a symbolic link, a file
 * that is not regular or someone else's file is refused. A line left without its newline (a
 * disk that filled up mid-write, a crash) does not swallow this one. Returns 0, or -1 with the
 * reason in err. */
int state_file_append(const char *path, const char *line, char *err, size_t errlen);

#endif
