# degrade.sh — a login without pg_monitor, and a database without pg_stat_statements: every
# pane still works, the missing parts say why in one line, nothing crashes (this runs the
# sanitizer build), the snapshot exits 0 with the server UP, and the TUI shows each pane.
. "$TESTLIB"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
sock=pgfleet-test-degrade-$$
db=pgfleet_degrade_$$
cleanup() {
    tmux -L "$sock" kill-server >/dev/null 2>&1
    lab_psql "$PRIMARY_PORT" -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
lab_psql "$PRIMARY_PORT" -d postgres -c "CREATE DATABASE $db" >/dev/null

plain="host=127.0.0.1 port=$PRIMARY_PORT dbname=labdb user=lab_nosignal"
nopgss="host=127.0.0.1 port=$PRIMARY_PORT dbname=$db user=postgres"
"$PGFLEET" snapshot --json -d 500ms "$plain" "$nopgss" >"$tmp/s.json" 2>"$tmp/err"
rc=$?
check "snapshot exits 0" [ $rc -eq 0 ]
check "no sanitizer report or stray message" bash -c "[ ! -s '$tmp/err' ]"
j() { jq -r "$1" "$tmp/s.json"; }
check "the plain login's server is UP" [ "$(j '.servers[]|select(.name|test("labdb"))|.status')" = UP ]
check "the database without pg_stat_statements is UP" [ "$(j ".servers[]|select(.name|test(\"$db\"))|.status")" = UP ]
check "pg_stat_statements missing: the reason says how to install it" \
    bash -c "jq -r '.servers[]|select(.name|test(\"$db\"))|.probe_errors.statements // .statements_error // empty' '$tmp/s.json' | grep -q 'CREATE EXTENSION pg_stat_statements'"
check "no pg_monitor: the system identifier says why it is missing" \
    bash -c "jq -r '.servers[]|select(.name|test(\"labdb\"))|.replication.system_identifier_why' '$tmp/s.json' | grep -q pg_monitor"
check "no pg_monitor: the host disk says why it is missing" \
    bash -c "jq -r '.servers[]|select(.name|test(\"labdb\"))|.io.disk.reason' '$tmp/s.json' | grep -q pg_read_all_settings"
check "no pg_monitor: still sees its own connection counts" \
    [ "$(j '.servers[]|select(.name|test("labdb"))|.connections.max_connections')" = 300 ]

# The TUI, every pane, as the plain login: each draws without crashing.
tmux -L "$sock" new-session -d -s tui -x 120 -y 40 "'$PGFLEET' '$plain' '$nopgss' 2>'$tmp/tui.err'; echo EXIT=\$? >'$tmp/exit'"
check "the monitor starts" wait_until 10 bash -c "tmux -L $sock capture-pane -p | grep -q ' UP '"
for k in 2 3 4 5 6 7 9 1; do
    tmux -L "$sock" send-keys "$k"
    sleep 0.7
    check "pane $k draws" bash -c "tmux -L $sock has-session -t tui 2>/dev/null && tmux -L $sock capture-pane -p | sed -n 2p | grep -q Fleet"
done
tmux -L "$sock" send-keys q
check "q quits with status 0" wait_until 5 bash -c "grep -q EXIT=0 '$tmp/exit' 2>/dev/null"
check "no sanitizer report" bash -c "[ ! -s '$tmp/tui.err' ]"
finish
