/* fuzz_config.c — the fleet.yaml loader (config.h: config_load) on any bytes: it never crashes,
 * leaks or takes long (libFuzzer's -timeout), fails exactly when it reports errors, and every
 * error line has the form "FILE:LINE:COL: message" with a position inside the file and a message
 * that is safe to print (values from the file escaped: no control, format or bidi character, valid
 * UTF-8). A loaded config holds what the loader promises: named servers with a conninfo, a
 * refresh and timeout between 100ms and 1h, poolers serving known servers.
 * The input is written to a memfd and read back through /proc/self/fd/N. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"
#include "core/util.h"
#include "fuzzutil.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fd = memfd_create("fuzz-fleet.yaml", 0);
    if (fd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return 0;
}

/* "PATH:LINE:COL: " with LINE and COL in 1..max; returns the message after it, or NULL. */
static const char *position(const char *line, size_t max, long *ln, long *col)
{
    size_t pl = strlen(path);
    if (strncmp(line, path, pl) != 0 || line[pl] != ':')
        return NULL;
    char *end;
    const char *p = line + pl + 1;
    if (*p < '0' || *p > '9')
        return NULL;
    *ln = strtol(p, &end, 10);
    if (*end != ':' || end[1] < '0' || end[1] > '9')
        return NULL;
    *col = strtol(end + 1, &end, 10);
    if (end[0] != ':' || end[1] != ' ' || !end[2])
        return NULL;
    if (*ln < 1 || *col < 1 || (size_t)*ln > max || (size_t)*col > max)
        return NULL;
    return end + 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
        perror("memfd write");
        abort();
    }
    struct config cfg;
    struct text err, warn;
    config_init(&cfg);
    text_init(&err);
    text_init(&warn);
    int rc = config_load(&cfg, path, &err, &warn);
    const char *e = err.s ? err.s : "";

    FZ_CHECK(rc == 0 || rc == -1, "config_load returned %d", rc);
    if (rc == 0 && *e) {
        fz_dump("errors", e, strlen(e), SIZE_MAX);
        fz_fail(__FILE__, __LINE__, "no errors on success", "config_load returned 0 with errors");
    }
    if (rc != 0 && !*e)
        fz_fail(__FILE__, __LINE__, "a reason on failure", "config_load failed without saying why");
    /* every error line: FILE:LINE:COL: message, the position within the file */
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n' || data[i] == '\r';
    size_t max = size + 2;
    for (const char *l = e; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        char *one = xstrndup(l, len);
        long ln = 0, col = 0;
        const char *msg = position(one, max, &ln, &col);
        if (!msg) {
            fz_dump("error line", one, len, SIZE_MAX);
            fz_fail(__FILE__, __LINE__, "errors start with FILE:LINE:COL: ",
                    "an error line without its position in the file (%zu bytes, %zu lines)", size, lines);
        }
        size_t at;
        const char *why = fz_unsafe_text(msg, strlen(msg), false, &at);
        if (why) {
            fz_dump("error line", one, len, (size_t)(msg - one) + at);
            fz_fail(__FILE__, __LINE__, "error messages are safe to print", "%s", why);
        }
        free(one);
        if (!nl) {
            fz_dump("errors", e, strlen(e), SIZE_MAX);
            fz_fail(__FILE__, __LINE__, "each error is a whole line", "the last error line has no newline");
        }
        l = nl + 1;
    }
    for (const char *l = warn.s ? warn.s : ""; *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (strncmp(l, path, strlen(path)) != 0 || l[strlen(path)] != ':') {
            fz_dump("warning", l, len, SIZE_MAX);
            fz_fail(__FILE__, __LINE__, "warnings start with FILE:", "a warning without the file name");
        }
        size_t at;
        const char *why = fz_unsafe_text(l, len, false, &at);
        if (why) {
            fz_dump("warning", l, len, at);
            fz_fail(__FILE__, __LINE__, "warnings are safe to print", "%s", why);
        }
        l = nl ? nl + 1 : l + len;
    }

    if (rc == 0) {
        FZ_CHECK(cfg.refresh_ms >= 100 && cfg.refresh_ms <= 3600000, "refresh %lld ms", (long long)cfg.refresh_ms);
        FZ_CHECK(cfg.timeout_ms >= 100 && cfg.timeout_ms <= 3600000, "timeout %lld ms", (long long)cfg.timeout_ms);
        for (size_t i = 0; i < cfg.nservers; i++) {
            FZ_CHECK(cfg.servers[i].name && cfg.servers[i].conninfo, "server %zu without name or conninfo", i);
            for (size_t j = 0; j < i; j++)
                FZ_CHECK(strcmp(cfg.servers[i].name, cfg.servers[j].name) != 0, "two servers named %s",
                         cfg.servers[i].name);
            for (size_t t = 0; t < cfg.servers[i].ntags; t++)
                FZ_CHECK(cfg.servers[i].tags[t] && *cfg.servers[i].tags[t], "server %zu: an empty tag", i);
        }
        for (size_t i = 0; i < cfg.npoolers; i++) {
            FZ_CHECK(cfg.poolers[i].name && cfg.poolers[i].conninfo, "pooler %zu without name or conninfo", i);
            for (size_t k = 0; k < cfg.poolers[i].nserves; k++) {
                bool known = false;
                for (size_t j = 0; j < cfg.nservers && !known; j++)
                    known = strcmp(cfg.servers[j].name, cfg.poolers[i].serves[k]) == 0;
                FZ_CHECK(known, "pooler %s serves unknown server %s", cfg.poolers[i].name, cfg.poolers[i].serves[k]);
            }
        }
        FZ_CHECK(cfg.th.connections_pct >= 0 && cfg.th.connections_pct <= 100, "connections_pct %g",
                 cfg.th.connections_pct);
        FZ_CHECK(cfg.th.cache_hit_pct >= 0 && cfg.th.cache_hit_pct <= 100, "cache_hit_pct %g", cfg.th.cache_hit_pct);
    }
    config_free(&cfg);
    text_free(&err);
    text_free(&warn);
    return 0;
}
