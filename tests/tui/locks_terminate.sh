# locks_terminate.sh — the 3 AM move, as a person does it: a session idle in transaction holds
# a row lock and another waits on it; in the Locks pane (3) the blocker is the root, selected
# first; K opens the dialog (it says how many sessions it blocks), typing yes terminates it; the waiter
# goes on, the tree is gone on the next refresh, and the audit log has the line; q quits with
# status 0 and nothing on stderr.
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
export XDG_STATE_HOME="$tmp/state"
sock=pgfleet-test-lockterm-$$
pane=tui:0.0
holder_pid=
waiter_pid=
cleanup() {
    T kill-server >/dev/null 2>&1
    exec 7>&- 2>/dev/null
    for p in $holder_pid $waiter_pid; do kill "$p" 2>/dev/null; done
    lab_psql "$PRIMARY_PORT" -c "DROP TABLE IF EXISTS lockterm_t" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

q() { lab_psql "$PRIMARY_PORT" -c "$1"; }
app=lockterm$$
holder_alive() { [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE pid = $hpid")" = 1 ]; }

q "DROP TABLE IF EXISTS lockterm_t; CREATE TABLE lockterm_t (id int PRIMARY KEY, v int); INSERT INTO lockterm_t VALUES (1, 0)" >/dev/null
# The holder: a psql fed through a FIFO, left idle in transaction after its UPDATE.
mkfifo "$tmp/holder.in"
PGAPPNAME=$app-holder psql -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb <"$tmp/holder.in" >/dev/null 2>"$tmp/holder.err" &
holder_pid=$!
exec 7>"$tmp/holder.in"
echo "BEGIN; UPDATE lockterm_t SET v = v + 1 WHERE id = 1;" >&7
check "the holder is idle in transaction" wait_until 10 bash -c "[ \"\$(psql -X -At -h 127.0.0.1 -p $PRIMARY_PORT -U postgres labdb -c \"select state from pg_stat_activity where application_name = '$app-holder'\")\" = 'idle in transaction' ]"
PGAPPNAME=$app-waiter psql -X -q -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -d labdb \
    -c "UPDATE lockterm_t SET v = v + 10 WHERE id = 1" >"$tmp/waiter.out" 2>&1 &
waiter_pid=$!
check "the waiter waits on the holder" wait_until 10 bash -c "[ \"\$(psql -X -At -h 127.0.0.1 -p $PRIMARY_PORT -U postgres labdb -c \"select wait_event_type from pg_stat_activity where application_name = '$app-waiter'\")\" = Lock ]"
hpid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = '$app-holder'")

launch_tui tui 120 40 "$tmp/tui" -- -c "$LAB/fleet.yaml" --server primary
keys 3
check "Locks pane: the holder is the root, flagged idle in transaction" wait_until 10 bash -c "tmux -L $sock capture-pane -p -t $pane | grep -E '^$hpid ' | grep -q 'IDLE IN TRANSACTION'"
keys K
check "K opens the terminate dialog for the root" wait_until 5 has "Terminate session"
check "the dialog names the root and how many it blocks" wait_until 3 bash -c "tmux -L $sock capture-pane -p -t $pane | grep -q 'pid $hpid' && tmux -L $sock capture-pane -p -t $pane | grep -q 'blocks 1 session'"
# the lab's sessions are a superuser's: terminating one wants "yes" typed, a lone y does nothing
keys y
# a second of nothing happening is the check
check "a lone y does not terminate a superuser's session" holds 1 holder_alive
keys BSpace
typ yes
keys Enter
check "the root is gone from the server" wait_until 10 bash -c "[ \"\$(psql -X -At -h 127.0.0.1 -p $PRIMARY_PORT -U postgres labdb -c 'select count(*) from pg_stat_activity where pid = $hpid')\" = 0 ]"
check "the waiter went through" wait_until 10 bash -c "! kill -0 $waiter_pid 2>/dev/null && ! grep -q ERROR $tmp/waiter.out"
check "the lock tree is gone on the next refresh" wait_until 5 has "no lock waits"
audit="$XDG_STATE_HOME/pgfleet/audit.jsonl"
check "one audit line: terminate of that pid" wait_until 5 bash -c "[ -f '$audit' ] && jq -e 'select(.action == \"terminate\") | .targets[0].pid == $hpid' '$audit' >/dev/null"
quit_tui "$tmp/tui"
finish
