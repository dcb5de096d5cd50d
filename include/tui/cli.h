/* cli.h — the command line read into words: the command, its options (anywhere on the line, as
 * with git or kubectl) checked against the table of which option goes with which command, and
 * the servers named by the remaining words. Pure (no I/O): tests/unit/test_cli.c. */
#ifndef PGFLEET_CLI_H
#define PGFLEET_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"
#include "tui/cli_actions.h"

enum cli_cmd { CLI_MONITOR, CLI_SNAPSHOT, CLI_CANCEL, CLI_TERMINATE, CLI_AUDIT, CLI_RESTORE_TEST, CLI_BATCH };

struct cli_line {
    struct cli o; /* what the commands read (tui/cli_actions.h) */
    enum cli_cmd cmd;
    const char *cmd_name; /* "snapshot", …; NULL for the monitor */
    const char *timeout;
    const char **tags; /* --tag, repeatable */
    size_t ntags;
    char **args; /* the words after the command, pointing into argv (SERVER... or SERVER PID) */
    int nargs;
    bool help, version;
};

/* Read argv. Returns 0, or -1 with one line "pgfleet: …\n" in err: an unknown option or command
 * (with a "did you mean"), an option that does not apply to the command, a value option given
 * twice or without its value, a word that names no server. -h and -V win over the rest. */
int cli_parse(struct cli_line *cl, int argc, char **argv, struct text *err);
void cli_line_free(struct cli_line *cl);

/* What a word naming a server is: a conninfo ("=" or "://"), a bare host name (db1,
 * db1.example.com, 10.0.0.1, ::1, or a socket directory /run/postgresql), a misspelt command
 * (no dot, colon or slash, and as close to a command name as nearest_word allows: *near names
 * it), or none of these. */
enum word_kind { WORD_CONNINFO, WORD_HOST, WORD_MISSPELT_COMMAND, WORD_BAD };
enum word_kind cli_word_kind(const char *w, const char **near);
/* The conninfo of a bare host name: host='db1' (quoted as libpq wants). malloc'd. */
char *cli_host_conninfo(const char *host);

/* The ranges of -d (and of the +/- keys, the config's refresh) and of --timeout (the config's). */
#define REFRESH_MIN_MS 100
#define REFRESH_MAX_MS 3600000
#define TIMEOUT_MIN_MS 100
#define TIMEOUT_MAX_MS 3600000
/* Parse the value of a duration option (-d, --timeout) within [min_ms, max_ms]. Returns 0, or -1
 * with one line in err naming the option, the value and the range. */
int cli_duration(const char *opt, const char *value, int64_t min_ms, int64_t max_ms, int64_t *ms, struct text *err);
/* The refresh interval one step slower (dir > 0) or faster (dir < 0) than cur, from 100ms to 1h:
 * the +/- keys. A value between steps goes to the nearest step in that direction. */
int64_t refresh_step(int64_t cur, int dir);

#endif
