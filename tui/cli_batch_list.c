/* cli_batch_list.c — `pgfleet batch list [SERVER] [JOB] [--json]`: the batched migrations of
 * the fleet, read through the same probes as the monitor's pane 8. */
#include <stdio.h>

#include "tui/cli_actions.h"

int run_batch_list(const struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    fputs("pgfleet: batch list is not built yet\n", stderr);
    return 1;
}
