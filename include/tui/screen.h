/* screen.h — the TUI's internals shared by the tui files: the application state, the pane classes,
 * commands from keys, themes and the table widget. Only tui/ includes it (it pulls ncurses). */
#ifndef PGFLEET_SCREEN_H
#define PGFLEET_SCREEN_H

#include <curses.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "probes/model.h"
#include "tui/tui.h"
#include "tui/views.h"

enum command {
    CMD_NONE, CMD_QUIT, CMD_HELP, CMD_UP, CMD_DOWN, CMD_PGUP, CMD_PGDN, CMD_HOME, CMD_END,
    CMD_LEFT, CMD_RIGHT, CMD_ENTER, CMD_ESC, CMD_FILTER, CMD_SORT_PREV, CMD_SORT_NEXT,
    CMD_SORT_REVERSE, CMD_IDLE, CMD_SCOPE, CMD_NEXT_PANE, CMD_PREV_PANE, CMD_PANE1, CMD_PANE2,
    CMD_PANE3, CMD_PANE4, CMD_PANE5, CMD_PANE6, CMD_PANE7, CMD_PANE8, CMD_PANE9,
    CMD_FASTER, CMD_SLOWER, CMD_FREEZE, CMD_REDRAW, CMD_CANCEL, CMD_TERMINATE, CMD_TAG,
    CMD_ABORT, CMD_MAX
};

struct keybind {
    int key;            /* ncurses key code or character */
    enum command cmd;
    const char *keyname; /* as shown in help and footer */
    const char *what;
};
extern const struct keybind keymap[];
extern const size_t keymap_len;
enum command key_to_command(int key);

/* Semantic attributes; theme.c maps them to colours or, without colour, to bold/reverse. */
enum role { TH_NORMAL, TH_OK, TH_WARN, TH_CRIT, TH_DIM, TH_HEADER, TH_TITLE, TH_TAB, TH_TAB_ACTIVE,
            TH_SELECTED, TH_FOOTER_KEY, TH_FOOTER, TH_MAX };
void theme_init(bool color);
attr_t theme(enum role r);
attr_t theme_sev(enum sev s);

struct table_state {
    int sel, top;
    int sort_col;
    bool desc;
};
/* Draw a table into w (whole window): a title row, then rows; keeps sel visible. */
void table_draw(WINDOW *w, const struct colspec *cols, int ncols, const cell_t *cells,
                const enum sev *sev, size_t nrows, struct table_state *st, bool show_sort);
void text_table(FILE *out, const struct colspec *cols, int ncols, const cell_t *cells, size_t nrows);
/* s in a field of cols display columns, cut to fit (never half a character). */
void fput_pad(FILE *out, const char *s, int cols, bool right);
void table_move(struct table_state *st, enum command cmd, size_t nrows, int page);
/* Fit a row of columns to width: wd[c] holds column c's width. While the columns left, each with
 * a space after it, are wider than width, the one of lowest priority goes (the first of equals),
 * never one whose bit (1u << c) is set in keep. The columns left are placed from x0 on and, with
 * grow, a flex column takes what the row leaves over; a dropped column gets x -1 and width 0. */
void table_fit(const struct colspec *cols, int ncols, int width, unsigned keep, bool grow, int x0, int *x,
               int *wd);

struct tui;
struct pane_class {
    const char *name, *title;
    void (*draw)(struct tui *t, WINDOW *w);
    /* React to a command; returns true if it was handled (it never draws). */
    bool (*key)(struct tui *t, enum command cmd);
    const char *footer;  /* the pane's own key hints */
    /* The text snapshot form of this pane (optional): print this pane's section. (The JSON
     * snapshot is written by the probes layer: probes/snapjson.h.) */
    void (*text)(const struct model *m, FILE *out);
    /* Per-pane view state (selection, scroll, sort), owned by the pane file. */
    struct table_state *ts;
};
extern const struct pane_class pane_fleet, pane_activity, pane_locks, pane_replication,
    pane_connections, pane_io, pane_statements, pane_jobs;
/* Every pane in tab order (screen.c), with the digit that shows each; the text snapshot walks
 * the list too. */
extern const struct pane_class *const pane_list[];
extern const char pane_keys[];
extern const int pane_count;

enum modal { MODAL_NONE, MODAL_HELP, MODAL_DETAIL, MODAL_CONFIRM, MODAL_JOBLOG };

struct job;
struct job_target;
struct action_class;

/* A session tagged with Space: identified by server, pid and backend start, so a tag dies with
 * its backend and never moves to a new session that reuses the pid. */
struct tag {
    size_t server;
    int pid;
    char backend_start[64];
};

struct tui {
    struct model *m;
    struct tui_opts o;
    const struct pane_class *const *panes;
    int npanes, pane;
    char filter[128];
    bool editing_filter;
    long scope;            /* server index, or -1 for all */
    enum modal modal;
    int modal_scroll;
    /* the backend the detail view shows, found again by identity on every refresh */
    size_t detail_server;
    int detail_pid;
    char detail_bstart[64];
    char msg[200];
    int64_t msg_until;
    /* actions */
    struct job *pending[16]; /* jobs waiting for the user's confirmation (one per server) */
    int npending;
    char answer[32];         /* what the user typed in the confirmation dialog */
    unsigned joblog_id;      /* the job whose log the MODAL_JOBLOG shows */
    struct tag *tags;
    size_t ntags;
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
void help_draw(struct tui *t, WINDOW *w);
void joblog_draw(struct tui *t, WINDOW *w);

/* Actions from the panes (tui/actions_ui.c). */
struct ui_target {
    size_t server;
    const struct activity_row *row;
    int blocks; /* sessions it blocks, when the pane knows */
};
void ui_request_action(struct tui *t, const struct action_class *cls, const struct ui_target *tg, size_t n);
void ui_confirm_draw(struct tui *t, WINDOW *w);
void ui_confirm_key(struct tui *t, int key);
bool tag_toggle(struct tui *t, size_t server, const struct activity_row *r);
bool tag_has(const struct tui *t, size_t server, const struct activity_row *r);
void tags_prune(struct tui *t);
/* Why this session cannot be acted on from here (dimmed rows), or NULL. */
const char *ui_unsignalable(const struct tui *t, size_t server, const struct activity_row *r);
void detail_draw(struct tui *t, WINDOW *w);
/* Sparklines (widget_spark.c): the last `width` of n values as block characters scaled to the
 * larger of max and the largest value shown; NAN is a blank. spark_text writes UTF-8 blocks or,
 * without utf8, ASCII; spark_draw picks by the terminal's codeset. */
char *spark_text(char *buf, size_t len, const double *v, size_t n, int width, double max, bool utf8);
void spark_draw(WINDOW *w, int y, int x, int width, const double *v, size_t n, double max, attr_t a);

#endif
