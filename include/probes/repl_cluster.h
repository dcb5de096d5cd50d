/* repl_cluster.h — the fleet's servers grouped into replication clusters (same
 * system_identifier), each as a tree: primary, the replicas streaming from it, their cascaded
 * replicas. Pure functions over the model, shared by the Replication pane, the JSON/text
 * snapshot and the Fleet pane's lag figures (sec_replication.h). */
#ifndef PGFLEET_REPL_CLUSTER_H
#define PGFLEET_REPL_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "probes/model.h"
#include "probes/sec_replication.h"

struct repl_node {
    size_t server; /* index in model->servers */
    int upstream;  /* node it streams from (index in the cluster's nodes), -1 for a root */
    int sender;    /* its row in the upstream's pg_stat_replication, -1 if none matched */
    int depth;     /* 0 for a root */
};

struct repl_cluster {
    const char *sysid;       /* borrowed from a sample; NULL for a server that is a group of its own */
    const char *why;         /* for such a server: why it has no identifier (borrowed) */
    int nprimaries;          /* servers of the cluster not in recovery: more than one is a split brain */
    struct repl_node *nodes; /* tree order: each node followed by the nodes streaming from it */
    size_t n;
};

/* Group the model's PostgreSQL servers (pgBouncer targets are left out). scope -1: every
 * cluster; else only the cluster holding that server. Clusters come in the order of their
 * first server in the config; a primary leads its cluster. Returns the number of clusters. */
size_t repl_clusters(const struct model *m, long scope, struct repl_cluster **out);
void repl_clusters_free(struct repl_cluster *c, size_t n);

/* Node index of a server in a cluster, or -1. */
int repl_cluster_find(const struct repl_cluster *c, size_t server);

/* A replica's lag as the pane shows it. */
struct repl_lag {
    double bytes;                /* NAN when unknown */
    double seconds;              /* NAN when unknown */
    bool from_primary;           /* measured against the primary's current LSN (else what it received) */
    const struct lag_ring *hist; /* replay lag history: the primary's view if matched, else its own */
};
void repl_node_lag(const struct model *m, const struct repl_cluster *c, size_t node, struct repl_lag *out);

/* The sender row on server upstream matched to a node of the cluster: true if some node
 * claims it (the pane then shows that row under the node, not as a stranger). */
bool repl_sender_claimed(const struct repl_cluster *c, size_t upstream_node, size_t row);

#endif
