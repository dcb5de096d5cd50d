/* snapshot.h — the non-interactive form of the panes: two samples one interval apart, then one
 * JSON document (probes/snapjson.h, doc/snapshot.schema.json) or aligned text like `top -b -n 1`. */
#ifndef PGFLEET_SNAPSHOT_H
#define PGFLEET_SNAPSHOT_H

#include <stdbool.h>
#include <stdio.h>

#include "probes/model.h"

/* Run the engine until every server has two samples or is DOWN (or refresh + timeout passed),
 * then write the snapshot. Returns the exit status. */
int snapshot_run(struct model *m, FILE *out, bool json);
void snapshot_write_text(const struct model *m, FILE *out);

#endif
