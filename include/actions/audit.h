/* audit.h — the append-only audit log of actions, in $XDG_STATE_HOME/pgfleet/audit.jsonl (0600):
 * per action an intent record on disk before anything is sent and an outcome record before the
 * result is shown, JSON lines tied by "id". */
#ifndef PGFLEET_AUDIT_H
#define PGFLEET_AUDIT_H

#include <stdint.h>
#include <stdio.h>

struct job;

/* Look up who we are (OS user) once, before the loop: jobs_init calls it. */
void audit_identity_init(void);
/* The default path (malloc'd): $XDG_STATE_HOME/pgfleet/audit.jsonl or ~/.local/state/…; NULL
 * when there is no home directory (never a shared place such as /tmp). */
char *audit_default_path(void);
/* Append the job's record ("intent" or "outcome") and flush it to disk; returns 0, or -1 with
 * the reason in err. The file must be the user's own regular file (no symbolic link). */
int audit_append(const char *path, const struct job *j, const char *record, char *err, size_t errlen);
/* The JSON record for a job, without the newline (malloc'd). */
char *audit_line(const struct job *j, const char *record);
/* A stable fingerprint of a query: literals and white space normalised, hashed (16 hex). */
void query_fingerprint(const char *query, char out[17]);
/* `pgfleet audit [--since DURATION]`: print the log readably; since_ms 0 = all. */
int audit_print(const char *path, int64_t since_ms, FILE *out);

#endif
