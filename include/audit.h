/* audit.h — the append-only audit log of actions: one JSON line per action, flushed before the
 * result is shown, in $XDG_STATE_HOME/pgfleet/audit.jsonl (0600). */
#ifndef PGFLEET_AUDIT_H
#define PGFLEET_AUDIT_H

#include <stdint.h>
#include <stdio.h>

struct job;

/* Look up who we are (OS user) once, before the loop: jobs_init calls it. */
void audit_identity_init(void);
/* The default path (malloc'd): $XDG_STATE_HOME/pgfleet/audit.jsonl or ~/.local/state/…. */
char *audit_default_path(void);
/* Append the job's line; returns 0, or -1 with the reason in err. */
int audit_append(const char *path, const struct job *j, char *err, size_t errlen);
/* The JSON line for a job, without the newline (malloc'd). */
char *audit_line(const struct job *j);
/* A stable fingerprint of a query: literals and white space normalised, hashed (16 hex). */
void query_fingerprint(const char *query, char out[17]);
/* `pgfleet audit [--since DURATION]`: print the log readably; since_ms 0 = all. */
int audit_print(const char *path, int64_t since_ms, FILE *out);

#endif
