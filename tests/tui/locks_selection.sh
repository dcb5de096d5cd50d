# locks_selection.sh — the Locks pane's selection names a session, not a line, in a 120x40 tmux
# pane, against two lock trees on the lab's primary:
# (1) a waiter selected in one tree stays selected when another tree, whose root's transaction
#     is older, appears above it and shifts its line: c opens the dialog for it, not for the line
#     that slid under the cursor;
# (2) when the selected waiter ends, the pane says "session N on primary ended" and c, k and
#     Enter refuse instead of acting on a neighbour: nothing is cancelled or terminated, no
#     dialog opens; Down selects another again.
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
export XDG_STATE_HOME="$tmp/state"
sock=pgfleet-test-locksel-$$
tab=locksel_t
app=locksel$$
h1_psql= h2_psql= w1_psql= w2_psql=
q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
ours() { q "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '$app-%'"; }
cleanup() {
    T kill-server >/dev/null 2>&1
    exec 7>&- 8>&- 2>/dev/null
    for p in $w2_psql $w1_psql $h2_psql $h1_psql; do kill "$p" 2>/dev/null; done
    wait_until 15 eval '[ "$(ours)" = 0 ]'
    q "SET lock_timeout = '10s'; DROP TABLE IF EXISTS $tab" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

backend_of() { q "SELECT pid FROM pg_stat_activity WHERE application_name = '$app-$1'"; }
state_is() { [ "$(q "SELECT state FROM pg_stat_activity WHERE application_name = '$app-$1'")" = "$2" ]; }
waiting() { [ "$(q "SELECT wait_event_type FROM pg_stat_activity WHERE application_name = '$app-$1'")" = Lock ]; }
alive() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE pid = $1")" = 1 ]; }
# holder NAME FD: a psql fed through a FIFO held open on FD, so its session stays in its
# transaction between the statements the test sends
holder() {
    mkfifo "$tmp/$1.in"
    PGAPPNAME=$app-$1 "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
        <"$tmp/$1.in" >/dev/null 2>&1 &
}
# the screen line (1-based) where a session's line of the forest shows PID: a root at the
# start, a waiter after its tree prefix
line_of() { screen | grep -nE "^(\+[0-9]+ )?[^0-9A-Za-z]*$1 " | head -1 | cut -d: -f1; }
above() { local a b; a=$(line_of "$1"); b=$(line_of "$2"); [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]; }
forest_shown() { line_re 3 '^PID +FLAG +STATE'; }
dialog_shown() { line_re 3 '^ (Cancel query|Terminate session)'; }
no_dialog() { line_lacks_re 3 '^ (Cancel query|Terminate session)'; }

q "DROP TABLE IF EXISTS $tab; CREATE TABLE $tab (id int PRIMARY KEY, v int); INSERT INTO $tab VALUES (1, 0), (2, 0)" >/dev/null
# H2's transaction starts first (it holds nothing yet): its tree, when it has one, comes first
holder H2
h2_psql=$!
exec 7>"$tmp/H2.in"
echo "BEGIN; SELECT 1;" >&7
require "H2 is idle in transaction" 10 state_is H2 "idle in transaction"
sleep 1.2
holder H1
h1_psql=$!
exec 8>"$tmp/H1.in"
echo "BEGIN; UPDATE $tab SET v = v + 1 WHERE id = 1;" >&8
require "H1 holds row 1" 10 state_is H1 "idle in transaction"
w1_psql=$(PGAPPNAME=$app-W1 lab_bg_psql "$PRIMARY_PORT" "UPDATE $tab SET v = v + 10 WHERE id = 1")
require "W1 waits for H1" 10 waiting W1
h1=$(backend_of H1)
h2=$(backend_of H2)
w1=$(backend_of W1)

launch_tui tui 120 40 "$tmp/tui" XDG_STATE_HOME="$XDG_STATE_HOME" -- -c "$LAB/fleet.yaml" --server primary -d 500ms
keys 3
require "Locks: H1 at the root, W1 under it" 10 eval 'forest_shown && above "$h1" "$w1"'
keys Down # W1, the second line of the forest
keys c
expect "c: the dialog opens" 3 dialog_shown
check "… for W1, the selected waiter" has "pid $w1 "
keys Escape
expect "Esc backs out" 3 forest_shown

# (1) a second tree, with the older transaction at its root, comes above W1's
echo "UPDATE $tab SET v = v + 1 WHERE id = 2;" >&7
w2_psql=$(PGAPPNAME=$app-W2 lab_bg_psql "$PRIMARY_PORT" "UPDATE $tab SET v = v + 10 WHERE id = 2")
require "W2 waits for H2" 10 waiting W2
w2=$(backend_of W2)
expect "H2's tree is drawn above W1's: W2 above W1" 5 eval 'above "$h2" "$h1" && above "$w2" "$w1"'
keys c
expect "c: the dialog opens" 3 dialog_shown
check "… for W1, still the selected one" has "pid $w1 "
check "… not for a session that slid under the cursor" holds 0.5 eval 'lacks "pid $w2 " && lacks "pid $h1 " && lacks "pid $h2 "'
keys Escape
expect "Esc backs out" 3 forest_shown

# (2) the selected waiter ends
q "SELECT pg_terminate_backend($w1)" >/dev/null
expect "the pane says the selected session ended" 5 has "session $w1 on primary ended"
keys c
expect "c refuses: the session has ended" 3 has "session $w1 on primary has ended: nothing done"
check "… and opens no dialog" no_dialog
keys K
check "K refuses too: no dialog" holds 1 no_dialog
keys Enter
check "Enter opens no detail of a neighbour" holds 1 eval 'lacks "Session $w2 on" && lacks "Session $h2 on" && lacks "Session $h1 on"'
check "nothing was cancelled: W2 still waits" waiting W2
check "nothing was terminated: H1 and H2 are alive" eval 'alive "$h1" && alive "$h2"'
check "no action ran: the audit log is empty" bash -c "[ ! -s '$XDG_STATE_HOME/pgfleet/audit.jsonl' ]"
keys Down
expect "Down selects another session: the note goes" 3 lacks "ended: nothing selected"
keys c
expect "c now opens the dialog for the newly selected one" 3 dialog_shown
check "… W2, the last line of the forest" has "pid $w2 "
keys Escape
expect "Esc backs out" 3 forest_shown
quit_tui "$tmp/tui"
finish
