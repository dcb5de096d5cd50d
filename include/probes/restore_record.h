/* restore_record.h — the record of restore tests: one JSON line per run in
 * $XDG_STATE_HOME/pgfleet/restore_tests.jsonl (0600, in a 0700 directory), appended by the
 * restore-test action (and `pgfleet restore-test` from cron); read back into a book that says,
 * per server, when its backups last restored well and whether the last run failed. Health judges
 * that, the Fleet pane and the snapshot show it, `pgfleet restore-test --history` prints it.
 * The file is untrusted input (anyone may edit it): lines and sizes are capped, a line that does
 * not parse is skipped and counted, never fatal. */
#ifndef PGFLEET_RESTORE_RECORD_H
#define PGFLEET_RESTORE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Limits of the reader: longer lines are skipped; of a bigger file only the newest (last) part is
 * read; servers past the cap are left out (and counted as skipped). */
#define RESTORE_LINE_MAX (64 * 1024)
#define RESTORE_FILE_MAX (16 * 1024 * 1024)
#define RESTORE_SERVERS_MAX 4096

/* $XDG_STATE_HOME/pgfleet/restore_tests.jsonl, else ~/.local/state/pgfleet/restore_tests.jsonl
 * (malloc'd); NULL when there is no home directory (never a shared place such as /tmp). */
char *restore_records_default_path(void);

struct restore_phase {
    const char *name;
    double seconds;
};

/* One run, as the action hands it to the writer. Strings may be NULL (written as null). */
struct restore_run {
    const char *server;       /* the config name of the server the test is for */
    const char *method;       /* "basebackup", "logical", "pgbackrest", "hook", … */
    const char *source;       /* the server the backup came from (a replica of it, or itself) */
    const char *outcome;      /* "ok", "failed" or "aborted" */
    const char *failed_phase; /* NULL when ok */
    const char *error;        /* NULL when ok; cut to RESTORE_ERROR_MAX bytes */
    const char *audit_id;     /* ties it to the audit log, may be NULL */
    time_t started;
    double rto_s;  /* start to a restored, checked server; NAN if not reached */
    int64_t bytes; /* -1 unknown */
    const struct restore_phase *phases;
    size_t nphases;
    const char *const *checks; /* one line per check done, e.g. "canary orders: 1200 >= 1200" */
    size_t nchecks;
};
#define RESTORE_ERROR_MAX 2000

/* The JSON line for a run, without the newline (malloc'd), NULL if it cannot be encoded. */
char *restore_record_line(const struct restore_run *r);
/* Append one JSON line and flush it to disk (fdatasync). Creates the directory (0700) and the
 * file (0600); an existing file others may read is made 0600; a symbolic link, a file that is
 * not regular or someone else's file is refused. Returns 0, or -1 with the reason in err. */
int restore_record_append(const char *path, const struct restore_run *r, char *err, size_t errlen);

/* Per server, what the records say. Times are epoch seconds, 0 when there is none. */
struct restore_status {
    bool any;             /* at least one run recorded */
    time_t last_ok;       /* start of the newest run that ended ok */
    time_t last_run;      /* start of the newest run, whatever its outcome */
    bool last_failed;     /* the newest run that was not aborted failed */
    char last_outcome[8]; /* of the newest run: "ok", "failed", "aborted" ("?" otherwise) */
    char method[32];      /* of the newest run (raw text: escape before showing) */
    char error[160];      /* of the newest failed run when last_failed (raw text), else "" */
    double last_ok_rto_s; /* the RTO measured by the newest good run, NAN if unknown */
};

/* All records, read once: per server its restore_status. */
struct restore_book;

/* Load the file: NULL with err set only on a read error; a missing file is a book without
 * records (not an error). */
struct restore_book *restore_book_load(const char *path, char *err, size_t errlen);
/* The same from memory (the fuzz target, the tests): text of len bytes, lines as in the file. */
struct restore_book *restore_book_parse(const char *text, size_t len);
/* The server's status, NULL when no record names it (or book is NULL). */
const struct restore_status *restore_book_get(const struct restore_book *b, const char *server);
/* How many servers have records; how many lines were skipped (garbage, too long, past a cap). */
size_t restore_book_servers(const struct restore_book *b);
size_t restore_book_skipped(const struct restore_book *b);
void restore_book_free(struct restore_book *b);

/* `pgfleet restore-test --history [SERVER]`: one line per run (all servers, or SERVER's), in the
 * file's order (newest last), every string escaped; json: the records themselves, one compact
 * JSON object per line (re-encoded as ASCII: safe on a terminal). Returns 0, 1 when no record
 * matched (a missing file included; a line says so), 2 on a read error (told on stderr). */
int restore_history_print(const char *path, const char *server, bool json, FILE *out);

#endif
