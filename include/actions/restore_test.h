/* restore_test.h — the restore-test action: prove that a server's backups restore, and measure
 * how long it takes (the RTO). A job copies the server by one method (basebackup, logical,
 * pgbackrest, hook) into a scratch directory, starts the copy on a private socket, checks it,
 * stops it, removes it, and records the run (probes/restore_record.h). The pure helpers below
 * (progress, quoting, placeholders, binaries) are unit-tested. */
#ifndef PGFLEET_RESTORE_TEST_H
#define PGFLEET_RESTORE_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions/job.h"
#include "core/config.h"

/* What a restore test starts from. The strings are borrowed: they must outlive the job. */
struct restore_request {
    const char *server;          /* the config name: the record is filed under it */
    const char *conninfo;        /* the server's (never shown: may hold a password) */
    const char *source;          /* the server copied from: the server itself, or a replica of it */
    const char *source_conninfo; /* the source's */
    struct restore_conf conf;    /* restore_conf_resolve() for the server */
    const char *records_path;    /* the record file; NULL: none can be written (refused) */
    bool read_only;              /* --read-only: refused */
};

extern const struct action_class action_restore_test;

/* A new pending restore-test job (start it with job_start). */
struct job *restore_test_new(struct jobs *js, const struct restore_request *r);
/* Whether a restore test of this server is running in js (one at a time per server). */
bool restore_test_running(const struct jobs *js, const char *server);
/* Whether any job in js is a running restore test (quitting asks first). */
bool restore_test_any_running(const struct jobs *js);
/* Call after the job ends: the record it wrote is then to be re-read by the model. */
bool restore_test_recorded(const struct job *j);

/* The server a restore test of server idx copies from (an index into m->servers): its
 * restore_test.source, else its least-lagging replica that is up, else itself. */
struct model;
size_t restore_pick_source(const struct model *m, size_t idx);

/* Copies a killed pgfleet left in the scratch directory base (restore_scratch.c): each one whose
 * owner (restore_mark_owner) is gone is stopped and removed, and said so in log. Returns how many. */
int restore_sweep_stale(const char *base, struct text *log);
/* Name this pgfleet process as the owner of a scratch directory; release it (a copy kept on
 * failure is the user's to look at, not a stale one to sweep). */
int restore_mark_owner(const char *scratch);
void restore_release_owner(const char *scratch);

/* ---- pure helpers ---- */

/* A progress figure in a tool's line: pg_basebackup -P's "1234/5678 kB (21%)" (done and total
 * in bytes), or any "NN%" / "NN.N%" (pgBackRest's "(1.2MB, 45.03%)"). Returns true if found;
 * done/total are -1 when the line has none. */
bool restore_progress(const char *line, double *pct, int64_t *done, int64_t *total);
/* A string quoted for /bin/sh: '...' with each ' written '\''. malloc'd. */
char *shell_quote(const char *s);
/* A hook's command with each {name} replaced by its value, shell-quoted; an unknown {word} is
 * left as it is. malloc'd. */
char *hook_expand(const char *tmpl, const char *const *names, const char *const *values, size_t n);
/* Whether a path is plain enough to go into pg_ctl's -o options and a conninfo unquoted:
 * absolute, of A-Z a-z 0-9 / _ . - only. */
bool restore_path_plain(const char *p);
/* Where PostgreSQL's binaries of a major are: the config's bindir (its "{major}" replaced), else
 * the Debian and the PGDG RPM places. Fills out and returns 0 when pg_ctl is there, else -1
 * with what was looked at in why. */
int restore_find_bindir(const char *tmpl, int major, char *out, size_t len, char *why, size_t whylen);

#endif
