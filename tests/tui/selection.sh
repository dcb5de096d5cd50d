# selection.sh — the Activity pane's selection names a session, not a row, in a 120x40 tmux pane:
# (1) a session selected under a list sorted newest first stays selected when a newer session
#     appears above it and shifts its row: c opens the dialog for it, not for the row that slid
#     under the cursor;
# (2) when the selected session ends, the pane says "session N on primary ended" and c refuses
#     ("has ended: nothing done") instead of acting on a neighbour; Down selects another again;
# (3) in Jobs the selection is a job: a newer job listed above it leaves Enter on the same job.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
export XDG_STATE_HOME="$tmp/state"
sock=pgfleet-test-selection-$$
bg_pids=
cleanup() {
    T kill-server >/dev/null 2>&1
    for p in $bg_pids; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

tag=tuisel$$
q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
backend_of() { q "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'"; }
is_state() { [ "$(q "SELECT state FROM pg_stat_activity WHERE application_name = '$1'")" = "$2" ]; }
client() { # NAME SQL
    PGAPPNAME=$1 "$(lab_psql_bin)" -X -q -At -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
        -c "$2" </dev/null >/dev/null 2>&1 &
    bg_pids="$bg_pids $!"
}
list_shown() { line_re 3 '^SERVER +PID'; }
dialog_shown() { line_re 3 '^ (Cancel query|Terminate session)'; }
no_dialog() { line_lacks_re 3 '^ (Cancel query|Terminate session)'; }

client "$tag-a" "SELECT pg_sleep(300) /*sel-a*/"
require "session a runs" 10 is_state "$tag-a" active
sleep 1.2 # b starts later than a: newest first puts b above a
client "$tag-b" "SELECT pg_sleep(300) /*sel-b*/"
require "session b runs" 10 is_state "$tag-b" active
a_pid=$(backend_of "$tag-a")
b_pid=$(backend_of "$tag-b")

launch_tui tui 120 40 "$tmp/tui" XDG_STATE_HOME="$XDG_STATE_HOME" -- -c "$LAB/fleet.yaml" -d 500ms
require "pgfleet shows the fleet" 10 line_starts 3 "SERVER"
keys 2
require "the Activity pane" 3 list_shown
keys /
wait_until 3 line_starts 40 "Filter: "
typ "$tag"
keys Enter
require "the filter leaves the two sessions" 5 eval 'nrows_is 2'
keys s # newest first
require "newest first: b above a" 5 eval 'rows | head -1 | grep -q "$b_pid"'
keys Down # a, the second row
sleep 1
client "$tag-c" "SELECT pg_sleep(300) /*sel-c*/"
require "session c runs" 10 is_state "$tag-c" active
c_pid=$(backend_of "$tag-c")
expect "c appears above: a slid to the third row" 5 eval 'nrows_is 3 && rows | sed -n 3p | grep -q "$a_pid"'
keys c
expect "c: the dialog opens" 3 dialog_shown
check "… for session a, still the selected one, not b that slid under the cursor" has "pid $a_pid "
check "… and only for a" lacks "pid $b_pid "
keys Escape
expect "Esc backs out" 3 list_shown

# (2) the selected session ends
q "SELECT pg_terminate_backend($a_pid)" >/dev/null
expect "the pane says the selected session ended" 5 has "session $a_pid on primary ended"
keys c
expect "c refuses: the session has ended" 3 has "session $a_pid on primary has ended: nothing done"
check "… and opens no dialog" no_dialog
keys Enter
check "Enter opens no detail of a neighbour" holds 1 eval 'lacks "Session $b_pid on" && lacks "Session $c_pid on"'
keys Down
expect "Down selects another session: the note goes" 3 lacks "ended: nothing selected"
keys c
expect "c now opens the dialog for the newly selected one" 3 dialog_shown
keys Escape
expect "Esc backs out" 3 list_shown

# (3) Jobs: the selection names a job; a newer job listed above it does not take it
keys Home c
expect "c on the top row: the dialog" 3 dialog_shown
keys y
expect "y: job 1 started" 3 has "1 job started"
keys 9
expect "Jobs lists the first job" 5 eval 'rows | head -1 | grep -qE "^ +[0-9]+ +cancel +primary"'
first=$(rows | head -1 | awk '{print $1}')
keys Home
keys 2
require "back in Activity" 3 list_shown
keys Home c
expect "c again: the dialog" 3 dialog_shown
keys y
expect "y: another job started" 3 has "1 job started"
keys 9
expect "Jobs lists the second job above the first" 5 eval 'rows | head -1 | grep -qE "^ +[0-9]+ +cancel" && [ "$(rows | sed -n 2p | awk "{print \$1}")" = "$first" ]'
keys Enter
expect "Enter opens the log of the first job, still the selected one" 3 line_re 3 "^ Job $first: Cancel query on primary"
keys Escape
expect "Esc closes the log" 3 line_re 3 '^JOB +ACTION'
quit_tui "$tmp/tui"
finish
