/* audit.c — the audit log: one JSON line per action (who, where, what, the SQL sent, the
 * outcome), appended with O_APPEND to a 0600 file and flushed to disk before the result is
 * shown; and `pgfleet audit`, which prints it readably. Server text is escaped with vis. */
#include "audit.h"

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

#include "action.h"
#include "job.h"
#include "util.h"

char *audit_default_path(void)
{
    const char *state = getenv("XDG_STATE_HOME");
    if (state && state[0] == '/')
        return xasprintf("%s/pgfleet/audit.jsonl", state);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : "/tmp";
    }
    return xasprintf("%s/.local/state/pgfleet/audit.jsonl", home);
}

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

char *audit_line(const struct job *j)
{
    char ts[32], host[256] = "", fp[17];
    struct tm tm;
    time_t t = j->started_wall ? j->started_wall : time(NULL);
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    gethostname(host, sizeof host - 1);
    audit_identity_init(); /* a no-op after jobs_init */
    json_t *o = json_object();
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
        json_object_set_new(x, "backend_start", esc_str(tg->backend_start, 0));
        query_fingerprint(tg->query, fp);
        json_object_set_new(x, "query_fingerprint", json_string(fp));
        json_object_set_new(x, "query", esc_str(tg->query, 200));
        json_object_set_new(x, "result", esc_str(tg->result ? tg->result : "not attempted", 0));
        json_array_append_new(targets, x);
    }
    json_object_set_new(o, "targets", targets);
    json_t *sql = json_array();
    for (size_t i = 0; i < j->nsql; i++)
        json_array_append_new(sql, esc_str(j->sql[i], 0));
    json_object_set_new(o, "sql", sql);
    json_object_set_new(o, "state", json_string(job_state_name(j->state)));
    json_object_set_new(o, "outcome", esc_str(j->outcome, 0));
    json_object_set_new(o, "duration_ms", json_integer(j->ended_ms > j->started_ms ? j->ended_ms - j->started_ms : 0));
    char *line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return line;
}

/* mkdir -p for the log's directory, private to the user (it names servers and queries). */
static int make_dirs(const char *path)
{
    char *d = xstrdup(path);
    for (char *p = d + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(d, 0700) < 0 && errno != EEXIST) {
            free(d);
            return -1;
        }
        *p = '/';
    }
    free(d);
    return 0;
}

int audit_append(const char *path, const struct job *j, char *err, size_t errlen)
{
    char *line = audit_line(j);
    if (!line) {
        snprintf(err, errlen, "cannot encode the audit line");
        return -1;
    }
    int rc = -1;
    int fd = -1;
    if (make_dirs(path) < 0) {
        snprintf(err, errlen, "%s: cannot create its directory: %s", path, strerror(errno));
        goto out;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    /* One write() of the whole line: O_APPEND keeps concurrent pgfleets from interleaving. */
    size_t len = strlen(line);
    line[len] = '\n';
    ssize_t w = write(fd, line, len + 1);
    line[len] = '\0';
    if (w != (ssize_t)len + 1 || fdatasync(fd) < 0) {
        snprintf(err, errlen, "%s: %s", path, w < 0 ? strerror(errno) : "short write");
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
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
static char *reesc(const char *s)
{
    struct text t;
    text_init(&t);
    for (const char *p = s;;) {
        size_t n = strcspn(p, "\\");
        char *seg = xstrndup(p, n), *e = esc(seg, 1);
        text_add(&t, e);
        free(seg);
        free(e);
        if (!p[n])
            break;
        text_add(&t, "\\");
        p += n + 1;
    }
    return t.s;
}

/* Cut s to at most max bytes, not inside a UTF-8 character nor inside an escape like \033. */
static void cut_text(char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    for (size_t k = 1; k <= 3 && k <= n; k++)
        if (s[n - k] == '\\') {
            n -= k;
            break;
        }
    s[n] = '\0';
}

int audit_print(const char *path, int64_t since_ms, FILE *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) {
            fprintf(out, "no actions recorded yet (%s does not exist)\n", path);
            return 0;
        }
        fprintf(stderr, "pgfleet: %s: %s\n", path, strerror(errno));
        return 1;
    }
    char cutoff[32] = "";
    if (since_ms > 0) {
        time_t t = time(NULL) - (time_t)(since_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(cutoff, sizeof cutoff, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, shown = 0;
    while ((n = getline(&buf, &cap, f)) > 0) {
        lineno++;
        json_error_t jerr;
        json_t *o = json_loads(buf, 0, &jerr);
        if (!o) {
            fprintf(out, "%s:%d: not a JSON line: %s\n", path, lineno, jerr.text);
            continue;
        }
        const char *ts = jstr_or(o, "time", "?");
        if (cutoff[0] && strcmp(ts, cutoff) < 0) {
            json_decref(o);
            continue;
        }
        /* Everything printed is escaped again: the file could have been edited by anyone. */
        char *when = reesc(ts);
        char *who = reesc(jstr_or(o, "os_user", "?")), *host = reesc(jstr_or(o, "host", "?"));
        char *srv = reesc(jstr_or(o, "server", "?")), *act = reesc(jstr_or(o, "action", "?"));
        char *outc = reesc(jstr_or(o, "outcome", ""));
        fprintf(out, "%s  %s@%s  %s  %s: %s\n", when, who, host, srv, act, outc);
        free(when), free(who), free(host), free(srv), free(act), free(outc);
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(o, "targets"), i, t) {
            char *u = reesc(jstr_or(t, "user", "?")), *d = reesc(jstr_or(t, "database", "?"));
            char *a = reesc(jstr_or(t, "application", "")), *r = reesc(jstr_or(t, "result", ""));
            char *q = reesc(jstr_or(t, "query", ""));
            cut_text(q, 100);
            fprintf(out, "    pid %lld  %s@%s  %s  -> %s\n      %s\n",
                    (long long)json_integer_value(json_object_get(t, "pid")), u, d, a, r, q);
            free(u), free(d), free(a), free(r), free(q);
        }
        shown++;
        json_decref(o);
    }
    free(buf);
    fclose(f);
    if (!shown)
        fprintf(out, "no actions recorded%s\n", cutoff[0] ? " in that period" : "");
    return 0;
}
