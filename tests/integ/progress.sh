# progress.sh — pg_stat_progress_* against the lab: a VACUUM slowed down by cost-based delay
# (about 50 blocks a second) on a table of a few thousand blocks shows in `pgfleet snapshot
# --json` under progress[] as VACUUM of that table with a percentage between 0 and 100 and a
# speed over the interval, in the text snapshot's PROGRESS section, and on screen (tmux) in the
# Activity pane's detail of that session.
. "$TESTLIB"
. "${TUILIB:-$(dirname "$TESTLIB")/tuilib.sh}"
. "$LAB/env"
. "$LAB_TOOLS/lab-lib.sh"

tmp=$(mktemp -d)
sock=pgfleet-prog-$$
table=pgfleet_prog_$$
pane=tui:0.0
vac_pid=
stop_vacuum() {
    [ -n "$vac_pid" ] && kill "$vac_pid" 2>/dev/null
    lab_psql "$PRIMARY_PORT" -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
        WHERE query LIKE 'VACUUM (VERBOSE) $table%' AND pid <> pg_backend_pid()" >/dev/null 2>&1
}
cleanup() {
    T kill-server >/dev/null 2>&1
    stop_vacuum
    lab_psql "$PRIMARY_PORT" -c "SET lock_timeout = '10s'; DROP TABLE IF EXISTS $table" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM HUP INT

# ~3400 blocks: at cost limit 1 and 20 ms of delay per block, over a minute of scanning.
lab_psql "$PRIMARY_PORT" -c "CREATE TABLE $table AS SELECT g AS id, repeat('x', 200) AS pad
    FROM generate_series(1, 120000) g" >/dev/null
blocks=$(lab_psql "$PRIMARY_PORT" -c "SELECT pg_relation_size('$table') / 8192")
check "the table has thousands of blocks ($blocks)" [ "$blocks" -gt 1000 ]
PGAPPNAME=pgfleet-prog-test PGOPTIONS="-c vacuum_cost_delay=20 -c vacuum_cost_limit=1" \
    lab_bg_psql "$PRIMARY_PORT" "VACUUM (VERBOSE) $table" >"$tmp/vac.pid"
vac_pid=$(cat "$tmp/vac.pid")
vacuuming() {
    [ "$(lab_psql "$PRIMARY_PORT" -c "SELECT count(*) FROM pg_stat_progress_vacuum WHERE relid = '$table'::regclass AND heap_blks_scanned > 0")" = 1 ]
}
check "the VACUUM runs (pg_stat_progress_vacuum shows it)" wait_until 20 vacuuming

cat >"$tmp/fleet.yaml" <<YAML
refresh: 1s
timeout: 5s
servers:
  - { name: primary, conninfo: "$PRIMARY_CONNINFO" }
  - { name: replica, conninfo: "$REPLICA_CONNINFO" }
YAML

j() { jq -r "$1" "$tmp/s.json"; }
R=".servers[]|select(.name==\"primary\")|.progress[]|select(.relation==\"$table\")"
# A snapshot whose VACUUM row has a speed (the interval fell inside one phase); bounded retries.
: >"$tmp/err" # every snapshot's stderr goes here; it must stay empty
snap_ok() {
    "$PGFLEET" snapshot --json -c "$tmp/fleet.yaml" >"$tmp/s.json" 2>>"$tmp/err" &&
        [ "$(j "[$R|select(.rate_per_s != null)]|length")" = 1 ]
}
check "snapshot: progress[] has the VACUUM of the table, with a speed" wait_until 30 snap_ok
check "command VACUUM, phase scanning heap" [ "$(j "$R|.command + \"/\" + .phase")" = "VACUUM/scanning heap" ]
check "database labdb, unit blocks" [ "$(j "$R|.database + \"/\" + .unit")" = "labdb/blocks" ]
check "total is the table's size in blocks ($(j "$R|.total"))" [ "$(j "$R|.total")" = "$blocks" ]
pct=$(j "$R|.pct")
check "percentage strictly between 0 and 100 ($pct)" awk -v v="$pct" 'BEGIN{exit !(v > 0 && v < 100)}'
rate=$(j "$R|.rate_per_s")
check "speed over the interval > 0 blocks/s ($rate)" awk -v v="$rate" 'BEGIN{exit !(v > 0)}'
eta=$(j "$R|.eta_s")
check "phase ETA > 0 s ($eta)" awk -v v="$eta" 'BEGIN{exit !(v > 0)}'
check "pid is the vacuuming backend" [ "$(j "$R|.pid")" = "$(lab_psql "$PRIMARY_PORT" -c "SELECT pid FROM pg_stat_progress_vacuum WHERE relid = '$table'::regclass")" ]
check "the replica reports an empty progress[]" [ "$(j '.servers[]|select(.name=="replica")|.progress|length')" = 0 ]

"$PGFLEET" snapshot -c "$tmp/fleet.yaml" >"$tmp/s.txt" 2>>"$tmp/err"
check "text snapshot: PROGRESS section lists the VACUUM of the table" bash -c "sed -n '/^PROGRESS (/,\$p' '$tmp/s.txt' | grep -E 'VACUUM +scanning heap +$table ' >/dev/null"
no_output "the snapshots said nothing on stderr" "$tmp/err"

# ---- on screen: the Activity pane's detail of the vacuuming session shows its progress
progress_line() { screen | grep -qE "^ progress +VACUUM, scanning heap, $table, [0-9.k]+/[0-9.k]+ blocks \([0-9.]+%\)"; }
launch_tui tui 120 40 "$tmp/tui" -- -c "$tmp/fleet.yaml"
expect "the TUI starts on the Fleet pane" 10 line_re 3 '^SERVER +ROLE +VERSION +STATUS'
keys 2
expect "2: the VACUUM session is listed" 10 has "pgfleet-prog-t"
keys /
typ "$table"
keys Enter
keys Enter
expect "Enter: the detail shows the session's progress" 10 progress_line
keys Escape
quit_tui "$tmp/tui" "the TUI"
stop_vacuum
finish
