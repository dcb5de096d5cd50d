# locks_detail.sh — who blocks whom, by pid, in a 120x40 tmux pane: a session H idle in
# transaction holds a row that W1 and then W2 wait for (on the lab's primary):
# (1) Locks (3): j/k move along the forest (Enter opens the session below / above);
# (2) the detail of H says "blocks W1 (2 sessions in all, …)" (not an empty "blocked by"); W1's
#     says "blocked by H" (a pid, not a count) and "blocks W2";
# (3) c on H: the dialog says H is idle in transaction and a cancel does nothing to it; Esc
#     backs out; y sends it anyway and the job says nothing was cancelled;
# (4) Jobs (9): the jobs are numbered 1 and 2 (the dialogs backed out of used no number), j/k
#     move between them (Enter opens the log of the one below / above).
for v in LAB TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
export XDG_STATE_HOME="$tmp/state"
sock=pgfleet-test-lockdet-$$
tab=lockdet_t
app=lockdet$$
h_psql= w1_psql= w2_psql=
q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
ours() { q "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE '$app-%'"; }
cleanup() {
    T kill-server >/dev/null 2>&1
    [ -n "${sockpath:-}" ] && rm -f "$sockpath"
    exec 7>&- 2>/dev/null
    for p in $w2_psql $w1_psql $h_psql; do kill "$p" 2>/dev/null; done
    wait_until 15 eval '[ "$(ours)" = 0 ]'
    q "SET lock_timeout = '10s'; DROP TABLE IF EXISTS $tab" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

backend_of() { q "SELECT pid FROM pg_stat_activity WHERE application_name = '$app-$1'"; }
state_is() { [ "$(q "SELECT state FROM pg_stat_activity WHERE application_name = '$app-$1'")" = "$2" ]; }
waiting() { [ "$(q "SELECT wait_event_type FROM pg_stat_activity WHERE application_name = '$app-$1'")" = Lock ]; }
forest_shown() { line_re 3 '^PID +FLAG +STATE'; }
list_shown() { line_re 3 '^SERVER +PID'; }
jobs_shown() { line_re 3 '^JOB +ACTION'; }
dialog_shown() { line_re 3 '^ (Cancel query|Terminate session)'; }
# field NAME VALUE: the detail view's line "NAME   VALUE" (the value column starts at 17)
field() { has_re "^ $1 +$2\$"; }

q "DROP TABLE IF EXISTS $tab; CREATE TABLE $tab (id int PRIMARY KEY, v int); INSERT INTO $tab VALUES (1, 0)" >/dev/null
mkfifo "$tmp/H.in"
PGAPPNAME=$app-H "$(lab_psql_bin)" -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb <"$tmp/H.in" >/dev/null 2>&1 &
h_psql=$!
exec 7>"$tmp/H.in"
echo "BEGIN; UPDATE $tab SET v = v + 1 WHERE id = 1;" >&7
require "H is idle in transaction, holding row 1" 10 state_is H "idle in transaction"
w1_psql=$(PGAPPNAME=$app-W1 lab_bg_psql "$PRIMARY_PORT" "UPDATE $tab SET v = v + 10 WHERE id = 1")
require "W1 waits for H" 10 waiting W1
w2_psql=$(PGAPPNAME=$app-W2 lab_bg_psql "$PRIMARY_PORT" "UPDATE $tab SET v = v + 100 WHERE id = 1")
require "W2 waits too" 10 waiting W2
h=$(backend_of H)
w1=$(backend_of W1)
w2=$(backend_of W2)

launch_tui tui 120 40 "$tmp/tui" XDG_STATE_HOME="$XDG_STATE_HOME" -- -c "$LAB/fleet.yaml" --server primary -d 500ms
keys 3
require "Locks: H at the root" 10 eval 'forest_shown && screen | grep -qE "^$h +IDLE IN TRANSACTION"'
expect "W1 and W2 are in H's tree" 5 eval 'has_re "[^0-9]$w1 " && has_re "[^0-9]$w2 "'

# ---- (1) and (2): Locks, j/k and the detail
keys Home Enter
expect "Enter on the root: H's detail" 3 line_has 3 "Session $h on primary"
# W2 waits for the row lock W1 took (pg_blocking_pids(W2) is W1 alone): H blocks W1 directly and
# W2 behind it
expect "H's detail: 'blocks $w1 (2 sessions in all, waiting behind them)'" 3 field blocks "$w1 \(2 sessions in all, waiting behind them\)"
check "… and 'blocked by' is empty" has_re "^ blocked by *\$"
keys Escape
wait_until 3 forest_shown
keys j Enter
expect "j, Enter: the next line's session (a waiter)" 3 eval 'line_has 3 "Session $w1 on primary" || line_has 3 "Session $w2 on primary"'
keys Escape
wait_until 3 forest_shown
keys k Enter
expect "k, Enter: H again" 3 line_has 3 "Session $h on primary"
keys Escape
wait_until 3 forest_shown

# W1's detail, from Activity
keys 2 /
wait_until 3 line_starts 40 "Filter: "
typ "$app-W1"
keys Enter
require "Activity: W1 alone" 5 eval 'list_shown && nrows_is 1'
keys Enter
expect "W1's detail" 3 line_has 3 "Session $w1 on primary"
expect "W1's detail: 'blocked by $h' (the pid, not a count)" 3 field "blocked by" "$h"
expect "… and 'blocks $w2'" 3 field blocks "$w2"
keys Escape
wait_until 3 list_shown
keys Escape # the filter
wait_until 3 line_lacks 2 "filter:"

# ---- (3) cancel on H, idle in transaction
keys 3
wait_until 3 forest_shown
keys Home c
expect "c on H: the cancel dialog" 3 eval 'line_starts 3 " Cancel query" && has "pid $h "'
check "it says a cancel does nothing to H" has "pid $h is idle in transaction: no query is running, so cancel does nothing to it"
check "… and what would" has "(terminate ends the session and rolls its transaction back)"
keys Escape
expect "Esc backs out" 3 eval 'forest_shown && has "backed out: nothing was sent"'
keys c
wait_until 3 dialog_shown
keys y
expect "y: a job" 3 has "1 job started: see pane 9 (Jobs)"

# a second job: cancel W2's query (W2's client sees the error; H and W1 go on waiting)
keys /
wait_until 3 line_starts 40 "Filter: "
typ "$app-W2"
keys Enter
expect "the Locks filter keeps H's tree, W2 in it" 5 eval 'forest_shown && has_re "[^0-9]$w2 "'
for ((i = 0; i < 3; i++)); do keys j; done # the last line of the tree: W2 or W1
keys c
wait_until 3 dialog_shown
keys Escape # backed out: no number used
wait_until 3 forest_shown
keys c
wait_until 3 dialog_shown
keys y
expect "y: the second job" 3 has "1 job started: see pane 9 (Jobs)"

# ---- (4) Jobs
keys Escape 9 # the filter; the Jobs pane
require "Jobs: two jobs, numbered 2 and 1 (newest first)" 8 eval 'jobs_shown && [ "$(rows | awk "{print \$1}" | tr "\n" " ")" = "2 1 " ]'
expect "job 1: the cancel of H did nothing ('no query running')" 5 eval 'rows | grep -E "^ +1 +cancel " | grep -qF "no query running"'
keys Home j Enter
expect "j, Enter: the log of job 1" 3 line_re 3 '^ Job 1: Cancel query on primary'
keys Escape
wait_until 3 jobs_shown
keys k Enter
expect "k, Enter: the log of job 2" 3 line_re 3 '^ Job 2: Cancel query on primary'
keys Escape
wait_until 3 jobs_shown
audit="$XDG_STATE_HOME/pgfleet/audit.jsonl"
check "audit: the outcome ids end with -1 and -2, in order" wait_until 10 eval '[ "$(jq -r "select(.record == \"outcome\") | .id" "$audit" | sed "s/.*-//" | tr "\n" " ")" = "1 2 " ]'
quit_tui "$tmp/tui"
finish
