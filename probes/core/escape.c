/* escape.c — the one escaper for untrusted text and the display width of text, independent of
 * the locale. Everything a server, a config or a log file says passes through esc_into before it
 * reaches a terminal, a text snapshot or the audit printout: no control byte, no bidi override,
 * no invisible character, no invalid UTF-8 ever comes out (see util.h for the contract). */
#include <langinfo.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core/util.h"

/* Decode one strict UTF-8 character (no overlong forms, no surrogates, nothing past U+10FFFF)
 * from p, n bytes available. Returns its length, or 0 for a byte that starts no valid one. */
static int utf8_decode(const unsigned char *p, size_t n, unsigned *cp)
{
    unsigned c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len = c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (!len || (size_t)len > n)
        return 0;
    unsigned v = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
    for (int k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[k] & 0x3f);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Characters that draw nothing or reorder what follows: Unicode format characters (bidi
 * controls, zero-width ones, the BOM, tags), line and paragraph separators, the fillers that
 * render as blanks, and noncharacters. A name made of these could hide or disguise a session. */
static bool invisible(unsigned c)
{
    static const struct {
        unsigned lo, hi;
    } ranges[] = {
        {0x00ad, 0x00ad},   {0x034f, 0x034f},   {0x0600, 0x0605},   {0x061c, 0x061c},   {0x06dd, 0x06dd},
        {0x070f, 0x070f},   {0x0890, 0x0891},   {0x08e2, 0x08e2},   {0x115f, 0x1160},   {0x17b4, 0x17b5},
        {0x180b, 0x180f},   {0x200b, 0x200f},   {0x2028, 0x202e},   {0x2060, 0x206f},   {0x2800, 0x2800},
        {0x3164, 0x3164},   {0xfdd0, 0xfdef},   {0xfe00, 0xfe0f},   {0xfeff, 0xfeff},   {0xffa0, 0xffa0},
        {0xfff0, 0xfffb},   {0x110bd, 0x110bd}, {0x110cd, 0x110cd}, {0x13430, 0x1343f}, {0x1bca0, 0x1bca3},
        {0x1d173, 0x1d17a}, {0xe0000, 0xe0fff},
    };
    if ((c & 0xfffe) == 0xfffe)
        return true; /* U+xFFFE and U+xFFFF of every plane */
    for (size_t i = 0; i < ARRAY_LEN(ranges); i++)
        if (c >= ranges[i].lo && c <= ranges[i].hi)
            return true;
    return false;
}

/* wcwidth() under a UTF-8 locale whatever the process's own, so widths do not depend on
 * LANG; -1 for what it does not know (unassigned code points). */
static locale_t utf8_locale_obj(void)
{
    static locale_t loc;
    static bool tried;
    if (!tried) {
        tried = true;
        loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    }
    return loc;
}

static int cp_width(unsigned c)
{
    if (c >= 0x20 && c < 0x7f)
        return 1;
    if (c < 0xa0)
        return -1;
    locale_t loc = utf8_locale_obj();
    if (!loc)
        return invisible(c) ? -1 : 1; /* no UTF-8 locale at all: assume narrow */
    locale_t old = uselocale(loc);
    int w = wcwidth((wchar_t)c);
    uselocale(old);
    return w;
}

static bool ascii_only;

void esc_set_ascii_only(bool on) { ascii_only = on; }

bool esc_locale_is_utf8(void) { return strcmp(nl_langinfo(CODESET), "UTF-8") == 0; }

/* The escape for one character (or one invalid byte) at p into tmp; returns the bytes of input
 * it stands for, and sets *w to its display width. Printable characters are copied as they are. */
static size_t esc_one(const unsigned char *p, size_t n, int one_line, bool keep_bs, char tmp[16], int *w)
{
    unsigned c;
    int len = utf8_decode(p, n, &c);
    if (!len) {
        snprintf(tmp, 16, "\\x%02x", p[0]);
        *w = 4;
        return 1;
    }
    if (c < 0x20 || c == 0x7f) {
        static const char cstyle[] = "\a\b\t\n\v\f\r";
        static const char letters[] = "abtnvfr";
        const char *k = c ? strchr(cstyle, (int)c) : NULL;
        if (one_line && (c == '\n' || c == '\t' || c == '\r'))
            snprintf(tmp, 16, " ");
        else if (k)
            snprintf(tmp, 16, "\\%c", letters[k - cstyle]);
        else
            snprintf(tmp, 16, "\\%03o", c);
        *w = (int)strlen(tmp);
        return 1;
    }
    if (c == '\\' && !keep_bs) {
        snprintf(tmp, 16, "\\\\");
        *w = 2;
        return 1;
    }
    if (c < 0x80) {
        tmp[0] = (char)c, tmp[1] = '\0';
        *w = 1;
        return 1;
    }
    if (c < 0xa0) { /* C1 controls: escaped byte by byte, like any byte a terminal could obey */
        snprintf(tmp, 16, "\\x%02x\\x%02x", p[0], p[1]);
        *w = 8;
        return 2;
    }
    int cw = invisible(c) ? -1 : cp_width(c);
    if (cw < 0 || ascii_only) {
        snprintf(tmp, 16, c > 0xffff ? "\\U%08x" : "\\u%04x", c);
        *w = (int)strlen(tmp);
        return (size_t)len;
    }
    memcpy(tmp, p, (size_t)len);
    tmp[len] = '\0';
    *w = cw;
    return (size_t)len;
}

static size_t esc_core(char *out, size_t outlen, const char *in, int one_line, bool keep_bs, int cols)
{
    size_t o = 0;
    int used = 0;
    if (!outlen)
        return 0;
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    size_t n = strlen((const char *)p);
    while (n) {
        char tmp[16];
        int w;
        size_t k = esc_one(p, n, one_line, keep_bs, tmp, &w);
        size_t tl = strlen(tmp);
        if (o + tl >= outlen || (cols >= 0 && used + w > cols))
            break;
        memcpy(out + o, tmp, tl);
        o += tl;
        used += w;
        p += k;
        n -= k;
    }
    out[o] = '\0';
    return o;
}

size_t esc_cols(char *out, size_t outlen, const char *in, int one_line, int cols)
{
    return esc_core(out, outlen, in, one_line, false, cols);
}

size_t esc_into(char *out, size_t outlen, const char *in, int one_line)
{
    return esc_core(out, outlen, in, one_line, false, -1);
}

size_t esc_safe_cols(char *out, size_t outlen, const char *in, int cols)
{
    return esc_core(out, outlen, in, 0, true, cols);
}

char *esc_safe(const char *in)
{
    size_t n = strlen(in ? in : "") * 4 + 1;
    char *out = xmalloc(n);
    esc_core(out, n, in, 0, true, -1);
    return out;
}

char *esc(const char *in, int one_line)
{
    /* an escape is at most 4 output bytes per input byte (\xNN; \u202e is 6 for 3) */
    size_t n = strlen(in ? in : "") * 4 + 1;
    char *out = xmalloc(n);
    esc_into(out, n, in, one_line);
    return out;
}

/* Walk s a character at a time until the next would pass cols columns; an invalid byte or a
 * non-printable character counts one column (it is never shown raw anyway). */
static size_t walk(const char *s, int cols, int *used)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n = strlen(s);
    int u = 0;
    while (i < n) {
        unsigned c;
        int len = utf8_decode(p + i, n - i, &c);
        int w = 1;
        if (!len)
            len = 1;
        else if (c >= 0x80 && (w = cp_width(c)) < 0)
            w = 1;
        if (u + w > cols)
            break;
        u += w;
        i += (size_t)len;
    }
    *used = u;
    return i;
}

int str_cols(const char *s)
{
    int w;
    walk(s ? s : "", 1 << 30, &w);
    return w;
}

size_t str_fit(const char *s, int cols)
{
    int w;
    return walk(s ? s : "", cols, &w);
}

char *str_pad(char *buf, size_t len, const char *s, int cols, int right)
{
    struct text t;
    text_init(&t);
    text_pad(&t, s ? s : "", cols, right);
    size_t n = t.len < len ? t.len : len - 1;
    while (n > 0 && n < t.len && ((unsigned char)t.s[n] & 0xc0) == 0x80)
        n--; /* never half a character */
    memcpy(buf, t.s, n);
    buf[n] = '\0';
    text_free(&t);
    return buf;
}

void text_pad(struct text *t, const char *s, int cols, int right)
{
    size_t bytes = str_fit(s, cols);
    int w;
    walk(s, cols, &w);
    if (right)
        text_printf(t, "%*s", cols - w, "");
    text_addn(t, s, bytes);
    if (!right)
        text_printf(t, "%*s", cols - w, "");
}

void fputs_safe(const char *text, FILE *f)
{
    for (const char *p = text ? text : ""; *p;) {
        size_t n = strcspn(p, "\n");
        char *line = xstrndup(p, n), *e = esc_safe(line);
        fputs(e, f);
        if (p[n] == '\n')
            fputc('\n', f);
        free(line);
        free(e);
        p += n + (p[n] == '\n');
    }
}
