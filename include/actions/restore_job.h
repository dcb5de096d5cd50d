/* restore_job.h — inside the restore-test job (actions/action_restore_test.c and the files it
 * is split into: restore_job.c the job's state, record and teardown; restore_steps.c the method's
 * steps and the tools' output; restore_preflight.c the checks before the copy and after it).
 * Not for other actions: the state is the job's private data (j->priv). */
#ifndef PGFLEET_RESTORE_JOB_H
#define PGFLEET_RESTORE_JOB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "actions/job.h"
#include "actions/restore_test.h"
#include "core/rowset.h"

enum rt_step {
    RT_CONNECT,
    RT_PREFLIGHT,
    RT_CANARY_SRC,
    RT_COPY,
    RT_VERIFY,
    RT_INITDB,
    RT_START,
    RT_ROLES_DUMP,
    RT_ROLES_LOAD,
    RT_DUMP,
    RT_RESTORE,
    RT_CHECK,
    RT_CANARY_DST,
    RT_AMCHECK,
    RT_STOP,
    RT_CLEAN,
};

/* The phases of the record, each timed. */
enum rt_phase { PH_PREFLIGHT, PH_COPY, PH_VERIFY, PH_START, PH_CHECK, PH_AMCHECK, PH_STOP, PH_CLEAN, PH_N };
extern const char *const rt_phase_names[PH_N]; /* "preflight", "copy", … */

#define RT_MAX_DBS 256
#define RT_MAX_CHECKS 64

struct rt {
    struct restore_request req;
    enum rt_step step;
    int phase; /* the phase now timed, -1 none */
    int64_t ph_start[PH_N], ph_ms[PH_N];
    int major;
    int64_t src_bytes;
    bool super, replication, read_all;
    char *superuser; /* the source's bootstrap superuser: the role to log in to the copy as */
    char **dbs;
    size_t ndbs, db_i;
    char **canary_src; /* the source's value of each canary, read before the copy */
    size_t canary_i;
    char bindir[512];
    char scratch[512], data[600], sock[600], log[600];
    int port;
    bool scratch_made, started_server, intent;
    bool as_user;
    uid_t uid;
    gid_t gid;
    char *password; /* for a passfile in the scratch directory; never in argv */
    bool failing;   /* tearing down after a failure */
    char failed_phase[16];
    char error[600];
    char *checks[RT_MAX_CHECKS];
    size_t nchecks;
    int64_t bytes;
    int64_t checked_ms;  /* when the checks passed: the RTO's end */
    int64_t deadline_ms; /* restore_test.timeout from the start */
    bool retry_check;    /* the timer is a retry of the check's connection, not the deadline */
    char last_out[300];  /* the step's last line of output: what a failing tool said */
    char last_err[300];  /* its last line that reads as an error (a tool may say more after it) */
    bool recorded;
};

/* The statements: the source's facts, its databases (also asked of the copy), the copy's state. */
extern const char RT_PREFLIGHT_SQL[], RT_DBS_SQL[], RT_CHECK_SQL[];

static inline struct rt *RT(struct job *j) { return j->priv; }

void rt_phase_begin(struct rt *r, int ph);
void rt_add_check(struct rt *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rt_set_progress(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rt_write_file(struct rt *r, const char *path, const char *content, mode_t mode);
int rt_make_dir(struct rt *r, const char *path);
int rt_free_port(void);
const char *rt_scratch_base(const struct rt *r);
int rt_spawn(struct job *j, const char *const *argv, const char *what);
void rt_tool(const struct rt *r, const char *name, char *out, size_t len);
void rt_write_record(struct job *j, const char *outcome);
void rt_teardown_now(struct job *j);
enum job_state rt_finish_ok(struct job *j);
enum job_state rt_finish_failed(struct job *j);
enum job_state rt_fail(struct job *j, int ph, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
enum job_state rt_go_clean(struct job *j);
enum job_state rt_go_stop(struct job *j);
char *rt_copy_conninfo(const struct rt *r, const char *db);
enum job_state rt_go_canary(struct job *j, bool on_copy);
enum job_state rt_go_amcheck_or_stop(struct job *j);
enum job_state rt_go_copy(struct job *j);
enum job_state rt_preflight(struct job *j, struct rowset **rs, int nrs);
enum job_state rt_begin(struct job *j);
void rt_on_output(struct job *j, const char *line);
enum job_state rt_on_exit_step(struct job *j, int status);
enum job_state rt_canary_result(struct job *j, struct rowset **rs, int nrs, bool on_copy);
enum job_state rt_check_result(struct job *j, struct rowset **rs, int nrs);

#endif
