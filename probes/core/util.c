/* util.c — allocation, text buffers, clocks, duration/size parsing and formatting, and the
 * "did you mean" shared by every part of pgfleet (the escaper is in escape.c). */
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void (*fatal_hook)(void);

void fatal_set_hook(void (*hook)(void)) { fatal_hook = hook; }

void fatal(const char *fmt, ...)
{
    va_list ap;
    if (fatal_hook)
        fatal_hook();
    fputs("pgfleet: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        fatal("out of memory (%zu bytes)", n);
    return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        fatal("out of memory");
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        fatal("out of memory (%zu bytes)", n);
    return p;
}

void *xreallocarray(void *p, size_t nmemb, size_t size)
{
    if (size && nmemb > SIZE_MAX / size)
        fatal("allocation overflow");
    return xrealloc(p, nmemb * size);
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    struct text t;
    va_list ap;
    text_init(&t);
    va_start(ap, fmt);
    text_vprintf(&t, fmt, ap);
    va_end(ap);
    return t.s;
}

void text_init(struct text *t)
{
    t->cap = 64;
    t->len = 0;
    t->s = xmalloc(t->cap);
    t->s[0] = '\0';
}

void text_free(struct text *t)
{
    free(t->s);
    t->s = NULL;
    t->len = t->cap = 0;
}

void text_clear(struct text *t)
{
    t->len = 0;
    if (t->s)
        t->s[0] = '\0';
}

static void text_reserve(struct text *t, size_t more)
{
    if (!t->s)
        text_init(t);
    if (t->len + more + 1 <= t->cap)
        return;
    while (t->len + more + 1 > t->cap)
        t->cap *= 2;
    t->s = xrealloc(t->s, t->cap);
}

void text_addn(struct text *t, const char *s, size_t n)
{
    text_reserve(t, n);
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

void text_add(struct text *t, const char *s) { text_addn(t, s, strlen(s)); }

void text_vprintf(struct text *t, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    text_reserve(t, (size_t)n);
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
    t->len += (size_t)n;
}

void text_printf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    text_vprintf(t, fmt, ap);
    va_end(ap);
}

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parse "<number><unit>" where unit is looked up in units[]; the empty unit must be listed. */
struct unit {
    const char *name;
    double factor;
};

static int parse_with_units(const char *s, const struct unit *units, size_t nunits, double *out)
{
    char *end;
    if (!s)
        return -1;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s || *s == '-')
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    for (size_t i = 0; i < nunits; i++) {
        if (strcasecmp(end, units[i].name) == 0) {
            *out = v * units[i].factor;
            return 0;
        }
    }
    return -1;
}

int parse_duration_ms(const char *s, int64_t *ms)
{
    static const struct unit units[] = {
        {"", 1000},   {"ms", 1},      {"s", 1000},    {"sec", 1000},
        {"m", 60000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000},
    };
    double v;
    if (parse_with_units(s, units, ARRAY_LEN(units), &v) || v > 9.2e15)
        return -1;
    *ms = (int64_t)llround(v);
    return 0;
}

int parse_size_bytes(const char *s, int64_t *bytes)
{
    static const struct unit units[] = {
        {"", 1},
        {"B", 1},
        {"kB", 1024.0},
        {"KiB", 1024.0},
        {"MB", 1048576.0},
        {"MiB", 1048576.0},
        {"GB", 1073741824.0},
        {"GiB", 1073741824.0},
        {"TB", 1099511627776.0},
        {"TiB", 1099511627776.0},
    };
    double v;
    if (parse_with_units(s, units, ARRAY_LEN(units), &v) || v > 9.2e18)
        return -1;
    *bytes = (int64_t)llround(v);
    return 0;
}

char *fmt_epoch_us(char *buf, size_t len, const char *us)
{
    char *end;
    long long v = us ? strtoll(us, &end, 10) : 0;
    if (!us || !*us || *end) {
        snprintf(buf, len, "-");
        return buf;
    }
    time_t secs = (time_t)(v / 1000000);
    long frac = (long)(v % 1000000);
    if (frac < 0)
        secs--, frac += 1000000;
    struct tm tm;
    char day[32];
    gmtime_r(&secs, &tm);
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06ldZ", day, frac);
    return buf;
}

char *fmt_age(char *buf, size_t len, double s)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, len, "-");
    else if (s < 10)
        snprintf(buf, len, "%.1fs", s);
    else if (s < 60)
        snprintf(buf, len, "%.0fs", floor(s));
    else if (s < 3600)
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else if (s < 86400)
        snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s, 3600) / 60);
    else
        snprintf(buf, len, "%dd%02dh", (int)(s / 86400), (int)fmod(s, 86400) / 3600);
    return buf;
}

char *fmt_age_coarse(char *buf, size_t len, double s)
{
    if (!isfinite(s))
        snprintf(buf, len, "-");
    else if (s < 60)
        snprintf(buf, len, "%.0fs", s < 0 ? 0 : floor(s));
    else if (s < 3600)
        snprintf(buf, len, "%.0fm", floor(s / 60));
    else if (s < 86400)
        snprintf(buf, len, "%.0fh", floor(s / 3600));
    else
        snprintf(buf, len, "%.0fd", s / 86400 < 1e6 ? floor(s / 86400) : 999999);
    return buf;
}

static char *fmt_scaled(char *buf, size_t len, double v, double base, const char *const *sfx, int nsfx, int int_below)
{
    int i = 0;
    if (!isfinite(v)) {
        snprintf(buf, len, "n/a");
        return buf;
    }
    double a = fabs(v);
    while (a >= base && i < nsfx - 1) {
        a /= base;
        v /= base;
        i++;
    }
    if (i == 0 && int_below)
        snprintf(buf, len, "%.0f%s", v, sfx[0]);
    else
        snprintf(buf, len, a < 10 ? "%.1f%s" : "%.0f%s", v, sfx[i]);
    return buf;
}

char *fmt_bytes(char *buf, size_t len, double bytes)
{
    static const char *const sfx[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    return fmt_scaled(buf, len, bytes, 1024, sfx, 6, 1);
}

char *fmt_count(char *buf, size_t len, double n)
{
    static const char *const sfx[] = {"", "k", "M", "G", "T"};
    if (isfinite(n) && fabs(n) < 1000 && n != floor(n)) {
        snprintf(buf, len, fabs(n) < 10 ? "%.1f" : "%.0f", n);
        return buf;
    }
    return fmt_scaled(buf, len, n, 1000, sfx, 5, 1);
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = xcalloc(lb + 1, sizeof *row);
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[lb];
    free(row);
    return d;
}

const char *nearest_word(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t bestd = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, cands[i]);
        if (d < bestd) {
            bestd = d;
            best = cands[i];
        }
    }
    /* Close means: at most a third of the word's letters wrong (and at least one allowed). */
    size_t limit = strlen(word) / 3 + 1;
    return bestd <= limit ? best : NULL;
}

static void sort_into(char *v, char *tmp, size_t n, size_t size, int (*cmp)(const void *, const void *, const void *),
                      const void *ctx)
{
    if (n < 2)
        return;
    size_t h = n / 2, i = 0, j = h, k = 0;
    sort_into(v, tmp, h, size, cmp, ctx);
    sort_into(v + h * size, tmp, n - h, size, cmp, ctx);
    while (i < h && j < n) {
        bool right = cmp(v + j * size, v + i * size, ctx) < 0; /* only a strictly smaller right goes first */
        memcpy(tmp + k++ * size, v + (right ? j++ : i++) * size, size);
    }
    memcpy(tmp + k * size, v + i * size, (h - i) * size);
    k += h - i;
    memcpy(tmp + k * size, v + j * size, (n - j) * size);
    memcpy(v, tmp, n * size);
}

void sort_stable(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, const void *),
                 const void *ctx)
{
    if (n < 2)
        return;
    char *tmp = xmalloc(n * size);
    sort_into(base, tmp, n, size, cmp, ctx);
    free(tmp);
}
