/* cli_batch_control.c — `pgfleet batch pause|resume|cancel [--now] SERVER JOB`: the controls of
 * pane 8 from the shell, the same audited action classes. */
#include <stdio.h>

#include "tui/cli_actions.h"

int run_batch_control(const struct cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    fputs("pgfleet: batch pause, resume and cancel are not built yet\n", stderr);
    return 1;
}
