/* yaml_load.c — the strict YAML reading shared by the fleet config and the batch job files:
 * the file read whole with a size and nesting cap, one document, alias expansion bounded, and
 * typed getters that report every problem as FILE:LINE:COL: message and keep going. */
#include "core/yaml_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Past this many errors the rest are noise (usually one mistake repeated). */
#define MAX_ERRORS 100

void yl_err(struct yload *ld, const yaml_node_t *at, const char *fmt, ...)
{
    if (ld->stop)
        return;
    int line = (int)at->start_mark.line + 1, col = (int)at->start_mark.column + 1;
    if (++ld->nerr > MAX_ERRORS) {
        text_printf(ld->err, "%s:%d:%d: too many errors, giving up\n", ld->path, line, col);
        ld->stop = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    text_printf(ld->err, "%s:%d:%d: ", ld->path, line, col);
    text_vprintf(ld->err, fmt, ap);
    text_add(ld->err, "\n");
    va_end(ap);
}

/* A value from the file, made safe to print: escaped, and cut short if long. Never used on
 * conninfo, which may hold a password. */
char *yl_show(const char *s)
{
    char *cut = xstrndup(s, 60);
    char *e = esc(cut, 1);
    free(cut);
    if (strlen(s) > 60) {
        char *l = xasprintf("%s...", e);
        free(e);
        e = l;
    }
    return e;
}

yaml_node_t *yl_node(struct yload *ld, int index) { return yaml_document_get_node(ld->doc, index); }

bool yl_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

const char *yl_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a map";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_SCALAR_NODE: return yl_is_null(n) ? "empty" : "a single value";
    default: return "nothing";
    }
}

/* Every node we visit costs its size: through aliases a small file can name the same big list
 * many times over, and we copy what we visit. */
bool yl_charge(struct yload *ld, const yaml_node_t *n)
{
    if (ld->stop)
        return false;
    ld->budget -= 1 + (n->type == YAML_SCALAR_NODE ? (long)n->data.scalar.length : 0);
    if (ld->budget < 0) {
        yl_err(ld, n, "too much data after expanding aliases");
        ld->stop = true;
        return false;
    }
    return true;
}

/* The text of a scalar, or NULL after saying why there is none. what names the value in the
 * message ("refresh", "each tag"), want says what it should be ("a duration"). */
const char *yl_scalar(struct yload *ld, yaml_node_t *n, const char *what, const char *want)
{
    if (!yl_charge(ld, n))
        return NULL;
    if (n->type != YAML_SCALAR_NODE || yl_is_null(n)) {
        yl_err(ld, n, "%s must be %s, not %s", what, want, yl_kind(n));
        return NULL;
    }
    const char *v = (const char *)n->data.scalar.value;
    /* A "\0" escape would cut the string short without anyone noticing. */
    if (strlen(v) != n->data.scalar.length) {
        yl_err(ld, n, "%s must not contain a NUL character", what);
        return NULL;
    }
    return v;
}

/* Like yl_scalar, for values where "" makes no sense (paths, tags, commands). */
const char *yl_text(struct yload *ld, yaml_node_t *n, const char *what, const char *want)
{
    const char *v = yl_scalar(ld, n, what, want);
    if (v && !*v) {
        yl_err(ld, n, "%s must not be empty", what);
        return NULL;
    }
    return v;
}

/* The items of a list; an empty value counts as an empty list (e.g. every entry commented
 * out). Returns the count, 0 after an error. */
size_t yl_seq(struct yload *ld, yaml_node_t *n, const char *what, yaml_node_item_t **items)
{
    *items = NULL;
    if (!yl_charge(ld, n) || yl_is_null(n))
        return 0;
    if (n->type != YAML_SEQUENCE_NODE) {
        yl_err(ld, n, "%s must be a list, not %s", what, yl_kind(n));
        return 0;
    }
    *items = n->data.sequence.items.start;
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

/* A list of non-empty strings, appended to *v. */

/* Duration with an optional range (min_txt/max_txt are how the limits read in a message). */
void yl_duration(struct yload *ld, yaml_node_t *n, const char *what, int64_t *out, int64_t min, const char *min_txt,
                 int64_t max, const char *max_txt)
{
    const char *s = yl_scalar(ld, n, what, "a duration");
    if (!s)
        return;
    int64_t ms;
    char *e = yl_show(s);
    if (parse_duration_ms(s, &ms) != 0 || ms < 0)
        yl_err(ld, n, "bad duration \"%s\" for %s (use e.g. 2s, 500ms, 1m)", e, what);
    else if (min_txt && (ms < min || ms > max))
        yl_err(ld, n, "%s must be between %s and %s, got \"%s\"", what, min_txt, max_txt, e);
    else
        *out = ms;
    free(e);
}

void yl_size(struct yload *ld, yaml_node_t *n, const char *what, int64_t *out)
{
    const char *s = yl_scalar(ld, n, what, "a size");
    if (!s)
        return;
    int64_t b;
    if (parse_size_bytes(s, &b) != 0 || b < 0) {
        char *e = yl_show(s);
        yl_err(ld, n, "bad size \"%s\" for %s (use e.g. 16MB, 512kB, 1GB)", e, what);
        free(e);
        return;
    }
    *out = b;
}

void yl_pct(struct yload *ld, yaml_node_t *n, const char *what, double *out)
{
    const char *s = yl_scalar(ld, n, what, "a number");
    if (!s)
        return;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    char *e = yl_show(s);
    if (end == s || *end || errno == ERANGE)
        yl_err(ld, n, "bad number \"%s\" for %s", e, what);
    else if (!(d >= 0 && d <= 100)) /* also catches nan */
        yl_err(ld, n, "%s must be between 0 and 100, got \"%s\"", what, e);
    else
        *out = d;
    free(e);
}

void yl_int(struct yload *ld, yaml_node_t *n, const char *what, int *out, long min, long max)
{
    const char *s = yl_scalar(ld, n, what, "a whole number");
    if (!s)
        return;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    char *e = yl_show(s);
    if (end == s || *end || errno == ERANGE)
        yl_err(ld, n, "bad whole number \"%s\" for %s", e, what);
    else if (v < min || v > max)
        yl_err(ld, n, "%s must be between %ld and %ld, got \"%s\"", what, min, max, e);
    else
        *out = (int)v;
    free(e);
}

void yl_bool(struct yload *ld, yaml_node_t *n, const char *what, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    const char *s = yl_scalar(ld, n, what, "true or false");
    if (!s)
        return;
    for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return;
        }
    }
    char *e = yl_show(s);
    yl_err(ld, n, "bad value \"%s\" for %s (use true or false)", e, what);
    free(e);
}

/* Checks a key of pair i of map: a scalar, not seen before in the map. Returns its text. */
static const char *map_key(struct yload *ld, yaml_node_t *map, size_t i)
{
    yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
    yaml_node_t *k = yl_node(ld, pairs[i].key);
    if (!yl_charge(ld, k))
        return NULL;
    if (k->type != YAML_SCALAR_NODE || yl_is_null(k)) {
        yl_err(ld, k, "a key must be a name, not %s", yl_kind(k));
        return NULL;
    }
    const char *name = (const char *)k->data.scalar.value;
    for (size_t j = 0; j < i; j++) {
        yaml_node_t *o = yl_node(ld, pairs[j].key);
        if (o->type == YAML_SCALAR_NODE && strcmp((const char *)o->data.scalar.value, name) == 0) {
            char *e = yl_show(name);
            yl_err(ld, k, "duplicate key \"%s\" (first defined at %d:%d)", e, (int)o->start_mark.line + 1,
                   (int)o->start_mark.column + 1);
            free(e);
            return NULL;
        }
    }
    return name;
}

void yl_walk_map(struct yload *ld, yaml_node_t *map, const char *where, const char *const *keys, size_t nkeys,
                 yl_pair_fn *fn, void *ctx)
{
    if (!yl_charge(ld, map) || yl_is_null(map))
        return;
    if (map->type != YAML_MAPPING_NODE) {
        yl_err(ld, map, "%s must be a map, not %s", where, yl_kind(map));
        return;
    }
    yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
    size_t n = (size_t)(map->data.mapping.pairs.top - pairs);
    for (size_t i = 0; i < n && !ld->stop; i++) {
        const char *name = map_key(ld, map, i);
        if (!name)
            continue;
        size_t k = 0;
        while (k < nkeys && strcmp(keys[k], name) != 0)
            k++;
        if (k < nkeys) {
            fn(ld, k, yl_node(ld, pairs[i].value), ctx);
            continue;
        }
        yaml_node_t *kn = yl_node(ld, pairs[i].key);
        char *e = yl_show(name);
        const char *near = nearest_word(name, keys, nkeys);
        struct text t;
        text_init(&t);
        text_printf(&t, "unknown key \"%s\"", e);
        if (where)
            text_printf(&t, " in %s", where);
        if (near) {
            text_printf(&t, " (did you mean \"%s\"?)", near);
        } else {
            text_add(&t, " (valid keys:");
            for (size_t j = 0; j < nkeys; j++)
                text_printf(&t, "%s %s", j ? "," : "", keys[j]);
            text_add(&t, ")");
        }
        yl_err(ld, kn, "%s", t.s);
        text_free(&t);
        free(e);
    }
}

/* ---- sections ----------------------------------------------------------------------------- */

static void syntax_error(struct yload *ld, yaml_parser_t *p)
{
    yaml_mark_t m = p->problem_mark;
    if (p->error == YAML_READER_ERROR) /* the reader sets only an offset; use where we got to */
        m = p->mark;
    text_printf(ld->err, "%s:%zu:%zu: YAML syntax error: %s", ld->path, m.line + 1, m.column + 1,
                p->problem ? p->problem : "unknown problem");
    if (p->context)
        text_printf(ld->err, " (%s at %zu:%zu)", p->context, p->context_mark.line + 1, p->context_mark.column + 1);
    text_add(ld->err, "\n");
    ld->nerr++;
}

/* What walking the document may cost: each node once, plus a generous margin for aliases. */
static long doc_budget(yaml_document_t *doc)
{
    long cost = 0;
    for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++)
        cost += 1 + (n->type == YAML_SCALAR_NODE ? (long)n->data.scalar.length : 0);
    return 8 * cost + 4096;
}

/* Limits on what the config file may be: libyaml's cost grows with the square of the nesting
 * depth (a 400 kB file nested 200 000 deep takes minutes), and nothing real comes close. */
#define CONFIG_MAX_BYTES (1L << 20)
#define CONFIG_MAX_DEPTH 64

/* The whole file, read once (a pipe such as -c <(envsubst < fleet.yaml) cannot be read twice),
 * at most CONFIG_MAX_BYTES. Returns NULL with the error reported. */
static unsigned char *read_capped(struct yload *ld, FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    unsigned char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap)
            buf = xrealloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > CONFIG_MAX_BYTES) {
            size_t line = 1, col = 1;
            for (size_t i = 0; i < CONFIG_MAX_BYTES; i++)
                buf[i] == '\n' ? (line++, col = 1) : col++;
            text_printf(ld->err, "%s:%zu:%zu: the file is larger than %ld bytes: refused (is it the right file?)\n",
                        ld->path, line, col, CONFIG_MAX_BYTES);
            ld->nerr++;
            free(buf);
            return NULL;
        }
        if (got == 0) {
            if (ferror(f)) {
                text_printf(ld->err, "%s: cannot read: %s\n", ld->path, strerror(errno));
                ld->nerr++;
                free(buf);
                return NULL;
            }
            break;
        }
    }
    *len = n;
    return buf;
}

/* A first pass over the events only, stopping at the first one nested too deep, so the
 * quadratic work never starts. Returns 0, or -1 with the error reported. */
static int check_depth(struct yload *ld, const unsigned char *buf, size_t len)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        fatal("out of memory");
    yaml_parser_set_input_string(&p, buf, len);
    int depth = 0, rc = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev))
            break; /* a syntax error: the real load reports it with its context */
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT)
            depth++;
        else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
            depth--;
        if (depth > CONFIG_MAX_DEPTH) {
            text_printf(ld->err, "%s:%zu:%zu: nested more than %d levels deep: refused\n", ld->path,
                        ev.start_mark.line + 1, ev.start_mark.column + 1, CONFIG_MAX_DEPTH);
            ld->nerr++;
            rc = -1;
        }
        yaml_event_delete(&ev);
        if (rc || t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    return rc;
}

int yl_open(struct yload *ld, const char *path, struct text *err, bool *loose, yaml_node_t **root)
{
    *ld = (struct yload){.path = path, .err = err};
    *root = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        text_printf(err, "%s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    /* fstat the open file, not the name, so the check is about what we actually read. */
    struct stat st;
    bool have_st = fstat(fileno(f), &st) == 0;
    *loose = have_st && (st.st_mode & 077) != 0;
    if (have_st && S_ISDIR(st.st_mode)) { /* fopen accepts one; reading it would be a baffling "input error" */
        text_printf(err, "%s: cannot read: is a directory\n", path);
        fclose(f);
        return -1;
    }

    size_t len = 0;
    unsigned char *buf = read_capped(ld, f, &len);
    fclose(f);
    if (!buf || check_depth(ld, buf, len) < 0) {
        free(buf);
        return -1;
    }

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        fatal("out of memory");
    yaml_parser_set_input_string(&parser, buf, len);
    if (!yaml_parser_load(&parser, &ld->docbuf)) {
        syntax_error(ld, &parser);
        yaml_parser_delete(&parser);
        free(buf);
        return -1;
    }
    ld->doc = &ld->docbuf;

    /* A second document would be ignored silently, which is never what was meant. */
    yaml_document_t extra;
    if (!yaml_parser_load(&parser, &extra)) {
        syntax_error(ld, &parser);
    } else {
        yaml_node_t *r = yaml_document_get_root_node(&extra);
        if (r)
            yl_err(ld, r, "only one YAML document is allowed, found a second one");
        yaml_document_delete(&extra);
    }
    yaml_parser_delete(&parser);
    free(buf);
    ld->budget = doc_budget(ld->doc);
    *root = yaml_document_get_root_node(ld->doc);
    return 0;
}

void yl_close(struct yload *ld)
{
    if (ld->doc)
        yaml_document_delete(ld->doc);
    ld->doc = NULL;
}
