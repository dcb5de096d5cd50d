/* pooler_check.c — for the shell's cancel and terminate: asks the config's pgBouncers that serve
 * the server for their server connections (SHOW SERVERS), with the monitor's own engine and
 * loop, so the confirmation can say that a session is one of them before it is touched. */
#include "tui/pooler_check.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/sched.h"
#include "tui/loop.h"

struct check {
    struct model m;
    int64_t give_up;
};

static bool all_answered(void *p, int64_t now)
{
    const struct check *c = p;
    if (now >= c->give_up)
        return true;
    for (size_t i = 0; i < c->m.n; i++)
        if (c->m.servers[i].status != SRV_DOWN && c->m.servers[i].ticks < 1)
            return false;
    return true;
}

static int64_t check_deadline(void *p) { return ((const struct check *)p)->give_up; }

bool pooler_check(const struct config *cfg, const char *server, int pid, char *out, size_t len, int *rc)
{
    *rc = 0;
    struct config sub = *cfg; /* shallow: only the poolers that serve the server */
    sub.servers = NULL;
    sub.nservers = 0;
    sub.poolers = xcalloc(cfg->npoolers + 1, sizeof *sub.poolers);
    sub.npoolers = 0;
    for (size_t i = 0; i < cfg->npoolers; i++)
        for (size_t k = 0; k < cfg->poolers[i].nserves; k++)
            if (strcmp(cfg->poolers[i].serves[k], server) == 0) {
                sub.poolers[sub.npoolers++] = cfg->poolers[i];
                break;
            }
    bool found = false;
    if (sub.npoolers) {
        struct check c;
        sched_init(&c.m, &sub);
        c.give_up = now_ms() + cfg->timeout_ms;
        struct loop_hooks h = {.input_fd = -1, .done = all_answered, .deadline = check_deadline, .ctx = &c};
        *rc = loop_run(&c.m, &h);
        if (*rc == 0)
            found = pooler_of_backend_named(&c.m, server, pid, out, len);
        sched_free(&c.m);
    }
    free(sub.poolers);
    return found;
}
