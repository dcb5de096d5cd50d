/* restore_record.c — the restore tests' record (restore_record.h): the writer (one JSON line per
 * run, appended to a private file and flushed to disk, like the audit log), the reader (the whole
 * file, or its newest RESTORE_FILE_MAX bytes, into a book of per-server statuses; garbage is
 * skipped and counted) and `pgfleet restore-test --history`. Probes layer: it reads a local file,
 * as the probes read /proc. */
#include "probes/restore_record.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/state_file.h"
#include "core/util.h"

char *restore_records_default_path(void) { return state_file_path("restore_tests.jsonl"); }

/* ---- writing ---- */

static void iso_utc(char *buf, size_t len, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Text as it came when it is valid UTF-8 (JSON escapes its control characters; readers escape
 * it again before showing it), escaped when it is not; cut to max bytes on a character. */
static json_t *jtext(const char *s, size_t max)
{
    if (!s)
        return json_null();
    char *e = NULL;
    json_t *j = json_string(s);
    if (!j) {
        e = esc(s, 0);
        j = json_string(e);
    }
    if (j && max && json_string_length(j) > max) {
        const char *v = json_string_value(j);
        size_t n = max;
        while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
            n--;
        json_t *cut = json_stringn(v, n);
        json_decref(j);
        j = cut;
    }
    free(e);
    return j ? j : json_string("?");
}

static json_t *jreal(double v) { return isfinite(v) ? json_real(v) : json_null(); }

char *restore_record_line(const struct restore_run *r)
{
    char ts[32];
    iso_utc(ts, sizeof ts, r->started);
    json_t *o = json_object();
    json_object_set_new(o, "record", json_string("restore_test"));
    json_object_set_new(o, "server", jtext(r->server, 256));
    json_object_set_new(o, "source", jtext(r->source, 256));
    json_object_set_new(o, "method", jtext(r->method, 64));
    json_object_set_new(o, "outcome", jtext(r->outcome, 16));
    json_object_set_new(o, "started", json_string(ts));
    json_object_set_new(o, "started_epoch", json_integer((json_int_t)r->started));
    json_object_set_new(o, "rto_s", jreal(r->rto_s));
    json_object_set_new(o, "bytes", r->bytes >= 0 ? json_integer(r->bytes) : json_null());
    json_object_set_new(o, "failed_phase", jtext(r->failed_phase, 64));
    json_object_set_new(o, "error", jtext(r->error, RESTORE_ERROR_MAX));
    json_object_set_new(o, "audit_id", jtext(r->audit_id, 64));
    json_t *ph = json_array();
    for (size_t i = 0; i < r->nphases; i++) {
        json_t *p = json_object();
        json_object_set_new(p, "name", jtext(r->phases[i].name, 64));
        json_object_set_new(p, "seconds", jreal(r->phases[i].seconds));
        json_array_append_new(ph, p);
    }
    json_object_set_new(o, "phases", ph);
    json_t *ck = json_array();
    for (size_t i = 0; i < r->nchecks; i++)
        json_array_append_new(ck, jtext(r->checks[i], 500));
    json_object_set_new(o, "checks", ck);
    char *line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(o);
    return line;
}

int restore_record_append(const char *path, const struct restore_run *r, char *err, size_t errlen)
{
    if (!path) {
        snprintf(err, errlen, "no place for the restore test record (no home directory)");
        return -1;
    }
    char *line = restore_record_line(r);
    if (!line) {
        snprintf(err, errlen, "cannot encode the restore test record");
        return -1;
    }
    int rc = state_file_append(path, line, err, errlen);
    free(line);
    return rc;
}

/* ---- reading ---- */

struct book_entry {
    char *server;
    struct restore_status st;
    /* for "the newest run" when two share a start time: the later line wins */
    time_t last_decided; /* start of the newest run that was not aborted */
};

struct restore_book {
    struct book_entry *e; /* sorted by server once loaded */
    size_t n, cap;
    size_t skipped;
};

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct book_entry *)a)->server, ((const struct book_entry *)b)->server);
}

static struct book_entry *entry_for(struct restore_book *b, const char *server)
{
    for (size_t i = 0; i < b->n; i++) /* unsorted while loading; fleets name few servers */
        if (strcmp(b->e[i].server, server) == 0)
            return &b->e[i];
    if (b->n >= RESTORE_SERVERS_MAX)
        return NULL;
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 8;
        b->e = xreallocarray(b->e, b->cap, sizeof *b->e);
    }
    struct book_entry *e = &b->e[b->n++];
    memset(e, 0, sizeof *e);
    e->server = xstrdup(server);
    e->st.last_ok_rto_s = NAN;
    return e;
}

/* "2026-12-06T03:00:00Z" as epoch seconds; -1 if it is not that. */
static time_t parse_iso(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end || (*end && strcmp(end, "Z") != 0))
        return -1;
    return timegm(&tm);
}

/* A run's start: started_epoch, else the ISO text; within year 1970..9999. -1 if neither. */
static time_t run_start(json_t *o)
{
    json_t *ep = json_object_get(o, "started_epoch");
    time_t t = -1;
    if (json_is_integer(ep))
        t = (time_t)json_integer_value(ep);
    else
        t = parse_iso(json_string_value(json_object_get(o, "started")));
    return t > 0 && t < 253402300800 ? t : -1;
}

static void copy_text(char *dst, size_t len, const char *src)
{
    /* cut on a character: the reader may show it */
    size_t n = strlen(src);
    if (n >= len) {
        n = len - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* One line into the book; false when it is not a restore test record. */
static bool absorb(struct restore_book *b, const char *line, size_t len)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    bool ok = false;
    const char *server = json_string_value(json_object_get(o, "server"));
    const char *outcome = json_string_value(json_object_get(o, "outcome"));
    const char *rec = json_string_value(json_object_get(o, "record"));
    time_t t = run_start(o);
    if (json_is_object(o) && server && *server && strlen(server) <= 256 && outcome && t > 0 &&
        (!rec || strcmp(rec, "restore_test") == 0)) {
        struct book_entry *e = entry_for(b, server);
        if (e) {
            struct restore_status *st = &e->st;
            bool good = strcmp(outcome, "ok") == 0, failed = strcmp(outcome, "failed") == 0;
            bool aborted = strcmp(outcome, "aborted") == 0;
            const char *method = json_string_value(json_object_get(o, "method"));
            if (!st->any || t >= st->last_run) {
                st->last_run = t;
                snprintf(st->last_outcome, sizeof st->last_outcome, "%s",
                         good          ? "ok"
                             : failed  ? "failed"
                             : aborted ? "aborted"
                                       : "?");
                copy_text(st->method, sizeof st->method, method ? method : "");
            }
            if (good && t >= st->last_ok) {
                st->last_ok = t;
                json_t *rto = json_object_get(o, "rto_s");
                st->last_ok_rto_s = json_is_number(rto) ? json_number_value(rto) : NAN;
            }
            if ((good || failed) && t >= e->last_decided) {
                e->last_decided = t;
                st->last_failed = failed;
                const char *er = json_string_value(json_object_get(o, "error"));
                copy_text(st->error, sizeof st->error, failed && er ? er : "");
            }
            /* an outcome we do not know is neither good nor a failure: it only counts as a run */
            st->any = true;
            ok = true;
        }
    }
    json_decref(o);
    return ok;
}

struct restore_book *restore_book_parse(const char *text, size_t len)
{
    struct restore_book *b = xcalloc(1, sizeof *b);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        bool blank = true;
        for (size_t i = 0; i < n && blank; i++)
            blank = p[i] == ' ' || p[i] == '\t' || p[i] == '\r';
        if (!blank && (n > RESTORE_LINE_MAX || !absorb(b, p, n)))
            b->skipped++;
        p += n + 1;
    }
    if (b->n)
        qsort(b->e, b->n, sizeof *b->e, cmp_entry);
    return b;
}

/* The file's text, or its newest RESTORE_FILE_MAX bytes from the start of a line. NULL with err
 * on a read error; *missing when there is no file. */
static char *read_records(const char *path, size_t *len, bool *missing, char *err, size_t errlen)
{
    *missing = false;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            *missing = true;
            return NULL;
        }
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    off_t from = st.st_size > RESTORE_FILE_MAX ? st.st_size - RESTORE_FILE_MAX : 0;
    size_t cap = (size_t)(st.st_size - from);
    char *buf = xmalloc(cap + 1);
    size_t got = 0;
    while (got < cap) {
        ssize_t r = pread(fd, buf + got, cap - got, from + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break; /* it shrank meanwhile */
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    size_t skip = 0;
    if (from > 0) { /* we started inside a line: drop it */
        char *nl = memchr(buf, '\n', got);
        skip = nl ? (size_t)(nl - buf) + 1 : got;
        memmove(buf, buf + skip, got - skip + 1);
    }
    *len = got - skip;
    return buf;
}

struct restore_book *restore_book_load(const char *path, char *err, size_t errlen)
{
    size_t len;
    bool missing;
    char *text = path ? read_records(path, &len, &missing, err, errlen) : NULL;
    if (!text && path && !missing)
        return NULL;
    struct restore_book *b = restore_book_parse(text ? text : "", text ? len : 0);
    free(text);
    return b;
}

const struct restore_status *restore_book_get(const struct restore_book *b, const char *server)
{
    if (!b || !server || !b->n)
        return NULL;
    struct book_entry key = {.server = (char *)server};
    const struct book_entry *e = bsearch(&key, b->e, b->n, sizeof *b->e, cmp_entry);
    return e ? &e->st : NULL;
}

size_t restore_book_servers(const struct restore_book *b) { return b ? b->n : 0; }
size_t restore_book_skipped(const struct restore_book *b) { return b ? b->skipped : 0; }

void restore_book_free(struct restore_book *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        free(b->e[i].server);
    free(b->e);
    free(b);
}

/* ---- --history ---- */

static const char *jget(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void put_esc(struct text *t, const char *s)
{
    char *e = esc(s, 1);
    text_add(t, e);
    free(e);
}

/* "2026-12-06T03:00:00Z  primary  basebackup  ok  RTO 4m05s  170.2MB  from replica" and, when
 * it failed, "failed at verify: the message"; then the phases and checks, indented. */
static void print_run(FILE *out, json_t *o)
{
    char ts[32], a[32];
    time_t t = run_start(o);
    struct text l;
    text_init(&l);
    if (t > 0)
        iso_utc(ts, sizeof ts, t);
    text_add(&l, t > 0 ? ts : "?");
    text_add(&l, "  ");
    put_esc(&l, jget(o, "server"));
    text_add(&l, "  ");
    put_esc(&l, *jget(o, "method") ? jget(o, "method") : "?");
    text_add(&l, "  ");
    put_esc(&l, *jget(o, "outcome") ? jget(o, "outcome") : "?");
    if (*jget(o, "failed_phase")) {
        text_add(&l, " at ");
        put_esc(&l, jget(o, "failed_phase"));
    }
    json_t *rto = json_object_get(o, "rto_s");
    if (json_is_number(rto) && isfinite(json_number_value(rto)) && json_number_value(rto) >= 0)
        text_printf(&l, "  RTO %s", fmt_age(a, sizeof a, json_number_value(rto)));
    json_t *bytes = json_object_get(o, "bytes");
    if (json_is_integer(bytes) && json_integer_value(bytes) >= 0)
        text_printf(&l, "  %s", fmt_bytes(a, sizeof a, (double)json_integer_value(bytes)));
    if (*jget(o, "source") && strcmp(jget(o, "source"), jget(o, "server")) != 0) {
        text_add(&l, "  from ");
        put_esc(&l, jget(o, "source"));
    }
    if (*jget(o, "error")) {
        text_add(&l, ": ");
        char e[512]; /* 200 columns, never cut inside an escape or a character */
        esc_cols(e, sizeof e, jget(o, "error"), 1, 200);
        text_add(&l, e);
    }
    fprintf(out, "%s\n", l.s);
    text_clear(&l);
    size_t i;
    json_t *x;
    json_array_foreach (json_object_get(o, "phases"), i, x) {
        json_t *sec = json_object_get(x, "seconds");
        text_add(&l, i ? ", " : "    phases: ");
        put_esc(&l, *jget(x, "name") ? jget(x, "name") : "?");
        if (json_is_number(sec) && isfinite(json_number_value(sec)) && json_number_value(sec) >= 0)
            text_printf(&l, " %s", fmt_age(a, sizeof a, json_number_value(sec)));
        if (i >= 49) {
            text_add(&l, ", …");
            break;
        }
    }
    if (l.len)
        fprintf(out, "%s\n", l.s);
    json_array_foreach (json_object_get(o, "checks"), i, x) {
        if (i >= 50)
            break;
        text_clear(&l);
        char c[512];
        esc_cols(c, sizeof c, json_string_value(x) ? json_string_value(x) : "?", 1, 160);
        fprintf(out, "    check: %s\n", c);
    }
    text_free(&l);
}

/* A record as one line of ASCII JSON; DEL, which JSON leaves raw, as \u007f (it can only be
 * inside a string there): nothing a terminal acts on. */
static void print_json(FILE *out, json_t *o)
{
    char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6));
    for (const char *c = line; c && *c; c++)
        if (*c == 0x7f)
            fputs("\\u007f", out);
        else
            fputc(*c, out);
    if (line)
        fputc('\n', out);
    free(line);
}

int restore_history_print(const char *path, const char *server, bool json, FILE *out)
{
    char err[512] = "";
    size_t len;
    bool missing;
    char *epath = esc(path ? path : "(no home directory)", 1);
    char *text = path ? read_records(path, &len, &missing, err, sizeof err) : NULL;
    if (!text) {
        int rc = 1;
        if (path && !missing) {
            char *e = esc(err, 1);
            fprintf(stderr, "pgfleet: %s\n", e);
            free(e);
            rc = 2;
        } else if (!json) {
            fprintf(out, "no restore tests recorded yet (%s does not exist)\n", epath);
        }
        free(epath);
        return rc;
    }
    size_t shown = 0, skipped = 0;
    for (char *p = text, *end = text + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_error_t jerr;
        json_t *o = n <= RESTORE_LINE_MAX ? json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr) : NULL;
        p += n + 1;
        const char *s = json_string_value(json_object_get(o, "server"));
        const char *rec = json_string_value(json_object_get(o, "record"));
        if (!json_is_object(o) || !s || (rec && strcmp(rec, "restore_test") != 0)) {
            bool blank = n == 0 || strspn(p - n - 1, " \t\r") == n;
            skipped += !blank;
            json_decref(o);
            continue;
        }
        if (!server || strcmp(s, server) == 0) {
            if (json) {
                print_json(out, o);
            } else {
                print_run(out, o);
            }
            shown++;
        }
        json_decref(o);
    }
    free(text);
    if (!json && skipped)
        fprintf(out, "(%zu line%s of %s skipped: not a restore test record)\n", skipped, skipped == 1 ? "" : "s",
                epath);
    if (!json && !shown) {
        char *es = server ? esc(server, 1) : NULL;
        fprintf(out, "no restore tests recorded%s%s\n", es ? " for " : "", es ? es : "");
        free(es);
    }
    free(epath);
    return shown ? 0 : 1;
}
