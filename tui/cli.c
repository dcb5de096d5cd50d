/* cli.c — the command line read into words (include/tui/cli.h): options anywhere, as with git
 * or kubectl ("--" ends them), the table of which option goes with which command (its refusals
 * are generated from it), "did you mean" for a misspelt option or command, and what a word
 * naming a server is. Pure: no I/O, every message goes to the caller's text. */
#include "tui/cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const cmd_names[] = {
    [CLI_MONITOR] = "the monitor", [CLI_SNAPSHOT] = "snapshot", [CLI_CANCEL] = "cancel",
    [CLI_TERMINATE] = "terminate", [CLI_AUDIT] = "audit",       [CLI_RESTORE_TEST] = "restore-test",
    [CLI_BATCH] = "batch",
};
/* the command words, for "did you mean" */
static const char *const commands[] = {"snapshot", "cancel", "terminate", "audit", "restore-test", "batch"};

enum opt_id {
    O_CONFIG,
    O_DELAY,
    O_TIMEOUT,
    O_SERVER,
    O_TAG,
    O_READ_ONLY,
    O_NO_COLOR,
    O_IDLE,
    O_JSON,
    O_YES,
    O_SINCE,
    O_HISTORY,
    O_DUE,
    O_NOW,
    O_PRINT,
    O_HELP,
    O_VERSION,
    O_COUNT
};

#define ON(c) (1u << (c))
#define ANY                                                                                                           \
    (ON(CLI_MONITOR) | ON(CLI_SNAPSHOT) | ON(CLI_CANCEL) | ON(CLI_TERMINATE) | ON(CLI_AUDIT) | ON(CLI_RESTORE_TEST) | \
     ON(CLI_BATCH))
#define BATCH ON(CLI_BATCH)
#define RT ON(CLI_RESTORE_TEST)
#define WATCH (ON(CLI_MONITOR) | ON(CLI_SNAPSHOT))
#define SIGNAL (ON(CLI_CANCEL) | ON(CLI_TERMINATE))

/* Which option goes with which command: the one place that says it. */
static const struct opt_spec {
    const char *name;
    char letter;       /* its short form, or 0 */
    const char *value; /* what it takes (for messages); NULL: a flag */
    bool repeat;       /* may be given more than once (a value option otherwise may not) */
    unsigned cmds;     /* ON(command) bits */
} opts[O_COUNT] = {
    [O_CONFIG] = {"config", 'c', "FILE", false, ANY},
    [O_DELAY] = {"delay", 'd', "TIME", false, WATCH},
    [O_TIMEOUT] = {"timeout", 0, "TIME", false, WATCH},
    [O_SERVER] = {"server", 0, "NAME", true, WATCH},
    [O_TAG] = {"tag", 0, "TAG", true, WATCH},
    [O_READ_ONLY] = {"read-only", 0, NULL, false, ON(CLI_MONITOR) | SIGNAL | RT | BATCH},
    [O_NO_COLOR] = {"no-color", 0, NULL, false, ON(CLI_MONITOR)},
    [O_IDLE] = {"idle", 0, NULL, false, WATCH},
    [O_JSON] = {"json", 0, NULL, false, ON(CLI_SNAPSHOT) | RT | BATCH},
    [O_YES] = {"yes", 0, NULL, false, SIGNAL | RT | BATCH},
    [O_SINCE] = {"since", 0, "TIME", false, ON(CLI_AUDIT)},
    [O_HISTORY] = {"history", 0, NULL, false, RT},
    [O_DUE] = {"due", 0, NULL, false, RT},
    [O_NOW] = {"now", 0, NULL, false, BATCH},
    [O_PRINT] = {"print", 0, NULL, false, BATCH},
    [O_HELP] = {"help", 'h', NULL, false, ANY},
    [O_VERSION] = {"version", 'V', NULL, false, ANY},
};

/* "-c/--config" or "--timeout": how messages name an option. */
static const char *label(enum opt_id id, char *buf, size_t len)
{
    if (opts[id].letter)
        snprintf(buf, len, "-%c/--%s", opts[id].letter, opts[id].name);
    else
        snprintf(buf, len, "--%s", opts[id].name);
    return buf;
}

/* The first error wins: later words are still read, so -h anywhere shows the help. */
static void fail(struct text *err, bool *failed, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct text *err, bool *failed, const char *fmt, ...)
{
    if (*failed)
        return;
    *failed = true;
    va_list ap;
    va_start(ap, fmt);
    text_add(err, "pgfleet: ");
    text_vprintf(err, fmt, ap);
    va_end(ap);
    text_add(err, "\n");
}

/* An option's name as typed (len bytes of s): exact, else a unique prefix, as getopt allows. */
static int find_long(const char *s, size_t len, struct text *err, bool *failed)
{
    int found = -1, nfound = 0;
    for (int i = 0; i < O_COUNT; i++) {
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, s, len) == 0)
            return i;
        if (len && strncmp(opts[i].name, s, len) == 0)
            found = i, nfound++;
    }
    char *typed = xstrndup(s, len), *e = esc(typed, 1);
    if (nfound > 1) {
        struct text alts;
        text_init(&alts);
        for (int i = 0; i < O_COUNT; i++)
            if (strncmp(opts[i].name, s, len) == 0)
                text_printf(&alts, "%s--%s", alts.len ? ", " : "", opts[i].name);
        fail(err, failed, "option \"--%s\" is ambiguous (%s); see pgfleet --help", e, alts.s);
        text_free(&alts);
        found = -1;
    } else if (nfound == 0) {
        const char *names[O_COUNT];
        for (int i = 0; i < O_COUNT; i++)
            names[i] = opts[i].name;
        const char *near = nearest_word(typed, names, O_COUNT);
        if (near)
            fail(err, failed, "unknown option \"--%s\" (did you mean \"--%s\"?); see pgfleet --help", e, near);
        else
            fail(err, failed, "unknown option \"--%s\"; see pgfleet --help", e);
    }
    free(typed);
    free(e);
    return found;
}

static void set_value(struct cli_line *cl, enum opt_id id, const char *v, unsigned *seen, struct text *err,
                      bool *failed)
{
    char lb[40];
    if (opts[id].value && !opts[id].repeat && (*seen & (1u << id)))
        fail(err, failed, "%s is given twice; give one %s", label(id, lb, sizeof lb), opts[id].value);
    *seen |= 1u << id;
    switch (id) {
    case O_CONFIG: cl->o.config = v; break;
    case O_DELAY: cl->o.delay = v; break;
    case O_TIMEOUT: cl->timeout = v; break;
    case O_SERVER:
        cl->o.only = xreallocarray(cl->o.only, cl->o.nonly + 1, sizeof *cl->o.only);
        cl->o.only[cl->o.nonly++] = (char *)v;
        break;
    case O_TAG:
        cl->tags = xreallocarray(cl->tags, cl->ntags + 1, sizeof *cl->tags);
        cl->tags[cl->ntags++] = v;
        break;
    case O_READ_ONLY: cl->o.read_only = true; break;
    case O_NO_COLOR: cl->o.no_color = true; break;
    case O_IDLE: cl->o.idle = true; break;
    case O_JSON: cl->o.json = true; break;
    case O_YES: cl->o.yes = true; break;
    case O_SINCE: cl->o.since = v; break;
    case O_HISTORY: cl->o.history = true; break;
    case O_DUE: cl->o.due = true; break;
    case O_NOW: cl->o.now = true; break;
    case O_PRINT: cl->o.print = true; break;
    case O_HELP: cl->help = true; break;
    case O_VERSION: cl->version = true; break;
    case O_COUNT: break;
    }
}

/* A word of short options: flags may be grouped (-hV); one that takes a value takes the rest of
 * the word (-d1s) or the next word (-d 1s). Returns how many extra words it used. */
static int short_opts(struct cli_line *cl, const char *w, const char *next, unsigned *seen, struct text *err,
                      bool *failed)
{
    for (const char *p = w + 1; *p; p++) {
        int id = -1;
        for (int i = 0; i < O_COUNT; i++)
            if (opts[i].letter && opts[i].letter == *p)
                id = i;
        if (id < 0) {
            /* -json, -help: a long option with one dash */
            const char *names[O_COUNT];
            for (int i = 0; i < O_COUNT; i++)
                names[i] = opts[i].name;
            const char *near = p == w + 1 ? nearest_word(w + 1, names, O_COUNT) : NULL;
            char *e = esc(w, 1);
            if (near)
                fail(err, failed, "unknown option \"%s\" (did you mean \"--%s\"?); see pgfleet --help", e, near);
            else
                fail(err, failed, "unknown option \"%s\"; see pgfleet --help", e);
            free(e);
            return 0;
        }
        if (!opts[id].value) {
            set_value(cl, id, NULL, seen, err, failed);
            continue;
        }
        char lb[40];
        if (p[1]) {
            set_value(cl, id, p + 1, seen, err, failed);
            return 0;
        }
        if (!next) {
            fail(err, failed, "%s needs a %s; see pgfleet --help", label(id, lb, sizeof lb), opts[id].value);
            return 0;
        }
        set_value(cl, id, next, seen, err, failed);
        return 1;
    }
    return 0;
}

/* "the monitor and snapshot", "cancel and terminate": the commands an option goes with. */
static void cmds_of(unsigned bits, struct text *t)
{
    size_t k = 0, total = 0;
    for (size_t c = 0; c < ARRAY_LEN(cmd_names); c++)
        total += (bits >> c) & 1;
    for (size_t c = 0; c < ARRAY_LEN(cmd_names); c++)
        if ((bits >> c) & 1) {
            text_printf(t, "%s%s", k == 0 ? "" : k + 1 == total ? " and " : ", ", cmd_names[c]);
            k++;
        }
}

static bool is_command(const char *w, enum cli_cmd *cmd)
{
    static const enum cli_cmd ids[] = {CLI_SNAPSHOT, CLI_CANCEL, CLI_TERMINATE, CLI_AUDIT, CLI_RESTORE_TEST, CLI_BATCH};
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        if (strcmp(w, commands[i]) == 0) {
            *cmd = ids[i];
            return true;
        }
    return false;
}

int cli_parse(struct cli_line *cl, int argc, char **argv, struct text *err)
{
    memset(cl, 0, sizeof *cl);
    cl->args = xcalloc((size_t)(argc > 0 ? argc : 1), sizeof *cl->args);
    bool failed = false;
    unsigned seen = 0;
    int dashdash = -1; /* index in args of the first word after "--" */
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (dashdash >= 0 || w[0] != '-' || w[1] == '\0') {
            cl->args[cl->nargs++] = argv[i];
        } else if (strcmp(w, "--") == 0) {
            dashdash = cl->nargs;
        } else if (w[1] == '-') {
            const char *name = w + 2, *eq = strchr(name, '=');
            int id = find_long(name, eq ? (size_t)(eq - name) : strlen(name), err, &failed);
            if (id < 0)
                continue;
            char lb[40];
            if (!opts[id].value && eq)
                fail(err, &failed, "--%s takes no value; see pgfleet --help", opts[id].name);
            else if (opts[id].value && !eq && i + 1 >= argc)
                fail(err, &failed, "%s needs a %s; see pgfleet --help", label(id, lb, sizeof lb), opts[id].value);
            else
                set_value(cl, id, eq ? eq + 1 : opts[id].value ? argv[++i] : NULL, &seen, err, &failed);
        } else {
            i += short_opts(cl, w, i + 1 < argc ? argv[i + 1] : NULL, &seen, err, &failed);
        }
    }
    if (cl->help || cl->version) {
        text_clear(err);
        return 0;
    }
    /* The command is the first word, wherever the options are. */
    int first = 0;
    if (cl->nargs > 0 && dashdash != 0 && is_command(cl->args[0], &cl->cmd)) {
        cl->cmd_name = cl->args[0];
        first = 1;
    }
    /* The words that name servers (the monitor, snapshot): a command word elsewhere is misplaced,
     * a near miss of one is a typo, and a word must be a conninfo or a host name. After "--" a
     * word is a server even if it looks like a command (a host called "audit"). */
    if (cl->cmd == CLI_MONITOR || cl->cmd == CLI_SNAPSHOT) {
        for (int i = first; i < cl->nargs; i++) {
            const char *near = NULL;
            enum cli_cmd c;
            bool escaped = dashdash >= 0 && i >= dashdash;
            enum word_kind k = cli_word_kind(cl->args[i], &near);
            char *e = esc(cl->args[i], 1);
            if (!escaped && is_command(cl->args[i], &c))
                fail(err, &failed, "\"%s\" is a command: put it before the servers (pgfleet %s [OPTIONS] [SERVER...])",
                     e, e);
            else if (!escaped && k == WORD_MISSPELT_COMMAND)
                fail(err, &failed, "unknown command \"%s\" (did you mean \"%s\"?)", e, near);
            else if (k == WORD_BAD)
                fail(err, &failed,
                     "\"%s\" is not a command, a conninfo (\"host=db1 dbname=app\", postgresql://db1/app) or a host "
                     "name; see pgfleet --help",
                     e);
            free(e);
        }
    } else if (cl->cmd == CLI_AUDIT && cl->nargs > first) {
        char *e = esc(cl->args[first], 1);
        fail(err, &failed, "audit takes no arguments (\"%s\"); see pgfleet --help", e);
        free(e);
    }
    /* then the options against the command (a misspelt command is reported as such, first) */
    for (int i = 0; i < O_COUNT; i++) {
        char lb[40];
        if ((seen >> i) & 1 && !((opts[i].cmds >> cl->cmd) & 1)) {
            struct text with;
            text_init(&with);
            cmds_of(opts[i].cmds, &with);
            fail(err, &failed, "%s does not apply to %s: it goes with %s (see pgfleet --help)",
                 label((enum opt_id)i, lb, sizeof lb), cmd_names[cl->cmd], with.s);
            text_free(&with);
        }
    }
    /* the commands read only the words after the command */
    memmove(cl->args, cl->args + first, (size_t)(cl->nargs - first) * sizeof *cl->args);
    cl->nargs -= first;
    return failed ? -1 : 0;
}

void cli_line_free(struct cli_line *cl)
{
    free(cl->o.only);
    free(cl->tags);
    free(cl->args);
    memset(cl, 0, sizeof *cl);
}

enum word_kind cli_word_kind(const char *w, const char **near)
{
    *near = NULL;
    if (strchr(w, '=') || strstr(w, "://"))
        return WORD_CONNINFO;
    if (w[0] == '/')
        return WORD_HOST; /* a socket directory */
    if (!isalnum((unsigned char)w[0]) && w[0] != ':')
        return WORD_BAD;
    for (const char *p = w; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(".-_:%", *p))
            return WORD_BAD;
    /* a dotted name or an address is a host, whatever it looks like */
    if (!strpbrk(w, ".:") && (*near = nearest_word(w, commands, ARRAY_LEN(commands))) != NULL)
        return WORD_MISSPELT_COMMAND;
    return WORD_HOST;
}

char *cli_host_conninfo(const char *host)
{
    struct text t;
    text_init(&t);
    text_add(&t, "host='");
    for (const char *p = host; *p; p++) {
        if (*p == '\'' || *p == '\\')
            text_add(&t, "\\");
        text_addn(&t, p, 1);
    }
    text_add(&t, "'");
    return t.s;
}

/* 100 -> "100ms", 3600000 -> "1h": a range's ends as the user writes them. */
static const char *fmt_limit(char *buf, size_t len, int64_t ms)
{
    if (ms % 3600000 == 0)
        snprintf(buf, len, "%lldh", (long long)(ms / 3600000));
    else if (ms % 60000 == 0)
        snprintf(buf, len, "%lldm", (long long)(ms / 60000));
    else if (ms % 1000 == 0)
        snprintf(buf, len, "%llds", (long long)(ms / 1000));
    else
        snprintf(buf, len, "%lldms", (long long)ms);
    return buf;
}

int cli_duration(const char *opt, const char *value, int64_t min_ms, int64_t max_ms, int64_t *ms, struct text *err)
{
    int64_t v;
    if (parse_duration_ms(value, &v) == 0 && v >= min_ms && v <= max_ms) {
        *ms = v;
        return 0;
    }
    char lo[32], hi[32], *e = esc(value, 1);
    text_printf(err, "pgfleet: bad %s \"%s\" (use e.g. 2s, 500ms; from %s to %s)\n", opt, e,
                fmt_limit(lo, sizeof lo, min_ms), fmt_limit(hi, sizeof hi, max_ms));
    free(e);
    return -1;
}

int64_t refresh_step(int64_t cur, int dir)
{
    static const int64_t steps[] = {100,   200,   500,    1000,   2000,    5000,   10000,
                                    30000, 60000, 300000, 600000, 1800000, 3600000};
    size_t n = ARRAY_LEN(steps);
    if (dir > 0) {
        for (size_t i = 0; i < n; i++)
            if (steps[i] > cur)
                return steps[i];
        return steps[n - 1];
    }
    for (size_t i = n; i-- > 0;)
        if (steps[i] < cur)
            return steps[i];
    return steps[0];
}
