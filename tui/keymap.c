/* keymap.c — keys to commands, as data: the help screen and the footer are generated from this
 * table, so a binding is documented where it is defined. Habits of htop, less and pg_activity:
 * j/k move (never act), K terminates, as no movement convention uses it. */
#include "tui/screen.h"

const struct keybind keymap[] = {
    {'1', CMD_PANE1, "1", "Fleet pane: one row per server, worst first"},
    {'2', CMD_PANE2, "2", "Activity pane: sessions of every server"},
    {'3', CMD_PANE3, "3", "Locks pane: who blocks whom, rooted at the blocker"},
    {'4', CMD_PANE4, "4", "Replication pane: lag, slots, archiver, per cluster"},
    {'5', CMD_PANE5, "5", "Connections pane: use vs max_connections, pgBouncer pools"},
    {'6', CMD_PANE6, "6", "Cache & IO pane: hit ratio, reads/writes, temp, WAL, checkpoints"},
    {'7', CMD_PANE7, "7", "Statements pane: slow queries from pg_stat_statements"},
    {'9', CMD_PANE9, "9", "Jobs pane: actions running and done, with their logs"},
    {'\t', CMD_NEXT_PANE, "Tab", "next pane"},
    {KEY_BTAB, CMD_PREV_PANE, "S-Tab", "previous pane"},
    {KEY_UP, CMD_UP, "Up k", "move up (as in less and vim: every list and text view)"},
    {'k', CMD_UP, "k", NULL},
    {KEY_DOWN, CMD_DOWN, "Down j", "move down"},
    {'j', CMD_DOWN, "j", NULL},
    {KEY_PPAGE, CMD_PGUP, "PgUp", "page up"},
    {KEY_NPAGE, CMD_PGDN, "PgDn", "page down"},
    {KEY_HOME, CMD_HOME, "Home", "first row"},
    {KEY_END, CMD_END, "End", "last row"},
    {'\n', CMD_ENTER, "Enter", "details of the selected row (Fleet: its sessions)"},
    {KEY_ENTER, CMD_ENTER, "Enter", NULL},
    {'\r', CMD_ENTER, "Enter", NULL},
    {27, CMD_ESC, "Esc", "close a dialog; else clear the filter; else back to all servers"},
    {'/', CMD_FILTER, "/", "filter rows: any column, or a server's name or tag (not panes 4-6)"},
    {'<', CMD_SORT_PREV, "<", "sort by the column to the left"},
    {'>', CMD_SORT_NEXT, ">", "sort by the column to the right"},
    {'s', CMD_SORT_REVERSE, "s", "reverse the sort order"},
    {'i', CMD_IDLE, "i", "show or hide idle sessions"},
    {'S', CMD_SCOPE, "S", "scope every pane to one server at a time, then all again"},
    {'+', CMD_SLOWER, "+", "refresh less often"},
    {'-', CMD_FASTER, "-", "refresh more often"},
    {'z', CMD_FREEZE, "z", "freeze / unfreeze the display"},
    {'c', CMD_CANCEL, "c", "cancel the query of the selected (or tagged) sessions"},
    {'K', CMD_TERMINATE, "K", "terminate the selected (or tagged) sessions (as pg_activity)"},
    {' ', CMD_TAG, "Space", "tag / untag a session (actions apply to all tagged)"},
    {'x', CMD_ABORT, "x", "Jobs: abort the selected running job"},
    {'B', CMD_RESTORE_TEST, "B", "Fleet: start a restore test of the selected server's backups"},
    {12, CMD_REDRAW, "^L", "redraw the screen"},
    {KEY_F(1), CMD_HELP, "F1", "this help"},
    {'h', CMD_HELP, "h", "this help"},
    {'?', CMD_HELP, "?", "this help"},
    {'q', CMD_QUIT, "q", "quit"},
    {KEY_F(10), CMD_QUIT, "F10", "quit"},
};
const size_t keymap_len = sizeof keymap / sizeof keymap[0];

enum command key_to_command(int key)
{
    for (size_t i = 0; i < keymap_len; i++)
        if (keymap[i].key == key)
            return keymap[i].cmd;
    return CMD_NONE;
}
