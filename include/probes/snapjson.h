/* snapjson.h — the JSON snapshot (`pgfleet snapshot --json`): one writer per section of a
 * server's object, each reading the model only, and the document writer that calls them in a
 * fixed order. Its shape is the contract doc/snapshot.schema.json publishes (schema_version). */
#ifndef PGFLEET_SNAPJSON_H
#define PGFLEET_SNAPJSON_H

#include <jansson.h>
#include <stdio.h>

#include "probes/model.h"

/* Bump on any change a reader of the previous version could trip on (a key renamed, removed
 * or retyped); keys may be added without a bump. doc/snapshot.schema.json says the same. */
#define SNAPSHOT_SCHEMA_VERSION 1

/* statements[] lists a server's this many busiest statements of the interval. */
#define SNAPSHOT_STATEMENTS_TOP 50

/* JSON helpers: NAN/inf and NULL become null; server text stays as it came when it is valid
 * UTF-8 and is escaped when it is not (jansson refuses invalid UTF-8). */
json_t *jnum(double v);
json_t *jstr(const char *s);
/* key: the ISO 8601 UTC time of epoch microseconds (text, as the probes give it); key_us: the
 * number itself, what actions are guarded by. Both null when unknown. */
void jtime_us(json_t *o, const char *key, const char *us);

/* The sections: each adds its keys to the server's object o (and nothing when it has nothing to
 * say: the document writer fills the documented keys it left out with null). */
void snapjson_server(const struct model *m, const struct server *s,
                     json_t *o); /* role, version, connections, cache, … */
void snapjson_activity(const struct model *m, const struct server *s, json_t *o);    /* activity[] */
void snapjson_locks(const struct model *m, const struct server *s, json_t *o);       /* lock_tree[], lock_cycles */
void snapjson_replication(const struct model *m, const struct server *s, json_t *o); /* replication */
void snapjson_connections(const struct model *m, const struct server *s,
                          json_t *o);                                       /* connections.by_*, pools[], stats[] */
void snapjson_io(const struct model *m, const struct server *s, json_t *o); /* cache.databases, io */
void snapjson_statements(const struct model *m, const struct server *s, json_t *o); /* statements[], progress[] */
void snapjson_restore(const struct model *m, const struct server *s, json_t *o);    /* restore_test */

/* One server's whole object, and the whole document ({schema_version, …, servers[]} with the
 * servers worst first); snapjson_write prints it indented, with a newline. */
json_t *snapjson_server_object(const struct model *m, const struct server *s);
json_t *snapjson_document(const struct model *m);
void snapjson_write(const struct model *m, FILE *out);

#endif
