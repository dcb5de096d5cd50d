/* fleet_select.h — --server NAME and --tag TAG: which of the config's servers and poolers to
 * watch. Pure (no I/O): tests/unit/test_cli.c. */
#ifndef PGFLEET_FLEET_SELECT_H
#define PGFLEET_FLEET_SELECT_H

#include <stddef.h>

#include "core/config.h"
#include "core/util.h"

/* Keep the servers and poolers named (names) and the servers carrying one of tags, with the
 * poolers that serve a kept server; drop (and free) the rest. Nothing chosen keeps everything.
 * Returns -1 with one line "pgfleet: …\n" in err for a name or tag that nothing in cfg has (with
 * a "did you mean"); cfg is then unchanged. */
int fleet_select(struct config *cfg, char *const *names, size_t nnames, const char *const *tags, size_t ntags,
                 struct text *err);

#endif
