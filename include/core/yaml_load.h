/* yaml_load.h — strict YAML reading for pgfleet's files (the fleet config, batch job files):
 * every problem becomes a line "FILE:LINE:COL: message" in the caller's text, and reading goes
 * on after a problem so that one run reports them all. */
#ifndef PGFLEET_YAML_LOAD_H
#define PGFLEET_YAML_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "core/util.h"

struct yload {
    const char *path;
    yaml_document_t *doc; /* &docbuf once loaded */
    yaml_document_t docbuf;
    struct text *err;
    int nerr;
    bool stop;   /* too many errors, or the alias budget is spent: walk no further */
    long budget; /* nodes + bytes we may still visit; bounds alias expansion ("billion laughs") */
};

/* Read path (at most 1 MiB, nested at most 64 deep, one document) and parse it. *root is the
 * document's root (NULL for an empty file); *loose says group or others may read the file.
 * Returns -1 when it could not be read or parsed (the reason in err); else 0, and yl_close
 * must follow. */
int yl_open(struct yload *ld, const char *path, struct text *err, bool *loose, yaml_node_t **root);
void yl_close(struct yload *ld);

void yl_err(struct yload *ld, const yaml_node_t *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A value from the file made safe to print: escaped, and cut short if long. Never for a
 * conninfo, which may hold a password. malloc'd. */
char *yl_show(const char *s);
yaml_node_t *yl_node(struct yload *ld, int index);
bool yl_is_null(const yaml_node_t *n);
const char *yl_kind(const yaml_node_t *n); /* "a map", "a list", … for messages */
/* Charge a node's size to the budget; false (reported) when it is spent. */
bool yl_charge(struct yload *ld, const yaml_node_t *n);

/* Typed getters: what names the value in messages, want what it should be. NULL (scalars) or
 * no change to *out after reporting the problem. */
const char *yl_scalar(struct yload *ld, yaml_node_t *n, const char *what, const char *want);
const char *yl_text(struct yload *ld, yaml_node_t *n, const char *what, const char *want); /* not "" */
size_t yl_seq(struct yload *ld, yaml_node_t *n, const char *what, yaml_node_item_t **items);
/* min_txt/max_txt: how the range reads in a message; NULL for no range. */
void yl_duration(struct yload *ld, yaml_node_t *n, const char *what, int64_t *out, int64_t min, const char *min_txt,
                 int64_t max, const char *max_txt);
void yl_size(struct yload *ld, yaml_node_t *n, const char *what, int64_t *out);
void yl_pct(struct yload *ld, yaml_node_t *n, const char *what, double *out);
void yl_int(struct yload *ld, yaml_node_t *n, const char *what, int *out, long min, long max);
void yl_bool(struct yload *ld, yaml_node_t *n, const char *what, bool *out);

/* Calls fn for each pair of a map whose key is one of keys (by index); reports the others (with
 * a "did you mean") and duplicate keys. where names the map in messages (NULL at the top
 * level). An empty value is an empty map. */
typedef void yl_pair_fn(struct yload *ld, size_t key, yaml_node_t *val, void *ctx);
void yl_walk_map(struct yload *ld, yaml_node_t *map, const char *where, const char *const *keys, size_t nkeys,
                 yl_pair_fn *fn, void *ctx);

#endif
