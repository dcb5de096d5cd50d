/* fuzz_escape.c — the escaper (util.h: esc, esc_into, esc_cols) and the width functions
 * (str_cols, str_fit, text_pad) against an oracle of our own: whatever the input, what comes out
 * of the escaper is valid UTF-8 with no control, format or bidi character (fuzzutil.c decodes and
 * classifies on its own, not with escape.c's tables), NUL-terminated within outlen and within
 * cols display columns, cut only between whole characters and escapes; unescaping it gives the
 * input back (nothing dropped or changed); printable ASCII without backslashes is unchanged.
 * Input: flags (bit 0 one_line, bit 1 text_pad right-aligned), cols, outlen, then the text (up
 * to its first NUL). */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "fuzzutil.h"

/* One unit of escaped text at p: an escape or a character; its length in bytes, 0 if what
 * starts at p is neither (a stray backslash). *byte and *cp tell what it stands for: the raw byte
 * (\xNN, \NNN, \n ...; cp = UINT32_MAX) or a code point (a character, \uXXXX, \UXXXXXXXX). */
static size_t unit(const char *p, size_t n, int *byte, uint32_t *cp)
{
    static const char letters[] = "abtnvfr", ctl[] = "\a\b\t\n\v\f\r";
    *byte = -1;
    *cp = UINT32_MAX;
    if (p[0] != '\\') {
        int l = fz_utf8((const unsigned char *)p, n, cp);
        return (size_t)l;
    }
    if (n < 2)
        return 0;
    const char *k = strchr(letters, p[1]);
    if (p[1] == '\\') {
        *byte = '\\';
        return 2;
    }
    if (k && p[1]) {
        *byte = (unsigned char)ctl[k - letters];
        return 2;
    }
    size_t digits = p[1] == 'x' ? 2 : p[1] == 'u' ? 4 : p[1] == 'U' ? 8 : (p[1] >= '0' && p[1] <= '3') ? 3 : 0;
    size_t start = p[1] >= '0' && p[1] <= '3' ? 1 : 2;
    if (!digits || n < start + digits)
        return 0;
    unsigned long v = 0;
    for (size_t i = start; i < start + digits; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f'   ? c - 'a' + 10
            : c >= 'A' && c <= 'F'   ? c - 'A' + 10
                                     : -1;
        if (d < 0 || (start == 1 && d > 7))
            return 0;
        v = v * (start == 1 ? 8 : 16) + (unsigned long)d;
    }
    if (p[1] == 'u' || p[1] == 'U')
        *cp = (uint32_t)v;
    else
        *byte = (int)v;
    return start + digits;
}

static void put_utf8(struct text *t, uint32_t c)
{
    char b[4];
    size_t n;
    if (c < 0x80)
        b[0] = (char)c, n = 1;
    else if (c < 0x800)
        b[0] = (char)(0xc0 | c >> 6), b[1] = (char)(0x80 | (c & 0x3f)), n = 2;
    else if (c < 0x10000)
        b[0] = (char)(0xe0 | c >> 12), b[1] = (char)(0x80 | ((c >> 6) & 0x3f)), b[2] = (char)(0x80 | (c & 0x3f)), n = 3;
    else
        b[0] = (char)(0xf0 | c >> 18), b[1] = (char)(0x80 | ((c >> 12) & 0x3f)),
        b[2] = (char)(0x80 | ((c >> 6) & 0x3f)), b[3] = (char)(0x80 | (c & 0x3f)), n = 4;
    text_addn(t, b, n);
}

/* Decodes escaped text back to bytes; fails the run on a stray backslash. The unit boundaries
 * go to cut[] (cut[i] set when a unit starts at i, and at the end); a C1 control escaped byte by
 * byte (\xc2\x85) is one unit: splitting it would split a character. */
static char *unescape(const char *s, size_t n, bool *cut, size_t *outn)
{
    struct text t;
    text_init(&t);
    int prev_c2 = 0;
    for (size_t i = 0; i < n;) {
        int byte;
        uint32_t cp;
        size_t l = unit(s + i, n - i, &byte, &cp);
        if (!l) {
            fz_dump("escaped", s, n, i);
            fz_fail(__FILE__, __LINE__, "every backslash starts an escape", "a stray or unknown escape");
        }
        bool c1_tail = prev_c2 && byte >= 0x80 && byte <= 0x9f && s[i + 1] == 'x';
        cut[i] = !c1_tail;
        prev_c2 = byte == 0xc2 && s[i + 1] == 'x';
        if (byte >= 0)
            text_addn(&t, (char[]){(char)byte}, 1);
        else
            put_utf8(&t, cp);
        i += l;
    }
    cut[n] = true;
    *outn = t.len;
    return t.s ? t.s : xstrdup("");
}

static void check_safe(const char *what, const char *out, size_t n)
{
    size_t at;
    const char *why = fz_unsafe_text(out, n, false, &at);
    if (why) {
        fz_dump(what, out, n, at);
        fz_fail(__FILE__, __LINE__, "escaped text is safe to print", "%s: %s", what, why);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    int one_line = data[0] & 1, right = (data[0] >> 1) & 1;
    int cols = data[1];
    size_t outlen = data[2];
    char *in = xstrndup((const char *)data + 3, size - 3);
    size_t inlen = strlen(in);

    /* the whole escape */
    char *full = esc(in, one_line);
    size_t fn = strlen(full);
    check_safe("esc()", full, fn);
    bool *cut = xcalloc(fn + 1, sizeof *cut);
    size_t dn;
    char *dec = unescape(full, fn, cut, &dn);
    /* one_line: newlines and tabs became spaces (a CR may have too) */
    char *want = xstrdup(in);
    for (size_t i = 0; i < inlen; i++)
        if (want[i] == '\n' || want[i] == '\t' || (one_line && want[i] == '\r'))
            want[i] = one_line ? ' ' : want[i];
    for (size_t i = 0; one_line && i < dn; i++)
        if (dec[i] == '\r')
            dec[i] = ' ';
    if (dn != inlen || memcmp(dec, want, inlen) != 0) {
        fz_dump("input", in, inlen, SIZE_MAX);
        fz_dump("escaped", full, fn, SIZE_MAX);
        fz_dump("unescaped", dec, dn, SIZE_MAX);
        fz_fail(__FILE__, __LINE__, "unescape(esc(s)) == s", "the escape lost or changed text (one_line=%d)", one_line);
    }
    bool plain = true;
    for (size_t i = 0; i < inlen; i++)
        plain = plain && in[i] >= 0x20 && in[i] < 0x7f && in[i] != '\\';
    if (plain) {
        FZ_CHECK(strcmp(full, in) == 0, "printable ASCII changed: \"%s\" -> \"%s\"", in, full);
        FZ_CHECK(str_cols(in) == (int)inlen, "str_cols of printable ASCII: %d for %zu chars", str_cols(in), inlen);
    }
    int fullw = str_cols(full);
    FZ_CHECK(fullw >= 0, "str_cols(esc()) = %d", fullw);

    /* cut to outlen bytes and cols columns, in a buffer of exactly outlen bytes */
    char *out = malloc(outlen);
    size_t n = esc_cols(out, outlen, in, one_line, cols);
    if (outlen) {
        if (!memchr(out, '\0', outlen))
            fz_fail(__FILE__, __LINE__, "NUL-terminated within outlen", "esc_cols(outlen=%zu) left no NUL", outlen);
        FZ_CHECK(n == strlen(out), "esc_cols returned %zu for %zu bytes", n, strlen(out));
        check_safe("esc_cols()", out, n);
        if (n > fn || memcmp(out, full, n) != 0 || !cut[n]) {
            fz_dump("esc()", full, fn, n <= fn ? n : SIZE_MAX);
            fz_dump("esc_cols()", out, n, SIZE_MAX);
            fz_fail(__FILE__, __LINE__, "esc_cols cuts esc() between whole characters and escapes",
                    "outlen %zu cols %d", outlen, cols);
        }
        int w = str_cols(out);
        FZ_CHECK(w <= cols, "esc_cols(cols=%d) wrote %d columns", cols, w);
        if (outlen > fn && fullw <= cols)
            FZ_CHECK(n == fn, "esc_cols cut %zu of %zu bytes with room for all (outlen %zu, %d of %d cols)", n, fn,
                     outlen, fullw, cols);
    } else {
        FZ_CHECK(n == 0, "esc_cols(outlen=0) returned %zu", n);
    }
    free(out);

    /* esc_into: the same without the column limit */
    out = malloc(outlen);
    n = esc_into(out, outlen, in, one_line);
    if (outlen) {
        if (!memchr(out, '\0', outlen))
            fz_fail(__FILE__, __LINE__, "NUL-terminated within outlen", "esc_into(outlen=%zu) left no NUL", outlen);
        FZ_CHECK(n == strlen(out), "esc_into returned %zu for %zu bytes", n, strlen(out));
        if (n > fn || memcmp(out, full, n) != 0 || !cut[n]) {
            fz_dump("esc()", full, fn, n <= fn ? n : SIZE_MAX);
            fz_dump("esc_into()", out, n, SIZE_MAX);
            fz_fail(__FILE__, __LINE__, "esc_into cuts esc() between whole characters and escapes", "outlen %zu",
                    outlen);
        }
        if (outlen > fn)
            FZ_CHECK(n == fn, "esc_into cut %zu of %zu bytes with room for all (outlen %zu)", n, fn, outlen);
    }
    free(out);
    /* with room for everything, esc_into and esc agree */
    out = xmalloc(fn + 1);
    n = esc_into(out, fn + 1, in, one_line);
    FZ_CHECK(n == fn && memcmp(out, full, fn + 1) == 0, "esc_into with room for all differs from esc");
    free(out);

    /* widths of raw (unescaped) text: the fit is the longest prefix, cut between characters */
    int w = str_cols(in);
    FZ_CHECK(w >= 0, "str_cols = %d", w);
    size_t k = str_fit(in, cols);
    FZ_CHECK(k <= inlen, "str_fit %zu past the end %zu", k, inlen);
    size_t next = k;
    if (k < inlen) {
        uint32_t c;
        int l = fz_utf8((const unsigned char *)in + k, inlen - k, &c);
        next = k + (size_t)(l ? l : 1);
    }
    for (size_t i = 0; i < k;) { /* k is a character boundary */
        uint32_t c;
        int l = fz_utf8((const unsigned char *)in + i, inlen - i, &c);
        i += (size_t)(l ? l : 1);
        if (i > k) {
            fz_dump("text", in, inlen, k);
            fz_fail(__FILE__, __LINE__, "str_fit never cuts inside a character", "str_fit(cols=%d) = %zu", cols, k);
        }
    }
    char *pre = xstrndup(in, k);
    int pw = str_cols(pre);
    FZ_CHECK(pw <= cols, "str_fit(cols=%d): the prefix takes %d columns", cols, pw);
    if (k < inlen) {
        char *more = xstrndup(in, next);
        int mw = str_cols(more);
        if (mw <= cols) {
            fz_dump("text", in, inlen, k);
            fz_fail(__FILE__, __LINE__, "str_fit gives the longest prefix",
                    "str_fit(cols=%d) = %zu bytes but %zu bytes take %d columns", cols, k, next, mw);
        }
        free(more);
    } else {
        FZ_CHECK(pw == w, "the whole text fits: %d columns, str_cols says %d", pw, w);
    }

    /* text_pad: exactly cols columns, the fitting prefix and spaces */
    struct text t;
    text_init(&t);
    text_add(&t, "|");
    text_pad(&t, in, cols, right);
    const char *padded = t.s + 1;
    size_t pl = t.len - 1;
    int tw = str_cols(padded);
    FZ_CHECK(tw == cols, "text_pad(cols=%d, right=%d) gave %d columns", cols, right, tw);
    FZ_CHECK(pl >= k, "text_pad wrote %zu bytes for a %zu byte prefix", pl, k);
    const char *txt = right ? padded + (pl - k) : padded;
    const char *pad = right ? padded : padded + k;
    bool spaces = true;
    for (size_t i = 0; i < pl - k; i++)
        spaces = spaces && pad[i] == ' ';
    if (memcmp(txt, in, k) != 0 || !spaces) {
        fz_dump("text", in, inlen, SIZE_MAX);
        fz_dump("padded", padded, pl, SIZE_MAX);
        fz_fail(__FILE__, __LINE__, "text_pad = prefix + spaces", "cols %d right %d", cols, right);
    }
    text_free(&t);

    free(pre);
    free(want);
    free(dec);
    free(cut);
    free(full);
    free(in);
    return 0;
}
