/* util.h — small helpers every module uses: allocation that never fails, a growable text
 * buffer, clocks, duration/size parsing and formatting, and escaping of untrusted text. */
#ifndef PGFLEET_UTIL_H
#define PGFLEET_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

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
char *fmt_age(char *buf, size_t len, double seconds);     /* "3.2s", "4m05s", "2h10m", "3d04h" */
char *fmt_bytes(char *buf, size_t len, double bytes);     /* "512B", "3.4MB" */
char *fmt_count(char *buf, size_t len, double n);         /* "950", "12k", "4.1M" */

/* Escape untrusted text (query text, names, server messages) so no control byte reaches a
 * terminal or log: vis(3) with C-style escapes; newlines and tabs become spaces when
 * one_line is set (table cells), and are kept escaped otherwise. Always NUL-terminates. */
char *esc(const char *in, int one_line);                /* malloc'd */
size_t esc_into(char *out, size_t outlen, const char *in, int one_line);

/* The nearest candidate to word by edit distance (for "did you mean"), or NULL if none is close. */
const char *nearest_word(const char *word, const char *const *candidates, size_t n);

#endif
