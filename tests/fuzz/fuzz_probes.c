/* fuzz_probes.c — every probe's row parser (probe_table[p]->parse) and rate step (derive) on
 * arbitrary results, the way the scheduler runs them: records (fuzzutil.h) make one server's
 * ticks, the first byte (or an "@name" line) picks the first probe and so the server's kind
 * (PostgreSQL or pgBouncer), a 0xFF record ends a tick, and each tick's sections are derived
 * against the previous sample. No crash, no sanitizer report, no leak (samples freed with sample_free); the
 * parsers keep their contract (0 and a section, or -1, a one-line reason and no section). */
#include <stdlib.h>

#include "fuzzutil.h"
#include "probes/probe.h"
#include "probes/sample.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in;
    struct fz_rec r;
    struct server s = {0};
    fz_in_init(&in, data, size);
    s.kind = KIND_POSTGRES;
    if (fz_peek(&in, &r) && r.tag < 0xf0) {
        int p = fz_rec_probe(&r);
        if (p < PROBE_MAX)
            s.kind = probe_table[p]->kind;
    }
    bool with_idle = size && (data[size - 1] & 1);
    while (in.off < in.n) {
        fz_feed(&in, &s, with_idle);
        if (fz_peek(&in, &r) && r.tag == FZ_TAG_SERVER)
            fz_next(&in, &r);
    }
    sample_free(s.cur);
    sample_free(s.prev);
    caps_free(&s.caps);
    return 0;
}
