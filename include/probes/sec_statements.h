/* sec_statements.h — the statements probe's section (PROBE_STATEMENTS): every pg_stat_statements
 * entry's counters, kept sorted by its key so two samples merge in one pass, and the rates over
 * the interval between them (the Statements pane ranks by those, never by lifetime totals). */
#ifndef PGFLEET_SEC_STATEMENTS_H
#define PGFLEET_SEC_STATEMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/model.h"
#include "probes/sample.h"

/* Texts are fetched for the entries with the most lifetime time only (the others' texts are
 * most of the bytes and are rarely looked at), cut at this many characters. */
#define STMT_TEXT_TOP 200
#define STMT_TEXT_CHARS 1000
/* Texts of busy entries outside that top are carried from the previous sample, for at most this
 * many entries (busiest first), so memory stays bounded when thousands of entries are busy. */
#define STMT_CARRY_MAX 300

struct stmt_row {
    /* pg_stat_statements' key, with names in place of oids. queryid is NULL for other users'
     * entries without pg_read_all_stats: those are summed into one row per database and user. */
    long long queryid;
    bool has_queryid;
    bool toplevel; /* false: run inside a function (pg_stat_statements.track = all) */
    char *datname, *rolname;
    /* counters since the entry was created or pg_stat_statements was reset */
    int64_t calls, rows, hit, read, temp;
    double total_ms, max_ms; /* max is the lifetime maximum: the view keeps no other */
    char *query;             /* raw server text; NULL when not fetched */
    bool query_cut;          /* cut at STMT_TEXT_CHARS characters */
    int merged;              /* how many entries this row sums (>1 only without a queryid) */
    /* an entry that may be one of our own statements (of our own role, or with conn.c's mark)
     * and the beginning of its text, until statements_drop_own has told (then NULL) */
    bool maybe_own;
    char *head;
    /* over the interval (derive); NAN when unknown: first sample, reset, re-created entry */
    double calls_s, load_ms_s, mean_ms, rows_s, hit_s, read_s, temp_s, hit_pct;
};

struct s_statements {
    double epoch;          /* server clock of this sample, Unix seconds */
    char *stats_reset;     /* pg_stat_statements_info.stats_reset (14+), else NULL */
    struct stmt_row *rows; /* sorted by key */
    size_t n;
    /* derive's results */
    bool derived; /* a previous sample existed: rates were computed */
    bool reset;   /* pg_stat_statements was reset during the interval: no rates */
    double dt;    /* the interval, seconds (NAN before two samples) */
    size_t *top;  /* rows active over the interval, busiest (load) first */
    size_t ntop;
};

#define SAMPLE_STATEMENTS(s) ((const struct s_statements *)((s) ? (s)->sec[PROBE_STATEMENTS] : NULL))

/* Leaves out of s the entries that are our own statements: that may be (maybe_own) and have the
 * shape of one of texts (what pgfleet sends to that server: probe_texts), whatever the version
 * kept of the text (own_statements.h). Another session of the same role and database running a
 * statement of that shape is in the same entry: it goes with ours. */
void statements_drop_own(struct s_statements *s, const char *const *texts, size_t n);

/* Why this server has no statement figures to show, as one line of raw text, or NULL when it
 * has them: not installed (with how to install it), the probe's error, or still collecting. */
const char *statements_unavailable(const struct model *m, const struct server *s);

#endif
