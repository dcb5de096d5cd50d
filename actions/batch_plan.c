/* batch_plan.c — the pure helpers of the batch runner: binding a job's placeholders to
 * parameters, and choosing the next batch's size. Unit-tested in tests/unit/test_batch.c. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "actions/batch.h"

/* Past a quoted or commented stretch starting at p (a quote, a dollar quote, a comment), or p
 * itself when none starts there. */
static const char *skip_quoted(const char *start, const char *p)
{
    if (p[0] == '\'' || p[0] == '"') {
        char q = p[0];
        bool backslash = p[0] == '\'' && p > start && (p[-1] == 'E' || p[-1] == 'e');
        for (p++; *p; p++) {
            if (backslash && *p == '\\' && p[1]) {
                p++;
            } else if (*p == q) {
                if (p[1] != q)
                    return p + 1;
                p++; /* a doubled quote */
            }
        }
        return p;
    }
    if (p[0] == '-' && p[1] == '-')
        return p + strcspn(p, "\n");
    if (p[0] == '/' && p[1] == '*') {
        int depth = 0;
        for (; *p; p++) {
            if (p[0] == '/' && p[1] == '*')
                depth++, p++;
            else if (p[0] == '*' && p[1] == '/' && --depth == 0)
                return p + 2;
            else if (p[0] == '*' && p[1] == '/')
                p++;
        }
        return p;
    }
    if (p[0] == '$') { /* $$...$$ or $tag$...$tag$ */
        size_t n = 1;
        while (isalnum((unsigned char)p[n]) || p[n] == '_')
            n++;
        if (p[n] != '$' || (n > 1 && isdigit((unsigned char)p[1])))
            return p;
        n++;
        const char *end = p + n;
        while ((end = strchr(end, '$')) && strncmp(end, p, n) != 0)
            end++;
        return end ? end + n : p + strlen(p);
    }
    return p;
}

char *batch_bind(const char *sql, char *why, size_t whylen)
{
    struct text out;
    text_init(&out);
    bool seen_cursor = false, seen_batch = false;
    const char *p = sql;
    while (*p) {
        const char *q = skip_quoted(sql, p);
        if (q != p) {
            text_addn(&out, p, (size_t)(q - p));
            p = q;
            continue;
        }
        if (p[0] == ':' && p[1] == ':') { /* a cast */
            text_addn(&out, p, 2);
            p += 2;
            while (isalnum((unsigned char)*p) || *p == '_')
                text_addn(&out, p++, 1);
            continue;
        }
        if (p[0] == '$' && isdigit((unsigned char)p[1])) {
            snprintf(why, whylen, "the statement uses $%c: write :cursor and :batch, which pgfleet binds", p[1]);
            text_free(&out);
            return NULL;
        }
        if (p[0] == ';') {
            const char *r = p + 1;
            while (isspace((unsigned char)*r))
                r++;
            if (*r) {
                snprintf(why, whylen, "one statement only: there is more after the \";\"");
                text_free(&out);
                return NULL;
            }
            break;
        }
        if (p[0] == ':' && (isalpha((unsigned char)p[1]) || p[1] == '_')) {
            size_t n = 1;
            while (isalnum((unsigned char)p[n]) || p[n] == '_')
                n++;
            if (n == 7 && strncmp(p, ":cursor", 7) == 0) {
                text_add(&out, "$1::int8");
                seen_cursor = true;
            } else if (n == 6 && strncmp(p, ":batch", 6) == 0) {
                text_add(&out, "$2::int8");
                seen_batch = true;
            } else {
                snprintf(why, whylen, "unknown placeholder \"%.*s\" (use :cursor and :batch)", (int)(n > 40 ? 40 : n),
                         p);
                text_free(&out);
                return NULL;
            }
            p += n;
            continue;
        }
        text_addn(&out, p++, 1);
    }
    if (!seen_cursor || !seen_batch) {
        snprintf(why, whylen, "the statement must use %s%s%s: the runner binds them to each batch's range",
                 seen_cursor ? "" : ":cursor", !seen_cursor && !seen_batch ? " and " : "", seen_batch ? "" : ":batch");
        text_free(&out);
        return NULL;
    }
    char *r = xstrdup(out.s ? out.s : "");
    text_free(&out);
    return r;
}

int64_t batch_next_size(int64_t size, int64_t took_ms, int64_t target_ms, int64_t min, int64_t max)
{
    if (took_ms > 0 && target_ms > 0) {
        double f = (double)target_ms / (double)took_ms;
        if (f > 2)
            f = 2;
        if (f < 0.5)
            f = 0.5;
        /* a small difference is noise: keep the size steady within 20 % of the target */
        if (f < 0.8 || f > 1.25)
            size = (int64_t)((double)size * f);
    }
    if (size < min)
        size = min;
    if (size > max)
        size = max;
    return size < 1 ? 1 : size;
}

int64_t batch_halve(int64_t size, int64_t min)
{
    size /= 2;
    if (size < min)
        size = min;
    return size < 1 ? 1 : size;
}
