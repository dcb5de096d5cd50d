/* test_actions.c — unit tests for the action framework (actions/): the job state machine driven
 * by a fake action class of our own (start → timer → done; abort; failure; discard), one audit
 * line per finished job and none for a discarded one; the audit line itself (valid JSON on one
 * line, every required key, UTC time, server text escaped, the query cut to 200 characters on a
 * whole escape), the log file (created 0600 in a new 0700 directory, appended, a failure
 * reported), `pgfleet audit` printing; the query fingerprint; the rules shared by cancel and
 * terminate (system backends, sessions the login cannot signal, precheck, confirmation
 * strength, the dialog's text escaped); and the signal engine's reading of the acting and
 * verifying statements' results, fed by hand (no server).
 * Every test writes under a private temporary XDG_STATE_HOME. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actions/action.h"
#include "actions/action_signal.h"
#include "actions/audit.h"
#include "actions/job.h"
#include "core/conn.h"
#include "core/rowset.h"
#include "core/util.h"
#include "probes/probe.h"

/* ---- a private state directory per test ---- */

struct fx {
    char dir[64];
    char *audit; /* DIR/state/pgfleet/audit.jsonl (its directories do not exist yet) */
    struct jobs js;
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pgfleet-test-actions.XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    char *st = xasprintf("%s/state", f->dir);
    setenv("XDG_STATE_HOME", st, 1);
    free(st);
    f->audit = xasprintf("%s/state/pgfleet/audit.jsonl", f->dir);
    jobs_init(&f->js, f->audit, 3000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    jobs_free(&f->js);
    char *cmd = xasprintf("rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(cmd);
    free(f->audit);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* The lines of a file (malloc'd array of malloc'd strings, without their newline). */
static size_t read_lines(const char *path, char ***out)
{
    *out = NULL;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    size_t n = 0;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&buf, &cap, fp)) > 0) {
        assert_int_equal(buf[len - 1], '\n'); /* every line is complete */
        buf[len - 1] = '\0';
        *out = xreallocarray(*out, n + 1, sizeof **out);
        (*out)[n++] = xstrdup(buf);
    }
    free(buf);
    fclose(fp);
    return n;
}

static void free_lines(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

static size_t count_lines(const char *path)
{
    char **l;
    size_t n = read_lines(path, &l);
    free_lines(l, n);
    return n;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static json_t *parse_line(const char *line)
{
    json_error_t err;
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &err);
    if (!o)
        fail_msg("not valid JSON (%s): %s", err.text, line);
    assert_true(json_is_object(o));
    return o;
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("key \"%s\" is not a string", key);
    return json_string_value(v);
}

/* No control byte (C0 or DEL) anywhere in a decoded JSON value. */
static void assert_no_controls(json_t *v, const char *where)
{
    size_t i;
    const char *k;
    json_t *x;
    switch (json_typeof(v)) {
    case JSON_STRING:
        for (const unsigned char *p = (const unsigned char *)json_string_value(v); *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                fail_msg("%s: raw control byte 0x%02x in \"%s\"", where, *p, json_string_value(v));
        break;
    case JSON_OBJECT:
        json_object_foreach (v, k, x)
            assert_no_controls(x, k);
        break;
    case JSON_ARRAY:
        json_array_foreach (v, i, x)
            assert_no_controls(x, where);
        break;
    default: break;
    }
}

/* ---- a fake action: RUNNING on start with a timer 1 s ahead, DONE on the timer ---- */

static enum job_event_kind seen[16];
static int nseen;

static enum job_state fake_step(struct job *j, const struct job_event *ev)
{
    if (nseen < (int)ARRAY_LEN(seen))
        seen[nseen++] = ev->kind;
    switch (ev->kind) {
    case JEV_START:
        j->phase = 1;
        job_set_timer(j, now_ms() + 1000);
        job_log(j, "fake: waiting for the timer");
        return JOB_RUNNING;
    case JEV_TIMER:
        j->phase = 2;
        for (size_t i = 0; i < j->ntargets; i++) {
            free(j->targets[i].result);
            j->targets[i].result = xstrdup("faked");
            j->targets[i].ok = true;
        }
        snprintf(j->outcome, sizeof j->outcome, "fake finished");
        return JOB_DONE;
    case JEV_ABORT: return JOB_RUNNING; /* "nothing to undo": job_abort makes that ABORTED */
    default: return JOB_RUNNING;
    }
}

static enum confirm fake_confirm(const struct job *j)
{
    (void)j;
    return CONFIRM_YN;
}

static const struct action_class fake = {
    .name = "fake",
    .title = "Fake action",
    .risk = RISK_SAFE,
    .confirm = fake_confirm,
    .step = fake_step,
};

/* Fails at once, without setting an outcome: job.c supplies one. */
static enum job_state fail_step(struct job *j, const struct job_event *ev)
{
    (void)j;
    return ev->kind == JEV_START ? JOB_FAILED : JOB_RUNNING;
}

static const struct action_class failing = {.name = "failing", .title = "Failing action", .step = fail_step};

static struct job_target plain_target(int pid)
{
    struct job_target t = {
        .pid = pid,
        .backend_start = "2024-05-01 10:00:00.123456+00",
        .query_start = "2024-05-01 10:05:00+00",
        .user = "app",
        .database = "shop",
        .application = "billing",
        .client = "10.0.0.7",
        .state = "active",
        .backend_type = "client backend",
        .query = "SELECT pg_sleep(60)",
        .age_s = 12.5,
    };
    return t;
}

static struct job *fake_job(struct fx *f, const struct action_class *cls, int pid)
{
    struct job *j = job_new(&f->js, cls, "primary", "host=db1 password=secret");
    struct job_target t = plain_target(pid);
    job_add_target(j, &t);
    return j;
}

/* ---- the job state machine ---- */

static void test_job_lifecycle(void **state)
{
    struct fx *f = *state;
    nseen = 0;
    unsigned gen0 = f->js.generation;
    char app[] = "billing";
    struct job_target t = plain_target(4242);
    t.application = app;
    struct job *j = job_new(&f->js, &fake, "primary", "host=db1");
    job_add_target(j, &t);
    app[0] = 'X'; /* the job holds its own copy */
    assert_string_equal(j->targets[0].application, "billing");
    assert_int_equal(j->state, JOB_PENDING);
    assert_int_equal(j->id, 0); /* numbered only when started */
    assert_int_equal(f->js.n, 1);
    assert_true(f->js.generation != gen0);
    assert_true(jobs_busy(&f->js));
    assert_int_equal(jobs_next_deadline(&f->js), INT64_MAX); /* pending jobs wait for nothing */

    int64_t t0 = now_ms();
    job_start(&f->js, j);
    assert_int_equal(j->state, JOB_RUNNING);
    assert_int_equal(j->id, 1);
    assert_int_equal(nseen, 1);
    assert_int_equal(seen[0], JEV_START);
    assert_true(j->started_ms >= t0);
    assert_true(j->started_wall > 0);
    assert_true(j->timer_ms >= t0 + 1000);
    assert_int_equal(jobs_next_deadline(&f->js), j->timer_ms);
    assert_false(exists(f->audit)); /* nothing on record until it ends */

    /* before the timer: nothing happens */
    unsigned gen1 = f->js.generation;
    assert_false(jobs_step(&f->js, NULL, NULL, 0, j->timer_ms - 1));
    assert_int_equal(j->state, JOB_RUNNING);
    assert_int_equal(nseen, 1);
    assert_int_equal(f->js.generation, gen1);

    /* past it: JEV_TIMER, the job is done, and its audit line is written */
    int64_t at = j->timer_ms;
    assert_true(jobs_step(&f->js, NULL, NULL, 0, at + 1));
    assert_int_equal(nseen, 2);
    assert_int_equal(seen[1], JEV_TIMER);
    assert_int_equal(j->state, JOB_DONE);
    assert_string_equal(j->outcome, "fake finished");
    assert_int_equal(j->timer_ms, INT64_MAX);
    assert_true(j->ended_ms >= j->started_ms);
    assert_false(jobs_busy(&f->js));
    assert_int_equal(jobs_next_deadline(&f->js), INT64_MAX);
    assert_non_null(strstr(j->log.s, "fake: waiting for the timer"));
    assert_non_null(strstr(j->log.s, "done: fake finished"));

    char **lines;
    size_t n = read_lines(f->audit, &lines);
    assert_int_equal(n, 1);
    json_t *o = parse_line(lines[0]);
    assert_string_equal(jstr(o, "action"), "fake");
    assert_string_equal(jstr(o, "server"), "primary");
    assert_string_equal(jstr(o, "outcome"), "fake finished");
    json_t *tg = json_array_get(json_object_get(o, "targets"), 0);
    assert_int_equal(json_integer_value(json_object_get(tg, "pid")), 4242);
    assert_string_equal(jstr(tg, "result"), "faked");
    assert_null(strstr(lines[0], "host=db1")); /* the conninfo is never recorded */
    json_decref(o);
    free_lines(lines, n);

    /* a done job is not stepped again, and not audited twice */
    assert_false(jobs_step(&f->js, NULL, NULL, 0, at + 100000));
    job_abort(&f->js, j);
    assert_int_equal(j->state, JOB_DONE);
    assert_int_equal(nseen, 2);
    assert_int_equal(count_lines(f->audit), 1);
}

static void test_jobs_one_line_each(void **state)
{
    struct fx *f = *state;
    nseen = 0;
    struct job *a = fake_job(f, &fake, 1), *b = fake_job(f, &fake, 2), *c = fake_job(f, &fake, 3);
    job_start(&f->js, a);
    job_start(&f->js, b);
    assert_int_equal(a->id, 1);
    assert_int_equal(b->id, 2);
    /* c stays pending: not stepped, not audited */
    int64_t later = (a->timer_ms > b->timer_ms ? a->timer_ms : b->timer_ms) + 1;
    assert_true(jobs_step(&f->js, NULL, NULL, 0, later));
    assert_int_equal(a->state, JOB_DONE);
    assert_int_equal(b->state, JOB_DONE);
    assert_int_equal(c->state, JOB_PENDING);
    assert_int_equal(count_lines(f->audit), 2);
    assert_true(jobs_busy(&f->js)); /* c */
    job_discard(&f->js, c);
    assert_false(jobs_busy(&f->js));
    assert_int_equal(f->js.n, 2);
    assert_int_equal(count_lines(f->audit), 2);
    /* c was backed out of: the next job started takes the next number, no gap */
    struct job *d = fake_job(f, &fake, 4);
    job_start(&f->js, d);
    assert_int_equal(d->id, 3);
    assert_true(jobs_step(&f->js, NULL, NULL, 0, d->timer_ms + 1));
    char **lines;
    size_t n = read_lines(f->audit, &lines);
    assert_int_equal(n, 3);
    json_t *o = parse_line(lines[2]);
    const char *id = jstr(o, "id");
    assert_string_equal(id + strlen(id) - 2, "-3"); /* the audit id ends with the job's number */
    json_decref(o);
    free_lines(lines, n);
}

static void test_job_abort(void **state)
{
    struct fx *f = *state;
    nseen = 0;
    struct job *j = fake_job(f, &fake, 77);
    job_abort(&f->js, j); /* not started: nothing to abort */
    assert_int_equal(j->state, JOB_PENDING);
    assert_int_equal(nseen, 0);
    assert_false(exists(f->audit));

    job_start(&f->js, j);
    int64_t timer = j->timer_ms;
    job_abort(&f->js, j);
    assert_int_equal(j->state, JOB_ABORTED);
    assert_int_equal(nseen, 2);
    assert_int_equal(seen[1], JEV_ABORT);
    assert_non_null(strstr(j->log.s, "abort requested by the user"));
    assert_int_equal(j->timer_ms, INT64_MAX);
    char **lines;
    size_t n = read_lines(f->audit, &lines);
    assert_int_equal(n, 1);
    json_t *o = parse_line(lines[0]);
    assert_string_equal(jstr(o, "state"), "aborted");
    assert_string_equal(jstr(o, "outcome"), "aborted");
    json_t *tg = json_array_get(json_object_get(o, "targets"), 0);
    assert_string_equal(jstr(tg, "result"), "not attempted");
    json_decref(o);
    free_lines(lines, n);

    /* its timer no longer fires, a second abort changes nothing */
    assert_false(jobs_step(&f->js, NULL, NULL, 0, timer + 10));
    job_abort(&f->js, j);
    assert_int_equal(nseen, 2);
    assert_int_equal(j->state, JOB_ABORTED);
    assert_int_equal(count_lines(f->audit), 1);
}

static void test_job_fails_at_start(void **state)
{
    struct fx *f = *state;
    struct job *j = fake_job(f, &failing, 5);
    job_start(&f->js, j);
    assert_int_equal(j->state, JOB_FAILED);
    assert_string_equal(j->outcome, "failed");
    assert_false(jobs_busy(&f->js));
    char **lines;
    size_t n = read_lines(f->audit, &lines);
    assert_int_equal(n, 1);
    json_t *o = parse_line(lines[0]);
    assert_string_equal(jstr(o, "action"), "failing");
    assert_string_equal(jstr(o, "state"), "failed");
    json_decref(o);
    free_lines(lines, n);
}

static void test_job_discard_writes_nothing(void **state)
{
    struct fx *f = *state;
    struct job *j = fake_job(f, &fake, 9);
    unsigned gen = f->js.generation;
    job_discard(&f->js, j);
    assert_int_equal(f->js.n, 0);
    assert_true(TAILQ_EMPTY(&f->js.list));
    assert_true(f->js.generation != gen);
    assert_false(jobs_busy(&f->js));
    assert_false(exists(f->audit));
    char *dir = xasprintf("%s/state", f->dir);
    assert_false(exists(dir)); /* not even the directory */
    free(dir);
}

/* An audit log that cannot be written: the job still ends, and says so loudly. */
static void test_audit_failure_reported(void **state)
{
    struct fx *f = *state;
    char *file = xasprintf("%s/plainfile", f->dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    struct jobs js;
    char *bad = xasprintf("%s/audit.jsonl", file); /* a directory that is a file */
    jobs_init(&js, bad, 1000);
    struct job *j = job_new(&js, &failing, "primary", "");
    job_start(&js, j);
    assert_int_equal(j->state, JOB_FAILED);
    assert_true(js.audit_error[0] != '\0');
    assert_non_null(strstr(j->log.s, "AUDIT LOG NOT WRITTEN"));
    jobs_free(&js);

    char err[256] = "";
    jobs_init(&js, bad, 1000);
    j = job_new(&js, &failing, "primary", "");
    assert_int_equal(audit_append(bad, j, "outcome", err, sizeof err), -1);
    assert_true(err[0] != '\0');
    jobs_free(&js);
    free(bad);
    free(file);
}

/* ---- the audit line ---- */

static void add_sql(struct job *j, const char *s)
{
    j->sql = xreallocarray(j->sql, j->nsql + 1, sizeof *j->sql);
    j->sql[j->nsql++] = xstrdup(s);
}

static void test_audit_line_format(void **state)
{
    struct fx *f = *state;
    struct job *j = job_new(&f->js, &action_terminate, "prod\033[2J\nbell\a", "host=db1 password=hunter2");
    struct job_target t = plain_target(31337);
    t.user = "evil\033]0;title\a";
    t.application = "app\nline2\r";
    t.database = "db\x7f";
    t.query = "SELECT 1 /* \033[31m */\n  FROM t";
    t.result = "terminated";
    t.ok = true;
    job_add_target(j, &t);
    struct job_target u = {.pid = 2}; /* nothing known but the pid (the shell commands) */
    job_add_target(j, &u);
    add_sql(j, "SELECT pg_terminate_backend($1::int, 5000)  -- with $1='31337' $2='\033x'");
    j->state = JOB_DONE;
    j->started_wall = 1700000000; /* 2023-11-14T22:13:20Z */
    j->started_ms = 1000;
    j->ended_ms = 1250;
    snprintf(j->outcome, sizeof j->outcome, "terminated 1 of 2\033[0m");

    char *line = audit_line(j, "outcome");
    assert_non_null(line);
    for (const unsigned char *p = (const unsigned char *)line; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            fail_msg("raw control byte 0x%02x in the audit line", *p);
    assert_null(strchr(line, '\n'));
    assert_null(strstr(line, "hunter2"));
    json_t *o = parse_line(line);
    assert_no_controls(o, "line");

    assert_string_equal(jstr(o, "time"), "2023-11-14T22:13:20Z");
    regex_t re;
    assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$", REG_EXTENDED), 0);
    assert_int_equal(regexec(&re, jstr(o, "time"), 0, NULL, 0), 0);
    regfree(&re);
    assert_true(jstr(o, "os_user")[0] != '\0');
    assert_true(jstr(o, "host")[0] != '\0');
    assert_string_equal(jstr(o, "action"), "terminate");
    /* the server's name, escaped: readable, no terminal control reaches a `cat` of the log */
    const char *srv = jstr(o, "server");
    assert_non_null(strstr(srv, "prod"));
    assert_non_null(strstr(srv, "\\033[2J"));
    assert_non_null(strstr(srv, "bell"));
    assert_non_null(strstr(srv, "\\a"));
    assert_non_null(strstr(jstr(o, "outcome"), "terminated 1 of 2\\033[0m"));

    json_t *targets = json_object_get(o, "targets");
    assert_true(json_is_array(targets));
    assert_int_equal(json_array_size(targets), 2);
    json_t *a = json_array_get(targets, 0);
    static const char *const keys[] = {"pid",   "user",  "database", "application", "query_fingerprint",
                                       "query", "result"};
    for (size_t k = 0; k < ARRAY_LEN(keys); k++)
        if (!json_object_get(a, keys[k]))
            fail_msg("target lacks \"%s\"", keys[k]);
    assert_int_equal(json_integer_value(json_object_get(a, "pid")), 31337);
    assert_non_null(strstr(jstr(a, "user"), "evil\\033]0;title\\a"));
    assert_non_null(strstr(jstr(a, "application"), "app"));
    assert_non_null(strstr(jstr(a, "application"), "line2"));
    assert_non_null(strstr(jstr(a, "database"), "db\\"));
    assert_non_null(strstr(jstr(a, "query"), "\\033[31m"));
    assert_non_null(strstr(jstr(a, "query"), "FROM t"));
    assert_string_equal(jstr(a, "result"), "terminated");
    const char *fp = jstr(a, "query_fingerprint");
    assert_int_equal(strlen(fp), 16);
    assert_int_equal(strspn(fp, "0123456789abcdef"), 16);
    char want[17];
    query_fingerprint(t.query, want);
    assert_string_equal(fp, want);
    json_t *b = json_array_get(targets, 1);
    assert_int_equal(json_integer_value(json_object_get(b, "pid")), 2);
    assert_string_equal(jstr(b, "result"), "not attempted");

    json_t *sql = json_object_get(o, "sql");
    assert_true(json_is_array(sql));
    assert_int_equal(json_array_size(sql), 1);
    assert_non_null(strstr(json_string_value(json_array_get(sql, 0)), "pg_terminate_backend"));
    assert_non_null(strstr(json_string_value(json_array_get(sql, 0)), "\\033x"));
    assert_non_null(json_object_get(o, "outcome"));
    json_decref(o);
    free(line);
}

static const char *query_of(json_t *o) { return jstr(json_array_get(json_object_get(o, "targets"), 0), "query"); }

static json_t *line_for_query(struct fx *f, const char *q)
{
    struct job *j = job_new(&f->js, &action_cancel, "primary", "");
    struct job_target t = plain_target(1);
    t.query = (char *)q;
    job_add_target(j, &t);
    char *line = audit_line(j, "outcome");
    assert_non_null(line);
    json_t *o = parse_line(line);
    free(line);
    job_discard(&f->js, j);
    return o;
}

static void test_audit_query_cut(void **state)
{
    struct fx *f = *state;
    char q[512];

    memset(q, 'a', 300);
    q[300] = '\0';
    json_t *o = line_for_query(f, q);
    assert_int_equal(strlen(query_of(o)), 200);
    assert_memory_equal(query_of(o), q, 200);
    json_decref(o);

    /* 198 characters, then an ESC whose escape (\033) does not fit: cut before it, whole */
    memset(q, 'a', 198);
    snprintf(q + 198, sizeof q - 198, "\033bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    o = line_for_query(f, q);
    assert_int_equal(strlen(query_of(o)), 198);
    assert_int_equal(strspn(query_of(o), "a"), 198);
    json_decref(o);

    /* 196, then the escape fits exactly: 200 characters ending in the whole \033 */
    memset(q, 'a', 196);
    snprintf(q + 196, sizeof q - 196, "\033bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    o = line_for_query(f, q);
    assert_int_equal(strlen(query_of(o)), 200);
    assert_string_equal(query_of(o) + 196, "\\033");
    json_decref(o);

    /* a short query is kept whole */
    o = line_for_query(f, "SELECT pg_sleep(60)");
    assert_string_equal(query_of(o), "SELECT pg_sleep(60)");
    json_decref(o);

    /* UTF-8 is cut on a whole character, never into invalid JSON text */
    q[0] = '\0';
    for (int i = 0; i < 150; i++)
        strcat(q, "\xc3\xa9"); /* é */
    o = line_for_query(f, q);
    const char *s = query_of(o);
    assert_true(strlen(s) <= 200);
    assert_true(strlen(s) >= 100);
    assert_int_equal(strlen(s) % 2, 0);
    assert_memory_equal(s, q, strlen(s));
    json_decref(o);

    /* a NULL query (the login cannot see it) is null or empty, not a crash */
    o = line_for_query(f, NULL);
    json_t *qv = json_object_get(json_array_get(json_object_get(o, "targets"), 0), "query");
    assert_true(json_is_null(qv) || (json_is_string(qv) && !json_string_value(qv)[0]));
    json_decref(o);
}

static void test_audit_file(void **state)
{
    struct fx *f = *state;
    mode_t old = umask(022);
    struct job *j = fake_job(f, &fake, 11);
    job_start(&f->js, j);
    jobs_step(&f->js, NULL, NULL, 0, j->timer_ms + 1);
    struct job *k = fake_job(f, &fake, 12);
    job_start(&f->js, k);
    job_abort(&f->js, k);
    umask(old);

    struct stat st;
    assert_int_equal(stat(f->audit, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    char *dir = xasprintf("%s/state/pgfleet", f->dir);
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 077, 0); /* private to the user */
    free(dir);

    char **lines;
    size_t n = read_lines(f->audit, &lines);
    assert_int_equal(n, 2);
    json_t *a = parse_line(lines[0]), *b = parse_line(lines[1]);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(a, "targets"), 0), "pid")), 11);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(b, "targets"), 0), "pid")), 12);
    assert_string_equal(jstr(b, "state"), "aborted");
    json_decref(a);
    json_decref(b);
    free_lines(lines, n);
}

static void test_audit_default_path(void **state)
{
    struct fx *f = *state;
    char *want = xasprintf("%s/state/pgfleet/audit.jsonl", f->dir);
    char *p = audit_default_path();
    assert_string_equal(p, want);
    free(p);
    free(want);

    /* a relative XDG_STATE_HOME is invalid (XDG spec): ~/.local/state then */
    char *home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
    setenv("HOME", f->dir, 1);
    setenv("XDG_STATE_HOME", "relative/dir", 1);
    p = audit_default_path();
    want = xasprintf("%s/.local/state/pgfleet/audit.jsonl", f->dir);
    assert_string_equal(p, want);
    free(p);
    unsetenv("XDG_STATE_HOME");
    p = audit_default_path();
    assert_string_equal(p, want);
    free(p);
    free(want);
    if (home)
        setenv("HOME", home, 1);
    free(home);

    /* jobs_init without a path uses it */
    char *st = xasprintf("%s/elsewhere", f->dir);
    setenv("XDG_STATE_HOME", st, 1);
    struct jobs js;
    jobs_init(&js, NULL, 1000);
    want = xasprintf("%s/pgfleet/audit.jsonl", st);
    assert_string_equal(js.audit_path, want);
    jobs_free(&js);
    free(want);
    free(st);
}

static char *print_log(const char *path, int64_t since_ms, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    *rc = audit_print(path, since_ms, out);
    fclose(out);
    return buf;
}

static void test_audit_print(void **state)
{
    struct fx *f = *state;
    int rc;
    char *s = print_log(f->audit, 0, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(s, "no actions recorded"));
    free(s);

    struct job *j = job_new(&f->js, &action_cancel, "prod\033[2J", "");
    struct job_target t = plain_target(4711);
    t.result = "sent";
    t.ok = true;
    job_add_target(j, &t);
    j->state = JOB_DONE;
    j->started_wall = time(NULL);
    snprintf(j->outcome, sizeof j->outcome, "pid 4711: sent");
    char err[256];
    assert_int_equal(audit_append(f->audit, j, "outcome", err, sizeof err), 0);
    /* an old line, a hand-edited one with raw controls in JSON escapes, and garbage */
    FILE *fp = fopen(f->audit, "a");
    fputs("{\"time\":\"2001-01-01T00:00:00Z\",\"os_user\":\"old\",\"host\":\"h\",\"server\":\"ancient\","
          "\"action\":\"terminate\",\"targets\":[],\"sql\":[],\"outcome\":\"long ago\"}\n",
          fp);
    fputs("{\"time\":\"2999-01-01T00:00:00Z\",\"os_user\":\"x\",\"host\":\"h\",\"server\":\"edited\\u001b[2J\","
          "\"action\":\"cancel\",\"targets\":[{\"pid\":1,\"query\":\"q\\u0007\"}],\"sql\":[],\"outcome\":\"o\\n\"}\n",
          fp);
    fputs(
        "{\"time\":\"2999-01-02T00:00:00Z\\u001b]0;t\\u0007\",\"os_user\":\"x\",\"host\":\"h\",\"server\":\"s\","
        "\"action\":\"cancel\",\"targets\":[{\"pid\":3,\"query\":\"SELECT '\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
        "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
        "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
        "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
        "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9'\"}],\"sql\":[],\"outcome\":\"o\"}\n",
        fp);
    fputs("not json at all\n", fp);
    fclose(fp);

    s = print_log(f->audit, 0, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(s, "cancel"));
    assert_non_null(strstr(s, "pid 4711: sent"));
    assert_non_null(strstr(s, "pid 4711"));
    assert_non_null(strstr(s, "ancient"));
    assert_non_null(strstr(s, "edited"));
    assert_non_null(strstr(s, "not a JSON record"));
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
            fail_msg("raw control byte 0x%02x in `pgfleet audit` output:\n%s", *p, s);
    /* what was escaped when written is shown as written, not escaped twice */
    if (!strstr(s, "prod\\033[2J") || strstr(s, "\\\\033"))
        fail_msg("the server's escape is not shown once (prod\\033[2J):\n%s", s);
    /* a long query is shown cut, as whole UTF-8 characters */
    const char *qe = strstr(s, "SELECT '\xc3\xa9");
    assert_non_null(qe);
    size_t ql = strcspn(qe, "\n");
    char *qline = xstrndup(qe, ql); /* 100 display columns at most, whole characters */
    assert_true(str_cols(qline) <= 100);
    assert_true(qline[ql - 1] == '\'' || ((unsigned char)qline[ql - 1] & 0xc0) != 0xc0); /* no half character */
    free(qline);
    free(s);

    s = print_log(f->audit, 3600 * 1000, &rc); /* --since 1h */
    assert_int_equal(rc, 0);
    assert_non_null(strstr(s, "pid 4711: sent"));
    assert_null(strstr(s, "ancient"));
    free(s);
}

/* ---- the query fingerprint ---- */

static void fp_of(const char *q, char out[17]) { query_fingerprint(q, out); }

static void assert_same_fp(const char *a, const char *b)
{
    char x[17], y[17];
    fp_of(a, x);
    fp_of(b, y);
    if (strcmp(x, y) != 0)
        fail_msg("fingerprints differ for the same statement:\n  %s\n  %s", a, b);
}

static void assert_other_fp(const char *a, const char *b)
{
    char x[17], y[17];
    fp_of(a, x);
    fp_of(b, y);
    if (strcmp(x, y) == 0)
        fail_msg("fingerprints equal for different statements:\n  %s\n  %s", a, b);
}

static void test_query_fingerprint(void **state)
{
    (void)state;
    char x[17];
    fp_of("SELECT 1", x);
    assert_int_equal(strlen(x), 16);
    assert_int_equal(strspn(x, "0123456789abcdef"), 16);
    fp_of(NULL, x);
    assert_int_equal(strlen(x), 16);

    /* other literals */
    assert_same_fp("SELECT * FROM accounts WHERE id = 42", "SELECT * FROM accounts WHERE id = 7");
    assert_same_fp("SELECT * FROM t WHERE name = 'bob'", "SELECT * FROM t WHERE name = 'it''s a longer one'");
    assert_same_fp("UPDATE t SET x = 3.14 WHERE id = 1", "UPDATE t SET x = 2 WHERE id = 100000");
    assert_same_fp("SELECT pg_sleep(60)", "SELECT pg_sleep(5)");
    /* other white space and case */
    assert_same_fp("SELECT *  FROM   accounts\n\tWHERE id = 42", "select * from accounts where id = 9");
    assert_same_fp("SELECT a,\n       b\n  FROM t", "select a, b from t");
    assert_same_fp("  SELECT 1", "SELECT 1");
    assert_same_fp("SELECT 1\n", "SELECT 1");

    /* different statements */
    assert_other_fp("SELECT * FROM accounts WHERE id = 1", "DELETE FROM accounts WHERE id = 1");
    assert_other_fp("SELECT * FROM t1", "SELECT * FROM t2"); /* digits in names are not literals */
    assert_other_fp("SELECT a FROM t", "SELECT b FROM t");
    assert_other_fp("SELECT pg_sleep(60)", "SELECT pg_cancel_backend(60)");
    assert_other_fp("SELECT 1", "");
    /* an unterminated literal is not a crash */
    fp_of("SELECT 'unterminated", x);
    fp_of("'", x);
    fp_of("''''", x);
}

/* ---- who may be a target ---- */

static void test_target_is_system(void **state)
{
    (void)state;
    struct job_target t = plain_target(1);
    assert_false(target_is_system(&t));
    static const char *const system_types[] = {
        "walsender",         "autovacuum launcher",          "autovacuum worker", "checkpointer",
        "background writer", "logical replication launcher", "background worker", "walwriter"};
    for (size_t i = 0; i < ARRAY_LEN(system_types); i++) {
        t.backend_type = (char *)system_types[i];
        if (!target_is_system(&t))
            fail_msg("%s is not treated as a system backend", system_types[i]);
    }
    /* A name is not an identity: anyone can call a session "pgfleet" to hide from the monitor
     * and its actions. Our own sessions are left out by pid, in the statements. */
    t = plain_target(1);
    t.application = "pgfleet";
    assert_false(target_is_system(&t));
    t.application = "pgfleet-action";
    assert_false(target_is_system(&t));
    /* nothing known (not looked up yet) is not a system backend by itself */
    struct job_target u = {.pid = 5};
    assert_false(target_is_system(&u));
}

static void test_target_unsignalable(void **state)
{
    (void)state;
    struct job_target t = plain_target(1); /* role "app", not a superuser */
    struct server_caps su = {.superuser = true, .signal_backend = true, .current_user = "postgres"};
    struct server_caps sig = {.signal_backend = true, .current_user = "ops"};
    struct server_caps mon = {.pg_monitor = true, .current_user = "monitor"};
    struct server_caps self = {.current_user = "app"};

    assert_null(target_unsignalable(&t, NULL)); /* unknown: the server decides */
    assert_null(target_unsignalable(&t, &su));
    assert_null(target_unsignalable(&t, &sig));
    assert_null(target_unsignalable(&t, &self)); /* one's own role */
    const char *why = target_unsignalable(&t, &mon);
    assert_non_null(why);
    assert_non_null(strstr(why, "pg_signal_backend"));

    t.superuser = true; /* a superuser's session: only a superuser may */
    assert_null(target_unsignalable(&t, &su));
    why = target_unsignalable(&t, &sig);
    assert_non_null(why);
    assert_non_null(strstr(why, "superuser"));
    assert_non_null(target_unsignalable(&t, &mon));

    struct job_target anon = {.pid = 3}; /* user unknown */
    assert_non_null(target_unsignalable(&anon, &mon));
    assert_null(target_unsignalable(&anon, &sig));
}

static void test_signal_precheck(void **state)
{
    struct fx *f = *state;
    struct text why;
    text_init(&why);
    struct job *j = job_new(&f->js, &action_cancel, "primary", "");
    assert_int_equal(action_cancel.precheck(j, &why), -1);
    assert_non_null(strstr(why.s, "no session"));
    text_clear(&why);

    struct job_target t = plain_target(10);
    job_add_target(j, &t);
    assert_int_equal(action_cancel.precheck(j, &why), 0);
    struct job_target w = plain_target(11);
    w.backend_type = "walsender";
    job_add_target(j, &w);
    assert_int_equal(action_cancel.precheck(j, &why), -1);
    assert_non_null(strstr(why.s, "pid 11"));
    assert_non_null(strstr(why.s, "not a client session"));
    text_clear(&why);
    j->allow_system = true; /* actions.allow_system_backends */
    assert_int_equal(action_terminate.precheck(j, &why), 0);
    job_discard(&f->js, j);

    /* the shell commands know only the pid: looked up (and refused) later */
    j = job_new(&f->js, &action_terminate, "primary", "");
    struct job_target p = {.pid = 12};
    job_add_target(j, &p);
    assert_int_equal(action_terminate.precheck(j, &why), 0);
    job_discard(&f->js, j);
    text_free(&why);
    assert_false(exists(f->audit));
}

static void test_confirm_strength(void **state)
{
    struct fx *f = *state;
    struct job *j = fake_job(f, &action_terminate, 1);
    assert_int_equal(action_terminate.confirm(j), CONFIRM_YN);
    assert_int_equal(action_cancel.confirm(j), CONFIRM_YN);
    struct job_target t = plain_target(2);
    job_add_target(j, &t);
    assert_int_equal(action_terminate.confirm(j), CONFIRM_TYPE_YES); /* several sessions */
    job_discard(&f->js, j);

    j = job_new(&f->js, &action_terminate, "primary", "");
    t = plain_target(3);
    t.superuser = true;
    t.user = "postgres";
    job_add_target(j, &t);
    assert_int_equal(action_terminate.confirm(j), CONFIRM_TYPE_YES); /* a superuser's session */
    assert_int_equal(action_cancel.confirm(j), CONFIRM_YN);          /* cancel of one: y/n */
    job_discard(&f->js, j);

    /* what an answer must be (the shell reads a line, the dialog takes y as a key) */
    static const char *const yn_yes[] = {"y\n", "Y\n", "yes\n", "YES", " y \n", "Yes"};
    static const char *const yn_no[] = {"", "\n", "n\n", "no\n", "yy\n", "yes please\n", "x"};
    for (size_t i = 0; i < ARRAY_LEN(yn_yes); i++)
        assert_true(confirm_answer_ok(CONFIRM_YN, yn_yes[i]));
    for (size_t i = 0; i < ARRAY_LEN(yn_no); i++)
        assert_false(confirm_answer_ok(CONFIRM_YN, yn_no[i]));
    assert_true(confirm_answer_ok(CONFIRM_TYPE_YES, "yes\n"));
    assert_true(confirm_answer_ok(CONFIRM_TYPE_YES, "yes"));
    static const char *const word_no[] = {"y\n", "Y\n", "YES\n", "yes!\n", "", "\n", "n\n"};
    for (size_t i = 0; i < ARRAY_LEN(word_no); i++)
        assert_false(confirm_answer_ok(CONFIRM_TYPE_YES, word_no[i]));
    assert_false(confirm_answer_ok(CONFIRM_TYPE_NAME, "yes\n"));
}

/* The cancel dialog says which targets run no query: a cancel does nothing to them. */
static void test_cancel_describe_idle(void **state)
{
    struct fx *f = *state;
    struct job *j = job_new(&f->js, &action_cancel, "primary", "");
    struct job_target a = plain_target(10), b = plain_target(11), c = plain_target(12);
    b.state = "idle in transaction";
    c.state = "idle";
    job_add_target(j, &a);
    job_add_target(j, &b);
    job_add_target(j, &c);
    struct text d;
    text_init(&d);
    action_cancel.describe(j, &d);
    assert_non_null(strstr(d.s,
                           "\npid 11 is idle in transaction: no query is running, so cancel does nothing to it\n"
                           "(terminate ends the session and rolls its transaction back)\n"));
    assert_non_null(strstr(d.s, "\npid 12 is idle: no query is running, so cancel does nothing to it\n"));
    assert_null(strstr(d.s, "pid 10 is"));
    text_free(&d);
    text_init(&d);
    action_terminate.describe(j, &d); /* a terminate does end them: no such note */
    assert_null(strstr(d.s, "does nothing"));
    text_free(&d);
    job_discard(&f->js, j);
}

static void test_describe_escaped(void **state)
{
    struct fx *f = *state;
    const struct action_class *classes[] = {&action_cancel, &action_terminate};
    for (size_t c = 0; c < ARRAY_LEN(classes); c++) {
        struct job *j = job_new(&f->js, classes[c], "prod\033[2J", "");
        struct job_target t = plain_target(4242);
        t.user = "evil\033]0;pwned\a";
        t.database = "db\r";
        t.application = "app\033[31m";
        t.client = "10.0.0.7";
        t.state = "idle in transaction\033";
        t.query = "SELECT /* \033[5m */ pg_sleep(60)\n  FROM \x7f t";
        t.superuser = true;
        t.blocks = 2;
        job_add_target(j, &t);
        struct job_target n = {.pid = 99, .age_s = NAN}; /* only a pid */
        job_add_target(j, &n);
        struct text d;
        text_init(&d);
        classes[c]->describe(j, &d);
        for (const unsigned char *p = (const unsigned char *)d.s; *p; p++)
            if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
                fail_msg("%s: raw control byte 0x%02x in the dialog text:\n%s", classes[c]->name, *p, d.s);
        assert_non_null(strstr(d.s, "4242"));
        assert_non_null(strstr(d.s, "pid 99"));
        assert_non_null(strstr(d.s, "evil\\033]0;pwned\\a"));
        assert_non_null(strstr(d.s, "app\\033[31m"));
        assert_non_null(strstr(d.s, "10.0.0.7"));
        assert_non_null(strstr(d.s, "pg_sleep(60)"));
        assert_non_null(strstr(d.s, "SUPERUSER"));
        assert_non_null(strstr(d.s, "blocks 2 sessions"));
        assert_non_null(strstr(d.s, "2 sessions"));
        text_free(&d);
        job_discard(&f->js, j);
    }
}

/* ---- the signal engine's reading of results (no server: results made by hand) ---- */

/* The phases of actions/action_signal.c, which the result events below belong to. */

static struct rowset *row3(const char *a, const char *b, const char *c)
{
    static const char *const names[] = {"alive", "same_query", "sent"};
    struct rowset *r = rowset_new(3, names);
    const char *v[] = {a, b, c};
    rowset_add_row(r, v);
    return r;
}

static struct rowset *row2(const char *a, const char *b)
{
    static const char *const names[] = {"alive", "exited"};
    struct rowset *r = rowset_new(2, names);
    const char *v[] = {a, b};
    rowset_add_row(r, v);
    return r;
}

static struct rowset *row1(const char *a)
{
    static const char *const names[] = {"still"};
    struct rowset *r = rowset_new(1, names);
    const char *v[] = {a};
    rowset_add_row(r, v);
    return r;
}

static enum job_state feed(struct job *j, struct rowset **rs, int n)
{
    struct job_event ev = {.kind = JEV_RESULTS, .rs = rs, .nrs = n};
    enum job_state st = j->cls->step(j, &ev);
    for (int i = 0; i < n; i++)
        rowset_free(rs[i]);
    return st;
}

static struct job *acting_job(struct fx *f, const struct action_class *cls, int ntargets)
{
    struct job *j = job_new(&f->js, cls, "primary", "");
    for (int i = 0; i < ntargets; i++) {
        struct job_target t = plain_target(100 + i);
        job_add_target(j, &t);
    }
    j->state = JOB_RUNNING;
    j->phase = P_ACT;
    return j;
}

static void test_cancel_results(void **state)
{
    struct fx *f = *state;
    /* sent, then the verify poll sees the query gone */
    struct job *j = acting_job(f, &action_cancel, 1);
    struct rowset *rs[2] = {row3("t", "t", "t")};
    assert_int_equal(feed(j, rs, 1), JOB_RUNNING);
    assert_string_equal(j->targets[0].result, "sent");
    assert_true(j->targets[0].ok);
    assert_int_equal(j->phase, P_VERIFY);
    assert_true(j->timer_ms != INT64_MAX);
    rs[0] = row1("f");
    assert_int_equal(feed(j, rs, 1), JOB_DONE);
    assert_string_equal(j->targets[0].result, "sent; the query ended");
    assert_non_null(strstr(j->outcome, "pid 100"));
    assert_non_null(strstr(j->outcome, "sent"));
    job_discard(&f->js, j);

    /* the guard: another query now, the backend gone, the signal refused */
    static const struct {
        const char *alive, *same;
        const char *want;
    } cases[] = {
        {"t", "f", "running a different query now (nothing sent)"},
        {"f", "f", "already gone (nothing sent)"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        j = acting_job(f, &action_cancel, 1);
        rs[0] = row3(cases[i].alive, cases[i].same, NULL);
        assert_int_equal(feed(j, rs, 1), JOB_FAILED);
        assert_string_equal(j->targets[0].result, cases[i].want);
        assert_false(j->targets[0].ok);
        assert_non_null(strstr(j->outcome, cases[i].want));
        job_discard(&f->js, j);
    }
    j = acting_job(f, &action_cancel, 1);
    rs[0] = rowset_new_error("42501", "permission denied to cancel query");
    assert_int_equal(feed(j, rs, 1), JOB_FAILED);
    assert_non_null(strstr(j->targets[0].result, "permission denied"));
    assert_non_null(strstr(j->targets[0].result, "permission denied to cancel query"));
    job_discard(&f->js, j);

    /* nothing running: the state says why, and idle in transaction is called that */
    static const struct {
        const char *state, *want;
    } idle[] = {
        {"idle", "no query running (idle): nothing to cancel, nothing sent"},
        {"idle in transaction",
         "no query running (idle in transaction): nothing to cancel, nothing sent; terminate would end its transaction"},
        {"idle in transaction (aborted)",
         "no query running (idle in transaction (aborted)): nothing to cancel, "
         "nothing sent; terminate would end its transaction"},
    };
    for (size_t i = 0; i < ARRAY_LEN(idle); i++) {
        j = acting_job(f, &action_cancel, 1);
        static const char *const names[] = {"alive", "same_query", "sent", "running", "state"};
        rs[0] = rowset_new(5, names);
        const char *v[] = {"t", "t", NULL, "f", idle[i].state};
        rowset_add_row(rs[0], v);
        assert_int_equal(feed(j, rs, 1), JOB_FAILED);
        assert_string_equal(j->targets[0].result, idle[i].want);
        job_discard(&f->js, j);
    }

    /* two targets, one gone: the other is sent and verified; "cancelled 1 of 2" */
    j = acting_job(f, &action_cancel, 2);
    rs[0] = row3("t", "t", "t");
    rs[1] = row3("f", "f", NULL);
    assert_int_equal(feed(j, rs, 2), JOB_RUNNING);
    assert_string_equal(j->targets[1].result, "already gone (nothing sent)");
    rs[0] = row1("f"); /* verify: only the one reached is polled */
    assert_int_equal(feed(j, rs, 1), JOB_DONE);
    assert_string_equal(j->outcome, "cancelled 1 of 2");
    assert_string_equal(j->targets[0].result, "sent; the query ended");
    job_discard(&f->js, j);

    /* still running on every poll: reported, with terminate offered */
    j = acting_job(f, &action_cancel, 1);
    rs[0] = row3("t", "t", "t");
    feed(j, rs, 1);
    enum job_state st = JOB_RUNNING;
    for (int k = 0; k < 20 && st == JOB_RUNNING; k++) {
        j->tries++; /* what JEV_TIMER does before it polls */
        rs[0] = row1("t");
        st = feed(j, rs, 1);
    }
    assert_int_equal(st, JOB_DONE);
    assert_non_null(strstr(j->targets[0].result, "still running"));
    assert_non_null(strstr(j->targets[0].result, "terminate"));
    job_discard(&f->js, j);
}

static void test_terminate_results(void **state)
{
    struct fx *f = *state;
    struct job *j = acting_job(f, &action_terminate, 1);
    struct rowset *rs[2] = {row2("t", "t")};
    assert_int_equal(feed(j, rs, 1), JOB_RUNNING);
    assert_string_equal(j->targets[0].result, "terminated");
    assert_int_equal(j->phase, P_VERIFY);
    rs[0] = row1("f");
    assert_int_equal(feed(j, rs, 1), JOB_DONE);
    assert_string_equal(j->targets[0].result, "terminated");
    job_discard(&f->js, j);

    j = acting_job(f, &action_terminate, 2);
    rs[0] = row2("f", NULL);
    rs[1] = rowset_new_error("42501", "permission denied to terminate process");
    assert_int_equal(feed(j, rs, 2), JOB_FAILED);
    assert_string_equal(j->targets[0].result, "already gone (nothing sent)");
    assert_non_null(strstr(j->targets[1].result, "permission denied"));
    assert_string_equal(j->outcome, "terminated 0 of 2");
    job_discard(&f->js, j);
}

/* Abort and a lost connection on a signal job: ended, on record, nothing claimed as sent. */
static void test_signal_abort_and_failure(void **state)
{
    struct fx *f = *state;
    struct job *j = acting_job(f, &action_cancel, 1);
    j->phase = P_CONNECT; /* aborted before anything was sent */
    job_abort(&f->js, j);
    assert_int_equal(j->state, JOB_ABORTED);
    assert_non_null(strstr(j->targets[0].result, "not sent"));
    char **lines;
    size_t n = read_lines(f->audit, &lines);
    assert_int_equal(n, 1);
    json_t *o = parse_line(lines[0]);
    assert_string_equal(jstr(o, "action"), "cancel");
    assert_string_equal(jstr(o, "state"), "aborted");
    assert_non_null(strstr(jstr(o, "outcome"), "aborted"));
    json_decref(o);
    free_lines(lines, n);

    /* aborted while the acting statement was out: the audit must not say "not attempted" */
    j = acting_job(f, &action_terminate, 2);
    job_abort(&f->js, j);
    assert_int_equal(j->state, JOB_ABORTED);
    n = read_lines(f->audit, &lines);
    assert_int_equal(n, 2);
    o = parse_line(lines[1]);
    json_t *tg;
    size_t i;
    json_array_foreach (json_object_get(o, "targets"), i, tg) {
        const char *r = jstr(tg, "result");
        if (strcmp(r, "not attempted") == 0 || !strstr(r, "unknown"))
            fail_msg("target %zu: \"%s\" after an abort with the signal statement in flight", i, r);
    }
    json_decref(o);
    free_lines(lines, n);

    j = acting_job(f, &action_terminate, 1);
    j->phase = P_CONNECT;
    struct job_event ev = {.kind = JEV_FAILED, .error = "connection refused"};
    assert_int_equal(action_terminate.step(j, &ev), JOB_FAILED);
    assert_non_null(strstr(j->outcome, "connection refused"));
    assert_non_null(strstr(j->targets[0].result, "not sent"));
    assert_false(j->targets[0].ok);
    job_discard(&f->js, j);
}

/* ---- no record, no action ---- */

/* The intent record is on disk before the acting statement is sent; when it cannot be written
 * nothing is sent at all. */
static void test_intent_before_send(void **state)
{
    struct fx *f = *state;
    const char *sql[] = {"SELECT pg_cancel_backend($1::int)"};
    const int np[] = {1};
    const char *p0[] = {"4242"};
    const char *const *params[] = {p0};

    struct job *j = acting_job(f, &action_cancel, 1);
    j->conn = conn_new("host=/nonexistent", NULL); /* never connected: the send itself fails */
    assert_int_equal(job_act(j, sql, 1, np, params), -1);
    assert_true(j->intent_written);
    char **lines;
    size_t n = read_lines(f->audit, &lines);
    assert_int_equal(n, 1);
    json_t *o = parse_line(lines[0]);
    assert_string_equal(jstr(o, "record"), "intent");
    assert_string_equal(jstr(o, "id"), j->audit_id);
    const char *sent = json_string_value(json_array_get(json_object_get(o, "sql"), 0));
    assert_non_null(sent);
    assert_non_null(strstr(sent, "pg_cancel_backend"));
    assert_non_null(strstr(sent, "$1='4242'"));
    assert_null(json_object_get(json_array_get(json_object_get(o, "targets"), 0), "result"));
    json_decref(o);
    free_lines(lines, n);
    job_discard(&f->js, j);

    /* an audit log that cannot be written: refused, nothing sent, the reason said */
    struct jobs js;
    jobs_init(&js, "/dev/full", 1000);
    j = job_new(&js, &action_cancel, "primary", "");
    struct job_target t = plain_target(7);
    job_add_target(j, &t);
    j->conn = conn_new("host=/nonexistent", NULL);
    assert_int_equal(job_act(j, sql, 1, np, params), -2);
    assert_false(j->intent_written);
    assert_non_null(strstr(j->outcome, "nothing sent"));
    assert_true(js.audit_error[0] != '\0');
    jobs_free(&js);
}

/* An outcome that cannot be recorded is flagged: the shell exits non-zero on it. */
static void test_outcome_not_recorded(void **state)
{
    struct fx *f = *state;
    struct jobs js;
    jobs_init(&js, f->audit, 1000);
    struct job *j = job_new(&js, &failing, "primary", "");
    free(js.audit_path);
    js.audit_path = xstrdup("/dev/full");
    job_start(&js, j);
    assert_true(j->audit_failed);
    assert_non_null(strstr(j->log.s, "AUDIT LOG NOT WRITTEN"));
    jobs_free(&js);
}

/* What may sit at the audit path: a symbolic link, a directory, a FIFO, a file others can read,
 * a line left unfinished by a full disk. */
static void test_audit_file_handling(void **state)
{
    struct fx *f = *state;
    struct job *j = job_new(&f->js, &action_cancel, "primary", "");
    char err[256];
    char *dir = xasprintf("%s/h", f->dir), *target = xasprintf("%s/h/target", f->dir);
    char *link = xasprintf("%s/h/link.jsonl", f->dir), *fifo = xasprintf("%s/h/fifo", f->dir);
    char *plain = xasprintf("%s/h/plain.jsonl", f->dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    FILE *fp = fopen(target, "w");
    fclose(fp);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(audit_append(link, j, "outcome", err, sizeof err), -1);
    assert_non_null(strstr(err, "symbolic link"));
    struct stat st;
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_size, 0); /* nothing written through the link */

    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(audit_append(fifo, j, "outcome", err, sizeof err), -1);
    assert_non_null(strstr(err, "not a regular file"));
    assert_int_equal(audit_append(dir, j, "outcome", err, sizeof err), -1);

    /* a file others can read is made private; a line without its newline does not swallow
     * the next record */
    fp = fopen(plain, "w");
    fputs("{\"record\":\"intent\",\"id\":\"cut", fp);
    fclose(fp);
    assert_int_equal(chmod(plain, 0644), 0);
    assert_int_equal(audit_append(plain, j, "outcome", err, sizeof err), 0);
    assert_int_equal(stat(plain, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char **lines;
    size_t n = read_lines(plain, &lines);
    assert_int_equal(n, 2);
    json_t *o = parse_line(lines[1]);
    assert_string_equal(jstr(o, "record"), "outcome");
    json_decref(o);
    free_lines(lines, n);

    /* a new file's directory is created private */
    char *deep = xasprintf("%s/h/a/b/audit.jsonl", f->dir), *deepdir = xasprintf("%s/h/a/b", f->dir);
    assert_int_equal(audit_append(deep, j, "outcome", err, sizeof err), 0);
    assert_int_equal(stat(deepdir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(deep, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    job_discard(&f->js, j);
    free(deep), free(deepdir), free(dir), free(target), free(link), free(fifo), free(plain);
}

/* `pgfleet audit` pairs an intent with its outcome, and says so loudly when the outcome is
 * missing: the statement may have been sent. */
static void test_audit_print_pairs(void **state)
{
    struct fx *f = *state;
    struct job *j = job_new(&f->js, &action_cancel, "primary", "");
    struct job_target t = plain_target(4711);
    job_add_target(j, &t);
    snprintf(j->audit_id, sizeof j->audit_id, "test-1"); /* job_start would number them */
    char err[256];
    assert_int_equal(audit_append(f->audit, j, "intent", err, sizeof err), 0);
    struct job *k = job_new(&f->js, &action_terminate, "replica", "");
    struct job_target u = plain_target(99);
    job_add_target(k, &u);
    snprintf(k->audit_id, sizeof k->audit_id, "test-2");
    assert_int_equal(audit_append(f->audit, k, "intent", err, sizeof err), 0);
    free(j->targets[0].result);
    j->targets[0].result = xstrdup("sent; the query ended");
    j->state = JOB_DONE;
    snprintf(j->outcome, sizeof j->outcome, "pid 4711: sent; the query ended");
    assert_int_equal(audit_append(f->audit, j, "outcome", err, sizeof err), 0);
    int rc;
    char *s = print_log(f->audit, 0, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(s, "primary  cancel: pid 4711: sent; the query ended"));
    assert_non_null(strstr(s, "replica  terminate: NO OUTCOME RECORDED"));
    /* one entry per action, not per record */
    const char *p = s;
    int entries = 0;
    while ((p = strstr(p, "  cancel: ")))
        entries++, p++;
    assert_int_equal(entries, 1);
    free(s);
    job_discard(&f->js, j);
    job_discard(&f->js, k);
}

/* ---- the batch controls: the acting statements' row read into the outcome ---- */

static struct rowset *batch_row(const char *state, const char *was, const char *now, const char *size,
                                const char *now_size, const char *runner, const char *backend)
{
    static const char *const names[] = {"state",    "desired", "now_desired",   "batch_size",
                                        "now_size", "runner",  "runner_backend"};
    struct rowset *r = rowset_new(7, names);
    const char *v[] = {state, was, now, size, now_size, runner, backend};
    rowset_add_row(r, v);
    return r;
}

static enum job_state batch_feed(struct job *j, struct rowset *a, struct rowset *b)
{
    struct rowset *rs[2] = {a, b};
    int n = b ? 2 : 1;
    enum job_state st = batch_ctl_absorb(j, rs, n);
    for (int i = 0; i < n; i++)
        rowset_free(rs[i]);
    return st;
}

static void test_batch_control_results(void **state)
{
    struct fx *f = *state;
    static const struct {
        const struct action_class *cls;
        int dir;
        const char *state, *was, *now, *size, *now_size, *runner;
        enum job_state want;
        const char *outcome;
    } cases[] = {
        {&action_batch_pause, 1, "running", "run", "pause", "1000", "1000", "t", JOB_DONE,
         "j1: paused (the runner acknowledges within one batch)"},
        {&action_batch_pause, 1, "running", "run", "pause", "1000", "1000", "f", JOB_DONE,
         "j1: paused (no runner connected: it takes effect when the runner starts)"},
        {&action_batch_resume, 1, "paused", "pause", "run", "1000", "1000", "t", JOB_DONE, "j1: resumed"},
        {&action_batch_pause, 1, NULL, NULL, NULL, NULL, NULL, "f", JOB_FAILED, "j1: no such job on primary"},
        {&action_batch_pause, 1, "done", "run", NULL, "1000", NULL, "f", JOB_FAILED,
         "j1: job already done: nothing changed"},
        {&action_batch_resume, 1, "running", "cancel", NULL, "1000", NULL, "t", JOB_FAILED,
         "j1: job is being cancelled (desired cancel): nothing changed"},
        {&action_batch_cancel, 1, "running", "run", "cancel", "1000", "1000", "t", JOB_DONE, "j1: cancelled"},
        {&action_batch_size, 1, "running", "run", "run", "1000", "2000", "t", JOB_DONE, "j1: batch size 1000 -> 2000"},
        {&action_batch_size, -1, "running", "run", "run", "1000", "500", "t", JOB_DONE, "j1: batch size 1000 -> 500"},
        {&action_batch_size, 1, "running", "run", "run", "5000", "5000", "t", JOB_DONE,
         "j1: batch size stays 5000 (its maximum)"},
        {&action_batch_size, -1, "running", "run", "run", "1", "1", "t", JOB_DONE,
         "j1: batch size stays 1 (its minimum)"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct job *j = batch_control_new(&f->js, cases[i].cls, "primary", "", "j1", NULL, cases[i].dir);
        assert_int_equal(j->ntargets, 1);
        assert_string_equal(j->targets[0].application, "pgfleet-batch:j1");
        enum job_state st = batch_feed(j,
                                       batch_row(cases[i].state, cases[i].was, cases[i].now, cases[i].size,
                                                 cases[i].now_size, cases[i].runner, cases[i].state ? "4242" : NULL),
                                       NULL);
        assert_int_equal(st, cases[i].want);
        if (strncmp(j->outcome, cases[i].outcome, strlen(cases[i].outcome)) != 0)
            fail_msg("case %zu: outcome \"%s\", want \"%s...\"", i, j->outcome, cases[i].outcome);
        assert_int_equal(j->targets[0].pid, cases[i].state ? 4242 : 0);
        job_discard(&f->js, j);
    }

    /* cancel now: the second statement says whether a batch was in flight */
    static const char *const names[] = {"pid", "state", "sent"};
    struct job *j = batch_control_new(&f->js, &action_batch_cancel_now, "primary", "", "j1", NULL, 1);
    struct rowset *c = rowset_new(3, names);
    const char *v[] = {"4242", "active", "t"};
    rowset_add_row(c, v);
    assert_int_equal(batch_feed(j, batch_row("running", "run", "cancel", "1", "1", "t", "4242"), c), JOB_DONE);
    assert_non_null(strstr(j->outcome, "the batch in flight was cancelled"));
    job_discard(&f->js, j);
    j = batch_control_new(&f->js, &action_batch_cancel_now, "primary", "", "j1", NULL, 1);
    c = rowset_new(3, names);
    const char *idle[] = {"4242", "idle", NULL};
    rowset_add_row(c, idle);
    assert_int_equal(batch_feed(j, batch_row("running", "run", "cancel", "1", "1", "t", "4242"), c), JOB_DONE);
    assert_non_null(strstr(j->outcome, "no batch in flight (runner idle)"));
    job_discard(&f->js, j);
    j = batch_control_new(&f->js, &action_batch_cancel_now, "primary", "", "j1", NULL, 1);
    assert_int_equal(batch_feed(j, batch_row("running", "run", "cancel", "1", "1", "f", "4242"), rowset_new(3, names)),
                     JOB_DONE);
    assert_non_null(strstr(j->outcome, "no runner connected"));
    job_discard(&f->js, j);

    /* no control table: "no such job", and what to run */
    j = batch_control_new(&f->js, &action_batch_pause, "primary", "", "j1", NULL, 1);
    assert_int_equal(batch_feed(j, rowset_new_error("42P01", "relation \"pgfleet.batch_job\" does not exist"), NULL),
                     JOB_FAILED);
    assert_non_null(strstr(j->outcome, "no such job"));
    assert_non_null(strstr(j->outcome, "pgfleet batch init"));
    job_discard(&f->js, j);
}

static void test_batch_control_rules(void **state)
{
    struct fx *f = *state;
    /* a third-party runner's job: refused, with its own tool named */
    struct job *j = batch_control_new(&f->js, &action_batch_pause, "primary", "", "mig42", "rails", 1);
    struct text why;
    text_init(&why);
    assert_int_equal(j->cls->precheck(j, &why), -1);
    assert_string_equal(why.s, "mig42 is a job of rails: pause it with its own tool");
    text_free(&why);
    job_discard(&f->js, j);
    /* only cancel asks, by a typed yes; the name is escaped in the dialog */
    assert_int_equal(action_batch_pause.risk, RISK_SAFE);
    assert_int_equal(action_batch_resume.risk, RISK_SAFE);
    assert_int_equal(action_batch_size.risk, RISK_SAFE);
    assert_true(action_batch_cancel.risk != RISK_SAFE);
    assert_true(action_batch_cancel_now.risk != RISK_SAFE);
    j = batch_control_new(&f->js, &action_batch_cancel_now, "pri\033[2Jmary", "", "j1", NULL, 1);
    assert_int_equal(j->cls->confirm(j), CONFIRM_TYPE_YES);
    text_init(&why);
    j->cls->describe(j, &why);
    assert_null(strchr(why.s, '\033'));
    assert_non_null(strstr(why.s, "rolls back"));
    text_free(&why);
    job_discard(&f->js, j);
    assert_ptr_equal(action_find("batch-cancel-now"), &action_batch_cancel_now);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_job_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_control_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_control_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_intent_before_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outcome_not_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_file_handling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_print_pairs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_one_line_each, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_fails_at_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_discard_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_failure_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_line_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_query_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_default_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_print, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_fingerprint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_is_system, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_unsignalable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_precheck, setup, teardown),
        cmocka_unit_test_setup_teardown(test_confirm_strength, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_describe_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_terminate_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_abort_and_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
