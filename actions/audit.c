/* audit.c — the audit log: JSON lines, two per action: an intent record (who, where, the
 * targets, the statements) flushed to disk before anything is sent, and an outcome record
 * flushed before the result is shown, tied by an id. The file is the user's own regular file,
 * 0600, opened without following symbolic links and appended with O_APPEND; a line is never
 * left half written for the next record to corrupt. `pgfleet audit` prints it readably, every
 * string escaped again (the file may have been edited). */
#include "actions/audit.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actions/action.h"
#include "actions/job.h"
#include "core/state_file.h"
#include "core/util.h"

char *audit_default_path(void) { return state_file_path("audit.jsonl"); }

/* Lower-case, literals replaced by ?, white space folded (and dropped at both ends): the same
 * statement with other values gets the same fingerprint. FNV-1a 64 over that. */
void query_fingerprint(const char *q, char out[17])
{
    uint64_t h = 1469598103934665603ULL;
    bool space = false, started = false;
    for (const char *p = q ? q : ""; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\'') { /* a string literal */
            for (p++; *p && !(*p == '\'' && p[1] != '\''); p++)
                if (*p == '\'')
                    p++;
            c = '?';
            if (!*p)
                p--;
        } else if (isdigit(c) && !(p > q && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))) {
            while (isdigit((unsigned char)p[1]) || p[1] == '.')
                p++;
            c = '?';
        } else if (isspace(c)) {
            space = started; /* hashed only if something follows it */
            continue;
        } else {
            c = (unsigned char)tolower(c);
        }
        if (space) {
            h ^= ' ';
            h *= 1099511628211ULL;
            space = false;
        }
        started = true;
        h ^= c;
        h *= 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static json_t *esc_str(const char *s, size_t max)
{
    if (!s)
        return json_null();
    char *e = esc(s, 1);
    if (max && strlen(e) > max) {
        /* cut on a whole escape: esc_into does that for us */
        char *cut = xmalloc(max + 1);
        esc_into(cut, max + 1, s, 1);
        free(e);
        e = cut;
    }
    json_t *j = json_string(e);
    free(e);
    return j ? j : json_string("?");
}

/* Who we are, looked up once before the loop runs: getpwuid may ask a network directory (NSS:
 * LDAP, NIS), which must never stall the loop when a job finishes. */
static char os_user[64];

void audit_identity_init(void)
{
    if (os_user[0])
        return;
    struct passwd *pw = getpwuid(geteuid());
    snprintf(os_user, sizeof os_user, "%s", pw ? pw->pw_name : "?");
}

char *audit_line(const struct job *j, const char *record)
{
    char ts[32], host[256] = "", fp[17];
    struct tm tm;
    time_t t = j->started_wall ? j->started_wall : time(NULL);
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    gethostname(host, sizeof host - 1);
    audit_identity_init(); /* a no-op after jobs_init */
    bool intent = strcmp(record, "intent") == 0;
    json_t *o = json_object();
    json_object_set_new(o, "record", json_string(record));
    json_object_set_new(o, "id", esc_str(j->audit_id, 0));
    if (intent) {
        time_t now = time(NULL);
        gmtime_r(&now, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "os_user", esc_str(os_user, 0));
    json_object_set_new(o, "host", esc_str(host, 0));
    json_object_set_new(o, "server", esc_str(j->server, 0));
    json_object_set_new(o, "action", json_string(j->cls->name));
    json_t *targets = json_array();
    for (size_t i = 0; i < j->ntargets; i++) {
        const struct job_target *tg = &j->targets[i];
        json_t *x = json_object();
        json_object_set_new(x, "pid", json_integer(tg->pid));
        json_object_set_new(x, "user", esc_str(tg->user, 0));
        json_object_set_new(x, "database", esc_str(tg->database, 0));
        json_object_set_new(x, "application", esc_str(tg->application, 0));
        json_object_set_new(x, "backend_start_us", esc_str(tg->backend_start, 0));
        query_fingerprint(tg->query, fp);
        json_object_set_new(x, "query_fingerprint", json_string(fp));
        json_object_set_new(x, "query", esc_str(tg->query, 200));
        if (tg->pooler)
            json_object_set_new(x, "pooler_connection", esc_str(tg->pooler, 0));
        if (!intent)
            json_object_set_new(x, "result", esc_str(tg->result ? tg->result : "not attempted", 0));
        json_array_append_new(targets, x);
    }
    json_object_set_new(o, "targets", targets);
    json_t *sql = json_array();
    for (size_t i = 0; i < j->nsql; i++)
        json_array_append_new(sql, esc_str(j->sql[i], 0));
    json_object_set_new(o, "sql", sql);
    if (!intent) {
        json_object_set_new(o, "state", json_string(job_state_name(j->state)));
        json_object_set_new(o, "outcome", esc_str(j->outcome, 0));
        json_object_set_new(o, "duration_ms",
                            json_integer(j->ended_ms > j->started_ms ? j->ended_ms - j->started_ms : 0));
    }
    char *line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return line;
}

int audit_append(const char *path, const struct job *j, const char *record, char *err, size_t errlen)
{
    char *line = audit_line(j, record);
    if (!line) {
        snprintf(err, errlen, "cannot encode the audit record");
        return -1;
    }
    int rc = state_file_append(path, line, err, errlen);
    free(line);
    return rc;
}

static const char *jstr_or(json_t *o, const char *k, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : dflt;
}

/* Text read back from the log was escaped when it was written: escape again only what could
 * harm a terminal (the file may have been edited), keeping its backslashes, so that an ESC
 * recorded as \033 is shown as \033, not \\033. */
static char *reesc(const char *s) { return esc_safe(s); }

/* One action as `pgfleet audit` prints it: the intent (or an old one-line record) and, when it
 * was recorded, the outcome with each target's result. */
static void print_action(FILE *out, json_t *first, json_t *outcome)
{
    json_t *o = outcome ? outcome : first;
    bool lost = !outcome;
    char *when = reesc(jstr_or(first, "time", "?"));
    char *who = reesc(jstr_or(first, "os_user", "?")), *host = reesc(jstr_or(first, "host", "?"));
    char *srv = reesc(jstr_or(first, "server", "?")), *act = reesc(jstr_or(first, "action", "?"));
    char *outc = reesc(
        lost
            ? "NO OUTCOME RECORDED: the statement may have been sent (pgfleet stopped, or the log could not be written)"
            : jstr_or(o, "outcome", ""));
    fprintf(out, "%s  %s@%s  %s  %s: %s\n", when, who, host, srv, act, outc);
    free(when), free(who), free(host), free(srv), free(act), free(outc);
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get(o, "targets"), i, t) {
        char *u = reesc(jstr_or(t, "user", "?")), *d = reesc(jstr_or(t, "database", "?"));
        char *a = reesc(jstr_or(t, "application", "")), *r = reesc(jstr_or(t, "result", lost ? "?" : ""));
        char q[512]; /* 100 columns, never cut inside an escape or a character */
        esc_safe_cols(q, sizeof q, jstr_or(t, "query", ""), 100);
        fprintf(out, "    pid %lld  %s@%s  %s  -> %s\n      %s\n",
                (long long)json_integer_value(json_object_get(t, "pid")), u, d, a, r, q);
        free(u), free(d), free(a), free(r);
    }
}

int audit_print(const char *path, int64_t since_ms, FILE *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) {
            char *p = esc(path, 1);
            fprintf(out, "no actions recorded yet (%s does not exist)\n", p);
            free(p);
            return 0;
        }
        char *p = esc(path, 1);
        fprintf(stderr, "pgfleet: %s: %s\n", p, strerror(errno));
        free(p);
        return 1;
    }
    char cutoff[32] = "";
    if (since_ms > 0) {
        time_t t = time(NULL) - (time_t)(since_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(cutoff, sizeof cutoff, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    /* Read every record first: an intent is printed with its outcome, found later by id. */
    json_t **recs = NULL;
    size_t n = 0;
    char *buf = NULL, *epath = esc(path, 1);
    size_t cap = 0;
    int lineno = 0, shown = 0;
    while (getline(&buf, &cap, f) > 0) {
        lineno++;
        if (buf[strspn(buf, " \t\r\n")] == '\0')
            continue; /* the empty line that ends a record cut short */
        json_error_t jerr;
        json_t *o = json_loads(buf, 0, &jerr);
        if (!o || !json_is_object(o)) {
            char *e = esc(o ? "not an object" : jerr.text, 1);
            fprintf(out, "%s:%d: not a JSON record: %s\n", epath, lineno, e);
            free(e);
            json_decref(o);
            continue;
        }
        recs = xreallocarray(recs, n + 1, sizeof *recs);
        recs[n++] = o;
    }
    free(buf);
    fclose(f);
    for (size_t i = 0; i < n; i++) {
        const char *kind = jstr_or(recs[i], "record", "");
        const char *id = jstr_or(recs[i], "id", NULL);
        if (strcmp(kind, "outcome") == 0 && id) {
            bool had_intent = false; /* printed with it */
            for (size_t k = 0; k < i && !had_intent; k++)
                had_intent = strcmp(jstr_or(recs[k], "record", ""), "intent") == 0 && jstr_or(recs[k], "id", NULL) &&
                    strcmp(jstr_or(recs[k], "id", ""), id) == 0;
            if (had_intent)
                continue;
        }
        json_t *outcome = NULL;
        if (strcmp(kind, "intent") == 0 && id)
            for (size_t k = i + 1; k < n && !outcome; k++)
                if (strcmp(jstr_or(recs[k], "record", ""), "outcome") == 0 &&
                    strcmp(jstr_or(recs[k], "id", ""), id) == 0)
                    outcome = recs[k];
        if (cutoff[0] && strcmp(jstr_or(recs[i], "time", "?"), cutoff) < 0)
            continue;
        print_action(out, recs[i], strcmp(kind, "intent") == 0 ? outcome : recs[i]);
        shown++;
    }
    for (size_t i = 0; i < n; i++)
        json_decref(recs[i]);
    free(recs);
    free(epath);
    if (!shown)
        fprintf(out, "no actions recorded%s\n", cutoff[0] ? " in that period" : "");
    return 0;
}
