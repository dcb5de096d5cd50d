/* conn_addr.c — name resolution for connections without ever blocking the loop: getaddrinfo_a
 * for each host of a libpq host list, then one attempt per address (a name with several A/AAAA
 * records is tried address by address). Lookups that outlive their deadline are set aside until
 * the resolver thread lets go of them, then freed: a thousand timed-out retries leak nothing. */
#include "core/conn_addr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/util.h"

enum host_kind { H_NAME, H_NUMERIC, H_SOCKET };

struct lookup_host {
    char *name, *port;
    enum host_kind kind;
    bool cancelled; /* taken back from the queue: gai_error() would say "in progress" forever */
    struct gaicb cb;
    struct addrinfo hints;
};

struct addr_lookup {
    struct lookup_host *h; /* allocated once: the resolver holds pointers into it */
    int n;
    int64_t deadline;
    struct addr_lookup *next_stuck;
};

static struct addr_lookup *stuck; /* lookups a resolver thread still owns */

static bool in_flight(struct lookup_host *h)
{
    return h->kind == H_NAME && h->cb.ar_name && !h->cancelled && gai_error(&h->cb) == EAI_INPROGRESS;
}

static void lookup_destroy(struct addr_lookup *l)
{
    for (int i = 0; i < l->n; i++) {
        if (l->h[i].kind == H_NAME && l->h[i].cb.ar_result)
            freeaddrinfo(l->h[i].cb.ar_result);
        free(l->h[i].name);
        free(l->h[i].port);
    }
    free(l->h);
    free(l);
}

/* Split a comma list into a NULL-terminated array (empty items kept as ""). */
static char **split(const char *s, int *n)
{
    int cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    char **v = xcalloc((size_t)cap + 1, sizeof *v);
    *n = 0;
    for (const char *p = s;;) {
        size_t len = strcspn(p, ",");
        v[(*n)++] = xstrndup(p, len);
        if (!p[len])
            break;
        p += len + 1;
    }
    return v;
}

static void free_split(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

struct addr_lookup *addr_lookup_start(const char *host, const char *port, int64_t deadline_ms, char *err, size_t errlen)
{
    addr_lookup_reap(0);
    int nh, np = 0;
    char **hosts = split(host, &nh), **ports = port && *port ? split(port, &np) : NULL;
    if (np > 1 && np != nh) {
        snprintf(err, errlen, "bad connection string: %d ports for %d hosts", np, nh);
        free_split(hosts, nh);
        free_split(ports, np);
        return NULL;
    }
    struct addr_lookup *l = xcalloc(1, sizeof *l);
    l->h = xcalloc((size_t)nh, sizeof *l->h);
    l->n = nh;
    l->deadline = deadline_ms;
    struct gaicb **list = xcalloc((size_t)nh + 1, sizeof *list);
    int nlist = 0;
    for (int i = 0; i < nh; i++) {
        struct lookup_host *h = &l->h[i];
        unsigned char bin[sizeof(struct in6_addr)];
        h->name = hosts[i];
        h->port = np ? xstrdup(ports[np == 1 ? 0 : i]) : NULL;
        if (h->name[0] == '/' || h->name[0] == '@' || h->name[0] == '\0')
            h->kind = H_SOCKET;
        else if (inet_pton(AF_INET, h->name, bin) == 1 || inet_pton(AF_INET6, h->name, bin) == 1)
            h->kind = H_NUMERIC;
        else {
            h->kind = H_NAME;
            h->hints.ai_socktype = SOCK_STREAM;
            h->cb.ar_name = h->name;
            h->cb.ar_request = &h->hints;
            list[nlist++] = &h->cb;
        }
    }
    free(hosts); /* the strings moved into l */
    free_split(ports, np);
    if (nlist && getaddrinfo_a(GAI_NOWAIT, list, nlist, NULL) != 0) {
        /* some requests may have been queued before the failure: set those aside */
        snprintf(err, errlen, "unknown host: cannot start the lookup");
        free(list);
        addr_lookup_free(l);
        return NULL;
    }
    free(list);
    return l;
}

static void add_target(struct conn_target **t, int *n, const char *host, const char *addr, const char *port)
{
    for (int i = 0; addr && i < *n; i++) /* the same address twice (A records repeated) */
        if ((*t)[i].hostaddr && strcmp((*t)[i].hostaddr, addr) == 0 &&
            strcmp((*t)[i].port ? (*t)[i].port : "", port ? port : "") == 0)
            return;
    *t = xreallocarray(*t, (size_t)*n + 1, sizeof **t);
    (*t)[*n] = (struct conn_target){
        .host = host ? xstrdup(host) : NULL,
        .hostaddr = addr ? xstrdup(addr) : NULL,
        .port = port ? xstrdup(port) : NULL,
    };
    (*n)++;
}

int addr_lookup_poll(struct addr_lookup *l, int64_t now, struct conn_target **out, int *n, char *err, size_t errlen)
{
    int pending = -1;
    for (int i = 0; i < l->n; i++)
        if (in_flight(&l->h[i]))
            pending = i;
    if (pending >= 0 && now < l->deadline)
        return 0;
    struct conn_target *t = NULL;
    int nt = 0;
    const char *why = NULL, *who = NULL;
    for (int i = 0; i < l->n; i++) {
        struct lookup_host *h = &l->h[i];
        if (h->kind != H_NAME) {
            add_target(&t, &nt, h->name, h->kind == H_NUMERIC ? h->name : NULL, h->port);
            continue;
        }
        if (in_flight(h)) { /* past the deadline: the other hosts may still do */
            why = "timed out", who = h->name;
            continue;
        }
        int e = gai_error(&h->cb);
        if (e != 0 || !h->cb.ar_result) {
            why = gai_strerror(e), who = h->name;
            continue;
        }
        for (struct addrinfo *ai = h->cb.ar_result; ai; ai = ai->ai_next) {
            char buf[INET6_ADDRSTRLEN];
            const void *a = ai->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                                                      : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
            if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) && inet_ntop(ai->ai_family, a, buf, sizeof buf))
                add_target(&t, &nt, h->name, buf, h->port);
        }
    }
    if (!nt) {
        snprintf(err, errlen, "unknown host: %s: %s", who ? who : "?", why ? why : "no address");
        return -1;
    }
    *out = t;
    *n = nt;
    return 1;
}

void addr_lookup_free(struct addr_lookup *l)
{
    if (!l)
        return;
    bool busy = false;
    for (int i = 0; i < l->n; i++) {
        if (!in_flight(&l->h[i]))
            continue;
        if (gai_cancel(&l->h[i].cb) == EAI_CANCELED)
            l->h[i].cancelled = true;
        else if (in_flight(&l->h[i]))
            busy = true;
    }
    if (!busy) {
        lookup_destroy(l);
        return;
    }
    l->next_stuck = stuck;
    stuck = l;
}

int addr_lookup_reap(int wait_ms)
{
    int64_t until = now_ms() + wait_ms;
    for (;;) {
        int left = 0;
        for (struct addr_lookup **pp = &stuck; *pp;) {
            struct addr_lookup *l = *pp;
            bool busy = false;
            for (int i = 0; i < l->n; i++)
                busy |= in_flight(&l->h[i]);
            if (busy) {
                left++;
                pp = &l->next_stuck;
                continue;
            }
            *pp = l->next_stuck;
            lookup_destroy(l);
        }
        int64_t now = now_ms();
        if (!left || now >= until)
            return left;
        /* wait for any of them to finish (at exit only) */
        const struct gaicb *any[1] = {NULL};
        for (int i = 0; i < stuck->n && !any[0]; i++)
            if (in_flight(&stuck->h[i]))
                any[0] = &stuck->h[i].cb;
        struct timespec ts = {.tv_sec = (until - now) / 1000, .tv_nsec = (long)((until - now) % 1000) * 1000000};
        gai_suspend(any, 1, &ts);
    }
}

void conn_targets_free(struct conn_target *t, int n)
{
    for (int i = 0; i < n; i++) {
        free(t[i].host);
        free(t[i].hostaddr);
        free(t[i].port);
    }
    free(t);
}
