/* pooler_check.h — is a backend one of a pgBouncer's server connections? Asked of the config's
 * poolers that serve the server, for the shell's cancel and terminate (tui/pooler_check.c). */
#ifndef PGFLEET_POOLER_CHECK_H
#define PGFLEET_POOLER_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

/* True when pid on server (a config name) is a server connection of one of the config's
 * poolers; out gets "NAME (pool DB/USER)". Bounded by the config's timeout; a pooler that does
 * not answer in time is taken as "not one of its". *rc: non-zero (130, 143) when a signal
 * interrupted the check: the caller must then stop, with nothing sent. */
bool pooler_check(const struct config *cfg, const char *server, int pid, char *out, size_t len, int *rc);

#endif
