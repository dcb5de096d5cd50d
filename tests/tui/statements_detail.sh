# statements_detail.sh — the Statements pane (7) in a 120x30 tmux pane, with three statements of
# our own running over and over on the primary (each on a table of this run, so each is its own
# pg_stat_statements entry whose text is ours), listed by the filter and sorted by QUERY:
# (1) the selection names a statement, not a row: c selected under b, a new statement a listed
#     above both (a refresh re-sorts the list) leaves Enter on c; so does s reversing the order;
# (2) Enter opens the statement's detail (a modal of the screen): its figures and its whole text,
#     40 lines long, which Down, End and Home scroll; q closes it without quitting, Esc too.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
export XDG_STATE_HOME="$tmp/state"
sock=pgfleet-test-stmtdet-$$
m=sd$$          # in each statement's comment: a, b, c sort by it
tab=sdtab_$$    # the table each statement reads: the filter
bg_pids=
cleanup() {
    T kill-server >/dev/null 2>&1
    [ -n "${sockpath:-}" ] && rm -f "$sockpath"
    for p in $bg_pids; do kill "$p" 2>/dev/null; done
    lab_psql "$PRIMARY_PORT" -c "DROP TABLE IF EXISTS $tab" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
# run SQL: one session running SQL five times a second until the test ends (pg_sleep gives it
# lifetime time, so its text is among those the probe fetches, at no CPU cost).
run() {
    { while :; do printf '%s\n' "$1"; sleep 0.2; done; } |
        "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb >/dev/null 2>&1 &
    bg_pids="$bg_pids $!"
}
calls_of() { q "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '%/* $m-$1 */%'"; }
runs() { [ "$(calls_of "$1")" -gt 2 ]; }

q "CREATE TABLE $tab AS SELECT 1 AS x" >/dev/null
long="SELECT /* $m-b */"
for i in $(seq -w 1 40); do long+=$'\n'"  x + $i AS c$i,"; done
long+=$'\n'"  pg_sleep(0.05) FROM $tab;"
run "SELECT /* $m-c */ max(x), pg_sleep(0.05) FROM $tab;"
run "$long"
require "statements b and c run" 20 eval 'runs b && runs c'

list_shown() { line_re 3 '^SERVER +DB +USER'; }
# row N of the table holds statement X (a, b or c)
row_is() { rows | sed -n "${1}p" | grep -qF "/* $m-$2 */"; }
detail_shown() { line_re 3 '^ Statement on primary'; }
no_detail() { line_lacks_re 3 '^ Statement on primary'; }
detail_of() { detail_shown && has "SELECT /* $m-$1 */"; }
running_tui() { ! tui_exited "$tmp/tui"; }

launch_tui tui 120 30 "$tmp/tui" XDG_STATE_HOME="$XDG_STATE_HOME" -- -c "$LAB/fleet.yaml" -d 500ms
require "pgfleet shows the fleet" 10 line_starts 3 "SERVER"
keys 7
require "7: the Statements pane" 5 list_shown
keys /
wait_until 3 line_starts 30 "Filter: "
typ "$tab"
keys Enter
typ '<<<<' # LOAD, USER, DB, SERVER, then round to QUERY: ascending
require "sorted by QUERY, the filter lists b then c" 20 eval 'nrows_is 2 && row_is 1 b && row_is 2 c'

# (1) the selection follows its statement
keys Down
run "SELECT /* $m-a */ count(*), pg_sleep(0.05) FROM $tab;"
require "statement a runs" 20 runs a
expect "a refresh lists a above: c slid to the third row" 20 eval 'nrows_is 3 && row_is 1 a && row_is 3 c'
keys Enter
expect "Enter opens the detail of c, still the selected one" 5 detail_of c
check "… not of b, now in c's row" lacks "/* $m-b */"
keys Escape
expect "Esc closes the detail" 3 list_shown
keys s
expect "s reverses the order: c first" 5 eval 'row_is 1 c && row_is 3 a'
keys Enter
expect "Enter: still c's detail" 5 detail_of c
keys Escape
expect "Esc closes it" 3 list_shown
keys s

# (2) the detail of b: figures, the whole text, scrolling
expect "s again: a, b, c" 5 eval 'row_is 1 a && row_is 2 b && row_is 3 c'
keys Home Down
keys Enter
require "Enter opens the detail of b" 5 detail_of b
check "… a modal of the screen: the modals' footer" line_re 30 '^Esc Close +Up/Down Scroll'
check "… its database and user first" line_re 4 '^ database +labdb'
expect "… its figures over the interval" 3 has "of one core"
check "… lifetime figures" has "Since the entry was created"
check "… the text from its first line" has "AS c01,"
check "… which is longer than the screen" lacks "AS c40,"
check "the closing hint on the last line of the body" line_re 29 'Esc, Enter or q closes'
keys Down
expect "Down scrolls one line: user on top" 3 line_re 4 '^ user +postgres'
keys End
expect "End shows the end of the text" 3 eval 'has "AS c40," && has "FROM $tab"'
check "… the figures scrolled off" lacks "of one core"
keys Home
expect "Home: the top again" 3 line_re 4 '^ database +labdb'
keys q
expect "q closes the detail" 3 list_shown
check "… and does not quit" holds 1 eval 'running_tui && no_detail'
keys Enter
expect "Enter opens it again" 5 detail_of b
keys Escape
expect "Esc closes it" 3 list_shown
quit_tui "$tmp/tui"
finish
