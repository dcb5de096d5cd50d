/* screen.c — the TUI's life cycle: ncurses set-up and teardown (also on fatal errors), the
 * layout (header, tabs, pane, footer) and its resizing, keys to commands, and the frame step
 * that draws once per loop pass, only what changed (wnoutrefresh per window, one doupdate). */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "actions/job.h"
#include "actions/restore_test.h"
#include "probes/health.h"
#include "probes/sched.h"
#include "tui/cli.h"
#include "tui/loop.h"
#include "tui/screen.h"

const struct pane_class *const pane_list[] = {
    &pane_fleet,       &pane_activity, &pane_locks,      &pane_replication,
    &pane_connections, &pane_io,       &pane_statements, &pane_jobs,
};
const char pane_keys[] = "12345679"; /* 8 is kept for the batch-migration pane */
const int pane_count = (int)ARRAY_LEN(pane_list);

static bool curses_on;

/* What the signal watchdog writes to put the terminal back without curses (async-signal-safe:
 * prepared in advance, then write() and tcsetattr() only). */
static struct termios saved_tty;
static bool have_saved_tty;
static char reset_seq[256];
static size_t reset_len;

static void add_cap(const char *name)
{
    char *cap = tigetstr(name);
    if (!cap || cap == (char *)-1)
        return;
    size_t n = strlen(cap);
    if (reset_len + n < sizeof reset_seq) {
        memcpy(reset_seq + reset_len, cap, n);
        reset_len += n;
    }
}

static void emergency_restore(void)
{
    if (reset_len && write(STDOUT_FILENO, reset_seq, reset_len) < 0) {
        /* nothing more can be done from a signal handler */
    }
    if (have_saved_tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
}

static void restore_terminal(void)
{
    if (curses_on) {
        endwin();
        curses_on = false;
    }
}

void tui_message(struct tui *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof t->msg, fmt, ap);
    va_end(ap);
    t->msg_until = now_ms() + 3000;
}

static void del_windows(struct tui *t)
{
    WINDOW **ws[] = {&t->hdr, &t->tabs, &t->body, &t->foot};
    for (size_t i = 0; i < ARRAY_LEN(ws); i++) {
        if (*ws[i])
            delwin(*ws[i]);
        *ws[i] = NULL;
    }
}

static void make_layout(struct tui *t)
{
    del_windows(t);
    getmaxyx(stdscr, t->rows, t->cols);
    if (t->rows < 4 || t->cols < 20)
        return; /* too small: frame() says so on stdscr */
    t->hdr = newwin(1, t->cols, 0, 0);
    t->tabs = newwin(1, t->cols, 1, 0);
    t->body = newwin(t->rows - 3, t->cols, 2, 0);
    t->foot = newwin(1, t->cols, t->rows - 1, 0);
    clearok(curscr, TRUE); /* after a resize, repaint everything once */
    t->need_layout = false;
}

static void draw_header(struct tui *t)
{
    struct model *m = t->m;
    size_t up = 0, down = 0, stale = 0;
    int active = 0, blocked = 0;
    double longest = -1, worst_lag = NAN;
    enum sev blocked_sev = SEV_NONE, lag_sev = SEV_NONE; /* the worst server's, from health */
    for (size_t i = 0; i < m->n; i++) {
        const struct server *s = &m->servers[i];
        up += s->status == SRV_UP;
        down += s->status == SRV_DOWN;
        stale += s->status == SRV_STALE;
        const struct s_server *ss = SAMPLE_SERVER(s->cur);
        if (ss && s->status != SRV_DOWN) {
            active += ss->active;
            blocked += ss->waiting_lock;
            if (ss->longest_query_s > longest)
                longest = ss->longest_query_s;
        }
        struct health h;
        health_of(m, s, &h);
        if (h.v[HF_BLOCKED].level > blocked_sev)
            blocked_sev = h.v[HF_BLOCKED].level;
        if (h.v[HF_LAG].level > lag_sev)
            lag_sev = h.v[HF_LAG].level;
        if (!isnan(h.in.lag_bytes) && (isnan(worst_lag) || h.in.lag_bytes > worst_lag))
            worst_lag = h.in.lag_bytes;
    }
    char buf[512], age[32], clock[16];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(clock, sizeof clock, "%H:%M:%S", &tm);
    size_t poolers = 0;
    for (size_t i = 0; i < m->n; i++)
        poolers += m->servers[i].kind == KIND_PGBOUNCER;
    size_t servers = m->n - poolers;
    int n = poolers ? snprintf(buf, sizeof buf, "pgfleet  %zu server%s + %zu pooler%s: %zu up", servers,
                               servers == 1 ? "" : "s", poolers, poolers == 1 ? "" : "s", up)
                    : snprintf(buf, sizeof buf, "pgfleet  %zu server%s: %zu up", m->n, m->n == 1 ? "" : "s", up);
    WINDOW *w = t->hdr;
    werase(w);
    put_clipped(w, 0, 0, t->cols, buf, theme(TH_HEADER));
    int x = n;
    char part[128];
    if (down) {
        snprintf(part, sizeof part, ", %zu DOWN", down);
        put_clipped(w, 0, x, t->cols - x, part, theme_sev(health_status(SRV_DOWN)));
        x += (int)strlen(part);
    }
    if (stale) {
        snprintf(part, sizeof part, ", %zu stale", stale);
        put_clipped(w, 0, x, t->cols - x, part, theme_sev(health_status(SRV_STALE)));
        x += (int)strlen(part);
    }
    snprintf(part, sizeof part, " | active %d | ", active);
    put_clipped(w, 0, x, t->cols - x, part, A_NORMAL);
    x += (int)strlen(part);
    snprintf(part, sizeof part, "blocked %d", blocked);
    put_clipped(w, 0, x, t->cols - x, part, blocked_sev >= SEV_WARN ? theme_sev(blocked_sev) : A_NORMAL);
    x += (int)strlen(part);
    if (!isnan(worst_lag) && t->cols >= 90) {
        snprintf(part, sizeof part, " | lag %s", fmt_bytes(age, sizeof age, worst_lag));
        put_clipped(w, 0, x, t->cols - x, part, lag_sev >= SEV_WARN ? theme_sev(lag_sev) : A_NORMAL);
        x += (int)strlen(part);
    }
    if (t->cols >= 110) { /* narrower, the Fleet pane shows it and FROZEN needs the room */
        snprintf(part, sizeof part, " | longest %s", longest >= 0 ? fmt_age(age, sizeof age, longest) : "-");
        put_clipped(w, 0, x, t->cols - x, part, A_NORMAL);
        x += (int)strlen(part);
    }
    /* The right block, shortened until it fits: FROZEN and read-only matter most. */
    char right[96];
    for (int level = 0; level < 3; level++) {
        snprintf(right, sizeof right, "%s%s%s%s%s", m->paused ? "FROZEN " : "", t->o.read_only ? "read-only " : "",
                 level < 2 ? " every " : "", level < 2 ? fmt_age(age, sizeof age, (double)m->refresh_ms / 1000) : "",
                 level < 1 ? "  " : "");
        if (level < 1)
            strncat(right, clock, sizeof right - strlen(right) - 1);
        int rl = (int)strlen(right);
        if (x + rl + 1 < t->cols) {
            put_clipped(w, 0, t->cols - rl, rl, right, m->paused ? theme(TH_WARN) : A_NORMAL);
            break;
        }
    }
    wnoutrefresh(w);
}

/* Short tab titles for narrow terminals (80 columns hold them all). */
static const char *short_title(const struct pane_class *p)
{
    static const struct {
        const char *name, *title;
    } shorts[] = {{"activity", "Activ"},
                  {"replication", "Repl"},
                  {"connections", "Conns"},
                  {"io", "IO"},
                  {"statements", "Stmts"}};
    for (size_t i = 0; i < ARRAY_LEN(shorts); i++)
        if (strcmp(p->name, shorts[i].name) == 0)
            return shorts[i].title;
    return p->title;
}

/* A tab's label at a level of detail: 0 full title, 1 short title, 2 the digit only (the
 * current pane keeps its short title so the user still sees where they are). */
static void tab_label(const struct tui *t, int i, int level, char *b, size_t len)
{
    if (level == 0)
        snprintf(b, len, " %c %s ", pane_keys[i], t->panes[i]->title);
    else if (level == 1 || i == t->pane)
        snprintf(b, len, "%c %s", pane_keys[i], short_title(t->panes[i]));
    else
        snprintf(b, len, "%c", pane_keys[i]);
}

/* The notes after the tabs: the scope (with how to leave it) and the filter, which says so
 * when the pane shown does not filter; shorter forms when the full ones do not fit. */
static void tab_notes(const struct tui *t, bool full, char *b, size_t len)
{
    b[0] = '\0';
    size_t o = 0;
    if (t->scope >= 0 && (size_t)t->scope < t->m->n) {
        char *e = esc(t->m->servers[t->scope].conf->name, 1);
        o += (size_t)snprintf(b, len, "  scope: %s%s", e, full ? " (Esc: all)" : "");
        free(e);
    }
    if (t->filter[0] && !t->editing_filter && o < len)
        snprintf(b + o, len - o, "  filter: %s%s", t->filter,
                 t->panes[t->pane]->filters ? ""
                     : full                 ? " (not in this pane)"
                                            : " (not here)");
}

static void draw_tabs(struct tui *t)
{
    WINDOW *w = t->tabs;
    werase(w);
    /* the scope and filter notes need room too: the tabs get shorter first, then the notes */
    char notes[400];
    int level = 0;
    for (;; level++) {
        tab_notes(t, level < 3, notes, sizeof notes);
        int width = str_cols(notes);
        for (int i = 0; i < t->npanes; i++) {
            char b[64];
            tab_label(t, i, level < 2 ? level : 2, b, sizeof b);
            width += (int)strlen(b) + 1;
        }
        if (width <= t->cols || level == 3)
            break;
    }
    int x = 0;
    for (int i = 0; i < t->npanes; i++) {
        char b[64];
        tab_label(t, i, level < 2 ? level : 2, b, sizeof b);
        put_clipped(w, 0, x, t->cols - x, b, i == t->pane ? theme(TH_TAB_ACTIVE) : theme(TH_TAB));
        x += (int)strlen(b) + 1;
    }
    if (notes[0])
        put_clipped(w, 0, x, t->cols - x, notes, theme(TH_WARN));
    wnoutrefresh(w);
}

static void footer_keys(WINDOW *w, int *x, int width, const char *key, const char *what)
{
    put_clipped(w, 0, *x, width - *x, key, theme(TH_FOOTER_KEY));
    *x += (int)strlen(key) + 1;
    put_clipped(w, 0, *x, width - *x, what, theme(TH_FOOTER));
    *x += (int)strlen(what);
}

static void draw_footer(struct tui *t)
{
    WINDOW *w = t->foot;
    werase(w);
    if (t->editing_filter) {
        char b[200];
        snprintf(b, sizeof b, "Filter: %s", t->filter);
        put_clipped(w, 0, 0, t->cols, b, A_BOLD);
        put_clipped(w, 0, (int)strlen(b), t->cols - (int)strlen(b), "_  (Enter keeps, Esc clears)", A_DIM);
    } else if (t->msg[0] && now_ms() < t->msg_until) {
        put_clipped(w, 0, 0, t->cols, t->msg, theme(TH_WARN));
    } else if (t->modal == MODAL_CONFIRM) {
        put_clipped(w, 0, 0, t->cols, "Esc backs out: nothing is sent until you confirm", A_DIM);
    } else if (t->modal) {
        int x = 0;
        footer_keys(w, &x, t->cols, "Esc", "Close ");
        footer_keys(w, &x, t->cols, "Up/Down", "Scroll ");
        footer_keys(w, &x, t->cols, "Home/End", "Top/Bottom ");
    } else {
        int x = 0;
        footer_keys(w, &x, t->cols, "F1", "Help ");
        footer_keys(w, &x, t->cols, "q", "Quit ");
        footer_keys(w, &x, t->cols, "Tab", "Pane ");
        footer_keys(w, &x, t->cols, "z", t->m->paused ? "Unfreeze " : "Freeze ");
        const struct pane_class *p = t->panes[t->pane];
        if (t->o.read_only)
            footer_keys(w, &x, t->cols, "RO", "read-only: actions off ");
        char hints[256];
        snprintf(hints, sizeof hints, "%s%s%s", p->footer_actions && !t->o.read_only ? p->footer_actions : "",
                 p->footer_actions && !t->o.read_only ? "  " : "", p->footer ? p->footer : "");
        put_clipped(w, 0, x + 1, t->cols - x - 1, hints, A_DIM);
    }
    wnoutrefresh(w);
}

/* The views over the panes: each draws itself into the body and takes the keys while open;
 * its key function returns false when the modal is over. */
static bool scroll_key(struct tui *t, int key)
{
    enum command cmd = key_to_command(key);
    if (cmd == CMD_ESC || cmd == CMD_QUIT || cmd == CMD_ENTER || cmd == CMD_HELP)
        return false;
    if (cmd == CMD_UP || cmd == CMD_DOWN || cmd == CMD_PGUP || cmd == CMD_PGDN || cmd == CMD_HOME || cmd == CMD_END)
        t->modal_scroll += cmd == CMD_UP ? -1
            : cmd == CMD_DOWN            ? 1
            : cmd == CMD_PGUP            ? -10
            : cmd == CMD_PGDN            ? 10
            : cmd == CMD_END             ? 100000
                                         : -100000;
    return true;
}

static const struct {
    void (*draw)(struct tui *t, WINDOW *w);
    bool (*key)(struct tui *t, int key);
} modals[MODAL_MAX] = {
    [MODAL_HELP] = {help_draw, scroll_key},
    [MODAL_DETAIL] = {detail_draw, scroll_key},
    [MODAL_CONFIRM] = {ui_confirm_draw, ui_confirm_key},
    [MODAL_JOBLOG] = {joblog_draw, scroll_key},
    [MODAL_STMT] = {stmt_detail_draw, scroll_key},
    [MODAL_QUIT] = {ui_quit_draw, ui_quit_key},
};

static void open_modal(struct tui *t, enum modal m)
{
    t->modal = m;
    t->modal_scroll = 0;
}

/* The filter or the scope changed: the panes that list by them start over. */
static void reset_panes(struct tui *t)
{
    for (int i = 0; i < t->npanes; i++)
        if (t->panes[i]->reset)
            t->panes[i]->reset();
}

static void frame(void *p, bool changed)
{
    struct tui *t = p;
    time_t sec = time(NULL);
    if (!changed && sec == t->drawn_sec && !(t->msg[0] && now_ms() >= t->msg_until))
        return;
    if (t->msg[0] && now_ms() >= t->msg_until)
        t->msg[0] = '\0';
    t->drawn_sec = sec;
    bool relayout = t->need_layout;
    if (t->need_layout)
        make_layout(t);
    changed |= relayout;
    if (!t->body) {
        werase(stdscr);
        mvwaddnstr(stdscr, 0, 0, t->cols >= 30 ? "pgfleet: terminal too small" : "too small", t->cols);
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    draw_header(t);
    if (!changed && !t->need_layout) {
        /* only the clock or a message moved: the pane's figures come from the samples, which
         * did not change, so its (costly: every cell escaped) redraw can wait */
        draw_footer(t);
        doupdate();
        return;
    }
    draw_tabs(t);
    werase(t->body);
    tags_prune(t);
    if (t->modal)
        modals[t->modal].draw(t, t->body);
    else
        t->panes[t->pane]->draw(t, t->body);
    wnoutrefresh(t->body);
    draw_footer(t);
    doupdate();
}

static void on_signal(void *p, int sig)
{
    struct tui *t = p;
    if (sig != SIGWINCH)
        return;
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
    t->need_layout = true;
}

/* +/-: one step in -d's range (tui/cli.c), saying so at either end. */
static void change_refresh(struct tui *t, int dir)
{
    int64_t was = t->m->refresh_ms;
    t->m->refresh_ms = refresh_step(was, dir);
    char b[32];
    tui_message(t, "refresh every %s%s", fmt_age(b, sizeof b, (double)t->m->refresh_ms / 1000),
                t->m->refresh_ms != was ? ""
                    : dir > 0           ? " (the slowest)"
                                        : " (the fastest)");
}

static bool filter_key(struct tui *t, int key)
{
    size_t len = strlen(t->filter);
    if (key == 27) {
        t->filter[0] = '\0';
        t->editing_filter = false;
    } else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
        t->editing_filter = false;
    } else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (len)
            t->filter[len - 1] = '\0';
    } else if (key >= 32 && key < 127 && len + 1 < sizeof t->filter) {
        t->filter[len] = (char)key;
        t->filter[len + 1] = '\0';
    }
    reset_panes(t);
    return true;
}

/* / in a pane that lists nothing to filter: say which panes filter. */
static void no_filter_here(struct tui *t)
{
    char which[160] = "";
    for (int i = 0; i < t->npanes; i++)
        if (t->panes[i]->filters)
            snprintf(which + strlen(which), sizeof which - strlen(which), "%s%s", which[0] ? ", " : "",
                     t->panes[i]->title);
    tui_message(t, "this pane has no filter: / filters %s", which);
}

/* Returns false to quit. */
static bool handle(struct tui *t, int key)
{
    if (t->editing_filter)
        return filter_key(t, key);
    if (key == KEY_RESIZE) {
        t->need_layout = true;
        return true;
    }
    if (t->modal) {
        if (!modals[t->modal].key(t, key))
            t->modal = MODAL_NONE;
        return !t->quit;
    }
    enum command cmd = key_to_command(key);
    struct key_result r = t->panes[t->pane]->key ? t->panes[t->pane]->key(t, cmd) : KEY_DONE(false);
    switch (r.act) {
    case KEY_UNHANDLED: break;
    case KEY_HANDLED: return true;
    case KEY_OPEN_MODAL: open_modal(t, r.modal); return true;
    case KEY_SHOW_PANE:
        for (int i = 0; i < t->npanes; i++)
            if (t->panes[i] == r.pane)
                t->pane = i;
        t->scope = r.scope;
        reset_panes(t);
        return true;
    }
    struct table_state *ts = t->panes[t->pane]->ts;
    int page = t->rows > 6 ? t->rows - 5 : 1;
    switch (cmd) {
    case CMD_QUIT:
        if (t->m->jobs && restore_test_any_running(t->m->jobs)) {
            open_modal(t, MODAL_QUIT);
            return true;
        }
        return false;
    case CMD_HELP: open_modal(t, MODAL_HELP); break;
    case CMD_PANE1:
    case CMD_PANE2:
    case CMD_PANE3:
    case CMD_PANE4:
    case CMD_PANE5:
    case CMD_PANE6:
    case CMD_PANE7:
    case CMD_PANE8:
    case CMD_PANE9:
        for (int i = 0; i < t->npanes; i++)
            if (pane_keys[i] == (char)('1' + (cmd - CMD_PANE1)))
                t->pane = i;
        break;
    case CMD_NEXT_PANE: t->pane = (t->pane + 1) % t->npanes; break;
    case CMD_PREV_PANE: t->pane = (t->pane + t->npanes - 1) % t->npanes; break;
    case CMD_UP:
    case CMD_DOWN:
    case CMD_PGUP:
    case CMD_PGDN:
    case CMD_HOME:
    case CMD_END: {
        /* the row count is only known when drawing; clamp there, move freely here */
        if (!ts)
            break;
        ts->sel += cmd == CMD_UP ? -1
            : cmd == CMD_DOWN    ? 1
            : cmd == CMD_PGUP    ? -page
            : cmd == CMD_PGDN    ? page
            : cmd == CMD_HOME    ? -1000000
                                 : 1000000;
        if (ts->sel < 0)
            ts->sel = 0;
        break;
    }
    case CMD_FILTER:
        if (t->panes[t->pane]->filters)
            t->editing_filter = true;
        else
            no_filter_here(t);
        break;
    case CMD_ESC: /* back out one level: the filter, then the scope */
        if (t->filter[0]) {
            t->filter[0] = '\0';
            reset_panes(t);
        } else if (t->scope >= 0) {
            t->scope = -1;
            tui_message(t, "scope: all servers again");
            reset_panes(t);
        }
        break;
    case CMD_IDLE:
        t->m->opts.idle = !t->m->opts.idle;
        tui_message(t, "%s idle sessions (from the next refresh)", t->m->opts.idle ? "showing" : "hiding");
        sched_refresh_now(t->m);
        break;
    case CMD_SCOPE:
        t->scope = t->scope + 1 >= (long)t->m->n ? -1 : t->scope + 1;
        reset_panes(t);
        break;
    case CMD_FASTER: change_refresh(t, -1); break;
    case CMD_SLOWER: change_refresh(t, 1); break;
    case CMD_FREEZE:
        t->m->paused = !t->m->paused;
        if (!t->m->paused)
            sched_refresh_now(t->m);
        break;
    case CMD_REDRAW: clearok(curscr, TRUE); break;
    case CMD_SORT_PREV:
    case CMD_SORT_NEXT:
    case CMD_SORT_REVERSE: tui_message(t, "this pane has its own order"); break;
    case CMD_CANCEL:
    case CMD_TERMINATE:
    case CMD_TAG:
        tui_message(t,
                    t->o.read_only ? "read-only: actions are disabled"
                                   : "select a session in Activity (2) or Locks (3) first");
        break;
    default: break;
    }
    return true;
}

static bool on_input(void *p)
{
    struct tui *t = p;
    wint_t wc;
    int r;
    while ((r = get_wch(&wc)) != ERR) {
        int key = (int)wc;
        if (r == OK && wc > 127)
            continue; /* no binding uses non-ASCII characters */
        if (!handle(t, key))
            return false;
    }
    return true;
}

int tui_run(struct model *m, const struct tui_opts *o)
{
    setlocale(LC_ALL, "");
    /* a terminal that is not UTF-8 would show other scripts as garbage of the wrong width */
    esc_set_ascii_only(!esc_locale_is_utf8());
    struct tui t;
    memset(&t, 0, sizeof t);
    t.m = m;
    t.o = *o;
    t.panes = pane_list;
    t.npanes = pane_count;
    t.scope = -1;
    set_escdelay(25);
    have_saved_tty = tcgetattr(STDIN_FILENO, &saved_tty) == 0;
    if (!initscr())
        fatal("cannot initialise the terminal");
    curses_on = true;
    reset_len = 0;
    add_cap("sgr0");
    add_cap("cnorm");
    add_cap("rmkx");
    add_cap("rmcup");
    loop_set_emergency(emergency_restore);
    fatal_set_hook(restore_terminal);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
    theme_init(o->color);
    make_layout(&t);
    struct jobs js;
    jobs_init(&js, m->cfg->audit_log, m->cfg->timeout_ms);
    js.allow_system = m->cfg->allow_system_backends;
    m->jobs = &js;
    struct loop_hooks h = {
        .input_fd = STDIN_FILENO,
        .on_input = on_input,
        .on_signal = on_signal,
        .frame = frame,
        .ctx = &t,
    };
    int rc = loop_run(m, &h);
    /* A job still running when the user quits: abort it so its audit line says so. */
    struct job *j;
    TAILQ_FOREACH (j, &js.list, entry)
        job_abort(&js, j);
    m->jobs = NULL;
    jobs_free(&js);
    free(t.tags);
    del_windows(&t);
    restore_terminal();
    loop_set_emergency(NULL);
    fatal_set_hook(NULL);
    return rc;
}
