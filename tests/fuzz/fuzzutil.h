/* fuzzutil.h — what the libFuzzer targets (tests/fuzz/fuzz_*.c) share: failing loudly with the
 * offending bytes shown, an independent oracle for "safe to print" text (its own strict UTF-8
 * decoder and its own list of forbidden characters, on purpose not pgfleet's escape.c), probe
 * results made from fuzz input (records), the scheduler's tick replayed over those records, and
 * a fleet model built from them without any network.
 *
 * Records: the input (after any header a target reads) is a list of records separated by NUL
 * bytes (server text never holds a NUL, so a rowset needs none). A record's first byte is its tag:
 *   0xFF           end of a tick: the scheduler's absorb step runs (derive, rotate cur -> prev)
 *   0xFE ...       next server (fuzz_snapshot_*: a header, see fz_world_new)
 *   0xF0..0xFD     ignored (reserved)
 *   anything else  a probe result: probe ((tag & 0x1f) + PROBE_MAX) % (PROBE_MAX + 1), i.e. tag
 *                  1 + id for probe id (a NUL tag would be a separator), where PROBE_MAX stands
 *                  for the capability check (probe_parse_caps), unless the body starts with a line
 *                  "@name" naming the probe (probe_table[]->name or "caps": what the seeds use, so
 *                  they survive new probe ids); bit 0x20: an error result (body: 5 bytes of
 *                  SQLSTATE, then the message); bit 0x40: raw rows (cells split by 0x1f, rows by
 *                  0x1e, first row the column names, a cell "\x1d" is NULL, short rows padded
 *                  with NULL); otherwise the body is the fixture text format of rowset.h (the
 *                  .rows fixtures of tests/data/probes); bit 0x80: the next byte (before any
 *                  "@name" line) sets a small error buffer for the parser (1..64 bytes).
 * A seed made of a tag byte, "@name\n" and a fixture is a valid probe result, so the fixtures seed
 * everything. */
#ifndef PGFLEET_FUZZUTIL_H
#define PGFLEET_FUZZUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/rowset.h"
#include "probes/model.h"
#include "probes/sample.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Reports a broken property (what, then the message) on stderr and aborts: libFuzzer saves the
 * input as crash-* and prints the reproducer's path. */
void fz_fail(const char *file, int line, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));
/* clang-format off */
#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                       \
    } while (0)
/* clang-format on */

/* Prints label and up to 512 bytes of p around offset at (SIZE_MAX: from the start) as C-style
 * escapes, so a report shows exactly which bytes were wrong. */
void fz_dump(const char *label, const void *p, size_t n, size_t at);

/* Strict UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF): the length of the
 * character at p (n bytes available) and its code point, or 0 if p does not start one. */
int fz_utf8(const unsigned char *p, size_t n, uint32_t *cp);

/* A character that must never reach a terminal raw: C0 controls, DEL, C1 controls, Unicode
 * format characters (bidi controls, zero-width ones, BOM, tags, ...), line/paragraph
 * separators, invisible fillers and noncharacters. */
bool fz_forbidden_cp(uint32_t cp);

/* Why s (n bytes) is not safe to print, or NULL: invalid UTF-8 or a forbidden character ('\n'
 * allowed when newlines is set). *at gets the offending offset. */
const char *fz_unsafe_text(const char *s, size_t n, bool newlines, size_t *at);

/* The input as records. */
struct fz_in {
    const uint8_t *p;
    size_t n, off;
};
struct fz_rec {
    uint8_t tag;
    const uint8_t *body;
    size_t len;
};
void fz_in_init(struct fz_in *in, const uint8_t *p, size_t n);
bool fz_peek(const struct fz_in *in, struct fz_rec *r);
bool fz_next(struct fz_in *in, struct fz_rec *r);

#define FZ_TAG_TICK 0xFF
#define FZ_TAG_SERVER 0xFE

/* The rowset of a probe record (NULL if its text does not parse); *probe gets the probe (or
 * PROBE_MAX for the capability check) and *errlen the parser's error buffer size. */
struct rowset *fz_rowset(const struct fz_rec *r, int *probe, size_t *errlen);
/* The probe of a record: its "@name" line, else its tag (PROBE_MAX: the capability check). */
int fz_rec_probe(const struct fz_rec *r);

/* Replays the probe records up to the next 0xFE record (or the end) on server s the way
 * sched.c's absorb step does: parse each result into a new sample (a probe once per tick, only
 * the probes of the server's kind), carry the sections not run forward, derive the rates of
 * those run from the previous sample, rotate cur -> prev. Checks the parsers' contract (0 with
 * the section filled, or -1 with a one-line reason and no section) and the server section's
 * rates. Returns the ticks completed. */
int fz_feed(struct fz_in *in, struct server *s, bool with_idle);

/* A fleet built from fuzz input without a network: sched_init over a config made here (servers
 * and poolers), connections never started, samples from fz_feed, statuses set by hand.
 * Input: byte 0 global flags (bit 0: idle sessions shown; bits 1-3: refresh), then records;
 * those before the first 0xFE record belong to a first PostgreSQL server. A 0xFE record starts
 * the next server (at most FZ_MAX_SERVERS): 0xFE, flags (bit 0: a pgBouncer; bit 1: it serves
 * every PostgreSQL server; bit 2: local), status (& 3, 0: what sched would say after the ticks; 1
 * DOWN, 2 STALE, 3 CONNECTING, with the reason below), tick_ms/37, then the reason up to the
 * first 0x1f byte, then tags separated by 0x1f (only the valid UTF-8 ones: a YAML file holds no
 * other). A header byte is never 0 (a NUL ends the record): 0x08 says no flag, 0x04 status 0. */
#define FZ_MAX_SERVERS 6
struct fz_world {
    struct config cfg;
    struct model m;
};
struct fz_world *fz_world_new(const uint8_t *data, size_t size);
void fz_world_free(struct fz_world *w);

#endif
