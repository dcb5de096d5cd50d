/* restore_steps.c — the restore test's steps after the preflight: the method's copy
 * (pg_basebackup, initdb + roles + pg_dump/pg_restore per database, pgbackrest restore, a hook),
 * pg_verifybackup of a manifest, the copy started on a private socket, the checks' connection,
 * pg_amcheck, stop, removal; each a child process whose output and end drive the next. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "actions/action.h"
#include "actions/restore_job.h"
#include "core/conn.h"
#include "probes/restore_record.h"

/* ------------------------------------------------------------------------------- the steps */

enum job_state rt_go_clean(struct job *j)
{
    struct rt *r = RT(j);
    if (!r->scratch_made)
        return r->failing ? rt_finish_failed(j) : rt_finish_ok(j);
    if (r->failing && r->req.conf.keep_on_failure) {
        job_log(j, "scratch directory kept for a look (keep_on_failure): %s", r->scratch);
        restore_release_owner(r->scratch); /* kept on purpose: not a stale copy for the next test */
        r->scratch_made = false;
        return rt_finish_failed(j);
    }
    r->step = RT_CLEAN;
    rt_phase_begin(r, PH_CLEAN);
    rt_set_progress(j, "removing the scratch directory");
    const char *argv[] = {"rm", "-rf", "--", r->scratch, NULL};
    struct proc_spec s = {.argv = argv, .cwd = "/"};
    char err[256];
    if (job_spawn(j, &s, err, sizeof err) < 0) {
        rt_teardown_now(j);
        return r->failing ? rt_finish_failed(j) : rt_finish_ok(j);
    }
    return JOB_RUNNING;
}

enum job_state rt_go_stop(struct job *j)
{
    struct rt *r = RT(j);
    r->step = RT_STOP;
    rt_phase_begin(r, PH_STOP);
    rt_set_progress(j, "stopping the restored server");
    char ctl[600];
    rt_tool(r, "pg_ctl", ctl, sizeof ctl);
    const char *argv[] = {ctl, "stop", "-D", r->data, "-m", r->failing ? "immediate" : "fast", "-w", "-t", "120", NULL};
    if (rt_spawn(j, argv, "stop") < 0) {
        rt_teardown_now(j);
        return r->failing ? rt_finish_failed(j) : rt_finish_ok(j);
    }
    return JOB_RUNNING;
}

/* The options the copy starts with: on a private socket only, archiving and replication off. */
static char *server_options(const struct rt *r)
{
    struct text t;
    text_init(&t);
    text_printf(&t,
                "-c port=%d -c listen_addresses='' -c unix_socket_directories='%s'"
                " -c hba_file='%s/hba.conf' -c ident_file='%s/ident.conf'"
                " -c archive_mode=off -c max_wal_senders=0 -c hot_standby=off -c ssl=off"
                " -c shared_buffers=128MB -c logging_collector=off -c log_destination=stderr"
                " -c external_pid_file='' -c primary_conninfo='' -c cluster_name=pgfleet-restore-test",
                r->port, r->sock, r->scratch, r->scratch);
    if (r->major <= 14)
        text_add(&t, " -c stats_temp_directory=pg_stat_tmp");
    if (r->major >= 17)
        text_add(&t, " -c sync_replication_slots=off -c summarize_wal=off");
    return t.s;
}

static enum job_state go_start(struct job *j)
{
    struct rt *r = RT(j);
    r->step = RT_START;
    rt_phase_begin(r, PH_START);
    rt_set_progress(j, "starting the restored server (recovery)");
    /* a copy of a replica would wait for its primary: it is to become a server of its own */
    char path[700];
    if (strcmp(r->req.conf.method, "basebackup") == 0) {
        snprintf(path, sizeof path, "%s/standby.signal", r->data);
        unlink(path);
        snprintf(path, sizeof path, "%s/recovery.signal", r->data);
        unlink(path);
    } else if (strcmp(r->req.conf.method, "logical") != 0) {
        snprintf(path, sizeof path, "%s/standby.signal", r->data);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/postgresql.conf", r->data);
    struct stat st;
    if (stat(path, &st) < 0 && rt_write_file(r, path, "# written by pgfleet's restore test\n", 0600) < 0)
        return rt_fail(j, PH_START, "cannot write %s: %s", path, strerror(errno));
    char hba[700], ident[700];
    snprintf(hba, sizeof hba, "%s/hba.conf", r->scratch);
    snprintf(ident, sizeof ident, "%s/ident.conf", r->scratch);
    if (rt_write_file(r, hba, "# the restored copy: its private socket only\nlocal all all trust\n", 0600) < 0 ||
        rt_write_file(r, ident, "", 0600) < 0 || rt_make_dir(r, r->sock) < 0)
        return rt_fail(j, PH_START, "cannot prepare the scratch directory: %s", strerror(errno));
    r->port = rt_free_port();
    char ctl[600], secs[32];
    rt_tool(r, "pg_ctl", ctl, sizeof ctl);
    int64_t left = r->req.conf.timeout_ms - (now_ms() - 0);
    (void)left;
    snprintf(secs, sizeof secs, "%lld", (long long)(r->req.conf.timeout_ms / 1000));
    char *opts = server_options(r);
    const char *argv[] = {ctl, "start", "-w", "-t", secs, "-D", r->data, "-l", r->log, "-o", opts, NULL};
    r->started_server = true; /* from now on a stop is due, whatever pg_ctl says */
    int rc = rt_spawn(j, argv, "start");
    free(opts);
    return rc < 0 ? rt_fail(j, PH_START, "cannot run pg_ctl") : JOB_RUNNING;
}

/* The conninfo of the restored copy, on its socket. */
char *rt_copy_conninfo(const struct rt *r, const char *db)
{
    return xasprintf("host=%s port=%d user=%s dbname=%s", r->sock, r->port, r->superuser, db);
}

static enum job_state go_check(struct job *j)
{
    struct rt *r = RT(j);
    r->step = RT_CHECK;
    rt_phase_begin(r, PH_CHECK);
    rt_set_progress(j, "checking the restored server");
    char *ci = rt_copy_conninfo(r, r->ndbs ? r->dbs[0] : "postgres");
    int rc = job_connect_to(j, ci);
    free(ci);
    return rc < 0 ? rt_fail(j, PH_CHECK, "cannot connect to the restored server: %s", conn_error(j->conn))
                  : JOB_RUNNING;
}

/* Canary i on the source (before the copy) or on the copy: connect to its database. */
enum job_state rt_go_canary(struct job *j, bool on_copy)
{
    struct rt *r = RT(j);
    const struct canary_conf *c = &r->req.conf.canaries[r->canary_i];
    r->step = on_copy ? RT_CANARY_DST : RT_CANARY_SRC;
    char *ci;
    if (on_copy) {
        ci = rt_copy_conninfo(r, c->database ? c->database : (r->ndbs ? r->dbs[0] : "postgres"));
    } else { /* our own connection: the password stays in its conninfo */
        ci = c->database ? conn_rewrite(r->req.conninfo, c->database, NULL) : xstrdup(r->req.conninfo);
    }
    int rc = ci ? job_connect_to(j, ci) : -1;
    free(ci);
    if (rc < 0)
        return rt_fail(j, on_copy ? PH_CHECK : PH_PREFLIGHT, "canary %zu: cannot connect: %s", r->canary_i + 1,
                       conn_error(j->conn));
    return JOB_RUNNING;
}

enum job_state rt_go_amcheck_or_stop(struct job *j)
{
    struct rt *r = RT(j);
    r->checked_ms = now_ms();
    job_log(j, "checks passed: the restored server is usable (RTO so far %.1fs)",
            (double)(r->checked_ms - j->started_ms) / 1000);
    if (r->req.conf.amcheck) {
        r->step = RT_AMCHECK;
        rt_phase_begin(r, PH_AMCHECK);
        rt_set_progress(j, "pg_amcheck");
        char bin[600], port[16];
        rt_tool(r, "pg_amcheck", bin, sizeof bin);
        snprintf(port, sizeof port, "%d", r->port);
        const char *argv[] = {bin, "-h", r->sock, "-p", port, "-U", r->superuser, "--all", "--install-missing", NULL};
        if (rt_spawn(j, argv, "amcheck") < 0)
            return rt_fail(j, PH_AMCHECK, "cannot run pg_amcheck");
        return JOB_RUNNING;
    }
    return rt_go_stop(j);
}

/* logical: the next database to dump, or the checks when all are restored. */
static enum job_state go_dump(struct job *j)
{
    struct rt *r = RT(j);
    if (r->db_i >= r->ndbs)
        return go_check(j);
    r->step = RT_DUMP;
    rt_phase_begin(r, PH_COPY);
    rt_set_progress(j, "dump %zu/%zu", r->db_i + 1, r->ndbs);
    char bin[600], file[700];
    rt_tool(r, "pg_dump", bin, sizeof bin);
    snprintf(file, sizeof file, "%s/db%zu.dump", r->scratch, r->db_i);
    char *pw = NULL, *ci = conn_rewrite(r->req.source_conninfo, r->dbs[r->db_i], &pw);
    free(pw);
    const char *argv[] = {bin, "-Fc", "-f", file, "-d", ci ? ci : "", NULL};
    int rc = rt_spawn(j, argv, "dump");
    free(ci);
    return rc < 0 ? rt_fail(j, PH_COPY, "cannot run pg_dump") : JOB_RUNNING;
}

enum job_state rt_go_copy(struct job *j)
{
    struct rt *r = RT(j);
    const char *m = r->req.conf.method;
    rt_phase_begin(r, PH_COPY);
    r->step = RT_COPY;
    rt_set_progress(j, "copy");
    char *pw = NULL, *src = conn_rewrite(r->req.source_conninfo, NULL, &pw);
    free(pw);
    int rc;
    if (strcmp(m, "basebackup") == 0) {
        char bin[600];
        rt_tool(r, "pg_basebackup", bin, sizeof bin);
        const char *argv[] = {bin,
                              "-D",
                              r->data,
                              "-X",
                              "stream",
                              "-P",
                              "-c",
                              "fast",
                              "-d",
                              src ? src : "",
                              r->req.conf.max_rate ? "--max-rate" : NULL,
                              r->req.conf.max_rate,
                              NULL};
        rc = rt_spawn(j, argv, "copy");
    } else if (strcmp(m, "logical") == 0) {
        r->step = RT_INITDB;
        char bin[600];
        rt_tool(r, "initdb", bin, sizeof bin);
        const char *argv[] = {bin, "-D", r->data, "-U", r->superuser, "-A", "trust", "-E", "UTF8", NULL};
        rc = rt_spawn(j, argv, "initdb");
    } else if (strcmp(m, "pgbackrest") == 0) {
        char stanza[300], cfg[700], path[700], target[300];
        snprintf(stanza, sizeof stanza, "--stanza=%s", r->req.conf.stanza);
        snprintf(cfg, sizeof cfg, "--config=%s", r->req.conf.pgbackrest_config ? r->req.conf.pgbackrest_config : "");
        snprintf(path, sizeof path, "--pg1-path=%s", r->data);
        snprintf(target, sizeof target, "--target=%s", r->req.conf.target_time ? r->req.conf.target_time : "");
        const char *argv[12];
        size_t n = 0;
        argv[n++] = "pgbackrest";
        if (r->req.conf.pgbackrest_config)
            argv[n++] = cfg;
        argv[n++] = stanza;
        argv[n++] = path;
        argv[n++] = "--log-level-console=detail";
        if (r->req.conf.target_time) {
            argv[n++] = "--type=time";
            argv[n++] = target;
            argv[n++] = "--target-action=promote";
        }
        argv[n++] = "restore";
        argv[n] = NULL;
        rc = rt_spawn(j, argv, "copy");
    } else {
        char major[16];
        snprintf(major, sizeof major, "%d", r->major);
        const char *names[] = {"datadir", "server", "source", "major", "target_time", "bindir"};
        const char *values[] = {r->data, r->req.server, r->req.source, major, r->req.conf.target_time, r->bindir};
        char *cmd = hook_expand(r->req.conf.hook, names, values, sizeof names / sizeof *names);
        char e1[700], e2[300], e3[300], e4[32], e5[300], e6[600];
        snprintf(e1, sizeof e1, "PGFLEET_DATADIR=%s", r->data);
        snprintf(e2, sizeof e2, "PGFLEET_SERVER=%s", r->req.server);
        snprintf(e3, sizeof e3, "PGFLEET_SOURCE=%s", r->req.source);
        snprintf(e4, sizeof e4, "PGFLEET_MAJOR=%d", r->major);
        snprintf(e5, sizeof e5, "PGFLEET_TARGET_TIME=%s", r->req.conf.target_time ? r->req.conf.target_time : "");
        snprintf(e6, sizeof e6, "PGFLEET_BINDIR=%s", r->bindir);
        const char *env[] = {e1, e2, e3, e4, e5, e6, "PGAPPNAME=pgfleet-restore-test", NULL};
        const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        struct proc_spec s = {
            .argv = argv, .env = env, .cwd = r->scratch, .as_user = r->as_user, .uid = r->uid, .gid = r->gid};
        job_log(j, "copy: the hook: %s", cmd);
        char err[256];
        rc = job_spawn(j, &s, err, sizeof err);
        if (rc < 0)
            job_log(j, "cannot start the hook: %s", err);
        free(cmd);
    }
    free(src);
    return rc < 0 ? rt_fail(j, PH_COPY, "cannot start the %s step", m) : JOB_RUNNING;
}

/* --------------------------------------------------------------------------- child output */

void rt_on_output(struct job *j, const char *line)
{
    struct rt *r = RT(j);
    double pct;
    int64_t done, total;
    if (restore_progress(line, &pct, &done, &total) && (r->step == RT_COPY || r->step == RT_DUMP)) {
        char a[32], b[32];
        if (done >= 0) {
            r->bytes = done;
            rt_set_progress(j, "copy %.0f%% %s / %s", pct, fmt_bytes(a, sizeof a, (double)done),
                            fmt_bytes(b, sizeof b, (double)total));
        } else {
            rt_set_progress(j, "copy %.0f%%", pct);
        }
        /* a progress meter's line, or pgBackRest's one line per file restored: shown in the pane,
         * not logged (a server of many files would make a log of as many lines) */
        if (r->step == RT_COPY &&
            (strcmp(r->req.conf.method, "pgbackrest") != 0 || strstr(line, "DETAIL: restore file ")))
            return;
    }
    if (*line) {
        job_log(j, "  %s", line);
        snprintf(r->last_out, sizeof r->last_out, "%s", line);
        /* pgBackRest says why ("ERROR: [075]: no backup set found to restore"), then logs "restore
         * command end: aborted with exception [075]": the reason is the error line, not the last */
        if (strstr(line, "ERROR:") || strstr(line, "FATAL:") || strstr(line, "error:"))
            snprintf(r->last_err, sizeof r->last_err, "%s", line);
    }
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* A step's process ended. */
enum job_state rt_on_exit_step(struct job *j, int status)
{
    struct rt *r = RT(j);
    char st[400];
    proc_status_text(status, st, sizeof st);
    const char *said = r->last_err[0] ? r->last_err : r->last_out;
    if (status != 0 && said[0]) /* its last error line, else what it said last, is the reason */
        snprintf(st + strlen(st), sizeof st - strlen(st), " (%.300s)", said);
    r->last_out[0] = r->last_err[0] = '\0';
    bool ok = status == 0;
    switch (r->step) {
    case RT_COPY:
        if (!ok)
            return rt_fail(j, PH_COPY, "%s: %s", strcmp(r->req.conf.method, "hook") == 0 ? "the hook" : "the copy", st);
        char manifest[700];
        snprintf(manifest, sizeof manifest, "%s/backup_manifest", r->data);
        /* a base backup has a manifest (so has a hook's copy made by pg_basebackup): check it */
        if (r->major >= 13 && access(manifest, R_OK) == 0) {
            r->step = RT_VERIFY;
            rt_phase_begin(r, PH_VERIFY);
            rt_set_progress(j, "pg_verifybackup");
            char bin[600];
            rt_tool(r, "pg_verifybackup", bin, sizeof bin);
            const char *argv[] = {bin, r->data, NULL};
            return rt_spawn(j, argv, "verify") < 0 ? rt_fail(j, PH_VERIFY, "cannot run pg_verifybackup") : JOB_RUNNING;
        }
        return go_start(j);
    case RT_VERIFY:
        if (!ok)
            return rt_fail(j, PH_VERIFY, "pg_verifybackup: %s: the backup is damaged or incomplete", st);
        rt_add_check(r, "pg_verifybackup: every file matches the manifest");
        return go_start(j);
    case RT_INITDB:
        if (!ok)
            return rt_fail(j, PH_COPY, "initdb: %s", st);
        return go_start(j);
    case RT_START:
        if (!ok)
            return rt_fail(j, PH_START, "the restored server did not start (%s); see %s", st, r->log);
        job_log(j, "the restored server is up on %s port %d", r->sock, r->port);
        if (strcmp(r->req.conf.method, "logical") == 0) {
            r->step = RT_ROLES_DUMP;
            rt_phase_begin(r, PH_COPY);
            char bin[600], file[700];
            rt_tool(r, "pg_dumpall", bin, sizeof bin);
            snprintf(file, sizeof file, "%s/roles.sql", r->scratch);
            char *pw = NULL, *ci = conn_rewrite(r->req.source_conninfo, NULL, &pw);
            free(pw);
            const char *argv[] = {bin, "--roles-only", "--no-role-passwords", "-f", file, "-d", ci ? ci : "", NULL};
            int rc = rt_spawn(j, argv, "roles");
            free(ci);
            return rc < 0 ? rt_fail(j, PH_COPY, "cannot run pg_dumpall") : JOB_RUNNING;
        }
        return go_check(j);
    case RT_ROLES_DUMP: {
        if (!ok)
            return rt_fail(j, PH_COPY, "pg_dumpall --roles-only: %s", st);
        r->step = RT_ROLES_LOAD;
        char bin[600], file[700], port[16];
        rt_tool(r, "psql", bin, sizeof bin);
        snprintf(file, sizeof file, "%s/roles.sql", r->scratch);
        snprintf(port, sizeof port, "%d", r->port);
        /* the bootstrap role exists already: that one error is expected */
        const char *argv[] = {bin,  "-X",         "-q", "-h",       r->sock, "-p", port,
                              "-U", r->superuser, "-d", "postgres", "-f",    file, NULL};
        return rt_spawn(j, argv, "roles") < 0 ? rt_fail(j, PH_COPY, "cannot run psql") : JOB_RUNNING;
    }
    case RT_ROLES_LOAD:
        if (!ok)
            return rt_fail(j, PH_COPY, "loading the roles: %s", st);
        r->db_i = 0;
        return go_dump(j);
    case RT_DUMP: {
        if (!ok)
            return rt_fail(j, PH_COPY, "pg_dump of %s: %s", r->dbs[r->db_i], st);
        char file[700], bin[600], port[16];
        snprintf(file, sizeof file, "%s/db%zu.dump", r->scratch, r->db_i);
        r->bytes += file_size(file);
        r->step = RT_RESTORE;
        rt_set_progress(j, "restore %zu/%zu", r->db_i + 1, r->ndbs);
        rt_tool(r, "pg_restore", bin, sizeof bin);
        snprintf(port, sizeof port, "%d", r->port);
        char *ci = xasprintf("host=%s port=%s user=%s dbname=template1", r->sock, port, r->superuser);
        const char *argv[] = {bin, "--create", "--clean", "--if-exists", "-d", ci, file, NULL};
        int rc = rt_spawn(j, argv, "restore");
        free(ci);
        return rc < 0 ? rt_fail(j, PH_COPY, "cannot run pg_restore") : JOB_RUNNING;
    }
    case RT_RESTORE: {
        if (!ok)
            return rt_fail(j, PH_COPY, "pg_restore of %s: %s", r->dbs[r->db_i], st);
        char file[700];
        snprintf(file, sizeof file, "%s/db%zu.dump", r->scratch, r->db_i);
        unlink(file);
        r->db_i++;
        return go_dump(j);
    }
    case RT_AMCHECK:
        if (!ok)
            return rt_fail(j, PH_AMCHECK, "pg_amcheck found corruption or could not check (%s)", st);
        rt_add_check(r, "pg_amcheck: no corruption found");
        return rt_go_stop(j);
    case RT_STOP:
        if (!ok)
            job_log(j, "pg_ctl stop: %s", st);
        r->started_server = false;
        return rt_go_clean(j);
    case RT_CLEAN:
        r->scratch_made = false;
        if (!ok)
            job_log(j, "rm: %s: the scratch directory may be left at %s", st, r->scratch);
        return r->failing ? rt_finish_failed(j) : rt_finish_ok(j);
    default: return JOB_RUNNING;
    }
}
