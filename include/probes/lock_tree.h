/* lock_tree.h — the lock forest of one server, built from "pid waits for these pids" edges
 * (pg_blocking_pids): roots are blockers that are not waiting themselves, every waiter hangs
 * under its first blocker, and the other blockers are "also blocked by". Pure C, no I/O: the
 * locks probe builds it in its parse step and the unit tests drive it directly. Cycles (a
 * deadlock in progress, or pg_blocking_pids answers taken at slightly different moments) are
 * detected and reported, never followed forever. */
#ifndef PGFLEET_LOCK_TREE_H
#define PGFLEET_LOCK_TREE_H

#include <stdbool.h>
#include <stddef.h>

#define LT_NONE ((size_t)-1)

/* One session as the builder sees it. */
struct lt_input {
    int pid;
    const int *blockers; /* the pids it waits for, in pg_blocking_pids order (first = parent) */
    size_t nblockers;
    double wait_s; /* how long it has waited; NAN if unknown: orders siblings */
    double age_s;  /* transaction age; NAN if unknown: orders roots that block as many */
};

/* One line of the forest, in display order: a root, then its waiters depth first. */
struct lt_item {
    size_t node; /* index into the input; LT_NONE for a blocker that had no row */
    int pid;
    size_t parent;  /* item index of the blocker it hangs under; LT_NONE for a root */
    unsigned depth; /* 0 for a root */
    bool last;      /* the last waiter under its parent (draws └─ rather than ├─) */
    bool in_cycle;  /* part of a cycle of waits (deadlock in progress, or a race) */
    size_t nchildren;
    size_t subtree; /* sessions shown under it, at any depth */
    size_t blocked; /* roots: sessions it blocks, transitively, also those shown under
                            * another root (a waiter blocked by two roots counts for both);
                            * other items: same as subtree */
};

struct lock_forest {
    struct lt_item *items; /* preorder */
    size_t nitems;
    size_t nroots;
    size_t *roots; /* item index of each root, most blocked sessions first */
    int *missing;  /* blocker pids that had no input row (ended, or 0: a prepared xact) */
    size_t nmissing;
    size_t ncycles;  /* cycles found (each strongly connected group of waits counts once) */
    size_t nwaiting; /* inputs that wait for someone */
};

/* Build the forest of n inputs. Inputs that neither wait nor block are left out. Duplicate
 * pids keep their first row; duplicate and self blockers are ignored for the parent. Runs in
 * O((n + edges) log n). */
void lock_forest_build(const struct lt_input *in, size_t n, struct lock_forest *out);
void lock_forest_free(struct lock_forest *f);

/* Item index of pid in the forest, or LT_NONE. */
size_t lock_forest_find(const struct lock_forest *f, int pid);

/* The parent pid of an item, or -1 for a root. */
int lock_forest_parent_pid(const struct lock_forest *f, size_t item);

/* DDL: a query that starts (after white space and comments) with ALTER, CREATE [UNIQUE] INDEX,
 * DROP, TRUNCATE, REINDEX, CLUSTER, VACUUM FULL or LOCK; or a session that waits for or holds an
 * AccessExclusiveLock on a relation. These are the migrations that queue everything behind them. */
bool lt_query_is_ddl(const char *query);
bool lt_is_ddl(const char *query, const char *wait_mode, bool holds_access_exclusive);

#endif
