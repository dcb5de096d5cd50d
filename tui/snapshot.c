/* snapshot.c — `pgfleet snapshot [--json]`: runs the same loop as the TUI without a terminal,
 * waits for two samples of every reachable server (rates need two), then writes the JSON
 * document (probes/snapjson.c) or every pane's text section once. Servers that are down are
 * reported with their reason; that is not a failure. */
#include "tui/snapshot.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "probes/snapjson.h"
#include "tui/loop.h"
#include "tui/screen.h"
#include "tui/sections.h"
#include "tui/views.h"

struct snap_ctx {
    struct model *m;
    int64_t give_up;
};

static bool snap_done(void *p, int64_t now)
{
    struct snap_ctx *cx = p;
    if (now >= cx->give_up)
        return true;
    for (size_t i = 0; i < cx->m->n; i++) {
        const struct server *s = &cx->m->servers[i];
        if (s->status == SRV_DOWN)
            continue;
        if (s->ticks < 2)
            return false;
    }
    return true;
}

static int64_t snap_deadline(void *p) { return ((struct snap_ctx *)p)->give_up; }

int snapshot_run(struct model *m, FILE *out, bool json)
{
    /* Two samples one interval apart; a server that has not answered by then has had its
     * whole deadline (timeout) to do so. */
    struct snap_ctx cx = {m, now_ms() + m->refresh_ms + m->cfg->timeout_ms};
    struct loop_hooks h = {.input_fd = -1, .done = snap_done, .deadline = snap_deadline, .ctx = &cx};
    int rc = loop_run(m, &h);
    if (rc)
        return rc;
    if (json)
        snapjson_write(m, out);
    else
        snapshot_write_text(m, out);
    return fflush(out) == 0 ? 0 : 1;
}

static void utc_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void write_text(const struct model *m, FILE *out)
{
    char ts[32];
    utc_now(ts, sizeof ts);
    size_t up = 0;
    for (size_t i = 0; i < m->n; i++)
        up += m->servers[i].status == SRV_UP;
    fprintf(out, "pgfleet %s  %s  servers: %zu, up: %zu, down/stale: %zu\n", PGFLEET_VERSION, ts, m->n, up, m->n - up);
    /* the panes' order: fleet, activity, locks, replication, connections, IO, statements */
    static void (*const sections[])(const struct model *, FILE *) = {
        fleet_text, act_text, locks_text, repl_text, conn_text, io_text, stmt_text,
    };
    for (size_t i = 0; i < ARRAY_LEN(sections); i++) {
        fputc('\n', out);
        sections[i](m, out);
    }
}

/* The panes write their text, then every line passes the last line of defence: whatever a pane
 * forgot to escape, no control byte, bidi override or invalid UTF-8 reaches the output. */
void snapshot_write_text(const struct model *m, FILE *out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) {
        fputs("pgfleet: out of memory\n", out);
        return;
    }
    write_text(m, mem);
    fclose(mem);
    for (char *p = buf; p && *p;) {
        size_t n = strcspn(p, "\n");
        char save = p[n];
        p[n] = '\0';
        char *line = esc_safe(p);
        fputs(line, out);
        fputc('\n', out);
        free(line);
        p += n + (save == '\n');
    }
    free(buf);
}
