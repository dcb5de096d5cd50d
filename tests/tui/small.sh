# small.sh — the monitor in an 80x24 tmux pane, the size every terminal starts at: the Fleet
# rows fit the width with SERVER and STATUS aligned under their titles; the Activity pane keeps
# PID, STATE and QUERY; help scrolls; a resize down to 60x15 and back keeps it running and
# redraws; a tiny 15x3 (and 40x3) window says the terminal is too small and 80x24 comes back
# whole; q exits with status 0 and nothing on stderr.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
sock=pgfleet-test-$$
pane=tui:0.0
p_pid= r_pid=
cleanup() {
    T kill-server >/dev/null 2>&1
    [ -n "${sockpath:-}" ] && rm -f "$sockpath" # kill-server leaves the socket file
    for p in $p_pid $r_pid; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

# ---- screen helpers of this test (the shared ones are in tuilib.sh)
# Fleet row of server $1 with the word UP (narrow screens drop the VERSION column).
fleet_up() { screen | awk -v s="$1" '$1 == s {for (i = 2; i <= NF; i++) if ($i == "UP") f = 1} END {exit !f}'; }
# Widest line on screen, in display columns, wrapped lines joined (-J): nothing may wrap.
widest() { T capture-pane -p -J -t "$pane" | wc -L; }
# cell_under TITLE MARK: the text of the row holding MARK from under TITLE's first column on
# (the last TITLE of the title row: QUERY is the column after QUERY AGE).
cell_under() {
    screen | one_col_markers | awk -v t="$1" -v m="$2" 'NR == 3 {p = lastindex($0, t)} NR > 3 && p && index($0, m) {print substr($0, p); exit}
        function lastindex(s, t,   i, k) { k = 0; while ((i = index(substr(s, k + 1), t)) > 0) k += i; return k }'
}
starts_under() { [[ $(cell_under "$1" "$3") == "$2"* ]]; }
# right_under TITLE VALUE MARK: the right-aligned VALUE ends where TITLE ends.
right_under() {
    screen | one_col_markers | awk -v t="$1" -v v="$2" -v m="$3" 'NR == 3 {p = index($0, t) + length(t)} NR > 3 && p && index($0, m) {f = substr($0, p - length(v), length(v)) == v; exit} END {exit !f}'
}
layout_ok() { # ROWS COLS: header, tabs, titles, footer on the last line, each once; the sessions once
    size_is "$2x$1" && line_starts 1 "pgfleet " && line_re 2 "$TABS" &&
        line_re 3 '^(SERVER +)?PID' && line_starts "$1" "F1" &&
        [ "$(count_lines '^pgfleet ')" = 1 ] && [ "$(count_lines "$TABS")" = 1 ] &&
        [ "$(count_lines 'PID ')" = 1 ] && [ "$(count_lines '^F1')" = 1 ] &&
        [ "$(count_lines '/\*tui-small-p\*/')" = 1 ] && [ "$(count_lines '/\*tui-small-r\*/')" = 1 ]
}

# ---- a sleeping session on each server
p_app=tui-small-p-$$
r_app=tui-small-r-$$
session_is() {
    [ "$(lab_psql "$1" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$2' AND state = '$3'")" = 1 ]
}
p_pid=$(PGAPPNAME=$p_app lab_bg_psql "$PRIMARY_PORT" "/*tui-small-p*/ SELECT pg_sleep(300)")
r_pid=$(PGAPPNAME=$r_app lab_bg_psql "$REPLICA_PORT" "/*tui-small-r*/ SELECT pg_sleep(300)")
check "test sessions are running" eval 'wait_until 10 session_is "$PRIMARY_PORT" "$p_app" active && wait_until 10 session_is "$REPLICA_PORT" "$r_app" active'
p_backend=$(lab_psql "$PRIMARY_PORT" -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$p_app'")

# ---- a shell in an 80x24 tmux pane, pgfleet started from it
start_shell 80 24
typ "$PGFLEET -c '$LAB/fleet.yaml' 2>'$tmp/err'; echo rc=\$?"
keys Enter

# ---- Fleet at 80x24
require "Fleet: primary UP" 10 fleet_up primary
expect "Fleet: replica UP" 5 fleet_up replica
check "no line wider than 80 columns (widest: $(widest))" [ "$(widest)" -le 80 ]
expect "SERVER and STATUS columns are shown" 2 line_re 3 '^SERVER .*STATUS'
expect "the primary's UP sits under STATUS" 2 starts_under STATUS UP "primary "
expect "the replica's UP sits under STATUS" 2 starts_under STATUS UP "replica "
expect "the header fits and counts servers" 2 line_re 1 '^pgfleet +[0-9]+ servers( \+ [0-9]+ poolers?)?: [0-9]+ up'
expect "the tab bar is on line 2" 2 line_re 2 "$TABS"
expect "the footer is on line 24" 2 line_re 24 '^F1 ?Help'

# ---- Activity at 80x24
keys 2
expect "Activity lists the primary's session" 5 has "/*tui-small-p*/"
expect "Activity lists the replica's session" 5 has "/*tui-small-r*/"
expect "PID, STATE and QUERY columns at 80 columns" 2 line_re 3 'PID .*STATE .*QUERY$'
expect "the primary's session shows its pid under PID" 1 right_under PID "$p_backend" "/*tui-small-p*/"
expect "the primary's session shows 'active' under STATE" 2 starts_under STATE active "/*tui-small-p*/"
expect "the query starts under QUERY" 2 starts_under QUERY "/*tui-small-p*/" "/*tui-small-p*/"
check "no line wider than 80 columns" [ "$(widest)" -le 80 ]

# z at 80 columns: the footer says so; the header should too.
keys z
expect "z: the footer offers Unfreeze" 4 line_has 24 "Unfreeze"
expect "z: FROZEN shows in the header at 80 columns" 3 line_has 1 "FROZEN"
keys z
expect "z again: the footer offers Freeze" 4 line_has 24 "z Freeze"

# S and / at 80 columns: the list is scoped/filtered; the tab bar should say so.
keys S
expect "S: the list is scoped to one server" 3 eval 'has "/*tui-small-p*/" && lacks "/*tui-small-r*/"'
expect "S: 'scope: primary' shows in the tab bar at 80 columns" 2 line_has 2 "scope: primary"
for ((i = 0; i < 6; i++)); do
    has "/*tui-small-r*/" && has "/*tui-small-p*/" && break
    cur=$(line 2 | sed -n 's/.*\(scope: [^ ]*\).*/\1/p')
    keys S
    wait_until 3 line_lacks 2 "${cur:-scope: }" # the next server's scope, or none
done
expect "S cycles back to every server" 3 eval 'has "/*tui-small-p*/" && has "/*tui-small-r*/"'
keys /
typ "$r_app"
keys Enter
expect "/ filters at 80 columns" 3 eval 'lacks "/*tui-small-p*/" && has "/*tui-small-r*/"'
expect "/: 'filter: NAME' shows in the tab bar at 80 columns" 3 line_has 2 "filter: $r_app"
keys Escape
expect "Esc clears the filter" 3 eval 'has "/*tui-small-p*/" && has "/*tui-small-r*/"'

# Help does not fit 24 lines: it scrolls.
keys h
expect "h: help" 3 line_starts 3 " Help"
check "help's last line is below the screen" lacks "Esc or q closes"
keys NPage NPage NPage NPage NPage
expect "PgDn scrolls help to its last line" 3 has "Esc or q closes"
keys Home
expect "Home goes back to the top of help" 3 has_line " Keys"
check "End goes to the end of help" eval 'keys End; wait_until 2 has "Esc or q closes"'
keys Escape
expect "Esc closes help" 3 line_re 3 'PID'

# ---- resize down to 60x15 and back
T resize-window -t tui -x 60 -y 15
expect "60x15: redrawn (header, tabs, titles, footer on line 15, sessions, each once)" 5 layout_ok 15 60
check "60x15: pgfleet still runs" running
expect "60x15: PID and QUERY still shown" 2 line_re 3 'PID .*QUERY$'
check "60x15: no line wider than 60" [ "$(widest)" -le 60 ]
T resize-window -t tui -x 80 -y 24
expect "back to 80x24: redrawn" 5 layout_ok 24 80
expect "80x24: PID, STATE and QUERY again" 2 line_re 3 'PID .*STATE .*QUERY$'

# ---- too small, then whole again
T resize-window -t tui -x 15 -y 3
expect "15x3: the message starts on line 1, nothing else is drawn" 5 eval 'size_is 15x3 && line_starts 1 "too small" && [ -z "$(screen | sed 1d | tr -d " \n")" ]'
check "15x3: pgfleet still runs" running
check "15x3: 'too small' is readable in 15 columns" has "too small"
T resize-window -t tui -x 40 -y 3
expect "40x3: 'terminal too small'" 5 eval 'size_is 40x3 && has "terminal too small"'
check "40x3: pgfleet still runs" running
T resize-window -t tui -x 80 -y 24
expect "80x24 again: redrawn whole" 5 layout_ok 24 80
a=$(cell_under "QUERY AGE" "/*tui-small-p*/")
expect "80x24 again: still refreshing (the query age moves from '${a:0:12}')" 4 eval '[ -n "$a" ] && [ "$(cell_under "QUERY AGE" "/*tui-small-p*/")" != "$a" ]'

# ---- q
keys q
expect "q: pgfleet exits with status 0" 5 has_line "rc=0"
no_output "nothing on stderr (no sanitizer report, no stray message)" "$tmp/err"

finish
