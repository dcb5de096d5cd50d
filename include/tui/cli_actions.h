/* cli_actions.h — the command-line forms of the actions and of the audit log: `pgfleet cancel`,
 * `pgfleet terminate` and `pgfleet audit`, with the options main.c parsed for them. */
#ifndef PGFLEET_CLI_ACTIONS_H
#define PGFLEET_CLI_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* The options of the command line (tui/main.c fills it). */
struct cli {
    const char *config;
    const char *delay;
    char **only;
    size_t nonly;
    bool read_only, no_color, json, idle, yes;
    const char *since;
    bool history, due; /* restore-test --history, --due */
    bool now, print;   /* batch cancel --now, batch init --print */
};

/* `pgfleet cancel|terminate SERVER PID` (argc/argv: the words after the command). Returns the
 * exit status. */
int run_signal(const struct cli *cli, const char *cmd, int argc, char **argv);
/* `pgfleet audit`. Returns the exit status. */
int run_audit(const struct cli *cli);
/* `pgfleet restore-test SERVER | --due | --history [SERVER]` (tui/cli_restore.c). */
int run_restore_test(const struct cli *cli, int argc, char **argv);

/* `pgfleet batch init|run|list|pause|resume|cancel ...` (tui/cli_batch.c dispatches). */
int run_batch(const struct cli *cli, int argc, char **argv);
/* `pgfleet batch list [SERVER] [JOB]` (tui/cli_batch_list.c). */
int run_batch_list(const struct cli *cli, int argc, char **argv);
/* `pgfleet batch pause|resume|cancel [--now] SERVER JOB` (tui/cli_batch_control.c); verb is
 * argv[0]. */
int run_batch_control(const struct cli *cli, int argc, char **argv);

#endif
