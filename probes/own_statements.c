/* own_statements.c — the shape of an SQL text (constants and comments aside) and the match of a
 * pg_stat_statements text against the shapes of the texts pgfleet sends: how the Statements pane
 * leaves pgfleet's own probe statements out on every version (see own_statements.h). Pure. */
#include "probes/own_statements.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

static bool word_char(unsigned char c) { return isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

/* Characters that, on either side of a space, keep it: two words must not run together. */
static bool joins(unsigned char c) { return word_char(c) || c == '?' || c == '"'; }

struct shaper {
    struct text out;
    bool space; /* whitespace (or a comment) since the last token */
};

/* Append a token, with one space in front when whitespace separated two words. */
static void put(struct shaper *s, const char *tok, size_t n)
{
    if (s->space && s->out.len && joins((unsigned char)s->out.s[s->out.len - 1]) && joins((unsigned char)tok[0]))
        text_add(&s->out, " ");
    s->space = false;
    text_addn(&s->out, tok, n);
}

/* A constant: '?', and "?,?" becomes "?" (a list of constants, squashed by 18 or not). */
static void put_const(struct shaper *s)
{
    if (s->out.len >= 2 && s->out.s[s->out.len - 1] == ',' && s->out.s[s->out.len - 2] == '?') {
        s->out.s[--s->out.len] = '\0';
        return;
    }
    put(s, "?", 1);
}

/* EXTRACT(field FROM …): the grammar turns the field's name into a string constant. */
static bool extract_field(const struct shaper *s)
{
    return s->out.len >= 8 && strncasecmp(s->out.s + s->out.len - 8, "extract(", 8) == 0 &&
        (s->out.len == 8 || !word_char((unsigned char)s->out.s[s->out.len - 9]));
}

/* Past a quoted string starting at p (on its opening quote); backslash escapes when bs. */
static const char *skip_quoted(const char *p, char q, bool bs)
{
    for (p++; *p; p++) {
        if (bs && *p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == q) {
            if (p[1] == q) { /* doubled: part of the string */
                p++;
                continue;
            }
            return p + 1;
        }
    }
    return p;
}

/* Past a dollar-quoted string ($$...$$, $tag$...$tag$) at p, or NULL when p does not open one. */
static const char *skip_dollar(const char *p)
{
    const char *t = p + 1;
    if (isdigit((unsigned char)*t))
        return NULL; /* $1: a parameter */
    while (*t && (isalnum((unsigned char)*t) || *t == '_'))
        t++;
    if (*t != '$')
        return NULL;
    size_t taglen = (size_t)(t - p) + 1;
    const char *end = strstr(t + 1, "$");
    while (end && strncmp(end, p, taglen) != 0)
        end = strchr(end + 1, '$');
    return end ? end + taglen : t + strlen(t); /* unterminated (a cut text): the rest */
}

static const char *skip_number(const char *p)
{
    while (isdigit((unsigned char)*p) || *p == '.' || *p == '_')
        p++;
    if ((*p == 'e' || *p == 'E') &&
        (isdigit((unsigned char)p[1]) || ((p[1] == '+' || p[1] == '-') && isdigit((unsigned char)p[2])))) {
        p += 2;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return p;
}

/* A number or $n starts at p. */
static bool starts_const(const char *p)
{
    return isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1])) ||
        (*p == '$' && isdigit((unsigned char)p[1]));
}

char *stmt_shape(const char *text)
{
    struct shaper s = {.space = false};
    text_init(&s.out);
    const char *p = text ? text : "";
    while (*p) {
        unsigned char c = (unsigned char)*p;
        const char *e;
        bool after_word = s.out.len && !s.space && word_char((unsigned char)s.out.s[s.out.len - 1]);
        if (isspace(c)) {
            s.space = true;
            p++;
        } else if (c == '/' && p[1] == '*') {
            int depth = 0;
            do {
                if (p[0] == '/' && p[1] == '*')
                    depth++, p += 2;
                else if (p[0] == '*' && p[1] == '/')
                    depth--, p += 2;
                else
                    p++;
            } while (*p && depth > 0);
            s.space = true;
        } else if (c == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
            s.space = true;
        } else if (c == '-' && starts_const(p + 1)) {
            /* the sign goes with the constant, whichever way the server stored it ("-1" as $1
             * or -$1); what stood before it is the same on both sides */
            p++;
            s.space = true;
        } else if (c == '\'') {
            p = skip_quoted(p, '\'', false);
            put_const(&s);
        } else if (strchr("EeBbXxNn", c) && p[1] == '\'' && !after_word) {
            p = skip_quoted(p + 1, '\'', c == 'E' || c == 'e');
            put_const(&s);
        } else if ((c == 'U' || c == 'u') && p[1] == '&' && p[2] == '\'' && !after_word) {
            p = skip_quoted(p + 2, '\'', false);
            put_const(&s);
        } else if (c == '$' && !after_word && (e = skip_dollar(p)) != NULL) {
            p = e;
            put_const(&s);
        } else if (starts_const(p) && !after_word) {
            p = *p == '$' ? skip_number(p + 1) : skip_number(p);
            put_const(&s);
        } else if (c == '"') {
            e = skip_quoted(p, '"', false);
            put(&s, p, (size_t)(e - p));
            p = e;
        } else if (word_char(c)) {
            e = p;
            while (*e && word_char((unsigned char)*e))
                e++;
            size_t n = (size_t)(e - p);
            if ((n == 4 && (strncasecmp(p, "null", 4) == 0 || strncasecmp(p, "true", 4) == 0)) ||
                (n == 5 && strncasecmp(p, "false", 5) == 0) || extract_field(&s))
                put_const(&s);
            else
                put(&s, p, n);
            p = e;
        } else {
            put(&s, p, 1);
            p++;
        }
    }
    while (s.out.len && s.out.s[s.out.len - 1] == ';')
        s.out.s[--s.out.len] = '\0';
    return s.out.s;
}

void own_shapes_init(struct own_shapes *o, const char *const *texts, size_t n)
{
    o->shape = xcalloc(n + 1, sizeof *o->shape);
    o->n = 0;
    for (size_t i = 0; i < n; i++)
        if (texts[i])
            o->shape[o->n++] = stmt_shape(texts[i]);
}

void own_shapes_free(struct own_shapes *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->shape[i]);
    free(o->shape);
    o->shape = NULL;
    o->n = 0;
}

/* A few sets: a fleet of several versions has one set of texts per version. */
#define OWN_CACHE 8
static struct own_cache {
    uint64_t key;
    size_t ntexts;
    bool used;
    struct own_shapes shapes;
} own_cache[OWN_CACHE];
static size_t own_cache_next;

const struct own_shapes *own_shapes_cached(const char *const *texts, size_t n)
{
    /* a hash of every text, eight bytes at a time (the texts are long: a byte at a time, this
     * was a measurable share of a statements tick), each ended by its length */
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        const char *t = texts[i] ? texts[i] : "";
        size_t len = strlen(t), k = 0;
        for (; k + 8 <= len; k += 8) {
            uint64_t w;
            memcpy(&w, t + k, 8);
            h = (h ^ w) * 0x100000001b3ULL;
            h ^= h >> 29;
        }
        uint64_t w = 0;
        memcpy(&w, t + k, len - k);
        h = (h ^ w ^ ((uint64_t)len << 56) ^ (texts[i] ? 0 : 1)) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    for (size_t i = 0; i < OWN_CACHE; i++)
        if (own_cache[i].used && own_cache[i].key == h && own_cache[i].ntexts == n)
            return &own_cache[i].shapes;
    struct own_cache *c = &own_cache[own_cache_next++ % OWN_CACHE];
    if (c->used)
        own_shapes_free(&c->shapes);
    own_shapes_init(&c->shapes, texts, n);
    c->key = h;
    c->ntexts = n;
    c->used = true;
    return &c->shapes;
}

bool own_shapes_match(const struct own_shapes *o, const char *stored, bool cut)
{
    if (!stored)
        return false;
    char *text = xstrdup(stored);
    if (cut) { /* up to the last whitespace: the cut may have split a token or a constant */
        char *w = text + strlen(text);
        while (w > text && !isspace((unsigned char)w[-1]))
            w--;
        *w = '\0';
    }
    char *shape = stmt_shape(text);
    free(text);
    size_t len = strlen(shape);
    /* "?," may go on as "?,?", which is "?" */
    while (cut && len && shape[len - 1] == ',')
        shape[--len] = '\0';
    bool found = false;
    for (size_t i = 0; i < o->n && !found; i++) {
        if (cut)
            found = len >= OWN_MIN_PREFIX && strncmp(o->shape[i], shape, len) == 0;
        else
            found = strcmp(o->shape[i], shape) == 0;
    }
    free(shape);
    return found;
}
