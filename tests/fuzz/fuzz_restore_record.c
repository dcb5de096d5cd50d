/* fuzz_restore_record.c — the restore tests' record reader (restore_record.h) on any bytes: the
 * file may have been edited by anyone. Loading it never crashes, leaks or takes long; every
 * status it gives is consistent (a good test is never newer than the newest run, texts are
 * NUL-terminated within their fields and whole UTF-8 when they were); `--history` prints only
 * text safe on a terminal (valid UTF-8, no control, format or bidi character), in both forms.
 * The input is the file's text, written to a memfd and read back through /proc/self/fd/N. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/util.h"
#include "fuzzutil.h"
#include "probes/restore_record.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fd = memfd_create("fuzz-restore_tests.jsonl", 0);
    if (fd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return 0;
}

static void history_safe(bool json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    FZ_CHECK(out, "open_memstream");
    int rc = restore_history_print(path, NULL, json, out);
    fclose(out);
    FZ_CHECK(rc == 0 || rc == 1, "history: status %d on a readable file", rc);
    size_t at;
    const char *why = fz_unsafe_text(buf, len, true, &at);
    if (why)
        fz_dump("history", buf, len, at);
    FZ_CHECK(!why, "history (json %d) prints unsafe text: %s", json, why);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024)
        return 0;
    struct restore_book *b = restore_book_parse((const char *)data, size);
    FZ_CHECK(restore_book_servers(b) <= RESTORE_SERVERS_MAX, "too many servers");
    restore_book_free(b);

    FZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size, "memfd: %s", strerror(errno));
    char err[256] = "";
    b = restore_book_load(path, err, sizeof err);
    FZ_CHECK(b, "load failed on a readable file: %s", err);
    /* every server named by a line that parsed as a record has a consistent status */
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *key = memmem(p, n, "\"server\":\"", 10);
        if (key) {
            const char *v = key + 10, *q = memchr(v, '"', (size_t)(p + n - v));
            if (q && q - v < 64) {
                char name[64];
                memcpy(name, v, (size_t)(q - v));
                name[q - v] = '\0';
                const struct restore_status *st = restore_book_get(b, name);
                if (st) {
                    FZ_CHECK(st->any, "a status without a run");
                    FZ_CHECK(st->last_ok <= st->last_run, "last_ok %lld after last_run %lld", (long long)st->last_ok,
                             (long long)st->last_run);
                    FZ_CHECK(memchr(st->method, 0, sizeof st->method), "method not terminated");
                    FZ_CHECK(memchr(st->error, 0, sizeof st->error), "error not terminated");
                    FZ_CHECK(!st->error[0] || st->last_failed, "an error without a failure");
                }
            }
        }
        p += n + 1;
    }
    restore_book_free(b);
    history_safe(false);
    history_safe(true);
    return 0;
}
