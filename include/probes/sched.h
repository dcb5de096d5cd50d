/* sched.h — the fleet engine: connects every server asynchronously, sends each tick's due
 * probes in one round trip, parses results into samples, marks servers STALE/DOWN by their
 * deadlines and reconnects with capped exponential backoff and jitter. Never blocks. */
#ifndef PGFLEET_SCHED_H
#define PGFLEET_SCHED_H

#include <poll.h>
#include <stdint.h>

#include "probes/model.h"

void sched_init(struct model *m, const struct config *cfg);
void sched_free(struct model *m);
/* Fill pfd[] with the sockets to watch (at most max); returns the count. tag[i] is the server. */
int sched_pollfds(struct model *m, struct pollfd *pfd, size_t *tag, int max);
/* Act on readiness and deadlines; returns true if the model changed. */
bool sched_step(struct model *m, const struct pollfd *pfd, const size_t *tag, int n, int64_t now);
/* The nearest deadline of any server (absolute ms). */
int64_t sched_next_deadline(const struct model *m);
/* True while some server's tick has been sent and not yet answered (a round in progress). */
bool sched_ticking(const struct model *m);
/* Ask for an immediate refresh (e.g. after the user toggled idle sessions). */
void sched_refresh_now(struct model *m);

#endif
