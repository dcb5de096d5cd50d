# down_up.sh — a dead server goes DOWN within its deadline while the others keep refreshing, and
# comes back UP by itself. Own lab (it kills the primary): pgfleet watches primary and replica
# in tmux (refresh 1s, timeout 2s); a pg_sleep runs on the replica; the primary is stopped with
# `pg_ctl stop -m immediate`. Asserts the Fleet pane shows the primary DOWN with a reason within
# timeout + refresh + 1 s, the replica UP with its sleeper's query age still growing, refused
# reconnects while it stays down (9 s, so the backoff grows), then,
# after `pg_ctl start`, the primary UP again within 35 s with the same pgfleet; q exits 0.
# Prints the measured DOWN detection and UP recovery times.
for v in TESTLIB LAB_TOOLS PGFLEET; do
    [ -n "${!v:-}" ] || { echo "$0: $v is not set (tests/run-all sets it; see tests/run-all)" >&2; exit 2; }
done
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
mylab=$(mktemp -d "${TMPDIR:-/tmp}/pgfleet-downup.XXXXXX")
sock=pgfleet-test-$$
pane=mon:0.0
sleeper=
cleanup() {
    T kill-server >/dev/null 2>&1
    [ -n "${sockpath:-}" ] && rm -f "$sockpath" # kill-server leaves the socket file
    [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
    "$LAB_TOOLS/lab" stop "$mylab" >/dev/null 2>&1
    rm -rf "$tmp" "$mylab"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

# ---- own lab: this test kills its primary
if ! "$LAB_TOOLS/lab" start "$mylab" >"$tmp/lab.log" 2>&1; then
    fail "own lab starts"
    sed 's/^/    | /' "$tmp/lab.log" | tail -20
    finish
    exit 1
fi
. "$mylab/env"
cat >"$tmp/fleet.yaml" <<YAML
refresh: 1s
timeout: 2s
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
  - { name: replica, conninfo: "$REPLICA_CONNINFO" }
YAML
timeout_ms=2000 refresh_ms=1000

# ---- a long query on the replica, to watch it keep refreshing
sleeper=$(PGAPPNAME=replica-sleeper lab_bg_psql "$REPLICA_PORT" "SELECT pg_sleep(120)")
sleeper_active() {
    [ "$(lab_psql "$REPLICA_PORT" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'replica-sleeper' AND state = 'active'")" = 1 ]
}
check "replica-sleeper runs on the replica" wait_until 10 sleeper_active

# ---- pgfleet in tmux, wide enough for every column and the whole NOTE
launch_tui mon 160 30 "$tmp/tui" -- -c "$tmp/fleet.yaml"
require "primary UP on the Fleet pane" 10 is_status primary UP
expect "replica UP on the Fleet pane" 5 is_status replica UP
expect "header: 2 servers: 2 up" 3 eval '[[ $(line 1) == *"2 servers: 2 up"* ]]'

# ---- kill the primary
t0=$(ms_now)
lab_run_as "$LAB_BINDIR/pg_ctl" stop -m immediate -D "$PRIMARY_DATA" >"$tmp/stop.log" 2>&1
stopped=$(ms_now)
down_ms=
wait_until 10 is_status primary DOWN && down_ms=$(($(ms_now) - t0))
limit=$((timeout_ms + refresh_ms + 1000))
echo "  measured: primary DOWN on screen ${down_ms:-never} ms after pg_ctl stop began (stop took $((stopped - t0)) ms; limit $limit ms)"
if [ -n "$down_ms" ] && [ "$down_ms" -le "$limit" ]; then
    ok "primary DOWN within timeout + refresh + 1 s (${down_ms} ms <= $limit ms)"
else
    fail "primary DOWN within timeout + refresh + 1 s (${down_ms:-not within 10000} ms, limit $limit ms)"
    dump
fi
reason=$(note_of primary)
check "the DOWN row gives a reason ('$reason')" eval '[[ $reason == *"connection lost"* || $reason == *"connection refused"* || $reason == *timeout* ]]'
expect "header counts the DOWN server: 1 up, 1 DOWN" 2 eval '[[ $(line 1) == *"1 up, 1 DOWN"* ]]'
expect "the replica stays UP" 2 is_status replica UP

# Meanwhile the replica keeps refreshing: its sleeper's query age grows on the Activity pane.
keys 2
expect "Activity shows replica-sleeper on the replica" 3 eval 'screen | grep -F "pg_sleep(120)" | grep -q "^replica "'
age1=$(qage_secs "pg_sleep(120)")
age2=
grown() {
    age2=$(qage_secs "pg_sleep(120)")
    awk -v a="$age1" -v b="$age2" 'BEGIN {exit !(a != "" && b != "" && b >= a + 1.5)}'
}
wait_until 5 grown
check "replica-sleeper's QUERY AGE grows while the primary is down (${age1:-?} s -> ${age2:-?} s)" grown
keys 1
expect "primary still DOWN, replica still UP" 3 eval 'is_status primary DOWN && is_status replica UP'

# Keep it down for 9 s: reconnects are attempted (with backoff) and refused; nothing flaps.
expect "a reconnect is tried and refused: NOTE says 'connection refused'" 6 eval '[[ $(note_of primary) == *"connection refused"* ]]'
# watching until 9 s after the stop is the check itself: the states must hold all along
watch_ms=$((9000 - ($(ms_now) - t0)))
[ "$watch_ms" -gt 0 ] || watch_ms=0
if holds "$((watch_ms / 1000)).$(printf '%03d' $((watch_ms % 1000)))" eval 'is_status primary DOWN && is_status replica UP'; then
    ok "until 9 s after the stop the primary stays DOWN and the replica UP (watched $watch_ms ms)"
else
    fail "until 9 s after the stop the primary stays DOWN and the replica UP (primary $(status_of primary), replica $(status_of replica))"
    dump
fi

# ---- start the primary again; the same pgfleet sees it come back
t1=$(ms_now)
start_primary() {
    lab_run_as "$LAB_BINDIR/pg_ctl" start -w -t 30 -D "$PRIMARY_DATA" -l "$LAB_DIR/primary.log" >"$tmp/start.log" 2>&1
}
check "pg_ctl start brings the primary back" start_primary || sed 's/^/    | /' "$tmp/start.log"
started=$(ms_now)
up_ms=
wait_until $((40 - (started - t1) / 1000)) is_status primary UP && up_ms=$(($(ms_now) - t1))
echo "  measured: primary UP on screen ${up_ms:-never} ms after pg_ctl start began (start took $((started - t1)) ms; primary was down $(((t1 - t0) / 1000)) s)"
if [ -n "$up_ms" ] && [ "$up_ms" -le 35000 ]; then
    ok "primary UP again within 35 s, without restarting pgfleet (${up_ms} ms)"
else
    fail "primary UP again within 35 s, without restarting pgfleet (${up_ms:-not within 40000} ms)"
    dump
fi
expect "header: 2 servers: 2 up again" 3 eval '[[ $(line 1) == *"2 servers: 2 up"* ]]'
expect "the primary's NOTE is cleared" 2 eval 'is_status primary UP && [ -z "$(note_of primary)" ]'

# ---- q quits cleanly; nothing on stderr: no sanitizer report, and libpq notices (WARNING:
# terminating connection…) must not reach the terminal
quit_tui "$tmp/tui"

finish
