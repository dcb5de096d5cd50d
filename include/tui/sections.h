/* sections.h — what the panes show, free of curses: the view builders of the document panes
 * (Cache & IO, Connections, Replication) that make a document (doc.h) from the model at a
 * width, and every section of the text snapshot, which tui/snapshot.c prints in a fixed order.
 * None of this draws: `pgfleet snapshot` never goes through a drawing path. */
#ifndef PGFLEET_SECTIONS_H
#define PGFLEET_SECTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "probes/model.h"
#include "probes/sec_connections.h"
#include "tui/doc.h"

/* The document of a pane for the servers in scope (-1: all) at d->width columns. text: the
 * snapshot's form (no cell cut, nothing that depends on the terminal). */
void io_view(const struct model *m, long scope, bool text, struct doc *d);
void conn_view(const struct model *m, long scope, bool text, struct doc *d);
/* utf8: sparklines in block characters (else ASCII). */
void repl_view(const struct model *m, long scope, bool text, bool utf8, struct doc *d);

/* The sections of the text snapshot, each with its title line. */
void fleet_text(const struct model *m, FILE *out);
void act_text(const struct model *m, FILE *out);
void locks_text(const struct model *m, FILE *out);
void repl_text(const struct model *m, FILE *out);
void conn_text(const struct model *m, FILE *out);
void io_text(const struct model *m, FILE *out);
void stmt_text(const struct model *m, FILE *out);

#endif
