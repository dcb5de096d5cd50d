/* conn_addr.h — where a connection may go: the conninfo's hosts looked up without blocking
 * (getaddrinfo_a) before every (re)connect, and one connection attempt per address found, so a
 * name with a dead first address still reaches the next one. Used only by conn.c. */
#ifndef PGFLEET_CONN_ADDR_H
#define PGFLEET_CONN_ADDR_H

#include <stddef.h>
#include <stdint.h>

/* One attempt: NULL fields are left to the conninfo (and to libpq's defaults). */
struct conn_target {
    char *host;     /* a name (kept for TLS and GSSAPI), an address or a socket directory */
    char *hostaddr; /* the address to connect to, numeric */
    char *port;
};

struct addr_lookup;

/* Look up a libpq host list ("db1,db2", sockets and addresses allowed) with its port list (one
 * port, or one per host). NULL host: nothing to look up. Returns NULL with the reason in err. */
struct addr_lookup *addr_lookup_start(const char *host, const char *port, int64_t deadline_ms, char *err,
                                      size_t errlen);
/* 0 while in flight, 1 when done (*out gets *n attempts, the caller frees them with
 * conn_targets_free), -1 when no address was found (the reason in err). */
int addr_lookup_poll(struct addr_lookup *l, int64_t now, struct conn_target **out, int *n, char *err, size_t errlen);
/* Free a lookup, even one still in flight: a request the resolver thread still owns is kept
 * aside and freed once it finishes (addr_lookup_reap), so timeouts never leak. */
void addr_lookup_free(struct addr_lookup *l);
/* Free the set-aside lookups that have finished; wait_ms > 0 waits that long for the rest
 * (at exit). Returns how many are still in flight. */
int addr_lookup_reap(int wait_ms);
void conn_targets_free(struct conn_target *t, int n);

#endif
