/* resolvleak.c — test helper: look a name up ROUNDS times against a DNS server that never
 * answers, giving up on each lookup after a few milliseconds as pgfleet does at a connect
 * deadline, then check that every lookup the resolver held on to is freed once it lets go
 * (conn_addr.c's set-aside list). Run inside a network namespace whose resolv.conf points at
 * 127.0.0.1, where this program itself listens on UDP port 53 and answers nothing.
 * Usage: resolvleak NAME ROUNDS. Prints "rounds N left M" and exits 0 when M is 0. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/conn_addr.h"
#include "core/util.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: resolvleak NAME ROUNDS\n");
        return 2;
    }
    int rounds = atoi(argv[2]);
    /* the black hole: queries arrive and are never answered */
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (udp < 0 || bind(udp, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("resolvleak: bind 127.0.0.1:53");
        return 2;
    }
    for (int i = 0; i < rounds; i++) {
        char err[256];
        struct addr_lookup *l = addr_lookup_start(argv[1], "5432", now_ms() + 5, err, sizeof err);
        if (!l) {
            fprintf(stderr, "resolvleak: %s\n", err);
            return 2;
        }
        struct conn_target *t = NULL;
        int n = 0, r;
        while ((r = addr_lookup_poll(l, now_ms(), &t, &n, err, sizeof err)) == 0)
            usleep(1000);
        if (r > 0)
            conn_targets_free(t, n);
        addr_lookup_free(l); /* still in the resolver's hands: set aside, not leaked */
    }
    int left = addr_lookup_reap(120000);
    printf("rounds %d left %d\n", rounds, left);
    close(udp);
    return left == 0 ? 0 : 1;
}
