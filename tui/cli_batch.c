/* cli_batch.c — `pgfleet batch ...`: the subcommands of batched migrations. init (the control
 * table) and run (the runner) are here; list and the controls have files of their own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/batch.h"
#include "tui/cli_actions.h"

int run_batch(const struct cli *cli, int argc, char **argv)
{
    const char *verb = argc > 0 ? argv[0] : "";
    if (strcmp(verb, "list") == 0)
        return run_batch_list(cli, argc - 1, argv + 1);
    if (strcmp(verb, "pause") == 0 || strcmp(verb, "resume") == 0 || strcmp(verb, "cancel") == 0)
        return run_batch_control(cli, argc, argv);
    if (strcmp(verb, "init") == 0 && cli->print && argc == 1) {
        fputs(batch_schema_sql(), stdout);
        return 0;
    }
    fputs("pgfleet: batch needs one of: init SERVER [--print], run JOB.yaml, list [SERVER] [JOB], "
          "pause|resume|cancel SERVER JOB; see pgfleet --help\n",
          stderr);
    return 2;
}
