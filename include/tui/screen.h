/* screen.h — the TUI's internals shared by the tui files: the application state, the pane classes,
 * commands from keys, themes and the table widget. Only tui/ includes it (it pulls ncurses). */
#ifndef PGFLEET_SCREEN_H
#define PGFLEET_SCREEN_H

#include <curses.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "probes/model.h"
#include "probes/session.h"
#include "tui/doc.h"
#include "tui/tui.h"
#include "tui/views.h"

enum command {
    CMD_NONE,
    CMD_QUIT,
    CMD_HELP,
    CMD_UP,
    CMD_DOWN,
    CMD_PGUP,
    CMD_PGDN,
    CMD_HOME,
    CMD_END,
    CMD_LEFT,
    CMD_RIGHT,
    CMD_ENTER,
    CMD_ESC,
    CMD_FILTER,
    CMD_SORT_PREV,
    CMD_SORT_NEXT,
    CMD_SORT_REVERSE,
    CMD_IDLE,
    CMD_SCOPE,
    CMD_NEXT_PANE,
    CMD_PREV_PANE,
    CMD_PANE1,
    CMD_PANE2,
    CMD_PANE3,
    CMD_PANE4,
    CMD_PANE5,
    CMD_PANE6,
    CMD_PANE7,
    CMD_PANE8,
    CMD_PANE9,
    CMD_FASTER,
    CMD_SLOWER,
    CMD_FREEZE,
    CMD_REDRAW,
    CMD_CANCEL,
    CMD_TERMINATE,
    CMD_TAG,
    CMD_ABORT,
    CMD_RESTORE_TEST,
    CMD_MAX
};

struct keybind {
    int key; /* ncurses key code or character */
    enum command cmd;
    const char *keyname; /* as shown in help and footer */
    const char *what;
};
extern const struct keybind keymap[];
extern const size_t keymap_len;
enum command key_to_command(int key);

/* Semantic attributes; theme.c maps them to colours or, without colour, to bold/reverse. */
enum role {
    TH_NORMAL,
    TH_OK,
    TH_WARN,
    TH_CRIT,
    TH_DIM,
    TH_HEADER,
    TH_TITLE,
    TH_TAB,
    TH_TAB_ACTIVE,
    TH_SELECTED,
    TH_FOOTER_KEY,
    TH_FOOTER,
    TH_MAX
};
void theme_init(bool color);
attr_t theme(enum role r);
attr_t theme_sev(enum sev s);

struct table_state {
    int sel, top;
    int sort_col;
    bool desc;
    bool lost; /* the selected row's session is gone: highlight no row (sel keeps the place) */
};
/* Draw a table into w (whole window): a title row, then rows; keeps sel visible. */
void table_draw(WINDOW *w, const struct colspec *cols, int ncols, const cell_t *cells, const enum sev *sev,
                size_t nrows, struct table_state *st, bool show_sort);
/* Draw a document (doc.h) into w (whole window): with select, ts->sel is the selected line,
 * kept in view from ts->top; without, ts->sel is the first line shown. Both are clamped. */
void doc_draw(WINDOW *w, const struct doc *d, struct table_state *ts, bool select);
void table_move(struct table_state *st, enum command cmd, size_t nrows, int page);

struct tui;
struct pane_class;

enum modal { MODAL_NONE, MODAL_HELP, MODAL_DETAIL, MODAL_CONFIRM, MODAL_JOBLOG, MODAL_STMT, MODAL_QUIT, MODAL_MAX };

/* What a pane's key did, for the screen to act on: a pane changes only its own state; showing
 * another pane (scoped to a server) or opening a modal are requests the screen carries out. */
enum key_action { KEY_UNHANDLED, KEY_HANDLED, KEY_SHOW_PANE, KEY_OPEN_MODAL };
struct key_result {
    enum key_action act;
    const struct pane_class *pane; /* KEY_SHOW_PANE: the pane to show… */
    long scope;                    /* …scoped to this server (-1: all) */
    enum modal modal;              /* KEY_OPEN_MODAL (what it shows is in struct tui) */
};
#define KEY_DONE(handled) ((struct key_result){.act = (handled) ? KEY_HANDLED : KEY_UNHANDLED})
#define KEY_MODAL(m) ((struct key_result){.act = KEY_OPEN_MODAL, .modal = (m)})

struct pane_class {
    const char *name, *title;
    void (*draw)(struct tui *t, WINDOW *w);
    /* React to a command (it never draws); KEY_UNHANDLED leaves it to the screen. */
    struct key_result (*key)(struct tui *t, enum command cmd);
    /* Optional: the rows it lists changed under the user's hands (filter, scope): start over. */
    void (*reset)(void);
    const char *footer;         /* the pane's own key hints */
    const char *footer_actions; /* its action keys' hints, left out under --read-only */
    bool filters;               /* / filters what it lists (else the tab bar says it does not) */
    /* Per-pane view state (selection, scroll, sort), owned by the pane file. */
    struct table_state *ts;
};
extern const struct pane_class pane_fleet, pane_activity, pane_locks, pane_replication, pane_connections, pane_io,
    pane_statements, pane_jobs;
/* Every pane in tab order (screen.c), with the digit that shows each. */
extern const struct pane_class *const pane_list[];
extern const char pane_keys[];
extern const int pane_count;

struct job;
struct job_target;
struct action_class;

struct tui {
    struct model *m;
    struct tui_opts o;
    const struct pane_class *const *panes;
    int npanes, pane;
    char filter[128];
    bool editing_filter;
    long scope; /* server index, or -1 for all */
    enum modal modal;
    int modal_scroll;
    struct session_ref detail; /* the session the detail view shows, found again on every refresh */
    char msg[200];
    int64_t msg_until;
    time_t drawn_sec; /* the clock second of the last frame (redrawn once a second) */
    /* actions */
    struct job *pending[16]; /* jobs waiting for the user's confirmation (one per server) */
    int npending;
    char answer[32];    /* what the user typed in the confirmation dialog */
    unsigned joblog_id; /* the job whose log the MODAL_JOBLOG shows */
    /* sessions tagged with Space: by identity, so a tag dies with its backend and never moves
     * to a new session that reuses the pid */
    struct session_ref *tags;
    size_t ntags;
    bool quit; /* the user confirmed quitting (MODAL_QUIT) */
    WINDOW *hdr, *tabs, *body, *foot;
    int rows, cols;
    bool need_layout;
};

void tui_message(struct tui *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print text at (y, x) escaping nothing (callers pass escaped text), clipped to width. */
void put_clipped(WINDOW *w, int y, int x, int width, const char *s, attr_t a);
/* Whether the terminal's codeset is UTF-8 (box and tree characters, or ASCII ones). Text widths
 * are str_cols/str_fit (util.h). */
bool utf8_locale(void);
/* The scrollable text view of the modals (widget_textview.c): lines of (attribute, indent,
 * escaped text). tv_field escapes raw as "name value"; tv_text escapes each line of raw;
 * tv_wrap escapes and wraps raw to width columns (wrap_text). tv_draw shows h lines from
 * *scroll, which it clamps, at (y0, x0) in width columns. */
struct tv_line {
    attr_t a;
    int x;
    char *s;
};
struct tview {
    struct tv_line *l;
    int n, cap;
};
void tv_add(struct tview *v, attr_t a, int x, const char *escaped);
void tv_field(struct tview *v, int namew, const char *name, const char *raw);
void tv_text(struct tview *v, attr_t a, int x, const char *raw);
void tv_wrap(struct tview *v, attr_t a, int x, const char *raw, int width);
void tv_title(WINDOW *w, const char *title, attr_t a); /* a title bar on row 0 */
void tv_draw(WINDOW *w, int y0, int x0, int h, int width, const struct tview *v, int *scroll);
void tv_free(struct tview *v);
void help_draw(struct tui *t, WINDOW *w);
void joblog_draw(struct tui *t, WINDOW *w);

/* Actions from the panes (tui/actions_ui.c). */
struct ui_target {
    size_t server;
    struct job_target *facts; /* what names the session to the action, and what the dialog shows */
};
/* Prepares the jobs and the confirmation dialog: true when MODAL_CONFIRM should open, false
 * when it was refused (the reason is in the message line). */
bool ui_request_action(struct tui *t, const struct action_class *cls, const struct ui_target *tg, size_t n);
/* A restore test of a server (the B key): refused with a message, or true when MODAL_CONFIRM
 * should open. */
bool ui_request_restore_test(struct tui *t, size_t server);
/* A control of a batched migration from pane 8 (tui/batch_ui.c): pause, resume, cancel (asks),
 * cancel now (asks; also cancels the batch in flight), batch size up or down. job is the job's
 * name in the server's control table (or its third-party source's, with source set). Refused
 * with a message, or true when MODAL_CONFIRM should open; a control that needs no confirmation
 * is started at once and returns false. */
enum batch_ctl { BATCH_PAUSE, BATCH_RESUME, BATCH_CANCEL, BATCH_CANCEL_NOW, BATCH_GROW, BATCH_SHRINK };
bool ui_batch_control(struct tui *t, size_t server, const char *job, const char *source, enum batch_ctl ctl);
/* Quitting while a restore test runs asks first (MODAL_QUIT). */
void ui_quit_draw(struct tui *t, WINDOW *w);
bool ui_quit_key(struct tui *t, int key);
void ui_confirm_draw(struct tui *t, WINDOW *w);
bool ui_confirm_key(struct tui *t, int key);
/* Toggles the session's tag; returns whether it is tagged now. */
bool tag_toggle(struct tui *t, const struct session_ref *r);
bool tag_has(const struct tui *t, const struct session_ref *r);
void tags_prune(struct tui *t);
/* Why this session cannot be acted on from here (dimmed rows), or NULL. */
const char *ui_unsignalable(const struct tui *t, size_t server, const struct job_target *facts);
void detail_draw(struct tui *t, WINDOW *w);
void stmt_detail_draw(struct tui *t, WINDOW *w); /* the statement Enter opened in pane 7 */

#endif
