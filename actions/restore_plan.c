/* restore_plan.c — the restore test's pure helpers: reading the tools' progress, quoting for the
 * shell, a hook's placeholders, plain paths, and where the PostgreSQL binaries of a major are. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/restore_test.h"

bool restore_progress(const char *line, double *pct, int64_t *done, int64_t *total)
{
    *done = *total = -1;
    const char *p = strchr(line, '%');
    if (!p)
        return false;
    /* back from the % over digits and one dot */
    const char *q = p;
    while (q > line && (isdigit((unsigned char)q[-1]) || q[-1] == '.'))
        q--;
    if (q == p)
        return false;
    *pct = strtod(q, NULL);
    if (*pct < 0 || *pct > 100)
        return false;
    /* pg_basebackup -P: "  12345/67890 kB (18%)" */
    long long a, b;
    char unit[8];
    const char *s = line;
    while (*s == ' ')
        s++;
    if (sscanf(s, "%lld/%lld %7s", &a, &b, unit) == 3 && strcmp(unit, "kB") == 0) {
        *done = a * 1024;
        *total = b * 1024;
    }
    return true;
}

char *shell_quote(const char *s)
{
    struct text t;
    text_init(&t);
    text_add(&t, "'");
    for (; *s; s++) {
        if (*s == '\'')
            text_add(&t, "'\\''");
        else
            text_addn(&t, s, 1);
    }
    text_add(&t, "'");
    return t.s;
}

char *hook_expand(const char *tmpl, const char *const *names, const char *const *values, size_t n)
{
    struct text t;
    text_init(&t);
    for (const char *p = tmpl; *p;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            size_t k = 0;
            for (; end && k < n; k++)
                if (strlen(names[k]) == (size_t)(end - p - 1) && strncmp(p + 1, names[k], (size_t)(end - p - 1)) == 0)
                    break;
            if (end && k < n) {
                char *q = shell_quote(values[k] ? values[k] : "");
                text_add(&t, q);
                free(q);
                p = end + 1;
                continue;
            }
        }
        text_addn(&t, p, 1);
        p++;
    }
    return t.s;
}

bool restore_path_plain(const char *p)
{
    if (!p || p[0] != '/')
        return false;
    for (; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_.-", *p))
            return false;
    return true;
}

/* tmpl with "{major}" replaced. */
static void with_major(const char *tmpl, int major, char *out, size_t len)
{
    const char *at = strstr(tmpl, "{major}");
    if (at)
        snprintf(out, len, "%.*s%d%s", (int)(at - tmpl), tmpl, major, at + 7);
    else
        snprintf(out, len, "%s", tmpl);
}

int restore_find_bindir(const char *tmpl, int major, char *out, size_t len, char *why, size_t whylen)
{
    static const char *const places[] = {"/usr/lib/postgresql/{major}/bin", "/usr/pgsql-{major}/bin"};
    struct text tried;
    text_init(&tried);
    const char *const *list = tmpl ? &tmpl : places;
    size_t n = tmpl ? 1 : sizeof places / sizeof *places;
    for (size_t i = 0; i < n; i++) {
        char dir[512], ctl[600];
        with_major(list[i], major, dir, sizeof dir);
        snprintf(ctl, sizeof ctl, "%s/pg_ctl", dir);
        if (access(ctl, X_OK) == 0) {
            snprintf(out, len, "%s", dir);
            text_free(&tried);
            return 0;
        }
        text_printf(&tried, "%s%s", i ? ", " : "", dir);
    }
    snprintf(why, whylen, "no PostgreSQL %d binaries (pg_ctl) in %s%s", major, tried.s,
             tmpl ? "" : "; install them or set restore_test.bindir");
    text_free(&tried);
    return -1;
}
