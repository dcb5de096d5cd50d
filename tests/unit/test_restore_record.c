/* test_restore_record.c — unit tests for probes/restore_record.c, the restore tests' record: the
 * default path (XDG_STATE_HOME, else HOME), writing (a round trip through a real file in a temp
 * directory, created 0700/0600, a wider file made 0600, a symbolic link refused, a line cut short
 * before ours), reading (a missing file is no records; garbage, long and foreign lines skipped and
 * counted; the newest run decides; aborted runs do not clear a failure) and --history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "probes/restore_record.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s", "/tmp/pgfleet-rr.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char *cmd = xasprintf("rm -rf '%s'", dir);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    struct text t;
    text_init(&t);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        text_addn(&t, buf, n);
    fclose(f);
    return t.s;
}

static void test_default_path(void **state)
{
    (void)state;
    char *old_x = getenv("XDG_STATE_HOME") ? xstrdup(getenv("XDG_STATE_HOME")) : NULL;
    char *old_h = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
    setenv("XDG_STATE_HOME", "/srv/state", 1);
    char *p = restore_records_default_path();
    assert_string_equal(p, "/srv/state/pgfleet/restore_tests.jsonl");
    free(p);
    setenv("XDG_STATE_HOME", "relative/not/used", 1);
    setenv("HOME", "/home/u", 1);
    p = restore_records_default_path();
    assert_string_equal(p, "/home/u/.local/state/pgfleet/restore_tests.jsonl");
    free(p);
    unsetenv("XDG_STATE_HOME");
    p = restore_records_default_path();
    assert_string_equal(p, "/home/u/.local/state/pgfleet/restore_tests.jsonl");
    free(p);
    if (old_x)
        setenv("XDG_STATE_HOME", old_x, 1);
    if (old_h)
        setenv("HOME", old_h, 1);
    free(old_x);
    free(old_h);
}

static const struct restore_phase phases[] = {{"copy", 12.5}, {"verify", 1.25}, {"start", 3}, {"checks", 0.5}};
static const char *const checks[] = {"databases: 3 of 3", "canary orders: 1200 >= 1200"};

static struct restore_run good_run(const char *server, time_t started)
{
    struct restore_run r = {
        .server = server,
        .method = "basebackup",
        .source = "replica",
        .outcome = "ok",
        .audit_id = "a1b2",
        .started = started,
        .rto_s = 17.75,
        .bytes = 178257920,
        .phases = phases,
        .nphases = 4,
        .checks = checks,
        .nchecks = 2,
    };
    return r;
}

static void test_round_trip(void **state)
{
    (void)state;
    char err[256] = "";
    char *path = xasprintf("%s/state/pgfleet/restore_tests.jsonl", dir);
    struct restore_run r = good_run("primary", 1765000000);
    assert_int_equal(restore_record_append(path, &r, err, sizeof err), 0);
    struct restore_run f = {
        .server = "replica",
        .method = "logical",
        .outcome = "failed",
        .failed_phase = "checks",
        .error = "canary orders: 1100 < 1200\033[2J",
        .started = 1765000100,
        .rto_s = NAN,
        .bytes = -1,
    };
    assert_int_equal(restore_record_append(path, &f, err, sizeof err), 0);

    /* modes: the directories made 0700, the file 0600 */
    struct stat st;
    char *d = xasprintf("%s/state/pgfleet", dir);
    assert_int_equal(stat(d, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    free(d);
    d = xasprintf("%s/state", dir);
    assert_int_equal(stat(d, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    free(d);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* two lines, each a JSON object with what was given */
    char *text = slurp(path);
    assert_non_null(strstr(text, "\"server\":\"primary\""));
    assert_non_null(strstr(text, "\"started\":\"2025-12-06T05:46:40Z\""));
    assert_non_null(strstr(text, "\"rto_s\":null"));
    assert_non_null(strstr(text, "{\"name\":\"copy\",\"seconds\":12.5}"));
    assert_non_null(strstr(text, "\"canary orders: 1200 >= 1200\""));
    assert_null(strchr(text, '\033')); /* JSON escapes it */
    size_t lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2);
    free(text);

    struct restore_book *b = restore_book_load(path, err, sizeof err);
    assert_non_null(b);
    assert_int_equal(restore_book_servers(b), 2);
    assert_int_equal(restore_book_skipped(b), 0);
    const struct restore_status *p = restore_book_get(b, "primary");
    assert_non_null(p);
    assert_true(p->any);
    assert_int_equal(p->last_ok, 1765000000);
    assert_int_equal(p->last_run, 1765000000);
    assert_false(p->last_failed);
    assert_string_equal(p->last_outcome, "ok");
    assert_string_equal(p->method, "basebackup");
    assert_string_equal(p->error, "");
    assert_true(fabs(p->last_ok_rto_s - 17.75) < 1e-9);
    const struct restore_status *q = restore_book_get(b, "replica");
    assert_non_null(q);
    assert_int_equal(q->last_ok, 0);
    assert_int_equal(q->last_run, 1765000100);
    assert_true(q->last_failed);
    assert_string_equal(q->last_outcome, "failed");
    assert_string_equal(q->method, "logical");
    assert_string_equal(q->error, "canary orders: 1100 < 1200\033[2J"); /* raw: escaped where shown */
    assert_null(restore_book_get(b, "nobody"));
    assert_null(restore_book_get(NULL, "primary"));
    restore_book_free(b);

    /* --history: escaped text, one run a line (with its phases and checks), SERVER chooses */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(restore_history_print(path, NULL, false, out), 0);
    fclose(out);
    assert_non_null(strstr(buf, "2025-12-06T05:46:40Z  primary  basebackup  ok  RTO 17s  170MB  from replica\n"));
    assert_non_null(strstr(buf, "    phases: copy 12s, verify 1.2s, start 3.0s, checks 0.5s\n"));
    assert_non_null(strstr(buf, "    check: canary orders: 1200 >= 1200\n"));
    assert_non_null(strstr(buf, "replica  logical  failed at checks: canary orders: 1100 < 1200\\033[2J\n"));
    assert_null(strchr(buf, '\033'));
    free(buf);
    buf = NULL;
    out = open_memstream(&buf, &len);
    assert_int_equal(restore_history_print(path, "replica", true, out), 0);
    fclose(out);
    assert_null(strstr(buf, "primary"));
    assert_non_null(strstr(buf, "\"outcome\":\"failed\""));
    assert_non_null(strcasestr(buf, "\\u001b[2J"));
    free(buf);
    buf = NULL;
    out = open_memstream(&buf, &len);
    assert_int_equal(restore_history_print(path, "nobody", false, out), 1);
    fclose(out);
    assert_string_equal(buf, "no restore tests recorded for nobody\n");
    free(buf);
    free(path);
}

static void test_modes_and_refusals(void **state)
{
    (void)state;
    char err[256] = "";
    struct restore_run r = good_run("primary", 1765000000);
    /* an existing file others may read is made private */
    char *path = xasprintf("%s/wide.jsonl", dir);
    write_file(path, "");
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(restore_record_append(path, &r, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(path);
    /* a symbolic link is refused, whatever it points to */
    char *target = xasprintf("%s/target", dir), *link = xasprintf("%s/link.jsonl", dir);
    write_file(target, "");
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(restore_record_append(link, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "symbolic link"));
    char *t = slurp(target);
    assert_string_equal(t, "");
    free(t);
    free(target);
    free(link);
    /* a directory at the path */
    char *d = xasprintf("%s/adir", dir);
    assert_int_equal(mkdir(d, 0700), 0);
    assert_int_equal(restore_record_append(d, &r, err, sizeof err), -1);
    free(d);
    /* no path at all (no home directory) */
    assert_int_equal(restore_record_append(NULL, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "no home directory"));
    /* a line cut short (a crash mid-write) does not swallow the next record */
    path = xasprintf("%s/cut.jsonl", dir);
    write_file(path, "{\"record\":\"restore_test\",\"server\":\"x");
    assert_int_equal(restore_record_append(path, &r, err, sizeof err), 0);
    struct restore_book *b = restore_book_load(path, err, sizeof err);
    assert_non_null(b);
    assert_int_equal(restore_book_skipped(b), 1);
    assert_non_null(restore_book_get(b, "primary"));
    restore_book_free(b);
    free(path);
}

static void test_missing_file(void **state)
{
    (void)state;
    char err[256] = "";
    char *path = xasprintf("%s/none/restore_tests.jsonl", dir);
    struct restore_book *b = restore_book_load(path, err, sizeof err);
    assert_non_null(b); /* no records, not an error */
    assert_int_equal(restore_book_servers(b), 0);
    assert_null(restore_book_get(b, "primary"));
    restore_book_free(b);
    b = restore_book_load(NULL, err, sizeof err);
    assert_non_null(b);
    restore_book_free(b);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_int_equal(restore_history_print(path, NULL, false, out), 1);
    fclose(out);
    assert_non_null(strstr(buf, "no restore tests recorded yet"));
    free(buf);
    /* a read error (a directory) is one, and --history says 2 */
    b = restore_book_load(dir, err, sizeof err);
    assert_null(b);
    assert_non_null(strstr(err, dir));
    out = open_memstream(&buf, &len);
    assert_int_equal(restore_history_print(dir, NULL, false, out), 2);
    fclose(out);
    free(buf);
    free(path);
}

#define REC(server, outcome, epoch)                                                                           \
    "{\"record\":\"restore_test\",\"server\":\"" server "\",\"method\":\"basebackup\",\"outcome\":\"" outcome \
    "\",\"started_epoch\":" #epoch ",\"error\":\"boom\"}\n"

static void test_garbage_and_order(void **state)
{
    (void)state;
    struct text t;
    text_init(&t);
    text_add(&t, "not json at all\n");
    text_add(&t, "\n   \n");                                                      /* blank: not counted */
    text_add(&t, "[1,2,3]\n");                                                    /* not an object */
    text_add(&t, "{\"server\":\"a\"}\n");                                         /* no outcome, no start */
    text_add(&t, "{\"server\":\"a\",\"outcome\":\"ok\",\"started_epoch\":-5}\n"); /* a start before 1970 */
    text_add(&t, "{\"server\":42,\"outcome\":\"ok\",\"started_epoch\":5}\n");     /* server not text */
    text_add(&t, "{\"record\":\"intent\",\"server\":\"a\",\"outcome\":\"ok\",\"started_epoch\":5}\n");
    text_add(&t, "{\"server\":\"a\",\"server\":\"b\",\"outcome\":\"ok\",\"started_epoch\":5}\n"); /* duplicate key */
    text_add(&t, "\xff\xfe garbage \x01\n");
    /* a: ok, then failed, then aborted (does not clear the failure), then an older ok (out of
     * order: the newest by start time decides) */
    text_add(&t, REC("a", "ok", 1000));
    text_add(&t, REC("a", "failed", 2000));
    text_add(&t, REC("a", "aborted", 3000));
    text_add(&t, REC("a", "ok", 1500));
    /* b: failed, then ok: cleared; started as ISO text only */
    text_add(&t, REC("b", "failed", 1000));
    text_add(&t,
             "{\"server\":\"b\",\"method\":\"logical\",\"outcome\":\"ok\",\"started\":\"1970-01-01T00:33:20Z\","
             "\"rto_s\":12}\n");
    /* c: only an unknown outcome: a run, neither good nor failed */
    text_add(&t, REC("c", "exploded", 1000));
    /* a very long line */
    char *longl = xmalloc(RESTORE_LINE_MAX + 100);
    memset(longl, 'x', RESTORE_LINE_MAX + 98);
    longl[RESTORE_LINE_MAX + 98] = '\n';
    longl[RESTORE_LINE_MAX + 99] = '\0';
    text_add(&t, longl);
    free(longl);
    text_add(&t, REC("d", "ok", 1000)); /* the last line without a newline */
    t.s[t.len - 1] = '\0';
    t.len--;
    struct restore_book *b = restore_book_parse(t.s, t.len);
    assert_int_equal(restore_book_skipped(b), 9);
    assert_int_equal(restore_book_servers(b), 4);
    const struct restore_status *a = restore_book_get(b, "a");
    assert_non_null(a);
    assert_int_equal(a->last_ok, 1500);
    assert_int_equal(a->last_run, 3000);
    assert_string_equal(a->last_outcome, "aborted");
    assert_true(a->last_failed);
    assert_string_equal(a->error, "boom");
    assert_true(isnan(a->last_ok_rto_s));
    const struct restore_status *bb = restore_book_get(b, "b");
    assert_int_equal(bb->last_ok, 2000);
    assert_false(bb->last_failed);
    assert_string_equal(bb->error, "");
    assert_string_equal(bb->method, "logical");
    assert_true(fabs(bb->last_ok_rto_s - 12) < 1e-9);
    const struct restore_status *c = restore_book_get(b, "c");
    assert_true(c->any);
    assert_int_equal(c->last_ok, 0);
    assert_false(c->last_failed);
    assert_string_equal(c->last_outcome, "?");
    assert_non_null(restore_book_get(b, "d"));
    restore_book_free(b);
    text_free(&t);
}

/* A file bigger than the reader's cap: its newest part is read, from a whole line. */
static void test_big_file(void **state)
{
    (void)state;
    char *path = xasprintf("%s/big.jsonl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    const char *old = REC("old", "ok", 1000);
    for (size_t w = 0; w < (size_t)RESTORE_FILE_MAX + 1000; w += strlen(old))
        fputs(old, f);
    fputs(REC("new", "failed", 2000), f);
    fclose(f);
    char err[256];
    struct restore_book *b = restore_book_load(path, err, sizeof err);
    assert_non_null(b);
    assert_int_equal(restore_book_skipped(b), 0); /* the cut line was dropped, not parsed */
    assert_non_null(restore_book_get(b, "old"));
    assert_true(restore_book_get(b, "new")->last_failed);
    restore_book_free(b);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_path),       cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_modes_and_refusals), cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_garbage_and_order),  cmocka_unit_test(test_big_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
