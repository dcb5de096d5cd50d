/* util.h — small helpers every module uses: allocation that never fails, a growable text
 * buffer, clocks, duration/size parsing and formatting, and escaping of untrusted text. */
#ifndef PGFLEET_UTIL_H
#define PGFLEET_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* fatal() prints a message and exits 1; before that it runs the hook (the TUI installs one that
 * restores the terminal), so an out-of-memory never leaves the user's terminal in raw mode. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatal_set_hook(void (*hook)(void));

/* A growable, always NUL-terminated string. */
struct text {
    char *s;
    size_t len, cap;
};
void text_init(struct text *t);
void text_free(struct text *t);
void text_clear(struct text *t);
void text_add(struct text *t, const char *s);
void text_addn(struct text *t, const char *s, size_t n);
void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void text_vprintf(struct text *t, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Milliseconds on the monotonic clock: deadlines and intervals never use the wall clock. */
int64_t now_ms(void);

/* "2s", "500ms", "1m", "1h", bare number = seconds. Returns 0 and sets *ms, or -1. */
int parse_duration_ms(const char *s, int64_t *ms);
/* "16MB", "1GB", "512kB", bare number = bytes (powers of 1024, as PostgreSQL does). */
int parse_size_bytes(const char *s, int64_t *bytes);

/* Human formatting into caller buffers; they return buf. */
char *fmt_age(char *buf, size_t len, double seconds); /* "3.2s", "4m05s", "2h10m", "3d04h" */
/* The largest whole unit only: "45s", "40m", "5h", "3d" (ages of days: a restore test's). */
char *fmt_age_coarse(char *buf, size_t len, double seconds);
char *fmt_bytes(char *buf, size_t len, double bytes); /* "512B", "3.4MB" */
char *fmt_count(char *buf, size_t len, double n);     /* "950", "12k", "4.1M" */
/* Epoch microseconds (decimal text, as the probes give session start times) as ISO 8601 UTC,
 * "2026-12-05T08:42:46.123456Z"; "-" for NULL or garbage. */
char *fmt_epoch_us(char *buf, size_t len, const char *us);

/* The one escaper for untrusted text (query text, names, server messages, config values, log
 * lines): whatever goes in, what comes out is valid UTF-8 holding only printable characters. C0
 * controls and DEL become C escapes (\033, \n; newlines and tabs become spaces when one_line is
 * set, for table cells), bytes that are not valid UTF-8 become \xNN, and C1 controls, Unicode
 * format characters (bidi overrides such as U+202E, zero-width characters, the BOM), line and
 * paragraph separators, invisible fillers and unassigned code points become \u202e or
 * \U000e0001. Printable UTF-8 passes through. Always NUL-terminates; never cuts inside a
 * character or an escape. */
char *esc(const char *in, int one_line); /* malloc'd */
size_t esc_into(char *out, size_t outlen, const char *in, int one_line);
/* The same, also cut to at most cols display columns; returns the bytes written. */
size_t esc_cols(char *out, size_t outlen, const char *in, int one_line, int cols);
/* Last line of defence for text about to reach a terminal or a text snapshot, already escaped or
 * not: the same escapes, except that backslashes stay as they are (escaped text passes through
 * unchanged). cols < 0: no cut. */
size_t esc_safe_cols(char *out, size_t outlen, const char *in, int cols);
char *esc_safe(const char *in); /* malloc'd, no cut */
/* fputs with every line through esc_safe: messages that quote a user's file or a server. */
void fputs_safe(const char *text, FILE *f);
/* Escape every non-ASCII character too: main sets it for a terminal whose locale is not UTF-8. */
void esc_set_ascii_only(bool on);
bool esc_locale_is_utf8(void);
/* Display columns of text (wide characters count 2, combining marks 0); an invalid byte or a
 * non-printable character counts 1. Independent of the locale. */
int str_cols(const char *s);
/* The bytes of the longest prefix of s that fits in cols columns, never inside a character. */
size_t str_fit(const char *s, int cols);
/* Print s left- or right-aligned in a field of cols display columns (cut to fit): the text
 * snapshot's columns, aligned by width rather than bytes. */
void text_pad(struct text *t, const char *s, int cols, int right);
/* The same into buf (cut on a character boundary if buf is too small); returns buf. */
char *str_pad(char *buf, size_t len, const char *s, int cols, int right);

/* The nearest candidate to word by edit distance (for "did you mean"), or NULL if none is close. */
const char *nearest_word(const char *word, const char *const *candidates, size_t n);

/* A stable merge sort of n elements of size bytes by cmp(a, b, ctx): ties keep their order, and
 * the comparison gets its context as an argument (qsort_r is not C11). */
void sort_stable(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, const void *),
                 const void *ctx);

#endif
