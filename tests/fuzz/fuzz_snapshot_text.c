/* fuzz_snapshot_text.c — `pgfleet snapshot` as text (snapshot_write_text) on a fleet whose
 * servers hold samples parsed from fuzzed results, reasons and tags (fuzzutil.h: fz_world_new):
 * whatever the servers sent, the text is safe for a terminal: valid UTF-8, no control byte but
 * the newline, no DEL, no C1 control, no format or bidi character (fuzzutil.c's own oracle).
 * FUZZ_DUMP=1 build/fuzz/fuzz_snapshot_text FILE prints the snapshot of an input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "tui/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_world *w = fz_world_new(data, size);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    FZ_CHECK(f != NULL, "open_memstream");
    snapshot_write_text(&w->m, f);
    fclose(f);
    if (getenv("FUZZ_DUMP")) /* FUZZ_DUMP=1 build/fuzz/fuzz_snapshot_text FILE shows the snapshot */
        fwrite(buf, 1, len, stderr);
    size_t at;
    const char *why = fz_unsafe_text(buf, len, true, &at);
    if (why) {
        fz_dump("text snapshot", buf, len, at);
        fz_fail(__FILE__, __LINE__, "the text snapshot is safe for a terminal", "%s", why);
    }
    FZ_CHECK(len == 0 || buf[len - 1] == '\n', "the text snapshot does not end its last line");
    free(buf);
    fz_world_free(w);
    return 0;
}
