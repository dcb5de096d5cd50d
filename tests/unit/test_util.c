/* test_util.c — unit tests for the helpers in include/core/util.h (duration and size parsing, human
 * formatting, the growable text buffer, "did you mean", and above all the escaping of untrusted
 * text: no control byte may reach a terminal) and for the pure conninfo helpers of include/core/conn.h
 * (libpq's parser only, no server). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conn.h"
#include "core/util.h"

/* ---- helpers ---- */

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
 * Returns the length of the sequence at p and its code point, or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, uint32_t *cp)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[k] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/* What a terminal may safely be sent: no C0 control, no DEL, no C1 control (U+0080..U+009F). */
static bool no_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return false;
    }
    return true;
}

/* no_control() and, on top, well-formed UTF-8 only. */
static bool terminal_safe(const char *s)
{
    if (!no_control(s))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t cp;
        size_t n = utf8_seq(p, &cp);
        if (!n || (cp >= 0x80 && cp <= 0x9f))
            return false;
        p += n;
    }
    return true;
}

/* Compares a malloc'd result and frees it before failing, so a failure never leaks. */
static void expect_owned(char *got, const char *want, const char *what)
{
    bool same = strcmp(got, want) == 0, safe = terminal_safe(got);
    if (same && safe) {
        free(got);
        return;
    }
    char msg[600];
    snprintf(msg, sizeof msg, "%s: got \"%s\", want \"%s\"%s", what, got, want, safe ? "" : " (not terminal safe)");
    free(got);
    fail_msg("%s", msg);
}

static void expect_esc(const char *in, int one_line, const char *want)
{
    expect_owned(esc(in, one_line), want, one_line ? "esc(one_line)" : "esc");
}

/* ---- parse_duration_ms / parse_size_bytes ---- */

static void test_parse_duration(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t ms;
    } ok[] = {
        {"2s", 2000},   {"500ms", 500},  {"1m", 60000}, {"1h", 3600000},   {"5", 5000},      {"0", 0},
        {"1.5s", 1500}, {"250 ms", 250}, {" 3s", 3000}, {"10min", 600000}, {"1d", 86400000}, {"2S", 2000},
    };
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        int64_t ms = -42;
        assert_int_equal(parse_duration_ms(ok[i].in, &ms), 0);
        assert_int_equal(ms, ok[i].ms);
    }
    static const char *const bad[] = {"2x",  "-1",  "",    " ",     "s",         "ms",  "1s2",
                                      "nan", "inf", "-5s", "1e30h", "2 seconds", "1,5s"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int64_t ms = -42;
        if (parse_duration_ms(bad[i], &ms) != -1)
            fail_msg("parse_duration_ms accepted \"%s\" as %lld ms", bad[i], (long long)ms);
    }
    int64_t ms = 0;
    assert_int_equal(parse_duration_ms(NULL, &ms), -1);
}

static void test_parse_size(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t bytes;
    } ok[] = {
        {"16MB", 16LL * 1024 * 1024},
        {"1GB", 1024LL * 1024 * 1024},
        {"512kB", 512 * 1024},
        {"100", 100},
        {"0", 0},
        {"8B", 8},
        {"1TB", 1LL << 40},
        {"1.5MB", 1536 * 1024},
        {"2 MiB", 2 * 1024 * 1024},
    };
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        int64_t b = -42;
        assert_int_equal(parse_size_bytes(ok[i].in, &b), 0);
        assert_int_equal(b, ok[i].bytes);
    }
    static const char *const bad[] = {"-1", "", "12XB", "MB", "16 M B", "1e30TB", "nan"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int64_t b = -42;
        if (parse_size_bytes(bad[i], &b) != -1)
            fail_msg("parse_size_bytes accepted \"%s\" as %lld", bad[i], (long long)b);
    }
}

/* ---- fmt_age / fmt_bytes / fmt_count ---- */

static void test_fmt_age(void **state)
{
    (void)state;
    static const struct {
        double s;
        const char *want;
    } cases[] = {
        {0, "0.0s"},      {3.24, "3.2s"},    {12.7, "12s"},   {59.9, "59s"},   {60, "1m00s"},
        {245, "4m05s"},   {3599, "59m59s"},  {3600, "1h00m"}, {7830, "2h10m"}, {86399, "23h59m"},
        {86400, "1d00h"}, {273600, "3d04h"}, {-1, "-"},       {NAN, "-"},      {INFINITY, "-"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char buf[32];
        assert_ptr_equal(fmt_age(buf, sizeof buf, cases[i].s), buf);
        assert_string_equal(buf, cases[i].want);
    }
    /* A short buffer is cut, never overrun, and stays terminated. */
    char small[3];
    fmt_age(small, sizeof small, 245);
    assert_string_equal(small, "4m");
}

static void test_fmt_bytes(void **state)
{
    (void)state;
    static const struct {
        double b;
        const char *want;
    } cases[] = {
        {0, "0B"},
        {512, "512B"},
        {1023, "1023B"},
        {1024, "1.0kB"},
        {1536, "1.5kB"},
        {3.4 * 1048576, "3.4MB"},
        {15 * 1073741824.0, "15GB"},
        {-2048, "-2.0kB"},
        {NAN, "n/a"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char buf[32];
        assert_ptr_equal(fmt_bytes(buf, sizeof buf, cases[i].b), buf);
        assert_string_equal(buf, cases[i].want);
    }
}

static void test_fmt_count(void **state)
{
    (void)state;
    static const struct {
        double n;
        const char *want;
    } cases[] = {
        {0, "0"},     {950, "950"},     {999, "999"}, {1000, "1.0k"}, {4.1e6, "4.1M"},
        {2.5, "2.5"}, {-1500, "-1.5k"}, {NAN, "n/a"}, {150, "150"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char buf[32];
        assert_ptr_equal(fmt_count(buf, sizeof buf, cases[i].n), buf);
        assert_string_equal(buf, cases[i].want);
    }
}

/* util.h documents fmt_count's forms as "950", "12k", "4.1M": narrow cells, two digits. */
static void test_fmt_count_documented_example(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(fmt_count(buf, sizeof buf, 950), "950");
    assert_string_equal(fmt_count(buf, sizeof buf, 12300), "12k");
    assert_string_equal(fmt_count(buf, sizeof buf, 4100000), "4.1M");
}

/* ---- text buffers ---- */

static void test_text_growth(void **state)
{
    (void)state;
    struct text t;
    text_init(&t);
    assert_non_null(t.s);
    assert_int_equal(t.len, 0);
    assert_string_equal(t.s, "");
    /* One byte at a time across several doublings: always terminated, len exact. */
    for (size_t i = 0; i < 1000; i++) {
        text_addn(&t, &"0123456789"[i % 10], 1);
        assert_int_equal(t.len, i + 1);
        assert_true(t.cap > t.len);
        assert_int_equal(t.s[t.len], '\0');
    }
    assert_int_equal(strlen(t.s), 1000);
    assert_memory_equal(t.s + 990, "0123456789", 10);
    size_t cap = t.cap;
    text_clear(&t);
    assert_int_equal(t.len, 0);
    assert_string_equal(t.s, "");
    assert_int_equal(t.cap, cap); /* clearing keeps the allocation */

    /* A printf bigger than the whole buffer in one go. */
    char big[5000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    text_add(&t, "<");
    text_printf(&t, "%s|%d", big, 42);
    text_add(&t, ">");
    assert_int_equal(t.len, 1 + 4999 + 3 + 1);
    assert_int_equal(strlen(t.s), t.len);
    assert_string_equal(t.s + t.len - 4, "|42>");

    /* text_addn copies exactly n bytes, even ones past a NUL. */
    text_clear(&t);
    text_addn(&t, "abc\0def", 7);
    assert_int_equal(t.len, 7);
    assert_memory_equal(t.s, "abc\0def", 8);
    text_free(&t);
    assert_null(t.s);
    assert_int_equal(t.len, 0);

    /* A zeroed (or freed) buffer starts itself on first use. */
    struct text z = {0};
    text_add(&z, "hello");
    text_printf(&z, " %s", "world");
    assert_string_equal(z.s, "hello world");
    text_free(&z);
    text_free(&z); /* twice is harmless */

    char *s = xasprintf("%s-%05d-%c", "x", 42, 'z');
    assert_string_equal(s, "x-00042-z");
    free(s);
    char *d = xstrndup("abcdef", 3);
    assert_string_equal(d, "abc");
    free(d);
}

/* ---- esc / esc_into ---- */

static void test_esc_controls(void **state)
{
    (void)state;
    expect_esc("\x1b[31mred", 0, "\\033[31mred");
    expect_esc("\x1b]0;title\x07", 1, "\\033]0;title\\a");
    expect_esc("bell\a", 0, "bell\\a");
    expect_esc("a\rb", 0, "a\\rb");
    expect_esc("a\bb", 0, "a\\bb");
    expect_esc("del\x7f", 0, "del\\177");
    expect_esc("\x01\x02", 1, "\\001\\002");
    expect_esc("ff\fvt\v", 1, "ff\\fvt\\v");
    /* U+009B (CSI as a C1 control, bytes c2 9b) is valid UTF-8 but a control all the same. */
    expect_esc("csi\xc2\x9b"
               "2J",
               0, "csi\\xc2\\x9b2J");
    expect_esc("\xc2\x80\xc2\x9f", 1, "\\xc2\\x80\\xc2\\x9f");
    /* A backslash is escaped so that escapes stay unambiguous. */
    expect_esc("C:\\temp", 0, "C:\\\\temp");
    expect_esc("", 0, "");
    char *n = esc(NULL, 1);
    assert_string_equal(n, "");
    free(n);
}

static void test_esc_every_byte(void **state)
{
    (void)state;
    /* Every single byte, alone and between letters, comes out without a control. */
    for (int c = 1; c < 256; c++) {
        char in[4] = {'a', (char)c, 'b', 0};
        for (int one = 0; one <= 1; one++) {
            char *out = esc(in + 1, one);
            if (!no_control(out))
                fail_msg("byte 0x%02x (one_line=%d) escaped to a control", c, one);
            free(out);
            out = esc(in, one);
            if (!no_control(out))
                fail_msg("byte 0x%02x between letters (one_line=%d) escaped to a control", c, one);
            free(out);
        }
    }
    /* Random strings (fixed seed): no C0, DEL or C1 control ever survives. */
    unsigned seed = 12345;
    for (int i = 0; i < 20000; i++) {
        unsigned char in[16];
        size_t len = 0;
        for (; len < sizeof in - 1; len++) {
            seed = seed * 1103515245u + 12345u;
            unsigned v = (seed >> 16) & 0xff;
            if (!v)
                break;
            in[len] = (unsigned char)v;
        }
        in[len] = 0;
        char *out = esc((const char *)in, i & 1);
        if (!no_control(out))
            fail_msg("random input %d escaped to a control: %s", i, out);
        free(out);
    }
}

static void test_esc_utf8(void **state)
{
    (void)state;
    expect_esc("café", 0, "café");
    expect_esc("日本", 1, "日本");
    expect_esc("naïve 🐘 ok", 1, "naïve 🐘 ok");
    /* Invalid UTF-8 is escaped byte by byte. */
    expect_esc("\xff", 0, "\\xff");
    expect_esc("a\x80z", 0, "a\\x80z");                                 /* lone continuation byte */
    expect_esc("caf\xc3", 0, "caf\\xc3");                               /* cut at the end */
    expect_esc("\xe6\x97x", 0, "\\xe6\\x97x");                          /* cut 日 followed by ASCII */
    expect_esc("\xc0\xaf", 0, "\\xc0\\xaf");                            /* overlong '/' */
    expect_esc("\xf8\x88\x80\x80\x80", 0, "\\xf8\\x88\\x80\\x80\\x80"); /* 5-byte form */
}

/* Overlong, surrogate and out-of-range forms are not UTF-8 either (RFC 3629); a lenient
 * decoder turns e0 82 9b into U+009B, the C1 CSI. They must be escaped like any invalid byte. */
static void test_esc_rejects_overlong_and_surrogates(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xe0\x82\x9b",     /* overlong U+009B (CSI) */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xed\xa0\x80",     /* UTF-16 surrogate U+D800 */
        "\xf0\x80\x80\xaf", /* overlong '/' in 4 bytes */
        "\xf4\x90\x80\x80", /* U+110000, above the Unicode range */
    };
    char raw[64] = "";
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        char *out = esc(bad[i], 1);
        if (!terminal_safe(out) || out[0] != '\\') /* must start with an escape */
            snprintf(raw + strlen(raw), sizeof raw - strlen(raw), " #%zu", i);
        free(out);
    }
    if (*raw)
        fail_msg("invalid UTF-8 passed through raw instead of escaped, cases:%s", raw);
}

static void test_esc_one_line(void **state)
{
    (void)state;
    expect_esc("a\nb\tc\r\nd", 1, "a b c  d");
    expect_esc("a\nb\tc\r\nd", 0, "a\\nb\\tc\\r\\nd");
    expect_esc("SELECT\n\t1", 1, "SELECT  1");
}

/* The escapes of in[0..k) for every k on a character boundary are the only acceptable results
 * of a cut: esc_into must never stop in the middle of an escape or of a UTF-8 sequence. */
static void check_truncation(const char *in, int one_line)
{
    char *full = esc(in, one_line);
    size_t flen = strlen(full);
    for (size_t n = 0; n <= flen + 2; n++) {
        char *out = xmalloc(n ? n : 1); /* exactly n bytes: ASan catches any overrun */
        if (n)
            memset(out, 'Z', n);
        size_t got = esc_into(out, n, in, one_line);
        if (n == 0) {
            assert_int_equal(got, 0);
            free(out);
            continue;
        }
        assert_int_equal(strlen(out), got); /* terminated, and the length is returned */
        assert_true(got < n);
        assert_memory_equal(out, full, got); /* a prefix of the whole */
        if (n > flen)
            assert_string_equal(out, full);
        bool boundary = false;
        for (size_t k = 0; k <= strlen(in) && !boundary; k++) {
            char *pre = xstrndup(in, k);
            char *e = esc(pre, one_line);
            boundary = strcmp(e, out) == 0;
            free(e);
            free(pre);
        }
        bool safe = no_control(out);
        free(out);
        if (!boundary || !safe) {
            free(full);
            fail_msg("esc_into cut with %zu bytes: %s", n, boundary ? "control byte" : "not on a boundary");
        }
    }
    free(full);
}

static void test_esc_into_truncation(void **state)
{
    (void)state;
    check_truncation("ab\x1b[2Jcd", 0);
    check_truncation("x\x7f\xc2\x9by\\", 1);
    check_truncation("é日本\xff🐘z", 0);
    check_truncation("a\nb\tc", 0);
    check_truncation("a\nb\tc", 1);
    /* Explicit cases: 4 bytes for "\033" plus the NUL. */
    char buf[8];
    assert_int_equal(esc_into(buf, 4, "\x1b", 0), 0);
    assert_string_equal(buf, "");
    assert_int_equal(esc_into(buf, 5, "\x1b", 0), 4);
    assert_string_equal(buf, "\\033");
    assert_int_equal(esc_into(buf, 3, "aé", 0), 1); /* é needs 2 bytes + NUL */
    assert_string_equal(buf, "a");
    assert_int_equal(esc_into(buf, 1, "abc", 0), 0);
    assert_string_equal(buf, "");
    assert_int_equal(esc_into(buf, sizeof buf, NULL, 0), 0);
    assert_string_equal(buf, "");
}

/* ---- nearest_word ---- */

static void test_nearest_word(void **state)
{
    (void)state;
    static const char *const keys[] = {"refresh", "timeout", "servers", "thresholds", "read_only"};
    assert_string_equal(nearest_word("refersh", keys, ARRAY_LEN(keys)), "refresh");
    assert_string_equal(nearest_word("timeot", keys, ARRAY_LEN(keys)), "timeout");
    assert_string_equal(nearest_word("SERVERS", keys, ARRAY_LEN(keys)), "servers");
    assert_string_equal(nearest_word("server", keys, ARRAY_LEN(keys)), "servers");
    assert_string_equal(nearest_word("readonly", keys, ARRAY_LEN(keys)), "read_only");
    assert_null(nearest_word("xyz", keys, ARRAY_LEN(keys)));
    assert_null(nearest_word("pooler", keys, ARRAY_LEN(keys)));
    assert_null(nearest_word("", keys, ARRAY_LEN(keys)));
    assert_null(nearest_word("refresh", keys, 0));
}

/* ---- conninfo (libpq's parser, no server) ---- */

static void test_conninfo_check(void **state)
{
    (void)state;
    static const char *const ok[] = {"host=a dbname=x", "postgresql://u@h:5433/db", "",
                                     "postgres://h/db?sslmode=require", "host=/tmp port=5999"};
    for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
        char *err = NULL;
        int rc = conn_check_conninfo(ok[i], &err);
        free(err);
        if (rc != 0 || err)
            fail_msg("rejected \"%s\"", ok[i]);
    }
    char *err = NULL;
    assert_int_equal(conn_check_conninfo(NULL, &err), 0);

    static const struct {
        const char *in, *mentions;
    } bad[] = {
        {"host=a bogus_key=1", "bogus_key"},
        {"postgresql://[", "postgresql://["},
        {"host='unterminated", "quote"},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        err = NULL;
        assert_int_equal(conn_check_conninfo(bad[i].in, &err), -1);
        assert_non_null(err);
        bool good = *err && !strchr(err, '\n') && strstr(err, bad[i].mentions); /* one line */
        char msg[400];
        snprintf(msg, sizeof msg, "%s", err);
        free(err);
        if (!good)
            fail_msg("message for \"%s\" should be one line mentioning %s: %s", bad[i].in, bad[i].mentions, msg);
    }
}

static const char *const pgenv[] = {"PGHOST", "PGPORT", "PGDATABASE", "PGSERVICE", "PGHOSTADDR"};

struct saved_env {
    char *val[ARRAY_LEN(pgenv)];
};

static void save_env(struct saved_env *s)
{
    for (size_t i = 0; i < ARRAY_LEN(pgenv); i++) {
        const char *v = getenv(pgenv[i]);
        s->val[i] = v ? xstrdup(v) : NULL;
        unsetenv(pgenv[i]);
    }
}

static void restore_env(struct saved_env *s)
{
    for (size_t i = 0; i < ARRAY_LEN(pgenv); i++) {
        if (s->val[i])
            setenv(pgenv[i], s->val[i], 1);
        else
            unsetenv(pgenv[i]);
        free(s->val[i]);
    }
}

static void expect_display(const char *conninfo, const char *want)
{
    expect_owned(conn_display_name(conninfo), want, conninfo);
}

static void test_conninfo_display_name(void **state)
{
    (void)state;
    struct saved_env saved;
    save_env(&saved);

    expect_display("postgresql://u@h:5433/db", "h:5433/db");
    expect_display("postgresql://u:secret@h:5433/db", "h:5433/db");
    expect_display("host=db1.example.com dbname=shop", "db1.example.com:5432/shop");
    expect_display("host=a port=6000", "a:6000");
    /* A Unix socket directory is shown as local. */
    expect_display("host=/var/run/postgresql dbname=x", "local:5432/x");
    expect_display("postgresql://%2Ftmp:5999/db", "local:5999/db");
    expect_display("", "local:5432");
    expect_display("service=reporting", "reporting"); /* a service names itself */

    /* What is missing comes from the environment, as libpq would take it. */
    setenv("PGHOST", "envhost", 1);
    setenv("PGPORT", "6543", 1);
    setenv("PGDATABASE", "envdb", 1);
    expect_display("", "envhost:6543/envdb");
    expect_display("host=a", "a:6543/envdb");
    expect_display("postgresql://h:5433/db", "h:5433/db"); /* given beats environment */
    setenv("PGHOST", "/tmp", 1);
    expect_display("dbname=x", "local:6543/x");

    restore_env(&saved);
}

/* hostaddr alone means TCP to that address, not the local socket; an empty PGHOST means
 * libpq's default (the local socket), not a host named "". */
static void test_conninfo_display_name_hostaddr(void **state)
{
    (void)state;
    struct saved_env saved;
    save_env(&saved);
    char *a = conn_display_name("hostaddr=192.0.2.10 dbname=x");
    setenv("PGHOST", "", 1);
    char *b = conn_display_name("dbname=x");
    restore_env(&saved);
    char msg[300];
    snprintf(msg, sizeof msg,
             "hostaddr only: \"%s\" (want \"192.0.2.10:5432/x\"); empty PGHOST: \"%s\" (want \"local:5432/x\")", a, b);
    bool ok = strcmp(a, "192.0.2.10:5432/x") == 0 && strcmp(b, "local:5432/x") == 0;
    free(a);
    free(b);
    if (!ok)
        fail_msg("%s", msg);
}

static void test_conninfo_has_password(void **state)
{
    (void)state;
    assert_true(conn_has_password("password=x"));
    assert_true(conn_has_password("host=a password='s e c r e t' dbname=x"));
    assert_true(conn_has_password("postgresql://u:pw@h/db"));
    assert_true(conn_has_password("postgresql://u@h/db?password=pw"));
    assert_false(conn_has_password("host=a user=u dbname=x"));
    assert_false(conn_has_password("postgresql://u@h/db"));
    assert_false(conn_has_password(""));
    assert_false(conn_has_password(NULL));
    assert_false(conn_has_password("passfile=/tmp/pgpass"));
    assert_false(conn_has_password("host=a bogus=1")); /* unparsable: nothing to hide */
}

/* Characters that draw nothing or reorder the line: a user could hide a session's name or
 * disguise a query with them. They are escaped, never passed through. */
static void test_esc_format_characters(void **state)
{
    (void)state;
    expect_esc("abc\xe2\x80\xae"
               "def",
               1, "abc\\u202edef");                                /* RIGHT-TO-LEFT OVERRIDE */
    expect_esc("\xe2\x81\xa6x\xe2\x81\xa9", 1, "\\u2066x\\u2069"); /* isolates */
    expect_esc("a\xe2\x80\x8b"
               "b",
               1, "a\\u200bb");                           /* ZERO WIDTH SPACE */
    expect_esc("\xef\xbb\xbfSELECT", 1, "\\ufeffSELECT"); /* BOM */
    expect_esc("x\xe2\x80\xa8y", 0, "x\\u2028y");         /* LINE SEPARATOR */
    expect_esc("soft\xc2\xadhyphen", 1, "soft\\u00adhyphen");
    expect_esc("\xe3\x85\xa4", 1, "\\u3164");               /* HANGUL FILLER: a blank name */
    expect_esc("tag\xf3\xa0\x80\x81", 1, "tag\\U000e0001"); /* LANGUAGE TAG */
    expect_esc("\xef\xbf\xbf", 1, "\\uffff");               /* a noncharacter */
    expect_esc("\xe2\xa0\x80", 1, "\\u2800");               /* BRAILLE BLANK */
    expect_esc("a\xcd\x8f", 1, "a\\u034f");                 /* COMBINING GRAPHEME JOINER */
    /* printable text of other scripts still passes */
    expect_esc("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", 1, "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"); /* Hebrew */
    expect_esc("e\xcc\x81", 1, "e\xcc\x81");                                               /* e + combining acute */
    esc_set_ascii_only(true);
    expect_esc("caf\xc3\xa9", 1, "caf\\u00e9");
    esc_set_ascii_only(false);
}

/* Widths by display columns, not bytes: a CJK character takes two, a combining mark none. */
static void test_str_cols(void **state)
{
    (void)state;
    assert_int_equal(str_cols("abc"), 3);
    assert_int_equal(str_cols("caf\xc3\xa9"), 4);
    assert_int_equal(str_cols("\xe6\x97\xa5\xe6\x9c\xac"), 4); /* 日本 */
    assert_int_equal(str_cols("e\xcc\x81"), 1);
    assert_int_equal(str_cols("\xff"), 1);
    assert_int_equal(str_cols(""), 0);
    assert_int_equal(str_fit("\xe6\x97\xa5\xe6\x9c\xac", 3), 3); /* one wide character */
    assert_int_equal(str_fit("\xe6\x97\xa5\xe6\x9c\xac", 1), 0);
    assert_int_equal(str_fit("ab\xc3\xa9"
                             "cd",
                             3),
                     4);

    char buf[64];
    /* esc_cols: cut on columns, never inside an escape or a character */
    assert_int_equal(esc_cols(buf, sizeof buf, "\xe6\x97\xa5\xe6\x9c\xac", 1, 3), 3);
    assert_string_equal(buf, "\xe6\x97\xa5");
    esc_cols(buf, sizeof buf, "ab\x1b[2J", 1, 5);
    assert_string_equal(buf, "ab"); /* \033 needs 4 columns */
    esc_cols(buf, sizeof buf, "ab\x1b[2J", 1, 6);
    assert_string_equal(buf, "ab\\033");
    esc_cols(buf, sizeof buf, "anything", 1, 0);
    assert_string_equal(buf, "");

    struct text t;
    text_init(&t);
    text_pad(&t, "\xe6\x97\xa5x", 5, 0);
    text_add(&t, "|");
    text_pad(&t, "\xe6\x97\xa5x", 5, 1);
    text_add(&t, "|");
    text_pad(&t, "abcdef", 3, 0);
    assert_string_equal(t.s, "\xe6\x97\xa5x  |  \xe6\x97\xa5x|abc");
    text_free(&t);
}

/* Passwords leave argv once copied (ps shows x's), and libpq's quoting of a bad conninfo never
 * shows them, even with a quote inside the password. */
static void test_conninfo_scrub(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"host=db password=hunter2 dbname=app", "host=db password=xxxxxxx dbname=app"},
        {"password = 'a b\\'c' host=db", "password = 'xxxxxx' host=db"},
        {"host=db passwordx=1", "host=db passwordx=1"},
        {"postgresql://u:s3cret@db:5432/app", "postgresql://u:xxxxxx@db:5432/app"},
        {"postgres://u@db/app?password=pw&sslmode=require", "postgres://u@db/app?password=xx&sslmode=require"},
        {"postgresql://db/app", "postgresql://db/app"},
        {"postgresql://u:pa?ss@db/app", "postgresql://u:xxxxx@db/app"},
        {"host=x\npassword=secret", "host=x\npassword=xxxxxx"},
        {"postgresql://db/app?passwor%64=secret", "postgresql://db/app?passwor%64=xxxxxx"},
        {"not a conninfo", "not a conninfo"},
        {"", ""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *s = xstrdup(cases[i].in);
        conn_scrub_password(s);
        if (strcmp(s, cases[i].want) != 0)
            fail_msg("scrub(%s) = %s, want %s", cases[i].in, s, cases[i].want);
        free(s);
    }
    conn_scrub_password(NULL);

    static const char *const leaky[] = {
        "host=a password=top\"secret bogus_key=1",
        "host=a password='x y' \"secret\"=2",
        "postgresql://u:pa\"ss@h/db?bogus=\"secret\"",
        "host=a password=secret\" x",
    };
    for (size_t i = 0; i < ARRAY_LEN(leaky); i++) {
        char *err = NULL;
        if (conn_check_conninfo(leaky[i], &err) == 0) {
            free(err);
            continue;
        }
        bool leaked = err && strstr(err, "secret");
        char msg[400];
        snprintf(msg, sizeof msg, "%s", err ? err : "");
        free(err);
        if (leaked)
            fail_msg("the error for \"%s\" shows the password: %s", leaky[i], msg);
    }
}

/* sort_stable: ordered by key, equal keys keep their input order, the context reaches cmp. */
struct kv {
    int key, seq;
};
static int cmp_kv(const void *a, const void *b, const void *ctx)
{
    int sign = *(const int *)ctx, x = ((const struct kv *)a)->key, y = ((const struct kv *)b)->key;
    return sign * ((x > y) - (x < y));
}

static void test_sort_stable(void **state)
{
    (void)state;
    struct kv v[200];
    for (int i = 0; i < 200; i++)
        v[i] = (struct kv){.key = (i * 7919) % 13, .seq = i};
    int desc = -1;
    sort_stable(v, 200, sizeof *v, cmp_kv, &desc);
    for (int i = 1; i < 200; i++) {
        assert_true(v[i - 1].key >= v[i].key);
        if (v[i - 1].key == v[i].key)
            assert_true(v[i - 1].seq < v[i].seq);
    }
    sort_stable(v, 0, sizeof *v, cmp_kv, &desc); /* nothing to do, nothing touched */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_fmt_age),
        cmocka_unit_test(test_fmt_bytes),
        cmocka_unit_test(test_fmt_count),
        cmocka_unit_test(test_fmt_count_documented_example),
        cmocka_unit_test(test_text_growth),
        cmocka_unit_test(test_esc_controls),
        cmocka_unit_test(test_esc_every_byte),
        cmocka_unit_test(test_esc_utf8),
        cmocka_unit_test(test_esc_rejects_overlong_and_surrogates),
        cmocka_unit_test(test_esc_one_line),
        cmocka_unit_test(test_esc_into_truncation),
        cmocka_unit_test(test_esc_format_characters),
        cmocka_unit_test(test_str_cols),
        cmocka_unit_test(test_nearest_word),
        cmocka_unit_test(test_conninfo_check),
        cmocka_unit_test(test_conninfo_display_name),
        cmocka_unit_test(test_conninfo_display_name_hostaddr),
        cmocka_unit_test(test_conninfo_has_password),
        cmocka_unit_test(test_conninfo_scrub),
        cmocka_unit_test(test_sort_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
