/* test_widgets.c — the widgets' curses-free halves: the document's text form (placement,
 * cutting by display columns, trimming), scroll clamping, the whitespace-collapse escaper and
 * the query wrapper (never half a UTF-8 character, never a raw escape code, widths kept). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "tui/doc.h"

static char *doc_string(const struct doc *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    doc_write(d, f);
    fclose(f);
    return buf;
}

static void test_doc_text_places_segments(void **state)
{
    (void)state;
    struct doc d = {.width = 20, .trim = true};
    doc_put(&d, 0, 10, 5, SEV_NONE, "right"); /* out of order: placed by column */
    doc_put(&d, 0, 2, 5, SEV_WARN, "left");
    doc_put_r(&d, 1, 0, 6, SEV_NONE, "42");
    int x = doc_add(&d, 2, 0, DS_HEAD, "%s", "title");
    assert_int_equal(x, 5);
    doc_put(&d, 3, 0, 20, SEV_NONE, "end   "); /* trailing spaces trimmed */
    char *s = doc_string(&d);
    assert_string_equal(s, "  left    right\n    42\ntitle\nend\n");
    free(s);
    doc_free(&d);
}

static void test_doc_cuts_by_columns(void **state)
{
    (void)state;
    struct doc d = {.width = 6};
    /* "héllo wörld": cut at 4 columns, never inside é or ö; and to the page */
    doc_put(&d, 0, 0, 4, SEV_NONE, "h\xc3\xa9llo");
    doc_put(&d, 1, 3, 10, SEV_NONE, "\xe6\x97\xa5\xe6\x9c\xac"); /* two wide characters: 3 columns left */
    doc_put(&d, 2, 7, 3, SEV_NONE, "gone");                      /* starts past the page */
    assert_string_equal(d.l[0].seg[0].s, "h\xc3\xa9ll");
    assert_string_equal(d.l[1].seg[0].s, "\xe6\x97\xa5");
    assert_int_equal(d.l[2].n, 0);
    assert_int_equal(d.n, 3);
    doc_free(&d);
}

static void test_doc_head_fills(void **state)
{
    (void)state;
    const struct colspec cols[2] = {{.title = "NAME", .width = 6, .prio = 10},
                                    {.title = "N", .width = 3, .prio = 5, .right = true, .numeric = true}};
    int x[2] = {2, 9}, wd[2] = {6, 3};
    struct doc d = {.width = 40, .trim = true};
    doc_head(&d, 0, 0, cols, 2, x, wd);
    assert_int_equal(d.l[0].fill_style, DS_COLS);
    char *s = doc_string(&d);
    assert_string_equal(s, "  NAME     N\n"); /* N right-aligned in columns 9-11 */
    free(s);
    doc_free(&d);
}

static void test_scroll_clamp(void **state)
{
    (void)state;
    assert_int_equal(scroll_clamp(-3, 10, 4), 0);
    assert_int_equal(scroll_clamp(2, 10, 4), 2);
    assert_int_equal(scroll_clamp(99, 10, 4), 6); /* the last page is full */
    assert_int_equal(scroll_clamp(5, 3, 4), 0);   /* shorter than the window */
    assert_int_equal(scroll_clamp(1 << 20, 0, 4), 0);
}

static void test_one_line(void **state)
{
    (void)state;
    char out[CELL_MAX];
    one_line(out, sizeof out, "  SELECT\n\t 1 ,\r\n  2  ");
    assert_string_equal(out, "SELECT 1 , 2");
    one_line(out, sizeof out, "a\033[2Jb\xe2\x80\xae");
    assert_null(strchr(out, '\033'));
    assert_null(strstr(out, "\xe2\x80\xae"));
    one_line(out, sizeof out, NULL);
    assert_string_equal(out, "");
}

struct lines {
    char *l[64];
    int n;
};

static void collect(void *p, const char *piece)
{
    struct lines *c = p;
    if (c->n < 64)
        c->l[c->n++] = xstrdup(piece);
}

static void free_lines(struct lines *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->l[i]);
}

/* Every piece is valid UTF-8 (the escaper leaves it unchanged), fits the width, and the pieces
 * put back together are the escaped line. */
static void check_wrap(const char *raw, int width)
{
    struct lines c = {{0}, 0};
    int n = wrap_text(raw, width, collect, &c);
    assert_int_equal(n, c.n);
    char *whole = esc(raw, 1);
    struct text t;
    text_init(&t);
    for (int i = 0; i < c.n; i++) {
        assert_true(str_cols(c.l[i]) <= width);
        char *again = esc_safe(c.l[i]);
        assert_string_equal(again, c.l[i]);
        free(again);
        text_add(&t, c.l[i]);
    }
    assert_string_equal(t.s ? t.s : "", whole);
    text_free(&t);
    free(whole);
    free_lines(&c);
}

static void test_wrap_utf8_never_cut(void **state)
{
    (void)state;
    check_wrap("h\xc3\xa9h\xc3\xa9h\xc3\xa9h\xc3\xa9h\xc3\xa9", 3);
    check_wrap("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac", 3); /* wide: one a line */
    check_wrap("SELECT \xc3\xa9l\xc3\xa8ve FROM t WHERE nom = 'Z\xc3\xbcrich'", 7);
    check_wrap("e\xcc\x81"
               "e\xcc\x81"
               "e\xcc\x81",
               2); /* combining marks stay with their letter */
}

static void test_wrap_at_spaces_and_breaks(void **state)
{
    (void)state;
    struct lines c = {{0}, 0};
    wrap_text("SELECT aaaa bbbb\n\nFROM t", 10, collect, &c);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.l[0], "SELECT "); /* cut after the space in the second half */
    assert_string_equal(c.l[1], "aaaa bbbb");
    assert_string_equal(c.l[2], "");
    assert_string_equal(c.l[3], "FROM t");
    free_lines(&c);
    assert_int_equal(wrap_text("", 10, collect, &c), 0);
}

static void test_wrap_escapes(void **state)
{
    (void)state;
    struct lines c = {{0}, 0};
    wrap_text("x\033]0;owned\007y\tz\xff", 4, collect, &c);
    for (int i = 0; i < c.n; i++) {
        assert_null(strchr(c.l[i], '\033'));
        assert_null(strchr(c.l[i], '\007'));
        assert_null(strchr(c.l[i], '\xff'));
    }
    free_lines(&c);
    check_wrap("x\033]0;owned\007y\tz\xff \xe2\x80\xae", 4);
}

static void test_spark_text_width(void **state)
{
    (void)state;
    double v[40];
    for (int i = 0; i < 40; i++)
        v[i] = i;
    char b[8 * 4 * 64 + 1];
    spark_text(b, sizeof b, v, 40, 30, 0, true);
    assert_int_equal(str_cols(b), 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_text_places_segments),
        cmocka_unit_test(test_doc_cuts_by_columns),
        cmocka_unit_test(test_doc_head_fills),
        cmocka_unit_test(test_scroll_clamp),
        cmocka_unit_test(test_one_line),
        cmocka_unit_test(test_wrap_utf8_never_cut),
        cmocka_unit_test(test_wrap_at_spaces_and_breaks),
        cmocka_unit_test(test_wrap_escapes),
        cmocka_unit_test(test_spark_text_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
