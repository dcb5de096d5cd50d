# degrade.sh — a login without pg_monitor, and a database without pg_stat_statements: every
# pane still works, the missing parts say why in one line, nothing crashes (this runs the
# sanitizer build), the snapshot exits 0 with the server UP, and the TUI draws each pane's own
# content (its column titles or a line only it draws), then quits with q: status 0, no stderr.
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
sock=pgfleet-test-degrade-$$
pane=tui:0.0
db=pgfleet_degrade_$$
cleanup() {
    T kill-server >/dev/null 2>&1
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
no_output "no sanitizer report or stray message" "$tmp/err"
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

# The TUI, every pane, as the plain login: each draws its own content without crashing. The
# tab bar is on every pane: what is looked for is what only that pane draws.
launch_tui tui 120 40 "$tmp/tui" -- "$plain" "$nopgss"
plain_name=127.0.0.1:$PRIMARY_PORT/labdb
expect "the monitor starts: both servers UP on the Fleet pane" 10 eval '[ "$(screen | grep -cE "^127\.0\.0\.1:[^ ]+ +primary +[0-9.]+ +UP ")" = 2 ]'
# pane_draws KEY WHAT CMD...: key KEY shows that pane, CMD (its own content) holds, pgfleet runs.
pane_draws() {
    local k=$1 what=$2
    shift 2
    pane_content=("$@")
    keys "$k"
    expect "pane $k draws: $what" 5 pane_shown
}
pane_shown() { ! tui_exited "$tmp/tui" && "${pane_content[@]}"; }
pane_draws 2 "Activity's column titles" line_re 3 '^SERVER +PID +DATABASE +USER .*STATE .*QUERY$'
pane_draws 3 "Locks' column titles and 'no lock waits' for both servers" \
    eval 'line_re 3 "^PID +FLAG +STATE +LOCK ON" && has_re "^ no lock waits: .*$plain_name.*$db"'
pane_draws 4 "Replication: the replica row titles, system_identifier needing pg_monitor" \
    eval 'has_re "^  REPLICA +STATE +SYNC +SENT" && has_re "^$plain_name +not grouped: system_identifier needs pg_monitor"'
pane_draws 5 "Connections' bar and breakdown titles" \
    eval 'has_re "^  used [0-9]+/297 \[#*\.*\] [0-9]+%" && has_re "^  STATE +N +DATABASE +N +USER +N"'
pane_draws 6 "Cache & IO's database titles, checkpoints, the disk hidden from this role" \
    eval 'has_re "^  DATABASE +HIT% +READ/s" && has_re "^  checkpoints +timed" && has_re "^  disk +data_directory is hidden from this role"'
pane_draws 7 "Statements' column titles and how to install pg_stat_statements" \
    eval 'line_re 3 "^SERVER +DB +USER +LOAD" && has "$db: pg_stat_statements is not installed"'
pane_draws 9 "Jobs' column titles and 'no actions yet'" \
    eval 'line_re 3 "^JOB +ACTION +SERVER +STATE" && has "no actions yet"'
pane_draws 1 "Fleet's column titles again" line_re 3 '^SERVER +ROLE +VERSION +STATUS +CONNS'
quit_tui "$tmp/tui" "the TUI"
finish
