/* test_restore_plan.c — unit tests for the restore test's pure helpers (actions/restore_plan.c):
 * the tools' progress, shell quoting, a hook's placeholders, plain paths, where the binaries of a
 * major are; the conninfo without its password (probes/core/conn.c); and the child processes of
 * a job (actions/job_proc.c): lines read, exit status, a whole process group stopped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions/job_proc.h"
#include "actions/restore_test.h"
#include "core/conn.h"
#include "core/util.h"

static void test_progress(void **state)
{
    (void)state;
    double pct = -1;
    int64_t done, total;
    assert_true(restore_progress("  12345/67890 kB (18%), 0/1 tablespace", &pct, &done, &total));
    assert_true(pct == 18);
    assert_int_equal(done, 12345 * 1024LL);
    assert_int_equal(total, 67890 * 1024LL);
    assert_true(
        restore_progress("P00 DETAIL: restore file /x/base/1/2 (8KB, 45.03%) checksum abc", &pct, &done, &total));
    assert_true(pct > 45.02 && pct < 45.04);
    assert_int_equal(done, -1);
    assert_false(restore_progress("waiting for checkpoint", &pct, &done, &total));
    assert_false(restore_progress("100 % sure", &pct, &done, &total)); /* no number right before % */
    assert_false(restore_progress("at 250%", &pct, &done, &total));
}

static void test_quote_and_expand(void **state)
{
    (void)state;
    char *q = shell_quote("it's $HOME");
    assert_string_equal(q, "'it'\\''s $HOME'");
    free(q);
    const char *names[] = {"datadir", "server"}, *values[] = {"/tmp/a b", "db'1"};
    char *c = hook_expand("restore --to {datadir} --name={server} {unknown} {", names, values, 2);
    assert_string_equal(c, "restore --to '/tmp/a b' --name='db'\\''1' {unknown} {");
    free(c);
}

static void test_plain_path(void **state)
{
    (void)state;
    assert_true(restore_path_plain("/var/tmp/pgfleet-rt_1.d"));
    assert_false(restore_path_plain("var/tmp"));
    assert_false(restore_path_plain("/tmp/a b"));
    assert_false(restore_path_plain("/tmp/x'y"));
    assert_false(restore_path_plain(NULL));
}

static void test_bindir(void **state)
{
    (void)state;
    char dir[] = "/tmp/pgfleet-bindir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[128], ctl[160], out[256], why[512];
    snprintf(sub, sizeof sub, "%s/16", dir);
    mkdir(sub, 0700);
    snprintf(ctl, sizeof ctl, "%s/pg_ctl", sub);
    FILE *f = fopen(ctl, "w");
    fclose(f);
    chmod(ctl, 0755);
    char tmpl[160];
    snprintf(tmpl, sizeof tmpl, "%s/{major}", dir);
    assert_int_equal(restore_find_bindir(tmpl, 16, out, sizeof out, why, sizeof why), 0);
    assert_string_equal(out, sub);
    assert_int_equal(restore_find_bindir(tmpl, 17, out, sizeof out, why, sizeof why), -1);
    assert_non_null(strstr(why, "no PostgreSQL 17 binaries"));
    unlink(ctl);
    rmdir(sub);
    rmdir(dir);
}

static void test_conn_rewrite(void **state)
{
    (void)state;
    char *pw = NULL;
    char *c = conn_rewrite("host=db1 port=5433 user=me password=s3cr'et dbname=app", "other", &pw);
    assert_non_null(c);
    assert_null(strstr(c, "s3cr"));
    assert_non_null(strstr(c, "dbname='other'"));
    assert_non_null(strstr(c, "host='db1'"));
    assert_string_equal(pw, "s3cr'et");
    free(c);
    free(pw);
    c = conn_rewrite("postgresql://me:pw@db2:6000/app", NULL, &pw);
    assert_non_null(strstr(c, "dbname='app'"));
    assert_non_null(strstr(c, "port='6000'"));
    assert_string_equal(pw, "pw");
    free(c);
    free(pw);
    c = conn_rewrite("host=x", NULL, &pw);
    assert_null(pw);
    free(c);
    c = conn_rewrite("host=x password=a\\'b", "d", NULL); /* kept, and quoted */
    assert_non_null(strstr(c, "password='a\\'b'"));
    free(c);
}

static void collect(void *ctx, const char *line)
{
    struct text *t = ctx;
    text_printf(t, "[%s]", line);
}

/* Run a child to its end through the non-blocking reader. */
static int run_to_end(struct job_proc *p, struct text *out)
{
    int64_t end = now_ms() + 10000;
    while (!proc_done(p, now_ms()) && now_ms() < end) {
        proc_read(p, collect, out);
        usleep(5000);
    }
    proc_read(p, collect, out);
    return p->status;
}

static void test_proc(void **state)
{
    (void)state;
    struct job_proc p;
    proc_init(&p);
    const char *argv[] = {"/bin/sh", "-c", "printf 'one\\ntwo\\r50%%\\rthree'; echo err >&2; exit 3", NULL};
    const char *env[] = {"PGFLEET_TEST=1", NULL};
    struct proc_spec s = {.argv = argv, .env = env};
    char err[128];
    assert_int_equal(proc_spawn(&p, &s, err, sizeof err), 0);
    struct text out;
    text_init(&out);
    int st = run_to_end(&p, &out);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    assert_string_equal(out.s, "[one][two][50%][threeerr]");
    proc_close(&p);
    text_free(&out);

    /* a missing program: the child says so on the pipe and exits 127 */
    const char *bad[] = {"/nonexistent/tool", NULL};
    s = (struct proc_spec){.argv = bad};
    text_init(&out);
    assert_int_equal(proc_spawn(&p, &s, err, sizeof err), 0);
    st = run_to_end(&p, &out);
    assert_int_equal(WEXITSTATUS(st), 127);
    assert_non_null(strstr(out.s, "pgfleet: exec /nonexistent/tool"));
    proc_close(&p);
    text_free(&out);
    text_free(&p.partial);
}

static void test_proc_kill_group(void **state)
{
    (void)state;
    /* the child starts a grandchild that would outlive it: stopping the group stops both */
    char pidfile[] = "/tmp/pgfleet-proc-XXXXXX";
    int fd = mkstemp(pidfile);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "sleep 60 & echo $! > %s; wait", pidfile);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct proc_spec s = {.argv = argv};
    struct job_proc p;
    proc_init(&p);
    char err[128];
    assert_int_equal(proc_spawn(&p, &s, err, sizeof err), 0);
    long grandchild = 0;
    for (int i = 0; i < 200 && !grandchild; i++) {
        usleep(10000);
        FILE *f = fopen(pidfile, "r");
        if (f && fscanf(f, "%ld", &grandchild) != 1)
            grandchild = 0;
        if (f)
            fclose(f);
    }
    assert_true(grandchild > 0);
    proc_kill(&p, 500);
    assert_true(p.reaped);
    /* gone: no such process, or a zombie waiting for whoever adopted it */
    bool alive = true;
    for (int i = 0; i < 100 && alive; i++) {
        char path[64], st[512] = "";
        snprintf(path, sizeof path, "/proc/%ld/stat", grandchild);
        FILE *f = fopen(path, "r");
        if (!f || !fgets(st, sizeof st, f) || (strrchr(st, ')') && strrchr(st, ')')[2] == 'Z'))
            alive = false;
        if (f)
            fclose(f);
        if (alive)
            usleep(10000);
    }
    assert_false(alive);
    proc_close(&p);
    text_free(&p.partial);
    unlink(pidfile);

    /* proc_run_sync: bounded */
    const char *slow[] = {"sleep", "5", NULL};
    s = (struct proc_spec){.argv = slow};
    int64_t t0 = now_ms();
    assert_int_equal(proc_run_sync(&s, 200, NULL), -1);
    assert_true(now_ms() - t0 < 3000);
    const char *quick[] = {"/bin/echo", "hi", NULL};
    s = (struct proc_spec){.argv = quick};
    struct text out;
    text_init(&out);
    assert_int_equal(proc_run_sync(&s, 5000, &out), 0);
    assert_string_equal(out.s, "hi\n");
    text_free(&out);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress),        cmocka_unit_test(test_quote_and_expand),
        cmocka_unit_test(test_plain_path),      cmocka_unit_test(test_bindir),
        cmocka_unit_test(test_conn_rewrite),    cmocka_unit_test(test_proc),
        cmocka_unit_test(test_proc_kill_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
