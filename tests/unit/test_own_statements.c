/* test_own_statements.c — unit tests for probes/own_statements.c: the shape of an SQL text is the
 * same for what pgfleet sent and for what pg_stat_statements stored of it on each version (real
 * pairs from PostgreSQL 12, 14, 16 and 18: tests/data/probes/pgss_own_pg*.tsv), whatever the
 * constants, comments, a squashed list or a minus sign; other statements keep other shapes; a
 * cut text matches by its beginning, never by too short a one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "probes/own_statements.h"
#include "testutil.h"

static void assert_shape(const char *text, const char *want)
{
    char *got = stmt_shape(text);
    if (strcmp(got, want) != 0)
        fail_msg("shape of [%s]\n  is [%s]\nwant [%s]", text, got, want);
    free(got);
}

static void assert_same(const char *a, const char *b)
{
    char *x = stmt_shape(a), *y = stmt_shape(b);
    if (strcmp(x, y) != 0)
        fail_msg("not the same shape:\n[%s] -> [%s]\n[%s] -> [%s]", a, x, b, y);
    free(x);
    free(y);
}

static void assert_differ(const char *a, const char *b)
{
    char *x = stmt_shape(a), *y = stmt_shape(b);
    if (strcmp(x, y) == 0)
        fail_msg("the same shape [%s] for\n[%s]\n[%s]", x, a, b);
    free(x);
    free(y);
}

static void test_constants(void **state)
{
    (void)state;
    assert_shape("SELECT 'x', 42, 1.5e3, .5, $1, NULL, true, FALSE", "SELECT ?");
    assert_shape("WHERE a = E'it\\'s' AND b = $$x$$ AND c = $t$a$b$t$ AND d = B'01' AND e = U&'x'",
                 "WHERE a=? AND b=? AND c=? AND d=? AND e=?");
    assert_shape("SELECT 'it''s'::text", "SELECT ?::text");
    assert_shape("SELECT interval '1 s', x IS NULL", "SELECT interval ?,x IS ?");
    /* identifiers keep their digits and case; a quoted identifier is no constant */
    assert_shape("SELECT t1.c2::int8, \"Null\" FROM pg_stat_io", "SELECT t1.c2::int8,\"Null\" FROM pg_stat_io");
    assert_shape("SELECT a$1 FROM t", "SELECT a$1 FROM t");
    /* EXTRACT's field becomes a constant in the grammar */
    assert_same("SELECT extract(epoch FROM now())", "SELECT extract($1 FROM now())");
    assert_differ("SELECT myextract(epoch) FROM t", "SELECT myextract($1) FROM t");
}

static void test_versions_differences(void **state)
{
    (void)state;
    /* up to 17 the leading comment is kept; 18 drops it */
    assert_same("/* pgfleet */ SELECT count(*) FROM t WHERE a > 5", "SELECT count(*) FROM t WHERE a > $1");
    assert_same("/* pgfleet */ SELECT 1", "/* pgfleet */ SELECT $1");
    /* 18 squashes a list of constants */
    assert_same("WHERE k IN ('relation', 'tuple', 'advisory')", "WHERE k IN ($1 /*, ... */)");
    assert_same("WHERE k IN ('relation', 'tuple')", "WHERE k IN ($1, $2)");
    /* a negative number: $1 or -$1 */
    assert_same("WHERE a = -1 AND b = (-2)", "WHERE a = $1 AND b = ($2)");
    assert_same("WHERE a = -1", "WHERE a = -$1");
    assert_same("SELECT a-1, b - 2", "SELECT a-$1, b - $2");
    /* whitespace, line breaks, comments, a trailing semicolon */
    assert_same("SELECT a,\n  b -- two\nFROM t;", "SELECT a, b FROM t");
    assert_same("SELECT /* a /* nested */ comment */ a FROM t", "SELECT a FROM t");
}

static void test_other_statements_differ(void **state)
{
    (void)state;
    assert_differ("SELECT a FROM t", "SELECT b FROM t");
    assert_differ("SELECT a FROM t WHERE x = 1", "SELECT a FROM t WHERE x = y");
    assert_differ("SELECT a FROM t", "SELECT a FROM t1");
    assert_differ("SELECT ab FROM t", "SELECT a b FROM t");
}

/* One real pair per line: what pgfleet sent, a tab, what the server stored. */
static void check_pairs(const char *name, size_t want_min)
{
    char *text = fixture_text(name);
    size_t n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        const char *sent = line, *stored = tab + 1;
        assert_same(sent, stored);
        struct own_shapes o;
        own_shapes_init(&o, &sent, 1);
        assert_true(own_shapes_match(&o, stored, false));
        /* as the statements probe sends it: the first OWN_HEAD_CHARS characters */
        if (strlen(stored) > OWN_HEAD_CHARS) {
            char head[OWN_HEAD_CHARS + 1];
            memcpy(head, stored, OWN_HEAD_CHARS);
            head[OWN_HEAD_CHARS] = '\0';
            assert_true(own_shapes_match(&o, head, true));
            assert_false(own_shapes_match(&o, head, false)); /* a cut text is no whole one */
        }
        own_shapes_free(&o);
        n++;
    }
    assert_true(n >= want_min);
    free(text);
}

static void test_real_pairs(void **state)
{
    (void)state;
    check_pairs("pgss_own_pg12.tsv", 15);
    check_pairs("pgss_own_pg14.tsv", 16);
    check_pairs("pgss_own_pg16.tsv", 18);
    check_pairs("pgss_own_pg18.tsv", 18);
}

static void test_match_cut(void **state)
{
    (void)state;
    const char *ours[] = {"SELECT extract('epoch' FROM now()) AS epoch, datname, pg_database_size(oid) AS bytes "
                          "FROM pg_database WHERE datallowconn",
                          "SELECT pg_stat_force_next_flush()", NULL};
    struct own_shapes o;
    own_shapes_init(&o, ours, 3);
    assert_int_equal(o.n, 2);
    /* cut inside a word: up to the last whitespace */
    assert_true(own_shapes_match(&o, "SELECT extract($1 FROM now()) AS epoch, datname, pg_database_si", true));
    /* cut in a list of constants: "?," goes on as "?,?" (which is "?") */
    const char *list[] = {"SELECT a FROM some_table_with_a_long_name WHERE k IN ('relation', 'tuple') AND b"};
    struct own_shapes l;
    own_shapes_init(&l, list, 1);
    assert_true(own_shapes_match(&l, "SELECT a FROM some_table_with_a_long_name WHERE k IN ($1, $2", true));
    own_shapes_free(&l);
    /* too short a beginning tells nothing */
    assert_false(own_shapes_match(&o, "SELECT extract($1 FROM now()) AS epoch, d", true));
    /* a whole text must be whole */
    assert_false(own_shapes_match(&o, "SELECT extract($1 FROM now()) AS epoch, datname", false));
    assert_true(own_shapes_match(&o, "SELECT pg_stat_force_next_flush()", false));
    assert_false(own_shapes_match(&o, "SELECT pg_stat_force_next_flush(), 1", false));
    assert_false(own_shapes_match(&o, NULL, false));
    own_shapes_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_versions_differences),
        cmocka_unit_test(test_other_statements_differ),
        cmocka_unit_test(test_real_pairs),
        cmocka_unit_test(test_match_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
